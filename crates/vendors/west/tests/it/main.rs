//! Client -> simulator tests through a real socket, one binary (one build, one link).
//! Every implemented action is called somewhere here with its full name; the
//! `every_implemented_action_is_exercised` test keeps it that way.

mod auth;
mod dns;
mod domain;
mod faults;
mod others;
mod server;

use idcgate_core::{Connection, Credentials, Error, UpstreamAccount, Vendor};
use idcgate_west::{spec, Sim};
use idcgate_wire::{
    form, Charset, HttpClient, Redactor, SimServer, WireConfig, WireRequest, WireResponse,
};
use rust_decimal::Decimal;
use serde_json::Value;
use std::str::FromStr;
use std::sync::Arc;

pub struct Env {
    pub sim: Sim,
    pub srv: SimServer,
    pub conn: Arc<dyn Connection>,
}

pub fn account(base: &str, user: &str, pw: &str) -> UpstreamAccount {
    UpstreamAccount {
        name: "west-test".into(),
        vendor: Vendor::West,
        base_url: base.into(),
        credentials: Credentials::new()
            .with("username", user)
            .with("api_password", pw),
        rate_limit_per_sec: 0,
    }
}

pub fn cfg() -> WireConfig {
    let mut c = WireConfig::new("tests@idcgate.invalid");
    c.read_retries = 0;
    c
}

pub async fn env() -> Env {
    env_with(Sim::sandbox(), cfg()).await
}

pub async fn env_with(sim: Sim, cfg: WireConfig) -> Env {
    let srv = idcgate_wire::sim::serve(&sim, "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let (u, p) = sim.credentials();
    let conn = idcgate_west::connect(&account(&srv.base_url(), &u, &p), &cfg).unwrap();
    Env { sim, srv, conn }
}

impl Env {
    pub async fn call(&self, action: &str, kv: &[(&str, &str)]) -> Result<Value, Error> {
        let params = kv
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        self.conn.call(action, &params).await
    }

    pub async fn ok(&self, action: &str, kv: &[(&str, &str)]) -> Value {
        match self.call(action, kv).await {
            Ok(v) => v,
            Err(e) => panic!("{action} failed: {e}"),
        }
    }

    pub async fn err(&self, action: &str, kv: &[(&str, &str)]) -> Error {
        match self.call(action, kv).await {
            Ok(v) => panic!("{action} unexpectedly succeeded: {v}"),
            Err(e) => e,
        }
    }

    /// The vendor code of a call that must fail.
    pub async fn code(&self, action: &str, kv: &[(&str, &str)]) -> String {
        code_of(&self.err(action, kv).await)
    }

    pub async fn balance(&self) -> Decimal {
        dec(&self.ok("info.checkbalance", &[]).await["balance"])
    }

    /// A raw POST to the simulator (no client policy), for wire-level assertions.
    pub async fn raw(&self, path_and_query: &str, body: Vec<u8>) -> WireResponse {
        let http = HttpClient::new(Vendor::West, &cfg(), 0, Redactor::default()).unwrap();
        let req = WireRequest {
            method: idcgate_wire::client::Method::Post,
            url: format!("{}{path_and_query}", self.srv.base_url()),
            body: Some(body),
            content_type: Some("application/x-www-form-urlencoded".into()),
            headers: Vec::new(),
        };
        http.transmit("raw", &req).await.unwrap()
    }

    /// A raw POST whose answer must be GBK JSON with the live Content-Type.
    pub async fn raw_json(&self, path_and_query: &str, body: Vec<u8>) -> Value {
        let resp = self.raw(path_and_query, body).await;
        assert_eq!(resp.content_type, "application/json; Charset=gb2312");
        let text = Charset::Gbk.decode(&resp.body).expect("GBK body");
        serde_json::from_str(&text).expect("JSON body")
    }

    /// Auth pairs for a raw request signed now.
    pub fn auth(&self) -> Vec<(String, String)> {
        let (u, p) = self.sim.credentials();
        let time = self.sim.now_ms().to_string();
        vec![
            ("username".into(), u.clone()),
            ("token".into(), idcgate_west::token(&u, &p, &time)),
            ("time".into(), time),
        ]
    }
}

pub fn gbk_form(pairs: &[(String, String)]) -> Vec<u8> {
    form::encode(pairs, Charset::Gbk).into_bytes()
}

pub fn dec(v: &Value) -> Decimal {
    Decimal::from_str(
        v.as_str()
            .unwrap_or_else(|| panic!("not a money string: {v}")),
    )
    .unwrap()
}

/// `items` of a list answer; a missing list fails the test (an "is empty" assertion
/// must not pass on an answer of the wrong shape).
pub fn items(v: &Value) -> Vec<Value> {
    match v["items"].as_array() {
        Some(a) => a.clone(),
        None => panic!("no items list in {v}"),
    }
}

pub fn id_of(v: &Value, k: &str) -> String {
    match &v[k] {
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.clone(),
        other => panic!("{k} missing in {other}"),
    }
}

/// The vendor code kept in an error (Upstream code, or the errcode in the text).
pub fn code_of(e: &Error) -> String {
    match e {
        Error::Upstream { code, .. } => code.clone(),
        other => other.to_string(),
    }
}

#[test]
fn spec_ids_match_the_catalog() {
    let catalog = include_str!("../catalog-west.tsv");
    assert_eq!(spec().matches_catalog(catalog), Ok(190));
    assert_eq!(
        idcgate_core::spec::catalog_ids(catalog)
            .filter(|i| i.starts_with("west:dnsrec."))
            .count(),
        5
    );
}

#[test]
fn every_implemented_action_is_exercised() {
    let src = [
        include_str!("auth.rs"),
        include_str!("dns.rs"),
        include_str!("domain.rs"),
        include_str!("faults.rs"),
        include_str!("others.rs"),
        include_str!("server.rs"),
    ]
    .concat();
    let missing: Vec<&str> = spec()
        .implemented()
        .map(|a| a.name())
        .filter(|n| !src.contains(&format!("\"{n}\"")))
        .collect();
    assert!(missing.is_empty(), "actions without a test: {missing:?}");
}
