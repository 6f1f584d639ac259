//! `Batch.*`: asynchronous jobs (domains with default records, records on many domains,
//! one change to many records). A job progresses with the clock, one domain entry per
//! simulated second, each entry through the same rules as the single calls.

use super::common::*;
use super::render::{obj, s, V};
use super::state::*;
use super::{domain, fail, record, Args, Caller, Fail, Handler, Req, R};
use crate::errors::text;
use crate::spec::spec;
use axum::http::Method;
use idcgate_wire::sim::{Call, Incoming};
use jiff::Timestamp;
use std::net::IpAddr;

pub(super) fn handler(name: &str) -> Option<Handler> {
    Some(match name {
        "Batch.Domain.Create" => domain_create,
        "Batch.Record.Create" => record_create,
        "Batch.Record.Modify" => record_modify,
        "Batch.Detail" => detail,
        _ => return None,
    })
}

/// The sim's bound on one job (the doc names none): keeps a hostile request from
/// exhausting memory while leaving room for a zone's worth of records.
const MAX_JOB_RECORDS: usize = 100_000;

fn too_big() -> Fail {
    fail(text::BATCH_TOO_BIG)
}

fn waiting(sub_domain: String, record_type: String, area: String, value: String) -> JobRecord {
    JobRecord {
        record_id: None,
        sub_domain,
        record_type,
        area,
        value,
        mx: 0,
        ttl: 600,
        status: "waiting",
        err_msg: String::new(),
    }
}

fn job_domain(domain_id: Option<u64>, d: Option<&Domain>, records: Vec<JobRecord>) -> JobDomain {
    JobDomain {
        domain_id,
        domain: d.map(|d| d.name.clone()).unwrap_or_default(),
        domain_grade: d.map_or("", |d| d.grade).to_string(),
        status: "waiting",
        err_msg: String::new(),
        records,
    }
}

/// A comma-separated list, trimmed, blanks dropped.
fn list_arg<'a>(rq: &'a Req<'_>, key: &str) -> impl Iterator<Item = &'a str> {
    rq.str(key)
        .split(',')
        .map(str::trim)
        .filter(|i| !i.is_empty())
}

fn domain_create(st: &mut State, rq: &Req<'_>) -> R {
    let value = rq.arg("record_value");
    if value.is_some_and(|v| v.parse::<std::net::Ipv4Addr>().is_err()) {
        return Err(fail(text::BATCH_RECORD_VALUE_NOT_IP));
    }
    let items = list_arg(rq, "domains")
        .map(|name| {
            let records = value
                .iter()
                .flat_map(|v| {
                    ["@", "www"]
                        .map(|h| waiting(h.into(), "A".into(), "默认".into(), v.to_string()))
                })
                .collect();
            JobDomain {
                domain: name.to_lowercase(),
                domain_grade: "DP_Free".into(),
                ..job_domain(None, None, records)
            }
        })
        .collect();
    submit(st, rq, JobOp::DomainCreate, items)
}

fn record_create(st: &mut State, rq: &Req<'_>) -> R {
    let recs: serde_json::Value =
        serde_json::from_str(rq.str("records")).map_err(|_| fail(text::BATCH_RECORDS_NOT_ARRAY))?;
    let recs = recs.as_array().cloned().unwrap_or_default();
    let field = |r: &serde_json::Value, k: &str| {
        r.get(k)
            .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_string))
            .unwrap_or_default()
    };
    let mut template = Vec::new();
    for r in &recs {
        let mx = field(r, "mx");
        let mx = if mx.is_empty() { field(r, "MX") } else { mx };
        let area = field(r, "record_line");
        let area = if area.is_empty() {
            "默认".into()
        } else {
            area
        };
        for host in field(r, "sub_domain")
            .split(',')
            .map(str::trim)
            .filter(|h| !h.is_empty())
        {
            template.push(JobRecord {
                mx: mx.parse().unwrap_or(0),
                ttl: field(r, "ttl").parse().unwrap_or(600),
                ..waiting(
                    host.to_lowercase(),
                    field(r, "record_type").to_uppercase(),
                    area.clone(),
                    field(r, "value"),
                )
            });
        }
    }
    if template.is_empty() {
        return Err(fail(text::BATCH_RECORDS_EMPTY));
    }
    let ids: Vec<&str> = list_arg(rq, "domain_id").collect();
    // A 4 MB form could otherwise ask for billions of records (hosts x domains).
    if template.len().saturating_mul(ids.len()) > MAX_JOB_RECORDS {
        return Err(too_big());
    }
    let items = ids
        .into_iter()
        .map(|id| {
            let did = id.parse::<u64>().ok();
            let d = did
                .and_then(|i| st.domains.get(&i))
                .filter(|d| d.owner == rq.actor());
            job_domain(did, d, template.clone())
        })
        .collect();
    submit(st, rq, JobOp::RecordAdd, items)
}

fn record_modify(st: &mut State, rq: &Req<'_>) -> R {
    let change = rq.str("change").to_string();
    if change == "record_type" && rq.arg("value").is_none() {
        return Err(fail(text::BATCH_VALUE_REQUIRED));
    }
    let mut by_domain: Vec<JobDomain> = Vec::new();
    for id in list_arg(rq, "record_id") {
        let rid = id.parse::<u64>().unwrap_or(0);
        let did = st.record_domain.get(&rid).copied();
        let d = did
            .and_then(|i| st.domains.get(&i))
            .filter(|d| d.owner == rq.actor());
        let r = d.and_then(|d| d.records.get(&rid));
        let jr = JobRecord {
            record_id: Some(rid),
            mx: r.map_or(0, |r| r.mx),
            ttl: r.map_or(0, |r| r.ttl),
            ..waiting(
                r.map(|r| r.name.clone()).unwrap_or_default(),
                r.map(|r| r.rtype.clone()).unwrap_or_default(),
                r.map(|r| r.line.clone()).unwrap_or_default(),
                r.map(|r| r.value.clone()).unwrap_or_default(),
            )
        };
        let key = d.map(|d| d.id);
        match by_domain.iter_mut().find(|j| j.domain_id == key) {
            Some(j) => j.records.push(jr),
            None => by_domain.push(job_domain(key, d, vec![jr])),
        }
    }
    let op = JobOp::RecordModify {
        change,
        change_to: rq.str("change_to").to_string(),
        value: rq.str("value").to_string(),
        mx: rq.str("mx").to_string(),
    };
    submit(st, rq, op, by_domain)
}

/// Queues a job for the actor; answers its id.
fn submit(st: &mut State, rq: &Req<'_>, op: JobOp, items: Vec<JobDomain>) -> R {
    if items.is_empty() {
        return Err(fail(text::BATCH_NOTHING_TO_DO));
    }
    if items.len() > MAX_JOB_RECORDS {
        return Err(too_big());
    }
    let id = st.misc_id();
    st.jobs.insert(
        id,
        Job {
            id,
            owner: rq.actor(),
            op,
            created: rq.now(),
            ip: rq.ip().to_string(),
            items,
            done: 0,
        },
    );
    ok(vec![("job_id", s(id))])
}

/// Jobs progress with the clock: one domain entry completes per simulated second.
pub fn advance_jobs(st: &mut State, now: Timestamp) {
    let pending: Vec<u64> = st
        .jobs
        .values()
        .filter(|j| j.done < j.items.len())
        .map(|j| j.id)
        .collect();
    for jid in pending {
        while let Some(job) = st.jobs.get(&jid) {
            let due = usize::try_from(now.duration_since(job.created).as_secs().max(0))
                .unwrap_or(usize::MAX);
            if job.done >= job.items.len() || job.done >= due {
                break;
            }
            let idx = job.done;
            let mut item = job.items[idx].clone();
            let (op, owner, ip) = (job.op.clone(), job.owner, job.ip.clone());
            run_job_item(st, &op, owner, &ip, &mut item, now);
            if let Some(job) = st.jobs.get_mut(&jid) {
                job.items[idx] = item;
                job.done += 1;
            }
        }
    }
}

/// Who replays a job's single calls: its owner, from the address that queued it.
struct Replayer {
    owner: u64,
    ip: IpAddr,
    now: Timestamp,
}

impl Replayer {
    /// Runs one single call (`method` with `fields`) through its handler, as a request
    /// of the job's owner would.
    fn call(
        &self,
        st: &mut State,
        method: &str,
        fields: Vec<(&str, String)>,
        handler: fn(&mut State, &Req<'_>) -> R,
    ) -> R {
        let action = spec()
            .actions
            .iter()
            .find(|a| a.action == method)
            .ok_or_else(|| fail(text::UNKNOWN_ERROR))?;
        let fields = fields.into_iter().map(|(k, v)| (k.to_string(), v));
        let req = Incoming::new(Method::POST, &format!("/{method}"), fields.collect())
            .with_client_ip(self.ip);
        let ctx = Caller {
            auth: self.owner,
            actor: self.owner,
            error_on_empty: true,
            set_cookie: None,
        };
        handler(st, &Call::new(&req, action, &ctx, self.now))
    }
}

/// Applies one batch entry through the same rules as the single-record calls.
fn run_job_item(
    st: &mut State,
    op: &JobOp,
    owner: u64,
    ip: &str,
    item: &mut JobDomain,
    now: Timestamp,
) {
    let job = Replayer {
        owner,
        ip: ip.parse().unwrap_or(IpAddr::from([127, 0, 0, 1])),
        now,
    };
    let mut domain_ok = true;
    match op {
        JobOp::DomainCreate => {
            let fields = vec![("domain", item.domain.clone())];
            match job.call(st, "Domain.Create", fields, domain::create) {
                Ok(out) => item.domain_id = created_id(&out),
                Err(f) => {
                    domain_ok = false;
                    item.err_msg = f.en;
                }
            }
        }
        JobOp::RecordAdd => {
            if item.domain_id.is_none() || item.domain.is_empty() {
                domain_ok = false;
                item.err_msg = "Domain id invalid".into();
            }
        }
        JobOp::RecordModify { .. } => {
            if item.domain_id.is_none() {
                domain_ok = false;
                item.err_msg = "Record id invalid".into();
            }
        }
    }
    let did = item.domain_id.map(|d| d.to_string()).unwrap_or_default();
    for r in item.records.iter_mut() {
        if !domain_ok {
            r.status = "error";
            r.err_msg = item.err_msg.clone();
            continue;
        }
        let mut fields = vec![
            ("domain_id", did.clone()),
            ("sub_domain", r.sub_domain.clone()),
            ("record_type", r.record_type.clone()),
            ("record_line", r.area.clone()),
            ("value", r.value.clone()),
            ("mx", r.mx.to_string()),
            ("ttl", r.ttl.to_string()),
        ];
        let result = match op {
            JobOp::DomainCreate | JobOp::RecordAdd => job
                .call(st, "Record.Create", fields, record::create)
                .map(|out| {
                    r.record_id = created_id(&out);
                }),
            JobOp::RecordModify {
                change,
                change_to,
                value,
                mx,
            } => {
                fields.insert(1, ("record_id", r.record_id.unwrap_or(0).to_string()));
                let f = &mut fields;
                match change.as_str() {
                    "area" => set_field(f, "record_line", change_to),
                    "record_type" => {
                        set_field(f, "record_type", change_to);
                        set_field(f, "value", value);
                        if !mx.is_empty() {
                            set_field(f, "mx", mx);
                        }
                    }
                    "status" if change_to.starts_with("disable") => {
                        set_field(f, "status", "disable")
                    }
                    "status" => set_field(f, "status", "enable"),
                    "sub_domain" => set_field(f, "sub_domain", change_to),
                    "value" => set_field(f, "value", change_to),
                    "mx" => set_field(f, "mx", change_to),
                    _ => set_field(f, "ttl", change_to),
                }
                job.call(st, "Record.Modify", fields, record::modify)
                    .map(|_| {
                        let current = item
                            .domain_id
                            .and_then(|d| st.domains.get(&d))
                            .and_then(|d| d.records.get(&r.record_id.unwrap_or(0)));
                        if let Some(rec) = current {
                            r.sub_domain = rec.name.clone();
                            r.record_type = rec.rtype.clone();
                            r.area = rec.line.clone();
                            r.value = rec.value.clone();
                            r.mx = rec.mx;
                            r.ttl = rec.ttl;
                        }
                    })
            }
        };
        match result {
            Ok(()) => r.status = "ok",
            Err(f) => {
                r.status = "error";
                r.err_msg = f.en;
            }
        }
    }
    let any_err = !domain_ok || item.records.iter().any(|r| r.status == "error");
    item.status = if any_err { "error" } else { "ok" };
    if any_err && item.err_msg.is_empty() {
        item.err_msg = item
            .records
            .iter()
            .find(|r| !r.err_msg.is_empty())
            .map(|r| r.err_msg.clone())
            .unwrap_or_default();
    }
}

/// Sets a replayed call's field, adding it when absent.
fn set_field(fields: &mut Vec<(&'static str, String)>, key: &'static str, value: &str) {
    match fields.iter_mut().find(|(k, _)| *k == key) {
        Some(slot) => slot.1 = value.to_string(),
        None => fields.push((key, value.to_string())),
    }
}

fn detail(st: &mut State, rq: &Req<'_>) -> R {
    let jid: u64 = rq.str("job_id").parse().unwrap_or(0);
    let job = st
        .jobs
        .get(&jid)
        .filter(|j| j.owner == rq.actor())
        .ok_or_else(|| fail(text::JOB_NOT_FOUND))?;
    let (mut total, mut success, mut failed) = (0usize, 0usize, 0usize);
    let mut tally = |status: &str| {
        total += 1;
        match status {
            "ok" => success += 1,
            "error" => failed += 1,
            _ => {}
        }
    };
    let running = job.done;
    let (ty, operation) = match job.op {
        JobOp::DomainCreate => ("domain", "plus"),
        JobOp::RecordAdd => ("record_add", "plus"),
        JobOp::RecordModify { .. } => ("record_modify", "edit"),
    };
    let detail: Vec<V> = job
        .items
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let status = if i == running && d.status == "waiting" {
                "running"
            } else {
                d.status
            };
            tally(status);
            let records: Vec<V> = d
                .records
                .iter()
                .enumerate()
                .map(|(j, r)| {
                    let rstatus = if status == "running" && r.status == "waiting" {
                        "running"
                    } else {
                        r.status
                    };
                    tally(rstatus);
                    obj!(
                        "id" => j,
                        "record_id" => r.record_id.map_or(V::Null, V::from),
                        "sub_domain" => &r.sub_domain,
                        "record_type" => &r.record_type,
                        "area" => &r.area,
                        "value" => &r.value,
                        "mx" => s(r.mx),
                        "ttl" => r.ttl,
                        "err_msg" => &r.err_msg,
                        "status" => rstatus,
                        "operation" => operation,
                    )
                })
                .collect();
            obj!(
                "id" => i,
                "domain_id" => d.domain_id.map_or(V::from(""), s),
                "domain" => &d.domain,
                "domain_grade" => &d.domain_grade,
                "err_msg" => &d.err_msg,
                "status" => status,
                "operation" => operation,
                "records" => records,
            )
        })
        .collect();
    let created = fmt_time(job.created);
    ok(vec![
        ("detail", V::Arr(detail)),
        ("total", V::from(total)),
        ("success", V::from(success)),
        ("fail", V::from(failed)),
        ("type", V::from(ty)),
        ("created_at", V::from(created)),
    ])
}
