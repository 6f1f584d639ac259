//! REST API v1 and its OpenAPI document. Every list pages (`limit`, `offset`) and
//! filters; every mutation is audited by the engine with the token's name as actor.

use crate::auth::{Access, Admin, Operate, Read};
use crate::error::ApiError;
use crate::AppState;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post, put};
use axum::{Json, Router};
use idcgate_core::{PowerAction, RecordInput, RecordType, ResourceKind};
use idcgate_engine::ops::ServerOp;
use idcgate_engine::sync::NoProgress;
use idcgate_store::{ResourceFilter, ResourceRow};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::Arc;
use utoipa::{OpenApi, ToSchema};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "idcgate",
        description = "One API over West.cn, CNDNS, DNSPod, Zonkvm and XenSystem. Authenticate with `Authorization: Bearer <token>` (`idcgate token create`)."
    ),
    paths(
        openapi_json,
        list_domains,
        list_hosting,
        list_databases,
        list_mail,
        list_certificates,
        list_expiring,
        list_balances,
        list_accounts,
        run_sync,
        dns_list,
        dns_add,
        dns_set,
        dns_remove,
        dns_enable,
        dns_disable,
        list_servers,
        server_action,
        list_audit,
        crate::orders::quote,
        crate::orders::place_order,
        crate::orders::list_orders,
        crate::orders::show_order,
        crate::resale::list_tenants,
        crate::resale::add_tenant,
        crate::resale::show_tenant,
        crate::resale::tenant_orders,
        crate::resale::tenant_statement,
        crate::resale::margins,
        crate::resale::topup,
        crate::resale::set_credit,
        crate::resale::set_level,
        crate::resale::suspend,
        crate::resale::resume,
        crate::resale::remove_tenant,
        crate::resale::rekey,
        crate::resale::list_products,
        crate::resale::add_product,
        crate::resale::show_product,
        crate::resale::price,
        crate::resale::update_product,
        crate::resale::retire,
        crate::orders::ledger,
        crate::orders::statement,
        crate::renewals::plan,
        crate::renewals::policies,
        crate::renewals::set_policy,
        crate::renewals::floors,
        crate::renewals::set_floor
    ),
    components(schemas(Page, RecordBody, ServerActionBody, ErrorBody,
        crate::resale::TenantBody, crate::resale::TopupBody, crate::resale::CreditBody,
        crate::resale::LevelBody, crate::resale::ProductBody, crate::resale::ProductPatchBody, crate::orders::PurchaseBody,
        crate::renewals::PolicyBody, crate::renewals::FloorBody)),
    modifiers(&BearerToken)
)]
pub struct ApiDoc;

/// Declares the `Authorization: Bearer <token>` scheme every operation uses.
struct BearerToken;

impl utoipa::Modify for BearerToken {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{
            HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme,
        };
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "token",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        openapi.security = Some(vec![SecurityRequirement::new(
            "token",
            Vec::<String>::new(),
        )]);
    }
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/openapi.json", get(openapi_json))
        .route("/domains", get(list_domains))
        .route("/hosting", get(list_hosting))
        .route("/databases", get(list_databases))
        .route("/mail", get(list_mail))
        .route("/certificates", get(list_certificates))
        .route("/expiring", get(list_expiring))
        .route("/balance", get(list_balances))
        .route("/accounts", get(list_accounts))
        .route("/sync", post(run_sync))
        .route("/dns/{zone}/records", get(dns_list).post(dns_add))
        .route("/dns/{zone}/records/{id}", put(dns_set).delete(dns_remove))
        .route("/dns/{zone}/records/{id}/enable", post(dns_enable))
        .route("/dns/{zone}/records/{id}/disable", post(dns_disable))
        .route("/servers", get(list_servers))
        .route("/servers/{account}/{id}/actions", post(server_action))
        .route("/audit", get(list_audit))
        .merge(crate::orders::routes())
        .merge(crate::resale::routes())
        .merge(crate::renewals::routes())
}

/// A page of results.
#[derive(Serialize, ToSchema)]
pub struct Page {
    pub items: Vec<Value>,
    pub total: i64,
    pub limit: i64,
    pub offset: i64,
}

#[derive(Serialize, ToSchema)]
pub struct ErrorBody {
    /// `{"kind": "...", "message": "...", "field": "..."}`
    pub error: Value,
}

/// A DNS record to create or the new content of one.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordBody {
    /// Host relative to the zone, `@` for the apex.
    pub host: String,
    /// A, AAAA, CNAME, MX, TXT, NS, SRV or CAA.
    #[serde(rename = "type")]
    pub rtype: String,
    pub value: String,
    #[serde(default = "default_ttl")]
    pub ttl: u32,
    pub line: Option<String>,
    pub priority: Option<u16>,
}

fn default_ttl() -> u32 {
    600
}

/// `action`: start, stop, reboot, force_stop, force_reboot, reinstall (needs `image`),
/// password (needs `password`).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ServerActionBody {
    pub action: String,
    pub image: Option<String>,
    pub password: Option<String>,
}

pub(crate) type Q = Query<HashMap<String, String>>;

pub(crate) fn int_param(
    q: &HashMap<String, String>,
    name: &str,
    default: i64,
    max: i64,
) -> Result<i64, ApiError> {
    match q.get(name) {
        None => Ok(default),
        Some(v) => v
            .parse::<i64>()
            .ok()
            .filter(|n| (0..=max).contains(n))
            .ok_or_else(|| {
                ApiError::invalid(name, format!("{name} must be an integer from 0 to {max}"))
            }),
    }
}

/// A JSON body whose every string passed `guard::check_json`, as `T`.
pub(crate) fn parse_body<T: serde::de::DeserializeOwned>(body: &Bytes) -> Result<T, ApiError> {
    let value: Value = serde_json::from_slice(body).map_err(body_error)?;
    crate::guard::check_json(&value, "")?;
    serde_json::from_value(value).map_err(body_error)
}

/// The request's `Idempotency-Key` header, which `what` ("a purchase") requires: the same
/// key again must answer with the first result and spend nothing.
pub(crate) fn idempotency_key(
    headers: &axum::http::HeaderMap,
    what: &str,
) -> Result<String, ApiError> {
    Ok(headers
        .get("idempotency-key")
        .map(|v| {
            v.to_str().map_err(|_| {
                ApiError::invalid("Idempotency-Key", "an Idempotency-Key is printable ASCII")
            })
        })
        .transpose()?
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .ok_or_else(|| {
            ApiError::invalid(
                "Idempotency-Key",
                format!("{what} needs an Idempotency-Key header"),
            )
        })?
        .to_string())
}

fn body_error(e: serde_json::Error) -> ApiError {
    let text = e.to_string();
    // serde names the offending field as `missing field `x`` / `unknown field `x``.
    let field = ["missing field `", "unknown field `"]
        .iter()
        .find_map(|p| text.split(p).nth(1))
        .and_then(|rest| rest.split('`').next())
        .unwrap_or("body");
    ApiError::invalid(field, format!("invalid JSON body: {text}"))
}

fn item(r: &ResourceRow) -> Value {
    json!({
        "account": r.account,
        "kind": r.kind.as_str(),
        "key": r.key,
        "name": r.name,
        "expires_at_ms": r.expires_at_ms,
        "gone": r.gone_at_ms.is_some(),
        "data": r.data,
    })
}

/// The `vendor`, `account` and `search` query filters, shared by every inventory list.
async fn query_filter(
    state: &AppState,
    q: &HashMap<String, String>,
    mut filter: ResourceFilter,
) -> Result<ResourceFilter, ApiError> {
    if let Some(v) = q.get("vendor") {
        let vendor: idcgate_core::Vendor = v
            .parse()
            .map_err(|e: idcgate_core::Error| ApiError::invalid("vendor", e.to_string()))?;
        filter.accounts = Some(state.engine.accounts_of(vendor).await?);
    }
    if let Some(a) = q.get("account") {
        filter.account = Some(a.clone());
    }
    if let Some(s) = q.get("search") {
        filter.search = Some(s.clone());
    }
    Ok(filter)
}

/// One page of the inventory, paged by the database.
async fn page(
    state: &AppState,
    q: &HashMap<String, String>,
    filter: ResourceFilter,
) -> Result<Json<Page>, ApiError> {
    let limit = int_param(q, "limit", 100, 1000)?;
    let offset = int_param(q, "offset", 0, i64::MAX)?;
    let mut filter = query_filter(state, q, filter).await?;
    filter.limit = Some(limit);
    filter.offset = Some(offset);
    let (rows, total) = state.engine.store.page_resources(&filter).await?;
    Ok(Json(Page {
        items: rows.iter().map(item).collect(),
        total,
        limit,
        offset,
    }))
}

/// One page of items already in memory.
fn page_of(items: Vec<Value>, q: &HashMap<String, String>) -> Result<Json<Page>, ApiError> {
    let limit = int_param(q, "limit", 100, 1000)?;
    let offset = int_param(q, "offset", 0, i64::MAX)?;
    let total = items.len() as i64;
    let items = items
        .into_iter()
        .skip(usize::try_from(offset).unwrap_or(usize::MAX))
        .take(usize::try_from(limit).unwrap_or(0))
        .collect();
    Ok(Json(Page {
        items,
        total,
        limit,
        offset,
    }))
}

fn days_horizon(q: &HashMap<String, String>, name: &str) -> Result<Option<i64>, ApiError> {
    match q.get(name) {
        None => Ok(None),
        Some(_) => {
            let days = int_param(q, name, 30, 36500)?;
            Ok(Some(idcgate_engine::now_ms() + days * 86_400_000))
        }
    }
}

/// The OpenAPI document of this API.
#[utoipa::path(get, path = "/api/v1/openapi.json", responses((status = 200, description = "OpenAPI 3 document")))]
async fn openapi_json() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}

/// Domains in the inventory.
#[utoipa::path(get, path = "/api/v1/domains",
    params(("expiring_days" = Option<i64>, Query, description = "only domains expiring within this many days"),
           ("vendor" = Option<String>, Query), ("account" = Option<String>, Query), ("search" = Option<String>, Query),
           ("limit" = Option<i64>, Query), ("offset" = Option<i64>, Query)),
    responses((status = 200, body = Page), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
async fn list_domains(
    _a: Access<Read>,
    State(state): State<AppState>,
    Query(q): Q,
) -> Result<Json<Page>, ApiError> {
    let filter = ResourceFilter {
        kind: Some(ResourceKind::Domain),
        expires_before_ms: days_horizon(&q, "expiring_days")?,
        ..Default::default()
    };
    page(&state, &q, filter).await
}

/// One kind of the inventory, paged, with the domains listing's filters.
async fn list_kind(
    state: &AppState,
    q: &HashMap<String, String>,
    kind: ResourceKind,
) -> Result<Json<Page>, ApiError> {
    let filter = ResourceFilter {
        kind: Some(kind),
        expires_before_ms: days_horizon(q, "expiring_days")?,
        ..Default::default()
    };
    page(state, q, filter).await
}

/// Web hosting sites in the inventory.
#[utoipa::path(get, path = "/api/v1/hosting",
    params(("expiring_days" = Option<i64>, Query), ("vendor" = Option<String>, Query), ("account" = Option<String>, Query), ("search" = Option<String>, Query), ("limit" = Option<i64>, Query), ("offset" = Option<i64>, Query)),
    responses((status = 200, body = Page), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
async fn list_hosting(
    _a: Access<Read>,
    State(state): State<AppState>,
    Query(q): Q,
) -> Result<Json<Page>, ApiError> {
    list_kind(&state, &q, ResourceKind::HostingSite).await
}

/// Databases in the inventory.
#[utoipa::path(get, path = "/api/v1/databases",
    params(("expiring_days" = Option<i64>, Query), ("vendor" = Option<String>, Query), ("account" = Option<String>, Query), ("search" = Option<String>, Query), ("limit" = Option<i64>, Query), ("offset" = Option<i64>, Query)),
    responses((status = 200, body = Page), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
async fn list_databases(
    _a: Access<Read>,
    State(state): State<AppState>,
    Query(q): Q,
) -> Result<Json<Page>, ApiError> {
    list_kind(&state, &q, ResourceKind::Database).await
}

/// Mail domains in the inventory.
#[utoipa::path(get, path = "/api/v1/mail",
    params(("expiring_days" = Option<i64>, Query), ("vendor" = Option<String>, Query), ("account" = Option<String>, Query), ("search" = Option<String>, Query), ("limit" = Option<i64>, Query), ("offset" = Option<i64>, Query)),
    responses((status = 200, body = Page), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
async fn list_mail(
    _a: Access<Read>,
    State(state): State<AppState>,
    Query(q): Q,
) -> Result<Json<Page>, ApiError> {
    list_kind(&state, &q, ResourceKind::MailDomain).await
}

/// Certificates in the inventory.
#[utoipa::path(get, path = "/api/v1/certificates",
    params(("expiring_days" = Option<i64>, Query), ("vendor" = Option<String>, Query), ("account" = Option<String>, Query), ("search" = Option<String>, Query), ("limit" = Option<i64>, Query), ("offset" = Option<i64>, Query)),
    responses((status = 200, body = Page), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
async fn list_certificates(
    _a: Access<Read>,
    State(state): State<AppState>,
    Query(q): Q,
) -> Result<Json<Page>, ApiError> {
    list_kind(&state, &q, ResourceKind::Certificate).await
}

/// Everything that expires (all kinds), soonest first.
#[utoipa::path(get, path = "/api/v1/expiring",
    params(("days" = Option<i64>, Query, description = "horizon in days (default 30)"), ("limit" = Option<i64>, Query), ("offset" = Option<i64>, Query)),
    responses((status = 200, body = Page), (status = 401, body = ErrorBody)))]
async fn list_expiring(
    _a: Access<Read>,
    State(state): State<AppState>,
    Query(q): Q,
) -> Result<Json<Page>, ApiError> {
    let days = int_param(&q, "days", 30, 36500)?;
    let filter = ResourceFilter {
        expires_before_ms: Some(idcgate_engine::now_ms() + days * 86_400_000),
        ..Default::default()
    };
    page(&state, &q, filter).await
}

/// Live balances of every account with billing.
#[utoipa::path(get, path = "/api/v1/balance", responses((status = 200, description = "balances per account"), (status = 401, body = ErrorBody)))]
async fn list_balances(
    _a: Access<Read>,
    State(state): State<AppState>,
) -> Result<Json<Value>, ApiError> {
    let b = state.engine.balances().await?;
    Ok(Json(json!({ "items": b })))
}

/// Configured upstream accounts (never their credentials).
#[utoipa::path(get, path = "/api/v1/accounts", responses((status = 200, description = "accounts"), (status = 401, body = ErrorBody)))]
async fn list_accounts(
    _a: Access<Read>,
    State(state): State<AppState>,
) -> Result<Json<Value>, ApiError> {
    let accounts = state.engine.store.list_accounts().await?;
    let items: Vec<Value> = accounts
        .iter()
        .map(|a| json!({"name": a.name, "vendor": a.vendor, "base_url": a.base_url, "rate_limit": a.rate_limit_per_sec}))
        .collect();
    Ok(Json(json!({ "items": items })))
}

/// Sync every account now; a summary per account.
#[utoipa::path(post, path = "/api/v1/sync", responses((status = 200, description = "reports per account"), (status = 403, body = ErrorBody)))]
async fn run_sync(
    a: Access<Operate>,
    State(state): State<AppState>,
) -> Result<Json<Value>, ApiError> {
    let reports = state.engine.sync_all(Arc::new(NoProgress)).await?;
    state.engine.audit_sync(&a.actor(), &reports).await;
    Ok(Json(json!({ "items": reports })))
}

fn record_input(body: RecordBody) -> Result<RecordInput, ApiError> {
    let rtype: RecordType = body
        .rtype
        .parse()
        .map_err(|e: idcgate_core::Error| ApiError::invalid("type", e.to_string()))?;
    if body.host.trim().is_empty() {
        return Err(ApiError::invalid(
            "host",
            "host must not be empty (use @ for the apex)",
        ));
    }
    if body.value.trim().is_empty() {
        return Err(ApiError::invalid("value", "value must not be empty"));
    }
    Ok(RecordInput {
        host: body.host,
        rtype,
        value: body.value,
        ttl: body.ttl,
        line: body.line,
        priority: body.priority,
    })
}

/// A zone's records, read live from its upstream (and written back to the inventory).
#[utoipa::path(get, path = "/api/v1/dns/{zone}/records",
    params(("zone" = String, Path), ("type" = Option<String>, Query, description = "only records of this type"),
           ("search" = Option<String>, Query, description = "substring of host or value"),
           ("limit" = Option<i64>, Query), ("offset" = Option<i64>, Query)),
    responses((status = 200, body = Page), (status = 404, body = ErrorBody)))]
async fn dns_list(
    _a: Access<Read>,
    State(state): State<AppState>,
    Path(zone): Path<String>,
    Query(q): Q,
) -> Result<Json<Page>, ApiError> {
    let rtype: Option<RecordType> = q
        .get("type")
        .map(|t| {
            t.parse()
                .map_err(|e: idcgate_core::Error| ApiError::invalid("type", e.to_string()))
        })
        .transpose()?;
    let needle = q.get("search").map(|s| s.to_lowercase());
    let records: Vec<Value> = state
        .engine
        .dns_list(&zone)
        .await?
        .into_iter()
        .filter(|r| rtype.is_none_or(|t| r.rtype == t))
        .filter(|r| {
            needle.as_ref().is_none_or(|n| {
                r.host.to_lowercase().contains(n) || r.value.to_lowercase().contains(n)
            })
        })
        .map(|r| json!(r))
        .collect();
    page_of(records, &q)
}

/// Add a record.
#[utoipa::path(post, path = "/api/v1/dns/{zone}/records", params(("zone" = String, Path)), request_body = RecordBody,
    responses((status = 201, description = "created record"), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn dns_add(
    a: Access<Operate>,
    State(state): State<AppState>,
    Path(zone): Path<String>,
    body: Bytes,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let input = record_input(parse_body(&body)?)?;
    let r = state.engine.dns_add(&a.actor(), &zone, &input).await?;
    Ok((StatusCode::CREATED, Json(json!(r))))
}

/// Replace a record's content.
#[utoipa::path(put, path = "/api/v1/dns/{zone}/records/{id}", params(("zone" = String, Path), ("id" = String, Path)), request_body = RecordBody,
    responses((status = 200, description = "updated record"), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn dns_set(
    a: Access<Operate>,
    State(state): State<AppState>,
    Path((zone, id)): Path<(String, String)>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let input = record_input(parse_body(&body)?)?;
    let r = state.engine.dns_set(&a.actor(), &zone, &id, &input).await?;
    Ok(Json(json!(r)))
}

/// Delete a record.
#[utoipa::path(delete, path = "/api/v1/dns/{zone}/records/{id}", params(("zone" = String, Path), ("id" = String, Path)),
    responses((status = 204, description = "deleted"), (status = 404, body = ErrorBody)))]
async fn dns_remove(
    a: Access<Operate>,
    State(state): State<AppState>,
    Path((zone, id)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    state.engine.dns_remove(&a.actor(), &zone, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Enable a record.
#[utoipa::path(post, path = "/api/v1/dns/{zone}/records/{id}/enable", params(("zone" = String, Path), ("id" = String, Path)),
    responses((status = 204, description = "enabled"), (status = 404, body = ErrorBody)))]
async fn dns_enable(
    a: Access<Operate>,
    State(state): State<AppState>,
    Path((zone, id)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    state
        .engine
        .dns_enable(&a.actor(), &zone, &id, true)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Disable (pause) a record.
#[utoipa::path(post, path = "/api/v1/dns/{zone}/records/{id}/disable", params(("zone" = String, Path), ("id" = String, Path)),
    responses((status = 204, description = "disabled"), (status = 404, body = ErrorBody)))]
async fn dns_disable(
    a: Access<Operate>,
    State(state): State<AppState>,
    Path((zone, id)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    state
        .engine
        .dns_enable(&a.actor(), &zone, &id, false)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Servers in the inventory.
#[utoipa::path(get, path = "/api/v1/servers",
    params(("state" = Option<String>, Query, description = "lifecycle or power state, e.g. active, running, stopped"),
           ("vendor" = Option<String>, Query), ("search" = Option<String>, Query), ("limit" = Option<i64>, Query), ("offset" = Option<i64>, Query)),
    responses((status = 200, body = Page), (status = 401, body = ErrorBody)))]
async fn list_servers(
    _a: Access<Read>,
    State(state): State<AppState>,
    Query(q): Q,
) -> Result<Json<Page>, ApiError> {
    let filter = query_filter(&state, &q, ResourceFilter::default()).await?;
    let rows = state
        .engine
        .servers(filter, q.get("state").map(String::as_str))
        .await?;
    page_of(rows.iter().map(item).collect(), &q)
}

/// Power, reinstall or password operations on a server.
#[utoipa::path(post, path = "/api/v1/servers/{account}/{id}/actions", params(("account" = String, Path), ("id" = String, Path, description = "the upstream's server id")), request_body = ServerActionBody,
    responses((status = 200, description = "the server after the operation"), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn server_action(
    a: Access<Operate>,
    State(state): State<AppState>,
    Path((account, id)): Path<(String, String)>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let server = format!("{account}/{id}");
    let body: ServerActionBody = parse_body(&body)?;
    let op = match body.action.as_str() {
        "start" => ServerOp::Power(PowerAction::Start),
        "stop" => ServerOp::Power(PowerAction::Stop),
        "reboot" => ServerOp::Power(PowerAction::Reboot),
        "force_stop" => ServerOp::Power(PowerAction::ForceStop),
        "force_reboot" => ServerOp::Power(PowerAction::ForceReboot),
        "reinstall" => ServerOp::Reinstall {
            image: body
                .image
                .ok_or_else(|| ApiError::invalid("image", "reinstall needs image"))?,
        },
        "password" => ServerOp::Password {
            password: body
                .password
                .ok_or_else(|| ApiError::invalid("password", "password action needs password"))?,
        },
        other => {
            return Err(ApiError::invalid(
                "action",
                format!("unknown action {other:?}"),
            ))
        }
    };
    let s = state.engine.server_op(&a.actor(), &server, op).await?;
    Ok(Json(json!(s)))
}

/// The audit log, newest first (admin scope); a write announced but never completed
/// shows with outcome `unfinished`.
#[utoipa::path(get, path = "/api/v1/audit", params(("limit" = Option<i64>, Query)),
    responses((status = 200, description = "audit entries"), (status = 403, body = ErrorBody)))]
async fn list_audit(
    _a: Access<Admin>,
    State(state): State<AppState>,
    Query(q): Q,
) -> Result<Json<Value>, ApiError> {
    let limit = int_param(&q, "limit", 100, 10_000)?;
    let entries = state.engine.audit_trail(limit).await?;
    Ok(Json(json!({ "items": entries })))
}
