//! Shared helpers: a simulator on a real socket, accounts, clients and raw requests.
#![allow(dead_code)]
#![allow(clippy::unwrap_used)] // test helpers may fail loudly

use idcgate_core::{UpstreamAccount, Vendor};
use idcgate_dnspod::{DnspodClient, Format, Sim};
use idcgate_wire::testing;
use idcgate_wire::{SimServer, WireConfig, WireRequest};
use jiff::Timestamp;
use std::time::Duration;

pub const FORMATS: [Format; 2] = [Format::Json, Format::Xml];

/// The sandbox agent's API token (`login_token`), as `Sim::sandbox()` seeds it.
pub const SANDBOX_TOKEN: &str = "10001,5f1d0c2a9be34e7f8a6b2c4d6e8f0a1b";

/// The start of a raw form from the sandbox agent asking for JSON.
pub fn sandbox_json() -> String {
    format!("format=json&login_token={SANDBOX_TOKEN}")
}

/// 2026-01-02 03:04:05 UTC = 11:04:05 in China.
pub fn start() -> Timestamp {
    "2026-01-02T03:04:05Z".parse().unwrap()
}

/// An empty world with the clock frozen at [`start`].
pub fn fixed_sim() -> Sim {
    let sim = Sim::new();
    sim.set_now(start());
    sim
}

pub async fn serve(sim: &Sim) -> SimServer {
    testing::serve(sim).await
}

pub fn cfg() -> WireConfig {
    testing::wire_config(Duration::from_secs(5))
}

pub fn account(base_url: &str, creds: &[(&str, &str)]) -> UpstreamAccount {
    let creds = testing::credentials(creds);
    UpstreamAccount {
        rate_limit_per_sec: 1000,
        ..testing::account(Vendor::Dnspod, base_url, creds)
    }
}

pub fn client(srv: &SimServer, creds: &[(&str, &str)], format: Format) -> DnspodClient {
    DnspodClient::new(&account(&srv.base_url(), creds), &cfg())
        .unwrap()
        .with_format(format)
}

/// The sandbox agent's account on this server.
pub fn sandbox_account(sim: &Sim, srv: &SimServer) -> UpstreamAccount {
    UpstreamAccount {
        rate_limit_per_sec: 1000,
        ..testing::sandbox_account(sim, srv)
    }
}

/// The sandbox agent's client.
pub fn sandbox_client(sim: &Sim, srv: &SimServer, format: Format) -> DnspodClient {
    DnspodClient::new(&sandbox_account(sim, srv), &cfg())
        .unwrap()
        .with_format(format)
}

pub fn params(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// A raw POST with the given form body; (HTTP status, content type, body text).
pub async fn raw_post(base: &str, method: &str, body: &str) -> (u16, String, String) {
    let req = WireRequest::form_post(format!("{base}/{method}"), body.to_string(), "UTF-8");
    let resp = testing::transmit(Vendor::Dnspod, &req).await;
    (
        resp.status,
        resp.content_type,
        String::from_utf8(resp.body.to_vec()).unwrap(),
    )
}

pub async fn raw_get(base: &str, method: &str) -> String {
    let req = WireRequest::get(format!("{base}/{method}?format=json"));
    let resp = testing::transmit(Vendor::Dnspod, &req).await;
    String::from_utf8(resp.body.to_vec()).unwrap()
}

/// `sim` served, with the sandbox agent's client in `format`.
pub async fn sandbox_on(sim: Sim, format: Format) -> (Sim, SimServer, DnspodClient) {
    let srv = serve(&sim).await;
    let c = sandbox_client(&sim, &srv, format);
    (sim, srv, c)
}

/// The sandbox served, with its agent's client in `format`.
pub async fn sandbox(format: Format) -> (Sim, SimServer, DnspodClient) {
    sandbox_on(Sim::sandbox(), format).await
}

/// The User-Agent of raw socket requests meant to pass the simulator's client checks.
pub const TEST_UA: &str = "idcgate-tests/1.0 (tests@idcgate.test)";

/// The content type of a form body.
pub const FORM: &str = "application/x-www-form-urlencoded";

/// A raw HTTP/1.1 request over a plain socket, nothing in between (any bytes, any size, no
/// User-Agent when `ua` is empty); the whole answer, headers included.
pub async fn socket_request(
    base: &str,
    verb: &str,
    path: &str,
    ua: &str,
    ctype: &str,
    body: &[u8],
) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = base.trim_start_matches("http://");
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let ua = match ua {
        "" => String::new(),
        ua => format!("User-Agent: {ua}\r\n"),
    };
    let head = format!(
        "{verb} {path} HTTP/1.1\r\nHost: {addr}\r\n{ua}Content-Type: {ctype}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).await.unwrap();
    // The server may answer before reading a body it refuses whole.
    let _ = s.write_all(body).await;
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out).await;
    String::from_utf8_lossy(&out).into_owned()
}
