//! The CNDNS client: the auth triple on every attempt (a fresh `otime` each time), UTF-8
//! query encoding, tolerant decoding, and `"<code> <text>"` failures classified through
//! [`crate::errors::ERRORS`]. Retries and outcomes belong to the shared exchange.

use crate::decode::decode_body;
use crate::errors::ERRORS;
use crate::spec::spec;
use idcgate_core::error::ErrorTable;
use idcgate_core::spec::{ActionSpec, Args, VendorSpec};
use idcgate_core::{Result, UpstreamAccount};
use idcgate_wire::charset::decode_lenient;
use idcgate_wire::exchange::{Decoded, Exchange, Protocol, Refusal};
use idcgate_wire::{form, Charset, Redactor, WireConfig, WireRequest, WireResponse};
use serde_json::Value;
use std::sync::Mutex;

/// One authenticated CNDNS account. `Debug` shows the base URL and the account name, never
/// a secret.
#[derive(Debug)]
pub struct CndnsClient {
    pub(crate) exchange: Exchange<CndnsProtocol>,
    pub(crate) contact_id: Option<String>,
}

impl CndnsClient {
    pub fn new(account: &UpstreamAccount, cfg: &WireConfig) -> Result<Self> {
        let username = account.credentials.require("username")?.to_string();
        let api_password = account.credentials.require("api_password")?.to_string();
        let email = account.credentials.require("email")?.to_string();
        let contact_id = account.credentials.get("contact_id").map(str::to_string);
        // md5(api_password) is a checksum input and as good as the password itself; the
        // e-mail is the other input never sent, so it stays out of logs too.
        let redactor = Redactor::new([
            api_password.clone(),
            crate::md5_hex(&api_password),
            email.clone(),
        ]);
        let protocol = CndnsProtocol {
            base: account.base_url.trim_end_matches('/').to_string(),
            username,
            api_password,
            email,
            last_otime: Mutex::new(0),
        };
        Ok(CndnsClient {
            exchange: Exchange::for_account(protocol, account, cfg, redactor)?,
            contact_id,
        })
    }

    idcgate_wire::exchange_calls!(exchange, [pub call, pub call_kv, pub(crate) call_kv_as]);
}

idcgate_wire::impl_connection!(
    CndnsClient,
    exchange,
    [registrar, dns, compute, web_hosting, billing, purchasing]
);

/// CNDNS's wire protocol for one account: signing, the query, the envelope.
pub struct CndnsProtocol {
    base: String,
    username: String,
    api_password: String,
    email: String,
    /// Last `otime` sent, in ms: the next one is always later, because CNDNS refuses a
    /// repeated submission (10036) and two calls can fall in the same millisecond.
    last_otime: Mutex<i64>,
}

idcgate_core::debug_shows!(CndnsProtocol: base, username);

impl CndnsProtocol {
    /// `yyyyMMddHHmmssfff` in China time, strictly later than the previous one.
    fn next_otime(&self) -> String {
        let mut last = idcgate_core::lock(&self.last_otime);
        let ms = crate::now_ms().max(*last + 1);
        *last = ms;
        crate::china(ms).strftime("%Y%m%d%H%M%S%3f").to_string()
    }
}

impl Protocol for CndnsProtocol {
    const SPEC: fn() -> &'static VendorSpec = spec;
    const ERRORS: &'static ErrorTable = &ERRORS;

    /// 10036 refuses an `otime` already seen: two processes on one account can send the
    /// same millisecond. A read is sent again with a later one.
    fn retry_refused_read(&self, refusal: &idcgate_wire::Refusal) -> bool {
        refusal.code == "10036"
    }

    /// One signed request: a fresh otime per attempt, so a retry is never a replay.
    fn encode(&self, action: &ActionSpec, args: &Args<'_>) -> Result<WireRequest> {
        let otime = self.next_otime();
        let mut pairs: Vec<(String, String)> = vec![
            ("username".into(), self.username.clone()),
            ("otime".into(), otime.clone()),
            (
                "checksum".into(),
                crate::checksum(&self.username, &self.api_password, &otime, &self.email),
            ),
        ];
        pairs.extend(args.pairs().iter().cloned());
        let path: String = action.path.chars().filter(|c| !c.is_whitespace()).collect();
        let url = format!("{}/{}", self.base, path.trim_start_matches('/'));
        let body = form::encode(&pairs, Charset::Utf8);
        Ok(if action.method.eq_ignore_ascii_case("POST") {
            WireRequest::form_post(url, body, "utf-8")
        } else {
            WireRequest::get(format!("{url}?{body}"))
        })
    }

    fn decode(&self, action: &ActionSpec, response: &WireResponse) -> Decoded {
        // CNDNS answers its own failures with 200; anything else is a proxy or a crash.
        if response.status != 200 {
            return Decoded::Unreadable("not a CNDNS answer".into());
        }
        let Some(d) = decode_body(&decode_lenient(&response.body)) else {
            return Decoded::Unreadable("a body that holds no CNDNS envelope".into());
        };
        // Part of the answer could not be read (a list item, the payload): the rest is
        // not the answer. A read is asked again, a write's outcome is unknown (the
        // exchange decides); nothing here may turn it into a shorter list or a `null`.
        if d.skipped > 0 {
            return Decoded::Unreadable(format!("{} unreadable part(s) in the answer", d.skipped));
        }
        if d.success {
            if d.extra.is_empty() {
                return Decoded::Data(d.message);
            }
            // Keys beside `message` (ReplyDetail) are part of the answer.
            let mut o = d.extra;
            o.insert("message".into(), d.message);
            return Decoded::Data(Value::Object(o));
        }
        let message = match &d.message {
            Value::String(s) => s.trim().to_string(),
            other => other.to_string(),
        };
        Decoded::Refused(refusal(action, &message))
    }
}

/// `"<5-digit code> <text>"` as a refusal; getProductPrice and the CDN/DDOS/百度云/阿里云
/// modules fail with free text only (empty code, the whole text kept).
fn refusal(action: &ActionSpec, message: &str) -> Refusal {
    let digits: String = message.chars().take_while(char::is_ascii_digit).collect();
    let Ok(code) = digits.parse::<u32>() else {
        return Refusal::new("", message);
    };
    let r = Refusal::new(code, message[digits.len()..].trim());
    // A coded failure names the offending field as `text(field)` (the simulator does,
    // and codes alone cannot: they are per endpoint). Text-only modules put anything in
    // brackets, so theirs stay refusals.
    match action
        .params
        .iter()
        .find(|p| message.contains(&format!("({}", p.name)))
    {
        Some(p) => r.with_field(p.name.clone()),
        None => r,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use idcgate_core::Error;

    const VENDOR: &str = "cndns";

    fn protocol() -> CndnsProtocol {
        CndnsProtocol {
            base: "http://h".into(),
            username: "u".into(),
            api_password: "p".into(),
            email: "e@x".into(),
            last_otime: Mutex::new(0),
        }
    }

    fn err(action: &str, message: &str) -> Error {
        let a = spec().require(action).unwrap_or_else(|e| panic!("{e}"));
        protocol().refused(a, &refusal(a, message))
    }

    /// The query after the auth triple, as sent.
    fn sent(action: &str, kv: &[(&str, &str)]) -> String {
        let a = spec().require(action).unwrap_or_else(|e| panic!("{e}"));
        let args = a.bind(kv).unwrap_or_else(|e| panic!("{e}"));
        let url = protocol().encode(a, &args).unwrap().url;
        let (_, query) = url.split_once("&checksum=").unwrap();
        query
            .split_once('&')
            .map_or("", |(_, rest)| rest)
            .to_string()
    }

    #[test]
    fn queries_keep_the_callers_order_and_end_with_the_sub_query() {
        assert!(protocol()
            .encode(
                spec().require("/user/userdetail").unwrap(),
                &spec()
                    .require("/user/userdetail")
                    .unwrap()
                    .bind(&[] as &[(&str, &str)])
                    .unwrap()
            )
            .unwrap()
            .url
            .starts_with("http://h/user/userdetail.aspx?username=u&otime="));
        assert_eq!(
            sent(
                "/domains/addrec",
                &[
                    ("rec_type", "A"),
                    ("domainname", "例子.com"),
                    ("rec_item", "@"),
                    ("rec_value", "1.2.3.4")
                ]
            ),
            "rec_type=A&domainname=%E4%BE%8B%E5%AD%90.com&rec_item=%40&rec_value=1.2.3.4"
        );
        // GetstatTop: the row's `type` last, as the client sent its default before.
        assert_eq!(
            sent("/cdn/getstattop#4", &[("dme", "a.com"), ("nme", "n")]),
            "dme=a.com&nme=n&type=4"
        );
    }

    #[test]
    fn failures_classify_through_the_table_and_keep_the_text() {
        let e = err("/user/userdetail", "10008 提交的验证串错误");
        assert_eq!(
            e,
            Error::Authentication {
                vendor: VENDOR.into(),
                message: "10008 提交的验证串错误".into()
            }
        );
        assert_eq!(
            err(
                "/product/getproductprice",
                "10001 价格查询失败,产品类型错误"
            )
            .kind(),
            "upstream"
        );
        assert_eq!(
            err("/domains/deleterec", "11318 解析信息不存在").kind(),
            "not_found"
        );
        assert_eq!(
            err("/domains/addrec", "11312 TTL值不能小于300(rec_ttl)"),
            Error::InvalidInput {
                field: "rec_ttl".into(),
                reason: "11312 TTL值不能小于300(rec_ttl)".into()
            }
        );
        assert_eq!(
            err("/cdn/createcdn", "您帐户余额不足"),
            Error::InsufficientBalance {
                vendor: VENDOR.into(),
                message: "您帐户余额不足".into()
            }
        );
        assert_eq!(
            err("/cdn/createcdn", "优惠券不能使用(signature)"),
            Error::upstream(VENDOR, "", "优惠券不能使用(signature)")
        );
        assert_eq!(
            err("/cloud/createhost", "17101 密码非法"),
            Error::upstream(VENDOR, "17101", "密码非法")
        );
    }
}
