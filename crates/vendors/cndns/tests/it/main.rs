//! Client -> simulator tests through a real socket, one binary (one build, one link).
//! Every implemented action is called somewhere here with its full short name; the
//! `every_implemented_action_is_exercised` test keeps it that way.
#![allow(clippy::unwrap_used)] // a test may fail loudly

mod auth;
mod cdn;
mod cloud;
mod conformance;
mod dns;
mod domain;
mod faults;
mod finance;
mod others;
mod products;
mod quirks;
mod resold;

use idcgate_cndns::{spec, Sim};
use idcgate_core::{Credentials, Error, UpstreamAccount, Vendor};
use idcgate_wire::testing;
pub use idcgate_wire::testing::OK;
pub use idcgate_wire::testing::{assert_field, assert_not_found, assert_refused};
use idcgate_wire::{form, Charset, WireRequest};
use rust_decimal::Decimal;
use serde_json::Value;
use std::str::FromStr;

idcgate_wire::vendor_env!(Sim, idcgate_cndns::connect);

pub fn account(base: &str, creds: Credentials) -> UpstreamAccount {
    testing::account(Vendor::Cndns, base, creds)
}

pub fn creds(sim: &Sim) -> Credentials {
    use idcgate_wire::Simulator;
    testing::credentials(&sim.sandbox_credentials())
}

impl Env {
    /// Runs calls in order: each succeeds (`OK`) or fails with the vendor code given.
    pub async fn steps(&self, steps: &[testing::Step<'_>]) {
        self.0.steps(code_of, steps).await
    }

    /// The 5-digit code of a call that must fail.
    pub async fn code(&self, action: &str, kv: &[(&str, &str)]) -> String {
        code_of(&self.err(action, kv).await)
    }

    /// Adds a record while `fault` spoils the answer: the write is an unknown outcome of
    /// `/domains/addrec`, sent once (never retried).
    pub async fn add_record_unanswered(
        &self,
        fault: impl FnOnce(&mut idcgate_wire::FaultConfig),
        kv: &[(&str, &str)],
    ) {
        let seen = self.srv.faults.requests();
        self.srv.faults.update(fault);
        let err = self.err("/domains/addrec", kv).await;
        assert!(
            matches!(err, Error::UnknownOutcome { ref action, .. } if action == "cndns:/domains/addrec"),
            "{err}"
        );
        assert_eq!(self.srv.faults.requests(), seen + 1);
    }

    /// The records of a zone through the Dns capability.
    pub async fn records(&self, zone: &str) -> Vec<idcgate_core::DnsRecord> {
        match self.conn.dns().unwrap().list_records(zone).await {
            Ok(r) => r,
            Err(e) => panic!("list_records {zone}: {e}"),
        }
    }

    /// DomainDetail's one object for a domain of the account.
    pub async fn detail(&self, domain: &str) -> Value {
        first(
            &self
                .ok("/domains/domaindetail", &[("domainname", domain)])
                .await,
        )
    }

    /// `availablebalance` as the upstream reports it.
    pub async fn balance(&self) -> Decimal {
        dec(&first(&self.ok("/user/userdetail", &[]).await)["availablebalance"])
    }

    /// A raw GET to the simulator (no client policy) with the given pairs; the decoded
    /// envelope as JSON.
    pub async fn raw(&self, path: &str, pairs: &[(String, String)]) -> Value {
        let url = self.url(&format!("{path}?{}", form::encode(pairs, Charset::Utf8)));
        let resp = self.transmit(&WireRequest::get(url)).await;
        assert_eq!(resp.content_type, "text/html; charset=utf-8");
        serde_json::from_slice(&resp.body).expect("clean JSON body")
    }

    /// Auth pairs for a raw request with the given otime.
    pub fn auth_at(&self, otime: &str) -> Vec<(String, String)> {
        let (u, p, e) = self.sim.credentials();
        vec![
            ("username".into(), u.clone()),
            ("otime".into(), otime.into()),
            (
                "checksum".into(),
                idcgate_cndns::checksum(&u, &p, otime, &e),
            ),
        ]
    }
}

/// A domain registered, but in another account.
pub const NOT_MINE: [(&str, &str); 1] = [("domainname", "not-mine.com")];

/// `/domains/addrec` parameters: a `rtype` record `item` -> `value` in `zone`.
pub fn rec<'a>(
    zone: &'a str,
    item: &'a str,
    rtype: &'a str,
    value: &'a str,
) -> [(&'a str, &'a str); 4] {
    [
        ("domainname", zone),
        ("rec_item", item),
        ("rec_type", rtype),
        ("rec_value", value),
    ]
}

/// `/domains/createdom` parameters for the contact `uid`.
pub fn createdom<'a>(
    uid: &'a str,
    domain: &'a str,
    years: &'a str,
    pass: &'a str,
) -> [(&'a str, &'a str); 4] {
    [
        ("userid", uid),
        ("domainname", domain),
        ("years", years),
        ("domainpass", pass),
    ]
}

/// The usual test configuration with a read retried once.
pub fn retrying_once() -> idcgate_wire::WireConfig {
    testing::wire_config_retrying(testing::TIMEOUT, 1)
}

/// `yyyyMMddHHmmss` + `fff` in China time, `offset_ms` from now.
pub fn otime(offset_ms: i64) -> String {
    let now = jiff::Timestamp::now()
        .checked_add(jiff::SignedDuration::from_millis(offset_ms))
        .unwrap();
    now.to_zoned(jiff::tz::TimeZone::fixed(jiff::tz::offset(8)))
        .strftime("%Y%m%d%H%M%S%3f")
        .to_string()
}

pub fn dec(v: &Value) -> Decimal {
    Decimal::from_str(
        v.as_str()
            .unwrap_or_else(|| panic!("not a money string: {v}")),
    )
    .unwrap()
}

/// The list a `message` holds; a missing list fails the test (an "is empty" assertion
/// must not pass on an answer of the wrong shape).
pub fn list(v: &Value) -> Vec<Value> {
    match v.as_array() {
        Some(a) => a.clone(),
        None => panic!("no list in {v}"),
    }
}

pub fn first(v: &Value) -> Value {
    list(v)
        .into_iter()
        .next()
        .unwrap_or_else(|| panic!("empty list {v}"))
}

/// The 5-digit code an error keeps (Upstream code, or the code at the start of the text).
pub fn code_of(e: &Error) -> String {
    match e {
        Error::Upstream { code, .. } => code.clone(),
        Error::NotFound { what } => what.chars().take(5).collect(),
        Error::InvalidInput { reason, .. } => reason.chars().take(5).collect(),
        Error::Authentication { message, .. } | Error::InsufficientBalance { message, .. } => {
            message.chars().take(5).collect()
        }
        other => other.to_string(),
    }
}

/// The full name `/{module}/{op}` from a table of literal names: loops over sibling
/// modules (edm/sms, bcc/ali) call through it, so every name they exercise is written
/// out once (which `every_implemented_action_is_exercised` reads).
#[track_caller]
pub fn op(table: &[&'static str], module: &str, op: &str) -> &'static str {
    let want = format!("/{module}/{op}");
    match table.iter().find(|n| **n == want) {
        Some(n) => n,
        None => panic!("{want} is not in the table"),
    }
}

#[test]
fn spec_ids_match_the_catalog() {
    let catalog = include_str!("../catalog-cndns.tsv");
    assert_eq!(spec().matches_catalog(catalog), Ok(216));
    let post: Vec<&str> = spec()
        .actions
        .iter()
        .filter(|a| a.method != "GET")
        .map(|a| a.id.as_str())
        .collect();
    assert_eq!(post, ["cndns:/domains/domainaudit"]);
}

#[test]
fn every_implemented_action_is_exercised() {
    let missing = testing::unexercised(
        spec(),
        &[
            include_str!("auth.rs"),
            include_str!("cdn.rs"),
            include_str!("cloud.rs"),
            include_str!("dns.rs"),
            include_str!("domain.rs"),
            include_str!("faults.rs"),
            include_str!("finance.rs"),
            include_str!("others.rs"),
            include_str!("products.rs"),
            include_str!("quirks.rs"),
            include_str!("resold.rs"),
            include_str!("main.rs"),
        ],
    );
    assert!(missing.is_empty(), "not exercised: {missing:?}");
}
