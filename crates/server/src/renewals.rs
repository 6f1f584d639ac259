//! REST for renewals: the plan (what would be renewed, when, at what live price), the
//! policies (a default per kind, overrides per resource) and the balance floors. What
//! decides spending (policies, floors) is changed only with the admin scope; the job
//! itself runs in the server's scheduler, not through a request.

use crate::api::ErrorBody;
use crate::auth::{Access, Admin, Read};
use crate::dto::{days, ApiBody, ApiQuery, PlanQuery, PolicyQuery};
use crate::error::ApiError;
use crate::AppState;
use axum::extract::{Path, State};
use axum::routing::{get, put};
use axum::{Json, Router};
use idcgate_core::{Money, ResourceKind};
use idcgate_engine::renewals::DAY_MS;
use idcgate_engine::{now_ms, EngineError};
use idcgate_store::{PolicyPatch, PolicyScope};
use serde::Deserialize;
use serde_json::{json, Value};
use utoipa::ToSchema;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/renewals/plan", get(plan))
        .route("/renewals/policies", get(policies).put(set_policy))
        .route("/renewals/floors", get(floors))
        .route("/renewals/floors/{account}", put(set_floor))
}

fn kind(s: &str) -> Result<ResourceKind, ApiError> {
    Ok(s.parse::<ResourceKind>().map_err(EngineError::from)?)
}

fn money(field: &str, s: &str) -> Result<Money, ApiError> {
    let m: Money = s
        .parse()
        .map_err(|_| ApiError::invalid(field, format!("{s:?} is not an amount like 99.00")))?;
    if m.is_negative() {
        return Err(ApiError::invalid(field, "an amount below zero"));
    }
    Ok(m)
}

/// What is due within `within_days` (default 30): each resource's renewal time, live
/// price and policy decision, and totals per upstream account. Buys nothing.
#[utoipa::path(get, path = "/api/v1/renewals/plan", params(PlanQuery),
    responses((status = 200, description = "items and totals per account"), (status = 400, body = ErrorBody)))]
pub async fn plan(
    _a: Access<Read>,
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<PlanQuery>,
) -> Result<Json<Value>, ApiError> {
    let days = days("within_days", q.within_days, 3650)?.unwrap_or(30);
    let plan = state.engine.renewal_plan(now_ms(), days * DAY_MS).await?;
    Ok(Json(json!(plan)))
}

/// Every stored policy level; with `kind` (and `account` + `key` for one resource),
/// the policy in force there, each field with the level it comes from.
#[utoipa::path(get, path = "/api/v1/renewals/policies",
    params(PolicyQuery),
    responses((status = 200, description = "stored levels, or the policy in force"), (status = 400, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn policies(
    _a: Access<Read>,
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<PolicyQuery>,
) -> Result<Json<Value>, ApiError> {
    let policies = state.engine.renewal_policies().await?;
    match (q.kind.as_deref(), q.account.as_deref(), q.key.as_deref()) {
        (None, None, None) => Ok(Json(json!({ "items": policies.rows() }))),
        (Some(k), None, None) => Ok(Json(json!({ "policy": policies.of(kind(k)?, "", "") }))),
        (Some(k), Some(a), Some(key)) => {
            Ok(Json(json!({ "policy": policies.of(kind(k)?, a, key) })))
        }
        _ => Err(ApiError::invalid(
            "kind",
            "give kind alone (its default) or kind, account and key (one resource)",
        )
        .semantic()),
    }
}

/// A change to a kind's default (no `account`/`key`) or to one resource's own level;
/// fields left out stay as they are.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PolicyBody {
    /// `domain`, `server`, `hosting_site`, `database`, `mail_domain`, ...
    #[schema(
        pattern = r"^(domain|server|hosting_site|database|mail_domain|dns_zone|certificate)$"
    )]
    pub kind: String,
    /// With `key`: the resource's upstream account.
    pub account: Option<String>,
    /// With `account`: the resource's key in the inventory (a domain's name, an id).
    pub key: Option<String>,
    pub auto_renew: Option<bool>,
    /// Renew this many days before expiry (0 to 365).
    #[schema(minimum = 0, maximum = 365)]
    #[serde(default, deserialize_with = "crate::dto::whole")]
    pub days_before: Option<i64>,
    /// Never renew automatically above this (yuan, `"99.00"`), or `"none"` to clear.
    #[schema(pattern = r"^([0-9]{1,12}(\.[0-9]{1,2})?|none)$")]
    pub max_price: Option<String>,
    /// Renewal length (domains: whole years as 12, 24, ...).
    #[serde(default, deserialize_with = "crate::dto::whole")]
    #[schema(minimum = 1, maximum = 120)]
    pub months: Option<i64>,
}

/// Change a renewal policy (admin scope: policies decide spending).
#[utoipa::path(put, path = "/api/v1/renewals/policies", request_body = PolicyBody,
    responses((status = 200, description = "the stored level and the policy now in force"),
        (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn set_policy(
    a: Access<Admin>,
    State(state): State<AppState>,
    ApiBody(body): ApiBody<PolicyBody>,
) -> Result<Json<Value>, ApiError> {
    let k = kind(&body.kind)?;
    let scope = match (&body.account, &body.key) {
        (Some(account), Some(key)) => PolicyScope::resource(k, account, key),
        (None, None) => PolicyScope::kind(k),
        _ => {
            return Err(
                ApiError::invalid("account", "a resource is named by both account and key")
                    .semantic(),
            )
        }
    };
    let max_price_fen = match body.max_price.as_deref() {
        None => None,
        Some(m) if m.trim().eq_ignore_ascii_case("none") => Some(None),
        Some(m) => {
            Some(Some(money("max_price", m)?.to_fen().map_err(|e| {
                ApiError::invalid("max_price", e.to_string())
            })?))
        }
    };
    let patch = PolicyPatch {
        auto_renew: body.auto_renew,
        days_before: body.days_before,
        max_price_fen,
        months: body.months,
    };
    let level = state
        .engine
        .set_renewal_policy(&a.actor(), &scope, &patch)
        .await
        .map_err(ApiError::refused)?;
    let (account, key) = scope
        .resource
        .clone()
        .unwrap_or_else(|| (String::new(), String::new()));
    let policy = state.engine.renewal_policies().await?.of(k, &account, &key);
    Ok(Json(json!({ "level": level, "policy": policy })))
}

/// Balance floors per upstream account.
#[utoipa::path(get, path = "/api/v1/renewals/floors",
    responses((status = 200, description = "floor per account")))]
pub async fn floors(
    _a: Access<Read>,
    State(state): State<AppState>,
) -> Result<Json<Value>, ApiError> {
    let items: Vec<Value> = state
        .engine
        .renewal_floors()
        .await?
        .into_iter()
        .map(|(account, floor)| json!({"account": account, "floor": floor}))
        .collect();
    Ok(Json(json!({ "items": items })))
}

/// The floor to set: yuan (`"500.00"`), or `null` to remove it.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FloorBody {
    #[schema(pattern = r"^[0-9]{1,12}(\.[0-9]{1,2})?$")]
    pub floor: Option<String>,
}

/// Set the balance below which no automatic renewal may take an upstream account
/// (admin scope).
#[utoipa::path(put, path = "/api/v1/renewals/floors/{account}", params(("account" = String, Path)),
    request_body = FloorBody,
    responses((status = 200, description = "the floor now set"), (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn set_floor(
    a: Access<Admin>,
    State(state): State<AppState>,
    Path(account): Path<String>,
    ApiBody(body): ApiBody<FloorBody>,
) -> Result<Json<Value>, ApiError> {
    let floor = body
        .floor
        .as_deref()
        .map(|f| money("floor", f))
        .transpose()?;
    state
        .engine
        .set_renewal_floor(&a.actor(), &account, floor)
        .await?;
    Ok(Json(json!({ "account": account, "floor": floor })))
}
