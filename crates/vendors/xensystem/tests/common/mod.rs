#![allow(dead_code)]
#![allow(clippy::unwrap_used)] // test helpers may fail loudly

use idcgate_core::{ServerSpec, UpstreamAccount, Vendor};
use idcgate_wire::sim::SimServer;
use idcgate_wire::testing;
pub use idcgate_wire::testing::wire_config as wire;
use idcgate_wire::Simulator;
use idcgate_xensystem::{Sim, XensystemClient};
use serde_json::Value;
use std::time::Duration;

pub const ALICE: i64 = 1001;
pub const BOB: i64 = 1002;

pub async fn start(sim: &Sim) -> SimServer {
    testing::serve(sim).await
}

pub fn account(base_url: &str, creds: &[(String, String)]) -> UpstreamAccount {
    let creds = testing::credentials(creds);
    UpstreamAccount {
        rate_limit_per_sec: 1000,
        ..testing::account(Vendor::Xensystem, base_url, creds)
    }
}

pub fn connect_with(srv: &SimServer, creds: &[(String, String)]) -> XensystemClient {
    XensystemClient::new(
        &account(&srv.base_url(), creds),
        &wire(Duration::from_secs(10)),
    )
    .unwrap()
}

/// A sandbox panel, its server and a system-level connection.
pub async fn sandbox() -> (Sim, SimServer, XensystemClient) {
    let sim = Sim::sandbox();
    let srv = start(&sim).await;
    let conn = connect_with(&srv, &sim.sandbox_credentials());
    (sim, srv, conn)
}

pub fn user_conn(sim: &Sim, srv: &SimServer, username: &str) -> XensystemClient {
    connect_with(srv, &sim.user_credentials(username).unwrap())
}

/// The `0|a|b` fields of a call's JSON.
pub fn fields(v: &Value) -> Vec<String> {
    v["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_str().unwrap().to_string())
        .collect()
}

/// The required vm_create fields for a 1 vCPU / 1 GB / 20 GB VM running template 1.
pub fn create_params<'a>(
    userid: &'a str,
    serverid: &'a str,
    name: &'a str,
) -> Vec<(&'a str, &'a str)> {
    vec![
        ("userid", userid),
        ("cpu", "1"),
        ("ram_max", "1024"),
        ("ram_min", "1024"),
        ("disk", "20"),
        ("vpsname", name),
        ("osid", "1"),
        ("serverid", serverid),
    ]
}

/// Creates a VM for alice on server 1 and returns (vpsid, ip).
pub async fn create_vm(
    conn: &XensystemClient,
    name: &str,
    extra: &[(&str, &str)],
) -> (i64, String) {
    let mut p = create_params("1001", "1", name);
    p.extend_from_slice(extra);
    let v = conn.call_kv("vm_create", &p).await.unwrap();
    let f = fields(&v);
    (f[0].parse().unwrap(), f[1].clone())
}

/// The VM's uptime in seconds as vm_state reports it.
pub async fn uptime(conn: &XensystemClient, vpsid: i64) -> i64 {
    let v = conn
        .call_kv("vm_state", &[("vpsid", &vpsid.to_string())])
        .await
        .unwrap();
    v["data"]["uptime"].as_i64().unwrap()
}

/// Lets every pending task finish (the simulator completes tasks lazily on the next request).
pub fn finish_tasks(sim: &Sim) {
    sim.advance(Duration::from_secs(60));
}

/// What `Compute::create_server` is asked for: `name` on server (region) `region`, from
/// template `image`, with plan `plan`, for the user `owner`.
pub fn server_spec(name: &str, region: &str, image: &str, plan: &str, owner: &str) -> ServerSpec {
    ServerSpec {
        name: name.into(),
        region: region.into(),
        image: image.into(),
        plan: Some(plan.into()),
        owner: Some(owner.into()),
        ..ServerSpec::default()
    }
}
