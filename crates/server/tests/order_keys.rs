//! `POST /api/v1/orders` under a caller who reuses or mangles its Idempotency-Key, or
//! slips settings into a purchase that takes none, over a real socket against the real
//! West simulator, on SQLite and PostgreSQL (found by QA of issue #10).
#![allow(clippy::unwrap_used)] // a test may fail loudly

mod common;

use common::Api;
use idcgate_store::testing::TestDb;
use idcgate_store::{both_backends, OrderFilter, Scope};
use serde_json::Value;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

both_backends!(
    a_key_reused_for_another_purchase_is_refused_and_nothing_is_sent,
    a_key_that_is_not_printable_ascii_is_refused_by_name,
    two_keys_on_one_purchase_are_refused,
    a_domain_purchase_refuses_options_and_credentials_are_never_journalled,
    racing_requests_with_one_key_get_one_created_and_the_rest_ok,
);

async fn start(db: &TestDb) -> Api {
    common::start(db, "qa", Scope::Admin).await
}

impl Api {
    /// `POST /api/v1/orders` with `key` as the Idempotency-Key's raw bytes; the status
    /// and the JSON answer.
    async fn order(&self, key: &[u8], body: &str) -> (u16, Value) {
        let mut req = format!(
            "POST /api/v1/orders HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\nIdempotency-Key: ",
            self.token,
            body.len()
        )
        .into_bytes();
        req.extend_from_slice(key);
        req.extend_from_slice(b"\r\n\r\n");
        req.extend_from_slice(body.as_bytes());
        let mut s = TcpStream::connect(self.addr).await.unwrap();
        s.write_all(&req).await.unwrap();
        let mut answer = Vec::new();
        tokio::time::timeout(Duration::from_secs(20), s.read_to_end(&mut answer))
            .await
            .unwrap()
            .unwrap();
        let text = String::from_utf8_lossy(&answer).into_owned();
        let status = text.split_whitespace().nth(1).unwrap().parse().unwrap();
        // Connection: close, so the body is everything after the head (not chunked:
        // the answers are small JSON with a length).
        let (_, body) = text.split_once("\r\n\r\n").unwrap();
        let value = serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {text}"));
        (status, value)
    }

    async fn orders(&self) -> usize {
        self.engine
            .reads()
            .orders(&OrderFilter::default())
            .await
            .unwrap()
            .len()
    }
}

fn register(domain: &str, extra: &str) -> String {
    format!(r#"{{"account":"w","operation":"register","domain":"{domain}"{extra}}}"#)
}

/// The same key with another body used to answer 200 with the first order, as if the
/// second purchase had been made; it is refused before anything reaches the upstream.
async fn a_key_reused_for_another_purchase_is_refused_and_nothing_is_sent(db: &TestDb) {
    let api = start(db).await;
    let (status, first) = api.order(b"k-1", &register("qa-first.com", "")).await;
    assert_eq!(status, 201, "{first}");
    assert_eq!(first["state"], "succeeded", "{first}");
    // The same purchase again: the first order, nothing sent.
    let sent = api.srv.faults.requests();
    let (status, again) = api.order(b"k-1", &register("qa-first.com", "")).await;
    assert_eq!((status, &again["id"]), (200, &first["id"]), "{again}");
    assert_eq!(api.srv.faults.requests(), sent);
    for other in [
        register("qa-second.com", ""),
        register("qa-first.com", r#","years":2"#),
        r#"{"account":"w","operation":"renew","domain":"qa-first.com"}"#.to_string(),
    ] {
        let (status, answer) = api.order(b"k-1", &other).await;
        // 422, as the Idempotency-Key draft asks of a key reused with another payload.
        assert_eq!(status, 422, "{other}: {answer}");
        let message = answer["error"]["message"].as_str().unwrap();
        assert!(
            message.contains("another purchase") && message.contains("k-1"),
            "{message}"
        );
        assert_eq!(api.srv.faults.requests(), sent, "{other} reached West");
    }
    assert_eq!(api.orders().await, 1);
}

/// A control character in a key was stored and shown back; a key outside ASCII was
/// answered as if the header were missing.
async fn a_key_that_is_not_printable_ascii_is_refused_by_name(db: &TestDb) {
    let api = start(db).await;
    let (status, answer) = api.order(b"a\tb", &register("qa-tab.com", "")).await;
    assert_eq!(status, 400, "{answer}");
    assert!(
        answer["error"]["message"]
            .as_str()
            .unwrap()
            .contains("control characters"),
        "{answer}"
    );
    let (status, answer) = api
        .order("ключ".as_bytes(), &register("qa-utf.com", ""))
        .await;
    assert_eq!(status, 400, "{answer}");
    assert_eq!(answer["error"]["field"], "Idempotency-Key", "{answer}");
    assert!(
        answer["error"]["message"]
            .as_str()
            .unwrap()
            .contains("printable ASCII"),
        "{answer}"
    );
    assert_eq!(api.orders().await, 0);
}

/// Two Idempotency-Key headers were read as the first (QA of the resale work): which
/// key a purchase counts under is not guessed.
async fn two_keys_on_one_purchase_are_refused(db: &TestDb) {
    let api = start(db).await;
    let sent = api.srv.faults.requests();
    let (status, answer) = api
        .order(b"k1\r\nIdempotency-Key: k2", &register("qa-two.com", ""))
        .await;
    assert_eq!(status, 400, "{answer}");
    assert_eq!(answer["error"]["field"], "Idempotency-Key", "{answer}");
    assert_eq!(api.srv.faults.requests(), sent);
    assert_eq!(api.orders().await, 0);
}

/// A domain registration takes no settings: `options` used to be journalled (a
/// `credential` in clear) and then dropped, a `price` among them looking honoured.
async fn a_domain_purchase_refuses_options_and_credentials_are_never_journalled(db: &TestDb) {
    let api = start(db).await;
    for options in [
        r#","options":{"price":"0.01"}"#,
        r#","options":{"credential":"Cred-Secret-66"}"#,
    ] {
        let (status, answer) = api.order(b"opt-1", &register("qa-opt.com", options)).await;
        // Well-formed (options is a free map), but a registration takes none: 422.
        assert_eq!(status, 422, "{options}: {answer}");
        assert!(
            answer["error"]["message"]
                .as_str()
                .unwrap()
                .contains("takes no options"),
            "{answer}"
        );
    }
    assert_eq!(api.orders().await, 0);
    let audit = format!("{:?}", api.engine.audit_trail(100).await.unwrap());
    assert!(!audit.contains("Cred-Secret-66"), "{audit}");
}

/// Twelve requests with one key at once: one order, and exactly one answer says it was
/// created (201); the others found it (200). The status used to be decided before the
/// order was placed, so racers that created nothing answered 201 too.
async fn racing_requests_with_one_key_get_one_created_and_the_rest_ok(db: &TestDb) {
    let api = std::sync::Arc::new(start(db).await);
    // Slow answers keep the requests overlapping.
    api.srv.faults.update(|c| c.latency_ms = 150);
    let body = register("qa-race.com", "");
    let racers: Vec<_> = (0..12)
        .map(|_| {
            let api = api.clone();
            let body = body.clone();
            tokio::spawn(async move { api.order(b"race-1", &body).await })
        })
        .collect();
    let mut statuses = Vec::new();
    let mut ids = std::collections::BTreeSet::new();
    for r in racers {
        let (status, order) = r.await.unwrap();
        statuses.push(status);
        ids.insert(order["id"].to_string());
    }
    assert_eq!(ids.len(), 1, "{ids:?}");
    assert_eq!(api.orders().await, 1);
    assert_eq!(
        statuses.iter().filter(|s| **s == 201).count(),
        1,
        "{statuses:?}"
    );
    assert!(
        statuses.iter().all(|s| *s == 201 || *s == 200),
        "{statuses:?}"
    );
}
