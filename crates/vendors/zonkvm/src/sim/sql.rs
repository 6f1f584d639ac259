//! 云数据库: orders and every `sql_operate` sub-operation. Backups and imports run in
//! the background on the real node; here they report 50% once, then finish on the next
//! progress query. At most 3 backups are kept (the document).

use super::hosting::backup_rows;
use super::orders::{self, empty, Fam, Purchase};
use super::state::*;
use super::{Answer, Fields, Handler, Req, OK_READ, OK_WRITE};
use idcgate_wire::sim::remove_where;
use serde_json::{json, Value};

const MAX_BACKUPS: usize = 3;

/// Who may connect to a new database (dataAccess `127.0.0.1`).
pub(crate) const DEFAULT_ACCESS: &str = "127.0.0.1";

pub(crate) fn handler(name: &str) -> Option<Handler> {
    let op = name.strip_prefix("sql_operate#");
    Some(match (name, op) {
        ("getsql", _) => |st, r| Ok((OK_READ, to_json(db(st, r.guid()?)?))),
        ("sql_orders", _) => |st, r| orders::paged(st.sqls.values().map(to_json), r),
        ("create_order#create_database", _) => create,
        (_, Some("sql_edit_name")) => |st, r| {
            let name = r.need("name")?.to_string();
            db_mut(st, r.guid()?)?.name = name;
            Ok((OK_WRITE, empty()))
        },
        // 根据已保存的创建参数重新创建: the panel-side database starts over (creation
        // password, local-only access, no job running); the order and its backups stay.
        (_, Some("sql_reissue")) => |st, r| {
            let d = db_mut(st, r.guid()?)?;
            d.db_password = d.created_password.clone();
            d.access = DEFAULT_ACCESS.into();
            (d.backup_progress, d.import_progress) = (100, 100);
            Ok((OK_WRITE, empty()))
        },
        (_, Some("sql_get_access")) => |st, r| {
            Ok((
                OK_READ,
                json!({"status": true, "msg": db(st, r.guid()?)?.access}),
            ))
        },
        (_, Some("sql_set_access")) => set_access,
        (_, Some("sql_reset_password")) => |st, r| {
            let password = r.need("password")?.to_string();
            db_mut(st, r.guid()?)?.db_password = password;
            Ok((OK_WRITE, empty()))
        },
        (_, Some("sql_backup_list")) => |st, r| {
            let d = db(st, r.guid()?)?;
            Ok((OK_READ, backup_rows(d.base.id, "1", &d.backups)))
        },
        (_, Some("sql_to_backup")) => to_backup,
        (_, Some("sql_del_backup")) => del_backup,
        (_, Some("sql_get_backup_size")) => |st, r| progress(st, r, |d| &mut d.backup_progress),
        (_, Some("sql_input_backup")) => input_backup,
        (_, Some("sql_get_import_size")) => |st, r| progress(st, r, |d| &mut d.import_progress),
        (_, Some("sql_refund")) => |st, r| orders::refund(st, Fam::Sql, r.guid()?),
        (_, Some("sql_renew")) => |st, r| orders::renew_until(st, Fam::Sql, r),
        (_, Some("sql_upgrade")) => upgrade,
        _ => return None,
    })
}

fn db(st: &State, id: i64) -> Result<&Sql, Fail> {
    order(&st.sqls, id)
}

fn db_mut(st: &mut State, id: i64) -> Result<&mut Sql, Fail> {
    live(&mut st.sqls, id)
}

pub(crate) fn to_json(d: &Sql) -> Value {
    let b = &d.base;
    json!({
        "id": b.id, "client_user_id": b.client_user_id, "hosting_id": d.hosting_id, "name": d.name,
        "product_guid": d.product_guid, "line_guid": d.line_guid,
        "use_disk": d.backups.len() as i64 * 2, "db_size": d.db_size, "db_type": d.db_type,
        "db_code": d.db_code, "db_name": d.db_name, "db_user": d.db_user, "db_password": d.db_password,
        "buy_time": fmt_time(b.buy_time), "start_time": fmt_time(b.buy_time), "end_time": fmt_time(b.end_time),
        "order_status": b.order_status, "run_status": b.run_status, "remarks": "",
        "renew_auto": d.renew_auto, "renew_price": yuan(b.monthly_fen), "buymonths": b.months,
    })
}

fn create(st: &mut State, r: &Req<'_>) -> Answer {
    let p = Purchase::read(r)?;
    let catalog = &st.catalog;
    let (product, line) =
        orders::product_on_line(&catalog.sql_products, &catalog.hosting_lines, r, p.months)?;
    let size = p.int("db", vi(&product, "db"))?;
    if size != vi(&product, "db") {
        return Err("数据库大小与产品不符".into());
    }
    let code = p.text("code").unwrap_or_else(|| "utf8mb4".into());
    if !["utf8mb4", "utf8", "gbk"].contains(&code.as_str()) {
        return Err("参数错误：content.code格式不正确".into());
    }
    let prefix = r.get("prefix").unwrap_or("db").to_string();
    let pwd = r.get("pwd").map(str::to_string);
    let price = vd(&product, "price");
    orders::buy(
        st,
        Fam::Sql,
        &p,
        price,
        orders::percent_discount(&product, p.months),
        |st, base| {
            let n = base.id;
            let name = format!("{prefix}_{n}");
            let pw = pwd.clone().unwrap_or_else(|| st.token("Db"));
            st.sqls.insert(
                n,
                Sql {
                    hosting_id: 0,
                    name: name.clone(),
                    product_guid: vs(&product, "guid"),
                    line_guid: line.clone(),
                    db_size: size,
                    db_type: "mysql".into(),
                    db_code: code.clone(),
                    db_name: name.clone(),
                    db_user: format!("{name}_user"),
                    created_password: pw.clone(),
                    db_password: pw,
                    renew_auto: p.renew_auto,
                    access: DEFAULT_ACCESS.into(),
                    backups: Vec::new(),
                    backup_progress: 100,
                    import_progress: 100,
                    base,
                },
            );
        },
    )
}

fn set_access(st: &mut State, r: &Req<'_>) -> Answer {
    let mode = r.need("dataAccess")?.to_string();
    let access = if mode == "ip" {
        let ips: Vec<&str> = r
            .need("access")?
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect();
        if ips.iter().any(|ip| ip.parse::<std::net::IpAddr>().is_err()) {
            return Err("参数错误：access格式不正确".into());
        }
        ips.join(",")
    } else {
        mode
    };
    db_mut(st, r.guid()?)?.access = access;
    Ok((OK_WRITE, empty()))
}

fn to_backup(st: &mut State, r: &Req<'_>) -> Answer {
    let now = st.now();
    let d = db_mut(st, r.guid()?)?;
    if d.backups.len() >= MAX_BACKUPS {
        return Err("最多保留3个备份,请先删除旧备份".into());
    }
    let stamp = now.to_zoned(china()).strftime("%Y%m%d_%H%M%S").to_string();
    let db_name = d.db_name.clone();
    push_backup(&mut d.backups, now, 204_800, |_| {
        format!("db_{db_name}_{stamp}.sql.gz")
    });
    d.backup_progress = 50;
    Ok((OK_WRITE, json!({"status": true, "msg": "备份中"})))
}

fn del_backup(st: &mut State, r: &Req<'_>) -> Answer {
    let bak = r.int_or("bak_guid", 0)?;
    let d = db_mut(st, r.guid()?)?;
    remove_where(&mut d.backups, |b| b.id == bak, "备份不存在".to_string())?;
    Ok((OK_WRITE, empty()))
}

fn input_backup(st: &mut State, r: &Req<'_>) -> Answer {
    let file = r.need("file")?.to_string();
    let d = db_mut(st, r.guid()?)?;
    if !d.backups.iter().any(|b| file.ends_with(&b.name)) {
        return Err("备份文件不存在".into());
    }
    d.import_progress = 50;
    Ok((OK_WRITE, json!({"status": true, "msg": "导入中"})))
}

/// Reports a job's progress, then lets it finish (it is done by the next query).
fn progress(st: &mut State, r: &Req<'_>, job: fn(&mut Sql) -> &mut i64) -> Answer {
    let d = st
        .sqls
        .get_mut(&r.guid()?)
        .ok_or_else(|| NOT_FOUND.to_string())?;
    let p = job(d);
    let shown = *p;
    *p = 100;
    Ok((OK_READ, json!({"status": true, "msg": format!("{shown}%")})))
}

fn upgrade(st: &mut State, r: &Req<'_>) -> Answer {
    let id = r.guid()?;
    let to = r.need("new_product_guid")?.to_string();
    let row = orders::upgrade_product(st, Fam::Sql, id, &to)?;
    let d = db_mut(st, id)?;
    d.product_guid = to;
    d.db_size = vi(&row, "db");
    Ok((OK_WRITE, to_json(d)))
}
