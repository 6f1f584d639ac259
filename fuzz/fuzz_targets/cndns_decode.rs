//! CNDNS answer bodies (HTML/JSONP wrapping, over-escaping, JSON inside `message`,
//! broken list items). Properties: never panics; a body that is a clean envelope is read
//! as it stands (no fallback overrides the strict reading); decoding is idempotent (what
//! was read, written back as a clean envelope, reads the same).
#![no_main]

use idcgate_cndns::fuzzing::decode_body;
use libfuzzer_sys::fuzz_target;
use serde_json::{json, Map, Value};

fn depth(v: &Value) -> usize {
    match v {
        Value::Array(a) => 1 + a.iter().map(depth).max().unwrap_or(0),
        Value::Object(o) => 1 + o.values().map(depth).max().unwrap_or(0),
        _ => 0,
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(d) = decode_body(data) else { return };
    let success = d["success"].as_bool().expect("success is a bool");

    let text = idcgate_wire::charset::decode_lenient(data);
    let t = text.trim_start_matches('\u{feff}').trim();
    if let Ok(Value::Object(o)) = serde_json::from_str::<Value>(t) {
        if let Some(Value::String(status)) = o.get("status") {
            assert_eq!(success, status.trim().eq_ignore_ascii_case("success"));
            let action = o.get("action").and_then(Value::as_str).unwrap_or_default();
            assert_eq!(d["action"], json!(action.trim()));
            assert_eq!(d["skipped"], json!(0));
        }
    }

    // serde_json refuses nesting deeper than 128; the envelope adds a level.
    if depth(&d["message"]) > 100 || depth(&d["extra"]) > 100 {
        return;
    }
    let mut env = Map::new();
    env.insert(
        "status".into(),
        json!(if success { "success" } else { "failed" }),
    );
    env.insert("action".into(), d["action"].clone());
    env.insert("message".into(), d["message"].clone());
    for (k, v) in d["extra"].as_object().expect("extra is an object") {
        env.insert(k.clone(), v.clone());
    }
    let body = serde_json::to_vec(&Value::Object(env)).expect("serialises");
    let again = decode_body(&body).expect("a clean envelope decodes");
    assert_eq!(again["success"], d["success"]);
    assert_eq!(again["action"], d["action"]);
    assert_eq!(again["message"], d["message"]);
    assert_eq!(again["extra"], d["extra"]);
    assert_eq!(again["skipped"], json!(0));
});
