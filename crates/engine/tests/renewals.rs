//! Renewals against the real West simulator, on SQLite and PostgreSQL: the job renews a
//! domain inside its window once (also run twice, or by two instances at once), never
//! above the policy's maximum or below the account's floor, reminds once per stage,
//! leaves a lost answer to the reconciler, and a resource's policy beats its kind's.
#![allow(clippy::unwrap_used)] // a test may fail loudly

mod common;

use idcgate_core::{Money, OrderState, ResourceKind};
use idcgate_engine::jobs::{run_due_job, Schedule, RENEW_JOB};
use idcgate_engine::renewals::{Decision, Level, DAY_MS, JOB_ACTOR};
use idcgate_engine::sync::NoProgress;
use idcgate_engine::{now_ms, Engine};
#[allow(unused_imports)]
// the store's traits, for what a test seeds or reads behind the engine
use idcgate_store::prelude::*;
use idcgate_store::testing::TestDb;
use idcgate_store::{both_backends, OrderFilter, OrderRow, PolicyPatch, PolicyScope};
use idcgate_wire::sim::SimServer;
use std::sync::Arc;

both_backends!(
    the_job_renews_a_domain_in_its_window_once_even_run_twice_or_concurrently,
    the_job_never_takes_an_account_below_its_floor,
    the_job_never_pays_above_the_maximum_price,
    reminders_are_given_once_per_stage,
    a_lost_renewal_is_settled_by_the_reconciler_and_not_renewed_again,
    a_resources_policy_beats_its_kinds_default,
    the_scheduler_runs_renewals_as_a_leased_job,
);

/// The sandbox domain that expires soonest (registered 350 days ago for a year).
const SOON: &str = "mybrand.net";
/// One that expires about 65 days from now.
const LATER: &str = "idcgate-demo.com";

struct Fixture {
    engine: Arc<Engine>,
    sim: idcgate_west::Sim,
    srv: SimServer,
}

/// Another engine (another instance) on the same database.
async fn engine_on(db: &TestDb) -> Arc<Engine> {
    common::engine_on(db, vec![common::west()]).await
}

/// Account `w` on a fresh West sandbox, synced into the inventory.
async fn fixture(db: &TestDb) -> Fixture {
    let engine = engine_on(db).await;
    let sim = idcgate_west::Sim::sandbox();
    let srv = common::add_sandbox(&engine, "w", &sim).await;
    engine
        .sync_account("w", Arc::new(NoProgress))
        .await
        .unwrap();
    Fixture { engine, sim, srv }
}

impl Fixture {
    /// The inventory's expiry of a domain.
    async fn expiry(&self, name: &str) -> i64 {
        self.engine
            .reads()
            .resource("w", ResourceKind::Domain, name)
            .await
            .unwrap()
            .unwrap()
            .expires_at_ms
            .unwrap()
    }

    async fn set(&self, scope: PolicyScope, patch: PolicyPatch) {
        self.engine
            .set_renewal_policy("test", &scope, &patch)
            .await
            .unwrap();
    }

    /// Auto-renew on for one domain, 30 days before expiry.
    async fn auto(&self, name: &str) {
        self.set(
            PolicyScope::resource(ResourceKind::Domain, "w", name),
            PolicyPatch {
                auto_renew: Some(true),
                days_before: Some(30),
                ..Default::default()
            },
        )
        .await;
    }

    async fn renewals(&self) -> Vec<OrderRow> {
        self.engine
            .reads()
            .orders(&OrderFilter::default())
            .await
            .unwrap()
            .into_iter()
            .filter(|o| o.order.operation == "renew")
            .collect()
    }

    async fn audits(&self, action: &str, name: &str) -> Vec<idcgate_store::AuditEntry> {
        self.engine
            .audit_trail(1000)
            .await
            .unwrap()
            .into_iter()
            .filter(|a| a.action == action && a.target == format!("w/{name}"))
            .collect()
    }

    async fn price(&self, name: &str) -> Money {
        let p = idcgate_core::purchase::PurchaseRequest::new(
            ResourceKind::Domain,
            idcgate_core::purchase::Operation::Renew,
            name,
        );
        self.engine.quote("w", &p).await.unwrap().price
    }
}

async fn the_job_renews_a_domain_in_its_window_once_even_run_twice_or_concurrently(db: &TestDb) {
    let f = fixture(db).await;
    f.auto(SOON).await;
    let expiry = f.expiry(SOON).await;
    let price = f.price(SOON).await;
    let (balance, finance) = (f.sim.balance(), f.sim.finance_len());
    // Two instances on one database run the job at the same moment.
    let other = engine_on(db).await;
    let now = now_ms();
    let (a, b) = tokio::join!(
        f.engine.run_renewals(JOB_ACTOR, now),
        other.run_renewals(JOB_ACTOR, now)
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    assert!(a.errors.is_empty() && b.errors.is_empty(), "{a:?} {b:?}");
    assert_eq!(f.sim.finance_len(), finance + 1, "one renewal upstream");
    assert_eq!(f.sim.balance(), balance - price);
    let orders = f.renewals().await;
    assert_eq!(orders.len(), 1, "{orders:?}");
    let o = &orders[0];
    assert_eq!(o.state, OrderState::Succeeded);
    assert_eq!(o.order.target, SOON);
    assert_eq!(o.order.actor, JOB_ACTOR);
    assert_eq!(o.order.idem_key, format!("renew:w:domain:{SOON}:{expiry}"));
    // Run again, before any sync: the inventory still shows the old expiry, but the
    // upstream's is a year on, so nothing is due and nothing is bought.
    let requests = f.srv.faults.requests();
    let again = f.engine.run_renewals(JOB_ACTOR, now_ms()).await.unwrap();
    assert!(again.items.is_empty(), "{again:?}");
    assert_eq!(f.sim.finance_len(), finance + 1);
    assert!(f.srv.faults.requests() > requests, "it read the upstream");
    // After a sync the new expiry is outside the window.
    f.engine
        .sync_account("w", Arc::new(NoProgress))
        .await
        .unwrap();
    assert!(f.expiry(SOON).await > expiry + 300 * DAY_MS);
    let after = f.engine.run_renewals(JOB_ACTOR, now_ms()).await.unwrap();
    assert!(after.items.is_empty(), "{after:?}");
    assert_eq!(f.renewals().await.len(), 1);
    // A domain whose window is not open was left alone all along.
    assert!(f.renewals().await.iter().all(|o| o.order.target != LATER));
}

async fn the_job_never_takes_an_account_below_its_floor(db: &TestDb) {
    let f = fixture(db).await;
    f.auto(SOON).await;
    let price = f.price(SOON).await;
    let finance = f.sim.finance_len();
    // One fen short: the renewal would leave the account a fen below the floor.
    let floor = f.sim.balance() - price + Money::from_fen(1);
    f.engine
        .set_renewal_floor("test", "w", Some(floor))
        .await
        .unwrap();
    for _ in 0..2 {
        let run = f.engine.run_renewals(JOB_ACTOR, now_ms()).await.unwrap();
        let item = run.items.iter().find(|i| i.name == SOON).unwrap();
        assert_eq!(item.decision, Decision::BelowFloor, "{item:?}");
        assert!(item.order.is_none());
    }
    assert_eq!(f.sim.finance_len(), finance, "nothing bought");
    assert!(f.renewals().await.is_empty(), "no order written");
    let skipped = f.audits("renewal.skipped", SOON).await;
    assert_eq!(skipped.len(), 1, "audited once per reason: {skipped:?}");
    assert!(skipped[0].detail.contains("below the floor"), "{skipped:?}");
    assert_eq!(skipped[0].outcome, "skipped");
    // The plan says the same before anything runs.
    let plan = f.engine.renewal_plan(now_ms(), 30 * DAY_MS).await.unwrap();
    let planned = plan.items.iter().find(|i| i.name == SOON).unwrap();
    assert_eq!(planned.decision, Decision::BelowFloor);
    // Landing exactly on the floor is allowed.
    f.engine
        .set_renewal_floor("test", "w", Some(floor - Money::from_fen(1)))
        .await
        .unwrap();
    let run = f.engine.run_renewals(JOB_ACTOR, now_ms()).await.unwrap();
    let item = run.items.iter().find(|i| i.name == SOON).unwrap();
    assert_eq!(
        item.order.as_ref().map(|o| o.state),
        Some(OrderState::Succeeded)
    );
    assert_eq!(f.sim.balance(), floor - Money::from_fen(1));
    let floors = f.engine.renewal_floors().await.unwrap();
    assert_eq!(floors.get("w"), Some(&(floor - Money::from_fen(1))));
}

async fn the_job_never_pays_above_the_maximum_price(db: &TestDb) {
    let f = fixture(db).await;
    f.auto(SOON).await;
    let price = f.price(SOON).await;
    let finance = f.sim.finance_len();
    let cap = |m: Money| PolicyPatch {
        max_price_fen: Some(Some(m.to_fen().unwrap())),
        ..Default::default()
    };
    f.set(
        PolicyScope::resource(ResourceKind::Domain, "w", SOON),
        cap(price - Money::from_fen(1)),
    )
    .await;
    for _ in 0..2 {
        let run = f.engine.run_renewals(JOB_ACTOR, now_ms()).await.unwrap();
        let item = run.items.iter().find(|i| i.name == SOON).unwrap();
        assert_eq!(item.decision, Decision::OverMaxPrice, "{item:?}");
    }
    assert_eq!(f.sim.finance_len(), finance);
    assert!(f.renewals().await.is_empty());
    let skipped = f.audits("renewal.skipped", SOON).await;
    assert_eq!(skipped.len(), 1, "{skipped:?}");
    assert!(
        skipped[0].detail.contains("above the maximum"),
        "{skipped:?}"
    );
    // A cap of exactly the price renews.
    f.set(
        PolicyScope::resource(ResourceKind::Domain, "w", SOON),
        cap(price),
    )
    .await;
    f.engine.run_renewals(JOB_ACTOR, now_ms()).await.unwrap();
    let orders = f.renewals().await;
    assert_eq!(orders.len(), 1);
    assert_eq!(orders[0].charged_fen, Some(price.to_fen().unwrap()));
    assert_eq!(f.sim.finance_len(), finance + 1);
}

async fn reminders_are_given_once_per_stage(db: &TestDb) {
    let f = fixture(db).await;
    let expiry = f.expiry(SOON).await;
    let stages = |run: &idcgate_engine::renewals::RenewalRun| -> Vec<String> {
        run.reminders
            .iter()
            .filter(|r| r.name == SOON)
            .map(|r| r.stage.clone())
            .collect()
    };
    // (time before expiry, the stage that run gives)
    let steps: [(i64, &[&str]); 7] = [
        (40 * DAY_MS, &[]),
        (20 * DAY_MS, &["30d"]),
        (19 * DAY_MS, &[]),
        (5 * DAY_MS, &["7d"]),
        (5 * DAY_MS, &[]),
        (12 * 3_600_000, &["1d"]),
        (6 * 3_600_000, &[]),
    ];
    for (before, expected) in steps {
        let run = f
            .engine
            .run_renewals(JOB_ACTOR, expiry - before)
            .await
            .unwrap();
        assert_eq!(stages(&run), expected, "{before} ms before expiry");
    }
    // Past expiry there is nothing left to remind of.
    let run = f
        .engine
        .run_renewals(JOB_ACTOR, expiry + DAY_MS)
        .await
        .unwrap();
    assert!(stages(&run).is_empty());
    let audited = f.audits("renewal.reminder", SOON).await;
    assert_eq!(audited.len(), 3, "{audited:?}");
    assert!(
        audited
            .iter()
            .all(|a| a.detail.contains("auto-renew is off")),
        "{audited:?}"
    );
    assert!(
        f.renewals().await.is_empty(),
        "auto-renew is off: nothing bought"
    );
    let notices = db.store.renewal_notices(Some("w"), 100).await.unwrap();
    assert_eq!(
        notices.iter().filter(|n| n.key == SOON).count(),
        3,
        "{notices:?}"
    );
}

async fn a_lost_renewal_is_settled_by_the_reconciler_and_not_renewed_again(db: &TestDb) {
    let f = fixture(db).await;
    f.auto(SOON).await;
    let balance = f.sim.balance();
    let finance = f.sim.finance_len();
    // Refused before anything changed, but the answer is an error the job cannot read:
    // the order's outcome is unknown.
    f.srv.faults.update(|c| {
        c.next_only_matching = "act=renewdomain".into();
        c.error_next = 1;
    });
    let run = f.engine.run_renewals(JOB_ACTOR, now_ms()).await.unwrap();
    let first = run.items[0].order.clone().unwrap();
    assert_eq!(first.state, OrderState::Unknown, "{run:?}");
    // The next runs see the unknown order for this expiry and send nothing.
    for _ in 0..2 {
        let run = f.engine.run_renewals(JOB_ACTOR, now_ms()).await.unwrap();
        let item = run.items.iter().find(|i| i.name == SOON).unwrap();
        assert_eq!(item.decision, Decision::Ordered);
        assert_eq!(item.order.as_ref().unwrap().id, first.id);
    }
    assert_eq!(f.sim.finance_len(), finance);
    // The reconciler reads the expiry: it did not move, so the order failed...
    let settled = f.engine.reconcile_order(first.id).await.unwrap();
    assert_eq!(settled.state, OrderState::Failed);
    // ...and only then may the job try again, under the next key.
    let run = f.engine.run_renewals(JOB_ACTOR, now_ms()).await.unwrap();
    let second = run.items[0].order.clone().unwrap();
    assert_eq!(second.state, OrderState::Succeeded, "{run:?}");
    assert_eq!(second.order.idem_key, format!("{}#2", first.order.idem_key));
    assert_eq!(f.sim.finance_len(), finance + 1);

    // Committed upstream, answer lost: unknown, and the next run renews nothing.
    f.auto(LATER).await;
    f.set(
        PolicyScope::resource(ResourceKind::Domain, "w", LATER),
        PolicyPatch {
            days_before: Some(90),
            ..Default::default()
        },
    )
    .await;
    f.srv.faults.update(|c| {
        c.next_only_matching = "act=renewdomain".into();
        c.drop_next = 1;
    });
    let run = f.engine.run_renewals(JOB_ACTOR, now_ms()).await.unwrap();
    let lost = run
        .items
        .iter()
        .find(|i| i.name == LATER)
        .and_then(|i| i.order.clone())
        .unwrap();
    assert_eq!(lost.state, OrderState::Unknown);
    assert_eq!(f.sim.finance_len(), finance + 2, "it happened upstream");
    let run = f.engine.run_renewals(JOB_ACTOR, now_ms()).await.unwrap();
    assert!(run.items.iter().all(|i| i.name != LATER), "{run:?}");
    assert_eq!(f.sim.finance_len(), finance + 2, "not renewed again");
    let resolved = f.engine.reconcile_orders(60_000).await.unwrap();
    assert_eq!(resolved.len(), 1);
    assert_eq!(resolved[0].state, OrderState::Succeeded);
    // Every fen the simulator lost is booked, once.
    let booked: i64 = f
        .renewals()
        .await
        .iter()
        .filter(|o| o.state == OrderState::Succeeded)
        .map(|o| o.charged_fen.unwrap())
        .sum();
    assert_eq!(Money::from_fen(booked), balance - f.sim.balance());
}

async fn a_resources_policy_beats_its_kinds_default(db: &TestDb) {
    let f = fixture(db).await;
    // Domains: auto-renew on, but only on the day of expiry.
    f.set(
        PolicyScope::kind(ResourceKind::Domain),
        PolicyPatch {
            auto_renew: Some(true),
            days_before: Some(0),
            months: Some(24),
            ..Default::default()
        },
    )
    .await;
    // This one: a month ahead, for one year.
    f.set(
        PolicyScope::resource(ResourceKind::Domain, "w", SOON),
        PolicyPatch {
            days_before: Some(30),
            months: Some(12),
            ..Default::default()
        },
    )
    .await;
    // This one: never automatically.
    f.set(
        PolicyScope::resource(ResourceKind::Domain, "w", LATER),
        PolicyPatch {
            auto_renew: Some(false),
            ..Default::default()
        },
    )
    .await;
    let policies = f.engine.renewal_policies().await.unwrap();
    let soon = policies.of(ResourceKind::Domain, "w", SOON);
    assert!(soon.auto_renew);
    assert_eq!((soon.days_before, soon.months), (30, 12));
    assert_eq!(soon.from.auto_renew, Level::Kind);
    assert_eq!(soon.from.days_before, Level::Resource);
    assert_eq!(soon.from.max_price, Level::BuiltIn);
    assert!(!policies.of(ResourceKind::Domain, "w", LATER).auto_renew);
    let other = policies.of(ResourceKind::Domain, "w", "startup.xyz");
    assert_eq!(
        (other.auto_renew, other.days_before, other.months),
        (true, 0, 24)
    );

    let plan = f.engine.renewal_plan(now_ms(), 400 * DAY_MS).await.unwrap();
    let decision = |name: &str| {
        plan.items
            .iter()
            .find(|i| i.name == name)
            .map(|i| (i.decision, i.months))
            .unwrap()
    };
    assert_eq!(decision(SOON), (Decision::Due, 12));
    assert_eq!(decision(LATER), (Decision::Manual, 24));
    assert_eq!(decision("startup.xyz"), (Decision::Later, 24));
    // Totals per account: everything priced, and what the policies would spend.
    let w = plan.totals.iter().find(|t| t.account == "w").unwrap();
    let priced = |pred: &dyn Fn(&Decision) -> bool| {
        plan.items
            .iter()
            .filter(|i| i.account == "w" && pred(&i.decision))
            .filter_map(|i| i.price)
            .fold(Money::ZERO, |a, b| a + b)
    };
    assert_eq!(w.total, priced(&|_| true));
    assert_eq!(
        w.auto_total,
        priced(&|d| matches!(d, Decision::Due | Decision::Later))
    );
    assert!(w.auto_total < w.total, "{plan:?}");
    assert_eq!(w.balance, Some(f.sim.balance()));

    let run = f.engine.run_renewals(JOB_ACTOR, now_ms()).await.unwrap();
    let orders = f.renewals().await;
    assert_eq!(orders.len(), 1, "{run:?}");
    assert_eq!(orders[0].order.target, SOON);
    assert_eq!(orders[0].order.params["months"], 12);
    // A policy for something not in the inventory is refused.
    let refused = f
        .engine
        .set_renewal_policy(
            "test",
            &PolicyScope::resource(ResourceKind::Domain, "w", "not-ours.com"),
            &PolicyPatch::default(),
        )
        .await;
    assert!(refused.is_err());
    let refused = f
        .engine
        .set_renewal_policy(
            "test",
            &PolicyScope::kind(ResourceKind::Domain),
            &PolicyPatch {
                months: Some(18),
                ..Default::default()
            },
        )
        .await;
    assert!(refused.is_err(), "domains renew by whole years");
}

async fn the_scheduler_runs_renewals_as_a_leased_job(db: &TestDb) {
    let f = fixture(db).await;
    f.auto(SOON).await;
    let schedule = Schedule::default();
    let mut ran = Vec::new();
    for _ in 0..5 {
        if let Some(job) = run_due_job(&f.engine, "instance-a", &schedule)
            .await
            .unwrap()
        {
            ran.push(job);
        }
    }
    assert!(ran.iter().any(|j| j == RENEW_JOB), "{ran:?}");
    let orders = f.renewals().await;
    assert_eq!(orders.len(), 1);
    assert_eq!(orders[0].state, OrderState::Succeeded);
    // Run on demand while another instance holds the lease: refused, nothing run.
    let other = engine_on(db).await;
    let now = now_ms();
    assert!(db
        .store
        .claim_job_now(RENEW_JOB, "instance-b", now, now + 60_000)
        .await
        .unwrap());
    let refused = other
        .run_renewals_now("test", "instance-c", &schedule)
        .await
        .unwrap();
    assert!(refused.is_none());
    db.store
        .finish_job(RENEW_JOB, "instance-b", now + 600_000, None)
        .await
        .unwrap();
    let done = other
        .run_renewals_now("test", "instance-c", &schedule)
        .await
        .unwrap();
    assert!(done.is_some());
    assert_eq!(f.renewals().await.len(), 1, "still one renewal");
}

#[test]
fn renewal_keys_are_stable_and_fit_the_journal() {
    use idcgate_engine::renewals::renewal_key;
    let k = renewal_key("w", ResourceKind::Domain, "a.com", 1000, 1);
    assert_eq!(k, "renew:w:domain:a.com:1000");
    assert_eq!(
        renewal_key("w", ResourceKind::Domain, "a.com", 1000, 2),
        "renew:w:domain:a.com:1000#2"
    );
    // Names near the 253-character limit: within the journal's 200, still distinct.
    let long_a = format!("{}.com", "a".repeat(240));
    let long_b = format!("{}.com", "a".repeat(239));
    let ka = renewal_key("w", ResourceKind::Domain, &long_a, 1000, 1);
    let kb = renewal_key("w", ResourceKind::Domain, &long_b, 1000, 1);
    assert!(ka.len() <= 200 && kb.len() <= 200, "{ka} {kb}");
    assert_ne!(ka, kb);
    assert_eq!(ka, renewal_key("w", ResourceKind::Domain, &long_a, 1000, 1));
    assert_ne!(ka, renewal_key("w", ResourceKind::Domain, &long_a, 1000, 2));
}
