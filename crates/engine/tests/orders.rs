//! Purchases through the order journal against the real West simulator, on SQLite and
//! PostgreSQL: booked once, explained by the ledger to the fen, never bought twice for
//! one key, and a lost answer reconciled by reading the upstream.
#![allow(clippy::unwrap_used)] // a test may fail loudly

use idcgate_core::purchase::{Operation, PurchaseRequest};
use idcgate_core::ResourceKind;
use idcgate_core::{Money, OrderState, UpstreamAccount, Vendor};
use idcgate_engine::{Engine, Registry, VendorEntry};
use idcgate_store::testing::TestDb;
use idcgate_store::{both_backends, LedgerFilter, OrderRow};
use idcgate_wire::sim::SimServer;
use idcgate_wire::testing;
use std::sync::Arc;
use std::time::Duration;

both_backends!(
    a_registration_is_booked_once_and_explains_the_balance_change,
    a_lost_answer_is_reconciled_by_reading_and_never_resent,
    a_renewal_moves_the_expiry_and_is_reconciled_by_it,
    the_statement_reports_every_difference_with_the_vendors_record,
);

struct Fixture {
    engine: Arc<Engine>,
    sim: idcgate_west::Sim,
    srv: SimServer,
}

async fn fixture(db: &TestDb) -> Fixture {
    let registry = Registry::new(vec![VendorEntry {
        vendor: Vendor::West,
        spec: idcgate_west::spec,
        connect: idcgate_west::connect,
        sandbox: || Box::new(idcgate_west::Sim::sandbox()),
    }]);
    let mut store = idcgate_store::SqlStore::open(&db.url).await.unwrap();
    store
        .unlock(&idcgate_store::MasterKey::from_hex(idcgate_store::testing::TEST_KEY_HEX).unwrap())
        .await
        .unwrap();
    let mut wire = idcgate_wire::WireConfig::new("test@example.com");
    wire.timeout = Duration::from_millis(800);
    let engine = Arc::new(Engine::new(Arc::new(store), registry, wire));
    let sim = idcgate_west::Sim::sandbox();
    let srv = testing::serve(&sim).await;
    engine
        .store
        .add_account(&UpstreamAccount {
            name: "w".into(),
            ..testing::sandbox_account(&sim, &srv)
        })
        .await
        .unwrap();
    Fixture { engine, sim, srv }
}

impl Fixture {
    /// Places `p` on account `w` as actor `test`.
    async fn place(&self, p: &PurchaseRequest, key: Option<&str>) -> OrderRow {
        self.engine.place_order("test", "w", p, key).await.unwrap()
    }
}

fn register(name: &str) -> PurchaseRequest {
    PurchaseRequest::new(ResourceKind::Domain, Operation::Create, name)
}

async fn spent_fen(engine: &Engine, account: &str) -> i64 {
    let lines = engine
        .store
        .ledger_lines(&LedgerFilter {
            account: Some(format!("upstream:{account}")),
            ..Default::default()
        })
        .await
        .unwrap();
    -lines.iter().map(|l| l.fen).sum::<i64>()
}

async fn a_registration_is_booked_once_and_explains_the_balance_change(db: &TestDb) {
    let f = fixture(db).await;
    let before = f.sim.balance();
    let finance_before = f.sim.finance_len();
    let quote = f
        .engine
        .quote("w", &register("journal-one.com"))
        .await
        .unwrap();
    let o = f.place(&register("journal-one.com"), Some("key-1")).await;
    assert_eq!(o.state, OrderState::Succeeded);
    assert_eq!(o.charged_fen, Some(quote.price.to_fen().unwrap()));
    let spent = before - f.sim.balance();
    assert_eq!(Money::from_fen(spent_fen(&f.engine, "w").await), spent);
    assert_eq!(f.sim.finance_len(), finance_before + 1);
    // The same key again: the first order, and nothing sent upstream.
    let requests = f.srv.faults.requests();
    let again = f.place(&register("journal-one.com"), Some("key-1")).await;
    assert_eq!(again, o);
    assert_eq!(f.srv.faults.requests(), requests);
    assert_eq!(f.sim.finance_len(), finance_before + 1);
    assert!(f
        .engine
        .store
        .unbalanced_transactions()
        .await
        .unwrap()
        .is_empty());
    let audit = f.engine.store.list_audit(10).await.unwrap();
    assert!(audit
        .iter()
        .any(|a| a.action == "order.register" && a.actor == "test" && a.outcome == "ok"));
    // A refusal books nothing: the domain is now ours, so registering it again fails.
    let refused = f.place(&register("journal-one.com"), Some("key-2")).await;
    assert_eq!(refused.state, OrderState::Failed);
    assert_eq!(Money::from_fen(spent_fen(&f.engine, "w").await), spent);
}

async fn a_lost_answer_is_reconciled_by_reading_and_never_resent(db: &TestDb) {
    let f = fixture(db).await;
    let before = f.sim.balance();
    // Committed upstream, answer lost.
    f.srv.faults.update(|c| {
        c.next_only_matching = "act=regdomain".into();
        c.drop_next = 1;
    });
    let o = f.place(&register("journal-lost.com"), Some("lost-1")).await;
    assert_eq!(o.state, OrderState::Unknown);
    assert_eq!(
        spent_fen(&f.engine, "w").await,
        0,
        "nothing booked on a guess"
    );
    // Refused before anything changed, but the caller cannot tell: also unknown.
    f.srv.faults.update(|c| c.error_next = 1);
    let o2 = f
        .place(&register("journal-never.com"), Some("lost-2"))
        .await;
    assert_eq!(o2.state, OrderState::Unknown);
    let finance = f.sim.finance_len();
    let resolved = f.engine.reconcile_orders(60_000).await.unwrap();
    assert_eq!(resolved.len(), 2);
    assert_eq!(f.sim.finance_len(), finance, "reconciling only reads");
    let o = f.engine.order(o.id).await.unwrap();
    assert_eq!(o.state, OrderState::Succeeded);
    let o2 = f.engine.order(o2.id).await.unwrap();
    assert_eq!(o2.state, OrderState::Failed);
    let events = f.engine.store.order_events(o2.id).await.unwrap();
    assert!(events.last().unwrap().detail.contains("not in the account"));
    // Every fen the simulator lost is in the ledger.
    assert_eq!(
        Money::from_fen(spent_fen(&f.engine, "w").await),
        before - f.sim.balance()
    );
    // Reconciling again changes nothing.
    assert!(f.engine.reconcile_orders(60_000).await.unwrap().is_empty());
}

async fn a_renewal_moves_the_expiry_and_is_reconciled_by_it(db: &TestDb) {
    let f = fixture(db).await;
    f.place(&register("journal-renew.com"), None).await;
    let renew = PurchaseRequest::new(ResourceKind::Domain, Operation::Renew, "journal-renew.com")
        .months(24);
    let before = f.sim.balance();
    f.srv.faults.update(|c| {
        c.next_only_matching = "act=renewdomain".into();
        c.drop_next = 1;
    });
    let o = f.place(&renew, None).await;
    assert_eq!(o.state, OrderState::Unknown);
    let o = f.engine.reconcile_order(o.id).await.unwrap();
    assert_eq!(o.state, OrderState::Succeeded);
    assert_eq!(
        Money::from_fen(o.charged_fen.unwrap()),
        before - f.sim.balance()
    );
    // A renewal whose answer was lost before anything changed did not move the expiry.
    f.srv.faults.update(|c| c.error_next = 1);
    let o = f.place(&renew, None).await;
    assert_eq!(o.state, OrderState::Unknown);
    let o = f.engine.reconcile_order(o.id).await.unwrap();
    assert_eq!(o.state, OrderState::Failed);
}

async fn the_statement_reports_every_difference_with_the_vendors_record(db: &TestDb) {
    let f = fixture(db).await;
    // The vendor's record keeps whole seconds: start on the next one, so the sandbox's
    // own earlier charges are before `since`.
    let now = idcgate_engine::now_ms();
    let since = (now / 1000 + 1) * 1000;
    tokio::time::sleep(Duration::from_millis(u64::try_from(since - now).unwrap())).await;
    f.place(&register("statement-one.com"), None).await;
    let lost = {
        f.srv.faults.update(|c| {
            c.next_only_matching = "act=regdomain".into();
            c.drop_next = 1;
        });
        f.place(&register("statement-two.com"), None).await
    };
    f.engine.reconcile_order(lost.id).await.unwrap();
    let clean = f.engine.statement("w", since).await.unwrap();
    assert_eq!(clean.differences, Vec::<String>::new(), "{clean:?}");
    assert_eq!(clean.booked_fen, clean.charged_fen);
    assert_eq!(clean.booked_fen, spent_fen(&f.engine, "w").await);
    // Someone buys at the vendor behind idcgate's back: the statement names the charge.
    let conn = f.engine.connection("w").await.unwrap();
    let registrar = conn.registrar().unwrap();
    registrar
        .register("behind-our-back.com", 1, "x")
        .await
        .unwrap();
    let report = f.engine.statement("w", since).await.unwrap();
    assert_eq!(report.differences.len(), 1, "{report:?}");
    assert!(
        report.differences[0].contains("with no order of ours")
            && report.differences[0].contains("behind-our-back.com"),
        "{report:?}"
    );
    assert_eq!(report.charged_fen - report.booked_fen, 5500);
}
