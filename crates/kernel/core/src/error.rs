//! One error taxonomy for every upstream. Callers decide on retries and user messages
//! from the variant alone; vendor codes and messages are kept verbatim for humans.

use thiserror::Error;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum Error {
    /// Credentials rejected (or caller IP not allowed). Retrying will not help.
    #[error("authentication failed at {vendor}: {message}")]
    Authentication { vendor: String, message: String },

    #[error("rate limited by {vendor}: {message}")]
    RateLimited { vendor: String, message: String },

    #[error("not found: {what}")]
    NotFound { what: String },

    /// Bad input, naming the offending field so surfaces can point at it.
    #[error("invalid {field}: {reason}")]
    InvalidInput { field: String, reason: String },

    #[error("insufficient balance at {vendor}: {message}")]
    InsufficientBalance { vendor: String, message: String },

    /// The upstream refused, with its own code and message kept verbatim.
    #[error("{vendor} error {code}: {message}")]
    Upstream {
        vendor: String,
        code: String,
        message: String,
    },

    /// The request never produced an answer we can trust (connect failure, bad body on
    /// a read). Safe to retry only for reads.
    #[error("transport error talking to {vendor}: {message}")]
    Transport { vendor: String, message: String },

    /// A mutating call whose answer was lost: the change may or may not have happened.
    /// Never treat as success or failure; reconcile by reading the upstream.
    #[error(
        "unknown outcome of {action} at {vendor}: {message} (reconcile by reading the upstream)"
    )]
    UnknownOutcome {
        vendor: String,
        action: String,
        message: String,
    },

    /// The action exists in the vendor's documents but idcgate does not implement it.
    #[error("{vendor} action {action} is not implemented")]
    NotImplemented { vendor: String, action: String },

    /// The account's vendor cannot do this at all (e.g. DNSPod has no servers).
    #[error("{vendor} does not support {capability}")]
    Unsupported { vendor: String, capability: String },
}

impl Error {
    pub fn invalid(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Error::InvalidInput {
            field: field.into(),
            reason: reason.into(),
        }
    }

    pub fn not_found(what: impl Into<String>) -> Self {
        Error::NotFound { what: what.into() }
    }

    /// `vendor` cannot do `capability` at all: "{vendor} does not support {capability}".
    pub fn unsupported(vendor: impl std::fmt::Display, capability: impl Into<String>) -> Self {
        Error::Unsupported {
            vendor: vendor.to_string(),
            capability: capability.into(),
        }
    }

    pub fn upstream(
        vendor: impl Into<String>,
        code: impl ToString,
        message: impl Into<String>,
    ) -> Self {
        Error::Upstream {
            vendor: vendor.into(),
            code: code.to_string(),
            message: message.into(),
        }
    }

    /// Short machine-readable kind, used by the REST surface and the audit log.
    pub fn kind(&self) -> &'static str {
        match self {
            Error::Authentication { .. } => "authentication",
            Error::RateLimited { .. } => "rate_limited",
            Error::NotFound { .. } => "not_found",
            Error::InvalidInput { .. } => "invalid_input",
            Error::InsufficientBalance { .. } => "insufficient_balance",
            Error::Upstream { .. } => "upstream",
            Error::Transport { .. } => "transport",
            Error::UnknownOutcome { .. } => "unknown_outcome",
            Error::NotImplemented { .. } => "not_implemented",
            Error::Unsupported { .. } => "unsupported",
        }
    }

    /// Whether a read that failed this way may be retried.
    pub fn is_retryable_read(&self) -> bool {
        matches!(self, Error::Transport { .. } | Error::RateLimited { .. })
    }
}

/// What a vendor's refusal means, vendor-neutrally. The variants mirror [`Error`]'s
/// refusal variants; transport and outcome errors never come from a vendor's code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefusalKind {
    Authentication,
    RateLimited,
    NotFound,
    InvalidInput,
    InsufficientBalance,
    /// Kept as `Error::Upstream` with the vendor's code and message verbatim.
    Other,
}

/// One documented (or observed) error of a vendor: how the client classifies it and
/// what the simulator answers. `text`, when set, must occur in the message as well —
/// for vendors whose only distinction is the wording (Zonkvm answers every failure with
/// code 0) or whose wording overrides the code (West's `余额不足`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VendorCode {
    /// The code as the vendor sends it; `"*"` matches any code (then `text` must be set).
    pub code: &'static str,
    pub text: Option<&'static str>,
    pub kind: RefusalKind,
    /// For `InvalidInput`: the field the code is about, when the message does not say.
    pub field: Option<&'static str>,
    /// The vendor's own message, as the simulator sends it.
    pub message: &'static str,
}

impl VendorCode {
    pub const fn new(code: &'static str, kind: RefusalKind, message: &'static str) -> Self {
        VendorCode {
            code,
            text: None,
            kind,
            field: None,
            message,
        }
    }

    pub const fn field(mut self, field: &'static str) -> Self {
        self.field = Some(field);
        self
    }

    pub const fn text(mut self, text: &'static str) -> Self {
        self.text = Some(text);
        self
    }

    fn matches(&self, code: &str, message: &str) -> bool {
        (self.code == "*" || self.code == code) && self.text.is_none_or(|t| message.contains(t))
    }
}

/// A vendor's [`VendorCode`]s as a table, a row a line: the code (a literal or a
/// constant), the [`RefusalKind`] (`InvalidInput.ttl`, `InvalidInput."domain-name"` when it
/// is about a field, see [`VendorCode::field`]), the message, and after a comma the wording that must occur in
/// the vendor's message (see [`VendorCode::text`]):
///
/// ```
/// use idcgate_core::error::{ErrorTable, RefusalKind};
///
/// static ERRORS: ErrorTable = ErrorTable::new("west", idcgate_core::vendor_codes! {
///     "10001" Authentication "token验证失败";
///     "20116" InvalidInput.ttl "ttl: TTL必须在60到86400之间";
///     "*" InsufficientBalance "账户余额不足", "余额不足";
/// });
/// assert_eq!(ERRORS.entry("20116").field, Some("ttl"));
/// assert_eq!(ERRORS.error("50000", "账户余额不足", None).kind(), "insufficient_balance");
/// assert_eq!(ERRORS.codes[0].kind, RefusalKind::Authentication);
/// ```
#[macro_export]
macro_rules! vendor_codes {
    (@field $field:ident) => { stringify!($field) };
    (@field $field:literal) => { $field };
    ($($code:tt $kind:ident $(. $field:tt)? $message:expr $(, $text:expr)?;)*) => {
        &[$(
            $crate::error::VendorCode::new($code, $crate::error::RefusalKind::$kind, $message)
                $(.field($crate::vendor_codes!(@field $field)))?
                $(.text($text))?
        ),*]
    };
}

/// How a table words a refusal in the caller's error: the message of every kind but
/// `Other` (kept as `Error::Upstream` with the vendor's code and message apart), from the
/// kind, the vendor's code and its message.
pub type Wording = fn(RefusalKind, &str, &str) -> String;

/// `code N: message` (`code N` when the message is empty): the default [`Wording`].
pub fn code_label(_kind: RefusalKind, code: &str, message: &str) -> String {
    labelled("code", code, message)
}

/// `<label> N: message` (`<label> N` when the message is empty).
pub fn labelled(label: &str, code: &str, message: &str) -> String {
    if message.is_empty() {
        format!("{label} {code}")
    } else {
        format!("{label} {code}: {message}")
    }
}

/// A vendor's error-code table, read by its client (code → error) and its simulator
/// (key → code and message), so the two can never drift apart. First match wins.
#[derive(Debug, Clone, Copy)]
pub struct ErrorTable {
    pub vendor: &'static str,
    pub codes: &'static [VendorCode],
    /// How the errors' messages are worded ([`code_label`] unless the vendor's callers
    /// read another shape).
    pub wording: Wording,
    /// Whether a refusal that names a field is invalid input even when its code is not
    /// known as such (vendors whose codes are per endpoint: the field is what tells).
    pub named_field_is_invalid: bool,
}

impl ErrorTable {
    pub const fn new(vendor: &'static str, codes: &'static [VendorCode]) -> Self {
        ErrorTable {
            vendor,
            codes,
            wording: code_label,
            named_field_is_invalid: false,
        }
    }

    /// The table with another wording of its errors' messages.
    pub const fn worded(mut self, wording: Wording) -> Self {
        self.wording = wording;
        self
    }

    /// The table, reading a refusal that names a field as invalid input whatever its code
    /// (unless the code says authentication, rate limit, not found or balance).
    pub const fn named_field_is_invalid(mut self) -> Self {
        self.named_field_is_invalid = true;
        self
    }

    pub fn lookup(&self, code: &str, message: &str) -> Option<&'static VendorCode> {
        self.codes.iter().find(|c| c.matches(code, message))
    }

    /// The entry for `code`, for a simulator about to answer with it. A code missing from
    /// the table is a bug in the simulator, which its tests catch; it falls back to an
    /// entry with the code and no message rather than panicking in a server.
    pub fn entry(&self, code: &'static str) -> VendorCode {
        self.codes
            .iter()
            .find(|c| c.code == code)
            .copied()
            .unwrap_or(VendorCode::new(code, RefusalKind::Other, ""))
    }

    /// A refusal as the caller's error. `field` is the vendor's own pointer at a field
    /// when its message carries one; otherwise the table's, otherwise `params`.
    pub fn error(&self, code: &str, message: &str, field: Option<&str>) -> Error {
        let entry = self.lookup(code, message);
        let field = field.or(entry.and_then(|e| e.field));
        let kind = match entry.map_or(RefusalKind::Other, |e| e.kind) {
            RefusalKind::Other if self.named_field_is_invalid && field.is_some() => {
                RefusalKind::InvalidInput
            }
            kind => kind,
        };
        let text = (self.wording)(kind, code, message);
        self.classified(kind, code, message, field, text)
    }

    /// The error of a refusal already classified (DNSPod reads its codes per method),
    /// with its message worded as `text`.
    pub fn classified(
        &self,
        kind: RefusalKind,
        code: &str,
        message: &str,
        field: Option<&str>,
        text: String,
    ) -> Error {
        let vendor = self.vendor.to_string();
        match kind {
            RefusalKind::Authentication => Error::Authentication {
                vendor,
                message: text,
            },
            RefusalKind::RateLimited => Error::RateLimited {
                vendor,
                message: text,
            },
            RefusalKind::NotFound => Error::NotFound { what: text },
            RefusalKind::InvalidInput => Error::InvalidInput {
                field: field.unwrap_or("params").to_string(),
                reason: text,
            },
            RefusalKind::InsufficientBalance => Error::InsufficientBalance {
                vendor,
                message: text,
            },
            RefusalKind::Other => Error::upstream(vendor, code, message),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TABLE: ErrorTable = ErrorTable::new(
        "west",
        crate::vendor_codes! {
            "10000" Authentication "身份验证失败";
            "*" InsufficientBalance "余额不足", "余额不足";
            "20116" InvalidInput.ttl "TTL值错误";
        },
    );

    #[test]
    fn the_table_macro_builds_what_the_constructors_build() {
        assert_eq!(
            TABLE.codes,
            [
                VendorCode::new("10000", RefusalKind::Authentication, "身份验证失败"),
                VendorCode::new("*", RefusalKind::InsufficientBalance, "余额不足").text("余额不足"),
                VendorCode::new("20116", RefusalKind::InvalidInput, "TTL值错误").field("ttl"),
            ]
        );
    }

    #[test]
    fn codes_and_texts_classify() {
        assert_eq!(TABLE.error("10000", "x", None).kind(), "authentication");
        assert_eq!(
            TABLE.error("50000", "账户余额不足", None).kind(),
            "insufficient_balance"
        );
        assert_eq!(
            TABLE.error("20116", "bad", None),
            Error::InvalidInput {
                field: "ttl".into(),
                reason: "code 20116: bad".into()
            }
        );
        assert_eq!(
            TABLE.error("20116", "bad", Some("value")).kind(),
            "invalid_input"
        );
        assert_eq!(
            TABLE.error("123", "odd", None),
            Error::upstream("west", "123", "odd")
        );
        assert_eq!(TABLE.entry("20116").message, "TTL值错误");
        assert_eq!(TABLE.entry("99").kind, RefusalKind::Other);
    }

    #[test]
    fn a_table_words_its_messages_and_may_read_a_named_field_as_invalid() {
        fn code_first(_: RefusalKind, code: &str, message: &str) -> String {
            format!("{code} {message}")
        }
        let table = TABLE.worded(code_first).named_field_is_invalid();
        assert_eq!(labelled("errcode", "7", ""), "errcode 7");
        assert_eq!(labelled("errcode", "7", "x"), "errcode 7: x");
        assert_eq!(
            table.error("10000", "x", None),
            Error::Authentication {
                vendor: "west".into(),
                message: "10000 x".into()
            }
        );
        assert_eq!(
            table.error("123", "odd", Some("name")),
            Error::invalid("name", "123 odd")
        );
        assert_eq!(
            table.error("123", "odd", None),
            Error::upstream("west", "123", "odd")
        );
        assert_eq!(
            TABLE.error("123", "odd", Some("name")),
            Error::upstream("west", "123", "odd")
        );
    }
}
