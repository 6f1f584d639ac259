//! The REST twins of `dns export|plan|apply` over a real socket against the West
//! simulator, on both backends: a zone exported as JSON plans to nothing; a change is
//! planned by a read token, refused to it on apply, and applied by an operate token
//! through the audited record operations; a line West lacks is 422.
#![allow(clippy::unwrap_used)] // a test may fail loudly

mod common;

use idcgate_store::testing::TestDb;
use idcgate_store::Scope;
use serde_json::{json, Value};

async fn call(
    api: &common::Api,
    token: &str,
    method: reqwest::Method,
    path: &str,
    body: Option<&Value>,
) -> (u16, String) {
    let mut req = reqwest::Client::new()
        .request(method, format!("http://{}/api/v1{path}", api.addr))
        .bearer_auth(token);
    if let Some(b) = body {
        req = req
            .header("content-type", "application/json")
            .body(serde_json::to_vec(b).unwrap());
    }
    let resp = req.send().await.unwrap();
    (resp.status().as_u16(), resp.text().await.unwrap())
}

async fn zones_as_code_over_rest(db: &TestDb) {
    let api = common::start(db, "reader", Scope::Read).await;
    let (_, operator) = api
        .engine
        .create_token("test", "operator", Scope::Operate)
        .await
        .unwrap();
    let get = reqwest::Method::GET;
    let post = reqwest::Method::POST;
    let (status, _) = call(&api, &operator, post.clone(), "/sync", None).await;
    assert_eq!(status, 200);

    let (status, yaml) = call(
        &api,
        &api.token,
        get.clone(),
        "/zones/idcgate-demo.com/export",
        None,
    )
    .await;
    assert_eq!(status, 200, "{yaml}");
    assert!(
        yaml.starts_with("# idcgate: zone idcgate-demo.com\n---\n"),
        "{yaml}"
    );
    let (status, bind) = call(
        &api,
        &api.token,
        get.clone(),
        "/zones/idcgate-demo.com/export?format=bind",
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert!(bind.starts_with("$ORIGIN idcgate-demo.com."), "{bind}");
    let (status, _) = call(
        &api,
        &api.token,
        get.clone(),
        "/zones/idcgate-demo.com/export?format=xml",
        None,
    )
    .await;
    assert_eq!(status, 400);

    let (_, zone) = call(
        &api,
        &api.token,
        get,
        "/zones/idcgate-demo.com/export?format=json",
        None,
    )
    .await;
    let mut zone: Value = serde_json::from_str(&zone).unwrap();
    let (status, plan) = call(
        &api,
        &api.token,
        post.clone(),
        "/dns/plan",
        Some(&json!({"zones": [zone]})),
    )
    .await;
    assert_eq!(status, 200, "{plan}");
    let plan: Value = serde_json::from_str(&plan).unwrap();
    assert_eq!(plan[0]["changes"], json!([]), "{plan}");

    // One new record: planned by the reader, refused to it on apply.
    zone["records"].as_array_mut().unwrap().push(json!({
        "name": "api", "type": "A", "ttl": 600, "values": [{"value": "192.0.2.10"}]
    }));
    let body = json!({"zones": [zone]});
    let (_, plan) = call(&api, &api.token, post.clone(), "/dns/plan", Some(&body)).await;
    let plan: Value = serde_json::from_str(&plan).unwrap();
    assert_eq!(plan[0]["changes"][0]["op"], "create", "{plan}");
    let sent = api.srv.faults.requests();
    let (status, _) = call(&api, &api.token, post.clone(), "/dns/apply", Some(&body)).await;
    assert_eq!(status, 403);
    assert_eq!(
        api.srv.faults.requests(),
        sent,
        "a refused scope reached the upstream"
    );
    let (status, done) = call(&api, &operator, post.clone(), "/dns/apply", Some(&body)).await;
    assert_eq!(status, 200, "{done}");
    let done: Value = serde_json::from_str(&done).unwrap();
    assert_eq!(done["failed"], Value::Null, "{done}");
    assert_eq!(done["zones"][0]["created"], 1, "{done}");
    let trail = api.engine.audit_trail(100).await.unwrap();
    assert!(
        trail
            .iter()
            .any(|e| e.action == "dns.add" && e.actor == "token:operator"),
        "{trail:?}"
    );
    // Applied again: nothing to do, nothing sent.
    let (_, again) = call(&api, &operator, post.clone(), "/dns/apply", Some(&body)).await;
    let again: Value = serde_json::from_str(&again).unwrap();
    assert_eq!(again["zones"][0]["created"], 0, "{again}");

    // A line West does not offer: the document allows the body, the content cannot be done.
    let body = json!({"zones": [{"zone": "idcgate-demo.com", "records": [
        {"name": "x", "type": "A", "line": "nowhere", "values": [{"value": "192.0.2.1"}]}
    ]}]});
    let (status, err) = call(&api, &api.token, post.clone(), "/dns/plan", Some(&body)).await;
    assert_eq!(status, 422, "{err}");
    assert!(err.contains("not offered by west"), "{err}");

    // `api` renamed to a record West refuses: refused whole, so `api` is not deleted
    // first (deletes go before creates) and left without its replacement.
    let before = api.engine.dns_list("idcgate-demo.com").await.unwrap();
    let mut renamed = zone.clone();
    let records = renamed["records"].as_array_mut().unwrap();
    records.retain(|r| r["name"] != "api");
    records.push(json!({"name": "api2", "type": "A", "values": [{"value": "not-an-ip"}]}));
    let body = json!({"zones": [renamed]});
    let (status, err) = call(&api, &operator, post.clone(), "/dns/apply", Some(&body)).await;
    assert_eq!(status, 422, "{err}");
    assert!(err.contains("not an IPv4 address"), "{err}");
    let after = api.engine.dns_list("idcgate-demo.com").await.unwrap();
    assert_eq!(after.len(), before.len(), "{after:?}");
    // A name with its trailing dot is absolute: outside the zone it is refused.
    let body = json!({"zones": [{"zone": "idcgate-demo.com", "records": [
        {"name": "www.example.org.", "type": "A", "values": [{"value": "192.0.2.1"}]}
    ]}]});
    let (status, err) = call(&api, &operator, post, "/dns/apply", Some(&body)).await;
    assert_eq!(status, 422, "{err}");
    assert!(err.contains("outside zone idcgate-demo.com"), "{err}");
    assert!(err.contains("zones.0.records.0.name"), "{err}");
}

idcgate_store::both_backends!(zones_as_code_over_rest);
