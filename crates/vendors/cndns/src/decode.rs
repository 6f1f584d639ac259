//! Tolerant decoding of CNDNS answers.
//!
//! Live answers are not always clean JSON: the envelope arrives wrapped in an HTML page
//! or a JSONP call, with every quote escaped once too often, with a JSON payload placed
//! unescaped inside the `message` string (DNSList), or with one broken item inside a
//! list. Real clients cope with all of these, so this module does too: it tries the
//! strict parse first and falls back step by step, never panicking on any input.

use serde_json::{Map, Value};

/// A decoded envelope. `skipped` counts the parts of the answer that could not be read
/// (a list item, or the whole `message` of an envelope read field by field): an answer
/// with any is unreadable to the client, never a shorter list or a `null` payload.
#[derive(Debug, Clone, PartialEq)]
pub struct Decoded {
    pub success: bool,
    pub action: String,
    pub message: Value,
    pub skipped: usize,
    /// Top-level keys beside the envelope's three (ReplyDetail's `state`, `hasReply`).
    pub extra: Map<String, Value>,
}

/// Decodes an answer body; `None` if no envelope can be found in it at all.
pub fn decode_body(text: &str) -> Option<Decoded> {
    let text = text.trim_start_matches('\u{feff}').trim();
    let mut candidates = vec![text.to_string()];
    if let Some(inner) = outer_object(text) {
        candidates.push(inner.to_string());
    }
    // Over-escaped answers (`{\"action\":...}`): undo one level of escaping.
    let unescaped: Vec<String> = candidates
        .iter()
        .filter(|c| c.contains("\\\""))
        .map(|c| unescape_once(c))
        .collect();
    candidates.extend(unescaped);
    for c in &candidates {
        if let Some(d) = strict(c) {
            return Some(d);
        }
    }
    // Field-by-field reading only of a complete object: a truncated body must never
    // pass for a short but successful answer.
    candidates
        .iter()
        .filter_map(|c| outer_object(c))
        .find_map(lenient)
}

fn strict(text: &str) -> Option<Decoded> {
    let mut v: Value = serde_json::from_str(text).ok()?;
    // A body that is itself a JSON string holding the envelope (double encoding).
    if let Value::String(s) = &v {
        v = serde_json::from_str(s).ok()?;
    }
    let obj = v.as_object()?;
    // The CDN statistics samples are bare upstream objects with no envelope.
    if !obj.contains_key("status") && obj.contains_key("details") {
        return Some(Decoded {
            success: true,
            action: String::new(),
            message: v.clone(),
            skipped: 0,
            extra: Map::new(),
        });
    }
    let status = obj.get("status")?.as_str()?.trim().to_ascii_lowercase();
    let (message, skipped) = unwrap_message(obj.get("message").cloned().unwrap_or(Value::Null));
    Some(Decoded {
        success: status == "success",
        action: obj
            .get("action")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .trim()
            .to_string(),
        message,
        skipped,
        extra: obj
            .iter()
            .filter(|(k, _)| !matches!(k.as_str(), "action" | "status" | "message"))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
    })
}

/// `message` holding JSON as a string (DNSList) is decoded into that JSON, with the
/// count of its parts that could not be read.
fn unwrap_message(m: Value) -> (Value, usize) {
    if let Value::String(s) = &m {
        let t = s.trim();
        if t.starts_with('[') || t.starts_with('{') {
            if let Ok(v) = serde_json::from_str::<Value>(t) {
                return (v, 0);
            }
            if let Some(read) = lenient_value(t) {
                return read;
            }
        }
    }
    (m, 0)
}

/// The text from the first `{` to its matching `}` (HTML pages, JSONP callbacks).
fn outer_object(text: &str) -> Option<&str> {
    let start = text.find('{')?;
    let end = matching(text.as_bytes(), start)?;
    Some(&text[start..=end])
}

fn unescape_once(text: &str) -> String {
    text.replace("\\\\\\\"", "\u{0}")
        .replace("\\\"", "\"")
        .replace('\u{0}', "\\\"")
}

/// Index of the bracket closing the one at `open`, skipping over strings.
fn matching(b: &[u8], open: usize) -> Option<usize> {
    let mut depth = 0i32;
    let mut in_str = false;
    let mut esc = false;
    for (i, &c) in b.iter().enumerate().skip(open) {
        if in_str {
            match c {
                _ if esc => esc = false,
                b'\\' => esc = true,
                b'"' => in_str = false,
                _ => {}
            }
            continue;
        }
        match c {
            b'"' => in_str = true,
            b'{' | b'[' => depth += 1,
            b'}' | b']' => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}

/// The envelope read field by field when the whole does not parse.
fn lenient(text: &str) -> Option<Decoded> {
    let status = string_field(text, "status")?.to_ascii_lowercase();
    let action = string_field(text, "action").unwrap_or_default();
    // A message that cannot be read is not an empty one: counted, so the client treats
    // the answer as unreadable rather than as a success carrying `null`.
    let (message, skipped) = message_field(text).unwrap_or((Value::Null, 1));
    Some(Decoded {
        success: status == "success",
        action,
        message,
        skipped,
        extra: Map::new(),
    })
}

/// Position just after `"key"` and its colon.
fn after_key(text: &str, key: &str) -> Option<usize> {
    let pat = format!("\"{key}\"");
    let at = text.find(&pat)? + pat.len();
    let rest = &text[at..];
    let colon = rest.find(':')?;
    if !rest[..colon].trim().is_empty() {
        return None;
    }
    Some(at + colon + 1)
}

fn string_field(text: &str, key: &str) -> Option<String> {
    let at = after_key(text, key)?;
    let rest = text[at..].trim_start();
    let body = rest.strip_prefix('"')?;
    let end = body.find('"')?;
    Some(body[..end].trim().to_string())
}

fn message_field(text: &str) -> Option<(Value, usize)> {
    let at = after_key(text, "message")?;
    let rest = text[at..].trim_start();
    // JSON placed unescaped inside the message string: `"message" : "[{"dns1": ...}]"`.
    let rest = match rest.strip_prefix('"') {
        Some(r) if r.trim_start().starts_with(['[', '{']) => r.trim_start(),
        Some(r) => {
            let end = r.find('"').unwrap_or(r.len());
            return Some((Value::String(r[..end].to_string()), 0));
        }
        None => rest,
    };
    lenient_value(rest)
}

/// An array or object at the start of `text`. Inside an array every element that does
/// not parse (an object with an unquoted value, a bare word) is left out and counted,
/// whatever its type: nothing unreadable disappears without being counted.
fn lenient_value(text: &str) -> Option<(Value, usize)> {
    let b = text.as_bytes();
    match b.first()? {
        b'{' => {
            let end = matching(b, 0)?;
            parse_value(&text[..=end]).map(|v| (v, 0))
        }
        b'[' => {
            let end = matching(b, 0)?;
            let mut items = Vec::new();
            let mut skipped = 0;
            let mut i = 1;
            while i < end {
                if b[i].is_ascii_whitespace() || b[i] == b',' {
                    i += 1;
                    continue;
                }
                let Some(close) = element_end(b, i, end) else {
                    skipped += 1;
                    break;
                };
                match parse_value(&text[i..=close]) {
                    Some(v) => items.push(v),
                    None => skipped += 1,
                }
                i = close + 1;
            }
            Some((Value::Array(items), skipped))
        }
        _ => None,
    }
}

/// The last byte of the array element starting at `start` (before `end`, the array's
/// closing bracket): a bracketed value to its match, a string to its closing quote,
/// anything else up to the next comma.
fn element_end(b: &[u8], start: usize, end: usize) -> Option<usize> {
    match b[start] {
        b'{' | b'[' => matching(b, start).filter(|&c| c < end),
        b'"' => {
            let mut esc = false;
            (start + 1..end).find(|&i| {
                let c = b[i];
                let close = !esc && c == b'"';
                esc = !esc && c == b'\\';
                close
            })
        }
        _ => Some(
            (start..end)
                .find(|&i| b[i] == b',')
                .map_or(end - 1, |comma| comma - 1),
        ),
    }
}

fn parse_value(text: &str) -> Option<Value> {
    serde_json::from_str(text.trim())
        .ok()
        .or_else(|| serde_json::from_str(&unescape_once(text.trim())).ok())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn clean_wrapped_jsonp_and_escaped_envelopes() {
        let clean = r#"{"action":"add rec","status":"success","message":"123"}"#;
        for body in [
            clean.to_string(),
            format!("<html><body>{clean}</body></html>"),
            format!("jsonp1({clean});"),
            clean.replace('"', "\\\""),
            format!("\"{}\"", clean.replace('"', "\\\"")),
        ] {
            let d = decode_body(&body).unwrap_or_else(|| panic!("{body}"));
            assert!(d.success, "{body}");
            assert_eq!(d.message, json!("123"), "{body}");
        }
    }

    #[test]
    fn json_inside_message_and_broken_items() {
        let dns = r#"{ "action" : "DNS list", "status" : "success", "message" : "[{"dns1": "ns7.cdncenter.com", "dns2" : "ns8.cdncenter.com"}]" }"#;
        let d = decode_body(dns).unwrap();
        assert_eq!(d.message[0]["dns2"], "ns8.cdncenter.com");
        let list = r#"{"action":"Rec list","status":"success","message":[{"rec_id":"1"},{"rec_id":"2","rec_value":解析异常},{"rec_id":"3"}]}"#;
        let d = decode_body(list).unwrap();
        assert_eq!(d.message, json!([{"rec_id":"1"},{"rec_id":"3"}]));
        assert_eq!(d.skipped, 1);
        let failed = r#"{ "action" : " check domain" , "status" : " failed" , "message" : "10008 校验失败" }"#;
        let d = decode_body(failed).unwrap();
        assert!(!d.success);
        assert_eq!(d.message, json!("10008 校验失败"));
    }

    #[test]
    fn every_unreadable_part_is_counted_never_dropped_or_nulled() {
        // Items that are not objects are read as what they are, or counted.
        let words =
            r#"{"action":"l","status":"success","message":["a", 2, 异常, {"x":"1"}, [1,], "b,c"]}"#;
        let d = decode_body(words).unwrap();
        assert_eq!(d.message, json!(["a", 2, {"x":"1"}, "b,c"]));
        assert_eq!(d.skipped, 2);
        // A list that is nothing but broken items is not an empty list.
        let all = r#"{"action":"l","status":"success","message":[坏, {"a":坏}]}"#;
        let d = decode_body(all).unwrap();
        assert_eq!((d.message, d.skipped), (json!([]), 2));
        // A write's payload that cannot be read is not `null` with success.
        for body in [
            r#"{"action":"create","status":"success","message":{"cloudsn":未知},}"#,
            r#"{"action":"create","status":"success","message":未知,}"#,
            r#"{"action":"create","status":"success",}"#,
        ] {
            let d = decode_body(body).unwrap_or_else(|| panic!("{body}"));
            assert!(d.skipped > 0, "{body}: {d:?}");
        }
        // JSON inside the message string with a broken item (DNSList) is counted too.
        let inner = r#"{"action":"DNS list","status":"success","message":"[{\"dns1\":\"a\"},{\"dns2\":坏}]"}"#;
        let d = decode_body(inner).unwrap();
        assert_eq!((d.message, d.skipped), (json!([{"dns1":"a"}]), 1));
    }

    #[test]
    fn bare_statistics_objects_are_answers() {
        let d = decode_body(r#"{"details":[{"timestamp":"2016-10-22T03:00:00Z","counters":[]}]}"#)
            .unwrap();
        assert!(d.success);
        assert_eq!(d.message["details"][0]["counters"], json!([]));
    }

    #[test]
    fn garbage_is_none_not_a_panic() {
        let cut = r#"{"action":"Rec list","status":"success","message":[{"rec_id":"1"},{"rec_"#;
        for body in [
            "",
            "<html>500</html>",
            "{",
            "{\"status\":",
            "[[[",
            "\u{feff}",
            cut,
        ] {
            assert!(decode_body(body).is_none(), "{body}");
        }
    }
}
