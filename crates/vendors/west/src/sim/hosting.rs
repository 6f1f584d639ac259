//! Virtual hosting: models, purchase, bound domains, sub-sites, files, backups,
//! passwords, CC and firewall.

use super::{
    add_months, by_id, fmt_date, fmt_time, m, one_or_page, row, valid_hostname, Args, Handler, Req,
    SimErr, State, R,
};
use rust_decimal::Decimal;
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// (model, name, web space MB, max bound domains, yearly price).
pub(crate) const MODELS: [(&str, &str, i64, usize, i64); 3] = [
    ("L1", "标准型", 500, 5, 99),
    ("L2", "商务型", 1000, 10, 199),
    ("L3", "企业型", 3000, 20, 399),
];

#[derive(Debug, Clone)]
pub(crate) struct Host {
    pub id: u64,
    pub model: String,
    pub ftpname: String,
    pub password: String,
    pub created: i64,
    pub expire: i64,
    pub domains: Vec<String>,
    pub subsites: BTreeMap<u64, (String, String)>,
    pub defaultdoc: Vec<String>,
    pub backups: Vec<HostBackup>,
    pub restored: Option<(u64, i64)>,
    pub firewall: Value,
    pub traffic_mb: i64,
    pub cc_qps: i64,
}

/// A backup of a host: when, and the site settings it holds, which `host.restore` puts
/// back (sub-sites, default documents, firewall rules). Bound domains, the password and
/// the CC setting are the account's, not the site's, and stay as they are.
#[derive(Debug, Clone)]
pub(crate) struct HostBackup {
    pub id: u64,
    pub time: i64,
    pub subsites: BTreeMap<u64, (String, String)>,
    pub defaultdoc: Vec<String>,
    pub firewall: Value,
}

fn model(name: &str) -> Result<(&'static str, &'static str, i64, usize, i64), SimErr> {
    row(&MODELS, |x| x.0, name, ("model", "产品型号不存在"))
}

pub(crate) fn new_host(
    st: &mut State,
    model: &str,
    ftpname: &str,
    password: &str,
    now: i64,
    years: i64,
) -> u64 {
    let id = st.next_id();
    st.hosts.insert(
        id,
        Host {
            id,
            model: model.into(),
            ftpname: ftpname.into(),
            password: password.into(),
            created: now,
            expire: add_months(now, 12 * years),
            domains: Vec::new(),
            subsites: BTreeMap::new(),
            defaultdoc: vec![
                "index.html".into(),
                "index.php".into(),
                "default.html".into(),
            ],
            backups: Vec::new(),
            restored: None,
            firewall: json!([]),
            traffic_mb: 0,
            cc_qps: 100,
        },
    );
    id
}

fn host_json(h: &Host, now: i64) -> Value {
    json!({"id":h.id,"model":h.model,"ftpname":h.ftpname,"domains":h.domains,"regdate":fmt_date(h.created),
        "expiredate":fmt_date(h.expire),"status":if h.expire < now {"expired"} else {"normal"}})
}

fn host<'a>(st: &'a mut State, q: &Req) -> Result<&'a mut Host, SimErr> {
    by_id(&mut st.hosts, q, "id")
}

fn valid_ftp(n: &str) -> bool {
    (4..=16).contains(&n.len())
        && n.starts_with(|c: char| c.is_ascii_lowercase())
        && n.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
}

pub(crate) fn handler(name: &str) -> Option<Handler> {
    Some(match name {
        "host.getconfig" => getconfig,
        "host.getmodels" => getmodels,
        "host.getprice" => getprice,
        "host.checkftp" => checkftp,
        "host.buy" => buy,
        "host.detail" => detail,
        "host.synchost" => synchost,
        "host.gettraffic" => gettraffic,
        "host.bindomain" => bindomain,
        "host.unbindomain" => unbindomain,
        "host.getbindomains" => getbindomains,
        "host.findbydomain" => findbydomain,
        "host.createsubsite" => createsubsite,
        "host.getsubsitelist" => getsubsitelist,
        "host.getsubsitedetail" => |st, q| subsite(st, q, |_, _, _, _| Ok(())),
        "host.deletesubsite" => deletesubsite,
        "host.setsubsite" => setsubsite,
        "host.gensitemap" => gensitemap,
        "host.setdefaultdoc" => setdefaultdoc,
        "host.getdefaultdoc" => getdefaultdoc,
        "host.getfilelist" => getfilelist,
        "host.backup" => backup,
        "host.restore" => restore,
        "host.modifypwd" => modifypwd,
        "host.getpwd" => getpwd,
        "host.getcc" => getcc,
        "host.setfirewall" => setfirewall,
        _ => return None,
    })
}

fn getconfig(_: &mut State, _: &Req) -> R {
    Ok(
        json!({"models":MODELS.iter().map(|x| x.0).collect::<Vec<_>>(),"years":[1,2,3,5],"os":["linux","windows"],"defaultdoc":["index.html","index.php","default.html"]}),
    )
}

fn getmodels(_: &mut State, _: &Req) -> R {
    Ok(
        json!({"items":MODELS.iter().map(|x| json!({"model":x.0,"name":x.1,"webspace":x.2,"domains":x.3,"price":m(Decimal::from(x.4))})).collect::<Vec<_>>()}),
    )
}

fn getprice(_: &mut State, q: &Req) -> R {
    let md = model(q.need("model")?)?;
    let year = q.period("year", 5)?;
    Ok(json!({"model":md.0,"year":year,"price":m(Decimal::from(md.4 * year))}))
}

fn checkftp(st: &mut State, q: &Req) -> R {
    let n = ftpname(q)?;
    Ok(json!({"ftpname":n,"avail":u8::from(!st.hosts.values().any(|h| h.ftpname == n))}))
}

fn detail(st: &mut State, q: &Req) -> R {
    let now = q.now_ms();
    one_or_page(&mut st.hosts, q, |h| host_json(h, now))
}

fn synchost(st: &mut State, q: &Req) -> R {
    let now = q.now_ms();
    let mut v = host_json(host(st, q)?, now);
    v["synctime"] = json!(fmt_time(now));
    Ok(v)
}

fn gettraffic(st: &mut State, q: &Req) -> R {
    let now = q.now_ms();
    let h = host(st, q)?;
    Ok(
        json!({"id":h.id,"month":&fmt_date(now)[..7],"used":h.traffic_mb,"limit":model(&h.model)?.2 * 20,"unit":"MB"}),
    )
}

fn getbindomains(st: &mut State, q: &Req) -> R {
    let h = host(st, q)?;
    Ok(json!({"id":h.id,"total":h.domains.len(),"items":h.domains}))
}

fn findbydomain(st: &mut State, q: &Req) -> R {
    let d = q.need("domain")?.to_lowercase();
    let h = st
        .hosts
        .values()
        .find(|h| h.domains.contains(&d))
        .ok_or_else(SimErr::empty)?;
    Ok(json!({"id":h.id,"ftpname":h.ftpname,"domain":d}))
}

fn getsubsitelist(st: &mut State, q: &Req) -> R {
    let h = host(st, q)?;
    let items: Vec<Value> = h
        .subsites
        .iter()
        .map(|(id, s)| json!({"subsiteid":id,"domain":s.0,"path":s.1}))
        .collect();
    Ok(json!({"id":h.id,"total":items.len(),"items":items}))
}

fn deletesubsite(st: &mut State, q: &Req) -> R {
    subsite(st, q, |h, sid, _, _| {
        h.subsites.remove(&sid);
        Ok(())
    })
}

fn getdefaultdoc(st: &mut State, q: &Req) -> R {
    let h = host(st, q)?;
    Ok(json!({"id":h.id,"doc":h.defaultdoc.join(",")}))
}

fn backup(st: &mut State, q: &Req) -> R {
    let now = q.now_ms();
    let bid = st.next_id();
    let h = host(st, q)?;
    let b = HostBackup {
        id: bid,
        time: now,
        subsites: h.subsites.clone(),
        defaultdoc: h.defaultdoc.clone(),
        firewall: h.firewall.clone(),
    };
    h.backups.push(b);
    Ok(json!({"id":h.id,"backupid":bid,"time":fmt_time(now)}))
}

fn modifypwd(st: &mut State, q: &Req) -> R {
    let pw = q.password()?;
    let h = host(st, q)?;
    h.password = pw;
    Ok(json!({"id":h.id}))
}

fn getpwd(st: &mut State, q: &Req) -> R {
    let h = host(st, q)?;
    Ok(json!({"id":h.id,"ftpname":h.ftpname,"password":h.password}))
}

fn getcc(st: &mut State, q: &Req) -> R {
    let h = host(st, q)?;
    Ok(json!({"id":h.id,"enable":1,"qps":h.cc_qps}))
}

fn ftpname(q: &Req) -> Result<String, SimErr> {
    let n = q.need("ftpname")?;
    if !valid_ftp(n) {
        return Err(SimErr::invalid(
            "ftpname",
            "FTP名需4-16位小写字母或数字，以字母开头",
        ));
    }
    Ok(n.to_string())
}

fn buy(st: &mut State, q: &Req) -> R {
    let now = q.now_ms();
    let md = model(q.need("model")?)?;
    let pw = q.password()?;
    let year = q.period("year", 5)?;
    let ftp = ftpname(q)?;
    if st.hosts.values().any(|h| h.ftpname == ftp) {
        return Err(SimErr::refused("ftpname", "FTP名已被使用"));
    }
    let price = Decimal::from(md.4 * year);
    let orderid = st.charge(now, price, format!("购买虚拟主机 {ftp} {} {year}年", md.1))?;
    let id = new_host(st, md.0, &ftp, &pw, now, year);
    Ok(
        json!({"id":id,"orderid":orderid,"amount":m(price),"expiredate":fmt_date(st.hosts[&id].expire)}),
    )
}

fn bindomain(st: &mut State, q: &Req) -> R {
    let d = q.need("domain")?.to_lowercase();
    if !valid_hostname(&d) {
        return Err(SimErr::invalid("domain", "域名格式错误"));
    }
    if st.hosts.values().any(|h| h.domains.contains(&d)) {
        return Err(SimErr::refused("domain", "该域名已绑定到主机"));
    }
    let h = host(st, q)?;
    if h.domains.len() >= model(&h.model)?.3 {
        return Err(SimErr::refused("domain", "绑定域名数已达型号上限"));
    }
    h.domains.push(d.clone());
    Ok(json!({"id":h.id,"domain":d}))
}

fn unbindomain(st: &mut State, q: &Req) -> R {
    let d = q.need("domain")?.to_lowercase();
    let h = host(st, q)?;
    if !h.domains.contains(&d) {
        return Err(SimErr::refused("domain", "该域名未绑定到此主机"));
    }
    h.domains.retain(|x| x != &d);
    h.subsites.retain(|_, s| s.0 != d);
    Ok(json!({"id":h.id,"domain":d}))
}

/// The sub-site `domain` and `path` as given (the path checked).
fn site_fields(q: &Req) -> Result<SiteFields, SimErr> {
    let domain = q.arg("domain").map(str::to_lowercase);
    let path = q.arg("path").map(str::to_string);
    if let Some(p) = &path {
        check_path(p)?;
    }
    Ok((domain, path))
}

fn createsubsite(st: &mut State, q: &Req) -> R {
    let (d, p) = (
        q.need("domain")?.to_lowercase(),
        q.need("path")?.to_string(),
    );
    check_path(&p)?;
    let sid = st.next_id();
    let h = host(st, q)?;
    if !h.domains.contains(&d) {
        return Err(SimErr::refused("domain", "请先绑定该域名"));
    }
    if h.subsites.values().any(|s| s.0 == d || s.1 == p) {
        return Err(SimErr::refused("path", "子站点域名或目录已存在"));
    }
    h.subsites.insert(sid, (d, p));
    Ok(json!({"id":h.id,"subsiteid":sid}))
}

/// A sub-site's `domain` and `path` as a request gives them.
type SiteFields = (Option<String>, Option<String>);

/// Finds sub-site `subsiteid`, lets `change` act on it with the given fields, and
/// answers with what is left of it (the sub-site as it was, once deleted).
fn subsite(
    st: &mut State,
    q: &Req,
    change: impl FnOnce(&mut Host, u64, &(String, String), SiteFields) -> Result<(), SimErr>,
) -> R {
    let sid = q.id("subsiteid")?;
    let fields = site_fields(q)?;
    let h = host(st, q)?;
    let cur = h
        .subsites
        .get(&sid)
        .cloned()
        .ok_or_else(|| SimErr::bad_id("subsiteid"))?;
    change(h, sid, &cur, fields)?;
    let s = h.subsites.get(&sid).cloned().unwrap_or(cur);
    Ok(json!({"id":h.id,"subsiteid":sid,"domain":s.0,"path":s.1}))
}

fn setsubsite(st: &mut State, q: &Req) -> R {
    subsite(st, q, |h, sid, cur, (nd, np)| {
        if nd.as_ref().is_some_and(|d| !h.domains.contains(d)) {
            return Err(SimErr::refused("domain", "请先绑定该域名"));
        }
        h.subsites.insert(
            sid,
            (nd.unwrap_or(cur.0.clone()), np.unwrap_or(cur.1.clone())),
        );
        Ok(())
    })
}

fn gensitemap(st: &mut State, q: &Req) -> R {
    let h = host(st, q)?;
    let first = h
        .domains
        .first()
        .cloned()
        .ok_or_else(|| SimErr::refused("id", "主机未绑定域名"))?;
    Ok(
        json!({"id":h.id,"url":format!("http://{first}/sitemap.xml"),"count":h.defaultdoc.len() + h.subsites.len(),"time":fmt_time(q.now_ms())}),
    )
}

fn setdefaultdoc(st: &mut State, q: &Req) -> R {
    let docs: Vec<String> = q
        .need("doc")?
        .split(',')
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect();
    if docs.iter().any(|d| d.contains('/') || !d.contains('.')) {
        return Err(SimErr::invalid("doc", "默认文档必须是文件名"));
    }
    let h = host(st, q)?;
    h.defaultdoc = docs;
    Ok(json!({"id":h.id,"doc":h.defaultdoc.join(",")}))
}

fn getfilelist(st: &mut State, q: &Req) -> R {
    let now = q.now_ms();
    let path = q
        .arg("path")
        .unwrap_or_default()
        .trim_end_matches('/')
        .to_string();
    let h = host(st, q)?;
    // The tree is derived from the host's state: default documents, sub-site
    // directories and backup files.
    let items: Vec<Value> = match path.as_str() {
        "" => ["wwwroot", "logfiles", "backup"]
            .iter()
            .map(|n| json!({"name":n,"type":"dir","size":0}))
            .collect(),
        "/wwwroot" => h
            .defaultdoc
            .iter()
            .map(|d| json!({"name":d,"type":"file","size":1024}))
            .chain(
                h.subsites
                    .values()
                    .map(|s| json!({"name":s.1.trim_start_matches('/'),"type":"dir","size":0})),
            )
            .collect(),
        "/backup" => h
            .backups
            .iter()
            .map(|b| json!({"name":format!("backup-{}.zip", b.id),"type":"file","size":10240}))
            .collect(),
        "/logfiles" => vec![
            json!({"name":format!("ex{}.log", fmt_date(now).replace('-', "")),"type":"file","size":2048}),
        ],
        _ => return Err(SimErr::invalid("path", "目录不存在")),
    };
    Ok(json!({"id":h.id,"path":if path.is_empty() {"/".to_string()} else {path},"items":items}))
}

/// The given backup, or without `backupid` the latest.
fn restore(st: &mut State, q: &Req) -> R {
    let now = q.now_ms();
    let want = q.opt_int("backupid")?;
    let h = host(st, q)?;
    let b = match want {
        Some(w) => h
            .backups
            .iter()
            .find(|b| b.id as i64 == w)
            .cloned()
            .ok_or_else(|| SimErr::bad_id("backupid"))?,
        None => h
            .backups
            .last()
            .cloned()
            .ok_or_else(|| SimErr::refused("id", "没有可用的备份"))?,
    };
    h.subsites = b.subsites;
    h.defaultdoc = b.defaultdoc;
    h.firewall = b.firewall;
    h.restored = Some((b.id, now));
    Ok(json!({"id":h.id,"backupid":b.id,"backuptime":fmt_time(b.time),"time":fmt_time(now)}))
}

fn setfirewall(st: &mut State, q: &Req) -> R {
    let rules: Value = serde_json::from_str(q.need("rules")?)
        .map_err(|_| SimErr::invalid("rules", "必须是JSON数组"))?;
    let arr = rules
        .as_array()
        .ok_or_else(|| SimErr::invalid("rules", "必须是JSON数组"))?;
    for r in arr {
        let ip_ok = r
            .get("ip")
            .and_then(Value::as_str)
            .is_some_and(|i| i.parse::<std::net::IpAddr>().is_ok());
        let pol_ok = matches!(
            r.get("policy").and_then(Value::as_str),
            Some("allow" | "deny")
        );
        if !ip_ok || !pol_ok {
            return Err(SimErr::invalid(
                "rules",
                "每条规则需要ip和policy(allow|deny)",
            ));
        }
    }
    let count = arr.len();
    let h = host(st, q)?;
    h.firewall = rules.clone();
    Ok(json!({"id":h.id,"count":count,"rules":rules}))
}

fn check_path(p: &str) -> Result<(), SimErr> {
    if !p.starts_with('/')
        || p.len() < 2
        || p.contains("..")
        || !p[1..]
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '/')
    {
        return Err(SimErr::invalid("path", "目录格式错误，如 /blog"));
    }
    Ok(())
}
