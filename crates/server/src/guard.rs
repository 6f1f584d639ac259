//! What every request passes through before and after its handler, whatever the route:
//! every error answer leaves in the one JSON shape (`error.rs`), also those made by
//! axum's extractors and limits, which answer in plain text.

use crate::error::ApiError;
use axum::extract::Request;
use axum::http::header::CONTENT_TYPE;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// Largest request body read (axum's default, stated once so the 413 can say it).
pub const BODY_LIMIT_BYTES: usize = 2 * 1024 * 1024;

pub async fn guard(req: Request, next: Next) -> Response {
    json_errors(next.run(req).await).await
}

/// An error answer that is not JSON, rebuilt as our JSON error with its status and
/// headers (`Allow`, `Retry-After`, ...) kept.
async fn json_errors(resp: Response) -> Response {
    let status = resp.status();
    let is_json = resp
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|c| c.starts_with("application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return resp;
    }
    let (parts, body) = resp.into_parts();
    // Rejection texts are one line; anything longer is not worth repeating.
    let text = axum::body::to_bytes(body, 4096)
        .await
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default();
    let mut out = ApiError::from_status(status, &text).into_response();
    for (name, value) in &parts.headers {
        if name != CONTENT_TYPE && name != axum::http::header::CONTENT_LENGTH {
            out.headers_mut().append(name.clone(), value.clone());
        }
    }
    out
}
