//! What every request passes through before and after its handler, whatever the route:
//! query and path parameters are bounded and free of control characters before any handler, the store or an upstream
//! sees them (JSON bodies get the same checks in `api::parse_body`), and every error
//! answer leaves in the one JSON shape (`error.rs`), also those made by axum's
//! extractors and limits, which answer in plain text. A request whose body was not
//! read to its end (refused before it was needed, or still arriving) is answered with
//! `Connection: close`: hyper cannot keep that connection, and a client that is not told
//! so sends its next request into a connection nobody reads.

use crate::error::ApiError;
use axum::body::{Body, Bytes, HttpBody};
use axum::extract::{FromRequestParts, Query, RawPathParams, Request};
use axum::http::header::{CONNECTION, CONTENT_LENGTH, CONTENT_TYPE, TRANSFER_ENCODING};
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

/// Largest request body read (axum's default, stated once so the 413 can say it).
pub const BODY_LIMIT_BYTES: usize = 2 * 1024 * 1024;

/// How long a request's body may take to arrive once its head has, on every route: a
/// client that announces more than it sends holds a connection no longer than this.
pub const BODY_TIMEOUT: Duration = Duration::from_secs(30);

/// Longest query or path parameter value: a name, an id, a search term. Longer ones
/// are refused rather than handed to the database (a 50,000-character `search` made
/// SQLite give up on the LIKE pattern).
pub const MAX_PARAM_CHARS: usize = 256;

/// Longest string value in a JSON body (a TXT record, a DKIM key fits).
pub const MAX_BODY_STRING_CHARS: usize = 4096;

pub async fn guard(mut req: Request, next: Next) -> Response {
    // The client's address as a plain `IpAddr` extension, for routes merged in from
    // crates that do not know this crate's `Peer` (the console's login limits).
    if let Some(peer) = req
        .extensions()
        .get::<axum::extract::ConnectInfo<crate::listener::Peer>>()
        .map(|c| c.0 .0.ip())
    {
        req.extensions_mut().insert(peer);
    }
    let declares_body = req
        .headers()
        .get(CONTENT_LENGTH)
        .is_some_and(|n| n.as_bytes() != b"0")
        || req.headers().contains_key(TRANSFER_ENCODING);
    let read = Arc::new(AtomicBool::new(false));
    let req = if declares_body {
        req.map(|body| {
            Body::new(Tracked {
                inner: body,
                read: read.clone(),
                deadline: Box::pin(tokio::time::sleep(BODY_TIMEOUT)),
            })
        })
    } else {
        req
    };
    let mut resp = match checked(req).await {
        Ok(req) => json_errors(next.run(req).await).await,
        Err(e) => e.into_response(),
    };
    if declares_body && !read.load(Ordering::Relaxed) {
        resp.headers_mut()
            .insert(CONNECTION, HeaderValue::from_static("close"));
    }
    resp
}

/// A request body that notes when it has been read to its end, and breaks off with an
/// error once `BODY_TIMEOUT` has passed without it (a handler reading it answers as
/// for any broken body).
struct Tracked {
    inner: Body,
    read: Arc<AtomicBool>,
    deadline: Pin<Box<tokio::time::Sleep>>,
}

#[derive(Debug, thiserror::Error)]
#[error("the request body did not arrive within {} s", BODY_TIMEOUT.as_secs())]
struct BodyTooSlow;

impl HttpBody for Tracked {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, axum::Error>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        if matches!(polled, Poll::Ready(None)) || self.inner.is_end_stream() {
            self.read.store(true, Ordering::Relaxed);
        }
        if polled.is_pending() && std::future::Future::poll(self.deadline.as_mut(), cx).is_ready() {
            return Poll::Ready(Some(Err(axum::Error::new(BodyTooSlow))));
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

/// The request if its query and path parameters pass `check_param`.
async fn checked(req: Request) -> Result<Request, ApiError> {
    if req.uri().query().is_some() {
        let Query(pairs) = Query::<Vec<(String, String)>>::try_from_uri(req.uri())
            .map_err(|_| ApiError::invalid("query", "unreadable query string"))?;
        for (name, value) in &pairs {
            check_param(name, value)?;
        }
    }
    let (mut parts, body) = req.into_parts();
    match RawPathParams::from_request_parts(&mut parts, &()).await {
        Ok(params) => {
            for (name, value) in &params {
                check_param(name, value)?;
            }
        }
        // The only other rejection is a route without parameters (the fallback).
        Err(axum::extract::rejection::RawPathParamsRejection::InvalidUtf8InPathParam(e)) => {
            let text = e.body_text();
            let name = text.split('`').nth(1).unwrap_or("path");
            return Err(ApiError::invalid(
                name,
                format!("{name} is not valid UTF-8"),
            ));
        }
        Err(_) => {}
    }
    Ok(Request::from_parts(parts, body))
}

/// One query or path parameter: at most `MAX_PARAM_CHARS` characters, none a control
/// character.
fn check_param(name: &str, value: &str) -> Result<(), ApiError> {
    check_text(name, value, MAX_PARAM_CHARS)
}

/// One string the caller sent, named `field` in the refusal. Control characters (NUL,
/// line breaks, escapes) are refused everywhere: no name, id, record or setting any
/// upstream takes holds one, and NUL cannot even be stored in PostgreSQL text.
pub fn check_text(field: &str, value: &str, max_chars: usize) -> Result<(), ApiError> {
    if let Some(c) = value.chars().find(|c| c.is_control()) {
        return Err(ApiError::invalid(
            field,
            format!(
                "{field} must not contain control characters (found U+{:04X})",
                u32::from(c)
            ),
        ));
    }
    if value.chars().nth(max_chars).is_some() {
        return Err(ApiError::invalid(
            field,
            format!("{field} must be at most {max_chars} characters"),
        ));
    }
    Ok(())
}

/// Every string in a JSON body, named by its path (`value`, `options.plan`).
pub fn check_json(value: &serde_json::Value, at: &str) -> Result<(), ApiError> {
    use serde_json::Value;
    let field = |key: &str| {
        if at.is_empty() {
            key.to_string()
        } else {
            format!("{at}.{key}")
        }
    };
    match value {
        Value::String(s) => check_text(
            if at.is_empty() { "body" } else { at },
            s,
            MAX_BODY_STRING_CHARS,
        ),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .try_for_each(|(i, v)| check_json(v, &field(&i.to_string()))),
        Value::Object(map) => map.iter().try_for_each(|(k, v)| {
            check_text(if at.is_empty() { "body" } else { at }, k, MAX_PARAM_CHARS)?;
            check_json(v, &field(k))
        }),
        _ => Ok(()),
    }
}

/// An error answer that is not JSON, rebuilt as our JSON error with its status and
/// headers (`Allow`, `Retry-After`, ...) kept.
async fn json_errors(resp: Response) -> Response {
    let status = resp.status();
    // The console's own error pages are HTML on purpose: a person reads them.
    let is_kept = resp
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|c| c.starts_with("application/json") || c.starts_with("text/html"));
    if !(status.is_client_error() || status.is_server_error()) || is_kept {
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
