//! JSON errors: `{"error":{"kind","message","field"?}}` with a status that tells the
//! caller what to do. The message is for users; upstream secrets never reach it
//! (clients redact them before errors are built).

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use idcgate_core::Error as CoreError;
use idcgate_engine::EngineError;
use serde_json::json;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub kind: String,
    pub message: String,
    pub field: Option<String>,
    /// Seconds after which the caller may try again (`Retry-After`).
    pub retry_after: Option<u64>,
}

impl ApiError {
    fn new(status: StatusCode, kind: &str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            kind: kind.into(),
            message: message.into(),
            field: None,
            retry_after: None,
        }
    }
    pub fn unauthorized(m: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthorized", m)
    }
    pub fn forbidden(m: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", m)
    }
    pub fn not_found(m: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", m)
    }
    pub fn method_not_allowed() -> Self {
        Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            "this endpoint does not take that method",
        )
    }
    pub fn internal(m: impl Into<String>) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", m)
    }
    /// A client refused after too many failed authentications, for `secs` seconds.
    pub fn too_many_failures(secs: u64) -> Self {
        let mut e = Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            format!("too many failed authentications from this address; retry in {secs} s"),
        );
        e.retry_after = Some(secs);
        e
    }
    /// This refusal of bad input as 422 when the request matched the document and only
    /// what it asks for cannot be done: a combination of fields (`reinstall` without
    /// `image`), or a value only the upstream's offer decides (a term not sold). 400
    /// stays for what does not match the document at all.
    pub fn semantic(mut self) -> Self {
        if self.status == StatusCode::BAD_REQUEST && self.kind == "invalid_input" {
            self.status = StatusCode::UNPROCESSABLE_ENTITY;
            self.kind = "unprocessable".into();
        }
        self
    }
    /// An engine refusal of a request that matched the document: it is refused for its
    /// content (a line the vendor lacks, a zone given twice, a term not sold), so bad
    /// input is 422 rather than 400 (see `semantic`).
    pub fn refused(e: EngineError) -> Self {
        Self::from(e).semantic()
    }
    pub fn invalid(field: &str, m: impl Into<String>) -> Self {
        let mut e = Self::new(StatusCode::BAD_REQUEST, "invalid_input", m);
        e.field = Some(field.into());
        e
    }
}

impl From<EngineError> for ApiError {
    fn from(e: EngineError) -> Self {
        let message = e.to_string();
        match e {
            EngineError::Upstream(c) => {
                let status = match &c {
                    CoreError::InvalidInput { .. } => StatusCode::BAD_REQUEST,
                    CoreError::NotFound { .. } => StatusCode::NOT_FOUND,
                    CoreError::Authentication { .. } => StatusCode::BAD_GATEWAY,
                    CoreError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
                    CoreError::InsufficientBalance { .. } => StatusCode::PAYMENT_REQUIRED,
                    CoreError::UnknownOutcome { .. } => StatusCode::GATEWAY_TIMEOUT,
                    CoreError::NotImplemented { .. } => StatusCode::NOT_IMPLEMENTED,
                    CoreError::Unsupported { .. } => StatusCode::UNPROCESSABLE_ENTITY,
                    CoreError::Upstream { .. } | CoreError::Transport { .. } => {
                        StatusCode::BAD_GATEWAY
                    }
                };
                let field = match &c {
                    CoreError::InvalidInput { field, .. } => Some(field.clone()),
                    _ => None,
                };
                ApiError {
                    status,
                    kind: c.kind().into(),
                    message,
                    field,
                    retry_after: None,
                }
            }
            EngineError::NoSuchAccount(_)
            | EngineError::NoSuchZone(_)
            | EngineError::NoSuchServer(_)
            | EngineError::NoSuchOrder(_) => Self::new(StatusCode::NOT_FOUND, "not_found", message),
            EngineError::Invalid(_) => Self::new(StatusCode::BAD_REQUEST, "invalid_input", message),
            EngineError::InvalidInput { field, .. } => Self::invalid(&field, message),
            EngineError::Conflict(_) => Self::new(StatusCode::CONFLICT, "conflict", message),
            EngineError::Store(_) => {
                Self::new(StatusCode::INTERNAL_SERVER_ERROR, "storage", message)
            }
        }
    }
}

impl From<idcgate_store::StoreError> for ApiError {
    fn from(e: idcgate_store::StoreError) -> Self {
        EngineError::from(e).into()
    }
}

/// Longest message an error answer carries: enough for any message of ours, short
/// enough that no input (a 2 MiB body, a long path) comes back whole in one.
const MAX_MESSAGE_CHARS: usize = 500;

fn bounded(message: String) -> String {
    match message.char_indices().nth(MAX_MESSAGE_CHARS) {
        Some((cut, _)) => format!("{}…", &message[..cut]),
        None => message,
    }
}

impl ApiError {
    /// The error for a bare answer made outside our handlers (an extractor's rejection,
    /// a body limit): the same shape as ours, with a kind from its status.
    pub fn from_status(status: StatusCode, text: &str) -> Self {
        let kind = match status {
            StatusCode::BAD_REQUEST | StatusCode::UNPROCESSABLE_ENTITY => "invalid_input",
            StatusCode::UNAUTHORIZED => "unauthorized",
            StatusCode::FORBIDDEN => "forbidden",
            StatusCode::NOT_FOUND => "not_found",
            StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
            StatusCode::PAYLOAD_TOO_LARGE => "body_too_large",
            StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
            StatusCode::TOO_MANY_REQUESTS => "rate_limited",
            s if s.is_server_error() => "internal",
            _ => "error",
        };
        let text = text.trim();
        let message = if status == StatusCode::PAYLOAD_TOO_LARGE {
            format!(
                "request body larger than {} bytes",
                crate::guard::BODY_LIMIT_BYTES
            )
        } else if text.is_empty() {
            status.canonical_reason().unwrap_or("error").to_string()
        } else {
            text.to_string()
        };
        Self::new(status, kind, message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut body = json!({"kind": self.kind, "message": bounded(self.message)});
        if let Some(f) = self.field {
            body["field"] = json!(f);
        }
        let mut resp = (self.status, Json(json!({ "error": body }))).into_response();
        if let Some(secs) = self.retry_after {
            resp.headers_mut()
                .insert(axum::http::header::RETRY_AFTER, secs.into());
        }
        resp
    }
}
