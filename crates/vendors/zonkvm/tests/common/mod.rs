#![allow(dead_code)]
#![allow(clippy::unwrap_used)] // test helpers may fail loudly

pub use idcgate_core::Money;
use idcgate_core::{Error, UpstreamAccount, Vendor};
use idcgate_wire::sim::SimServer;
use idcgate_wire::testing;
pub use idcgate_wire::testing::wire_config as wire;
use idcgate_wire::Simulator;
use idcgate_zonkvm::{Sim, ZonkvmClient};
use serde_json::Value;
use std::time::Duration;

pub const LINE_DY: &str = "1696808021765605";
pub const CENTOS: &str = "1659170791658716";
pub const WIN: &str = "1659170726623836";
pub const UBUNTU: &str = "1701234567890123";
pub const HOST_LINE: &str = "20250409132657673528";
pub const LINE_SX: &str = "20250407014442321990";
/// The sandbox's two hosting products (80.00 and 150.00 a month).
pub const HOST_A: &str = "20250408030033590712";
pub const HOST_B: &str = "20250408030033590713";

pub fn account(base_url: &str, creds: &[(String, String)]) -> UpstreamAccount {
    let creds = testing::credentials(creds);
    UpstreamAccount {
        rate_limit_per_sec: 1000,
        ..testing::account(Vendor::Zonkvm, base_url, creds)
    }
}

pub fn connect_with(
    srv: &SimServer,
    creds: &[(String, String)],
    timeout: Duration,
) -> ZonkvmClient {
    ZonkvmClient::new(&account(&srv.base_url(), creds), &wire(timeout)).unwrap()
}

/// The sandbox simulator, served on a free local port.
pub async fn served() -> (Sim, SimServer) {
    let sim = Sim::sandbox();
    let srv = testing::serve(&sim).await;
    (sim, srv)
}

pub async fn sandbox() -> (Sim, SimServer, ZonkvmClient) {
    let (sim, srv) = served().await;
    let conn = connect_with(&srv, &sim.sandbox_credentials(), Duration::from_secs(10));
    (sim, srv, conn)
}

/// `create_order#create_server` parameters for a CentOS server on the 德阳 line:
/// `more` (the `order_id`) first, then the line, the image and `content` (JSON).
pub fn server_order<'a>(more: &[(&'a str, &'a str)], content: &'a str) -> Vec<(&'a str, &'a str)> {
    let mut kv = more.to_vec();
    kv.extend([
        ("line_guid", LINE_DY),
        ("system_guid", CENTOS),
        ("content", content),
    ]);
    kv
}

/// The smallest server (1 core, 1 GB).
pub const SMALLEST: &str = r#"{"cpu":1,"ram":1}"#;

/// Buys a cloud server on the 德阳 line and returns its id.
pub async fn buy_server(conn: &ZonkvmClient, order_id: &str, content: &str) -> i64 {
    let order = server_order(&[("order_id", order_id)], content);
    let v = conn
        .call_kv("create_order#create_server", &order)
        .await
        .unwrap();
    v["ids"][0].as_i64().unwrap()
}

/// Places an order that must take `fen` from the balance; returns the answer.
pub async fn place(
    sim: &Sim,
    conn: &ZonkvmClient,
    action: &str,
    params: &[(&str, &str)],
    fen: i64,
) -> Value {
    let before = in_fen(sim.balance());
    let v = conn.call_kv(action, params).await.unwrap();
    assert_eq!(in_fen(sim.balance()), before - fen, "{action} charged");
    v
}

/// [`place`]s an order whose answer states the `fen` it took as its `money`, and reads
/// the first resource it made back through `read` (`getserver`, ...): its id and what
/// the read answers.
pub async fn placed(
    sim: &Sim,
    conn: &ZonkvmClient,
    action: &str,
    params: &[(&str, &str)],
    fen: i64,
    read: &str,
) -> (i64, Value) {
    let v = place(sim, conn, action, params, fen).await;
    let money = format!("{}.{:02}", fen / 100, fen % 100);
    assert_eq!(v["money"], money.as_str(), "{action}");
    let id = v["ids"][0].as_i64().unwrap();
    (id, get(conn, read, id).await)
}

pub async fn get(conn: &ZonkvmClient, action: &str, id: i64) -> Value {
    conn.call_kv(action, &[("guid", &id.to_string())])
        .await
        .unwrap()
}

/// Runs a sub-operation on one order (hosting_operate#.. / sql_operate#.. / server_..).
pub async fn op(conn: &ZonkvmClient, action: &str, id: i64, extra: &[(&str, &str)]) -> Value {
    let id = id.to_string();
    let mut p = vec![("guid", id.as_str())];
    p.extend_from_slice(extra);
    conn.call_kv(action, &p).await.unwrap()
}

pub fn charges(sim: &Sim) -> i64 {
    sim.ledger().iter().map(|r| r.amount_fen).sum()
}

/// An amount in fen, for exact arithmetic on balances in tests.
pub fn in_fen(m: Money) -> i64 {
    m.to_fen().unwrap()
}

/// The system's refusal in its words (a `参数错误：<field>格式不正确` one is read as
/// invalid input naming the field).
pub fn refused_saying(err: &Error, text: &str) {
    assert!(
        matches!(err, Error::Upstream { message, .. } if message == text)
            || matches!(err, Error::InvalidInput { field, reason }
                if reason == text && text.contains(field.as_str())),
        "expected {text:?}, got {err:?}"
    );
}
