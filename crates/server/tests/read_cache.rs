//! Inventory pages answered again from memory (issue #12, REST read throughput) never
//! hide a write: one made through this process's engine shows in the very next answer,
//! one made by another process sharing the database within `PAGE_TRUST`.
#![allow(clippy::unwrap_used)] // a test may fail loudly

mod common;

use common::Api;
use idcgate_core::ResourceKind;
use idcgate_engine::sync::NoProgress;
use idcgate_store::testing::TestDb;
use idcgate_store::{both_backends, ResourceRow, Scope, Store};
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::{Duration, Instant};

both_backends!(
    a_write_through_the_engine_shows_in_the_next_answer,
    a_write_by_another_process_shows_within_the_page_trust,
);

async fn domains(api: &Api, query: &str) -> Value {
    let (status, page) = common::get(api, &format!("/domains{query}")).await;
    assert_eq!(status, 200, "{page}");
    page
}

fn names(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["name"].as_str().unwrap().to_string())
        .collect()
}

async fn a_write_through_the_engine_shows_in_the_next_answer(db: &TestDb) {
    let api = common::start(db, "reader", Scope::Read).await;
    // Asked twice, so the empty page and the list's total are certainly kept.
    for _ in 0..2 {
        let page = domains(&api, "?limit=10").await;
        assert_eq!((page["total"].as_i64(), names(&page).len()), (Some(0), 0));
    }
    let report = api
        .engine
        .sync_account("w", Arc::new(NoProgress))
        .await
        .unwrap();
    let page = domains(&api, "?limit=10").await;
    assert_eq!(
        page["total"].as_i64(),
        Some(5),
        "the sync's domains at once: {report:?}"
    );
    assert_eq!(names(&page).len(), 5);
    // Another page of the list counted before the sync: counted again, not kept.
    let page = domains(&api, "?limit=2&offset=2").await;
    assert_eq!((page["total"].as_i64(), names(&page).len()), (Some(5), 2));
    // A vendor filter reads the accounts: a removed account's domains leave at once too.
    assert_eq!(names(&domains(&api, "?vendor=west").await).len(), 5);
    api.engine.remove_account("test", "w").await.unwrap();
    assert_eq!(names(&domains(&api, "?vendor=west").await).len(), 0);
    assert_eq!(domains(&api, "?limit=10").await["total"].as_i64(), Some(0));
}

async fn a_write_by_another_process_shows_within_the_page_trust(db: &TestDb) {
    let api = common::start(db, "reader", Scope::Read).await;
    for _ in 0..2 {
        assert_eq!(names(&domains(&api, "?limit=10").await).len(), 0);
    }
    // Another process: its own store on the same database, its writes unseen by ours.
    let other = db.reopen().await;
    let now = idcgate_engine::now_ms();
    other
        .upsert_resource(&ResourceRow {
            account: "w".into(),
            kind: ResourceKind::Domain,
            key: "elsewhere.com".into(),
            name: "elsewhere.com".into(),
            data: json!({"name": "elsewhere.com"}),
            expires_at_ms: None,
            first_seen_ms: now,
            last_seen_ms: now,
            gone_at_ms: None,
        })
        .await
        .unwrap();
    let written = Instant::now();
    let bound = idcgate_server::PAGE_TRUST + Duration::from_millis(300);
    loop {
        let page = domains(&api, "?limit=10").await;
        if names(&page) == ["elsewhere.com"] {
            assert_eq!(page["total"].as_i64(), Some(1));
            break;
        }
        assert!(
            written.elapsed() < bound,
            "another process's write unseen after {:?}",
            written.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
