//! 物理服务器 (lease) and 服务器托管 (idc): one shape, two families. Price = the model's
//! monthly price (+ the chosen power spec for colocation) + the line's prices for
//! bandwidth, IPs and defense beyond the model; a purchase and a renewal get the line's
//! 1/2/3-year discount (for a term its `months` lists), upgrades pay the list price.

use super::cloud::system;
use super::orders::{self, Fam, Power, Purchase};
use super::state::*;
use super::{Answer, Fields, Handler, Req, OK_READ, OK_WRITE};
use rust_decimal::Decimal;
use serde_json::{json, Value};

pub(crate) fn handler(name: &str) -> Option<Handler> {
    let (fam, op) = match name.split_once('_') {
        Some(("lease", op)) => (Fam::Lease, op),
        Some(("idc", op)) => (Fam::Idc, op),
        _ => match name {
            "getlease" => return Some(|st, r| get(st, r, Fam::Lease)),
            "getidc" => return Some(|st, r| get(st, r, Fam::Idc)),
            "create_order#create_lease" => return Some(|st, r| create(st, r, Fam::Lease)),
            "create_order#create_idc" => return Some(|st, r| create(st, r, Fam::Idc)),
            "get_lease_chart" => return Some(|st, r| chart(st, r, Fam::Lease)),
            "get_idc_chart" => return Some(|st, r| chart(st, r, Fam::Idc)),
            _ => return None,
        },
    };
    let lease = fam == Fam::Lease;
    Some(match op {
        "orders" if lease => |st, r| list(st, r, Fam::Lease),
        "orders" => |st, r| list(st, r, Fam::Idc),
        "start" if lease => |st, r| orders::power(st, Fam::Lease, r.guid()?, Power::Start),
        "start" => |st, r| orders::power(st, Fam::Idc, r.guid()?, Power::Start),
        "stop" if lease => |st, r| orders::power(st, Fam::Lease, r.guid()?, Power::Stop),
        "stop" => |st, r| orders::power(st, Fam::Idc, r.guid()?, Power::Stop),
        "restart" if lease => |st, r| orders::power(st, Fam::Lease, r.guid()?, Power::Restart),
        "restart" => |st, r| orders::power(st, Fam::Idc, r.guid()?, Power::Restart),
        "install" if lease => |st, r| install(st, r, Fam::Lease),
        "install" => |st, r| install(st, r, Fam::Idc),
        "setpsw" if lease => |st, r| set_password(st, r, Fam::Lease),
        "setpsw" => |st, r| set_password(st, r, Fam::Idc),
        "upgrade" if lease => |st, r| upgrade(st, r, Fam::Lease),
        "upgrade" => |st, r| upgrade(st, r, Fam::Idc),
        "renew" if lease => |st, r| renew(st, r, Fam::Lease),
        "renew" => |st, r| renew(st, r, Fam::Idc),
        "getvncurl" if lease => |st, r| orders::vnc_url(st, Fam::Lease, r.guid()?),
        "getvncurl" => |st, r| orders::vnc_url(st, Fam::Idc, r.guid()?),
        "refund" if lease => |st, r| orders::refund(st, Fam::Lease, r.guid()?),
        "refund" => |st, r| orders::refund(st, Fam::Idc, r.guid()?),
        _ => return None,
    })
}

fn table(st: &State, fam: Fam) -> &std::collections::BTreeMap<i64, Physical> {
    if fam == Fam::Lease {
        &st.leases
    } else {
        &st.idcs
    }
}

fn table_mut(st: &mut State, fam: Fam) -> &mut std::collections::BTreeMap<i64, Physical> {
    if fam == Fam::Lease {
        &mut st.leases
    } else {
        &mut st.idcs
    }
}

fn machine(st: &State, fam: Fam, id: i64) -> Result<&Physical, Fail> {
    order(table(st, fam), id)
}

fn machine_mut(st: &mut State, fam: Fam, id: i64) -> Result<&mut Physical, Fail> {
    live(table_mut(st, fam), id)
}

fn lines(st: &State, fam: Fam) -> &[Value] {
    if fam == Fam::Lease {
        &st.catalog.lease_lines
    } else {
        &st.catalog.idc_lines
    }
}

fn products(st: &State, fam: Fam) -> &[Value] {
    if fam == Fam::Lease {
        &st.catalog.lease_products
    } else {
        &st.catalog.idc_products
    }
}

/// getlease / getidc rows, keys in the document's order for each family.
fn to_json(st: &State, fam: Fam, m: &Physical) -> Value {
    let product = find(products(st, fam), "guid", &m.product_guid)
        .cloned()
        .unwrap_or(Value::Null);
    let ip = Value::Array(
        m.ips
            .iter()
            .map(|ip| json!({"ip": ip, "subnet": "255.255.255.0", "gateway": gateway(ip)}))
            .collect(),
    )
    .to_string();
    let b = &m.base;
    if fam == Fam::Lease {
        json!({
            "id": b.id, "product_guid": m.product_guid, "line_guid": m.line_guid, "name": m.name,
            "size": vi(&product, "size"), "cabinet_sn": format!("A-{:02}-{:02}", b.id / 40 + 1, b.id % 40),
            "main_board": vs(&product, "main_board"), "cpu_value": vi(&product, "cpu_value"),
            "cpu": vs(&product, "cpu"), "cpu_num": vi(&product, "cpu_num"), "memory": vs(&product, "memory"),
            "cpu_max_num": vi(&product, "cpu_max_num"), "memory_num": vi(&product, "memory_num"),
            "memory_max_num": vi(&product, "memory_max_num"), "harddisk_guid": vs(&product, "harddisk_guid"),
            "harddisk_max_num": vi(&product, "harddisk_max_num"), "raid_tips": vs(&product, "raid_tips"),
            "bandwidth": m.bandwidth, "defense": m.defense,
            "ipnum": m.ipnum, "system_guid": m.system_guid, "login_name": m.login_name,
            "login_password": m.login_password, "system_port": m.system_port,
            "buy_time": fmt_time(b.buy_time), "start_time": fmt_time(b.buy_time), "end_time": fmt_time(b.end_time),
            "order_status": b.order_status, "run_status": b.run_status, "act_status": m.act_status,
            "ip": ip, "api_type": "mofang",
        })
    } else {
        json!({
            "id": b.id, "product_guid": m.product_guid, "line_guid": m.line_guid, "name": m.name,
            "product_type": vi(&product, "product_type"), "size": vs(&product, "size"), "power": m.power,
            "bandwidth": m.bandwidth, "defense": m.defense, "ipnum": m.ipnum,
            "buy_time": fmt_time(b.buy_time), "start_time": fmt_time(b.buy_time), "end_time": fmt_time(b.end_time),
            "order_status": b.order_status, "run_status": b.run_status, "act_status": m.act_status,
            "ip": ip, "system_port": m.system_port, "login_name": m.login_name,
            "login_password": m.login_password, "api_type": "mofang",
        })
    }
}

fn gateway(ip: &str) -> String {
    match ip.rsplit_once('.') {
        Some((net, _)) => format!("{net}.1"),
        None => String::new(),
    }
}

fn get(st: &mut State, r: &Req<'_>, fam: Fam) -> Answer {
    let m = machine(st, fam, r.guid()?)?;
    Ok((OK_READ, to_json(st, fam, m)))
}

fn list(st: &mut State, r: &Req<'_>, fam: Fam) -> Answer {
    orders::paged(table(st, fam).values().map(|m| to_json(st, fam, m)), r)
}

/// Monthly price of a machine with `bw`, `ipnum`, `defense` (and colocation `power`).
fn monthly(
    line: &Value,
    product: &Value,
    bw: i64,
    ipnum: i64,
    defense: i64,
    power: &str,
) -> Result<Decimal, Fail> {
    let extra = |have: i64, base: i64| Decimal::from((have - base).max(0));
    let mut price = vd(product, "price")
        + extra(bw, vi(product, "bandwidth")) * vd(line, "bandwidth_price")
        + extra(ipnum, vi(product, "ipnum").max(vi(line, "ip_free_size"))) * vd(line, "ip_price")
        + extra(defense, vi(product, "defense")) * vd(line, "defense_price");
    if !power.is_empty() {
        let specs: Vec<Value> = serde_json::from_str(&vs(product, "power")).unwrap_or_default();
        let spec = find(&specs, "name", power).ok_or("电力规格不存在")?;
        price += vd(spec, "price");
    }
    Ok(price)
}

/// Bandwidth, IPs and defense within the line's maxima (never below the product's own
/// bandwidth or one IP); the bounds also keep prices and IP lists small.
fn within_line(
    line: &Value,
    product: &Value,
    bw: i64,
    ipnum: i64,
    defense: i64,
) -> Result<(), Fail> {
    let max = |k: &str, floor: i64| vi(line, k).max(floor);
    if !(0..=max("bandwidth_max_size", vi(product, "bandwidth"))).contains(&bw)
        || !(1..=max("ip_max_size", 1)).contains(&ipnum)
        || !(0..=max("defense_max_size", vi(product, "defense"))).contains(&defense)
    {
        return Err("配置超出线路允许范围".into());
    }
    Ok(())
}

/// discount1/2/3 apply from 12/24/36 months; 0 means none (the idc example's 0.00).
pub(crate) fn discount(line: &Value, months: i64) -> Decimal {
    let key = match months {
        36.. => "discount3",
        24.. => "discount2",
        12.. => "discount1",
        _ => return Decimal::ONE,
    };
    Some(vd(line, key))
        .filter(|d| !d.is_zero())
        .unwrap_or(Decimal::ONE)
}

fn create(st: &mut State, r: &Req<'_>, fam: Fam) -> Answer {
    let p = Purchase::read(r)?;
    let line = find(lines(st, fam), "guid", r.need("line_guid")?)
        .filter(|l| vi(l, "status") == 1 && vi(l, "buy_status") == 1)
        .ok_or(BAD_LINE)?
        .clone();
    let product = find(products(st, fam), "guid", r.need("product_guid")?)
        .filter(|x| vi(x, "status") == 1 && vs(x, "line_guid") == vs(&line, "guid"))
        .ok_or("产品不存在或已下架")?
        .clone();
    orders::term_offered(&line, p.months)?;
    let (system_guid, login_name) = if fam == Fam::Lease {
        let zone = vs(&line, "line_guid");
        let sys = system(st, r.need("system_guid")?, "lease", "create", &zone)?;
        (vs(sys, "guid"), vs(sys, "login_name"))
    } else {
        (String::new(), "root".to_string())
    };
    let ip_key = if fam == Fam::Lease { "ip_num" } else { "ipnum" };
    let bw = p.int("bandwidth", vi(&product, "bandwidth"))?;
    let ipnum = p.int(ip_key, 1)?;
    let defense = p.int("defense", vi(&product, "defense"))?;
    within_line(&line, &product, bw, ipnum, defense)?;
    let power = if fam == Fam::Idc {
        p.text("power").unwrap_or_default()
    } else {
        String::new()
    };
    let price = monthly(&line, &product, bw, ipnum, defense, &power)?;
    let password = p.text("loginPassword");
    let name = vs(&product, "name");
    orders::buy(st, fam, &p, price, discount(&line, p.months), |st, base| {
        let n = base.id;
        let third = if fam == Fam::Lease { 1 } else { 2 };
        let ips = (0..ipnum)
            .map(|k| format!("192.168.{third}.{}", (n * 8 + k) % 250 + 2))
            .collect();
        let pw = password.clone().unwrap_or_else(|| st.token("Zk"));
        let m = Physical {
            product_guid: vs(&product, "guid"),
            line_guid: vs(&line, "guid"),
            name: format!("{name}-{n:03}"),
            system_guid: system_guid.clone(),
            bandwidth: bw,
            defense,
            ipnum,
            ips,
            power: power.clone(),
            login_name: login_name.clone(),
            login_password: pw,
            system_port: "23543".into(),
            act_status: 0,
            base,
        };
        table_mut(st, fam).insert(n, m);
    })
}

fn install(st: &mut State, r: &Req<'_>, fam: Fam) -> Answer {
    let line = machine(st, fam, r.guid()?)?.line_guid.clone();
    let zone = find(lines(st, fam), "guid", &line).map_or_else(String::new, |l| vs(l, "line_guid"));
    let sys = system(st, r.need("systemID")?, fam.name(), "install", &zone)?;
    let (guid, login) = (vs(sys, "guid"), vs(sys, "login_name"));
    let password = r.need("password")?.to_string();
    let port = r.int("port")?;
    let m = machine_mut(st, fam, r.guid()?)?;
    m.system_guid = guid;
    m.login_name = login;
    m.login_password = password;
    if let Some(port) = port {
        m.system_port = port.to_string();
    }
    Ok((OK_WRITE, Value::String(String::new())))
}

fn set_password(st: &mut State, r: &Req<'_>, fam: Fam) -> Answer {
    let password = r.need("password")?.to_string();
    machine_mut(st, fam, r.guid()?)?.login_password = password;
    Ok((OK_WRITE, Value::String(String::new())))
}

/// Increments of IPs, bandwidth and defense, charged pro rata for the rest of the term.
fn upgrade(st: &mut State, r: &Req<'_>, fam: Fam) -> Answer {
    let id = r.guid()?;
    let (ip_add, bw_add, def_add) = (
        r.int_or("ipnumAdd", 0)?,
        r.int_or("bandwidthAdd", 0)?,
        r.int_or("defenseAdd", 0)?,
    );
    if ip_add < 0 || bw_add < 0 || def_add < 0 || (ip_add, bw_add, def_add) == (0, 0, 0) {
        return Err("升级配置不正确".into());
    }
    let m = machine(st, fam, id)?.clone();
    let line = find(lines(st, fam), "guid", &m.line_guid)
        .filter(|l| vi(l, "upgrade_status") == 1 || fam == Fam::Idc)
        .ok_or(BAD_LINE)?;
    let product = find(products(st, fam), "guid", &m.product_guid).ok_or("产品不存在或已下架")?;
    let sum = |a: i64, b: i64| a.checked_add(b).ok_or("配置超出线路允许范围");
    let (bw, ipnum, defense) = (
        sum(m.bandwidth, bw_add)?,
        sum(m.ipnum, ip_add)?,
        sum(m.defense, def_add)?,
    );
    within_line(line, product, bw, ipnum, defense)?;
    let new_monthly = to_fen(monthly(line, product, bw, ipnum, defense, &m.power)?);
    let cost = orders::charge_upgrade(st, fam, id, new_monthly)?;
    let m = machine_mut(st, fam, id)?;
    for k in m.ipnum..ipnum {
        m.ips.push(format!("192.168.9.{}", (id * 8 + k) % 250 + 2));
    }
    (m.bandwidth, m.ipnum, m.defense) = (bw, ipnum, defense);
    Ok((OK_WRITE, json!({"id": id, "money": yuan(cost)})))
}

fn renew(st: &mut State, r: &Req<'_>, fam: Fam) -> Answer {
    let months = r.int_or("months", 0)?;
    let coid = r.get("client_order_id").unwrap_or_default();
    orders::renew(st, fam, r.guid()?, months, coid)
}

fn chart(st: &mut State, r: &Req<'_>, fam: Fam) -> Answer {
    let m = machine(st, fam, r.guid()?)?;
    orders::chart(r, m.base.id, m.bandwidth)
}
