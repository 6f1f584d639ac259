//! ThinkPHP's envelope `{code, msg, data, url, wait}`: what one answer said.

use crate::errors::named_field;
use idcgate_wire::{Decoded, Refusal};
use serde::Serialize as _;
use serde_json::Value;

/// Decodes one answer. `code` is 1 or 0; ThinkPHP sends it as a number, but a string is
/// accepted too since PHP code often passes strings through. Anything that is not the
/// envelope (a proxy's error page, a cut body, an unknown code) is unreadable: the
/// exchange retries a read and makes a write an unknown outcome.
pub(crate) fn decode(status: u16, body: &[u8]) -> Decoded {
    if status != 200 {
        return Decoded::Unreadable(format!("HTTP status {status}"));
    }
    let Ok(text) = std::str::from_utf8(body) else {
        return Decoded::Unreadable("body is not UTF-8".into());
    };
    let env: Value = match serde_json::from_str(text.trim().trim_start_matches('\u{feff}')) {
        Ok(v) => v,
        Err(e) => return Decoded::Unreadable(format!("response is not a JSON envelope: {e}")),
    };
    let code = match env.get("code") {
        Some(Value::Number(n)) => n.as_i64(),
        Some(Value::String(s)) => s.trim().parse().ok(),
        _ => None,
    };
    match code {
        Some(1) => Decoded::Data(payload(env)),
        Some(0) => {
            let msg = env.get("msg").and_then(Value::as_str).unwrap_or_default();
            let code = crate::errors::FAILURE;
            let mut refusal = Refusal::new(code, msg.trim());
            refusal.field = named_field(code, msg.trim());
            Decoded::Refused(refusal)
        }
        Some(other) => Decoded::Unreadable(format!("unknown envelope code {other}")),
        None => Decoded::Unreadable("envelope without a numeric code".into()),
    }
}

/// ThinkPHP's `success()` / `error()` JSON as the system writes it: keys in the order
/// `code, msg, data, url, wait`, compact, Chinese unescaped, `/` escaped (PHP's
/// `json_encode`; `/` only ever occurs inside strings). The simulator and the
/// downstream endpoint both answer with it.
pub(crate) fn envelope(answer: Result<(&str, Value), &str>) -> Vec<u8> {
    let body = match answer {
        Ok((msg, data)) => {
            serde_json::json!({"code": 1, "msg": msg, "data": data, "url": "", "wait": 3})
        }
        Err(msg) => serde_json::json!({
            "code": 0, "msg": msg, "data": "", "url": "javascript:history.back(-1);", "wait": 3
        }),
    };
    let mut out = Vec::with_capacity(4096);
    // Written straight into bytes with `/` escaped as each string is written: going
    // through `Display` and then copying the text again to escape `/` cost as much as
    // building the answer (a getservers page is about 70 kB).
    if body
        .serialize(&mut serde_json::Serializer::with_formatter(
            &mut out,
            SlashEscaped,
        ))
        .is_err()
    {
        // Writing to a Vec fails on nothing; a Value has only string keys.
        out.clear();
        out.extend_from_slice(b"{\"code\":0,\"msg\":\"\",\"data\":\"\",\"url\":\"\",\"wait\":3}");
    }
    out
}

/// serde_json's compact output with `/` written `\/`, as PHP's `json_encode` does.
struct SlashEscaped;

impl serde_json::ser::Formatter for SlashEscaped {
    fn write_string_fragment<W: ?Sized + std::io::Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> std::io::Result<()> {
        let mut rest = fragment;
        while let Some(at) = rest.find('/') {
            writer.write_all(&rest.as_bytes()[..at])?;
            writer.write_all(b"\\/")?;
            rest = &rest[at + 1..];
        }
        writer.write_all(rest.as_bytes())
    }
}

/// `data` when it carries something, else the whole envelope (see the crate docs).
fn payload(env: Value) -> Value {
    match env.get("data") {
        None | Some(Value::Null) => env,
        Some(Value::String(s)) if s.is_empty() => env,
        Some(d) => d.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn success_returns_data_or_the_envelope() {
        let body = br#"{"code":1,"msg":"ok","data":[1],"url":"","wait":3}"#;
        assert_eq!(decode(200, body), Decoded::Data(json!([1])));
        let body = br#"{"code":1,"msg":"ok","data":"","url":"","wait":3}"#;
        match decode(200, body) {
            Decoded::Data(v) => assert_eq!(v["msg"], "ok"),
            other => panic!("{other:?}"),
        }
        let body = br#"{"code":"0","msg":"x"}"#;
        assert_eq!(decode(200, body), Decoded::Refused(Refusal::new("0", "x")));
        let body = r#"{"code":0,"msg":"缺少必要参数：guid"}"#.as_bytes();
        assert_eq!(
            decode(200, body),
            Decoded::Refused(Refusal::new("0", "缺少必要参数：guid").with_field("guid"))
        );
    }

    #[test]
    fn broken_bodies_are_unreadable() {
        let unreadable = |d: Decoded| matches!(d, Decoded::Unreadable(_));
        assert_eq!(
            decode(500, b"{}"),
            Decoded::Unreadable("HTTP status 500".into())
        );
        assert!(unreadable(decode(200, b"{\"code\":1,")));
        assert!(unreadable(decode(200, b"{\"msg\":\"no code\"}")));
        assert!(unreadable(decode(200, b"<html>")));
        assert!(unreadable(decode(200, b"{\"code\":2}")));
    }

    #[test]
    fn the_envelope_is_php_json_encode_with_every_slash_escaped() {
        let data = json!({
            "url/key": "http://a.example/b/c",
            "中文": "默认/电信 \"quoted\" back\\slash //",
            "nested": [{"path": "/"}, 1.5, null, true, "/x/"],
            "ctl": "tab\there"
        });
        let got = String::from_utf8(envelope(Ok(("获取成功", data.clone())))).unwrap();
        assert_eq!(
            got,
            concat!(
                r#"{"code":1,"msg":"获取成功","data":{"url\/key":"http:\/\/a.example\/b\/c","#,
                r#""中文":"默认\/电信 \"quoted\" back\\slash \/\/","#,
                r#""nested":[{"path":"\/"},1.5,null,true,"\/x\/"],"ctl":"tab\there"},"#,
                r#""url":"","wait":3}"#
            )
        );
        // What PHP writes is what serde_json writes with `/` escaped afterwards.
        let plain = json!({"code": 1, "msg": "获取成功", "data": data, "url": "", "wait": 3});
        assert_eq!(got, plain.to_string().replace('/', "\\/"));
        assert_eq!(
            decode(200, got.as_bytes()),
            Decoded::Data(plain["data"].clone())
        );
        let refused = String::from_utf8(envelope(Err("权限不足"))).unwrap();
        assert_eq!(
            refused,
            r#"{"code":0,"msg":"权限不足","data":"","url":"javascript:history.back(-1);","wait":3}"#
        );
    }
}
