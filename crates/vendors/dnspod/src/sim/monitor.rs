//! D监控 (HTTP(S) availability monitoring of A records): monitors, their status and
//! history, outages. Probing is simulated: a monitor is `Ok` until a test reports an
//! outage through [`super::Sim::monitor_outage`]; history samples are derived from the
//! interval and the recorded outages, so they are stable for a given clock.

use super::common::{
    bad_domain_id, dom, domain_status, find_domain, fmt_time, ok, paging, rec, yes_no, Access,
};
use super::render::{obj, s, V};
use super::state::{Monitor, State};
use super::{fail, fail_as, Args, Fail, Handler, Req, R};
use crate::errors::text;
use jiff::{SignedDuration, Timestamp};

/// Monitoring nodes: code, name.
const POINTS: &[(&str, &str)] = &[("ctc", "电信"), ("cuc", "联通"), ("cmc", "移动")];
const MAX_POINTS: usize = 3;

pub(super) fn handler(name: &str) -> Option<Handler> {
    Some(match name {
        "Monitor.Listsubdomain" => list_subdomain,
        "Monitor.Listsubvalue" => list_subvalue,
        "Monitor.List" => list,
        "Monitor.Create" => create,
        "Monitor.Modify" => modify,
        "Monitor.Remove" => remove,
        "Monitor.Info" => info,
        "Monitor.Setstatus" => set_status,
        "Monitor.Gethistory" => history,
        "Monitor.Userdesc" => userdesc,
        "Monitor.Getdowns" => getdowns,
        _ => return None,
    })
}

/// Monitor.Listsubdomain/Listsubvalue swap the usual codes: 6 = no such domain, 7 = bad id.
fn monitor_domain(st: &State, rq: &Req<'_>) -> Result<u64, Fail> {
    if let Some(id) = rq.arg("domain_id") {
        if id.parse::<u64>().is_err() {
            return Err(fail(text::DOMAIN_ID_INVALID_7));
        }
    }
    find_domain(st, rq, Access::Read).map_err(|f| match f.code.as_str() {
        "6" | "13" => fail(text::DOMAIN_NOT_EXISTS_6),
        _ => f,
    })
}

fn a_records(st: &State, did: u64) -> impl Iterator<Item = &super::state::Record> {
    st.domains
        .get(&did)
        .into_iter()
        .flat_map(|d| d.records.values())
        .filter(|r| r.rtype == "A")
}

fn list_subdomain(st: &mut State, rq: &Req<'_>) -> R {
    let did = monitor_domain(st, rq)?;
    let d = dom(st, did)?;
    let mut names: Vec<String> = a_records(st, did).map(|r| r.name.clone()).collect();
    names.sort();
    names.dedup();
    if names.is_empty() {
        return Err(fail(text::DOMAIN_HAS_NO_RECORDS));
    }
    let owner = st
        .accounts
        .get(&d.owner)
        .map(|a| a.email.clone())
        .unwrap_or_default();
    ok(vec![
        (
            "domain",
            obj!("id" => d.id, "name" => &d.name, "punycode" => &d.name, "grade" => d.grade, "owner" => owner),
        ),
        (
            "subdomain",
            V::Arr(names.into_iter().map(V::from).collect()),
        ),
    ])
}

fn list_subvalue(st: &mut State, rq: &Req<'_>) -> R {
    let did = monitor_domain(st, rq)?;
    let d = dom(st, did)?;
    let sub = rq.str("subdomain").to_lowercase();
    let records: Vec<V> = a_records(st, did)
        .filter(|r| r.name == sub)
        .map(|r| obj!("id" => s(r.id), "area" => &r.line, "value" => &r.value))
        .collect();
    let list = V::Obj(
        POINTS
            .iter()
            .map(|(k, v)| (k.to_string(), V::from(*v)))
            .collect(),
    );
    ok(vec![
        (
            "domain",
            obj!("id" => d.id, "name" => &d.name, "punycode" => &d.name, "grade" => d.grade),
        ),
        ("points", obj!("max" => 999i64, "list" => list)),
        ("records", V::Arr(records)),
    ])
}

fn status_of(m: &Monitor) -> (&'static str, i64) {
    match m.downs.last() {
        Some(_) => ("Down", -3),
        None => ("Ok", 200),
    }
}

fn monitor_obj(st: &State, m: &Monitor) -> V {
    let d = st.domains.get(&m.domain_id);
    let r = d.and_then(|d| d.records.get(&m.record_id));
    let ip = r.map(|r| r.value.clone()).unwrap_or_default();
    let (status, code) = status_of(m);
    obj!(
        "monitor_id" => &m.id,
        "domain" => d.map(|d| d.name.clone()).unwrap_or_default(),
        "domain_id" => s(m.domain_id),
        "domain_grade" => d.map_or("", |d| d.grade),
        "record_id" => s(m.record_id),
        "sub_domain" => r.map(|r| r.name.clone()).unwrap_or_default(),
        "record_line" => r.map(|r| r.line.clone()).unwrap_or_default(),
        "ip" => &ip,
        "now_ip" => &ip,
        "host" => &m.host,
        "port" => s(m.port),
        "monitor_type" => &m.monitor_type,
        "monitor_path" => &m.path,
        "monitor_interval" => s(m.interval),
        "points" => &m.points,
        "bak_ip" => &m.bak_ip,
        "status" => status,
        "status_code" => code,
        "sms_notice" => &m.sms_notice,
        "email_notice" => &m.email_notice,
        "less_notice" => yes_no(m.less_notice),
        "callback_url" => &m.callback_url,
        "callback_key" => &m.callback_key,
        "monitor_status" => if m.enabled { "enabled" } else { "disabled" },
        "created_on" => fmt_time(m.created),
        "updated_on" => fmt_time(m.updated),
        "bak_ip_status" => V::Arr(Vec::new()),
    )
}

fn mine<'a>(st: &'a State, rq: &Req<'_>) -> impl Iterator<Item = &'a Monitor> {
    let actor = rq.actor();
    st.monitors.values().filter(move |m| m.owner == actor)
}

fn list(st: &mut State, rq: &Req<'_>) -> R {
    let monitors: Vec<&Monitor> = mine(st, rq).collect();
    let down = monitors.iter().filter(|m| !m.downs.is_empty()).count();
    let items: Vec<V> = monitors.iter().map(|m| monitor_obj(st, m)).collect();
    ok(vec![
        (
            "info",
            obj!("total_count" => items.len(), "down_count" => down),
        ),
        ("monitors", V::Arr(items)),
    ])
}

/// Settings shared by Create and Modify, validated with the documented codes.
struct Settings {
    port: u16,
    interval: u32,
    host: Option<String>,
    monitor_type: String,
    path: String,
    points: String,
    bak_ip: String,
}

fn settings(rq: &Req<'_>, host_required: bool) -> Result<Settings, Fail> {
    let host = rq.arg("host").map(str::to_string);
    let host_ok = |h: &str| {
        !h.is_empty()
            && h.split('.')
                .all(|l| !l.is_empty() && l.chars().all(|c| c.is_alphanumeric() || c == '-'))
    };
    match &host {
        Some(h) if !host_ok(h) => return Err(fail(text::HOST_HEADER_INVALID)),
        None if host_required => return Err(fail(text::HOST_HEADER_INVALID)),
        _ => {}
    }
    let port = rq
        .str("port")
        .parse::<u16>()
        .ok()
        .filter(|p| *p > 0)
        .ok_or_else(|| fail(text::PORT_INVALID))?;
    let monitor_type = rq.str("monitor_type").to_lowercase();
    if monitor_type != "http" && monitor_type != "https" {
        return Err(fail(text::MONITOR_TYPE_INVALID));
    }
    let path = rq.str("monitor_path").to_string();
    if !path.starts_with('/') {
        return Err(fail(text::MONITOR_PATH_INVALID));
    }
    let interval = rq
        .str("monitor_interval")
        .parse::<u32>()
        .ok()
        .filter(|i| [60, 180, 360].contains(i))
        .ok_or_else(|| fail(text::MONITOR_INTERVAL_INVALID))?;
    let points: Vec<&str> = rq
        .str("points")
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect();
    if points.is_empty()
        || points
            .iter()
            .any(|p| !POINTS.iter().any(|(code, _)| code == p))
    {
        return Err(fail(text::MONITOR_POINTS_INVALID));
    }
    if points.len() > MAX_POINTS {
        return Err(fail(text::TOO_MANY_MONITOR_POINTS));
    }
    let bak_ip = rq.str("bak_ip").to_string();
    let keyword = ["pass", "pause", "pause2", "auto"].contains(&bak_ip.as_str());
    let ips_ok = !bak_ip.is_empty()
        && bak_ip
            .split(',')
            .all(|ip| ip.trim().parse::<std::net::Ipv4Addr>().is_ok());
    if !keyword && !ips_ok {
        return Err(fail(text::BACKUP_IP_INVALID));
    }
    for key in ["sms_notice", "email_notice"] {
        if let Some(v) = rq.arg(key) {
            if !v.split(',').all(|x| x == "me" || x == "share") {
                return Err(fail(if key == "sms_notice" {
                    text::SMS_NOTICE_INVALID
                } else {
                    text::EMAIL_NOTICE_INVALID
                }));
            }
        }
    }
    if let Some(url) = rq.arg("callback_url") {
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(fail(text::CALLBACK_URL_INVALID));
        }
    }
    Ok(Settings {
        port,
        interval,
        host,
        monitor_type,
        path,
        points: points.join(","),
        bak_ip,
    })
}

fn apply(m: &mut Monitor, set: Settings, rq: &Req<'_>) {
    m.port = set.port;
    m.interval = set.interval;
    if let Some(h) = set.host {
        m.host = h;
    }
    m.monitor_type = set.monitor_type;
    m.path = set.path;
    m.points = set.points;
    m.bak_ip = set.bak_ip;
    // Switches and texts a call may leave out (then they stay as they were).
    for (k, on) in [
        ("keep_ttl", &mut m.keep_ttl),
        ("less_notice", &mut m.less_notice),
    ] {
        if let Some(v) = rq.arg(k) {
            *on = v == "yes";
        }
    }
    for (k, text) in [
        ("sms_notice", &mut m.sms_notice),
        ("email_notice", &mut m.email_notice),
        ("callback_url", &mut m.callback_url),
        ("callback_key", &mut m.callback_key),
    ] {
        if let Some(v) = rq.present(k) {
            *text = v.into();
        }
    }
    m.updated = rq.now();
}

/// Monitors per account: free accounts get 10, accounts with a VIP domain 100.
fn quota(st: &State, rq: &Req<'_>) -> usize {
    let vip = st
        .domains
        .values()
        .any(|d| d.owner == rq.actor() && d.vip.is_some());
    if vip {
        100
    } else {
        10
    }
}

fn create(st: &mut State, rq: &Req<'_>) -> R {
    let did: u64 = rq.str("domain_id").parse().map_err(|_| bad_domain_id())?;
    let did = find_domain(st, rq, Access::Write).map(|_| did)?;
    // Only A records are monitored; everything else is "no such record" (code 7 here).
    let bad_record = || fail(text::RECORD_ID_INVALID_7);
    let r = rq
        .str("record_id")
        .parse()
        .ok()
        .and_then(|rid| rec(st, did, rid).ok())
        .filter(|r| r.rtype == "A")
        .ok_or_else(bad_record)?;
    let rid = r.id;
    let set = settings(rq, true)?;
    if st.monitors.values().any(|m| m.record_id == rid) {
        return Err(fail(text::RECORD_IS_ALREADY_MONITORED));
    }
    if mine(st, rq).count() >= quota(st, rq) {
        return Err(fail(text::MONITOR_QUOTA_EXCEEDED));
    }
    let n = st.misc_id();
    let h = format!(
        "{:032x}",
        u128::from(n).wrapping_mul(0x9e37_79b9_7f4a_7c15_f39c_c060_5ced_c835) ^ u128::from(rid)
    );
    let id = format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    );
    let mut m = Monitor {
        id: id.clone(),
        owner: rq.actor(),
        domain_id: did,
        record_id: rid,
        port: 80,
        interval: 60,
        host: String::new(),
        monitor_type: String::new(),
        path: String::new(),
        points: String::new(),
        bak_ip: String::new(),
        keep_ttl: false,
        sms_notice: "me".into(),
        email_notice: "me".into(),
        less_notice: false,
        callback_url: String::new(),
        callback_key: String::new(),
        enabled: true,
        created: rq.now(),
        updated: rq.now(),
        downs: Vec::new(),
    };
    apply(&mut m, set, rq);
    st.monitors.insert(id.clone(), m);
    ok(vec![(
        "monitor",
        obj!("monitor_id" => id, "record_id" => rid),
    )])
}

fn own_monitor<'a>(st: &'a mut State, rq: &Req<'_>, code: &str) -> Result<&'a mut Monitor, Fail> {
    let id = rq.str("monitor_id").to_string();
    st.monitors
        .get_mut(&id)
        .filter(|m| m.owner == rq.actor())
        .ok_or_else(|| fail_as(code, text::MONITOR_ID_INVALID))
}

fn modify(st: &mut State, rq: &Req<'_>) -> R {
    own_monitor(st, rq, "7")?;
    let set = settings(rq, false)?;
    let m = own_monitor(st, rq, "7")?;
    apply(m, set, rq);
    ok(vec![])
}

fn remove(st: &mut State, rq: &Req<'_>) -> R {
    let id = own_monitor(st, rq, "6")?.id.clone();
    st.monitors.remove(&id);
    ok(vec![])
}

fn info(st: &mut State, rq: &Req<'_>) -> R {
    let m = own_monitor(st, rq, "7")?.clone();
    ok(vec![("info", monitor_obj(st, &m))])
}

fn set_status(st: &mut State, rq: &Req<'_>) -> R {
    let m = own_monitor(st, rq, "6")?.clone();
    // The parameter list says enabled|disabled, the example sends disable: take both.
    let enable = match rq.str("status") {
        "enabled" | "enable" => true,
        "disabled" | "disable" => false,
        _ => return Err(fail(text::STATUS_INVALID)),
    };
    if enable {
        let d = dom(st, m.domain_id)?;
        if domain_status(d, rq.now()) != "enable" {
            return Err(fail(text::ENABLE_THE_DOMAIN_FIRST));
        }
        if !rec(st, m.domain_id, m.record_id)?.enabled {
            return Err(fail(text::ENABLE_THE_RECORD_FIRST));
        }
    }
    let m = own_monitor(st, rq, "6")?;
    m.enabled = enable;
    m.updated = rq.now();
    ok(vec![])
}

fn history(st: &mut State, rq: &Req<'_>) -> R {
    let m = own_monitor(st, rq, "6")?.clone();
    let hours: i64 = rq
        .arg("hours")
        .and_then(|h| h.parse().ok())
        .filter(|h| *h > 0)
        .unwrap_or(1)
        .min(24 * 7);
    let d = dom(st, m.domain_id)?;
    let r = rec(st, m.domain_id, m.record_id)?;
    let step = SignedDuration::from_secs(i64::from(m.interval));
    let from = rq.now() - SignedDuration::from_hours(hours);
    let start = if m.created > from { m.created } else { from };
    let mut samples: Vec<Timestamp> = Vec::new();
    let mut t = start;
    while t <= rq.now() && samples.len() < 500 {
        samples.push(t);
        t += step;
    }
    let points: Vec<V> = m
        .points
        .split(',')
        .filter(|p| !p.is_empty())
        .enumerate()
        .map(|(i, point)| {
            let data: Vec<V> = samples
                .iter()
                .rev()
                .map(|ts| {
                    let down = m.downs.iter().any(|(at, _)| at <= ts);
                    let (status, code) = if down { ("Down", -3i64) } else { ("Ok", 200) };
                    // Stable pseudo response time per node and sample.
                    let rt = 20 + (ts.as_second().rem_euclid(97) + 13 * i as i64) % 80;
                    obj!("status" => status, "status_code" => code, "createtime" => fmt_time(*ts), "responsetime" => if down { 0 } else { rt })
                })
                .collect();
            obj!("data" => obj!("message" => "ok", "code" => 200i64, "data" => data), "point" => point)
        })
        .collect();
    ok(vec![
        (
            "domain",
            obj!("id" => s(d.id), "domain" => &d.name, "domain_grade" => d.grade),
        ),
        (
            "record",
            obj!("id" => s(r.id), "sub_domain" => &r.name, "ip" => &r.value),
        ),
        ("monitor_history", V::Arr(points)),
    ])
}

fn userdesc(st: &mut State, rq: &Req<'_>) -> R {
    let monitored: Vec<u64> = mine(st, rq).map(|m| m.record_id).collect();
    let down = mine(st, rq).filter(|m| !m.downs.is_empty()).count();
    let unmonitored = st
        .domains
        .values()
        .filter(|d| d.owner == rq.actor())
        .flat_map(|d| d.records.values())
        .filter(|r| r.rtype == "A" && !monitored.contains(&r.id))
        .count();
    ok(vec![
        (
            "desc",
            obj!("unmoniting_count" => unmonitored, "moniting_count" => monitored.len(), "down_count" => down),
        ),
        (
            "user",
            obj!("max_count" => quota(st, rq), "use_count" => monitored.len()),
        ),
    ])
}

fn getdowns(st: &mut State, rq: &Req<'_>) -> R {
    let (offset, length) = paging(rq, 6, usize::MAX)?;
    let mut downs: Vec<(&Monitor, &(Timestamp, String))> = mine(st, rq)
        .flat_map(|m| m.downs.iter().map(move |d| (m, d)))
        .collect();
    downs.sort_by_key(|(_, (at, _))| std::cmp::Reverse(*at));
    let total = downs.len();
    let items: Vec<V> = downs
        .iter()
        .skip(offset)
        .take(length)
        .map(|(m, (at, reason))| {
            let r = st
                .domains
                .get(&m.domain_id)
                .and_then(|d| d.records.get(&m.record_id));
            obj!(
                "monitor_id" => &m.id,
                "host" => &m.host,
                "record_line" => r.map(|r| r.line.clone()).unwrap_or_default(),
                "ip" => r.map(|r| r.value.clone()).unwrap_or_default(),
                "warn_reason" => reason,
                "switch_log" => V::Arr(Vec::new()),
                "created_on" => fmt_time(*at),
                "updated_on" => "0000-00-00 00:00:00",
            )
        })
        .collect();
    ok(vec![
        ("info", obj!("total_count" => s(total))),
        ("monitor_downs", V::Arr(items)),
    ])
}

/// Records an outage of a monitor (test and demo hook behind `Sim::monitor_outage`).
pub fn outage(st: &mut State, monitor_id: &str, reason: &str, now: Timestamp) -> bool {
    match st.monitors.get_mut(monitor_id) {
        Some(m) => {
            m.downs.push((now, reason.to_string()));
            true
        }
        None => false,
    }
}
