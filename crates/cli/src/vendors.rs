//! The only place that names the vendor crates: it fills the engine's registry.

use idcgate_engine::{Registry, VendorEntry};
use idcgate_wire::Simulator;

fn boxed<S: Simulator + 'static>(s: S) -> Box<dyn Simulator> {
    Box::new(s)
}

pub fn registry() -> Registry {
    Registry::new(vec![
        VendorEntry {
            vendor: idcgate_core::Vendor::West,
            spec: idcgate_west::spec,
            connect: idcgate_west::connect,
            sandbox: || boxed(idcgate_west::Sim::sandbox()),
        },
        VendorEntry {
            vendor: idcgate_core::Vendor::Cndns,
            spec: idcgate_cndns::spec,
            connect: idcgate_cndns::connect,
            sandbox: || boxed(idcgate_cndns::Sim::sandbox()),
        },
        VendorEntry {
            vendor: idcgate_core::Vendor::Dnspod,
            spec: idcgate_dnspod::spec,
            connect: idcgate_dnspod::connect,
            sandbox: || boxed(idcgate_dnspod::Sim::sandbox()),
        },
        VendorEntry {
            vendor: idcgate_core::Vendor::Zonkvm,
            spec: idcgate_zonkvm::spec,
            connect: idcgate_zonkvm::connect,
            sandbox: || boxed(idcgate_zonkvm::Sim::sandbox()),
        },
        VendorEntry {
            vendor: idcgate_core::Vendor::Xensystem,
            spec: idcgate_xensystem::spec,
            connect: idcgate_xensystem::connect,
            sandbox: || boxed(idcgate_xensystem::Sim::sandbox()),
        },
    ])
}
