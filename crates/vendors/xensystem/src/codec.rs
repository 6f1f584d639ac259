//! XenSystem's reply formats and how each becomes JSON for `Connection::call`.
//!
//! The panel answers in plain text, never in an envelope:
//!
//! | wire                         | `call` returns                                  |
//! |------------------------------|-------------------------------------------------|
//! | `0`                          | `{"code":0,"data":[]}`                          |
//! | `0|a|b` (or `0 a`)           | `{"code":0,"data":["a","b"]}`                   |
//! | `Running {...}` (vm_state)   | `{"code":0,"state":"Running","data":{...}}`     |
//! | JSON object or array         | the JSON itself                                 |
//! | vm_stat's JQChart script     | `{"charttype":1,"title":"..","points":[[ms,v]]}`|
//! | `-1 message` / `-1|message`  | an `Error` (see [`classify_failure`])           |

use idcgate_core::Error;
use serde_json::{json, Value};

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
    #[error("response body is not valid UTF-8")]
    NotUtf8,
    #[error("unrecognised reply: {0}")]
    Malformed(String),
}

/// Decodes one reply. `chart_type` is set for vm_stat, whose answer is JavaScript.
pub(crate) fn decode(
    status: u16,
    body: &[u8],
    chart_type: Option<i64>,
) -> Result<Reply, DecodeError> {
    if !(200..300).contains(&status) {
        return Err(DecodeError::Status(status));
    }
    // The panel is ASP.NET and answers in UTF-8; anything else is a broken body, and a
    // lenient decode would let a truncated pipe reply pass as data.
    let text = std::str::from_utf8(body).map_err(|_| DecodeError::NotUtf8)?;
    let t = text.trim().trim_start_matches('\u{feff}');
    if let Some(rest) = t.strip_prefix("-1") {
        if rest.is_empty() || rest.starts_with([' ', '|']) {
            let msg = rest.trim_start_matches([' ', '|']).trim();
            return Ok(Reply::Failure(msg.to_string()));
        }
    }
    if t == "0" {
        return Ok(Reply::Data(json!({"code": 0, "data": []})));
    }
    if let Some(rest) = t.strip_prefix("0|").or_else(|| t.strip_prefix("0 ")) {
        let parts: Vec<Value> = rest
            .split('|')
            .map(|s| Value::String(s.to_string()))
            .collect();
        return Ok(Reply::Data(json!({"code": 0, "data": parts})));
    }
    if t.starts_with('{') || t.starts_with('[') {
        return serde_json::from_str(t)
            .map(Reply::Data)
            .map_err(|e| DecodeError::Malformed(format!("invalid JSON: {e}")));
    }
    if let Some(kind) = chart_type {
        return parse_chart(t, kind).map(Reply::Data);
    }
    if let Some((state, rest)) = t.split_once(' ') {
        let rest = rest.trim_start();
        if !state.is_empty()
            && state.chars().all(|c| c.is_ascii_alphabetic())
            && rest.starts_with('{')
        {
            let data: Value = serde_json::from_str(rest)
                .map_err(|e| DecodeError::Malformed(format!("invalid state JSON: {e}")))?;
            return Ok(Reply::Data(
                json!({"code": 0, "state": state, "data": data}),
            ));
        }
    }
    Err(DecodeError::Malformed(snippet(t)))
}

fn snippet(t: &str) -> String {
    let cut: String = t.chars().take(80).collect();
    if cut.len() < t.len() {
        format!("{cut}...")
    } else {
        cut
    }
}

/// Pulls the series out of a JQChart script: the first array literal assigned with
/// `var <name> = [...]`, plus the chart title.
fn parse_chart(js: &str, kind: i64) -> Result<Value, DecodeError> {
    let start = js
        .find("var ")
        .and_then(|v| js[v..].find('[').map(|i| v + i))
        .ok_or_else(|| DecodeError::Malformed("chart script without a data array".into()))?;
    let points: Value = serde_json::Deserializer::from_str(&js[start..])
        .into_iter::<Value>()
        .next()
        .ok_or_else(|| DecodeError::Malformed("empty chart data".into()))?
        .map_err(|e| DecodeError::Malformed(format!("chart data is not an array literal: {e}")))?;
    if !points.is_array() {
        return Err(DecodeError::Malformed("chart data is not an array".into()));
    }
    let title = js
        .find("text: '")
        .map(|i| &js[i + 7..])
        .and_then(|s| s.find('\'').map(|j| s[..j].to_string()))
        .unwrap_or_default();
    Ok(json!({"charttype": kind, "title": title, "points": points}))
}

/// Maps a `-1` message to the error taxonomy. The panel has no error codes, so this
/// matches the phrases it uses; anything unknown stays `Upstream` with the text verbatim.
pub(crate) fn classify_failure(message: &str) -> Error {
    let vendor = idcgate_core::Vendor::Xensystem.to_string();
    if message.starts_with("API 验证失败") || message.starts_with("权限不足") {
        return Error::Authentication {
            vendor,
            message: message.to_string(),
        };
    }
    if let Some(rest) = message.strip_prefix("参数 ") {
        let field = rest.split_whitespace().next().unwrap_or("params");
        return Error::invalid(field, message);
    }
    if message.contains("不存在") {
        return Error::not_found(message);
    }
    Error::upstream(vendor, "-1", message)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(body: &str) -> Value {
        match decode(200, body.as_bytes(), None).unwrap() {
            Reply::Data(v) => v,
            Reply::Failure(m) => panic!("unexpected failure {m}"),
        }
    }

    #[test]
    fn pipe_and_plain_replies() {
        assert_eq!(data("0"), json!({"code":0,"data":[]}));
        assert_eq!(
            data("0|17|10.0.0.5\r\n"),
            json!({"code":0,"data":["17","10.0.0.5"]})
        );
        assert_eq!(data("[1,2]"), json!([1, 2]));
        assert_eq!(
            data("Running {\"vpsid\":3}"),
            json!({"code":0,"state":"Running","data":{"vpsid":3}})
        );
    }

    #[test]
    fn both_error_spellings() {
        for body in ["-1 主机不存在", "-1|主机不存在"] {
            assert_eq!(
                decode(200, body.as_bytes(), None).unwrap(),
                Reply::Failure("主机不存在".into())
            );
        }
        assert!(matches!(
            classify_failure("主机不存在"),
            Error::NotFound { .. }
        ));
        assert!(matches!(
            classify_failure("参数 vpsid 不能为空"),
            Error::InvalidInput { ref field, .. } if field == "vpsid"
        ));
        assert!(matches!(
            classify_failure("API 验证失败"),
            Error::Authentication { .. }
        ));
        assert!(matches!(
            classify_failure("验证码错误"),
            Error::Upstream { ref code, .. } if code == "-1"
        ));
    }

    #[test]
    fn broken_bodies_are_decode_errors() {
        assert_eq!(
            decode(200, b"[1,2<!-- x -->\xff", None),
            Err(DecodeError::NotUtf8)
        );
        assert!(matches!(
            decode(200, b"{\"a\":", None),
            Err(DecodeError::Malformed(_))
        ));
        assert!(matches!(
            decode(200, b"<html>oops</html>", None),
            Err(DecodeError::Malformed(_))
        ));
        assert_eq!(decode(500, b"0", None), Err(DecodeError::Status(500)));
        // A negative number that is not the error marker is not an error reply.
        assert!(decode(200, b"-12", None).is_err());
    }

    #[test]
    fn chart_script_becomes_points() {
        let js = "var chartData = [[1000,1.5],[2000,2]];\n$('#c').jqChart({ title: { text: 'CPU' }, series: [{ data: chartData }] });";
        let v = match decode(200, js.as_bytes(), Some(1)).unwrap() {
            Reply::Data(v) => v,
            Reply::Failure(m) => panic!("{m}"),
        };
        assert_eq!(v["title"], "CPU");
        assert_eq!(v["points"][1][0], 2000);
        assert!(decode(200, b"function(){}", Some(1)).is_err());
    }
}
