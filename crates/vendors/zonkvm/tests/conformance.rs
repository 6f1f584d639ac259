//! The conformance suite (issue 13): every "返回数据示例" of the Zonkvm document
//! (`tests/fixtures/conformance.txt`) decoded by the client, and answered in the same
//! shape by the simulator after the fixture's preparation.

use idcgate_wire::testing::{conformance, Conformance, ShapeDiff};
use idcgate_zonkvm::Sim;
use serde_json::Value;

fn parse(body: &[u8]) -> Option<Value> {
    let text = std::str::from_utf8(body).ok()?;
    serde_json::from_str(text.trim().trim_start_matches('\u{feff}')).ok()
}

/// The crate's documented payload: `data` when it carries something, else the whole
/// envelope; `code 0` is a refusal with `msg`.
fn expect(sample: &Value) -> Result<Value, (String, String)> {
    match sample["code"].as_i64() {
        Some(0) => Err((
            "0".into(),
            sample["msg"].as_str().unwrap_or_default().to_string(),
        )),
        _ => Ok(match sample.get("data") {
            None | Some(Value::Null) => sample.clone(),
            Some(Value::String(s)) if s.is_empty() => sample.clone(),
            Some(d) => d.clone(),
        }),
    }
}

/// ThinkPHP's envelope always carries `msg`, `url` and `wait` (三、响应格式); most samples
/// leave them out.
fn allowed(d: &ShapeDiff) -> bool {
    matches!(d, ShapeDiff::Extra(p) if p == "/msg" || p == "/url" || p == "/wait")
}

#[tokio::test]
async fn every_document_sample() {
    let summary = conformance(&Conformance {
        sim: Sim::sandbox,
        connect: idcgate_zonkvm::connect,
        spec: idcgate_zonkvm::spec,
        fixtures: include_str!("fixtures/conformance.txt"),
        parse,
        expect,
        allowed,
        content_type: "application/json; charset=utf-8",
        // ThinkPHP's `json()` response.
        answer_content_type: Some("application/json; charset=utf-8"),
        vars: &[
            ("crt", include_str!("fixtures/site.crt")),
            ("key", include_str!("fixtures/site.key")),
        ],
    })
    .await;
    summary.assert_clean();
}
