//! The only place that names the vendor crates: it fills the engine's registry.

use idcgate_engine::Registry;

pub fn registry() -> Registry {
    Registry::new(vec![])
}
