//! The simulator host through a real socket, with a toy vendor: rollback of refused
//! writes (and what a refusal keeps), spec validation, the body-size policy, field
//! order, multipart, refusals that name their action, in-process calls, the clock
//! endpoint and the dispatch table's gaps.
#![allow(clippy::unwrap_used)] // a test may fail loudly

use axum::http::Method;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use idcgate_core::spec::{ActionSpec, VendorSpec};
use idcgate_core::Vendor;
use idcgate_wire::sim::{
    serve, Call, Clock, FieldOrder, Handler, Handlers, Host, Incoming, Mount, Outcome, Refusal,
    Route, SimState, SimVendor, Simulator, CLOCK_PATH,
};
use std::sync::OnceLock;

#[derive(Clone, Default)]
struct Counter {
    n: i64,
    /// Attempts to add, refused ones included: kept through rollbacks.
    tries: u32,
    clock: Clock,
}

impl SimState for Counter {
    fn clock(&mut self) -> &mut Clock {
        &mut self.clock
    }
}

struct Toy;

const TABLE: &str = "\
zonkvm:get\tread\tPOST\tapi\tget\t-\timpl\t
zonkvm:add\twrite\tPOST\tapi\tadd\tn*:int,note=hi\timpl\t
zonkvm:later\twrite\tPOST\tapi\tlater\t-\ttodo\t
zonkvm:lost\tread\tPOST\tapi\tlost\t-\timpl\t
";

fn add(st: &mut Counter, call: &Call<'_, Toy>) -> Result<String, String> {
    let n: i64 = call.get("n").and_then(|v| v.parse().ok()).unwrap_or(0);
    // Mutate first, refuse after: the host must undo it (but for `tries`).
    st.tries += 1;
    st.n += n;
    if st.n > 10 {
        return Err("too big".into());
    }
    Ok(format!("{} {}", st.n, call.arg("note").unwrap_or_default()))
}

fn handler(name: &str) -> Option<Handler<Toy>> {
    Some(match name {
        "get" => |st, call| {
            Ok(format!(
                "{} {} {} {}",
                st.n,
                call.now(),
                call.ctx(),
                call.client_ip().is_some()
            ))
        },
        "add" => add,
        "later" => |_, _| Ok("never".into()),
        _ => return None,
    })
}

impl SimVendor for Toy {
    type State = Counter;
    type Ctx = &'static str;
    type Ok = String;
    type Fail = String;

    const VENDOR: Vendor = Vendor::Zonkvm;
    const MOUNTS: &'static [Mount] = &[Mount::Post("/api")];
    const MAX_BODY: usize = 256;
    const FIELD_ORDER: FieldOrder = FieldOrder::QueryFirst;
    const FILE_NAME_FIELD: Option<&'static str> = Some("filename");
    const HANDLERS: &'static [Handlers<Self>] = &[handler];

    fn spec() -> &'static VendorSpec {
        static SPEC: OnceLock<VendorSpec> = OnceLock::new();
        SPEC.get_or_init(|| VendorSpec::parse(Vendor::Zonkvm, TABLE).expect("toy table"))
    }

    fn resolve(_: &mut Counter, req: &Incoming) -> Result<Route<Self>, Refusal<String>> {
        match req.get("op") {
            None => Err(Refusal::Fail("no op".into())),
            Some("secret") => Err(Refusal::answer(StatusCode::NOT_FOUND)),
            Some("locked") => Err(Refusal::FailAt(&Self::spec().actions[0], "locked".into())),
            Some(op) => Self::spec()
                .find(op)
                .filter(|a| a.implemented)
                .map(|action| Route { action, ctx: "ctx" })
                .ok_or_else(|| Refusal::Fail(format!("unknown {op}"))),
        }
    }

    fn invalid(req: &Incoming, _: &ActionSpec, field: &str, reason: &str) -> String {
        format!(
            "invalid {field} ({}): {reason}",
            req.raw(field).unwrap_or("-")
        )
    }

    fn unrouted(action: &ActionSpec) -> String {
        format!("unrouted {}", action.name())
    }

    fn oversize(req: &Incoming) -> Refusal<String> {
        Refusal::Fail(format!("too large{}", req.raw("why").unwrap_or_default()))
    }

    fn keep_refused(_: &String, restored: &mut Counter, refused: Counter) {
        restored.tries = refused.tries;
    }

    fn render(_: &mut Counter, _: &Incoming, outcome: Outcome<'_, Self>) -> Response {
        let route = outcome.action.map_or("-", |a| a.name());
        match outcome.result {
            Ok(v) => format!("ok {route} {v}").into_response(),
            Err(e) => format!("err {route} {e}").into_response(),
        }
    }

    fn sandbox_credentials(_: &Counter) -> Vec<(String, String)> {
        vec![("k".into(), "v".into())]
    }
}

idcgate_wire::sim_handle! {
    /// The toy's handle, as a vendor declares its `Sim`.
    struct ToySim(Host<Toy>);
}

/// Sends `req` with `content_type` (if any) and `body`: the status and the text.
async fn send(
    req: reqwest::RequestBuilder,
    content_type: Option<&str>,
    body: &str,
) -> (reqwest::StatusCode, String) {
    let req = match content_type {
        Some(ct) => req.header("content-type", ct),
        None => req,
    };
    let resp = req.body(body.to_string()).send().await.unwrap();
    (resp.status(), resp.text().await.unwrap())
}

async fn post(base: &str, query: &str, body: &str) -> String {
    let req = reqwest::Client::new().post(format!("{base}/api{query}"));
    let form = Some("application/x-www-form-urlencoded");
    send(req, form, body).await.1
}

#[tokio::test]
async fn host_pipeline() {
    let sim = ToySim::from_state(Counter::default());
    let host = sim.host.clone();
    assert_eq!(
        (sim.vendor(), sim.sandbox_credentials()),
        (Vendor::Zonkvm, vec![("k".into(), "v".into())])
    );
    let srv = serve(&sim, "127.0.0.1:0".parse().unwrap()).await.unwrap();
    let base = srv.base_url();

    assert_eq!(post(&base, "", "op=add&n=4").await, "ok add 4 hi");
    assert_eq!(
        post(&base, "", "op=add&n=20").await,
        "err add too big",
        "refused after mutating"
    );
    assert_eq!(host.with_state(|s| s.n), 4, "the refused write was undone");
    assert_eq!(host.with_state(|s| s.tries), 2, "but for what it keeps");
    assert_eq!(
        post(&base, "", "op=add&n=x").await,
        "err add invalid n (x): n must be an integer"
    );
    assert_eq!(
        post(&base, "", "op=add&n=%201%20").await,
        "ok add 5 hi",
        "values are checked trimmed"
    );
    assert_eq!(
        post(&base, "?n=1", "op=add&n=3").await,
        "ok add 6 hi",
        "query first"
    );
    assert_eq!(post(&base, "", "n=1").await, "err - no op");
    assert_eq!(
        post(&base, "", "op=locked").await,
        "err get locked",
        "a refusal naming its action"
    );
    assert_eq!(post(&base, "", "op=later").await, "err - unknown later");
    assert_eq!(post(&base, "", "op=lost").await, "err lost unrouted lost");
    assert_eq!(Host::<Toy>::unrouted(), vec!["zonkvm:lost"]);
    let big = format!("op=add&n=1&pad={}", "x".repeat(300));
    assert_eq!(
        post(&base, "", &big).await,
        "err - too large",
        "never an empty form"
    );
    assert_eq!(
        post(&base, "?why=%20(query)", &big).await,
        "err - too large (query)",
        "the query string still reaches the oversize answer"
    );
    assert_eq!(host.with_state(|s| s.n), 6);

    let c = reqwest::Client::new();
    let (status, _) = send(c.post(format!("{base}/api")), None, "op=secret").await;
    assert_eq!(status, 404);

    // Multipart: the file part's name reaches `filename`, values decode once.
    let body = "--b\r\nContent-Disposition: form-data; name=\"op\"\r\n\r\nadd\r\n--b\r\nContent-Disposition: form-data; name=\"n\"; filename=\"n.txt\"\r\n\r\n2\r\n--b--\r\n";
    let multipart = Some("multipart/form-data; boundary=b");
    let (_, text) = send(c.post(format!("{base}/api")), multipart, body).await;
    assert_eq!(text, "ok add 8 hi");

    // The clock: steered over HTTP, never faulted, seen by handlers.
    srv.faults.update(|f| f.error_next = 5);
    let clock = format!("{base}{CLOCK_PATH}");
    let json = Some("application/json");
    let set = r#"{"now": "2026-01-01T00:00:00Z", "advance_secs": 60}"#;
    let (status, _) = send(c.put(&clock), json, set).await;
    assert_eq!(status, 200);
    let (_, shown) = send(c.get(&clock), None, "").await;
    assert_eq!(shown, r#"{"now":"2026-01-01T00:01:00Z"}"#);
    let (status, _) = send(c.put(&clock), json, r#"{"advance_secs": -1}"#).await;
    assert!(status.is_client_error());
    srv.faults.update(|f| f.error_next = 0);
    assert_eq!(
        post(&base, "", "op=get").await,
        "ok get 8 2026-01-01T00:01:00Z ctx true"
    );
    sim.advance(std::time::Duration::from_secs(60));
    assert_eq!(sim.now().to_string(), "2026-01-01T00:02:00Z");
    sim.set_now("2026-02-01T00:00:00Z".parse().unwrap());
    assert_eq!(host.now().to_string(), "2026-02-01T00:00:00Z");
}

/// A call made in-process (a batch job replaying single calls): the handler runs on the
/// request as given, from the peer given, with the spec's defaults and no validation.
#[test]
fn in_process_calls_reach_the_handler_as_given() {
    let action = Toy::spec().find("add").unwrap();
    let req = Incoming::new(Method::POST, "/api", vec![("n".into(), " 3 ".into())])
        .with_client_ip([10, 0, 0, 1].into());
    let mut st = Counter::default();
    let now = st.clock.now();
    let call = Call::<Toy>::new(&req, action, &"job", now);
    assert_eq!(add(&mut st, &call), Ok("3 hi".into()));
    assert_eq!(
        (call.client_ip(), *call.ctx(), call.now()),
        (Some([10, 0, 0, 1].into()), "job", now)
    );
    let big = Incoming::new(Method::POST, "/api", vec![("n".into(), "20".into())]);
    assert_eq!(
        add(&mut st, &Call::new(&big, action, &"job", now)),
        Err("too big".into())
    );
    assert_eq!((st.n, st.tries), (23, 2), "nothing is undone in-process");
}
