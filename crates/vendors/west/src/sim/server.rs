//! Cloud servers: configs and OS per server room, purchase, lifecycle, renewal,
//! upgrades, vCPU mode, migration with progress, security groups, virtual switches,
//! cloud shield, CC protection and blacklist, extra IPs, logs and performance data.

use super::{
    add_months, by_id, dec, fmt_date, fmt_time, m, months_left, page, quote, remove_where,
    signed_url, term_end, Args, Handler, Req, SimErr, State, DAY_MS, R,
};
use crate::errors::code;
use rust_decimal::Decimal;
use serde_json::{json, Value};

pub(crate) const ROOMS: [(i64, &str); 15] = [
    (2, "WJ-2"),
    (3, "BJ-1"),
    (4, "HK-1"),
    (6, "GD-1"),
    (7, "WJ-3"),
    (8, "ZZ-1"),
    (9, "MY-2"),
    (12, "MY10G-1"),
    (13, "SY-1"),
    (14, "ZZ10G-1"),
    (15, "HK10G-1"),
    (16, "HK10G-2"),
    (17, "HK10G-3"),
    (18, "APP10G-1"),
    (19, "MIP10G-1"),
];
const CPUS: [i64; 6] = [1, 2, 4, 8, 16, 32];
const MEMS: [i64; 7] = [1, 2, 4, 8, 16, 32, 64];
const LINUX: [&str; 4] = ["centos7.9", "rocky9.2", "ubuntu22.04", "debian12"];
const WINDOWS: [&str; 3] = ["win2012r2", "win2019", "win2022"];
/// Migration takes this long in the simulator.
const MIGRATE_MS: i64 = 10 * 60 * 1000;
const MAX_EXTRA_IPS: usize = 4;
/// CC levels: (level, name, qps, monthly price).
const CC_LEVELS: [(i64, &str, i64, i64); 3] = [
    (1, "基础防护", 1000, 0),
    (2, "增强防护", 5000, 300),
    (3, "高级防护", 20000, 800),
];

#[derive(Debug, Clone)]
pub(crate) struct Migration {
    pub target: i64,
    pub start: i64,
    pub oldip: String,
    pub newip: String,
    pub done: bool,
}

#[derive(Debug, Clone)]
pub(crate) struct Server {
    pub id: u64,
    pub name: String,
    pub room: i64,
    pub os: String,
    pub cpu: i64,
    pub memory: i64,
    pub disk: i64,
    pub bandwidth: i64,
    pub ips: Vec<String>,
    pub ipv6: String,
    pub password: String,
    pub initpwd: String,
    pub running: bool,
    pub trial: bool,
    pub dedicated: bool,
    pub created: i64,
    pub expire: i64,
    pub denylogin: bool,
    pub secgroup: Option<u64>,
    pub lsw: Option<(u64, String)>,
    pub cloudshield: bool,
    pub shieldlog: Vec<(i64, String)>,
    pub cc: (i64, bool, i64, String),
    pub blacklist: Vec<(String, i64)>,
    pub oplog: Vec<(i64, String)>,
    pub migration: Option<Migration>,
}

#[derive(Debug, Clone)]
pub(crate) struct Rule {
    pub id: u64,
    pub direction: String,
    pub protocol: String,
    pub port: String,
    pub source: String,
    pub policy: String,
    pub priority: i64,
    pub remark: String,
}

#[derive(Debug, Clone)]
pub(crate) struct SecGroup {
    pub id: u64,
    pub name: String,
    pub remark: String,
    pub rules: Vec<Rule>,
}

#[derive(Debug, Clone)]
pub(crate) struct Lsw {
    pub id: u64,
    pub name: String,
    pub room: i64,
    pub subnet: u8,
}

pub(crate) fn room_name(id: i64) -> Option<&'static str> {
    ROOMS.iter().find(|r| r.0 == id).map(|r| r.1)
}

fn is_hk(room: i64) -> bool {
    matches!(room, 4 | 15 | 16 | 17)
}

/// Windows images are not offered in the 10G Hong Kong and app rooms.
pub(crate) fn os_list(room: i64) -> Vec<&'static str> {
    let mut v = LINUX.to_vec();
    if !matches!(room, 15..=19) {
        v.extend(WINDOWS);
    }
    v
}

/// Monthly price of a configuration (Hong Kong rooms cost half as much again).
pub(crate) fn monthly(
    room: i64,
    cpu: i64,
    memory: i64,
    disk: i64,
    bandwidth: i64,
    dedicated: bool,
) -> Decimal {
    let per_cpu = if dedicated { dec(35, 0) } else { dec(25, 0) };
    let base = per_cpu * Decimal::from(cpu)
        + dec(15, 0) * Decimal::from(memory)
        + dec(0, 50) * Decimal::from(disk)
        + dec(12, 0) * Decimal::from(bandwidth);
    if is_hk(room) {
        base * dec(1, 50)
    } else {
        base
    }
}

fn srv_monthly(s: &Server) -> Decimal {
    monthly(s.room, s.cpu, s.memory, s.disk, s.bandwidth, s.dedicated)
}

fn check_config(room: i64, cpu: i64, memory: i64, disk: i64, bandwidth: i64) -> Result<(), SimErr> {
    if room_name(room).is_none() {
        return Err(SimErr::invalid("serverroom", "机房不存在"));
    }
    if !CPUS.contains(&cpu) {
        return Err(SimErr::invalid("cpu", "CPU核数不在可选范围"));
    }
    if !MEMS.contains(&memory) || memory > cpu * 8 || memory * 4 < cpu {
        return Err(SimErr::invalid("memory", "内存不在该CPU可选范围"));
    }
    if !(0..=2000).contains(&disk) || disk % 10 != 0 {
        return Err(SimErr::invalid("disk", "数据盘需在0-2000G之间且为10的倍数"));
    }
    let max_bw = if is_hk(room) { 50 } else { 200 };
    if !(1..=max_bw).contains(&bandwidth) {
        return Err(SimErr::invalid(
            "bandwidth",
            &format!("带宽需在1-{max_bw}M之间"),
        ));
    }
    Ok(())
}

pub(crate) fn ip_for(room: i64, id: u64, n: u64) -> String {
    format!(
        "103.{}.{}.{}",
        40 + room,
        (id / 250 + n * 7) % 250 + 1,
        id % 250 + 2
    )
}

/// Mirrors the fields of the buy form (used by buy and the seeds).
#[allow(clippy::too_many_arguments)]
pub(crate) fn new_server(
    st: &mut State,
    room: i64,
    os: &str,
    cfg: (i64, i64, i64, i64),
    password: &str,
    name: &str,
    now: i64,
    months: i64,
    trial: bool,
) -> u64 {
    let id = st.next_id();
    let s = Server {
        id,
        name: if name.is_empty() {
            format!("cloud-{id}")
        } else {
            name.into()
        },
        room,
        os: os.into(),
        cpu: cfg.0,
        memory: cfg.1,
        disk: cfg.2,
        bandwidth: cfg.3,
        ips: vec![ip_for(room, id, 0)],
        ipv6: format!("240e:{room:x}:{:x}::{:x}", id >> 16, id & 0xffff),
        password: password.into(),
        initpwd: password.into(),
        running: true,
        trial,
        dedicated: false,
        created: now,
        expire: term_end(now, months, trial, 7),
        denylogin: false,
        secgroup: None,
        lsw: None,
        cloudshield: false,
        shieldlog: Vec::new(),
        cc: (1, true, 1000, "normal".into()),
        blacklist: vec![(format!("45.{}.{}.9", id % 200, id % 97), now - DAY_MS)],
        oplog: vec![(now, "开通服务器".into())],
        migration: None,
    };
    st.servers.insert(id, s);
    id
}

/// Completes every migration whose time has come, so that listings and single reads
/// agree (migrations finish on the clock, not on a request).
pub(crate) fn finish_migrations(st: &mut State, now: i64) {
    for s in st.servers.values_mut() {
        let Some(mg) = s.migration.as_mut().filter(|m| !m.done) else {
            continue;
        };
        if now - mg.start >= MIGRATE_MS {
            mg.done = true;
            s.room = mg.target;
            s.ips[0] = mg.newip.clone();
            s.running = true;
            s.oplog.push((
                mg.start + MIGRATE_MS,
                format!("迁移完成，新IP {}", mg.newip),
            ));
        }
    }
}

fn srv<'a>(st: &'a mut State, q: &Req) -> Result<&'a mut Server, SimErr> {
    by_id(&mut st.servers, q, "id")
}

/// Books `price` for the server `id` names, then hands it back for the change paid for.
fn pay<'a>(
    st: &'a mut State,
    q: &Req,
    price: Decimal,
    memo: String,
) -> Result<(String, &'a mut Server), SimErr> {
    let orderid = st.charge(q.now_ms(), price, memo)?;
    Ok((orderid, srv(st, q)?))
}

fn migrating(s: &Server) -> bool {
    s.migration.as_ref().is_some_and(|m| !m.done)
}

fn status_of(s: &Server) -> &'static str {
    if migrating(s) {
        "migrating"
    } else if s.running {
        "running"
    } else {
        "stopped"
    }
}

fn summary(s: &Server) -> Value {
    json!({"id":s.id,"name":s.name,"serverroom":s.room,"roomname":room_name(s.room).unwrap_or_default(),"ip":s.ips[0],
        "os":s.os,"cpu":s.cpu,"memory":s.memory,"disk":s.disk,"bandwidth":s.bandwidth,"status":status_of(s),
        "trial":u8::from(s.trial),"regdate":fmt_date(s.created),"expiredate":fmt_date(s.expire)})
}

fn detail(s: &Server) -> Value {
    let mut v = summary(s);
    v["extraips"] = json!(s.ips[1..]);
    v["ipv6"] = json!(s.ipv6);
    v["vcpu"] = json!(vcpu(s.dedicated));
    v["denylogin"] = json!(u8::from(s.denylogin));
    v["secgroup"] = json!(s.secgroup.unwrap_or(0));
    v["lswid"] = json!(s.lsw.as_ref().map_or(0, |l| l.0));
    v["cloudshield"] = json!(u8::from(s.cloudshield));
    v
}

fn log(s: &mut Server, now: i64, what: String) {
    s.oplog.push((now, what));
}

pub(crate) fn handler(name: &str) -> Option<Handler> {
    Some(match name {
        "server.getconfig" => getconfig,
        "server.getos" => getos,
        "server.getconfigprice" => getconfigprice,
        "server.getprice" => getprice,
        "server.buy" => buy,
        "server.list" => list,
        "server.detail" => |st, q| Ok(detail(srv(st, q)?)),
        "server.getip" => getip,
        "server.modifypwd" => modifypwd,
        "server.denylogin" => denylogin,
        "server.checkextraip" => checkextraip,
        "server.extraipprice" => extraipprice,
        "server.addextraip" => addextraip,
        "server.getipv6" => |st, q| {
            let s = srv(st, q)?;
            Ok(json!({"id":s.id,"ipv6":[s.ipv6]}))
        },
        "server.getinitpwd" => getinitpwd,
        "server.getconvertprice" => getconvertprice,
        "server.convert" => convert,
        "server.getrenewprice" => getrenewprice,
        "server.renew" => renew,
        "server.getserverconfig" => getserverconfig,
        "server.getupgradeprice" => getupgradeprice,
        "server.upgrade" => upgrade,
        "server.getmigratestatus" => getmigratestatus,
        "server.getmigrateprice" => getmigrateprice,
        "server.migrate" => migrate,
        "server.getmigrateip" => getmigrateip,
        "server.getmigrateprogress" => getmigrateprogress,
        "server.getvcpuprice" => getvcpuprice,
        "server.switchvcpu" => switchvcpu,
        "server.setstatus" => setstatus,
        "server.getstatus" => getstatus,
        "server.getfilingcode" => getfilingcode,
        "server.getconsole" => getconsole,
        "server.reinstall" => reinstall,
        "server.oplog" => oplog,
        "server.perfdata" => perfdata,
        "server.secgrouplist" => secgrouplist,
        "server.addsecgroup" => addsecgroup,
        "server.delsecgroup" => delsecgroup,
        "server.getsecgrouprules" => getsecgrouprules,
        "server.addsecgrouprule" => addsecgrouprule,
        "server.delsecgrouprule" => delsecgrouprule,
        "server.deploysecgroup" => deploysecgroup,
        "server.cloudshieldstatus" => cloudshieldstatus,
        "server.setcloudshield" => setcloudshield,
        "server.cloudshieldlog" => cloudshieldlog,
        "server.lswlist" => lswlist,
        "server.createlswitch" => createlswitch,
        "server.getlswinfo" => |st, q| Ok(lsw_json(st, lsw(st, q)?)),
        "server.connectlswitch" => connectlswitch,
        "server.disconnectlswitch" => disconnectlswitch,
        "server.getccconfig" => |st, q| Ok(cc_json(srv(st, q)?)),
        "server.getccstatus" => getccstatus,
        "server.getccupgrade" => getccupgrade,
        "server.upgradecc" => upgradecc,
        "server.checkblacklist" => checkblacklist,
        "server.removeblacklist" => removeblacklist,
        "server.cclog" => cclog,
        "server.setcc" => setcc,
        _ => return None,
    })
}

fn getconfig(_: &mut State, _: &Req) -> R {
    Ok(json!({
        "serverrooms":ROOMS.iter().map(|(id, n)| json!({"id":id,"name":n})).collect::<Vec<_>>(),
        "cpu":CPUS,"memory":MEMS,"disk":{"min":0,"max":2000,"step":10},"bandwidth":{"min":1,"max":200,"hkmax":50},
        "month":[1,3,6,12,24,36]}))
}

fn getprice(_: &mut State, q: &Req) -> R {
    let o = order(q)?;
    Ok(json!({"month":o.months,"price":m(o.price)}))
}

fn getip(st: &mut State, q: &Req) -> R {
    let s = srv(st, q)?;
    Ok(json!({"id":s.id,"ip":s.ips[0],"extraips":s.ips[1..]}))
}

fn checkextraip(st: &mut State, q: &Req) -> R {
    let s = srv(st, q)?;
    let count = s.ips.len() - 1;
    Ok(
        json!({"id":s.id,"count":count,"max":MAX_EXTRA_IPS,"canadd":u8::from(count < MAX_EXTRA_IPS)}),
    )
}

fn extraipprice(st: &mut State, q: &Req) -> R {
    let (s, months, price) = extraip_quote(st, q)?;
    Ok(quote(s.id, ("month", json!(months)), price))
}

fn getinitpwd(st: &mut State, q: &Req) -> R {
    let s = srv(st, q)?;
    Ok(json!({"id":s.id,"password":s.initpwd}))
}

fn getconvertprice(st: &mut State, q: &Req) -> R {
    let (s, months, price) = convert_quote(st, q)?;
    Ok(quote(s.id, ("month", json!(months)), price))
}

fn getrenewprice(st: &mut State, q: &Req) -> R {
    let (s, year, price) = renew_quote(st, q)?;
    Ok(quote(s.id, ("year", json!(year)), price))
}

fn getserverconfig(st: &mut State, q: &Req) -> R {
    let s = srv(st, q)?;
    Ok(
        json!({"id":s.id,"serverroom":s.room,"cpu":s.cpu,"memory":s.memory,"disk":s.disk,"bandwidth":s.bandwidth,"vcpu":vcpu(s.dedicated),"monthprice":m(srv_monthly(s))}),
    )
}

fn getupgradeprice(st: &mut State, q: &Req) -> R {
    let (s, up) = upgrade_quote(st, q)?;
    Ok(quote(s.id, ("month", json!(up.months)), up.price))
}

fn getmigrateprice(st: &mut State, q: &Req) -> R {
    let (s, target, price) = migrate_quote(st, q)?;
    Ok(quote(s.id, ("target", json!(target)), price))
}

fn getmigrateip(st: &mut State, q: &Req) -> R {
    let s = srv(st, q)?;
    let mg = migration(s)?;
    Ok(json!({"id":s.id,"oldip":mg.oldip,"newip":mg.newip}))
}

fn getvcpuprice(st: &mut State, q: &Req) -> R {
    let (s, price) = vcpu_quote(st, q)?;
    Ok(json!({"id":s.id,"current":vcpu(s.dedicated),"target":vcpu(!s.dedicated),"price":m(price)}))
}

fn getstatus(st: &mut State, q: &Req) -> R {
    let s = srv(st, q)?;
    Ok(json!({"id":s.id,"status":status_of(s),"expired":u8::from(s.expire < q.now_ms())}))
}

fn getfilingcode(st: &mut State, q: &Req) -> R {
    let s = srv(st, q)?;
    Ok(
        json!({"id":s.id,"ip":s.ips[0],"code":format!("WS{:010}", (s.id * 7919 + 12345) % 10_000_000_000)}),
    )
}

fn cloudshieldstatus(st: &mut State, q: &Req) -> R {
    let s = srv(st, q)?;
    Ok(json!({"id":s.id,"status":u8::from(s.cloudshield)}))
}

fn cloudshieldlog(st: &mut State, q: &Req) -> R {
    let s = srv(st, q)?;
    Ok(timeline(
        s.id,
        s.shieldlog.iter().rev().map(|(t, w)| (*t, w.as_str())),
    ))
}

fn lswlist(st: &mut State, _: &Req) -> R {
    let items: Vec<Value> = st.lsws.values().map(|l| lsw_json(st, l)).collect();
    Ok(json!({"total":items.len(),"items":items}))
}

fn getccstatus(st: &mut State, q: &Req) -> R {
    let s = srv(st, q)?;
    Ok(
        json!({"id":s.id,"enable":u8::from(s.cc.1),"level":s.cc.0,"attacking":0,"blacklist":s.blacklist.len()}),
    )
}

fn cclog(st: &mut State, q: &Req) -> R {
    let s = srv(st, q)?;
    let items: Vec<Value> = s
        .blacklist
        .iter()
        .map(|(ip, t)| json!({"time":fmt_time(*t),"ip":ip,"action":"blacklist"}))
        .collect();
    Ok(json!({"id":s.id,"total":items.len(),"items":items}))
}

fn vcpu(dedicated: bool) -> &'static str {
    if dedicated {
        "dedicated"
    } else {
        "shared"
    }
}

fn room(q: &Req, k: &str, missing: &str) -> Result<i64, SimErr> {
    let r = q.int(k)?;
    room_name(r).ok_or_else(|| SimErr::invalid(k, missing))?;
    Ok(r)
}

fn getos(_: &mut State, q: &Req) -> R {
    let room = room(q, "serverroom", "机房不存在")?;
    let items: Vec<Value> = os_list(room)
        .into_iter()
        .map(|o| json!({"os":o,"name":o,"type":if o.starts_with("win") {"windows"} else {"linux"}}))
        .collect();
    Ok(json!({"serverroom":room,"items":items}))
}

fn getconfigprice(_: &mut State, q: &Req) -> R {
    let rooms: Vec<i64> = match q.opt_int("serverroom")? {
        Some(r) => vec![r],
        None => ROOMS.iter().map(|r| r.0).collect(),
    };
    let mut items = Vec::new();
    for r in rooms {
        room_name(r).ok_or_else(|| SimErr::invalid("serverroom", "机房不存在"))?;
        let f = |c, me, d, b| m(monthly(r, c, me, d, b, false));
        items.push(json!({"serverroom":r,"cpu":f(1,0,0,0),"dedicatedcpu":m(monthly(r,1,0,0,0,true)),"memory":f(0,1,0,0),"disk":f(0,0,1,0),"bandwidth":f(0,0,0,1),"extraip":"20.00","unit":"month"}));
    }
    Ok(json!({"items":items}))
}

/// A configuration to buy, checked, and what it costs.
struct Order {
    room: i64,
    cfg: (i64, i64, i64, i64),
    months: i64,
    trial: bool,
    price: Decimal,
}

fn order(q: &Req) -> Result<Order, SimErr> {
    let (room, cpu, mem, disk, bw) = (
        q.int("serverroom")?,
        q.int("cpu")?,
        q.int("memory")?,
        q.int("disk")?,
        q.int("bandwidth")?,
    );
    check_config(room, cpu, mem, disk, bw)?;
    let months = q.period("month", 36)?;
    let trial = q.arg("trial") == Some("1");
    let price = if trial {
        Decimal::ZERO
    } else {
        monthly(room, cpu, mem, disk, bw, false) * Decimal::from(months)
    };
    Ok(Order {
        room,
        cfg: (cpu, mem, disk, bw),
        months,
        trial,
        price,
    })
}

fn buy(st: &mut State, q: &Req) -> R {
    let now = q.now_ms();
    let o = order(q)?;
    let os = q.need("os")?;
    if !os_list(o.room).contains(&os) {
        return Err(SimErr::invalid("os", "该机房不提供此系统"));
    }
    let pw = q.password()?;
    if o.trial && st.servers.values().any(|s| s.trial) {
        return Err(SimErr::refused("trial", "每个账户只能同时试用一台"));
    }
    let name = q.arg("name").unwrap_or_default();
    // The record names the server as the buyer named it, so a charge can be told apart.
    let orderid = st.charge(
        now,
        o.price,
        format!(
            "购买云服务器 {name} {}核{}G {}个月",
            o.cfg.0, o.cfg.1, o.months
        ),
    )?;
    let id = new_server(st, o.room, os, o.cfg, &pw, name, now, o.months, o.trial);
    let s = &st.servers[&id];
    Ok(
        json!({"id":id,"orderid":orderid,"amount":m(o.price),"ip":s.ips[0],"expiredate":fmt_date(s.expire)}),
    )
}

fn list(st: &mut State, q: &Req) -> R {
    let room = q.opt_int("serverroom")?;
    let all: Vec<&Server> = st
        .servers
        .values()
        .filter(|s| room.is_none_or(|r| s.room == r))
        .collect();
    if all.is_empty() {
        return Err(SimErr::empty());
    }
    Ok(page(&all, q.paging()?, |s| summary(s)))
}

fn modifypwd(st: &mut State, q: &Req) -> R {
    let pw = q.password()?;
    let s = srv(st, q)?;
    s.password = pw;
    log(s, q.now_ms(), "修改密码".into());
    Ok(json!({"id":s.id}))
}

fn denylogin(st: &mut State, q: &Req) -> R {
    let deny = q.need("deny")? == "1";
    let s = srv(st, q)?;
    s.denylogin = deny;
    log(
        s,
        q.now_ms(),
        format!("{}面板登录", if deny { "禁止" } else { "允许" }),
    );
    Ok(json!({"id":s.id,"deny":u8::from(deny)}))
}

fn extraip_quote<'a>(st: &'a mut State, q: &Req) -> Result<(&'a mut Server, i64, Decimal), SimErr> {
    let s = srv(st, q)?;
    let months = months_left(q.now_ms(), s.expire);
    Ok((s, months, dec(20, 0) * Decimal::from(months)))
}

fn addextraip(st: &mut State, q: &Req) -> R {
    let now = q.now_ms();
    let (s, _, price) = extraip_quote(st, q)?;
    if s.ips.len() > MAX_EXTRA_IPS {
        return Err(SimErr::refused("id", "附加IP已达上限"));
    }
    let id = s.id;
    let (orderid, s) = pay(st, q, price, format!("服务器{id}增加IP"))?;
    let ip = ip_for(s.room, id, s.ips.len() as u64);
    s.ips.push(ip.clone());
    log(s, now, format!("增加IP {ip}"));
    Ok(json!({"id":id,"orderid":orderid,"amount":m(price),"ip":ip}))
}

fn convert_quote<'a>(st: &'a mut State, q: &Req) -> Result<(&'a mut Server, i64, Decimal), SimErr> {
    let months = q.period("month", 36)?;
    let s = srv(st, q)?;
    if !s.trial {
        return Err(SimErr::refused("id", "该服务器不是试用机"));
    }
    let price = srv_monthly(s) * Decimal::from(months);
    Ok((s, months, price))
}

fn convert(st: &mut State, q: &Req) -> R {
    let now = q.now_ms();
    let (s, months, price) = convert_quote(st, q)?;
    let id = s.id;
    let (orderid, s) = pay(st, q, price, format!("服务器{id}试用转正 {months}个月"))?;
    s.trial = false;
    s.expire = add_months(now, months);
    log(s, now, "试用转正".into());
    Ok(json!({"id":id,"orderid":orderid,"amount":m(price),"expiredate":fmt_date(s.expire)}))
}

fn renew_quote<'a>(st: &'a mut State, q: &Req) -> Result<(&'a mut Server, i64, Decimal), SimErr> {
    let year = q.period("year", 5)?;
    let s = srv(st, q)?;
    if s.trial {
        return Err(SimErr::refused("id", "试用服务器请先转正"));
    }
    let price = srv_monthly(s) * Decimal::from(12 * year);
    Ok((s, year, price))
}

fn renew(st: &mut State, q: &Req) -> R {
    let now = q.now_ms();
    let (s, year, price) = renew_quote(st, q)?;
    let id = s.id;
    let (orderid, s) = pay(st, q, price, format!("续费服务器{id} {year}年"))?;
    s.expire = add_months(s.expire.max(now), 12 * year);
    log(s, now, format!("续费{year}年"));
    Ok(json!({"id":id,"orderid":orderid,"amount":m(price),"expiredate":fmt_date(s.expire)}))
}

/// A new configuration (omitted parts unchanged) and what the rest of the term costs.
struct Upgrade {
    cfg: (i64, i64, i64, i64),
    months: i64,
    price: Decimal,
}

fn upgrade_quote<'a>(st: &'a mut State, q: &Req) -> Result<(&'a mut Server, Upgrade), SimErr> {
    let (c, me, d, b) = (
        q.opt_int("cpu")?,
        q.opt_int("memory")?,
        q.opt_int("disk")?,
        q.opt_int("bandwidth")?,
    );
    let s = srv(st, q)?;
    let cfg = (
        c.unwrap_or(s.cpu),
        me.unwrap_or(s.memory),
        d.unwrap_or(s.disk),
        b.unwrap_or(s.bandwidth),
    );
    check_config(s.room, cfg.0, cfg.1, cfg.2, cfg.3)?;
    if cfg.2 < s.disk {
        return Err(SimErr::invalid("disk", "数据盘不支持缩小"));
    }
    if migrating(s) {
        return Err(SimErr::refused("id", "迁移中不能升级"));
    }
    let months = months_left(q.now_ms(), s.expire);
    let diff = monthly(s.room, cfg.0, cfg.1, cfg.2, cfg.3, s.dedicated) - srv_monthly(s);
    let price = (diff * Decimal::from(months)).max(Decimal::ZERO);
    Ok((s, Upgrade { cfg, months, price }))
}

fn upgrade(st: &mut State, q: &Req) -> R {
    let now = q.now_ms();
    let (s, up) = upgrade_quote(st, q)?;
    let (id, new) = (s.id, up.cfg);
    let (orderid, s) = pay(st, q, up.price, format!("升级服务器{id}"))?;
    (s.cpu, s.memory, s.disk, s.bandwidth) = new;
    log(
        s,
        now,
        format!("升级配置为{}核{}G {}G {}M", new.0, new.1, new.2, new.3),
    );
    Ok(
        json!({"id":id,"orderid":orderid,"amount":m(up.price),"cpu":new.0,"memory":new.1,"disk":new.2,"bandwidth":new.3}),
    )
}

fn getmigratestatus(st: &mut State, q: &Req) -> R {
    let s = srv(st, q)?;
    let targets: Vec<Value> = ROOMS
        .iter()
        .filter(|r| r.0 != s.room)
        .map(|(id, n)| json!({"id":id,"name":n}))
        .collect();
    Ok(
        json!({"id":s.id,"serverroom":s.room,"canmigrate":u8::from(!migrating(s)),"status":status_of(s),"targets":targets}),
    )
}

fn migrate_quote<'a>(st: &'a mut State, q: &Req) -> Result<(&'a mut Server, i64, Decimal), SimErr> {
    let target = room(q, "target", "目标机房不存在")?;
    let s = srv(st, q)?;
    if target == s.room {
        return Err(SimErr::invalid("target", "目标机房与当前机房相同"));
    }
    if !os_list(target).contains(&s.os.as_str()) {
        return Err(SimErr::refused("target", "目标机房不支持当前系统"));
    }
    let price = if is_hk(target) != is_hk(s.room) {
        dec(100, 0)
    } else {
        dec(50, 0)
    };
    Ok((s, target, price))
}

fn migrate(st: &mut State, q: &Req) -> R {
    let now = q.now_ms();
    let (s, target, price) = migrate_quote(st, q)?;
    if migrating(s) {
        return Err(SimErr::refused("id", "已有迁移任务在进行"));
    }
    let id = s.id;
    let n = s.ips.len() as u64 + 11;
    let to = room_name(target).unwrap_or_default();
    let (orderid, s) = pay(st, q, price, format!("迁移服务器{id}到{to}"))?;
    let newip = ip_for(target, id, n);
    s.migration = Some(Migration {
        target,
        start: now,
        oldip: s.ips[0].clone(),
        newip: newip.clone(),
        done: false,
    });
    s.running = false;
    log(s, now, format!("开始迁移到{to}"));
    Ok(json!({"id":id,"orderid":orderid,"amount":m(price),"target":target}))
}

fn migration(s: &Server) -> Result<&Migration, SimErr> {
    s.migration
        .as_ref()
        .ok_or_else(|| SimErr::refused("id", "没有迁移记录"))
}

fn getmigrateprogress(st: &mut State, q: &Req) -> R {
    let s = srv(st, q)?;
    let mg = migration(s)?;
    let pct = ((q.now_ms() - mg.start) * 100 / MIGRATE_MS).clamp(0, 100);
    Ok(
        json!({"id":s.id,"progress":pct,"status":if mg.done {"done"} else {"migrating"},"target":mg.target}),
    )
}

fn vcpu_quote<'a>(st: &'a mut State, q: &Req) -> Result<(&'a mut Server, Decimal), SimErr> {
    let s = srv(st, q)?;
    let months = months_left(q.now_ms(), s.expire);
    let diff = monthly(s.room, s.cpu, 0, 0, 0, !s.dedicated)
        - monthly(s.room, s.cpu, 0, 0, 0, s.dedicated);
    Ok((s, (diff * Decimal::from(months)).max(Decimal::ZERO)))
}

fn switchvcpu(st: &mut State, q: &Req) -> R {
    let now = q.now_ms();
    let (s, price) = vcpu_quote(st, q)?;
    let (id, target) = (s.id, vcpu(!s.dedicated));
    let (orderid, s) = pay(st, q, price, format!("服务器{id}切换vCPU为{target}"))?;
    s.dedicated = !s.dedicated;
    log(s, now, format!("切换vCPU为{target}"));
    Ok(json!({"id":id,"orderid":orderid,"amount":m(price),"vcpu":target}))
}

fn setstatus(st: &mut State, q: &Req) -> R {
    let want = q.need("status")?.to_string();
    let s = srv(st, q)?;
    if migrating(s) {
        return Err(SimErr::refused("id", "迁移中不能操作"));
    }
    match (want.as_str(), s.running) {
        ("start", true) => return Err(SimErr::refused("status", "服务器已在运行")),
        ("stop" | "restart", false) => return Err(SimErr::refused("status", "服务器已关机")),
        _ => {}
    }
    s.running = want != "stop";
    log(s, q.now_ms(), format!("电源操作 {want}"));
    Ok(json!({"id":s.id,"status":status_of(s)}))
}

fn getconsole(st: &mut State, q: &Req) -> R {
    let id = srv(st, q)?.id;
    Ok(signed_url("https://vnc.west.cn/console", id, q.now_ms(), 5))
}

fn reinstall(st: &mut State, q: &Req) -> R {
    let os = q.need("os")?.to_string();
    let pw = q.arg("password").map(|_| q.password()).transpose()?;
    let s = srv(st, q)?;
    if !os_list(s.room).contains(&os.as_str()) {
        return Err(SimErr::invalid("os", "该机房不提供此系统"));
    }
    if migrating(s) {
        return Err(SimErr::refused("id", "迁移中不能重装"));
    }
    s.os = os.clone();
    if let Some(p) = pw {
        s.password = p.clone();
        s.initpwd = p;
    }
    s.running = true;
    log(s, q.now_ms(), format!("重装系统 {os}"));
    Ok(json!({"id":s.id,"os":os}))
}

fn oplog(st: &mut State, q: &Req) -> R {
    let paging = q.paging()?;
    let s = srv(st, q)?;
    let all: Vec<&(i64, String)> = s.oplog.iter().rev().collect();
    Ok(page(
        &all,
        paging,
        |(t, w)| json!({"time":fmt_time(*t),"content":w}),
    ))
}

fn perfdata(st: &mut State, q: &Req) -> R {
    let now = q.now_ms();
    let s = srv(st, q)?;
    // Believable, reproducible samples: a function of id and time, zero when off.
    let on = i64::from(s.running);
    let items: Vec<Value> = (0..12).map(|i| {
        let t = now - (11 - i) * 300_000;
        let k = (s.id as i64 * 31 + t / 300_000) % 97;
        json!({"time":fmt_time(t),"cpu":on * (5 + k % 40),"memory":on * (30 + k % 50),"netin":on * k * 13,"netout":on * k * 29})
    }).collect();
    Ok(json!({"id":s.id,"interval":300,"items":items}))
}

fn secgrouplist(st: &mut State, _: &Req) -> R {
    let used = |g: u64| {
        st.servers
            .values()
            .filter(|s| s.secgroup == Some(g))
            .count()
    };
    let items: Vec<Value> = st.secgroups.values().map(|g| json!({"groupid":g.id,"name":g.name,"remark":g.remark,"rules":g.rules.len(),"servers":used(g.id)})).collect();
    Ok(json!({"total":items.len(),"items":items}))
}

fn addsecgroup(st: &mut State, q: &Req) -> R {
    let name = q.need("name")?.to_string();
    if st.secgroups.values().any(|g| g.name == name) {
        return Err(SimErr::refused("name", "安全组名称已存在"));
    }
    let id = st.next_id();
    st.secgroups.insert(
        id,
        SecGroup {
            id,
            name,
            remark: q.arg("remark").unwrap_or_default().into(),
            rules: Vec::new(),
        },
    );
    Ok(json!({"groupid":id}))
}

fn secgroup<'a>(st: &'a mut State, q: &Req) -> Result<&'a mut SecGroup, SimErr> {
    by_id(&mut st.secgroups, q, "groupid")
}

fn delsecgroup(st: &mut State, q: &Req) -> R {
    let id = secgroup(st, q)?.id;
    if st.servers.values().any(|s| s.secgroup == Some(id)) {
        return Err(SimErr::refused("groupid", "安全组正在被服务器使用"));
    }
    st.secgroups.remove(&id);
    Ok(json!({"groupid":id}))
}

fn getsecgrouprules(st: &mut State, q: &Req) -> R {
    let g = secgroup(st, q)?;
    let items: Vec<Value> = g.rules.iter().map(|r| json!({"ruleid":r.id,"direction":r.direction,"protocol":r.protocol,"port":r.port,"source":r.source,"policy":r.policy,"priority":r.priority,"remark":r.remark})).collect();
    Ok(json!({"groupid":g.id,"total":items.len(),"items":items}))
}

fn addsecgrouprule(st: &mut State, q: &Req) -> R {
    let gid = q.id("groupid")?;
    let rule = parse_rule(q)?;
    let rid = st.next_id();
    let g = secgroup(st, q)?;
    if g.rules.iter().any(|r| {
        r.direction == rule.direction
            && r.protocol == rule.protocol
            && r.port == rule.port
            && r.source == rule.source
    }) {
        return Err(SimErr::new(code::DUPLICATE, "相同的规则已存在"));
    }
    g.rules.push(Rule { id: rid, ..rule });
    Ok(json!({"groupid":gid,"ruleid":rid}))
}

fn delsecgrouprule(st: &mut State, q: &Req) -> R {
    let rid = q.id("ruleid")?;
    let g = secgroup(st, q)?;
    remove_where(&mut g.rules, |r| r.id == rid, SimErr::bad_id("ruleid"))?;
    Ok(json!({"groupid":g.id,"ruleid":rid}))
}

fn deploysecgroup(st: &mut State, q: &Req) -> R {
    let gid = secgroup(st, q)?.id;
    let s = srv(st, q)?;
    s.secgroup = Some(gid);
    log(s, q.now_ms(), format!("应用安全组{gid}"));
    Ok(json!({"id":s.id,"groupid":gid}))
}

fn setcloudshield(st: &mut State, q: &Req) -> R {
    let on = q.need("status")? == "1";
    let s = srv(st, q)?;
    if s.cloudshield == on {
        return Err(SimErr::refused("status", "云盾已是该状态"));
    }
    s.cloudshield = on;
    s.shieldlog.push((
        q.now_ms(),
        if on {
            "开启云盾".into()
        } else {
            "关闭云盾".into()
        },
    ));
    Ok(json!({"id":s.id,"status":u8::from(on)}))
}

/// A server's log lines, newest first, as `{id,total,items:[{time,content}]}`.
fn timeline<'a>(id: u64, lines: impl Iterator<Item = (i64, &'a str)>) -> Value {
    let items: Vec<Value> = lines
        .map(|(t, w)| json!({"time":fmt_time(t),"content":w}))
        .collect();
    json!({"id":id,"total":items.len(),"items":items})
}

fn createlswitch(st: &mut State, q: &Req) -> R {
    let room = room(q, "serverroom", "机房不存在")?;
    let id = st.next_id();
    let subnet = (st.lsws.len() % 250) as u8 + 1;
    st.lsws.insert(
        id,
        Lsw {
            id,
            name: q.need("name")?.into(),
            room,
            subnet,
        },
    );
    Ok(json!({"lswid":id,"subnet":format!("10.{subnet}.0.0/24")}))
}

fn lsw<'a>(st: &'a State, q: &Req) -> Result<&'a Lsw, SimErr> {
    st.lsws
        .get(&q.id("lswid")?)
        .ok_or_else(|| SimErr::bad_id("lswid"))
}

fn connectlswitch(st: &mut State, q: &Req) -> R {
    let l = lsw(st, q)?.clone();
    let used = st
        .servers
        .values()
        .filter(|s| s.lsw.as_ref().is_some_and(|x| x.0 == l.id))
        .count();
    let s = srv(st, q)?;
    if s.room != l.room {
        return Err(SimErr::refused("lswid", "交换机与服务器不在同一机房"));
    }
    if s.lsw.is_some() {
        return Err(SimErr::refused("id", "服务器已连接交换机"));
    }
    let ip = format!("10.{}.0.{}", l.subnet, used + 10);
    s.lsw = Some((l.id, ip.clone()));
    log(s, q.now_ms(), format!("连接交换机{}", l.id));
    Ok(json!({"id":s.id,"lswid":l.id,"privateip":ip}))
}

fn disconnectlswitch(st: &mut State, q: &Req) -> R {
    let s = srv(st, q)?;
    let (lid, _) = s
        .lsw
        .take()
        .ok_or_else(|| SimErr::refused("id", "服务器未连接交换机"))?;
    log(s, q.now_ms(), format!("断开交换机{lid}"));
    Ok(json!({"id":s.id,"lswid":lid}))
}

fn cc_json(s: &Server) -> Value {
    json!({"id":s.id,"level":s.cc.0,"enable":u8::from(s.cc.1),"qps":s.cc.2,"mode":s.cc.3})
}

/// The CC protection level a server has (its qps cap and monthly price).
fn cc_level(s: &Server) -> Option<&'static (i64, &'static str, i64, i64)> {
    CC_LEVELS.iter().find(|l| l.0 == s.cc.0)
}

fn getccupgrade(st: &mut State, q: &Req) -> R {
    let s = srv(st, q)?;
    let months = months_left(q.now_ms(), s.expire);
    let cur = cc_level(s).map_or(0, |l| l.3);
    let items: Vec<Value> = CC_LEVELS.iter().filter(|l| l.0 > s.cc.0).map(|l| json!({"level":l.0,"name":l.1,"qps":l.2,"price":m(Decimal::from((l.3 - cur) * months))})).collect();
    Ok(json!({"id":s.id,"level":s.cc.0,"items":items}))
}

fn upgradecc(st: &mut State, q: &Req) -> R {
    let now = q.now_ms();
    let level = q.int("level")?;
    let s = srv(st, q)?;
    let new = CC_LEVELS
        .iter()
        .find(|l| l.0 == level)
        .ok_or_else(|| SimErr::invalid("level", "防护等级不存在"))?;
    if level <= s.cc.0 {
        return Err(SimErr::invalid("level", "只能升级到更高等级"));
    }
    let cur = cc_level(s).map_or(0, |l| l.3);
    let price = Decimal::from((new.3 - cur) * months_left(now, s.expire));
    let id = s.id;
    let (orderid, s) = pay(st, q, price, format!("服务器{id}升级CC防护到{}", new.1))?;
    s.cc.0 = level;
    s.cc.2 = new.2;
    log(s, now, format!("升级CC防护 {}", new.1));
    Ok(json!({"id":id,"orderid":orderid,"amount":m(price),"level":level}))
}

fn checkblacklist(st: &mut State, q: &Req) -> R {
    let ip = q.need("ip")?.to_string();
    let s = srv(st, q)?;
    let hit = s.blacklist.iter().find(|b| b.0 == ip);
    Ok(
        json!({"id":s.id,"ip":ip,"blacklisted":u8::from(hit.is_some()),"time":hit.map(|b| fmt_time(b.1)).unwrap_or_default()}),
    )
}

fn removeblacklist(st: &mut State, q: &Req) -> R {
    let ip = q.need("ip")?.to_string();
    let s = srv(st, q)?;
    remove_where(
        &mut s.blacklist,
        |b| b.0 == ip,
        SimErr::refused("ip", "该IP不在黑名单中"),
    )?;
    log(s, q.now_ms(), format!("移出黑名单 {ip}"));
    Ok(json!({"id":s.id,"ip":ip}))
}

fn setcc(st: &mut State, q: &Req) -> R {
    let (en, qps, mode) = (
        q.arg("enable").map(|e| e == "1"),
        q.opt_int("qps")?,
        q.arg("mode").map(str::to_string),
    );
    let s = srv(st, q)?;
    let max = cc_level(s).map_or(1000, |l| l.2);
    if let Some(v) = qps {
        if !(10..=max).contains(&v) {
            return Err(SimErr::invalid("qps", &format!("qps需在10到{max}之间")));
        }
        s.cc.2 = v;
    }
    if let Some(e) = en {
        s.cc.1 = e;
    }
    if let Some(md) = mode {
        s.cc.3 = md;
    }
    log(s, q.now_ms(), "修改CC防护设置".into());
    Ok(cc_json(s))
}

fn lsw_json(st: &State, l: &Lsw) -> Value {
    let servers: Vec<u64> = st
        .servers
        .values()
        .filter(|s| s.lsw.as_ref().is_some_and(|x| x.0 == l.id))
        .map(|s| s.id)
        .collect();
    json!({"lswid":l.id,"name":l.name,"serverroom":l.room,"subnet":format!("10.{}.0.0/24", l.subnet),"servers":servers})
}

fn parse_rule(q: &Req) -> Result<Rule, SimErr> {
    let protocol = q.need("protocol")?.to_string();
    let port = if protocol == "icmp" || protocol == "all" {
        "all".to_string()
    } else {
        q.arg("port").unwrap_or_default().to_string()
    };
    if port != "all" {
        let (a, b) = port.split_once('-').unwrap_or((&port, &port));
        match (a.parse::<u16>(), b.parse::<u16>()) {
            (Ok(a), Ok(b)) if a >= 1 && a <= b => {}
            _ => return Err(SimErr::invalid("port", "端口格式错误，如 80 或 8000-8080")),
        }
    }
    let source = q.arg("source").unwrap_or_default().to_string();
    let (ip, len) = source.split_once('/').unwrap_or((&source, "32"));
    if ip.parse::<std::net::Ipv4Addr>().is_err() || len.parse::<u8>().map_or(true, |l| l > 32) {
        return Err(SimErr::invalid("source", "来源必须是IPv4或CIDR"));
    }
    let priority = q.int("priority")?;
    if !(1..=100).contains(&priority) {
        return Err(SimErr::invalid("priority", "优先级需在1到100之间"));
    }
    Ok(Rule {
        id: 0,
        direction: q.need("direction")?.into(),
        protocol,
        port,
        source,
        policy: q.arg("policy").unwrap_or_default().into(),
        priority,
        remark: q.arg("remark").unwrap_or_default().into(),
    })
}
