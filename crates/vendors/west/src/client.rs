//! The West client: token signing, GBK request encoding, response decoding and the
//! mapping of both envelopes (`result/errcode` and the older `code/body`) to core errors.

use crate::spec::spec;
use idcgate_core::capability::Params;
use idcgate_core::spec::{ActionKind, ActionSpec};
use idcgate_core::{Error, Result, UpstreamAccount, Vendor};
use idcgate_wire::charset::decode_lenient;
use idcgate_wire::{form, Charset, HttpClient, Redactor, WireConfig, WireRequest};
use serde_json::{json, Value};

const VENDOR: &str = "west";

/// One authenticated West account. `Debug` shows the account name only.
pub struct WestClient {
    http: HttpClient,
    base: String,
    username: String,
    api_password: String,
    pub(crate) templateid: Option<String>,
}

impl std::fmt::Debug for WestClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WestClient")
            .field("base", &self.base)
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

impl WestClient {
    pub fn new(account: &UpstreamAccount, cfg: &WireConfig) -> Result<Self> {
        let username = account.credentials.require("username")?.to_string();
        let api_password = account.credentials.require("api_password")?.to_string();
        let templateid = account.credentials.get("templateid").map(str::to_string);
        // The apikey of the older API is derived from the password: both are secrets.
        let redactor = Redactor::new([api_password.clone(), crate::md5_hex(&api_password)]);
        let http = HttpClient::new(Vendor::West, cfg, account.rate_limit_per_sec, redactor)?;
        let mut base = account.base_url.trim_end_matches('/').to_string();
        // Live West serves under /api; a bare scheme://host:port base gets it appended.
        if !base.to_ascii_lowercase().ends_with("/api") {
            base.push_str("/api");
        }
        Ok(WestClient {
            http,
            base,
            username,
            api_password,
            templateid,
        })
    }

    /// Runs an implemented action by id or short name with spec validation.
    pub async fn call(&self, action: &str, params: &Params) -> Result<Value> {
        let a = spec().require(action)?;
        a.validate(params.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .map_err(|(field, reason)| Error::invalid(field, reason))?;
        gbk_only(params)?;
        self.send(a, params).await
    }

    /// Convenience for typed callers: `&[("domain", "x.com")]`.
    pub(crate) async fn call_kv(&self, action: &str, kv: &[(&str, &str)]) -> Result<Value> {
        let params: Params = kv
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        self.call(action, &params).await
    }

    async fn send(&self, a: &ActionSpec, params: &Params) -> Result<Value> {
        let legacy = a.action.starts_with("dnsrec.");
        let user = ("username".to_string(), self.username.clone());
        let mut query: Vec<(String, String)> = vec![("act".into(), a.action.clone())];
        let mut body: Vec<(String, String)> = Vec::new();
        if legacy {
            // The older API authenticates with a static key (registered with the redactor).
            body.extend([
                ("act".into(), a.action.clone()),
                user,
                ("apikey".into(), crate::md5_hex(&self.api_password)),
            ]);
        } else {
            // The token changes every call, so the redactor cannot know it: it travels in
            // the query string (which the wire layer never logs), not in the logged body.
            // The live server reads parameters from either place, as it does `act`.
            let time = now_ms().to_string();
            let token = crate::token(&self.username, &self.api_password, &time);
            query.extend([user, ("time".into(), time), ("token".into(), token)]);
        }
        let get = a.method.eq_ignore_ascii_case("GET");
        if get {
            query.extend(params.iter().cloned());
        } else {
            body.extend(params.iter().cloned());
        }
        let url = format!(
            "{}/{}?{}",
            self.base,
            a.path.trim_start_matches('/'),
            form::encode(&query, Charset::Gbk)
        );
        let req = if get {
            WireRequest::get(url)
        } else {
            WireRequest::form_post(url, form::encode(&body, Charset::Gbk), "gbk")
        };
        let resp = self.http.send(&a.id, a.kind, &req).await?;
        let text = Charset::from_content_type(&resp.content_type)
            .and_then(|c| c.decode(&resp.body))
            .unwrap_or_else(|| decode_lenient(&resp.body));
        let Ok(value) = serde_json::from_str(&text) else {
            return Err(bad_body(
                a,
                format!("HTTP {} with a body that is not JSON", resp.status),
            ));
        };
        let redact = |msg: &str| self.http.redactor().redact(msg);
        if legacy {
            map_legacy(a, value, redact)
        } else {
            map_envelope(a, value, redact)
        }
    }
}

/// West reads GBK. A character GBK lacks (emoji, rare CJK extensions) would be sent as
/// an HTML character reference (`&#128512;`) and stored as that text, and a few
/// private-use ones would be stored as other characters: refuse them instead.
fn gbk_only(params: &Params) -> Result<()> {
    for (k, v) in params {
        if !Charset::Gbk.can_encode(v) {
            let bad = v
                .chars()
                .find(|c| !Charset::Gbk.can_encode(c.encode_utf8(&mut [0; 4])))
                .unwrap_or(char::REPLACEMENT_CHARACTER);
            return Err(Error::invalid(
                k,
                format!(
                    "West takes GBK text only; {bad:?} (U+{:04X}) has no GBK form",
                    u32::from(bad)
                ),
            ));
        }
    }
    Ok(())
}

/// A body we cannot read: retry-safe for reads, an unknown outcome for writes (the
/// change may have been committed before the answer broke).
pub(crate) fn bad_body(a: &ActionSpec, message: String) -> Error {
    match a.kind {
        ActionKind::Read => Error::Transport {
            vendor: VENDOR.into(),
            message,
        },
        ActionKind::Write => Error::UnknownOutcome {
            vendor: VENDOR.into(),
            action: a.id.clone(),
            message,
        },
    }
}

fn as_i64(v: Option<&Value>) -> Option<i64> {
    match v? {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// `msg` as sent, minus any secret the upstream may have echoed.
fn msg_of(v: &Value, redact: impl Fn(&str) -> String) -> String {
    redact(v.get("msg").and_then(Value::as_str).unwrap_or_default())
}

/// The payload under `key`, moved out of the envelope (`{}` when absent).
fn take(mut v: Value, key: &str) -> Value {
    v.get_mut(key).map(Value::take).unwrap_or_else(|| json!({}))
}

pub(crate) fn map_envelope(
    a: &ActionSpec,
    v: Value,
    redact: impl Fn(&str) -> String,
) -> Result<Value> {
    let Some(result) = as_i64(v.get("result")) else {
        return Err(bad_body(a, "response has no result field".into()));
    };
    if result == 200 {
        return Ok(take(v, "data"));
    }
    let code = as_i64(v.get("errcode")).unwrap_or(result);
    let msg = msg_of(&v, redact);
    let text = format!("errcode {code}: {msg}");
    Err(match code {
        // 10002 (caller IP not whitelisted) is an account setting, like a bad password.
        10000..=10002 => Error::Authentication {
            vendor: VENDOR.into(),
            message: text,
        },
        20001 | 20109 | 20112 => Error::NotFound { what: text },
        20000 | 20102 | 20113 | 20116 | 20119 => Error::InvalidInput {
            field: field_of(code, &msg),
            reason: text,
        },
        // The live API reports "nothing found" as an error; for a read it is an empty list.
        30001 | 30201 if a.kind == ActionKind::Read => {
            return Ok(json!({"total":0,"totalpages":0,"items":[]}))
        }
        _ if code == crate::sim::ERR_BALANCE || msg.contains("余额不足") => {
            Error::InsufficientBalance {
                vendor: VENDOR.into(),
                message: text,
            }
        }
        _ => Error::upstream(VENDOR, code, msg),
    })
}

/// The field an invalid-input code points at (the simulator names it in `msg` as
/// `field: reason`; the live API often does too).
fn field_of(code: i64, msg: &str) -> String {
    if let Some((f, _)) = msg.split_once(':') {
        let f = f.trim();
        if !f.is_empty() && f.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return f.to_string();
        }
    }
    match code {
        20102 => "id",
        20113 => "value",
        20116 => "ttl",
        20119 => "line",
        _ => "params",
    }
    .to_string()
}

pub(crate) fn map_legacy(
    a: &ActionSpec,
    v: Value,
    redact: impl Fn(&str) -> String,
) -> Result<Value> {
    let Some(code) = as_i64(v.get("code")) else {
        return Err(bad_body(a, "response has no code field".into()));
    };
    if code == 200 {
        return Ok(take(v, "body"));
    }
    let msg = msg_of(&v, redact);
    let text = format!("code {code}: {msg}");
    Err(match code {
        401 | 403 => Error::Authentication {
            vendor: VENDOR.into(),
            message: text,
        },
        404 => Error::NotFound { what: text },
        400 => Error::InvalidInput {
            field: field_of(0, &msg),
            reason: text,
        },
        _ => Error::upstream(VENDOR, code, msg),
    })
}

pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Found by `fuzz/form_roundtrip`: U+E792 (private use) has a GBK form, A6DE, but
    /// since GB18030-2022 A6DE reads back as U+FE15, so West would store another
    /// character than the one sent. Such text is refused like text with no GBK form.
    #[test]
    fn gbk_only_refuses_text_that_does_not_read_back() {
        let params: Params = vec![("value".into(), "u=a\u{e792}".into())];
        let err = gbk_only(&params).unwrap_err();
        assert!(
            matches!(err, Error::InvalidInput { ref field, ref reason }
                if field == "value" && reason.contains("U+E792")),
            "{err}"
        );
        let fine: Params = vec![("value".into(), "西部数码 \u{fe15} €".into())];
        assert_eq!(gbk_only(&fine), Ok(()));
    }
}
