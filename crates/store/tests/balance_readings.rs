//! Balance readings on SQLite and PostgreSQL: appended with their time, read back per
//! account oldest first from an instant on, and never changed or removed afterwards.
#![allow(clippy::unwrap_used)] // a test may fail loudly

use idcgate_store::both_backends;
use idcgate_store::testing::TestDb;
use idcgate_store::*;

both_backends!(
    readings_come_back_per_account_in_time_order_from_an_instant,
    readings_are_append_only,
);

fn reading(account: &str, at_ms: i64, available_fen: i64) -> BalanceReading {
    BalanceReading {
        id: 0,
        account: account.into(),
        at_ms,
        available_fen,
        credit_fen: 0,
        source: "sync".into(),
    }
}

async fn readings_come_back_per_account_in_time_order_from_an_instant(f: &TestDb) {
    let s = &f.store;
    // Appended out of time order (two processes' readings land as they finish).
    let mut ids = Vec::new();
    for r in [
        reading("c", 3_000, 480_000),
        reading("c", 1_000, 500_000),
        reading("w", 2_000, 10),
        reading("c", 2_000, 490_000),
        // The same instant twice: both kept, in the order they were appended.
        reading("c", 3_000, 470_000),
    ] {
        ids.push(s.append_balance_reading(&r).await.unwrap());
    }
    let mut distinct = ids.clone();
    distinct.sort_unstable();
    distinct.dedup();
    assert_eq!(distinct.len(), 5, "{ids:?}");

    let all = s.balance_readings("c", 0, 100).await.unwrap();
    let seen: Vec<(i64, i64)> = all.iter().map(|r| (r.at_ms, r.available_fen)).collect();
    assert_eq!(
        seen,
        [
            (1_000, 500_000),
            (2_000, 490_000),
            (3_000, 480_000),
            (3_000, 470_000)
        ]
    );
    assert!(all.iter().all(|r| r.account == "c" && r.source == "sync"));
    assert_eq!(all[0].id, ids[1]);

    // From an instant on: that instant included.
    let later = s.balance_readings("c", 2_000, 100).await.unwrap();
    assert_eq!(later.len(), 3);
    assert_eq!(later[0].available_fen, 490_000);
    // The oldest first, up to the limit.
    let first = s.balance_readings("c", 0, 1).await.unwrap();
    assert_eq!(first.len(), 1);
    assert_eq!(first[0].at_ms, 1_000);
    assert!(s
        .balance_readings("c", 3_001, 100)
        .await
        .unwrap()
        .is_empty());
    assert!(s
        .balance_readings("nobody", 0, 100)
        .await
        .unwrap()
        .is_empty());
    // The latest at or before an instant: of two at one instant, the later appended.
    let before = |at| s.balance_reading_before("c", at);
    assert_eq!(before(999).await.unwrap(), None);
    assert_eq!(before(1_000).await.unwrap().unwrap().available_fen, 500_000);
    assert_eq!(before(2_999).await.unwrap().unwrap().available_fen, 490_000);
    assert_eq!(before(i64::MAX).await.unwrap().unwrap().id, ids[4]);
    assert_eq!(
        s.balance_reading_before("nobody", i64::MAX).await.unwrap(),
        None
    );

    let credit = BalanceReading {
        credit_fen: 20_000,
        source: "statement".into(),
        ..reading("w", 5_000, -1_500)
    };
    s.append_balance_reading(&credit).await.unwrap();
    let w = s.balance_readings("w", 3_000, 100).await.unwrap();
    assert_eq!(w.len(), 1);
    assert_eq!(
        (w[0].available_fen, w[0].credit_fen, w[0].source.as_str()),
        (-1_500, 20_000, "statement")
    );
}

async fn readings_are_append_only(f: &TestDb) {
    let s = &f.store;
    s.append_balance_reading(&reading("c", 1_000, 500_000))
        .await
        .unwrap();
    let mut refused = vec![
        "UPDATE balance_readings SET available_fen = 0",
        "UPDATE balance_readings SET at = 0",
        "DELETE FROM balance_readings",
    ];
    if f.url.starts_with("postgres") {
        refused.push("TRUNCATE balance_readings");
    }
    f.assert_refused(&refused).await;
    let kept = s.balance_readings("c", 0, 100).await.unwrap();
    assert_eq!(kept.len(), 1);
    assert_eq!((kept[0].at_ms, kept[0].available_fen), (1_000, 500_000));
    // Appending still works after the refusals.
    s.append_balance_reading(&reading("c", 2_000, 499_000))
        .await
        .unwrap();
    assert_eq!(s.balance_readings("c", 0, 100).await.unwrap().len(), 2);
}
