//! Bearer-token authentication with scopes enforced by types: a handler that takes
//! `Access<Operate>` cannot run for a read-only token.

use crate::error::ApiError;
use crate::AppState;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use idcgate_store::{Scope, TokenInfo};
use std::marker::PhantomData;

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
        let header = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| {
                ApiError::unauthorized("missing Authorization: Bearer <token> header")
            })?;
        // The scheme name is case-insensitive (RFC 9110 §11.1).
        let presented = header
            .split_once(' ')
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, token)| token)
            .ok_or_else(|| ApiError::unauthorized("Authorization header must be Bearer <token>"))?;
        let token = state
            .engine
            .store
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
}
