//! Purchases through the order journal against the real West simulator, on SQLite and
//! PostgreSQL: booked once, explained by the ledger to the fen, never bought twice for
//! one key, and a lost answer reconciled by reading the upstream.
#![allow(clippy::unwrap_used)] // a test may fail loudly

mod common;

use idcgate_core::purchase::{Operation, PurchaseRequest};
use idcgate_core::ResourceKind;
use idcgate_core::{Money, OrderState};
use idcgate_engine::Engine;
#[allow(unused_imports)]
// the store's traits, for what a test seeds or reads behind the engine
use idcgate_store::prelude::*;
use idcgate_store::testing::TestDb;
use idcgate_store::{both_backends, LedgerFilter, OrderRow};
use idcgate_wire::sim::SimServer;
use std::sync::Arc;
use std::time::Duration;

both_backends!(
    a_registration_is_booked_once_and_explains_the_balance_change,
    a_lost_answer_is_reconciled_by_reading_and_never_resent,
    a_renewal_moves_the_expiry_and_is_reconciled_by_it,
    the_statement_reports_every_difference_with_the_vendors_record,
    an_open_order_holds_back_every_other_order_on_its_resource,
    a_pending_order_of_a_dead_process_is_failed_by_reconciliation,
);

struct Fixture {
    engine: Arc<Engine>,
    sim: idcgate_west::Sim,
    srv: SimServer,
}

async fn fixture(db: &TestDb) -> Fixture {
    let engine = common::engine_on(db, vec![common::west()]).await;
    let sim = idcgate_west::Sim::sandbox();
    let srv = common::add_sandbox(&engine, "w", &sim).await;
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
        .reads()
        .ledger(&LedgerFilter {
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
    common::assert_books_balance(&f.engine).await;
    let audit = db.store.list_audit(10).await.unwrap();
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
    let events = f.engine.reads().order_events(o2.id).await.unwrap();
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

/// Found by the fault soak: a renewal left unknown, then another renewal of the same
/// domain under a new key, made the first settle as "happened" (the expiry had moved)
/// and booked money nobody spent.
async fn an_open_order_holds_back_every_other_order_on_its_resource(db: &TestDb) {
    let f = fixture(db).await;
    f.place(&register("journal-overlap.com"), None).await;
    let renew = PurchaseRequest::new(
        ResourceKind::Domain,
        Operation::Renew,
        "journal-overlap.com",
    );
    let (balance, spent) = (f.sim.balance(), spent_fen(&f.engine, "w").await);
    // Refused before anything changed, but the caller cannot tell: unknown.
    f.srv.faults.update(|c| {
        c.next_only_matching = "act=renewdomain".into();
        c.error_next = 1;
    });
    let lost = f.place(&renew, Some("overlap-1")).await;
    assert_eq!(lost.state, OrderState::Unknown);
    let requests = f.srv.faults.requests();
    let err = f
        .engine
        .place_order("test", "w", &renew, Some("overlap-2"))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("settle it first"), "{err}");
    assert_eq!(f.srv.faults.requests(), requests, "nothing sent");
    assert!(f
        .engine
        .reads()
        .order_by_key("overlap-2")
        .await
        .unwrap()
        .is_none());
    let settled = f.engine.reconcile_order(lost.id).await.unwrap();
    assert_eq!(settled.state, OrderState::Failed);
    let o = f.place(&renew, Some("overlap-3")).await;
    assert_eq!(o.state, OrderState::Succeeded);
    // One renewal happened and one is booked.
    assert_eq!(
        Money::from_fen(spent_fen(&f.engine, "w").await - spent),
        balance - f.sim.balance()
    );
    assert_eq!(
        f.engine.reconcile_order(lost.id).await.unwrap().state,
        OrderState::Failed
    );
}

async fn a_pending_order_of_a_dead_process_is_failed_by_reconciliation(db: &TestDb) {
    let f = fixture(db).await;
    // What a process killed between writing its order and sending it leaves behind.
    let placed = db
        .store
        .create_order(&idcgate_store::NewOrder {
            idem_key: "dead-1".into(),
            account: "w".into(),
            kind: ResourceKind::Domain,
            operation: "register".into(),
            target: "journal-dead.com".into(),
            params: serde_json::json!({"months": 12, "options": {}, "before": null}),
            quoted_fen: 5500,
            actor: "test".into(),
        })
        .await
        .unwrap();
    let idcgate_store::Placed::New(dead) = placed else {
        panic!("a new key made no new order")
    };
    let err = f
        .engine
        .place_order("test", "w", &register("journal-dead.com"), Some("dead-2"))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("is still pending"), "{err}");
    // Not stale yet: a live process may still send it.
    assert!(f.engine.reconcile_orders(60_000).await.unwrap().is_empty());
    let done = f.engine.reconcile_orders(0).await.unwrap();
    assert_eq!(done.len(), 1);
    assert_eq!(done[0].id, dead.id);
    assert_eq!(done[0].state, OrderState::Failed);
    let finance = f.sim.finance_len();
    let o = f.place(&register("journal-dead.com"), Some("dead-2")).await;
    assert_eq!(o.state, OrderState::Succeeded);
    assert_eq!(
        f.sim.finance_len(),
        finance + 1,
        "bought once, by the live order"
    );
}
