//! The conformance suite (issue 13): every "返回" sample and every field list of the
//! CNDNS document (`tests/fixtures/conformance.txt`) decoded by the client, and answered
//! in the same shape by the simulator after the fixture's preparation.

use idcgate_cndns::Sim;
use idcgate_wire::testing::{conformance, Conformance, ShapeDiff};
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

#[tokio::test]
async fn every_document_sample() {
    let summary = conformance(&Conformance {
        sim: Sim::sandbox,
        connect: idcgate_cndns::connect,
        fixtures: include_str!("../fixtures/conformance.txt"),
        parse,
        expect,
        allowed,
        // ASP.NET's default for an .aspx page (VENDOR-FACTS names no other).
        content_type: "text/html; charset=utf-8",
        answer_content_type: Some("text/html; charset=utf-8"),
        // Defaults for the names preparations bind, so typed parameters bind without them.
        vars: &[
            ("uid", "1"),
            ("rec", "1"),
            ("cloud", "S262491"),
            ("site", "pro000001"),
            ("q", "266"),
            ("acc", "a@a.com"),
            ("nme", "qtb60001"),
            ("cdn", "cdn72916197"),
        ],
    })
    .await;
    summary.assert_clean();
}
