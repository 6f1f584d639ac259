//! Renewal settings on SQLite and PostgreSQL: policy levels patched field by field,
//! floors set and removed, each notice recorded once also when racing, and an on-demand
//! job claim that respects another owner's lease.
#![allow(clippy::unwrap_used)] // a test may fail loudly

use idcgate_core::ResourceKind;
use idcgate_store::both_backends;
use idcgate_store::testing::{join_all, TestDb};
use idcgate_store::*;

both_backends!(
    policy_levels_are_patched_field_by_field,
    floors_are_set_replaced_and_removed,
    a_notice_is_recorded_once_even_when_racing,
    a_job_claimed_now_waits_for_another_owners_lease,
);

/// Patches a policy level at `at`.
async fn put(s: &SqlStore, scope: &PolicyScope, patch: PolicyPatch, at: i64) -> PolicyRow {
    s.put_renewal_policy(scope, &patch, at).await.unwrap()
}

/// A policy level's four settings, compared at once.
fn settings(row: &PolicyRow) -> (Option<bool>, Option<i64>, Option<i64>, Option<i64>) {
    (
        row.auto_renew,
        row.days_before,
        row.max_price_fen,
        row.months,
    )
}

async fn policy_levels_are_patched_field_by_field(f: &TestDb) {
    let s = &f.store;
    assert!(s.renewal_policies().await.unwrap().is_empty());
    let domains = PolicyScope::kind(ResourceKind::Domain);
    let row = put(
        s,
        &domains,
        PolicyPatch {
            auto_renew: Some(true),
            days_before: Some(20),
            max_price_fen: Some(Some(9900)),
            months: None,
        },
        1,
    )
    .await;
    assert_eq!(row.scope, domains);
    assert_eq!(settings(&row), (Some(true), Some(20), Some(9900), None));
    // A patch that names one field leaves the others as they were.
    let row = put(
        s,
        &domains,
        PolicyPatch {
            months: Some(24),
            ..Default::default()
        },
        2,
    )
    .await;
    assert_eq!(settings(&row), (Some(true), Some(20), Some(9900), Some(24)));
    assert_eq!(row.updated_ms, 2);
    // Clearing the cap is a value of its own, not "leave it".
    let row = put(
        s,
        &domains,
        PolicyPatch {
            max_price_fen: Some(None),
            ..Default::default()
        },
        3,
    )
    .await;
    assert_eq!(row.max_price_fen, None);
    assert_eq!(row.days_before, Some(20));
    // A resource's level is its own row; the kind's default is untouched.
    let one = PolicyScope::resource(ResourceKind::Domain, "w", "example.com");
    let own = put(
        s,
        &one,
        PolicyPatch {
            auto_renew: Some(false),
            ..Default::default()
        },
        4,
    )
    .await;
    assert_eq!(own.scope, one);
    assert_eq!(settings(&own), (Some(false), None, None, None));
    let all = s.renewal_policies().await.unwrap();
    assert_eq!(all.len(), 2);
    assert_eq!(all[0].scope, domains, "kind defaults first");
    assert_eq!(all[0].auto_renew, Some(true));
    assert_eq!(all[1], own);
}

async fn floors_are_set_replaced_and_removed(f: &TestDb) {
    let s = &f.store;
    s.set_renewal_floor("w", Some(100_000), 1).await.unwrap();
    s.set_renewal_floor("c", Some(0), 1).await.unwrap();
    s.set_renewal_floor("w", Some(50_000), 2).await.unwrap();
    assert_eq!(
        s.renewal_floors().await.unwrap(),
        vec![("c".to_string(), 0), ("w".to_string(), 50_000)]
    );
    s.set_renewal_floor("c", None, 3).await.unwrap();
    assert_eq!(
        s.renewal_floors().await.unwrap(),
        vec![("w".to_string(), 50_000)]
    );
}

fn notice(stage: &str, expires_ms: i64) -> RenewalNotice {
    RenewalNotice {
        account: "w".into(),
        kind: ResourceKind::Domain,
        key: "example.com".into(),
        expires_ms,
        stage: stage.into(),
        at_ms: 10,
        detail: "expires soon".into(),
    }
}

async fn a_notice_is_recorded_once_even_when_racing(f: &TestDb) {
    let s = &f.store;
    assert!(s.record_renewal_notice(&notice("30d", 1000)).await.unwrap());
    assert!(!s.record_renewal_notice(&notice("30d", 1000)).await.unwrap());
    // Another stage, or the same stage of the next expiry, is a new notice.
    assert!(s.record_renewal_notice(&notice("7d", 1000)).await.unwrap());
    assert!(s.record_renewal_notice(&notice("30d", 2000)).await.unwrap());
    // Eight instances giving one notice at once: exactly one records it.
    let n = notice("1d", 1000);
    let racing: Vec<_> = (0..8)
        .map(|_| Box::pin(s.record_renewal_notice(&n)))
        .collect();
    let recorded = join_all(racing)
        .await
        .into_iter()
        .filter(|r| *r.as_ref().unwrap())
        .count();
    assert_eq!(recorded, 1);
    let all = s.renewal_notices(Some("w"), 100).await.unwrap();
    assert_eq!(all.len(), 4);
    assert!(s
        .renewal_notices(Some("other"), 100)
        .await
        .unwrap()
        .is_empty());
}

async fn a_job_claimed_now_waits_for_another_owners_lease(f: &TestDb) {
    let s = &f.store;
    s.ensure_job("renewals", 0).await.unwrap();
    assert!(s.claim_job_now("renewals", "cli", 0, 1000).await.unwrap());
    // Held: neither another on-demand run nor the scheduler gets it.
    assert!(!s
        .claim_job_now("renewals", "other", 500, 1500)
        .await
        .unwrap());
    assert_eq!(s.claim_job("sched", 500, 1500).await.unwrap(), None);
    // Released and not due for a while: the scheduler leaves it, an on-demand run takes it.
    s.finish_job("renewals", "cli", 10_000, None).await.unwrap();
    assert_eq!(s.claim_job("sched", 600, 1600).await.unwrap(), None);
    assert!(s
        .claim_job_now("renewals", "other", 600, 1600)
        .await
        .unwrap());
    // A lease that ran out is free again, whoever held it.
    assert!(!s
        .claim_job_now("renewals", "third", 1599, 2000)
        .await
        .unwrap());
    assert!(s
        .claim_job_now("renewals", "third", 1601, 2000)
        .await
        .unwrap());
    assert!(!s.claim_job_now("missing", "cli", 0, 1000).await.unwrap());
}
