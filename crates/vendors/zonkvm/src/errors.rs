//! Zonkvm's refusals. The finance system answers every failure with `code: 0` and tells
//! them apart only by `msg`, so each entry is code `"0"` plus the text that identifies it
//! (the document's appendix "常见错误信息"). The client classifies refusals through this
//! table alone; the simulator can answer from it.

use idcgate_core::error::{ErrorTable, RefusalKind};

/// The only failure code ThinkPHP's `error()` sends.
pub const FAILURE: &str = "0";

pub static ERRORS: ErrorTable = ErrorTable::new(
    "zonkvm",
    idcgate_core::vendor_codes! {
        FAILURE Authentication "权限不足", "权限不足";
        FAILURE InsufficientBalance "余额不足", "余额不足";
        FAILURE NotFound "未找到产品记录", "未找到产品记录";
        // `缺少必要参数：guid` / `参数错误：guid格式不正确` name the field after the colon;
        // without one (`缺少必要参数` for a missing appid/appkey/action) it is `params`.
        FAILURE InvalidInput "缺少必要参数", "缺少必要参数";
        FAILURE InvalidInput "参数错误", "参数错误";
        FAILURE InvalidInput.line_guid "该线路节点不存在或已下架", "该线路节点不存在或已下架";
        // An unknown (or unimplemented) action, as ThinkPHP answers a missing method.
        FAILURE InvalidInput.action "请求错误", "请求错误";
        FAILURE Other "产品超出可退款时间", "产品超出可退款时间";
    },
)
.worded(verbatim);

/// The message verbatim: the table's default would prefix `code 0: `, which says nothing
/// for a vendor whose only failure code is 0 and would change the text callers match on
/// (`权限不足`). Only "not found" names the vendor, as it names no account.
fn verbatim(kind: RefusalKind, _code: &str, message: &str) -> String {
    match kind {
        RefusalKind::NotFound => format!("zonkvm: {message}"),
        _ => message.to_string(),
    }
}

/// The field a refusal's message names after the table text that identified it:
/// `缺少必要参数：guid` -> `guid`, `参数错误：content.cpu格式不正确` -> `content.cpu`.
pub(crate) fn named_field(code: &str, message: &str) -> Option<String> {
    let entry = ERRORS.lookup(code, message)?;
    if entry.kind != RefusalKind::InvalidInput {
        return None;
    }
    let (_, rest) = message.split_once(entry.text?)?;
    let field: String = rest
        .trim_start_matches([':', '：', ' '])
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.'))
        .collect();
    (!field.is_empty()).then_some(field)
}

#[cfg(test)]
mod tests {
    use super::*;
    use idcgate_core::Error;

    fn classify_failure(message: &str) -> Error {
        ERRORS.error(FAILURE, message, named_field(FAILURE, message).as_deref())
    }

    #[test]
    fn messages_map_to_kinds() {
        for (message, want) in [
            ("权限不足", "authentication"),
            ("余额不足", "insufficient_balance"),
            ("未找到产品记录", "not_found"),
        ] {
            assert_eq!(classify_failure(message).kind(), want, "{message}");
        }
        for (message, field) in [
            ("缺少必要参数：guid", "guid"),
            ("缺少必要参数", "params"),
            ("该线路节点不存在或已下架", "line_guid"),
        ] {
            assert!(
                matches!(classify_failure(message), Error::InvalidInput { field: ref f, .. } if f == field),
                "{message}"
            );
        }
        assert!(matches!(
            classify_failure("产品超出可退款时间"),
            Error::Upstream { ref code, ref message, .. } if code == "0" && message == "产品超出可退款时间"
        ));
    }

    #[test]
    fn fields_and_verbatim_messages() {
        assert_eq!(
            classify_failure("参数错误：content.cpu格式不正确"),
            Error::invalid("content.cpu", "参数错误：content.cpu格式不正确")
        );
        assert_eq!(
            classify_failure("请求错误"),
            Error::invalid("action", "请求错误")
        );
        assert_eq!(
            classify_failure("权限不足"),
            Error::Authentication {
                vendor: "zonkvm".into(),
                message: "权限不足".into()
            }
        );
        assert_eq!(named_field(FAILURE, "网站空间不足"), None);
        // Every entry a simulator looks up by its text finds itself.
        for e in ERRORS.codes {
            assert_eq!(ERRORS.lookup(e.code, e.message), Some(e), "{}", e.message);
        }
    }
}
