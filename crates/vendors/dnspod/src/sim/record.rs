//! `Record.*`: types and lines per grade, create, list, info, modify, DDNS, status,
//! remark, remove, with the grade's limits and the no-op modification lock.

use super::common::*;
use super::render::{obj, s, V};
use super::state::*;
use super::{fail, fail_as, Args, Fail, Handler, Req, R};
use crate::errors::text;
use jiff::Timestamp;

pub(super) fn handler(name: &str) -> Option<Handler> {
    Some(match name {
        "Record.Type" => types,
        "Record.Line" => lines,
        "Record.Create" => |st, rq| create(st, rq),
        "Record.List" => list,
        "Record.Modify" => |st, rq| modify(st, rq),
        "Record.Ddns" => ddns,
        "Record.Remove" => remove,
        "Record.Remark" => remark,
        "Record.Info" => info,
        "Record.Status" => status,
        _ => return None,
    })
}

fn grade_param(rq: &Req<'_>) -> Result<&'static Grade, Fail> {
    grade(rq.str("domain_grade")).ok_or_else(|| fail(text::DOMAIN_GRADE_INVALID))
}

fn types(_: &mut State, rq: &Req<'_>) -> R {
    let g = grade_param(rq)?;
    ok(vec![(
        "types",
        V::Arr(g.types.iter().map(|t| V::from(*t)).collect()),
    )])
}

fn lines(st: &mut State, rq: &Req<'_>) -> R {
    let g = grade_param(rq)?;
    find_domain(st, rq, Access::Read)?;
    let ids: Vec<(String, V)> = lines_of(g)
        .map(|(name, id)| {
            let v = if *id == "0" { V::Int(0) } else { V::from(*id) };
            (name.to_string(), v)
        })
        .collect();
    let names: Vec<V> = lines_of(g).map(|(name, _)| V::from(*name)).collect();
    ok(vec![("line_ids", V::Obj(ids)), ("lines", V::Arr(names))])
}

/// A validated record content from Create/Modify/Ddns parameters.
struct Content {
    name: String,
    rtype: String,
    line: String,
    line_id: String,
    value: String,
    mx: u32,
    ttl: u32,
    enabled: bool,
    weight: Option<u32>,
}

impl Content {
    /// Whether `r` already holds exactly this content.
    fn same_as(&self, r: &Record) -> bool {
        self.name == r.name
            && self.rtype == r.rtype
            && self.line == r.line
            && self.value == r.value
            && self.mx == r.mx
            && self.ttl == r.ttl
            && self.enabled == r.enabled
            && self.weight == r.weight
    }

    fn write_to(&self, r: &mut Record, now: Timestamp) {
        r.name.clone_from(&self.name);
        r.rtype.clone_from(&self.rtype);
        r.line.clone_from(&self.line);
        r.line_id.clone_from(&self.line_id);
        r.value.clone_from(&self.value);
        r.mx = self.mx;
        r.ttl = self.ttl;
        r.enabled = self.enabled;
        r.weight = self.weight;
        r.updated_on = now;
    }

    /// The log line's description of the record.
    fn describe(&self) -> String {
        format!("{} {} {} {}", self.name, self.rtype, self.line, self.value)
    }
}

fn resolve_line(g: &Grade, rq: &Req<'_>) -> Result<(String, String), Fail> {
    let found = match rq.arg("record_line_id") {
        Some(id) => lines_of(g).find(|(_, i)| *i == id),
        None => {
            let name = rq.arg("record_line").unwrap_or("默认");
            lines_of(g).find(|(n, _)| *n == name)
        }
    };
    found
        .map(|(n, i)| (n.to_string(), i.to_string()))
        .ok_or_else(|| fail(text::RECORD_LINE_INVALID))
}

fn check_sub_domain(g: &Grade, name: &str) -> Result<(), Fail> {
    if name == "@" {
        return Ok(());
    }
    let labels: Vec<&str> = name.split('.').collect();
    for (i, l) in labels.iter().enumerate() {
        if l.contains('*') && (i != 0 || *l != "*") {
            return Err(fail(text::WILDCARD_SUBDOMAIN_INVALID));
        }
        let ok_chars = l
            .chars()
            .all(|c| c.is_alphanumeric() || c == '-' || c == '_' || c == '*');
        if l.is_empty() || !ok_chars || l.len() > 63 {
            return Err(fail(text::SUBDOMAIN_INVALID));
        }
    }
    if labels.len() > g.sub_levels {
        return Err(fail(text::SUBDOMAIN_LEVELS_EXCEEDED));
    }
    Ok(())
}

fn check_value(rtype: &str, value: &str) -> Result<(), Fail> {
    let host_like = |v: &str| {
        let v = v.trim_end_matches('.');
        !v.is_empty()
            && v.split('.').all(|l| {
                !l.is_empty()
                    && l.chars()
                        .all(|c| c.is_alphanumeric() || c == '-' || c == '_')
            })
    };
    let good = match rtype {
        "A" => value.parse::<std::net::Ipv4Addr>().is_ok(),
        "AAAA" => value.parse::<std::net::Ipv6Addr>().is_ok(),
        "CNAME" | "MX" | "NS" => host_like(value),
        "SRV" => value.split_whitespace().count() == 4,
        "URL" => value.starts_with("http://") || value.starts_with("https://"),
        _ => !value.is_empty() && value.len() <= 512,
    };
    if good {
        Ok(())
    } else {
        Err(fail(text::RECORD_VALUE_INVALID))
    }
}

/// Validates content against the domain's grade. `current` is the record a
/// Modify/Ddns changes; a DDNS call keeps its type and by default its name, and takes
/// the caller's address as the value.
fn content(
    st: &State,
    did: u64,
    rq: &Req<'_>,
    current: Option<&Record>,
    ddns: bool,
) -> Result<Content, Fail> {
    let g = grade_of(dom(st, did)?);
    // Create and Modify default `sub_domain` in the spec; Ddns keeps the record's name.
    let name = rq
        .arg("sub_domain")
        .map(str::to_lowercase)
        .or_else(|| current.map(|c| c.name.clone()))
        .unwrap_or_default();
    check_sub_domain(g, &name)?;
    let rtype = match current {
        Some(c) if ddns => c.rtype.clone(),
        _ => rq.str("record_type").to_uppercase(),
    };
    if !g.types.contains(&rtype.as_str()) {
        return Err(fail(text::RECORD_TYPE_INVALID));
    }
    let (line, line_id) = resolve_line(g, rq)?;
    let value = match rq.arg("value") {
        Some(v) => v.to_string(),
        None if ddns => rq.ip().to_string(),
        None => String::new(),
    };
    check_value(&rtype, &value)?;
    let mx = if rtype == "MX" {
        let mx: u32 = rq.arg("mx").and_then(|m| m.parse().ok()).unwrap_or(0);
        if !(1..=20).contains(&mx) {
            return Err(fail(text::MX_VALUE_SHOULD_BE_1_20));
        }
        mx
    } else {
        0
    };
    let ttl = match rq.arg("ttl") {
        Some(t) => t.parse::<u32>().unwrap_or(0),
        None if ddns => current.map_or(600, |c| c.ttl),
        None => current.map_or(600.max(g.min_ttl), |c| c.ttl),
    };
    if ttl < g.min_ttl || !(1..=604_800).contains(&ttl) {
        return Err(if rq.method() == "Record.Create" {
            fail(text::TTL_OVER_LIMIT)
        } else {
            fail(text::TTL_TOO_SMALL)
        });
    }
    let enabled = match rq.arg("status") {
        Some(s) => s != "disable",
        None => current.is_none_or(|c| c.enabled),
    };
    let weight = match rq.arg("weight") {
        Some(w) if g.enterprise && g.vip => w
            .parse::<u32>()
            .ok()
            .filter(|w| *w <= 100)
            .filter(|w| *w > 0),
        _ => current.and_then(|c| c.weight),
    };
    Ok(Content {
        name,
        rtype,
        line,
        line_id,
        value,
        mx,
        ttl,
        enabled,
        weight,
    })
}

/// Conflict and load-balance rules shared by Create and Modify (`skip` = record itself).
fn check_conflicts(
    st: &State,
    did: u64,
    c: &Content,
    skip: Option<u64>,
    rr_code: Option<&str>,
) -> Result<(), Fail> {
    let d = dom(st, did)?;
    let g = grade_of(d);
    let same_host = d
        .records
        .values()
        .filter(|r| Some(r.id) != skip && r.name == c.name && r.line == c.line);
    let mut same_type = 0;
    for r in same_host {
        if r.rtype == c.rtype && r.value.eq_ignore_ascii_case(&c.value) {
            return Err(fail(text::RECORD_EXISTS));
        }
        let exclusive = ["CNAME", "URL"];
        let clash = (exclusive.contains(&c.rtype.as_str())
            || exclusive.contains(&r.rtype.as_str()))
            && r.rtype != c.rtype
            && ["A", "AAAA", "CNAME", "URL"].contains(&r.rtype.as_str())
            && ["A", "AAAA", "CNAME", "URL"].contains(&c.rtype.as_str());
        if clash {
            return Err(fail(text::RECORD_CONFLICT));
        }
        if r.rtype == c.rtype && r.enabled {
            same_type += 1;
        }
    }
    if c.enabled && same_type >= g.round_robin {
        let code = match rr_code {
            Some(code) => code,
            None if c.rtype == "CNAME" => "500026",
            None => "500025",
        };
        return Err(fail_as(code, text::LOAD_BALANCE_EXCEEDED));
    }
    Ok(())
}

/// A domain the caller may change records of, not locked.
fn writable(st: &State, rq: &Req<'_>) -> Result<u64, Fail> {
    let did = find_domain(st, rq, Access::Write)?;
    unlocked(dom(st, did)?, rq.now(), text::DOMAIN_IS_LOCKED_21)?;
    Ok(did)
}

/// Also the step `Batch.*.Create` replays per record.
pub(super) fn create(st: &mut State, rq: &Req<'_>) -> R {
    let did = writable(st, rq)?;
    let c = content(st, did, rq, None, false)?;
    check_conflicts(st, did, &c, None, None)?;
    let d = dom(st, did)?;
    if d.records.len() >= grade_of(d).records_max {
        // Not in the public code list; the live server's text for the grade's record cap.
        return Err(fail(text::RECORD_COUNT_EXCEEDED));
    }
    let mut rec = new_record(
        0,
        &c.name,
        &c.rtype,
        &c.value,
        &c.line,
        &c.line_id,
        c.ttl,
        c.mx,
        rq.now(),
        false,
    );
    rec.enabled = c.enabled;
    rec.weight = c.weight;
    let rid = st.add_record(did, rec);
    log_domain(st, did, rq, &format!("添加记录 {}", c.describe()));
    let status = if c.enabled { "enabled" } else { "disabled" };
    ok(vec![(
        "record",
        obj!("id" => s(rid), "name" => &c.name, "status" => status),
    )])
}

fn find_record(st: &State, did: u64, rq: &Req<'_>) -> Result<u64, Fail> {
    let rid: u64 = rq.str("record_id").parse().map_err(|_| bad_record_id())?;
    rec(st, did, rid).map(|_| rid)
}

/// More than this many no-change modifications in an hour lock the record for an hour.
const NOOP_LIMIT: usize = 5;

fn record_locked(r: &Record, now: Timestamp) -> Result<(), Fail> {
    match r.locked_until {
        Some(u) if u > now => Err(fail(text::RECORD_NOOP_LOCKED)),
        _ => Ok(()),
    }
}

/// Also the step `Batch.Record.Modify` replays per record.
pub(super) fn modify(st: &mut State, rq: &Req<'_>) -> R {
    change(st, rq, false)
}

fn ddns(st: &mut State, rq: &Req<'_>) -> R {
    change(st, rq, true)
}

/// Record.Modify and Record.Ddns: the same rules; DDNS answers without `status` and
/// numbers its load-balance refusal 25.
fn change(st: &mut State, rq: &Req<'_>, ddns: bool) -> R {
    let did = writable(st, rq)?;
    let rid = find_record(st, did, rq)?;
    let cur = rec(st, did, rid)?.clone();
    record_locked(&cur, rq.now())?;
    if cur.hold {
        return Err(fail(text::NS_NOT_MODIFIABLE));
    }
    let c = content(st, did, rq, Some(&cur), ddns)?;
    let now = rq.now();
    let r = rec_mut(st, did, rid)?;
    if c.same_as(&cur) {
        // Abuse rule: the lock stands although the call is refused.
        r.noop_mods.retain(|t| now.duration_since(*t) < HOUR);
        r.noop_mods.push(now);
        if r.noop_mods.len() > NOOP_LIMIT {
            r.locked_until = Some(now + HOUR);
            r.noop_mods.clear();
            return Err(Fail {
                keep_changes: true,
                ..fail(text::RECORD_NOOP_LOCKED)
            });
        }
    } else {
        check_conflicts(st, did, &c, Some(rid), ddns.then_some("25"))?;
        c.write_to(rec_mut(st, did, rid)?, now);
        log_domain(st, did, rq, &format!("修改记录 {}", c.describe()));
    }
    let record = if ddns {
        obj!("id" => rid, "name" => &c.name, "value" => &c.value)
    } else {
        let status = if c.enabled { "enable" } else { "disable" };
        obj!("id" => rid, "name" => &c.name, "value" => &c.value, "status" => status)
    };
    ok(vec![("record", record)])
}

fn remove(st: &mut State, rq: &Req<'_>) -> R {
    let did = writable(st, rq)?;
    let rid = find_record(st, did, rq)?;
    if rec(st, did, rid)?.hold {
        return Err(fail(text::NS_NOT_REMOVABLE));
    }
    if let Some(r) = dom_mut(st, did)?.records.remove(&rid) {
        st.record_domain.remove(&rid);
        log_domain(
            st,
            did,
            rq,
            &format!("删除记录 {} {} {}", r.name, r.rtype, r.value),
        );
    }
    ok(vec![])
}

fn remark(st: &mut State, rq: &Req<'_>) -> R {
    let did = find_domain(st, rq, Access::Write)?;
    let rid = find_record(st, did, rq)?;
    rec_mut(st, did, rid)?.remark = rq.str("remark").to_string();
    ok(vec![])
}

fn status(st: &mut State, rq: &Req<'_>) -> R {
    let did = writable(st, rq)?;
    let rid = find_record(st, did, rq)?;
    let enable = rq.str("status") == "enable";
    let r = rec_mut(st, did, rid)?;
    record_locked(r, rq.now())?;
    r.enabled = enable;
    r.updated_on = rq.now();
    let name = r.name.clone();
    let status = if enable { "enable" } else { "disable" };
    log_domain(st, did, rq, &format!("设置记录 {name} 状态 {status}"));
    ok(vec![(
        "record",
        obj!("id" => rid, "name" => name, "status" => status),
    )])
}

fn weight(r: &Record) -> V {
    r.weight.map_or(V::Null, |w| V::Int(i64::from(w)))
}

fn enabled(r: &Record) -> &'static str {
    if r.enabled {
        "1"
    } else {
        "0"
    }
}

fn list_item(r: &Record) -> V {
    let mut v = obj!(
        "id" => s(r.id),
        "name" => &r.name,
        "line" => &r.line,
        "line_id" => &r.line_id,
        "type" => &r.rtype,
        "ttl" => s(r.ttl),
        "value" => &r.value,
        "weight" => weight(r),
        "mx" => s(r.mx),
        "enabled" => enabled(r),
        "status" => if r.enabled { "enabled" } else { "disabled" },
        "monitor_status" => "",
        "remark" => &r.remark,
        "updated_on" => fmt_time(r.updated_on),
        "use_aqb" => "no",
    );
    if r.hold {
        if let V::Obj(fields) = &mut v {
            fields.push(("hold".into(), V::from("hold")));
        }
    }
    v
}

fn list(st: &mut State, rq: &Req<'_>) -> R {
    let did = find_domain(st, rq, Access::Read)?;
    let (offset, length) = paging(rq, 7, PAGE_MAX)?;
    let d = dom(st, did)?;
    let sub = rq.arg("sub_domain").map(str::to_lowercase);
    let keyword = rq.arg("keyword").map(str::to_lowercase);
    let rtype = rq.arg("record_type").map(str::to_uppercase);
    let matching: Vec<&Record> = d
        .records
        .values()
        .filter(|r| sub.as_ref().is_none_or(|s| r.name == *s))
        .filter(|r| rtype.as_ref().is_none_or(|t| r.rtype == *t))
        .filter(|r| {
            keyword.as_ref().is_none_or(|k| {
                r.name.contains(k.as_str()) || r.value.to_lowercase().contains(k.as_str())
            })
        })
        .collect();
    let domain = obj!(
        "id" => d.id,
        "name" => &d.name,
        "punycode" => &d.name,
        "grade" => d.grade,
        "owner" => owner_email(st, d),
        "ext_status" => "",
        "ttl" => d.ttl,
    );
    let info = obj!("sub_domains" => s(d.records.len()), "record_total" => s(matching.len()));
    let page: Vec<V> = matching
        .iter()
        .skip(offset)
        .take(length)
        .map(|r| list_item(r))
        .collect();
    if page.is_empty() && rq.error_on_empty() {
        let mut f = fail(text::NO_RECORDS);
        f.payload = vec![("domain".into(), domain), ("info".into(), info)];
        return Err(f);
    }
    ok(vec![
        ("domain", domain),
        ("info", info),
        ("records", V::Arr(page)),
    ])
}

fn info(st: &mut State, rq: &Req<'_>) -> R {
    let did = find_domain(st, rq, Access::Read)?;
    let rid = find_record(st, did, rq)?;
    let d = dom(st, did)?;
    let r = rec(st, did, rid)?;
    ok(vec![
        (
            "domain",
            obj!("id" => d.id, "domain" => &d.name, "domain_grade" => d.grade),
        ),
        (
            "record",
            obj!(
                "id" => s(r.id),
                "sub_domain" => &r.name,
                "record_type" => &r.rtype,
                "record_line" => &r.line,
                "record_line_id" => &r.line_id,
                "value" => &r.value,
                "weight" => weight(r),
                "mx" => s(r.mx),
                "ttl" => s(r.ttl),
                "enabled" => enabled(r),
                "monitor_status" => "",
                "remark" => &r.remark,
                "updated_on" => fmt_time(r.updated_on),
                "domain_id" => s(d.id),
            ),
        ),
    ])
}
