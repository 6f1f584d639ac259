//! Inventory sync (see issue 6).
