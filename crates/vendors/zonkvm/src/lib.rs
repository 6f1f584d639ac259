//! placeholder: the zonkvm vendor crate is being written
