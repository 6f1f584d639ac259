//! Client -> simulator tests through a real socket, one binary (one build, one link).
//! Every implemented action is called somewhere here with its full name; the
//! `every_implemented_action_is_exercised` test keeps it that way.
#![allow(clippy::unwrap_used)] // a test may fail loudly

mod auth;
mod conformance;
mod dns;
mod domain;
mod faults;
mod others;
mod server;

use idcgate_core::{Credentials, Error, UpstreamAccount, Vendor};
use idcgate_west::{spec, Sim};
use idcgate_wire::testing;
pub use idcgate_wire::testing::OK;
pub use idcgate_wire::testing::{assert_field, assert_not_found};
use idcgate_wire::{form, Charset, WireRequest, WireResponse};
use rust_decimal::Decimal;
use serde_json::Value;
use std::str::FromStr;
use std::sync::Arc;

idcgate_wire::vendor_env!(Sim, idcgate_west::connect);

pub fn account(base: &str, user: &str, pw: &str) -> UpstreamAccount {
    let creds = Credentials::new()
        .with("username", user)
        .with("api_password", pw);
    testing::account(Vendor::West, base, creds)
}

impl Env {
    /// Runs calls in order: each succeeds (`OK`) or fails with the errcode given (see
    /// [`errcode_of`]).
    pub async fn steps(&self, steps: &[testing::Step<'_>]) {
        self.0.steps(errcode_of, steps).await
    }

    /// The vendor code of a call that must fail.
    pub async fn code(&self, action: &str, kv: &[(&str, &str)]) -> String {
        code_of(&self.err(action, kv).await)
    }

    /// Buys through `action` at `price` (the balance falls by it); the new resource's id.
    pub async fn buys(&self, action: &str, kv: &[(&str, &str)], price: Decimal) -> String {
        let before = self.balance().await;
        let bought = self.ok(action, kv).await;
        assert_eq!(self.balance().await, before - price, "{action}");
        id_of(&bought, "id")
    }

    pub async fn balance(&self) -> Decimal {
        dec(&self.ok("info.checkbalance", &[]).await["balance"])
    }

    /// Asserts a list action answers an empty `items` list.
    pub async fn lists_nothing(&self, action: &str, kv: &[(&str, &str)]) {
        let listed = items(&self.ok(action, kv).await);
        assert!(listed.is_empty(), "{action} {kv:?}: {listed:?}");
    }

    /// The `price` a quote answers.
    pub async fn price(&self, action: &str, kv: &[(&str, &str)]) -> Decimal {
        dec(&self.ok(action, kv).await["price"])
    }

    /// Asserts what a name check (`domain.checkdomain`, `host.checkftp`, ...) answers for
    /// each `(name, avail)`, the name sent as `key`: `avail` 1 when the name is free.
    pub async fn avail(&self, action: &str, key: &str, names: &[(&str, i64)]) {
        for (name, avail) in names {
            self.reads(&[(action, &[(key, name)], "/avail", (*avail).into())])
                .await;
        }
    }

    /// A free trial at `id` cannot be renewed; `convert` charges `price`. The balance
    /// before the conversion.
    pub async fn converts_trial(
        &self,
        [renew, convert]: [&str; 2],
        id: &[(&str, &str)],
        price: Decimal,
    ) -> Decimal {
        self.fails_saying(renew, id, "20113").await;
        let before = self.balance().await;
        self.ok(convert, id).await;
        assert_eq!(self.balance().await, before - price, "{convert}");
        before
    }

    /// Passwords are never read back: only the refusal of a weak one is observable; then
    /// `strong` is accepted.
    pub async fn changes_password(&self, action: &str, id: (&str, &str), strong: &str) {
        assert_eq!(
            self.code(action, &[id, ("password", "12345678")]).await,
            "invalid password: errcode 20000: password: 密码需8-32位且包含字母和数字"
        );
        self.ok(action, &[id, ("password", strong)]).await;
    }

    /// A raw POST to the simulator (no client policy), for wire-level assertions.
    pub async fn raw(&self, path_and_query: &str, body: Vec<u8>) -> WireResponse {
        let req = WireRequest {
            method: idcgate_wire::client::Method::Post,
            url: self.url(path_and_query),
            body: Some(body),
            content_type: Some("application/x-www-form-urlencoded".into()),
            headers: Vec::new(),
        };
        self.transmit(&req).await
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

/// `domain.regdomain` parameters: `domain` for the contact template `tid`.
pub fn reg<'a>(domain: &'a str, tid: &'a str) -> [(&'a str, &'a str); 2] {
    [("domain", domain), ("templateid", tid)]
}

/// `[cpu, memory, disk, bandwidth]` of the smallest server.
pub const TINY: [&str; 4] = ["1", "1", "0", "1"];

/// `[cpu, memory, disk, bandwidth]` of a server the sandbox balance cannot pay for.
pub const HUGE: [&str; 4] = ["32", "64", "2000", "200"];

/// `server.buy` parameters: room, image, `[cpu, memory, disk, bandwidth]`, the root
/// password and `more` (month, name, trial).
pub fn server_order<'a>(
    room: &'a str,
    os: &'a str,
    [cpu, memory, disk, bandwidth]: [&'a str; 4],
    password: &'a str,
    more: &[(&'a str, &'a str)],
) -> Vec<(&'a str, &'a str)> {
    let mut kv = vec![
        ("serverroom", room),
        ("os", os),
        ("cpu", cpu),
        ("memory", memory),
        ("disk", disk),
        ("bandwidth", bandwidth),
        ("password", password),
    ];
    kv.extend_from_slice(more);
    kv
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

/// The errcode an error carries: the Upstream code, or the `errcode N` its text quotes
/// (an invalid input, a not-found); else its whole text.
pub fn errcode_of(e: &Error) -> String {
    let text = match e {
        Error::Upstream { code, .. } => return code.clone(),
        other => other.to_string(),
    };
    match text.split_once("errcode ") {
        Some((_, rest)) => rest.chars().take_while(char::is_ascii_digit).collect(),
        None => text,
    }
}

/// The vendor code kept in an error (Upstream code, or the errcode in the text).
pub fn code_of(e: &Error) -> String {
    match e {
        Error::Upstream { code, .. } => code.clone(),
        other => other.to_string(),
    }
}

/// A short name several ids end in is refused as ambiguous, naming every candidate;
/// a full or unique name still finds its action (issue #15 item 3).
#[test]
fn an_ambiguous_short_name_lists_its_candidates() {
    let Err(Error::InvalidInput { reason, .. }) = spec().require("getprice") else {
        panic!("getprice must be refused")
    };
    for id in [
        "domain.getprice",
        "server.getprice",
        "host.getprice",
        "mail.getprice",
        "miniapp.getprice",
        "mssql.getprice",
    ] {
        assert!(reason.contains(id), "{reason}");
    }
    assert!(spec().require("domain.getprice").is_ok());
    assert!(spec().require("west:domain.getprice").is_ok());
    let Err(Error::InvalidInput { reason, .. }) = spec().require("nosuch") else {
        panic!("nosuch must be refused")
    };
    assert!(reason.contains("no documented action"), "{reason}");
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
    let missing = testing::unexercised(
        spec(),
        &[
            include_str!("auth.rs"),
            include_str!("dns.rs"),
            include_str!("domain.rs"),
            include_str!("faults.rs"),
            include_str!("others.rs"),
            include_str!("server.rs"),
        ],
    );
    assert!(missing.is_empty(), "actions without a test: {missing:?}");
}
