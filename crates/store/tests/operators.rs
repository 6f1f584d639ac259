//! The console's operators and sessions, on SQLite and PostgreSQL: sessions looked up
//! by digest and ended by idle and absolute timeouts, a lockout counted in the
//! database (also under concurrent failures), a TOTP secret sealed at rest, recovery
//! codes usable once (also when raced), a password change ending every session.
#![allow(clippy::unwrap_used)] // a test may fail loudly

use idcgate_store::both_backends;
use idcgate_store::testing::{join_all, TestDb};
use idcgate_store::*;

both_backends!(
    operators_are_added_once_and_changed_by_name,
    sessions_end_when_idle_or_old_and_on_password_change,
    failed_logins_lock_out_after_the_limit_even_when_concurrent,
    a_totp_secret_is_sealed_and_recovery_codes_work_once,
);

const NOW: i64 = 1_780_000_000_000;
const MIN: i64 = 60_000;

async fn operators_are_added_once_and_changed_by_name(f: &TestDb) {
    let s = &f.store;
    let o = s
        .add_operator("ann", Role::Admin, "$hash$", NOW)
        .await
        .unwrap();
    assert_eq!(
        (o.name.as_str(), o.role, o.totp_enabled),
        ("ann", Role::Admin, false)
    );
    assert!(!format!("{o:?}").contains("$hash$"), "{o:?}");
    assert!(matches!(
        s.add_operator("ann", Role::Viewer, "x", NOW).await,
        Err(StoreError::Conflict(_))
    ));
    s.add_operator("bob", Role::Viewer, "h", NOW).await.unwrap();
    assert!(s
        .set_operator_role("bob", Role::Finance, NOW + 1)
        .await
        .unwrap());
    assert!(!s
        .set_operator_role("nobody", Role::Finance, NOW)
        .await
        .unwrap());
    let names: Vec<_> = s
        .list_operators()
        .await
        .unwrap()
        .into_iter()
        .map(|o| (o.name, o.role))
        .collect();
    assert_eq!(
        names,
        vec![("ann".into(), Role::Admin), ("bob".into(), Role::Finance)]
    );
    assert!(s.remove_operator("bob").await.unwrap());
    assert!(!s.remove_operator("bob").await.unwrap());
    assert!(s.get_operator("bob").await.unwrap().is_none());
}

async fn sessions_end_when_idle_or_old_and_on_password_change(f: &TestDb) {
    let s = &f.store;
    s.add_operator("ann", Role::Operator, "h1", NOW)
        .await
        .unwrap();
    let id = digest("cookie-1");
    s.create_session(&id, "ann", "csrf-1", SessionStage::Full, NOW)
        .await
        .unwrap();
    let live = s
        .session(
            &id,
            NOW + 5 * MIN,
            NOW + 5 * MIN - 30 * MIN,
            NOW - 720 * MIN,
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (live.operator.as_str(), live.role, live.csrf.as_str()),
        ("ann", Role::Operator, "csrf-1")
    );
    // The role is read at each request: a demotion takes effect at once.
    s.set_operator_role("ann", Role::Viewer, NOW).await.unwrap();
    let later = NOW + 20 * MIN;
    let again = s
        .session(&id, later, later - 30 * MIN, NOW - 720 * MIN)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(again.role, Role::Viewer);
    // Seen at +20 min (touched then): idle for 31 minutes after that ends it.
    let idle = later + 31 * MIN;
    assert!(s
        .session(&id, idle, idle - 30 * MIN, NOW - 720 * MIN)
        .await
        .unwrap()
        .is_none());
    assert!(
        !s.end_session(&id).await.unwrap(),
        "an expired session is deleted"
    );

    let old = digest("cookie-2");
    s.create_session(&old, "ann", "c", SessionStage::Full, NOW)
        .await
        .unwrap();
    // Used a minute ago, but logged in more than the absolute timeout ago.
    let t = NOW + 721 * MIN;
    assert!(s
        .session(&old, t, t - 30 * MIN, t - 720 * MIN)
        .await
        .unwrap()
        .is_none());

    let a = digest("cookie-3");
    let b = digest("cookie-4");
    s.create_session(&a, "ann", "c", SessionStage::Full, NOW)
        .await
        .unwrap();
    s.create_session(&b, "ann", "c", SessionStage::SecondFactor, NOW)
        .await
        .unwrap();
    assert_eq!(
        s.session(&b, NOW, NOW - MIN, NOW - MIN)
            .await
            .unwrap()
            .unwrap()
            .stage,
        SessionStage::SecondFactor
    );
    assert!(s.set_operator_password("ann", "h2", NOW).await.unwrap());
    for id in [&a, &b] {
        assert!(s
            .session(id, NOW, NOW - MIN, NOW - MIN)
            .await
            .unwrap()
            .is_none());
    }
    assert_eq!(
        s.get_operator("ann").await.unwrap().unwrap().password_hash,
        "h2"
    );
    // Removing an operator takes its sessions with it.
    s.create_session(&a, "ann", "c", SessionStage::Full, NOW)
        .await
        .unwrap();
    s.remove_operator("ann").await.unwrap();
    assert!(s
        .session(&a, NOW, NOW - MIN, NOW - MIN)
        .await
        .unwrap()
        .is_none());
}

async fn failed_logins_lock_out_after_the_limit_even_when_concurrent(f: &TestDb) {
    let s = &f.store;
    s.add_operator("ann", Role::Admin, "h", NOW).await.unwrap();
    for _ in 0..4 {
        assert_eq!(s.login_failed("ann", NOW, 5, 15 * MIN).await.unwrap(), None);
    }
    s.login_succeeded("ann").await.unwrap();
    // A success starts the count again: four more do not lock.
    for _ in 0..4 {
        assert_eq!(s.login_failed("ann", NOW, 5, 15 * MIN).await.unwrap(), None);
    }
    assert_eq!(
        s.login_failed("ann", NOW, 5, 15 * MIN).await.unwrap(),
        Some(NOW + 15 * MIN)
    );
    assert_eq!(
        s.get_operator("ann")
            .await
            .unwrap()
            .unwrap()
            .locked_until_ms,
        NOW + 15 * MIN
    );
    assert_eq!(s.login_failed("nobody", NOW, 5, MIN).await.unwrap(), None);

    // Ten failures at once on a fresh operator: every one is counted, so the fifth
    // locks, the next four find the lock in force, and the tenth locks again.
    s.add_operator("bob", Role::Admin, "h", NOW).await.unwrap();
    let store = f.reopen().await;
    let results = join_all(
        (0..10)
            .map(|_| Box::pin(store.login_failed("bob", NOW + 1, 5, 15 * MIN)))
            .collect(),
    )
    .await;
    let locks = results
        .into_iter()
        .map(|r| r.unwrap())
        .filter(Option::is_some)
        .count();
    assert_eq!(
        locks, 6,
        "the fifth and every failure after it report a lock"
    );
    let bob = s.get_operator("bob").await.unwrap().unwrap();
    assert_eq!(
        (bob.failed_logins, bob.locked_until_ms),
        (0, NOW + 1 + 15 * MIN)
    );
}

async fn a_totp_secret_is_sealed_and_recovery_codes_work_once(f: &TestDb) {
    let s = &f.store;
    s.add_operator("ann", Role::Finance, "h", NOW)
        .await
        .unwrap();
    assert!(s.begin_totp("ann", "JBSWY3DPEHPK3PXP", NOW).await.unwrap());
    let t = s.operator_totp("ann").await.unwrap();
    assert_eq!(
        (t.secret.as_deref(), t.enabled),
        (Some("JBSWY3DPEHPK3PXP"), false)
    );
    assert!(!format!("{t:?}").contains("JBSW"));
    use sqlx::Row;
    let row = sqlx::query("SELECT totp_sealed FROM operators WHERE name = 'ann'")
        .fetch_one(&f.raw_pool().await)
        .await
        .unwrap();
    let sealed: String = row.try_get(0).unwrap();
    assert!(!sealed.contains("JBSWY3DPEHPK3PXP"), "{sealed}");

    let codes = [digest("aaaa-1111"), digest("bbbb-2222")];
    assert!(s.confirm_totp("ann", &codes, NOW).await.unwrap());
    assert!(s.get_operator("ann").await.unwrap().unwrap().totp_enabled);
    // An enrolled factor is not replaced by starting again.
    assert!(!s.begin_totp("ann", "OTHERSECRET", NOW).await.unwrap());
    assert_eq!(
        s.operator_totp("ann").await.unwrap().secret.as_deref(),
        Some("JBSWY3DPEHPK3PXP")
    );
    // The same code presented twice at once is accepted once.
    let store = f.reopen().await;
    let raced = join_all(
        (0..4)
            .map(|_| Box::pin(store.use_recovery_code("ann", &codes[0])))
            .collect(),
    )
    .await;
    assert_eq!(
        raced.into_iter().filter(|r| *r.as_ref().unwrap()).count(),
        1
    );
    assert!(!s.use_recovery_code("ann", &digest("nope")).await.unwrap());
    assert_eq!(s.operator_totp("ann").await.unwrap().recovery_left, 1);
    assert!(s.clear_totp("ann", NOW).await.unwrap());
    let cleared = s.operator_totp("ann").await.unwrap();
    assert!(cleared.secret.is_none() && !cleared.enabled && cleared.recovery_left == 0);
}

mod lockouts {
    use super::*;

    idcgate_store::both_backends!(
        failures_lock_a_subject_once_per_window_and_instances_share_the_count,
        standings_are_read_for_several_subjects_at_once,
    );

    const LIMIT: FailureLimit = FailureLimit {
        max: 5,
        window_ms: 10 * MIN,
        lock_ms: 15 * MIN,
    };

    async fn failures_lock_a_subject_once_per_window_and_instances_share_the_count(f: &TestDb) {
        let a = &f.store;
        let b = f.reopen().await; // a second instance on the same database
        for i in 0..4 {
            let s: &dyn Lockouts = if i % 2 == 0 { a } else { &b };
            let c = s.count_failure("appid", "1001", NOW, LIMIT).await.unwrap();
            assert_eq!(
                c,
                Counted {
                    locked_until_ms: None,
                    started: false
                }
            );
        }
        let fifth = b
            .count_failure("appid", "1001", NOW + 1, LIMIT)
            .await
            .unwrap();
        assert_eq!(
            fifth,
            Counted {
                locked_until_ms: Some(NOW + 1 + 15 * MIN),
                started: true
            }
        );
        assert_eq!(
            a.locked_until("appid", "1001", NOW + 2).await.unwrap(),
            Some(NOW + 1 + 15 * MIN)
        );
        assert_eq!(
            a.locked_until("appid", "1001", NOW + 16 * MIN)
                .await
                .unwrap(),
            None
        );
        assert_eq!(
            a.locked_until("peer", "1001", NOW).await.unwrap(),
            None,
            "scopes are apart"
        );
        // While locked, more failures report the lock without starting another.
        let more = a
            .count_failure("appid", "1001", NOW + 2, LIMIT)
            .await
            .unwrap();
        assert_eq!(
            more,
            Counted {
                locked_until_ms: Some(NOW + 1 + 15 * MIN),
                started: false
            }
        );

        // Failures spread beyond one window do not add up.
        for i in 0..8 {
            let c = a
                .count_failure("peer", "10.0.0.1", NOW + i * 3 * MIN, LIMIT)
                .await
                .unwrap();
            assert_eq!(c.locked_until_ms, None, "failure {i}");
        }
        // Reaching the limit at once on two instances starts one lock.
        let raced = join_all(
            (0..10)
                .map(|_| Box::pin(b.count_failure("peer", "10.0.0.2", NOW, LIMIT)))
                .collect(),
        )
        .await;
        let started = raced.iter().filter(|c| c.as_ref().unwrap().started).count();
        assert_eq!(started, 1, "{raced:?}");
        // A success forgets the failures counted so far.
        for _ in 0..4 {
            a.count_failure("appid", "2002", NOW, LIMIT).await.unwrap();
        }
        a.clear_failures("appid", "2002").await.unwrap();
        let after = a.count_failure("appid", "2002", NOW, LIMIT).await.unwrap();
        assert_eq!(after.locked_until_ms, None);
    }

    async fn standings_are_read_for_several_subjects_at_once(f: &TestDb) {
        let s = &f.store;
        assert_eq!(s.standings(&[]).await.unwrap(), vec![]);
        for _ in 0..2 {
            s.count_failure("appid", "1001", NOW, LIMIT).await.unwrap();
        }
        for _ in 0..5 {
            s.count_failure("peer", "10.0.0.1", NOW, LIMIT)
                .await
                .unwrap();
        }
        let asked = [
            ("peer", "10.0.0.1"),
            ("appid", "9999"),
            ("appid", "1001"),
            // The same subject in another scope is another subject.
            ("peer", "1001"),
        ];
        let got = s.standings(&asked).await.unwrap();
        assert_eq!(
            got,
            vec![
                Some(Standing {
                    failures: 0,
                    locked_until_ms: NOW + 15 * MIN
                }),
                None,
                Some(Standing {
                    failures: 2,
                    locked_until_ms: 0
                }),
                None,
            ]
        );
        s.clear_failures("appid", "1001").await.unwrap();
        assert_eq!(s.standings(&asked[2..3]).await.unwrap(), vec![None]);
    }
}
