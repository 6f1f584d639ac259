//! The only place that names the vendor crates: it fills the engine's registry.

use idcgate_engine::{Registry, VendorEntry};
use idcgate_wire::Simulator;

fn boxed<S: Simulator + 'static>(s: S) -> Box<dyn Simulator> {
    Box::new(s)
}

/// One vendor crate's entry: its spec, `connect` and sandbox simulator.
macro_rules! entry {
    ($vendor:ident, $krate:ident) => {
        VendorEntry {
            vendor: idcgate_core::Vendor::$vendor,
            spec: $krate::spec,
            connect: $krate::connect,
            sandbox: || boxed($krate::Sim::sandbox()),
            onboarding: &$krate::ONBOARDING,
        }
    };
}

pub fn registry() -> Registry {
    Registry::new(vec![
        entry!(West, idcgate_west),
        entry!(Cndns, idcgate_cndns),
        entry!(Dnspod, idcgate_dnspod),
        entry!(Zonkvm, idcgate_zonkvm),
        entry!(Xensystem, idcgate_xensystem),
    ])
}

/// The dialect downstream resellers call idcgate in: Zonkvm's finance-system API.
pub fn downstream_dialect() -> std::sync::Arc<dyn idcgate_core::storefront::Dialect> {
    std::sync::Arc::new(idcgate_zonkvm::ZonkvmDialect)
}

/// What `idcgate serve` serves over `engine`: the REST API and the downstream endpoint
/// (the binary, its tests and benches build it alike).
pub fn server_state(engine: std::sync::Arc<idcgate_engine::Engine>) -> idcgate_server::AppState {
    idcgate_server::AppState {
        auth_failure_limit: idcgate_server::DEFAULT_AUTH_FAILURE_LIMIT,
        metrics: std::sync::Arc::new(idcgate_server::Metrics::default()),
        downstream: Some(idcgate_server::Downstream {
            front: std::sync::Arc::new(idcgate_engine::storefront::Shop::new(engine.clone())),
            dialect: downstream_dialect(),
        }),
        engine,
    }
}
