#![allow(dead_code)]

use idcgate_core::{Credentials, UpstreamAccount, Vendor};
use idcgate_wire::sim::{serve, SimServer};
use idcgate_wire::{Simulator, WireConfig};
use idcgate_zonkvm::{Sim, ZonkvmClient};
use serde_json::Value;
use std::time::Duration;

pub const LINE_DY: &str = "1696808021765605";
pub const CENTOS: &str = "1659170791658716";
pub const WIN: &str = "1659170726623836";
pub const UBUNTU: &str = "1701234567890123";
pub const HOST_LINE: &str = "20250409132657673528";

pub fn account(base_url: &str, creds: &[(String, String)]) -> UpstreamAccount {
    let mut c = Credentials::new();
    for (k, v) in creds {
        c.insert(k, v);
    }
    UpstreamAccount {
        name: "zk".into(),
        vendor: Vendor::Zonkvm,
        base_url: base_url.to_string(),
        credentials: c,
        rate_limit_per_sec: 1000,
    }
}

pub fn wire(timeout: Duration) -> WireConfig {
    let mut cfg = WireConfig::new("tests@idcgate.invalid");
    cfg.timeout = timeout;
    cfg.read_retries = 0;
    cfg
}

pub fn connect_with(
    srv: &SimServer,
    creds: &[(String, String)],
    timeout: Duration,
) -> ZonkvmClient {
    ZonkvmClient::new(&account(&srv.base_url(), creds), &wire(timeout)).unwrap()
}

pub async fn sandbox() -> (Sim, SimServer, ZonkvmClient) {
    let sim = Sim::sandbox();
    let srv = serve(&sim, "127.0.0.1:0".parse().unwrap()).await.unwrap();
    let conn = connect_with(&srv, &sim.sandbox_credentials(), Duration::from_secs(10));
    (sim, srv, conn)
}

/// Buys a cloud server on the 德阳 line and returns its id.
pub async fn buy_server(conn: &ZonkvmClient, order_id: &str, content: &str) -> i64 {
    let v = conn
        .call_kv(
            "create_order#create_server",
            &[
                ("order_id", order_id),
                ("line_guid", LINE_DY),
                ("system_guid", CENTOS),
                ("content", content),
            ],
        )
        .await
        .unwrap();
    v["ids"][0].as_i64().unwrap()
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
