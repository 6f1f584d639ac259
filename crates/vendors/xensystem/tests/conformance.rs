//! The conformance suite (issue 13): every reply format and JSON field list of the
//! XenSystem document (`tests/fixtures/conformance.txt`) decoded by the client, and
//! answered in the same shape by the simulator after the fixture's preparation.

use idcgate_wire::testing::{conformance, Conformance, ShapeDiff};
use idcgate_xensystem::Sim;
use serde_json::{json, Map, Value};

/// A reply as a shape: JSON as it is; `0|a|b` as `{"reply":"0","1":"a","2":"b"}` (so the
/// number of parts is compared); `-1 message` as `{"reply":"-1","message":...}`;
/// vm_state's `<state> <JSON>` as `{"reply":"state","state":...,"data":{...}}`.
fn parse(body: &[u8]) -> Option<Value> {
    let text = std::str::from_utf8(body).ok()?;
    let t = text.trim().trim_start_matches('\u{feff}');
    if t.starts_with('{') || t.starts_with('[') {
        return serde_json::from_str(t).ok();
    }
    if let Some((state, data)) = t.split_once(' ') {
        if state != "0" && state != "-1" && data.trim_start().starts_with('{') {
            let data: Value = serde_json::from_str(data).ok()?;
            return Some(json!({"reply": "state", "state": state, "data": data}));
        }
    }
    if let Some(rest) = t.strip_prefix("-1") {
        let message = rest.trim_start_matches([' ', '|']).trim();
        return Some(json!({"reply": "-1", "message": message}));
    }
    let mut parts = t.split('|');
    if parts.next()? != "0" {
        return None;
    }
    let mut m = Map::new();
    m.insert("reply".into(), json!("0"));
    for (i, p) in parts.enumerate() {
        m.insert((i + 1).to_string(), json!(p));
    }
    Some(Value::Object(m))
}

/// What the client's `call` returns (see the crate's `codec`): `{"code":0,"data":[..]}`
/// for a pipe reply, the JSON itself, or a refusal carrying the message.
fn expect(sample: &Value) -> Result<Value, (String, String)> {
    match sample.get("reply").and_then(Value::as_str) {
        Some("state") => Ok(json!({"code": 0, "state": sample["state"], "data": sample["data"]})),
        Some("-1") => Err((
            String::new(),
            sample["message"].as_str().unwrap_or_default().to_string(),
        )),
        Some(_) => {
            let mut parts = Vec::new();
            for i in 1.. {
                match sample.get(i.to_string()) {
                    Some(p) => parts.push(p.clone()),
                    None => break,
                }
            }
            Ok(json!({"code": 0, "data": parts}))
        }
        None => Ok(sample.clone()),
    }
}

fn allowed(_: &ShapeDiff) -> bool {
    false
}

#[tokio::test]
async fn every_document_sample() {
    let summary = conformance(&Conformance {
        sim: Sim::sandbox,
        connect: idcgate_xensystem::connect,
        spec: idcgate_xensystem::spec,
        fixtures: include_str!("fixtures/conformance.txt"),
        parse,
        expect,
        allowed,
        content_type: "text/html; charset=utf-8",
        // Neither the document nor the facts say what the ASP.NET panel sends.
        answer_content_type: None,
        vars: &[("vps", "1")],
    })
    .await;
    summary.assert_clean();
}
