//! Hostile and half-way inputs: every refusal leaves balance, ledger and orders as they
//! were, nothing overflows or panics, and the simulator keeps serving afterwards.
#![allow(clippy::unwrap_used)] // a test may fail loudly

mod common;

use common::*;
use idcgate_core::Error;
use idcgate_zonkvm::{Sim, ZonkvmClient};
use serde_json::Value;

const BIG: &str = "9223372036854775807";

/// Balance, ledger length and the server count: what a refusal must not change.
fn books(sim: &Sim) -> (i64, usize, usize) {
    (
        in_fen(sim.balance()),
        sim.ledger().len(),
        sim.server_count(),
    )
}

async fn refused(conn: &ZonkvmClient, action: &str, params: &[(&str, &str)]) -> Error {
    match conn.call_kv(action, params).await {
        Ok(v) => panic!("{action} {params:?} was accepted: {v}"),
        Err(e) => e,
    }
}

#[tokio::test]
async fn absurd_terms_and_sizes_are_refused_without_a_charge() {
    let (sim, _srv, conn) = sandbox().await;
    sim.set_balance(Money::from_fen(i64::MAX / 2));
    let before = books(&sim);
    let machines = (
        get(&conn, "getlease", 1).await,
        get(&conn, "getidc", 1).await,
    );
    let buy = |content: &'static str| server_order(&[], content);
    for content in [
        r#"{"cpu":1,"ram":1,"months":9223372036854775807}"#,
        r#"{"cpu":1,"ram":1,"months":-3}"#,
        r#"{"cpu":1,"ram":1,"months":0}"#,
        r#"{"cpu":1,"ram":1,"number":9223372036854775807}"#,
        r#"{"cpu":1,"ram":1,"harddisksValues":"40,9223372036854775807"}"#,
        r#"{"cpu":1,"ram":1,"harddisksValues":"40,-9223372036854775807,-9"}"#,
        r#"{"cpu":1,"ram":1,"harddisksValues":"40,10,10,10,10,10,10,10,10,10"}"#,
        r#"{"cpu":1,"ram":1,"defense":-5}"#,
        r#"{"cpu":1,"ram":1,"defense":9223372036854775807}"#,
        r#"{"cpu":1,"ram":1,"bandwidth":9223372036854775807}"#,
    ] {
        let err = refused(&conn, "create_order#create_server", &buy(content)).await;
        assert!(
            matches!(err, Error::InvalidInput { .. } | Error::Upstream { .. }),
            "{content}: {err:?}"
        );
    }
    for (action, months) in [
        ("server_renew", BIG),
        ("server_renew", "-1"),
        ("server_renew", "121"),
    ] {
        refused(&conn, action, &[("guid", "1001"), ("renewLength", months)]).await;
    }
    for family in ["lease", "idc"] {
        refused(
            &conn,
            &format!("{family}_renew"),
            &[("guid", "1"), ("months", BIG)],
        )
        .await;
        for (field, value) in [
            ("ipnumAdd", BIG),
            ("bandwidthAdd", BIG),
            ("defenseAdd", BIG),
            ("ipnumAdd", "100000000"),
        ] {
            refused(
                &conn,
                &format!("{family}_upgrade"),
                &[("guid", "1"), (field, value)],
            )
            .await;
        }
    }
    refused(
        &conn,
        "server_upgrade",
        &[("guid", "1001"), ("bandwidth", BIG)],
    )
    .await;
    refused(
        &conn,
        "server_upgrade",
        &[("guid", "1001"), ("harddisks", "40,60,9223372036854775807")],
    )
    .await;
    assert_eq!(books(&sim), before);
    // Still serving, the orders untouched.
    let s = get(&conn, "getserver", 1001).await;
    assert_eq!(
        (s["cpu"].as_i64(), s["harddisks"].as_str()),
        (Some(2), Some("40,60"))
    );
    assert_eq!(
        (
            get(&conn, "getlease", 1).await,
            get(&conn, "getidc", 1).await
        ),
        machines
    );
}

#[tokio::test]
async fn huge_pages_and_extreme_chart_ranges_answer_instead_of_panicking() {
    let (_sim, _srv, conn) = sandbox().await;
    let page = conn.call_kv("getservers", &[("page", BIG)]).await.unwrap();
    assert_eq!(page["servers"], Value::Array(vec![]));
    assert_eq!(page["pages"], 1);
    let page = conn
        .call_kv("getservers", &[("page", "-9223372036854775808")])
        .await
        .unwrap();
    assert_eq!(page["servers"][0]["id"], 1001, "a page below 1 is page 1");
    for (start, end) in [
        ("-9223372036854775808", BIG),
        ("0", BIG),
        (BIG, "0"),
        ("1700000000000", "1700000000000"),
    ] {
        let err = refused(
            &conn,
            "get_server_chart",
            &[("guid", "1001"), ("start_time", start), ("end_time", end)],
        )
        .await;
        assert!(
            matches!(err, Error::InvalidInput { .. } | Error::Upstream { .. }),
            "{err:?}"
        );
    }
    let chart = conn
        .call_kv(
            "get_server_chart",
            &[
                ("guid", "1001"),
                ("start_time", "1700000000000"),
                ("end_time", "1700003600000"),
            ],
        )
        .await
        .unwrap();
    assert_eq!(chart["in"].as_array().map(Vec::len), Some(12));
}

#[tokio::test]
async fn a_hosting_upgrade_refused_half_way_keeps_the_traffic_it_had() {
    let (sim, _srv, conn) = sandbox().await;
    let site = get(&conn, "gethosting", 1).await;
    let (flow, before) = (site["flow"].clone(), books(&sim));
    // Traffic is processed first; the unknown product refuses the whole request.
    let err = refused(
        &conn,
        "hosting_operate#hosting_upgrade",
        &[("guid", "1"), ("flow", "50"), ("new_product_guid", "nope")],
    )
    .await;
    assert!(
        matches!(err, Error::Upstream { ref message, .. } if message == "产品不存在或已下架"),
        "{err:?}"
    );
    assert_eq!(get(&conn, "gethosting", 1).await["flow"], flow);
    assert_eq!(books(&sim), before);
    // Not enough money for both steps: nothing of either.
    sim.set_balance(Money::from_fen(0));
    sim.set_credit(Money::from_fen(0));
    let err = refused(
        &conn,
        "hosting_operate#hosting_upgrade",
        &[("guid", "1"), ("flow", "50"), ("new_product_guid", HOST_B)],
    )
    .await;
    assert!(matches!(err, Error::InsufficientBalance { .. }), "{err:?}");
    let after = get(&conn, "gethosting", 1).await;
    assert_eq!(
        (after["flow"].clone(), sim.ledger().len()),
        (flow, before.1)
    );
}

#[tokio::test]
async fn a_renewal_to_a_date_pays_for_the_whole_term() {
    let (sim, _srv, conn) = sandbox().await;
    let end = end_time(&conn).await;
    let year: i32 = end[..4].parse().unwrap();
    let far = format!("{}{}", year + 3, &end[4..]);
    let before = books(&sim);
    // Three years for the price of one month would be a free term.
    let err = refused(
        &conn,
        "hosting_operate#hosting_renew",
        &[("guid", "1"), ("newEndTimeStr", &far), ("renewLength", "1")],
    )
    .await;
    assert!(matches!(err, Error::Upstream { .. }), "{err:?}");
    assert_eq!(books(&sim), before);
    assert_eq!(get(&conn, "gethosting", 1).await["end_time"], end.as_str());
    // Inferred from the dates: 36 months charged, the end exactly as asked.
    conn.call_kv(
        "hosting_operate#hosting_renew",
        &[("guid", "1"), ("newEndTimeStr", &far)],
    )
    .await
    .unwrap();
    assert_eq!(get(&conn, "gethosting", 1).await["end_time"], far.as_str());
    let row = sim.ledger().last().cloned().unwrap();
    let monthly: rust_decimal::Decimal = get(&conn, "gethosting", 1).await["renew_price"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(
        (
            row.kind.as_str(),
            rust_decimal::Decimal::new(-row.amount_fen, 2)
        ),
        ("renew", monthly * rust_decimal::Decimal::from(36))
    );
}

#[tokio::test]
async fn a_client_order_id_reused_for_another_order_is_a_new_renewal() {
    let (sim, _srv, conn) = sandbox().await;
    let second = buy_server(&conn, "hard-2", SMALLEST).await;
    let p = |id: &str| {
        [
            ("guid", id.to_string()),
            ("renewLength", "1".into()),
            ("client_order_id", "R-1".into()),
        ]
    };
    let call = |id: i64| {
        let conn = &conn;
        async move {
            let params = p(&id.to_string());
            let borrowed: Vec<(&str, &str)> =
                params.iter().map(|(k, v)| (*k, v.as_str())).collect();
            conn.call_kv("server_renew", &borrowed).await.unwrap()
        }
    };
    let first = call(1001).await;
    let ledger = sim.ledger().len();
    assert_eq!(call(1001).await, first, "same order, same id: replayed");
    assert_eq!(sim.ledger().len(), ledger, "a replay charges nothing");
    let other = call(second).await;
    assert_eq!(other["id"], second);
    assert_eq!(sim.ledger().len(), ledger + 1);
}

#[tokio::test]
async fn deep_json_and_bad_utf8_are_parameter_errors() {
    let (sim, srv, conn) = sandbox().await;
    let before = books(&sim);
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let err = refused(
        &conn,
        "create_order#create_server",
        &[
            ("line_guid", LINE_DY),
            ("system_guid", CENTOS),
            ("content", &format!(r#"{{"cpu":{deep}}}"#)),
        ],
    )
    .await;
    assert!(
        matches!(err, Error::InvalidInput { ref field, .. } if field == "content"),
        "{err:?}"
    );
    // Straight to the simulator, past the client's own JSON check.
    for body in [
        format!("appid=10086&appkey=zk_sandbox_4f9c2a7e5b1d8c3a&action=create_order&obj_type=create_server&line_guid={LINE_DY}&system_guid={CENTOS}&content={deep}").into_bytes(),
        b"appid=10086&appkey=zk_sandbox_4f9c2a7e5b1d8c3a&action=server_setpsw&guid=1001&password=%FF%FE\xff".to_vec(),
        b"appid=10086&appkey=zk_sandbox_4f9c2a7e5b1d8c3a&action=getserver&guid=\xff\xfe".to_vec(),
    ] {
        let text = post_bytes(&srv.base_url(), &body).await;
        let env: Value = serde_json::from_str(&text).unwrap();
        assert!(env["code"] == 0 || env["code"] == 1, "{text}");
    }
    assert_eq!(books(&sim), before);
    assert_eq!(get(&conn, "getserver", 1001).await["id"], 1001);
}

/// A form POST of arbitrary bytes (the wire client only sends valid text).
async fn post_bytes(base: &str, body: &[u8]) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let host = base.trim_start_matches("http://");
    let mut tcp = tokio::net::TcpStream::connect(host).await.unwrap();
    let head = format!(
        "POST /api/same/index HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    tcp.write_all(head.as_bytes()).await.unwrap();
    tcp.write_all(body).await.unwrap();
    let mut answer = Vec::new();
    tcp.read_to_end(&mut answer).await.unwrap();
    let answer = String::from_utf8(answer).unwrap();
    let (head, body) = answer.split_once("\r\n\r\n").unwrap();
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    body.to_string()
}

/// A finance system that numbers its pages with strings (PHP) or not at all.
async fn paging_upstream(pages: Option<&'static str>) -> String {
    let app = axum::Router::new().route(
        "/api/same/index",
        axum::routing::post(move |body: String| async move {
            let page = if body.contains("page=2") { 2 } else { 1 };
            let mut data = serde_json::json!({"servers": [{"id": page}]});
            if let Some(p) = pages {
                data["pages"] = Value::from(p);
            }
            serde_json::json!({"code": 1, "msg": "ok", "data": data, "url": "", "wait": 3})
                .to_string()
        }),
    );
    idcgate_wire::testing::serve_app(app).await
}

/// A connection to a fake upstream (any credentials do).
fn fake_conn(base: &str) -> ZonkvmClient {
    let creds = [
        ("appid".to_string(), "1".to_string()),
        ("appkey".to_string(), "k".to_string()),
    ];
    ZonkvmClient::new(
        &account(base, &creds),
        &wire(std::time::Duration::from_secs(5)),
    )
    .unwrap()
}

#[tokio::test]
async fn listing_follows_string_page_counts_and_refuses_a_missing_one() {
    let conn = fake_conn(&paging_upstream(Some("2")).await);
    let ids: Vec<Value> = conn
        .list_all("getservers")
        .await
        .unwrap()
        .into_iter()
        .map(|r| r["id"].clone())
        .collect();
    assert_eq!(ids, [Value::from(1), Value::from(2)]);
    // Without a page count the listing may be partial; sync must not take it as whole.
    let conn = fake_conn(&paging_upstream(None).await);
    assert!(matches!(
        conn.list_all("getservers").await,
        Err(Error::Transport { .. })
    ));
}

#[tokio::test]
async fn a_purchase_whose_read_back_fails_is_an_unknown_outcome_naming_the_order() {
    use idcgate_core::capability::Compute;
    // Sells (create_order answers order 7) but cannot show what it sold.
    let app = axum::Router::new().route(
        "/api/same/index",
        axum::routing::post(|body: String| async move {
            let data = if body.contains("action=getlines") {
                serde_json::json!([{"guid": "L1", "line_guid": "Z1", "buyStatus": 1}])
            } else if body.contains("action=getproduct") {
                serde_json::json!([])
            } else if body.contains("action=create_order") {
                serde_json::json!({"order_id": "", "ids": [7], "money": "29.00"})
            } else {
                return (axum::http::StatusCode::INTERNAL_SERVER_ERROR, String::new());
            };
            let env =
                serde_json::json!({"code": 1, "msg": "ok", "data": data, "url": "", "wait": 3});
            (axum::http::StatusCode::OK, env.to_string())
        }),
    );
    let conn = fake_conn(&idcgate_wire::testing::serve_app(app).await);
    let spec = idcgate_core::model::ServerSpec {
        name: "x".into(),
        region: "Z1".into(),
        image: CENTOS.into(),
        plan: None,
        cpu: Some(1),
        ram_mb: Some(1024),
        disk_gb: None,
        bandwidth_mbps: Some(5),
        months: None,
        owner: None,
        client_order_id: None,
    };
    let err = conn.create_server(&spec).await.unwrap_err();
    assert!(
        matches!(err, Error::UnknownOutcome { ref message, .. } if message.contains("server_7")),
        "a bought server must not read as a failed purchase: {err:?}"
    );
}

#[tokio::test]
async fn an_expired_site_stops_then_renewal_and_resume_bring_it_back() {
    let (sim, _srv, conn) = sandbox().await;
    let end = end_time(&conn).await;
    sim.advance(std::time::Duration::from_secs(400 * 24 * 3600));
    let h = get(&conn, "gethosting", 1).await;
    assert_eq!(
        (h["order_status"].as_i64(), h["run_status"].as_i64()),
        (Some(3), Some(-1))
    );
    // Expired: no work on it until renewed.
    let before = books(&sim);
    let err = refused(&conn, "hosting_operate#hosting_start", &[("guid", "1")]).await;
    assert!(
        matches!(err, Error::Upstream { ref message, .. } if message.contains("过期")),
        "{err:?}"
    );
    // The document: refunding an expired product deletes it outright, paying nothing.
    let sql = conn.call_kv("getsql", &[("guid", "1")]).await.unwrap();
    assert_eq!(sql["order_status"], 3);
    let refund = conn
        .call_kv("sql_operate#sql_refund", &[("guid", "1")])
        .await
        .unwrap();
    assert_eq!(refund["money"], "0.00");
    assert_eq!(
        conn.call_kv("getsql", &[("guid", "1")]).await.unwrap()["order_status"],
        -2
    );
    assert_eq!(books(&sim), before);
    let year: i32 = end[..4].parse().unwrap();
    let new_end = format!("{}{}", year + 2, &end[4..]);
    conn.call_kv(
        "hosting_operate#hosting_renew",
        &[("guid", "1"), ("newEndTimeStr", &new_end)],
    )
    .await
    .unwrap();
    assert_eq!(sim.ledger().len(), before.1 + 1);
    let h = get(&conn, "gethosting", 1).await;
    assert_eq!(
        (
            h["order_status"].as_i64(),
            h["run_status"].as_i64(),
            h["end_time"].as_str()
        ),
        (Some(1), Some(-1), Some(new_end.as_str())),
        "renewed but not yet running"
    );
    conn.call_kv(
        "hosting_operate#hosting_resume_after_renew",
        &[("guid", "1")],
    )
    .await
    .unwrap();
    assert_eq!(get(&conn, "gethosting", 1).await["run_status"], 1);
}

/// The sandbox site's `end_time`.
async fn end_time(conn: &ZonkvmClient) -> String {
    get(conn, "gethosting", 1).await["end_time"]
        .as_str()
        .unwrap()
        .to_string()
}
