//! `Domaingroup.*`: the eight system groups and the account's custom ones (a VIP
//! feature).

use super::common::*;
use super::render::{obj, s, V};
use super::state::{State, SYSTEM_GROUPS};
use super::{fail, Args, Fail, Handler, Req, R};
use crate::errors::text;

pub(super) fn handler(name: &str) -> Option<Handler> {
    Some(match name {
        "Domaingroup.List" => list,
        "Domaingroup.Create" => create,
        "Domaingroup.Modify" => modify,
        "Domaingroup.Remove" => remove,
        _ => return None,
    })
}

/// Domains in group `g` as the actor sees them (8 = shared with it).
fn size(st: &State, actor: u64, g: u64) -> usize {
    if g == 8 {
        visible_domains(st, actor).filter(|(_, mine)| !mine).count()
    } else {
        st.domains
            .values()
            .filter(|d| d.owner == actor && d.group_id == g)
            .count()
    }
}

fn list(st: &mut State, rq: &Req<'_>) -> R {
    let me = rq.actor();
    let mut groups: Vec<V> = SYSTEM_GROUPS
        .iter()
        .map(|(id, name)| obj!("group_id" => *id, "group_name" => *name, "group_type" => "system", "size" => size(st, me, *id)))
        .collect();
    for (id, name) in &actor(st, rq)?.groups {
        groups.push(obj!("group_id" => *id, "group_name" => name, "group_type" => "custom", "size" => size(st, me, *id)));
    }
    ok(vec![("groups", V::Arr(groups))])
}

fn group_name(rq: &Req<'_>) -> Result<String, Fail> {
    let name = rq.str("group_name");
    if name.is_empty() || name.chars().count() > 20 {
        return Err(fail(text::GROUP_NAME_INVALID));
    }
    Ok(name.to_string())
}

fn group_id(st: &State, rq: &Req<'_>) -> Result<u64, Fail> {
    let gid: u64 = rq.str("group_id").parse().unwrap_or(0);
    if has_custom_group(st, rq.actor(), gid) {
        Ok(gid)
    } else {
        Err(fail(text::GROUP_ID_INVALID_6))
    }
}

fn create(st: &mut State, rq: &Req<'_>) -> R {
    let vip = st
        .domains
        .values()
        .any(|d| d.owner == rq.actor() && is_vip(d, rq.now()));
    let a = actor(st, rq)?;
    let name = group_name(rq)?;
    if a.groups.iter().any(|(_, n)| *n == name) || SYSTEM_GROUPS.iter().any(|(_, n)| *n == name) {
        return Err(fail(text::GROUP_NAME_EXISTS));
    }
    // Custom groups are a VIP feature: free accounts have a limit of zero.
    let limit = if vip { 20 } else { 0 };
    if a.groups.len() >= limit {
        return Err(fail(text::GROUP_LIMIT_EXCEEDED));
    }
    let id = st.misc_id();
    actor_mut(st, rq)?.groups.push((id, name));
    ok(vec![("groups", obj!("id" => s(id)))])
}

fn modify(st: &mut State, rq: &Req<'_>) -> R {
    let gid = group_id(st, rq)?;
    let name = group_name(rq)?;
    let a = actor_mut(st, rq)?;
    if a.groups.iter().any(|(id, n)| *n == name && *id != gid) {
        return Err(fail(text::GROUP_NAME_EXISTS));
    }
    for g in a.groups.iter_mut().filter(|(id, _)| *id == gid) {
        g.1 = name.clone();
    }
    ok(vec![])
}

/// Its domains fall back to the default group.
fn remove(st: &mut State, rq: &Req<'_>) -> R {
    let gid = group_id(st, rq)?;
    actor_mut(st, rq)?.groups.retain(|(id, _)| *id != gid);
    let me = rq.actor();
    for d in st
        .domains
        .values_mut()
        .filter(|d| d.owner == me && d.group_id == gid)
    {
        d.group_id = 1;
    }
    ok(vec![])
}
