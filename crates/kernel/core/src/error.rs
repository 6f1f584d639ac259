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
