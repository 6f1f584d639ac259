//! 云服务器: orders, power, reinstall, passwords, upgrade, renew, VNC, charts,
//! security policies, refund. Prices come from the line's package for the CPU/RAM pair
//! plus the line's per-unit prices for disk, bandwidth and defense beyond it, times the
//! line's markup; a purchase and a renewal get the line's discount for their term (and
//! take only the terms its `months` lists), upgrades pay the list price.

use super::orders::{self, Fam, Power, Purchase};
use super::state::*;
use super::{Answer, Fields, Handler, Req, OK_READ, OK_WRITE};
use idcgate_wire::sim::remove_where;
use rust_decimal::Decimal;
use serde_json::{json, Value};

pub(crate) fn handler(name: &str) -> Option<Handler> {
    Some(match name {
        "getserver" => get,
        "getservers" => list,
        "create_order#create_server" => create,
        "server_start" => |st, r| orders::power(st, Fam::Server, r.guid()?, Power::Start),
        "server_stop" => |st, r| orders::power(st, Fam::Server, r.guid()?, Power::Stop),
        "server_restart" => |st, r| orders::power(st, Fam::Server, r.guid()?, Power::Restart),
        "server_install" => install,
        "server_upgrade" => upgrade,
        "server_renew" => |st, r| {
            let months = r.int_or("renewLength", 0)?;
            let coid = r.get("client_order_id").unwrap_or_default();
            orders::renew(st, Fam::Server, r.guid()?, months, coid)
        },
        "server_getvncurl" => |st, r| orders::vnc_url(st, Fam::Server, r.guid()?),
        "server_setpsw" => set_password,
        "server_setvnc" => set_vnc,
        "get_server_chart" => |st, r| {
            let s = server(st, r.guid()?)?;
            orders::chart(r, s.base.id, s.bandwidth)
        },
        "get_security_policy" => policies,
        "server_add_hardpolicy" => add_policy,
        "server_del_hardpolicy" => del_policy,
        "server_refund" => |st, r| orders::refund(st, Fam::Server, r.guid()?),
        _ => return None,
    })
}

fn server(st: &State, id: i64) -> Result<&Cloud, Fail> {
    order(&st.servers, id)
}

fn server_mut(st: &mut State, id: i64) -> Result<&mut Cloud, Fail> {
    live(&mut st.servers, id)
}

/// The getserver row, keys in the document's order.
pub(crate) fn to_json(s: &Cloud) -> Value {
    json!({
        "id": s.base.id, "client_user_id": s.base.client_user_id, "need_reset_vnc": 0,
        "line_guid": s.line_guid, "lineID": s.line_id, "system_guid": s.system_guid,
        "ip": s.ip, "localIP": s.local_ip, "cpu": s.cpu, "memory": s.memory,
        "harddisks": s.harddisks, "bandwidth": s.bandwidth,
        "in_bandwidth": s.in_bandwidth.to_string(), "defense": s.defense,
        "loginName": s.login_name, "loginPassword": s.login_password,
        "buyTime": fmt_time(s.base.buy_time), "endTime": fmt_time(s.base.end_time),
        "orderStatus": s.base.order_status, "runStatus": s.base.run_status,
        "actStatus": s.act_status, "snapStatus": 0, "vnc_port": s.vnc_port, "share_type": 0,
        "login_port": s.login_port, "share_ip": "", "append_ip": "[]",
        "securityPolicyList": Value::Array(s.policies.iter().map(policy_json).collect()).to_string(),
        "port": "[]", "api_type": "mofangyun",
    })
}

fn get(st: &mut State, r: &Req<'_>) -> Answer {
    Ok((OK_READ, to_json(server(st, r.guid()?)?)))
}

fn list(st: &mut State, r: &Req<'_>) -> Answer {
    orders::paged(st.servers.values().map(to_json), r)
}

/// A config's monthly price on a line (before the month discount).
fn monthly(
    st: &State,
    line: &Value,
    cpu: i64,
    memory: i64,
    disks: &[i64],
    bw: i64,
    defense: i64,
) -> Result<Decimal, Fail> {
    let guid = vs(line, "guid");
    let pkg = st
        .catalog
        .packages
        .iter()
        .find(|p| {
            vs(p, "lines_guid") == guid
                && vi(p, "cpu") == cpu
                && vi(p, "memory") == memory
                && vi(p, "status") == 1
        })
        .ok_or("该线路暂无此配置的套餐")?;
    let extra = |have: i64, base: i64| Decimal::from((have - base).max(0));
    let disk_total: i64 = disks.iter().sum();
    let price = vd(pkg, "price")
        + extra(disk_total, vi(pkg, "systemdisk") + vi(pkg, "harddisk"))
            * vd(line, "harddiskPrice")
        + extra(bw, vi(pkg, "bandwidth")) * vd(line, "bandwidth6Price")
        + extra(defense, vi(pkg, "defense")) * vd(line, "defensePrice");
    let markup = vd(line, "markup");
    Ok(if markup.is_zero() {
        price
    } else {
        price * markup
    })
}

/// The line's discount for `months` (`[{"month":"12","discount":"0.9"}]`, a ratio).
pub(crate) fn discount(line: &Value, months: i64) -> Decimal {
    let list: Vec<Value> = serde_json::from_str(&vs(line, "discount")).unwrap_or_default();
    list.iter()
        .find(|d| vi(d, "month") == months)
        .map(|d| vd(d, "discount"))
        .filter(|d| !d.is_zero())
        .unwrap_or(Decimal::ONE)
}

fn open_line<'a>(st: &'a State, guid: &str, field: &str) -> Result<&'a Value, Fail> {
    find(&st.catalog.lines, "guid", guid)
        .filter(|l| vi(l, "status") == 1 && vi(l, "_open_api") == 1 && vi(l, field) == 1)
        .ok_or_else(|| BAD_LINE.into())
}

/// An OS image usable for `support` (server, lease, idc) and `op` (create, install) in
/// `zone` (the line's `line_guid`): getsystems' `lines` lists the zones an image is
/// offered in, so an image is only orderable (and installable) on a line of one of them.
pub(crate) fn system<'a>(
    st: &'a State,
    guid: &str,
    support: &str,
    op: &str,
    zone: &str,
) -> Result<&'a Value, Fail> {
    let sys = find(&st.catalog.systems, "guid", guid)
        .filter(|s| {
            vi(s, "status") == 1 && vs(s, "support").contains(support) && vs(s, "type").contains(op)
        })
        .ok_or("操作系统不存在或已下架")?;
    // An image listing no zone is offered everywhere (as the capability reads it).
    let zones = system_zones(sys);
    if !zones.is_empty() && !zones.iter().any(|z| z == zone) {
        return Err("该线路不支持此操作系统".into());
    }
    Ok(sys)
}

/// The zones of an image's `lines` (a JSON list in a string, as getsystems serves it).
pub(crate) fn system_zones(sys: &Value) -> Vec<String> {
    serde_json::from_str(&vs(sys, "lines")).unwrap_or_default()
}

/// The zone (`line_guid`) of the cloud line `guid`.
fn zone_of(st: &State, guid: &str) -> String {
    find(&st.catalog.lines, "guid", guid).map_or_else(String::new, |l| vs(l, "line_guid"))
}

fn parse_disks(text: &str) -> Result<Vec<i64>, Fail> {
    text.split(',')
        .map(|d| {
            d.trim()
                .parse::<i64>()
                .map_err(|_| "参数错误：harddisks格式不正确".to_string())
        })
        .collect()
}

/// Disks, bandwidth and defense within the line's published limits (getlines'
/// harddiskMin/MaxNum, harddiskMin/MaxSize, bandwidthMin/MaxSize, defenseMin/MaxSize).
/// Besides being the rule, the bounds keep every price sum small.
fn within_line(line: &Value, disks: &[i64], bw: i64, defense: i64) -> Result<(), Fail> {
    let count = i64::try_from(disks.len()).unwrap_or(i64::MAX);
    // The first disk is the system disk, which the data-disk size limits do not cover.
    let sizes_ok = disks.iter().enumerate().all(|(i, &d)| {
        d > 0
            && (i == 0 && d <= 2048
                || d >= vi(line, "harddiskMinSize") && d <= vi(line, "harddiskMaxSize"))
    });
    if !sizes_ok || count < 1 || count > vi(line, "harddiskMaxNum").max(1) + 1 {
        return Err("硬盘超出线路允许范围".into());
    }
    if bw < vi(line, "bandwidthMinSize") || bw > vi(line, "bandwidthMaxSize") {
        return Err("带宽超出线路允许范围".into());
    }
    if defense
        < vi(line, "defenseMinSize")
            .min(vi(line, "defenseFreeSize"))
            .max(0)
        || defense > vi(line, "defenseMaxSize").max(vi(line, "defenseFreeSize"))
    {
        return Err("防御超出线路允许范围".into());
    }
    Ok(())
}

fn create(st: &mut State, r: &Req<'_>) -> Answer {
    let p = Purchase::read(r)?;
    let line = open_line(st, r.need("line_guid")?, "buyStatus")?.clone();
    let sys = system(
        st,
        r.need("system_guid")?,
        "server",
        "create",
        &vs(&line, "line_guid"),
    )?
    .clone();
    orders::term_offered(&line, p.months)?;
    let cpu = p.int("cpu", 0)?;
    let ram = p.int("ram", 0)?;
    if cpu < vi(&sys, "cpu_limit") || ram < vi(&sys, "ram_limit") {
        return Err("配置低于该系统的最低要求".into());
    }
    let disks = parse_disks(
        &p.text("harddisksValues")
            .unwrap_or_else(|| vs(&sys, "system_harddisk")),
    )?;
    let bw = p.int("bandwidth", vi(&line, "bandwidthMinSize"))?;
    let defense = p.int("defense", vi(&line, "defenseFreeSize"))?;
    within_line(&line, &disks, bw, defense)?;
    let price = monthly(st, &line, cpu, ram, &disks, bw, defense)?;
    let password = p.text("loginPassword");
    let line_id = vi(&line, "_id");
    orders::buy(
        st,
        Fam::Server,
        &p,
        price,
        discount(&line, p.months),
        |st, base| {
            let n = base.id;
            let pw = password.clone().unwrap_or_else(|| st.token("Zk"));
            let vnc = st.token("v");
            st.servers.insert(
                n,
                Cloud {
                    line_guid: vs(&line, "guid"),
                    line_id,
                    system_guid: vs(&sys, "guid"),
                    ip: format!("103.{}.{}.{}", 40 + n / 65536 % 200, n / 256 % 256, n % 256),
                    local_ip: format!("10.{}.{}.{}", n / 65536 % 256, n / 256 % 256, n % 256),
                    cpu,
                    memory: ram,
                    harddisks: disks
                        .iter()
                        .map(i64::to_string)
                        .collect::<Vec<_>>()
                        .join(","),
                    bandwidth: bw,
                    in_bandwidth: vi(&line, "bandwidth_in_value"),
                    defense,
                    login_name: vs(&sys, "login_name"),
                    login_password: pw,
                    act_status: 0,
                    vnc_port: 5900 + n % 1000,
                    vnc_password: vnc,
                    login_port: vi(&sys, "port"),
                    policies: Vec::new(),
                    base,
                },
            );
        },
    )
}

fn install(st: &mut State, r: &Req<'_>) -> Answer {
    let id = r.guid()?;
    let zone = zone_of(st, &server(st, id)?.line_guid);
    let sys = system(st, r.need("systemID")?, "server", "install", &zone)?.clone();
    let password = r.need("password")?.to_string();
    let s = server_mut(st, id)?;
    if s.cpu < vi(&sys, "cpu_limit") || s.memory < vi(&sys, "ram_limit") {
        return Err("配置低于该系统的最低要求".into());
    }
    s.system_guid = vs(&sys, "guid");
    s.login_name = vs(&sys, "login_name");
    s.login_password = password;
    s.base.run_status = 1;
    Ok((OK_WRITE, Value::String(String::new())))
}

fn set_password(st: &mut State, r: &Req<'_>) -> Answer {
    let password = r.need("password")?.to_string();
    server_mut(st, r.guid()?)?.login_password = password;
    Ok((OK_WRITE, Value::String(String::new())))
}

fn set_vnc(st: &mut State, r: &Req<'_>) -> Answer {
    let password = r.need("password")?.to_string();
    server_mut(st, r.guid()?)?.vnc_password = password;
    Ok((OK_WRITE, Value::String(String::new())))
}

/// Absolute new values; CPU may not go down (the document), nor anything else here.
fn upgrade(st: &mut State, r: &Req<'_>) -> Answer {
    let id = r.guid()?;
    let s = server(st, id)?.clone();
    s.base.usable()?;
    let line = open_line(st, &s.line_guid, "upgradeStatus")?.clone();
    let cpu = r.int_or("cpu", s.cpu)?;
    let memory = r.int_or("memory", s.memory)?;
    let bw = r.int_or("bandwidth", s.bandwidth)?;
    let defense = r.int_or("defense", s.defense)?;
    let disks = match r.get("harddisks") {
        Some(d) => parse_disks(d)?,
        None => parse_disks(&s.harddisks)?,
    };
    let old = parse_disks(&s.harddisks)?;
    if cpu < s.cpu
        || memory < s.memory
        || bw < s.bandwidth
        || defense < s.defense
        || disks.len() < old.len()
        || disks.iter().zip(&old).any(|(n, o)| n < o)
    {
        return Err("升级配置不能低于原配置".into());
    }
    within_line(&line, &disks, bw, defense)?;
    let new_monthly = to_fen(monthly(st, &line, cpu, memory, &disks, bw, defense)?);
    let cost = orders::charge_upgrade(st, Fam::Server, id, new_monthly)?;
    let s = server_mut(st, id)?;
    s.cpu = cpu;
    s.memory = memory;
    s.bandwidth = bw;
    s.defense = defense;
    s.harddisks = disks
        .iter()
        .map(i64::to_string)
        .collect::<Vec<_>>()
        .join(",");
    Ok((OK_WRITE, json!({"id": id, "money": yuan(cost)})))
}

fn policy_json(p: &Policy) -> Value {
    json!({
        "id": p.id, "product_id": 0, "guid": p.guid, "name": p.name, "weight": p.weight,
        "direction": p.direction, "protocol": p.protocol, "action": p.action,
        "remote_ip": p.remote_ip, "local_port": p.local_port, "service_type": "server",
        "status": 1, "create_time": fmt_time(p.created),
    })
}

fn policies(st: &mut State, r: &Req<'_>) -> Answer {
    let s = server(st, r.guid()?)?;
    let mut list: Vec<&Policy> = s.policies.iter().collect();
    list.sort_by_key(|p| p.weight);
    let rows = list
        .into_iter()
        .map(|p| {
            let mut v = policy_json(p);
            v["product_id"] = json!(s.base.id);
            v
        })
        .collect();
    Ok((OK_READ, Value::Array(rows)))
}

fn add_policy(st: &mut State, r: &Req<'_>) -> Answer {
    let id = r.guid()?;
    let now = st.now();
    let guid = format!("SP{}", st.token("").to_uppercase());
    let pid = st.alloc("policy");
    let policy = Policy {
        id: pid,
        guid: guid.clone(),
        name: r.get("name").unwrap_or_default().to_string(),
        weight: r.int_or("weight", 100)?,
        direction: r.need("direction")?.to_string(),
        protocol: r.need("protocol")?.to_string(),
        action: r.need("operation")?.to_string(),
        remote_ip: r.need("remote_ip")?.to_string(),
        local_port: r.need("local_port")?.to_string(),
        created: now,
    };
    server_mut(st, id)?.policies.push(policy);
    Ok((OK_WRITE, json!({"guid": guid})))
}

fn del_policy(st: &mut State, r: &Req<'_>) -> Answer {
    let guid = r.need("policy_guid")?.to_string();
    let s = server_mut(st, r.guid()?)?;
    remove_where(
        &mut s.policies,
        |p| p.guid == guid,
        "安全组规则不存在".to_string(),
    )?;
    Ok((OK_WRITE, Value::String(String::new())))
}
