//! West's error codes, read by the client (code → core error) and the simulator (code and
//! message to answer with), so the two cannot drift apart.
//!
//! Sources: the live-behaviour notes (10000-10002, 20000-20120, 30001/30201) — the API
//! document itself lists no codes — and codes of our own where West's is not known:
//! 40001 for a purchase refused for lack of balance (live West says `余额不足` in the
//! message, which the table also recognises, under any code). The older record API
//! (`dnsrec.*`, `{code,msg,body}`) answers with HTTP-like codes (400-410); they share the
//! table, as they never collide with the five-digit codes of the main envelope.
//!
//! Order matters (first match wins): the codes that classify by themselves come before
//! the `余额不足` text rule, the codes that stay vendor errors after it — as the client
//! classified them before the table existed.

use idcgate_core::error::{labelled, ErrorTable, RefusalKind};

/// The codes by name, for the simulator's constructors and the client's decoder.
pub mod code {
    /// `NAME = "code";` a row: each a `pub const NAME: &str`, and all of them in `ALL`.
    macro_rules! named {
        ($($(#[$doc:meta])* $name:ident = $code:literal;)*) => {
            $($(#[$doc])* pub const $name: &str = $code;)*

            /// Every code above: the simulator answers with these alone.
            pub const ALL: &[&str] = &[$($name),*];
        };
    }

    named! {
        /// `username`, `time` or `token` missing.
        AUTH_MISSING = "10000";
        /// Bad token, unreadable `time` or an expired token.
        AUTH_FAILED = "10001";
        /// The caller's IP is not in the account's API whitelist.
        IP_DENIED = "10002";
        /// A bad or missing parameter, named in the message as `field: reason`.
        INVALID = "20000";
        /// The domain is not in this account.
        NO_DOMAIN = "20001";
        /// An id that is not in this account.
        BAD_ID = "20102";
        /// The domain's DNS is not hosted at West.
        DNS_ELSEWHERE = "20109";
        /// The domain is registered, but in another account.
        DOMAIN_ELSEWHERE = "20112";
        /// The request is well-formed but the value or the state refuses it.
        REFUSED = "20113";
        /// TTL (or MX priority) out of range.
        BAD_TTL = "20116";
        /// An identical record (rule, DS key) already exists.
        DUPLICATE = "20118";
        /// A line the record cannot have.
        BAD_LINE = "20119";
        /// The record was already deleted.
        ALREADY_DELETED = "20120";
        /// A query found no records.
        NO_RECORDS = "30001";
        /// A query found nothing.
        NO_DATA = "30201";
        /// Ours: a purchase refused for lack of balance.
        BALANCE = "40001";

        /// The older record API's codes.
        LEGACY_INVALID = "400";
        LEGACY_AUTH = "401";
        LEGACY_IP_DENIED = "403";
        LEGACY_NOT_FOUND = "404";
        LEGACY_CONFLICT = "409";
        LEGACY_GONE = "410";
    }
}

use code::*;

/// The table as the older record API's refusals are worded: `code N: …`.
pub static ERRORS: ErrorTable = TABLE;

/// The table as the main envelope's refusals are worded: it calls its code `errcode`, and
/// callers have always read `errcode N: …` there.
pub(crate) static ERRCODE_ERRORS: ErrorTable = TABLE.worded(errcode);

fn errcode(_kind: RefusalKind, code: &str, message: &str) -> String {
    labelled("errcode", code, message)
}

const TABLE: ErrorTable = ErrorTable::new(
    "west",
    idcgate_core::vendor_codes! {
        // 10002 (caller IP not whitelisted) is an account setting, like a bad password.
        AUTH_MISSING Authentication "username,time,token必传";
        AUTH_FAILED Authentication "token验证失败";
        IP_DENIED Authentication "IP不在API白名单中";
        NO_DOMAIN NotFound "domain: 域名不存在或不属于当前用户";
        DNS_ELSEWHERE NotFound "domain: 域名DNS不在西部数码";
        DOMAIN_ELSEWHERE NotFound "domain: 域名不在当前账户中";
        INVALID InvalidInput "参数错误";
        BAD_ID InvalidInput.id "id: 不存在或不属于当前用户";
        REFUSED InvalidInput.value "value: 参数值不被接受";
        BAD_TTL InvalidInput.ttl "ttl: TTL必须在60到86400之间";
        BAD_LINE InvalidInput.line "line: 不支持的线路";
        LEGACY_INVALID InvalidInput "act: 不支持的操作";
        LEGACY_AUTH Authentication "身份验证失败：apikey或apidomainkey错误";
        LEGACY_IP_DENIED Authentication "IP不在API白名单中";
        LEGACY_NOT_FOUND NotFound "domain: 域名不存在或不属于当前用户";
        BALANCE InsufficientBalance "账户余额不足";
        "*" InsufficientBalance "账户余额不足", "余额不足";
        DUPLICATE Other "相同的解析记录已存在";
        ALREADY_DELETED Other "id: 记录已删除";
        LEGACY_CONFLICT Other "相同的解析记录已存在";
        LEGACY_GONE Other "id: 记录已删除";
        // A read answered with these is an empty list (decoded as such, never refused);
        // on a write they stay vendor errors.
        NO_RECORDS Other "没有找到解析记录";
        NO_DATA Other "没有查询到数据";
    },
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_is_a_number_and_listed_once() {
        let mut seen = Vec::new();
        for c in ERRORS.codes.iter().filter(|c| c.code != "*") {
            assert!(c.code.parse::<i64>().is_ok(), "{}", c.code);
            assert!(!seen.contains(&c.code), "{} twice", c.code);
            assert!(!c.message.is_empty(), "{} has no message", c.code);
            seen.push(c.code);
        }
    }

    /// The simulator answers only with named codes; each must be in the table, or the
    /// simulator would send an empty message and the client misclassify it.
    #[test]
    fn every_named_code_is_in_the_table() {
        let named = code::ALL;
        for c in named {
            assert!(ERRORS.codes.iter().any(|e| e.code == *c), "{c}");
        }
        assert_eq!(
            ERRORS.codes.len(),
            named.len() + 1,
            "plus the 余额不足 rule"
        );
    }

    #[test]
    fn codes_classify_as_the_client_always_did() {
        let kind = |c: &str, m: &str| ERRORS.error(c, m, None).kind();
        assert_eq!(kind(AUTH_FAILED, "x"), "authentication");
        assert_eq!(kind(IP_DENIED, "x"), "authentication");
        assert_eq!(kind(DNS_ELSEWHERE, "x"), "not_found");
        assert_eq!(kind(BAD_TTL, "x"), "invalid_input");
        assert_eq!(kind(BALANCE, "x"), "insufficient_balance");
        assert_eq!(kind("50000", "账户余额不足"), "insufficient_balance");
        assert_eq!(kind(INVALID, "余额不足"), "invalid_input");
        assert_eq!(kind(ALREADY_DELETED, "x"), "upstream");
        assert_eq!(kind(LEGACY_AUTH, "x"), "authentication");
        assert_eq!(kind(LEGACY_NOT_FOUND, "x"), "not_found");
        assert_eq!(kind(LEGACY_CONFLICT, "x"), "upstream");
        assert_eq!(
            ERRORS.error(BAD_LINE, "bad", None),
            idcgate_core::Error::InvalidInput {
                field: "line".into(),
                reason: "code 20119: bad".into()
            }
        );
        assert_eq!(
            ERRCODE_ERRORS.error(BAD_LINE, "bad", None),
            idcgate_core::Error::invalid("line", "errcode 20119: bad")
        );
        assert_eq!(
            ERRCODE_ERRORS.error(AUTH_FAILED, "", None),
            idcgate_core::Error::Authentication {
                vendor: "west".into(),
                message: "errcode 10001".into()
            }
        );
    }
}
