//! Domain retrieval (`Domain.Acquire*`): a domain registered elsewhere in DNSPod moves
//! to the caller once its WHOIS contact confirms, by code or by link.

use super::common::*;
use super::domain::give;
use super::render::V;
use super::state::State;
use super::{fail, Args, Fail, Handler, Req, R};
use crate::errors::text;
use jiff::Timestamp;

pub(super) fn handler(name: &str) -> Option<Handler> {
    Some(match name {
        "Domain.Acquire" => acquire,
        "Domain.Acquiresend" => |st, rq| send(st, rq, "email"),
        "Domain.Acquiresend.New" => |st, rq| send(st, rq, "whois_email"),
        "Domain.Acquirevalidate" => validate,
        _ => return None,
    })
}

/// The domain if the caller may retrieve it, and its WHOIS emails.
fn retrievable(st: &State, rq: &Req<'_>) -> Result<(String, [String; 2]), Fail> {
    let name = rq.str("domain").to_lowercase();
    if !name.is_ascii() {
        return Err(fail(text::IDN_IS_NOT_SUPPORTED));
    }
    let did = domain_by_name(st, &name, text::DOMAIN_DOES_NOT_EXIST)?;
    let d = dom(st, did)?;
    if d.status == "spam" {
        return Err(fail(text::DOMAIN_IS_BANNED));
    }
    unlocked(d, rq.now(), text::DOMAIN_IS_LOCKED_12)?;
    if is_vip(d, rq.now()) {
        return Err(fail(text::VIP_DOMAIN_CAN_NOT_BE_ACQUIRED));
    }
    same_user_type(
        user_type(st, d.owner),
        user_type(st, rq.actor()),
        [
            fail(text::ENTERPRISE_ACCOUNT_CAN_NOT_ACQUIRE_PERSONAL_DOMAIN),
            fail(text::PERSONAL_ACCOUNT_CAN_NOT_ACQUIRE_ENTERPRISE_DOMAIN),
        ],
    )?;
    // The sim's WHOIS: the registrant mailbox of the domain itself.
    let emails = [format!("admin@{name}"), format!("hostmaster@{name}")];
    Ok((name, emails))
}

fn acquire(st: &mut State, rq: &Req<'_>) -> R {
    let (_, emails) = retrievable(st, rq)?;
    ok(vec![(
        "emails",
        V::Arr(emails.iter().map(V::from).collect()),
    )])
}

/// Mails a code (or a link: the sim's link is the same code) to the WHOIS address the
/// caller picked, named `key`.
fn send(st: &mut State, rq: &Req<'_>, key: &str) -> R {
    let (name, emails) = retrievable(st, rq)?;
    let email = rq.str(key).to_lowercase();
    if !emails.contains(&email) {
        return Err(fail(text::EMAIL_PARAMETER_INVALID));
    }
    let code = format!(
        "{:06}",
        u64::from_str_radix(&md5_hex(&format!("{name}{}", rq.now()))[..8], 16).unwrap_or(0)
            % 1_000_000
    );
    st.acquires.insert(name, (rq.actor(), email, code));
    ok(vec![])
}

fn validate(st: &mut State, rq: &Req<'_>) -> R {
    let (name, _) = retrievable(st, rq)?;
    let good = st
        .acquires
        .get(&name)
        .is_some_and(|(who, _, code)| *who == rq.actor() && code == rq.str("code"));
    if !good {
        return Err(fail(text::VERIFICATION_CODE_IS_WRONG));
    }
    complete(st, &name, rq.now());
    ok(vec![])
}

/// Moves a domain to the account that asked to retrieve it.
pub fn complete(st: &mut State, name: &str, now: Timestamp) -> bool {
    let Some((who, _, _)) = st.acquires.remove(name) else {
        return false;
    };
    let Some(did) = st.by_name.get(name).copied() else {
        return false;
    };
    if let Some(d) = st.domains.get_mut(&did) {
        give(d, who);
        d.updated_on = now;
        d.logs.push(format!("{}(API): 域名取回", fmt_time(now)));
    }
    true
}
