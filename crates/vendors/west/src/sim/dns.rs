//! DNS records: one zone store (`Domain::records`) served by both record APIs — the v2
//! `adddnsrecord` family and the older `/v2/domain/dns/` `dnsrec.*` API with its own
//! envelope and auth. Validation lives once, in `apply`.

use super::domain::{Domain, Record};
use super::{number, page, Args, Handler, Req, SimErr, State, R};
use crate::errors::code;
use idcgate_core::spec::ActionSpec;
use idcgate_wire::sim::Incoming;
use serde_json::{json, Value};
use std::net::{Ipv4Addr, Ipv6Addr};

pub(crate) const LINES: [&str; 7] = ["", "LTEL", "LCNC", "LMOB", "LEDU", "LSEO", "LFOR"];
const TYPES: [&str; 6] = ["A", "CNAME", "MX", "TXT", "AAAA", "SRV"];

fn valid_host(h: &str) -> bool {
    h == "@"
        || (h.len() <= 200
            && h.split('.').all(|l| {
                !l.is_empty()
                    && l.len() <= 63
                    && l.chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '*')
            }))
}

/// Checks a record by its type and returns it normalised (CNAME/MX targets without the
/// trailing dot, as the live API stores them).
fn validate(mut r: Record) -> Result<Record, SimErr> {
    r.rtype = r.rtype.to_ascii_uppercase();
    r.host = r.host.trim().to_lowercase();
    if r.host.is_empty() {
        r.host = "@".into();
    }
    r.value = r.value.trim().to_string();
    if !TYPES.contains(&r.rtype.as_str()) {
        return Err(SimErr::new(code::REFUSED, "type: 不支持的记录类型"));
    }
    if !valid_host(&r.host) {
        return Err(SimErr::new(code::REFUSED, "host: 主机记录格式错误"));
    }
    if !(60..=86400).contains(&r.ttl) {
        return Err(SimErr::table(code::BAD_TTL));
    }
    if !LINES.contains(&r.line.as_str()) {
        return Err(SimErr::table(code::BAD_LINE));
    }
    let host_like = |v: &str| super::valid_hostname(v);
    let ok = match r.rtype.as_str() {
        "A" => r.value.parse::<Ipv4Addr>().is_ok(),
        "AAAA" => r.value.parse::<Ipv6Addr>().is_ok(),
        "CNAME" | "MX" => {
            r.value = r.value.trim_end_matches('.').to_lowercase();
            host_like(&r.value)
        }
        "TXT" => !r.value.is_empty() && r.value.chars().count() <= 512,
        _ => {
            // SRV: "weight port target"; the priority travels in level.
            let parts: Vec<&str> = r.value.split_whitespace().collect();
            parts.len() == 3
                && parts[0].parse::<u16>().is_ok()
                && parts[1].parse::<u16>().is_ok()
                && host_like(parts[2])
        }
    };
    if !ok {
        return Err(SimErr::new(
            code::REFUSED,
            format!("value: 记录值不是合法的{}记录", r.rtype),
        ));
    }
    if r.rtype == "MX" || r.rtype == "SRV" {
        if !(1..=100).contains(&r.level) {
            return Err(SimErr::new(
                code::BAD_TTL,
                "level: MX优先级必须在1到100之间",
            ));
        }
    } else {
        r.level = 10;
    }
    Ok(r)
}

/// A hosted zone of this account: 20001 if not in the account, 20109 if its DNS is
/// not at West.
pub(crate) fn zone<'a>(st: &'a mut State, name: &str) -> Result<&'a mut Domain, SimErr> {
    let name = name.to_lowercase();
    if !st.domains.contains_key(&name) {
        return Err(super::domain::missing(st, &name));
    }
    let d = st.domains.get_mut(&name).ok_or_else(SimErr::no_domain)?;
    if !d.dns_hosted() {
        return Err(SimErr::new(
            code::DNS_ELSEWHERE,
            "domain: 域名DNS不在西部数码，无法管理解析",
        ));
    }
    Ok(d)
}

/// Stores `input` as record `id` (new, or replacing it) after every rule of the live
/// API; `id` and `pause` of `input` are ignored (a replaced record keeps its pause state).
pub(crate) fn apply(d: &mut Domain, id: u64, input: Record, replace: bool) -> Result<(), SimErr> {
    let mut r = validate(input)?;
    let others = || d.records.values().filter(|x| x.id != id);
    if others().any(|x| {
        x.host == r.host
            && x.rtype == r.rtype
            && x.value.eq_ignore_ascii_case(&r.value)
            && x.line == r.line
    }) {
        return Err(SimErr::table(code::DUPLICATE));
    }
    if others().any(|x| {
        x.host == r.host && x.line == r.line && (x.rtype == "CNAME") != (r.rtype == "CNAME")
    }) {
        return Err(SimErr::new(
            code::REFUSED,
            "value: CNAME记录与同主机的其他记录冲突",
        ));
    }
    // Live rule: a record on a specific line needs a default-line record for the host.
    if !r.line.is_empty() && !others().any(|x| x.host == r.host && x.line.is_empty()) {
        return Err(SimErr::new(
            code::BAD_LINE,
            "line: 请先添加该主机的默认线路记录",
        ));
    }
    r.id = id;
    r.pause = replace && d.records.get(&id).is_some_and(|x| x.pause);
    d.records.insert(id, r);
    Ok(())
}

pub(crate) fn add(st: &mut State, zone_name: &str, input: Record) -> Result<u64, SimErr> {
    zone(st, zone_name)?;
    let id = st.next_id();
    apply(zone(st, zone_name)?, id, input, false)?;
    Ok(id)
}

fn existing(d: &Domain, id: u64) -> Result<&Record, SimErr> {
    if d.deleted.contains(&id) {
        return Err(SimErr::table(code::ALREADY_DELETED));
    }
    d.records.get(&id).ok_or_else(|| SimErr::bad_id("id"))
}

pub(crate) fn remove(d: &mut Domain, id: u64) -> Result<(), SimErr> {
    let r = existing(d, id)?.clone();
    let lined = d
        .records
        .values()
        .any(|x| x.host == r.host && !x.line.is_empty());
    let defaults = d
        .records
        .values()
        .filter(|x| x.host == r.host && x.line.is_empty())
        .count();
    if r.line.is_empty() && lined && defaults == 1 {
        return Err(SimErr::new(
            code::BAD_LINE,
            "line: 该主机还有线路记录，不能删除最后一条默认线路记录",
        ));
    }
    d.records.remove(&id);
    d.deleted.insert(id);
    Ok(())
}

fn rec_json(r: &Record) -> Value {
    json!({"id":r.id,"item":r.host,"value":r.value,"type":r.rtype,"ttl":r.ttl,"line":r.line,"level":r.level,"pause":u8::from(r.pause)})
}

pub(crate) fn handler(name: &str) -> Option<Handler> {
    Some(match name {
        "domain.adddnsrecord" => adddnsrecord,
        "domain.moddnsrecord" => moddnsrecord,
        "domain.deldnsrecord" => deldnsrecord,
        "domain.pausednsrecord" => pausednsrecord,
        "domain.getdnsrecord" => getdnsrecord,
        "domain.getdnsrecords" => getdnsrecords,
        "dnsrec.list" => legacy_list,
        "dnsrec.add" => legacy_add,
        "dnsrec.modify" => legacy_modify,
        "dnsrec.update" => legacy_update,
        "dnsrec.remove" => legacy_remove,
        _ => return None,
    })
}

fn zone_name(q: &Req) -> Result<String, SimErr> {
    Ok(q.need("domain")?.to_lowercase())
}

/// The line as sent: an explicit `""` is the default line.
fn line(q: &Req, k: &str) -> Option<String> {
    q.raw(k).map(|l| l.trim().to_string())
}

fn adddnsrecord(st: &mut State, q: &Req) -> R {
    let zname = zone_name(q)?;
    let input = Record {
        host: q.need("host")?.into(),
        rtype: q.need("type")?.into(),
        value: q.need("value")?.into(),
        ttl: q.int("ttl")?,
        level: q.int("level")?,
        line: line(q, "line").unwrap_or_default(),
        ..Record::default()
    };
    let id = add(st, &zname, input)?;
    Ok(json!({"id":id}))
}

/// Replaces record `id` of a zone with what `change` makes of it, under every rule of
/// [`apply`].
fn modify(
    st: &mut State,
    zname: &str,
    id: u64,
    change: impl FnOnce(Record) -> Result<Record, SimErr>,
) -> Result<(), SimErr> {
    let d = zone(st, zname)?;
    let cur = existing(d, id)?.clone();
    apply(d, id, change(cur)?, true)
}

fn moddnsrecord(st: &mut State, q: &Req) -> R {
    let zname = zone_name(q)?;
    let id = q.id("id")?;
    modify(st, &zname, id, |cur| {
        Ok(Record {
            host: q.arg("host").map_or(cur.host, str::to_string),
            rtype: q.arg("type").map_or(cur.rtype, str::to_string),
            value: q.need("value")?.into(),
            ttl: q.opt_int("ttl")?.unwrap_or(cur.ttl),
            level: q.opt_int("level")?.unwrap_or(cur.level),
            line: line(q, "line").unwrap_or(cur.line),
            ..Record::default()
        })
    })?;
    Ok(json!({"id":id}))
}

fn deldnsrecord(st: &mut State, q: &Req) -> R {
    let zname = zone_name(q)?;
    let id = q.id("id")?;
    remove(zone(st, &zname)?, id)?;
    Ok(json!({"id":id}))
}

/// `val` (live) or `pause` (the catalog's name): 1 pauses, 0 resumes.
fn pausednsrecord(st: &mut State, q: &Req) -> R {
    let zname = zone_name(q)?;
    let id = q.id("id")?;
    let val = q.arg("val").or_else(|| q.arg("pause")) == Some("1");
    let d = zone(st, &zname)?;
    existing(d, id)?;
    if let Some(r) = d.records.get_mut(&id) {
        r.pause = val;
    }
    Ok(json!({"id":id,"pause":u8::from(val)}))
}

fn getdnsrecord(st: &mut State, q: &Req) -> R {
    let zname = zone_name(q)?;
    let host = q.need("host")?.to_lowercase();
    let t = q.arg("type").map(str::to_ascii_uppercase);
    let d = zone(st, &zname)?;
    let items: Vec<Value> = d
        .records
        .values()
        .filter(|r| r.host == host && t.as_ref().is_none_or(|t| &r.rtype == t))
        .map(rec_json)
        .collect();
    if items.is_empty() {
        return Err(SimErr::table(code::NO_RECORDS));
    }
    Ok(json!({"total":items.len(),"items":items}))
}

fn getdnsrecords(st: &mut State, q: &Req) -> R {
    let zname = zone_name(q)?;
    let paging = q.paging()?;
    let d = zone(st, &zname)?;
    let all: Vec<&Record> = d.records.values().collect();
    if all.is_empty() {
        return Err(SimErr::table(code::NO_RECORDS));
    }
    Ok(page(&all, paging, |r| rec_json(r)))
}

// ---- the older record API -------------------------------------------------------

/// The older API's `{code,msg,body}` for a West error: its own codes pass as they are,
/// the main API's map to the nearest HTTP-like one.
pub(crate) fn legacy_err(e: SimErr) -> Value {
    let legacy = match e.code {
        code::NO_DOMAIN | code::DNS_ELSEWHERE | code::DOMAIN_ELSEWHERE | code::BAD_ID => {
            code::LEGACY_NOT_FOUND
        }
        code::DUPLICATE => code::LEGACY_CONFLICT,
        code::ALREADY_DELETED => code::LEGACY_GONE,
        code::AUTH_MISSING | code::AUTH_FAILED | code::IP_DENIED => code::LEGACY_AUTH,
        own @ (code::LEGACY_AUTH
        | code::LEGACY_IP_DENIED
        | code::LEGACY_NOT_FOUND
        | code::LEGACY_CONFLICT
        | code::LEGACY_GONE) => own,
        _ => code::LEGACY_INVALID,
    };
    json!({"code":number(legacy),"msg":e.msg,"body":{}})
}

/// The zone a (possibly full) name belongs to, and the labels left of it.
fn resolve(st: &State, name: &str) -> Option<(String, String)> {
    let name = name.trim().trim_end_matches('.').to_lowercase();
    let mut rest = name.as_str();
    loop {
        if st.domains.contains_key(rest) {
            let prefix = name[..name.len() - rest.len()]
                .trim_end_matches('.')
                .to_string();
            return Some((rest.to_string(), prefix));
        }
        rest = rest.split_once('.')?.1;
    }
}

/// The older API's act (on its own path, or any `v2/domain` one), once its caller is
/// authenticated: username + apikey (md5 of the API password), or the domain's own key.
/// Authentication comes before the domain is looked up, so an unauthenticated caller
/// cannot probe which domains the account holds.
pub(crate) fn legacy_route(
    st: &State,
    req: &Incoming,
    path: &str,
    act: &str,
) -> Result<&'static ActionSpec, SimErr> {
    let action = super::find_action("v2/domain/dns", act)
        .filter(|_| path.is_empty() || path.starts_with("v2/domain"))
        .ok_or_else(|| SimErr::table(code::LEGACY_INVALID))?;
    let apikey_ok = req.raw("username") == Some(st.username.as_str())
        && req
            .raw("apikey")
            .is_some_and(|k| k.eq_ignore_ascii_case(&crate::md5_hex(&st.api_password)));
    let domkey_ok = || {
        let key = req.raw("apidomainkey")?;
        let (zone, _) = resolve(st, req.raw("domain").unwrap_or_default())?;
        let d = st.domains.get(&zone)?;
        Some(key.eq_ignore_ascii_case(&crate::md5_hex(&d.password)))
    };
    if !apikey_ok && domkey_ok() != Some(true) {
        return Err(SimErr::table(code::LEGACY_AUTH));
    }
    Ok(action)
}

/// The zone `domain` names and the labels left of it (the host prefix).
fn legacy_zone(st: &State, q: &Req) -> Result<(String, String), SimErr> {
    resolve(st, q.raw("domain").unwrap_or_default())
        .ok_or_else(|| SimErr::table(code::LEGACY_NOT_FOUND))
}

/// `hostname` joined to the prefix the domain carried. A full name within the zone
/// (`_acme-challenge.www.example.com`, with `domain` the zone or that same name) is
/// absolute: public clients send exactly that and rely on the record landing there, so
/// the zone is not appended again.
fn legacy_host(q: &Req, zone: &str, prefix: &str) -> String {
    let h = q.arg("hostname").unwrap_or("").trim().to_lowercase();
    let h = h.trim_end_matches('.');
    if h == zone {
        return "@".into();
    }
    if let Some(label) = h.strip_suffix(zone).and_then(|l| l.strip_suffix('.')) {
        if !label.is_empty() {
            return label.to_string();
        }
    }
    match (h, prefix.is_empty()) {
        ("" | "@", true) => "@".into(),
        ("" | "@", false) => prefix.into(),
        (_, true) => h.to_string(),
        (_, false) => format!("{h}.{prefix}"),
    }
}

fn legacy_json(r: &Record) -> Value {
    json!({"record_id":r.id,"hostname":r.host,"record_type":r.rtype,"record_value":r.value,"record_line":r.line,"record_ttl":r.ttl,"record_level":r.level,"pause":u8::from(r.pause)})
}

fn legacy_list(st: &mut State, q: &Req) -> R {
    let (zname, prefix) = legacy_zone(st, q)?;
    let h = q.arg("hostname").map(|_| legacy_host(q, &zname, &prefix));
    let t = q.arg("record_type").map(str::to_ascii_uppercase);
    let l = q.arg("record_line");
    let paging = q.paging()?;
    let d = zone(st, &zname)?;
    let all: Vec<&Record> = d
        .records
        .values()
        .filter(|r| {
            h.as_ref().is_none_or(|h| &r.host == h)
                && t.as_ref().is_none_or(|t| &r.rtype == t)
                && l.is_none_or(|l| r.line == l)
        })
        .collect();
    let mut v = page(&all, paging, |r| legacy_json(r));
    v["domain"] = json!(zname);
    Ok(v)
}

fn legacy_add(st: &mut State, q: &Req) -> R {
    let (zname, prefix) = legacy_zone(st, q)?;
    let input = Record {
        host: legacy_host(q, &zname, &prefix),
        rtype: q.need("record_type")?.into(),
        value: q.need("record_value")?.into(),
        ttl: q.int("record_ttl")?,
        level: q.int("record_level")?,
        line: q.arg("record_line").unwrap_or_default().into(),
        ..Record::default()
    };
    Ok(json!({"record_id":add(st, &zname, input)?}))
}

fn legacy_modify(st: &mut State, q: &Req) -> R {
    let (zname, _) = legacy_zone(st, q)?;
    let id = q.id("record_id")?;
    modify(st, &zname, id, |cur| {
        Ok(Record {
            value: q.arg("record_value").map_or(cur.value, str::to_string),
            ttl: q.opt_int("record_ttl")?.unwrap_or(cur.ttl),
            level: q.opt_int("record_level")?.unwrap_or(cur.level),
            line: line(q, "record_line").unwrap_or(cur.line),
            ..cur
        })
    })?;
    Ok(json!({"record_id":id}))
}

/// Upsert by hostname, type and line (DDNS clients).
fn legacy_update(st: &mut State, q: &Req) -> R {
    let (zname, prefix) = legacy_zone(st, q)?;
    let h = legacy_host(q, &zname, &prefix);
    let t = q
        .arg("record_type")
        .unwrap_or_default()
        .to_ascii_uppercase();
    let line = q.arg("record_line").unwrap_or_default().to_string();
    let value = q.need("record_value")?;
    let ttl = q.opt_int("record_ttl")?;
    let d = zone(st, &zname)?;
    let found = d
        .records
        .values()
        .find(|r| r.host == h && r.rtype == t && r.line == line)
        .cloned();
    let input = |ttl: i64, level: i64| Record {
        host: h.clone(),
        rtype: t.clone(),
        value: value.into(),
        ttl,
        level,
        line: line.clone(),
        ..Record::default()
    };
    match found {
        // An update that changes nothing is a success, not a duplicate error: DDNS
        // clients send the same address every few minutes.
        Some(r) if r.value.eq_ignore_ascii_case(value.trim()) && ttl.is_none_or(|t| t == r.ttl) => {
            Ok(json!({"record_id":r.id}))
        }
        Some(r) => {
            apply(d, r.id, input(ttl.unwrap_or(r.ttl), r.level), true)?;
            Ok(json!({"record_id":r.id}))
        }
        None => Ok(json!({"record_id":add(st, &zname, input(ttl.unwrap_or(900), 10))?})),
    }
}

fn legacy_remove(st: &mut State, q: &Req) -> R {
    let (zname, _) = legacy_zone(st, q)?;
    let id = q.id("record_id")?;
    remove(zone(st, &zname)?, id)?;
    Ok(json!({"record_id":id}))
}
