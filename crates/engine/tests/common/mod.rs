//! The engine set-up the simulator-backed tests share: the registry entries, an engine
//! on the test database, and an upstream account on a served simulator.
#![allow(dead_code)] // each test crate uses its own part

use idcgate_core::{UpstreamAccount, Vendor};
use idcgate_engine::{Engine, Registry, VendorEntry};
use idcgate_store::testing::TestDb;
use idcgate_wire::sim::{SimServer, Simulator};
use idcgate_wire::testing;
use std::sync::Arc;
use std::time::Duration;

pub fn west() -> VendorEntry {
    VendorEntry {
        vendor: Vendor::West,
        spec: idcgate_west::spec,
        connect: idcgate_west::connect,
        sandbox: || Box::new(idcgate_west::Sim::sandbox()),
        onboarding: &idcgate_west::ONBOARDING,
    }
}

pub fn cndns() -> VendorEntry {
    VendorEntry {
        vendor: Vendor::Cndns,
        spec: idcgate_cndns::spec,
        connect: idcgate_cndns::connect,
        sandbox: || Box::new(idcgate_cndns::Sim::sandbox()),
        onboarding: &idcgate_cndns::ONBOARDING,
    }
}

pub fn dnspod() -> VendorEntry {
    VendorEntry {
        vendor: Vendor::Dnspod,
        spec: idcgate_dnspod::spec,
        connect: idcgate_dnspod::connect,
        sandbox: || Box::new(idcgate_dnspod::Sim::sandbox()),
        onboarding: &idcgate_dnspod::ONBOARDING,
    }
}

pub fn zonkvm() -> VendorEntry {
    VendorEntry {
        vendor: Vendor::Zonkvm,
        spec: idcgate_zonkvm::spec,
        connect: idcgate_zonkvm::connect,
        sandbox: || Box::new(idcgate_zonkvm::Sim::sandbox()),
        onboarding: &idcgate_zonkvm::ONBOARDING,
    }
}

/// An engine (another instance, when called again) on `db` with `vendors`; a lost answer
/// is given up on after 800 ms so the tests that lose one stay quick.
pub async fn engine_on(db: &TestDb, vendors: Vec<VendorEntry>) -> Arc<Engine> {
    let mut wire = idcgate_wire::WireConfig::new("test@example.com");
    wire.timeout = Duration::from_millis(800);
    Arc::new(Engine::new(
        Arc::new(db.reopen().await),
        Registry::new(vendors),
        wire,
    ))
}

/// Serves `sim` and stores its sandbox account under `name`.
pub async fn add_sandbox(engine: &Engine, name: &str, sim: &dyn Simulator) -> SimServer {
    let srv = testing::serve(sim).await;
    engine
        .store
        .add_account(&UpstreamAccount {
            name: name.into(),
            ..testing::sandbox_account(sim, &srv)
        })
        .await
        .unwrap();
    srv
}
