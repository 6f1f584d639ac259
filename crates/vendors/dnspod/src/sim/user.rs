//! The account's own methods: `Info.Version`, `User.*` (detail, modify, log),
//! `Userpasswd.Modify`, `Useremail.Modify`, `Telephoneverify.Code`.

use super::common::*;
use super::render::{obj, s, yuan, V};
use super::state::{State, GRADES};
use super::{fail, Args, Handler, Out, Req, R};
use crate::errors::text;

pub(super) fn handler(name: &str) -> Option<Handler> {
    Some(match name {
        "Info.Version" => version,
        "User.Detail" => detail,
        "User.Modify" => modify,
        "Userpasswd.Modify" => passwd_modify,
        "Useremail.Modify" => email_modify,
        "Telephoneverify.Code" => telephone_code,
        "User.Log" => log,
        _ => return None,
    })
}

/// The version travels as the status message.
fn version(_: &mut State, _: &Req<'_>) -> R {
    Ok(Out {
        message: Some("4.6".into()),
        ..Out::default()
    })
}

/// The best grade among the account's domains.
fn user_grade(st: &State, id: u64) -> &'static str {
    let rank = |g: &str| GRADES.iter().position(|x| x.code == g).unwrap_or(0) % 5;
    st.domains
        .values()
        .filter(|d| d.owner == id)
        .map(|d| d.grade)
        .max_by_key(|g| rank(g))
        .unwrap_or("DP_Free")
}

fn detail(st: &mut State, rq: &Req<'_>) -> R {
    let a = actor(st, rq)?;
    let user = obj!(
        "real_name" => &a.real_name,
        "user_type" => &a.user_type,
        "telephone" => &a.telephone,
        "im" => &a.im,
        "nick" => &a.nick,
        "id" => s(a.id),
        "email" => &a.email,
        "status" => &a.status,
        "email_verified" => yes_no(a.email_verified),
        "telephone_verified" => yes_no(a.telephone_verified),
        "weixin_binded" => "no",
        "agent_pending" => false,
        // An agent's spendable balance is its agent account's.
        "balance" => yuan(a.agent.as_ref().map_or(a.balance_fen, |ag| ag.balance_fen)),
        "smsbalance" => a.sms_balance,
        "user_grade" => user_grade(st, a.id),
    );
    ok(vec![("info", obj!("user" => user))])
}

fn modify(st: &mut State, rq: &Req<'_>) -> R {
    if let Some(p) = rq.arg("telephone") {
        if !valid_phone(p) {
            return Err(fail(text::TELEPHONE_NUMBER_INVALID_8));
        }
    }
    if let Some(im) = rq.arg("im") {
        if !(5..=11).contains(&im.len()) || !im.bytes().all(|b| b.is_ascii_digit()) {
            return Err(fail(text::USER_QQ_INVALID));
        }
    }
    let a = actor_mut(st, rq)?;
    if let Some(v) = rq.arg("real_name") {
        a.real_name = v.into();
    }
    if let Some(v) = rq.arg("nick") {
        a.nick = v.into();
    }
    if let Some(v) = rq.arg("telephone") {
        if a.telephone != v {
            a.telephone = v.into();
            a.telephone_verified = false;
        }
    }
    if let Some(v) = rq.arg("im") {
        a.im = v.into();
    }
    let id = a.id;
    log_user(st, id, rq, "修改资料");
    ok(vec![])
}

fn passwd_modify(st: &mut State, rq: &Req<'_>) -> R {
    let a = actor_mut(st, rq)?;
    if a.password != rq.str("old_password") {
        return Err(fail(text::OLD_PASSWORD_WRONG));
    }
    let new = rq.str("new_password");
    if !(6..=18).contains(&new.chars().count()) {
        return Err(fail(text::NEW_PASSWORD_INVALID));
    }
    if a.password_history.iter().any(|p| p == new) {
        return Err(fail(text::PASSWORD_HAS_BEEN_USED_BEFORE));
    }
    let local = a.email.split('@').next().unwrap_or("");
    if new.bytes().all(|b| b.is_ascii_digit())
        || new.bytes().all(|b| b.is_ascii_alphabetic())
        || new == local
    {
        return Err(fail(text::NEW_PASSWORD_IS_NOT_SECURE));
    }
    a.password = new.to_string();
    a.password_history.push(new.to_string());
    let id = a.id;
    log_user(st, id, rq, "修改密码");
    ok(vec![])
}

fn email_modify(st: &mut State, rq: &Req<'_>) -> R {
    let (old, new) = (
        rq.str("old_email"),
        rq.str("new_email").to_ascii_lowercase(),
    );
    let a = actor(st, rq)?;
    if !a.email.eq_ignore_ascii_case(old) {
        return Err(fail(text::OLD_EMAIL_WRONG));
    }
    if !valid_email(&new) || st.by_email.contains_key(&new) {
        return Err(fail(text::NEW_EMAIL_INVALID));
    }
    if a.password != rq.str("password") {
        return Err(fail(text::PASSWORD_WRONG));
    }
    let old_key = a.email.to_ascii_lowercase();
    let id = a.id;
    st.by_email.remove(&old_key);
    st.by_email.insert(new.clone(), id);
    if let Some(a) = st.accounts.get_mut(&id) {
        a.email = new;
        a.email_verified = false;
    }
    log_user(st, id, rq, "修改邮箱");
    ok(vec![])
}

fn telephone_code(st: &mut State, rq: &Req<'_>) -> R {
    let tel = rq.str("telephone");
    let now = rq.now();
    let a = actor_mut(st, rq)?;
    if a.telephone_verified && a.telephone == tel {
        return Err(fail(text::TELEPHONE_ALREADY_VERIFIED));
    }
    if !valid_phone(tel) {
        return Err(fail(text::TELEPHONE_NUMBER_INVALID_5));
    }
    let code = format!("{:06}", now.as_second().rem_euclid(1_000_000));
    a.phone_code = Some(code.clone());
    let desc = format!("请用手机 {tel} 发送 {code} 到 106900000000 完成验证");
    ok(vec![(
        "user",
        obj!("verify_code" => code, "verify_desc" => desc),
    )])
}

fn log(st: &mut State, rq: &Req<'_>) -> R {
    let a = actor(st, rq)?;
    let log: Vec<V> = a.logs.iter().rev().map(V::from).collect();
    ok(vec![("log", V::Arr(log))])
}
