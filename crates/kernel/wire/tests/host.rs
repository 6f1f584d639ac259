//! The simulator host through a real socket, with a toy vendor: rollback of refused
//! writes, spec validation, the body-size policy, field order, multipart, the clock
//! endpoint and the dispatch table's gaps.
#![allow(clippy::unwrap_used)] // a test may fail loudly

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use idcgate_core::spec::{ActionSpec, VendorSpec};
use idcgate_core::Vendor;
use idcgate_wire::sim::{
    serve, Call, Clock, FieldOrder, Handler, Host, Incoming, Mount, Outcome, Refusal, Route,
    SimState, SimVendor, Simulator, CLOCK_PATH,
};
use std::sync::{Arc, OnceLock};

#[derive(Clone, Default)]
struct Counter {
    n: i64,
    clock: Clock,
}

impl SimState for Counter {
    fn clock(&self) -> &Clock {
        &self.clock
    }
    fn clock_mut(&mut self) -> &mut Clock {
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
    // Mutate first, refuse after: the host must undo it.
    st.n += n;
    if st.n > 10 {
        return Err("too big".into());
    }
    Ok(format!("{} {}", st.n, call.arg("note").unwrap_or_default()))
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

    fn spec() -> &'static VendorSpec {
        static SPEC: OnceLock<VendorSpec> = OnceLock::new();
        SPEC.get_or_init(|| VendorSpec::parse(Vendor::Zonkvm, TABLE).expect("toy table"))
    }

    fn handler(action: &ActionSpec) -> Option<Handler<Self>> {
        Some(match action.name() {
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

    fn resolve(_: &mut Counter, req: &Incoming) -> Result<Route<Self>, Refusal<String>> {
        match req.get("op") {
            None => Err(Refusal::Fail("no op".into())),
            Some("secret") => Err(Refusal::answer(StatusCode::NOT_FOUND)),
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

    fn oversize() -> Refusal<String> {
        Refusal::Fail("too large".into())
    }

    fn render(_: &mut Counter, _: &Incoming, outcome: Outcome<'_, Self>) -> Response {
        let route = outcome.route.map_or("-", |r| r.action.name());
        match outcome.result {
            Ok(v) => format!("ok {route} {v}").into_response(),
            Err(e) => format!("err {route} {e}").into_response(),
        }
    }

    fn sandbox_credentials(_: &Counter) -> Vec<(String, String)> {
        vec![("k".into(), "v".into())]
    }
}

struct ToySim(Host<Toy>);

impl Simulator for ToySim {
    fn vendor(&self) -> Vendor {
        self.0.vendor()
    }
    fn router(&self) -> axum::Router {
        self.0.router()
    }
    fn sandbox_credentials(&self) -> Vec<(String, String)> {
        self.0.sandbox_credentials()
    }
    fn clock(&self) -> Option<Arc<dyn idcgate_wire::sim::ClockControl>> {
        Some(self.0.clock_control())
    }
}

async fn post(base: &str, query: &str, body: &str) -> String {
    reqwest::Client::new()
        .post(format!("{base}/api{query}"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body.to_string())
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

#[tokio::test]
async fn host_pipeline() {
    let host = Host::<Toy>::new(Counter::default());
    let srv = serve(&ToySim(host.clone()), "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let base = srv.base_url();

    assert_eq!(post(&base, "", "op=add&n=4").await, "ok add 4 hi");
    assert_eq!(
        post(&base, "", "op=add&n=20").await,
        "err add too big",
        "refused after mutating"
    );
    assert_eq!(host.with_state(|s| s.n), 4, "the refused write was undone");
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
    assert_eq!(post(&base, "", "op=later").await, "err - unknown later");
    assert_eq!(post(&base, "", "op=lost").await, "err lost unrouted lost");
    assert_eq!(Host::<Toy>::unrouted(), vec!["zonkvm:lost"]);
    let big = format!("op=add&n=1&pad={}", "x".repeat(300));
    assert_eq!(
        post(&base, "", &big).await,
        "err - too large",
        "never an empty form"
    );
    assert_eq!(host.with_state(|s| s.n), 6);

    let resp = reqwest::Client::new()
        .post(format!("{base}/api"))
        .body("op=secret")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 404);

    // Multipart: the file part's name reaches `filename`, values decode once.
    let body = "--b\r\nContent-Disposition: form-data; name=\"op\"\r\n\r\nadd\r\n--b\r\nContent-Disposition: form-data; name=\"n\"; filename=\"n.txt\"\r\n\r\n2\r\n--b--\r\n";
    let text = reqwest::Client::new()
        .post(format!("{base}/api"))
        .header("content-type", "multipart/form-data; boundary=b")
        .body(body)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(text, "ok add 8 hi");

    // The clock: steered over HTTP, never faulted, seen by handlers.
    srv.faults.update(|f| f.error_next = 5);
    let c = reqwest::Client::new();
    let put = c
        .put(format!("{base}{CLOCK_PATH}"))
        .header("content-type", "application/json")
        .body(r#"{"now": "2026-01-01T00:00:00Z", "advance_secs": 60}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), 200);
    let shown = c
        .get(format!("{base}{CLOCK_PATH}"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(shown, r#"{"now":"2026-01-01T00:01:00Z"}"#);
    let bad = c
        .put(format!("{base}{CLOCK_PATH}"))
        .header("content-type", "application/json")
        .body(r#"{"advance_secs": -1}"#)
        .send()
        .await
        .unwrap();
    assert!(bad.status().is_client_error());
    srv.faults.update(|f| f.error_next = 0);
    assert_eq!(
        post(&base, "", "op=get").await,
        "ok get 8 2026-01-01T00:01:00Z ctx true"
    );
    host.advance(std::time::Duration::from_secs(60));
    assert_eq!(host.now().to_string(), "2026-01-01T00:02:00Z");
}
