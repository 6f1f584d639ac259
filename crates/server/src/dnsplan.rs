//! REST for zones as code: a zone exported (octoDNS YAML, BIND or JSON), the plan of
//! zones against their upstreams, and carrying it out through the engine's audited DNS
//! operations. Zones travel in request bodies as JSON (the shape `?format=json` exports),
//! since a JSON body's texts are single lines.

use crate::api::ErrorBody;
use crate::auth::{Access, Operate, Read};
use crate::dto::{ApiBody, ApiQuery, RecordTypeName, ZonePath};
use crate::error::ApiError;
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use idcgate_core::RecordType;
use idcgate_engine::dnsplan::{plans_json, Safety};
use idcgate_engine::zonefile::{self, Entry, ZoneFile, DEFAULT_TTL};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use utoipa::{IntoParams, ToSchema};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/zones/{zone}/export", get(export))
        .route("/dns/plan", post(plan))
        .route("/dns/apply", post(apply))
}

#[derive(Deserialize, Serialize, ToSchema, Clone, Copy, Default)]
#[serde(rename_all = "lowercase")]
pub enum ExportFormat {
    /// octoDNS's YAML layout (`idcgate dns plan` reads it).
    #[default]
    Yaml,
    /// A BIND zone file.
    Bind,
    /// The zone as the `zones` of a plan or apply body take it.
    Json,
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ExportQuery {
    /// yaml (default), bind or json.
    #[param(inline)]
    pub format: Option<ExportFormat>,
}

/// One value of a record.
#[derive(Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ZoneValue {
    /// The value as `dns add` takes it (SRV: `weight port target`; CAA: `flags tag value`).
    #[schema(min_length = 1)]
    pub value: String,
    /// MX's preference, SRV's priority.
    #[serde(default, deserialize_with = "crate::dto::whole")]
    #[schema(minimum = 0, maximum = 65535)]
    pub priority: Option<u16>,
}

/// The values of a name and type that share line, state and TTL.
#[derive(Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ZoneRecord {
    /// Relative to the zone; `""` (or `@`) is the apex.
    #[schema(max_length = 253)]
    pub name: String,
    #[serde(rename = "type")]
    #[schema(rename = "type", value_type = RecordTypeName)]
    pub rtype: RecordType,
    /// Seconds; 3600 when left out.
    #[serde(default, deserialize_with = "crate::dto::whole")]
    #[schema(minimum = 1, maximum = 2147483647)]
    pub ttl: Option<u32>,
    /// The resolution line (`telecom`, `电信`, ...); the default line when left out.
    pub line: Option<String>,
    /// `false` for a paused record; `true` when left out.
    pub enabled: Option<bool>,
    #[schema(min_items = 1)]
    pub values: Vec<ZoneValue>,
}

/// A zone as it should be.
#[derive(Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ZoneBody {
    #[schema(pattern = r"^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)+\.?$", max_length = 253)]
    pub zone: String,
    pub records: Vec<ZoneRecord>,
}

/// Zones to plan or apply, and the shares beyond which an apply needs `force`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ZonesBody {
    #[schema(min_items = 1, max_items = 1000)]
    pub zones: Vec<ZoneBody>,
    /// Apply: carry out a plan beyond the percentages (a plan says `needs_force`).
    pub force: Option<bool>,
    /// Most records of a zone a plan may update without `force`, in percent (30).
    #[serde(default, deserialize_with = "crate::dto::whole")]
    #[schema(minimum = 0, maximum = 100)]
    pub max_update_percent: Option<u32>,
    /// Most records of a zone a plan may delete without `force`, in percent (30).
    #[serde(default, deserialize_with = "crate::dto::whole")]
    #[schema(minimum = 0, maximum = 100)]
    pub max_delete_percent: Option<u32>,
    /// Zones holding fewer records are not held to the percentages (10).
    #[serde(default, deserialize_with = "crate::dto::whole")]
    #[schema(minimum = 0, maximum = 1000000)]
    pub min_existing: Option<usize>,
}

/// The zones of a body as files, its safety shares and whether it forces.
fn zones_of(body: ZonesBody) -> Result<(Vec<ZoneFile>, Safety, bool), ApiError> {
    let d = Safety::default();
    for (field, v) in [
        ("max_update_percent", body.max_update_percent),
        ("max_delete_percent", body.max_delete_percent),
    ] {
        if v.is_some_and(|v| v > 100) {
            return Err(ApiError::invalid(field, "a percentage from 0 to 100"));
        }
    }
    // What the document states and serde does not hold by itself.
    if body.zones.is_empty() || body.zones.len() > 1000 {
        return Err(ApiError::invalid("zones", "from 1 to 1000 zones"));
    }
    if body.min_existing.is_some_and(|m| m > 1_000_000) {
        return Err(ApiError::invalid("min_existing", "at most 1000000"));
    }
    for (i, z) in body.zones.iter().enumerate() {
        for (j, r) in z.records.iter().enumerate() {
            let at = format!("zones.{i}.records.{j}");
            if r.name.chars().count() > 253 {
                return Err(ApiError::invalid(
                    &format!("{at}.name"),
                    "at most 253 characters",
                ));
            }
            if r.ttl.is_some_and(|t| t < 1 || t > i32::MAX as u32) {
                return Err(ApiError::invalid(
                    &format!("{at}.ttl"),
                    "from 1 to 2147483647 seconds",
                ));
            }
            if r.values.is_empty() {
                return Err(ApiError::invalid(
                    &format!("{at}.values"),
                    "at least one value",
                ));
            }
            if let Some(k) = r.values.iter().position(|v| v.value.is_empty()) {
                return Err(ApiError::invalid(
                    &format!("{at}.values.{k}.value"),
                    "a value is not empty",
                ));
            }
        }
    }
    let safety = Safety {
        max_update_percent: body.max_update_percent.unwrap_or(d.max_update_percent),
        max_delete_percent: body.max_delete_percent.unwrap_or(d.max_delete_percent),
        min_existing: body.min_existing.unwrap_or(d.min_existing),
    };
    let files = body
        .zones
        .into_iter()
        .enumerate()
        .map(|(i, z)| z.file(i))
        .collect::<Result<_, _>>()?;
    Ok((files, safety, body.force.unwrap_or(false)))
}

impl ZoneBody {
    fn of(file: &ZoneFile) -> ZoneBody {
        ZoneBody {
            zone: file.zone.clone(),
            records: file
                .entries
                .iter()
                .map(|e| ZoneRecord {
                    name: e.name.clone(),
                    rtype: e.rtype,
                    ttl: Some(e.ttl),
                    line: e.line.clone(),
                    enabled: Some(e.enabled),
                    values: e
                        .values
                        .iter()
                        .map(|v| ZoneValue {
                            value: v.value.clone(),
                            priority: v.priority,
                        })
                        .collect(),
                })
                .collect(),
        }
    }

    /// The body as a file; `i` is its place in `zones`, to name a record outside the zone.
    fn file(self, i: usize) -> Result<ZoneFile, ApiError> {
        let zone = self.zone;
        let entries = self
            .records
            .into_iter()
            .enumerate()
            .map(|(j, r)| {
                let name = zonefile::name_in_zone(&r.name, &zone).map_err(|why| {
                    ApiError::invalid(&format!("zones.{i}.records.{j}.name"), why).semantic()
                })?;
                Ok(Entry {
                    name,
                    rtype: r.rtype,
                    ttl: r.ttl.unwrap_or(DEFAULT_TTL),
                    line: zonefile::canonical_line(r.line.as_deref()),
                    enabled: r.enabled.unwrap_or(true),
                    values: r
                        .values
                        .into_iter()
                        .map(|v| zonefile::Value {
                            value: v.value,
                            priority: v.priority,
                        })
                        .collect(),
                })
            })
            .collect::<Result<_, ApiError>>()?;
        Ok(ZoneFile { zone, entries })
    }
}

/// A zone as a file, its records read live from the upstream.
#[utoipa::path(get, path = "/api/v1/zones/{zone}/export", params(ZonePath, ExportQuery),
    responses((status = 200, description = "the zone: octoDNS YAML or BIND as text, or JSON",
            content((String = "text/plain"), (ZoneBody = "application/json"))),
        (status = 400, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 502, body = ErrorBody), (status = 504, body = ErrorBody)))]
pub async fn export(
    _a: Access<Read>,
    State(state): State<AppState>,
    Path(zone): Path<String>,
    ApiQuery(q): ApiQuery<ExportQuery>,
) -> Result<Response, ApiError> {
    let file = state.engine.dns_export(&zone).await?;
    let text = |t: String| ([(CONTENT_TYPE, "text/plain; charset=utf-8")], t).into_response();
    Ok(match q.format.unwrap_or_default() {
        ExportFormat::Yaml => text(file.to_yaml()),
        ExportFormat::Bind => text(file.to_bind()),
        ExportFormat::Json => Json(ZoneBody::of(&file)).into_response(),
    })
}

/// What each zone needs to hold what its body says, against its upstream read now:
/// creates, updates and deletes, what is left alone (NS at the apex) and whether an
/// apply would need `force`. Changes nothing.
#[utoipa::path(post, path = "/api/v1/dns/plan", request_body = ZonesBody,
    responses((status = 200, description = "one plan per zone"),
        (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody),
        (status = 502, body = ErrorBody), (status = 504, body = ErrorBody)))]
pub async fn plan(
    _a: Access<Read>,
    State(state): State<AppState>,
    ApiBody(body): ApiBody<ZonesBody>,
) -> Result<Json<Value>, ApiError> {
    let (files, safety, _) = zones_of(body)?;
    let plans = state
        .engine
        .dns_plan(&files)
        .await
        .map_err(ApiError::refused)?;
    Ok(Json(plans_json(&plans, &safety)))
}

/// Plans the zones afresh and carries the plans out through the same audited operations
/// as the record endpoints. A plan beyond the percentages is refused whole (409) unless
/// `force`. The first change that fails stops the run: `failed` names it (null when
/// every change was made) and `zones` says what was done before it.
#[utoipa::path(post, path = "/api/v1/dns/apply", request_body = ZonesBody,
    responses((status = 200, description = "the plans and what was done (`failed` null when all was)"),
        (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody),
        (status = 502, body = ErrorBody), (status = 504, body = ErrorBody)))]
pub async fn apply(
    a: Access<Operate>,
    State(state): State<AppState>,
    ApiBody(body): ApiBody<ZonesBody>,
) -> Result<Json<Value>, ApiError> {
    let (files, safety, force) = zones_of(body)?;
    let (plans, report) = state
        .engine
        .dns_apply(&a.actor(), &files, &safety, force)
        .await
        .map_err(ApiError::refused)?;
    Ok(Json(json!({
        "plans": plans_json(&plans, &safety),
        "zones": report.zones,
        "failed": report.failed,
    })))
}
