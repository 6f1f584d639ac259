//! The REST layer's own request and response shapes, separate from the core model: the
//! OpenAPI document is generated from these types, so what it promises is what the
//! handlers parse and answer. Every constraint a handler enforces on a parameter is
//! stated here too (lengths, ranges, patterns, value lists): a request valid by the
//! document is never refused as malformed. The guard's rules on every text are added to
//! the document once by `TextRules`.

use crate::error::ApiError;
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Query, Request};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use idcgate_core::{DnsRecord, Server};
use idcgate_store::ResourceRow;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

/// Query parameters as `T`; an unknown parameter or an unreadable value is a JSON 400
/// naming the parameter, never silently ignored.
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        Query::<T>::try_from_uri(&parts.uri)
            .map(|Query(q)| ApiQuery(q))
            .map_err(|e| {
                let text = e.body_text();
                let text = text
                    .strip_prefix("Failed to deserialize query string: ")
                    .unwrap_or(&text);
                // The message names the parameter: `unknown field `x`` or `x: reason`.
                let field = crate::api::named_field(text)
                    .or_else(|| {
                        text.split_once(": ")
                            .map(|(f, _)| f)
                            .filter(|f| f.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
                    })
                    .unwrap_or("query");
                ApiError::invalid(field, text)
            })
    }
}

/// A JSON body as `T`, read by `api::parse_body` (every string through the guard, a
/// refusal naming the field); a body that cannot be read at all is refused as axum
/// refuses it.
pub struct ApiBody<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiBody<T> {
    type Rejection = Response;

    async fn from_request(req: Request, state: &S) -> Result<Self, Response> {
        let body = Bytes::from_request(req, state)
            .await
            .map_err(IntoResponse::into_response)?;
        crate::api::parse_body(&body)
            .map(ApiBody)
            .map_err(IntoResponse::into_response)
    }
}

/// `limit` and `offset` of a paged list, checked against the bounds the document states.
pub fn paging(limit: Option<i64>, offset: Option<i64>, max: i64) -> Result<(i64, i64), ApiError> {
    let limit = limit.unwrap_or(100.min(max));
    if !(0..=max).contains(&limit) {
        return Err(ApiError::invalid(
            "limit",
            format!("limit must be an integer from 0 to {max}"),
        ));
    }
    let offset = offset.unwrap_or(0);
    if offset < 0 {
        return Err(ApiError::invalid("offset", "offset must not be negative"));
    }
    Ok((limit, offset))
}

/// A number of days within `0..=max`, named `field` in a refusal.
pub fn days(field: &str, value: Option<i64>, max: i64) -> Result<Option<i64>, ApiError> {
    match value {
        Some(d) if !(0..=max).contains(&d) => Err(ApiError::invalid(
            field,
            format!("{field} must be an integer from 0 to {max}"),
        )),
        other => Ok(other),
    }
}

/// A zone in a path: labels separated by dots, as the engine accepts it.
#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
#[allow(dead_code)] // describes the path for the document; handlers read it as a tuple
pub struct ZonePath {
    #[param(pattern = r"^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)+\.?$", max_length = 253)]
    zone: String,
}

/// A record of a zone: its upstream id has no blanks, `/` or control characters.
#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
#[allow(dead_code)] // describes the path for the document; handlers read it as a tuple
pub struct RecordPath {
    #[param(pattern = r"^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)+\.?$", max_length = 253)]
    zone: String,
    #[param(pattern = r"^[^\s/\u0000-\u001F\u007F-\u009F]+$", max_length = 128)]
    id: String,
}

/// A server: its upstream account and the upstream's id of it.
#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
#[allow(dead_code)] // describes the path for the document; handlers read it as a tuple
pub struct ServerPath {
    account: String,
    #[param(pattern = r"^[^\s/\u0000-\u001F\u007F-\u009F]+$", max_length = 128)]
    id: String,
}

/// Filters of every inventory list.
#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct InventoryQuery {
    /// Only what expires within this many days.
    #[param(minimum = 0, maximum = 36500)]
    pub expiring_days: Option<i64>,
    /// Only accounts of this vendor.
    #[param(inline, value_type = Option<VendorName>)]
    pub vendor: Option<idcgate_core::Vendor>,
    /// Only this upstream account.
    pub account: Option<String>,
    /// A substring of the name.
    pub search: Option<String>,
    #[param(minimum = 0, maximum = 1000)]
    pub limit: Option<i64>,
    #[param(minimum = 0)]
    pub offset: Option<i64>,
}

/// Filters of the server list.
#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ServersQuery {
    /// A lifecycle or power state.
    #[param(inline)]
    pub state: Option<ServerStateName>,
    #[param(inline, value_type = Option<VendorName>)]
    pub vendor: Option<idcgate_core::Vendor>,
    pub account: Option<String>,
    pub search: Option<String>,
    #[param(minimum = 0, maximum = 1000)]
    pub limit: Option<i64>,
    #[param(minimum = 0)]
    pub offset: Option<i64>,
}

/// The horizon of `expiring`.
#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ExpiringQuery {
    /// The horizon as the CLI writes it: 30d, 2w, 3m or 1y (months and years by the
    /// calendar, China time; a bare number is days; at most 100 years). Default 30d.
    #[param(pattern = r"^[0-9]+[dDwWmMyY]?$", max_length = 24)]
    pub within: Option<String>,
    /// The horizon in days, the older form of `within` (not both; default 30).
    #[param(minimum = 0, maximum = 36500)]
    pub days: Option<i64>,
    #[param(minimum = 0, maximum = 1000)]
    pub limit: Option<i64>,
    #[param(minimum = 0)]
    pub offset: Option<i64>,
}

/// Filters of a zone's records.
#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct RecordsQuery {
    /// Only records of this type.
    #[serde(rename = "type")]
    #[param(inline, rename = "type", value_type = Option<RecordTypeName>)]
    pub rtype: Option<idcgate_core::RecordType>,
    /// A substring of host or value.
    pub search: Option<String>,
    #[param(minimum = 0, maximum = 1000)]
    pub limit: Option<i64>,
    #[param(minimum = 0)]
    pub offset: Option<i64>,
}

/// How many entries of a newest-first log.
#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct LimitQuery {
    #[param(minimum = 0, maximum = 10000)]
    pub limit: Option<i64>,
}

/// A page of a list that has no other filter.
#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    #[param(minimum = 0, maximum = 1000)]
    pub limit: Option<i64>,
    #[param(minimum = 0)]
    pub offset: Option<i64>,
}

/// Filters of the order list.
#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct OrdersQuery {
    pub account: Option<String>,
    #[param(inline, value_type = Option<OrderStateName>)]
    pub state: Option<idcgate_core::OrderState>,
    #[param(minimum = 0, maximum = 1000)]
    pub limit: Option<i64>,
}

/// Order states as they are spelled.
#[derive(Deserialize, ToSchema, Clone, Copy)]
#[serde(rename_all = "snake_case")]
pub enum OrderStateName {
    Pending,
    Submitted,
    Succeeded,
    Failed,
    Unknown,
}

/// Filters of the ledger.
#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct LedgerQuery {
    /// An account exactly, or a family ending in `:`.
    pub account: Option<String>,
    /// Balances per account instead of lines.
    #[serde(default)]
    pub balances: bool,
    #[param(minimum = 0, maximum = 10000)]
    pub limit: Option<i64>,
}

/// Where a statement starts.
#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct StatementQuery {
    /// Unix milliseconds; default: the last balance reading before the account's first order.
    #[param(minimum = 0, maximum = 253402207200000i64)]
    pub since_ms: Option<i64>,
}

/// Keeps to one tenant.
#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct TenantQuery {
    pub tenant: Option<String>,
}

/// A product's price at a tenant's level, for a term.
#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PriceQuery {
    pub tenant: Option<String>,
    #[param(minimum = 1, maximum = 120)]
    pub months: Option<u32>,
}

/// The renewal plan's horizon.
#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PlanQuery {
    /// Days ahead (default 30).
    #[param(minimum = 0, maximum = 3650)]
    pub within_days: Option<i64>,
}

/// Which renewal policy: none (every stored level), `kind` (its default), or `kind`,
/// `account` and `key` (one resource).
#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PolicyQuery {
    #[param(pattern = r"^(domain|server|hosting_site|database|mail_domain|dns_zone|certificate)$")]
    pub kind: Option<String>,
    pub account: Option<String>,
    pub key: Option<String>,
}

/// `all=true` lists removed or retired entries too.
#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AllQuery {
    #[serde(default)]
    pub all: bool,
}

/// The vendors idcgate speaks, as they are spelled in filters: the document's view of
/// `idcgate_core::Vendor` (which knows nothing of OpenAPI); requests parse into that.
#[derive(Deserialize, Serialize, ToSchema, Clone, Copy)]
#[serde(rename_all = "lowercase")]
pub enum VendorName {
    West,
    Cndns,
    Dnspod,
    Zonkvm,
    Xensystem,
}

/// Every state a server filter takes (`idcgate_core::SERVER_STATES`).
#[derive(Deserialize, ToSchema, Clone, Copy)]
#[serde(rename_all = "snake_case")]
pub enum ServerStateName {
    Provisioning,
    Active,
    Suspended,
    Locked,
    Expired,
    Deleted,
    Running,
    Stopped,
    Unknown,
}

impl ServerStateName {
    pub fn as_str(self) -> &'static str {
        match self {
            ServerStateName::Provisioning => "provisioning",
            ServerStateName::Active => "active",
            ServerStateName::Suspended => "suspended",
            ServerStateName::Locked => "locked",
            ServerStateName::Expired => "expired",
            ServerStateName::Deleted => "deleted",
            ServerStateName::Running => "running",
            ServerStateName::Stopped => "stopped",
            ServerStateName::Unknown => "unknown",
        }
    }
}

/// DNS record types: the document's view of `idcgate_core::RecordType`.
#[derive(Deserialize, Serialize, ToSchema, Clone, Copy)]
#[serde(rename_all = "UPPERCASE")]
pub enum RecordTypeName {
    A,
    Aaaa,
    Cname,
    Mx,
    Txt,
    Ns,
    Srv,
    Caa,
}

/// A page of results.
#[derive(Serialize, ToSchema)]
pub struct Page<T: ToSchema> {
    pub items: Vec<T>,
    pub total: i64,
    pub limit: i64,
    pub offset: i64,
}

/// Items without paging.
#[derive(Serialize, ToSchema)]
pub struct Items<T: ToSchema> {
    pub items: Vec<T>,
}

/// One entry of the inventory.
#[derive(Serialize, ToSchema)]
pub struct Resource {
    pub account: String,
    /// `domain`, `server`, `dns_zone`, `hosting_site`, `database`, `mail_domain`, `certificate`, ...
    pub kind: String,
    /// Its key within the account (a domain's name, a server's id, `zone/record-id`).
    pub key: String,
    pub name: String,
    /// Unix milliseconds, when it expires.
    pub expires_at_ms: Option<i64>,
    /// The same instant in RFC 3339 (UTC), for a person reading the answer.
    pub expires_at: Option<String>,
    /// Gone upstream since the last sync.
    pub gone: bool,
    /// What the upstream said about it, in the core model's shape.
    #[schema(value_type = Object)]
    pub data: Value,
}

impl From<&ResourceRow> for Resource {
    fn from(r: &ResourceRow) -> Self {
        Resource {
            account: r.account.clone(),
            kind: r.kind.as_str().to_string(),
            key: r.key.clone(),
            name: r.name.clone(),
            expires_at_ms: r.expires_at_ms,
            expires_at: r.expires_at_ms.and_then(rfc3339),
            gone: r.gone_at_ms.is_some(),
            data: r.data.clone(),
        }
    }
}

/// A DNS record: the same field names a record is sent with.
#[derive(Serialize, ToSchema)]
pub struct Record {
    pub zone: String,
    pub host: String,
    #[serde(rename = "type")]
    #[schema(rename = "type", value_type = RecordTypeName)]
    pub rtype: idcgate_core::RecordType,
    pub value: String,
    pub ttl: u32,
    /// The ISP line (默认, 电信, 联通, ...) where the vendor routes by line.
    pub line: Option<String>,
    pub priority: Option<u16>,
    pub enabled: bool,
    /// The upstream's id of the record: the `{id}` of the record's own paths.
    pub id: Option<String>,
}

impl From<DnsRecord> for Record {
    fn from(r: DnsRecord) -> Self {
        Record {
            zone: r.zone,
            host: r.host,
            rtype: r.rtype,
            value: r.value,
            ttl: r.ttl,
            line: r.line,
            priority: r.priority,
            enabled: r.enabled,
            id: r.upstream_id,
        }
    }
}

/// A server as the upstream reported it after the operation.
#[derive(Serialize, ToSchema)]
pub struct ServerState {
    pub id: String,
    pub name: String,
    /// `cloud`, `vps`, `dedicated` or `colocation`.
    pub kind: String,
    pub region: Option<String>,
    pub plan: Option<String>,
    pub cpu: u32,
    pub ram_mb: u32,
    /// Mbps; 0 = unlimited.
    pub bandwidth_mbps: u32,
    pub ips: Vec<String>,
    pub os_image: Option<String>,
    /// `running`, `stopped` or `unknown`.
    pub power: String,
    /// `provisioning`, `active`, `suspended`, `locked`, `expired` or `deleted`.
    pub lifecycle: String,
    /// Unix milliseconds.
    pub expires_at_ms: Option<i64>,
    /// The same instant in RFC 3339 (UTC).
    pub expires_at: Option<String>,
}

/// Unix milliseconds in RFC 3339, UTC (`2026-12-01T10:00:00Z`).
fn rfc3339(ms: i64) -> Option<String> {
    jiff::Timestamp::from_millisecond(ms)
        .ok()
        .map(|t| t.to_string())
}

fn name_of<T: Serialize>(v: &T) -> String {
    match serde_json::to_value(v) {
        Ok(Value::String(s)) => s,
        _ => String::new(),
    }
}

impl From<Server> for ServerState {
    fn from(s: Server) -> Self {
        ServerState {
            kind: name_of(&s.kind),
            power: name_of(&s.power),
            lifecycle: name_of(&s.lifecycle),
            expires_at_ms: s.expires_at.map(|t| t.as_millisecond()),
            expires_at: s.expires_at.map(|t| t.to_string()),
            id: s.upstream_id,
            name: s.name,
            region: s.region,
            plan: s.plan,
            cpu: s.cpu,
            ram_mb: s.ram_mb,
            bandwidth_mbps: s.bandwidth_mbps,
            ips: s.ips,
            os_image: s.os_image,
        }
    }
}

/// An upstream account, never its credentials.
#[derive(Serialize, ToSchema)]
pub struct Account {
    pub name: String,
    pub vendor: String,
    pub base_url: String,
    /// Requests per second idcgate allows itself towards this account.
    pub rate_limit: u32,
}

impl From<idcgate_core::UpstreamAccount> for Account {
    fn from(a: idcgate_core::UpstreamAccount) -> Self {
        Account {
            name: a.name,
            vendor: a.vendor.to_string(),
            base_url: a.base_url,
            rate_limit: a.rate_limit_per_sec,
        }
    }
}

/// A new upstream account. The rules are the engine's, the same for the CLI and the
/// console (`idcgate_engine::accounts`); the credentials are sealed when stored and
/// never answered.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AccountBody {
    #[schema(pattern = r"^[A-Za-z0-9._-]{1,64}$")]
    pub name: String,
    #[schema(value_type = VendorName)]
    pub vendor: idcgate_core::Vendor,
    /// http(s), no user, password, query or fragment. Default: the vendor's public API
    /// address (Zonkvm and XenSystem have none: then it is required).
    #[schema(
        pattern = r"^https?://[^@/?#\s\u0000-\u001F\u007F-\u009F]+(/[^?#\s\u0000-\u001F\u007F-\u009F]*)?$",
        max_length = 500
    )]
    pub base_url: Option<String>,
    /// The vendor's credential keys and values (`idcgate vendors show VENDOR` lists them).
    #[serde(default)]
    pub credentials: std::collections::BTreeMap<String, String>,
    /// Requests per second towards the upstream. Default: the vendor's advice.
    #[schema(minimum = 1, maximum = 1000)]
    pub rate_limit: Option<u32>,
}

/// No control characters: what the guard refuses in every text a caller sends.
const NO_CONTROLS: &str = r"^[^\u0000-\u001F\u007F-\u009F]*$";

/// States the guard's rules on every text of the document that does not say more itself:
/// parameters at most `MAX_PARAM_CHARS`, body strings at most `MAX_BODY_STRING_CHARS`,
/// neither with a control character. Written once here rather than at each field, so a
/// new field cannot forget them.
pub struct TextRules;

impl utoipa::Modify for TextRules {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use crate::guard::{MAX_BODY_STRING_CHARS, MAX_PARAM_CHARS};
        for item in openapi.paths.paths.values_mut() {
            for op in operations_mut(item) {
                for p in op.parameters.iter_mut().flatten() {
                    if let Some(s) = p.schema.as_mut() {
                        constrain(s, MAX_PARAM_CHARS);
                    }
                }
            }
        }
        if let Some(c) = openapi.components.as_mut() {
            for s in c.schemas.values_mut() {
                constrain(s, MAX_BODY_STRING_CHARS);
            }
        }
    }
}

/// The operations of a path under the methods the API serves (it has no HEAD, OPTIONS or
/// TRACE handlers), for the document's modifiers that touch every operation.
pub(crate) fn operations_mut(
    item: &mut utoipa::openapi::path::PathItem,
) -> impl Iterator<Item = &mut utoipa::openapi::path::Operation> {
    [
        &mut item.get,
        &mut item.post,
        &mut item.put,
        &mut item.patch,
        &mut item.delete,
    ]
    .into_iter()
    .flatten()
}

fn is_string(t: &utoipa::openapi::schema::SchemaType) -> bool {
    use utoipa::openapi::schema::{SchemaType, Type};
    match t {
        SchemaType::Type(Type::String) => true,
        SchemaType::Array(types) => types.contains(&Type::String),
        _ => false,
    }
}

fn constrain(schema: &mut utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>, max: usize) {
    use utoipa::openapi::schema::{ArrayItems, Schema};
    use utoipa::openapi::RefOr;
    let RefOr::T(schema) = schema else { return };
    match schema {
        Schema::Object(o) => {
            if is_string(&o.schema_type) && o.enum_values.is_none() {
                o.max_length.get_or_insert(max);
                o.pattern.get_or_insert_with(|| NO_CONTROLS.to_string());
            }
            for p in o.properties.values_mut() {
                constrain(p, max);
            }
            if let Some(extra) = o.additional_properties.as_deref_mut() {
                if let utoipa::openapi::schema::AdditionalProperties::RefOr(s) = extra {
                    constrain(s, max);
                }
                // A map's keys are texts the caller sends too.
                let names = o.property_names.get_or_insert_with(|| {
                    Box::new(Schema::Object(
                        utoipa::openapi::ObjectBuilder::new()
                            .schema_type(utoipa::openapi::schema::Type::String)
                            .build(),
                    ))
                });
                if let Schema::Object(n) = names.as_mut() {
                    n.max_length.get_or_insert(max);
                    n.pattern.get_or_insert_with(|| NO_CONTROLS.to_string());
                }
            }
        }
        Schema::Array(a) => {
            if let ArrayItems::RefOrSchema(items) = &mut a.items {
                constrain(items, max);
            }
        }
        Schema::OneOf(o) => {
            for item in o.items.iter_mut() {
                // A variant of an enum is one key and nothing else, as serde reads it.
                if let RefOr::T(Schema::Object(v)) = item {
                    if !v.properties.is_empty() && v.additional_properties.is_none() {
                        v.additional_properties = Some(Box::new(
                            utoipa::openapi::schema::AdditionalProperties::FreeForm(false),
                        ));
                    }
                }
                constrain(item, max);
            }
        }
        Schema::AllOf(o) => o.items.iter_mut().for_each(|s| constrain(s, max)),
        Schema::AnyOf(o) => o.items.iter_mut().for_each(|s| constrain(s, max)),
        _ => {}
    }
}

/// A whole number as JSON Schema means it: `12` and `12.0` alike (a generated or
/// hand-written client may send either), anything with a fraction refused.
pub fn whole<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: TryFrom<i64>,
{
    use serde::de::Error;
    let Some(n) = Option::<serde_json::Number>::deserialize(d)? else {
        return Ok(None);
    };
    let i = n
        .as_i64()
        .or_else(|| {
            // Only whole values small enough to be exact pass through the float.
            n.as_f64()
                .filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15)
                .map(|f| f as i64)
        })
        .ok_or_else(|| D::Error::custom(format!("{n} is not a whole number")))?;
    T::try_from(i)
        .map(Some)
        .map_err(|_| D::Error::custom(format!("{i} is out of range")))
}

/// How a product is priced, as the document states it (the engine's `PriceRule`, whose
/// own type knows nothing of OpenAPI): `{"basis": {"markup": "20"}}` or
/// `{"basis": {"fixed": "99.00"}}`, with optional `levels`, `discounts` and `periods`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)] // read by the document only; requests are parsed as `PriceRule`
pub struct PriceRuleDoc {
    basis: BasisDoc,
    /// Price level name → its own basis.
    #[schema(required = false)]
    levels: std::collections::BTreeMap<String, BasisDoc>,
    /// Months (`"12"`) → percent off for that term and longer ones (`"10"`).
    #[schema(required = false)]
    discounts: std::collections::BTreeMap<String, Percent>,
    /// The terms offered, in months; empty: whatever the upstream sells.
    #[schema(required = false)]
    periods: Vec<u32>,
}

/// What a price starts from: the upstream's cost plus a percentage, or a fixed price a month.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[allow(dead_code)] // read by the document only
pub enum BasisDoc {
    Markup(Percent),
    Fixed(Yuan),
}

/// A percentage as text, e.g. `"20"` or `"12.5"`.
#[derive(Deserialize, ToSchema)]
#[schema(value_type = String, pattern = r"^[0-9]{1,4}(\.[0-9]{1,4})?$")]
#[allow(dead_code)] // read by the document only
pub struct Percent(String);

/// Yuan as text, e.g. `"99.00"`.
#[derive(Deserialize, ToSchema)]
#[schema(value_type = String, pattern = r"^[0-9]{1,9}(\.[0-9]{1,2})?$")]
#[allow(dead_code)] // read by the document only
pub struct Yuan(String);
