//! `Domainshare.*`: sharing a domain with another registered account, read-only or
//! read-write, optionally limited to one sub-domain.

use super::common::*;
use super::render::{obj, V};
use super::state::{Share, State};
use super::{fail, Args, Fail, Handler, Req, R};
use crate::errors::text;

pub(super) fn handler(name: &str) -> Option<Handler> {
    Some(match name {
        "Domainshare.Create" => create,
        "Domainshare.Modify" => modify,
        "Domainshare.Remove" => remove,
        "Domainshare.List" => list,
        _ => return None,
    })
}

fn list(st: &mut State, rq: &Req<'_>) -> R {
    let (d, share) = domain_rows(
        st,
        rq,
        |d| &d.shares,
        text::NO_SHARES,
        |s| obj!("share_to" => &s.email, "mode" => &s.mode, "status" => &s.status),
    )?;
    ok(vec![
        ("share", V::Arr(share)),
        ("owner", V::from(owner_email(st, d))),
    ])
}

/// The domain (writable by the caller) and the registered account `email` names, with
/// the position of its share if there is one.
fn target(st: &State, rq: &Req<'_>) -> Result<(u64, String, Option<usize>), Fail> {
    let did = find_domain(st, rq, Access::Write)?;
    let email = rq.str("email").to_ascii_lowercase();
    if !valid_email(&email) {
        return Err(fail(text::SHARE_EMAIL_INVALID));
    }
    if !st.by_email.contains_key(&email) {
        return Err(fail(text::SHARE_EMAIL_NOT_REGISTERED));
    }
    let pos = dom(st, did)?.shares.iter().position(|s| s.email == email);
    Ok((did, email, pos))
}

fn mode(rq: &Req<'_>) -> &'static str {
    if rq.str("mode") == "rw" {
        "rw"
    } else {
        "r"
    }
}

fn create(st: &mut State, rq: &Req<'_>) -> R {
    let (did, email, pos) = target(st, rq)?;
    let d = dom(st, did)?;
    if email == owner_email(st, d).to_ascii_lowercase() {
        return Err(fail(text::SHARE_EMAIL_INVALID));
    }
    if pos.is_some() {
        return Err(fail(text::SHARE_ALREADY_EXISTS));
    }
    if d.shares.len() >= grade_of(d).share_max {
        return Err(fail(text::SHARE_LIMIT_REACHED));
    }
    dom_mut(st, did)?.shares.push(Share {
        email: email.clone(),
        mode: mode(rq).into(),
        sub_domain: rq.arg("sub_domain").map(str::to_string),
        status: "enabled".into(),
    });
    log_domain(st, did, rq, &format!("共享域名给 {email}"));
    ok(vec![])
}

fn modify(st: &mut State, rq: &Req<'_>) -> R {
    let (did, email, pos) = target(st, rq)?;
    let d = dom_mut(st, did)?;
    let old = rq.arg("old_sub_domain");
    let Some(share) = pos
        .map(|i| &mut d.shares[i])
        .filter(|s| old.is_none() || s.sub_domain.as_deref() == old)
    else {
        return Err(fail(text::SHARE_NOT_FOUND));
    };
    share.mode = mode(rq).into();
    let new = rq.arg("new_sub_domain");
    if new.is_some() || old.is_some() {
        share.sub_domain = new.map(str::to_string);
    }
    log_domain(st, did, rq, &format!("修改共享 {email}"));
    ok(vec![])
}

fn remove(st: &mut State, rq: &Req<'_>) -> R {
    let (did, email, pos) = target(st, rq)?;
    let i = pos.ok_or_else(|| fail(text::SHARE_NOT_FOUND))?;
    dom_mut(st, did)?.shares.remove(i);
    log_domain(st, did, rq, &format!("取消共享 {email}"));
    ok(vec![])
}
