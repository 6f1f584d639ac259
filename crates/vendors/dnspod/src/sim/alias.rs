//! `Domainalias.*`: other names that resolve as a domain (up to the grade's limit).

use super::common::*;
use super::render::{obj, s, V};
use super::state::State;
use super::{fail, Args, Handler, Req, R};
use crate::errors::text;

pub(super) fn handler(name: &str) -> Option<Handler> {
    Some(match name {
        "Domainalias.List" => list,
        "Domainalias.Create" => create,
        "Domainalias.Remove" => remove,
        _ => return None,
    })
}

fn list(st: &mut State, rq: &Req<'_>) -> R {
    let (_, alias) = domain_rows(
        st,
        rq,
        |d| &d.aliases,
        text::NO_ALIASES,
        |(id, name)| obj!("id" => s(id), "domain" => name),
    )?;
    ok(vec![("alias", V::Arr(alias))])
}

fn create(st: &mut State, rq: &Req<'_>) -> R {
    let did = find_domain(st, rq, Access::Write)?;
    // `domain` names the alias here; the aliased domain is `domain_id` (resolved above).
    let alias = rq.str("domain").to_lowercase();
    if !valid_domain(&alias) {
        return Err(fail(text::ALIAS_DOMAIN_INVALID));
    }
    let d = dom(st, did)?;
    if d.aliases.iter().any(|(_, a)| *a == alias) {
        return Err(fail(text::ALIAS_ALREADY_ADDED));
    }
    if st.by_name.contains_key(&alias)
        || st
            .domains
            .values()
            .any(|x| x.aliases.iter().any(|(_, a)| *a == alias))
    {
        return Err(fail(text::ALIAS_ALREADY_BOUND));
    }
    if d.aliases.len() >= grade_of(d).alias_max {
        return Err(fail(text::ALIAS_LIMIT_REACHED));
    }
    let id = st.misc_id();
    dom_mut(st, did)?.aliases.push((id, alias.clone()));
    log_domain(st, did, rq, &format!("添加别名 {alias}"));
    ok(vec![("alias", obj!("id" => s(id), "punycode" => &alias))])
}

fn remove(st: &mut State, rq: &Req<'_>) -> R {
    let did = find_domain(st, rq, Access::Write)?;
    let aid: u64 = rq.str("alias_id").parse().unwrap_or(0);
    let d = dom_mut(st, did)?;
    let Some(i) = d.aliases.iter().position(|(id, _)| *id == aid) else {
        return Err(fail(text::ALIAS_ID_INVALID));
    };
    let (_, name) = d.aliases.remove(i);
    log_domain(st, did, rq, &format!("删除别名 {name}"));
    ok(vec![])
}
