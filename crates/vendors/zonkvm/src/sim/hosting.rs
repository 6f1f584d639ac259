//! 虚拟主机: orders and the business side of `hosting_operate` (site on/off, name, FTP
//! password, PHP version, domains, backups, index, run path, refund, renew, resume,
//! upgrade, bundled database, access statistics). The BT-panel side (files, WAF,
//! proxies, redirects, uploads) is in `site.rs`, SSL (with IIS's) in `ssl.rs`.

use super::orders::{self, empty, Fam, Purchase};
use super::state::*;
use super::{Answer, Fields, Handler, Req, OK_READ, OK_WRITE};
use idcgate_wire::sim::remove_where;
use serde_json::{json, Value};

pub(crate) fn handler(name: &str) -> Option<Handler> {
    let op = name.strip_prefix("hosting_operate#");
    Some(match (name, op) {
        ("gethosting", _) => |st, r| Ok((OK_READ, to_json(site(st, r.guid()?)?))),
        ("hosting_orders", _) => |st, r| orders::paged(st.hostings.values().map(to_json), r),
        ("create_order#create_hosting", _) => create,
        (_, Some("hosting_stop")) => |st, r| set_running(st, r, -1),
        (_, Some("hosting_start")) => |st, r| set_running(st, r, 1),
        (_, Some("hosting_edit_name")) => |st, r| edit(st, r, "name", |h, v| h.name = v),
        (_, Some("hosting_edit_pwd")) => {
            |st, r| edit(st, r, "ftp_password", |h, v| h.ftp_password = v)
        }
        (_, Some("hosting_set_php_version")) => set_php,
        (_, Some("hosting_domain_list")) => domains,
        (_, Some("hosting_add_domain")) => add_domains,
        (_, Some("hosting_del_domain")) => del_domain,
        (_, Some("hosting_backup_list")) => backups,
        (_, Some("hosting_to_backup")) => to_backup,
        (_, Some("hosting_del_backup")) => del_backup,
        (_, Some("hosting_get_site_total_list_custom")) => site_totals,
        (_, Some("hosting_web_get_index")) => {
            |st, r| Ok((OK_READ, json!({"index": site(st, r.guid()?)?.index})))
        }
        (_, Some("hosting_web_set_index")) => |st, r| edit(st, r, "indexText", |h, v| h.index = v),
        (_, Some("hosting_set_run_path")) => |st, r| edit(st, r, "runPath", |h, v| h.run_path = v),
        (_, Some("hosting_refund")) => |st, r| orders::refund(st, Fam::Hosting, r.guid()?),
        (_, Some("hosting_renew")) => |st, r| orders::renew_until(st, Fam::Hosting, r),
        (_, Some("hosting_resume_after_renew")) => resume,
        (_, Some("hosting_upgrade")) => upgrade,
        (_, Some("hosting_add_database")) => add_database,
        (_, Some(op)) => return super::site::handler(op),
        _ => return None,
    })
}

pub(crate) fn site(st: &State, id: i64) -> Result<&Hosting, Fail> {
    order(&st.hostings, id)
}

pub(crate) fn site_mut(st: &mut State, id: i64) -> Result<&mut Hosting, Fail> {
    live(&mut st.hostings, id)
}

/// A site's root directory on the node.
pub(crate) fn root_of(ftp_name: &str) -> String {
    format!("/www/wwwroot/{ftp_name}")
}

pub(crate) fn to_json(h: &Hosting) -> Value {
    let list: Vec<&str> = h
        .domains
        .iter()
        .map(|d| d.name.as_str())
        .filter(|d| *d != h.domain)
        .collect();
    let b = &h.base;
    json!({
        "id": b.id, "client_user_id": b.client_user_id, "name": h.name, "product_guid": h.product_guid,
        "line_guid": h.line_guid, "domain": h.domain, "domain_list": json!(list).to_string(),
        "path": root_of(&h.ftp_name), "use_disk": h.use_disk, "disk": h.disk,
        "db_size": h.db_size, "db_type": h.db_type, "db_code": h.db_code, "program": h.program,
        "program_version": h.program_version, "analysis_url": "", "use_flow": 0, "flow": h.flow,
        "ftpport": 21, "ftp_id": h.ftp_id, "ftp_status": 1, "ftp_name": h.ftp_name,
        "ftp_password": h.ftp_password, "buy_time": fmt_time(b.buy_time),
        "start_time": fmt_time(b.buy_time), "end_time": fmt_time(b.end_time),
        "order_status": b.order_status, "run_status": b.run_status, "remarks": "",
        "renew_auto": h.renew_auto, "renew_price": yuan(b.monthly_fen), "buymonths": b.months,
    })
}

fn create(st: &mut State, r: &Req<'_>) -> Answer {
    let p = Purchase::read(r)?;
    let catalog = &st.catalog;
    let (product, line) = orders::product_on_line(
        &catalog.hosting_products,
        &catalog.hosting_lines,
        r,
        p.months,
    )?;
    let line_row = find(&st.catalog.hosting_lines, "guid", &line)
        .cloned()
        .unwrap_or(Value::Null);
    let version = p.text("program_version").unwrap_or_else(|| "php81".into());
    if version.starts_with("php") {
        php_offered(st, &line, &version)?;
    }
    let prefix = r.get("prefix").unwrap_or("web").to_string();
    let pwd = r.get("pwd").map(str::to_string);
    // content.flow: the product's traffic unless more is bought, up to its max_flow,
    // in up_flow steps at up_flow_price a month, as an upgrade adds it.
    let included = vi(&product, "flow");
    let flow = p.int("flow", included)?;
    if flow < included {
        return Err(FLOW_RANGE.into());
    }
    let price = vd(&product, "price") + extra_flow(&product, included, flow)?;
    let (program, db, code) = (
        p.text("program").unwrap_or_else(|| "php".into()),
        p.text("db").unwrap_or_else(|| "mysql".into()),
        p.text("code").unwrap_or_else(|| "utf8".into()),
    );
    orders::buy(
        st,
        Fam::Hosting,
        &p,
        price,
        orders::percent_discount(&product, p.months),
        |st, base| {
            let n = base.id;
            let ftp = format!("{prefix}{n}");
            let ftp_root = ftp.clone();
            let domain = format!("{ftp}.{}", vs(&line_row, "domain"));
            let pw = pwd.clone().unwrap_or_else(|| st.token("Ftp"));
            st.hostings.insert(
                n,
                Hosting {
                    name: ftp.clone(),
                    product_guid: vs(&product, "guid"),
                    line_guid: line.clone(),
                    domain: domain.clone(),
                    domains: vec![SiteDomain {
                        id: 1,
                        name: domain,
                        port: "80".into(),
                        added: base.buy_time,
                    }],
                    disk: vi(&product, "disk"),
                    use_disk: 0,
                    db_size: vi(&product, "db"),
                    db_type: db.clone(),
                    db_code: code.clone(),
                    program: program.clone(),
                    program_version: version.clone(),
                    flow,
                    ftp_id: 10000 + n,
                    ftp_name: ftp,
                    ftp_password: pw,
                    renew_auto: p.renew_auto,
                    index: "index.html,index.php".into(),
                    run_path: "/".into(),
                    backups: Vec::new(),
                    panel: super::site::new_panel(&root_of(&ftp_root), base.buy_time),
                    base,
                },
            );
        },
    )
}

const FLOW_RANGE: &str = "流量超出产品允许范围";

/// The monthly price of traffic from `have` to `want` GB: whole `up_flow` steps (a
/// started one counts) at `up_flow_price`; `want` within the product's `max_flow`.
fn extra_flow(product: &Value, have: i64, want: i64) -> Result<rust_decimal::Decimal, Fail> {
    if want > vi(product, "max_flow").max(have) {
        return Err(FLOW_RANGE.into());
    }
    let step = vi(product, "up_flow").max(1);
    let steps = ((want - have).max(0) + step - 1) / step;
    Ok(vd(product, "up_flow_price") * rust_decimal::Decimal::from(steps))
}

fn set_running(st: &mut State, r: &Req<'_>, to: i64) -> Answer {
    let h = site_mut(st, r.guid()?)?;
    if h.base.run_status == to {
        return Err(if to == 1 {
            "站点已是运行状态"
        } else {
            "站点已是停止状态"
        }
        .into());
    }
    h.base.run_status = to;
    Ok((OK_WRITE, empty()))
}

fn edit(st: &mut State, r: &Req<'_>, key: &str, set: fn(&mut Hosting, String)) -> Answer {
    let value = r.need(key)?.to_string();
    set(site_mut(st, r.guid()?)?, value);
    Ok((OK_WRITE, empty()))
}

/// Whether a line's nodes run a PHP version (`php81`, as create/set spell it, or `81`,
/// as get_php_version does).
fn php_offered(st: &State, line: &str, version: &str) -> Result<(), Fail> {
    let offered = st.catalog.php_versions.get(line).into_iter().flatten();
    let mut offered = offered.map(|v| (format!("php{v}"), v));
    if offered.any(|(long, short)| long == version || short == version) {
        Ok(())
    } else {
        Err("该线路不支持此PHP版本".into())
    }
}

fn set_php(st: &mut State, r: &Req<'_>) -> Answer {
    let version = r.need("version")?.to_string();
    let id = r.guid()?;
    let line = site(st, id)?.line_guid.clone();
    php_offered(st, &line, &version)?;
    site_mut(st, id)?.program_version = version;
    Ok((OK_WRITE, empty()))
}

fn domains(st: &mut State, r: &Req<'_>) -> Answer {
    let h = site(st, r.guid()?)?;
    let rows = h.domains.iter().map(|d| json!({"id": d.id.to_string(), "pid": h.base.id.to_string(), "name": d.name, "port": d.port, "addtime": fmt_time(d.added)})).collect();
    Ok((OK_READ, Value::Array(rows)))
}

/// `domainText`: one `domain[:port]` per line.
fn add_domains(st: &mut State, r: &Req<'_>) -> Answer {
    let text = r.need("domainText")?.to_string();
    let now = st.now();
    let limit = {
        let h = site(st, r.guid()?)?;
        find(&st.catalog.hosting_products, "guid", &h.product_guid).map_or(0, |p| vi(p, "domain"))
    };
    let h = site_mut(st, r.guid()?)?;
    let wanted: Vec<(String, String)> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|l| match l.split_once(':') {
            Some((d, p)) => (d.to_ascii_lowercase(), p.to_string()),
            None => (l.to_ascii_lowercase(), "80".to_string()),
        })
        .collect();
    if wanted
        .iter()
        .any(|(d, p)| h.domains.iter().any(|x| &x.name == d && &x.port == p))
    {
        return Err("域名已绑定".into());
    }
    if limit > 0
        && h.domains.len() + wanted.len() > usize::try_from(limit + 1).unwrap_or(usize::MAX)
    {
        return Err("绑定域名数量已达上限".into());
    }
    for (name, port) in wanted {
        let id = h.domains.iter().map(|d| d.id).max().unwrap_or(0) + 1;
        h.domains.push(SiteDomain {
            id,
            name,
            port,
            added: now,
        });
    }
    Ok((OK_WRITE, empty()))
}

fn del_domain(st: &mut State, r: &Req<'_>) -> Answer {
    let name = r.need("name")?.to_ascii_lowercase();
    let port = r.get("port").unwrap_or("80").to_string();
    let h = site_mut(st, r.guid()?)?;
    if name == h.domain {
        return Err("赠送域名不能删除".into());
    }
    remove_where(
        &mut h.domains,
        |d| d.name == name && d.port == port,
        "域名不存在".to_string(),
    )?;
    if !h.domains.iter().any(|d| d.name == name) {
        h.panel.iis_ssl.remove(&name);
    }
    Ok((OK_WRITE, empty()))
}

fn backups(st: &mut State, r: &Req<'_>) -> Answer {
    let h = site(st, r.guid()?)?;
    Ok((OK_READ, backup_rows(h.base.id, "0", &h.backups)))
}

pub(crate) fn backup_rows(pid: i64, kind: &str, list: &[BackupFile]) -> Value {
    Value::Array(list.iter().map(|b| json!({"id": b.id.to_string(), "pid": pid.to_string(), "type": kind, "name": b.name, "filename": b.name, "size": b.size.to_string(), "addtime": fmt_time(b.added)})).collect())
}

/// Backup record ids are the system's table ids, one sequence over every site: the
/// `guid` of hosting_del_backup is such an id alone (see below).
fn to_backup(st: &mut State, r: &Req<'_>) -> Answer {
    let now = st.now();
    let id = st
        .hostings
        .values()
        .flat_map(|h| &h.backups)
        .map(|b| b.id)
        .max()
        .unwrap_or(0)
        + 1;
    let h = site_mut(st, r.guid()?)?;
    let stamp = now.to_zoned(china()).strftime("%Y%m%d_%H%M%S").to_string();
    let size = 1_048_576 + h.use_disk * 1024;
    h.backups.push(BackupFile {
        id,
        name: format!("web_{}_{stamp}_{id}.tar.gz", h.ftp_name),
        size,
        added: now,
    });
    Ok((OK_WRITE, empty()))
}

/// The document reads `guid` here as "备份记录ID(备份列表中的id字段值)", not the hosting
/// order id every other operation takes: the record's `pid` (its site) is found from
/// the id, which is unique over all sites. The site must be one the account may work on.
fn del_backup(st: &mut State, r: &Req<'_>) -> Answer {
    let id = r.guid()?;
    let site = st
        .hostings
        .values()
        .find(|h| h.backups.iter().any(|b| b.id == id))
        .map(|h| h.base.id)
        .ok_or("备份不存在")?;
    site_mut(st, site)?.backups.retain(|b| b.id != id);
    Ok((OK_WRITE, empty()))
}

/// The longest report, in days: a month of hourly points.
const TOTALS_MAX_DAYS: i64 = 31;

/// 站点监控统计报表: one point per hour (`Y-m-d H:i`) from `start_date` 00:00 to
/// `end_date` 23:00, `total` the number of points. The simulated node serves no
/// visitors, so a count is a deterministic function of the site, the hour and the
/// report type (visits are about a third of requests), zero before the site existed
/// and after the clock's now.
fn site_totals(st: &mut State, r: &Req<'_>) -> Answer {
    let now = st.now();
    let h = site(st, r.guid()?)?;
    let kind = r.get("part_type").unwrap_or("site_total");
    let divisor = match kind {
        "site_total" => 1,
        "visit_total" => 3,
        _ => return Err("参数错误：part_type格式不正确".into()),
    };
    let today = now.to_zoned(china()).date();
    let day = |k: &str| -> Result<jiff::civil::Date, Fail> {
        match r.get(k) {
            None => Ok(today),
            Some(v) => jiff::civil::Date::strptime("%Y-%m-%d", v)
                .map_err(|_| format!("参数错误：{k}格式不正确")),
        }
    };
    let (start, end) = (day("start_date")?, day("end_date")?);
    let days = (end - start).get_days();
    if days < 0 {
        return Err("结束日期不能早于开始日期".into());
    }
    if i64::from(days) >= TOTALS_MAX_DAYS {
        return Err(format!("统计范围不能超过{TOTALS_MAX_DAYS}天"));
    }
    let mut list = Vec::new();
    let mut hour = start.to_datetime(jiff::civil::Time::midnight());
    let last = end.to_datetime(jiff::civil::time(23, 0, 0, 0));
    while hour <= last {
        let at = hour
            .to_zoned(china())
            .map_err(|e| e.to_string())?
            .timestamp();
        let count = if at >= h.base.buy_time && at <= now {
            let n = at.as_second() / 3600;
            (50 + (n * 37 + h.base.id * 11).rem_euclid(200)) / divisor
        } else {
            0
        };
        list.push(json!({"time": hour.strftime("%Y-%m-%d %H:%M").to_string(), "count": count}));
        hour = hour
            .checked_add(jiff::Span::new().hours(1))
            .map_err(|e| e.to_string())?;
    }
    let total = list.len();
    Ok((OK_READ, json!({"list": list, "total": total})))
}

/// Brings a renewed (no longer expired) site back to running.
fn resume(st: &mut State, r: &Req<'_>) -> Answer {
    let h = site_mut(st, r.guid()?)?;
    h.base.run_status = 1;
    Ok((OK_WRITE, empty()))
}

/// Traffic first (extra steps of `up_flow` GB at `up_flow_price`), then the product.
fn upgrade(st: &mut State, r: &Req<'_>) -> Answer {
    let id = r.guid()?;
    let flow = r.int("flow")?;
    let to = r.get("new_product_guid").map(str::to_string);
    if flow.is_none() && to.is_none() {
        return Err("缺少必要参数：flow".into());
    }
    let h = site(st, id)?.clone();
    h.base.usable()?;
    if let Some(flow) = flow {
        let product = find(&st.catalog.hosting_products, "guid", &h.product_guid)
            .ok_or("产品不存在或已下架")?;
        if flow <= h.flow {
            return Err("流量升级值不正确".into());
        }
        let add = to_fen(extra_flow(product, h.flow, flow)?);
        orders::charge_upgrade(st, Fam::Hosting, id, h.base.monthly_fen + add)?;
        site_mut(st, id)?.flow = flow;
    }
    if let Some(to) = to {
        let row = orders::upgrade_product(st, Fam::Hosting, id, &to)?;
        let h = site_mut(st, id)?;
        h.product_guid = to;
        h.disk = vi(&row, "disk");
        h.db_size = vi(&row, "db");
    }
    Ok((OK_WRITE, to_json(site(st, id)?)))
}

/// The bundled database a product includes: a free database order tied to the site.
fn add_database(st: &mut State, r: &Req<'_>) -> Answer {
    let id = r.guid()?;
    let password = r.need("db_password")?.to_string();
    let h = site(st, id)?.clone();
    h.base.usable()?;
    if st
        .sqls
        .values()
        .any(|s| s.hosting_id == id && s.base.order_status == 1)
    {
        return Err("已添加过赠送数据库".into());
    }
    let db_type = r.get("db_type").unwrap_or("mysql").to_string();
    let n = st.alloc("sql");
    let mut base = h.base.clone();
    (base.id, base.monthly_fen, base.paid_fen) = (n, 0, 0);
    st.sqls.insert(
        n,
        Sql {
            base,
            hosting_id: id,
            name: h.ftp_name.clone(),
            product_guid: String::new(),
            line_guid: h.line_guid.clone(),
            db_size: h.db_size,
            db_type,
            db_code: h.db_code.clone(),
            db_name: format!("{}_db", h.ftp_name),
            db_user: format!("{}_db", h.ftp_name),
            created_password: password.clone(),
            db_password: password,
            renew_auto: 0,
            access: super::sql::DEFAULT_ACCESS.into(),
            backups: Vec::new(),
            backup_progress: 100,
            import_progress: 100,
        },
    );
    Ok((OK_WRITE, json!({"id": n})))
}
