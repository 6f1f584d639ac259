//! The conformance suite (issue 13): the West document's response sample and the
//! response fields VENDOR-FACTS lists (`tests/fixtures/conformance.txt`), decoded by the
//! client and answered in the same shape by the simulator.

use idcgate_west::Sim;
use idcgate_wire::charset::decode_lenient;
use idcgate_wire::testing::{conformance, Conformance, ShapeDiff};
use serde_json::Value;

/// A body read as the client reads one without a declared charset: UTF-8 (the fixture
/// file), else GBK (what West and its simulator send).
fn parse(body: &[u8]) -> Option<Value> {
    serde_json::from_str(decode_lenient(body).trim()).ok()
}

/// The client's payload: `data` of the main envelope (`result` 200), `body` of the older
/// one (`code` 200); any other code is a refusal with `msg`, worded with `errcode` (main)
/// or `code` (older).
fn expect(sample: &Value) -> Result<Value, (String, String)> {
    let (status, code_key, payload) = match sample.get("result") {
        Some(r) => (r, "errcode", "data"),
        None => (&sample["code"], "code", "body"),
    };
    if status.as_i64() == Some(200) {
        return Ok(sample.get(payload).cloned().unwrap_or(Value::Null));
    }
    let code = match &sample[code_key] {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let msg = sample["msg"].as_str().unwrap_or_default().to_string();
    Err((code, msg))
}

#[tokio::test]
async fn every_document_sample() {
    let summary = conformance(&Conformance {
        sim: Sim::sandbox,
        connect: idcgate_west::connect,
        spec: idcgate_west::spec,
        fixtures: include_str!("../fixtures/conformance.txt"),
        parse,
        expect,
        // West's envelopes have no key a sample leaves out everywhere.
        allowed: |_: &ShapeDiff| false,
        // The fixture file is UTF-8; the client decodes by the declared charset, so the
        // sample is declared as what it is (the GBK path is held by the simulator's
        // answers, read back through the same decoding).
        content_type: "application/json; charset=utf-8",
        // VENDOR-FACTS: "Responses carry `Content-Type: application/json; Charset=gb2312`".
        answer_content_type: Some("application/json; Charset=gb2312"),
        vars: &[],
    })
    .await;
    summary.assert_clean();
}
