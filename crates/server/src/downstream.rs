//! The downstream endpoint: a vendor dialect (chosen by the binary, which alone names
//! vendor crates) served over the engine's storefront at the dialect's path. Answers
//! are the dialect's own (HTTP 200 with its envelope), never our JSON errors.

use crate::listener::Peer;
use crate::AppState;
use axum::body::Body;
use axum::extract::{ConnectInfo, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use idcgate_core::storefront::{Dialect, Storefront};
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;

/// What the endpoint serves: the storefront and the dialect it speaks.
#[derive(Clone)]
pub struct Downstream {
    pub front: Arc<dyn Storefront>,
    pub dialect: Arc<dyn Dialect>,
}

/// The caller's address (unspecified when served without one, as in some tests).
pub(crate) struct PeerIp(IpAddr);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for PeerIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _: &S,
    ) -> Result<Self, Self::Rejection> {
        Ok(PeerIp(
            parts
                .extensions
                .get::<ConnectInfo<Peer>>()
                .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |c| c.0 .0.ip()),
        ))
    }
}

pub(crate) async fn answer(
    State(state): State<AppState>,
    headers: HeaderMap,
    PeerIp(ip): PeerIp,
    body: Body,
) -> Response {
    let Some(d) = state.downstream.as_ref() else {
        return crate::error::ApiError::not_found("no downstream endpoint here").into_response();
    };
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    // Read here rather than by the `Bytes` extractor, whose refusals (413) are our
    // JSON errors, not the dialect's envelope. A body too slow is broken off by the
    // guard (`guard::BODY_TIMEOUT`).
    let limit = crate::guard::BODY_LIMIT_BYTES;
    let a = match axum::body::to_bytes(body, limit).await {
        Ok(body) => d.dialect.answer(&*d.front, ip, content_type, &body).await,
        Err(_) => d.dialect.unreadable(&format!(
            "the body is larger than {limit} bytes, broken off, or not sent within {} s",
            crate::guard::BODY_TIMEOUT.as_secs()
        )),
    };
    let status = StatusCode::from_u16(a.status).unwrap_or(StatusCode::OK);
    (
        status,
        [(header::CONTENT_TYPE, a.content_type)],
        Body::from(a.body),
    )
        .into_response()
}
