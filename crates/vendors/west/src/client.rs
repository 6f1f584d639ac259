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
        let mut pairs: Vec<(String, String)> = vec![("username".into(), self.username.clone())];
        if legacy {
            pairs.push(("apikey".into(), crate::md5_hex(&self.api_password)));
            pairs.push(("act".into(), a.action.clone()));
        } else {
            let time = now_ms().to_string();
            pairs.push((
                "token".into(),
                crate::token(&self.username, &self.api_password, &time),
            ));
            pairs.push(("time".into(), time));
        }
        pairs.extend(params.iter().cloned());
        let url = format!("{}/{}", self.base, a.path.trim_start_matches('/'));
        let act = form::encode_component(&a.action, Charset::Utf8);
        let req = if a.method.eq_ignore_ascii_case("GET") {
            WireRequest::get(format!(
                "{url}?act={act}&{}",
                form::encode(&pairs, Charset::Gbk)
            ))
        } else {
            WireRequest::form_post(
                format!("{url}?act={act}"),
                form::encode(&pairs, Charset::Gbk),
                "gbk",
            )
        };
        let resp = self.http.send(&a.id, a.kind, &req).await?;
        let text = Charset::from_content_type(&resp.content_type)
            .and_then(|c| c.decode(&resp.body))
            .unwrap_or_else(|| decode_lenient(&resp.body));
        let value: Value = match serde_json::from_str(&text) {
            Ok(v) => v,
            Err(_) => {
                return Err(bad_body(
                    a,
                    format!("HTTP {} with a body that is not JSON", resp.status),
                ))
            }
        };
        if legacy {
            map_legacy(a, value)
        } else {
            map_envelope(a, value)
        }
    }
}

/// A body we cannot read: retry-safe for reads, an unknown outcome for writes (the
/// change may have been committed before the answer broke).
fn bad_body(a: &ActionSpec, message: String) -> Error {
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

fn map_envelope(a: &ActionSpec, v: Value) -> Result<Value> {
    let Some(result) = as_i64(v.get("result")) else {
        return Err(bad_body(a, "response has no result field".into()));
    };
    if result == 200 {
        return Ok(v.get("data").cloned().unwrap_or_else(|| json!({})));
    }
    let code = as_i64(v.get("errcode")).unwrap_or(result);
    let msg = v
        .get("msg")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let text = format!("errcode {code}: {msg}");
    Err(match code {
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

fn map_legacy(a: &ActionSpec, v: Value) -> Result<Value> {
    let Some(code) = as_i64(v.get("code")) else {
        return Err(bad_body(a, "response has no code field".into()));
    };
    let msg = v
        .get("msg")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    match code {
        200 => Ok(v.get("body").cloned().unwrap_or_else(|| json!({}))),
        401 | 403 => Err(Error::Authentication {
            vendor: VENDOR.into(),
            message: format!("code {code}: {msg}"),
        }),
        404 => Err(Error::NotFound {
            what: format!("code {code}: {msg}"),
        }),
        400 => Err(Error::InvalidInput {
            field: field_of(0, &msg),
            reason: format!("code {code}: {msg}"),
        }),
        _ => Err(Error::upstream(VENDOR, code, msg)),
    }
}

pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or_default()
}
