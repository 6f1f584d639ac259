//! `POST /api/v1/zones/{zone}/migrate` (issue 16): the operate scope, a dry run that
//! writes nothing, a move the target cannot take answered 422 with why, and the route
//! in the OpenAPI document with its body and answer.
#![allow(clippy::unwrap_used)] // a test may fail loudly

mod common;

use idcgate_core::UpstreamAccount;
use idcgate_engine::sync::NoProgress;
use idcgate_store::testing::TestDb;
use idcgate_store::{both_backends, Scope, Store as _};
use idcgate_wire::testing;
use serde_json::{json, Value};
use std::sync::Arc;

both_backends!(a_zone_move_is_planned_and_refused_with_reasons);

async fn post(api: &common::Api, token: &str, path: &str, body: Value) -> (u16, Value) {
    let r = reqwest::Client::new()
        .post(format!("http://{}{path}", api.addr))
        .bearer_auth(token)
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    common::answer(r).await
}

async fn a_zone_move_is_planned_and_refused_with_reasons(db: &TestDb) {
    let api = common::start(db, "ops", Scope::Operate).await;
    // A second West account: West adds no zones through its API.
    let other = idcgate_west::Sim::sandbox();
    let other_srv = testing::serve(&other).await;
    api.engine
        .put_sandbox_account(&UpstreamAccount {
            name: "w2".into(),
            ..testing::sandbox_account(&other, &other_srv)
        })
        .await
        .unwrap();
    let reports = api.engine.sync_all(Arc::new(NoProgress)).await.unwrap();
    assert!(reports.iter().all(|r| r.failed.is_empty()), "{reports:?}");
    let zone = "mybrand.net";
    // Both sandboxes hold the same names: the zone is moved from the one named.
    let path = format!("/api/v1/zones/{zone}/migrate");

    let before = api.srv.faults.requests();
    let (status, plan) = post(
        &api,
        &api.token,
        &path,
        json!({"to": "w2", "from": "w", "dry_run": true}),
    )
    .await;
    assert_eq!(status, 200, "{plan}");
    assert_eq!(plan["from"], "w");
    assert_eq!(plan["dry_run"], true);
    assert_eq!(plan["verified"], false);
    let steps = plan["steps"].as_array().unwrap();
    assert!(!steps.is_empty(), "{plan}");
    assert!(steps
        .iter()
        .all(|s| s["type"].is_string() && s["action"] == "present"));
    assert_eq!(
        plan["created"], 0,
        "the other sandbox holds the same records"
    );
    assert!(
        api.srv.faults.requests() > before,
        "the source and target were read live"
    );
    // A dry run writes nothing: no DNS write or move is audited (the sync before is).
    let audit = db.store.list_audit(100).await.unwrap();
    assert!(
        audit.iter().all(|a| !a.action.starts_with("dns")),
        "{audit:?}"
    );

    // Carried out: nothing to write, verified, audited under the token's name.
    let (status, done) = post(&api, &api.token, &path, json!({"to": "w2", "from": "w"})).await;
    assert_eq!(status, 200, "{done}");
    assert_eq!(done["verified"], true);
    let audit = db.store.list_audit(100).await.unwrap();
    assert!(
        audit
            .iter()
            .any(|a| a.action == "dns.migrate" && a.actor.contains("ops") && a.outcome == "ok"),
        "{audit:?}"
    );

    // Asked as the document allows but not to be done: 422 saying why.
    let (status, err) = post(&api, &api.token, &path, json!({"to": "w", "from": "w"})).await;
    assert_eq!(status, 422, "{err}");
    assert!(err.to_string().contains("already"), "{err}");
    // A zone no account holds, an unknown account: 404. An unknown field: 400.
    let (status, err) = post(
        &api,
        &api.token,
        "/api/v1/zones/only-here.example/migrate",
        json!({"to": "w2"}),
    )
    .await;
    assert_eq!(status, 404, "{err}");
    let (status, _) = post(&api, &api.token, &path, json!({"to": "nobody"})).await;
    assert_eq!(status, 404);
    let (status, err) = post(&api, &api.token, &path, json!({"to": "w2", "speed": 1})).await;
    assert_eq!(status, 400, "{err}");

    // Read scope may not move zones.
    // Made beneath the engine, so the audit log holds only what the moves wrote.
    let (_, read) = db
        .store
        .create_token("reader", Scope::Read, idcgate_engine::now_ms())
        .await
        .unwrap();
    let (status, _) = post(&api, &read, &path, json!({"to": "w2", "dry_run": true})).await;
    assert_eq!(status, 403);

    // The document has the route, its body and its answer.
    let (status, doc) = common::get(&api, "/openapi.json").await;
    assert_eq!(status, 200);
    let op = &doc["paths"]["/api/v1/zones/{zone}/migrate"]["post"];
    assert!(op["responses"]["422"].is_object(), "{op}");
    for schema in ["MigrateBody", "MigrationAnswer", "MigrationStepAnswer"] {
        assert!(
            doc["components"]["schemas"][schema].is_object(),
            "{schema} in the document"
        );
    }
}
