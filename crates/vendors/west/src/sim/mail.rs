//! Enterprise mail: tiers, purchase, renewal, upgrade, pause/resume, passwords.

use super::{
    add_months, fmt_date, fmt_time, m, page, strong_password, valid_hostname, years_left, Req,
    SimErr, State, R,
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
    TIERS
        .iter()
        .copied()
        .find(|x| x.0 == t)
        .ok_or_else(|| SimErr::invalid("type", "邮箱类型不存在"))
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
    st.mails
        .get_mut(&q.id("id")?)
        .ok_or_else(|| SimErr::bad_id("id"))
}

pub(crate) fn handle(st: &mut State, act: &str, q: &Req) -> R {
    let now = q.now;
    match act {
        "checkdomain" => {
            let d = q.req("domain")?.to_lowercase();
            if !valid_hostname(&d) {
                return Err(SimErr::invalid("domain", "域名格式错误"));
            }
            Ok(json!({"domain":d,"avail":u8::from(!st.mails.values().any(|x| x.domain == d))}))
        }
        "checkpwd" => {
            let p = q.req("password")?;
            let ok = strong_password(p) && !p.to_lowercase().contains("postmaster");
            Ok(
                json!({"valid":u8::from(ok),"reason":if ok {""} else {"密码需8-32位，包含字母和数字，且不能包含postmaster"}}),
            )
        }
        "getprice" => {
            let t = tier(q.req("type")?)?;
            let year = q.period("year", 5)?;
            Ok(json!({"type":t.0,"year":year,"price":m(Decimal::from(t.2 * year))}))
        }
        "buy" => {
            let d = q.req("domain")?.to_lowercase();
            let t = tier(q.req("type")?)?;
            let pw = q.password()?;
            let year = q.period("year", 5)?;
            if !valid_hostname(&d) {
                return Err(SimErr::invalid("domain", "域名格式错误"));
            }
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
        "detail" => match q.opt_int("id")? {
            Some(_) => Ok(mail_json(mail(st, q)?, now)),
            None => {
                let all: Vec<&MailDomain> = st.mails.values().collect();
                if all.is_empty() {
                    return Err(SimErr::empty());
                }
                Ok(page(&all, q.paging()?, |x| mail_json(x, now)))
            }
        },
        "getrenewprice" | "renew" => {
            let year = q.period("year", 5)?;
            let x = mail(st, q)?;
            let price = Decimal::from(tier(&x.mtype)?.2 * year);
            if act == "getrenewprice" {
                return Ok(json!({"id":x.id,"year":year,"price":m(price)}));
            }
            let (id, d) = (x.id, x.domain.clone());
            let orderid = st.charge(now, price, format!("续费企业邮箱 {d} {year}年"))?;
            let x = st.mails.get_mut(&id).ok_or_else(|| SimErr::bad_id("id"))?;
            x.expire = add_months(x.expire.max(now), 12 * year);
            Ok(json!({"id":id,"orderid":orderid,"amount":m(price),"expiredate":fmt_date(x.expire)}))
        }
        "getupgradeprice" | "upgrade" => {
            let t = tier(q.req("type")?)?;
            let x = mail(st, q)?;
            let cur = tier(&x.mtype)?;
            if t.1 <= cur.1 {
                return Err(SimErr::invalid("type", "只能升级到更大的型号"));
            }
            let years = years_left(now, x.expire);
            let price = Decimal::from((t.2 - cur.2) * years);
            if act == "getupgradeprice" {
                return Ok(json!({"id":x.id,"type":t.0,"price":m(price)}));
            }
            let id = x.id;
            let orderid = st.charge(now, price, format!("升级企业邮箱{id}到{}", t.0))?;
            let x = st.mails.get_mut(&id).ok_or_else(|| SimErr::bad_id("id"))?;
            x.mtype = t.0.into();
            Ok(json!({"id":id,"orderid":orderid,"amount":m(price),"type":t.0}))
        }
        "sync" => {
            let x = mail(st, q)?;
            x.synced = Some(now);
            let mut v = mail_json(x, now);
            v["synctime"] = json!(fmt_time(now));
            Ok(v)
        }
        "setstatus" => {
            let pause = q.req("status")? == "pause";
            let x = mail(st, q)?;
            if x.paused == pause {
                return Err(SimErr::refused("status", "邮箱已是该状态"));
            }
            x.paused = pause;
            Ok(json!({"id":x.id,"status":if pause {"paused"} else {"normal"}}))
        }
        "modifypwd" => {
            let pw = q.password()?;
            let x = mail(st, q)?;
            x.password = pw;
            Ok(json!({"id":x.id}))
        }
        "getfilingcode" => {
            let x = mail(st, q)?;
            Ok(
                json!({"id":x.id,"domain":x.domain,"code":format!("WM{:010}", (x.id * 7727 + 321) % 10_000_000_000)}),
            )
        }
        "clearpostmaster" => {
            let x = mail(st, q)?;
            if !x.postmaster_locked {
                return Err(SimErr::refused("id", "postmaster未被保护锁定"));
            }
            x.postmaster_locked = false;
            Ok(json!({"id":x.id,"postmasterlocked":0}))
        }
        other => Err(super::unhandled(other)),
    }
}
