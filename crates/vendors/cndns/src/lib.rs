//! placeholder: the cndns vendor crate is being written
