//! REST for resale: tenants (downstream resellers) and the product catalog. Reading
//! takes the read scope; anything that changes a tenant or a product, or records money
//! paid in, takes admin. A tenant's appkey appears in exactly two answers (its creation
//! and a rekey) and nowhere else.

use crate::api::{created_unless_repeated, idempotency_key, parse_body, ErrorBody};
use crate::auth::{Access, Admin, Read};
use crate::dto::{paging, AllQuery, ApiBody, ApiQuery, PageQuery, PriceQuery, TenantQuery};
use crate::error::ApiError;
use crate::AppState;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use idcgate_core::{Money, ResourceKind};
use idcgate_engine::catalog::{PriceRule, ProductSpec};
use idcgate_engine::EngineError;
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use utoipa::ToSchema;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/tenants", get(list_tenants).post(add_tenant))
        .route("/tenants/{name}", get(show_tenant).delete(remove_tenant))
        .route("/tenants/{name}/topups", post(topup))
        .route("/tenants/{name}/orders", get(tenant_orders))
        .route("/tenants/{name}/statement", get(tenant_statement))
        .route("/margins", get(margins))
        .route("/tenants/{name}/credit", put(set_credit))
        .route("/tenants/{name}/level", put(set_level))
        .route("/tenants/{name}/suspend", post(suspend))
        .route("/tenants/{name}/resume", post(resume))
        .route("/tenants/{name}/rekey", post(rekey))
        .route("/products", get(list_products).post(add_product))
        .route("/products/{name}", get(show_product).patch(update_product))
        .route("/products/{name}/price", get(price))
        .route("/products/{name}/retire", post(retire))
}

fn money(field: &str, s: &str) -> Result<Money, ApiError> {
    s.parse()
        .map_err(|_| ApiError::invalid(field, format!("{s:?} is not an amount like 100.00")))
}

/// A new tenant.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TenantBody {
    #[schema(pattern = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]
    pub name: String,
    /// The price level it buys at (default: the base rules).
    #[serde(default)]
    #[schema(pattern = r"^([A-Za-z0-9][A-Za-z0-9._-]{0,63})?$")]
    pub level: String,
    /// Credit limit in yuan, e.g. "500.00" (default 0).
    #[schema(pattern = r"^(100000000(\.0{1,2})?|[0-9]{1,8}(\.[0-9]{1,2})?)$")]
    pub credit: Option<String>,
}

/// Tenants with balances summed from the ledger (`all=true`: removed ones too).
#[utoipa::path(get, path = "/api/v1/tenants", params(AllQuery),
    responses((status = 200, description = "tenants"), (status = 401, body = ErrorBody)))]
pub async fn list_tenants(
    _a: Access<Read>,
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<AllQuery>,
) -> Result<Json<Value>, ApiError> {
    let tenants = state.engine.tenants(q.all).await?;
    Ok(Json(json!({ "items": tenants })))
}

/// Add a tenant: the answer carries its appkey, the only time it is shown.
#[utoipa::path(post, path = "/api/v1/tenants", request_body = TenantBody,
    responses((status = 201, description = "the tenant and its appkey"), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn add_tenant(
    a: Access<Admin>,
    State(state): State<AppState>,
    ApiBody(body): ApiBody<TenantBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let credit = money("credit", body.credit.as_deref().unwrap_or("0"))?;
    let (tenant, key) = state
        .engine
        .add_tenant(&a.actor(), &body.name, &body.level, credit)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({"tenant": tenant, "appkey": key.expose()})),
    ))
}

/// One tenant with its deposits.
#[utoipa::path(get, path = "/api/v1/tenants/{name}", params(("name" = String, Path)),
    responses((status = 200, description = "the tenant and its deposits"), (status = 404, body = ErrorBody)))]
pub async fn show_tenant(
    _a: Access<Read>,
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let tenant = state.engine.tenant(&name).await?;
    let deposits = state.engine.reads().deposits(&name).await?;
    Ok(Json(json!({"tenant": tenant, "deposits": deposits})))
}

/// What a tenant bought through the downstream endpoint (`id` is the guid it acts on),
/// with what each order was paid net of money given back.
#[utoipa::path(get, path = "/api/v1/tenants/{name}/orders", params(("name" = String, Path), PageQuery),
    responses((status = 200, description = "a page of the tenant's orders, oldest first, and their total"), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn tenant_orders(
    _a: Access<Read>,
    State(state): State<AppState>,
    Path(name): Path<String>,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> Result<Json<Value>, ApiError> {
    let (limit, offset) = paging(q.limit, q.offset, 1000)?;
    let (orders, total) = state
        .engine
        .tenant_orders_page(&name, limit, offset)
        .await?;
    Ok(Json(json!({ "items": orders, "total": total })))
}

/// A tenant's deposits, charges and refunds, each with its ledger transaction.
#[utoipa::path(get, path = "/api/v1/tenants/{name}/statement", params(("name" = String, Path)),
    responses((status = 200, description = "the tenant's statement"), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn tenant_statement(
    _a: Access<Read>,
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let statement = state.engine.tenant_statement(&name).await?;
    Ok(Json(json!(statement)))
}

/// Resale price minus upstream cost per tenant and product, from the ledger
/// (`tenant` to keep to one).
#[utoipa::path(get, path = "/api/v1/margins", params(TenantQuery),
    responses((status = 200, description = "margins"), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn margins(
    _a: Access<Read>,
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<TenantQuery>,
) -> Result<Json<Value>, ApiError> {
    let margins = state.engine.margins(q.tenant.as_deref()).await?;
    Ok(Json(json!({ "items": margins })))
}

/// Money paid in.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TopupBody {
    /// Yuan, e.g. "1000.00".
    #[schema(
        pattern = r"^(100000000(\.0{1,2})?|[1-9][0-9]{0,7}(\.[0-9]{1,2})?|0\.(0[1-9]|[1-9][0-9]?))$"
    )]
    pub amount: String,
    #[schema(max_length = 200)]
    pub memo: Option<String>,
}

/// Record money a tenant paid in (funding → tenant). Needs an `Idempotency-Key`: the
/// same key again deposits nothing and answers with the first deposit.
#[utoipa::path(post, path = "/api/v1/tenants/{name}/topups", request_body = TopupBody,
    params(("name" = String, Path), ("Idempotency-Key" = String, Header, pattern = r"^[!-~]+$", max_length = 200, description = "the same key again deposits nothing")),
    responses((status = 201, description = "deposited"), (status = 200, description = "the deposit made earlier under this key"),
        (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn topup(
    a: Access<Admin>,
    State(state): State<AppState>,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    // The body is read here, not as an `ApiBody`: the key is refused first, whatever
    // the body holds.
    let key = idempotency_key(&headers, "a top-up")?;
    let body: TopupBody = parse_body(&body)?;
    let amount = money("amount", &body.amount)?;
    let t = state
        .engine
        .topup_tenant(&a.actor(), &name, amount, Some(&key), body.memo.as_deref())
        .await
        .map_err(ApiError::refused)?;
    Ok((created_unless_repeated(t.repeated), Json(json!(t))))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreditBody {
    /// The new credit limit in yuan, e.g. "500.00".
    #[schema(pattern = r"^(100000000(\.0{1,2})?|[0-9]{1,8}(\.[0-9]{1,2})?)$")]
    pub limit: String,
}

/// Set a tenant's credit limit (a setting: no money moves).
#[utoipa::path(put, path = "/api/v1/tenants/{name}/credit", request_body = CreditBody, params(("name" = String, Path)),
    responses((status = 200, description = "the tenant"), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn set_credit(
    a: Access<Admin>,
    State(state): State<AppState>,
    Path(name): Path<String>,
    ApiBody(body): ApiBody<CreditBody>,
) -> Result<Json<Value>, ApiError> {
    let limit = money("limit", &body.limit)?;
    let t = state
        .engine
        .set_tenant_credit(&a.actor(), &name, limit)
        .await?;
    Ok(Json(json!(t)))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LevelBody {
    /// A price level named in product rules; "" for the base rules.
    #[schema(pattern = r"^([A-Za-z0-9][A-Za-z0-9._-]{0,63})?$")]
    pub level: String,
}

/// Set a tenant's price level.
#[utoipa::path(put, path = "/api/v1/tenants/{name}/level", request_body = LevelBody, params(("name" = String, Path)),
    responses((status = 200, description = "the tenant"), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn set_level(
    a: Access<Admin>,
    State(state): State<AppState>,
    Path(name): Path<String>,
    ApiBody(body): ApiBody<LevelBody>,
) -> Result<Json<Value>, ApiError> {
    let t = state
        .engine
        .set_tenant_level(&a.actor(), &name, &body.level)
        .await?;
    Ok(Json(json!(t)))
}

/// A state change of one named tenant or product, answered with what it became: one
/// handler each (the document names each path), differing only in the engine call.
macro_rules! state_changes {
    ($($(#[doc = $doc:literal])* $name:ident $path:literal $what:literal => $call:ident;)*) => {$(
        $(#[doc = $doc])*
        #[utoipa::path(post, path = $path, params(("name" = String, Path)),
            responses((status = 200, description = $what), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
        pub async fn $name(
            a: Access<Admin>,
            State(state): State<AppState>,
            Path(name): Path<String>,
        ) -> Result<Json<Value>, ApiError> {
            Ok(Json(json!(state.engine.$call(&a.actor(), &name).await?)))
        }
    )*};
}

state_changes! {
    /// Stop a tenant buying (it still reads and pays in).
    suspend "/api/v1/tenants/{name}/suspend" "the tenant" => suspend_tenant;
    resume "/api/v1/tenants/{name}/resume" "the tenant" => resume_tenant;
    /// Stop selling a product (it stays on record).
    retire "/api/v1/products/{name}/retire" "the product" => retire_product;
}

/// Remove a tenant from selling: deleted if it never held money, else kept as removed.
#[utoipa::path(delete, path = "/api/v1/tenants/{name}", params(("name" = String, Path)),
    responses((status = 200, description = "`deleted` or `retired`"), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn remove_tenant(
    a: Access<Admin>,
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let how = state.engine.remove_tenant(&a.actor(), &name).await?;
    Ok(Json(json!({"removed": name, "how": how})))
}

/// Issue a new appkey (the old one stops working); the answer is the only place it is
/// shown.
#[utoipa::path(post, path = "/api/v1/tenants/{name}/rekey", params(("name" = String, Path)),
    responses((status = 200, description = "the new appkey"), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn rekey(
    a: Access<Admin>,
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let key = state.engine.rekey_tenant(&a.actor(), &name).await?;
    let tenant = state.engine.tenant(&name).await?;
    Ok(Json(json!({"tenant": tenant, "appkey": key.expose()})))
}

/// A new product. `rule` is a price rule: `{"basis": {"markup": "20"}}` or
/// `{"basis": {"fixed": "99.00"}}` (a month), optional `levels` (name → basis),
/// `discounts` (months → percent off) and `periods` (months offered).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProductBody {
    #[schema(pattern = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]
    pub name: String,
    /// 1 to 100 characters, not all blank.
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = r"^[^\u0000-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u001F\u007F-\u009F]*$"
    )]
    pub title: Option<String>,
    /// The upstream account that fulfils it.
    pub account: String,
    /// `server`, `hosting_site`, `database`, `mail_domain`, ...
    #[schema(
        pattern = r"^(domain|server|hosting_site|database|mail_domain|dns_zone|certificate)$"
    )]
    pub kind: String,
    pub offer: Option<String>,
    #[serde(default)]
    pub options: BTreeMap<String, String>,
    #[schema(value_type = crate::dto::PriceRuleDoc)]
    pub rule: Value,
}

fn rule_of(v: Value) -> Result<PriceRule, ApiError> {
    let rule: PriceRule = serde_json::from_value(v)
        .map_err(|e| ApiError::invalid("rule", format!("not a price rule: {e}")))?;
    rule.validate()?;
    Ok(rule)
}

/// Products on sale (`all=true`: retired ones too).
#[utoipa::path(get, path = "/api/v1/products", params(AllQuery),
    responses((status = 200, description = "products"), (status = 401, body = ErrorBody)))]
pub async fn list_products(
    _a: Access<Read>,
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<AllQuery>,
) -> Result<Json<Value>, ApiError> {
    let products = state.engine.products(q.all).await?;
    Ok(Json(json!({ "items": products })))
}

/// Add a product; its account must sell the template and quote it now.
#[utoipa::path(post, path = "/api/v1/products", request_body = ProductBody,
    responses((status = 201, description = "the product"), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody), (status = 409, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn add_product(
    a: Access<Admin>,
    State(state): State<AppState>,
    ApiBody(body): ApiBody<ProductBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let spec = ProductSpec {
        name: body.name,
        title: body.title,
        account: body.account,
        kind: body
            .kind
            .parse::<ResourceKind>()
            .map_err(EngineError::from)?,
        offer: body.offer,
        options: body.options,
        rule: rule_of(body.rule).map_err(ApiError::semantic)?,
    };
    let p = state
        .engine
        .add_product(&a.actor(), spec)
        .await
        .map_err(ApiError::refused)?;
    Ok((StatusCode::CREATED, Json(json!(p))))
}

/// A product with each offered term's live cost and its prices at every level, and
/// each unit it sells beyond its base with its monthly cost and prices.
#[utoipa::path(get, path = "/api/v1/products/{name}", params(("name" = String, Path)),
    responses((status = 200, description = "the product, its prices and its units' prices"), (status = 404, body = ErrorBody)))]
pub async fn show_product(
    _a: Access<Read>,
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let p = state.engine.product(&name).await?;
    let prices = state.engine.product_prices(&p).await;
    let units = state.engine.unit_prices(&p).await;
    Ok(Json(
        json!({"product": p, "prices": prices, "units": units}),
    ))
}

/// Cost (the upstream's quote now), price and margin, at a tenant's level.
#[utoipa::path(get, path = "/api/v1/products/{name}/price",
    params(("name" = String, Path), PriceQuery),
    responses((status = 200, description = "cost, price and margin"), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn price(
    _a: Access<Read>,
    State(state): State<AppState>,
    Path(name): Path<String>,
    ApiQuery(q): ApiQuery<PriceQuery>,
) -> Result<Json<Value>, ApiError> {
    let v = state
        .engine
        .product_price(&name, q.tenant.as_deref(), q.months)
        .await
        .map_err(ApiError::refused)?;
    Ok(Json(json!(v)))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(min_properties = 1)]
pub struct ProductPatchBody {
    /// 1 to 100 characters, not all blank.
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = r"^[^\u0000-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u001F\u007F-\u009F]*$"
    )]
    pub title: Option<String>,
    /// A whole new price rule.
    #[schema(value_type = Option<crate::dto::PriceRuleDoc>)]
    pub rule: Option<Value>,
}

/// Change a product's title or price rule (its template never changes).
#[utoipa::path(patch, path = "/api/v1/products/{name}", request_body = ProductPatchBody, params(("name" = String, Path)),
    responses((status = 200, description = "the product"), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update_product(
    a: Access<Admin>,
    State(state): State<AppState>,
    Path(name): Path<String>,
    ApiBody(body): ApiBody<ProductPatchBody>,
) -> Result<Json<Value>, ApiError> {
    if body.title.is_none() && body.rule.is_none() {
        return Err(ApiError::invalid("body", "give title or rule").semantic());
    }
    let rule = body
        .rule
        .map(rule_of)
        .transpose()
        .map_err(ApiError::semantic)?;
    let p = state
        .engine
        .update_product(&a.actor(), &name, body.title.as_deref(), rule.as_ref())
        .await?;
    Ok(Json(json!(p)))
}
