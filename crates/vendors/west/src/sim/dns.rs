//! DNS records: one zone store (`Domain::records`) served by both record APIs — the v2
//! `adddnsrecord` family and the older `/v2/domain/dns/` `dnsrec.*` API with its own
//! envelope and auth. Validation lives once, in `apply`.

use super::domain::{Domain, Record};
use super::{page, Req, SimErr, State, R};
use crate::errors::code;
use idcgate_wire::form;
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

pub(crate) fn handle(st: &mut State, act: &str, q: &Req) -> R {
    let zname = q.req("domain")?.to_lowercase();
    match act {
        "adddnsrecord" => {
            let input = Record {
                host: q.req("host")?.into(),
                rtype: q.req("type")?.into(),
                value: q.req("value")?.into(),
                ttl: q.opt_int("ttl")?.unwrap_or(900),
                level: q.opt_int("level")?.unwrap_or(10),
                line: q.raw("line").unwrap_or_default().trim().to_string(),
                ..Record::default()
            };
            let id = add(st, &zname, input)?;
            Ok(json!({"id":id}))
        }
        "moddnsrecord" => {
            let id = q.id("id")?;
            let d = zone(st, &zname)?;
            let cur = existing(d, id)?.clone();
            let input = Record {
                host: q.get("host").map_or(cur.host, str::to_string),
                rtype: q.get("type").map_or(cur.rtype, str::to_string),
                value: q.req("value")?.into(),
                ttl: q.opt_int("ttl")?.unwrap_or(cur.ttl),
                level: q.opt_int("level")?.unwrap_or(cur.level),
                line: q.raw("line").map_or(cur.line, |l| l.trim().to_string()),
                ..Record::default()
            };
            apply(d, id, input, true)?;
            Ok(json!({"id":id}))
        }
        "deldnsrecord" => {
            let id = q.id("id")?;
            remove(zone(st, &zname)?, id)?;
            Ok(json!({"id":id}))
        }
        "pausednsrecord" => {
            let id = q.id("id")?;
            let val = q
                .get("val")
                .or_else(|| q.get("pause"))
                .ok_or_else(|| SimErr::invalid("val", "val必传(1暂停,0启用)"))?
                == "1";
            let d = zone(st, &zname)?;
            existing(d, id)?;
            if let Some(r) = d.records.get_mut(&id) {
                r.pause = val;
            }
            Ok(json!({"id":id,"pause":u8::from(val)}))
        }
        "getdnsrecord" => {
            let host = q.req("host")?.to_lowercase();
            let t = q.get("type").map(str::to_ascii_uppercase);
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
        "getdnsrecords" => {
            let paging = q.paging()?;
            let d = zone(st, &zname)?;
            let all: Vec<&Record> = d.records.values().collect();
            if all.is_empty() {
                return Err(SimErr::table(code::NO_RECORDS));
            }
            Ok(page(&all, paging, |r| rec_json(r)))
        }
        other => Err(super::unhandled(other)),
    }
}

// ---- the older record API -------------------------------------------------------

pub(crate) fn legacy_env(e: SimErr, body: Value) -> Value {
    json!({"code":e.errcode(),"msg":e.msg,"body":body})
}

/// West error -> the older API's code.
fn legacy_err(e: SimErr) -> Value {
    let legacy = match e.code {
        code::NO_DOMAIN | code::DNS_ELSEWHERE | code::DOMAIN_ELSEWHERE | code::BAD_ID => {
            code::LEGACY_NOT_FOUND
        }
        code::DUPLICATE => code::LEGACY_CONFLICT,
        code::ALREADY_DELETED => code::LEGACY_GONE,
        code::AUTH_MISSING | code::AUTH_FAILED | code::IP_DENIED => code::LEGACY_AUTH,
        _ => code::LEGACY_INVALID,
    };
    legacy_env(SimErr::new(legacy, e.msg), json!({}))
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

fn join_host(hostname: Option<&str>, prefix: &str) -> String {
    let h = hostname.unwrap_or("").trim().to_lowercase();
    match (h.as_str(), prefix.is_empty()) {
        ("" | "@", true) => "@".into(),
        ("" | "@", false) => prefix.into(),
        (_, true) => h,
        (_, false) => format!("{h}.{prefix}"),
    }
}

fn legacy_json(r: &Record) -> Value {
    json!({"record_id":r.id,"hostname":r.host,"record_type":r.rtype,"record_value":r.value,"record_line":r.line,"record_ttl":r.ttl,"record_level":r.level,"pause":u8::from(r.pause)})
}

pub(crate) fn legacy(
    st: &mut State,
    path: &str,
    act: &str,
    pairs: Vec<(String, String)>,
    now: i64,
) -> Value {
    let Some(action) = super::find_action("v2/domain/dns", act)
        .filter(|_| path.is_empty() || path.starts_with("v2/domain"))
    else {
        return legacy_env(SimErr::table(code::LEGACY_INVALID), json!({}));
    };
    // Authenticate before looking the domain up, so an unauthenticated caller cannot
    // probe which domains the account holds: username + apikey (md5 of the API
    // password), or the domain's own key.
    let domain = form::get(&pairs, "domain").unwrap_or_default();
    let apikey_ok = form::get(&pairs, "username") == Some(st.username.as_str())
        && form::get(&pairs, "apikey")
            .is_some_and(|k| k.eq_ignore_ascii_case(&crate::md5_hex(&st.api_password)));
    let resolved = resolve(st, domain);
    let domkey_ok = || {
        let key = form::get(&pairs, "apidomainkey")?;
        let d = st.domains.get(&resolved.as_ref()?.0)?;
        Some(key.eq_ignore_ascii_case(&crate::md5_hex(&d.password)))
    };
    if !apikey_ok && domkey_ok() != Some(true) {
        return legacy_env(SimErr::table(code::LEGACY_AUTH), json!({}));
    }
    let q = match Req::new(pairs, action, now) {
        Ok(q) => q,
        Err(e) => return legacy_err(e),
    };
    let Some((zname, prefix)) = resolved else {
        return legacy_env(SimErr::table(code::LEGACY_NOT_FOUND), json!({}));
    };
    match legacy_op(st, action.name(), &q, &zname, &prefix) {
        Ok(body) => json!({"code":200,"msg":"success","body":body}),
        Err(e) => legacy_err(e),
    }
}

fn legacy_op(st: &mut State, name: &str, q: &Req, zname: &str, prefix: &str) -> R {
    let host = || join_host(q.get("hostname"), prefix);
    match name {
        "dnsrec.list" => {
            let h = q.get("hostname").map(|_| host());
            let t = q.get("record_type").map(str::to_ascii_uppercase);
            let l = q.get("record_line");
            let paging = q.paging()?;
            let d = zone(st, zname)?;
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
        "dnsrec.add" => {
            let input = Record {
                host: host(),
                rtype: q.req("record_type")?.into(),
                value: q.req("record_value")?.into(),
                ttl: q.opt_int("record_ttl")?.unwrap_or(900),
                level: q.opt_int("record_level")?.unwrap_or(10),
                line: q.get("record_line").unwrap_or_default().into(),
                ..Record::default()
            };
            Ok(json!({"record_id":add(st, zname, input)?}))
        }
        "dnsrec.modify" => {
            let id = q.id("record_id")?;
            let d = zone(st, zname)?;
            let cur = existing(d, id)?.clone();
            let input = Record {
                host: cur.host,
                rtype: cur.rtype,
                value: q.get("record_value").map_or(cur.value, str::to_string),
                ttl: q.opt_int("record_ttl")?.unwrap_or(cur.ttl),
                level: q.opt_int("record_level")?.unwrap_or(cur.level),
                line: q
                    .raw("record_line")
                    .map_or(cur.line, |l| l.trim().to_string()),
                ..Record::default()
            };
            apply(d, id, input, true)?;
            Ok(json!({"record_id":id}))
        }
        "dnsrec.update" => {
            let h = host();
            let t = q.get("record_type").unwrap_or("A").to_ascii_uppercase();
            let line = q.get("record_line").unwrap_or_default().to_string();
            let d = zone(st, zname)?;
            let found = d
                .records
                .values()
                .find(|r| r.host == h && r.rtype == t && r.line == line)
                .cloned();
            let input = |ttl: i64, level: i64| -> Result<Record, SimErr> {
                Ok(Record {
                    host: h.clone(),
                    rtype: t.clone(),
                    value: q.req("record_value")?.into(),
                    ttl: q.opt_int("record_ttl")?.unwrap_or(ttl),
                    level,
                    line: line.clone(),
                    ..Record::default()
                })
            };
            match found {
                // An update that changes nothing is a success, not a duplicate error:
                // DDNS clients send the same address every few minutes.
                Some(r)
                    if r.value.eq_ignore_ascii_case(q.req("record_value")?.trim())
                        && q.opt_int("record_ttl")?.is_none_or(|t| t == r.ttl) =>
                {
                    Ok(json!({"record_id":r.id}))
                }
                Some(r) => {
                    apply(d, r.id, input(r.ttl, r.level)?, true)?;
                    Ok(json!({"record_id":r.id}))
                }
                None => Ok(json!({"record_id":add(st, zname, input(900, 10)?)?})),
            }
        }
        "dnsrec.remove" => {
            let id = q.id("record_id")?;
            remove(zone(st, zname)?, id)?;
            Ok(json!({"record_id":id}))
        }
        other => Err(super::unhandled(other)),
    }
}
