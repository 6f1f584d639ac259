//! The storefront over the Zonkvm sandbox simulator, for the storefront tests that
//! live outside `storefront.rs`: an engine with the sandbox account `z`, its cloud
//! product `cloud-1c1g` (cost + 15%, 1, 3 or 12 months), the shop, funded tenants and
//! ledger balances.

use idcgate_core::storefront::{Purchase, Shopper, Storefront};
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
