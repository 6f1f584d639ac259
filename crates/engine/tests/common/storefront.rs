//! The storefront over the Zonkvm sandbox simulator, for the storefront tests: an
//! engine with the sandbox account `z`, its cloud product `cloud-1c1g` (cost + 15%, 1,
//! 3 or 12 months), the shop, funded tenants and ledger balances; purchases with units
//! and the lost-unit-upgrade scenario the dedicated and cloud tests share.

use idcgate_core::storefront::{Offering, Purchase, RefusalKind, Shopper, Storefront};
use idcgate_core::units::{Unit, Units};
use idcgate_core::Money;
use idcgate_engine::storefront::Shop;
use idcgate_engine::testing::{add_funded_tenant, cloud_product};
use idcgate_engine::Engine;
use idcgate_store::testing::TestDb;
use idcgate_wire::sim::SimServer;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;

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

impl Fixture {
    /// A tenant with `balance` and `credit`, signed in: (shopper, appid, appkey).
    pub async fn tenant(
        &self,
        name: &str,
        balance: &str,
        credit: &str,
    ) -> (Shopper, String, String) {
        let (view, key) = add_funded_tenant(&self.engine, name, yuan(balance), yuan(credit)).await;
        let who = self
            .shop
            .authenticate(&view.tenant.appid, key.expose(), PEER)
            .await
            .unwrap();
        (who, view.tenant.appid, key.expose().to_string())
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
        self.engine
            .product_price("cloud-1c1g", None, Some(months))
            .await
            .unwrap()
            .price
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
