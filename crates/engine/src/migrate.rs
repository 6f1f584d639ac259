//! Moving a zone to another account (`idcgate dns migrate`): every record copied to a
//! zone of the same name at the target (added there first where the vendor can), read
//! back and compared, then, if asked, the domain's nameservers pointed at the target
//! through the registrar account that holds it.
//!
//! Resumable by construction: each run reads what the target already holds and writes
//! only what is missing or different, so a run killed half way is finished by running
//! it again, never duplicating a record. Every write goes through the engine's audited
//! DNS path (`dns_add_at`, `dns_set_at`, `dns_enable_at`), and the run itself is
//! announced by an audit intent and closed by its entry.

use crate::ops::{normalize_zone, same_content};
use crate::sync::inventory_row;
use crate::{now_ms, Engine, EngineError, Result};
use idcgate_core::{lines, DnsRecord, RecordInput, RecordType, ResourceKind};
use serde::{Deserialize, Serialize};

/// What to move where.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Migration {
    pub zone: String,
    /// The account the zone is moved from; found in the inventory when not given (the
    /// one account other than the target that lists the zone).
    pub from: Option<String>,
    pub to: String,
    /// Read both sides and say what would be done; write nothing.
    pub dry_run: bool,
    /// After the records are verified, point the domain's nameservers at the target.
    pub switch_ns: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepAction {
    /// Not at the target: added (or, in a dry run, would be).
    Create,
    /// At the target with another TTL or pause state: changed to the source's.
    Update,
    /// At the target as it is at the source: nothing to do.
    Present,
    /// Not copied: the apex NS records are each vendor's own nameservers.
    Skip,
}

/// One source record and what the migration does with it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MigrationStep {
    pub action: StepAction,
    /// The record as the target gets it (its line spelled as the target names it).
    pub record: RecordInput,
    pub enabled: bool,
    pub source_id: Option<String>,
    /// The target's id: the matching record's, or the new one's once written.
    pub target_id: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NsState {
    /// The registrar now names the target's nameservers.
    Switched,
    /// It named them already.
    AlreadySet,
    /// Dry run: it would be asked to.
    WouldSwitch,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NsSwitch {
    /// The registrar account holding the domain.
    pub registrar: String,
    pub nameservers: Vec<String>,
    /// What the registrar named before.
    pub previous: Vec<String>,
    pub state: NsState,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MigrationReport {
    pub zone: String,
    pub from: String,
    pub to: String,
    pub dry_run: bool,
    /// The zone was added at the target (in a dry run: would be).
    pub zone_created: bool,
    pub steps: Vec<MigrationStep>,
    pub created: u64,
    pub updated: u64,
    pub present: u64,
    pub skipped: u64,
    /// Records at the target that the source does not hold (left alone).
    pub target_only: u64,
    /// Every copied record was read back from the target as the source holds it.
    pub verified: bool,
    pub nameservers: Option<NsSwitch>,
}

impl MigrationReport {
    pub fn summary(&self) -> String {
        format!(
            "{} {} -> {}: {} created, {} updated, {} already there, {} skipped (apex NS){}{}",
            if self.dry_run { "would move" } else { "moved" },
            self.zone,
            self.to,
            self.created,
            self.updated,
            self.present,
            self.skipped,
            if self.verified { ", verified" } else { "" },
            match &self.nameservers {
                Some(ns) => format!(
                    "; nameservers at {} {}: {}",
                    ns.registrar,
                    match ns.state {
                        NsState::Switched => "switched to",
                        NsState::AlreadySet => "already",
                        NsState::WouldSwitch => "would be switched to",
                    },
                    ns.nameservers.join(", ")
                ),
                None => String::new(),
            }
        )
    }
}

/// Whether `r` is a zone's own nameserver record, which every vendor writes itself.
fn apex_ns(host: &str, rtype: RecordType) -> bool {
    rtype == RecordType::Ns && (host == "@" || host.is_empty())
}

/// The same record apart from TTL and pause state: what a copy that was made already
/// looks like at the target (MX priority counts, lines compared across spellings).
fn copied(r: &DnsRecord, input: &RecordInput) -> bool {
    same_content(r, input)
        && (r.rtype != RecordType::Mx || r.priority.unwrap_or(10) == input.priority.unwrap_or(10))
}

fn nameservers_of(records: &[DnsRecord]) -> Vec<String> {
    let mut ns: Vec<String> = records
        .iter()
        .filter(|r| apex_ns(&r.host, r.rtype))
        .map(|r| r.value.trim().trim_end_matches('.').to_ascii_lowercase())
        .collect();
    ns.sort();
    ns.dedup();
    ns
}

fn same_nameservers(a: &[String], b: &[String]) -> bool {
    let norm = |v: &[String]| {
        let mut v: Vec<String> = v
            .iter()
            .map(|n| n.trim().trim_end_matches('.').to_ascii_lowercase())
            .collect();
        v.sort();
        v
    };
    norm(a) == norm(b)
}

impl Engine {
    /// Moves a zone's records to another account; see the module's documentation.
    pub async fn dns_migrate(&self, actor: &str, m: &Migration) -> Result<MigrationReport> {
        let zone = normalize_zone(&m.zone)?;
        self.account(&m.to).await?;
        let from = self.migration_source(&zone, m).await?;
        let params = serde_json::json!({
            "zone": zone, "from": from, "to": m.to, "switch_ns": m.switch_ns,
        });
        let target = format!("{from}/{zone} -> {}", m.to);
        if m.dry_run {
            return self.migrate_now(actor, &zone, &from, m).await;
        }
        let migrate = self.migrate_now(actor, &zone, &from, m);
        self.audited(
            actor,
            "dns.migrate",
            &target,
            Some(&params),
            migrate,
            MigrationReport::summary,
        )
        .await
    }

    /// The account the zone moves from: the one named, or the one account other than
    /// the target whose inventory lists the zone.
    async fn migration_source(&self, zone: &str, m: &Migration) -> Result<String> {
        let from = match &m.from {
            Some(f) => {
                self.account(f).await?;
                f.clone()
            }
            None => {
                let mut holders: Vec<String> = self
                    .holders(ResourceKind::DnsZone, zone)
                    .await?
                    .into_iter()
                    .filter(|a| *a != m.to)
                    .collect();
                holders.sort();
                holders.dedup();
                match holders.as_slice() {
                    [one] => one.clone(),
                    [] => self.zone_account(zone).await?,
                    many => {
                        return Err(EngineError::Invalid(format!(
                            "zone {zone} is at {}: name the one to move from with --from",
                            many.join(", ")
                        )))
                    }
                }
            }
        };
        if from == m.to {
            return Err(idcgate_core::Error::invalid(
                "to",
                format!("zone {zone} is at {from} already; name another account to move it to (or the source with --from)"),
            )
            .into());
        }
        Ok(from)
    }

    async fn migrate_now(
        &self,
        actor: &str,
        zone: &str,
        from: &str,
        m: &Migration,
    ) -> Result<MigrationReport> {
        let source_conn = self.connection(from).await?;
        let target_conn = self.connection(&m.to).await?;
        let source = crate::ops::dns_of_conn(source_conn.as_ref())?;
        let dest = crate::ops::dns_of_conn(target_conn.as_ref())?;
        let records = source.list_records(zone).await?;

        let mut report = MigrationReport {
            zone: zone.to_string(),
            from: from.to_string(),
            to: m.to.clone(),
            dry_run: m.dry_run,
            zone_created: false,
            steps: Vec::new(),
            created: 0,
            updated: 0,
            present: 0,
            skipped: 0,
            target_only: 0,
            verified: false,
            nameservers: None,
        };
        let exists = self.target_holds_zone(dest, zone).await?;
        if !exists {
            report.zone_created = true;
            if !m.dry_run {
                self.dns_create_zone_at(actor, &m.to, zone).await?;
            }
        }
        // A zone still to be added has nothing yet, and (in a dry run) no lines to ask
        // for: every vendor's zone has the default line, others are checked on the run.
        let (held, offered) = if exists || !m.dry_run {
            (
                dest.list_records(zone).await?,
                Some(dest.lines(zone).await?),
            )
        } else {
            (Vec::new(), None)
        };
        report.steps = plan(&records, &held, offered.as_deref(), zone, &m.to)?;
        let claimed: Vec<&str> = report
            .steps
            .iter()
            .filter_map(|s| s.target_id.as_deref())
            .collect();
        report.target_only = held
            .iter()
            .filter(|r| {
                !apex_ns(&r.host, r.rtype)
                    && !r
                        .upstream_id
                        .as_deref()
                        .is_some_and(|id| claimed.contains(&id))
            })
            .count() as u64;
        for s in &report.steps {
            match s.action {
                StepAction::Create => report.created += 1,
                StepAction::Update => report.updated += 1,
                StepAction::Present => report.present += 1,
                StepAction::Skip => report.skipped += 1,
            }
        }
        if m.dry_run {
            if m.switch_ns {
                report.nameservers = Some(self.ns_plan(zone, &m.to, &held, true).await?);
            }
            return Ok(report);
        }

        for step in &mut report.steps {
            match self.carry_out(actor, &m.to, zone, step, &held).await {
                // The target refused this record (a TTL below its grade's minimum, a
                // type it lacks): say which, or the rerun the error invites fails alike.
                Err(EngineError::Upstream(idcgate_core::Error::InvalidInput { field, reason })) => {
                    let r = &step.record;
                    return Err(idcgate_core::Error::invalid(
                        field,
                        format!(
                            "{reason} (record {} {} {} ttl {}, refused by {}; change or remove it at {from} to go on)",
                            r.host, r.rtype, r.value, r.ttl, m.to
                        ),
                    )
                    .into());
                }
                other => other?,
            }
        }

        let now_held = dest.list_records(zone).await?;
        let missing: Vec<String> = report
            .steps
            .iter()
            .filter(|s| s.action != StepAction::Skip)
            .filter(|s| {
                !now_held.iter().any(|r| {
                    copied(r, &s.record) && r.ttl == s.record.ttl && r.enabled == s.enabled
                })
            })
            .map(|s| format!("{} {} {}", s.record.host, s.record.rtype, s.record.value))
            .collect();
        if !missing.is_empty() {
            return Err(EngineError::Invalid(format!(
                "{zone} at {}: {} record(s) not read back as copied: {}; run the migration again to retry them",
                m.to,
                missing.len(),
                missing.join("; ")
            )));
        }
        report.verified = true;

        if m.switch_ns {
            let mut ns = self.ns_plan(zone, &m.to, &now_held, false).await?;
            if ns.state == NsState::WouldSwitch {
                self.domain_nameservers_at(actor, &ns.registrar, zone, &ns.nameservers)
                    .await?;
                ns.state = NsState::Switched;
            }
            report.nameservers = Some(ns);
        }
        Ok(report)
    }

    async fn carry_out(
        &self,
        actor: &str,
        to: &str,
        zone: &str,
        step: &mut MigrationStep,
        held: &[DnsRecord],
    ) -> Result<()> {
        match step.action {
            StepAction::Create => {
                // `held` was read before any step, and the steps before a create change
                // only TTLs and pauses: what a lost answer is settled against, read once.
                let r = self
                    .dns_add_after(actor, to, zone, &step.record, Some(held))
                    .await?;
                step.target_id = r.upstream_id.clone();
                if !step.enabled {
                    let id = r.upstream_id.ok_or_else(|| {
                        EngineError::Invalid(format!(
                            "{zone} at {to}: the new record {} {} has no id to pause it by",
                            step.record.host, step.record.rtype
                        ))
                    })?;
                    self.dns_enable_at(actor, to, zone, &id, false).await?;
                }
            }
            StepAction::Update => {
                let id = step.target_id.clone().unwrap_or_default();
                let current = held.iter().find(|r| r.upstream_id.as_deref() == Some(&id));
                if current.is_some_and(|c| c.ttl != step.record.ttl) {
                    let r = self.dns_set_at(actor, to, zone, &id, &step.record).await?;
                    step.target_id = r.upstream_id;
                }
                let id = step.target_id.clone().unwrap_or(id);
                if current.is_some_and(|c| c.enabled != step.enabled) {
                    self.dns_enable_at(actor, to, zone, &id, step.enabled)
                        .await?;
                }
            }
            StepAction::Present | StepAction::Skip => {}
        }
        Ok(())
    }

    /// Whether the target account holds the zone: in its zone listing, or, where it
    /// cannot list zones (CNDNS), by listing the zone's records.
    async fn target_holds_zone(
        &self,
        dest: &dyn idcgate_core::capability::Dns,
        zone: &str,
    ) -> Result<bool> {
        use idcgate_core::Error as E;
        match dest.list_zones().await {
            Ok(zones) => Ok(zones.iter().any(|z| z.name.eq_ignore_ascii_case(zone))),
            Err(E::Unsupported { .. }) => match dest.list_records(zone).await {
                Ok(_) => Ok(true),
                Err(E::NotFound { .. } | E::Upstream { .. } | E::InvalidInput { .. }) => Ok(false),
                Err(e) => Err(e.into()),
            },
            Err(e) => Err(e.into()),
        }
    }

    /// Adds a zone at a named account, audited; a lost answer is settled by listing the
    /// account's zones.
    pub async fn dns_create_zone_at(
        &self,
        actor: &str,
        account: &str,
        zone: &str,
    ) -> Result<idcgate_core::Zone> {
        let zone = &normalize_zone(zone)?;
        let conn = self.connection(account).await?;
        let dns = crate::ops::dns_of_conn(conn.as_ref())?;
        let target = format!("{account}/{zone}");
        let add = async {
            match dns.create_zone(zone).await {
                Err(idcgate_core::Error::Unsupported { .. }) => Err(EngineError::Invalid(format!(
                    "{account} cannot add zones through its API: add {zone} there first, then run this again"
                ))),
                Err(lost @ idcgate_core::Error::UnknownOutcome { .. }) => {
                    match dns.list_zones().await {
                        Ok(zones) => zones
                            .into_iter()
                            .find(|z| z.name == *zone)
                            .ok_or_else(|| lost.into()),
                        Err(_) => Err(lost.into()),
                    }
                }
                other => other.map_err(EngineError::from),
            }
        };
        let params = serde_json::json!({ "zone": zone });
        let result = self
            .audited(actor, "dns.zone.add", &target, Some(&params), add, |z| {
                serde_json::to_string(z).unwrap_or_default()
            })
            .await;
        if let Ok(z) = &result {
            self.keep(&[inventory_row(account, z, now_ms())]).await;
        }
        result
    }

    /// Which nameservers the target's zone names at its apex, and which registrar
    /// account holds the domain with what it names now.
    async fn ns_plan(
        &self,
        zone: &str,
        to: &str,
        held: &[DnsRecord],
        dry_run: bool,
    ) -> Result<NsSwitch> {
        let nameservers = nameservers_of(held);
        if nameservers.is_empty() && !dry_run {
            return Err(EngineError::Invalid(format!(
                "{zone} at {to} lists no NS records at its apex, so which nameservers to name is unknown; the records are copied, the nameservers are unchanged"
            )));
        }
        let Some((registrar, domain)) = self.registrar_of(zone).await? else {
            return Err(EngineError::Invalid(format!(
                "no registrar account here holds {zone}: the records are {}; point its nameservers at {} where the domain is registered",
                if dry_run { "not copied (dry run)" } else { "copied and verified" },
                if nameservers.is_empty() { "the target's" .to_string() } else { nameservers.join(", ") }
            )));
        };
        let state =
            if !nameservers.is_empty() && same_nameservers(&domain.nameservers, &nameservers) {
                NsState::AlreadySet
            } else {
                NsState::WouldSwitch
            };
        Ok(NsSwitch {
            registrar,
            nameservers,
            previous: domain.nameservers,
            state,
        })
    }

    /// The registrar account holding `domain`: the inventory's first, else each
    /// account with a registrar asked directly (CNDNS lists no domains).
    async fn registrar_of(&self, domain: &str) -> Result<Option<(String, idcgate_core::Domain)>> {
        let listed = self.holders(ResourceKind::Domain, domain).await?;
        let others: Vec<String> = self
            .store
            .list_accounts()
            .await?
            .into_iter()
            .map(|a| a.name)
            .filter(|a| !listed.contains(a))
            .collect();
        for account in listed.iter().chain(others.iter()) {
            let Ok(conn) = self.connection(account).await else {
                continue;
            };
            let Some(registrar) = conn.registrar() else {
                continue;
            };
            match registrar.get_domain(domain).await {
                Ok(d) => return Ok(Some((account.clone(), d))),
                Err(e) => {
                    tracing::debug!(account, domain, error = %e, "registrar does not hold the domain")
                }
            }
        }
        Ok(None)
    }

    /// Points a domain's nameservers at `nameservers` through a named registrar
    /// account, audited, and keeps what the registrar then says of the domain.
    pub async fn domain_nameservers_at(
        &self,
        actor: &str,
        account: &str,
        domain: &str,
        nameservers: &[String],
    ) -> Result<()> {
        let conn = self.connection(account).await?;
        let registrar = conn
            .registrar()
            .ok_or_else(|| idcgate_core::Error::Unsupported {
                vendor: conn.vendor().to_string(),
                capability: "registrar".into(),
            })?;
        let target = format!("{account}/{domain}");
        let set = async {
            registrar
                .set_nameservers(domain, nameservers)
                .await
                .map_err(EngineError::from)
        };
        let params = serde_json::json!({ "domain": domain, "nameservers": nameservers });
        self.audited(
            actor,
            "domain.nameservers",
            &target,
            Some(&params),
            set,
            |_| "accepted".into(),
        )
        .await?;
        match registrar.get_domain(domain).await {
            Ok(d) => self.keep(&[inventory_row(account, &d, now_ms())]).await,
            Err(e) => {
                tracing::warn!(account, domain, error = %e, "nameservers set; reading the domain after it failed")
            }
        }
        Ok(())
    }
}

/// What to do with each source record given what the target holds: a record already
/// copied (same content) is claimed once, so identical records are copied as many times
/// as the source holds them. Every line the target lacks is named at once, before
/// anything is written.
fn plan(
    records: &[DnsRecord],
    held: &[DnsRecord],
    offered: Option<&[String]>,
    zone: &str,
    to: &str,
) -> Result<Vec<MigrationStep>> {
    let mut steps = Vec::with_capacity(records.len());
    let mut missing_lines = Vec::new();
    let mut claimed = vec![false; held.len()];
    for r in records {
        let line = match offered {
            Some(offered) => match lines::map_to(r.line.as_deref(), offered) {
                Ok(l) => l,
                Err(_) => {
                    missing_lines.push(format!(
                        "{} {} {} (line {})",
                        r.host,
                        r.rtype,
                        r.value,
                        r.line.as_deref().unwrap_or("default")
                    ));
                    continue;
                }
            },
            None => r
                .line
                .clone()
                .filter(|_| !lines::is_default(r.line.as_deref())),
        };
        let record = RecordInput {
            host: r.host.clone(),
            rtype: r.rtype,
            value: r.value.clone(),
            ttl: r.ttl,
            line,
            priority: r.priority,
        };
        if apex_ns(&r.host, r.rtype) {
            steps.push(MigrationStep {
                action: StepAction::Skip,
                record,
                enabled: r.enabled,
                source_id: r.upstream_id.clone(),
                target_id: None,
            });
            continue;
        }
        let found = held
            .iter()
            .enumerate()
            .find(|(i, h)| !claimed[*i] && copied(h, &record));
        let (action, target_id) = match found {
            Some((i, h)) => {
                claimed[i] = true;
                let action = if h.ttl == record.ttl && h.enabled == r.enabled {
                    StepAction::Present
                } else {
                    StepAction::Update
                };
                (action, h.upstream_id.clone())
            }
            None => (StepAction::Create, None),
        };
        steps.push(MigrationStep {
            action,
            record,
            enabled: r.enabled,
            source_id: r.upstream_id.clone(),
            target_id,
        });
    }
    if !missing_lines.is_empty() {
        return Err(idcgate_core::Error::invalid(
            "line",
            format!(
                "{zone} at {to} has no line for {} record(s): {} (lines offered: {}); no record was copied",
                missing_lines.len(),
                missing_lines.join("; "),
                offered.unwrap_or_default().join(", ")
            ),
        )
        .into());
    }
    Ok(steps)
}
