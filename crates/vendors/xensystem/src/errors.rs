//! The panel's refusals. XenSystem has a single error code: every failure is `-1 <text>`
//! (or `-1|<text>`), so the only distinction is the wording. The document gives no
//! wording at all ("-1 错误提示"); these phrases are the panel's as the simulator speaks
//! them, matched as text. First match wins, so the order matters: an authentication
//! or parameter message that also says `不存在` is about the credentials or the field.

use idcgate_core::error::ErrorTable;

/// The panel's one failure code, the `-1` its refusals start with.
pub const FAILURE: &str = "-1";

/// The wording that opens a parameter refusal, followed by the field's name:
/// `参数 vpsid 不能为空`.
pub const PARAM_PREFIX: &str = "参数 ";

pub static ERRORS: ErrorTable = ErrorTable::new(
    "xensystem",
    idcgate_core::vendor_codes! {
        // Wrong panel id / key, unknown user, locked or disabled user, bad `identity`.
        FAILURE Authentication "API 验证失败：主控端识别码或系统 API 密钥错误", "API 验证失败";
        // A system-only command sent with a user-level key.
        FAILURE Authentication "权限不足：该指令仅限系统级接口使用", "权限不足";
        // Missing, malformed or out-of-range parameter; the client reads the field's name
        // from the message (`Refusal::field`), `params` when it names none.
        FAILURE InvalidInput "参数 vpsid 不能为空", PARAM_PREFIX;
        // A VM, user, server, group, template, address, backup set, task... the caller
        // cannot see (user-level keys see other users' objects as absent).
        FAILURE NotFound "主机 1 不存在", "不存在";
        // Everything else (quotas, state, verification codes, business rules) is kept as
        // `Upstream { code: "-1", message }` with the panel's text verbatim.
        FAILURE Other "错误提示";
    },
);

/// The field a parameter refusal names (`参数 vpsid 不能为空` → `vpsid`), if it names one.
pub(crate) fn field_of(message: &str) -> Option<&str> {
    message
        .strip_prefix(PARAM_PREFIX)?
        .split_whitespace()
        .next()
}

/// How a refusal reads, for tests: its kind, with the field of invalid input
/// (`invalid_input:vpsid`) and the code of the vendor's own refusal (`upstream:-1`).
#[cfg(test)]
pub(crate) fn reads_as(e: &idcgate_core::Error) -> String {
    use idcgate_core::Error;
    match e {
        Error::InvalidInput { field, .. } => format!("invalid_input:{field}"),
        Error::Upstream { code, .. } => format!("upstream:{code}"),
        other => other.kind().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::classify_failure;
    use idcgate_core::error::RefusalKind;
    use idcgate_core::Error;

    #[test]
    fn wording_classifies() {
        for (message, want) in [
            ("API 验证失败：用户已被锁定", "authentication"),
            ("权限不足：该指令仅限系统级接口使用", "authentication"),
            (
                "参数 cmd_params.serverName 不能为空",
                "invalid_input:cmd_params.serverName",
            ),
            ("参数 ", "invalid_input:params"),
            ("备份集 9 不存在", "not_found"),
        ] {
            assert_eq!(reads_as(&classify_failure(message)), want, "{message}");
        }
        assert_eq!(
            classify_failure("验证码错误或已过期"),
            Error::upstream("xensystem", "-1", "验证码错误或已过期")
        );
        assert_eq!(ERRORS.entry(FAILURE).kind, RefusalKind::Authentication);
    }
}
