//! REST twin of `idcgate dns migrate`: `POST /api/v1/zones/{zone}/migrate` moves a zone
//! to another account (`idcgate_engine::migrate`), or with `dry_run` says what it would
//! do. Needs the operate scope; every write is audited under the token's name.

use crate::api::ErrorBody;
use crate::auth::{Access, Operate};
use crate::dto::{ApiBody, RecordTypeName, ZonePath};
use crate::error::ApiError;
use crate::AppState;
use axum::extract::{Path, State};
use axum::routing::post;
use axum::{Json, Router};
use idcgate_engine::migrate::{Migration, MigrationReport, NsState, StepAction};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub fn routes() -> Router<AppState> {
    Router::new().route("/zones/{zone}/migrate", post(migrate))
}

/// Where to move the zone.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MigrateBody {
    /// The account to move the zone to.
    pub to: String,
    /// The account to move it from, when more than one other account holds the zone.
    pub from: Option<String>,
    /// Read both sides and answer what would be done; write nothing.
    #[serde(default)]
    pub dry_run: bool,
    /// Once the records are verified at the target, point the domain's nameservers at
    /// the target's, through the registrar account holding the domain.
    #[serde(default)]
    pub switch_ns: bool,
}

/// What a migration does with a source record.
#[derive(Serialize, ToSchema, Clone, Copy)]
#[serde(rename_all = "snake_case")]
pub enum StepActionName {
    Create,
    Update,
    Present,
    Skip,
}

/// What became of the domain's nameservers.
#[derive(Serialize, ToSchema, Clone, Copy)]
#[serde(rename_all = "snake_case")]
pub enum NsStateName {
    Switched,
    AlreadySet,
    WouldSwitch,
}

/// One source record: `create` (not at the target), `update` (TTL or pause state
/// differ), `present` (there as it is), `skip` (the apex NS records, each vendor's own).
#[derive(Serialize, ToSchema)]
pub struct MigrationStepAnswer {
    pub action: StepActionName,
    pub host: String,
    #[serde(rename = "type")]
    #[schema(rename = "type")]
    pub rtype: RecordTypeName,
    pub value: String,
    pub ttl: u32,
    /// The line as the target names it; absent for the default line.
    pub line: Option<String>,
    pub priority: Option<u16>,
    pub enabled: bool,
    pub source_id: Option<String>,
    pub target_id: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct NsSwitchAnswer {
    /// The registrar account holding the domain.
    pub registrar: String,
    pub nameservers: Vec<String>,
    pub previous: Vec<String>,
    pub state: NsStateName,
}

#[derive(Serialize, ToSchema)]
pub struct MigrationAnswer {
    pub zone: String,
    pub from: String,
    pub to: String,
    pub dry_run: bool,
    /// The zone was added at the target (with `dry_run`: would be).
    pub zone_created: bool,
    pub steps: Vec<MigrationStepAnswer>,
    pub created: u64,
    pub updated: u64,
    pub present: u64,
    pub skipped: u64,
    /// Records at the target the source does not hold, left alone.
    pub target_only: u64,
    /// Every copied record was read back from the target as the source holds it.
    pub verified: bool,
    pub nameservers: Option<NsSwitchAnswer>,
}

fn type_name(t: idcgate_core::RecordType) -> RecordTypeName {
    use idcgate_core::RecordType as T;
    match t {
        T::A => RecordTypeName::A,
        T::Aaaa => RecordTypeName::Aaaa,
        T::Cname => RecordTypeName::Cname,
        T::Mx => RecordTypeName::Mx,
        T::Txt => RecordTypeName::Txt,
        T::Ns => RecordTypeName::Ns,
        T::Srv => RecordTypeName::Srv,
        T::Caa => RecordTypeName::Caa,
    }
}

impl From<MigrationReport> for MigrationAnswer {
    fn from(r: MigrationReport) -> Self {
        MigrationAnswer {
            zone: r.zone,
            from: r.from,
            to: r.to,
            dry_run: r.dry_run,
            zone_created: r.zone_created,
            steps: r
                .steps
                .into_iter()
                .map(|s| MigrationStepAnswer {
                    action: match s.action {
                        StepAction::Create => StepActionName::Create,
                        StepAction::Update => StepActionName::Update,
                        StepAction::Present => StepActionName::Present,
                        StepAction::Skip => StepActionName::Skip,
                    },
                    host: s.record.host,
                    rtype: type_name(s.record.rtype),
                    value: s.record.value,
                    ttl: s.record.ttl,
                    line: s.record.line,
                    priority: s.record.priority,
                    enabled: s.enabled,
                    source_id: s.source_id,
                    target_id: s.target_id,
                })
                .collect(),
            created: r.created,
            updated: r.updated,
            present: r.present,
            skipped: r.skipped,
            target_only: r.target_only,
            verified: r.verified,
            nameservers: r.nameservers.map(|n| NsSwitchAnswer {
                registrar: n.registrar,
                nameservers: n.nameservers,
                previous: n.previous,
                state: match n.state {
                    NsState::Switched => NsStateName::Switched,
                    NsState::AlreadySet => NsStateName::AlreadySet,
                    NsState::WouldSwitch => NsStateName::WouldSwitch,
                },
            }),
        }
    }
}

/// Move a zone to another account: every record copied there (the zone added first
/// where the vendor can), read back and compared, then with `switch_ns` the nameservers
/// pointed at it. Asking again continues a move that stopped, without duplicating.
/// 422: the move cannot be done as asked (a line the target lacks, the zone already
/// at the target, no registrar holding the domain).
#[utoipa::path(post, path = "/api/v1/zones/{zone}/migrate", params(ZonePath), request_body = MigrateBody,
    responses((status = 200, body = MigrationAnswer), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody),
        (status = 502, body = ErrorBody), (status = 504, body = ErrorBody)))]
pub async fn migrate(
    a: Access<Operate>,
    State(state): State<AppState>,
    Path(zone): Path<String>,
    ApiBody(body): ApiBody<MigrateBody>,
) -> Result<Json<MigrationAnswer>, ApiError> {
    let m = Migration {
        zone,
        from: body.from,
        to: body.to,
        dry_run: body.dry_run,
        switch_ns: body.switch_ns,
    };
    // The body was read as documented: what the engine refuses now is its content.
    let report = state
        .engine
        .dns_migrate(&a.actor(), &m)
        .await
        .map_err(ApiError::refused)?;
    Ok(Json(report.into()))
}
