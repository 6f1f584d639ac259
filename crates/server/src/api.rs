//! REST API v1 and its OpenAPI document. Every list pages (`limit`, `offset`) and
//! filters; every mutation is audited by the engine with the token's name as actor.

use crate::auth::{Access, Admin, Operate, Read};
use crate::dto::{
    days, paging, Account, AccountBody, ApiBody, ApiQuery, ExpiringQuery, InventoryQuery, Items,
    LimitQuery, Page, Record, RecordPath, RecordTypeName, RecordsQuery, Resource, ServerPath,
    ServerState, ServerStateName, ServersQuery, TextRules, ZonePath,
};
use crate::error::ApiError;
use crate::pages::{JsonBytes, ListKey, PageCache, PageKey};
use crate::AppState;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post, put};
use axum::{Extension, Json, Router};
use idcgate_core::{PowerAction, RecordInput, RecordType, ResourceKind};
use idcgate_engine::ops::ServerOp;
use idcgate_engine::sync::NoProgress;
use idcgate_store::ResourceFilter;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
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
        add_account,
        run_sync,
        dns_list,
        dns_add,
        dns_set,
        dns_remove,
        dns_enable,
        dns_disable,
        crate::migrate::migrate,
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
        crate::renewals::set_floor,
        crate::dnsplan::export,
        crate::dnsplan::plan,
        crate::dnsplan::apply
    ),
    components(schemas(Resource, Record, ServerState, Account, AccountBody, RecordBody, ServerActionBody, ErrorBody,
        crate::resale::TenantBody, crate::resale::TopupBody, crate::resale::CreditBody,
        crate::resale::LevelBody, crate::resale::ProductBody, crate::resale::ProductPatchBody, crate::orders::PurchaseBody,
        crate::renewals::PolicyBody, crate::renewals::FloorBody,
        crate::dnsplan::ZoneBody, crate::dnsplan::ZoneRecord, crate::dnsplan::ZoneValue,
        crate::dnsplan::ZonesBody, crate::migrate::MigrateBody, crate::migrate::MigrationAnswer)),
    modifiers(&BearerToken, &TextRules)
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
        // Every operation behind a token can answer these two; stating them once here
        // keeps the document true without repeating them at each handler.
        let error = |why: &str| {
            utoipa::openapi::ResponseBuilder::new()
                .description(why)
                .content(
                    "application/json",
                    utoipa::openapi::ContentBuilder::new()
                        .schema(Some(utoipa::openapi::Ref::from_schema_name("ErrorBody")))
                        .build(),
                )
                .build()
        };
        for (path, item) in openapi.paths.paths.iter_mut() {
            if path.ends_with("/openapi.json") {
                continue;
            }
            for op in crate::dto::operations_mut(item) {
                let takes_input = op.request_body.is_some()
                    || op.parameters.as_ref().is_some_and(|p| !p.is_empty());
                let names_something = path.contains('{');
                for (status, why, applies) in [
                    (
                        "400",
                        "the input is malformed (the error names the field)",
                        takes_input,
                    ),
                    ("401", "no token, or not a valid one", true),
                    ("404", "nothing of that name", names_something),
                    (
                        "429",
                        "too many failed authentications from this address (see Retry-After)",
                        true,
                    ),
                ] {
                    if !applies {
                        continue;
                    }
                    op.responses
                        .responses
                        .entry(status.to_string())
                        .or_insert_with(|| error(why).into());
                }
            }
        }
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
        .route("/accounts", get(list_accounts).post(add_account))
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
        .merge(crate::dnsplan::routes())
        .merge(crate::migrate::routes())
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
    #[schema(
        pattern = r"^[^\u0000-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u001F\u007F-\u009F]*$"
    )]
    pub host: String,
    #[serde(rename = "type")]
    #[schema(rename = "type", value_type = RecordTypeName)]
    pub rtype: RecordType,
    #[schema(
        pattern = r"^[^\u0000-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u001F\u007F-\u009F]*$"
    )]
    pub value: String,
    /// Seconds (default 600).
    #[serde(default, deserialize_with = "crate::dto::whole")]
    pub ttl: Option<u32>,
    pub line: Option<String>,
    #[schema(minimum = 0, maximum = 65535)]
    #[serde(default, deserialize_with = "crate::dto::whole")]
    pub priority: Option<u16>,
}

/// `action`: start, stop, reboot, force_stop, force_reboot, reinstall (needs `image`),
/// password (needs `password`).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ServerActionBody {
    #[schema(pattern = r"^(start|stop|reboot|force_stop|force_reboot|reinstall|password)$")]
    pub action: String,
    pub image: Option<String>,
    pub password: Option<String>,
}

/// A JSON body whose every string passed `guard::check_json`, as `T`.
pub(crate) fn parse_body<T: serde::de::DeserializeOwned>(body: &Bytes) -> Result<T, ApiError> {
    let value: Value = serde_json::from_slice(body).map_err(body_error)?;
    crate::guard::check_json(&value, "")?;
    // Read from the bytes, not from `value`: a map keeps the last of a key given twice,
    // where the typed read refuses a field given twice rather than guess which one counts.
    serde_path_to_error::deserialize(&mut serde_json::Deserializer::from_slice(body)).map_err(|e| {
        let path = e.path().to_string();
        let e = body_error(e.into_inner());
        // A missing or unknown field is named by serde itself; a bad value by its path.
        if e.field.as_deref() == Some("body") && path != "." {
            ApiError::invalid(&path, e.message)
        } else {
            e
        }
    })
}

/// The request's `Idempotency-Key` header, which `what` ("a purchase") requires: the same
/// key again must answer with the first result and spend nothing.
pub(crate) fn idempotency_key(
    headers: &axum::http::HeaderMap,
    what: &str,
) -> Result<String, ApiError> {
    // Two keys on one purchase: which one it was bought under would be a guess.
    if headers.get_all("idempotency-key").iter().nth(1).is_some() {
        return Err(ApiError::invalid(
            "Idempotency-Key",
            "give one Idempotency-Key header, not several",
        ));
    }
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
        })
        .and_then(|k| {
            // What the document states (`^[!-~]+$`, at most 200): checked here, so a
            // key the document refuses is a 400 before anything else reads it.
            if k.chars().any(char::is_control) {
                Err(ApiError::invalid(
                    "Idempotency-Key",
                    "an Idempotency-Key must not contain control characters",
                ))
            } else if k.len() > 200 || !k.chars().all(|c| ('!'..='~').contains(&c)) {
                Err(ApiError::invalid(
                    "Idempotency-Key",
                    "an Idempotency-Key is at most 200 printable ASCII characters without spaces",
                ))
            } else {
                Ok(k)
            }
        })?
        .to_string())
}

/// The status of what an `Idempotency-Key` guards: 201 when this request made it, 200
/// when the key was used before and the answer is the first one again.
pub(crate) fn created_unless_repeated(repeated: bool) -> StatusCode {
    if repeated {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    }
}

fn body_error(e: serde_json::Error) -> ApiError {
    let text = e.to_string();
    ApiError::invalid(
        named_field(&text).unwrap_or("body"),
        format!("invalid JSON body: {text}"),
    )
}

/// The field serde names in its message (`missing field `x``, `unknown field `x``,
/// `duplicate field `x``).
pub(crate) fn named_field(text: &str) -> Option<&str> {
    ["missing field `", "unknown field `", "duplicate field `"]
        .iter()
        .find_map(|p| text.split(p).nth(1))
        .and_then(|rest| rest.split('`').next())
}

/// The `vendor`, `account` and `search` filters shared by every inventory list.
async fn filter_of(
    state: &AppState,
    vendor: Option<idcgate_core::Vendor>,
    account: Option<String>,
    search: Option<String>,
    mut filter: ResourceFilter,
) -> Result<ResourceFilter, ApiError> {
    if let Some(v) = vendor {
        filter.accounts = Some(state.engine.accounts_of(v).await?);
    }
    filter.account = account;
    filter.search = search;
    Ok(filter)
}

/// One page of one kind of the inventory (all kinds for `None`), paged by the database;
/// a page without an expiry horizon is answered from `pages` while it holds.
async fn inventory_page(
    state: &AppState,
    pages: &PageCache,
    kind: Option<ResourceKind>,
    q: InventoryQuery,
) -> Result<JsonBytes, ApiError> {
    let until = horizon(days("expiring_days", q.expiring_days, 36500)?);
    let pages = until.is_none().then_some(pages);
    inventory_page_until(state, pages, kind, q, until).await
}

/// [`inventory_page`] of what expires before `until` (Unix ms), when given.
async fn inventory_page_until(
    state: &AppState,
    pages: Option<&PageCache>,
    kind: Option<ResourceKind>,
    q: InventoryQuery,
    until: Option<i64>,
) -> Result<JsonBytes, ApiError> {
    let (limit, offset) = paging(q.limit, q.offset, 1000)?;
    let key = PageKey {
        list: ListKey {
            kind,
            vendor: q.vendor,
            account: q.account.clone(),
            search: q.search.clone(),
        },
        limit,
        offset,
    };
    // Taken before the read: a write ending during it moves the generation past the
    // page, which is then never answered again.
    let generation = state.engine.reads().inventory_generation();
    if let Some(body) = pages.and_then(|p| p.get(&key, generation)) {
        return Ok(JsonBytes(body));
    }
    let _filling = match pages {
        Some(p) => Some(p.filling(&key).await),
        None => None,
    };
    // Looked up again after waiting: another request may have read it meanwhile.
    let generation = state.engine.reads().inventory_generation();
    if let Some(body) = pages.and_then(|p| p.get(&key, generation)) {
        return Ok(JsonBytes(body));
    }
    let filter = ResourceFilter {
        kind,
        expires_before_ms: until,
        ..Default::default()
    };
    let mut filter = filter_of(state, q.vendor, q.account, q.search, filter).await?;
    filter.limit = Some(limit);
    filter.offset = Some(offset);
    // Another page of a list counted at this generation needs only its rows.
    let (rows, total) = match pages.and_then(|p| p.total(&key.list, generation)) {
        Some(total) => (state.engine.reads().resources(&filter).await?, total),
        None => state.engine.reads().resource_page(&filter).await?,
    };
    let page = Page {
        items: rows.iter().map(Resource::from).collect(),
        total,
        limit,
        offset,
    };
    let body = Bytes::from(
        serde_json::to_vec(&page).map_err(|e| ApiError::internal(format!("page: {e}")))?,
    );
    if let Some(p) = pages {
        p.put(key, generation, body.clone(), total);
    }
    Ok(JsonBytes(body))
}

/// One page of items already in memory.
fn page_of<T: ToSchema>(items: Vec<T>, limit: i64, offset: i64) -> Json<Page<T>> {
    let total = items.len() as i64;
    let items = items
        .into_iter()
        .skip(usize::try_from(offset).unwrap_or(usize::MAX))
        .take(usize::try_from(limit).unwrap_or(0))
        .collect();
    Json(Page {
        items,
        total,
        limit,
        offset,
    })
}

fn horizon(days: Option<i64>) -> Option<i64> {
    days.map(|d| idcgate_engine::now_ms() + d * 86_400_000)
}

/// The OpenAPI document of this API.
#[utoipa::path(get, path = "/api/v1/openapi.json", responses((status = 200, description = "OpenAPI 3 document")))]
async fn openapi_json() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}

/// One handler per kind the inventory lists, each with its entry in the OpenAPI document.
macro_rules! inventory_lists {
    ($($(#[doc = $doc:literal])* $name:ident $path:literal $kind:ident;)*) => {$(
        $(#[doc = $doc])*
        #[utoipa::path(get, path = $path, params(InventoryQuery),
            responses((status = 200, body = Page<Resource>), (status = 400, body = ErrorBody)))]
        async fn $name(
            _a: Access<Read>,
            State(state): State<AppState>,
            Extension(pages): Extension<Arc<PageCache>>,
            ApiQuery(q): ApiQuery<InventoryQuery>,
        ) -> Result<JsonBytes, ApiError> {
            inventory_page(&state, &pages, Some(ResourceKind::$kind), q).await
        }
    )*};
}

inventory_lists! {
    /// Domains in the inventory.
    list_domains "/api/v1/domains" Domain;
    /// Web hosting sites in the inventory.
    list_hosting "/api/v1/hosting" HostingSite;
    /// Databases in the inventory.
    list_databases "/api/v1/databases" Database;
    /// Mail domains in the inventory.
    list_mail "/api/v1/mail" MailDomain;
    /// Certificates in the inventory.
    list_certificates "/api/v1/certificates" Certificate;
}

/// Everything that expires (all kinds), soonest first.
#[utoipa::path(get, path = "/api/v1/expiring", params(ExpiringQuery),
    responses((status = 200, body = Page<Resource>), (status = 400, body = ErrorBody),
        (status = 422, body = ErrorBody, description = "`within` beyond 100 years, or given with `days`")))]
async fn list_expiring(
    _a: Access<Read>,
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<ExpiringQuery>,
) -> Result<JsonBytes, ApiError> {
    let now = idcgate_engine::now_ms();
    let until = match (q.within.as_deref(), q.days) {
        // Each valid by the document; together, or beyond 100 years, not to be done.
        (Some(_), Some(_)) => {
            return Err(ApiError::invalid(
                "within",
                "give the horizon as within (30d, 2w, 3m, 1y) or days, not both",
            )
            .semantic())
        }
        (Some(w), None) if w.len() > 24 => {
            return Err(ApiError::invalid(
                "within",
                "within is at most 24 characters (30d, 2w, 3m, 1y)",
            ))
        }
        (Some(w), None) => w
            .parse::<idcgate_engine::period::Period>()
            .map_err(|e| {
                let refused = ApiError::invalid("within", e.to_string());
                let well_formed = !w.is_empty()
                    && w.trim_end_matches(|c: char| "dDwWmMyY".contains(c))
                        .bytes()
                        .all(|b| b.is_ascii_digit());
                if well_formed {
                    refused.semantic()
                } else {
                    refused
                }
            })?
            .after(now),
        (None, days_given) => now + days("days", days_given, 36500)?.unwrap_or(30) * 86_400_000,
    };
    let q = InventoryQuery {
        expiring_days: None,
        vendor: None,
        account: None,
        search: None,
        limit: q.limit,
        offset: q.offset,
    };
    inventory_page_until(&state, None, None, q, Some(until)).await
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
#[utoipa::path(get, path = "/api/v1/accounts", responses((status = 200, body = Items<Account>)))]
async fn list_accounts(
    _a: Access<Read>,
    State(state): State<AppState>,
) -> Result<Json<Items<Account>>, ApiError> {
    let accounts = state.engine.accounts().await?;
    let items = accounts.into_iter().map(Account::from).collect();
    Ok(Json(Items { items }))
}

/// Add an upstream account. Refused as the CLI and the console refuse it, naming the
/// field (`name`, `base_url`, `rate_limit`); credentials the vendor does not take, or a
/// missing base URL where the vendor has no public one, are 422.
#[utoipa::path(post, path = "/api/v1/accounts", request_body = AccountBody,
    responses((status = 201, body = Account), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn add_account(
    a: Access<Admin>,
    State(state): State<AppState>,
    ApiBody(body): ApiBody<AccountBody>,
) -> Result<(StatusCode, Json<Account>), ApiError> {
    let defaulted_url = body.base_url.is_none();
    let mut credentials = idcgate_core::Credentials::new();
    for (k, v) in &body.credentials {
        credentials.insert(k, v);
    }
    let new = idcgate_engine::accounts::NewAccount {
        name: body.name,
        vendor: body.vendor,
        base_url: body.base_url,
        credentials,
        rate_limit_per_sec: body.rate_limit,
    };
    match state.engine.add_account(&a.actor(), new).await {
        Ok(account) => Ok((StatusCode::CREATED, Json(Account::from(account)))),
        Err(e) => {
            // The document cannot say which credentials a vendor takes, nor which
            // vendors have a public address: refusals of those are 422, not 400.
            let semantic = match &e {
                idcgate_engine::EngineError::InvalidInput { field, .. } => {
                    field == "credentials" || (field == "base_url" && defaulted_url)
                }
                _ => false,
            };
            let mut e = ApiError::from(e);
            if e.field.as_deref() == Some("rate") {
                e.field = Some("rate_limit".into());
            }
            Err(if semantic { e.semantic() } else { e })
        }
    }
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
    let rtype = body.rtype;
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
        ttl: body.ttl.unwrap_or(600),
        line: body.line,
        priority: body.priority,
    })
}

/// A zone's records, read live from its upstream (and written back to the inventory).
#[utoipa::path(get, path = "/api/v1/dns/{zone}/records",
    params(ZonePath, RecordsQuery),
    responses((status = 200, body = Page<Record>), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 502, body = ErrorBody), (status = 504, body = ErrorBody)))]
async fn dns_list(
    _a: Access<Read>,
    State(state): State<AppState>,
    Path(zone): Path<String>,
    ApiQuery(q): ApiQuery<RecordsQuery>,
) -> Result<Json<Page<Record>>, ApiError> {
    let (limit, offset) = paging(q.limit, q.offset, 1000)?;
    let rtype = q.rtype;
    let needle = q.search.map(|s| s.to_lowercase());
    let records: Vec<Record> = state
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
        .map(Record::from)
        .collect();
    Ok(page_of(records, limit, offset))
}

/// Add a record.
#[utoipa::path(post, path = "/api/v1/dns/{zone}/records", params(ZonePath), request_body = RecordBody,
    responses((status = 201, body = Record), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 502, body = ErrorBody), (status = 504, body = ErrorBody)))]
async fn dns_add(
    a: Access<Operate>,
    State(state): State<AppState>,
    Path(zone): Path<String>,
    ApiBody(body): ApiBody<RecordBody>,
) -> Result<(StatusCode, Json<Record>), ApiError> {
    let input = record_input(body)?;
    let r = state.engine.dns_add(&a.actor(), &zone, &input).await?;
    Ok((StatusCode::CREATED, Json(r.into())))
}

/// Replace a record's content.
#[utoipa::path(put, path = "/api/v1/dns/{zone}/records/{id}", params(RecordPath), request_body = RecordBody,
    responses((status = 200, body = Record), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 502, body = ErrorBody), (status = 504, body = ErrorBody)))]
async fn dns_set(
    a: Access<Operate>,
    State(state): State<AppState>,
    Path((zone, id)): Path<(String, String)>,
    ApiBody(body): ApiBody<RecordBody>,
) -> Result<Json<Record>, ApiError> {
    let input = record_input(body)?;
    let r = state.engine.dns_set(&a.actor(), &zone, &id, &input).await?;
    Ok(Json(r.into()))
}

/// What is done to one record and answered with 204: one handler each (the document
/// names each path), differing only in the engine call and its arguments after the
/// record's zone and id.
macro_rules! record_actions {
    ($($(#[doc = $doc:literal])* $name:ident $method:ident $path:literal $done:literal
        => $call:ident($($arg:expr),*);)*) => {$(
        $(#[doc = $doc])*
        #[utoipa::path($method, path = $path, params(RecordPath),
            responses((status = 204, description = $done), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody),
                (status = 502, body = ErrorBody), (status = 504, body = ErrorBody)))]
        async fn $name(
            a: Access<Operate>,
            State(state): State<AppState>,
            Path((zone, id)): Path<(String, String)>,
        ) -> Result<StatusCode, ApiError> {
            state.engine.$call(&a.actor(), &zone, &id $(, $arg)*).await?;
            Ok(StatusCode::NO_CONTENT)
        }
    )*};
}

record_actions! {
    /// Delete a record.
    dns_remove delete "/api/v1/dns/{zone}/records/{id}" "deleted" => dns_remove();
    /// Enable a record.
    dns_enable post "/api/v1/dns/{zone}/records/{id}/enable" "enabled" => dns_enable(true);
    /// Disable (pause) a record.
    dns_disable post "/api/v1/dns/{zone}/records/{id}/disable" "disabled" => dns_enable(false);
}

/// Servers in the inventory.
#[utoipa::path(get, path = "/api/v1/servers", params(ServersQuery),
    responses((status = 200, body = Page<Resource>), (status = 400, body = ErrorBody)))]
async fn list_servers(
    _a: Access<Read>,
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<ServersQuery>,
) -> Result<Json<Page<Resource>>, ApiError> {
    let (limit, offset) = paging(q.limit, q.offset, 1000)?;
    let filter = filter_of(
        &state,
        q.vendor,
        q.account,
        q.search,
        ResourceFilter::default(),
    )
    .await?;
    let rows = state
        .engine
        .servers(filter, q.state.map(ServerStateName::as_str))
        .await?;
    Ok(page_of(
        rows.iter().map(Resource::from).collect(),
        limit,
        offset,
    ))
}

/// Power, reinstall or password operations on a server.
#[utoipa::path(post, path = "/api/v1/servers/{account}/{id}/actions", params(ServerPath),
    request_body = ServerActionBody,
    responses((status = 200, body = ServerState), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody), (status = 502, body = ErrorBody), (status = 504, body = ErrorBody)))]
async fn server_action(
    a: Access<Operate>,
    State(state): State<AppState>,
    Path((account, id)): Path<(String, String)>,
    ApiBody(body): ApiBody<ServerActionBody>,
) -> Result<Json<ServerState>, ApiError> {
    let server = format!("{account}/{id}");
    let op = match body.action.as_str() {
        "start" => ServerOp::Power(PowerAction::Start),
        "stop" => ServerOp::Power(PowerAction::Stop),
        "reboot" => ServerOp::Power(PowerAction::Reboot),
        "force_stop" => ServerOp::Power(PowerAction::ForceStop),
        "force_reboot" => ServerOp::Power(PowerAction::ForceReboot),
        "reinstall" => ServerOp::Reinstall {
            image: body
                .image
                .ok_or_else(|| ApiError::invalid("image", "reinstall needs image").semantic())?,
        },
        "password" => ServerOp::Password {
            password: body.password.ok_or_else(|| {
                ApiError::invalid("password", "password action needs password").semantic()
            })?,
        },
        other => {
            return Err(ApiError::invalid(
                "action",
                format!("unknown action {other:?}"),
            ))
        }
    };
    let s = state.engine.server_op(&a.actor(), &server, op).await?;
    Ok(Json(s.into()))
}

/// The audit log, newest first (admin scope); a write announced but never completed
/// shows with outcome `unfinished`.
#[utoipa::path(get, path = "/api/v1/audit", params(LimitQuery),
    responses((status = 200, description = "audit entries"), (status = 403, body = ErrorBody)))]
async fn list_audit(
    _a: Access<Admin>,
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<LimitQuery>,
) -> Result<Json<Value>, ApiError> {
    let (limit, _) = paging(q.limit, None, 10_000)?;
    let entries = state.engine.audit_trail(limit).await?;
    Ok(Json(json!({ "items": entries })))
}
