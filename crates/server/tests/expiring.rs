//! `GET /api/v1/expiring` takes its horizon as the CLI writes it (`within=30d`, `2w`,
//! `3m`, `1y`) as well as the older `days` (issue 15 item 9).
#![allow(clippy::unwrap_used)] // a test may fail loudly

mod common;

use idcgate_engine::sync::NoProgress;
use idcgate_store::testing::TestDb;
use idcgate_store::{both_backends, Scope};
use serde_json::Value;
use std::sync::Arc;

both_backends!(the_horizon_is_a_period_or_days);

async fn get(api: &common::Api, query: &str) -> (u16, Value) {
    common::get(api, &format!("/expiring?{query}")).await
}

fn names(v: &Value) -> Vec<String> {
    let mut n: Vec<String> = v["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| format!("{}/{}", i["kind"], i["key"]))
        .collect();
    n.sort();
    n
}

async fn the_horizon_is_a_period_or_days(db: &TestDb) {
    let api = common::start(db, "r", Scope::Read).await;
    let reports = api.engine.sync_all(Arc::new(NoProgress)).await.unwrap();
    assert!(reports.iter().all(|r| r.failed.is_empty()), "{reports:?}");
    assert!(api.srv.faults.requests() > 0, "synced from the simulator");

    let (code, year) = get(&api, "within=1y&limit=1000").await;
    assert_eq!(code, 200, "{year}");
    let (_, days) = get(&api, "days=365&limit=1000").await;
    assert!(
        !names(&year).is_empty(),
        "the sandbox has things expiring: {year}"
    );
    // A year by the calendar is 365 or 366 days: the same resources, give or take one
    // expiring on that one day.
    let (_, leap) = get(&api, "days=366&limit=1000").await;
    assert!(
        names(&year) == names(&days) || names(&year) == names(&leap),
        "{year}\n{days}"
    );
    for (within, days) in [("30d", 30), ("2w", 14), ("30", 30)] {
        let (_, a) = get(&api, &format!("within={within}&limit=1000")).await;
        let (_, b) = get(&api, &format!("days={days}&limit=1000")).await;
        assert_eq!(names(&a), names(&b), "within={within}");
    }
    // Each time readable beside its milliseconds.
    for item in year["items"].as_array().unwrap() {
        let at: jiff::Timestamp = item["expires_at"].as_str().unwrap().parse().unwrap();
        assert_eq!(
            Some(at.as_millisecond()),
            item["expires_at_ms"].as_i64(),
            "{item}"
        );
    }
    let (_, three_months) = get(&api, "within=3m&limit=1000").await;
    assert!(names(&three_months).len() <= names(&year).len());

    // Not as the document writes it: 400. As it writes it but not to be done (beyond
    // 100 years, or both forms at once): 422.
    for (bad, status) in [
        ("within=soon", 400),
        ("within=3x", 400),
        // Longer than the document allows, even when it reads as 0 days.
        ("within=000000000000000000000000D", 400),
        ("within=101y", 422),
        ("within=30d&days=30", 422),
    ] {
        let (code, v) = get(&api, bad).await;
        assert_eq!(code, status, "{bad}: {v}");
        assert_eq!(v["error"]["field"], "within", "{bad}: {v}");
    }
    let (code, v) = get(&api, "days=30&dayz=1").await;
    assert_eq!(code, 400, "an unknown parameter is refused: {v}");
    // The OpenAPI document says so.
    let (status, doc) = common::get(&api, "/openapi.json").await;
    assert_eq!(status, 200);
    let responses = &doc["paths"]["/api/v1/expiring"]["get"]["responses"];
    assert!(
        responses["422"].is_object(),
        "422 is documented: {responses}"
    );
    let params = doc["paths"]["/api/v1/expiring"]["get"]["parameters"].to_string();
    assert!(
        params.contains("\"within\"") && params.contains("30d, 2w, 3m or 1y"),
        "{params}"
    );
}
