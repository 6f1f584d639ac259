//! Hosting, databases and mail: products named by their FTP name, database name or
//! mail domain, bought and renewed against the one account balance, with the state
//! switches the document offers (FTP/WEB/database run state, passwords, bound domains,
//! mailboxes).

use super::{
    add_years, done, edit, fmt_time, fmt_time_dashed, rekey, yuan, Fields, Handler, Per, Purpose,
    Req, SimErr, State, R,
};
use idcgate_wire::sim::remove_where;
use rust_decimal::Decimal;
use serde_json::{json, Value};
use std::collections::BTreeMap;

#[derive(Debug, Clone)]
pub(crate) struct Host {
    pub ftpname: String,
    pub hosttype: String,
    pub hostsize: String,
    pub linetype: String,
    pub location: String,
    pub reg: i64,
    pub exp: i64,
    pub ftp_on: bool,
    pub web_on: bool,
    pub password: String,
    pub defaultpage: String,
    pub domains: Vec<String>,
    /// Gifts opened with this host: (management name, EMAIL | DATABASE).
    pub presents: Vec<(String, &'static str)>,
    /// Panel switches (404 page, .NET version, default IP access, error type, log access).
    pub settings: BTreeMap<&'static str, String>,
    /// `(ip, mask)` rules of DenyDefineIP / GrantDefineIP.
    pub deny: Vec<(String, String)>,
    pub grant: Vec<(String, String)>,
    /// Folder -> IP patterns of SetFolderIPAccess.
    pub folder_ips: BTreeMap<String, Vec<String>>,
    /// Paths in the site's space; archives remember what they hold.
    pub files: BTreeMap<String, Vec<String>>,
    /// The management log getHostingLog answers.
    pub log: Vec<(i64, String)>,
}

impl Host {
    pub fn new(ftpname: &str, hosttype: &str, hostsize: &str, reg: i64, exp: i64) -> Self {
        let files = [
            "wwwroot/index.html",
            "wwwroot/images/logo.png",
            "logofiles/ex.log",
        ]
        .iter()
        .map(|f| (f.to_string(), Vec::new()))
        .collect();
        Host {
            ftpname: ftpname.into(),
            hosttype: hosttype.into(),
            hostsize: hostsize.into(),
            linetype: String::new(),
            location: "cn".into(),
            reg,
            exp,
            ftp_on: true,
            web_on: true,
            password: String::new(),
            defaultpage: "index.html,index.asp,index.php".into(),
            domains: Vec::new(),
            presents: Vec::new(),
            settings: BTreeMap::new(),
            deny: Vec::new(),
            grant: Vec::new(),
            folder_ips: BTreeMap::new(),
            files,
            log: Vec::new(),
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Db {
    pub dbname: String,
    pub dbtype: String,
    pub dbsize: String,
    pub charset: String,
    pub reg: i64,
    pub exp: i64,
    pub running: bool,
    pub password: String,
    pub ftp_password: String,
    /// Opened as a hosting gift (isPresent answers Y).
    pub gift: bool,
    /// Backup slots 1-5: when each was taken.
    pub backups: BTreeMap<u8, i64>,
    pub used_mb: u32,
    /// Where it runs (`cn`, `hk`, `usa`) and its line (`dx`, `sx`, ... or empty), as
    /// ordered; DBDetail answers them.
    pub location: String,
    pub linetype: String,
    /// The hosting a gift database belongs to (DBDetail's `belongtohost`), else empty.
    pub belongtohost: String,
}

impl Db {
    pub fn new(
        dbname: &str,
        dbtype: &str,
        dbsize: &str,
        reg: i64,
        exp: i64,
        password: &str,
    ) -> Self {
        Db {
            dbname: dbname.into(),
            dbtype: dbtype.into(),
            dbsize: dbsize.into(),
            charset: "utf8".into(),
            reg,
            exp,
            running: true,
            password: password.into(),
            ftp_password: password.into(),
            gift: false,
            backups: BTreeMap::new(),
            used_mb: 3,
            location: "cn".into(),
            linetype: String::new(),
            belongtohost: String::new(),
        }
    }

    fn mysql(&self) -> bool {
        matches!(self.dbtype.as_str(), "1" | "2")
    }
}

#[derive(Debug, Clone)]
pub(crate) struct MailDomain {
    pub domain: String,
    pub tag: String,
    pub users: u32,
    pub password: String,
    pub reg: i64,
    pub exp: i64,
    pub boxes: BTreeMap<String, Mailbox>,
    /// 橙邮 (mailtype 1) rather than 全球邮 (0).
    pub cheng: bool,
    pub gift: bool,
    pub admin: Option<String>,
    /// SetMailserver: mailbox -> (server, port, remote mailbox).
    pub fetch: BTreeMap<String, (String, u16, String)>,
}

impl MailDomain {
    pub fn new(domain: &str, tag: &str, users: u32, password: &str, reg: i64, exp: i64) -> Self {
        MailDomain {
            domain: domain.into(),
            tag: tag.into(),
            users,
            password: password.into(),
            reg,
            exp,
            boxes: BTreeMap::new(),
            cheng: false,
            gift: false,
            admin: None,
            fetch: BTreeMap::new(),
        }
    }
}

/// Base64 as SetMailserver wants its passwords (the document says lowercase, which
/// base64 cannot promise; any valid alphabet is accepted).
fn is_base64(s: &str) -> bool {
    !s.is_empty()
        && s.len() % 4 == 0
        && s.trim_end_matches('=')
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '+' || c == '/')
}

#[derive(Debug, Clone)]
pub(crate) struct Mailbox {
    pub size_mb: u32,
    pub enabled: bool,
    pub memo: String,
    pub password: String,
}

const HOST_SIZES: [&str; 9] = ["1", "1.5", "2", "3", "5", "8", "10", "20", "50"];
/// "已超出默认虚拟主机域名绑定数 (默认 10 条)".
const MAX_BINDINGS: usize = 10;

/// Yearly price of a hosting plan; `hostsize` is in units of 100 MB.
pub(crate) fn hosting_price(hosttype: &str, hostsize: &str) -> Option<Decimal> {
    let per_unit = match hosttype {
        "bz" | "lin" => yuan(60, 0),
        "net" | "jsp" => yuan(80, 0),
        "shop" => yuan(120, 0),
        _ => return None,
    };
    let size: Decimal = hostsize.parse().ok()?;
    HOST_SIZES
        .contains(&hostsize)
        .then(|| per_unit * size + yuan(40, 0))
}

/// Yearly price of a database: per 50 MB unit, MSSQL (types 3-5) dearer.
fn db_price(dbtype: &str, dbsize: &str) -> Option<Decimal> {
    let units: i64 = dbsize.parse().ok()?;
    let per_unit = match dbtype {
        "1" | "2" => yuan(30, 0),
        "3" | "4" | "5" => yuan(50, 0),
        _ => return None,
    };
    let ok = (1..=6).contains(&units) || (dbtype == "5" && [10, 15, 20].contains(&units));
    ok.then(|| per_unit * Decimal::from(units))
}

/// Yearly price per mailbox of a mail plan (m 标准版, g 商务版).
fn mail_price(tag: &str) -> Option<Decimal> {
    match tag {
        "m" => Some(yuan(36, 0)),
        "g" => Some(yuan(60, 0)),
        _ => None,
    }
}

/// Letters first, then letters and digits, within `len`.
pub(crate) fn valid_name(s: &str, len: std::ops::RangeInclusive<usize>) -> bool {
    len.contains(&s.len())
        && s.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// FTP password rule: starts with a letter, has letters, digits and a special
/// character, 8-16 long.
fn strong(p: &str) -> bool {
    (8..=16).contains(&p.len())
        && p.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && p.chars().any(|c| c.is_ascii_digit())
        && p.chars().any(|c| c.is_ascii_punctuation())
}

fn not_mine() -> SimErr {
    SimErr::new(10019, "产品不在您的名下")
}

pub(crate) fn handler(name: &str) -> Option<Handler> {
    Some(match name {
        "/hosting/hostlist" => hostlist,
        "/hosting/proroomlist" => proroomlist,
        "/hosting/getprice" => hosting_quote,
        "/hosting/createhosting" => createhosting,
        "/hosting/hostdetail" => hostdetail,
        "/hosting/gethostinglog" => gethostinglog,
        "/hosting/gethostupgradelist" => gethostupgradelist,
        "/hosting/hostingsize" => hostingsize,
        "/hosting/hostingupgrade" => hostingupgrade,
        "/hosting/set404page" => set404page,
        "/hosting/modifynetversion" => modifynetversion,
        "/hosting/setdefaultipaccess" => {
            |st, q| set_switch(st, q, "grantaccess", &["1", "2"], (13112, "访问权限非法"))
        }
        "/hosting/denydefineip" => {
            |st, q| host_write(st, q, |_, h| ip_rule(q, &mut h.deny, (13115, 13116)))
        }
        "/hosting/grantdefineip" => {
            |st, q| host_write(st, q, |_, h| ip_rule(q, &mut h.grant, (13117, 13118)))
        }
        "/hosting/modifyerrtype" => {
            |st, q| set_switch(st, q, "errortype", &["0", "1"], (13119, "错误类型非法"))
        }
        "/hosting/logaccess" => |st, q| {
            set_switch(
                st,
                q,
                "logaccess",
                &["0", "1"],
                (13124, "Log日志访问权限参数非法"),
            )
        },
        "/hosting/resettomcat" => resettomcat,
        "/hosting/setfolderipaccess" => setfolderipaccess,
        "/hosting/packfile" => packfile,
        "/hosting/unpackfile" => unpackfile,
        "/hosting/deletefile" => deletefile,
        "/hosting/renewhosting" => renewhosting,
        "/hosting/modifyftpstate" => modifyftpstate,
        "/hosting/modifywebstate" => modifywebstate,
        "/hosting/modifypassword" => modifypassword,
        "/hosting/setdefaultpage" => setdefaultpage,
        "/hosting/binddomain" => binddomain,
        "/hosting/unbinddomain" => unbinddomain,
        "/database/dblist" => dblist,
        "/database/createodr" => createodr,
        "/database/dbdetail" => dbdetail,
        "/database/ispresent" => {
            |st, q| on_db(st, q, |_, d| Ok(json!(if d.gift { "Y" } else { "N" })))
        }
        "/database/getupgradelist" => db_upgrade_list,
        "/database/dbsize" => dbsize,
        "/database/upgrade" => db_upgrade,
        "/database/modifyftppass" => modifyftppass,
        "/database/backup" => backup,
        "/database/restore" => restore,
        "/database/delbackupfile" => delbackupfile,
        "/database/setcharset" => setcharset,
        "/database/renewdb" => renewdb,
        "/database/modifydbstate" => modifydbstate,
        "/database/modifydbpass" => modifydbpass,
        "/mail/createoder" => create_mail,
        "/mail/getmaildetail" => getmaildetail,
        "/mail/ispresent" => {
            |st, q| on_mail(st, q, |_, md| Ok(json!(if md.gift { "Y" } else { "N" })))
        }
        "/mail/getmailloginurl" => getmailloginurl,
        "/mail/mailupgrade" => mailupgrade,
        "/mail/modifymaildomain" => modifymaildomain,
        "/mail/setadminmailbox" => setadminmailbox,
        "/mail/chengmailadduser" => chengmailadduser,
        "/mail/chengmaildeleteuser" => chengmaildeleteuser,
        "/mail/chengmailmodifyuserpassword" => chengmailmodifyuserpassword,
        "/mail/setmailserver" => setmailserver,
        "/mail/getmailboxlist" => getmailboxlist,
        "/mail/renewalmail" => renewalmail,
        "/mail/modifymailpassword" => modifymailpassword,
        "/mail/mailadduser" => mailadduser,
        "/mail/modifymailaccountstate" => modifymailaccountstate,
        "/mail/modifymailusermemo" => |st, q| {
            on_mailbox(st, q, |b| {
                b.memo = q.text("mailboxmemo").into();
                Ok(())
            })
        },
        "/mail/modifymailboxsize" => modifymailboxsize,
        "/mail/modifymailboxpassword" => modifymailboxpassword,
        "/mail/deletemailbox" => deletemailbox,
        _ => return None,
    })
}

fn present(h: &Host, i: usize) -> (&str, &str) {
    h.presents
        .get(i)
        .map_or((" ", " "), |(n, t)| (n.as_str(), *t))
}

fn host_json(h: &Host) -> Value {
    let size_mb: Decimal = h.hostsize.parse::<Decimal>().unwrap_or_default() * Decimal::from(100);
    json!([{
        "ftpname": h.ftpname,
        "ftppassword": h.password,
        "hostsize": size_mb.normalize().to_string(),
        "years": "1.00",
        "cname": format!("http://{}.w116.cndns5.com", h.ftpname),
        "testurl": format!("http://{}.w116.mc-test.com", h.ftpname),
        "regtime": fmt_time(h.reg),
        "exptme": fmt_time(h.exp),
        "svrname": "w116.mc-test.com",
        "bindnum": MAX_BINDINGS.to_string(),
        "monthwidth": "50000.00",
        "linetype": h.linetype,
        "location": h.location,
        "hosttype": h.hosttype,
        "presenthost1": present(h, 0).0,
        "presenttype1": present(h, 0).1,
        "presenthost2": present(h, 1).0,
        "presenttype2": present(h, 1).1,
        "presenthost3": present(h, 2).0,
        "svrip": "1.1.1.1",
        "presenttype3": present(h, 2).1,
        "ICPID": "",
    }])
}

fn run_state(q: &Req, k: &str) -> Result<bool, SimErr> {
    match q.req(k)? {
        "1" => Ok(true),
        "2" => Ok(false),
        _ => Err(SimErr::field(13102, "运行状态错误", k)),
    }
}

fn hostlist(_: &mut State, _: &Req) -> R {
    Ok(json!([
        {"linetype":"dx","hosttype":"bz","location":"cn","hostsize":"1"},
        {"linetype":"dx","hosttype":"lin","location":"cn","hostsize":"2"},
        {"linetype":"sx","hosttype":"net","location":"cn","hostsize":"5"},
        {"linetype":"","hosttype":"jsp","location":"hk","hostsize":"3"},
    ]))
}

fn proroomlist(st: &mut State, _: &Req) -> R {
    Ok(json!([
        {"id":"1","pro_id":"1","pro_owner":st.username,"pro_name":"上海"},
        {"id":"2","pro_id":"2","pro_owner":st.username,"pro_name":"香港"},
    ]))
}

fn hosting_quote(_: &mut State, q: &Req) -> R {
    let years = q.period("years", 5, 13005)?;
    let p = hosting_price(q.text("hosttype"), q.text("hostsize"))
        .ok_or_else(|| SimErr::new(13011, "主机类型或容量非法"))?;
    Ok(json!((p * Decimal::from(years)).normalize().to_string()))
}

fn createhosting(st: &mut State, q: &Req) -> R {
    let now = q.now_ms();
    let ftp = q.req("ftpname")?.to_ascii_lowercase();
    if !(ftp.len() <= 10
        && valid_name(&ftp, 3..=10)
        && ftp.chars().all(|c| c.is_ascii_alphabetic()))
    {
        return Err(SimErr::field(13001, "管理名称命名非法", "ftpname"));
    }
    if st.hosts.contains_key(&ftp) {
        return Err(SimErr::field(13002, "管理名称重复", "ftpname"));
    }
    let pass = q.checked("ftppassword", strong, 13004, "密码非法")?;
    let years = q.period("years", 5, 13005)?;
    let (ty, size) = (q.req("hosttype")?, q.req("hostsize")?);
    let location = q.req("location")?;
    let price = hosting_price(ty, size)
        .ok_or_else(|| SimErr::new(13006, "产品开通错误(主机类型或容量非法)"))?;
    st.charge_order(
        q,
        Purpose::Buy,
        price * Decimal::from(years),
        format!("虚拟主机开通 {ftp} {years}年"),
    )?;
    let mut h = Host::new(&ftp, ty, size, now, add_years(now, years));
    h.linetype = q.text("linetype").into();
    h.location = location.into();
    h.password = pass.into();
    h.log.push((now, "主机开通".into()));
    let opened = opened_json(&h, years, q);
    st.hosts.insert(ftp, h);
    Ok(opened)
}

/// What a successful opening answers (说明备注 a-n): HostDetail's values under the
/// listed names, with the coupon the order used.
fn opened_json(h: &Host, years: i64, q: &Req) -> Value {
    let detail = host_json(h);
    let d = &detail[0];
    json!([{
        "ftpname": d["ftpname"],
        "ftppassword": d["ftppassword"],
        "hostsize": h.hostsize,
        "years": years.to_string(),
        "cname": d["cname"],
        "testurl": d["testurl"],
        "regtime": d["regtime"],
        "exptime": d["exptme"],
        "bindnum": d["bindnum"],
        "monthwidth": d["monthwidth"],
        "ICPID": d["ICPID"],
        "svrip": d["svrip"],
        "distype1": if q.arg("signature").is_some() { "1" } else { "" },
        "dissignature1": q.text("signature"),
    }])
}

/// The caller's host (`ftpname`), edited through [`edit`].
fn on_host(st: &mut State, q: &Req, op: impl FnOnce(&mut State, &mut Host) -> R) -> R {
    let ftp = q.req("ftpname")?.to_ascii_lowercase();
    edit(st, |st| &mut st.hosts, ftp, not_mine(), op)
}

/// A change to the caller's host, written to its management log.
fn host_write(
    st: &mut State,
    q: &Req,
    op: impl FnOnce(&mut State, &mut Host) -> Result<(), SimErr>,
) -> R {
    on_host(st, q, |st, h| {
        windows_only(q.action().name(), h)?;
        op(st, h)?;
        let what = q.action().name().trim_start_matches("/hosting/");
        h.log.push((q.now_ms(), format!("{what} 操作成功")));
        done()
    })
}

/// The controls the document marks 仅 windows 主机有此功能, with the code each answers
/// when it fails.
const WINDOWS_ONLY: [(&str, u32); 7] = [
    ("/hosting/setdefaultipaccess", 13112),
    ("/hosting/denydefineip", 13116),
    ("/hosting/grantdefineip", 13118),
    ("/hosting/modifyerrtype", 13120),
    ("/hosting/setfolderipaccess", 13123),
    ("/hosting/deletefile", 13149),
    ("/hosting/logaccess", 13125),
];

/// Refuses a Windows-only control on a Linux or JSP host.
fn windows_only(action: &str, h: &Host) -> Result<(), SimErr> {
    match WINDOWS_ONLY.iter().find(|(a, _)| *a == action) {
        Some((_, code)) if matches!(h.hosttype.as_str(), "lin" | "jsp") => {
            Err(SimErr::new(*code, "设置失败(仅Windows主机有此功能)"))
        }
        _ => Ok(()),
    }
}

/// DenyDefineIP / GrantDefineIP: one `(ip, mask)` rule added (1) or removed (2);
/// `codes` are the endpoint's (bad operation, refused change).
fn ip_rule(
    q: &Req,
    list: &mut Vec<(String, String)>,
    (bad_op, failed): (u32, u32),
) -> Result<(), SimErr> {
    let rule = (q.req("ip")?.to_string(), q.req("mask")?.to_string());
    if rule.0.parse::<std::net::Ipv4Addr>().is_err() {
        return Err(SimErr::field(13113, "IP地址非法", "ip"));
    }
    if rule.1.parse::<std::net::Ipv4Addr>().is_err() {
        return Err(SimErr::field(13114, "子网掩码非法", "mask"));
    }
    match q.req("operation")? {
        "1" if !list.contains(&rule) => list.push(rule),
        "2" if list.contains(&rule) => list.retain(|r| *r != rule),
        "1" | "2" => return Err(SimErr::new(failed, "设置失败(规则已存在或不存在)")),
        _ => return Err(SimErr::field(bad_op, "操作选项非法", "operation")),
    }
    Ok(())
}

fn hostdetail(st: &mut State, q: &Req) -> R {
    on_host(st, q, |_, h| Ok(host_json(h)))
}

fn gethostinglog(st: &mut State, q: &Req) -> R {
    on_host(st, q, |_, h| {
        Ok(Value::Array(
            h.log
                .iter()
                .map(|(t, m)| json!({"logtime": fmt_time(*t), "logmemo": m}))
                .collect(),
        ))
    })
}

fn gethostupgradelist(st: &mut State, q: &Req) -> R {
    on_host(st, q, |_, h| Ok(upgrade_list(h)))
}

fn hostingsize(st: &mut State, q: &Req) -> R {
    on_host(st, q, |_, h| {
        let used: usize = 12 + h.files.len() * 3;
        match q.req("operation")? {
            "1" => Ok(json!(host_mb(&h.hostsize).to_string())),
            "2" => Ok(json!(used.to_string())),
            _ => Err(SimErr::field(13101, "获取容量类型参数非法", "operation")),
        }
    })
}

fn hostingupgrade(st: &mut State, q: &Req) -> R {
    host_write(st, q, |st, h| {
        upgrade_host(st, q, h)?;
        Ok(())
    })
}

fn set404page(st: &mut State, q: &Req) -> R {
    host_write(st, q, |_, h| {
        let page = q.checked(
            "pagepath",
            |page| page.ends_with(".html") || page.ends_with(".htm"),
            13108,
            "404页面路径非法",
        )?;
        h.settings.insert("404", page.into());
        Ok(())
    })
}

fn modifynetversion(st: &mut State, q: &Req) -> R {
    host_write(st, q, |_, h| {
        let v = switch_value(q, "netversion", &["1", "2", "4"], (13110, ".Net版本号非法"))?;
        if !matches!(h.hosttype.as_str(), "bz" | "net") {
            return Err(SimErr::new(13111, ".Net版本切换失败(非Windows主机)"));
        }
        h.settings.insert("netversion", v.into());
        Ok(())
    })
}

/// A panel switch's new value: one of `allowed`, else the endpoint's refusal naming it.
fn switch_value<'a>(
    q: &'a Req,
    field: &str,
    allowed: &[&str],
    (code, text): (u32, &str),
) -> Result<&'a str, SimErr> {
    let v = q.req(field)?;
    if !allowed.contains(&v) {
        return Err(SimErr::field(code, text, field));
    }
    Ok(v)
}

/// SetDefaultIPAccess, ModifyErrType, LogAccess: the switch named like its field.
fn set_switch(
    st: &mut State,
    q: &Req,
    field: &'static str,
    allowed: &[&str],
    refusal: (u32, &str),
) -> R {
    host_write(st, q, |_, h| {
        let v = switch_value(q, field, allowed, refusal)?;
        h.settings.insert(field, v.into());
        Ok(())
    })
}

fn resettomcat(st: &mut State, q: &Req) -> R {
    host_write(st, q, |_, h| {
        if h.hosttype != "jsp" {
            return Err(SimErr::new(10018, "虚拟主机无此功能"));
        }
        Ok(())
    })
}

fn setfolderipaccess(st: &mut State, q: &Req) -> R {
    host_write(st, q, |_, h| {
        let folder = q.req("folderpath")?.trim_matches('/').to_string();
        if folder.is_empty() || folder.starts_with("wwwroot") || folder.contains("..") {
            return Err(SimErr::field(13122, "目录路径非法", "folderpath"));
        }
        let ips: Vec<String> = q
            .req("ip")?
            .split(',')
            .map(|s| s.trim().to_string())
            .collect();
        let ip_ok = |p: &str| {
            let parts: Vec<&str> = p.split('.').collect();
            (1..=4).contains(&parts.len())
                && parts.iter().all(|x| *x == "*" || x.parse::<u8>().is_ok())
        };
        if !ips.iter().all(|p| ip_ok(p)) {
            return Err(SimErr::field(13113, "IP地址非法", "ip"));
        }
        match q.req("operation")? {
            "1" => h.folder_ips.entry(folder).or_default().extend(ips),
            "2" => {
                if let Some(list) = h.folder_ips.get_mut(&folder) {
                    list.retain(|p| !ips.contains(p));
                }
            }
            _ => return Err(SimErr::field(13121, "操作选项非法", "operation")),
        }
        Ok(())
    })
}

fn packfile(st: &mut State, q: &Req) -> R {
    host_write(st, q, |_, h| {
        let src = q.req("sourcefile")?.trim_end_matches('/').to_string();
        let dest = q.req("destfile")?.to_string();
        let windows = h.hosttype != "lin";
        if !(dest.ends_with(".zip") || (windows && dest.ends_with(".rar"))) {
            return Err(SimErr::field(13126, "压缩文件非法", "destfile"));
        }
        let inside: Vec<String> = h
            .files
            .keys()
            .filter(|f| f.starts_with(&format!("{src}/")) || **f == src)
            .cloned()
            .collect();
        if inside.is_empty() {
            return Err(SimErr::field(13127, "压缩源路径非法", "sourcefile"));
        }
        h.files.insert(dest, inside);
        Ok(())
    })
}

fn unpackfile(st: &mut State, q: &Req) -> R {
    host_write(st, q, |_, h| {
        let zip = q.req("sourcezipfile")?;
        let dest = q.req("destfolderpath")?.trim_end_matches('/').to_string();
        let Some(inside) = h.files.get(zip).cloned().filter(|v| !v.is_empty()) else {
            return Err(SimErr::field(13126, "压缩文件非法", "sourcezipfile"));
        };
        if dest.is_empty() || dest.contains("..") {
            return Err(SimErr::field(13127, "解压目录路径非法", "destfolderpath"));
        }
        for f in inside {
            let base = f.rsplit('/').next().unwrap_or(&f).to_string();
            h.files.insert(format!("{dest}/{base}"), Vec::new());
        }
        Ok(())
    })
}

fn deletefile(st: &mut State, q: &Req) -> R {
    host_write(st, q, |_, h| {
        let path = q.req("delinfo")?.trim_end_matches('/').to_string();
        let before = h.files.len();
        h.files
            .retain(|f, _| !(*f == path || f.starts_with(&format!("{path}/"))));
        if h.files.len() == before {
            return Err(SimErr::field(13148, "删除的目录/文件路径非法", "delinfo"));
        }
        Ok(())
    })
}

fn renewhosting(st: &mut State, q: &Req) -> R {
    host_write(st, q, |st, h| {
        let years = q.period("years", 5, 10016)?;
        let price = hosting_price(&h.hosttype, &h.hostsize)
            .ok_or_else(|| SimErr::new(13010, "产品续费失败"))?;
        st.charge_order(
            q,
            Purpose::Renew,
            price * Decimal::from(years),
            format!("虚拟主机续费 {} {years}年", h.ftpname),
        )?;
        h.exp = add_years(h.exp, years);
        Ok(())
    })
}

fn modifyftpstate(st: &mut State, q: &Req) -> R {
    host_write(st, q, |_, h| {
        h.ftp_on = run_state(q, "ftpstate")?;
        Ok(())
    })
}

fn modifywebstate(st: &mut State, q: &Req) -> R {
    host_write(st, q, |_, h| {
        h.web_on = run_state(q, "webstate")?;
        Ok(())
    })
}

fn modifypassword(st: &mut State, q: &Req) -> R {
    host_write(st, q, |_, h| {
        let p = q.checked("newpassword", strong, 10017, "密码非法")?;
        h.password = p.into();
        Ok(())
    })
}

fn setdefaultpage(st: &mut State, q: &Req) -> R {
    host_write(st, q, |_, h| {
        let pages = q.req("defaultpage")?;
        if pages
            .split(',')
            .any(|p| p.trim().is_empty() || p.contains('/'))
        {
            return Err(SimErr::field(13106, "默认首页非法", "defaultpage"));
        }
        h.defaultpage = pages.into();
        Ok(())
    })
}

fn binddomain(st: &mut State, q: &Req) -> R {
    host_write(st, q, |st, h| {
        let d = q.req("domainname")?.to_ascii_lowercase();
        if !super::valid_hostname(&d) {
            return Err(SimErr::field(13139, "域名为空或非法", "domainname"));
        }
        if !h.web_on {
            return Err(SimErr::new(13140, "虚拟主机运行状态非法"));
        }
        if h.domains.len() >= MAX_BINDINGS {
            return Err(SimErr::new(13141, "已超出默认虚拟主机域名绑定数(默认10条)"));
        }
        if st.hosts.values().any(|o| o.domains.contains(&d)) {
            return Err(SimErr::new(13142, "域名绑定失败(已绑定)"));
        }
        h.domains.push(d);
        Ok(())
    })
}

fn unbinddomain(st: &mut State, q: &Req) -> R {
    host_write(st, q, |_, h| {
        let d = q.req("domainname")?.to_ascii_lowercase();
        remove_where(
            &mut h.domains,
            |x| *x == d,
            SimErr::new(13144, "域名删除失败(未绑定)"),
        )?;
        Ok(())
    })
}

fn host_mb(size: &str) -> Decimal {
    size.parse::<Decimal>().unwrap_or_default() * Decimal::from(100)
}

/// Plans of the same kind and place that are larger than the host's.
/// None left is `""`, as the document's sample answers; the hosting section prints no
/// listing, so plans are written as DataBase's getUpgradeList sample writes its own.
fn upgrade_list(h: &Host) -> Value {
    let current = host_mb(&h.hostsize);
    let plans: Vec<Value> = HOST_SIZES
        .iter()
        .filter(|s| host_mb(s) > current)
        .map(|s| json!({"hosttype": h.hosttype, "hostsize": s, "linetype": h.linetype, "location": h.location}))
        .collect();
    if plans.is_empty() {
        json!("")
    } else {
        Value::Array(plans)
    }
}

/// HostingUpgrade: a larger plan, the yearly difference charged per year left.
fn upgrade_host(st: &mut State, q: &Req, h: &mut Host) -> Result<(), SimErr> {
    // The table says hoststyp (sic), its example hosttype.
    let ty = q
        .arg("hoststyp")
        .or_else(|| q.arg("hosttype"))
        .unwrap_or(&h.hosttype)
        .to_string();
    let size = q.req("hostsize")?.to_string();
    let (Some(old), Some(new)) = (
        hosting_price(&h.hosttype, &h.hostsize),
        hosting_price(&ty, &size),
    ) else {
        return Err(SimErr::new(13145, "主机升级失败(类型或容量非法)"));
    };
    if host_mb(&size) <= host_mb(&h.hostsize) {
        return Err(SimErr::new(13145, "主机升级失败(只能升级到更大容量)"));
    }
    st.charge_upgrade(
        q,
        old,
        new,
        h.exp,
        Per::Year,
        SimErr::new(13145, "主机升级失败(只能升级到更高价格的方案)"),
        format!("虚拟主机升级 {}", h.ftpname),
    )?;
    h.hosttype = ty;
    h.hostsize = size;
    if let Some(l) = q.arg("linetype") {
        h.linetype = l.into();
    }
    Ok(())
}

/// A free, valid database name and an acceptable password (CreateOdr and gift rules).
pub(crate) fn new_db<'a>(st: &State, q: &'a Req) -> Result<(String, &'a str), SimErr> {
    let dbname = q.req("dbname")?.to_ascii_lowercase();
    if !valid_name(&dbname, 6..=13) {
        return Err(SimErr::field(14001, "数据库名称非法", "dbname"));
    }
    if st.dbs.contains_key(&dbname) {
        return Err(SimErr::field(14002, "数据库名称已被使用", "dbname"));
    }
    let pass = q.checked(
        "dbpassword",
        |pass| valid_name(pass, 6..=16),
        14003,
        "数据库密码非法",
    )?;
    Ok((dbname, pass))
}

pub(crate) fn db_json(d: &Db) -> Value {
    let mysql = matches!(d.dbtype.as_str(), "1" | "2");
    let ftp = |v: String| if mysql { String::new() } else { v };
    json!([{
        "dbaddr": if mysql { "mysql.sql37.eznodata.com" } else { "mssql.sql12.eznodata.com" },
        "dbname": d.dbname,
        "dbaccount": d.dbname,
        "dbpassword": d.password,
        "ftpaddr": ftp("ftp.sql12.eznodata.com".into()),
        "ftpname": ftp(d.dbname.clone()),
        "ftppassword": ftp(d.ftp_password.clone()),
        "regtime": fmt_time(d.reg),
        "expiretime": fmt_time(d.exp),
        "dbtype": d.dbtype,
        "dbsize": d.dbsize,
        "charset": if mysql { d.charset.as_str() } else { "" },
        "location": d.location,
        "linetype": d.linetype,
        "belongtohost": d.belongtohost,
    }])
}

fn dblist(_: &mut State, _: &Req) -> R {
    Ok(json!([
        {"linetype":"dx","dbsize":"1","location":"cn","dbtype":"2","charset":"utf8,latin1,gbk,gb2312"},
        {"linetype":"","dbsize":"2","location":"hk","dbtype":"5","charset":""},
    ]))
}

fn createodr(st: &mut State, q: &Req) -> R {
    let now = q.now_ms();
    let (dbname, pass) = new_db(st, q)?;
    let (ty, size) = (q.req("dbtype")?, q.req("dbsize")?);
    if !matches!(ty, "1" | "2" | "3" | "4" | "5") {
        return Err(SimErr::field(14004, "数据库类型非法", "dbtype"));
    }
    let price =
        db_price(ty, size).ok_or_else(|| SimErr::field(14005, "数据库容量非法", "dbsize"))?;
    let location = q.req("location")?;
    if !matches!(location, "cn" | "hk" | "usa") {
        return Err(SimErr::field(14006, "数据库所在地非法", "location"));
    }
    let years = q.period("years", 5, 14007)?;
    st.charge_order(
        q,
        Purpose::Buy,
        price * Decimal::from(years),
        format!("数据库开通 {dbname} {years}年"),
    )?;
    let mut db = Db::new(&dbname, ty, size, now, add_years(now, years), pass);
    db.charset = q.text("charset").into();
    db.location = location.into();
    // Only mainland databases have a line (as for hosting).
    if location == "cn" {
        db.linetype = q.text("linetype").into();
    }
    let opened = opened_db_json(&db, &["charset"]);
    st.dbs.insert(dbname, db);
    Ok(opened)
}

/// A new database's access details (CreateOdr's 说明备注, the gift database's sample):
/// DBDetail's values under the listed names, and `more` of them.
pub(crate) fn opened_db_json(db: &Db, more: &[&str]) -> Value {
    let detail = db_json(db);
    let mut opened = serde_json::Map::new();
    let listed = [
        "dbaddr",
        "dbname",
        "dbaccount",
        "dbpassword",
        "ftpaddr",
        "ftpname",
        "ftppassword",
        "regtime",
        "expiretime",
    ];
    for k in listed.iter().chain(more) {
        opened.insert((*k).into(), detail[0][*k].clone());
    }
    json!([opened])
}

/// The caller's database (`dbname`), edited through [`edit`].
fn on_db(st: &mut State, q: &Req, op: impl FnOnce(&mut State, &mut Db) -> R) -> R {
    let dbname = q.req("dbname")?.to_ascii_lowercase();
    edit(st, |st| &mut st.dbs, dbname, not_mine(), op)
}

/// The backup slot (1-5) Backup, Restore and DelBackupFile name; `bad` is the
/// endpoint's code for a bad one.
fn backup_slot(q: &Req, bad: u32) -> Result<u8, SimErr> {
    q.req("backupnumber")?
        .parse::<u8>()
        .ok()
        .filter(|n| (1..=5).contains(n))
        .ok_or_else(|| SimErr::field(bad, "备份文件编号非法", "backupnumber"))
}

fn backup(st: &mut State, q: &Req) -> R {
    on_db(st, q, |_, d| {
        d.backups.insert(backup_slot(q, 14107)?, q.now_ms());
        done()
    })
}

fn restore(st: &mut State, q: &Req) -> R {
    on_db(st, q, |_, d| {
        if !d.backups.contains_key(&backup_slot(q, 14109)?) {
            return Err(SimErr::new(14110, "数据库还原失败(无此备份)"));
        }
        done()
    })
}

fn delbackupfile(st: &mut State, q: &Req) -> R {
    on_db(st, q, |_, d| {
        if d.backups.remove(&backup_slot(q, 14107)?).is_none() {
            return Err(SimErr::new(14111, "数据库备份文件删除失败(无此备份)"));
        }
        done()
    })
}

fn dbdetail(st: &mut State, q: &Req) -> R {
    on_db(st, q, |_, d| Ok(db_json(d)))
}

fn db_upgrade_list(st: &mut State, q: &Req) -> R {
    on_db(st, q, |_, d| {
        // The live answer names them sqtype/sqsize (sic).
        let current: i64 = d.dbsize.parse().unwrap_or(0);
        Ok(Value::Array(
            ["1", "2", "3", "4", "5", "6"]
                .iter()
                .filter(|s| s.parse::<i64>().unwrap_or(0) > current)
                .map(|s| json!({"sqtype": d.dbtype, "sqsize": s, "linetype": "", "location": "cn"}))
                .collect(),
        ))
    })
}

fn dbsize(st: &mut State, q: &Req) -> R {
    on_db(st, q, |_, d| {
        let total = d.dbsize.parse::<u32>().unwrap_or(0) * 50;
        match q.req("operation")? {
            "1" => Ok(json!(total.to_string())),
            "2" => Ok(json!(d.used_mb.to_string())),
            _ => Err(SimErr::field(10020, "操作选项非法", "operation")),
        }
    })
}

fn db_upgrade(st: &mut State, q: &Req) -> R {
    on_db(st, q, |st, d| {
        let (ty, size) = (q.req("dbtype")?, q.req("dbsize")?);
        if ty != d.dbtype {
            return Err(SimErr::field(
                14004,
                "产品类型非法(不能更换数据库类型)",
                "dbtype",
            ));
        }
        let (Some(old), Some(new)) = (db_price(&d.dbtype, &d.dbsize), db_price(ty, size)) else {
            return Err(SimErr::field(14005, "产品容量非法", "dbsize"));
        };
        st.charge_upgrade(
            q,
            old,
            new,
            d.exp,
            Per::Year,
            SimErr::new(14101, "升级失败(只能升级到更大容量)"),
            format!("数据库升级 {}", d.dbname),
        )?;
        d.dbsize = size.into();
        done()
    })
}

fn modifyftppass(st: &mut State, q: &Req) -> R {
    on_db(st, q, |_, d| {
        if d.mysql() {
            return Err(SimErr::new(10018, "该主机无此功能"));
        }
        let p = q.checked(
            "ftppassword",
            |p| valid_name(p, 6..=16),
            14106,
            "修改FTP密码失败(密码非法)",
        )?;
        d.ftp_password = p.into();
        done()
    })
}

fn setcharset(st: &mut State, q: &Req) -> R {
    on_db(st, q, |_, d| {
        if !d.mysql() {
            return Err(SimErr::new(14114, "非MySQL数据库无法设置字符集"));
        }
        let c = q.checked(
            "charset",
            |c| matches!(c, "utf8" | "gbk" | "gb2312" | "latin1"),
            14115,
            "字符集设置失败(字符集非法)",
        )?;
        d.charset = c.into();
        done()
    })
}

fn renewdb(st: &mut State, q: &Req) -> R {
    on_db(st, q, |st, d| {
        let years = q.period("years", 5, 10016)?;
        let price = db_price(&d.dbtype, &d.dbsize).ok_or_else(|| SimErr::new(14113, "续费失败"))?;
        st.charge_order(
            q,
            Purpose::Renew,
            price * Decimal::from(years),
            format!("数据库续费 {} {years}年", d.dbname),
        )?;
        d.exp = add_years(d.exp, years);
        done()
    })
}

fn modifydbstate(st: &mut State, q: &Req) -> R {
    on_db(st, q, |_, d| {
        d.running = match q.req("dbstate")? {
            "1" => true,
            "2" => false,
            _ => return Err(SimErr::field(14102, "运行状态非法", "dbstate")),
        };
        done()
    })
}

fn modifydbpass(st: &mut State, q: &Req) -> R {
    on_db(st, q, |_, d| {
        let p = q.checked("dbpassword", |p| valid_name(p, 6..=16), 14104, "密码非法")?;
        d.password = p.into();
        done()
    })
}

pub(crate) fn mail_json(md: &MailDomain) -> Value {
    json!([{
        "emldomain": md.domain,
        "cname": "webmail.idccenter.net",
        "mxadr10": "mx01.idccenter.net",
        "mxadr5": "mxw.idccenter.net",
        "usernum": md.users.to_string(),
        "emlsze": format!("{}G", md.users * 5),
        "manageaddr": "http://webmail.idccenter.net",
        "adminacc": format!("{}@{}", md.admin.as_deref().unwrap_or("admin"), md.domain),
        "popaddr": "pop.idccenter.net",
        "smtpaddr": "smtp.idccenter.net",
        // getMailDetail's sample prints dates dashed (`2014-1-1 23:49:29`).
        "regtime": fmt_time_dashed(md.reg),
        "expiretime": fmt_time_dashed(md.exp),
    }])
}

fn create_mail(st: &mut State, q: &Req) -> R {
    let now = q.now_ms();
    let domain = q.req("maildomain")?.to_ascii_lowercase();
    if !super::valid_hostname(&domain) {
        return Err(SimErr::field(15001, "邮局域名非法", "maildomain"));
    }
    if st.mails.contains_key(&domain) {
        return Err(SimErr::field(15002, "邮局域名已使用", "maildomain"));
    }
    let pass = q.req("mailpassword")?;
    if pass.len() < 6 {
        return Err(SimErr::field(15003, "管理密码非法", "mailpassword"));
    }
    let years = q.period("years", 5, 15004)?;
    let tag = q.req("mailtag")?;
    let per_user =
        mail_price(tag).ok_or_else(|| SimErr::field(15005, "邮局标签非法", "mailtag"))?;
    let users: u32 = q
        .req("mailusernumber")?
        .parse()
        .ok()
        .filter(|n| (1..=1000).contains(n))
        .ok_or_else(|| SimErr::field(15006, "邮箱数非法", "mailusernumber"))?;
    let amount = per_user * Decimal::from(users) * Decimal::from(years);
    st.charge_order(
        q,
        Purpose::Buy,
        amount,
        format!("企业邮局开通 {domain} {years}年"),
    )?;
    let mut md = MailDomain::new(&domain, tag, users, pass, now, add_years(now, years));
    md.cheng = q.text("mailtype") == "1";
    // 说明备注: getMailDetail's fields and the admin password, which 橙邮 generates.
    let mut opened = mail_json(&md);
    if md.cheng {
        md.password = format!(
            "Cm{}",
            crate::md5_hex(&domain).get(..10).unwrap_or_default()
        );
    }
    let password = md.password.clone();
    if let Some(o) = opened.get_mut(0).and_then(Value::as_object_mut) {
        o.insert("password".into(), json!(password));
    }
    st.mails.insert(domain, md);
    Ok(opened)
}

/// The caller's mail domain (`maildomain`), edited through [`edit`].
fn on_mail(st: &mut State, q: &Req, op: impl FnOnce(&mut State, &mut MailDomain) -> R) -> R {
    let domain = q.req("maildomain")?.to_ascii_lowercase();
    edit(st, |st| &mut st.mails, domain, not_mine(), op)
}

/// The mailbox a call names (`mailaccount`, or the document's `mailaccout`).
fn mailbox_account(q: &Req) -> Result<String, SimErr> {
    q.arg("mailaccount")
        .or_else(|| q.arg("mailaccout"))
        .map(str::to_ascii_lowercase)
        .filter(|a| {
            !a.is_empty()
                && a.chars()
                    .all(|c| c.is_ascii_alphanumeric() || ".-_".contains(c))
        })
        .ok_or_else(|| SimErr::field(15108, "邮箱账号非法", "mailaccount"))
}

/// An existing mailbox of the caller's mail domain, changed by `op`.
fn on_mailbox(st: &mut State, q: &Req, op: impl FnOnce(&mut Mailbox) -> Result<(), SimErr>) -> R {
    on_mail(st, q, |_, md| {
        let acc = mailbox_account(q)?;
        let Some(b) = md.boxes.get_mut(&acc) else {
            return Err(no_mailbox());
        };
        op(b)?;
        done()
    })
}

fn no_mailbox() -> SimErr {
    SimErr::field(15108, "邮箱账号非法(不存在)", "mailaccount")
}

fn new_password<'a>(q: &'a Req) -> Result<&'a str, SimErr> {
    let p = q.req("mailboxpassword")?;
    if p.len() < 6 {
        return Err(SimErr::field(15114, "邮箱密码非法", "mailboxpassword"));
    }
    Ok(p)
}

/// The mail domain moves to its new name (so it is not stored back under the old one).
fn modifymaildomain(st: &mut State, q: &Req) -> R {
    let domain = q.req("maildomain")?.to_ascii_lowercase();
    let mut md = st.mails.get(&domain).cloned().ok_or_else(not_mine)?;
    let new = q.req("mailnewdomain")?.to_ascii_lowercase();
    if !super::valid_hostname(&new) {
        return Err(SimErr::field(15116, "新邮局域名非法", "mailnewdomain"));
    }
    if st.mails.contains_key(&new) {
        return Err(SimErr::new(15117, "邮局域名修改失败(新域名已使用)"));
    }
    md.domain = new.clone();
    rekey(&mut st.mails, &domain, new, md);
    done()
}

/// The 橙邮 calls: only for a 橙邮 domain, then the mailbox they name.
fn on_cheng(
    st: &mut State,
    q: &Req,
    op: impl FnOnce(&mut MailDomain, String) -> Result<(), SimErr>,
) -> R {
    on_mail(st, q, |_, md| {
        if !md.cheng {
            return Err(SimErr::new(10019, "产品不在您的名下(非橙邮)"));
        }
        let acc = mailbox_account(q)?;
        op(md, acc)?;
        done()
    })
}

/// A new mailbox of `md` (MailAddUser and ChengMailAddUser alike).
fn add_box(q: &Req, md: &mut MailDomain, acc: String, memo: &str) -> Result<(), SimErr> {
    let pass = new_password(q)?;
    let size: u32 = q
        .req("mailboxsize")?
        .parse()
        .map_err(|_| SimErr::field(15107, "添加邮箱失败(容量非法)", "mailboxsize"))?;
    if md.boxes.contains_key(&acc) || md.boxes.len() >= md.users as usize {
        return Err(SimErr::new(15107, "添加邮箱失败(已存在或超出邮箱数)"));
    }
    md.boxes.insert(
        acc,
        Mailbox {
            size_mb: size,
            enabled: true,
            memo: memo.into(),
            password: pass.into(),
        },
    );
    Ok(())
}

fn chengmailadduser(st: &mut State, q: &Req) -> R {
    on_cheng(st, q, |md, acc| add_box(q, md, acc, ""))
}

fn chengmaildeleteuser(st: &mut State, q: &Req) -> R {
    on_cheng(st, q, |md, acc| match md.boxes.remove(&acc) {
        Some(_) => Ok(()),
        None => Err(SimErr::new(15119, "删除邮箱失败(不存在)")),
    })
}

fn chengmailmodifyuserpassword(st: &mut State, q: &Req) -> R {
    on_cheng(st, q, |md, acc| {
        let pass = q.req("mailboxpassword")?;
        let Some(b) = md.boxes.get_mut(&acc) else {
            return Err(no_mailbox());
        };
        if pass.len() < 6 {
            return Err(SimErr::field(15114, "邮箱密码非法", "mailboxpassword"));
        }
        b.password = pass.into();
        Ok(())
    })
}

fn modifymailaccountstate(st: &mut State, q: &Req) -> R {
    on_mailbox(st, q, |b| {
        // 0 pause, 1 use: the document's table and its own example (`mailboxstate=0`),
        // unlike the hosting and database switches' 1/2.
        b.enabled = match q.req("mailboxstate")? {
            "1" => true,
            "0" => false,
            _ => return Err(SimErr::field(15109, "邮箱运行态非法", "mailboxstate")),
        };
        Ok(())
    })
}

fn modifymailboxsize(st: &mut State, q: &Req) -> R {
    on_mailbox(st, q, |b| {
        b.size_mb = q
            .req("mailboxsize")?
            .parse()
            .ok()
            .filter(|n| (1..=10240).contains(n))
            .ok_or_else(|| SimErr::field(15112, "邮箱容量非法", "mailboxsize"))?;
        Ok(())
    })
}

fn modifymailboxpassword(st: &mut State, q: &Req) -> R {
    on_mailbox(st, q, |b| {
        b.password = new_password(q)?.into();
        Ok(())
    })
}

fn deletemailbox(st: &mut State, q: &Req) -> R {
    on_mail(st, q, |_, md| {
        let acc = mailbox_account(q)?;
        if md.boxes.remove(&acc).is_none() {
            return Err(no_mailbox());
        }
        done()
    })
}

fn getmaildetail(st: &mut State, q: &Req) -> R {
    on_mail(st, q, |_, md| Ok(mail_json(md)))
}

fn getmailloginurl(st: &mut State, q: &Req) -> R {
    on_mail(st, q, |_, md| {
        let lang = q.text("lang");
        let token = crate::md5_hex(&format!("{}{}{}", md.domain, md.password, q.now_ms()));
        Ok(json!(format!(
            "http://mail.chengmail.cn/login?lang={lang}&domain={}&token={token}",
            md.domain
        )))
    })
}

fn mailupgrade(st: &mut State, q: &Req) -> R {
    on_mail(st, q, |st, md| {
        let users: u32 = q
            .req("mailusernumber")?
            .parse()
            .ok()
            .filter(|n| *n > md.users && *n <= 1000)
            .ok_or_else(|| SimErr::field(15012, "邮箱数非法(只能增加)", "mailusernumber"))?;
        let tag = q.arg("mailtag").unwrap_or(&md.tag).to_string();
        let per_user =
            mail_price(&tag).ok_or_else(|| SimErr::field(15011, "邮局标签非法", "mailtag"))?;
        if mail_price(&md.tag) > Some(per_user) {
            return Err(SimErr::field(15013, "邮局标签只能升级", "mailtag"));
        }
        let old = mail_price(&md.tag).unwrap_or_default() * Decimal::from(md.users);
        let new = per_user * Decimal::from(users);
        st.charge_upgrade(
            q,
            old,
            new,
            md.exp,
            Per::Year,
            SimErr::field(15012, "邮箱数非法(只能增加)", "mailusernumber"),
            format!("企业邮局升级 {}", md.domain),
        )?;
        md.users = users;
        md.tag = tag;
        done()
    })
}

fn setadminmailbox(st: &mut State, q: &Req) -> R {
    on_mail(st, q, |_, md| {
        if !md.gift {
            return Err(SimErr::new(15120, "设置管理员邮箱失败(仅限赠品邮局)"));
        }
        let acc = mailbox_account(q)?;
        if !md.boxes.contains_key(&acc) {
            return Err(SimErr::field(15118, "邮箱账号不存在", "mailaccount"));
        }
        md.admin = Some(acc);
        done()
    })
}

fn setmailserver(st: &mut State, q: &Req) -> R {
    on_mail(st, q, |_, md| {
        let boxname = q.req("chengmailbox")?.to_ascii_lowercase();
        let local = boxname.split('@').next().unwrap_or_default().to_string();
        if !md.boxes.contains_key(&local) {
            return Err(SimErr::field(15124, "橙邮邮箱非法", "chengmailbox"));
        }
        if !is_base64(q.req("chengmailpassword")?) {
            return Err(SimErr::field(
                15125,
                "橙邮邮箱密码非法(须Base64)",
                "chengmailpassword",
            ));
        }
        let server = q.req("outmailserver")?.to_string();
        if !super::valid_hostname(&server) {
            return Err(SimErr::field(15126, "代收服务器非法", "outmailserver"));
        }
        let port: u16 = q
            .req("port")?
            .parse()
            .map_err(|_| SimErr::field(15127, "端口非法", "port"))?;
        let remote = q.req("outmailbox")?.to_string();
        if !remote.contains('@') {
            return Err(SimErr::field(15128, "代收邮箱非法", "outmailbox"));
        }
        if !is_base64(q.req("outmailpassword")?) {
            return Err(SimErr::field(
                15129,
                "代收邮箱密码非法(须Base64)",
                "outmailpassword",
            ));
        }
        md.fetch.insert(local, (server, port, remote));
        done()
    })
}

fn getmailboxlist(st: &mut State, q: &Req) -> R {
    on_mail(st, q, |_, md| {
        Ok(Value::Array(
            md.boxes
                .iter()
                .map(|(a, b)| {
                    json!({"mailaccount": a, "state": if b.enabled { "active" } else { "disabled" }, "memo": b.memo, "size": format!("{}M", b.size_mb)})
                })
                .collect(),
        ))
    })
}

fn renewalmail(st: &mut State, q: &Req) -> R {
    on_mail(st, q, |st, md| {
        let years = q.period("years", 5, 10016)?;
        let per_user = mail_price(&md.tag).ok_or_else(|| SimErr::new(15010, "续费失败"))?;
        let amount = per_user * Decimal::from(md.users) * Decimal::from(years);
        st.charge_order(
            q,
            Purpose::Renew,
            amount,
            format!("企业邮局续费 {} {years}年", md.domain),
        )?;
        md.exp = add_years(md.exp, years);
        done()
    })
}

fn modifymailpassword(st: &mut State, q: &Req) -> R {
    on_mail(st, q, |_, md| {
        let p = q.req("mailpassword")?;
        if p.len() < 6 {
            return Err(SimErr::field(15003, "管理密码非法", "mailpassword"));
        }
        md.password = p.into();
        done()
    })
}

fn mailadduser(st: &mut State, q: &Req) -> R {
    on_mail(st, q, |_, md| {
        let acc =
            mailbox_account(q).map_err(|_| SimErr::field(15103, "邮箱账号非法", "mailaccout"))?;
        if q.now_ms() > md.exp {
            return Err(SimErr::new(15104, "邮局已过期"));
        }
        add_box(q, md, acc, q.text("mailboxmemo"))?;
        done()
    })
}
