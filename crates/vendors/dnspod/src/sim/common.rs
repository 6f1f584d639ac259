//! Rules several modules share: times, answers, lookups with their per-method codes,
//! ownership and shares, logs, paging and input checks.

use super::render::V;
use super::state::*;
use super::{fail, fail_as, Args, Fail, Out, Req, R};
use crate::errors::text;
use jiff::{SignedDuration, Timestamp};
use md5::{Digest, Md5};

pub const HOUR: SignedDuration = SignedDuration::from_secs(3600);

/// Most items one listing call returns.
pub const PAGE_MAX: usize = 3000;

/// DNSPod writes times in China time (UTC+8) as `YYYY-MM-DD HH:MM:SS`.
pub use idcgate_wire::sim::china::{at as china, datetime as fmt_time};

pub fn today(t: Timestamp) -> jiff::civil::Date {
    china(t).date()
}

pub fn ok(payload: Vec<(&str, V)>) -> R {
    Ok(Out {
        payload: payload
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
        ..Out::default()
    })
}

/// A payload's `<key>.id`, as the string DNSPod types it (what batch jobs read back).
pub fn created_id(out: &Out) -> Option<u64> {
    match out.payload.first() {
        Some((_, V::Obj(fields))) => fields.iter().find_map(|(k, v)| match v {
            V::Str(s) if k == "id" => s.parse().ok(),
            _ => None,
        }),
        _ => None,
    }
}

pub fn yes_no(b: bool) -> &'static str {
    if b {
        "yes"
    } else {
        "no"
    }
}

pub fn md5_hex(text: &str) -> String {
    hex::encode(Md5::digest(text.as_bytes()))
}

// ---------------------------------------------------------------- accounts

pub fn actor<'a>(st: &'a State, rq: &Req<'_>) -> Result<&'a Account, Fail> {
    st.accounts
        .get(&rq.actor())
        .ok_or_else(|| fail(text::LOGIN_FAIL))
}

pub fn actor_mut<'a>(st: &'a mut State, rq: &Req<'_>) -> Result<&'a mut Account, Fail> {
    st.accounts
        .get_mut(&rq.actor())
        .ok_or_else(|| fail(text::LOGIN_FAIL))
}

pub fn log_user(st: &mut State, id: u64, rq: &Req<'_>, what: &str) {
    if let Some(a) = st.accounts.get_mut(&id) {
        a.logs
            .push(format!("{}: {} {}", fmt_time(rq.now()), rq.ip(), what));
        if a.logs.len() > 500 {
            a.logs.remove(0);
        }
    }
}

/// `personal` or `enterprise`: domains never cross between the two.
pub fn user_type(st: &State, id: u64) -> &str {
    st.accounts.get(&id).map_or("", |a| a.user_type.as_str())
}

/// Domains never move between personal and enterprise accounts; `refusals` are the
/// method's own (personal to enterprise, enterprise to personal).
pub fn same_user_type(from: &str, to: &str, refusals: [Fail; 2]) -> Result<(), Fail> {
    let [to_enterprise, to_personal] = refusals;
    match (from, to) {
        ("personal", "enterprise") => Err(to_enterprise),
        ("enterprise", "personal") => Err(to_personal),
        _ => Ok(()),
    }
}

/// Whether `g` is one of the actor's custom groups.
pub fn has_custom_group(st: &State, actor: u64, g: u64) -> bool {
    st.accounts
        .get(&actor)
        .is_some_and(|a| a.groups.iter().any(|(id, _)| *id == g))
}

pub fn valid_phone(p: &str) -> bool {
    p.len() == 11 && p.starts_with('1') && p.bytes().all(|b| b.is_ascii_digit())
}

pub fn valid_email(e: &str) -> bool {
    match e.split_once('@') {
        Some((local, host)) => {
            !local.is_empty()
                && host.contains('.')
                && !host.starts_with('.')
                && !e.contains(char::is_whitespace)
        }
        None => false,
    }
}

pub fn valid_ip(ip: &str) -> bool {
    ip.parse::<std::net::IpAddr>().is_ok()
}

pub fn valid_domain(name: &str) -> bool {
    let labels: Vec<&str> = name.split('.').collect();
    labels.len() >= 2
        && name.len() <= 253
        && labels.iter().all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_alphanumeric() || c == '-')
        })
        && labels
            .last()
            .is_some_and(|tld| tld.chars().all(|c| c.is_alphabetic()))
}

// ---------------------------------------------------------------- domains

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Read,
    Write,
}

pub fn bad_domain_id() -> Fail {
    fail(text::DOMAIN_ID_INVALID_6)
}

pub fn bad_record_id() -> Fail {
    fail(text::RECORD_ID_INVALID_8)
}

/// Code a method uses for "you may not touch this domain".
fn not_owner(method: &str) -> Fail {
    let code = match method {
        "Domain.Remove" | "Record.List" => "9",
        "Domain.Status" | "Domain.Info" | "Domain.Log" | "Domain.Searchenginepush" => "8",
        _ => "7",
    };
    fail_as(code, text::NOT_OWNER)
}

/// The domain a (lower-cased) name names: `DOMAIN_INVALID` for a malformed name,
/// `missing` (the method's own code) for an unknown one.
pub fn domain_by_name(st: &State, name: &str, missing: crate::errors::Text) -> Result<u64, Fail> {
    if !valid_domain(name) {
        return Err(fail(text::DOMAIN_INVALID));
    }
    st.by_name.get(name).copied().ok_or_else(|| fail(missing))
}

/// Resolves `domain_id` or `domain` to a domain the actor may read or write.
pub fn find_domain(st: &State, rq: &Req<'_>, access: Access) -> Result<u64, Fail> {
    let did = if let Some(id) = rq.arg("domain_id") {
        let id: u64 = id.parse().map_err(|_| bad_domain_id())?;
        if !st.domains.contains_key(&id) {
            return Err(bad_domain_id());
        }
        id
    } else {
        let name = rq.str("domain").to_ascii_lowercase();
        *st.by_name
            .get(&name)
            .ok_or_else(|| fail(text::DOMAIN_IS_NOT_EXISTS))?
    };
    let d = dom(st, did)?;
    if d.owner == rq.actor() {
        return Ok(did);
    }
    let email = st
        .accounts
        .get(&rq.actor())
        .map(|a| a.email.as_str())
        .unwrap_or("");
    // A share grants reads; `rw` grants record changes, limited to its sub_domain when
    // the share names one. Domain-level settings stay the owner's.
    let Some(share) = d
        .shares
        .iter()
        .find(|s| s.email.eq_ignore_ascii_case(email))
    else {
        return Err(not_owner(rq.method()));
    };
    if access == Access::Read {
        return Ok(did);
    }
    if share.mode == "rw" && rq.method().starts_with("Record.") {
        let target = match rq.arg("record_id").and_then(|r| r.parse::<u64>().ok()) {
            Some(rid) => d.records.get(&rid).map(|r| r.name.clone()),
            None => Some(rq.arg("sub_domain").unwrap_or("@").to_lowercase()),
        };
        let in_scope = match (&share.sub_domain, &target) {
            (None, _) => true,
            (Some(sub), Some(name)) => sub.eq_ignore_ascii_case(name),
            (Some(_), None) => false,
        };
        if in_scope {
            return Ok(did);
        }
    }
    Err(not_owner(rq.method()))
}

/// A domain resolved earlier under the same lock; the error arm is unreachable in
/// practice but keeps a bad invariant from panicking the server.
pub fn dom(st: &State, did: u64) -> Result<&Domain, Fail> {
    st.domains.get(&did).ok_or_else(bad_domain_id)
}

/// The domain `rq` names (read access) and its `rows` as list items; `none` when it
/// keeps none and the caller asked for an error on an empty list.
pub fn domain_rows<'a, T>(
    st: &'a State,
    rq: &Req<'_>,
    rows: fn(&Domain) -> &[T],
    none: crate::errors::Text,
    item: impl Fn(&T) -> V,
) -> Result<(&'a Domain, Vec<V>), Fail> {
    let d = dom(st, find_domain(st, rq, Access::Read)?)?;
    if rows(d).is_empty() && rq.error_on_empty() {
        return Err(fail(none));
    }
    Ok((d, rows(d).iter().map(item).collect()))
}

pub fn dom_mut(st: &mut State, did: u64) -> Result<&mut Domain, Fail> {
    st.domains.get_mut(&did).ok_or_else(bad_domain_id)
}

pub fn rec(st: &State, did: u64, rid: u64) -> Result<&Record, Fail> {
    dom(st, did)?.records.get(&rid).ok_or_else(bad_record_id)
}

pub fn rec_mut(st: &mut State, did: u64, rid: u64) -> Result<&mut Record, Fail> {
    dom_mut(st, did)?
        .records
        .get_mut(&rid)
        .ok_or_else(bad_record_id)
}

pub fn is_locked(d: &Domain, now: Timestamp) -> bool {
    d.lock.as_ref().is_some_and(|(_, end)| *end > now)
}

/// Refuses a change to a locked domain with the method's code.
pub fn unlocked(d: &Domain, now: Timestamp, refusal: crate::errors::Text) -> Result<(), Fail> {
    if is_locked(d, now) {
        Err(fail(refusal))
    } else {
        Ok(())
    }
}

pub fn domain_status(d: &Domain, now: Timestamp) -> &'static str {
    if is_locked(d, now) {
        "lock"
    } else {
        d.status
    }
}

pub fn is_vip(d: &Domain, now: Timestamp) -> bool {
    d.vip.is_some_and(|(_, end)| end >= today(now))
}

pub fn grade_of(d: &Domain) -> &'static Grade {
    grade(d.grade).unwrap_or(&GRADES[5])
}

pub fn owner_email(st: &State, d: &Domain) -> String {
    st.accounts
        .get(&d.owner)
        .map(|a| a.email.clone())
        .unwrap_or_default()
}

pub fn log_domain(st: &mut State, did: u64, rq: &Req<'_>, what: &str) {
    if let Some(d) = st.domains.get_mut(&did) {
        d.logs.push(format!(
            "{}(API): ({}) {}",
            fmt_time(rq.now()),
            rq.ip(),
            what
        ));
        if d.logs.len() > 1000 {
            d.logs.remove(0);
        }
        d.updated_on = rq.now();
    }
}

/// Domains the actor sees, in id order: owned ones (`true`) and ones shared to it.
pub fn visible_domains(st: &State, actor: u64) -> impl Iterator<Item = (&Domain, bool)> + '_ {
    let email = st
        .accounts
        .get(&actor)
        .map(|a| a.email.to_ascii_lowercase())
        .unwrap_or_default();
    st.domains.values().filter_map(move |d| {
        if d.owner == actor {
            Some((d, true))
        } else if d
            .shares
            .iter()
            .any(|s| s.email.eq_ignore_ascii_case(&email))
        {
            Some((d, false))
        } else {
            None
        }
    })
}

/// `offset` and `length` of a listing: `length` absent means `max` and is capped at it.
/// Every listing numbers its codes the same way: `bad_offset`, then the next one for a
/// bad length. (The spec leaves both untyped: these codes are the methods' own.)
pub fn paging(rq: &Req<'_>, bad_offset: u32, max: usize) -> Result<(usize, usize), Fail> {
    let offset = match rq.arg("offset") {
        None => 0,
        Some(v) => v
            .parse()
            .map_err(|_| fail_as(&bad_offset.to_string(), text::OFFSET_INVALID))?,
    };
    let length = match rq.arg("length").map(str::parse::<usize>) {
        None => max,
        Some(Ok(n)) if n > 0 => n.min(max),
        Some(_) => return Err(fail_as(&(bad_offset + 1).to_string(), text::LENGTH_INVALID)),
    };
    Ok((offset, length))
}
