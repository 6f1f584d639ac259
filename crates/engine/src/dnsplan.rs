//! Zones as code: what it takes to make a zone upstream hold what its file says (the
//! plan, pure), and carrying a plan out through the engine's own DNS operations
//! (`dns_add`, `dns_set`, `dns_remove`, `dns_enable`: audited, lost answers reconciled).
//!
//! Safety, as octoDNS has it: a plan updating or deleting more than a share of a zone's
//! records (30% of at least 10 by default) is refused without `force`; NS records at the
//! apex are never touched (they are the vendor's, and deleting them takes the zone off
//! the internet); an update that changes nothing is never sent (DNSPod counts them as
//! abuse). Lines are matched by their vendor-neutral name
//! ([`crate::zonefile::canonical_line`]) against what the zone's vendor offers, and a
//! line it lacks is refused before anything is sent.

use crate::zonefile::{self, has_priority, host_of_name, name_of_host, ZoneFile};
use crate::{Engine, EngineError, Result};
use idcgate_core::{DnsRecord, RecordInput, RecordType};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// When a plan is too big to carry out without `force`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Safety {
    /// Most records of a zone a plan may update, in percent of those it holds.
    pub max_update_percent: u32,
    /// Most records of a zone a plan may delete, in percent of those it holds.
    pub max_delete_percent: u32,
    /// Zones holding fewer records than this are not held to the shares.
    pub min_existing: usize,
}

impl Default for Safety {
    /// octoDNS's: 30% of updates, 30% of deletes, zones of 10 records or more.
    fn default() -> Self {
        Safety {
            max_update_percent: 30,
            max_delete_percent: 30,
            min_existing: 10,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChangeOp {
    Create,
    Update,
    Delete,
}

/// A record's content as a plan shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordState {
    pub value: String,
    pub priority: Option<u16>,
    pub ttl: u32,
    pub enabled: bool,
}

/// One change to one record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change {
    pub op: ChangeOp,
    /// Relative to the zone; `""` is the apex.
    pub name: String,
    #[serde(rename = "type")]
    pub rtype: RecordType,
    /// The vendor-neutral line; `None` is the default line.
    pub line: Option<String>,
    /// The upstream's id of the record changed or deleted.
    pub id: Option<String>,
    pub before: Option<RecordState>,
    pub after: Option<RecordState>,
}

/// What one zone needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ZonePlan {
    pub zone: String,
    pub account: String,
    /// Records the zone holds now.
    pub existing: usize,
    pub changes: Vec<Change>,
    /// What the plan leaves alone and why (NS at the apex).
    pub skipped: Vec<String>,
}

impl ZonePlan {
    pub fn count(&self, op: ChangeOp) -> usize {
        self.changes.iter().filter(|c| c.op == op).count()
    }

    /// Why carrying this plan out needs `force`, if it does.
    pub fn unsafe_reason(&self, safety: &Safety) -> Option<String> {
        if self.existing < safety.min_existing {
            return None;
        }
        let over = |n: usize, pct: u32| n * 100 > self.existing * pct as usize;
        let (u, d) = (self.count(ChangeOp::Update), self.count(ChangeOp::Delete));
        if over(u, safety.max_update_percent) {
            return Some(format!(
                "{}: {u} of {} records would be updated, more than {}% (use --force)",
                self.zone, self.existing, safety.max_update_percent
            ));
        }
        if over(d, safety.max_delete_percent) {
            return Some(format!(
                "{}: {d} of {} records would be deleted, more than {}% (use --force)",
                self.zone, self.existing, safety.max_delete_percent
            ));
        }
        None
    }
}

/// Plans as the CLI's `--json` and REST answer them: each with `needs_force`, the
/// reason an apply would be refused under `safety` (null when it would not).
pub fn plans_json(plans: &[ZonePlan], safety: &Safety) -> serde_json::Value {
    serde_json::Value::Array(
        plans
            .iter()
            .map(|p| {
                let mut v = serde_json::json!(p);
                v["needs_force"] = serde_json::json!(p.unsafe_reason(safety));
                v
            })
            .collect(),
    )
}

/// How a plan was carried out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApplyReport {
    pub zones: Vec<ZoneApplied>,
    /// The change that failed (nothing after it was sent), and why.
    pub failed: Option<FailedChange>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ZoneApplied {
    pub zone: String,
    pub account: String,
    pub created: usize,
    pub updated: usize,
    pub deleted: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailedChange {
    pub zone: String,
    pub change: Change,
    pub error: String,
    /// The upstream's answer was lost: the change may or may not have happened (a
    /// `plan` reads the zone again and shows which).
    pub unknown_outcome: bool,
}

/// One record as the plan compares it.
#[derive(Debug, Clone)]
struct Want {
    name: String,
    rtype: RecordType,
    line: Option<String>,
    state: RecordState,
}

/// The form two values are equal in: what upstreams normalise away (case and the
/// trailing dot of names, the spelling of IPv6 addresses, CAA's quotes) does not count
/// as a difference, so such an "update" is never sent.
fn value_key(t: RecordType, value: &str, priority: Option<u16>) -> (String, Option<u16>) {
    let name = |v: &str| v.trim().trim_end_matches('.').to_lowercase();
    let v = value.trim();
    let key = match t {
        RecordType::A => v
            .parse::<std::net::Ipv4Addr>()
            .map_or_else(|_| v.to_string(), |a| a.to_string()),
        RecordType::Aaaa => v
            .parse::<std::net::Ipv6Addr>()
            .map_or_else(|_| v.to_lowercase(), |a| a.to_string()),
        RecordType::Cname | RecordType::Ns | RecordType::Mx => name(v),
        RecordType::Srv => {
            let parts: Vec<&str> = v.split_whitespace().collect();
            match parts.as_slice() {
                // Some vendors keep SRV's priority inside the value.
                [p, w, port, t] => {
                    return (
                        format!("{w} {port} {}", name(t)),
                        p.parse().ok().or(priority),
                    );
                }
                [w, port, t] => format!("{w} {port} {}", name(t)),
                _ => v.to_string(),
            }
        }
        RecordType::Caa => v
            .split_whitespace()
            .map(|p| p.trim_matches('"'))
            .collect::<Vec<_>>()
            .join(" ")
            .to_lowercase(),
        RecordType::Txt => {
            // Some upstreams answer a TXT value in quotes.
            if v.len() >= 2 && v.starts_with('"') && v.ends_with('"') {
                v[1..v.len() - 1].to_string()
            } else {
                v.to_string()
            }
        }
    };
    (key, priority.filter(|_| has_priority(t)))
}

/// Why a record name cannot be sent: labels of letters, digits, `-` and `_` (or a `*`
/// alone), at most 63 bytes each and 253 in all. Upstreams refuse anything else, and a
/// refusal half way through an apply would leave the deletes sent before it made.
fn bad_name(name: &str) -> Option<String> {
    if name.is_empty() {
        return None;
    }
    if name.len() > 253 {
        return Some(format!("name is {} bytes long, at most 253", name.len()));
    }
    if !name.is_ascii() {
        return Some(
            "name is not ASCII: write internationalised names as punycode (xn--...)".into(),
        );
    }
    name.split('.').find_map(|label| {
        let ok = label == "*"
            || (!label.is_empty()
                && label.len() <= 63
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
        (!ok).then(|| format!("label {label:?} of the name is not 1 to 63 letters, digits, - or _"))
    })
}

/// Why a change cannot be sent as it is, found while planning so that nothing is sent:
/// apply sends deletes first, so a create refused by the upstream afterwards would leave
/// a renamed record deleted and its replacement missing. What the upstream holds already
/// (a value only re-sent with another TTL) is not judged.
fn unsendable(c: &Change) -> Option<String> {
    let after = c.after.as_ref()?;
    if after.ttl == 0 || after.ttl > i32::MAX as u32 {
        return Some(format!(
            "ttl {} is not from 1 to 2147483647 seconds",
            after.ttl
        ));
    }
    if c.op == ChangeOp::Create {
        if let Some(why) = bad_name(&c.name) {
            return Some(why);
        }
    }
    let value_sent = c.before.as_ref().is_none_or(|b| {
        value_key(c.rtype, &b.value, b.priority) != value_key(c.rtype, &after.value, after.priority)
    });
    if !value_sent {
        return None;
    }
    let v = after.value.trim();
    if let Some(ch) = after.value.chars().find(|ch| ch.is_control()) {
        return Some(format!("value holds control character U+{:04X}", ch as u32));
    }
    match c.rtype {
        RecordType::A if v.parse::<std::net::Ipv4Addr>().is_err() => {
            Some(format!("value {v:?} is not an IPv4 address"))
        }
        RecordType::Aaaa if v.parse::<std::net::Ipv6Addr>().is_err() => {
            Some(format!("value {v:?} is not an IPv6 address"))
        }
        _ => None,
    }
}

fn apex_ns(name: &str, t: RecordType) -> bool {
    name.is_empty() && t == RecordType::Ns
}

/// The plan for one zone: what `file` says against what the zone holds (`current`, read
/// from the upstream). `offered` is the vendor's lines when the file uses any line other
/// than the default; a line it does not offer is an error naming the line.
pub fn plan_zone(
    file: &ZoneFile,
    account: &str,
    vendor: &str,
    current: &[DnsRecord],
    offered: Option<&[String]>,
) -> Result<ZonePlan> {
    let mut wants: Vec<Want> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for e in &file.entries {
        if let (Some(line), Some(offered)) = (&e.line, offered) {
            if zonefile::offered_line(line, offered).is_none() {
                return Err(EngineError::Invalid(format!(
                    "{}: line {line:?} of {} {} is not offered by {vendor} (account {account}; it offers {})",
                    file.zone,
                    if e.name.is_empty() { "@" } else { &e.name },
                    e.rtype,
                    offered.join(", ")
                )));
            }
        }
        for v in &e.values {
            let w = Want {
                name: e.name.clone(),
                rtype: e.rtype,
                line: e.line.clone(),
                state: RecordState {
                    value: v.value.clone(),
                    priority: v.priority.filter(|_| has_priority(e.rtype)),
                    ttl: e.ttl,
                    enabled: e.enabled,
                },
            };
            let k = value_key(w.rtype, &w.state.value, w.state.priority);
            if !seen.insert((w.name.clone(), w.rtype.as_str(), w.line.clone(), k)) {
                return Err(EngineError::Invalid(format!(
                    "{}: {} {} {:?} is in the file twice",
                    file.zone,
                    host_of_name(&w.name),
                    w.rtype,
                    w.state.value
                )));
            }
            wants.push(w);
        }
    }
    // Grouped by name, type and line; within a group, values are matched.
    type Group = (String, &'static str, Option<String>);
    let mut groups: HashMap<Group, (Vec<Want>, Vec<&DnsRecord>)> = HashMap::new();
    let mut skipped = Vec::new();
    for w in wants {
        if apex_ns(&w.name, w.rtype) {
            continue;
        }
        let g = (w.name.clone(), w.rtype.as_str(), w.line.clone());
        groups.entry(g).or_default().0.push(w);
    }
    let mut apex_ns_held = 0;
    for r in current {
        let name = name_of_host(&r.host);
        if apex_ns(&name, r.rtype) {
            apex_ns_held += 1;
            continue;
        }
        let g = (
            name,
            r.rtype.as_str(),
            zonefile::canonical_line(r.line.as_deref()),
        );
        groups.entry(g).or_default().1.push(r);
    }
    let file_ns = file
        .entries
        .iter()
        .filter(|e| apex_ns(&e.name, e.rtype))
        .map(|e| e.values.len())
        .sum::<usize>();
    if file_ns > 0 || apex_ns_held > 0 {
        skipped.push(format!(
            "NS at the apex ({file_ns} in the file, {apex_ns_held} upstream): the vendor's, never changed"
        ));
    }
    let mut changes = Vec::new();
    let mut keys: Vec<&Group> = groups.keys().collect();
    keys.sort_by(|a, b| {
        zonefile::natural_cmp(&a.0, &b.0)
            .then(a.1.cmp(b.1))
            .then(a.2.cmp(&b.2))
    });
    let keys: Vec<Group> = keys.into_iter().cloned().collect();
    for g in keys {
        let Some((mut want, mut have)) = groups.remove(&g) else {
            continue;
        };
        let rtype = want
            .first()
            .map(|w| w.rtype)
            .or_else(|| have.first().map(|r| r.rtype))
            .unwrap_or(RecordType::A);
        let state_of = |r: &DnsRecord| RecordState {
            value: r.value.clone(),
            priority: r.priority.filter(|_| has_priority(r.rtype)),
            ttl: r.ttl,
            enabled: r.enabled,
        };
        let change = |op,
                      id: Option<&DnsRecord>,
                      before: Option<RecordState>,
                      after: Option<RecordState>| Change {
            op,
            name: g.0.clone(),
            rtype,
            line: g.2.clone(),
            id: id.and_then(|r| r.upstream_id.clone()),
            before,
            after,
        };
        // Same value: only the TTL or the state may need changing.
        let mut i = 0;
        while i < want.len() {
            let k = value_key(rtype, &want[i].state.value, want[i].state.priority);
            if let Some(j) = have
                .iter()
                .position(|r| value_key(rtype, &r.value, r.priority) == k)
            {
                let r = have.remove(j);
                let w = want.remove(i);
                if r.ttl != w.state.ttl || r.enabled != w.state.enabled {
                    // The value as the upstream spells it: nothing but TTL/state changes.
                    let after = RecordState {
                        value: r.value.clone(),
                        priority: r.priority.filter(|_| has_priority(rtype)),
                        ..w.state
                    };
                    changes.push(change(
                        ChangeOp::Update,
                        Some(r),
                        Some(state_of(r)),
                        Some(after),
                    ));
                }
            } else {
                i += 1;
            }
        }
        // Different values left on both sides: change records in place rather than
        // delete and create (fewer calls, and a line record keeps its default beside it).
        want.sort_by(|a, b| {
            (&a.state.value, a.state.priority).cmp(&(&b.state.value, b.state.priority))
        });
        have.sort_by(|a, b| (&a.value, a.priority).cmp(&(&b.value, b.priority)));
        let pairs = want.len().min(have.len());
        for (w, r) in want.drain(..pairs).zip(have.drain(..pairs)) {
            changes.push(change(
                ChangeOp::Update,
                Some(r),
                Some(state_of(r)),
                Some(w.state),
            ));
        }
        for w in want {
            changes.push(change(ChangeOp::Create, None, None, Some(w.state)));
        }
        for r in have {
            changes.push(change(ChangeOp::Delete, Some(r), Some(state_of(r)), None));
        }
    }
    if let Some(c) = changes
        .iter()
        .find(|c| c.op != ChangeOp::Create && c.id.is_none())
    {
        return Err(EngineError::Invalid(format!(
            "{}: {} {} cannot be changed: the upstream gives it no id",
            file.zone,
            host_of_name(&c.name),
            c.rtype
        )));
    }
    let bad: Vec<String> = changes
        .iter()
        .filter_map(|c| {
            unsendable(c).map(|why| format!("{} {}: {why}", host_of_name(&c.name), c.rtype))
        })
        .collect();
    if let Some(first) = bad.first() {
        let more = match bad.len() {
            1 => String::new(),
            n if n <= 10 => format!("; {}", bad[1..].join("; ")),
            n => format!("; {}; and {} more", bad[1..10].join("; "), n - 10),
        };
        return Err(EngineError::Invalid(format!(
            "{}: {} record(s) cannot be sent, so nothing is: {first}{more}",
            file.zone,
            bad.len()
        )));
    }
    Ok(ZonePlan {
        zone: file.zone.clone(),
        account: account.to_string(),
        existing: current.len(),
        changes,
        skipped,
    })
}

/// Where one plan's changes go.
struct Applying<'a> {
    account: &'a str,
    zone: &'a str,
    offered: Option<&'a [String]>,
    before_creates: Option<&'a [DnsRecord]>,
}

impl Engine {
    /// A zone as a file: its records read live from the upstream.
    pub async fn dns_export(&self, zone: &str) -> Result<ZoneFile> {
        let zone = crate::ops::normalize_zone(zone)?;
        let records = self.dns_list(&zone).await?;
        Ok(ZoneFile::from_records(&zone, &records))
    }

    /// The plan of each file against what its zone's upstream holds now (read live).
    pub async fn dns_plan(&self, files: &[ZoneFile]) -> Result<Vec<ZonePlan>> {
        let mut plans = Vec::with_capacity(files.len());
        let mut seen = std::collections::HashSet::new();
        for f in files {
            let zone = crate::ops::normalize_zone(&f.zone)?;
            if !seen.insert(zone.clone()) {
                return Err(EngineError::Invalid(format!("zone {zone} is given twice")));
            }
            let account = self.zone_account(&zone).await?;
            let vendor = self
                .store
                .get_account(&account)
                .await?
                .map_or_else(|| "its vendor".to_string(), |a| a.vendor.to_string());
            let current = self.dns_list(&zone).await?;
            let offered = if f.entries.iter().any(|e| e.line.is_some()) {
                Some(self.dns_lines(&zone).await?)
            } else {
                None
            };
            let file = ZoneFile {
                zone,
                entries: f.entries.clone(),
            };
            plans.push(plan_zone(
                &file,
                &account,
                &vendor,
                &current,
                offered.as_deref(),
            )?);
        }
        Ok(plans)
    }

    /// Plans the files afresh and carries the plans out, zone by zone: deletes, then
    /// updates, then creates (default-line records created before the lines' and
    /// deleted after them, which some vendors require). Every zone is checked against `safety` before anything is sent
    /// (unless `force`); the first change that fails stops the run and is reported with
    /// what was done before it.
    pub async fn dns_apply(
        &self,
        actor: &str,
        files: &[ZoneFile],
        safety: &Safety,
        force: bool,
    ) -> Result<(Vec<ZonePlan>, ApplyReport)> {
        let plans = self.dns_plan(files).await?;
        if !force {
            let refusals: Vec<String> = plans
                .iter()
                .filter_map(|p| p.unsafe_reason(safety))
                .collect();
            if !refusals.is_empty() {
                return Err(EngineError::Conflict(format!(
                    "nothing was changed: {}",
                    refusals.join("; ")
                )));
            }
        }
        let mut report = ApplyReport {
            zones: Vec::new(),
            failed: None,
        };
        for plan in &plans {
            let mut done = ZoneApplied {
                zone: plan.zone.clone(),
                account: plan.account.clone(),
                created: 0,
                updated: 0,
                deleted: 0,
            };
            let offered = if plan
                .changes
                .iter()
                .any(|c| c.line.is_some() && c.op != ChangeOp::Delete)
            {
                Some(self.dns_lines(&plan.zone).await?)
            } else {
                None
            };
            // A name's default-line record is made before and deleted after its other
            // lines' (West refuses to delete the last default-line record of a host that
            // still has line records, 20119).
            let mut order: Vec<&Change> = plan.changes.iter().collect();
            order.sort_by_key(|c| match c.op {
                ChangeOp::Delete => (0, c.line.is_none()),
                ChangeOp::Update => (1, c.line.is_some()),
                ChangeOp::Create => (2, c.line.is_some()),
            });
            // The zone as it stands once its deletes and updates are done: what a lost
            // create's answer is reconciled against, read once for all the creates.
            // Unreadable, each create reads it itself.
            let mut before_creates: Option<Option<Vec<DnsRecord>>> = None;
            for c in order {
                if c.op == ChangeOp::Create && before_creates.is_none() {
                    before_creates = Some(self.read_zone_at(&plan.account, &plan.zone).await);
                }
                let at = Applying {
                    account: &plan.account,
                    zone: &plan.zone,
                    offered: offered.as_deref(),
                    before_creates: before_creates.as_ref().and_then(|b| b.as_deref()),
                };
                match self.apply_change(actor, &at, c).await {
                    Ok(()) => match c.op {
                        ChangeOp::Create => done.created += 1,
                        ChangeOp::Update => done.updated += 1,
                        ChangeOp::Delete => done.deleted += 1,
                    },
                    Err(e) => {
                        report.failed = Some(FailedChange {
                            zone: plan.zone.clone(),
                            change: c.clone(),
                            unknown_outcome: matches!(
                                e,
                                EngineError::Upstream(idcgate_core::Error::UnknownOutcome { .. })
                            ),
                            error: e.to_string(),
                        });
                        report.zones.push(done);
                        return Ok((plans, report));
                    }
                }
            }
            report.zones.push(done);
        }
        Ok((plans, report))
    }

    /// The zone's records at `account` now; `None` when they cannot be read.
    async fn read_zone_at(&self, account: &str, zone: &str) -> Option<Vec<DnsRecord>> {
        let conn = self.connection(account).await.ok()?;
        conn.dns()?.list_records(zone).await.ok()
    }

    async fn apply_change(&self, actor: &str, at: &Applying<'_>, c: &Change) -> Result<()> {
        let (zone, offered) = (at.zone, at.offered);
        let line = match (&c.line, offered) {
            (None, _) => None,
            (Some(l), Some(offered)) => Some(
                zonefile::offered_line(l, offered)
                    .ok_or_else(|| {
                        EngineError::Invalid(format!("{zone}: line {l:?} is not offered"))
                    })?
                    .to_string(),
            ),
            (Some(l), None) => Some(l.clone()),
        };
        let input = |s: &RecordState| RecordInput {
            host: host_of_name(&c.name),
            rtype: c.rtype,
            value: s.value.clone(),
            ttl: s.ttl,
            line: line.clone(),
            priority: s.priority,
        };
        match (c.op, &c.id, &c.before, &c.after) {
            (ChangeOp::Create, _, _, Some(after)) => {
                let made = self
                    .dns_add_after(actor, at.account, zone, &input(after), at.before_creates)
                    .await?;
                if !after.enabled {
                    let id = made.upstream_id.ok_or_else(|| {
                        EngineError::Invalid(format!(
                            "{zone}: the new record has no id to pause it by"
                        ))
                    })?;
                    self.dns_enable(actor, zone, &id, false).await?;
                }
                Ok(())
            }
            (ChangeOp::Update, Some(id), Some(before), Some(after)) => {
                let content_changes = value_key(c.rtype, &before.value, before.priority)
                    != value_key(c.rtype, &after.value, after.priority)
                    || before.ttl != after.ttl;
                let (id, enabled_now) = if content_changes {
                    let r = self.dns_set(actor, zone, id, &input(after)).await?;
                    (r.upstream_id.unwrap_or_else(|| id.clone()), r.enabled)
                } else {
                    (id.clone(), before.enabled)
                };
                if enabled_now != after.enabled {
                    self.dns_enable(actor, zone, &id, after.enabled).await?;
                }
                Ok(())
            }
            (ChangeOp::Delete, Some(id), _, _) => match self.dns_remove(actor, zone, id).await {
                // Gone already: what the plan wanted.
                Err(EngineError::Upstream(idcgate_core::Error::NotFound { .. })) | Ok(()) => Ok(()),
                Err(e) => Err(e),
            },
            _ => Err(EngineError::Invalid(format!(
                "{zone}: a {:?} change of {} {} is incomplete",
                c.op,
                host_of_name(&c.name),
                c.rtype
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::zonefile::{Entry, Value};

    fn rec(
        id: &str,
        host: &str,
        t: RecordType,
        value: &str,
        ttl: u32,
        line: Option<&str>,
    ) -> DnsRecord {
        let prio = (t == RecordType::Mx).then_some(10);
        DnsRecord {
            ttl,
            upstream_id: Some(id.into()),
            ..crate::zonefile::tests::rec(host, t, value, line, prio)
        }
    }

    fn plan(file: &ZoneFile, current: &[DnsRecord]) -> ZonePlan {
        plan_zone(file, "acct", "west", current, None).unwrap()
    }

    fn zone_of(records: &[DnsRecord]) -> ZoneFile {
        ZoneFile::from_records("example.com", records)
    }

    fn sample() -> Vec<DnsRecord> {
        vec![
            rec("1", "@", RecordType::A, "203.0.113.10", 600, None),
            rec("2", "www", RecordType::Cname, "example.com", 600, None),
            rec("3", "@", RecordType::Mx, "mx.example.com", 600, None),
            rec(
                "4",
                "www",
                RecordType::A,
                "198.51.100.1",
                600,
                Some("telecom"),
            ),
            rec("5", "@", RecordType::Ns, "ns1.vendor.net", 600, None),
        ]
    }

    #[test]
    fn a_zone_planned_against_itself_changes_nothing() {
        let current = sample();
        let p = plan(&zone_of(&current), &current);
        assert!(p.changes.is_empty(), "{:?}", p.changes);
        // and through the YAML text, where names gain their trailing dot
        let back = ZoneFile::from_yaml(&zone_of(&current).to_yaml(), None).unwrap();
        assert!(plan(&back, &current).changes.is_empty());
    }

    #[test]
    fn spelling_the_upstream_normalises_is_no_change() {
        let current = sample();
        let mut file = zone_of(&current);
        for e in &mut file.entries {
            for v in &mut e.values {
                if matches!(e.rtype, RecordType::Cname | RecordType::Mx) {
                    v.value = format!("{}.", v.value.to_uppercase());
                }
            }
        }
        assert!(plan(&file, &current).changes.is_empty());
    }

    #[test]
    fn creates_updates_and_deletes_are_found() {
        let current = sample();
        let mut file = zone_of(&current);
        // www telecom moves to another address; a TTL changes; mail is new; the MX goes.
        for e in &mut file.entries {
            if e.line.is_some() {
                e.values[0].value = "198.51.100.2".into();
            }
            if e.rtype == RecordType::A && e.name.is_empty() {
                e.ttl = 300;
            }
        }
        file.entries.retain(|e| e.rtype != RecordType::Mx);
        file.entries.push(Entry {
            name: "mail".into(),
            rtype: RecordType::A,
            ttl: 600,
            line: None,
            enabled: true,
            values: vec![Value {
                value: "192.0.2.5".into(),
                priority: None,
            }],
        });
        let p = plan(&file, &current);
        assert_eq!(p.count(ChangeOp::Create), 1);
        assert_eq!(p.count(ChangeOp::Update), 2);
        assert_eq!(p.count(ChangeOp::Delete), 1);
        let del = p.changes.iter().find(|c| c.op == ChangeOp::Delete).unwrap();
        assert_eq!(del.id.as_deref(), Some("3"));
        let moved = p.changes.iter().find(|c| c.line.is_some()).unwrap();
        assert_eq!(
            (moved.op, moved.id.as_deref()),
            (ChangeOp::Update, Some("4"))
        );
        assert_eq!(moved.after.as_ref().unwrap().value, "198.51.100.2");
    }

    #[test]
    fn ns_at_the_apex_is_never_deleted_nor_created() {
        let current = sample();
        let mut file = zone_of(&current);
        file.entries.retain(|e| e.rtype != RecordType::Ns);
        let p = plan(&file, &current);
        assert!(p.changes.is_empty(), "{:?}", p.changes);
        assert!(p.skipped[0].contains("NS at the apex"));
        file.entries.push(Entry {
            name: String::new(),
            rtype: RecordType::Ns,
            ttl: 600,
            line: None,
            enabled: true,
            values: vec![Value {
                value: "ns.other.net.".into(),
                priority: None,
            }],
        });
        assert!(plan(&file, &current).changes.is_empty());
        // NS below the apex (a delegation) is an ordinary record.
        file.entries[0].name = "sub".into();
        file.entries[0].rtype = RecordType::Ns;
        assert!(plan(&file, &current)
            .changes
            .iter()
            .any(|c| c.rtype == RecordType::Ns));
    }

    #[test]
    fn pausing_is_an_update_and_a_paused_record_is_not_recreated() {
        let current = sample();
        let mut file = zone_of(&current);
        file.entries[0].enabled = false;
        let p = plan(&file, &current);
        assert_eq!(p.changes.len(), 1);
        let c = &p.changes[0];
        assert_eq!(c.op, ChangeOp::Update);
        assert!(c.before.as_ref().unwrap().enabled && !c.after.as_ref().unwrap().enabled);
        assert_eq!(
            c.before.as_ref().unwrap().value,
            c.after.as_ref().unwrap().value
        );
    }

    #[test]
    fn shares_beyond_the_threshold_need_force() {
        let current: Vec<DnsRecord> = (0..10)
            .map(|i| {
                rec(
                    &i.to_string(),
                    &format!("h{i}"),
                    RecordType::A,
                    &format!("192.0.2.{i}"),
                    600,
                    None,
                )
            })
            .collect();
        let safety = Safety::default();
        let mut file = zone_of(&current);
        // 3 of 10 updated: at the threshold, allowed; 4: refused.
        for (n, verdict) in [(3, false), (4, true)] {
            let mut f = file.clone();
            for e in f.entries.iter_mut().take(n) {
                e.ttl = 60;
            }
            let p = plan(&f, &current);
            assert_eq!(p.count(ChangeOp::Update), n);
            assert_eq!(p.unsafe_reason(&safety).is_some(), verdict, "{n} updates");
        }
        file.entries.truncate(6);
        let p = plan(&file, &current);
        assert_eq!(p.count(ChangeOp::Delete), 4);
        let why = p.unsafe_reason(&safety).unwrap();
        assert!(why.contains("4 of 10 records would be deleted"), "{why}");
        let lenient = Safety {
            max_delete_percent: 50,
            ..safety
        };
        assert!(p.unsafe_reason(&lenient).is_none());
        // a small zone is not held to the shares
        let small = &current[..5];
        assert!(plan(&zone_of(&[]), small).unsafe_reason(&safety).is_none());
    }

    #[test]
    fn a_line_the_vendor_lacks_is_refused_by_name() {
        let current = sample();
        let file = zone_of(&current);
        let e = plan_zone(&file, "c", "cndns", &[], Some(&["default".to_string()])).unwrap_err();
        let msg = e.to_string();
        assert!(
            msg.contains("\"telecom\"") && msg.contains("not offered by cndns"),
            "{msg}"
        );
        let dnspod = ["default", "telecom", "unicom"].map(String::from);
        let p = plan_zone(&file, "d", "dnspod", &[], Some(&dnspod)).unwrap();
        assert!(p
            .changes
            .iter()
            .any(|c| c.line.as_deref() == Some("telecom")));
    }

    #[test]
    fn a_value_twice_in_the_file_is_refused() {
        let mut file = zone_of(&sample());
        let dup = file.entries[0].clone();
        file.entries.push(dup);
        assert!(plan_zone(&file, "a", "west", &[], None).is_err());
    }

    #[test]
    fn what_no_upstream_takes_is_refused_before_anything_is_sent() {
        let current = sample();
        // A rename whose new record is bad: planned, the delete would be sent first and
        // the create refused after it.
        let cases: [(&str, RecordType, &str, u32, &str); 7] = [
            (
                "new",
                RecordType::A,
                "not-an-ip",
                600,
                "not an IPv4 address",
            ),
            (
                "new",
                RecordType::Aaaa,
                "1.2.3.4",
                600,
                "not an IPv6 address",
            ),
            ("new", RecordType::Txt, "x\u{0}y", 600, "U+0000"),
            ("new", RecordType::Txt, "a\nb", 600, "U+000A"),
            ("new", RecordType::A, "192.0.2.1", 0, "ttl 0"),
            ("中文", RecordType::A, "192.0.2.1", 600, "punycode"),
            ("a b", RecordType::A, "192.0.2.1", 600, "label \"a b\""),
        ];
        for (name, t, value, ttl, why) in cases {
            let mut file = zone_of(&current[..4]);
            file.entries.push(Entry {
                name: name.into(),
                rtype: t,
                ttl,
                line: None,
                enabled: true,
                values: vec![Value {
                    value: value.into(),
                    priority: None,
                }],
            });
            let e = plan_zone(&file, "a", "west", &current, None).unwrap_err();
            let msg = e.to_string();
            assert!(
                msg.contains(why) && msg.contains("nothing is"),
                "{name} {value}: {msg}"
            );
        }
        let long = format!("{}.x", "a".repeat(64));
        assert!(bad_name(&long).is_some());
        assert!(bad_name("*.a-b_c.0").is_none());
        // A value the upstream holds already is not judged when only its TTL changes.
        let odd = vec![rec("9", "odd", RecordType::Txt, "x\u{1}y", 600, None)];
        let mut file = zone_of(&odd);
        file.entries[0].ttl = 900;
        assert_eq!(plan(&file, &odd).count(ChangeOp::Update), 1);
    }
}
