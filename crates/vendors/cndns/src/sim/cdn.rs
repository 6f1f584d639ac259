//! CDN traffic packages (G or T, times a base) with bound domains, origins, purges and
//! statistics, and DDoS protection products. Both modules answer failures with text only.
//! Statistics are derived from the package's domains and the requested day, so they
//! are stable for a given state (no random numbers).

use super::{
    add_months, done, edit, fmt_date, fmt_time, yuan, Fields, Handler, Per, Purpose, Req, SimErr,
    State, R,
};
use rust_decimal::Decimal;
use serde_json::{json, Value};
use std::collections::BTreeMap;

#[derive(Debug, Clone)]
pub(crate) struct Package {
    pub id: u64,
    pub name: String,
    /// `g` or `t`.
    pub prd: String,
    pub base: u32,
    pub reg: i64,
    pub exp: i64,
    pub years: i64,
    pub tmetpe: String,
    pub flow_used: u64,
    /// Domain -> (origin addresses, origin Host header).
    pub domains: BTreeMap<String, (Vec<String>, String)>,
    pub purges: Vec<(i64, String, String)>,
}

#[derive(Debug, Clone)]
pub(crate) struct Ddos {
    pub name: String,
    pub buyid: String,
    pub reg: i64,
    pub exp: i64,
}

/// DDoS products for sale: (buyid, name, prd, defense Gbps, monthly price, type, place).
const DDOS: [(&str, &str, &str, u32, i64, &str, &str); 3] = [
    (
        "10004566",
        "高防服务器 E5 50G防御",
        "gf50",
        50,
        899,
        "GF",
        "厦门电信",
    ),
    (
        "10004567",
        "高防服务器托管 100G防御",
        "tg100",
        100,
        1599,
        "TG",
        "宁波电信",
    ),
    (
        "10004568",
        "云CDN防护 200G防御",
        "cdn200",
        200,
        2999,
        "CDN",
        "多线",
    ),
];

fn fail(text: &str) -> SimErr {
    SimErr::text(text)
}

/// .NET JSON dates as CDN GetInfo sends them.
fn net_date(ms: i64) -> String {
    format!("/Date({ms}+0800)/")
}

/// Java `Date.toString()` in China time, as the purge answer shows.
fn java_date(ms: i64) -> String {
    crate::china(ms)
        .strftime("%a %b %d %H:%M:%S CST %Y")
        .to_string()
}

fn months(q: &Req) -> Result<(i64, i64, String), SimErr> {
    let years: i64 = q.text("years").parse().map_err(|_| fail("年限非法"))?;
    let t = q.text("tmetpe").to_string();
    let unit = match t.as_str() {
        "2" => 1,
        "4" => 6,
        "5" => 12,
        _ => return Err(fail("时间单位非法")),
    };
    if !(1..=10).contains(&years) {
        return Err(fail("年限非法"));
    }
    Ok((years * unit, years, t))
}

fn monthly(prd: &str, base: u32) -> Decimal {
    let unit = if prd == "t" {
        yuan(250, 0)
    } else {
        yuan(0, 30)
    };
    unit * Decimal::from(base)
}

fn prd_and_base(q: &Req, current: Option<&Package>) -> Result<(String, u32), SimErr> {
    let prd = match q.arg("type").map(str::to_ascii_lowercase) {
        Some(t) if t == "g" || t == "t" => t,
        Some(_) => return Err(fail("产品流量类型非法(T或G)")),
        None => current
            .map(|p| p.prd.clone())
            .ok_or_else(|| fail("产品流量类型非法(T或G)"))?,
    };
    let base = match q.arg("base") {
        Some(b) => b
            .parse::<u32>()
            .ok()
            .filter(|b| (1..=1024).contains(b))
            .ok_or_else(|| fail("流量倍数非法(1-1024)"))?,
        None => current.map_or(1, |p| p.base),
    };
    Ok((prd, base))
}

fn origins(q: &Req) -> Result<Vec<String>, SimErr> {
    let raw = q.req("mastAddress")?;
    // The document says space-separated; its examples use `|`.
    let list: Vec<String> = raw
        .split(['|', ' '])
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect();
    let ok = |a: &str| a.parse::<std::net::IpAddr>().is_ok() || super::valid_hostname(a);
    if list.is_empty() || !list.iter().all(|a| ok(a)) {
        return Err(fail("源站地址必须为ip或者域名"));
    }
    Ok(list)
}

fn info(p: &Package, now: i64) -> Value {
    json!({
        "_id": p.id, "_nme": p.name, "_prd": p.prd,
        "_addtme": net_date(p.reg), "_exptme": net_date(p.exp),
        "_regstt": if now > p.exp { 7 } else { 1 },
        "_size": null,
        "s_expdays": ((p.exp - now).max(0) / super::DAY_MS),
        "g_nme": format!("百度 CDN 流量 {}{}", p.base, p.prd.to_ascii_uppercase()),
        "_pss": crate::md5_hex(&p.name)[..13].to_string(),
        "_years": p.years.to_string(), "_tmetpe": p.tmetpe,
        "_flow": p.flow_used.to_string(), "u_prc": monthly(&p.prd, p.base).normalize().to_string(),
        "_ext2": null, "_ext1": p.base.to_string(),
    })
}

/// A stable pseudo-count for (domain, what, day): statistics depend on state only.
fn count(dme: &str, what: &str, day: &str) -> u64 {
    let h = crate::md5_hex(&format!("{dme}|{what}|{day}"));
    u64::from_str_radix(&h[..6], 16).unwrap_or(0) % 5000 + 50
}

/// GetstatTop: the sub-query is the row's `type#=` discriminator.
fn stat_top(st: &mut State, q: &Req) -> R {
    let sub = q.action().discriminator().map_or("", |(_, v)| v);
    on_package(st, q, |_, p| stat_rows(p, q, sub))
}

fn stat_rows(p: &Package, q: &Req, sub: &str) -> R {
    let dme = q.arg("dme").map(str::to_ascii_lowercase);
    let domains: Vec<&String> = p
        .domains
        .keys()
        .filter(|d| dme.as_ref().is_none_or(|x| x == *d))
        .collect();
    if domains.is_empty() {
        return Err(fail("域名不存在"));
    }
    let day = fmt_date(q.now_ms());
    let stamp = crate::china(q.now_ms())
        .strftime("%Y-%m-%dT%H:00:00Z")
        .to_string();
    let counters = |what: &str, names: &[String]| -> Vec<Value> {
        let mut v: Vec<(String, u64)> = names
            .iter()
            .map(|n| {
                (
                    n.clone(),
                    domains
                        .iter()
                        .map(|d| count(d, &format!("{what}{n}"), &day))
                        .sum(),
                )
            })
            .collect();
        v.sort_by_key(|b| std::cmp::Reverse(b.1));
        v.into_iter()
            .map(|(name, value)| json!({"name": name, "value": value}))
            .collect()
    };
    let first = domains[0];
    let details = match sub {
        "1" => {
            let urls: Vec<String> = [
                "index.html",
                "static/app.js",
                "img/logo.png",
                "video/intro.mp4",
            ]
            .iter()
            .map(|f| format!("http://{first}/{f}"))
            .collect();
            json!([{"timestamp": stamp, "counters": counters("url", &urls)}])
        }
        "2" => {
            let refs: Vec<String> = ["https://www.baidu.com/", "https://www.so.com/", "-"]
                .iter()
                .map(|s| s.to_string())
                .collect();
            json!([{"timestamp": stamp, "counters": counters("ref", &refs)}])
        }
        "3" => {
            json!([{"timestamp": stamp, "uv": domains.iter().map(|d| count(d, "uv", &day)).sum::<u64>()}])
        }
        "4" => {
            let pv: u64 = domains.iter().map(|d| count(d, "pv", &day) * 10).sum();
            json!([{"timestamp": stamp, "pv": pv, "qps": pv / 3600}])
        }
        "5" => {
            json!([{"timestamp": stamp, "counters": counters("code", &["200".into(), "304".into(), "404".into(), "502".into()])}])
        }
        _ => {
            json!([{"timestamp": stamp, "flow": domains.iter().map(|d| count(d, "origin", &day) * 1024).sum::<u64>(), "bps": 0}])
        }
    };
    Ok(json!({"details": details}))
}

pub(crate) fn handler(name: &str) -> Option<Handler> {
    if name.starts_with("/cdn/getstattop#") {
        return Some(stat_top);
    }
    Some(match name {
        "/cdn/createcdn" => create,
        "/cdn/index" => |st, q| on_package(st, q, |_, p| Ok(info(p, q.now_ms()))),
        "/cdn/dmelist" => dmelist,
        "/cdn/getdmelog" => getdmelog,
        "/cdn/getstatflow" => getstatflow,
        "/cdn/renewcdn" => renew,
        "/cdn/upgradecdn" => upgrade,
        "/cdn/adddomain" => add_domain,
        "/cdn/setdomainorigin" => set_origin,
        "/cdn/deldomain" => del_domain,
        "/cdn/purge" => purge,
        "/ddos/productinfo" => ddos_products,
        "/ddos/createorder" => ddos_create,
        "/ddos/orderdetails" => ddos_details,
        _ => return None,
    })
}

/// The caller's package (`nme`), edited through [`edit`].
fn on_package(st: &mut State, q: &Req, op: impl FnOnce(&mut State, &mut Package) -> R) -> R {
    let nme = q
        .arg("nme")
        .map(str::to_ascii_lowercase)
        .ok_or_else(|| fail("产品名称不能为空"))?;
    edit(st, |st| &mut st.cdns, nme, fail("产品不存在"), op)
}

/// The domain a call names (`dme`), required.
fn dme(q: &Req) -> Result<String, SimErr> {
    q.arg("dme")
        .map(str::to_ascii_lowercase)
        .ok_or_else(|| fail("域名不能为空"))
}

fn create(st: &mut State, q: &Req) -> R {
    let now = q.now_ms();
    let (prd, base) = prd_and_base(q, None)?;
    let (m, years, tmetpe) = months(q)?;
    let id = 1_000_000 + st.next_id();
    // The whole id: a name that wrapped would replace a package already paid for.
    let nme = format!("cdn{}", 72_916_000 + id);
    st.charge_order(
        q,
        Purpose::Buy,
        monthly(&prd, base) * Decimal::from(m),
        format!("CDN 购买 {nme}"),
    )
    .map_err(|e| fail(&e.msg))?;
    st.cdns.insert(
        nme.clone(),
        Package {
            id,
            name: nme.clone(),
            prd,
            base,
            reg: now,
            exp: add_months(now, m),
            years,
            tmetpe,
            flow_used: 0,
            domains: BTreeMap::new(),
            purges: Vec::new(),
        },
    );
    Ok(json!(nme))
}

fn dmelist(st: &mut State, q: &Req) -> R {
    on_package(st, q, |_, p| {
        let want = q.arg("dme").map(str::to_ascii_lowercase);
        Ok(Value::Array(
            p.domains
                .iter()
                .filter(|(d, _)| want.as_ref().is_none_or(|w| w == *d))
                .map(|(d, (o, h))| json!({"domain": d, "cname": format!("{d}.cdn.cndns-cdn.com"), "mastAddress": o.join("|"), "host": h, "status": "RUNNING"}))
                .collect(),
        ))
    })
}

fn getdmelog(st: &mut State, q: &Req) -> R {
    on_package(st, q, |_, p| {
        let d = dme(q)?;
        if !p.domains.contains_key(&d) {
            return Err(fail("域名不存在"));
        }
        let start = q.text("startTime");
        let end = q.text("endTime");
        let day = fmt_date(q.now_ms());
        let days: Vec<String> = if start.is_empty()
            || (start <= day.as_str() && (end.is_empty() || day.as_str() <= end))
        {
            vec![day]
        } else {
            Vec::new()
        };
        Ok(Value::Array(days.iter().map(|dd| json!({"date": dd, "url": format!("http://log.cndns-cdn.com/{d}/{dd}.log.gz"), "size": count(&d, "log", dd) * 1024})).collect()))
    })
}

/// getStatFlow (流量查询接口 域名), read from what the document gives it: the parameters
/// its copied body names (dme, nme, startTime, endTime as `yyyy-MM-dd`, today when left
/// out), the envelope its [结果] table describes, and per day the 回源流量 item shape of
/// GetstatTop (`timestamp`, `flow` in bytes, `bps` the day's mean), within the 90 days
/// the statistics queries allow.
fn getstatflow(st: &mut State, q: &Req) -> R {
    on_package(st, q, |_, p| {
        let d = dme(q)?;
        if !p.domains.contains_key(&d) {
            return Err(fail("域名不存在"));
        }
        let today = crate::china(q.now_ms()).date();
        let day = |k: &str| match q.arg(k) {
            None => Ok(today),
            Some(v) => v
                .parse::<jiff::civil::Date>()
                .map_err(|_| fail("查询时间格式错误(yyyy-MM-dd)")),
        };
        let (start, end) = (day("startTime")?, day("endTime")?.min(today));
        let span = start.until(end).map(|s| s.get_days()).unwrap_or(-1);
        if !(0..90).contains(&span) {
            return Err(fail("查询的时间范围非法(最大跨度90天)"));
        }
        let mut details = Vec::new();
        let mut cur = start;
        while cur <= end {
            let flow = count(&d, "flow", &cur.to_string()) * 1024 * 1024;
            details.push(json!({
                "timestamp": format!("{cur}T00:00:00Z"),
                "flow": flow,
                "bps": flow * 8 / 86_400,
            }));
            cur = match cur.tomorrow() {
                Ok(next) => next,
                Err(_) => break,
            };
        }
        Ok(json!({"details": details}))
    })
}

fn renew(st: &mut State, q: &Req) -> R {
    on_package(st, q, |st, p| {
        let (m, _, _) = months(q)?;
        st.charge_order(
            q,
            Purpose::Renew,
            monthly(&p.prd, p.base) * Decimal::from(m),
            format!("CDN 续费 {}", p.name),
        )
        .map_err(|e| fail(&e.msg))?;
        p.exp = add_months(p.exp, m);
        done()
    })
}

fn upgrade(st: &mut State, q: &Req) -> R {
    on_package(st, q, |st, p| {
        let (prd, base) = prd_and_base(q, Some(p))?;
        if prd == "g" && p.prd == "t" {
            return Err(fail("只支持G升级到T"));
        }
        let (old, new) = (monthly(&p.prd, p.base), monthly(&prd, base));
        st.charge_upgrade(
            q,
            old,
            new,
            p.exp,
            Per::Month,
            fail("升级后的流量必须大于当前流量"),
            format!("CDN 升级 {}", p.name),
        )
        .map_err(|e| fail(&e.msg))?;
        p.prd = prd;
        p.base = base;
        done()
    })
}

/// AddDomain and SetDomainOrigin: the domain and its origins, checked alike.
fn domain_and_origins(q: &Req) -> Result<(String, Vec<String>), SimErr> {
    let d = dme(q)?;
    if !super::valid_hostname(&d) {
        return Err(fail("域名格式错误"));
    }
    Ok((d, origins(q)?))
}

fn add_domain(st: &mut State, q: &Req) -> R {
    on_package(st, q, |st, p| {
        let (d, o) = domain_and_origins(q)?;
        if p.domains.contains_key(&d) || st.cdns.values().any(|x| x.domains.contains_key(&d)) {
            return Err(fail("域名已添加"));
        }
        p.domains.insert(d, (o, q.text("host").to_string()));
        done()
    })
}

fn set_origin(st: &mut State, q: &Req) -> R {
    on_package(st, q, |_, p| {
        let (d, o) = domain_and_origins(q)?;
        if !p.domains.contains_key(&d) {
            return Err(fail("域名不存在"));
        }
        p.domains.insert(d, (o, q.text("host").to_string()));
        done()
    })
}

fn del_domain(st: &mut State, q: &Req) -> R {
    on_package(st, q, |_, p| {
        if p.domains.remove(&dme(q)?).is_none() {
            return Err(fail("域名不存在"));
        }
        done()
    })
}

fn purge(st: &mut State, q: &Req) -> R {
    on_package(st, q, |_, p| {
        let now = q.now_ms();
        let kind = match q.text("refresh_type") {
            "1" => "directory",
            "0" => "file",
            _ => return Err(fail("刷新类型非法")),
        };
        let mut details = Vec::new();
        for url in q
            .text("refresh_url")
            .split(',')
            .map(str::trim)
            .filter(|u| !u.is_empty())
        {
            let host = url
                .split("://")
                .nth(1)
                .and_then(|r| r.split('/').next())
                .unwrap_or_default();
            if !p.domains.contains_key(host) {
                return Err(fail("刷新的路径不属于该产品的域名"));
            }
            if kind == "directory" && !url.ends_with('/') {
                return Err(fail("目录刷新必须以/结尾"));
            }
            p.purges.push((now, kind.into(), url.into()));
            // A PurgeStatus (the field list after the sample): just submitted.
            details.push(json!({
                "createdAt": java_date(now), "task": {"type": kind, "url": url},
                "progress": 0, "status": "in-progress",
            }));
        }
        if details.is_empty() {
            return Err(fail("刷新的路径不能为空"));
        }
        Ok(json!({"truncated": false, "details": details}))
    })
}

fn ddos_products(_: &mut State, _: &Req) -> R {
    Ok(Value::Array(
        DDOS.iter()
            .map(|(id, n, prd, def, _, ty, place)| json!({"buyid": id, "proname": n, "proprd": prd, "sucnt": "电信", "sip": "1", "sram": "8G", "sbnd": "500G", "shd": "20M", "scpu": "E5-2620", "sidc": format!("{def}G"), "protype": ty, "place": place}))
            .collect(),
    ))
}

fn ddos_create(st: &mut State, q: &Req) -> R {
    let buyid = q.text("buyid");
    let product = DDOS
        .iter()
        .find(|p| p.0 == buyid)
        .ok_or_else(|| fail("购买产品编号不存在"))?;
    // "只能购买 1月 1年".
    let m = match (q.text("term"), q.text("termtype")) {
        ("1", "2") => 1,
        ("1", "5") => 12,
        _ => return Err(fail("购买时长非法")),
    };
    let name = format!("ddos{}", 50_000 + st.next_id());
    super::resold::charge(
        st,
        q,
        Purpose::Buy,
        yuan(product.4, 0) * Decimal::from(m),
        format!("DDOS 购买 {name}"),
    )?;
    let d = Ddos {
        name: name.clone(),
        buyid: buyid.into(),
        reg: q.now_ms(),
        exp: add_months(q.now_ms(), m),
    };
    let answer = ddos_json(&d, q.now_ms());
    st.ddos.insert(name, d);
    Ok(answer)
}

fn ddos_details(st: &mut State, q: &Req) -> R {
    let n = q.text("nme").to_ascii_lowercase();
    let d = st.ddos.get(&n).ok_or_else(|| fail("产品不存在"))?;
    Ok(ddos_json(d, q.now_ms()))
}

/// The monthly price of a DDOS product, by its `buyid` or its `proprd` (getProductPrice
/// type 5): what CreateOrder charges a month.
pub(crate) fn ddos_monthly(id: &str) -> Option<Decimal> {
    DDOS.iter()
        .find(|p| p.0 == id || p.2.eq_ignore_ascii_case(id))
        .map(|p| yuan(p.4, 0))
}

fn ddos_json(d: &Ddos, now: i64) -> Value {
    let p = DDOS.iter().find(|p| p.0 == d.buyid);
    json!([{
        "d_nme": d.name,
        "d_prd": p.map_or("", |p| p.2),
        "g_nme": p.map_or("", |p| p.1),
        "d_addtme": fmt_time(d.reg),
        "d_exptme": fmt_time(d.exp),
        "d_regstt": if now > d.exp { "7" } else { "1" },
    }])
}
