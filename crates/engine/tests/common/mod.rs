//! The engine set-up the simulator-backed tests share: the registry entries, an engine
//! on the test database, and an upstream account on a served simulator.
#![allow(dead_code)] // each test crate uses its own part

use idcgate_core::{ResourceKind, UpstreamAccount, Vendor};
use idcgate_engine::{Engine, Registry, VendorEntry};
use idcgate_store::testing::TestDb;
use idcgate_store::ResourceFilter;
use idcgate_wire::sim::{SimServer, Simulator};
use idcgate_wire::testing;
use std::sync::Arc;
use std::time::Duration;

/// `pub fn $name() -> VendorEntry` for the vendor crate `$krate`.
macro_rules! entries {
    ($($name:ident: $vendor:ident, $krate:ident;)*) => {$(
        pub fn $name() -> VendorEntry {
            VendorEntry {
                vendor: Vendor::$vendor,
                spec: $krate::spec,
                connect: $krate::connect,
                sandbox: || Box::new($krate::Sim::sandbox()),
                onboarding: &$krate::ONBOARDING,
            }
        }
    )*};
}

entries! {
    west: West, idcgate_west;
    cndns: Cndns, idcgate_cndns;
    zonkvm: Zonkvm, idcgate_zonkvm;
    dnspod: Dnspod, idcgate_dnspod;
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

/// Every ledger transaction `engine` booked balances.
pub async fn assert_books_balance(engine: &Engine) {
    let unbalanced = engine.reads().unbalanced_transactions().await.unwrap();
    assert!(unbalanced.is_empty(), "{unbalanced:?}");
}

/// The key of the first DNS zone `engine` holds.
pub async fn first_zone(engine: &Engine) -> String {
    engine
        .reads()
        .resources(&ResourceFilter {
            kind: Some(ResourceKind::DnsZone),
            ..Default::default()
        })
        .await
        .unwrap()[0]
        .key
        .clone()
}

/// Serves `sim` and stores its sandbox account under `name`.
pub async fn add_sandbox(engine: &Engine, name: &str, sim: &dyn Simulator) -> SimServer {
    let srv = testing::serve(sim).await;
    engine
        .put_sandbox_account(&UpstreamAccount {
            name: name.into(),
            ..testing::sandbox_account(sim, &srv)
        })
        .await
        .unwrap();
    srv
}
