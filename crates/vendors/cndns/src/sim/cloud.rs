//! 橙云 cloud hosts: bought (charged, "not created"), then built with CreateHost,
//! powered through their state machine (running / stop), snapshotted, reinstalled and
//! renewed by month, half-year or year.

use super::{
    done, edit, flip, fmt_time, yuan, Fields, Handler, Per, Purpose, Req, SimErr, State, R,
};
use idcgate_wire::sim::remove_where;
use rust_decimal::Decimal;
use serde_json::{json, Value};

const CPUS: [u32; 4] = [1, 2, 4, 8];
const RAMS: [u32; 6] = [512, 1024, 2048, 4096, 8192, 16384];
const PLACES: [(&str, &str); 3] = [
    ("1", "上海电信机房"),
    ("2", "上海双线机房"),
    ("3", "香港机房"),
];
const OSES: [(&str, &str); 4] = [
    (
        "windows2003Enterprise_32",
        "Windows Server 2003 企业版 32 位",
    ),
    ("windows2008R2_64", "Windows Server 2008 R2 64 位"),
    ("centos7.9_64", "CentOS 7.9 64 位"),
    ("ubuntu22.04_64", "Ubuntu 22.04 64 位"),
];

/// The options of the sample 橙云 host the sandbox sells (2 CPU, 2048 MB, 50 GB, 2 Mbps,
/// 上海电信, CentOS 7.9): 170 a month. Callers add what their call needs on top
/// (a `tmetpe`, a `password`), so `os` stays last: dropping it is `[..5]`.
pub const SAMPLE_HOST_2C2G: &[(&str, &str)] = &[
    ("cpu", "2"),
    ("ram", "2048"),
    ("HD", "50"),
    ("BD", "2"),
    ("place", "1"),
    ("os", "centos7.9_64"),
];

#[derive(Debug, Clone)]
pub(crate) struct Cloud {
    pub no: u64,
    pub name: String,
    pub cpu: u32,
    pub ram: u32,
    pub hd: u32,
    pub bd: u32,
    pub place: String,
    pub os: String,
    pub platform_pass: String,
    pub password: String,
    pub reg: i64,
    pub exp: i64,
    pub built: bool,
    pub running: bool,
    pub snapshot: Option<i64>,
    pub ip: String,
    /// Extra public IPs bought with BuyIP.
    pub extra_ips: Vec<String>,
    pub domains: Vec<String>,
    pub port: u16,
    /// The `tmetpe` it was bought by (2 月, 4 半年, 5 年): CloudInfo's `timetype`.
    pub timetype: String,
}

/// Upper limits of a host's configuration (what getUpgradelist measures against).
const MAX_CPU: u32 = 8;
const MAX_RAM: u32 = 16384;
const MAX_HD: u32 = 500;
const MAX_BD: u32 = 100;
const MAX_EXTRA_IPS: usize = 4;

pub(crate) struct Config {
    cpu: u32,
    ram: u32,
    hd: u32,
    bd: u32,
    place: String,
    os: String,
}

/// Months bought by a `tmetpe`/`timetype` (2 月, 4 半年, 5 年) times `years`.
fn months(q: &Req, key: &str) -> Result<i64, SimErr> {
    let unit = match q.arg(key).or_else(|| q.arg("tmetpe")).unwrap_or("5") {
        "2" => 1,
        "4" => 6,
        "5" => 12,
        _ => return Err(SimErr::field(17007, "购买时限参数非法", key)),
    };
    let n = q
        .text("years")
        .parse::<i64>()
        .ok()
        .filter(|n| (1..=10).contains(n))
        .ok_or_else(|| SimErr::field(17007, "购买时限参数非法", "years"))?;
    Ok(unit * n)
}

fn config(q: &Req) -> Result<Config, SimErr> {
    let num = |k: &str, code: u32, text: &str| {
        q.req(k)?
            .parse::<u32>()
            .map_err(|_| SimErr::field(code, text, k))
    };
    let cpu = num("cpu", 17001, "CPU参数非法")?;
    let ram = num("ram", 17002, "内存参数非法")?;
    let hd = num("HD", 17003, "空间参数非法")?;
    let bd = num("BD", 17004, "带宽参数非法")?;
    if !CPUS.contains(&cpu) {
        return Err(SimErr::field(17001, "CPU参数非法", "cpu"));
    }
    if !RAMS.contains(&ram) {
        return Err(SimErr::field(17002, "内存参数非法", "ram"));
    }
    if !(50..=500).contains(&hd) || hd % 10 != 0 {
        return Err(SimErr::field(17003, "空间参数非法", "HD"));
    }
    if !(1..=100).contains(&bd) {
        return Err(SimErr::field(17004, "带宽参数非法", "BD"));
    }
    let os = q.checked(
        "os",
        |os| OSES.iter().any(|(v, _)| *v == os),
        17005,
        "操作系统参数非法",
    )?;
    let place = q.checked(
        "place",
        |place| PLACES.iter().any(|(v, _)| *v == place),
        17006,
        "机房参数非法",
    )?;
    Ok(Config {
        cpu,
        ram,
        hd,
        bd,
        place: place.into(),
        os: os.into(),
    })
}

/// What `/cloud/getprice` (and getProductPrice type 2) quotes for a configuration.
pub(crate) fn quote(q: &Req) -> Result<Decimal, SimErr> {
    let c = config(q)?;
    Ok(monthly(c.cpu, c.ram, c.hd, c.bd) * Decimal::from(months(q, "tmetpe")?))
}

/// What RenewalCloud would charge for a host of the account (getRenewPrice type 2).
pub(crate) fn renewal_quote(st: &State, cloudname: &str, q: &Req) -> Option<Decimal> {
    let c = st.clouds.get(cloudname)?;
    let m = months(q, "timetype").ok()?;
    Some(monthly(c.cpu, c.ram, c.hd, c.bd) * Decimal::from(m))
}

/// Monthly price of a configuration.
fn monthly(cpu: u32, ram: u32, hd: u32, bd: u32) -> Decimal {
    yuan(30, 0) * Decimal::from(cpu)
        + yuan(15, 0) * Decimal::from(ram / 512)
        + yuan(2, 0) * Decimal::from(hd / 10)
        + yuan(20, 0) * Decimal::from(bd)
}

fn place_name(v: &str) -> &'static str {
    PLACES
        .iter()
        .find(|(k, _)| *k == v)
        .map_or("-", |(_, n)| *n)
}

fn os_name(v: &str) -> &'static str {
    OSES.iter().find(|(k, _)| *k == v).map_or("-", |(_, n)| *n)
}

fn password_ok(p: &str) -> bool {
    (6..=20).contains(&p.len()) && !p.contains(char::is_whitespace)
}

fn info(c: &Cloud) -> Value {
    if !c.built {
        return json!([{
            "cloudno": c.no.to_string(), "cloudname": c.name, "platepass": c.platform_pass,
            "regtime": fmt_time(c.reg), "exptime": fmt_time(c.exp),
            "locate": place_name(&c.place), "ICPID": "", "remoteport": "3389",
        }]);
    }
    // 结果 2: the built host's keys as the sample lists them; the port and filtering
    // columns apply to the double-line room only and are "-" elsewhere.
    let double_line = |v: String| if c.place == "2" { v } else { "-".into() };
    json!([{
        "cloudno": c.no.to_string(), "cloudname": c.name, "platepass": c.platform_pass,
        "regtime": fmt_time(c.reg), "exptime": fmt_time(c.exp),
        "osname": os_name(&c.os),
        "ostype": if c.os.starts_with("windows") { "windows" } else { "linux" },
        "locate": place_name(&c.place), "serverip": c.ip,
        "dxip": double_line(c.ip.clone()), "wtip": "-",
        "freedomain": format!("{}.ichengyun.net", c.no),
        "outremotepport": double_line(c.port.to_string()), "inremotepport": "-",
        "mysqloutport": "-", "mysqlinport": "-", "mssqloutport": "-", "mssqlinport": "-",
        "weboutport": "-", "webinport": "-", "ftpoutport": "-", "ftpinport": "-",
        "ftpoutpasvport": "-", "ftpinpasvport": "-",
        "timetype": c.timetype,
        "cpu": c.cpu.to_string(), "ram": c.ram.to_string(), "hd": c.hd.to_string(), "bd": c.bd.to_string(),
        "ExtIP": c.extra_ips.join(","),
        "remotepport": c.port.to_string(),
    }])
}

/// CreateHost's answer: the document's own keys (`cloudsn`, `regtme`, `exptme`,
/// `hostip`, `platformpassword`, `os`, `place`, ...), which are not CloudInfo's. Its
/// sample writes `intraip` twice and closes `]}}`; one `intraip`, valid JSON here.
fn built(c: &Cloud) -> Value {
    let no = c.no;
    json!([{
        "cloudsn": no.to_string(), "cloudname": c.name, "hostpassword": c.password,
        "regtme": fmt_time(c.reg), "exptme": fmt_time(c.exp), "hostip": c.ip,
        "intraip": format!("10.0.{}.{}", (no >> 8) & 255, no & 255),
        "platformpassword": c.platform_pass, "os": os_name(&c.os), "place": place_name(&c.place),
        "freedomain": format!("{no}.ichengyun.net"), "netmask": "255.255.255.0",
        "router": gateway(&c.ip), "ICPID": icp_code(no), "remoteport": c.port.to_string(),
    }])
}

/// The gateway of a host's /24: its `.1`.
fn gateway(ip: &str) -> String {
    match ip.rsplit_once('.') {
        Some((net, _)) => format!("{net}.1"),
        None => String::new(),
    }
}

/// The filing (备案) verification code of a host, fixed per host.
fn icp_code(no: u64) -> String {
    format!("{:08x}", no.wrapping_mul(0x9e37_79b9) & 0xffff_ffff)
}

pub(crate) fn handler(name: &str) -> Option<Handler> {
    Some(match name {
        "/cloud/cloudlist" => cloudlist,
        "/cloud/getprice" => |_, q| Ok(json!(quote(q)?.normalize().to_string())),
        "/cloud/buycloud" => buycloud,
        "/cloud/cloudinfo" => cloudinfo,
        "/cloud/getsvrstt" => getsvrstt,
        "/cloud/createhost" => createhost,
        "/cloud/modplatformpassword" => modplatformpassword,
        "/cloud/modpassword" => modpassword,
        "/cloud/restartcloud" => {
            |st, q| power(st, q, (true, true), (17108, "主机非运行态无法重启"))
        }
        "/cloud/shutdown" => |st, q| power(st, q, (true, false), (17111, "主机非运行态无法关机")),
        "/cloud/poweroff" => |st, q| power(st, q, (true, false), (17115, "主机已关机无法再关闭")),
        "/cloud/starthost" => {
            |st, q| power(st, q, (false, true), (17113, "主机非关机状态无法开机"))
        }
        "/cloud/bkup" => bkup,
        "/cloud/delbkupfile" => delbkupfile,
        "/cloud/rstcloud" => rstcloud,
        "/cloud/getrebuildsystem" => getrebuildsystem,
        "/cloud/rebuildcloud" => rebuildcloud,
        "/cloud/getupgradelist" => getupgradelist,
        "/cloud/upgradecloud" => upgradecloud,
        "/cloud/buyip" => buyip,
        "/cloud/changeport" => changeport,
        "/cloud/binddomain" => binddomain,
        "/cloud/deldomain" => deldomain,
        "/cloud/renewalcloud" => renewalcloud,
        _ => return None,
    })
}

fn cloudlist(_: &mut State, _: &Req) -> R {
    Ok(json!([{
        "CPUInfo": CPUS.iter().map(|c| json!({"CPU": c.to_string()})).collect::<Vec<_>>(),
        "RAMInfo": RAMS.iter().map(|r| json!({"RAM": r.to_string()})).collect::<Vec<_>>(),
        "HDInfo": [{"Minval":"50","Maxval":"500","step":"10"}],
        "BandWidth": [{"Minval":"1","Maxval":"100","step":"1"}],
        "OS": OSES.iter().map(|(v, n)| json!({"systemName": n, "systemValue": v})).collect::<Vec<_>>(),
        "PlaceInfo": PLACES.iter().map(|(v, n)| json!({"Place": n, "Placeval": v})).collect::<Vec<_>>(),
        "TimetypeInfo": [{"Tmeval":"2","TmeNme":"月"},{"Tmeval":"4","TmeNme":"半年"},{"Tmeval":"5","TmeNme":"年"}],
    }]))
}

fn buycloud(st: &mut State, q: &Req) -> R {
    let now = q.now_ms();
    let c = config(q)?;
    let m = months(q, "tmetpe")?;
    let price = monthly(c.cpu, c.ram, c.hd, c.bd) * Decimal::from(m);
    let no = 10_001_000 + st.next_id();
    // The whole id: a name that wrapped would replace a host already paid for.
    let cloudname = format!("S{}", 262_000 + (no - 10_001_000));
    st.charge_order(
        q,
        Purpose::Buy,
        price,
        format!("橙云主机购买 {cloudname} {m}个月"),
    )?;
    let platform_pass = format!("CY{:06X}", no % 0xFF_FFFF);
    let cloud = Cloud {
        no,
        name: cloudname.clone(),
        cpu: c.cpu,
        ram: c.ram,
        hd: c.hd,
        bd: c.bd,
        place: c.place,
        os: c.os,
        platform_pass: platform_pass.clone(),
        password: String::new(),
        reg: now,
        exp: super::add_months(now, m),
        built: false,
        running: false,
        snapshot: None,
        ip: format!("222.73.{}.{}", (no >> 8) & 255, no & 255),
        extra_ips: Vec::new(),
        domains: Vec::new(),
        port: 3389,
        timetype: q.text("tmetpe").into(),
    };
    let reg = fmt_time(cloud.reg);
    let exp = fmt_time(cloud.exp);
    st.clouds.insert(cloudname.clone(), cloud);
    Ok(
        json!([{"cloudNo": no.to_string(), "cloudname": cloudname, "cloudpass": platform_pass, "regtme": reg, "exptme": exp}]),
    )
}

/// The caller's host (`cloudname`, looked up as sent), edited through [`edit`].
fn on_cloud(st: &mut State, q: &Req, op: impl FnOnce(&mut State, &mut Cloud) -> R) -> R {
    let cname = q.req("cloudname")?.to_string();
    edit(
        st,
        |st| &mut st.clouds,
        cname,
        SimErr::new(17102, "产品不在代理商名下"),
        op,
    )
}

/// [`on_cloud`] for an operation on a host already created (17107 before).
fn on_built(st: &mut State, q: &Req, op: impl FnOnce(&mut State, &mut Cloud) -> R) -> R {
    on_cloud(st, q, |st, c| {
        if !c.built {
            return Err(SimErr::new(17107, "主机状态非法(还未创建主机)"));
        }
        op(st, c)
    })
}

fn cloudinfo(st: &mut State, q: &Req) -> R {
    on_cloud(st, q, |_, c| Ok(info(c)))
}

fn getsvrstt(st: &mut State, q: &Req) -> R {
    on_cloud(st, q, |_, c| {
        let s = match (c.built, c.running) {
            (false, _) => "not created",
            (true, true) => "running",
            (true, false) => "stop",
        };
        Ok(json!(s))
    })
}

fn createhost(st: &mut State, q: &Req) -> R {
    on_cloud(st, q, |_, c| {
        if c.built {
            return Err(SimErr::new(17103, "主机已开通无需再次开通"));
        }
        let p = q.checked("password", password_ok, 17101, "密码非法")?;
        c.password = p.into();
        c.built = true;
        c.running = true;
        Ok(built(c))
    })
}

fn modplatformpassword(st: &mut State, q: &Req) -> R {
    on_cloud(st, q, |_, c| {
        let p = q.checked("password", password_ok, 17101, "密码非法")?;
        c.platform_pass = p.into();
        done()
    })
}

fn modpassword(st: &mut State, q: &Req) -> R {
    on_built(st, q, |_, c| {
        let p = q.checked("cloudpassword", password_ok, 17101, "密码非法")?;
        c.password = p.into();
        done()
    })
}

/// A power operation of a built host: running `from` -> `to`, else the endpoint's
/// refusal.
fn power(st: &mut State, q: &Req, (from, to): (bool, bool), (code, text): (u32, &str)) -> R {
    on_built(st, q, |_, c| {
        flip(&mut c.running, from, to, SimErr::new(code, text))?;
        done()
    })
}

fn bkup(st: &mut State, q: &Req) -> R {
    on_built(st, q, |_, c| {
        c.snapshot = Some(q.now_ms());
        done()
    })
}

fn delbkupfile(st: &mut State, q: &Req) -> R {
    on_built(st, q, |_, c| {
        if c.snapshot.take().is_none() {
            return Err(SimErr::new(17119, "主机无快照无需删除操作"));
        }
        done()
    })
}

fn rstcloud(st: &mut State, q: &Req) -> R {
    on_built(st, q, |_, c| {
        if c.snapshot.is_none() {
            return Err(SimErr::new(17118, "主机快照还原失败(无快照)"));
        }
        done()
    })
}

fn getrebuildsystem(st: &mut State, q: &Req) -> R {
    on_built(st, q, |_, _| {
        Ok(Value::Array(
            OSES.iter()
                // getrebuildSystem's key is `systemval` (CloudList's OS list says
                // `systemValue`): each as its sample prints it.
                .map(|(v, n)| json!({"systemName": n, "systemval": v}))
                .collect(),
        ))
    })
}

fn rebuildcloud(st: &mut State, q: &Req) -> R {
    on_built(st, q, |_, c| {
        let p = q.checked("cloudpass", password_ok, 17101, "密码非法")?;
        let os = q.checked(
            "cloudsystem",
            |os| OSES.iter().any(|(v, _)| *v == os),
            17005,
            "操作系统参数非法",
        )?;
        c.os = os.into();
        c.password = p.into();
        c.running = true;
        c.snapshot = None;
        done()
    })
}

fn getupgradelist(st: &mut State, q: &Req) -> R {
    on_built(st, q, |_, c| {
        let range = |max: u32, cur: u32, step: u32| json!([{"Minval": "0", "Maxval": (max - cur.min(max)).to_string(), "step": step.to_string()}]);
        Ok(json!({
            "CPUInfo": range(MAX_CPU, c.cpu, 1),
            "RAMInfo": range(MAX_RAM, c.ram, 512),
            "HDInfo": range(MAX_HD, c.hd, 10),
            "BDInfo": range(MAX_BD, c.bd, 1),
        }))
    })
}

/// A host changes hardware only stopped and without a snapshot; each call refuses
/// either with its own code and text.
fn stopped_without_snapshot(
    c: &Cloud,
    (snapshot_code, snapshot_text): (u32, &str),
    (running_code, running_text): (u32, &str),
) -> Result<(), SimErr> {
    if c.snapshot.is_some() {
        return Err(SimErr::new(snapshot_code, snapshot_text));
    }
    if c.running {
        return Err(SimErr::new(running_code, running_text));
    }
    Ok(())
}

fn upgradecloud(st: &mut State, q: &Req) -> R {
    on_built(st, q, |st, c| {
        stopped_without_snapshot(
            c,
            (17127, "主机有快照无法升级"),
            (17128, "非关机状态无法升级"),
        )?;
        // Checked: a hostile increment must not wrap around the limits below.
        let add = |now: u32, k: &str, code: u32| -> Result<u32, SimErr> {
            q.req(k)?
                .parse::<u32>()
                .ok()
                .and_then(|n| now.checked_add(n))
                .ok_or_else(|| SimErr::field(code, "升级参数非法", k))
        };
        let (cpu, ram, hd, bd) = (
            add(c.cpu, "CPUNum", 17001)?,
            add(c.ram, "RAMNum", 17002)?,
            add(c.hd, "HDNum", 17003)?,
            add(c.bd, "BDNum", 17004)?,
        );
        for (v, max, code, text) in [
            (cpu, MAX_CPU, 17129, "CPU超限无法升级"),
            (ram, MAX_RAM, 17130, "内存超限无法升级"),
            (hd, MAX_HD, 17131, "空间超限无法升级"),
            (bd, MAX_BD, 17132, "带宽超限无法升级"),
        ] {
            if v > max {
                return Err(SimErr::new(code, format!("{text}[{max}]")));
            }
        }
        if ram % 512 != 0 || hd % 10 != 0 || (cpu, ram, hd, bd) == (c.cpu, c.ram, c.hd, c.bd) {
            return Err(SimErr::new(17133, "升级失败(配置未变化或步长不符)"));
        }
        st.charge_upgrade(
            q,
            monthly(c.cpu, c.ram, c.hd, c.bd),
            monthly(cpu, ram, hd, bd),
            c.exp,
            Per::Month,
            SimErr::new(17133, "升级失败(配置未变化)"),
            format!("橙云主机升级 {}", c.name),
        )?;
        (c.cpu, c.ram, c.hd, c.bd) = (cpu, ram, hd, bd);
        done()
    })
}

fn buyip(st: &mut State, q: &Req) -> R {
    on_built(st, q, |st, c| {
        stopped_without_snapshot(
            c,
            (17135, "有快照无法购买IP"),
            (17136, "非关机状态无法购买IP"),
        )?;
        if c.extra_ips.len() >= MAX_EXTRA_IPS {
            return Err(SimErr::new(17134, "IP值超出最大限制"));
        }
        // An IP is an upgrade from nothing to 20 a month.
        st.charge_upgrade(
            q,
            Decimal::ZERO,
            yuan(20, 0),
            c.exp,
            Per::Month,
            SimErr::new(17137, "购买IP失败"),
            format!("橙云主机购买IP {}", c.name),
        )?;
        let ip = format!("210.209.{}.{}", (c.no >> 4) & 255, 60 + c.extra_ips.len());
        c.extra_ips.push(ip.clone());
        Ok(json!([{
            "cloudname": c.name, "ipaddress": ip, "netmask": "255.255.255.0",
            "router": gateway(&ip), "freedomain": format!("{}.ichengyun.net", c.no),
        }]))
    })
}

fn changeport(st: &mut State, q: &Req) -> R {
    on_built(st, q, |_, c| {
        if c.place == "2" {
            return Err(SimErr::new(17149, "上海双线不支持"));
        }
        if !c.os.starts_with("windows") {
            return Err(SimErr::new(17150, "非windows主机,不支持切换"));
        }
        if c.running {
            return Err(SimErr::new(17152, "请先关机再切换端口号"));
        }
        c.port = 10_000 + u16::try_from(q.now_ms().rem_euclid(50_000)).unwrap_or(2345);
        Ok(json!([{"port": c.port.to_string()}]))
    })
}

/// The domain a BindDomain / DelDomain names.
fn hostname(q: &Req) -> Result<String, SimErr> {
    let d = q.req("domainname")?.to_ascii_lowercase();
    if !super::valid_hostname(&d) {
        return Err(SimErr::field(17138, "域名非法", "domainname"));
    }
    Ok(d)
}

fn binddomain(st: &mut State, q: &Req) -> R {
    on_cloud(st, q, |st, c| {
        let d = hostname(q)?;
        // Mainland rooms serve only filed (备案) domains: the account's own.
        let root = d
            .split_once('.')
            .map(|x| x.1)
            .filter(|r| r.contains('.'))
            .unwrap_or(&d);
        let filed = st.domains.contains_key(&d) || st.domains.contains_key(root);
        if c.place != "3" && !filed {
            return Err(SimErr::new(17140, "域名未备案无法绑定"));
        }
        if c.domains.contains(&d) {
            return Err(SimErr::new(17141, "域名已绑定过无法再次绑定"));
        }
        c.domains.push(d);
        done()
    })
}

fn deldomain(st: &mut State, q: &Req) -> R {
    on_cloud(st, q, |_, c| {
        let d = hostname(q)?;
        remove_where(
            &mut c.domains,
            |x| *x == d,
            SimErr::new(17143, "域名并未绑定过无需删除"),
        )?;
        done()
    })
}

fn renewalcloud(st: &mut State, q: &Req) -> R {
    on_cloud(st, q, |st, c| {
        let m = months(q, "timetype")?;
        let price = monthly(c.cpu, c.ram, c.hd, c.bd) * Decimal::from(m);
        st.charge_order(
            q,
            Purpose::Renew,
            price,
            format!("橙云主机续费 {} {m}个月", c.name),
        )?;
        c.exp = super::add_months(c.exp, m);
        done()
    })
}
