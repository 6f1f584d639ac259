//! Notification memory on SQLite and PostgreSQL: an event raised once per key also when
//! two stores race, deliveries claimed once, retried when due and logged per attempt
//! (append-only), watches that move once and raise their event with them, and failure
//! streaks of an audited action counted since its last success.
#![allow(clippy::unwrap_used)] // a test may fail loudly

use idcgate_store::both_backends;
use idcgate_store::testing::{join_all, TestDb};
use idcgate_store::*;

both_backends!(
    an_event_is_raised_once_per_key_also_when_racing,
    deliveries_are_claimed_once_retried_when_due_and_logged,
    a_watch_moves_once_and_raises_its_event_with_it,
    failure_streaks_count_since_the_last_success,
);

fn event(key: &str, at_ms: i64) -> NewEvent {
    NewEvent {
        key: key.into(),
        kind: "expiring".into(),
        subject: format!("subject of {key}"),
        text: "text".into(),
        data: serde_json::json!({"key": key}),
        at_ms,
    }
}

/// Asserts that `owner` claims nothing at `now_ms` (for a lease until `until_ms`).
async fn claims_nothing(s: &SqlStore, owner: &str, now_ms: i64, until_ms: i64) {
    let claimed = s
        .claim_deliveries(owner, now_ms, until_ms, 10)
        .await
        .unwrap();
    assert!(
        claimed.is_empty(),
        "{owner} claimed at {now_ms}: {claimed:?}"
    );
}

fn channels() -> Vec<String> {
    vec!["mail".into(), "hook".into()]
}

async fn an_event_is_raised_once_per_key_also_when_racing(db: &TestDb) {
    let other = db.reopen().await;
    let e = event("expiry:a:domain:x.cn:1000:7d", 10);
    let ch = channels();
    let raised = join_all(vec![
        db.store.raise_event(&e, &ch, None),
        other.raise_event(&e, &ch, None),
    ])
    .await;
    let ids: Vec<i64> = raised.into_iter().filter_map(|r| r.unwrap()).collect();
    assert_eq!(ids.len(), 1, "exactly one of two racing raises wins");
    let deliveries = db.store.deliveries_of(ids[0]).await.unwrap();
    assert_eq!(
        deliveries
            .iter()
            .map(|d| d.channel.as_str())
            .collect::<Vec<_>>(),
        ["mail", "hook"]
    );
    assert!(deliveries
        .iter()
        .all(|d| d.state == DeliveryState::Pending && d.attempts == 0 && d.event.event == e));
    // Raised again later (a restart, another scan): nothing new.
    assert_eq!(db.store.raise_event(&e, &ch, None).await.unwrap(), None);
    assert_eq!(db.store.events(10).await.unwrap().len(), 1);
}

async fn deliveries_are_claimed_once_retried_when_due_and_logged(db: &TestDb) {
    let other = db.reopen().await;
    let s = &db.store;
    let id = s
        .raise_event(&event("k1", 1_000), &channels(), None)
        .await
        .unwrap()
        .unwrap();
    // Not due before the event.
    claims_nothing(s, "a", 999, 5_000).await;
    let claims = join_all(vec![
        s.claim_deliveries("a", 1_000, 5_000, 10),
        other.claim_deliveries("b", 1_000, 5_000, 10),
    ])
    .await;
    let mut got: Vec<(String, i64)> = Vec::new();
    for (owner, c) in ["a", "b"].iter().zip(claims) {
        for d in c.unwrap() {
            got.push((owner.to_string(), d.id));
        }
    }
    assert_eq!(got.len(), 2, "each delivery claimed by one owner: {got:?}");
    let mut ids: Vec<i64> = got.iter().map(|(_, id)| *id).collect();
    ids.dedup();
    assert_eq!(ids.len(), 2);
    // Claimed: nobody else gets them while the lease holds.
    claims_nothing(s, "c", 4_000, 9_000).await;
    let (mail, hook) = {
        let ds = s.deliveries_of(id).await.unwrap();
        (ds[0].id, ds[1].id)
    };
    let owner_of = |d: i64| got.iter().find(|(_, id)| *id == d).unwrap().0.clone();
    s.record_attempt(mail, &owner_of(mail), 1_100, "250 queued", AttemptEnd::Sent)
        .await
        .unwrap();
    s.record_attempt(
        hook,
        &owner_of(hook),
        1_100,
        "HTTP 503",
        AttemptEnd::RetryAt(2_000),
    )
    .await
    .unwrap();
    // The retry waits for its time, then is claimable (the lease was given back).
    claims_nothing(s, "c", 1_999, 9_000).await;
    let again = s.claim_deliveries("c", 2_000, 9_000, 10).await.unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!((again[0].id, again[0].attempts), (hook, 1));
    s.record_attempt(hook, "c", 2_100, "HTTP 503", AttemptEnd::GiveUp)
        .await
        .unwrap();
    let ds = s.deliveries_of(id).await.unwrap();
    assert_eq!(
        ds.iter().map(|d| (d.state, d.attempts)).collect::<Vec<_>>(),
        [(DeliveryState::Sent, 1), (DeliveryState::Failed, 2)]
    );
    assert_eq!(s.delivery_counts().await.unwrap(), (0, 1, 1));
    let log = s.delivery_log(10).await.unwrap();
    assert_eq!(
        log.iter()
            .map(|a| (
                a.channel.as_str(),
                a.attempt,
                a.outcome.as_str(),
                a.detail.as_str()
            ))
            .collect::<Vec<_>>(),
        [
            ("hook", 2, "error", "HTTP 503"),
            ("hook", 1, "error", "HTTP 503"),
            ("mail", 1, "ok", "250 queued"),
        ]
    );
    assert!(log
        .iter()
        .all(|a| a.event_id == id && a.subject == "subject of k1"));
    // Nothing is pending any more, and the log cannot be rewritten.
    claims_nothing(s, "c", 99_000, 99_999).await;
    db.assert_refused(&[
        "UPDATE notify_attempts SET detail = 'x'",
        "DELETE FROM notify_attempts",
    ])
    .await;

    // A claim whose owner died runs out; deliveries raised claimed go to their owner only.
    let id2 = s
        .raise_event(
            &event("k2", 10_000),
            &["mail".to_string()],
            Some(("tester", 20_000)),
        )
        .await
        .unwrap()
        .unwrap();
    claims_nothing(s, "c", 15_000, 30_000).await;
    let late = s.claim_deliveries("c", 20_001, 30_000, 10).await.unwrap();
    assert_eq!(late[0].event.id, id2);
    // The dead owner's late attempt is logged but does not move the new owner's claim.
    s.record_attempt(late[0].id, "tester", 20_002, "250 late", AttemptEnd::Sent)
        .await
        .unwrap();
    assert_eq!(
        s.deliveries_of(id2).await.unwrap()[0].state,
        DeliveryState::Pending
    );
    s.record_attempt(late[0].id, "c", 20_003, "250 ok", AttemptEnd::Sent)
        .await
        .unwrap();
    assert_eq!(
        s.deliveries_of(id2).await.unwrap()[0].state,
        DeliveryState::Sent
    );
}

async fn a_watch_moves_once_and_raises_its_event_with_it(db: &TestDb) {
    let other = db.reopen().await;
    let s = &db.store;
    assert_eq!(s.watch("price:p").await.unwrap(), None);
    assert!(s
        .swap_watch("price:p", None, "10000", 1, None, &[])
        .await
        .unwrap());
    assert!(!s
        .swap_watch("price:p", None, "1", 1, None, &[])
        .await
        .unwrap());
    assert_eq!(s.watch("price:p").await.unwrap().as_deref(), Some("10000"));
    let e = event("price:p:10000->12000", 2);
    let ch = channels();
    let swaps = join_all(vec![
        s.swap_watch("price:p", Some("10000"), "12000", 2, Some(&e), &ch),
        other.swap_watch("price:p", Some("10000"), "12000", 2, Some(&e), &ch),
    ])
    .await;
    assert_eq!(
        swaps.into_iter().filter(|r| *r.as_ref().unwrap()).count(),
        1
    );
    assert_eq!(s.watch("price:p").await.unwrap().as_deref(), Some("12000"));
    let events = s.events(10).await.unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(s.deliveries_of(events[0].id).await.unwrap().len(), 2);
    // A stale expectation changes nothing and raises nothing.
    let e2 = event("price:p:10000->9000", 3);
    assert!(!s
        .swap_watch("price:p", Some("10000"), "9000", 3, Some(&e2), &ch)
        .await
        .unwrap());
    assert_eq!(s.events(10).await.unwrap().len(), 1);
}

async fn failure_streaks_count_since_the_last_success(db: &TestDb) {
    let s = &db.store;
    let audit = |target: &str, outcome: &str, detail: &str| AuditEntry {
        id: 0,
        at_ms: 1,
        actor: "scheduler:x".into(),
        action: "sync".into(),
        target: target.into(),
        outcome: outcome.into(),
        detail: detail.into(),
        intent_id: None,
    };
    assert_eq!(s.failure_streak("sync", "a").await.unwrap(), None);
    s.append_audit(&audit("a", "ok", "+1")).await.unwrap();
    assert_eq!(s.failure_streak("sync", "a").await.unwrap(), None);
    let first = s.append_audit(&audit("a", "error", "one")).await.unwrap();
    s.append_audit(&audit("b", "ok", "other account"))
        .await
        .unwrap();
    s.append_audit(&audit("a", "transport", "two"))
        .await
        .unwrap();
    let streak = s.failure_streak("sync", "a").await.unwrap().unwrap();
    assert_eq!((streak.failures, streak.first_id), (2, first));
    assert_eq!(streak.last.detail, "two");
    s.append_audit(&audit("a", "ok", "+0")).await.unwrap();
    assert_eq!(s.failure_streak("sync", "a").await.unwrap(), None);
    // A streak that never saw a success counts from the first entry.
    s.append_audit(&audit("c", "error", "x")).await.unwrap();
    assert_eq!(
        s.failure_streak("sync", "c")
            .await
            .unwrap()
            .unwrap()
            .failures,
        1
    );
}
