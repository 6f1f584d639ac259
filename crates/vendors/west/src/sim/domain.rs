//! Domains: prices, contact templates and real-name, registration, renewal, NS and
//! registered hosts, DNSSEC, certificates, passwords, smart DNS and privacy.
//! Record handlers live in `dns.rs` and share the zone store kept here.

use super::{
    add_months, by_id, dec, fmt_date, fmt_time, m, page, remove_where, valid_hostname, Args,
    Failure, Handler, Req, SimErr, State, DAY_MS, R,
};
use crate::errors::code;
use rust_decimal::Decimal;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};

pub(crate) const WEST_NS: [&str; 2] = ["ns1.myhostadmin.net", "ns2.myhostadmin.net"];
/// Registered elsewhere: checkdomain says taken, regdomain fails into the failed list.
const TAKEN: [&str; 6] = [
    "baidu.com",
    "qq.com",
    "west.cn",
    "taobao.com",
    "example.com",
    "google.com",
];
const SENSITIVE: [&str; 5] = ["赌博", "博彩", "色情", "毒品", "casino"];

#[derive(Debug, Clone)]
pub(crate) struct Template {
    pub id: u64,
    pub intl: bool,
    pub regtype: String,
    pub name: String,
    pub org: String,
    pub idtype: String,
    pub idnumber: String,
    pub email: String,
    pub phone: String,
    pub country: String,
    pub province: String,
    pub city: String,
    pub address: String,
    pub postcode: String,
    pub verified: bool,
    pub uploadtoken: Option<(String, i64)>,
    pub created: i64,
}

#[derive(Debug, Clone, Default)]
pub(crate) struct Record {
    pub id: u64,
    pub host: String,
    pub rtype: String,
    pub value: String,
    pub ttl: i64,
    pub level: i64,
    pub line: String,
    pub pause: bool,
}

#[derive(Debug, Clone)]
pub(crate) struct Ds {
    pub key_tag: i64,
    pub algorithm: i64,
    pub digest_type: i64,
    pub digest: String,
}

#[derive(Debug, Clone)]
pub(crate) struct Domain {
    pub name: String,
    pub templateid: u64,
    pub regdate: i64,
    pub expire: i64,
    pub ns: Vec<String>,
    pub records: BTreeMap<u64, Record>,
    pub deleted: BTreeSet<u64>,
    pub regdns: BTreeMap<String, String>,
    pub regdns_synced: Option<i64>,
    pub dnssec: Vec<Ds>,
    pub dnssec_synced: Option<i64>,
    pub privacy: Option<(String, i64)>,
    pub password: String,
    pub smartdns_expire: Option<i64>,
    pub autorenew: bool,
    pub remark: String,
}

impl Domain {
    pub fn new(name: &str, templateid: u64, now: i64, years: i64, password: String) -> Self {
        Domain {
            name: name.into(),
            templateid,
            regdate: now,
            expire: add_months(now, 12 * years),
            ns: WEST_NS.iter().map(|s| s.to_string()).collect(),
            records: BTreeMap::new(),
            deleted: BTreeSet::new(),
            regdns: BTreeMap::new(),
            regdns_synced: None,
            dnssec: Vec::new(),
            dnssec_synced: None,
            privacy: None,
            password,
            smartdns_expire: None,
            autorenew: false,
            remark: String::new(),
        }
    }

    pub fn status(&self, now: i64) -> &'static str {
        if self.expire < now {
            "expired"
        } else {
            "ok"
        }
    }

    pub fn dns_hosted(&self) -> bool {
        self.ns.iter().any(|n| n.ends_with("myhostadmin.net"))
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Transfer {
    pub id: u64,
    pub domain: String,
    pub from: u64,
    pub to: u64,
    pub time: i64,
}

/// (registration, renewal) price per year.
fn prices(suffix: &str) -> Option<(Decimal, Decimal)> {
    Some(match suffix {
        "com" => (dec(55, 0), dec(69, 0)),
        "net" => (dec(65, 0), dec(75, 0)),
        "cn" | "com.cn" => (dec(29, 0), dec(39, 0)),
        "top" => (dec(9, 0), dec(29, 0)),
        "xyz" => (dec(12, 0), dec(79, 0)),
        "cc" => (dec(45, 50), dec(55, 50)),
        "中国" => (dec(80, 0), dec(80, 0)),
        _ => return None,
    })
}

/// The priced suffix of a name (`a.com.cn` -> `com.cn`), or of a bare `.com`.
pub(crate) fn suffix(name: &str) -> Option<String> {
    let n = name.trim().trim_start_matches('.').to_lowercase();
    if prices(&n).is_some() {
        return Some(n);
    }
    let labels: Vec<&str> = n.split('.').collect();
    for k in [2, 1] {
        if labels.len() > k {
            let s = labels[labels.len() - k..].join(".");
            if prices(&s).is_some() {
                return Some(s);
            }
        }
    }
    None
}

fn renew_price(name: &str) -> Decimal {
    prices(&suffix(name).unwrap_or_default())
        .unwrap_or_default()
        .1
}

/// Held by someone else: a well-known name, or one on sale in the auction lists.
fn registered_elsewhere(st: &State, name: &str) -> bool {
    TAKEN.contains(&name) || st.listings.contains_key(name)
}

fn is_cn(name: &str) -> bool {
    name.ends_with(".cn") || name.ends_with(".中国")
}

/// A registrable second-level name under a priced suffix.
fn check_name(name: &str) -> Result<(String, Decimal, Decimal), SimErr> {
    let n = name.trim().to_lowercase();
    let sfx = suffix(&n).ok_or_else(|| SimErr::invalid("domain", "不支持的域名后缀"))?;
    let label = n
        .strip_suffix(&format!(".{sfx}"))
        .ok_or_else(|| SimErr::invalid("domain", "域名格式错误"))?;
    if label.is_empty()
        || label.contains('.')
        || label.starts_with('-')
        || label.ends_with('-')
        || !label.chars().all(|c| c.is_alphanumeric() || c == '-')
    {
        return Err(SimErr::invalid("domain", "域名格式错误"));
    }
    let (reg, renew) = prices(&sfx).unwrap_or_default();
    Ok((n, reg, renew))
}

pub(crate) fn dom<'a>(st: &'a mut State, q: &Req) -> Result<&'a mut Domain, SimErr> {
    let name = q.need("domain")?.to_lowercase();
    if !st.domains.contains_key(&name) {
        return Err(missing(st, &name));
    }
    st.domains.get_mut(&name).ok_or_else(SimErr::no_domain)
}

/// 20112 for a name registered but held elsewhere, 20001 for one that is not ours at all.
pub(crate) fn missing(st: &State, name: &str) -> SimErr {
    if registered_elsewhere(st, name) {
        SimErr::table(code::DOMAIN_ELSEWHERE)
    } else {
        SimErr::no_domain()
    }
}

fn template_json(t: &Template) -> Value {
    json!({"templateid":t.id,"type":if t.intl {"intl"} else {"cn"},"regtype":t.regtype,
        "name":t.name,"org":t.org,"idtype":t.idtype,"idnumber":t.idnumber,"email":t.email,
        "phone":t.phone,"country":t.country,"province":t.province,"city":t.city,
        "address":t.address,"postcode":t.postcode,
        "realname":if t.intl {"none"} else if t.verified {"verified"} else {"unverified"},
        "createtime":fmt_time(t.created)})
}

fn domain_json(d: &Domain, now: i64) -> Value {
    json!({"domain":d.name,"regdate":fmt_date(d.regdate),"expiredate":fmt_date(d.expire),
        "status":d.status(now),"templateid":d.templateid,"dns":d.ns,"autorenew":u8::from(d.autorenew),
        "privacy":u8::from(d.privacy.is_some()),
        "smartdns":d.smartdns_expire.map(fmt_date).unwrap_or_default(),"remark":d.remark})
}

fn check_contact(q: &Req) -> Result<(), SimErr> {
    if let Some(e) = q.arg("email") {
        if !e.contains('@') || !e.contains('.') {
            return Err(SimErr::invalid("email", "邮箱格式错误"));
        }
    }
    if let Some(p) = q.arg("phone") {
        if p.len() < 7
            || !p
                .chars()
                .all(|c| c.is_ascii_digit() || c == '-' || c == '+' || c == '.')
        {
            return Err(SimErr::invalid("phone", "电话格式错误"));
        }
    }
    Ok(())
}

pub(crate) fn handler(name: &str) -> Option<Handler> {
    Some(match name {
        "domain.getprice" => getprice,
        "domain.createtemplate" => |st, q| create_template(st, q, false),
        "domain.createintltemplate" => |st, q| create_template(st, q, true),
        "domain.gettemplateinfo" => gettemplateinfo,
        "domain.getrealnametoken" => getrealnametoken,
        "domain.uploadrealname" => uploadrealname,
        "domain.modifytemplate" => modifytemplate,
        "domain.domaintransfer" => domaintransfer,
        "domain.gettransferlist" => gettransferlist,
        "domain.modifydomain" => modifydomain,
        "domain.getdomainrealname" => getdomainrealname,
        "domain.gettemplatelist" => gettemplatelist,
        "domain.deletetemplate" => deletetemplate,
        "domain.checkword" => checkword,
        "domain.checkdomain" => checkdomain,
        "domain.regdomain" => regdomain,
        "domain.getdomains" => getdomains,
        "domain.getwhois" => getwhois,
        "domain.getregistrystatus" => getregistrystatus,
        "domain.getdomaininfo" => getdomaininfo,
        "domain.getfaileddomains" => getfaileddomains,
        "domain.getrenewprice" => getrenewprice,
        "domain.renewdomain" => renewdomain,
        "domain.modifydns" => modifydns,
        "domain.regdns" => |st, q| set_regdns(st, q, false),
        "domain.modifyregdns" => |st, q| set_regdns(st, q, true),
        "domain.syncregdns" => syncregdns,
        "domain.getregdns" => getregdns,
        "domain.deleteregdns" => deleteregdns,
        "domain.getdnssec" => getdnssec,
        "domain.syncdnssec" => syncdnssec,
        "domain.adddnssec" => adddnssec,
        "domain.deletednssec" => deletednssec,
        "domain.getdomaincert" => getdomaincert,
        "domain.batchgetcert" => batchgetcert,
        "domain.batchdownloadcert" => batchdownloadcert,
        "domain.getdomainpwd" => getdomainpwd,
        "domain.modifydomainpwd" => modifydomainpwd,
        "domain.getsmartdnsprice" => |st, q| yearly_price(st, q, dec(50, 0)),
        "domain.getprivacyprice" => |st, q| yearly_price(st, q, dec(10, 0)),
        "domain.opensmartdns" => opensmartdns,
        "domain.openprivacy" => openprivacy,
        "domain.renewprivacy" => renewprivacy,
        "domain.modifyprivacyemail" => modifyprivacyemail,
        "domain.getprivacyinfo" => getprivacyinfo,
        _ => return None,
    })
}

fn getregistrystatus(st: &mut State, q: &Req) -> R {
    let d = dom(st, q)?;
    Ok(json!({"domain":d.name,"status":registry_status(d, q.now_ms())}))
}

fn getdomaincert(st: &mut State, q: &Req) -> R {
    let d = dom(st, q)?.clone();
    Ok(cert_json(st, &d))
}

fn getdomainpwd(st: &mut State, q: &Req) -> R {
    let d = dom(st, q)?;
    Ok(json!({"domain":d.name,"password":d.password}))
}

fn getprice(_: &mut State, q: &Req) -> R {
    let sfx =
        suffix(q.need("domain")?).ok_or_else(|| SimErr::invalid("domain", "不支持的域名后缀"))?;
    let year = q.period("year", 10)?;
    let (reg, renew) = prices(&sfx).unwrap_or_default();
    Ok(
        json!({"suffix":format!(".{sfx}"),"year":year,"price":m(reg * Decimal::from(year)),"renewprice":m(renew * Decimal::from(year))}),
    )
}

fn create_template(st: &mut State, q: &Req, intl: bool) -> R {
    check_contact(q)?;
    let regtype = q.arg("regtype").unwrap_or("I").to_string();
    if !intl {
        let idn = q.need("idnumber")?;
        if q.arg("idtype") == Some("SFZ")
            && (idn.len() != 18 || !idn.chars().all(|c| c.is_ascii_digit() || c == 'X'))
        {
            return Err(SimErr::invalid("idnumber", "身份证号码格式错误"));
        }
        if regtype == "E" && q.arg("org").is_none() {
            return Err(SimErr::invalid("org", "企业模板必须填写单位名称"));
        }
    }
    let id = st.next_id();
    let s = |k: &str| q.arg(k).unwrap_or_default().to_string();
    st.templates.insert(
        id,
        Template {
            id,
            intl,
            regtype,
            name: s("name"),
            org: s("org"),
            idtype: s("idtype"),
            idnumber: s("idnumber"),
            email: s("email"),
            phone: s("phone"),
            country: s("country"),
            province: s("province"),
            city: s("city"),
            address: s("address"),
            postcode: s("postcode"),
            verified: false,
            uploadtoken: None,
            created: q.now_ms(),
        },
    );
    Ok(json!({"templateid":id}))
}

fn template<'a>(st: &'a mut State, q: &Req) -> Result<&'a mut Template, SimErr> {
    by_id(&mut st.templates, q, "templateid")
}

fn gettemplateinfo(st: &mut State, q: &Req) -> R {
    Ok(template_json(template(st, q)?))
}

fn getrealnametoken(st: &mut State, q: &Req) -> R {
    let now = q.now_ms();
    let t = template(st, q)?;
    if t.intl {
        return Err(SimErr::refused("templateid", "国际模板无需实名认证"));
    }
    let tok = crate::md5_hex(&format!("{}{now}", t.id))[..20].to_string();
    let expire = now + 30 * 60 * 1000;
    t.uploadtoken = Some((tok.clone(), expire));
    Ok(json!({"templateid":t.id,"uploadtoken":tok,"expire":fmt_time(expire)}))
}

fn uploadrealname(st: &mut State, q: &Req) -> R {
    let now = q.now_ms();
    let t = template(st, q)?;
    match &t.uploadtoken {
        Some((tok, exp)) if tok == q.need("uploadtoken")? && *exp >= now => {}
        _ => return Err(SimErr::invalid("uploadtoken", "上传凭证无效或已过期")),
    }
    let file = q.need("idfile")?;
    if file.len() < 16
        || !file
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+/=".contains(c))
    {
        return Err(SimErr::invalid("idfile", "证件图片必须是base64编码"));
    }
    // The sandbox audits at once; the live registry takes minutes to days.
    t.verified = true;
    t.uploadtoken = None;
    Ok(json!({"templateid":t.id,"realname":"verified"}))
}

fn modifytemplate(st: &mut State, q: &Req) -> R {
    check_contact(q)?;
    let t = template(st, q)?;
    let mut owner_changed = false;
    for (k, f) in [
        ("name", &mut t.name),
        ("org", &mut t.org),
        ("email", &mut t.email),
        ("phone", &mut t.phone),
        ("province", &mut t.province),
        ("city", &mut t.city),
        ("address", &mut t.address),
        ("postcode", &mut t.postcode),
    ] {
        if let Some(v) = q.arg(k) {
            if (k == "name" || k == "org") && f != v {
                owner_changed = true;
            }
            *f = v.to_string();
        }
    }
    // The owner's identity is what was verified: a new name needs a new audit.
    if owner_changed && !t.intl {
        t.verified = false;
    }
    Ok(template_json(t))
}

fn domaintransfer(st: &mut State, q: &Req) -> R {
    let to = q.id("templateid")?;
    let t = st
        .templates
        .get(&to)
        .ok_or_else(|| SimErr::bad_id("templateid"))?
        .clone();
    let d = dom(st, q)?;
    if d.templateid == to {
        return Err(SimErr::refused("templateid", "域名已在该模板下"));
    }
    if is_cn(&d.name) && (t.intl || !t.verified) {
        return Err(SimErr::refused("templateid", "中文/CN域名需要已实名的模板"));
    }
    let from = d.templateid;
    d.templateid = to;
    let name = d.name.clone();
    let id = st.next_id();
    st.transfers.push(Transfer {
        id,
        domain: name,
        from,
        to,
        time: q.now_ms(),
    });
    Ok(json!({"transferid":id,"status":"done"}))
}

fn gettransferlist(st: &mut State, q: &Req) -> R {
    let f = q.arg("domain").map(str::to_lowercase);
    let all: Vec<&Transfer> = st
        .transfers
        .iter()
        .rev()
        .filter(|t| f.as_ref().is_none_or(|d| &t.domain == d))
        .collect();
    if all.is_empty() {
        return Err(SimErr::empty());
    }
    Ok(page(
        &all,
        q.paging()?,
        |t| json!({"transferid":t.id,"domain":t.domain,"fromtemplate":t.from,"totemplate":t.to,"time":fmt_time(t.time),"status":"done"}),
    ))
}

fn modifydomain(st: &mut State, q: &Req) -> R {
    let d = dom(st, q)?;
    if let Some(a) = q.arg("autorenew") {
        d.autorenew = a == "1";
    }
    if let Some(r) = q.arg("remark") {
        d.remark = r.to_string();
    }
    Ok(domain_json(d, q.now_ms()))
}

fn getdomainrealname(st: &mut State, q: &Req) -> R {
    let d = dom(st, q)?.clone();
    let t = st.templates.get(&d.templateid);
    Ok(json!({"domain":d.name,"templateid":d.templateid,
        "name":t.map(|t| t.name.clone()).unwrap_or_default(),
        "realname":match t { Some(t) if t.intl => "none", Some(t) if t.verified => "verified", _ => "unverified" }}))
}

fn gettemplatelist(st: &mut State, q: &Req) -> R {
    let all: Vec<&Template> = st.templates.values().collect();
    if all.is_empty() {
        return Err(SimErr::empty());
    }
    Ok(page(&all, q.paging()?, |t| template_json(t)))
}

fn deletetemplate(st: &mut State, q: &Req) -> R {
    let id = q.id("templateid")?;
    if !st.templates.contains_key(&id) {
        return Err(SimErr::bad_id("templateid"));
    }
    if st.domains.values().any(|d| d.templateid == id) {
        return Err(SimErr::refused(
            "templateid",
            "模板正在被域名使用，不能删除",
        ));
    }
    st.templates.remove(&id);
    Ok(json!({"templateid":id}))
}

fn checkword(_: &mut State, q: &Req) -> R {
    let w = q.need("word")?;
    let lw = w.to_lowercase();
    let hits: Vec<&str> = SENSITIVE
        .iter()
        .copied()
        .filter(|s| lw.contains(s))
        .collect();
    Ok(json!({"word":w,"sensitive":u8::from(!hits.is_empty()),"hits":hits}))
}

fn checkdomain(st: &mut State, q: &Req) -> R {
    let (n, reg, _) = check_name(q.need("domain")?)?;
    let avail = !st.domains.contains_key(&n) && !registered_elsewhere(st, &n);
    Ok(json!({"domain":n,"avail":u8::from(avail),"price":m(reg)}))
}

fn getdomains(st: &mut State, q: &Req) -> R {
    let now = q.now_ms();
    let f = q.arg("domain").map(str::to_lowercase);
    let all: Vec<&Domain> = st
        .domains
        .values()
        .filter(|d| f.as_ref().is_none_or(|x| d.name.contains(x.as_str())))
        .collect();
    if all.is_empty() {
        return Err(SimErr::empty());
    }
    Ok(page(&all, q.paging()?, |d| domain_json(d, now)))
}

fn getwhois(st: &mut State, q: &Req) -> R {
    let (n, _, _) = check_name(q.need("domain")?)?;
    match st.domains.get(&n) {
        Some(d) => {
            let owner = if d.privacy.is_some() {
                "REDACTED FOR PRIVACY".to_string()
            } else {
                st.templates
                    .get(&d.templateid)
                    .map(|t| t.name.clone())
                    .unwrap_or_default()
            };
            Ok(
                json!({"domain":n,"registered":1,"registrar":"West263 International Limited","registrant":owner,
                "creationdate":fmt_time(d.regdate),"expirationdate":fmt_time(d.expire),"nameservers":d.ns,"status":registry_status(d, q.now_ms())}),
            )
        }
        None if TAKEN.contains(&n.as_str()) => {
            Ok(json!({"domain":n,"registered":1,"registrar":"other"}))
        }
        None => Ok(json!({"domain":n,"registered":0})),
    }
}

fn getdomaininfo(st: &mut State, q: &Req) -> R {
    let d = dom(st, q)?;
    let mut v = domain_json(d, q.now_ms());
    v["password_set"] = json!(1);
    v["regdns"] = json!(d.regdns.len());
    Ok(v)
}

fn getfaileddomains(st: &mut State, q: &Req) -> R {
    let now = q.now_ms();
    let all: Vec<Failure> = st
        .failures()
        .iter()
        .rev()
        .filter(|f| now - f.1 <= 7 * DAY_MS)
        .cloned()
        .collect();
    if all.is_empty() {
        return Err(SimErr::empty());
    }
    Ok(page(
        &all,
        (1, 1000),
        |f| json!({"domain":f.0,"time":fmt_time(f.1),"reason":f.2}),
    ))
}

fn getrenewprice(st: &mut State, q: &Req) -> R {
    let year = q.period("year", 10)?;
    let d = dom(st, q)?;
    Ok(json!({"domain":d.name,"year":year,"price":m(renew_price(&d.name) * Decimal::from(year))}))
}

fn modifydns(st: &mut State, q: &Req) -> R {
    let ns = nameservers(q, &["dns1", "dns2", "dns3", "dns4", "dns5", "dns6"])?;
    let d = dom(st, q)?;
    d.ns = ns;
    Ok(json!({"domain":d.name,"dns":d.ns}))
}

/// A registered host name as West stores it (no trailing dot, lower case).
fn regdns_host(q: &Req) -> Result<String, SimErr> {
    Ok(q.need("dns")?.trim_end_matches('.').to_lowercase())
}

/// regdns (a new host) and modifyregdns (an existing one): the same record either way.
fn set_regdns(st: &mut State, q: &Req, existing: bool) -> R {
    let host = regdns_host(q)?;
    let ip: std::net::IpAddr = q
        .need("ip")?
        .parse()
        .map_err(|_| SimErr::invalid("ip", "IP格式错误"))?;
    let d = dom(st, q)?;
    if !host.ends_with(&format!(".{}", d.name)) {
        return Err(SimErr::invalid("dns", "DNS主机必须是该域名的下级"));
    }
    match (d.regdns.contains_key(&host), existing) {
        (true, false) => return Err(SimErr::refused("dns", "该DNS主机已注册")),
        (false, true) => return Err(SimErr::bad_id("dns")),
        _ => {}
    }
    d.regdns.insert(host.clone(), ip.to_string());
    d.regdns_synced = None;
    Ok(json!({"dns":host,"ip":ip.to_string()}))
}

fn syncregdns(st: &mut State, q: &Req) -> R {
    let now = q.now_ms();
    let d = dom(st, q)?;
    d.regdns_synced = Some(now);
    Ok(json!({"domain":d.name,"synced":d.regdns.len(),"time":fmt_time(now)}))
}

fn getregdns(st: &mut State, q: &Req) -> R {
    let d = dom(st, q)?;
    let items: Vec<Value> = d
        .regdns
        .iter()
        .map(|(h, ip)| json!({"dns":h,"ip":ip}))
        .collect();
    Ok(
        json!({"domain":d.name,"synctime":d.regdns_synced.map(fmt_time).unwrap_or_default(),"items":items}),
    )
}

fn deleteregdns(st: &mut State, q: &Req) -> R {
    let host = regdns_host(q)?;
    let d = dom(st, q)?;
    if !d.regdns.contains_key(&host) {
        return Err(SimErr::bad_id("dns"));
    }
    if d.ns.contains(&host) {
        return Err(SimErr::refused("dns", "该DNS主机正被域名使用"));
    }
    d.regdns.remove(&host);
    Ok(json!({"dns":host}))
}

fn getdnssec(st: &mut State, q: &Req) -> R {
    let d = dom(st, q)?;
    let items: Vec<Value> = d.dnssec.iter().map(|x| json!({"keyTag":x.key_tag,"algorithm":x.algorithm,"digestType":x.digest_type,"digest":x.digest})).collect();
    Ok(
        json!({"domain":d.name,"synctime":d.dnssec_synced.map(fmt_time).unwrap_or_default(),"items":items}),
    )
}

fn syncdnssec(st: &mut State, q: &Req) -> R {
    let d = dom(st, q)?;
    d.dnssec_synced = Some(q.now_ms());
    Ok(json!({"domain":d.name,"synced":d.dnssec.len()}))
}

fn adddnssec(st: &mut State, q: &Req) -> R {
    let key_tag = q.int("keyTag")?;
    let algorithm = q.int("algorithm")?;
    let digest_type = q.int("digestType")?;
    let digest = q.need("digest")?.to_uppercase();
    if !(0..=65535).contains(&key_tag) {
        return Err(SimErr::invalid("keyTag", "必须在0到65535之间"));
    }
    if ![5, 7, 8, 10, 13, 14, 15, 16].contains(&algorithm) {
        return Err(SimErr::invalid("algorithm", "不支持的算法"));
    }
    let want = match digest_type {
        1 => 40,
        2 => 64,
        4 => 96,
        _ => return Err(SimErr::invalid("digestType", "必须是1、2或4")),
    };
    if digest.len() != want || !digest.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(SimErr::invalid("digest", "摘要长度与类型不符"));
    }
    let d = dom(st, q)?;
    if d.dnssec
        .iter()
        .any(|x| x.key_tag == key_tag && x.digest_type == digest_type)
    {
        return Err(SimErr::new(code::DUPLICATE, "keyTag: 该DS记录已存在"));
    }
    d.dnssec.push(Ds {
        key_tag,
        algorithm,
        digest_type,
        digest,
    });
    d.dnssec_synced = None;
    Ok(json!({"domain":d.name,"keyTag":key_tag}))
}

fn deletednssec(st: &mut State, q: &Req) -> R {
    let key_tag = q.int("keyTag")?;
    let d = dom(st, q)?;
    remove_where(
        &mut d.dnssec,
        |x| x.key_tag == key_tag,
        SimErr::bad_id("keyTag"),
    )?;
    Ok(json!({"domain":d.name,"keyTag":key_tag}))
}

/// The `domains` list split into the account's names and the others.
fn cert_names(st: &State, q: &Req) -> Result<(Vec<String>, Vec<String>), SimErr> {
    let names: Vec<String> = q
        .need("domains")?
        .split([',', ';', ' ', '\n'])
        .filter(|s| !s.is_empty())
        .map(str::to_lowercase)
        .collect();
    let (ok, bad): (Vec<String>, Vec<String>) =
        names.into_iter().partition(|n| st.domains.contains_key(n));
    if ok.is_empty() {
        return Err(SimErr::no_domain());
    }
    Ok((ok, bad))
}

fn batchgetcert(st: &mut State, q: &Req) -> R {
    let (ok, bad) = cert_names(st, q)?;
    let items: Vec<Value> = ok
        .iter()
        .filter_map(|n| st.domains.get(n))
        .map(|d| cert_json(st, d))
        .collect();
    Ok(json!({"items":items,"failed":bad}))
}

fn batchdownloadcert(st: &mut State, q: &Req) -> R {
    let (ok, bad) = cert_names(st, q)?;
    let key = crate::md5_hex(&ok.join(","));
    Ok(
        json!({"url":format!("https://www.west.cn/domain/cert/batch/{}.zip", &key[..16]),"count":ok.len(),"failed":bad}),
    )
}

fn modifydomainpwd(st: &mut State, q: &Req) -> R {
    let p = q.password()?;
    let d = dom(st, q)?;
    d.password = p;
    Ok(json!({"domain":d.name}))
}

/// A yearly add-on's price for a domain of the account.
fn yearly_price(st: &mut State, q: &Req, unit: Decimal) -> R {
    let year = q.period("year", 10)?;
    let d = dom(st, q)?;
    Ok(json!({"domain":d.name,"year":year,"price":m(unit * Decimal::from(year))}))
}

/// What a paid add-on answers: the order and the new expiry.
fn bought(name: &str, orderid: String, price: Decimal, exp: i64) -> Value {
    json!({"domain":name,"orderid":orderid,"amount":m(price),"expiredate":fmt_date(exp)})
}

fn opensmartdns(st: &mut State, q: &Req) -> R {
    let now = q.now_ms();
    let year = q.period("year", 10)?;
    let d = dom(st, q)?;
    if !d.dns_hosted() {
        return Err(SimErr::new(
            code::DNS_ELSEWHERE,
            "domain: 域名DNS不在西部数码，无法开通智能DNS",
        ));
    }
    let name = d.name.clone();
    let start = d.smartdns_expire.unwrap_or(now).max(now);
    let price = dec(50, 0) * Decimal::from(year);
    let orderid = st.charge(now, price, format!("开通智能DNS {name} {year}年"))?;
    let exp = add_months(start, 12 * year);
    dom(st, q)?.smartdns_expire = Some(exp);
    Ok(bought(&name, orderid, price, exp))
}

fn privacy_email(email: &str) -> Result<(), SimErr> {
    if email.contains('@') {
        Ok(())
    } else {
        Err(SimErr::invalid("email", "邮箱格式错误"))
    }
}

/// Charges `year` years of privacy protection from its current end (or now) and stores
/// it with `email`.
fn add_privacy(st: &mut State, q: &Req, year: i64, email: String) -> R {
    let now = q.now_ms();
    privacy_email(&email)?;
    let d = dom(st, q)?;
    let name = d.name.clone();
    let start = d.privacy.as_ref().map_or(now, |p| p.1).max(now);
    let price = dec(10, 0) * Decimal::from(year);
    let orderid = st.charge(now, price, format!("隐私保护 {name} {year}年"))?;
    let exp = add_months(start, 12 * year);
    dom(st, q)?.privacy = Some((email, exp));
    Ok(bought(&name, orderid, price, exp))
}

/// One year, with the given email or a West relay address.
fn openprivacy(st: &mut State, q: &Req) -> R {
    let email = q.arg("email").map(str::to_string);
    let d = dom(st, q)?;
    if d.privacy.is_some() {
        return Err(SimErr::refused("domain", "隐私保护已开通"));
    }
    let email = email.unwrap_or_else(|| format!("privacy-{}@west.cn", d.name.replace('.', "-")));
    add_privacy(st, q, 1, email)
}

fn renewprivacy(st: &mut State, q: &Req) -> R {
    let year = q.period("year", 10)?;
    let (email, _) = dom(st, q)?
        .privacy
        .clone()
        .ok_or_else(|| SimErr::refused("domain", "隐私保护未开通"))?;
    add_privacy(st, q, year, email)
}

fn modifyprivacyemail(st: &mut State, q: &Req) -> R {
    let email = q.need("email")?.to_string();
    privacy_email(&email)?;
    let d = dom(st, q)?;
    match &mut d.privacy {
        Some(p) => p.0 = email.clone(),
        None => return Err(SimErr::refused("domain", "隐私保护未开通")),
    }
    Ok(json!({"domain":d.name,"email":email}))
}

fn getprivacyinfo(st: &mut State, q: &Req) -> R {
    let one = q.arg("domain").map(str::to_lowercase);
    let all: Vec<&Domain> = st
        .domains
        .values()
        .filter(|d| d.privacy.is_some() && one.as_ref().is_none_or(|o| &d.name == o))
        .collect();
    if all.is_empty() {
        return Err(SimErr::empty());
    }
    Ok(page(&all, (1, 1000), |d| {
        let (e, x) = d.privacy.clone().unwrap_or_default();
        json!({"domain":d.name,"email":e,"expiredate":fmt_date(x)})
    }))
}

/// The `dnsN` fields given, checked and stored as West stores them (no trailing dot).
fn nameservers(q: &Req, keys: &[&str]) -> Result<Vec<String>, SimErr> {
    let mut ns = Vec::new();
    for k in keys {
        if let Some(v) = q.arg(k) {
            if !valid_hostname(v) {
                return Err(SimErr::invalid(k, "DNS服务器名称格式错误"));
            }
            ns.push(v.trim_end_matches('.').to_lowercase());
        }
    }
    Ok(ns)
}

fn registry_status(d: &Domain, now: i64) -> Vec<&'static str> {
    let mut s = vec!["clientTransferProhibited", "clientDeleteProhibited"];
    if d.status(now) == "expired" {
        s.push("serverHold");
    }
    s
}

fn cert_json(st: &State, d: &Domain) -> Value {
    let owner = st
        .templates
        .get(&d.templateid)
        .map(|t| t.name.clone())
        .unwrap_or_default();
    json!({"domain":d.name,"owner":owner,"certno":format!("WEST{:010}", d.regdate % 10_000_000_000),
        "regdate":fmt_date(d.regdate),"expiredate":fmt_date(d.expire),
        "certurl":format!("https://www.west.cn/domain/cert/{}.jpg", d.name)})
}

fn regdomain(st: &mut State, q: &Req) -> R {
    let now = q.now_ms();
    let (name, reg, _) = check_name(q.need("domain")?)?;
    let year = q.period("year", 10)?;
    let tid = q.id("templateid")?;
    let t = st
        .templates
        .get(&tid)
        .ok_or_else(|| SimErr::bad_id("templateid"))?;
    if is_cn(&name) && (t.intl || !t.verified) {
        return Err(SimErr::refused(
            "templateid",
            "CN/中文域名需要已实名认证的模板",
        ));
    }
    if st.domains.contains_key(&name) {
        return Err(SimErr::refused("domain", "域名已在您的账户中"));
    }
    let ns = nameservers(q, &["dns1", "dns2"])?;
    if registered_elsewhere(st, &name) {
        // The registry refused: nothing is charged, the attempt shows in getfaileddomains.
        st.record_failure(&name, now, "域名已被注册");
        return Err(SimErr::refused("domain", "注册失败：域名已被注册"));
    }
    let price = reg * Decimal::from(year);
    let orderid = st.charge(now, price, format!("注册域名 {name} {year}年"))?;
    let pwd = crate::md5_hex(&format!("{name}{now}"))[..10].to_string() + "W1";
    let mut d = Domain::new(&name, tid, now, year, pwd);
    if ns.len() == 2 {
        d.ns = ns;
    }
    let exp = d.expire;
    st.domains.insert(name.clone(), d);
    Ok(bought(&name, orderid, price, exp))
}

fn renewdomain(st: &mut State, q: &Req) -> R {
    let now = q.now_ms();
    let year = q.period("year", 10)?;
    let guard = q.arg("expiredate").map(str::to_string);
    let d = dom(st, q)?;
    if let Some(g) = guard {
        if g != fmt_date(d.expire) {
            return Err(SimErr::refused(
                "expiredate",
                "与当前到期日不符，可能已续费",
            ));
        }
    }
    let new_exp = add_months(d.expire, 12 * year);
    if new_exp > add_months(now, 120) {
        return Err(SimErr::invalid("year", "续费后总年限不能超过10年"));
    }
    let name = d.name.clone();
    let price = renew_price(&name) * Decimal::from(year);
    let orderid = st.charge(now, price, format!("续费域名 {name} {year}年"))?;
    dom(st, q)?.expire = new_exp;
    Ok(bought(&name, orderid, price, new_exp))
}
