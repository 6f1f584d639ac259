//! The client: request encoding, the one send/decode path, error mapping, and thin typed
//! wrappers over it.
//!
//! Every request is a UTF-8 form POST to `/api/same/index` carrying `appid`, `appkey` and
//! `action` (plus `obj_type`/`operate` for sub-operation rows), then the action's own
//! fields. Nothing is signed: the key travels as is, so it is registered with the
//! redactor before the first request.

use crate::codec::{self, DecodeError, Reply};
use crate::spec::{discriminator, is_multipart, spec};
use async_trait::async_trait;
use idcgate_core::capability::{Compute, Connection, Databases, Params, WebHosting};
use idcgate_core::spec::{ActionKind, ActionSpec, ParamType, VendorSpec};
use idcgate_core::{Error, Result, UpstreamAccount, Vendor};
use idcgate_wire::{form, Charset, HttpClient, Redactor, WireConfig, WireRequest};
use serde_json::{Map, Value};

/// Credential names this crate reads from `UpstreamAccount::credentials`.
pub const CRED_APPID: &str = "appid";
pub const CRED_APPKEY: &str = "appkey";

/// The most pages `list_all` follows (100 rows each).
const MAX_PAGES: i64 = 10_000;

/// An authenticated handle on one Zonkvm reseller account.
pub struct ZonkvmConnection {
    http: HttpClient,
    base_url: String,
    appid: String,
    appkey: String,
}

impl std::fmt::Debug for ZonkvmConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ZonkvmConnection")
            .field("base_url", &self.base_url)
            .field("appid", &self.appid)
            .field("appkey", &"[redacted]")
            .finish()
    }
}

impl ZonkvmConnection {
    pub fn new(account: &UpstreamAccount, cfg: &WireConfig) -> Result<Self> {
        let creds = &account.credentials;
        let appid = creds.require(CRED_APPID)?.to_string();
        let appkey = creds.require(CRED_APPKEY)?.to_string();
        // Only the key is secret; the appid is a user id shown in every order.
        let redactor = Redactor::new([appkey.as_str()]);
        let http = HttpClient::new(Vendor::Zonkvm, cfg, account.rate_limit_per_sec, redactor)?;
        Ok(ZonkvmConnection {
            http,
            base_url: account.base_url.trim_end_matches('/').to_string(),
            appid,
            appkey,
        })
    }

    /// The single call path: spec lookup, JSON folding, param checks, encoding, sending,
    /// decoding, error mapping.
    pub async fn invoke(&self, name: &str, params: &[(&str, &str)]) -> Result<Value> {
        let action = spec().require(name)?;
        let pairs = fold_json_params(action, params)?;
        action
            .validate(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .map_err(|(field, reason)| Error::invalid(field, reason))?;
        let req = self.request(action, &pairs);
        let resp = self.http.send(&action.id, action.kind, &req).await?;
        match codec::decode(resp.status, &resp.body) {
            Ok(Reply::Data(v)) => Ok(v),
            Ok(Reply::Failure(msg)) => {
                Err(codec::classify_failure(&self.http.redactor().redact(&msg)))
            }
            Err(e) => Err(self.undecodable(action, &e)),
        }
    }

    fn request(&self, action: &ActionSpec, params: &[(String, String)]) -> WireRequest {
        let url = format!("{}{}", self.base_url, action.path);
        let mut pairs: Vec<(&str, &str)> = vec![
            ("appid", &self.appid),
            ("appkey", &self.appkey),
            ("action", &action.action),
        ];
        if let Some((field, value)) = discriminator(action) {
            pairs.push((field, value));
        }
        pairs.extend(
            params
                .iter()
                .filter(|(k, _)| {
                    // The row decides its sub-operation; a caller's copy would only clash.
                    discriminator(action).is_none_or(|(f, _)| !k.eq_ignore_ascii_case(f))
                })
                .map(|(k, v)| (k.as_str(), v.as_str())),
        );
        if is_multipart(action) {
            return multipart(url, &pairs);
        }
        WireRequest::form_post(url, form::encode(&pairs, Charset::Utf8), "utf-8")
    }

    /// A body we cannot read: for a read nothing changed (retry-safe transport error); for
    /// a write the change may have happened.
    fn undecodable(&self, action: &ActionSpec, e: &DecodeError) -> Error {
        let vendor = Vendor::Zonkvm.to_string();
        let message = self.http.redactor().redact(&e.to_string());
        match action.kind {
            ActionKind::Read => Error::Transport { vendor, message },
            ActionKind::Write => Error::UnknownOutcome {
                vendor,
                action: action.id.clone(),
                message,
            },
        }
    }

    /// Every row of a paged list action (`getservers`, `hosting_orders`, ...).
    pub async fn list_all(&self, name: &str) -> Result<Vec<Value>> {
        let mut out = Vec::new();
        let mut page = 1i64;
        loop {
            let v = self.invoke(name, &[("page", &page.to_string())]).await?;
            let rows = v
                .get("servers")
                .and_then(Value::as_array)
                .ok_or_else(|| shape(name, "no servers list"))?;
            out.extend(rows.iter().cloned());
            // A listing cut short would let sync mark the rest gone, so `pages` must be
            // readable (PHP may send it as a string) and is bounded against a server that
            // never stops paging.
            let pages = match v.get("pages") {
                Some(Value::Number(n)) => n.as_i64(),
                Some(Value::String(s)) => s.trim().parse().ok(),
                _ => None,
            }
            .ok_or_else(|| shape(name, "no page count"))?;
            if page >= pages || rows.is_empty() {
                return Ok(out);
            }
            if page >= MAX_PAGES {
                return Err(shape(name, "more pages than any account holds"));
            }
            page += 1;
        }
    }

    /// An action answering a JSON array in `data`.
    pub async fn list(&self, name: &str, params: &[(&str, &str)]) -> Result<Vec<Value>> {
        match self.invoke(name, params).await? {
            Value::Array(a) => Ok(a),
            _ => Err(shape(name, "expected an array")),
        }
    }

    pub fn base_url(&self) -> &str {
        &self.base_url
    }
}

/// A multipart/form-data POST: every pair a text part, except `file`, which goes as a
/// file part named by the `filename` pair (not sent on its own).
fn multipart(url: String, pairs: &[(&str, &str)]) -> WireRequest {
    // A boundary must not occur in any value; a fresh random one almost never does, and
    // we draw again if it does.
    let boundary = loop {
        let b = format!("----idcgate{:016x}", rand::random::<u64>());
        if !pairs.iter().any(|(_, v)| v.contains(&b)) {
            break b;
        }
    };
    let filename = pairs
        .iter()
        .find(|(k, _)| *k == "filename")
        .map_or("file", |(_, v)| v)
        // As browsers do: a quote or line break cannot sit inside the quoted name.
        .replace('"', "%22")
        .replace('\r', "%0D")
        .replace('\n', "%0A");
    let mut body = String::new();
    for (k, v) in pairs.iter().filter(|(k, _)| *k != "filename") {
        body.push_str(&format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\""
        ));
        if *k == "file" {
            body.push_str(&format!(
                "; filename=\"{filename}\"\r\nContent-Type: application/octet-stream"
            ));
        }
        body.push_str(&format!("\r\n\r\n{v}\r\n"));
    }
    body.push_str(&format!("--{boundary}--\r\n"));
    let mut req = WireRequest::form_post(url, body, "utf-8");
    req.content_type = Some(format!("multipart/form-data; boundary={boundary}"));
    req
}

/// A reply of the wrong shape to a read (writes never go through the typed readers).
pub(crate) fn shape(name: &str, what: &str) -> Error {
    Error::Transport {
        vendor: Vendor::Zonkvm.to_string(),
        message: format!("{name}: unexpected reply: {what}"),
    }
}

/// Folds flat `parent.child=value` params into the JSON param `parent` (the document
/// sends `content`, `post`, `proxyData` as one JSON object each). A `parent` given as
/// JSON text is the base; flat children override its keys. Children typed `int` in the
/// spec become JSON numbers, `json` ones nested JSON, the rest strings.
fn fold_json_params(action: &ActionSpec, params: &[(&str, &str)]) -> Result<Vec<(String, String)>> {
    let is_json = |name: &str| {
        action
            .param(name)
            .is_some_and(|p| matches!(p.ty, ParamType::Json))
    };
    let mut out: Vec<(String, String)> = Vec::new();
    let mut folded: Vec<(String, Map<String, Value>)> = Vec::new();
    for (k, v) in params {
        let Some((parent, child)) = k.split_once('.').filter(|(p, _)| is_json(p)) else {
            out.push((k.to_string(), v.to_string()));
            continue;
        };
        let value = match action.param(k).map(|p| &p.ty) {
            Some(ParamType::Int) => v
                .trim()
                .parse::<i64>()
                .map(Value::from)
                .map_err(|_| Error::invalid(*k, format!("{k} must be an integer")))?,
            Some(ParamType::Json) => serde_json::from_str(v)
                .map_err(|e| Error::invalid(*k, format!("{k} must be JSON: {e}")))?,
            _ => Value::String(v.to_string()),
        };
        match folded.iter_mut().find(|(p, _)| p == parent) {
            Some((_, map)) => {
                map.insert(child.to_string(), value);
            }
            None => {
                let mut map = Map::new();
                map.insert(child.to_string(), value);
                folded.push((parent.to_string(), map));
            }
        }
    }
    for (parent, children) in folded {
        let mut base = match out.iter().position(|(k, _)| *k == parent) {
            Some(i) => match serde_json::from_str::<Value>(&out.remove(i).1) {
                Ok(Value::Object(m)) => m,
                _ => {
                    return Err(Error::invalid(
                        parent,
                        "must be a JSON object to take sub-fields",
                    ))
                }
            },
            None => Map::new(),
        };
        base.extend(children);
        out.push((parent, Value::Object(base).to_string()));
    }
    Ok(out)
}

#[async_trait]
impl Connection for ZonkvmConnection {
    fn vendor(&self) -> Vendor {
        Vendor::Zonkvm
    }

    fn spec(&self) -> &'static VendorSpec {
        spec()
    }

    async fn call(&self, action: &str, params: &Params) -> Result<Value> {
        let borrowed: Vec<(&str, &str)> = params
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        self.invoke(action, &borrowed).await
    }

    fn compute(&self) -> Option<&dyn Compute> {
        Some(self)
    }

    fn web_hosting(&self) -> Option<&dyn WebHosting> {
        Some(self)
    }

    fn databases(&self) -> Option<&dyn Databases> {
        Some(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flat_sub_fields_fold_into_one_json_field() {
        let a = spec().find("create_order#create_server").unwrap();
        let out = fold_json_params(
            a,
            &[
                ("content", r#"{"cpu":1,"months":3}"#),
                ("content.cpu", "4"),
                ("content.harddisksValues", "40,80"),
                ("line_guid", "L"),
            ],
        )
        .unwrap();
        assert_eq!(out[0], ("line_guid".into(), "L".into()));
        let content: Value = serde_json::from_str(&out[1].1).unwrap();
        assert_eq!(
            content,
            serde_json::json!({"cpu":4,"months":3,"harddisksValues":"40,80"})
        );
        let err = fold_json_params(a, &[("content.cpu", "four")]).unwrap_err();
        assert!(matches!(err, Error::InvalidInput { ref field, .. } if field == "content.cpu"));
    }
}
