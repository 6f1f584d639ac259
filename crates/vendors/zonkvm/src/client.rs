//! The client: Zonkvm's [`Protocol`] (request encoding, answer decoding, refusal
//! wording) on the shared call path, and thin typed wrappers over it.
//!
//! Every request is a UTF-8 form POST to `/api/same/index` carrying `appid`, `appkey` and
//! `action` (plus the row's `obj_type`/`operate` discriminator for sub-operation rows),
//! then the action's own fields; the one multipart row (`hosting_upload`) is built as
//! bytes, its file part the bound file's bytes as they are. Nothing is signed: the key
//! travels as is, so it is registered with the redactor before the first request.

use crate::codec;
use crate::errors::ERRORS;
use crate::spec::{is_multipart, spec};
use idcgate_core::capability::Params;
use idcgate_core::error::ErrorTable;
use idcgate_core::spec::{ActionSpec, Args, ParamType, VendorSpec};
use idcgate_core::{Error, PanelFile, Result, UpstreamAccount, Vendor};
use idcgate_wire::exchange::{Decoded, Exchange, Protocol};
use idcgate_wire::{form, Charset, Redactor, WireConfig, WireRequest, WireResponse};
use serde_json::{Map, Value};

/// Credential names this crate reads from `UpstreamAccount::credentials`.
pub const CRED_APPID: &str = "appid";
pub const CRED_APPKEY: &str = "appkey";

/// The most pages `list_all` follows (100 rows each).
const MAX_PAGES: i64 = 10_000;

/// How one Zonkvm reseller account is spoken to.
pub struct ZonkvmProtocol {
    base_url: String,
    appid: String,
    appkey: String,
}

idcgate_core::debug_shows!(ZonkvmProtocol: base_url, appid);

impl Protocol for ZonkvmProtocol {
    const SPEC: fn() -> &'static VendorSpec = spec;
    const ERRORS: &'static ErrorTable = &ERRORS;

    fn encode(&self, action: &ActionSpec, args: &Args<'_>) -> Result<WireRequest> {
        let url = format!("{}{}", self.base_url, action.path);
        let mut pairs: Vec<(&str, &str)> = vec![
            ("appid", &self.appid),
            ("appkey", &self.appkey),
            ("action", &action.action),
        ];
        // The sub-operation goes right after `action`, where the finance system's own
        // forms put it; `bind` has already dropped any copy a caller sent.
        pairs.extend(args.discriminator_first());
        if is_multipart(action) {
            return Ok(multipart(url, &pairs, args.file(FILE)));
        }
        Ok(WireRequest::form_post(
            url,
            form::encode(&pairs, Charset::Utf8),
            "utf-8",
        ))
    }

    /// Flat sub-fields of a JSON parameter (`content.cpu=4`) are folded into that
    /// parameter before the spec checks the call: `content` is required, and a caller
    /// may give only its sub-fields.
    fn prepare(&self, action: &ActionSpec, params: Params) -> Result<Params> {
        fold_json_params(action, &params)
    }

    fn decode(&self, _action: &ActionSpec, response: &WireResponse) -> Decoded {
        codec::decode(response.status, &response.body)
    }
}

/// An authenticated handle on one Zonkvm reseller account.
#[derive(Debug)]
pub struct ZonkvmClient {
    pub(crate) exchange: Exchange<ZonkvmProtocol>,
}

idcgate_wire::impl_connection!(
    ZonkvmClient,
    exchange,
    [compute, web_hosting, databases, billing, purchasing]
);

impl ZonkvmClient {
    pub fn new(account: &UpstreamAccount, cfg: &WireConfig) -> Result<Self> {
        let creds = &account.credentials;
        let appid = creds.require(CRED_APPID)?.to_string();
        let appkey = creds.require(CRED_APPKEY)?.to_string();
        // Only the key is secret; the appid is a user id shown in every order.
        let redactor = Redactor::new([appkey.as_str()]);
        let protocol = ZonkvmProtocol {
            base_url: account.base_url.trim_end_matches('/').to_string(),
            appid,
            appkey,
        };
        Ok(ZonkvmClient {
            exchange: Exchange::for_account(protocol, account, cfg, redactor)?,
        })
    }

    idcgate_wire::exchange_calls!(exchange, [pub call_kv, pub call_kv_as]);

    /// Every row of a paged list action (`getservers`, `hosting_orders`, ...).
    pub async fn list_all(&self, name: &str) -> Result<Vec<Value>> {
        let mut out = Vec::new();
        let mut page = 1i64;
        loop {
            let (rows, pages) = self
                .call_kv_as(name, &[("page", &page.to_string())], page_of)
                .await?;
            let last = rows.is_empty();
            out.extend(rows);
            if page >= pages || last {
                return Ok(out);
            }
            if page >= MAX_PAGES {
                return Err(Error::Transport {
                    vendor: Vendor::Zonkvm.to_string(),
                    message: format!("{name}: more pages than any account holds"),
                });
            }
            page += 1;
        }
    }

    /// An action answering a JSON array in `data`.
    pub async fn list(&self, name: &str, params: &[(&str, &str)]) -> Result<Vec<Value>> {
        self.call_kv_as(name, params, |v| match v {
            Value::Array(a) => Ok(a),
            _ => Err("expected an array".into()),
        })
        .await
    }

    /// The rows of a catalog listing in service (`status` 1): a row of any other status
    /// is withdrawn, so it is neither offered nor bought.
    pub async fn on_sale(&self, name: &str) -> Result<Vec<Value>> {
        let mut rows = self.list(name, &[]).await?;
        rows.retain(|r| crate::capability::i(r, "status") == 1);
        Ok(rows)
    }
}

/// One page of a paged listing: its rows and the page count. A listing cut short would
/// let sync mark the rest gone, so `pages` must be readable (PHP may send it as a
/// string); a page without it is unreadable.
fn page_of(v: Value) -> std::result::Result<(Vec<Value>, i64), String> {
    let pages = match v.get("pages") {
        Some(Value::Number(n)) => n.as_i64(),
        Some(Value::String(s)) => s.trim().parse().ok(),
        _ => None,
    }
    .ok_or("no page count")?;
    match v {
        Value::Object(mut m) => match m.remove("servers") {
            Some(Value::Array(rows)) => Ok((rows, pages)),
            _ => Err("no servers list".into()),
        },
        _ => Err("no servers list".into()),
    }
}

/// The multipart row's file part (`hosting_upload`'s chunk).
pub(crate) const FILE: &str = "file";

/// A multipart/form-data POST: every pair a text part, except the file: the bound
/// file's bytes as they are, else the `file` pair's text, as a file part named by the
/// `filename` pair (not sent on its own).
fn multipart(url: String, pairs: &[(&str, &str)], file: Option<&PanelFile>) -> WireRequest {
    let contains =
        |hay: &[u8], needle: &str| hay.windows(needle.len()).any(|w| w == needle.as_bytes());
    // A boundary must not occur in any value; a fresh random one almost never does, and
    // we draw again if it does.
    let boundary = loop {
        let b = format!("----idcgate{:016x}", rand::random::<u64>());
        let in_file = file.is_some_and(|f| contains(&f.bytes, &b));
        if !in_file && !pairs.iter().any(|(_, v)| v.contains(&b)) {
            break b;
        }
    };
    let filename = pairs
        .iter()
        .find(|(k, _)| *k == "filename")
        .map(|(_, v)| *v)
        .or(file.map(|f| f.name.as_str()))
        .unwrap_or("file")
        // As browsers do: a quote or line break cannot sit inside the quoted name.
        .replace('"', "%22")
        .replace('\r', "%0D")
        .replace('\n', "%0A");
    let mut body = Vec::new();
    let file_pair = file.map(|_| (FILE, ""));
    for (k, v) in pairs
        .iter()
        .copied()
        .filter(|(k, _)| *k != "filename")
        .chain(file_pair)
    {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"").as_bytes(),
        );
        if k == FILE {
            body.extend_from_slice(
                format!(
                    "; filename=\"{filename}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
                )
                .as_bytes(),
            );
            body.extend_from_slice(file.map_or(v.as_bytes(), |f| &f.bytes[..]));
        } else {
            body.extend_from_slice(format!("\r\n\r\n{v}").as_bytes());
        }
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    let mut req = WireRequest::form_post(url, String::new(), "utf-8");
    req.body = Some(body);
    req.content_type = Some(format!("multipart/form-data; boundary={boundary}"));
    req
}

/// Folds flat `parent.child=value` params into the JSON param `parent` (the document
/// sends `content`, `post`, `proxyData` as one JSON object each). A `parent` given as
/// JSON text is the base; flat children override its keys. Children typed `int` in the
/// spec become JSON numbers, `json` ones nested JSON, the rest strings.
fn fold_json_params<K: AsRef<str>, V: AsRef<str>>(
    action: &ActionSpec,
    params: &[(K, V)],
) -> Result<Params> {
    let is_json = |name: &str| {
        action
            .param(name)
            .is_some_and(|p| matches!(p.ty, ParamType::Json))
    };
    let mut out: Vec<(String, String)> = Vec::new();
    let mut folded: Vec<(String, Map<String, Value>)> = Vec::new();
    for (k, v) in params {
        let (k, v) = (k.as_ref(), v.as_ref());
        let Some((parent, child)) = k.split_once('.').filter(|(p, _)| is_json(p)) else {
            out.push((k.to_string(), v.to_string()));
            continue;
        };
        let value = match action.param(k).map(|p| &p.ty) {
            Some(ParamType::Int) => v
                .trim()
                .parse::<i64>()
                .map(Value::from)
                .map_err(|_| Error::invalid(k, format!("{k} must be an integer")))?,
            Some(ParamType::Json) => serde_json::from_str(v)
                .map_err(|e| Error::invalid(k, format!("{k} must be JSON: {e}")))?,
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

    #[test]
    fn the_wire_form_puts_credentials_action_and_sub_operation_first() {
        let p = ZonkvmProtocol {
            base_url: "http://zk".into(),
            appid: "1".into(),
            appkey: "k".into(),
        };
        let a = spec().find("hosting_operate#hosting_zip").unwrap();
        let args = a
            .bind(&[
                ("guid", "7"),
                ("operate", "hosting_unzip"),
                ("path", "/a b"),
            ])
            .unwrap();
        let req = p.encode(a, &args).unwrap();
        assert_eq!(req.url, "http://zk/api/same/index");
        assert_eq!(
            String::from_utf8(req.body.unwrap()).unwrap(),
            "appid=1&appkey=k&action=hosting_operate&operate=hosting_zip&guid=7&path=%2Fa+b"
        );
    }
}
