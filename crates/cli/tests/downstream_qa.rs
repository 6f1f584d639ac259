//! What a hostile or unlucky downstream reseller found at `POST /api/same/index`
//! (issue #11's QA pass), on SQLite and PostgreSQL:
//!
//! - a price under any spelling (`price[]`, `unit_price`, `totalPrice`, nested in
//!   `content`, in a second `content`) is refused with nothing charged;
//! - a value that was not text in any charset (decoded to U+FFFD) and a `user_id` that
//!   is not the document's number are refused, so two order ids never become one;
//! - a purchase the upstream refused, asked again under the same `order_id` (a retry
//!   after a lost answer), is refused again, never answered as a success;
//! - a renewal whose upstream answer was lost, asked again under the same
//!   `client_order_id`, is answered as still unsettled, not as done; charged once;
//! - a renewal that succeeded, asked again, is answered as the first was (its money
//!   and end time, as the simulator replays a first answer), charged once;
//! - a body too large, or announced and never sent, is answered in the dialect's
//!   envelope (HTTP 200, `code` 0), the latter within the body timeout.
#![allow(clippy::unwrap_used)] // a test may fail loudly

mod resale;

use idcgate_core::Money;
use idcgate_engine::testing::assert_books_balance;
use idcgate_store::testing::TestDb;
use idcgate_store::{both_backends, TenantOrderStore as _};
use resale::*;
use serde_json::Value;

both_backends!(
    prices_under_any_name_and_values_that_are_not_text_are_refused,
    a_refused_purchase_asked_again_stays_refused,
    a_renewal_with_a_lost_answer_asked_again_is_not_a_success,
    a_renewal_asked_again_answers_what_the_first_charged,
);

/// A `create_order` of the reseller's cloud product by `who`, `extra` fields after.
fn order(
    who: (&str, &str),
    line: &str,
    extra: &[(&'static str, &str)],
) -> Vec<(&'static str, String)> {
    let mut f: Vec<(&'static str, String)> = vec![
        ("appid", who.0.into()),
        ("appkey", who.1.into()),
        ("action", "create_order".into()),
        ("obj_type", "create_server".into()),
        ("line_guid", line.into()),
        ("system_guid", line.into()),
    ];
    f.extend(extra.iter().map(|(k, v)| (*k, v.to_string())));
    f
}

const CONTENT: &str = r#"{"cpu":1,"ram":1,"months":1}"#;

async fn prices_under_any_name_and_values_that_are_not_text_are_refused(db: &TestDb) {
    let r = reseller(db.reopen().await).await;
    let (appid, appkey) = r.i.tenant("acme", "1000.00").await;
    let who = (appid.as_str(), appkey.as_str());
    let line = r.product_id.to_string();
    let before = r.i.balance("tenant:acme").await;
    let cases: Vec<(&str, Vec<(&'static str, String)>)> = vec![
        (
            "price[]",
            order(who, &line, &[("content", CONTENT), ("price[]", "0")]),
        ),
        (
            "unit_price",
            order(who, &line, &[("content", CONTENT), ("unit_price", "0")]),
        ),
        (
            "totalPrice",
            order(who, &line, &[("content", CONTENT), ("totalPrice", "0")]),
        ),
        (
            "pay_money",
            order(who, &line, &[("content", CONTENT), ("pay_money", "0")]),
        ),
        (
            "content[realprice]",
            order(
                who,
                &line,
                &[("content", CONTENT), ("content[realprice]", "0")],
            ),
        ),
        (
            "nested in content",
            order(
                who,
                &line,
                &[("content", r#"{"cpu":1,"ram":1,"months":1,"x":{"price":0}}"#)],
            ),
        ),
        (
            "in an array in content",
            order(
                who,
                &line,
                &[("content", r#"{"cpu":1,"ram":1,"months":1,"x":[{"fee":0}]}"#)],
            ),
        ),
        (
            "in a second content",
            order(
                who,
                &line,
                &[("content", CONTENT), ("content", r#"{"price":0}"#)],
            ),
        ),
        (
            "user_id not a number",
            order(
                who,
                &line,
                &[("content", CONTENT), ("user_id", "1' OR '1'='1")],
            ),
        ),
    ];
    for (what, form) in &cases {
        let v = r.i.post_form(form).await;
        assert_eq!(v["code"], 0, "{what}: {v}");
        assert!(!v["msg"].as_str().unwrap().is_empty(), "{what}: {v}");
    }
    // Bytes that are neither UTF-8 nor GBK: two different ones would both read as
    // "a\u{FFFD}", one order id for two purchases.
    for bad in ["%FF", "%C3%28", "%80%FF"] {
        let body = format!(
            "appid={appid}&appkey={appkey}&action=create_order&obj_type=create_server&line_guid={line}&system_guid={line}&content={}&order_id=a{bad}",
            enc(CONTENT)
        );
        let (status, text) = http_post(r.i.addr, "/api/same/index", &body).await;
        assert_eq!(status, 200, "{text}");
        let v: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["code"], 0, "order_id a{bad}: {v}");
    }
    // Nothing was charged, no order opened, nothing bought upstream.
    assert_eq!(r.i.balance("tenant:acme").await, before);
    let rows =
        r.i.store
            .list_tenant_orders(&Default::default())
            .await
            .unwrap();
    assert!(rows.is_empty(), "{rows:?}");
    // The same purchase with nothing extra still buys (the refusals were the fields').
    let v =
        r.i.post_form(&order(
            who,
            &line,
            &[("content", CONTENT), ("user_id", "42")],
        ))
        .await;
    assert_eq!(v["code"], 1, "{v}");
    assert_books_balance(&r.i.engine).await;
}

async fn a_refused_purchase_asked_again_stays_refused(db: &TestDb) {
    let r = reseller(db.reopen().await).await;
    let (appid, appkey) = r.i.tenant("acme", "1000.00").await;
    let who = (appid.as_str(), appkey.as_str());
    let line = r.product_id.to_string();
    let before = r.i.balance("tenant:acme").await;
    // The upstream account cannot pay: it refuses the order.
    r.sim.set_balance(Money::ZERO);
    r.sim.set_credit(Money::ZERO);
    let form = order(who, &line, &[("content", CONTENT), ("order_id", "dl-7001")]);
    let first = r.i.post_form(&form).await;
    assert_eq!(first["code"], 0, "{first}");
    // A retry after a lost answer hears the same: refused, not "操作成功" with an id.
    let again = r.i.post_form(&form).await;
    assert_eq!(again["code"], 0, "{again}");
    assert_eq!(again["msg"], first["msg"], "{again}");
    assert_eq!(r.i.balance("tenant:acme").await, before);
    // Listed as the failed order it is (-2), nothing more.
    let servers = r.i.call(who, "getservers", &[]).await;
    let rows = servers["data"]["servers"].as_array().unwrap();
    assert!(rows.iter().all(|s| s["orderStatus"] == -2), "{servers}");
    assert_books_balance(&r.i.engine).await;
}

/// A reseller whose tenant `acme` (1000.00) bought a month of the cloud product: the
/// reseller, the tenant's (appid, appkey) and the server's guid.
async fn bought_server(db: &TestDb) -> (Reseller, (String, String), String) {
    let r = reseller(db.reopen().await).await;
    let (appid, appkey) = r.i.tenant("acme", "1000.00").await;
    let line = r.product_id.to_string();
    let who = (appid.as_str(), appkey.as_str());
    let bought =
        r.i.post_form(&order(who, &line, &[("content", CONTENT)]))
            .await;
    assert_eq!(bought["code"], 1, "{bought}");
    let guid = bought["data"]["ids"][0].to_string();
    (r, (appid, appkey), guid)
}

async fn a_renewal_with_a_lost_answer_asked_again_is_not_a_success(db: &TestDb) {
    let (r, (appid, appkey), guid) = bought_server(db).await;
    let who = (appid.as_str(), appkey.as_str());
    let end = r.i.call(who, "getserver", &[("guid", &guid)]).await["data"]["endTime"].clone();
    let after_buy = r.i.balance("tenant:acme").await;
    // The upstream renews, and its answer never arrives.
    r.srv.faults.update(|c| {
        c.drop_next = 1;
        c.next_only_matching = "server_renew".into();
    });
    let renew = [
        ("guid", guid.as_str()),
        ("renewLength", "1"),
        ("client_order_id", "rn-1"),
    ];
    let first = r.i.call(who, "server_renew", &renew).await;
    assert_eq!(first["code"], 0, "{first}");
    let charged = r.i.balance("tenant:acme").await;
    assert!(
        charged < after_buy,
        "the charge stands while the journal settles it"
    );
    // Asked again before the journal settled it: still unsettled, not a renewal done
    // with the old end time.
    let again = r.i.call(who, "server_renew", &renew).await;
    assert_eq!(again["code"], 0, "{again}");
    assert_eq!(again["msg"], first["msg"], "{again}");
    // Charged once; the end shown is still the bought one until it is settled.
    assert_eq!(r.i.balance("tenant:acme").await, charged);
    let shown = r.i.call(who, "getserver", &[("guid", &guid)]).await;
    assert_eq!(shown["data"]["endTime"], end, "{shown}");
    assert_books_balance(&r.i.engine).await;
}

async fn a_renewal_asked_again_answers_what_the_first_charged(db: &TestDb) {
    let (r, (appid, appkey), guid) = bought_server(db).await;
    let who = (appid.as_str(), appkey.as_str());
    let before = r.i.balance("tenant:acme").await;
    let renew = [
        ("guid", guid.as_str()),
        ("renewLength", "1"),
        ("client_order_id", "rn-2"),
    ];
    let first = r.i.call(who, "server_renew", &renew).await;
    assert_eq!(first["code"], 1, "{first}");
    let money: Money = first["data"]["money"].as_str().unwrap().parse().unwrap();
    assert!(money > Money::ZERO, "{first}");
    assert_eq!(r.i.balance("tenant:acme").await, before - money);
    let sim_balance = r.sim.balance();
    let again = r.i.call(who, "server_renew", &renew).await;
    assert_eq!(again["code"], 1, "{again}");
    assert_eq!(again["data"], first["data"], "the first answer again");
    assert_eq!(
        r.i.balance("tenant:acme").await,
        before - money,
        "charged once"
    );
    assert_eq!(r.sim.balance(), sim_balance, "nothing sent again");
    // A cloud server renews when asked, as every family: automatic renewal is refused
    // at create, not ignored.
    let line = r.product_id.to_string();
    let auto = r#"{"cpu":1,"ram":1,"months":1,"renew_auto":1}"#;
    let v =
        r.i.post_form(&order(who, &line, &[("content", auto)]))
            .await;
    assert_eq!(v["code"], 0, "{v}");
    assert_eq!(r.i.balance("tenant:acme").await, before - money);
    assert_books_balance(&r.i.engine).await;
}

/// Not per backend: nothing here reaches the store, and the slow cases wait out
/// `guard::BODY_TIMEOUT` once, together.
#[tokio::test]
async fn an_unreadable_body_is_refused_in_the_envelope() {
    use std::time::{Duration, Instant};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let db = idcgate_store::testing::sqlite().await;
    let r = reseller(db.reopen().await).await;
    let (appid, appkey) = r.i.tenant("acme", "1000.00").await;
    let big = format!(
        "appid={appid}&appkey={appkey}&action=getservers&x={}",
        "a".repeat(3 << 20)
    );
    let (status, text) = http_post(r.i.addr, "/api/same/index", &big).await;
    assert_eq!(status, 200, "{text}");
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["code"], 0, "{v}");
    assert!(v["msg"].as_str().unwrap().contains("larger"), "{v}");
    // A body announced and never sent: answered once the body timeout passes, not held;
    // at the endpoint in its envelope, and at the REST API (which had no such limit)
    // as a JSON error, both in the one wait.
    let (_, token) =
        r.i.engine
            .create_token("test", "slow-body", idcgate_store::Scope::Admin)
            .await
            .unwrap();
    let stalled = |head: String| async move {
        let mut s = tokio::net::TcpStream::connect(r.i.addr).await.unwrap();
        s.write_all(head.as_bytes()).await.unwrap();
        let started = Instant::now();
        let mut out = Vec::new();
        let read = tokio::time::timeout(Duration::from_secs(60), s.read_to_end(&mut out)).await;
        assert!(read.is_ok(), "still held after {:?}", started.elapsed());
        assert!(
            started.elapsed() < Duration::from_secs(45),
            "{:?}",
            started.elapsed()
        );
        String::from_utf8_lossy(&out).into_owned()
    };
    let (endpoint, rest) = tokio::join!(
        stalled("POST /api/same/index HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\nConnection: close\r\n\r\nappid=1".into()),
        stalled(format!("POST /api/v1/orders HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\nIdempotency-Key: slow-1\r\nContent-Type: application/json\r\nContent-Length: 100000\r\nConnection: close\r\n\r\n{{\"a"))
    );
    assert!(endpoint.starts_with("HTTP/1.1 200"), "{endpoint}");
    assert!(endpoint.contains(r#""code":0"#), "{endpoint}");
    assert!(rest.starts_with("HTTP/1.1 400"), "{rest}");
    assert!(rest.contains("did not arrive within 30 s"), "{rest}");
    db.cleanup().await;
}
