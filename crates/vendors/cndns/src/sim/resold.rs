//! Resold Baidu (bcc) and Aliyun (ali) cloud servers: one shape for both, told apart by
//! their limits. These modules answer failures with free text only (no code), name the
//! product with any of four spellings (`pdtnme`/`pdtname`/`pdtmne`/`pdtmme`), and keep
//! disks as "ext" parts that can be backed up, restored, mounted and unmounted.

use idcgate_wire::sim::money;

use super::{
    add_months, edit_mine, flip, fmt_time, yuan, Fields, Handler, Purpose, Req, SimErr, State, R,
};
use rust_decimal::Decimal;
use serde_json::{json, Value};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cloud {
    Baidu,
    Aliyun,
}

#[derive(Debug, Clone)]
pub(crate) struct Disk {
    pub extid: u64,
    pub dtype: String,
    pub size: u32,
    pub mounted: bool,
    pub backup: Option<i64>,
}

#[derive(Debug, Clone)]
pub(crate) struct Instance {
    pub cloud: Cloud,
    pub name: String,
    pub pass: String,
    pub cpu: u32,
    pub ram: u32,
    pub flow: u32,
    pub location: String,
    pub systemid: String,
    pub running: bool,
    pub reg: i64,
    pub exp: i64,
    pub disks: Vec<Disk>,
}

const LOCATIONS: [(&str, &str, &str); 3] = [
    ("1", "bj", "华北-北京"),
    ("2", "gz", "华南-广州"),
    ("3", "su", "华东-苏州"),
];
const SYSTEMS: [(&str, &str, &str); 3] = [
    ("m-OmBEAOmD", "CentOS 7.5 x86_64", "linux"),
    ("m-UbT1804x", "Ubuntu 18.04 LTS amd64", "linux"),
    (
        "m-Win2012R",
        "Windows Server 2012 R2 数据中心版 64位",
        "windows",
    ),
];
/// Baidu's allowed memory (GB) per CPU count, from the document's table.
const BCC_PAIRS: [(u32, &[u32]); 6] = [
    (1, &[1, 2, 4, 8]),
    (2, &[2, 4, 8, 12]),
    (4, &[4, 8, 12, 16, 32]),
    (8, &[8, 12, 16, 24, 32, 64]),
    (12, &[12, 16, 24, 32, 48, 64]),
    (16, &[16, 24, 32, 48, 64]),
];
/// Aliyun instance types (slcns/slid): (type, id, cpu, ram GB).
const ALI_TYPES: [(&str, &str, u32, u32); 3] = [
    ("ecs.t5", "ecs.t5-lc1m2.small", 1, 2),
    ("ecs.c5", "ecs.c5.large", 2, 4),
    ("ecs.g5", "ecs.g5.xlarge", 4, 16),
];

fn fail(text: &str) -> SimErr {
    SimErr::text(text)
}

fn kind(q: &Req) -> Cloud {
    if q.action().name().starts_with("/bcc/") {
        Cloud::Baidu
    } else {
        Cloud::Aliyun
    }
}

/// The product name under any of the document's four spellings.
fn product(q: &Req) -> Result<String, SimErr> {
    ["pdtnme", "pdtname", "pdtmne", "pdtmme"]
        .iter()
        .find_map(|k| q.arg(k))
        .map(str::to_ascii_lowercase)
        .ok_or_else(|| fail("产品名称不能为空"))
}

fn password_ok(p: &str, symbols: &str) -> bool {
    (8..=32).contains(&p.len())
        && p.chars().any(|c| c.is_ascii_alphabetic())
        && p.chars().any(|c| c.is_ascii_digit())
        && p.chars().any(|c| symbols.contains(c))
        && p.chars()
            .all(|c| c.is_ascii_alphanumeric() || symbols.contains(c))
}

fn symbols(cloud: Cloud) -> &'static str {
    match cloud {
        Cloud::Baidu => "!@#$%^&()*",
        Cloud::Aliyun => "!@#%^*()",
    }
}

/// Months of `term`/`termtype` (2 月: 1-9, 5 年: 1-3 Baidu, 1-2 Aliyun).
fn months(q: &Req, cloud: Cloud) -> Result<i64, SimErr> {
    let term: i64 = q.text("term").parse().map_err(|_| fail("购买时长非法"))?;
    let max_years = if cloud == Cloud::Baidu { 3 } else { 2 };
    match q.text("termtype") {
        "2" if (1..=9).contains(&term) => Ok(term),
        "5" if (1..=max_years).contains(&term) => Ok(term * 12),
        _ => Err(fail("购买时长非法")),
    }
}

/// `cdsstr`: `type=size` pairs separated by `|` or spaces (the document shows both).
fn disks(q: &Req, cloud: Cloud) -> Result<Vec<(String, u32)>, SimErr> {
    let (types, min): (&[&str], u32) = match cloud {
        Cloud::Baidu => (&["std1", "hp1", "ssd"], 1),
        Cloud::Aliyun => (&["eff", "ssd"], 40),
    };
    let mut out = Vec::new();
    for part in q.text("cdsstr").split(['|', ' ']).filter(|p| !p.is_empty()) {
        let (t, s) = part
            .split_once('=')
            .ok_or_else(|| fail("磁盘配置信息非法"))?;
        let size: u32 = s.parse().map_err(|_| fail("磁盘配置信息非法"))?;
        if !types.contains(&t) || !(min..=32768).contains(&size) {
            return Err(fail("磁盘配置信息非法"));
        }
        out.push((t.to_string(), size));
    }
    Ok(out)
}

/// Monthly price: CPU, memory, bandwidth and disks.
fn monthly(i: &Instance) -> Decimal {
    let disk_gb: u32 = i.disks.iter().map(|d| d.size).sum();
    monthly_of(i.cpu, i.ram, i.flow, disk_gb)
}

/// Monthly price of a configuration (cores, GB of memory, Mbps, GB of disk).
fn monthly_of(cpu: u32, ram: u32, flow: u32, disk_gb: u32) -> Decimal {
    yuan(35, 0) * Decimal::from(cpu)
        + yuan(20, 0) * Decimal::from(ram)
        + yuan(18, 0) * Decimal::from(flow)
        + Decimal::new(50, 2) * Decimal::from(disk_gb)
}

/// ProductInfo's `Product` list: the priced configurations of each region, one month
/// with 1 Mbps and a 40 GB disk of the module's first type, at what CreateOrder charges
/// for them (`prc`), `soth` the discount (none).
fn products(cloud: Cloud) -> Vec<Value> {
    // (cores, GB of memory, 阿里云's instance type and id)
    type Config = (u32, u32, Option<(&'static str, &'static str)>);
    let (disk, configs): (&str, Vec<Config>) = match cloud {
        Cloud::Baidu => (
            "std1",
            BCC_PAIRS
                .iter()
                .map(|(c, rams)| (*c, rams[0], None))
                .collect(),
        ),
        Cloud::Aliyun => (
            "eff",
            ALI_TYPES
                .iter()
                .map(|(t, id, c, r)| (*c, *r, Some((*t, *id))))
                .collect(),
        ),
    };
    let prefix = if cloud == Cloud::Baidu { "bcc" } else { "ecs" };
    let mut out = Vec::new();
    for (sst, _, _) in LOCATIONS {
        for (cpu, ram, instance) in &configs {
            let mut p = serde_json::Map::new();
            p.insert("location".into(), json!(sst));
            match instance {
                Some((slcns, slid)) => {
                    p.insert("slcns".into(), json!(slcns));
                    p.insert("slid".into(), json!(slid));
                }
                None => {
                    p.insert("system".into(), json!(SYSTEMS[0].0));
                }
            }
            let rest = json!({
                "cdstype": disk,
                "prd": format!("{prefix}-{cpu}c{ram}g"),
                "prc": money::two_dp(monthly_of(*cpu, *ram, 1, 40)),
                "termtype": "2", "term": "1", "size": "40",
                "cpu": cpu.to_string(), "sram": ram.to_string(), "sidc": "40", "soth": "1",
            });
            if let Value::Object(r) = rest {
                p.extend(r);
            }
            out.push(Value::Object(p));
        }
    }
    out
}

fn details(i: &Instance) -> Value {
    let sys = SYSTEMS.iter().find(|s| s.0 == i.systemid);
    let room = LOCATIONS
        .iter()
        .find(|l| l.0 == i.location)
        .map_or("-", |l| l.2);
    let mut ext = vec![
        json!({"pdtnme": i.name, "extid": "1", "exttype": "cpu", "bs": i.cpu.to_string(), "size": "1", "total": i.cpu.to_string(), "type": "", "ext2": "", "addtme": fmt_time(i.reg)}),
        json!({"pdtnme": i.name, "extid": "2", "exttype": "ram", "bs": i.ram.to_string(), "size": "1", "total": i.ram.to_string(), "type": "", "ext2": "", "addtme": fmt_time(i.reg)}),
        json!({"pdtnme": i.name, "extid": "3", "exttype": "hd", "bs": i.flow.to_string(), "size": "1", "total": i.flow.to_string(), "type": "", "ext2": "", "addtme": fmt_time(i.reg)}),
    ];
    for d in &i.disks {
        ext.push(json!({
            "pdtnme": i.name, "extid": d.extid.to_string(), "exttype": "bd", "bs": "1",
            "size": d.size.to_string(), "total": d.size.to_string(), "type": d.dtype,
            "ext2": d.extid.to_string(), "addtme": fmt_time(i.reg),
        }));
    }
    json!({
        "Details": [{
            "pdtnme": i.name, "pss": i.pass,
            "regstt": if i.running { "1" } else { "2" },
            "addtme": fmt_time(i.reg), "exptme": fmt_time(i.exp),
            "kvmip": format!("106.12.{}.{}", i.reg % 200 + 1, i.name.len() * 7 % 250),
            "systemid": i.systemid,
            "sysname": sys.map_or("-", |s| s.1),
            "systype": sys.map_or("-", |s| s.2),
            "nme": if i.cloud == Cloud::Baidu { "百度云BCC" } else { "阿里云ECS" },
            "uuid": crate::md5_hex(&i.name),
            "diskno": i.disks.first().map(|d| d.extid.to_string()).unwrap_or_default(),
            "locationsst": i.location, "room": room,
        }],
        "ext": ext,
    })
}

pub(crate) fn handler(name: &str) -> Option<Handler> {
    Some(match name {
        "/bcc/productinfo" | "/ali/productinfo" => |_, q| Ok(product_info(kind(q))),
        "/bcc/createorder" | "/ali/createorder" => create,
        "/bcc/upgradeorder" => upgradeorder,
        "/bcc/orderdetails" | "/ali/orderdetails" => orderdetails,
        "/bcc/getvncurl" | "/ali/getvncurl" => getvncurl,
        "/bcc/rebuildsystemlist" | "/ali/rebuildsystemlist" => rebuildsystemlist,
        "/bcc/reneworder" | "/ali/reneworder" => reneworder,
        "/bcc/shutdown" | "/ali/shutdown" => |st, q| power(st, q, (true, false), "主机已关机"),
        "/bcc/startingup" | "/ali/startingup" => {
            |st, q| power(st, q, (false, true), "主机已在运行")
        }
        "/bcc/restart" | "/ali/restart" => {
            |st, q| power(st, q, (true, true), "主机非运行状态无法重启")
        }
        "/bcc/backups" | "/ali/backups" => backups,
        "/bcc/deletebackups" | "/ali/deletebackups" => deletebackups,
        "/bcc/restorebackups" | "/ali/restorebackups" => restorebackups,
        "/bcc/mount" | "/ali/mount" => |st, q| mounting(st, q, (false, true), "磁盘已挂载"),
        "/bcc/uninstall" | "/ali/uninstall" => |st, q| mounting(st, q, (true, false), "磁盘未挂载"),
        "/bcc/rebuildsystem" | "/ali/rebuildsystem" => rebuildsystem,
        "/bcc/modifypassword" | "/ali/modifypassword" => modifypassword,
        _ => return None,
    })
}

/// The caller's instance of the module (`pdtnme` or a spelling of it), edited through
/// [`edit`].
fn on_instance(st: &mut State, q: &Req, op: impl FnOnce(&mut State, &mut Instance) -> R) -> R {
    let cloud = kind(q);
    let missing = || fail("产品不存在或不属于当前用户");
    edit_mine(
        st,
        |st| &mut st.resold,
        product(q)?,
        |i| i.cloud == cloud,
        missing,
        op,
    )
}

/// What a successful instance operation answers: the product's name.
fn named(i: &Instance) -> R {
    Ok(json!(i.name))
}

fn product_info(cloud: Cloud) -> Value {
    let location: Vec<Value> = LOCATIONS
        .iter()
        .map(|(sst, val, name)| json!({"val": val, "sst": sst, "name": name}))
        .collect();
    let system: Vec<Value> = LOCATIONS
        .iter()
        .flat_map(|(sst, _, _)| {
            SYSTEMS.iter().map(move |(id, n, t)| {
                json!({"sysName": n, "sysType": t, "systemid": id, "localtion": sst})
            })
        })
        .collect();
    // The document's three groups; disk types and (阿里云) instance types are columns
    // of Product.
    json!({"Location": location, "System": system, "Product": products(cloud)})
}

/// `ticketid` (coupon) and `voucherids` are these modules' names for signature/voucherid;
/// their failures are text alone.
pub(super) fn charge(
    st: &mut State,
    q: &Req,
    purpose: Purpose,
    amount: Decimal,
    memo: String,
) -> Result<(), SimErr> {
    st.charge_with(q, ("ticketid", "voucherids"), purpose, amount, memo)
        .map_err(|e| fail(&e.msg))
}

fn create(st: &mut State, q: &Req) -> R {
    let cloud = kind(q);
    let pass = q.arg("pass").unwrap_or_default();
    if !password_ok(pass, symbols(cloud)) {
        return Err(fail(
            "管理密码非法: 8~32位字符, 英文、数字和符号必须同时存在",
        ));
    }
    let (cpu, ram) = match cloud {
        Cloud::Baidu => {
            let cpu: u32 = q
                .text("cpucount")
                .parse()
                .map_err(|_| fail("CPU大小非法"))?;
            let ram: u32 = q.text("memory").parse().map_err(|_| fail("内存大小非法"))?;
            let ok = BCC_PAIRS
                .iter()
                .any(|(c, rams)| *c == cpu && rams.contains(&ram));
            if !ok {
                return Err(fail("CPU或内存大小非法(内存大小不能小于cpu大小)"));
            }
            (cpu, ram)
        }
        Cloud::Aliyun => {
            let t = ALI_TYPES
                .iter()
                .find(|t| Some(t.0) == q.arg("slcns") && Some(t.1) == q.arg("slid"))
                .ok_or_else(|| fail("实例类型非法"))?;
            (t.2, t.3)
        }
    };
    let max_flow = if cloud == Cloud::Baidu { 200 } else { 100 };
    let flow: u32 = q
        .text("flow")
        .parse()
        .ok()
        .filter(|f| (1..=max_flow).contains(f))
        .ok_or_else(|| fail("宽带大小非法"))?;
    let location = q.text("location");
    if !LOCATIONS.iter().any(|l| l.0 == location) {
        return Err(fail("地域非法"));
    }
    let systemid = q.text("systemid");
    if !SYSTEMS.iter().any(|s| s.0 == systemid) {
        return Err(fail("操作系统非法"));
    }
    let m = months(q, cloud)?;
    let id = st.next_id();
    let prefix = if cloud == Cloud::Baidu { "b" } else { "a" };
    let name = format!("{prefix}{}", 785_000 + id);
    let mut i = Instance {
        cloud,
        name: name.clone(),
        pass: pass.into(),
        cpu,
        ram,
        flow,
        location: location.into(),
        systemid: systemid.into(),
        running: true,
        reg: q.now_ms(),
        exp: add_months(q.now_ms(), m),
        disks: Vec::new(),
    };
    for (t, size) in disks(q, cloud)? {
        let extid = 132_000 + st.next_id();
        i.disks.push(Disk {
            extid,
            dtype: t,
            size,
            mounted: true,
            backup: None,
        });
    }
    let amount = monthly(&i) * Decimal::from(m);
    charge(st, q, Purpose::Buy, amount, format!("{name} 购买 {m}个月"))?;
    st.resold.insert(name.clone(), i);
    Ok(json!(name))
}

fn disk<'a>(q: &Req, i: &'a mut Instance) -> Result<&'a mut Disk, SimErr> {
    let extid: u64 = q.text("extid").parse().map_err(|_| fail("磁盘ID非法"))?;
    i.disks
        .iter_mut()
        .find(|d| d.extid == extid)
        .ok_or_else(|| fail("磁盘不存在"))
}

fn orderdetails(st: &mut State, q: &Req) -> R {
    on_instance(st, q, |_, i| Ok(details(i)))
}

fn getvncurl(st: &mut State, q: &Req) -> R {
    on_instance(st, q, |_, i| {
        Ok(json!(format!(
            "https://vnc.cndns.com/{}?token={}",
            i.name,
            crate::md5_hex(&format!("{}{}", i.name, q.now_ms()))
        )))
    })
}

/// The systems an instance can be reinstalled with (返回值描述): `sysValue` is the
/// `systemid` RebuildSystem takes, `sysPlace` the region (its room).
fn rebuildsystemlist(st: &mut State, q: &Req) -> R {
    on_instance(st, q, |_, i| {
        Ok(Value::Array(
            SYSTEMS
                .iter()
                .map(|(id, n, t)| json!({"sysName": n, "sysValue": id, "sysType": t, "sysPlace": i.location}))
                .collect(),
        ))
    })
}

fn reneworder(st: &mut State, q: &Req) -> R {
    on_instance(st, q, |st, i| {
        let m = months(q, i.cloud)?;
        let amount = monthly(i) * Decimal::from(m);
        charge(
            st,
            q,
            Purpose::Renew,
            amount,
            format!("{} 续费 {m}个月", i.name),
        )?;
        i.exp = add_months(i.exp, m);
        named(i)
    })
}

fn upgradeorder(st: &mut State, q: &Req) -> R {
    on_instance(st, q, |st, i| {
        upgrade(st, q, i)?;
        named(i)
    })
}

/// Power operations: running `from` -> `to`, else `refusal`.
fn power(st: &mut State, q: &Req, (from, to): (bool, bool), refusal: &str) -> R {
    on_instance(st, q, |_, i| {
        flip(&mut i.running, from, to, fail(refusal))?;
        named(i)
    })
}

/// Mount / Uninstall of the disk `extid`: mounted `from` -> `to`, else `refusal`.
fn mounting(st: &mut State, q: &Req, (from, to): (bool, bool), refusal: &str) -> R {
    on_instance(st, q, |_, i| {
        flip(&mut disk(q, i)?.mounted, from, to, fail(refusal))?;
        named(i)
    })
}

fn backups(st: &mut State, q: &Req) -> R {
    on_instance(st, q, |_, i| {
        disk(q, i)?.backup = Some(q.now_ms());
        named(i)
    })
}

fn deletebackups(st: &mut State, q: &Req) -> R {
    on_instance(st, q, |_, i| {
        if disk(q, i)?.backup.take().is_none() {
            return Err(fail("磁盘没有备份"));
        }
        named(i)
    })
}

fn restorebackups(st: &mut State, q: &Req) -> R {
    on_instance(st, q, |_, i| {
        if disk(q, i)?.backup.is_none() {
            return Err(fail("磁盘没有备份可还原"));
        }
        named(i)
    })
}

fn rebuildsystem(st: &mut State, q: &Req) -> R {
    on_instance(st, q, |_, i| {
        let s = q.text("systemid");
        if !SYSTEMS.iter().any(|x| x.0 == s) {
            return Err(fail("操作系统非法"));
        }
        i.systemid = s.into();
        i.running = true;
        named(i)
    })
}

fn modifypassword(st: &mut State, q: &Req) -> R {
    on_instance(st, q, |_, i| {
        let p = q.text("pass");
        if !password_ok(p, symbols(i.cloud)) {
            return Err(fail("管理密码非法"));
        }
        i.pass = p.into();
        named(i)
    })
}

/// `upgtype` 1 `cpu:ram` added, 2 `extid:GB` added to a disk, 3 new bandwidth; charged
/// the monthly difference for the months left.
fn upgrade(st: &mut State, q: &Req, i: &mut Instance) -> Result<(), SimErr> {
    let mut next = i.clone();
    let spec = q.text("upgstr");
    let nums: Vec<u64> = spec
        .split(':')
        .map(|p| p.trim().parse::<u64>())
        .collect::<Result<_, _>>()
        .map_err(|_| fail("升级信息非法"))?;
    let small = |n: u64| u32::try_from(n).map_err(|_| fail("升级信息非法"));
    match (q.text("upgtype"), nums.as_slice()) {
        ("1", [c, r]) => {
            next.cpu += small(*c)?;
            next.ram += small(*r)?;
            if !BCC_PAIRS
                .iter()
                .any(|(cpu, rams)| *cpu == next.cpu && rams.contains(&next.ram))
            {
                return Err(fail("升级后CPU或内存大小非法"));
            }
        }
        ("2", [extid, gb]) => {
            let add = small(*gb)?;
            let d = next
                .disks
                .iter_mut()
                .find(|d| d.extid == *extid)
                .ok_or_else(|| fail("磁盘不存在"))?;
            d.size += add;
        }
        ("3", [flow]) => {
            let f = small(*flow)?;
            if f <= next.flow || f > 200 {
                return Err(fail("宽带大小非法"));
            }
            next.flow = f;
        }
        _ => return Err(fail("升级类型或升级信息非法")),
    }
    let months_left = super::months_left(q.now_ms(), i.exp);
    let diff = (monthly(&next) - monthly(i)) * Decimal::from(months_left);
    charge(st, q, Purpose::Buy, diff, format!("{} 升级", i.name))?;
    *i = next;
    Ok(())
}
