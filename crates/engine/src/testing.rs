//! Test support for the engine's tests and the surfaces' (feature `testing`): an engine
//! on a test database, with sandbox accounts on served simulators. The engine still
//! names no vendor: a test names its vendor crates, through [`vendor_entry!`].

use crate::catalog::{PriceRule, ProductSpec};
use crate::tenants::TenantView;
use crate::{Engine, Registry, VendorEntry};
use idcgate_core::{Money, ResourceKind, UpstreamAccount};
use idcgate_store::testing::TestDb;
use idcgate_store::AppKey;
use idcgate_wire::sim::{SimServer, Simulator};
use idcgate_wire::{testing, WireConfig};
use std::sync::Arc;
use std::time::Duration;

#[doc(hidden)]
pub use idcgate_core::Vendor;

/// The registry entry of the vendor crate `$krate` for `Vendor::$vendor`:
/// `vendor_entry!(West, idcgate_west)`.
#[macro_export]
macro_rules! vendor_entry {
    ($vendor:ident, $krate:ident) => {
        $crate::VendorEntry {
            vendor: $crate::testing::Vendor::$vendor,
            spec: $krate::spec,
            connect: $krate::connect,
            sandbox: || Box::new($krate::Sim::sandbox()),
            onboarding: &$krate::ONBOARDING,
        }
    };
}

/// An engine (another instance, when called again) on `db` with `vendors`, calling
/// upstreams as `wire` says.
pub async fn engine_on(db: &TestDb, vendors: Vec<VendorEntry>, wire: WireConfig) -> Arc<Engine> {
    Arc::new(Engine::new(
        Arc::new(db.reopen().await),
        Registry::new(vendors),
        wire,
    ))
}

/// Stores `sim`'s sandbox account, served at `srv`, as `name` at `rate` calls a second
/// (0: the vendor's own advice).
pub async fn put_sandbox(
    engine: &Engine,
    name: &str,
    sim: &dyn Simulator,
    srv: &SimServer,
    rate: u32,
) {
    let account = UpstreamAccount {
        name: name.into(),
        rate_limit_per_sec: rate,
        ..testing::sandbox_account(sim, srv)
    };
    if let Err(e) = engine.put_sandbox_account(&account).await {
        panic!("sandbox account {name}: {e}");
    }
}

/// Serves `sim` and stores its sandbox account under `name`.
pub async fn add_sandbox(engine: &Engine, name: &str, sim: &dyn Simulator) -> SimServer {
    let srv = testing::serve(sim).await;
    put_sandbox(engine, name, sim, &srv, 0).await;
    srv
}

/// An engine with one vendor and one account on that vendor's sandbox simulator.
pub struct Sandboxed {
    pub engine: Arc<Engine>,
    /// The simulator behind the account, served.
    pub srv: SimServer,
    /// The sandbox account's own credential values.
    pub secrets: Vec<String>,
}

/// An engine on `db` with `vendor` alone and `account` on a fresh sandbox of it; a lost
/// answer is given up on after 5 s.
pub async fn sandboxed(db: &TestDb, vendor: VendorEntry, account: &str) -> Sandboxed {
    let sim = (vendor.sandbox)();
    let engine = engine_on(
        db,
        vec![vendor],
        testing::wire_config(Duration::from_secs(5)),
    )
    .await;
    let srv = add_sandbox(&engine, account, &*sim).await;
    let secrets = sim
        .sandbox_credentials()
        .into_iter()
        .map(|(_, v)| v)
        .collect();
    Sandboxed {
        engine,
        srv,
        secrets,
    }
}

/// A tenant `name` (base price level) with `credit`, and `balance` paid in when there
/// is any; its view and key.
pub async fn add_funded_tenant(
    engine: &Engine,
    name: &str,
    balance: Money,
    credit: Money,
) -> (TenantView, AppKey) {
    let (view, key) = match engine.add_tenant("test", name, "", credit).await {
        Ok(added) => added,
        Err(e) => panic!("tenant {name}: {e}"),
    };
    if balance > Money::ZERO {
        if let Err(e) = engine.topup_tenant("test", name, balance, None, None).await {
            panic!("top-up of {name}: {e}");
        }
    }
    (view, key)
}

/// Every ledger transaction `engine` booked balances.
pub async fn assert_books_balance(engine: &Engine) {
    let unbalanced = match engine.reads().unbalanced_transactions().await {
        Ok(unbalanced) => unbalanced,
        Err(e) => panic!("reading the ledger: {e}"),
    };
    assert!(unbalanced.is_empty(), "{unbalanced:?}");
}

/// A product on `account` selling `offer` at `markup` over cost for `periods` (months,
/// comma-separated), with `options` passed upstream; what every resale test sells.
pub fn product_spec(
    name: &str,
    account: &str,
    kind: ResourceKind,
    offer: &str,
    options: &[(&str, &str)],
    (markup, periods): (&str, &str),
) -> ProductSpec {
    let rule = match PriceRule::parse(markup, &[], &[], Some(periods)) {
        Ok(rule) => rule,
        Err(e) => panic!("the product's rule {markup} / {periods}: {e}"),
    };
    ProductSpec {
        name: name.into(),
        title: Some(name.into()),
        account: account.into(),
        kind,
        offer: Some(offer.into()),
        options: options
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        rule,
    }
}

/// The Zonkvm sandbox's one-core cloud server (`德阳电信-1核1G`, its CentOS image) on
/// `account` as product `name`, at cost + 15% for 1, 3 or 12 months: what the resale
/// tests and bench sell.
pub fn cloud_product(name: &str, account: &str) -> ProductSpec {
    ProductSpec {
        title: Some("Cloud 1C1G".into()),
        ..product_spec(
            name,
            account,
            ResourceKind::Server,
            "德阳电信-1核1G",
            &[("system_guid", ZONKVM_SANDBOX_SYSTEM)],
            ("15%", "1,3,12"),
        )
    }
}

/// The panel operation `operation` with `fields`, as a dialect hands one to the
/// storefront.
pub fn panel_call(operation: &str, fields: &[(&str, &str)]) -> idcgate_core::PanelCall {
    idcgate_core::PanelCall::new(
        operation,
        fields
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    )
}

/// The first line the hosting product of the upstream offer `offer` is sold on, in a
/// Zonkvm `hosting_product` answer (its `lines_guid`, comma-separated).
pub fn hosting_line(products: &serde_json::Value, offer: &str) -> String {
    let product = products
        .as_array()
        .and_then(|all| all.iter().find(|p| p["guid"] == offer));
    let lines = product.and_then(|p| p["lines_guid"].as_str());
    match lines.and_then(|l| l.split(',').next()) {
        Some(line) => line.to_string(),
        None => panic!("no line of {offer} in {products}"),
    }
}

/// The ids of the backups a Zonkvm `hosting_backup_list` answer lists.
pub fn backup_ids(list: &serde_json::Value) -> Vec<String> {
    let Some(all) = list.as_array() else {
        panic!("not a list of backups: {list}")
    };
    all.iter()
        .map(|b| match b["id"].as_str() {
            Some(id) => id.to_string(),
            None => panic!("a backup without an id: {b}"),
        })
        .collect()
}

/// The CentOS image the Zonkvm sandbox installs.
pub const ZONKVM_SANDBOX_SYSTEM: &str = "1659170791658716";
