//! XenSystem's reply formats and how each becomes JSON for `Connection::call`.
//!
//! The panel answers in plain text, never in an envelope:
//!
//! | wire                         | `call` returns                                  |
//! |------------------------------|-------------------------------------------------|
//! | `0`                          | `{"code":0,"data":[]}`                          |
//! | `0|a|b` (or `0 a`)           | `{"code":0,"data":["a","b"]}`                   |
//! | `Running {...}` (vm_state)   | `{"code":0,"state":"Running","data":{...}}`     |
//! | (`2 {...}`: any state token) | `{"code":0,"state":"2","data":{...}}`           |
//! | JSON object or array         | the JSON itself                                 |
//! | vm_stat's JQChart script     | `{"charttype":1,"title":"..","points":[[ms,v]]}`|
//! | `-1 message` / `-1|message`  | an `Error` (see [`crate::errors::ERRORS`])      |

use crate::errors::{field_of, ERRORS, FAILURE};
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

/// What a command answers besides `0|...`, `-1 ...` and JSON: two commands have a
/// format of their own, and only for them is that format accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Shape {
    Plain,
    /// vm_state: `<state> <JSON>`; the document does not say whether the state is a word
    /// or a number, so any token is taken.
    State,
    /// vm_stat: a JQChart script for this chart type.
    Chart(i64),
}

/// Decodes one reply.
pub(crate) fn decode(status: u16, body: &[u8], shape: Shape) -> Result<Reply, DecodeError> {
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
    if shape == Shape::State {
        if let Some(reply) = state_reply(t)? {
            return Ok(reply);
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
    if let Shape::Chart(kind) = shape {
        return parse_chart(t, kind).map(Reply::Data);
    }
    Err(DecodeError::Malformed(snippet(t)))
}

/// `<state> <JSON>`, or `None` when the body is not in that form.
fn state_reply(t: &str) -> Result<Option<Reply>, DecodeError> {
    let Some((state, rest)) = t.split_once([' ', '|']) else {
        return Ok(None);
    };
    let rest = rest.trim_start();
    if state.is_empty() || !rest.starts_with('{') {
        return Ok(None);
    }
    let data: Value = serde_json::from_str(rest)
        .map_err(|e| DecodeError::Malformed(format!("invalid state JSON: {e}")))?;
    Ok(Some(Reply::Data(
        json!({"code": 0, "state": state, "data": data}),
    )))
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

/// Maps a `-1` message to the error taxonomy through [`ERRORS`]: the panel has no error
/// codes, so its wording decides; anything unknown stays `Upstream` with the text verbatim.
/// The client reaches the same table through `Protocol::refused`; this bytes-to-error
/// view is what the fuzz targets' entry point (`fuzzing::decode`, added on its own
/// branch) calls, so it stays.
#[cfg_attr(not(test), allow(dead_code))]
pub(crate) fn classify_failure(message: &str) -> Error {
    ERRORS.error(FAILURE, message, field_of(message))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::errors::reads_as;

    fn data(body: &str) -> Value {
        data_as(body, Shape::Plain)
    }

    fn data_as(body: &str, shape: Shape) -> Value {
        match decode(200, body.as_bytes(), shape).unwrap() {
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
            data_as("Running {\"vpsid\":3}", Shape::State),
            json!({"code":0,"state":"Running","data":{"vpsid":3}})
        );
        // The state may be a number; `0 {..}` must not pass as a `0 a` field list.
        assert_eq!(
            data_as("2 {\"vpsid\":3}", Shape::State),
            json!({"code":0,"state":"2","data":{"vpsid":3}})
        );
        assert!(decode(200, b"Running {\"vpsid\":3}", Shape::Plain).is_err());
        assert!(decode(200, b"Running {broken", Shape::State).is_err());
    }

    #[test]
    fn both_error_spellings() {
        for body in ["-1 主机不存在", "-1|主机不存在"] {
            assert_eq!(
                decode(200, body.as_bytes(), Shape::Plain).unwrap(),
                Reply::Failure("主机不存在".into())
            );
        }
        for (message, want) in [
            ("主机不存在", "not_found"),
            ("参数 vpsid 不能为空", "invalid_input:vpsid"),
            ("API 验证失败", "authentication"),
            ("验证码错误", "upstream:-1"),
        ] {
            assert_eq!(reads_as(&classify_failure(message)), want, "{message}");
        }
    }

    #[test]
    fn broken_bodies_are_decode_errors() {
        assert_eq!(
            decode(200, b"[1,2<!-- x -->\xff", Shape::Plain),
            Err(DecodeError::NotUtf8)
        );
        assert!(matches!(
            decode(200, b"{\"a\":", Shape::Plain),
            Err(DecodeError::Malformed(_))
        ));
        assert!(matches!(
            decode(200, b"<html>oops</html>", Shape::Plain),
            Err(DecodeError::Malformed(_))
        ));
        assert_eq!(
            decode(500, b"0", Shape::Plain),
            Err(DecodeError::Status(500))
        );
        // A negative number that is not the error marker is not an error reply.
        assert!(decode(200, b"-12", Shape::Plain).is_err());
    }

    #[test]
    fn chart_script_becomes_points() {
        let js = "var chartData = [[1000,1.5],[2000,2]];\n$('#c').jqChart({ title: { text: 'CPU' }, series: [{ data: chartData }] });";
        let v = match decode(200, js.as_bytes(), Shape::Chart(1)).unwrap() {
            Reply::Data(v) => v,
            Reply::Failure(m) => panic!("{m}"),
        };
        assert_eq!(v["title"], "CPU");
        assert_eq!(v["points"][1][0], 2000);
        assert!(decode(200, b"function(){}", Shape::Chart(1)).is_err());
    }
}
