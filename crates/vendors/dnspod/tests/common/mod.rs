//! Shared helpers: a simulator on a real socket, accounts, clients and raw requests.
#![allow(dead_code)]

use idcgate_core::{Credentials, UpstreamAccount, Vendor};
use idcgate_dnspod::{DnspodClient, Format, Sim};
use idcgate_wire::{HttpClient, Redactor, SimServer, WireConfig, WireRequest};
use jiff::Timestamp;
use std::time::Duration;

pub const FORMATS: [Format; 2] = [Format::Json, Format::Xml];

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
    idcgate_wire::sim::serve(sim, "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap()
}

pub fn cfg() -> WireConfig {
    let mut c = WireConfig::new("tests@idcgate.test");
    c.timeout = Duration::from_secs(5);
    c.read_retries = 0;
    c
}

pub fn account(base_url: &str, creds: &[(&str, &str)]) -> UpstreamAccount {
    let mut c = Credentials::new();
    for (k, v) in creds {
        c.insert(k, v);
    }
    UpstreamAccount {
        name: "t".into(),
        vendor: Vendor::Dnspod,
        base_url: base_url.into(),
        credentials: c,
        rate_limit_per_sec: 1000,
    }
}

pub fn client(srv: &SimServer, creds: &[(&str, &str)], format: Format) -> DnspodClient {
    DnspodClient::new(&account(&srv.base_url(), creds), &cfg())
        .unwrap()
        .with_format(format)
}

/// The sandbox agent's account on this server.
pub fn sandbox_account(sim: &Sim, srv: &SimServer) -> UpstreamAccount {
    use idcgate_wire::Simulator;
    let creds = sim.sandbox_credentials();
    let pairs: Vec<(&str, &str)> = creds
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    account(&srv.base_url(), &pairs)
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
    let http = HttpClient::new(Vendor::Dnspod, &cfg(), 1000, Redactor::default()).unwrap();
    let req = WireRequest::form_post(format!("{base}/{method}"), body.to_string(), "UTF-8");
    let resp = http.transmit(method, &req).await.unwrap();
    (
        resp.status,
        resp.content_type,
        String::from_utf8(resp.body.to_vec()).unwrap(),
    )
}

pub async fn raw_get(base: &str, method: &str) -> String {
    let http = HttpClient::new(Vendor::Dnspod, &cfg(), 1000, Redactor::default()).unwrap();
    let resp = http
        .transmit(
            method,
            &WireRequest::get(format!("{base}/{method}?format=json")),
        )
        .await
        .unwrap();
    String::from_utf8(resp.body.to_vec()).unwrap()
}
