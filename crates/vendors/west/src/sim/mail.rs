//! Enterprise mail: tiers, purchase, renewal, upgrade, pause/resume, passwords.

use super::{
    add_months, by_id, fmt_date, fmt_time, m, one_or_page, quote, row, strong_password,
    valid_hostname, years_left, Args, Handler, Req, SimErr, State, R,
};
use rust_decimal::Decimal;
use serde_json::{json, Value};

/// (type, mailboxes, yearly price).
const TIERS: [(&str, i64, i64); 4] = [
    ("M5", 5, 200),
    ("M20", 20, 600),
    ("M50", 50, 1200),
    ("M100", 100, 2000),
];

#[derive(Debug, Clone)]
pub(crate) struct MailDomain {
    pub id: u64,
    pub domain: String,
    pub mtype: String,
    pub password: String,
    pub created: i64,
    pub expire: i64,
    pub paused: bool,
    pub postmaster_locked: bool,
    pub mailboxes: Vec<String>,
    pub synced: Option<i64>,
}

fn tier(t: &str) -> Result<(&'static str, i64, i64), SimErr> {
    row(&TIERS, |x| x.0, t, ("type", "邮箱类型不存在"))
}

pub(crate) fn new_mail(
    st: &mut State,
    domain: &str,
    mtype: &str,
    password: &str,
    now: i64,
    years: i64,
) -> u64 {
    let id = st.next_id();
    st.mails.insert(
        id,
        MailDomain {
            id,
            domain: domain.into(),
            mtype: mtype.into(),
            password: password.into(),
            created: now,
            expire: add_months(now, 12 * years),
            paused: false,
            postmaster_locked: false,
            mailboxes: vec!["postmaster".into()],
            synced: None,
        },
    );
    id
}

fn mail_json(x: &MailDomain, now: i64) -> Value {
    let max = tier(&x.mtype).map_or(0, |t| t.1);
    json!({"id":x.id,"domain":x.domain,"type":x.mtype,"maxmailbox":max,
        "mailboxes":x.mailboxes.iter().map(|b| format!("{b}@{}", x.domain)).collect::<Vec<_>>(),
        "status":if x.paused {"paused"} else if x.expire < now {"expired"} else {"normal"},
        "postmasterlocked":u8::from(x.postmaster_locked),"regdate":fmt_date(x.created),"expiredate":fmt_date(x.expire)})
}

fn mail<'a>(st: &'a mut State, q: &Req) -> Result<&'a mut MailDomain, SimErr> {
    by_id(&mut st.mails, q, "id")
}

pub(crate) fn handler(name: &str) -> Option<Handler> {
    Some(match name {
        "mail.checkdomain" => checkdomain,
        "mail.checkpwd" => checkpwd,
        "mail.getprice" => getprice,
        "mail.buy" => buy,
        "mail.detail" => detail,
        "mail.getrenewprice" => getrenewprice,
        "mail.renew" => renew,
        "mail.getupgradeprice" => getupgradeprice,
        "mail.upgrade" => upgrade,
        "mail.sync" => sync,
        "mail.setstatus" => setstatus,
        "mail.modifypwd" => modifypwd,
        "mail.getfilingcode" => getfilingcode,
        "mail.clearpostmaster" => clearpostmaster,
        _ => return None,
    })
}

fn checkdomain(st: &mut State, q: &Req) -> R {
    let d = mail_domain(q)?;
    Ok(json!({"domain":d,"avail":u8::from(!st.mails.values().any(|x| x.domain == d))}))
}

fn checkpwd(_: &mut State, q: &Req) -> R {
    let p = q.need("password")?;
    let ok = strong_password(p) && !p.to_lowercase().contains("postmaster");
    Ok(
        json!({"valid":u8::from(ok),"reason":if ok {""} else {"密码需8-32位，包含字母和数字，且不能包含postmaster"}}),
    )
}

fn getprice(_: &mut State, q: &Req) -> R {
    let t = tier(q.need("type")?)?;
    let year = q.period("year", 5)?;
    Ok(json!({"type":t.0,"year":year,"price":m(Decimal::from(t.2 * year))}))
}

fn detail(st: &mut State, q: &Req) -> R {
    let now = q.now_ms();
    one_or_page(&mut st.mails, q, |x| mail_json(x, now))
}

fn getrenewprice(st: &mut State, q: &Req) -> R {
    let (x, year, price) = renew_quote(st, q)?;
    Ok(quote(x.id, ("year", json!(year)), price))
}

fn getupgradeprice(st: &mut State, q: &Req) -> R {
    let (x, t, price) = upgrade_quote(st, q)?;
    Ok(quote(x.id, ("type", json!(t)), price))
}

fn sync(st: &mut State, q: &Req) -> R {
    let now = q.now_ms();
    let x = mail(st, q)?;
    x.synced = Some(now);
    let mut v = mail_json(x, now);
    v["synctime"] = json!(fmt_time(now));
    Ok(v)
}

fn modifypwd(st: &mut State, q: &Req) -> R {
    let pw = q.password()?;
    let x = mail(st, q)?;
    x.password = pw;
    Ok(json!({"id":x.id}))
}

fn getfilingcode(st: &mut State, q: &Req) -> R {
    let x = mail(st, q)?;
    Ok(
        json!({"id":x.id,"domain":x.domain,"code":format!("WM{:010}", (x.id * 7727 + 321) % 10_000_000_000)}),
    )
}

fn clearpostmaster(st: &mut State, q: &Req) -> R {
    let x = mail(st, q)?;
    if !x.postmaster_locked {
        return Err(SimErr::refused("id", "postmaster未被保护锁定"));
    }
    x.postmaster_locked = false;
    Ok(json!({"id":x.id,"postmasterlocked":0}))
}

fn mail_domain(q: &Req) -> Result<String, SimErr> {
    let d = q.need("domain")?.to_lowercase();
    if !valid_hostname(&d) {
        return Err(SimErr::invalid("domain", "域名格式错误"));
    }
    Ok(d)
}

fn buy(st: &mut State, q: &Req) -> R {
    let now = q.now_ms();
    let t = tier(q.need("type")?)?;
    let pw = q.password()?;
    let year = q.period("year", 5)?;
    let d = mail_domain(q)?;
    if st.mails.values().any(|x| x.domain == d) {
        return Err(SimErr::refused("domain", "该域名已开通邮箱"));
    }
    let price = Decimal::from(t.2 * year);
    let orderid = st.charge(now, price, format!("购买企业邮箱 {d} {} {year}年", t.0))?;
    let id = new_mail(st, &d, t.0, &pw, now, year);
    Ok(
        json!({"id":id,"orderid":orderid,"amount":m(price),"expiredate":fmt_date(st.mails[&id].expire)}),
    )
}

fn renew_quote<'a>(
    st: &'a mut State,
    q: &Req,
) -> Result<(&'a mut MailDomain, i64, Decimal), SimErr> {
    let year = q.period("year", 5)?;
    let x = mail(st, q)?;
    let price = Decimal::from(tier(&x.mtype)?.2 * year);
    Ok((x, year, price))
}

fn renew(st: &mut State, q: &Req) -> R {
    let now = q.now_ms();
    let (x, year, price) = renew_quote(st, q)?;
    let (id, d) = (x.id, x.domain.clone());
    let orderid = st.charge(now, price, format!("续费企业邮箱 {d} {year}年"))?;
    let x = mail(st, q)?;
    x.expire = add_months(x.expire.max(now), 12 * year);
    Ok(json!({"id":id,"orderid":orderid,"amount":m(price),"expiredate":fmt_date(x.expire)}))
}

/// The larger tier asked for and the yearly difference for the years left.
fn upgrade_quote<'a>(
    st: &'a mut State,
    q: &Req,
) -> Result<(&'a mut MailDomain, &'static str, Decimal), SimErr> {
    let t = tier(q.need("type")?)?;
    let x = mail(st, q)?;
    let cur = tier(&x.mtype)?;
    if t.1 <= cur.1 {
        return Err(SimErr::invalid("type", "只能升级到更大的型号"));
    }
    let years = years_left(q.now_ms(), x.expire);
    Ok((x, t.0, Decimal::from((t.2 - cur.2) * years)))
}

fn upgrade(st: &mut State, q: &Req) -> R {
    let (x, t, price) = upgrade_quote(st, q)?;
    let id = x.id;
    let orderid = st.charge(q.now_ms(), price, format!("升级企业邮箱{id}到{t}"))?;
    mail(st, q)?.mtype = t.into();
    Ok(json!({"id":id,"orderid":orderid,"amount":m(price),"type":t}))
}

fn setstatus(st: &mut State, q: &Req) -> R {
    let pause = q.need("status")? == "pause";
    let x = mail(st, q)?;
    if x.paused == pause {
        return Err(SimErr::refused("status", "邮箱已是该状态"));
    }
    x.paused = pause;
    Ok(json!({"id":x.id,"status":if pause {"paused"} else {"normal"}}))
}
