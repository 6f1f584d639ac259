//! 赠品 (gifts that come with a hosting plan: one mail domain, one database, free of
//! charge, expiring with the host) and the account's coupons (优惠券).

use super::products::{mail_json, new_db, opened_db_json, Db, MailDomain};
use super::{fmt_date, fmt_time_ms, Fields, Handler, Req, SimErr, State, R};
use serde_json::{json, Value};

/// The types a coupon can pay for (the document's wording).
const TICKET_SCOPE: &str = "域名，虚拟主机，企业邮局，数据库，橙云主机，VPS，智能解析，建站之星";

pub(crate) fn handler(name: &str) -> Option<Handler> {
    Some(match name {
        "/present/ticketlist" => ticket_list,
        "/present/openmail" => open_mail,
        "/present/openssl" => open_db,
        _ => return None,
    })
}

fn ticket_list(st: &mut State, q: &Req) -> R {
    let want = q.arg("state");
    Ok(Value::Array(
        st.tickets
            .iter()
            .filter(|t| match want {
                Some("1") => !t.used && q.now_ms() <= t.exp,
                Some("0") => t.used,
                _ => true,
            })
            .map(|t| {
                json!({
                    "type": TICKET_SCOPE,
                    "apply_tme": fmt_date(t.apply),
                    "exp_tme": fmt_date(t.exp),
                    "money": t.money.normalize().to_string(),
                    "isvalid": if t.used { "0" } else { "1" },
                    "title": t.title,
                    "signature": t.signature,
                    "tktype": t.tktype.to_string(),
                })
            })
            .collect(),
    ))
}

/// A hosting plan's gift of `kind` (EMAIL, DATABASE): checks the host and the coupon,
/// then `make` opens the gift from `(reg, exp)` and answers `(its name, the answer)`.
fn open_gift(
    st: &mut State,
    q: &Req,
    kind: &'static str,
    make: impl FnOnce(&mut State, (i64, i64)) -> Result<(String, Value), SimErr>,
) -> R {
    let hostname = q.req("hostname")?.to_ascii_lowercase();
    let Some(host) = st.hosts.get(&hostname) else {
        return Err(SimErr::new(16002, "主体产品信息获取失败"));
    };
    if host.presents.iter().any(|(_, k)| *k == kind) {
        return Err(SimErr::new(16003, "赠品已开通过"));
    }
    // A coupon is accepted on gift calls but there is nothing to pay; an unknown one
    // is still refused.
    if let Some(sig) = q.arg("signature") {
        if !st.tickets.iter().any(|t| t.signature == sig) {
            return Err(SimErr::field(10042, "优惠券不存在", "signature"));
        }
    }
    let term = (q.now_ms(), host.exp);
    let (gift, answer) = make(st, term)?;
    if let Some(h) = st.hosts.get_mut(&hostname) {
        h.presents.push((gift, kind));
    }
    Ok(answer)
}

fn open_mail(st: &mut State, q: &Req) -> R {
    open_gift(st, q, "EMAIL", |st, (reg, exp)| {
        let domain = q.req("maildomain")?.to_ascii_lowercase();
        if !super::valid_hostname(&domain) || domain.matches('.').count() != 1 {
            return Err(SimErr::field(15001, "邮局域名非法", "maildomain"));
        }
        if st.mails.contains_key(&domain) {
            return Err(SimErr::field(
                15002,
                "邮局域名已有订单无法使用",
                "maildomain",
            ));
        }
        let pass = q.req("mailpassword")?;
        let mixed = pass.chars().any(|c| c.is_ascii_alphabetic())
            && pass.chars().any(|c| c.is_ascii_digit());
        if !(6..=8).contains(&pass.len())
            || !mixed
            || !pass.chars().all(|c| c.is_ascii_alphanumeric())
        {
            return Err(SimErr::field(15003, "管理密码非法", "mailpassword"));
        }
        let mut md = MailDomain::new(&domain, "m", 2, pass, reg, exp);
        md.gift = true;
        let answer = mail_json(&md);
        st.mails.insert(domain.clone(), md);
        Ok((domain, answer))
    })
}

/// OpenSSL opens the gift database, whatever its name says.
fn open_db(st: &mut State, q: &Req) -> R {
    open_gift(st, q, "DATABASE", |st, (reg, exp)| {
        let (dbname, pass) = new_db(st, q)?;
        // Gift databases: 1 MySQL, 2 MSSQL (the product codes 2 and 3 of CreateOdr).
        let dbtype = match q.req("dbtype")? {
            "1" => "2",
            "2" => "3",
            _ => return Err(SimErr::new(16005, "赠品数据库开通失败(类型非法)")),
        };
        let mut db = Db::new(&dbname, dbtype, "1", reg, exp, pass);
        db.gift = true;
        let host = q.req("hostname")?.to_ascii_lowercase();
        if let Some(h) = st.hosts.get(&host) {
            db.location.clone_from(&h.location);
            db.linetype.clone_from(&h.linetype);
        }
        db.belongtohost = host;
        let mut answer = opened_db_json(&db, &[]);
        // OpenSSL's sample prints its dates with milliseconds (DBDetail's do not).
        if let Some(o) = answer.get_mut(0).and_then(Value::as_object_mut) {
            o.insert("regtime".into(), json!(fmt_time_ms(reg)));
            o.insert("expiretime".into(), json!(fmt_time_ms(exp)));
        }
        st.dbs.insert(dbname.clone(), db);
        Ok((dbname, answer))
    })
}
