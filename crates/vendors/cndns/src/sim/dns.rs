//! DNS records of domains on CNDNS's name servers: validation with the document's
//! codes, AddRec answering the new id as a string, ModifyRec changing only value and
//! TTL, DeleteRec answering 11318 for a record that is already gone.

use super::domain::owned;
use super::{Fields, Handler, Req, SimErr, State, R};
use serde_json::{json, Value};

/// `maxdns` of DomainDetail: records allowed per domain.
pub(crate) const MAX_RECORDS: usize = 100;
const MIN_TTL: u32 = 300;

#[derive(Debug, Clone)]
pub(crate) struct Rec {
    pub id: u64,
    pub item: String,
    pub rtype: String,
    pub value: String,
    pub mx: u32,
    pub ttl: u32,
}

pub(crate) fn handler(name: &str) -> Option<Handler> {
    Some(match name {
        "/domains/reclist" => list,
        "/domains/addrec" => add,
        "/domains/modifyrec" => modify,
        "/domains/deleterec" => delete,
        _ => return None,
    })
}

fn valid_item(item: &str) -> bool {
    item == "@"
        || item.split('.').enumerate().all(|(i, l)| {
            (i == 0 && l == "*")
                || (!l.is_empty()
                    && l.len() <= 63
                    && !l.starts_with('-')
                    && !l.ends_with('-')
                    && l.chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'))
        })
}

/// The value rules of AddRec, per record type.
fn check_value(rtype: &str, value: &str) -> Result<(), SimErr> {
    let host_ok = super::valid_hostname(value);
    match rtype {
        "A" if value.parse::<std::net::Ipv4Addr>().is_err() => {
            Err(SimErr::new(11312, "A记录的记录值非法"))
        }
        "AAAA" if value.parse::<std::net::Ipv6Addr>().is_err() => {
            Err(SimErr::new(11312, "AAAA记录的记录值非法"))
        }
        // "记录值错误或最后一位缺少点": CNAME and MX targets are written absolute.
        "CNAME" if !(host_ok && value.ends_with('.')) => Err(SimErr::field(
            11313,
            "CNAME记录的记录值错误或最后一位缺少点",
            "rec_value",
        )),
        "NS" if !host_ok => Err(SimErr::field(11313, "NS记录的记录值错误", "rec_value")),
        "MX" if !(host_ok && value.ends_with('.')) => Err(SimErr::field(
            11314,
            "MX记录的记录值错误或最后一位缺少点",
            "rec_value",
        )),
        "TXT" if value.chars().count() > 255 => {
            Err(SimErr::new(11315, "TXT记录值长度不能超过255位"))
        }
        "TXT" if !value.is_ascii() => Err(SimErr::new(11316, "TXT记录值不能包含中文")),
        _ => Ok(()),
    }
}

fn ttl(q: &Req, failure: u32) -> Result<u32, SimErr> {
    match q.text("rec_ttl").parse::<u32>() {
        Ok(t) if t >= MIN_TTL => Ok(t),
        _ => Err(SimErr::field(failure, "TTL值不能小于300", "rec_ttl")),
    }
}

fn our_domain<'a>(st: &'a mut State, q: &Req) -> Result<&'a mut super::domain::Domain, SimErr> {
    let now = q.now_ms();
    let d = owned(st, q, 11302)?;
    if !d.on_our_dns() {
        return Err(SimErr::new(11307, "域名DNS不是美橙互联的DNS"));
    }
    if d.runstate(now) == "expired" {
        return Err(SimErr::new(11308, "域名状态错误"));
    }
    Ok(d)
}

fn rec_json(domain: &str, r: &Rec) -> Value {
    json!({
        "rec_id": r.id.to_string(),
        "domainname": domain,
        "rec_item": r.item,
        "rec_type": r.rtype,
        "rec_mx": r.mx.to_string(),
        "rec_value": r.value,
        "rec_ttl": r.ttl.to_string(),
    })
}

fn list(st: &mut State, q: &Req) -> R {
    let d = owned(st, q, 11302)?;
    Ok(Value::Array(
        d.records.values().map(|r| rec_json(&d.name, r)).collect(),
    ))
}

fn add(st: &mut State, q: &Req) -> R {
    let item = q.req("rec_item")?.to_ascii_lowercase();
    if !valid_item(&item) {
        return Err(SimErr::new(11309, "主机头值错误"));
    }
    let rtype = q.req("rec_type")?.to_ascii_uppercase();
    let value = q
        .arg("rec_value")
        .ok_or_else(|| SimErr::new(11305, "记录值为空"))?
        .to_string();
    check_value(&rtype, &value)?;
    let mx = if rtype == "MX" {
        match q.arg("rec_level").map(str::parse::<u32>) {
            None => return Err(SimErr::new(11304, "MX记录优先值不能为空")),
            Some(Ok(n)) if (1..=100).contains(&n) => n,
            Some(_) => return Err(SimErr::new(11311, "优先值为空或非数字")),
        }
    } else {
        10
    };
    let ttl = ttl(q, 11319)?;
    let id = st.next_id();
    let d = our_domain(st, q)?;
    if d.records.len() >= MAX_RECORDS {
        return Err(SimErr::new(11319, "域名解析添加失败,解析条数已达上限"));
    }
    // A duplicate, a CNAME beside anything else, or a second CNAME of the host.
    let clash = d.records.values().any(|r| {
        r.item == item
            && ((r.rtype == rtype && r.value.eq_ignore_ascii_case(&value))
                || r.rtype == "CNAME"
                || rtype == "CNAME")
    });
    if clash {
        return Err(SimErr::new(
            11319,
            "域名解析添加失败,记录已存在或与CNAME冲突",
        ));
    }
    d.records.insert(
        id,
        Rec {
            id,
            item,
            rtype,
            value,
            mx,
            ttl,
        },
    );
    Ok(json!(id.to_string()))
}

fn rec_id(q: &Req) -> Result<u64, SimErr> {
    q.arg("rec_id")
        .ok_or_else(|| SimErr::new(11317, "记录ID为空"))?
        .parse()
        .map_err(|_| SimErr::new(11318, "解析记录获取失败,请确认是否存在"))
}

fn modify(st: &mut State, q: &Req) -> R {
    let id = rec_id(q)?;
    let value = q
        .arg("rec_value")
        .ok_or_else(|| SimErr::new(11305, "记录值为空"))?
        .to_string();
    let ttl = ttl(q, 11320)?;
    let d = our_domain(st, q)?;
    let Some(r) = d.records.get_mut(&id) else {
        return Err(SimErr::new(11318, "解析记录获取失败,请确认是否存在"));
    };
    check_value(&r.rtype, &value)?;
    r.value = value;
    r.ttl = ttl;
    Ok(json!(""))
}

fn delete(st: &mut State, q: &Req) -> R {
    let id = rec_id(q)?;
    let d = our_domain(st, q)?;
    if d.records.remove(&id).is_none() {
        return Err(SimErr::new(11318, "解析信息不存在"));
    }
    Ok(json!(""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_and_values() {
        assert!(valid_item("@") && valid_item("*.img") && valid_item("_dmarc"));
        assert!(!valid_item("a..b") && !valid_item("-x") && !valid_item("中文"));
        assert!(check_value("A", "1.2.3.4").is_ok());
        assert_eq!(check_value("A", "1.2.3").unwrap_err().code, 11312);
        assert_eq!(check_value("TXT", "中文").unwrap_err().code, 11316);
        assert_eq!(check_value("MX", "mx").unwrap_err().code, 11314);
        assert!(check_value("CNAME", "target.example.com.").is_ok());
        assert_eq!(
            check_value("CNAME", "target.example.com").unwrap_err().code,
            11313
        );
        assert_eq!(check_value("MX", "mx.example.com").unwrap_err().code, 11314);
        assert!(check_value("MX", "mx.example.com.").is_ok());
    }
}
