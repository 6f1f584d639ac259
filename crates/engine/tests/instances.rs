//! Several instances on one database (issue 12, items 15 and 16): an account's upstream
//! rate limit holds for all of them together, and scheduled jobs spread between them.
#![allow(clippy::unwrap_used)] // a test may fail loudly

mod common;

use common::{engine_on, west};
use idcgate_core::UpstreamAccount;
use idcgate_engine::jobs::{run_due_job, Schedule};
use idcgate_store::both_backends;
use idcgate_store::testing::TestDb;
use std::sync::Arc;
use std::time::{Duration, Instant};

both_backends!(
    two_instances_hold_one_rate_limit_per_account,
    jobs_spread_between_instances,
);

async fn two_instances_hold_one_rate_limit_per_account(db: &TestDb) {
    // Two engines with their own connection pools on one database, as two `serve`
    // processes would be, both calling one West account limited to 5 requests/s.
    let first = engine_on(db, vec![west()]).await;
    let second = engine_on(db, vec![west()]).await;
    let sim = idcgate_west::Sim::sandbox();
    let srv = idcgate_wire::testing::serve(&sim).await;
    let per_sec = 5;
    first
        .put_sandbox_account(&UpstreamAccount {
            name: "w".into(),
            rate_limit_per_sec: per_sec,
            ..idcgate_wire::testing::sandbox_account(&sim, &srv)
        })
        .await
        .unwrap();
    let before = srv.faults.requests();
    let start = Instant::now();
    let hammer_for = Duration::from_secs(2);
    let mut callers = Vec::new();
    for engine in [&first, &second] {
        let conn = engine.connection("w").await.unwrap();
        for _ in 0..4 {
            let conn = conn.clone();
            callers.push(tokio::spawn(async move {
                while start.elapsed() < hammer_for {
                    conn.billing().unwrap().balance().await.unwrap();
                }
            }));
        }
    }
    for c in callers {
        c.await.unwrap();
    }
    let sent = srv.faults.requests() - before;
    let took = start.elapsed().as_secs_f64();
    // One burst of `per_sec`, then `per_sec` a second, for both instances together (one
    // slot of slack for a reservation taken just as the last one ended). Each alone
    // would allow that much: the two would send twice as many.
    let allowed = f64::from(per_sec) * (took + 1.0) + 1.0;
    eprintln!("{sent} requests in {took:.2} s at {per_sec}/s, at most {allowed:.0} allowed");
    assert!(
        (sent as f64) <= allowed,
        "{sent} requests in {took:.2} s from two instances at {per_sec}/s (at most {allowed:.0})"
    );
    assert!(sent >= u64::from(per_sec), "{sent}: the burst went through");
}

async fn jobs_spread_between_instances(db: &TestDb) {
    let a = engine_on(db, vec![]).await;
    let b = engine_on(db, vec![]).await;
    // Every job is due again as soon as it ran.
    let schedule = Schedule {
        sync_every: Duration::ZERO,
        expiry_every: Duration::ZERO,
        reconcile_every: Duration::ZERO,
        renew_every: Duration::ZERO,
        ..Schedule::default()
    };
    let run = |e: &Arc<idcgate_engine::Engine>, owner: &'static str| {
        let (e, s) = (e.clone(), schedule.clone());
        async move { run_due_job(&e, owner, &s).await.unwrap() }
    };
    // The two start and take turns: each job has run once, two by each instance.
    let mut ran_by_b = Vec::new();
    for _ in 0..2 {
        assert!(run(&a, "a").await.is_some());
        ran_by_b.push(run(&b, "b").await.unwrap());
    }
    // Now `a` asks first every time: it takes the jobs `b` ran last and leaves its own
    // to `b`, which is polling too, instead of running everything again itself.
    let mut streak = Vec::new();
    while let Some(job) = run(&a, "a").await {
        streak.push(job);
        assert!(streak.len() <= 4, "a took every job: {streak:?}");
    }
    streak.sort();
    ran_by_b.sort();
    assert_eq!(
        streak, ran_by_b,
        "a ran only the jobs b ran last, then left the rest"
    );
    assert!(run(&b, "b").await.is_some(), "b takes what a left");
    // An instance alone (the other shut down and said so) runs its jobs on time.
    b.release_jobs("b").await.unwrap();
    assert!(
        run(&a, "a").await.is_some(),
        "alone, a runs a job it ran last"
    );
}
