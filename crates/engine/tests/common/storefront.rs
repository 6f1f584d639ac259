//! The storefront over the Zonkvm sandbox simulator, for the storefront tests: an
//! engine with the sandbox account `z`, its cloud product `cloud-1c1g` (cost + 15%, 1,
//! 3 or 12 months), the shop, funded tenants and ledger balances; purchases with units
//! and the lost-unit-upgrade scenario the dedicated and cloud tests share.

use idcgate_core::storefront::{Holding, Offering, Purchase, RefusalKind, Shopper, Storefront};
use idcgate_core::units::{Unit, Units};
use idcgate_core::{Money, ResourceKind};
use idcgate_engine::catalog::{ProductSpec, ProductUnit};
use idcgate_engine::storefront::Shop;
use idcgate_engine::testing::{add_funded_tenant, cloud_product, product_spec};
use idcgate_engine::Engine;
use idcgate_store::testing::TestDb;
use idcgate_store::{SqlStore, TenantOrderStore as _};
use idcgate_wire::sim::SimServer;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;

/// The Zonkvm sandbox's hosting and database lines.
pub const HOST_OFFER: &str = "20250408030033590712";
pub const DB_OFFER: &str = "20250407053315151712";

pub const PEER: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 7));

pub struct Fixture {
    pub engine: Arc<Engine>,
    pub shop: Shop,
    pub sim: idcgate_zonkvm::Sim,
    pub srv: SimServer,
    /// The id of `cloud-1c1g`.
    pub product: i64,
}

pub fn yuan(s: &str) -> Money {
    s.parse().unwrap()
}

pub async fn fixture(db: &TestDb) -> Fixture {
    let engine = super::engine_on(db, vec![super::zonkvm()]).await;
    let sim = idcgate_zonkvm::Sim::sandbox();
    let srv = super::add_sandbox(&engine, "z", &sim).await;
    let product = engine
        .add_product("test", cloud_product("cloud-1c1g", "z"))
        .await
        .unwrap();
    Fixture {
        shop: Shop::new(engine.clone()),
        engine,
        sim,
        srv,
        product: product.id,
    }
}

/// A tenant of `engine` with `balance` and `credit`, signed in at `shop`: (shopper,
/// appid, appkey).
pub async fn sign_in(
    engine: &Engine,
    shop: &Shop,
    name: &str,
    balance: &str,
    credit: &str,
) -> (Shopper, String, String) {
    let (view, key) = add_funded_tenant(engine, name, yuan(balance), yuan(credit)).await;
    let who = shop
        .authenticate(&view.tenant.appid, key.expose(), PEER)
        .await
        .unwrap();
    (who, view.tenant.appid, key.expose().to_string())
}

/// What the catalog charges for `months` of the product `name` now.
pub async fn price_of(engine: &Engine, name: &str, months: u32) -> Money {
    let quote = engine.product_price(name, None, Some(months)).await;
    quote.unwrap().price
}

/// The upstream's id of what the tenant order `guid` bought.
pub async fn upstream_of(store: &SqlStore, guid: i64) -> String {
    let row = store.get_tenant_order(guid).await.unwrap();
    row.unwrap().resource.unwrap()
}

/// Hosting and database products of `engine` on `z` at cost + 10% for 1 or 12 months,
/// one per `(name, kind, offer)`; their ids in that order.
pub async fn site_products(engine: &Engine, list: &[(&str, ResourceKind, &str)]) -> Vec<i64> {
    let mut ids = Vec::new();
    for (name, kind, offer) in list {
        let spec = product_spec(name, "z", *kind, offer, &[], ("10%", "1,12"));
        ids.push(engine.add_product("test", spec).await.unwrap().id);
    }
    ids
}

/// The Zonkvm sandbox's leased server line (550.00 a month, 100.00 an IP, 16.00 a Mbps)
/// on `z` as product `name`, at cost + 10% for `periods`.
pub fn lease_spec(name: &str, periods: &str) -> ProductSpec {
    product_spec(
        name,
        "z",
        ResourceKind::Server,
        "lease:1721941250649658",
        &[(
            "system_guid",
            idcgate_engine::testing::ZONKVM_SANDBOX_SYSTEM,
        )],
        ("10%", periods),
    )
}

impl Fixture {
    /// A tenant with `balance` and `credit`, signed in: (shopper, appid, appkey).
    pub async fn tenant(
        &self,
        name: &str,
        balance: &str,
        credit: &str,
    ) -> (Shopper, String, String) {
        sign_in(&self.engine, &self.shop, name, balance, credit).await
    }

    /// `spec` added to the catalog; its id.
    pub async fn add(&self, spec: ProductSpec) -> i64 {
        self.engine.add_product("test", spec).await.unwrap().id
    }

    /// [`site_products`] of this engine.
    pub async fn site_products(&self, list: &[(&str, ResourceKind, &str)]) -> Vec<i64> {
        site_products(&self.engine, list).await
    }

    /// The product `name` also sells `list` (`unit=max[@price]`); its id.
    pub async fn sell_units(&self, name: &str, list: &[&str]) -> i64 {
        let units = list
            .iter()
            .map(|u| ProductUnit::parse(u).unwrap())
            .collect();
        let set = self.engine.set_product_units("test", name, units).await;
        set.unwrap().id
    }

    /// Each of `options` (one `key=value` a purchase) makes a purchase of `offering`
    /// that is refused as invalid.
    pub async fn refuses_purchases(&self, who: &Shopper, offering: i64, options: &[(&str, &str)]) {
        for (k, v) in options {
            let bad = with_units(offering, &format!("bad-{k}-{v}"), &[(k, v)]);
            let r = self.shop.buy(who, &bad).await.unwrap_err();
            assert_eq!(r.kind, RefusalKind::Invalid, "{k}={v}: {r:?}");
        }
    }

    /// Each `(who, units, kind)` adding `units` to the holding `guid` is refused as
    /// `kind`.
    pub async fn refuses_units(&self, guid: i64, cases: &[(&Shopper, Units, RefusalKind)]) {
        for (who, add, kind) in cases {
            let r = self.shop.add_units(who, guid, add, None).await.unwrap_err();
            assert_eq!(r.kind, *kind, "{add:?}: {r:?}");
        }
    }

    /// `who` buys a month of `offering` under `order_id` with the options `list`.
    pub async fn buy_with(
        &self,
        who: &Shopper,
        offering: i64,
        order_id: &str,
        list: &[(&str, &str)],
    ) -> Holding {
        self.shop
            .buy(who, &with_units(offering, order_id, list))
            .await
            .unwrap()
    }

    /// `cloud-1c1g` for `months` under `order_id`, for the client user 42.
    pub fn purchase(&self, months: u32, order_id: Option<&str>) -> Purchase {
        Purchase {
            offering: self.product,
            months,
            client_order_id: order_id.map(str::to_string),
            client_user_id: Some("42".into()),
            options: Default::default(),
        }
    }

    /// What the catalog charges for `months` now (the upstream's quote plus 15%).
    pub async fn price(&self, months: u32) -> Money {
        price_of(&self.engine, "cloud-1c1g", months).await
    }

    /// A ledger account's balance (`tenant:<name>`, ...).
    pub async fn balance(&self, account: &str) -> Money {
        let balances = self.engine.reads().ledger_balances().await.unwrap();
        let fen = balances
            .into_iter()
            .find(|(a, _)| a == account)
            .map_or(0, |(_, fen)| fen);
        Money::from_fen(fen)
    }
}

/// Each of `list` (`unit=max[@price]`) parsed as a product's unit.
pub fn product_units(list: &[&str]) -> Vec<ProductUnit> {
    list.iter()
        .map(|u| ProductUnit::parse(u).unwrap())
        .collect()
}

pub fn units(list: &[(Unit, u32)]) -> Units {
    list.iter().copied().collect()
}

/// A month of `offering` under `order_id` with the options `list` (unit counts among
/// them).
pub fn with_units(offering: i64, order_id: &str, list: &[(&str, &str)]) -> Purchase {
    Purchase {
        offering,
        months: 1,
        client_order_id: Some(order_id.into()),
        client_user_id: None,
        options: list
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    }
}

/// What the tenant is shown of the units of the product `id` among `offered`: each
/// unit's monthly price at its level and the most it may add.
pub fn units_shown(offered: &[Offering], id: i64) -> Vec<(Unit, Money, u32)> {
    let o = offered.iter().find(|o| o.id == id).unwrap();
    o.units
        .iter()
        .map(|u| (u.unit, u.monthly, u.max_extra))
        .collect()
}

/// Whole days from now until `end` (a started day counts), as an upgrade counts them.
pub fn days_left(end: jiff::Timestamp) -> i64 {
    let left = end.as_millisecond() - jiff::Timestamp::now().as_millisecond();
    (left.max(0) + 86_399_999) / 86_400_000
}

/// A server of `offering` (selling bandwidth units) bought under `order_id`, then 30
/// more Mbps whose upstream `action`'s answer is lost: charged while the journal settles
/// it, counted once settled, and asking again charges and sends nothing; the server
/// then has `bandwidth_after` Mbps.
pub async fn lost_unit_upgrade_counts_once(
    f: &Fixture,
    offering: i64,
    order_id: &str,
    action: &str,
    bandwidth_after: u32,
) {
    let (who, _, _) = f.tenant("acme", "5000.00", "0").await;
    let h = f
        .shop
        .buy(&who, &with_units(offering, order_id, &[]))
        .await
        .unwrap();
    assert!(h.units.is_empty());
    f.srv.faults.update(|c| {
        c.drop_next = 1;
        c.next_only_matching = format!("action={action}");
    });
    let add = units(&[(Unit::Bandwidth, 30)]);
    let r = f
        .shop
        .add_units(&who, h.guid, &add, Some("lost"))
        .await
        .unwrap_err();
    assert_eq!(r.kind, RefusalKind::Unsettled, "{r:?}");
    let charged = yuan("5000.00") - h.paid - f.balance("tenant:acme").await;
    assert!(charged > Money::ZERO, "paid while it is settled");
    assert!(f.shop.holding(&who, h.guid).await.unwrap().units.is_empty());
    f.srv.faults.set(Default::default());
    f.engine.reconcile_orders(0).await.unwrap();
    // Settled as done: the units count, and asking again charges and sends nothing.
    assert_eq!(f.shop.holding(&who, h.guid).await.unwrap().units, add);
    let requests = f.srv.faults.requests();
    let again = f
        .shop
        .add_units(&who, h.guid, &add, Some("lost"))
        .await
        .unwrap();
    assert_eq!(again.units, add);
    assert_eq!(again.paid, h.paid + charged);
    assert_eq!(again.server.unwrap().bandwidth_mbps, bandwidth_after);
    assert!(f.srv.faults.requests() - requests <= 2, "reads only");
    super::assert_books_balance(&f.engine).await;
}
