//! The West client: [`WestProtocol`] (token signing, GBK request encoding, reading both
//! envelopes — `result/errcode` and the older `code/body`) on the shared call path, and
//! [`WestClient`], one account's handle.

use crate::errors::{code, ERRCODE_ERRORS, ERRORS};
use crate::spec::spec;
use idcgate_core::error::ErrorTable;
use idcgate_core::spec::{ActionKind, ActionSpec, Args, VendorSpec};
use idcgate_core::{Error, Result, UpstreamAccount};
use idcgate_wire::charset::decode_lenient;
use idcgate_wire::{
    form, Charset, Decoded, Exchange, Protocol, Redactor, Refusal, WireConfig, WireRequest,
    WireResponse,
};
use serde_json::{json, Value};

/// West's wire format for one account. `Debug` shows the account name only: it holds the
/// password.
pub struct WestProtocol {
    base: String,
    username: String,
    api_password: String,
}

idcgate_core::debug_shows!(WestProtocol: base, username);

impl WestProtocol {
    fn legacy(action: &ActionSpec) -> bool {
        action.action.starts_with("dnsrec.")
    }
}

impl Protocol for WestProtocol {
    const SPEC: fn() -> &'static VendorSpec = spec;
    const ERRORS: &'static ErrorTable = &ERRORS;

    /// West reads GBK. A character GBK lacks (emoji, rare CJK extensions) would be sent
    /// as an HTML character reference (`&#128512;`) and stored as that text: refuse it.
    fn admit(&self, _action: &ActionSpec, args: &Args<'_>) -> Result<()> {
        gbk_only(args.pairs())
    }

    /// Signed here, per attempt: the token carries the time and expires.
    fn encode(&self, a: &ActionSpec, args: &Args<'_>) -> Result<WireRequest> {
        let user = ("username".to_string(), self.username.clone());
        let mut query: Vec<(String, String)> = vec![("act".into(), a.action.clone())];
        let mut body: Vec<(String, String)> = Vec::new();
        if Self::legacy(a) {
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
            query.extend(args.pairs().iter().cloned());
        } else {
            body.extend(args.pairs().iter().cloned());
        }
        let url = format!(
            "{}/{}?{}",
            self.base,
            a.path.trim_start_matches('/'),
            form::encode(&query, Charset::Gbk)
        );
        Ok(if get {
            WireRequest::get(url)
        } else {
            WireRequest::form_post(url, form::encode(&body, Charset::Gbk), "gbk")
        })
    }

    /// Any HTTP status: West answers its errors with 200, and a proxy's page is not an
    /// envelope, so the body alone decides.
    fn decode(&self, a: &ActionSpec, resp: &WireResponse) -> Decoded {
        decode_answer(a, &resp.content_type, &resp.body)
    }

    /// The table classifies; only the wording differs: the main envelope calls its code
    /// `errcode` ([`ERRCODE_ERRORS`]), the older one keeps the table's `code N: …`.
    fn refused(&self, a: &ActionSpec, refusal: &Refusal) -> Error {
        let table = if Self::legacy(a) {
            &ERRORS
        } else {
            &ERRCODE_ERRORS
        };
        table.error(&refusal.code, &refusal.message, refusal.field.as_deref())
    }
}

/// West reads GBK. A character GBK lacks (emoji, rare CJK extensions) would be sent as
/// an HTML character reference (`&#128512;`) and stored as that text, and a few
/// private-use ones would be stored as other characters: refuse them instead.
fn gbk_only(params: &[(String, String)]) -> Result<()> {
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

/// Reads an answer whatever its HTTP status (West answers its errors with 200, and a
/// proxy's page is not an envelope, so the body alone decides): the declared charset
/// (else UTF-8, else GBK), JSON, then the envelope the action uses.
pub(crate) fn decode_answer(a: &ActionSpec, content_type: &str, body: &[u8]) -> Decoded {
    let text = Charset::from_content_type(content_type)
        .and_then(|c| c.decode(body))
        .unwrap_or_else(|| decode_lenient(body));
    let Ok(v) = serde_json::from_str::<Value>(&text) else {
        return Decoded::Unreadable("body is not JSON".into());
    };
    if WestProtocol::legacy(a) {
        decode_legacy(v)
    } else {
        decode_envelope(a, v)
    }
}

fn as_i64(v: Option<&Value>) -> Option<i64> {
    match v? {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// The payload under `key`, moved out of the envelope (`{}` when absent).
fn take(mut v: Value, key: &str) -> Value {
    v.get_mut(key).map(Value::take).unwrap_or_else(|| json!({}))
}

/// West's refusal; the field is the one its message names as `field: reason` (the
/// simulator always does, the live API often), else the table's.
fn refusal(code: i64, v: &Value) -> Refusal {
    let msg = v.get("msg").and_then(Value::as_str).unwrap_or_default();
    let r = Refusal::new(code, msg);
    match msg.split_once(':').map(|(f, _)| f.trim()) {
        Some(f) if !f.is_empty() && f.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') => {
            r.with_field(f)
        }
        _ => r,
    }
}

fn decode_envelope(a: &ActionSpec, v: Value) -> Decoded {
    let Some(result) = as_i64(v.get("result")) else {
        return Decoded::Unreadable("response has no result field".into());
    };
    if result == 200 {
        return Decoded::Data(take(v, "data"));
    }
    let errcode = as_i64(v.get("errcode")).unwrap_or(result);
    let text = errcode.to_string();
    // The live API reports "nothing found" as an error; for a read it is an empty list.
    if a.kind == ActionKind::Read && (text == code::NO_RECORDS || text == code::NO_DATA) {
        return Decoded::Data(json!({"total":0,"totalpages":0,"items":[]}));
    }
    Decoded::Refused(refusal(errcode, &v))
}

fn decode_legacy(v: Value) -> Decoded {
    let Some(code) = as_i64(v.get("code")) else {
        return Decoded::Unreadable("response has no code field".into());
    };
    if code == 200 {
        return Decoded::Data(take(v, "body"));
    }
    Decoded::Refused(refusal(code, &v))
}

/// One authenticated West account. `Debug` shows the base URL and the account name, never
/// a secret.
#[derive(Debug)]
pub struct WestClient {
    exchange: Exchange<WestProtocol>,
    pub(crate) templateid: Option<String>,
}

idcgate_wire::impl_connection!(
    WestClient,
    exchange,
    [
        registrar,
        dns,
        compute,
        web_hosting,
        databases,
        mail,
        billing,
        purchasing
    ]
);

impl WestClient {
    pub fn new(account: &UpstreamAccount, cfg: &WireConfig) -> Result<Self> {
        let username = account.credentials.require("username")?.to_string();
        let api_password = account.credentials.require("api_password")?.to_string();
        let templateid = account.credentials.get("templateid").map(str::to_string);
        // The apikey of the older API is derived from the password: both are secrets.
        let redactor = Redactor::new([api_password.clone(), crate::md5_hex(&api_password)]);
        let mut base = account.base_url.trim_end_matches('/').to_string();
        // Live West serves under /api; a bare scheme://host:port base gets it appended.
        if !base.to_ascii_lowercase().ends_with("/api") {
            base.push_str("/api");
        }
        let protocol = WestProtocol {
            base,
            username,
            api_password,
        };
        Ok(WestClient {
            exchange: Exchange::for_account(protocol, account, cfg, redactor)?,
            templateid,
        })
    }

    idcgate_wire::exchange_calls!(exchange, [pub call, pub call_kv, pub(crate) call_kv_as]);
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
    use idcgate_core::capability::Params;

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
