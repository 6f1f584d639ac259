//! The shared call path against a scripted upstream: which answers are retried, which
//! become unknown outcomes, how refusals are classified.
#![allow(clippy::unwrap_used)] // a test may fail loudly

use axum::extract::State;
use axum::routing::post;
use axum::Router;
use idcgate_core::error::{ErrorTable, RefusalKind, VendorCode};
use idcgate_core::spec::{ActionSpec, Args, VendorSpec};
use idcgate_core::{Error, Vendor};
use idcgate_wire::exchange::{Decoded, Exchange, Protocol, Refusal};
use idcgate_wire::{HttpClient, Redactor, WireConfig, WireRequest, WireResponse};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

const TABLE: &str = "west:get\tread\tPOST\t/x\tget\tid*:int\timpl\n\
west:buy\twrite\tPOST\t/x\tbuy\tid*:int\timpl\n";

fn spec() -> &'static VendorSpec {
    static S: OnceLock<VendorSpec> = OnceLock::new();
    S.get_or_init(|| VendorSpec::parse(Vendor::West, TABLE).expect("table"))
}

static ERRORS: ErrorTable = ErrorTable::new(
    "west",
    &[
        VendorCode::new("7", RefusalKind::NotFound, "no such thing"),
        VendorCode::new("8", RefusalKind::InvalidInput, "bad field"),
    ],
);

/// Answers `ok:<json>`, `no:<code>:<msg>`; anything else is unreadable.
struct Toy {
    base: String,
}

impl Protocol for Toy {
    const SPEC: fn() -> &'static VendorSpec = spec;
    const ERRORS: &'static ErrorTable = &ERRORS;

    fn vendor(&self) -> Vendor {
        Vendor::West
    }
    fn encode(&self, action: &ActionSpec, args: &Args<'_>) -> idcgate_core::Result<WireRequest> {
        let body = idcgate_wire::form::encode(args.pairs(), idcgate_wire::Charset::Utf8);
        Ok(WireRequest::form_post(
            format!("{}{}?a={}", self.base, action.path, action.action),
            body,
            "utf-8",
        ))
    }
    fn decode(&self, _action: &ActionSpec, r: &WireResponse) -> Decoded {
        let text = String::from_utf8_lossy(&r.body);
        if r.status != 200 {
            return Decoded::Unreadable(format!("status {}", r.status));
        }
        if let Some(v) = text.strip_prefix("ok:") {
            return match serde_json::from_str(v) {
                Ok(v) => Decoded::Data(v),
                Err(e) => Decoded::Unreadable(e.to_string()),
            };
        }
        if let Some(rest) = text.strip_prefix("no:") {
            let (code, msg) = rest.split_once(':').unwrap_or((rest, ""));
            // Like West's `field: reason`, the first word names the field.
            let field = msg.split_whitespace().next().unwrap_or_default();
            return Decoded::Refused(Refusal::new(code, msg).with_field(field));
        }
        Decoded::Unreadable("no envelope".into())
    }
    fn retry_refused_read(&self, refusal: &Refusal) -> bool {
        refusal.code == "dup"
    }
}

/// The upstream answers from a script, one entry per request, then `ok:1` forever.
#[derive(Clone, Default)]
struct Upstream {
    script: Arc<Mutex<Vec<(u16, &'static str)>>>,
    hits: Arc<AtomicUsize>,
}

async fn answer(State(up): State<Upstream>) -> (axum::http::StatusCode, String) {
    up.hits.fetch_add(1, Ordering::SeqCst);
    let next = {
        let mut s = up.script.lock().unwrap();
        if s.is_empty() {
            (200, "ok:1")
        } else {
            s.remove(0)
        }
    };
    (
        axum::http::StatusCode::from_u16(next.0).unwrap(),
        next.1.to_string(),
    )
}

async fn setup(script: Vec<(u16, &'static str)>) -> (Exchange<Toy>, Upstream) {
    let up = Upstream::default();
    *up.script.lock().unwrap() = script;
    let app = Router::new()
        .route("/x", post(answer))
        .with_state(up.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let cfg = WireConfig::new("test@example.com");
    let http = HttpClient::new(Vendor::West, &cfg, 1000, Redactor::new(["s3cret"])).unwrap();
    let ex = Exchange::new(
        Toy {
            base: format!("http://{addr}"),
        },
        http,
        2,
    )
    .with_backoff(Duration::from_millis(1));
    (ex, up)
}

#[tokio::test]
async fn a_read_is_retried_after_a_500_and_after_an_unreadable_200() {
    let (ex, up) = setup(vec![
        (500, "oops"),
        (200, "<html>proxy</html>"),
        (200, "ok:{\"n\":5}"),
    ])
    .await;
    let v = ex.call_kv("get", &[("id", "1")]).await.unwrap();
    assert_eq!(v, serde_json::json!({"n": 5}));
    assert_eq!(up.hits.load(Ordering::SeqCst), 3);

    let (ex, up) = setup(vec![(502, ""), (200, "ok:{"), (200, "garbage")]).await;
    let err = ex.call_kv("get", &[("id", "1")]).await.unwrap_err();
    assert_eq!(err.kind(), "transport", "{err}");
    assert_eq!(
        up.hits.load(Ordering::SeqCst),
        3,
        "1 + read_retries attempts"
    );
}

#[tokio::test]
async fn a_write_is_never_retried_and_an_unreadable_answer_is_an_unknown_outcome() {
    for script in [vec![(500, "oops")], vec![(200, "ok:{")], vec![(200, "")]] {
        let (ex, up) = setup(script).await;
        let err = ex.call_kv("buy", &[("id", "1")]).await.unwrap_err();
        assert!(
            matches!(&err, Error::UnknownOutcome { action, .. } if action == "west:buy"),
            "{err}"
        );
        assert_eq!(up.hits.load(Ordering::SeqCst), 1, "never re-sent");
    }
}

#[tokio::test]
async fn a_write_that_never_connected_failed_in_transport() {
    let cfg = WireConfig::new("t");
    let http = HttpClient::new(Vendor::West, &cfg, 1000, Redactor::default()).unwrap();
    // Port 9 on loopback: nothing listens, so the request cannot have reached anyone.
    let ex = Exchange::new(
        Toy {
            base: "http://127.0.0.1:9".into(),
        },
        http,
        0,
    );
    let err = ex.call_kv("buy", &[("id", "1")]).await.unwrap_err();
    assert_eq!(err.kind(), "transport", "{err}");
}

#[tokio::test]
async fn refusals_are_classified_by_the_table_and_redacted_and_not_retried() {
    let (ex, up) = setup(vec![(200, "no:7:gone"), (200, "no:9:key s3cret rejected")]).await;
    let err = ex.call_kv("get", &[("id", "1")]).await.unwrap_err();
    assert_eq!(err.kind(), "not_found");
    let err = ex.call_kv("get", &[("id", "1")]).await.unwrap_err();
    assert_eq!(err, Error::upstream("west", "9", "key [redacted] rejected"));
    assert_eq!(up.hits.load(Ordering::SeqCst), 2);
    // A secret the upstream echoes as the field's name is blanked there too (found by
    // the west_answer fuzz target).
    let (ex, _) = setup(vec![(200, "no:8:s3cret_id is bad")]).await;
    let err = ex.call_kv("get", &[("id", "1")]).await.unwrap_err();
    assert!(
        matches!(&err, Error::InvalidInput { field, .. } if field == "[redacted]_id"),
        "{err:?}"
    );
    assert!(!format!("{err:?}").contains("s3cret"), "{err:?}");
}

#[tokio::test]
async fn the_spec_is_checked_before_anything_is_sent() {
    let (ex, up) = setup(vec![]).await;
    let err = ex.call_kv("get", &[("id", "x")]).await.unwrap_err();
    assert_eq!(err.kind(), "invalid_input");
    let err = ex.call_kv("nope", &[]).await.unwrap_err();
    assert_eq!(err.kind(), "invalid_input");
    assert_eq!(up.hits.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn a_payload_the_caller_cannot_read_is_retried_for_reads_and_unknown_for_writes() {
    let need_n = |v: serde_json::Value| {
        v.get("n")
            .and_then(|n| n.as_i64())
            .ok_or("no n".to_string())
    };
    let (ex, up) = setup(vec![(200, "ok:{}"), (200, "ok:{\"n\":3}")]).await;
    assert_eq!(
        ex.call_kv_as("get", &[("id", "1")], need_n).await.unwrap(),
        3
    );
    assert_eq!(up.hits.load(Ordering::SeqCst), 2);
    let (ex, up) = setup(vec![(200, "ok:{}")]).await;
    let err = ex
        .call_kv_as("buy", &[("id", "1")], need_n)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), "unknown_outcome", "{err}");
    assert_eq!(up.hits.load(Ordering::SeqCst), 1);
}

/// A refusal the protocol calls transient (CNDNS's duplicate-`otime` guard) sends a read
/// again, re-encoded; a write so refused is never re-sent, and other refusals are final.
#[tokio::test]
async fn a_read_refused_as_a_duplicate_is_sent_again_a_write_never() {
    let (ex, up) = setup(vec![(200, "no:dup:seen that one")]).await;
    assert_eq!(ex.call_kv("get", &[("id", "1")]).await.unwrap(), 1);
    assert_eq!(up.hits.load(Ordering::SeqCst), 2);
    let (ex, up) = setup(vec![(200, "no:dup:seen that one")]).await;
    let err = ex.call_kv("buy", &[("id", "1")]).await.unwrap_err();
    assert!(!matches!(err, Error::UnknownOutcome { .. }), "{err:?}");
    assert_eq!(up.hits.load(Ordering::SeqCst), 1, "never re-sent");
}
