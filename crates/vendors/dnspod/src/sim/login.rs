//! Authentication before every method: API token or email/password, the D令牌 with its
//! remembered-device cookie, and the failed-login ban.

use super::common::{md5_hex, HOUR};
use super::state::State;
use super::{fail, Fail};
use crate::errors::text;
use idcgate_wire::sim::Incoming;
use jiff::{SignedDuration, Timestamp};

const FAIL_WINDOW: SignedDuration = SignedDuration::from_secs(300);
const MAX_FAILURES: usize = 30;

/// The sim's D令牌: six digits derived from the secret and the 30-second window.
pub fn dtoken_code(secret: &str, now: Timestamp) -> String {
    let window = now.as_second().div_euclid(30);
    let h = md5_hex(&format!("{secret}:{window}"));
    let n = u64::from_str_radix(&h[..12], 16).unwrap_or(0) % 1_000_000;
    format!("{n:06}")
}

/// Counts a failure against `key` (the account, or the unknown email tried). Keys whose
/// failures have aged out are dropped once the table grows, so a stream of made-up
/// emails cannot grow it without bound.
fn login_failed(st: &mut State, key: &str, now: Timestamp) {
    if st.login_failures.len() >= 10_000 {
        st.login_failures.retain(|_, l| {
            l.last()
                .is_some_and(|t| now.duration_since(*t) < FAIL_WINDOW)
        });
        st.login_bans.retain(|_, until| *until > now);
    }
    let list = st.login_failures.entry(key.to_string()).or_default();
    list.retain(|t| now.duration_since(*t) < FAIL_WINDOW);
    list.push(now);
    if list.len() > MAX_FAILURES {
        st.login_bans.insert(key.to_string(), now + HOUR);
        list.clear();
    }
}

fn login_fail_text() -> Fail {
    fail(text::LOGIN_FAIL)
}

/// Authenticates a request; returns the account id. Failed attempts count toward the
/// 30-in-5-minutes ban, which then refuses even correct credentials for an hour. The ban
/// is the account's, whichever way (token or email) the failures came.
pub fn login(
    st: &mut State,
    req: &Incoming,
    cookies: &str,
    now: Timestamp,
    set_cookie: &mut Option<String>,
) -> Result<u64, Fail> {
    let (key, account) = if let Some(tok) = req.get("login_token").or_else(|| req.get("user_token"))
    {
        let (tid, secret) = tok.split_once(',').unwrap_or((tok, ""));
        let tid: u64 = tid
            .trim()
            .parse()
            .map_err(|_| fail(text::TOKEN_ID_INVALID))?;
        let acc = st
            .by_token
            .get(&tid)
            .copied()
            .ok_or_else(|| fail(text::TOKEN_ID_INVALID))?;
        let key = format!("account:{acc}");
        check_ban(st, &key, now)?;
        let good = st.accounts.get(&acc).is_some_and(|a| {
            a.tokens
                .iter()
                .any(|(i, t)| *i == tid && t == secret.trim())
        });
        if !good {
            login_failed(st, &key, now);
            return Err(login_fail_text());
        }
        (key, acc)
    } else if let Some(email) = req.get("login_email") {
        let acc = st.by_email.get(&email.to_ascii_lowercase()).copied();
        let key = match acc {
            Some(id) => format!("account:{id}"),
            None => format!("email:{}", email.to_ascii_lowercase()),
        };
        check_ban(st, &key, now)?;
        let password = req.get("login_password").unwrap_or("");
        match acc.and_then(|id| st.accounts.get(&id)) {
            Some(a) if a.password == password => (key, a.id),
            _ => {
                login_failed(st, &key, now);
                return Err(login_fail_text());
            }
        }
    } else {
        return Err(login_fail_text());
    };
    let Some(acc) = st.accounts.get_mut(&account) else {
        return Err(login_fail_text());
    };
    if acc.status != "enabled" {
        return Err(fail(text::ACCOUNT_IS_LOCKED));
    }
    if let Some(secret) = acc.dtoken.clone() {
        let cookie_name = format!("t{}", acc.id);
        acc.remembered.retain(|(_, exp)| *exp > now);
        let remembered = cookies
            .split(';')
            .filter_map(|c| c.trim().split_once('='))
            .any(|(n, v)| n == cookie_name && acc.remembered.iter().any(|(val, _)| val == v));
        if !remembered {
            let Some(code) = req.get("login_code") else {
                return Err(fail(text::DTOKEN_REQUIRED));
            };
            let prev = dtoken_code(&secret, now - SignedDuration::from_secs(30));
            if code != dtoken_code(&secret, now) && code != prev {
                login_failed(st, &key, now);
                return Err(fail(text::DTOKEN_WRONG));
            }
            if req.get("login_remember") != Some("no") {
                let value = md5_hex(&format!("{secret}:{}:{}", acc.id, now.as_nanosecond()));
                let expires = now + SignedDuration::from_hours(24 * 30);
                acc.remembered.push((value.clone(), expires));
                *set_cookie = Some(format!(
                    "{cookie_name}={value}; expires={}; path=/",
                    expires.strftime("%a, %d-%b-%Y %H:%M:%S GMT")
                ));
            }
        }
    }
    Ok(account)
}

fn check_ban(st: &mut State, key: &str, now: Timestamp) -> Result<(), Fail> {
    if let Some(until) = st.login_bans.get(key) {
        if *until > now {
            return Err(fail(text::LOGIN_BANNED));
        }
        st.login_bans.remove(key);
    }
    Ok(())
}
