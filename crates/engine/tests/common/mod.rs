//! The engine set-up the simulator-backed tests share: the registry entries, an engine
//! on the test database, and an upstream account on a served simulator.
#![allow(dead_code, unused_imports)] // each test crate uses its own part

use idcgate_core::{Connection, ResourceKind};
use idcgate_engine::{vendor_entry, Engine, VendorEntry};
use idcgate_store::testing::TestDb;
use idcgate_store::ResourceFilter;
use idcgate_wire::sim::{SimServer, Simulator};
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

/// A connection through `entry` to `sim`'s sandbox account served at `srv`, past the
/// engine: what the upstream holds, read as a bystander would.
pub fn connect_sandbox(
    entry: &VendorEntry,
    sim: &dyn Simulator,
    srv: &SimServer,
) -> Arc<dyn Connection> {
    (entry.connect)(
        &idcgate_wire::testing::sandbox_account(sim, srv),
        &idcgate_wire::testing::config(),
    )
    .unwrap()
}

/// `sim` served again on a server of its own, without the faults a test sets on the
/// engine's server, and [`connect_sandbox`] there; the server must outlive the connection.
pub async fn clean_view(
    entry: &VendorEntry,
    sim: &dyn Simulator,
) -> (SimServer, Arc<dyn Connection>) {
    let srv = idcgate_wire::testing::serve(sim).await;
    let conn = connect_sandbox(entry, sim, &srv);
    (srv, conn)
}

/// The West sandbox served as account `w` of `engine`, and its hosting plan `L1` sold
/// as product `west-l1` at cost + 10% for a year.
pub async fn west_l1(engine: &Engine) -> (SimServer, idcgate_engine::catalog::Product) {
    let srv = add_sandbox(engine, "w", &idcgate_west::Sim::sandbox()).await;
    let spec = idcgate_engine::testing::product_spec(
        "west-l1",
        "w",
        ResourceKind::HostingSite,
        "L1",
        &[],
        ("10%", "12"),
    );
    (srv, engine.add_product("test", spec).await.unwrap())
}

/// The names of the zones `conn` lists, sorted.
pub async fn zone_names(conn: &dyn Connection) -> Vec<String> {
    let mut zones: Vec<String> = conn
        .dns()
        .unwrap()
        .list_zones()
        .await
        .unwrap()
        .into_iter()
        .map(|z| z.name)
        .collect();
    zones.sort();
    zones
}

/// The storefront over the Zonkvm sandbox (the tests outside `storefront.rs`).
pub mod storefront;
