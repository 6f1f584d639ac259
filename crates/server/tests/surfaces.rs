//! REST as a thin surface over the engine (issue #12 item 18): an account is added with
//! the engine's rules, refused naming the field exactly as the CLI and the console
//! refuse it, audited by the engine; the engine's errors reach REST answers without a
//! hint meant for the CLI.
#![allow(clippy::unwrap_used)] // a test may fail loudly

mod common;

use common::Api;
use idcgate_engine::accounts::{check_account_name, check_base_url};
use idcgate_engine::EngineError;
use idcgate_store::testing::TestDb;
use idcgate_store::{both_backends, Scope};
use serde_json::{json, Value};

both_backends!(
    an_account_added_through_rest_follows_the_engines_rules,
    engine_errors_reach_rest_without_cli_hints,
);

async fn send(api: &Api, method: reqwest::Method, path: &str, body: Option<Value>) -> (u16, Value) {
    let mut req = reqwest::Client::new()
        .request(method, format!("http://{}/api/v1{path}", api.addr))
        .bearer_auth(&api.token);
    if let Some(b) = body {
        req = req
            .header("content-type", "application/json")
            .body(b.to_string());
    }
    let r = req.send().await.unwrap();
    let status = r.status().as_u16();
    let text = r.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// `POST /accounts` with `body`.
async fn add(api: &Api, body: Value) -> (u16, Value) {
    send(api, reqwest::Method::POST, "/accounts", Some(body)).await
}

/// The reason the engine's rule gives for `result`'s refusal.
fn reason(result: Result<(), EngineError>) -> String {
    match result {
        Err(EngineError::InvalidInput { reason, .. }) => reason,
        other => panic!("not refused as input: {other:?}"),
    }
}

fn west(name: &str, base_url: &str) -> Value {
    json!({
        "name": name,
        "vendor": "west",
        "base_url": base_url,
        "credentials": {"username": "rest-user", "api_password": "Rest-Secret-42"},
    })
}

async fn an_account_added_through_rest_follows_the_engines_rules(db: &TestDb) {
    let api = common::start(db, "adm", Scope::Admin).await;
    let url = api.srv.base_url();

    // The same rule, the same words, the field named: what `idcgate account add` and
    // the console's form are refused with.
    let (status, bad) = add(&api, west("no spaces", &url)).await;
    assert_eq!(status, 400, "{bad}");
    assert_eq!(bad["error"]["field"], "name", "{bad}");
    assert_eq!(
        bad["error"]["message"],
        reason(check_account_name("no spaces")),
        "{bad}"
    );

    for (url, why) in [
        ("ftp://example.com", "a scheme other than http(s)"),
        ("http://user:pw@example.com/api", "a user and password"),
        ("http://example.com/api?key=k", "a query"),
    ] {
        let (status, bad) = add(&api, west("w2", url)).await;
        assert_eq!(status, 400, "{why}: {bad}");
        assert_eq!(bad["error"]["field"], "base_url", "{why}: {bad}");
        assert_eq!(
            bad["error"]["message"],
            reason(check_base_url(url)),
            "{why}: {bad}"
        );
    }

    // What the document cannot state (which keys a vendor takes) is 422, named.
    let mut half = west("w2", &url);
    half["credentials"] = json!({"username": "u"});
    let (status, bad) = add(&api, half).await;
    assert_eq!(status, 422, "{bad}");
    assert_eq!(bad["error"]["field"], "credentials", "{bad}");
    assert!(
        bad["error"]["message"]
            .as_str()
            .unwrap()
            .contains("api_password"),
        "{bad}"
    );

    // None of the refusals stored or audited anything.
    assert_eq!(api.engine.accounts().await.unwrap().len(), 1);
    let trail = api.engine.audit_trail(100).await.unwrap();
    assert!(trail.iter().all(|a| a.action != "account.add"), "{trail:?}");

    let (status, added) = add(&api, west("w2", &url)).await;
    assert_eq!(status, 201, "{added}");
    assert_eq!(added["name"], "w2");
    assert_eq!(added["rate_limit"], 5, "the vendor's advised rate: {added}");
    assert!(!added.to_string().contains("Rest-Secret-42"), "{added}");
    let (_, listed) = send(&api, reqwest::Method::GET, "/accounts", None).await;
    let names: Vec<&str> = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["w", "w2"]);
    // The engine uses it at once: the upstream itself refuses the made-up credentials.
    let tested = api.engine.test_account("w2").await;
    assert!(
        matches!(
            tested,
            Err(EngineError::Upstream(
                idcgate_core::Error::Authentication { .. }
            ))
        ),
        "{tested:?}"
    );

    let (status, taken) = add(&api, west("w2", &url)).await;
    assert_eq!(status, 409, "{taken}");

    // Audited by the engine with the token's actor, the credentials nowhere.
    let trail = api.engine.audit_trail(100).await.unwrap();
    let adds: Vec<_> = trail.iter().filter(|a| a.action == "account.add").collect();
    assert_eq!(adds.len(), 2, "{adds:?}");
    assert!(
        adds.iter()
            .all(|a| a.actor == "token:adm" && a.target == "w2"),
        "{adds:?}"
    );
    assert!(!format!("{trail:?}").contains("Rest-Secret-42"));
}

async fn engine_errors_reach_rest_without_cli_hints(db: &TestDb) {
    let api = common::start(db, "adm", Scope::Admin).await;
    let cases = [
        (
            reqwest::Method::POST,
            "/servers/nosuch/1/actions",
            Some(json!({"action": "reboot"})),
        ),
        (
            reqwest::Method::GET,
            "/dns/not-hosted.example/records",
            None,
        ),
        (reqwest::Method::GET, "/tenants/nobody", None),
    ];
    for (method, path, body) in cases {
        let (status, answer) = send(&api, method, path, body).await;
        assert_eq!(status, 404, "{path}: {answer}");
        let message = answer["error"]["message"].as_str().unwrap();
        assert!(!message.contains("idcgate"), "{path}: {message}");
        assert!(!message.contains('`'), "{path}: {message}");
    }
}
