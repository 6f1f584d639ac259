//! The storefront against the real Zonkvm simulator, on SQLite and PostgreSQL: tenants
//! pay before anything is ordered, once per `order_id`, never beyond balance + credit
//! (also when buying at once); refusals give the money back; a lost answer stays
//! provisioning until the journal settles it; a tenant sees only its own orders; a
//! suspended tenant reads but does not buy; refunds give back the unused share.
#![allow(clippy::unwrap_used)] // a test may fail loudly

mod common;

use common::storefront::{
    days_left, fixture, lease_spec, lost_unit_upgrade_counts_once, price_of, product_units,
    sign_in, units, units_shown, upstream_of, with_units, yuan, Fixture, DB_OFFER, HOST_OFFER,
    PEER,
};

use idcgate_core::storefront::{
    HoldingState, Purchase, RefusalKind, ServerAction, Shopper, Storefront,
};
use idcgate_core::units::Unit;
use idcgate_core::{Money, PowerAction, ResourceKind};
use idcgate_engine::catalog::{PriceRule, ProductSpec, ProductUnit};
use idcgate_engine::storefront::Shop;
use idcgate_engine::testing::{cloud_product, panel_call, product_spec};
use idcgate_engine::Engine;
use idcgate_store::testing::TestDb;
use idcgate_store::{both_backends, Charged, PricedAs, TenantOrderPatch, TenantOrderState};
#[allow(unused_imports)]
// the store's traits, for what a test seeds or reads behind the engine
use idcgate_store::{
    Lockouts as _, NotifyStore as _, OperatorStore as _, OrderStore as _, RenewalStore as _,
    ResaleStore as _, Store as _, TenantOrderStore as _,
};
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
    a_good_appkey_forgets_its_appids_failures_and_otherwise_writes_nothing,
    holdings_are_paged_with_the_total_of_the_tenants_own,
    an_upgrade_pays_the_difference_for_the_time_left_through_the_journal,
    a_traffic_graph_is_the_upstreams,
    hosting_and_databases_are_sold_and_managed_through_their_capabilities,
    an_expired_orders_upstream_return_is_in_the_margins,
    a_refund_is_written_whole_or_not_at_all,
    a_lost_upgrade_is_charged_once_and_moves_the_order_when_asked_again,
    a_lost_renewal_the_upstream_refused_gives_the_money_back_once,
    a_refund_waits_for_a_renewal_in_flight_and_never_gives_it_back_twice,
    one_renewal_or_upgrade_of_an_order_is_placed_at_a_time,
    a_follow_up_priced_from_an_order_since_changed_is_not_charged,
    an_unreachable_upstream_is_asked_once_and_its_lines_return_with_it,
    console_password_and_firewall_rules_reach_the_tenants_own_server_only,
    the_panels_pass_through_on_the_tenants_own_site_and_database_only,
    a_site_and_a_database_upgrade_through_the_money_path,
    a_west_host_is_sold_and_managed_through_the_storefront,
    a_cndns_host_is_sold_with_a_generated_ftp_password,
    units_beyond_the_base_are_bought_and_added_at_their_price_for_the_time_left,
    a_lost_unit_upgrade_is_charged_once_and_counts_once_settled,
    a_fixed_price_product_sells_units_at_their_fixed_price,
);

/// Twelve months of `offering` under `order_id`, no options.
fn a_year_of(offering: i64, order_id: &str) -> Purchase {
    Purchase {
        months: 12,
        ..with_units(offering, order_id, &[])
    }
}

/// What a new site and a new database are created with.
const PHP: &[(&str, &str)] = &[("content.program_version", "php81")];
const UTF8: &[(&str, &str)] = &[("content.code", "utf8mb4")];

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

async fn a_good_appkey_forgets_its_appids_failures_and_otherwise_writes_nothing(db: &TestDb) {
    let f = fixture(db).await;
    let (_, appid, key) = f.tenant("acme", "0", "0").await;
    let appid_subject = ("downstream.appid", appid.as_str());
    let peer = PEER.to_string();
    let peer_subject = ("downstream.peer", peer.as_str());

    // Nothing on record: a good key is answered while another transaction holds off
    // every write to the failure counts (SQLite: its one write lock; PostgreSQL: a
    // lock on the table that lets reads through). A write here would wait for it.
    let pool = db.raw_pool().await;
    let mut hold = pool.begin().await.unwrap();
    let hold_writes = if db.store.backend() == "postgres" {
        "LOCK TABLE auth_failures IN SHARE MODE"
    } else {
        "INSERT INTO auth_failures (scope, subject, failures, window_start, locked_until)
         VALUES ('test.hold', 'x', 0, 0, 0)"
    };
    sqlx::query(hold_writes).execute(&mut *hold).await.unwrap();
    let answered = tokio::time::timeout(
        std::time::Duration::from_secs(3),
        f.shop.authenticate(&appid, &key, PEER),
    )
    .await
    .expect("a good key with nothing to forget waited for the write lock");
    assert_eq!(answered.unwrap().tenant, "acme");
    hold.rollback().await.unwrap();

    // Failures on record: the good key forgets the appid's, not the address's.
    for _ in 0..4 {
        let r = f.shop.authenticate(&appid, "nope", PEER).await.unwrap_err();
        assert_eq!(r.kind, RefusalKind::Authentication);
    }
    let before = db
        .store
        .standings(&[appid_subject, peer_subject])
        .await
        .unwrap();
    assert_eq!(before[0].map(|s| s.failures), Some(4));
    assert_eq!(before[1].map(|s| s.failures), Some(4));
    f.shop.authenticate(&appid, &key, PEER).await.unwrap();
    let after = db
        .store
        .standings(&[appid_subject, peer_subject])
        .await
        .unwrap();
    assert_eq!(after[0], None, "the appid's failures are forgotten");
    assert_eq!(after[1].map(|s| s.failures), Some(4), "the address's stand");
    // So four more wrong keys do not lock the appid; the fifth does.
    for _ in 0..4 {
        let r = f.shop.authenticate(&appid, "nope", PEER).await.unwrap_err();
        assert_eq!(r.kind, RefusalKind::Authentication);
    }
    f.shop.authenticate(&appid, &key, PEER).await.unwrap();
    for _ in 0..5 {
        f.shop.authenticate(&appid, "nope", PEER).await.unwrap_err();
    }
    let r = f.shop.authenticate(&appid, &key, PEER).await.unwrap_err();
    assert_eq!(r.kind, RefusalKind::LockedOut);
}

async fn holdings_are_paged_with_the_total_of_the_tenants_own(db: &TestDb) {
    let f = fixture(db).await;
    let (who, _, _) = f.tenant("acme", "500.00", "0").await;
    let (other, _, _) = f.tenant("bolt", "500.00", "0").await;
    let mut bought = Vec::new();
    for n in 0..3 {
        let h = f
            .shop
            .buy(&who, &f.purchase(1, Some(&format!("p-{n}"))))
            .await
            .unwrap();
        bought.push(h.guid);
    }
    f.shop
        .buy(&other, &f.purchase(1, Some("p-0")))
        .await
        .unwrap();
    let page = |n| f.shop.holdings(&who, ResourceKind::Server, n, 2);
    let (total, first) = page(1).await.unwrap();
    let (total2, second) = page(2).await.unwrap();
    let guids: Vec<i64> = first.iter().chain(&second).map(|h| h.guid).collect();
    assert_eq!((total, total2), (3, 3));
    assert_eq!(guids, bought, "oldest first, the tenant's own only");
    assert!(first
        .iter()
        .chain(&second)
        .all(|h| h.server.as_ref().is_some_and(|s| !s.upstream_id.is_empty())));
    // A page past the end is empty and still tells the total.
    let (total, beyond) = page(3).await.unwrap();
    assert_eq!((total, beyond.len()), (3, 0));
    let (total, none) = f
        .shop
        .holdings(&who, ResourceKind::HostingSite, 1, 2)
        .await
        .unwrap();
    assert_eq!((total, none.len()), (0, 0));
}

/// A dearer product on the same line with the same options: an upgrade of the first.
async fn bigger(f: &Fixture) -> i64 {
    f.add(ProductSpec {
        title: Some("Cloud 2C4G".into()),
        offer: Some("德阳电信-2核4G".into()),
        ..cloud_product("cloud-2c4g", "z")
    })
    .await
}

async fn an_upgrade_pays_the_difference_for_the_time_left_through_the_journal(db: &TestDb) {
    let f = fixture(db).await;
    let big = bigger(&f).await;
    let (who, _, _) = f.tenant("acme", "500.00", "0").await;
    let (other, _, _) = f.tenant("bolt", "500.00", "0").await;
    // A dedicated server with the same options is dearer still, but no upgrade of a
    // cloud server.
    let lease = f.add(lease_spec("lease-x", "1,12")).await;
    let offered = f.shop.offerings(&who, ResourceKind::Server).await.unwrap();
    assert!(offered.iter().any(|o| o.id == lease && !o.terms.is_empty()));
    let small = offered.iter().find(|o| o.id == f.product).unwrap();
    assert_eq!(
        small.upgrades,
        vec![big],
        "the dearer product is the upgrade"
    );
    assert!(offered
        .iter()
        .find(|o| o.id == big)
        .unwrap()
        .upgrades
        .is_empty());

    let h = f.shop.buy(&who, &f.purchase(1, Some("u"))).await.unwrap();
    let cost_before = f.balance("cost:server").await;
    let upstream_before = f.sim.balance();
    // Another tenant's guid and a suspended tenant: refused, nothing charged or sent.
    let requests = f.srv.faults.requests();
    let r = f.shop.upgrade(&other, h.guid, big, None).await.unwrap_err();
    assert_eq!(r.kind, RefusalKind::NotFound, "{r:?}");
    let suspended = Shopper {
        may_buy: false,
        ..who.clone()
    };
    let r = f
        .shop
        .upgrade(&suspended, h.guid, big, None)
        .await
        .unwrap_err();
    assert_eq!(r.kind, RefusalKind::Suspended, "{r:?}");
    // Not an upgrade: the product it already is.
    let r = f
        .shop
        .upgrade(&who, h.guid, f.product, None)
        .await
        .unwrap_err();
    assert_eq!(r.kind, RefusalKind::Unsupported, "{r:?}");
    assert_eq!(
        f.srv.faults.requests(),
        requests,
        "nothing reached the upstream"
    );
    assert_eq!(f.balance("tenant:acme").await, yuan("500.00") - h.paid);
    assert_eq!(f.balance("tenant:bolt").await, yuan("500.00"));

    // The price: the two products' one-month prices apart, per 30 days, for the whole
    // days left.
    let diff = price_of(&f.engine, "cloud-2c4g", 1).await - f.price(1).await;
    let left_ms = h.expires_at.unwrap().as_millisecond() - idcgate_engine::now_ms();
    let days = (left_ms + 86_399_999) / 86_400_000;
    // Rounded down to the fen, as the finance system rounds a prorated share.
    let expected = Money(
        (diff.0 * rust_decimal::Decimal::from(days) / rust_decimal::Decimal::from(30))
            .round_dp_with_strategy(2, rust_decimal::RoundingStrategy::ToZero),
    );
    let up = f
        .shop
        .upgrade(&who, h.guid, big, Some("up-1"))
        .await
        .unwrap();
    assert_eq!(up.paid - h.paid, expected, "{days} days left");
    assert_eq!(up.offering, big, "the order is the bigger product now");
    let server = up.server.expect("read again after the upgrade");
    assert_eq!((server.cpu, server.ram_mb), (2, 4096));
    assert_eq!(f.balance("tenant:acme").await, yuan("500.00") - up.paid);
    // Through the journal: the upstream was charged its own difference, booked as cost.
    let paid_upstream = upstream_before - f.sim.balance();
    assert!(paid_upstream > Money::ZERO);
    assert_eq!(f.balance("cost:server").await - cost_before, paid_upstream);
    let upgrades: Vec<_> = db
        .store
        .list_orders(&Default::default())
        .await
        .unwrap()
        .into_iter()
        .filter(|o| o.order.operation == "upgrade")
        .collect();
    assert_eq!(upgrades.len(), 1);
    // The same upgrade id again: nothing more charged or ordered.
    let again = f
        .shop
        .upgrade(&who, h.guid, big, Some("up-1"))
        .await
        .unwrap();
    assert_eq!(again.paid, up.paid);
    assert_eq!(f.sim.balance(), upstream_before - paid_upstream);
    // Down again is no upgrade, nor one across server families: refused before
    // anything is charged.
    for to in [f.product, lease] {
        let r = f.shop.upgrade(&who, h.guid, to, None).await.unwrap_err();
        assert_eq!(r.kind, RefusalKind::Unsupported, "{r:?}");
    }
    assert_eq!(f.balance("tenant:acme").await, yuan("500.00") - up.paid);
    // The margin of the order counts the upgrade's charge and its upstream cost.
    let margins = f.engine.margins(Some("acme")).await.unwrap();
    assert_eq!(margins.len(), 1);
    assert_eq!(margins[0].revenue, up.paid);
    assert_eq!(margins[0].cost, f.balance("cost:server").await);
    common::assert_books_balance(&f.engine).await;
}

async fn a_traffic_graph_is_the_upstreams(db: &TestDb) {
    let f = fixture(db).await;
    let (who, _, _) = f.tenant("acme", "500.00", "0").await;
    let (other, _, _) = f.tenant("bolt", "0", "0").await;
    let h = f.shop.buy(&who, &f.purchase(1, Some("c"))).await.unwrap();
    let to = jiff::Timestamp::now();
    let from = to - jiff::SignedDuration::from_hours(1);
    let graph = f.shop.traffic(&who, h.guid, from, to).await.unwrap();
    // The simulator's graph: one point per five minutes.
    assert_eq!(graph.len(), 12);
    assert!(graph.iter().all(|p| p.in_bps > 0 && p.out_bps > 0));
    assert!(graph.windows(2).all(|w| w[0].at < w[1].at));
    assert_eq!(
        f.shop
            .traffic(&other, h.guid, from, to)
            .await
            .unwrap_err()
            .kind,
        RefusalKind::NotFound
    );
    for (a, b) in [
        (to, from),
        (to - jiff::SignedDuration::from_hours(24 * 40), to),
    ] {
        assert_eq!(
            f.shop.traffic(&who, h.guid, a, b).await.unwrap_err().kind,
            RefusalKind::Invalid
        );
    }
}

async fn hosting_and_databases_are_sold_and_managed_through_their_capabilities(db: &TestDb) {
    use idcgate_core::SiteAction;
    let f = fixture(db).await;
    let ids = f
        .site_products(&[
            ("host-a", ResourceKind::HostingSite, HOST_OFFER),
            ("db-a", ResourceKind::Database, DB_OFFER),
        ])
        .await;
    let (host, base) = (ids[0], ids[1]);
    let (who, _, _) = f.tenant("acme", "1000.00", "0").await;
    let (other, _, _) = f.tenant("bolt", "100.00", "0").await;
    let offered = f
        .shop
        .offerings(&who, ResourceKind::HostingSite)
        .await
        .unwrap();
    assert_eq!(offered.len(), 1);
    assert_eq!(offered[0].id, host);
    assert_eq!(
        offered[0].terms.iter().map(|(m, _)| *m).collect::<Vec<_>>(),
        [1, 12]
    );
    let price = price_of(&f.engine, "host-a", 1).await;
    let buy = |offering, order_id: &str| {
        let options = [
            ("content.program_version", "php81"),
            ("pwd", "Ftp-Secret-77"),
        ];
        with_units(offering, order_id, &options)
    };
    let h = f.shop.buy(&who, &buy(host, "h1")).await.unwrap();
    assert_eq!(h.state, HoldingState::Active);
    assert_eq!(h.kind, ResourceKind::HostingSite);
    assert_eq!(h.paid, price);
    assert_eq!(f.balance("tenant:acme").await, yuan("1000.00") - price);
    let (total, listed) = f
        .shop
        .holdings(&who, ResourceKind::HostingSite, 1, 100)
        .await
        .unwrap();
    assert_eq!((total, listed[0].guid), (1, h.guid));
    assert_eq!(
        f.shop
            .holdings(&who, ResourceKind::Server, 1, 100)
            .await
            .unwrap()
            .0,
        0
    );

    // Management goes to the upstream site through the hosting capability.
    let act = |a: SiteAction| {
        let (shop, who) = (&f.shop, &who);
        async move { shop.site(who, h.guid, &a).await }
    };
    act(SiteAction::AddDomain("shop.example.com".into()))
        .await
        .unwrap();
    let domains = act(SiteAction::Domains).await.unwrap();
    assert!(
        domains.contains(&"shop.example.com".to_string()),
        "{domains:?}"
    );
    act(SiteAction::RemoveDomain("shop.example.com".into()))
        .await
        .unwrap();
    assert!(!act(SiteAction::Domains)
        .await
        .unwrap()
        .contains(&"shop.example.com".to_string()));
    act(SiteAction::Password("New-Ftp-Secret-88".into()))
        .await
        .unwrap();
    act(SiteAction::Stop).await.unwrap();
    act(SiteAction::Start).await.unwrap();
    // Another tenant reaches none of it.
    let r = f
        .shop
        .site(&other, h.guid, &SiteAction::Domains)
        .await
        .unwrap_err();
    assert_eq!(r.kind, RefusalKind::NotFound);
    assert_eq!(
        f.shop
            .renew(&other, h.guid, 1, None)
            .await
            .unwrap_err()
            .kind,
        RefusalKind::NotFound
    );

    // Renewal through the journal, priced from the catalog.
    let renewed = f.shop.renew(&who, h.guid, 1, Some("h1-r")).await.unwrap();
    assert_eq!(renewed.paid, price + price);
    assert!(renewed.expires_at > h.expires_at);

    // A database: its password through the database capability; what that capability
    // has no operation for is unsupported, not faked.
    let d = f.shop.buy(&who, &buy(base, "d1")).await;
    // The hosting language is not a database setting: the upstream refuses it.
    assert!(d.is_err(), "{d:?}");
    let d = f
        .shop
        .buy(
            &who,
            &Purchase {
                options: [("content.code".to_string(), "utf8mb4".to_string())]
                    .into_iter()
                    .collect(),
                ..buy(base, "d2")
            },
        )
        .await
        .unwrap();
    assert_eq!(d.kind, ResourceKind::Database);
    f.shop
        .site(&who, d.guid, &SiteAction::Password("Db-Secret-99".into()))
        .await
        .unwrap();
    let r = f
        .shop
        .site(&who, d.guid, &SiteAction::Stop)
        .await
        .unwrap_err();
    assert_eq!(r.kind, RefusalKind::Unsupported, "{r:?}");

    // Refunds give back the unused share through each capability.
    let before = f.balance("tenant:acme").await;
    let back = f.shop.refund(&who, h.guid).await.unwrap();
    assert!(back > Money::ZERO && back <= renewed.paid, "{back}");
    let back_db = f.shop.refund(&who, d.guid).await.unwrap();
    assert!(back_db > Money::ZERO && back_db <= d.paid, "{back_db}");
    assert_eq!(f.balance("tenant:acme").await, before + back + back_db);
    assert_eq!(
        f.shop.holding(&who, h.guid).await.unwrap().state,
        HoldingState::Refunded
    );

    // Passwords reach the upstream only: not the journal, not the audit log.
    let journal =
        serde_json::to_string(&db.store.list_orders(&Default::default()).await.unwrap()).unwrap();
    let audit = format!("{:?}", db.store.list_audit(1000).await.unwrap());
    for secret in ["Ftp-Secret-77", "New-Ftp-Secret-88", "Db-Secret-99"] {
        assert!(!journal.contains(secret), "{secret} in the journal");
        assert!(!audit.contains(secret), "{secret} in the audit log");
    }
    common::assert_books_balance(&f.engine).await;
}

/// Ends the tenant order `guid` a second ago in our books (the upstream's server keeps
/// its own end).
async fn expire(db: &TestDb, guid: i64) {
    let ago = idcgate_engine::now_ms() - 1000;
    assert!(db
        .store
        .move_tenant_order(
            guid,
            TenantOrderState::Active,
            TenantOrderState::Active,
            &idcgate_store::TenantOrderPatch {
                expires_ms: Some(ago),
                ..Default::default()
            },
            ago,
        )
        .await
        .unwrap());
}

async fn an_expired_orders_upstream_return_is_in_the_margins(db: &TestDb) {
    let f = fixture(db).await;
    let (who, _, _) = f.tenant("acme", "500.00", "0").await;
    let start = f.sim.balance();
    let h = f.shop.buy(&who, &f.purchase(1, Some("e"))).await.unwrap();
    let bought = start - f.sim.balance();
    expire(db, h.guid).await;
    assert_eq!(
        f.shop.holding(&who, h.guid).await.unwrap().state,
        HoldingState::Expired
    );
    // Expired: the tenant gets nothing back, the upstream still gives its unused time.
    let back = f.shop.refund(&who, h.guid).await.unwrap();
    assert_eq!(back, Money::ZERO);
    let returned = f.sim.balance() - (start - bought);
    assert!(returned > Money::ZERO);
    assert_eq!(f.balance("tenant:acme").await, yuan("500.00") - h.paid);
    assert_eq!(f.balance("cost:server").await, bought - returned);
    let margins = f.engine.margins(Some("acme")).await.unwrap();
    assert_eq!(margins.len(), 1);
    assert_eq!(margins[0].revenue, h.paid);
    assert_eq!(margins[0].cost, bought - returned, "net of the return");
    assert_eq!(margins[0].margin, h.paid - (bought - returned));
    common::assert_books_balance(&f.engine).await;
}

async fn a_refund_is_written_whole_or_not_at_all(db: &TestDb) {
    let f = fixture(db).await;
    let (who, _, _) = f.tenant("acme", "500.00", "0").await;
    let h = f.shop.buy(&who, &f.purchase(1, Some("w"))).await.unwrap();
    let row = db.store.get_tenant_order(h.guid).await.unwrap().unwrap();
    // Something already holds the key the tenant's refund is written under: writing
    // the refund fails after the upstream has refunded.
    db.store
        .charge_tenant_order(
            h.guid,
            &idcgate_store::NewCharge {
                idem_key: format!("{}:refund", row.order.idem_key),
                what: "return".into(),
                fen: -1,
                months: 0,
                memo: "in the way".into(),
            },
            None,
            idcgate_engine::now_ms(),
        )
        .await
        .unwrap();
    let cost = f.balance("cost:server").await;
    let r = f.shop.refund(&who, h.guid).await.unwrap_err();
    assert_eq!(r.kind, RefusalKind::Internal, "{r:?}");
    // Nothing of it was written: not the upstream's return, not the order's move.
    assert_eq!(f.balance("cost:server").await, cost);
    let journal = db.store.list_orders(&Default::default()).await.unwrap();
    assert!(
        journal
            .iter()
            .all(|o| !o.order.idem_key.ends_with(":refund")),
        "{journal:?}"
    );
    assert_eq!(
        db.store
            .get_tenant_order(h.guid)
            .await
            .unwrap()
            .unwrap()
            .state,
        TenantOrderState::Active
    );
    common::assert_books_balance(&f.engine).await;
}

async fn a_lost_upgrade_is_charged_once_and_moves_the_order_when_asked_again(db: &TestDb) {
    let f = fixture(db).await;
    let big = bigger(&f).await;
    let (who, _, _) = f.tenant("acme", "500.00", "0").await;
    let h = f.shop.buy(&who, &f.purchase(1, Some("l"))).await.unwrap();
    f.srv.faults.update(|c| {
        c.drop_next = 1;
        c.next_only_matching = "action=server_upgrade".into();
    });
    let r = f
        .shop
        .upgrade(&who, h.guid, big, Some("lost-up"))
        .await
        .unwrap_err();
    assert_eq!(r.kind, RefusalKind::Unsettled, "{r:?}");
    let charged = yuan("500.00") - f.balance("tenant:acme").await;
    assert!(charged > h.paid, "the upgrade is paid while it is settled");
    assert_eq!(
        f.shop.holding(&who, h.guid).await.unwrap().offering,
        f.product
    );
    f.srv.faults.set(Default::default());
    f.engine.reconcile_orders(0).await.unwrap();
    // Asked again: nothing more charged or sent, and the order is the bigger product.
    let requests = f.srv.faults.requests();
    let again = f
        .shop
        .upgrade(&who, h.guid, big, Some("lost-up"))
        .await
        .unwrap();
    assert_eq!(again.offering, big);
    assert_eq!(again.paid, charged);
    assert_eq!(yuan("500.00") - f.balance("tenant:acme").await, charged);
    let server = again.server.expect("read again after the upgrade");
    assert_eq!((server.cpu, server.ram_mb), (2, 4096));
    assert!(
        f.srv.faults.requests() - requests <= 2,
        "only reads of the upgraded server"
    );
    common::assert_books_balance(&f.engine).await;
}

/// A one-month renewal of `guid` under `key` that the upstream refuses (our account
/// there cannot pay) and whose answer is lost: charged, unsettled.
async fn lost_refused_renewal(f: &Fixture, who: &Shopper, guid: i64, key: &str) {
    f.sim.set_balance(Money::ZERO);
    f.sim.set_credit(Money::ZERO);
    f.srv.faults.update(|c| {
        c.drop_next = 1;
        c.next_only_matching = "action=server_renew".into();
    });
    let r = f.shop.renew(who, guid, 1, Some(key)).await.unwrap_err();
    assert_eq!(r.kind, RefusalKind::Unsettled, "{r:?}");
    f.srv.faults.set(Default::default());
}

async fn a_lost_renewal_the_upstream_refused_gives_the_money_back_once(db: &TestDb) {
    let f = fixture(db).await;
    let (who, _, _) = f.tenant("acme", "500.00", "0").await;
    let h = f.shop.buy(&who, &f.purchase(1, Some("n"))).await.unwrap();
    lost_refused_renewal(&f, &who, h.guid, "n-1").await;
    let held = f.balance("tenant:acme").await;
    assert!(
        held < yuan("500.00") - h.paid,
        "the renewal is paid while settled"
    );
    f.engine.reconcile_orders(0).await.unwrap();
    // Settled as refused: asking again gives the money back, once.
    for _ in 0..2 {
        let r = f
            .shop
            .renew(&who, h.guid, 1, Some("n-1"))
            .await
            .unwrap_err();
        assert_eq!(r.kind, RefusalKind::Upstream, "{r:?}");
        assert_eq!(f.balance("tenant:acme").await, yuan("500.00") - h.paid);
    }
    common::assert_books_balance(&f.engine).await;
}

/// A refund racing renewals once gave back their charges twice: its share counted
/// charges still being placed, whose own returns followed once the server was gone.
async fn a_refund_waits_for_a_renewal_in_flight_and_never_gives_it_back_twice(db: &TestDb) {
    let f = fixture(db).await;
    let (who, _, _) = f.tenant("acme", "500.00", "0").await;
    let h = f.shop.buy(&who, &f.purchase(1, Some("w"))).await.unwrap();
    lost_refused_renewal(&f, &who, h.guid, "w-1").await;
    let charged = f.balance("tenant:acme").await;
    // The renewal's answer is awaited: no refund yet, nothing moved.
    let r = f.shop.refund(&who, h.guid).await.unwrap_err();
    assert_eq!(r.kind, RefusalKind::Unsettled, "{r:?}");
    assert_eq!(f.balance("tenant:acme").await, charged);
    assert_eq!(
        f.shop.holding(&who, h.guid).await.unwrap().state,
        HoldingState::Active
    );
    // Settled as refused: the refund gives the renewal back whole and a share of the
    // purchase; the renewal asked again gives nothing more.
    f.engine.reconcile_orders(0).await.unwrap();
    let back = f.shop.refund(&who, h.guid).await.unwrap();
    assert!(back <= h.paid, "{back} > {}", h.paid);
    assert!(back >= h.paid - yuan("0.05"), "{back}");
    let refunded = yuan("500.00") - h.paid + back;
    assert_eq!(f.balance("tenant:acme").await, refunded);
    assert!(f.shop.renew(&who, h.guid, 1, Some("w-1")).await.is_err());
    assert_eq!(f.balance("tenant:acme").await, refunded, "given back once");
    common::assert_books_balance(&f.engine).await;
}

/// An upgrade placed while a renewal moved the end was charged for the old term, and
/// the upstream for the new one (QA): a follow-up waits for the one in flight.
async fn one_renewal_or_upgrade_of_an_order_is_placed_at_a_time(db: &TestDb) {
    let f = fixture(db).await;
    let big = bigger(&f).await;
    let (who, _, _) = f.tenant("acme", "500.00", "0").await;
    let h = f.shop.buy(&who, &f.purchase(1, Some("o"))).await.unwrap();
    lost_refused_renewal(&f, &who, h.guid, "o-1").await;
    let balance = f.balance("tenant:acme").await;
    let upgrade = f.shop.upgrade(&who, h.guid, big, Some("o-up")).await;
    assert_eq!(upgrade.unwrap_err().kind, RefusalKind::Unsettled);
    let renewal = f.shop.renew(&who, h.guid, 1, Some("o-2")).await;
    assert_eq!(renewal.unwrap_err().kind, RefusalKind::Unsettled);
    assert_eq!(f.balance("tenant:acme").await, balance, "nothing charged");
    let journal = db.store.list_orders(&Default::default()).await.unwrap();
    assert!(
        journal
            .iter()
            .all(|o| !o.order.idem_key.ends_with("o-up") && !o.order.idem_key.ends_with("o-2")),
        "nothing placed: {journal:?}"
    );
    // Settled (refused, its money back when asked again): the next one goes through.
    f.engine.reconcile_orders(0).await.unwrap();
    f.sim.set_balance(yuan("10000.00"));
    let up = f
        .shop
        .upgrade(&who, h.guid, big, Some("o-up"))
        .await
        .unwrap();
    assert_eq!(up.offering, big);
    common::assert_books_balance(&f.engine).await;
}

/// An upgrade priced before a renewal settled was charged for the old end while the
/// upstream charged to the new one (QA): a follow-up's charge is booked only while the
/// order is as it was priced.
async fn a_follow_up_priced_from_an_order_since_changed_is_not_charged(db: &TestDb) {
    let f = fixture(db).await;
    let (who, _, _) = f.tenant("acme", "500.00", "0").await;
    let h = f.shop.buy(&who, &f.purchase(1, Some("p"))).await.unwrap();
    let priced = db.store.get_tenant_order(h.guid).await.unwrap().unwrap();
    let now = idcgate_engine::now_ms();
    // Another follow-up settles in between: the end moves.
    let later = priced.expires_ms.unwrap() + 30 * 86_400_000;
    let moved = TenantOrderPatch {
        expires_ms: Some(later),
        ..Default::default()
    };
    let active = TenantOrderState::Active;
    assert!(db
        .store
        .move_tenant_order(h.guid, active, active, &moved, now)
        .await
        .unwrap());
    let charge = |key: &str| idcgate_store::NewCharge {
        idem_key: key.into(),
        what: "upgrade".into(),
        fen: 100,
        months: 0,
        memo: "priced before".into(),
    };
    let product = priced.order.product.as_str();
    let stale = PricedAs {
        expires_ms: priced.expires_ms,
        product,
    };
    let balance = f.balance("tenant:acme").await;
    let r = db
        .store
        .charge_tenant_order(h.guid, &charge("p:stale"), Some(&stale), now)
        .await
        .unwrap();
    assert!(matches!(r, Charged::Busy), "{r:?}");
    assert_eq!(f.balance("tenant:acme").await, balance, "nothing charged");
    let fresh = PricedAs {
        expires_ms: Some(later),
        product,
    };
    let r = db
        .store
        .charge_tenant_order(h.guid, &charge("p:fresh"), Some(&fresh), now)
        .await
        .unwrap();
    assert!(matches!(r, Charged::New(_)), "{r:?}");
    common::assert_books_balance(&f.engine).await;
}

/// The lines of an upstream that stopped answering were each quoted through their
/// retries (a caller held for minutes) and listed without terms for a minute after it
/// was back (QA): it is asked once, and the list is not kept.
async fn an_unreachable_upstream_is_asked_once_and_its_lines_return_with_it(db: &TestDb) {
    let f = fixture(db).await;
    bigger(&f).await;
    f.add(lease_spec("lease-x", "1,12")).await;
    let (who, _, _) = f.tenant("acme", "500.00", "0").await;
    f.srv.faults.update(|c| c.error_rate = 1.0);
    let before = f.srv.faults.requests();
    let down = f.shop.offerings(&who, ResourceKind::Server).await.unwrap();
    let asked = f.srv.faults.requests() - before;
    f.srv.faults.set(Default::default());
    assert!(down.iter().all(|o| o.terms.is_empty()), "{down:?}");
    assert!(asked <= 4, "{asked} requests: one read and its retries");
    let up = f.shop.offerings(&who, ResourceKind::Server).await.unwrap();
    let line = up.iter().find(|o| o.id == f.product).unwrap();
    assert!(!line.terms.is_empty(), "{up:?}");
}

async fn console_password_and_firewall_rules_reach_the_tenants_own_server_only(db: &TestDb) {
    use idcgate_core::{Direction, FirewallRuleSpec, RuleProtocol, Verdict};
    let f = fixture(db).await;
    let (a, _, _) = f.tenant("acme", "500.00", "0").await;
    let (b, _, _) = f.tenant("bolt", "500.00", "0").await;
    let h = f.shop.buy(&a, &f.purchase(1, Some("s1"))).await.unwrap();
    let h2 = f.shop.buy(&a, &f.purchase(1, Some("s2"))).await.unwrap();
    let number = |h: &idcgate_core::storefront::Holding| -> i64 {
        let id = &h.server.as_ref().unwrap().upstream_id;
        id.trim_start_matches("server_").parse().unwrap()
    };
    let (n, n2) = (number(&h), number(&h2));
    let vnc = |p: &str| ServerAction::ConsolePassword(p.into());
    let before = f.sim.vnc_password(n);

    // Another tenant's guid, a malformed password: refused, the upstream unchanged.
    let r = f
        .shop
        .act(&b, h.guid, &vnc("Vnc-Pass-1"))
        .await
        .unwrap_err();
    assert_eq!(r.kind, RefusalKind::NotFound);
    let r = f.shop.act(&a, h.guid, &vnc("short")).await.unwrap_err();
    assert_eq!(r.kind, RefusalKind::Invalid, "{r:?}");
    assert_eq!(f.sim.vnc_password(n), before);
    f.shop.act(&a, h.guid, &vnc("Vnc-Pass-1")).await.unwrap();
    assert_eq!(f.sim.vnc_password(n).as_deref(), Some("Vnc-Pass-1"));
    assert_ne!(f.sim.vnc_password(n2).as_deref(), Some("Vnc-Pass-1"));

    let rule = |name: &str, priority: u32| FirewallRuleSpec {
        name: name.into(),
        priority,
        direction: Direction::Inbound,
        protocol: RuleProtocol::Tcp,
        verdict: Verdict::Allow,
        remote: "203.0.113.0/24".into(),
        local_port: "22".into(),
    };
    assert!(f.shop.rules(&a, h.guid).await.unwrap().is_empty());
    let ssh = f.shop.add_rule(&a, h.guid, &rule("ssh", 10)).await.unwrap();
    assert_eq!(ssh.spec, rule("ssh", 10));
    let other = f
        .shop
        .add_rule(&a, h2.guid, &rule("ssh", 10))
        .await
        .unwrap();
    assert_ne!(ssh.id, other.id);
    assert_eq!(f.shop.rules(&a, h.guid).await.unwrap(), vec![ssh.clone()]);

    // Another tenant sees and changes nothing; a rule of the tenant's other server
    // is not this server's; a malformed rule is refused before anything is sent.
    for r in [
        f.shop.rules(&b, h.guid).await.map(|_| ()).unwrap_err(),
        f.shop
            .add_rule(&b, h.guid, &rule("x", 1))
            .await
            .map(|_| ())
            .unwrap_err(),
        f.shop.delete_rule(&b, h.guid, &ssh.id).await.unwrap_err(),
        f.shop.delete_rule(&a, h.guid, &other.id).await.unwrap_err(),
        f.shop
            .delete_rule(&a, h.guid, "x' OR '1'='1")
            .await
            .unwrap_err(),
    ] {
        assert_eq!(r.kind, RefusalKind::NotFound, "{r:?}");
    }
    let bad = FirewallRuleSpec {
        remote: "1' OR '1'='1".into(),
        ..rule("x", 1)
    };
    let r = f.shop.add_rule(&a, h.guid, &bad).await.unwrap_err();
    assert_eq!(r.kind, RefusalKind::Invalid, "{r:?}");
    assert!(r.message.contains("remote"), "{r:?}");
    assert_eq!(f.shop.rules(&a, h.guid).await.unwrap(), vec![ssh.clone()]);
    assert_eq!(
        f.shop.rules(&a, h2.guid).await.unwrap(),
        vec![other.clone()]
    );

    // Suspended: it reads and acts on what it has, as with power.
    f.engine.suspend_tenant("test", "acme").await.unwrap();
    let suspended = Shopper {
        may_buy: false,
        ..a.clone()
    };
    assert_eq!(
        f.shop.rules(&suspended, h.guid).await.unwrap(),
        vec![ssh.clone()]
    );
    f.shop
        .delete_rule(&suspended, h.guid, &ssh.id)
        .await
        .unwrap();
    assert!(f.shop.rules(&a, h.guid).await.unwrap().is_empty());
    let r = f.shop.delete_rule(&a, h.guid, &ssh.id).await.unwrap_err();
    assert_eq!(r.kind, RefusalKind::NotFound);
    assert_eq!(f.shop.rules(&a, h2.guid).await.unwrap(), vec![other]);

    // An add whose answer is lost is neither done nor refused: unsettled, and the
    // rules as the upstream lists them say what happened.
    f.srv.faults.update(|c| {
        c.drop_next = 1;
        c.next_only_matching = "action=server_add_hardpolicy".into();
    });
    let r = f
        .shop
        .add_rule(&a, h.guid, &rule("lost", 7))
        .await
        .unwrap_err();
    assert_eq!(r.kind, RefusalKind::Unsettled, "{r:?}");
    f.srv.faults.set(Default::default());
    let now = f.shop.rules(&a, h.guid).await.unwrap();
    assert_eq!(
        now.iter().map(|r| r.spec.clone()).collect::<Vec<_>>(),
        [rule("lost", 7)],
        "the upstream added it"
    );

    // Every write audited with the tenant as actor, announced before it was sent;
    // the password nowhere.
    let trail = f.engine.audit_trail(200).await.unwrap();
    let done = |action: &str| {
        trail
            .iter()
            .filter(|e| e.action == action && e.outcome == "ok")
            .map(|e| e.actor.as_str())
            .collect::<Vec<_>>()
    };
    assert_eq!(done("server.console_password"), ["tenant:acme"]);
    assert_eq!(done("server.firewall_add"), ["tenant:acme"; 2]);
    assert_eq!(done("server.firewall_delete"), ["tenant:acme"]);
    assert_eq!(done("resale.rule_add").len(), 2);
    assert_eq!(done("resale.rule_delete").len(), 1);
    assert!(trail
        .iter()
        .any(|e| e.action == "server.firewall_add" && e.outcome == "unknown_outcome"));
    assert!(trail.iter().all(|e| e.outcome != "unfinished"));
    assert!(
        trail
            .iter()
            .all(|e| !format!("{e:?}").contains("Vnc-Pass-1")),
        "the password is never audited"
    );
}

async fn the_panels_pass_through_on_the_tenants_own_site_and_database_only(db: &TestDb) {
    let f = fixture(db).await;
    let ids = f
        .site_products(&[
            ("host-a", ResourceKind::HostingSite, HOST_OFFER),
            ("db-a", ResourceKind::Database, DB_OFFER),
        ])
        .await;
    let (who, _, _) = f.tenant("acme", "1000.00", "0").await;
    let (other, _, _) = f.tenant("bolt", "1000.00", "0").await;
    let site = f.buy_with(&who, ids[0], "h1", PHP).await;
    let base = f.buy_with(&who, ids[1], "d1", UTF8).await;
    // Another site of the same upstream account, the other tenant's.
    let theirs = f.buy_with(&other, ids[0], "o1", PHP).await;
    let (my_site, their_site) = (
        upstream_of(&db.store, site.guid).await,
        upstream_of(&db.store, theirs.guid).await,
    );
    assert_ne!(my_site, their_site);
    let conn = f.engine.connection("z").await.unwrap();
    let proxies_at = |id: String| {
        let conn = conn.clone();
        async move {
            conn.web_hosting()
                .unwrap()
                .site_panel(&id, &panel_call("hosting_get_proxy_list", &[]))
                .await
                .unwrap()
                .as_array()
                .unwrap()
                .clone()
        }
    };
    let balance = f.balance("tenant:acme").await;
    let sim_records = f.sim.ledger().len();

    // A proxy made through the storefront is on the tenant's own upstream site. A guid
    // naming the other tenant's site, and a key the row does not list, are dropped by
    // the capability (the storefront passes what a dialect gave it).
    let key = include_str!("../../vendors/zonkvm/tests/fixtures/site.key");
    let made = f
        .shop
        .panel(
            &who,
            site.guid,
            &panel_call(
                "hosting_create_proxy",
                &[
                    ("guid", &their_site),
                    (
                        "proxyData",
                        r#"{"proxyname":"api","proxysite":"http://10.0.0.1","evil":"1"}"#,
                    ),
                ],
            ),
        )
        .await;
    assert!(made.is_ok(), "{made:?}");
    let mine = proxies_at(my_site.clone()).await;
    assert_eq!(mine.len(), 1, "{mine:?}");
    assert_eq!(mine[0]["proxyname"], "api");
    assert!(mine[0].get("evil").is_none(), "{mine:?}");
    assert!(proxies_at(their_site.clone()).await.is_empty());
    let listed = f
        .shop
        .panel(&who, site.guid, &panel_call("hosting_get_proxy_list", &[]))
        .await
        .unwrap();
    assert_eq!(listed, serde_json::Value::Array(mine));

    // The database panel the same way.
    f.shop
        .panel(
            &who,
            base.guid,
            &panel_call("sql_set_access", &[("dataAccess", "%")]),
        )
        .await
        .unwrap();
    let access = f
        .shop
        .panel(&who, base.guid, &panel_call("sql_get_access", &[]))
        .await
        .unwrap();
    assert_eq!(access["msg"], "%");
    // A hosting operation on the database and a database one on the site: unsupported.
    for (guid, op) in [
        (base.guid, "hosting_get_proxy_list"),
        (site.guid, "sql_get_access"),
    ] {
        let r = f
            .shop
            .panel(&who, guid, &panel_call(op, &[]))
            .await
            .unwrap_err();
        assert_eq!(r.kind, RefusalKind::Unsupported, "{op}: {r:?}");
    }

    // Money never moves through the panel, whatever a caller names: the capability
    // refuses it before anything is sent.
    for (guid, op) in [
        (site.guid, "hosting_refund"),
        (site.guid, "hosting_renew"),
        (site.guid, "hosting_upgrade"),
        (site.guid, "hosting_add_database"),
        (base.guid, "sql_refund"),
        (base.guid, "sql_upgrade"),
    ] {
        let r = f
            .shop
            .panel(
                &who,
                guid,
                &panel_call(op, &[("renewLength", "1"), ("db_password", "Pw-1")]),
            )
            .await
            .unwrap_err();
        assert_eq!(r.kind, RefusalKind::Unsupported, "{op}: {r:?}");
    }
    assert_eq!(
        f.sim.ledger().len(),
        sim_records,
        "nothing charged upstream"
    );
    assert_eq!(f.balance("tenant:acme").await, balance);
    assert_eq!(
        f.shop.holding(&who, site.guid).await.unwrap().state,
        HoldingState::Active
    );

    // Another tenant reaches none of it; nor does anyone reach a refunded site.
    let r = f
        .shop
        .panel(
            &other,
            site.guid,
            &panel_call("hosting_get_proxy_list", &[]),
        )
        .await
        .unwrap_err();
    assert_eq!(r.kind, RefusalKind::NotFound);

    // An SSL deployment's private key reaches the upstream, not the audit log, which
    // names the operation and the tenant.
    let cert = include_str!("../../vendors/zonkvm/tests/fixtures/site.crt");
    f.shop
        .panel(
            &who,
            site.guid,
            &panel_call("hosting_set_ssl", &[("key", key), ("csr", cert)]),
        )
        .await
        .unwrap();
    let audit = db.store.list_audit(1000).await.unwrap();
    let entries: Vec<_> = audit
        .iter()
        .filter(|e| e.action == "resale.panel" && e.actor == "tenant:acme")
        .collect();
    assert!(
        entries
            .iter()
            .any(|e| e.outcome == "ok" && e.detail.contains("hosting_set_ssl")),
        "{entries:?}"
    );
    let all = format!("{audit:?}");
    assert!(
        !all.contains("PRIVATE KEY"),
        "a private key in the audit log"
    );

    f.shop.refund(&who, site.guid).await.unwrap();
    let r = f
        .shop
        .panel(&who, site.guid, &panel_call("hosting_get_proxy_list", &[]))
        .await
        .unwrap_err();
    assert_eq!(r.kind, RefusalKind::NotFound, "{r:?}");
    common::assert_books_balance(&f.engine).await;
}

async fn a_site_and_a_database_upgrade_through_the_money_path(db: &TestDb) {
    let f = fixture(db).await;
    let ids = f
        .site_products(&[
            ("host-a", ResourceKind::HostingSite, HOST_OFFER),
            ("host-b", ResourceKind::HostingSite, "20250408030033590713"),
            ("db-a", ResourceKind::Database, DB_OFFER),
            ("db-b", ResourceKind::Database, "20250407053315151713"),
        ])
        .await;
    let (who, _, _) = f.tenant("acme", "1000.00", "0").await;
    let (other, _, _) = f.tenant("bolt", "1000.00", "0").await;
    for (kind, small, big) in [
        (ResourceKind::HostingSite, ids[0], ids[1]),
        (ResourceKind::Database, ids[2], ids[3]),
    ] {
        let offered = f.shop.offerings(&who, kind).await.unwrap();
        let of = |id: i64| {
            offered
                .iter()
                .find(|o| o.id == id)
                .unwrap()
                .upgrades
                .clone()
        };
        assert_eq!(of(small), vec![big], "{kind:?}: the dearer product");
        assert!(of(big).is_empty(), "{kind:?}");
    }
    let site = f.buy_with(&who, ids[0], "h1", PHP).await;
    let base = f.buy_with(&who, ids[2], "d1", UTF8).await;
    let conn = f.engine.connection("z").await.unwrap();
    let upstream_product = |guid: i64, action: &'static str| {
        let conn = conn.clone();
        async move {
            let id = upstream_of(&db.store, guid).await;
            let v = conn
                .call(action, &vec![("guid".to_string(), id)])
                .await
                .unwrap();
            v["product_guid"].as_str().unwrap().to_string()
        }
    };

    // Refused before anything is charged or sent: another tenant, down, sideways.
    let requests = f.srv.faults.requests();
    let r = f
        .shop
        .upgrade(&other, site.guid, ids[1], None)
        .await
        .unwrap_err();
    assert_eq!(r.kind, RefusalKind::NotFound, "{r:?}");
    for (guid, to) in [
        (site.guid, ids[0]),
        (site.guid, ids[3]),
        (base.guid, ids[1]),
    ] {
        let r = f.shop.upgrade(&who, guid, to, None).await.unwrap_err();
        assert_eq!(r.kind, RefusalKind::Unsupported, "{to}: {r:?}");
    }
    assert_eq!(
        f.srv.faults.requests(),
        requests,
        "nothing reached the upstream"
    );
    let bought = site.paid + base.paid;
    assert_eq!(f.balance("tenant:acme").await, yuan("1000.00") - bought);

    // Each upgrade pays the one-month prices' difference per 30 days for the whole
    // days left, and moves the upstream order to the dearer product.
    let mut paid = bought;
    for (h, (small, big), upstream_big, read) in [
        (
            &site,
            ("host-a", ids[1]),
            "20250408030033590713",
            "gethosting",
        ),
        (&base, ("db-a", ids[3]), "20250407053315151713", "getsql"),
    ] {
        let name_big = if read == "gethosting" {
            "host-b"
        } else {
            "db-b"
        };
        let diff = price_of(&f.engine, name_big, 1).await - price_of(&f.engine, small, 1).await;
        let left_ms = h.expires_at.unwrap().as_millisecond() - idcgate_engine::now_ms();
        let days = (left_ms + 86_399_999) / 86_400_000;
        let expected = Money(
            (diff.0 * rust_decimal::Decimal::from(days) / rust_decimal::Decimal::from(30))
                .round_dp_with_strategy(2, rust_decimal::RoundingStrategy::ToZero),
        );
        let upstream_before = f.sim.balance();
        let up = f
            .shop
            .upgrade(&who, h.guid, big, Some("up-1"))
            .await
            .unwrap();
        assert_eq!(up.paid - h.paid, expected, "{read}: {days} days left");
        assert_eq!(up.offering, big);
        assert_eq!(upstream_product(h.guid, read).await, upstream_big);
        assert!(
            f.sim.balance() < upstream_before,
            "the upstream charged its own"
        );
        // The same upgrade id again: nothing more.
        let again = f
            .shop
            .upgrade(&who, h.guid, big, Some("up-1"))
            .await
            .unwrap();
        assert_eq!(again.paid, up.paid);
        paid = paid + expected;
        assert_eq!(f.balance("tenant:acme").await, yuan("1000.00") - paid);
    }
    common::assert_books_balance(&f.engine).await;
}

async fn a_west_host_is_sold_and_managed_through_the_storefront(db: &TestDb) {
    use idcgate_core::SiteAction;
    let engine = common::engine_on(db, vec![common::west()]).await;
    let (_srv, product) = common::west_l1(&engine).await;
    let shop = Shop::new(engine.clone());
    let (who, _, _) = sign_in(&engine, &shop, "acme.co_1", "2000.00", "0").await;
    let price = price_of(&engine, "west-l1", 12).await;
    let h = shop.buy(&who, &a_year_of(product.id, "w1")).await.unwrap();
    assert_eq!(h.state, HoldingState::Active, "{h:?}");
    assert_eq!(h.paid, price);

    // The host at West carries an FTP name West takes (4-16 lower-case letters or
    // digits, a letter first) and CNDNS would too (1-10 letters); the tenant's name
    // has a dot and an underscore.
    let resource = upstream_of(&db.store, h.guid).await;
    let conn = engine.connection("w").await.unwrap();
    let sites = conn.web_hosting().unwrap().list_sites().await.unwrap();
    let site = sites.iter().find(|s| s.upstream_id == resource).unwrap();
    let name = site.name.as_str();
    assert!(
        (4..=10).contains(&name.len()) && name.chars().all(|c| c.is_ascii_lowercase()),
        "{name:?}"
    );

    // Domains and the FTP password through West's hosting capability; what West's
    // document has no call for is unsupported, not faked.
    shop.site(
        &who,
        h.guid,
        &SiteAction::AddDomain("shop.example.com".into()),
    )
    .await
    .unwrap();
    let domains = shop.site(&who, h.guid, &SiteAction::Domains).await.unwrap();
    assert!(
        domains.contains(&"shop.example.com".to_string()),
        "{domains:?}"
    );
    shop.site(
        &who,
        h.guid,
        &SiteAction::Password("West-Ftp-Secret-1".into()),
    )
    .await
    .unwrap();
    for action in [SiteAction::Stop, SiteAction::Start] {
        let r = shop.site(&who, h.guid, &action).await.unwrap_err();
        assert_eq!(r.kind, RefusalKind::Unsupported, "{action:?}: {r:?}");
    }
    let r = shop
        .panel(&who, h.guid, &panel_call("hosting_get_proxy_list", &[]))
        .await
        .unwrap_err();
    assert_eq!(r.kind, RefusalKind::Unsupported, "{r:?}");
    common::assert_books_balance(&engine).await;
}

/// CNDNS takes a new host's FTP password with the order and the catalog keeps no
/// secret, so one is generated per order by the upstream's rule; the tenant sets its
/// own through the capability.
async fn a_cndns_host_is_sold_with_a_generated_ftp_password(db: &TestDb) {
    use idcgate_core::SiteAction;
    let engine = common::engine_on(db, vec![common::cndns()]).await;
    let sim = idcgate_cndns::Sim::sandbox();
    let _srv = common::add_sandbox(&engine, "c", &sim).await;
    let options = [("hostsize", "5"), ("Location", "cn"), ("linetype", "dx")];
    let spec = product_spec(
        "cndns-bz",
        "c",
        ResourceKind::HostingSite,
        "bz",
        &options,
        ("10%", "12"),
    );
    let product = engine.add_product("test", spec).await.unwrap();
    let shop = Shop::new(engine.clone());
    let (who, _, _) = sign_in(&engine, &shop, "acme", "2000.00", "0").await;
    let price = price_of(&engine, "cndns-bz", 12).await;
    let purchase = a_year_of(product.id, "c1");
    let h = shop.buy(&who, &purchase).await.unwrap();
    assert_eq!(h.state, HoldingState::Active, "{h:?}");
    assert_eq!(h.paid, price);
    let resource = upstream_of(&db.store, h.guid).await;
    // The host exists at CNDNS (its detail answers) under a password nobody chose,
    // and the journal kept no trace of it.
    let conn = engine.connection("c").await.unwrap();
    let ftp_password = || async {
        let params = vec![("ftpname".to_string(), resource.clone())];
        let detail = conn.call("/hosting/hostdetail", &params).await.unwrap();
        detail.to_string()
    };
    let detail = ftp_password().await;
    let generated = detail
        .split("\"ftppassword\":\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_default()
        .to_string();
    assert!((8..=16).contains(&generated.len()), "{detail}");
    let orders = engine.reads().orders(&Default::default()).await.unwrap();
    let journal = serde_json::to_string(&orders).unwrap();
    assert!(
        !journal.contains(&generated),
        "the FTP password was journalled"
    );
    for action in [
        SiteAction::Stop,
        SiteAction::Start,
        SiteAction::Password("Own-ftp-9!".into()),
    ] {
        shop.site(&who, h.guid, &action).await.unwrap();
    }
    assert!(ftp_password().await.contains("Own-ftp-9!"));
    common::assert_books_balance(&engine).await;
}

const IDC_OFFER: &str = "idc:20250409132727581219";

/// The sandbox's dedicated server as `lease-a` at cost + 10% for 1 or 12 months,
/// selling up to 8 more IPs and 100 more Mbps; its id. (The sandbox line: 550.00 a
/// month, 100.00 an IP, 16.00 a Mbps, so 605.00, 110.00 and 17.60 to the tenant.)
async fn lease_with_units(f: &Fixture) -> i64 {
    f.add(lease_spec("lease-a", "1,12")).await;
    f.sell_units("lease-a", &["ip=8", "bandwidth=100"]).await
}

async fn units_beyond_the_base_are_bought_and_added_at_their_price_for_the_time_left(db: &TestDb) {
    let f = fixture(db).await;
    let lease = lease_with_units(&f).await;
    let (who, _, _) = f.tenant("acme", "5000.00", "0").await;
    let (other, _, _) = f.tenant("bolt", "5000.00", "0").await;
    let sim_start = f.sim.balance();
    // The tenant sees each unit's monthly price at its level.
    let offered = f.shop.offerings(&who, ResourceKind::Server).await.unwrap();
    assert_eq!(
        units_shown(&offered, lease),
        [
            (Unit::Ip, yuan("110.00"), 8),
            (Unit::Bandwidth, yuan("17.60"), 100)
        ]
    );
    let base = price_of(&f.engine, "lease-a", 1).await;
    assert_eq!(base, yuan("605.00"));

    // Refused with nothing charged or ordered: beyond the maximum, a unit the product
    // does not sell, negative, not a number, overflowing.
    let upstream = f.sim.balance();
    f.refuses_purchases(
        &who,
        lease,
        &[
            ("units.ip", "9"),
            ("units.defense", "1"),
            ("units.ip", "-1"),
            ("units.bandwidth", "ten"),
            ("units.ip", "99999999999999999999"),
        ],
    )
    .await;
    assert_eq!(f.balance("tenant:acme").await, yuan("5000.00"));
    assert_eq!(f.sim.balance(), upstream, "nothing reached the upstream");

    // Two more IPs and 30 more Mbps: the base plus each unit's price.
    let h = f
        .buy_with(
            &who,
            lease,
            "l-1",
            &[("units.ip", "2"), ("units.bandwidth", "30")],
        )
        .await;
    assert_eq!(h.state, HoldingState::Active, "{h:?}");
    assert_eq!(h.paid, yuan("605.00") + yuan("220.00") + yuan("528.00"));
    assert_eq!(h.units, units(&[(Unit::Ip, 2), (Unit::Bandwidth, 30)]));
    let server = h.server.clone().unwrap();
    assert_eq!((server.ips.len(), server.bandwidth_mbps), (3, 60));
    // What the upstream charged is the cost booked; we keep 10 % of it.
    assert_eq!(upstream - f.sim.balance(), yuan("1230.00"));
    // The same order_id again: the same purchase, nothing charged; with other units,
    // another purchase, refused.
    let paid_so_far = f.balance("tenant:acme").await;
    let same = f
        .buy_with(
            &who,
            lease,
            "l-1",
            &[("units.ip", "2"), ("units.bandwidth", "30")],
        )
        .await;
    assert_eq!((same.guid, same.units.clone()), (h.guid, h.units.clone()));
    let r = f
        .shop
        .buy(&who, &with_units(lease, "l-1", &[("units.ip", "3")]))
        .await
        .unwrap_err();
    assert_eq!(r.kind, RefusalKind::Invalid, "{r:?}");
    assert_eq!(f.balance("tenant:acme").await, paid_so_far);

    // Three more IPs for the time left: (3 x 110.00) per 30 days, for the whole days
    // left, charged once.
    let days = days_left(h.expires_at.unwrap());
    let before = f.balance("tenant:acme").await;
    let up = f
        .shop
        .add_units(&who, h.guid, &units(&[(Unit::Ip, 3)]), Some("u-1"))
        .await
        .unwrap();
    let charged = before - f.balance("tenant:acme").await;
    assert_eq!(charged, Money::from_fen(1100 * days), "{days} days");
    assert_eq!(up.paid, h.paid + charged);
    assert_eq!(up.units, units(&[(Unit::Ip, 5), (Unit::Bandwidth, 30)]));
    assert_eq!(up.server.unwrap().ips.len(), 6, "the upstream added them");
    // The same client_order_id again: the same upgrade, nothing charged or sent...
    let requests = f.srv.faults.requests();
    let again = f
        .shop
        .add_units(&who, h.guid, &units(&[(Unit::Ip, 3)]), Some("u-1"))
        .await
        .unwrap();
    assert_eq!(again.units, up.units);
    // A page of holdings reads its units in one statement: the same sums.
    let (_, page) = f
        .shop
        .holdings(&who, ResourceKind::Server, 1, 100)
        .await
        .unwrap();
    let listed = page.iter().find(|p| p.guid == h.guid).unwrap();
    assert_eq!(listed.units, up.units);
    assert_eq!(f.balance("tenant:acme").await, before - charged);
    assert!(f.srv.faults.requests() - requests <= 2, "reads only");
    // ... and not for another upgrade, of units or to another product.
    let r = f
        .shop
        .add_units(&who, h.guid, &units(&[(Unit::Ip, 1)]), Some("u-1"))
        .await
        .unwrap_err();
    assert_eq!(r.kind, RefusalKind::Invalid, "{r:?}");
    assert!(f
        .shop
        .upgrade(&who, h.guid, f.product, Some("u-1"))
        .await
        .is_err());
    assert_eq!(f.shop.holding(&who, h.guid).await.unwrap().offering, lease);
    // Nothing, beyond the maximum, a unit not sold, another tenant's order: refused,
    // nothing charged.
    let upstream = f.sim.balance();
    f.refuses_units(
        h.guid,
        &[
            (&who, units(&[]), RefusalKind::Invalid),
            (&who, units(&[(Unit::Ip, 0)]), RefusalKind::Invalid),
            (&who, units(&[(Unit::Ip, 4)]), RefusalKind::Invalid),
            (&who, units(&[(Unit::Bandwidth, 71)]), RefusalKind::Invalid),
            (&who, units(&[(Unit::Defense, 1)]), RefusalKind::Invalid),
            (&who, units(&[(Unit::Ip, u32::MAX)]), RefusalKind::Invalid),
            (&other, units(&[(Unit::Ip, 1)]), RefusalKind::NotFound),
        ],
    )
    .await;
    assert_eq!(f.balance("tenant:acme").await, before - charged);
    assert_eq!(f.balance("tenant:bolt").await, yuan("5000.00"));
    assert_eq!(f.sim.balance(), upstream, "nothing reached the upstream");

    // A renewal renews the units too: 605.00 + 5 x 110.00 + 30 x 17.60.
    let renewed = f.shop.renew(&who, h.guid, 1, Some("r-1")).await.unwrap();
    assert_eq!(renewed.paid - up.paid, yuan("1683.00"));
    // The margin is every charge against every upstream order they paid for.
    let margins = db.store.margins(Some("acme")).await.unwrap();
    assert_eq!(margins.len(), 1);
    assert_eq!(margins[0].revenue_fen, renewed.paid.to_fen().unwrap());
    assert_eq!(
        margins[0].cost_fen,
        (sim_start - f.sim.balance()).to_fen().unwrap()
    );
    // Each action audited with the tenant as actor.
    let trail = f.engine.audit_trail(100).await.unwrap();
    assert!(trail
        .iter()
        .any(|e| e.actor == "tenant:acme" && e.action == "resale.upgrade" && e.outcome == "ok"));
    common::assert_books_balance(&f.engine).await;
}

async fn a_lost_unit_upgrade_is_charged_once_and_counts_once_settled(db: &TestDb) {
    let f = fixture(db).await;
    let lease = lease_with_units(&f).await;
    lost_unit_upgrade_counts_once(&f, lease, "l-1", "lease_upgrade", 60).await;
}

async fn a_fixed_price_product_sells_units_at_their_fixed_price(db: &TestDb) {
    let f = fixture(db).await;
    let mut spec = product_spec(
        "idc-a",
        "z",
        ResourceKind::Server,
        IDC_OFFER,
        &[],
        ("10%", "1"),
    );
    spec.rule = PriceRule::parse("900.00", &["gold=20%".into()], &[], Some("1")).unwrap();
    f.engine.add_product("test", spec).await.unwrap();
    // Refused: a unit without a fixed price on a fixed-price product, a maximum beyond
    // what the upstream line sells, defense the upstream charges nothing for at a
    // markup, a unit given twice; units of anything but a server.
    for units in [
        vec!["ip=2"],
        vec!["ip=200@250.00"],
        vec!["ip=2@250.00", "ip=3@250.00"],
    ] {
        assert!(f
            .engine
            .set_product_units("test", "idc-a", product_units(&units))
            .await
            .is_err());
    }
    for bad in ["ip=0", "ip=2@0", "ip=2@-1", "ram=2", "ip", "ip=2@1.001"] {
        assert!(ProductUnit::parse(bad).is_err(), "{bad}");
    }
    let p = f
        .engine
        .set_product_units("test", "idc-a", product_units(&["ip=4@250.00"]))
        .await
        .unwrap();
    assert_eq!(p.units.len(), 1);
    let (who, _, _) = f.tenant("acme", "5000.00", "0").await;
    let h = f
        .shop
        .buy(&who, &with_units(p.id, "c-1", &[("units.ip", "2")]))
        .await
        .unwrap();
    assert_eq!(h.paid, yuan("1400.00"), "900.00 + 2 x 250.00");
    assert_eq!(h.units, units(&[(Unit::Ip, 2)]));
    // At a markup level the same unit is the upstream's cost plus the markup.
    let gold: Vec<_> = f
        .engine
        .unit_prices(&p)
        .await
        .into_iter()
        .map(|u| (u.unit, u.cost, u.prices))
        .collect();
    assert_eq!(
        gold,
        [(
            Unit::Ip,
            Some(yuan("300.00")),
            vec![
                (String::new(), Some(yuan("250.00"))),
                ("gold".to_string(), Some(yuan("360.00")))
            ]
        )]
    );
    // Defense costs nothing upstream: at a markup it cannot be sold.
    f.add(lease_spec("lease-d", "1")).await;
    assert!(f
        .engine
        .set_product_units("test", "lease-d", product_units(&["defense=100"]))
        .await
        .is_err());
    assert!(
        f.engine
            .set_product_units("test", "cloud-1c1g", product_units(&["ip=1@1.00"]))
            .await
            .is_err(),
        "the cloud upstream takes no units"
    );
    common::assert_books_balance(&f.engine).await;
}
