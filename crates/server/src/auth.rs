//! Bearer-token authentication with scopes enforced by types: a handler that takes
//! `Access<Operate>` cannot run for a read-only token. Failed authentications are
//! logged (never what was presented) and limited per client address.

use crate::error::ApiError;
use crate::listener::Peer;
use crate::AppState;
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::StatusCode;
use idcgate_store::{Scope, TokenInfo};
use std::collections::HashMap;
use std::marker::PhantomData;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Failed authentications a client may make in one window before it is refused.
pub const MAX_FAILURES: u32 = 20;
/// The window, and how long a client that used up its failures is refused.
pub const FAILURE_WINDOW: Duration = Duration::from_secs(60);
/// Clients tracked at once; a full table first forgets windows that ended.
const MAX_CLIENTS: usize = 100_000;

/// Failed authentications per client address in fixed windows: after `MAX_FAILURES`
/// in `FAILURE_WINDOW` every request of that client needing a token is answered 429
/// (with `Retry-After`) until its window ends, a valid token included, so guessing
/// gets no answer at all. IPv6 clients count per /64, what one host is usually given.
pub struct FailureLimiter {
    max_failures: u32,
    clients: Mutex<HashMap<IpAddr, Window>>,
}

struct Window {
    started: Instant,
    failures: u32,
}

impl FailureLimiter {
    /// A limiter refusing a client after `max_failures` in a window (at least one).
    pub fn new(max_failures: u32) -> Self {
        FailureLimiter {
            max_failures: max_failures.max(1),
            clients: Mutex::default(),
        }
    }

    /// Seconds until `client` may try again, if it is refused now.
    fn refused(&self, client: IpAddr) -> Option<u64> {
        let clients = idcgate_core::lock(&self.clients);
        let w = clients.get(&client)?;
        let left = FAILURE_WINDOW.checked_sub(w.started.elapsed())?;
        (w.failures >= self.max_failures).then(|| left.as_secs() + 1)
    }

    /// Counts one failure of `client`; true when it was the last one allowed.
    fn failed(&self, client: IpAddr) -> bool {
        let mut clients = idcgate_core::lock(&self.clients);
        if clients.len() >= MAX_CLIENTS && !clients.contains_key(&client) {
            clients.retain(|_, w| w.started.elapsed() < FAILURE_WINDOW);
            if clients.len() >= MAX_CLIENTS {
                tracing::warn!("failed-authentication table full: {client} not tracked");
                return false;
            }
        }
        let now = Instant::now();
        let w = clients.entry(client).or_insert(Window {
            started: now,
            failures: 0,
        });
        if now.duration_since(w.started) >= FAILURE_WINDOW {
            *w = Window {
                started: now,
                failures: 0,
            };
        }
        w.failures += 1;
        w.failures == self.max_failures
    }
}

/// The address failures are counted by: IPv4 as is, IPv6 by its /64.
fn client_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6((u128::from(v6) & !((1u128 << 64) - 1)).into()),
        },
        v4 => v4,
    }
}

pub trait ScopeLevel: Send + Sync {
    const SCOPE: Scope;
}
pub struct Read;
pub struct Operate;
pub struct Admin;
impl ScopeLevel for Read {
    const SCOPE: Scope = Scope::Read;
}
impl ScopeLevel for Operate {
    const SCOPE: Scope = Scope::Operate;
}
impl ScopeLevel for Admin {
    const SCOPE: Scope = Scope::Admin;
}

/// Proof that the caller presented a valid token with at least scope `L`.
pub struct Access<L: ScopeLevel> {
    pub token: TokenInfo,
    _level: PhantomData<L>,
}

impl<L: ScopeLevel> Access<L> {
    pub fn actor(&self) -> String {
        format!("token:{}", self.token.name)
    }
}

impl<L: ScopeLevel> FromRequestParts<AppState> for Access<L> {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let client = parts
            .extensions
            .get::<ConnectInfo<Peer>>()
            .map(|c| client_key(c.0 .0.ip()));
        let limiter = parts.extensions.get::<Arc<FailureLimiter>>().cloned();
        let limited = client.zip(limiter);
        if let Some(secs) = limited.as_ref().and_then(|(ip, l)| l.refused(*ip)) {
            return Err(ApiError::too_many_failures(secs));
        }
        match authenticate::<L>(parts, state).await {
            Err(e) if e.status == StatusCode::UNAUTHORIZED => {
                // The reason is ours; what was presented is never logged.
                let client = client.map_or_else(|| "unknown".to_string(), |ip| ip.to_string());
                tracing::warn!(%client, path = %parts.uri.path(), reason = %e.message, "authentication failed");
                if let Some((_, l)) = limited.as_ref().filter(|(ip, l)| l.failed(*ip)) {
                    tracing::warn!(
                        %client,
                        "{} failed authentications within {} s: refusing this client until its window ends",
                        l.max_failures,
                        FAILURE_WINDOW.as_secs()
                    );
                }
                Err(e)
            }
            other => other,
        }
    }
}

async fn authenticate<L: ScopeLevel>(
    parts: &Parts,
    state: &AppState,
) -> Result<Access<L>, ApiError> {
    let header = parts
        .headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| ApiError::unauthorized("missing Authorization: Bearer <token> header"))?;
    // The scheme name is case-insensitive (RFC 9110 §11.1).
    let presented = header
        .split_once(' ')
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token)
        .ok_or_else(|| ApiError::unauthorized("Authorization header must be Bearer <token>"))?;
    let token = state
        .engine
        .verify_token(presented.trim())
        .await
        .map_err(|e| ApiError::internal(e.to_string()))?
        .ok_or_else(|| ApiError::unauthorized("invalid or revoked token"))?;
    if token.scope < L::SCOPE {
        return Err(ApiError::forbidden(format!(
            "token {} has scope {}, this needs {}",
            token.name,
            token.scope.as_str(),
            L::SCOPE.as_str()
        )));
    }
    Ok(Access {
        token,
        _level: PhantomData,
    })
}
