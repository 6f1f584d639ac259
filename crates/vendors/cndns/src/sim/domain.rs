//! Domains: availability, contacts (templates), registration charging the price,
//! renewal extending expiry, passwords, name servers, owner change and the real-name
//! audit of .cn domains (documents -> pending -> pass/unpass on the next status read).

use super::{
    add_years, fmt_date, fmt_time, fmt_time_dashed, valid_hostname, Fields, Handler, Purpose, Req,
    SimErr, State, DAY_MS, R,
};
use crate::sim::finance::domain_price;
use serde_json::{json, Value};

pub(crate) const DEFAULT_NS: [&str; 2] = ["ns1.cndns.com", "ns2.cndns.com"];
/// "超过 30 天的域名将无法续费".
const RENEW_GRACE_MS: i64 = 30 * DAY_MS;

#[derive(Debug, Clone)]
pub(crate) struct Contact {
    pub id: u64,
    pub fields: Vec<(String, String)>,
    pub usertype: &'static str,
    pub idtype: String,
    pub idnumber: String,
    /// 0 未审, 1 待审, 2 通过, 3 失败.
    pub checked: u8,
    pub created: i64,
}

impl Contact {
    fn get(&self, k: &str) -> &str {
        self.fields
            .iter()
            .find(|(n, _)| n == k)
            .map_or("", |(_, v)| v.as_str())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Audit {
    /// Not a domain that needs one.
    None,
    /// Registered, documents not sent ("No data").
    NoData,
    Pending,
    Pass,
    Unpass,
}

#[derive(Debug, Clone)]
pub(crate) struct Domain {
    pub name: String,
    pub contact: u64,
    pub password: String,
    pub reg: i64,
    pub exp: i64,
    pub ns: Vec<String>,
    pub audit: Audit,
    pub audit_idcard: String,
    pub records: std::collections::BTreeMap<u64, super::dns::Rec>,
}

impl Domain {
    pub fn new(name: &str, contact: u64, now: i64, years: i64) -> Self {
        Domain {
            name: name.into(),
            contact,
            password: "Pass1234".into(),
            reg: now,
            exp: add_years(now, years),
            ns: DEFAULT_NS.iter().map(|s| s.to_string()).collect(),
            audit: if needs_audit(name) {
                Audit::NoData
            } else {
                Audit::None
            },
            audit_idcard: String::new(),
            records: Default::default(),
        }
    }

    pub fn runstate(&self, now: i64) -> &'static str {
        if now > self.exp {
            "expired"
        } else if matches!(self.audit, Audit::NoData | Audit::Pending | Audit::Unpass) {
            "Not certified"
        } else {
            "run"
        }
    }

    /// Records are served only while the domain uses CNDNS's name servers (11307).
    pub fn on_our_dns(&self) -> bool {
        self.ns.iter().all(|n| n.ends_with(".cndns.com"))
    }
}

/// Domains under CNNIC rules: real-name documents before they resolve.
pub(crate) fn needs_audit(name: &str) -> bool {
    name.ends_with(".cn") || name.ends_with(".中国")
}

pub(crate) fn handler(name: &str) -> Option<Handler> {
    Some(match name {
        "dmcheck/check" => check,
        "/domains/createcontact" => create_contact,
        "/domains/modifycontact" => modify_contact,
        "/domains/deletecontact" => delete_contact,
        "/domains/contactlist" => contact_list,
        "/domains/contactinfo" => contact_info,
        "/domains/domainguohu" => guohu,
        "/domains/createdom" => create,
        "/domains/domainrenew" => renew,
        "/domains/modifypassword" => modify_password,
        "/domains/dnslist" => dns_list,
        "/domains/modifydns" => modify_dns,
        "/domains/resetdns" => reset_dns,
        "/domains/domaindetail" => detail,
        "/domains/domainaudit" => audit,
        "/domains/checkauditresult" => audit_result,
        _ => return None,
    })
}

/// The domain if it belongs to the account, else `code` (codes differ per endpoint).
pub(crate) fn owned<'a>(st: &'a mut State, q: &Req, code: u32) -> Result<&'a mut Domain, SimErr> {
    let d = q.domain()?;
    st.domains
        .get_mut(&d)
        .ok_or_else(|| SimErr::new(code, "域名不在代理商名下"))
}

fn valid_label(label: &str) -> bool {
    !label.is_empty()
        && label.chars().count() <= 63
        && !label.starts_with('-')
        && !label.ends_with('-')
        && label.chars().all(|c| c.is_alphanumeric() || c == '-')
}

fn check(st: &mut State, q: &Req) -> R {
    let label = q.arg("domain-name").unwrap_or_default().to_lowercase();
    let tld = q.arg("tld").unwrap_or_default().to_lowercase();
    if label.is_empty() {
        return Err(SimErr::new(11101, "域名主体不能为空"));
    }
    if !valid_label(&label) {
        return Err(SimErr::new(11104, "域名格式不正确"));
    }
    if tld.is_empty() {
        return Err(SimErr::new(11102, "域名后缀不能为空"));
    }
    let tld = if tld.starts_with('.') {
        tld
    } else {
        format!(".{tld}")
    };
    if !tld[1..]
        .split('.')
        .all(|p| !p.is_empty() && p.chars().all(char::is_alphanumeric))
    {
        return Err(SimErr::new(11105, "域名后缀格式不正确"));
    }
    if domain_price(&tld).is_none() {
        return Err(SimErr::new(11107, "不支持此后缀查询"));
    }
    let full = format!("{label}{tld}");
    let state = if st.domains.contains_key(&full) || st.taken.contains(&full) {
        "unavailable"
    } else {
        "available"
    };
    Ok(json!([{ full: state }]))
}

/// Validates a contact form (the codes of CreateContact, reused by ModifyContact).
/// A contact's form fields in document order, and its kind (`O` company, `I` person).
type ContactForm = (Vec<(String, String)>, &'static str);

fn contact_fields(q: &Req) -> Result<ContactForm, SimErr> {
    let names = [
        "company-en",
        "lastname-en",
        "firstname-en",
        "country-en",
        "state-en",
        "city-en",
        "address-en",
        "company-cn",
        "lastname-cn",
        "firstname-cn",
        "country-cn",
        "state-cn",
        "city-cn",
        "address-cn",
        "zipcode",
        "phone",
        "fax",
        "email",
    ];
    let mut fields = Vec::new();
    for n in names {
        fields.push((n.to_string(), q.req(n)?.to_string()));
    }
    let en = |k: &str| q.arg(k).unwrap_or_default();
    if !en("company-en").is_ascii() {
        return Err(SimErr::field(
            11001,
            "所有者(英)必须为英文输入",
            "company-en",
        ));
    }
    if !(2..=96).contains(&en("company-en").len()) {
        return Err(SimErr::field(
            11002,
            "所有者(英)长度只能2-96位",
            "company-en",
        ));
    }
    if !en("lastname-en").is_ascii() {
        return Err(SimErr::field(11006, "姓(英)不是英文输入", "lastname-en"));
    }
    if !en("address-en").is_ascii() || !en("address-en").contains(' ') {
        return Err(SimErr::field(
            11013,
            "联系地址(英)必须英文输入且包含一个空格",
            "address-en",
        ));
    }
    if en("address-cn").chars().count() < 8 {
        return Err(SimErr::field(
            11023,
            "联系地址(中)长度必须大于8位",
            "address-cn",
        ));
    }
    let phone_ok = |p: &str| {
        let digits = p.trim_start_matches('+').replacen('.', "", 1);
        digits.len() >= 7 && digits.chars().all(|c| c.is_ascii_digit())
    };
    if !phone_ok(en("phone")) {
        return Err(SimErr::field(
            11025,
            "电话不规范(例如:+86.02151697771)",
            "phone",
        ));
    }
    if !phone_ok(en("fax")) {
        return Err(SimErr::field(
            11026,
            "传真不规范(例如:+86.02151697771)",
            "fax",
        ));
    }
    let email = en("email");
    if !email
        .split_once('@')
        .is_some_and(|(u, d)| !u.is_empty() && d.contains('.'))
    {
        return Err(SimErr::field(11028, "电子邮件不规范", "email"));
    }
    let zip = en("zipcode");
    if !(zip.len() == 6 && zip.chars().all(|c| c.is_ascii_digit())) {
        return Err(SimErr::field(11005, "邮政编码不规范", "zipcode"));
    }
    // The doc says 0/1; its own example sends `O` (the letter).
    let usertype = match q.text("usertype") {
        "0" | "O" | "o" => "O",
        "1" | "I" | "i" => "I",
        _ => return Err(SimErr::field(10011, "参数包含非法关键字", "usertype")),
    };
    let cn = en("company-cn").chars().count();
    if (usertype == "O" && cn < 3) || cn < 1 {
        return Err(SimErr::field(11016, "所有者(中)长度错误", "company-cn"));
    }
    Ok((fields, usertype))
}

fn create_contact(st: &mut State, q: &Req) -> R {
    let (fields, usertype) = contact_fields(q)?;
    let id = st.next_id();
    st.contacts.insert(
        id,
        Contact {
            id,
            fields,
            usertype,
            idtype: q.text("idtype").to_string(),
            idnumber: q.text("idnumber").to_string(),
            checked: 0,
            created: q.now_ms(),
        },
    );
    Ok(json!(id.to_string()))
}

fn contact_in_use(st: &State, id: u64) -> impl Iterator<Item = &Domain> {
    st.domains.values().filter(move |d| d.contact == id)
}

fn contact_id(q: &Req, st: &State, code: u32) -> Result<u64, SimErr> {
    q.req("userid")?
        .parse::<u64>()
        .ok()
        .filter(|id| st.contacts.contains_key(id))
        .ok_or_else(|| SimErr::new(code, "联系人ID不存在"))
}

fn modify_contact(st: &mut State, q: &Req) -> R {
    let id = contact_id(q, st, 11109)?;
    // "若该联系人名下有域名时而且包含国内域名的, 目前不支持修改信息".
    if contact_in_use(st, id).any(|d| needs_audit(&d.name)) {
        return Err(SimErr::new(11043, "联系人信息禁止修改(名下包含国内域名)"));
    }
    let (fields, usertype) = contact_fields(q)?;
    if let Some(c) = st.contacts.get_mut(&id) {
        c.fields = fields;
        c.usertype = usertype;
        if let Some(t) = q.arg("idtype") {
            c.idtype = t.to_string();
        }
        if let Some(n) = q.arg("idnumber") {
            c.idnumber = n.to_string();
        }
    }
    Ok(json!(" "))
}

fn delete_contact(st: &mut State, q: &Req) -> R {
    let id = contact_id(q, st, 11033)?;
    if contact_in_use(st, id).next().is_some() {
        return Err(SimErr::new(11056, "当前模板已有关联域名不能操作删除"));
    }
    st.contacts.remove(&id);
    Ok(json!(" "))
}

fn contact_json(st: &State, c: &Contact) -> Value {
    let domain = contact_in_use(st, c.id).next();
    json!({
        "userid": c.id.to_string(),
        "ownername": c.get("company-en"),
        "firstname": c.get("firstname-en"),
        "lastname": c.get("lastname-en"),
        "country": c.get("country-en"),
        "province": c.get("state-en"),
        "city": c.get("city-en"),
        "address": c.get("address-en"),
        "postcode": c.get("zipcode"),
        "phone": c.get("phone"),
        "fax": c.get("fax"),
        "email": c.get("email"),
        "ownername_cn": c.get("company-cn"),
        "firstname_cn": c.get("firstname-cn"),
        "country_cn": c.get("country-cn"),
        "province_cn": c.get("state-cn"),
        "city_cn": c.get("city-cn"),
        "address_cn": c.get("address-cn"),
        "lastname_cn": c.get("lastname-cn"),
        "domainid": domain.map(|d| d.name.clone()).unwrap_or_default(),
        "domaintype": c.usertype,
        "licencetype": c.idtype,
        "licencenumber": c.idnumber,
        "domcn": "1",
        "fromcnnic": "1",
        "whiteid": if c.checked == 2 { "1" } else { "2" },
        "regtime": fmt_time_dashed(c.created),
        "ischecked": c.checked.to_string(),
        "isforbidden": "1",
    })
}

fn contact_list(st: &mut State, q: &Req) -> R {
    let want = q.arg("userid").and_then(|v| v.parse::<u64>().ok());
    Ok(Value::Array(
        st.contacts
            .values()
            .filter(|c| want.is_none_or(|w| w == c.id))
            .map(|c| contact_json(st, c))
            .collect(),
    ))
}

fn contact_info(st: &mut State, q: &Req) -> R {
    let id = match (q.arg("userid"), q.arg("domainname")) {
        (Some(u), _) => u
            .parse::<u64>()
            .ok()
            .filter(|id| st.contacts.contains_key(id))
            .ok_or_else(|| SimErr::new(11302, "联系人不在代理名下"))?,
        (None, Some(_)) => owned(st, q, 11302)?.contact,
        (None, None) => return Err(SimErr::new(11305, "联系人ID或域名至少选填一项")),
    };
    let c = st
        .contacts
        .get(&id)
        .ok_or_else(|| SimErr::new(11302, "联系人不在代理名下"))?;
    // One item per role (1 owner, 2 admin, 3 tech, 4 billing) as the sample lists them,
    // the template's id on the owner only, and none of ContactList's audit keys.
    let mut v = contact_json(st, c);
    let Some(o) = v.as_object_mut() else {
        return Ok(json!([v]));
    };
    for k in [
        "domcn",
        "fromcnnic",
        "whiteid",
        "regtime",
        "ischecked",
        "isforbidden",
    ] {
        o.remove(k);
    }
    let roles = (1..=4)
        .map(|role| {
            let mut item = o.clone();
            if role > 1 {
                item.insert("userid".into(), json!(""));
            }
            item.insert("domainownertype".into(), json!(role.to_string()));
            Value::Object(item)
        })
        .collect();
    Ok(Value::Array(roles))
}

fn guohu(st: &mut State, q: &Req) -> R {
    let name = super::transfer::named_domain(q)?;
    if name.ends_with(".gov.cn") {
        return Err(SimErr::new(11726, "Gov.cn行政域名不支持"));
    }
    if !st.domains.contains_key(&name) {
        return Err(SimErr::new(11701, "域名订单不存在"));
    }
    let uid = q
        .req("userid")?
        .parse::<u64>()
        .map_err(|_| SimErr::new(11729, "联系人ID格式错误"))?;
    let c = st
        .contacts
        .get(&uid)
        .ok_or_else(|| SimErr::new(11722, "联系人ID不存在"))?;
    if needs_audit(&name) && c.checked != 2 {
        return Err(SimErr::new(11725, "联系人ID不可用"));
    }
    if let Some(d) = st.domains.get_mut(&name) {
        d.contact = uid;
    }
    Ok(json!(" "))
}

fn name_servers(q: &Req, prefix: &str) -> Result<Vec<String>, SimErr> {
    let mut ns: Vec<String> = Vec::new();
    for i in 1..=6 {
        if let Some(h) = q.arg(&format!("{prefix}{i}")) {
            let h = h.trim_end_matches('.').to_ascii_lowercase();
            if !valid_hostname(&h) && h.parse::<std::net::IpAddr>().is_err() {
                return Err(SimErr::field(11046, "DNS修改失败", &format!("{prefix}{i}")));
            }
            if ns.contains(&h) {
                return Err(SimErr::new(11403, "DNS1至DNS6不能相同(不包含空)"));
            }
            ns.push(h);
        }
    }
    Ok(ns)
}

fn create(st: &mut State, q: &Req) -> R {
    let name = q.domain()?;
    let uid = q
        .req("userid")?
        .parse::<u64>()
        .map_err(|_| SimErr::new(11105, "域名联系人ID非法"))?;
    let Some((label, tld)) = name.split_once('.') else {
        return Err(SimErr::new(11106, "域名非法"));
    };
    if !valid_label(label) {
        return Err(SimErr::new(11106, "域名非法"));
    }
    let tld = format!(".{tld}");
    let Some((price, _)) = domain_price(&tld) else {
        return Err(SimErr::new(11106, "域名非法"));
    };
    let pass = q.req("domainpass")?;
    if !(6..=16).contains(&pass.len()) || !pass.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(SimErr::new(11132, "域名密码格式错误"));
    }
    let years = q.period("years", 10, 11133)?;
    let contact = st
        .contacts
        .get(&uid)
        .ok_or_else(|| SimErr::new(11109, "联系人信息读取失败或不存在"))?;
    if needs_audit(&name) && contact.idtype.is_empty() {
        return Err(SimErr::new(11116, "国内域名注册时证件类型不能为空"));
    }
    if needs_audit(&name) && contact.idnumber.is_empty() {
        return Err(SimErr::new(11117, "国内域名注册时证件号码不能为空"));
    }
    if st.domains.contains_key(&name) {
        return Err(SimErr::new(11119, "域名已有订单"));
    }
    if st.taken.contains(&name) {
        return Err(SimErr::new(11124, "域名已被注册禁止下单购买"));
    }
    let ns = name_servers(q, "dns")?;
    let amount = price * rust_decimal::Decimal::from(years);
    st.charge_order(
        q,
        Purpose::Buy,
        amount,
        format!("域名注册 {name} {years}年"),
    )?;
    let mut d = Domain::new(&name, uid, q.now_ms(), years);
    d.password = pass.to_string();
    if ns.len() >= 2 {
        d.ns = ns;
    }
    st.domains.insert(name, d);
    Ok(json!(""))
}

fn renew(st: &mut State, q: &Req) -> R {
    let years = q.period("years", 10, 11601)?;
    let now = q.now_ms();
    let d = owned(st, q, 11302)?;
    if now > d.exp + RENEW_GRACE_MS {
        return Err(SimErr::new(11603, "域名已进入删除队列无法续费"));
    }
    if let Some(exptme) = q.arg("exptme") {
        if exptme != fmt_date(d.exp) {
            return Err(SimErr::new(11605, "域名到期时间不对"));
        }
    }
    let name = d.name.clone();
    let tld = name
        .split_once('.')
        .map(|(_, t)| format!(".{t}"))
        .unwrap_or_default();
    let (_, renew_price) = domain_price(&tld).ok_or_else(|| SimErr::new(11602, "注册类型错误"))?;
    let amount = renew_price * rust_decimal::Decimal::from(years);
    st.charge_order(
        q,
        Purpose::Renew,
        amount,
        format!("域名续费 {name} {years}年"),
    )?;
    if let Some(d) = st.domains.get_mut(&name) {
        d.exp = add_years(d.exp, years);
    }
    Ok(json!(""))
}

fn modify_password(st: &mut State, q: &Req) -> R {
    let pass = q.arg("password").unwrap_or_default().to_string();
    if pass.is_empty() {
        return Err(SimErr::new(11501, "新密码不能为空"));
    }
    owned(st, q, 11302)?.password = pass;
    Ok(json!(""))
}

fn dns_list(st: &mut State, q: &Req) -> R {
    let d = owned(st, q, 11302)?;
    let mut o = serde_json::Map::new();
    for i in 0..6 {
        o.insert(
            format!("dns{}", i + 1),
            json!(d.ns.get(i).map_or(" ", String::as_str)),
        );
    }
    // The live answer nests the list as a JSON string inside `message`.
    Ok(json!(Value::Array(vec![Value::Object(o)]).to_string()))
}

fn modify_dns(st: &mut State, q: &Req) -> R {
    if q.arg("dns_hst1").is_none() {
        return Err(SimErr::new(11401, "DNS1主机不能为空"));
    }
    if q.arg("dns_hst2").is_none() {
        return Err(SimErr::new(11402, "DNS2主机不能为空"));
    }
    let ns = name_servers(q, "dns_hst")?;
    owned(st, q, 11302)?.ns = ns;
    Ok(json!(""))
}

fn reset_dns(st: &mut State, q: &Req) -> R {
    let d = owned(st, q, 11502)?;
    d.ns = DEFAULT_NS.iter().map(|s| s.to_string()).collect();
    Ok(json!(""))
}

fn detail(st: &mut State, q: &Req) -> R {
    let now = q.now_ms();
    let d = owned(st, q, 10019)?.clone();
    let personal = st
        .contacts
        .get(&d.contact)
        .is_some_and(|c| c.usertype == "I");
    let mut o = serde_json::Map::new();
    o.insert("d_dme".into(), json!(d.name));
    o.insert("runstate".into(), json!(d.runstate(now)));
    o.insert("RegistrationTime".into(), json!(fmt_time(d.reg)));
    o.insert("ExpireTime".into(), json!(fmt_time(d.exp)));
    o.insert("password".into(), json!(d.password));
    for i in 0..6 {
        let host = d.ns.get(i).cloned().unwrap_or_default();
        let ip = if host.is_empty() {
            String::new()
        } else {
            format!("113.105.171.{}", 90 + i)
        };
        o.insert(format!("host{}", i + 1), json!(host));
        o.insert(format!("hostip{}", i + 1), json!(ip));
    }
    o.insert("maxdns".into(), json!(super::dns::MAX_RECORDS.to_string()));
    o.insert("dnshostnums".into(), json!(d.records.len().to_string()));
    o.insert(
        "domaintype".into(),
        json!(if personal { "personal" } else { "company" }),
    );
    o.insert("hkauditstate".into(), json!("-"));
    o.insert("userid".into(), json!(d.contact.to_string()));
    o.insert(
        "g_nme".into(),
        json!(format!("英文域名{}", tld_of(&d.name))),
    );
    Ok(json!([Value::Object(o)]))
}

fn tld_of(name: &str) -> String {
    name.split_once('.')
        .map(|(_, t)| format!(".{t}"))
        .unwrap_or_default()
}

/// Base64 bytes of an image field, or `None` if absent.
fn image_len(q: &Req, link: &str, data: &str) -> Result<Option<usize>, SimErr> {
    if let Some(l) = q.arg(link) {
        if l.starts_with("http://") || l.starts_with("https://") {
            return Err(SimErr::field(11710, "图片下载地址非法请联系我司", link));
        }
        return Ok(Some(100 * 1024));
    }
    Ok(q.arg(data).map(|s| s.len() / 4 * 3))
}

fn audit(st: &mut State, q: &Req) -> R {
    let name = q.domain()?;
    let Some(d) = st.domains.get(&name) else {
        return Err(SimErr::new(11701, "该域名不在您的名下无权提交资料"));
    };
    if d.audit == Audit::None {
        return Err(SimErr::new(11702, "非国内域名无需提交域名资料审核"));
    }
    if matches!(d.audit, Audit::Pending | Audit::Pass) {
        return Err(SimErr::new(11716, "域名资料已提交无需重复提交"));
    }
    let ownertype = q.checked(
        "ownertype",
        |ownertype| matches!(ownertype, "E" | "I"),
        11704,
        "注册人类型非法",
    )?;
    if !matches!(q.req("orgtype")?, "PR" | "PU") {
        return Err(SimErr::field(11705, "组织类型非法", "orgtype"));
    }
    if !q
        .req("ownerpictype")?
        .parse::<u8>()
        .is_ok_and(|t| (1..=30).contains(&t))
    {
        return Err(SimErr::field(11706, "证件类型非法", "ownerpictype"));
    }
    let size_ok = |n: usize| (55 * 1024..=2 * 1024 * 1024).contains(&n);
    if ownertype == "E" {
        match image_len(q, "ownerpiclink", "ownerpicstr")? {
            None => return Err(SimErr::field(11707, "证件图片地址不能为空", "ownerpicstr")),
            Some(n) if !size_ok(n) => {
                return Err(SimErr::field(11720, "图片大小只能是55K-2M", "ownerpicstr"))
            }
            Some(_) => {}
        }
        if q.arg("ownernumber").is_none() {
            return Err(SimErr::field(11708, "证件编号不能为空", "ownernumber"));
        }
    }
    let idcard = q.arg("contactidcard").unwrap_or_default().to_string();
    if ownertype == "I" {
        match image_len(q, "contactidcardpiclink", "contactidcardpicstr")? {
            None => {
                return Err(SimErr::field(
                    11709,
                    "联系人身份证图片地址不能为空",
                    "contactidcardpicstr",
                ))
            }
            Some(n) if !size_ok(n) => {
                return Err(SimErr::field(
                    11720,
                    "图片大小只能是55K-2M",
                    "contactidcardpicstr",
                ))
            }
            Some(_) => {}
        }
        if idcard.len() != 18 {
            return Err(SimErr::field(
                11715,
                "联系人身份证号码非法",
                "contactidcard",
            ));
        }
    }
    if let Some(d) = st.domains.get_mut(&name) {
        d.audit = Audit::Pending;
        d.audit_idcard = idcard;
    }
    Ok(json!(""))
}

fn audit_result(st: &mut State, q: &Req) -> R {
    let names: Vec<String> = match (q.arg("domainname"), q.arg("userid")) {
        (Some(list), _) => list
            .split(',')
            .map(|s| s.trim().to_ascii_lowercase())
            .filter(|s| !s.is_empty())
            .collect(),
        // 域名和模板 ID 二选一: a template (contact) answers its own review state;
        // only a submitted one has a result (2 audited, 1 under review, 3 refused).
        (None, Some(uid)) => {
            let c = uid
                .parse::<u64>()
                .ok()
                .and_then(|id| st.contacts.get(&id))
                .ok_or_else(|| SimErr::new(11719, "状态查询失败"))?;
            let state = match c.checked {
                1 => "pending",
                2 => "pass",
                3 => "unpass",
                _ => return Ok(json!([])),
            };
            return Ok(json!([{"userid": uid, "checkstate": state, "memo": ""}]));
        }
        (None, None) => return Err(SimErr::new(10012, "参数不能为空")),
    };
    let mut out = Vec::new();
    for n in names {
        let Some(d) = st.domains.get_mut(&n) else {
            continue;
        };
        // The review finishes by the next status read: pass with a plausible ID card.
        if d.audit == Audit::Pending {
            d.audit = if d.audit_idcard.is_empty() || d.audit_idcard.len() == 18 {
                Audit::Pass
            } else {
                Audit::Unpass
            };
        }
        let (state, memo) = match d.audit {
            Audit::None | Audit::NoData => continue,
            Audit::Pending => ("pending", ""),
            Audit::Pass => ("pass", ""),
            Audit::Unpass => (
                "unpass",
                "%e8%af%81%e4%bb%b6%e5%8f%b7%e7%a0%81%e4%b8%8d%e7%ac%a6",
            ),
        };
        out.push(json!({"domainname": n, "checkstate": state, "memo": memo}));
    }
    Ok(Value::Array(out))
}
