//! REST for money: quotes, orders through the journal, the ledger. A purchase needs an
//! `Idempotency-Key` header (the same key again answers with the first order and buys
//! nothing) and never takes a price from the request: the body may not even name one.

use crate::api::{created_unless_repeated, idempotency_key, parse_body, ErrorBody};
use crate::auth::{Access, Admin, Read};
use crate::dto::{paging, ApiBody, ApiQuery, LedgerQuery, OrdersQuery, StatementQuery};
use crate::error::ApiError;
use crate::AppState;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::{Json, Router};
use idcgate_core::purchase::PurchaseRequest;
use idcgate_engine::orders::PurchaseTerms;
use idcgate_store::{LedgerFilter, OrderFilter};
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use utoipa::ToSchema;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/orders", get(list_orders).post(place_order))
        .route("/orders/quote", post(quote))
        .route("/orders/{id}", get(show_order))
        .route("/ledger", get(ledger))
        .route("/statement/{account}", get(statement))
}

/// What to buy. There is no price field: the price is the upstream's quote, read by the
/// server when the order is placed.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PurchaseBody {
    /// The upstream account to buy from.
    pub account: String,
    /// `create` (or `register`), `renew`, `upgrade` or `transfer`.
    #[schema(pattern = r"^(create|register|renew|upgrade|transfer)$")]
    pub operation: String,
    /// `domain` (default), `server`, `hosting_site`, `database`, `mail_domain`, `dns_zone`.
    #[schema(
        pattern = r"^(domain|server|hosting_site|database|mail_domain|dns_zone|certificate)$"
    )]
    pub kind: Option<String>,
    /// The domain name, or the upstream id of the resource to renew or upgrade. Also
    /// read under the name `domain` (as the README's example writes it), not both.
    #[serde(alias = "domain")]
    #[schema(
        pattern = r"^[^\u0000-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u001F\u007F-\u009F]*$"
    )]
    pub target: String,
    /// The vendor's product, plan or configuration code.
    pub offer: Option<String>,
    /// Length in years (domains: 1 to 10; default 1 year).
    #[serde(default, deserialize_with = "crate::dto::whole")]
    #[schema(minimum = 1, maximum = 10)]
    pub years: Option<u32>,
    /// Length in months (instead of years).
    #[serde(default, deserialize_with = "crate::dto::whole")]
    #[schema(minimum = 1, maximum = 120)]
    pub months: Option<u32>,
    /// Vendor settings the offer needs, by the vendor's parameter names.
    #[serde(default)]
    pub options: BTreeMap<String, String>,
}

impl PurchaseBody {
    fn purchase(&self) -> Result<PurchaseRequest, ApiError> {
        Ok(PurchaseTerms {
            kind: self.kind.clone(),
            operation: self.operation.clone(),
            target: self.target.clone(),
            offer: self.offer.clone(),
            months: self.months,
            years: self.years,
            options: self.options.clone(),
        }
        .request()?)
    }
}

/// What the upstream asks now.
#[utoipa::path(post, path = "/api/v1/orders/quote", request_body = PurchaseBody,
    responses((status = 200, description = "the quote"), (status = 400, body = ErrorBody), (status = 422, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn quote(
    _a: Access<Read>,
    State(state): State<AppState>,
    ApiBody(body): ApiBody<PurchaseBody>,
) -> Result<Json<Value>, ApiError> {
    let purchase = body.purchase().map_err(ApiError::semantic)?;
    let q = state
        .engine
        .quote(&body.account, &purchase)
        .await
        .map_err(ApiError::refused)?;
    Ok(Json(json!(q)))
}

/// Buy through the order journal (admin scope: it spends money).
#[utoipa::path(post, path = "/api/v1/orders", request_body = PurchaseBody,
    params(("Idempotency-Key" = String, Header, pattern = r"^[!-~]+$", max_length = 200, description = "the same key again returns the first order and buys nothing")),
    responses((status = 201, description = "the order, with its state"), (status = 200, description = "the order placed earlier under this key"),
        (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn place_order(
    a: Access<Admin>,
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    // The body is read here, not as an `ApiBody`: the key is refused first, whatever
    // the body holds.
    let key = idempotency_key(&headers, "a purchase")?;
    let body: PurchaseBody = parse_body(&body)?;
    let purchase = body.purchase().map_err(ApiError::semantic)?;
    let (o, new) = state
        .engine
        .place_order_placed(&a.actor(), &body.account, &purchase, Some(&key), None)
        .await
        .map_err(ApiError::refused)?;
    Ok((created_unless_repeated(!new), Json(json!(o))))
}

/// Orders, newest first.
#[utoipa::path(get, path = "/api/v1/orders", params(OrdersQuery),
    responses((status = 200, description = "orders"), (status = 400, body = ErrorBody)))]
pub async fn list_orders(
    _a: Access<Read>,
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<OrdersQuery>,
) -> Result<Json<Value>, ApiError> {
    let order_state = q.state;
    let orders = state
        .engine
        .reads()
        .orders(&OrderFilter {
            account: q.account,
            state: order_state,
            limit: Some(paging(q.limit, None, 1000)?.0),
            ..Default::default()
        })
        .await?;
    Ok(Json(json!({ "items": orders })))
}

/// One order with its history.
#[utoipa::path(get, path = "/api/v1/orders/{id}", params(("id" = i64, Path)),
    responses((status = 200, description = "the order and its events"), (status = 404, body = ErrorBody)))]
pub async fn show_order(
    _a: Access<Read>,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let id: i64 = id
        .trim()
        .parse()
        .map_err(|_| ApiError::invalid("id", "an order id is a number"))?;
    let order = state
        .engine
        .reads()
        .order(id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no order {id}")))?;
    let events = state.engine.reads().order_events(id).await?;
    Ok(Json(json!({ "order": order, "events": events })))
}

/// Ledger entries (`account` exact or a family ending in `:`), or balances per account.
#[utoipa::path(get, path = "/api/v1/ledger", params(LedgerQuery),
    responses((status = 200, description = "entries or balances"), (status = 403, body = ErrorBody)))]
pub async fn ledger(
    _a: Access<Admin>,
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<LedgerQuery>,
) -> Result<Json<Value>, ApiError> {
    if q.balances {
        let balances = state.engine.reads().ledger_balances().await?;
        let items: Vec<Value> = balances
            .into_iter()
            .map(|(account, fen)| json!({"account": account, "fen": fen}))
            .collect();
        return Ok(Json(json!({ "items": items })));
    }
    let lines = state
        .engine
        .reads()
        .ledger(&LedgerFilter {
            account: q.account,
            since_ms: None,
            limit: Some(
                q.limit
                    .map_or(Ok(1000), |l| paging(Some(l), None, 10_000).map(|p| p.0))?,
            ),
        })
        .await?;
    Ok(Json(json!({ "items": lines })))
}

/// The statement check of one upstream account: what the ledger booked against the
/// vendor's finance record and its balance readings, every difference listed.
#[utoipa::path(get, path = "/api/v1/statement/{account}",
    params(("account" = String, Path), StatementQuery),
    responses((status = 200, description = "the statement; `differences` empty when everything is explained"),
        (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn statement(
    _a: Access<Admin>,
    State(state): State<AppState>,
    Path(account): Path<String>,
    ApiQuery(q): ApiQuery<StatementQuery>,
) -> Result<Json<Value>, ApiError> {
    let since_ms = match q.since_ms {
        Some(ms) if ms < 0 => {
            return Err(ApiError::invalid(
                "since_ms",
                "since_ms must not be negative",
            ))
        }
        Some(ms) => ms,
        None => state.engine.statement_start(&account).await?,
    };
    let statement = state.engine.statement(&account, since_ms).await?;
    Ok(Json(json!(statement)))
}
