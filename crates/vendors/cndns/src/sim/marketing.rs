//! EDM (e-mail marketing) and SMS accounts: bought as point packages against the
//! balance, topped up with more points, each with its own password and login link.
//! The two modules share one shape and differ in packages, prices and codes.

use super::{done, edit_mine, fmt_time_sms, Fields, Handler, Purpose, Req, SimErr, State, R};
use rust_decimal::Decimal;
use serde_json::{json, Value};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Edm,
    Sms,
}

#[derive(Debug, Clone)]
pub(crate) struct PointsAccount {
    pub kind: Kind,
    pub account: String,
    pub password: String,
    pub bought: u64,
    pub rest: u64,
    pub created: i64,
}

struct Rules {
    prefix: &'static str,
    /// Packages allowed at purchase and at top-up.
    create: &'static [u64],
    top_up: &'static [u64],
    /// Price of one point, in fen.
    fen_per_point: i64,
    bad_points: u32,
    bad_password: u32,
    web: &'static str,
}

fn rules(kind: Kind) -> Rules {
    match kind {
        Kind::Edm => Rules {
            prefix: "edm",
            create: &[10_000, 30_000, 50_000, 100_000],
            top_up: &[1_000, 10_000, 30_000, 50_000, 100_000],
            fen_per_point: 1,
            bad_points: 20007,
            bad_password: 20004,
            web: "http://mail.edmcn.cn/",
        },
        Kind::Sms => Rules {
            prefix: "sms",
            create: &[3_000, 10_000, 30_000, 50_000, 100_000],
            top_up: &[1_000, 10_000, 30_000, 50_000, 100_000],
            fen_per_point: 6,
            bad_points: 21106,
            bad_password: 21102,
            web: "http://sms.cndns.com/login",
        },
    }
}

fn points(q: &Req, allowed: &[u64], code: u32) -> Result<u64, SimErr> {
    q.req("points")?
        .parse::<u64>()
        .ok()
        .filter(|p| allowed.contains(p))
        .ok_or_else(|| SimErr::field(code, "购买点数非法", "points"))
}

fn price(r: &Rules, points: u64) -> Decimal {
    Decimal::new(
        i64::try_from(points).unwrap_or(i64::MAX / 100) * r.fen_per_point,
        2,
    )
}

/// Names: letters, digits and Chinese only.
fn name_ok(s: &str) -> bool {
    !s.is_empty() && s.chars().all(char::is_alphanumeric)
}

fn detail(a: &PointsAccount) -> Value {
    match a.kind {
        Kind::Edm => {
            json!({"account": a.account, "password": a.password, "points": a.bought.to_string(), "WebURL": rules(a.kind).web})
        }
        Kind::Sms => {
            json!([{"account": a.account, "password": a.password, "buypoints": a.bought.to_string(), "restpoints": a.rest.to_string(), "buytime": fmt_time_sms(a.created)}])
        }
    }
}

pub(crate) fn handler(name: &str) -> Option<Handler> {
    Some(match name {
        "/edm/createorder" | "/sms/createorder" => create,
        "/edm/getdetail" | "/sms/getdetail" => |st, q| on_account(st, q, |_, _, a| Ok(detail(a))),
        "/edm/getrestpoints" | "/sms/getrestpoints" => {
            |st, q| on_account(st, q, |_, _, a| Ok(json!(a.rest.to_string())))
        }
        "/edm/getloginurl" | "/sms/getloginurl" => login_url,
        "/edm/modifypass" | "/sms/modifypass" => modify_pass,
        "/edm/upoints" | "/sms/upoints" => top_up,
        _ => return None,
    })
}

/// Which of the two modules a call is for.
fn kind_of(q: &Req) -> Kind {
    if q.action().name().starts_with("/edm/") {
        Kind::Edm
    } else {
        Kind::Sms
    }
}

/// The caller's account of the module (`account`, an e-mail-like name), edited
/// through [`edit`].
fn on_account(
    st: &mut State,
    q: &Req,
    op: impl FnOnce(&mut State, &Rules, &mut PointsAccount) -> R,
) -> R {
    let kind = kind_of(q);
    let account = q.req("account")?.to_ascii_lowercase();
    if !account.contains('@') {
        return Err(SimErr::field(
            if kind == Kind::Edm { 20002 } else { 21101 },
            "产品账户非法",
            "account",
        ));
    }
    let not_member = || SimErr::new(10019, "产品不在会员名下");
    edit_mine(
        st,
        |st| &mut st.marketing,
        account,
        |a| a.kind == kind,
        not_member,
        |st, a| op(st, &rules(kind), a),
    )
}

fn login_url(st: &mut State, q: &Req) -> R {
    on_account(st, q, |_, r, a| {
        Ok(json!(format!(
            "{}?sso={}",
            r.web,
            crate::md5_hex(&format!("{}{}", a.account, q.now_ms()))
        )))
    })
}

fn modify_pass(st: &mut State, q: &Req) -> R {
    on_account(st, q, |_, r, a| {
        let p = q.req("password")?;
        if p.len() < 6 || (p.contains('{') && p.contains('}')) {
            return Err(SimErr::field(r.bad_password, "账户密码非法", "password"));
        }
        if a.kind == Kind::Sms && p.contains(['"', '\'', ' ']) {
            return Err(SimErr::field(21103, "密码包含非法字符", "password"));
        }
        a.password = p.into();
        done()
    })
}

fn top_up(st: &mut State, q: &Req) -> R {
    on_account(st, q, |st, r, a| {
        let n = points(q, r.top_up, r.bad_points)?;
        st.charge_order(
            q,
            Purpose::Renew,
            price(r, n),
            format!("{} 购买点数 {} {n}", r.prefix, a.account),
        )?;
        a.bought += n;
        a.rest += n;
        done()
    })
}

fn create(st: &mut State, q: &Req) -> R {
    let kind = kind_of(q);
    let r = &rules(kind);
    let (last_code, first_code) = match kind {
        Kind::Edm => (20005, 20006),
        Kind::Sms => (21002, 21003),
    };
    if !name_ok(q.req("lastname")?) {
        return Err(SimErr::field(last_code, "联系人姓氏非法", "lastname"));
    }
    if !name_ok(q.req("firstname")?) {
        return Err(SimErr::field(first_code, "联系人姓名非法", "firstname"));
    }
    let n = points(q, r.create, r.bad_points)?;
    if kind == Kind::Sms {
        // `get`, not slicing: a hostile value may put a multi-byte character across byte 17.
        let id_ok = |s: &str| {
            s.len() == 18
                && s.get(..17)
                    .is_some_and(|h| h.bytes().all(|b| b.is_ascii_digit()))
        };
        for (k, code) in [("adminid", 21008), ("corporationid", 21012)] {
            if !id_ok(q.req(k)?) {
                return Err(SimErr::field(code, "身份证号码非法", k));
            }
        }
        q.checked(
            "company",
            |company| (2..=150).contains(&company.chars().count()),
            21009,
            "公司名称非法",
        )?;
        if q.req("yyzz")?.len() < 8 {
            return Err(SimErr::field(21010, "公司证件号码非法", "yyzz"));
        }
        for (k, code) in [("adminname", 21007), ("corporation", 21011)] {
            if !name_ok(q.req(k)?) {
                return Err(SimErr::field(code, "姓名非法", k));
            }
        }
    }
    let id = st.next_id();
    let account = format!("{}{id}@{}.cndns-user.cn", r.prefix, st.username);
    st.charge_order(
        q,
        Purpose::Buy,
        price(r, n),
        format!("{} 开通 {account} {n}点", r.prefix),
    )?;
    let a = PointsAccount {
        kind,
        account: account.clone(),
        password: format!("Pw{:06}", id * 7919 % 1_000_000),
        bought: n,
        rest: n,
        created: q.now_ms(),
    };
    let answer = match kind {
        Kind::Edm => {
            json!([{"account": a.account, "password": a.password, "points": n.to_string(), "WebURL": r.web}])
        }
        Kind::Sms => {
            json!({"account": a.account, "password": a.password, "buypoints": n.to_string(), "restpoints": n.to_string(), "buytime": fmt_time_sms(a.created)})
        }
    };
    st.marketing.insert(account, a);
    Ok(answer)
}
