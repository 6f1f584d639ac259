//! Public and per-product catalog queries: the rows are served as seeded.

use super::state::*;
use super::{Answer, Fields, Handler, Req, OK_READ};
use serde_json::{json, Value};

pub(crate) fn handler(name: &str) -> Option<Handler> {
    Some(match name {
        "getzones" => |st, _| rows(&st.catalog.zones),
        "getsystems" => systems,
        "getlines" => getlines,
        "getproduct" => |st, _| rows(&st.catalog.packages),
        "lease_lines" => |st, _| rows(&st.catalog.lease_lines),
        "lease_harddisk" => |st, _| rows(&st.catalog.lease_disks),
        "lease_product" => |st, _| rows(&st.catalog.lease_products),
        "idc_lines" => |st, _| rows(&st.catalog.idc_lines),
        "idc_product" => |st, _| rows(&st.catalog.idc_products),
        "hosting_lines" => |st, _| rows(&st.catalog.hosting_lines),
        "hosting_product" => |st, _| rows(&st.catalog.hosting_products),
        "sql_product" => |st, _| rows(&st.catalog.sql_products),
        "get_php_version" => php_versions,
        "hosting_get_soft_find" => soft_find,
        _ => return None,
    })
}

fn rows(list: &[Value]) -> Answer {
    Ok((OK_READ, Value::Array(list.to_vec())))
}

/// `zone_names` follows `lines`: the names of the zones listed, joined with "、".
fn systems(st: &mut State, _: &Req<'_>) -> Answer {
    let zones = &st.catalog.zones;
    let rows = st.catalog.systems.iter().map(|sys| {
        let names: Vec<String> = super::cloud::system_zones(sys)
            .iter()
            .filter_map(|z| find(zones, "guid", z).map(|row| vs(row, "name")))
            .collect();
        let mut sys = sys.clone();
        sys["zone_names"] = Value::String(names.join("、"));
        sys
    });
    Ok((OK_READ, Value::Array(rows.collect())))
}

/// Only lines open to the API (`server_lines.open_api = 1`); the flag itself is internal.
fn getlines(st: &mut State, _: &Req<'_>) -> Answer {
    let open: Vec<Value> = st
        .catalog
        .lines
        .iter()
        .filter(|l| vi(l, "_open_api") == 1)
        .map(|l| {
            let mut l = l.clone();
            if let Some(m) = l.as_object_mut() {
                m.retain(|k, _| !k.starts_with('_'));
            }
            l
        })
        .collect();
    Ok((OK_READ, Value::Array(open)))
}

fn hosting_line<'a>(st: &'a State, req: &Req<'_>) -> Result<&'a Value, Fail> {
    let guid = req.need("line_guid")?;
    find(&st.catalog.hosting_lines, "guid", guid)
        .filter(|l| vi(l, "status") == 1)
        .ok_or_else(|| BAD_LINE.into())
}

fn php_versions(st: &mut State, req: &Req<'_>) -> Answer {
    let line = vs(hosting_line(st, req)?, "guid");
    let list: Vec<Value> = st
        .catalog
        .php_versions
        .get(&line)
        .into_iter()
        .flatten()
        .map(|v| json!({"name": format!("PHP {v}"), "version": v}))
        .collect();
    Ok((OK_READ, Value::Array(list)))
}

/// Tool URLs on the line's node; only phpMyAdmin is installed on the simulated nodes.
fn soft_find(st: &mut State, req: &Req<'_>) -> Answer {
    let line = hosting_line(st, req)?;
    let soft = req.need("sNname")?.to_ascii_lowercase();
    if soft != "phpmyadmin" {
        return Err("软件未安装".into());
    }
    let url = format!(
        "https://{}/phpmyadmin_{}/index.php",
        vs(line, "domain"),
        &vs(line, "guid")[..6.min(vs(line, "guid").len())]
    );
    Ok((OK_READ, json!({"ext": {"url": url}})))
}
