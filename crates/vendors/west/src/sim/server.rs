//! Cloud servers: configs and OS per server room, purchase, lifecycle, renewal,
//! upgrades, vCPU mode, migration with progress, security groups, virtual switches,
//! cloud shield, CC protection and blacklist, extra IPs, logs and performance data.

use super::{
    add_months, dec, fmt_date, fmt_time, m, months_left, page, term_end, Req, SimErr, State,
    DAY_MS, R,
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
fn finish_migrations(st: &mut State, now: i64) {
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
    st.servers
        .get_mut(&q.id("id")?)
        .ok_or_else(|| SimErr::bad_id("id"))
}

/// Books `price` for server `id`, then hands the server back for the change paid for.
fn pay(
    st: &mut State,
    id: u64,
    now: i64,
    price: Decimal,
    memo: String,
) -> Result<(String, &mut Server), SimErr> {
    let orderid = st.charge(now, price, memo)?;
    let s = st
        .servers
        .get_mut(&id)
        .ok_or_else(|| SimErr::bad_id("id"))?;
    Ok((orderid, s))
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
    v["vcpu"] = json!(if s.dedicated { "dedicated" } else { "shared" });
    v["denylogin"] = json!(u8::from(s.denylogin));
    v["secgroup"] = json!(s.secgroup.unwrap_or(0));
    v["lswid"] = json!(s.lsw.as_ref().map_or(0, |l| l.0));
    v["cloudshield"] = json!(u8::from(s.cloudshield));
    v
}

fn log(s: &mut Server, now: i64, what: String) {
    s.oplog.push((now, what));
}

pub(crate) fn handle(st: &mut State, act: &str, q: &Req) -> R {
    let now = q.now;
    finish_migrations(st, now);
    match act {
        "getconfig" => Ok(json!({
            "serverrooms":ROOMS.iter().map(|(id, n)| json!({"id":id,"name":n})).collect::<Vec<_>>(),
            "cpu":CPUS,"memory":MEMS,"disk":{"min":0,"max":2000,"step":10},"bandwidth":{"min":1,"max":200,"hkmax":50},
            "month":[1,3,6,12,24,36]})),
        "getos" => {
            let room = q.int("serverroom")?;
            room_name(room).ok_or_else(|| SimErr::invalid("serverroom", "机房不存在"))?;
            let items: Vec<Value> = os_list(room).into_iter().map(|o| json!({"os":o,"name":o,"type":if o.starts_with("win") {"windows"} else {"linux"}})).collect();
            Ok(json!({"serverroom":room,"items":items}))
        }
        "getconfigprice" => {
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
        "getprice" | "buy" => {
            let (room, cpu, mem, disk, bw) = (
                q.int("serverroom")?,
                q.int("cpu")?,
                q.int("memory")?,
                q.int("disk")?,
                q.int("bandwidth")?,
            );
            check_config(room, cpu, mem, disk, bw)?;
            let months = q.period("month", 36)?;
            let trial = q.get("trial") == Some("1");
            let price = if trial {
                Decimal::ZERO
            } else {
                monthly(room, cpu, mem, disk, bw, false) * Decimal::from(months)
            };
            if act == "getprice" {
                return Ok(json!({"month":months,"price":m(price)}));
            }
            let os = q.req("os")?;
            if !os_list(room).contains(&os) {
                return Err(SimErr::invalid("os", "该机房不提供此系统"));
            }
            let pw = q.password()?;
            if trial && st.servers.values().any(|s| s.trial) {
                return Err(SimErr::refused("trial", "每个账户只能同时试用一台"));
            }
            let orderid = st.charge(
                now,
                price,
                format!("购买云服务器 {}核{}G {}个月", cpu, mem, months),
            )?;
            let id = new_server(
                st,
                room,
                os,
                (cpu, mem, disk, bw),
                &pw,
                q.get("name").unwrap_or_default(),
                now,
                months,
                trial,
            );
            let s = &st.servers[&id];
            Ok(
                json!({"id":id,"orderid":orderid,"amount":m(price),"ip":s.ips[0],"expiredate":fmt_date(s.expire)}),
            )
        }
        "list" => {
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
        "detail" => Ok(detail(srv(st, q)?)),
        "getip" => {
            let s = srv(st, q)?;
            Ok(json!({"id":s.id,"ip":s.ips[0],"extraips":s.ips[1..]}))
        }
        "modifypwd" => {
            let pw = q.password()?;
            let s = srv(st, q)?;
            s.password = pw;
            log(s, now, "修改密码".into());
            Ok(json!({"id":s.id}))
        }
        "denylogin" => {
            let deny = q.req("deny")? == "1";
            let s = srv(st, q)?;
            s.denylogin = deny;
            log(
                s,
                now,
                format!("{}面板登录", if deny { "禁止" } else { "允许" }),
            );
            Ok(json!({"id":s.id,"deny":u8::from(deny)}))
        }
        "checkextraip" => {
            let s = srv(st, q)?;
            let count = s.ips.len() - 1;
            Ok(
                json!({"id":s.id,"count":count,"max":MAX_EXTRA_IPS,"canadd":u8::from(count < MAX_EXTRA_IPS)}),
            )
        }
        "extraipprice" | "addextraip" => {
            let s = srv(st, q)?;
            let months = months_left(now, s.expire);
            let price = dec(20, 0) * Decimal::from(months);
            if act == "extraipprice" {
                return Ok(json!({"id":s.id,"month":months,"price":m(price)}));
            }
            if s.ips.len() > MAX_EXTRA_IPS {
                return Err(SimErr::refused("id", "附加IP已达上限"));
            }
            let id = s.id;
            let (orderid, s) = pay(st, id, now, price, format!("服务器{id}增加IP"))?;
            let ip = ip_for(s.room, id, s.ips.len() as u64);
            s.ips.push(ip.clone());
            log(s, now, format!("增加IP {ip}"));
            Ok(json!({"id":id,"orderid":orderid,"amount":m(price),"ip":ip}))
        }
        "getipv6" => {
            let s = srv(st, q)?;
            Ok(json!({"id":s.id,"ipv6":[s.ipv6]}))
        }
        "getinitpwd" => {
            let s = srv(st, q)?;
            Ok(json!({"id":s.id,"password":s.initpwd}))
        }
        "getconvertprice" | "convert" => {
            let months = q.period("month", 36)?;
            let s = srv(st, q)?;
            if !s.trial {
                return Err(SimErr::refused("id", "该服务器不是试用机"));
            }
            let price = srv_monthly(s) * Decimal::from(months);
            if act == "getconvertprice" {
                return Ok(json!({"id":s.id,"month":months,"price":m(price)}));
            }
            let id = s.id;
            let (orderid, s) = pay(
                st,
                id,
                now,
                price,
                format!("服务器{id}试用转正 {months}个月"),
            )?;
            s.trial = false;
            s.expire = add_months(now, months);
            log(s, now, "试用转正".into());
            Ok(json!({"id":id,"orderid":orderid,"amount":m(price),"expiredate":fmt_date(s.expire)}))
        }
        "getrenewprice" | "renew" => {
            let year = q.period("year", 5)?;
            let s = srv(st, q)?;
            if s.trial {
                return Err(SimErr::refused("id", "试用服务器请先转正"));
            }
            let price = srv_monthly(s) * Decimal::from(12 * year);
            if act == "getrenewprice" {
                return Ok(json!({"id":s.id,"year":year,"price":m(price)}));
            }
            let id = s.id;
            let (orderid, s) = pay(st, id, now, price, format!("续费服务器{id} {year}年"))?;
            s.expire = add_months(s.expire.max(now), 12 * year);
            log(s, now, format!("续费{year}年"));
            Ok(json!({"id":id,"orderid":orderid,"amount":m(price),"expiredate":fmt_date(s.expire)}))
        }
        "getserverconfig" => {
            let s = srv(st, q)?;
            Ok(
                json!({"id":s.id,"serverroom":s.room,"cpu":s.cpu,"memory":s.memory,"disk":s.disk,"bandwidth":s.bandwidth,"vcpu":if s.dedicated {"dedicated"} else {"shared"},"monthprice":m(srv_monthly(s))}),
            )
        }
        "getupgradeprice" | "upgrade" => {
            let (c, me, d, b) = (
                q.opt_int("cpu")?,
                q.opt_int("memory")?,
                q.opt_int("disk")?,
                q.opt_int("bandwidth")?,
            );
            let s = srv(st, q)?;
            let new = (
                c.unwrap_or(s.cpu),
                me.unwrap_or(s.memory),
                d.unwrap_or(s.disk),
                b.unwrap_or(s.bandwidth),
            );
            check_config(s.room, new.0, new.1, new.2, new.3)?;
            if new.2 < s.disk {
                return Err(SimErr::invalid("disk", "数据盘不支持缩小"));
            }
            if migrating(s) {
                return Err(SimErr::refused("id", "迁移中不能升级"));
            }
            let months = months_left(now, s.expire);
            let diff = monthly(s.room, new.0, new.1, new.2, new.3, s.dedicated) - srv_monthly(s);
            let price = (diff * Decimal::from(months)).max(Decimal::ZERO);
            if act == "getupgradeprice" {
                return Ok(json!({"id":s.id,"month":months,"price":m(price)}));
            }
            let id = s.id;
            let (orderid, s) = pay(st, id, now, price, format!("升级服务器{id}"))?;
            (s.cpu, s.memory, s.disk, s.bandwidth) = new;
            log(
                s,
                now,
                format!("升级配置为{}核{}G {}G {}M", new.0, new.1, new.2, new.3),
            );
            Ok(
                json!({"id":id,"orderid":orderid,"amount":m(price),"cpu":new.0,"memory":new.1,"disk":new.2,"bandwidth":new.3}),
            )
        }
        "getmigratestatus" => {
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
        "getmigrateprice" | "migrate" => {
            let target = q.int("target")?;
            room_name(target).ok_or_else(|| SimErr::invalid("target", "目标机房不存在"))?;
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
            if act == "getmigrateprice" {
                return Ok(json!({"id":s.id,"target":target,"price":m(price)}));
            }
            if migrating(s) {
                return Err(SimErr::refused("id", "已有迁移任务在进行"));
            }
            let id = s.id;
            let n = s.ips.len() as u64 + 11;
            let (orderid, s) = pay(
                st,
                id,
                now,
                price,
                format!("迁移服务器{id}到{}", room_name(target).unwrap_or_default()),
            )?;
            let newip = ip_for(target, id, n);
            s.migration = Some(Migration {
                target,
                start: now,
                oldip: s.ips[0].clone(),
                newip: newip.clone(),
                done: false,
            });
            s.running = false;
            log(
                s,
                now,
                format!("开始迁移到{}", room_name(target).unwrap_or_default()),
            );
            Ok(json!({"id":id,"orderid":orderid,"amount":m(price),"target":target}))
        }
        "getmigrateip" => {
            let s = srv(st, q)?;
            let mg = s
                .migration
                .as_ref()
                .ok_or_else(|| SimErr::refused("id", "没有迁移记录"))?;
            Ok(json!({"id":s.id,"oldip":mg.oldip,"newip":mg.newip}))
        }
        "getmigrateprogress" => {
            let s = srv(st, q)?;
            let mg = s
                .migration
                .as_ref()
                .ok_or_else(|| SimErr::refused("id", "没有迁移记录"))?;
            let pct = ((now - mg.start) * 100 / MIGRATE_MS).clamp(0, 100);
            Ok(
                json!({"id":s.id,"progress":pct,"status":if mg.done {"done"} else {"migrating"},"target":mg.target}),
            )
        }
        "getvcpuprice" | "switchvcpu" => {
            let s = srv(st, q)?;
            let months = months_left(now, s.expire);
            let diff = monthly(s.room, s.cpu, 0, 0, 0, !s.dedicated)
                - monthly(s.room, s.cpu, 0, 0, 0, s.dedicated);
            let price = (diff * Decimal::from(months)).max(Decimal::ZERO);
            let target = if s.dedicated { "shared" } else { "dedicated" };
            if act == "getvcpuprice" {
                return Ok(
                    json!({"id":s.id,"current":if s.dedicated {"dedicated"} else {"shared"},"target":target,"price":m(price)}),
                );
            }
            let id = s.id;
            let (orderid, s) = pay(st, id, now, price, format!("服务器{id}切换vCPU为{target}"))?;
            s.dedicated = !s.dedicated;
            log(s, now, format!("切换vCPU为{target}"));
            Ok(json!({"id":id,"orderid":orderid,"amount":m(price),"vcpu":target}))
        }
        "setstatus" => {
            let want = q.req("status")?.to_string();
            let s = srv(st, q)?;
            if migrating(s) {
                return Err(SimErr::refused("id", "迁移中不能操作"));
            }
            match (want.as_str(), s.running) {
                ("start", true) => return Err(SimErr::refused("status", "服务器已在运行")),
                ("stop" | "restart", false) => {
                    return Err(SimErr::refused("status", "服务器已关机"))
                }
                _ => {}
            }
            s.running = want != "stop";
            log(s, now, format!("电源操作 {want}"));
            Ok(json!({"id":s.id,"status":status_of(s)}))
        }
        "getstatus" => {
            let s = srv(st, q)?;
            Ok(json!({"id":s.id,"status":status_of(s),"expired":u8::from(s.expire < now)}))
        }
        "getfilingcode" => {
            let s = srv(st, q)?;
            Ok(
                json!({"id":s.id,"ip":s.ips[0],"code":format!("WS{:010}", (s.id * 7919 + 12345) % 10_000_000_000)}),
            )
        }
        "getconsole" => {
            let s = srv(st, q)?;
            let key = crate::md5_hex(&format!("{}{now}", s.id));
            Ok(
                json!({"id":s.id,"url":format!("https://vnc.west.cn/console/{}?key={}", s.id, &key[..16]),"expire":fmt_time(now + 5 * 60 * 1000)}),
            )
        }
        "reinstall" => {
            let os = q.req("os")?.to_string();
            let pw = q.get("password").map(|_| q.password()).transpose()?;
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
            log(s, now, format!("重装系统 {os}"));
            Ok(json!({"id":s.id,"os":os}))
        }
        "oplog" => {
            let paging = q.paging()?;
            let s = srv(st, q)?;
            let all: Vec<&(i64, String)> = s.oplog.iter().rev().collect();
            Ok(page(
                &all,
                paging,
                |(t, w)| json!({"time":fmt_time(*t),"content":w}),
            ))
        }
        "perfdata" => {
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
        "secgrouplist" => {
            let all: Vec<&SecGroup> = st.secgroups.values().collect();
            let used = |g: u64| {
                st.servers
                    .values()
                    .filter(|s| s.secgroup == Some(g))
                    .count()
            };
            let items: Vec<Value> = all.iter().map(|g| json!({"groupid":g.id,"name":g.name,"remark":g.remark,"rules":g.rules.len(),"servers":used(g.id)})).collect();
            Ok(json!({"total":items.len(),"items":items}))
        }
        "addsecgroup" => {
            let name = q.req("name")?.to_string();
            if st.secgroups.values().any(|g| g.name == name) {
                return Err(SimErr::refused("name", "安全组名称已存在"));
            }
            let id = st.next_id();
            st.secgroups.insert(
                id,
                SecGroup {
                    id,
                    name,
                    remark: q.get("remark").unwrap_or_default().into(),
                    rules: Vec::new(),
                },
            );
            Ok(json!({"groupid":id}))
        }
        "delsecgroup" => {
            let id = q.id("groupid")?;
            if !st.secgroups.contains_key(&id) {
                return Err(SimErr::bad_id("groupid"));
            }
            if st.servers.values().any(|s| s.secgroup == Some(id)) {
                return Err(SimErr::refused("groupid", "安全组正在被服务器使用"));
            }
            st.secgroups.remove(&id);
            Ok(json!({"groupid":id}))
        }
        "getsecgrouprules" => {
            let g = st
                .secgroups
                .get(&q.id("groupid")?)
                .ok_or_else(|| SimErr::bad_id("groupid"))?;
            let items: Vec<Value> = g.rules.iter().map(|r| json!({"ruleid":r.id,"direction":r.direction,"protocol":r.protocol,"port":r.port,"source":r.source,"policy":r.policy,"priority":r.priority,"remark":r.remark})).collect();
            Ok(json!({"groupid":g.id,"total":items.len(),"items":items}))
        }
        "addsecgrouprule" => {
            let gid = q.id("groupid")?;
            let rule = parse_rule(q)?;
            let rid = st.next_id();
            let g = st
                .secgroups
                .get_mut(&gid)
                .ok_or_else(|| SimErr::bad_id("groupid"))?;
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
        "delsecgrouprule" => {
            let rid = q.id("ruleid")?;
            let g = st
                .secgroups
                .get_mut(&q.id("groupid")?)
                .ok_or_else(|| SimErr::bad_id("groupid"))?;
            let before = g.rules.len();
            g.rules.retain(|r| r.id != rid);
            if g.rules.len() == before {
                return Err(SimErr::bad_id("ruleid"));
            }
            Ok(json!({"groupid":g.id,"ruleid":rid}))
        }
        "deploysecgroup" => {
            let gid = q.id("groupid")?;
            if !st.secgroups.contains_key(&gid) {
                return Err(SimErr::bad_id("groupid"));
            }
            let s = srv(st, q)?;
            s.secgroup = Some(gid);
            log(s, now, format!("应用安全组{gid}"));
            Ok(json!({"id":s.id,"groupid":gid}))
        }
        "cloudshieldstatus" => {
            let s = srv(st, q)?;
            Ok(json!({"id":s.id,"status":u8::from(s.cloudshield)}))
        }
        "setcloudshield" => {
            let on = q.req("status")? == "1";
            let s = srv(st, q)?;
            if s.cloudshield == on {
                return Err(SimErr::refused("status", "云盾已是该状态"));
            }
            s.cloudshield = on;
            s.shieldlog.push((
                now,
                if on {
                    "开启云盾".into()
                } else {
                    "关闭云盾".into()
                },
            ));
            Ok(json!({"id":s.id,"status":u8::from(on)}))
        }
        "cloudshieldlog" => {
            let s = srv(st, q)?;
            let items: Vec<Value> = s
                .shieldlog
                .iter()
                .rev()
                .map(|(t, w)| json!({"time":fmt_time(*t),"content":w}))
                .collect();
            Ok(json!({"id":s.id,"total":items.len(),"items":items}))
        }
        "lswlist" => {
            let items: Vec<Value> = st.lsws.values().map(|l| lsw_json(st, l)).collect();
            Ok(json!({"total":items.len(),"items":items}))
        }
        "createlswitch" => {
            let room = q.int("serverroom")?;
            room_name(room).ok_or_else(|| SimErr::invalid("serverroom", "机房不存在"))?;
            let id = st.next_id();
            let subnet = (st.lsws.len() % 250) as u8 + 1;
            st.lsws.insert(
                id,
                Lsw {
                    id,
                    name: q.req("name")?.into(),
                    room,
                    subnet,
                },
            );
            Ok(json!({"lswid":id,"subnet":format!("10.{subnet}.0.0/24")}))
        }
        "getlswinfo" => {
            let l = st
                .lsws
                .get(&q.id("lswid")?)
                .ok_or_else(|| SimErr::bad_id("lswid"))?;
            Ok(lsw_json(st, l))
        }
        "connectlswitch" => {
            let lid = q.id("lswid")?;
            let l = st
                .lsws
                .get(&lid)
                .ok_or_else(|| SimErr::bad_id("lswid"))?
                .clone();
            let used = st
                .servers
                .values()
                .filter(|s| s.lsw.as_ref().is_some_and(|x| x.0 == lid))
                .count();
            let s = srv(st, q)?;
            if s.room != l.room {
                return Err(SimErr::refused("lswid", "交换机与服务器不在同一机房"));
            }
            if s.lsw.is_some() {
                return Err(SimErr::refused("id", "服务器已连接交换机"));
            }
            let ip = format!("10.{}.0.{}", l.subnet, used + 10);
            s.lsw = Some((lid, ip.clone()));
            log(s, now, format!("连接交换机{lid}"));
            Ok(json!({"id":s.id,"lswid":lid,"privateip":ip}))
        }
        "disconnectlswitch" => {
            let s = srv(st, q)?;
            let (lid, _) = s
                .lsw
                .take()
                .ok_or_else(|| SimErr::refused("id", "服务器未连接交换机"))?;
            log(s, now, format!("断开交换机{lid}"));
            Ok(json!({"id":s.id,"lswid":lid}))
        }
        "getccconfig" => {
            let s = srv(st, q)?;
            Ok(
                json!({"id":s.id,"level":s.cc.0,"enable":u8::from(s.cc.1),"qps":s.cc.2,"mode":s.cc.3}),
            )
        }
        "getccstatus" => {
            let s = srv(st, q)?;
            Ok(
                json!({"id":s.id,"enable":u8::from(s.cc.1),"level":s.cc.0,"attacking":0,"blacklist":s.blacklist.len()}),
            )
        }
        "getccupgrade" => {
            let s = srv(st, q)?;
            let months = months_left(now, s.expire);
            let cur = CC_LEVELS.iter().find(|l| l.0 == s.cc.0).map_or(0, |l| l.3);
            let items: Vec<Value> = CC_LEVELS.iter().filter(|l| l.0 > s.cc.0).map(|l| json!({"level":l.0,"name":l.1,"qps":l.2,"price":m(Decimal::from((l.3 - cur) * months))})).collect();
            Ok(json!({"id":s.id,"level":s.cc.0,"items":items}))
        }
        "upgradecc" => {
            let level = q.int("level")?;
            let s = srv(st, q)?;
            let new = CC_LEVELS
                .iter()
                .find(|l| l.0 == level)
                .ok_or_else(|| SimErr::invalid("level", "防护等级不存在"))?;
            if level <= s.cc.0 {
                return Err(SimErr::invalid("level", "只能升级到更高等级"));
            }
            let cur = CC_LEVELS.iter().find(|l| l.0 == s.cc.0).map_or(0, |l| l.3);
            let price = Decimal::from((new.3 - cur) * months_left(now, s.expire));
            let id = s.id;
            let (orderid, s) = pay(
                st,
                id,
                now,
                price,
                format!("服务器{id}升级CC防护到{}", new.1),
            )?;
            s.cc.0 = level;
            s.cc.2 = new.2;
            log(s, now, format!("升级CC防护 {}", new.1));
            Ok(json!({"id":id,"orderid":orderid,"amount":m(price),"level":level}))
        }
        "checkblacklist" => {
            let ip = q.req("ip")?.to_string();
            let s = srv(st, q)?;
            let hit = s.blacklist.iter().find(|b| b.0 == ip);
            Ok(
                json!({"id":s.id,"ip":ip,"blacklisted":u8::from(hit.is_some()),"time":hit.map(|b| fmt_time(b.1)).unwrap_or_default()}),
            )
        }
        "removeblacklist" => {
            let ip = q.req("ip")?.to_string();
            let s = srv(st, q)?;
            let before = s.blacklist.len();
            s.blacklist.retain(|b| b.0 != ip);
            if s.blacklist.len() == before {
                return Err(SimErr::refused("ip", "该IP不在黑名单中"));
            }
            log(s, now, format!("移出黑名单 {ip}"));
            Ok(json!({"id":s.id,"ip":ip}))
        }
        "cclog" => {
            let s = srv(st, q)?;
            let items: Vec<Value> = s
                .blacklist
                .iter()
                .map(|(ip, t)| json!({"time":fmt_time(*t),"ip":ip,"action":"blacklist"}))
                .collect();
            Ok(json!({"id":s.id,"total":items.len(),"items":items}))
        }
        "setcc" => {
            let (en, qps, mode) = (
                q.get("enable").map(|e| e == "1"),
                q.opt_int("qps")?,
                q.get("mode").map(str::to_string),
            );
            let s = srv(st, q)?;
            let max = CC_LEVELS
                .iter()
                .find(|l| l.0 == s.cc.0)
                .map_or(1000, |l| l.2);
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
            log(s, now, "修改CC防护设置".into());
            Ok(
                json!({"id":s.id,"level":s.cc.0,"enable":u8::from(s.cc.1),"qps":s.cc.2,"mode":s.cc.3}),
            )
        }
        other => Err(super::unhandled(other)),
    }
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
    let protocol = q.req("protocol")?.to_string();
    let port = if protocol == "icmp" || protocol == "all" {
        "all".to_string()
    } else {
        q.get("port").unwrap_or("1-65535").to_string()
    };
    if port != "all" {
        let (a, b) = port.split_once('-').unwrap_or((&port, &port));
        match (a.parse::<u16>(), b.parse::<u16>()) {
            (Ok(a), Ok(b)) if a >= 1 && a <= b => {}
            _ => return Err(SimErr::invalid("port", "端口格式错误，如 80 或 8000-8080")),
        }
    }
    let source = q.get("source").unwrap_or("0.0.0.0/0").to_string();
    let (ip, len) = source.split_once('/').unwrap_or((&source, "32"));
    if ip.parse::<std::net::Ipv4Addr>().is_err() || len.parse::<u8>().map_or(true, |l| l > 32) {
        return Err(SimErr::invalid("source", "来源必须是IPv4或CIDR"));
    }
    let priority = q.opt_int("priority")?.unwrap_or(1);
    if !(1..=100).contains(&priority) {
        return Err(SimErr::invalid("priority", "优先级需在1到100之间"));
    }
    Ok(Rule {
        id: 0,
        direction: q.req("direction")?.into(),
        protocol,
        port,
        source,
        policy: q.get("policy").unwrap_or("accept").into(),
        priority,
        remark: q.get("remark").unwrap_or_default().into(),
    })
}
