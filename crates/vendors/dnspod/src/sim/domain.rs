//! `Domain.*`: create, list, info, remove, settings (status, search engine push, mark,
//! remark, group), log, purview, transfer, lock.

use super::common::*;
use super::render::{obj, s, V};
use super::state::*;
use super::{fail, Args, Fail, Handler, Req, R};
use crate::errors::text;
use jiff::SignedDuration;

pub(super) fn handler(name: &str) -> Option<Handler> {
    Some(match name {
        "Domain.Create" => |st, rq| create(st, rq),
        "Domain.List" => list,
        "Domain.Remove" => remove,
        "Domain.Status" => status,
        "Domain.Info" => info,
        "Domain.Log" => log,
        "Domain.Searchenginepush" => searchengine_push,
        "Domain.Ismark" => is_mark,
        "Domain.Remark" => remark,
        "Domain.Changegroup" => change_group,
        "Domain.Purview" => purview,
        "Domain.Transfer" => transfer,
        "Domain.Lock" => lock,
        "Domain.Unlock" => unlock,
        _ => return None,
    })
}

/// Also the step `Batch.Domain.Create` replays per domain.
pub(super) fn create(st: &mut State, rq: &Req<'_>) -> R {
    let name = rq.str("domain").trim_end_matches('.').to_lowercase();
    if !valid_domain(&name) || name.starts_with("www.") {
        return Err(fail(text::NEW_DOMAIN_INVALID));
    }
    if st.by_name.contains_key(&name) {
        return Err(fail(text::DOMAIN_IS_EXISTS));
    }
    if st
        .domains
        .values()
        .any(|d| d.aliases.iter().any(|(_, a)| *a == name))
    {
        return Err(fail(text::DOMAIN_EXISTS_AS_AN_ALIAS_OF_ANOTHER_DOMAIN));
    }
    // An unknown group is not refused here: the domain lands in the default group.
    let group = rq
        .arg("group_id")
        .map(|g| g.parse().unwrap_or(1))
        .filter(|g| (1..=7).contains(g) || has_custom_group(st, rq.actor(), *g))
        .unwrap_or(1);
    let did = st.add_domain(&name, rq.actor(), "DP_Free", rq.now());
    let d = dom_mut(st, did)?;
    d.group_id = group;
    d.is_mark = rq.str("is_mark") == "yes";
    log_domain(st, did, rq, &format!("添加域名 {name}"));
    ok(vec![(
        "domain",
        obj!("id" => s(did), "punycode" => &name, "domain" => &name),
    )])
}

fn list(st: &mut State, rq: &Req<'_>) -> R {
    let (offset, length) = paging(rq, 6, PAGE_MAX)?;
    let now = rq.now();
    let ty = rq.str("type");
    let group = rq.arg("group_id").and_then(|g| g.parse::<u64>().ok());
    let keyword = rq.arg("keyword").map(str::to_lowercase);
    let all: Vec<(&Domain, bool)> = visible_domains(st, rq.actor()).collect();
    let count = |f: &dyn Fn(&(&Domain, bool)) -> bool| all.iter().filter(|x| f(x)).count();
    let mine_total = count(&|x| x.1);
    let share_total = count(&|x| !x.1);
    let vip_total = count(&|x| is_vip(x.0, now));
    let ismark_total = count(&|x| x.0.is_mark);
    let pause_total = count(&|x| x.0.status == "pause");
    let lock_total = count(&|x| is_locked(x.0, now));
    let spam_total = count(&|x| x.0.status == "spam");
    let share_out_total = count(&|x| x.1 && !x.0.shares.is_empty());
    let vip_expire = count(&|x| x.0.vip.is_some_and(|(_, end)| end < today(now)));
    let mut selected: Vec<(&Domain, bool)> = all
        .iter()
        .copied()
        .filter(|(d, mine)| match ty {
            "mine" => *mine,
            "share" => !*mine,
            "ismark" => d.is_mark,
            "pause" => d.status == "pause",
            "vip" => is_vip(d, now),
            "share_out" => *mine && !d.shares.is_empty(),
            _ => true,
        })
        .filter(|(d, mine)| match group {
            Some(8) => !*mine,
            Some(g) => *mine && d.group_id == g,
            None => true,
        })
        .filter(|(d, _)| keyword.as_ref().is_none_or(|k| d.name.contains(k.as_str())))
        .collect();
    if ty == "recent" {
        selected.sort_by_key(|d| std::cmp::Reverse(d.0.updated_on));
    }
    let info = obj!(
        "domain_total" => selected.len(),
        "all_total" => all.len(),
        "mine_total" => mine_total,
        "share_total" => share_total,
        "vip_total" => vip_total,
        "ismark_total" => ismark_total,
        "pause_total" => pause_total,
        "error_total" => 0i64,
        "lock_total" => lock_total,
        "spam_total" => spam_total,
        "vip_expire" => vip_expire,
        "share_out_total" => share_out_total,
    );
    let page: Vec<V> = selected
        .iter()
        .skip(offset)
        .take(length)
        .map(|(d, mine)| {
            let g = grade_of(d);
            obj!(
                "id" => d.id,
                "status" => domain_status(d, now),
                "grade" => d.grade,
                "group_id" => s(if *mine { d.group_id } else { 8 }),
                "searchengine_push" => yes_no(d.searchengine_push),
                "is_mark" => yes_no(d.is_mark),
                "ttl" => s(d.ttl),
                "cname_speedup" => "disable",
                "remark" => &d.remark,
                "created_on" => fmt_time(d.created_on),
                "updated_on" => fmt_time(d.updated_on),
                "punycode" => &d.name,
                "ext_status" => "",
                "name" => &d.name,
                "grade_title" => g.title,
                "is_vip" => yes_no(is_vip(d, now)),
                "owner" => owner_email(st, d),
                "records" => s(d.records.len()),
                "auth_to_anquanbao" => false,
            )
        })
        .collect();
    if page.is_empty() && rq.error_on_empty() {
        let mut f = fail(text::NO_DOMAINS);
        f.payload = vec![("info".into(), info)];
        return Err(f);
    }
    ok(vec![("info", info), ("domains", V::Arr(page))])
}

fn info(st: &mut State, rq: &Req<'_>) -> R {
    let did = find_domain(st, rq, Access::Read)?;
    let d = dom(st, did)?;
    let now = rq.now();
    let g = grade_of(d);
    let remark = if d.remark.is_empty() {
        V::Bool(false)
    } else {
        V::from(&d.remark)
    };
    let mut dom = obj!(
        "id" => s(d.id),
        "name" => &d.name,
        "punycode" => &d.name,
        "grade" => d.grade,
        "grade_title" => g.title,
        "status" => domain_status(d, now),
        "ext_status" => "",
        "records" => s(d.records.len()),
        "group_id" => s(d.group_id),
        "is_mark" => yes_no(d.is_mark),
        "remark" => remark,
        "is_vip" => yes_no(is_vip(d, now)),
        "searchengine_push" => yes_no(d.searchengine_push),
        "user_id" => s(d.owner),
        "created_on" => fmt_time(d.created_on),
        "updated_on" => fmt_time(d.updated_on),
        "ttl" => s(d.ttl),
        "cname_speedup" => "disable",
        "owner" => owner_email(st, d),
        "auth_to_anquanbao" => false,
    );
    // A paid grade's period, as later versions of Domain.Info (and Domain.Upgrade's
    // answer) give it: the only readable trace of a VIP renewal. Free domains keep the
    // 4.6 shape.
    if let (Some((start, end)), V::Obj(fields)) = (d.vip, &mut dom) {
        fields.push(("vip_start_at".into(), V::from(start.to_string())));
        fields.push(("vip_end_at".into(), V::from(end.to_string())));
    }
    ok(vec![("domain", dom)])
}

fn remove(st: &mut State, rq: &Req<'_>) -> R {
    let did = find_domain(st, rq, Access::Write)?;
    let d = dom(st, did)?;
    if d.owner != rq.actor() {
        return Err(fail(text::NOT_THE_DOMAIN_OWNER));
    }
    unlocked(d, rq.now(), text::DOMAIN_IS_LOCKED_7)?;
    if is_vip(d, rq.now()) {
        return Err(fail(text::VIP_DOMAIN_CAN_NOT_BE_DELETED));
    }
    if let Some(d) = st.domains.remove(&did) {
        st.by_name.remove(&d.name);
        for rid in d.records.keys() {
            st.record_domain.remove(rid);
        }
        log_user(st, rq.actor(), rq, &format!("删除域名 {}", d.name));
    }
    ok(vec![])
}

/// Changes one setting of a domain the caller may write; `change` answers the log line.
fn set(
    st: &mut State,
    rq: &Req<'_>,
    change: impl FnOnce(&mut Domain) -> Result<String, Fail>,
) -> R {
    let did = find_domain(st, rq, Access::Write)?;
    let what = change(dom_mut(st, did)?)?;
    log_domain(st, did, rq, &what);
    ok(vec![])
}

fn status(st: &mut State, rq: &Req<'_>) -> R {
    let status = rq.str("status");
    set(st, rq, |d| {
        unlocked(d, rq.now(), text::DOMAIN_IS_LOCKED_7)?;
        d.status = if status == "enable" {
            "enable"
        } else {
            "pause"
        };
        Ok(format!("设置域名状态为 {status}"))
    })
}

fn searchengine_push(st: &mut State, rq: &Req<'_>) -> R {
    let status = rq.str("status");
    set(st, rq, |d| {
        unlocked(d, rq.now(), text::DOMAIN_IS_LOCKED_7)?;
        d.searchengine_push = status == "yes";
        Ok(format!("设置搜索引擎推送 {status}"))
    })
}

fn is_mark(st: &mut State, rq: &Req<'_>) -> R {
    let mark = rq.str("is_mark");
    set(st, rq, |d| {
        d.is_mark = mark == "yes";
        Ok(format!("设置星标 {mark}"))
    })
}

fn remark(st: &mut State, rq: &Req<'_>) -> R {
    set(st, rq, |d| {
        d.remark = rq.str("remark").to_string();
        Ok("设置域名备注".to_string())
    })
}

/// A system group (1..=7) or one of the owner's custom groups.
fn change_group(st: &mut State, rq: &Req<'_>) -> R {
    let bad = || fail(text::GROUP_ID_INVALID_7);
    let actor = rq.actor();
    let group = rq
        .str("group_id")
        .parse::<u64>()
        .ok()
        .filter(|g| (1..=7).contains(g) || has_custom_group(st, actor, *g));
    set(st, rq, |d| {
        let g = group.ok_or_else(bad)?;
        if d.owner != actor {
            return Err(bad());
        }
        d.group_id = g;
        Ok(format!("设置域名分组 {g}"))
    })
}

fn log(st: &mut State, rq: &Req<'_>) -> R {
    let did = find_domain(st, rq, Access::Read)?;
    // Unreadable paging is read as the defaults here, never refused.
    let offset = rq
        .arg("offset")
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(0);
    let length = rq
        .arg("length")
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(500)
        .min(500);
    let log: Vec<V> = dom(st, did)?
        .logs
        .iter()
        .rev()
        .skip(offset)
        .take(length)
        .map(V::from)
        .collect();
    ok(vec![("log", V::Arr(log))])
}

fn purview(st: &mut State, rq: &Req<'_>) -> R {
    let did = find_domain(st, rq, Access::Read).map_err(|f| {
        if f.code == "6" {
            fail(text::DOMAIN_ID_INCORRECT)
        } else {
            f
        }
    })?;
    let g = grade_of(dom(st, did)?);
    let item = |name: &str, value: V| obj!("name" => name, "value" => value);
    let purview = vec![
        item("URL转发条数", V::from(g.url_max)),
        item("NS记录条数", V::from(if g.vip { 20usize } else { 10 })),
        item("AAAA记录条数", V::from(if g.vip { 100usize } else { 10 })),
        item("SRV记录条数", V::from(if g.vip { 100usize } else { 10 })),
        item("域名别名绑定个数", V::from(g.alias_max)),
        item("域名锁定天数", V::from(g.lock_days)),
        item("域名共享个数", V::from(g.share_max)),
        item("子域名级数", V::from(g.sub_levels)),
        item("泛解析级数", V::from(g.sub_levels)),
        item("负载均衡数量", V::from(g.round_robin)),
        item("记录TTL最低", V::from(g.min_ttl)),
        item("混合泛解析支持", V::from(yes_no(g.vip))),
        item("增强线路类型", V::from(yes_no(g.vip))),
        item("分省线路类型", V::from(yes_no(g.extra_lines))),
        item("分大洲线路类型", V::from(yes_no(g.extra_lines))),
    ];
    ok(vec![("purview", V::Arr(purview))])
}

fn transfer(st: &mut State, rq: &Req<'_>) -> R {
    let did = find_domain(st, rq, Access::Write)?;
    let email = rq.str("email").to_ascii_lowercase();
    if !valid_email(&email) {
        return Err(fail(text::TARGET_EMAIL_INVALID));
    }
    let target = *st
        .by_email
        .get(&email)
        .ok_or_else(|| fail(text::TARGET_EMAIL_NOT_REGISTERED))?;
    let owner = dom(st, did)?.owner;
    if target == owner {
        return Err(fail(text::CAN_NOT_TRANSFER_TO_YOURSELF));
    }
    same_user_type(
        user_type(st, owner),
        user_type(st, target),
        [
            fail(text::PERSONAL_DOMAIN_CAN_NOT_TRANSFER_TO_ENTERPRISE),
            fail(text::ENTERPRISE_DOMAIN_CAN_NOT_TRANSFER_TO_PERSONAL),
        ],
    )?;
    give(dom_mut(st, did)?, target);
    log_domain(st, did, rq, &format!("域名过户给 {email}"));
    ok(vec![])
}

/// A domain changing hands starts in the new owner's default group, shared with nobody.
pub(super) fn give(d: &mut Domain, owner: u64) {
    d.owner = owner;
    d.group_id = 1;
    d.shares.clear();
}

fn lock(st: &mut State, rq: &Req<'_>) -> R {
    let did = find_domain(st, rq, Access::Write)?;
    let days: i64 = rq
        .str("days")
        .parse()
        .ok()
        .filter(|d| *d > 0)
        .ok_or_else(|| fail(text::LOCK_DAYS_INVALID))?;
    let d = dom(st, did)?;
    if days > i64::from(grade_of(d).lock_days) {
        return Err(fail(text::LOCK_DAYS_OVER_LIMIT));
    }
    if is_locked(d, rq.now()) {
        return Err(fail(text::DOMAIN_IS_ALREADY_LOCKED));
    }
    let code = md5_hex(&format!("{did}:{}", rq.now().as_nanosecond()))[..10].to_string();
    let end = rq.now() + SignedDuration::from_hours(24 * days);
    dom_mut(st, did)?.lock = Some((code.clone(), end));
    log_domain(st, did, rq, &format!("锁定域名 {days} 天"));
    ok(vec![(
        "lock",
        obj!("domain_id" => did, "lock_code" => code, "lock_end" => today(end).to_string()),
    )])
}

fn unlock(st: &mut State, rq: &Req<'_>) -> R {
    let did = find_domain(st, rq, Access::Write)?;
    let d = dom_mut(st, did)?;
    match &d.lock {
        Some((code, end)) if *end > rq.now() => {
            if code != rq.str("lock_code") {
                return Err(fail(text::UNLOCK_CODE_IS_WRONG));
            }
        }
        _ => return Err(fail(text::DOMAIN_IS_NOT_LOCKED)),
    }
    d.lock = None;
    log_domain(st, did, rq, "解锁域名");
    ok(vec![])
}
