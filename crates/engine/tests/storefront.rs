//! The storefront against the real Zonkvm simulator, on SQLite and PostgreSQL: tenants
//! pay before anything is ordered, once per `order_id`, never beyond balance + credit
//! (also when buying at once); refusals give the money back; a lost answer stays
//! provisioning until the journal settles it; a tenant sees only its own orders; a
//! suspended tenant reads but does not buy; refunds give back the unused share.
#![allow(clippy::unwrap_used)] // a test may fail loudly

mod common;

use idcgate_core::storefront::{
    HoldingState, Purchase, RefusalKind, ServerAction, Shopper, Storefront,
};
use idcgate_core::{Money, PowerAction, ResourceKind};
use idcgate_engine::storefront::Shop;
use idcgate_engine::testing::{add_funded_tenant, cloud_product};
use idcgate_engine::Engine;
use idcgate_store::testing::TestDb;
use idcgate_store::{both_backends, TenantOrderState};
#[allow(unused_imports)]
// the store's traits, for what a test seeds or reads behind the engine
use idcgate_store::{
    Lockouts as _, NotifyStore as _, OperatorStore as _, OrderStore as _, RenewalStore as _,
    ResaleStore as _, Store as _, TenantOrderStore as _,
};
use idcgate_wire::sim::SimServer;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;

both_backends!(
    a_purchase_is_paid_once_delivered_and_booked,
    concurrent_purchases_never_spend_more_than_balance_and_credit,
    a_tenant_sees_only_its_own_and_a_suspended_one_does_not_buy,
    an_upstream_refusal_gives_the_money_back,
    a_lost_answer_stays_provisioning_until_the_journal_settles_it,
    renewal_extends_and_refund_gives_back_the_unused_share,
    what_the_upstream_refunds_is_booked_once_and_the_statement_agrees,
    failed_appkeys_lock_out_the_appid_and_the_address,
);

struct Fixture {
    engine: Arc<Engine>,
    shop: Shop,
    sim: idcgate_zonkvm::Sim,
    srv: SimServer,
    product: i64,
}

fn yuan(s: &str) -> Money {
    s.parse().unwrap()
}

const PEER: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 7));

async fn fixture(db: &TestDb) -> Fixture {
    let engine = common::engine_on(db, vec![common::zonkvm()]).await;
    let sim = idcgate_zonkvm::Sim::sandbox();
    let srv = common::add_sandbox(&engine, "z", &sim).await;
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
    async fn tenant(&self, name: &str, balance: &str, credit: &str) -> (Shopper, String, String) {
        let (view, key) = add_funded_tenant(&self.engine, name, yuan(balance), yuan(credit)).await;
        let who = self
            .shop
            .authenticate(&view.tenant.appid, key.expose(), PEER)
            .await
            .unwrap();
        (who, view.tenant.appid, key.expose().to_string())
    }

    fn purchase(&self, months: u32, order_id: Option<&str>) -> Purchase {
        Purchase {
            offering: self.product,
            months,
            client_order_id: order_id.map(str::to_string),
            client_user_id: Some("42".into()),
        }
    }

    /// What the catalog charges for `months` now (the upstream's quote plus 15%).
    async fn price(&self, months: u32) -> Money {
        self.engine
            .product_price("cloud-1c1g", None, Some(months))
            .await
            .unwrap()
            .price
    }

    async fn balance(&self, account: &str) -> Money {
        let balances = self.engine.reads().ledger_balances().await.unwrap();
        let fen = balances
            .into_iter()
            .find(|(a, _)| a == account)
            .map_or(0, |(_, fen)| fen);
        Money::from_fen(fen)
    }
}

async fn a_purchase_is_paid_once_delivered_and_booked(db: &TestDb) {
    let f = fixture(db).await;
    let (who, _, _) = f.tenant("acme", "500.00", "0").await;
    let price = f.price(1).await;
    let servers = f.sim.server_count();
    let h = f
        .shop
        .buy(&who, &f.purchase(1, Some("dn-1")))
        .await
        .unwrap();
    assert_eq!(h.state, HoldingState::Active);
    assert_eq!(h.paid, price);
    assert_eq!(h.client_user_id, "42");
    assert!(
        h.server.is_some(),
        "the sold server is read into the inventory"
    );
    assert_eq!(f.sim.server_count(), servers + 1);
    assert_eq!(f.balance("tenant:acme").await, yuan("500.00") - price);
    assert_eq!(f.balance("revenue:server").await, price);

    // The same order_id again: the first purchase, nothing charged or ordered.
    let again = f
        .shop
        .buy(&who, &f.purchase(1, Some("dn-1")))
        .await
        .unwrap();
    assert_eq!(again.guid, h.guid);
    assert_eq!(f.sim.server_count(), servers + 1);
    assert_eq!(f.balance("tenant:acme").await, yuan("500.00") - price);
    // ... but not for another purchase.
    let other = f
        .shop
        .buy(&who, &f.purchase(3, Some("dn-1")))
        .await
        .unwrap_err();
    assert_eq!(other.kind, RefusalKind::Invalid, "{other:?}");

    // The margin is read from the books: what the tenant paid minus what the upstream
    // order it paid for cost.
    let margins = db.store.margins(Some("acme")).await.unwrap();
    assert_eq!(margins.len(), 1);
    let m = &margins[0];
    assert_eq!(m.revenue_fen, price.to_fen().unwrap());
    let cost = f.balance("cost:server").await;
    assert_eq!(m.cost_fen, cost.to_fen().unwrap());
    assert!(m.revenue_fen > m.cost_fen, "{m:?}");
    common::assert_books_balance(&f.engine).await;
}

async fn concurrent_purchases_never_spend_more_than_balance_and_credit(db: &TestDb) {
    let f = Arc::new(fixture(db).await);
    let price = f.price(1).await;
    // Exactly two purchases' worth: one from the balance, one from credit.
    let (who, _, _) = f
        .tenant("acme", &price.to_string(), &price.to_string())
        .await;
    let servers = f.sim.server_count();
    let mut tasks = Vec::new();
    for n in 0..6 {
        let (f, who) = (f.clone(), who.clone());
        tasks.push(tokio::spawn(async move {
            f.shop
                .buy(&who, &f.purchase(1, Some(&format!("race-{n}"))))
                .await
        }));
    }
    let mut bought = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(h) => {
                assert_eq!(h.state, HoldingState::Active);
                bought += 1;
            }
            Err(r) => assert_eq!(r.kind, RefusalKind::Insufficient, "{r:?}"),
        }
    }
    assert_eq!(bought, 2);
    assert_eq!(f.sim.server_count(), servers + 2);
    let view = f.engine.tenant("acme").await.unwrap();
    assert_eq!(view.balance, Money::ZERO);
    assert_eq!(view.credit_drawn, price);
    assert_eq!(view.available, Money::ZERO);
    // A top-up repays the credit drawn first.
    f.engine
        .topup_tenant("test", "acme", price, None, None)
        .await
        .unwrap();
    let view = f.engine.tenant("acme").await.unwrap();
    assert_eq!(
        (view.balance, view.credit_drawn),
        (Money::ZERO, Money::ZERO)
    );
}

async fn a_tenant_sees_only_its_own_and_a_suspended_one_does_not_buy(db: &TestDb) {
    let f = fixture(db).await;
    let (a, _, _) = f.tenant("acme", "500.00", "0").await;
    let (b, _, _) = f.tenant("bolt", "500.00", "0").await;
    let h = f.shop.buy(&a, &f.purchase(1, Some("x"))).await.unwrap();
    let before = f.sim.ledger().len();
    // Another tenant's guid is not found, for reading and for every action.
    assert_eq!(
        f.shop.holding(&b, h.guid).await.unwrap_err().kind,
        RefusalKind::NotFound
    );
    let stop = ServerAction::Power(PowerAction::Stop);
    assert_eq!(
        f.shop.act(&b, h.guid, &stop).await.unwrap_err().kind,
        RefusalKind::NotFound
    );
    assert_eq!(
        f.shop.renew(&b, h.guid, 1, None).await.unwrap_err().kind,
        RefusalKind::NotFound
    );
    assert_eq!(
        f.shop.refund(&b, h.guid).await.unwrap_err().kind,
        RefusalKind::NotFound
    );
    let (total, listed) = f
        .shop
        .holdings(&b, ResourceKind::Server, 1, 100)
        .await
        .unwrap();
    assert_eq!((total, listed.len()), (0, 0));
    assert_eq!(f.sim.ledger().len(), before, "nothing reached the upstream");
    assert_eq!(f.balance("tenant:bolt").await, yuan("500.00"));

    // Suspended: reads, acts on what it has, buys nothing.
    f.engine.suspend_tenant("test", "acme").await.unwrap();
    let view = f.engine.tenant("acme").await.unwrap();
    let a = f
        .shop
        .authenticate(&view.tenant.appid, "wrong", PEER)
        .await
        .map(|_| ())
        .unwrap_err();
    assert_eq!(a.kind, RefusalKind::Authentication);
    let suspended = Shopper {
        tenant: "acme".into(),
        may_buy: false,
        level: String::new(),
    };
    assert!(f.shop.holding(&suspended, h.guid).await.is_ok());
    let paid = f.balance("tenant:acme").await;
    let r = f
        .shop
        .buy(&suspended, &f.purchase(1, Some("y")))
        .await
        .unwrap_err();
    assert_eq!(r.kind, RefusalKind::Suspended);
    // Suspended after authenticating: the store refuses the charge itself.
    let stale = Shopper {
        tenant: "acme".into(),
        may_buy: true,
        level: String::new(),
    };
    let r = f
        .shop
        .buy(&stale, &f.purchase(1, Some("z")))
        .await
        .unwrap_err();
    assert_eq!(r.kind, RefusalKind::Suspended, "{r:?}");
    assert_eq!(f.balance("tenant:acme").await, paid);
}

async fn an_upstream_refusal_gives_the_money_back(db: &TestDb) {
    let f = fixture(db).await;
    let (who, _, _) = f.tenant("acme", "500.00", "0").await;
    // The reseller's own upstream account cannot pay.
    f.sim.set_balance(Money::ZERO);
    f.sim.set_credit(Money::ZERO);
    let r = f
        .shop
        .buy(&who, &f.purchase(1, Some("broke")))
        .await
        .unwrap_err();
    assert_eq!(r.kind, RefusalKind::Upstream, "{r:?}");
    assert_eq!(f.balance("tenant:acme").await, yuan("500.00"));
    assert_eq!(f.balance("revenue:server").await, Money::ZERO);
    let rows = db
        .store
        .list_tenant_orders(&Default::default())
        .await
        .unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].state, TenantOrderState::Failed);
    // Asking again with the same order id does not order again.
    let requests = f.srv.faults.requests();
    let again = f.shop.holding(&who, rows[0].id).await.unwrap();
    assert_eq!(again.state, HoldingState::Failed);
    assert_eq!(f.srv.faults.requests(), requests);
}

async fn a_lost_answer_stays_provisioning_until_the_journal_settles_it(db: &TestDb) {
    let f = fixture(db).await;
    let (who, _, _) = f.tenant("acme", "500.00", "0").await;
    let price = f.price(1).await;
    f.srv.faults.update(|c| {
        c.drop_next = 1;
        c.next_only_matching = "obj_type=create_server".into();
    });
    let h = f
        .shop
        .buy(&who, &f.purchase(1, Some("lost")))
        .await
        .unwrap();
    assert_eq!(h.state, HoldingState::Provisioning);
    // Paid: the money is held while the outcome is settled, not given back blindly.
    assert_eq!(f.balance("tenant:acme").await, yuan("500.00") - price);
    // Acting on it waits for delivery.
    let r = f
        .shop
        .act(&who, h.guid, &ServerAction::Power(PowerAction::Stop))
        .await
        .unwrap_err();
    assert_eq!(r.kind, RefusalKind::Invalid);
    f.srv.faults.set(Default::default());
    f.engine.reconcile_orders(0).await.unwrap();
    assert_eq!(f.engine.settle_tenant_orders().await.unwrap(), 1);
    let settled = f.shop.holding(&who, h.guid).await.unwrap();
    assert_eq!(settled.state, HoldingState::Active);
    assert!(settled.server.is_some());
    assert_eq!(f.balance("tenant:acme").await, yuan("500.00") - price);
}

async fn renewal_extends_and_refund_gives_back_the_unused_share(db: &TestDb) {
    let f = fixture(db).await;
    let (who, _, _) = f.tenant("acme", "1000.00", "0").await;
    let h = f.shop.buy(&who, &f.purchase(1, Some("r"))).await.unwrap();
    let first_end = h.expires_at.unwrap();
    let renewal = f.price(3).await;
    let renewed = f.shop.renew(&who, h.guid, 3, Some("r-1")).await.unwrap();
    assert!(renewed.expires_at.unwrap() > first_end);
    assert_eq!(renewed.paid, h.paid + renewal);
    // The same renewal id again charges nothing more.
    let again = f.shop.renew(&who, h.guid, 3, Some("r-1")).await.unwrap();
    assert_eq!(again.paid, renewed.paid);
    assert_eq!(
        f.balance("tenant:acme").await,
        yuan("1000.00") - renewed.paid
    );
    // Power goes through the inventory and the upstream.
    f.shop
        .act(&who, h.guid, &ServerAction::Power(PowerAction::Stop))
        .await
        .unwrap();
    let back = f.shop.refund(&who, h.guid).await.unwrap();
    // Almost all of it is unused (the test takes seconds of a four-month term), never
    // more than was paid.
    assert!(back <= renewed.paid, "{back} > {}", renewed.paid);
    assert!(back >= renewed.paid - yuan("0.05"), "{back}");
    assert_eq!(
        f.balance("tenant:acme").await,
        yuan("1000.00") - renewed.paid + back
    );
    let gone = f.shop.holding(&who, h.guid).await.unwrap();
    assert_eq!(gone.state, HoldingState::Refunded);
    assert_eq!(
        f.shop.refund(&who, h.guid).await.unwrap_err().kind,
        RefusalKind::Invalid,
        "refunded once"
    );
    common::assert_books_balance(&f.engine).await;
}

async fn what_the_upstream_refunds_is_booked_once_and_the_statement_agrees(db: &TestDb) {
    let f = fixture(db).await;
    let (who, _, _) = f.tenant("acme", "1000.00", "0").await;
    let start = f.sim.balance();
    // The sandbox's own orders are in the finance record at its start, to the second:
    // the statement starts in the next second, with a reading before anything is bought.
    let ms = idcgate_engine::now_ms();
    tokio::time::sleep(std::time::Duration::from_millis(
        (1000 - ms.rem_euclid(1000)) as u64 + 5,
    ))
    .await;
    let since = idcgate_engine::now_ms();
    f.engine.statement("z", since).await.unwrap();
    let h = f.shop.buy(&who, &f.purchase(1, Some("u"))).await.unwrap();
    let bought = start - f.sim.balance();
    assert!(bought > Money::ZERO);
    assert_eq!(f.balance("cost:server").await, bought);
    f.shop.refund(&who, h.guid).await.unwrap();
    let returned = f.sim.balance() - (start - bought);
    assert!(
        returned > Money::ZERO,
        "the simulator gives unused time back"
    );
    // Booked: the upstream account holds what the simulator's balance says, and the
    // cost of servers is what was bought net of what came back.
    assert_eq!(
        f.balance("upstream:z").await,
        f.sim.balance() - start,
        "the ledger's upstream account moved as the upstream's balance did"
    );
    assert_eq!(f.balance("cost:server").await, bought - returned);
    let margins = f.engine.margins(Some("acme")).await.unwrap();
    assert_eq!(margins.len(), 1);
    assert_eq!(
        margins[0].cost,
        bought - returned,
        "margins use the net cost"
    );
    let statement = f.engine.statement("z", since).await.unwrap();
    assert!(
        statement.differences.is_empty(),
        "{:?}",
        statement.differences
    );
    assert!(statement.deposits.is_empty(), "{:?}", statement.deposits);
    // Zonkvm's record lists purchases only: the purchase matches it, the money back is
    // named (the simulator reads no balance, so the ledger is checked against it above).
    assert_eq!(statement.charged_fen, bought.to_fen().unwrap());
    assert_eq!(statement.booked_fen, (bought - returned).to_fen().unwrap());
    assert!(
        statement
            .notes
            .iter()
            .any(|n| n.contains("refund server_") && n.contains(&format!("-{returned}"))),
        "{:?}",
        statement.notes
    );
    // Booked once: another refund is refused and books nothing more.
    assert!(f.shop.refund(&who, h.guid).await.is_err());
    assert_eq!(f.balance("cost:server").await, bought - returned);
    common::assert_books_balance(&f.engine).await;
}

async fn failed_appkeys_lock_out_the_appid_and_the_address(db: &TestDb) {
    let f = fixture(db).await;
    let (_, appid, key) = f.tenant("acme", "0", "0").await;
    // Failures are counted in the store: guesses spread over two instances add up.
    let second = Shop::new(Arc::new(Engine::new(
        Arc::new(db.reopen().await),
        idcgate_engine::Registry::new(vec![]),
        f.engine.wire.clone(),
    )));
    for n in 0..5 {
        let shop = if n % 2 == 0 { &f.shop } else { &second };
        let r = shop.authenticate(&appid, "nope", PEER).await.unwrap_err();
        assert_eq!(r.kind, RefusalKind::Authentication);
    }
    // Locked: even the right key is refused, from anywhere, for this appid.
    let other_peer = IpAddr::V4(Ipv4Addr::new(198, 51, 100, 1));
    let r = f
        .shop
        .authenticate(&appid, &key, other_peer)
        .await
        .unwrap_err();
    assert_eq!(r.kind, RefusalKind::LockedOut);
    // An address spraying appids is locked out on its own.
    let (_, appid2, key2) = f.tenant("bolt", "0", "0").await;
    let sprayer = IpAddr::V4(Ipv4Addr::new(203, 0, 113, 9));
    for n in 0..20 {
        let _ = f
            .shop
            .authenticate(&format!("{}", 10_000_000 + n), "x", sprayer)
            .await;
    }
    let r = f
        .shop
        .authenticate(&appid2, &key2, sprayer)
        .await
        .unwrap_err();
    assert_eq!(r.kind, RefusalKind::LockedOut);
    assert!(f
        .shop
        .authenticate(&appid2, &key2, other_peer)
        .await
        .is_ok());
    let audit = db.store.list_audit(100).await.unwrap();
    assert!(audit.iter().any(|e| e.action == "resale.lockout"));
}
