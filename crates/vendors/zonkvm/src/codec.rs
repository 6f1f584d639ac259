//! ThinkPHP's envelope `{code, msg, data, url, wait}` and how its text-only errors map to
//! the error taxonomy.

use idcgate_core::{Error, Vendor};
use serde_json::Value;

/// What a body said, before errors are mapped.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Reply {
    Data(Value),
    Failure(String),
}

/// Why a body could not be understood at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum DecodeError {
    #[error("HTTP status {0}")]
    Status(u16),
    #[error("response is not a JSON envelope: {0}")]
    Malformed(String),
}

/// Decodes one answer. `code` is 1 or 0; ThinkPHP sends it as a number, but a string is
/// accepted too since PHP code often passes strings through.
pub(crate) fn decode(status: u16, body: &[u8]) -> Result<Reply, DecodeError> {
    if status != 200 {
        return Err(DecodeError::Status(status));
    }
    let text = std::str::from_utf8(body)
        .map_err(|_| DecodeError::Malformed("body is not UTF-8".into()))?;
    let env: Value = serde_json::from_str(text.trim().trim_start_matches('\u{feff}'))
        .map_err(|e| DecodeError::Malformed(e.to_string()))?;
    let code = match env.get("code") {
        Some(Value::Number(n)) => n.as_i64(),
        Some(Value::String(s)) => s.trim().parse().ok(),
        _ => None,
    }
    .ok_or_else(|| DecodeError::Malformed("envelope without a numeric code".into()))?;
    let msg = env
        .get("msg")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    match code {
        1 => Ok(Reply::Data(payload(env))),
        0 => Ok(Reply::Failure(msg)),
        other => Err(DecodeError::Malformed(format!("unknown code {other}"))),
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

/// The field a message names after its colon: `缺少必要参数：guid` -> `guid`.
fn named_field(rest: &str) -> Option<String> {
    let rest = rest.trim_start_matches([':', '：', ' ']);
    let field: String = rest
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.'))
        .collect();
    (!field.is_empty()).then_some(field)
}

/// Maps a `code: 0` message. The document lists its common messages in its appendix;
/// anything else stays `Upstream` with the text verbatim.
pub(crate) fn classify_failure(message: &str) -> Error {
    let vendor = Vendor::Zonkvm.to_string();
    let m = message.trim();
    if m.starts_with("权限不足") {
        return Error::Authentication {
            vendor,
            message: m.to_string(),
        };
    }
    if m.starts_with("余额不足") {
        return Error::InsufficientBalance {
            vendor,
            message: m.to_string(),
        };
    }
    if m.starts_with("未找到产品记录") {
        return Error::not_found(format!("zonkvm: {m}"));
    }
    for prefix in ["缺少必要参数", "参数错误"] {
        if let Some(rest) = m.strip_prefix(prefix) {
            let field = named_field(rest).unwrap_or_else(|| "params".into());
            return Error::invalid(field, m);
        }
    }
    if m.starts_with("该线路节点不存在或已下架") {
        return Error::invalid("line_guid", m);
    }
    if m == "请求错误" {
        return Error::invalid("action", m);
    }
    Error::upstream(vendor, "0", m)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn success_returns_data_or_the_envelope() {
        let body = br#"{"code":1,"msg":"ok","data":[1],"url":"","wait":3}"#;
        assert_eq!(decode(200, body).unwrap(), Reply::Data(json!([1])));
        let body = br#"{"code":1,"msg":"ok","data":"","url":"","wait":3}"#;
        match decode(200, body).unwrap() {
            Reply::Data(v) => assert_eq!(v["msg"], "ok"),
            other => panic!("{other:?}"),
        }
        let body = br#"{"code":"0","msg":"x"}"#;
        assert_eq!(decode(200, body).unwrap(), Reply::Failure("x".into()));
    }

    #[test]
    fn broken_bodies_are_decode_errors() {
        assert_eq!(decode(500, b"{}"), Err(DecodeError::Status(500)));
        assert!(decode(200, b"{\"code\":1,").is_err());
        assert!(decode(200, b"{\"msg\":\"no code\"}").is_err());
        assert!(decode(200, b"<html>").is_err());
    }

    #[test]
    fn messages_map_to_kinds() {
        assert!(matches!(
            classify_failure("权限不足"),
            Error::Authentication { .. }
        ));
        assert!(matches!(
            classify_failure("余额不足"),
            Error::InsufficientBalance { .. }
        ));
        assert!(matches!(
            classify_failure("未找到产品记录"),
            Error::NotFound { .. }
        ));
        assert!(matches!(
            classify_failure("缺少必要参数：guid"),
            Error::InvalidInput { ref field, .. } if field == "guid"
        ));
        assert!(matches!(
            classify_failure("缺少必要参数"),
            Error::InvalidInput { ref field, .. } if field == "params"
        ));
        assert!(matches!(
            classify_failure("该线路节点不存在或已下架"),
            Error::InvalidInput { ref field, .. } if field == "line_guid"
        ));
        assert!(matches!(
            classify_failure("产品超出可退款时间"),
            Error::Upstream { ref code, ref message, .. } if code == "0" && message == "产品超出可退款时间"
        ));
    }
}
