//! The library half of the `idcgate` package: what the binary, its tests and its
//! benchmarks share. Only `vendors` lives here: the one list of vendor crates.

pub mod vendors;
