//! The engine set-up the simulator-backed tests share: the registry entries, an engine
//! on the test database, and an upstream account on a served simulator.
#![allow(dead_code, unused_imports)] // each test crate uses its own part

use idcgate_core::ResourceKind;
use idcgate_engine::{vendor_entry, Engine, VendorEntry};
use idcgate_store::testing::TestDb;
use idcgate_store::ResourceFilter;
use std::sync::Arc;
use std::time::Duration;

pub use idcgate_engine::testing::{add_sandbox, assert_books_balance};

pub fn west() -> VendorEntry {
    vendor_entry!(West, idcgate_west)
}

pub fn cndns() -> VendorEntry {
    vendor_entry!(Cndns, idcgate_cndns)
}

pub fn zonkvm() -> VendorEntry {
    vendor_entry!(Zonkvm, idcgate_zonkvm)
}

pub fn dnspod() -> VendorEntry {
    vendor_entry!(Dnspod, idcgate_dnspod)
}

/// An engine (another instance, when called again) on `db` with `vendors`; a lost answer
/// is given up on after 800 ms so the tests that lose one stay quick.
pub async fn engine_on(db: &TestDb, vendors: Vec<VendorEntry>) -> Arc<Engine> {
    let mut wire = idcgate_wire::WireConfig::new("test@example.com");
    wire.timeout = Duration::from_millis(800);
    idcgate_engine::testing::engine_on(db, vendors, wire).await
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

/// The storefront over the Zonkvm sandbox (the tests outside `storefront.rs`).
pub mod storefront;
