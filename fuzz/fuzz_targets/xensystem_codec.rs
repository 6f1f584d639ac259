//! XenSystem replies (pipe text, `-1` failures, `vm_state`'s `<state> <JSON>`, JSON,
//! `vm_stat`'s JQChart script). The first input byte picks the command shape (0 plain,
//! 1 vm_state, else vm_stat); the rest is the body. Properties: never panics; a `-1`
//! reply is always a failure, never data; pipe, state and chart replies written back in
//! their own format read the same.
#![no_main]

use idcgate_xensystem::fuzzing::decode;
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

fn is_failure_text(t: &str) -> bool {
    t.strip_prefix("-1")
        .is_some_and(|r| r.is_empty() || r.starts_with([' ', '|']))
}

fn data_of(body: &[u8], shape: u8) -> Value {
    match decode(body, shape) {
        Ok(Ok(v)) => v,
        other => panic!("{:?} re-read as {other:?}", String::from_utf8_lossy(body)),
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&shape, body)) = data.split_first() else {
        return;
    };
    let result = decode(body, shape);
    let Ok(text) = std::str::from_utf8(body) else {
        assert!(result.is_err(), "accepted a body that is not UTF-8");
        return;
    };
    let t = text.trim().trim_start_matches('\u{feff}');
    if is_failure_text(t) {
        assert!(matches!(result, Ok(Err(_))), "-1 reply read as {result:?}");
        return;
    }
    let Ok(Ok(v)) = result else { return };
    if t.starts_with('{') || t.starts_with('[') {
        // JSON passes through (vm_state tries `<state> <JSON>` first, and compact JSON
        // may split differently from the original, so it is left out).
        if shape != 1 {
            let json = serde_json::to_string(&v).expect("serialises");
            assert_eq!(data_of(json.as_bytes(), shape), v);
        }
        return;
    }
    let arr = |v: &Value| v["data"].as_array().cloned();
    if v.get("state").is_none() && (t == "0" || t.starts_with("0|") || t.starts_with("0 ")) {
        let parts: Vec<String> = arr(&v)
            .expect("pipe data is a list")
            .iter()
            .map(|s| s.as_str().expect("pipe fields are text").to_string())
            .collect();
        let wire = if parts.is_empty() {
            "0".to_string()
        } else {
            format!("0|{}", parts.join("|"))
        };
        assert_eq!(data_of(wire.as_bytes(), 0), v, "{wire:?}");
    } else if shape == 1 {
        let state = v["state"].as_str().expect("a state reply names its state");
        if state.starts_with('\u{feff}') {
            return;
        }
        let wire = format!(
            "{state} {}",
            serde_json::to_string(&v["data"]).expect("serialises")
        );
        assert_eq!(data_of(wire.as_bytes(), 1), v, "{wire:?}");
    } else if shape >= 2 {
        let points = serde_json::to_string(&v["points"]).expect("serialises");
        let title = v["title"].as_str().expect("title is text");
        assert!(!title.contains('\''));
        if points.contains("text: '") {
            return;
        }
        let wire =
            format!("var data = {points};\n$('#c').jqChart({{ title: {{ text: '{title}' }} }});");
        assert_eq!(data_of(wire.as_bytes(), shape), v, "{wire:?}");
    }
});
