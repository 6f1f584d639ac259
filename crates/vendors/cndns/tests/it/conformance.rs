//! The conformance suite (issue 13): every "返回" sample and every field list of the
//! CNDNS document (`tests/fixtures/conformance.txt`) decoded by the client, and answered
//! in the same shape by the simulator after the fixture's preparation.

use idcgate_cndns::Sim;
use idcgate_wire::testing::{
    conformance, parse_fixtures, simulator_answer, Conformance, ShapeDiff,
};
use serde_json::{Map, Value};

/// A body read as JSON, envelope and all (a byte-order mark and blanks around it
/// allowed). The samples are repaired where the PDF conversion broke them (noted in the
/// fixture), so the reading is strict: an answer that needs the client's tolerance to
/// be read is a difference.
fn parse(body: &[u8]) -> Option<Value> {
    let text = std::str::from_utf8(body).ok()?;
    serde_json::from_str(text.trim().trim_start_matches('\u{feff}')).ok()
}

/// The documented payload (三、响应格式, catalog notes §3): `message` on success — the
/// JSON a string `message` holds (DNSList) read as JSON, and keys beside the envelope
/// (ReplyDetail's `state`, `hasReply`) kept with it — the whole object for a bare CDN
/// statistics answer, and `"<code> <text>"` for a failure.
fn expect(sample: &Value) -> Result<Value, (String, String)> {
    let Some(obj) = sample.as_object() else {
        return Ok(sample.clone());
    };
    let Some(status) = obj.get("status").and_then(Value::as_str) else {
        return Ok(sample.clone());
    };
    let message = obj.get("message").cloned().unwrap_or(Value::Null);
    if status.trim() != "success" {
        let text = match &message {
            Value::String(s) => s.trim().to_string(),
            other => other.to_string(),
        };
        let code: String = text.chars().take_while(char::is_ascii_digit).collect();
        let rest = text[code.len()..].trim().to_string();
        return Err((code, rest));
    }
    let message = match &message {
        Value::String(s) if s.trim().starts_with(['[', '{']) => {
            serde_json::from_str(s.trim()).unwrap_or(message)
        }
        _ => message,
    };
    let extra: Map<String, Value> = obj
        .iter()
        .filter(|(k, _)| !matches!(k.as_str(), "action" | "status" | "message"))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    if extra.is_empty() {
        return Ok(message);
    }
    let mut o = extra;
    o.insert("message".into(), message);
    Ok(Value::Object(o))
}

/// Every key of an answer is in the samples; nothing is allowed beyond them.
fn allowed(_: &ShapeDiff) -> bool {
    false
}

/// Defaults for the names the fixtures' preparations bind (the client's decoding runs
/// without them, and a typed parameter must still bind).
const VARS: [(&str, &str); 12] = [
    ("uid", "1"),
    ("rec", "1"),
    ("cloud", "S262491"),
    ("site", "pro000001"),
    ("q", "266"),
    ("acc", "a@a.com"),
    ("nme", "qtb60001"),
    ("cdn", "cdn72916197"),
    ("vm", "b785289"),
    ("disk", "132322"),
    ("dd", "10004566"),
    ("ddn", "ddos70301892"),
];

/// The suite's inputs: the sandbox, the fixtures, how the samples read.
fn suite() -> Conformance<Sim> {
    Conformance {
        sim: Sim::sandbox,
        connect: idcgate_cndns::connect,
        spec: idcgate_cndns::spec,
        fixtures: include_str!("../fixtures/conformance.txt"),
        parse,
        expect,
        allowed,
        // ASP.NET's default for an .aspx page (VENDOR-FACTS names no other).
        content_type: "text/html; charset=utf-8",
        answer_content_type: Some("text/html; charset=utf-8"),
        vars: &VARS,
    }
}

#[tokio::test]
async fn every_document_sample() {
    conformance(&suite()).await.assert_clean();
}

/// The 权限验证 failure every call answers to a bad checksum, labelled with the action
/// the document took it from, not the one its fixture calls.
const AUTH: &str = "cndns:/domains/domaindetail (权限验证)";

/// The `action` label of every answer is the one the document writes for the action
/// (any of its samples' labels, blanks and copying slips kept), success or refusal
/// alike: a label is a value, which the shape comparison does not look at.
#[tokio::test]
async fn action_labels_are_the_documents() {
    let c = suite();
    let fixtures = parse_fixtures(c.fixtures);
    let label = |v: &Value| v.get("action").and_then(Value::as_str).map(str::to_string);
    let mut wrong = Vec::new();
    for fx in fixtures.iter().filter(|fx| fx.id != AUTH) {
        let Some(want) = parse(fx.sample.as_bytes()).as_ref().and_then(label) else {
            continue;
        };
        let documented: Vec<String> = fixtures
            .iter()
            .filter(|o| o.call.action == fx.call.action && o.id != AUTH)
            .filter_map(|o| parse(o.sample.as_bytes()).as_ref().and_then(label))
            .collect();
        let got = match simulator_answer(&c, fx).await {
            Ok(answer) => parse(&answer.body).as_ref().and_then(label),
            Err(e) => panic!("{} (line {}): {e}", fx.id, fx.line),
        };
        match got {
            Some(g) if documented.contains(&g) => {}
            other => wrong.push(format!("{}: {other:?}, the document {want:?}", fx.id)),
        }
    }
    assert!(wrong.is_empty(), "labels: {wrong:#?}");
}
