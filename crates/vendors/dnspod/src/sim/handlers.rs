//! The business rules of each action. Every handler gets the world and one request and
//! returns the payload (as an ordered [`V`]) or the vendor's refusal.

use super::render::{obj, s, yuan, yuan_text, V};
use super::state::*;
use super::{fail, fail_as, Fail, Out, Rq};
use crate::errors::text;
use jiff::tz::{offset, TimeZone};
use jiff::{SignedDuration, Timestamp};
use md5::{Digest, Md5};

pub(super) type R = Result<Out, Fail>;

const HOUR: SignedDuration = SignedDuration::from_secs(3600);

/// DNSPod writes times in China time (UTC+8) as `YYYY-MM-DD HH:MM:SS`.
pub fn fmt_time(t: Timestamp) -> String {
    t.to_zoned(TimeZone::fixed(offset(8)))
        .strftime("%Y-%m-%d %H:%M:%S")
        .to_string()
}

fn today(t: Timestamp) -> jiff::civil::Date {
    t.to_zoned(TimeZone::fixed(offset(8))).date()
}

pub(super) fn ok(payload: Vec<(&str, V)>) -> R {
    Ok(Out {
        payload: payload
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
        message: None,
    })
}

pub(super) fn yes_no(b: bool) -> &'static str {
    if b {
        "yes"
    } else {
        "no"
    }
}

pub(super) fn md5_hex(text: &str) -> String {
    hex::encode(Md5::digest(text.as_bytes()))
}

/// The sim's D令牌: six digits derived from the secret and the 30-second window.
pub fn dtoken_code(secret: &str, now: Timestamp) -> String {
    let window = now.as_second().div_euclid(30);
    let h = md5_hex(&format!("{secret}:{window}"));
    let n = u64::from_str_radix(&h[..12], 16).unwrap_or(0) % 1_000_000;
    format!("{n:06}")
}

// ---------------------------------------------------------------- login

const FAIL_WINDOW: SignedDuration = SignedDuration::from_secs(300);
const MAX_FAILURES: usize = 30;

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
    params: &[(String, String)],
    cookies: &str,
    now: Timestamp,
    set_cookie: &mut Option<String>,
) -> Result<u64, Fail> {
    let get = |k: &str| {
        idcgate_wire::form::get(params, k)
            .map(str::trim)
            .filter(|v| !v.is_empty())
    };
    let (key, account) = if let Some(tok) = get("login_token").or_else(|| get("user_token")) {
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
    } else if let Some(email) = get("login_email") {
        let acc = st.by_email.get(&email.to_ascii_lowercase()).copied();
        let key = match acc {
            Some(id) => format!("account:{id}"),
            None => format!("email:{}", email.to_ascii_lowercase()),
        };
        check_ban(st, &key, now)?;
        let password = get("login_password").unwrap_or("");
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
            let Some(code) = get("login_code") else {
                return Err(fail(text::DTOKEN_REQUIRED));
            };
            let prev = dtoken_code(&secret, now - SignedDuration::from_secs(30));
            if code != dtoken_code(&secret, now) && code != prev {
                login_failed(st, &key, now);
                return Err(fail(text::DTOKEN_WRONG));
            }
            if get("login_remember") != Some("no") {
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

// ---------------------------------------------------------------- dispatch

pub fn dispatch(st: &mut State, rq: &Rq) -> R {
    match rq.action {
        "Info.Version" => Ok(Out {
            payload: Vec::new(),
            message: Some("4.6".into()),
        }),
        "User.Detail" => user_detail(st, rq),
        "User.Modify" => user_modify(st, rq),
        "Userpasswd.Modify" => userpasswd_modify(st, rq),
        "Useremail.Modify" => useremail_modify(st, rq),
        "Telephoneverify.Code" => telephone_code(st, rq),
        "User.Log" => user_log(st, rq),
        "User.List" => agent_user_list(st, rq),
        "User.Under" => agent_user_under(st, rq),
        "User.Transfer" => agent_user_transfer(st, rq),
        "User.Create" => agent_user_create(st, rq),
        "Verify.Email" => agent_verify(st, rq, false),
        "Verify.Telephone" => agent_verify(st, rq, true),
        "Product.List" => product_list(),
        "Domain.Upgrade" => domain_upgrade(st, rq),
        "Domain.Create" => domain_create(st, rq),
        "Domain.List" => domain_list(st, rq),
        "Domain.Remove" => domain_remove(st, rq),
        "Domain.Status" => domain_set(st, rq, DomainField::Status),
        "Domain.Info" => domain_info(st, rq),
        "Domain.Log" => domain_log(st, rq),
        "Domain.Searchenginepush" => domain_set(st, rq, DomainField::Push),
        "Domain.Ismark" => domain_set(st, rq, DomainField::Mark),
        "Domain.Remark" => domain_set(st, rq, DomainField::Remark),
        "Domain.Changegroup" => domain_set(st, rq, DomainField::Group),
        "Domain.Purview" => domain_purview(st, rq),
        "Domain.Transfer" => domain_transfer(st, rq),
        "Domain.Lock" => domain_lock(st, rq),
        "Domain.Unlock" => domain_unlock(st, rq),
        "Domainshare.Create" | "Domainshare.Modify" | "Domainshare.Remove" | "Domainshare.List" => {
            domainshare(st, rq)
        }
        "Domainalias.List" | "Domainalias.Create" | "Domainalias.Remove" => domainalias(st, rq),
        "Domaingroup.List" | "Domaingroup.Create" | "Domaingroup.Modify" | "Domaingroup.Remove" => {
            domaingroup(st, rq)
        }
        "Domain.Acquire"
        | "Domain.Acquiresend"
        | "Domain.Acquirevalidate"
        | "Domain.Acquiresend.New" => acquire(st, rq),
        "Record.Type" => record_type(rq),
        "Record.Line" => record_line(st, rq),
        "Record.Create" => record_create(st, rq),
        "Record.List" => record_list(st, rq),
        "Record.Modify" => record_modify(st, rq, false),
        "Record.Ddns" => record_modify(st, rq, true),
        "Record.Remove" => record_remove(st, rq),
        "Record.Remark" => record_remark(st, rq),
        "Record.Info" => record_info(st, rq),
        "Record.Status" => record_status(st, rq),
        "Batch.Domain.Create" | "Batch.Record.Create" | "Batch.Record.Modify" => {
            batch_create(st, rq)
        }
        "Batch.Detail" => batch_detail(st, rq),
        a if a.starts_with("Monitor.") => super::monitor::dispatch(st, rq),
        _ => Err(fail(text::SUSPENDED)),
    }
}

// ---------------------------------------------------------------- accounts

fn actor<'a>(st: &'a State, rq: &Rq) -> Result<&'a Account, Fail> {
    st.accounts.get(&rq.actor).ok_or_else(login_fail_text)
}

fn actor_mut<'a>(st: &'a mut State, rq: &Rq) -> Result<&'a mut Account, Fail> {
    st.accounts.get_mut(&rq.actor).ok_or_else(login_fail_text)
}

fn log_user(st: &mut State, id: u64, rq: &Rq, what: &str) {
    if let Some(a) = st.accounts.get_mut(&id) {
        a.logs
            .push(format!("{}: {} {}", fmt_time(rq.now), rq.ip, what));
        if a.logs.len() > 500 {
            a.logs.remove(0);
        }
    }
}

/// `personal` or `enterprise`: domains never cross between the two.
fn user_type(st: &State, id: u64) -> &str {
    st.accounts.get(&id).map_or("", |a| a.user_type.as_str())
}

/// Domains never move between personal and enterprise accounts; `refusals` are the
/// method's own (personal to enterprise, enterprise to personal).
fn same_user_type(from: &str, to: &str, refusals: [Fail; 2]) -> Result<(), Fail> {
    let [to_enterprise, to_personal] = refusals;
    match (from, to) {
        ("personal", "enterprise") => Err(to_enterprise),
        ("enterprise", "personal") => Err(to_personal),
        _ => Ok(()),
    }
}

fn user_grade(st: &State, id: u64) -> &'static str {
    let rank = |g: &str| GRADES.iter().position(|x| x.code == g).unwrap_or(0) % 5;
    st.domains
        .values()
        .filter(|d| d.owner == id)
        .map(|d| d.grade)
        .max_by_key(|g| rank(g))
        .unwrap_or("DP_Free")
}

fn user_detail(st: &mut State, rq: &Rq) -> R {
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

fn valid_phone(p: &str) -> bool {
    p.len() == 11 && p.starts_with('1') && p.bytes().all(|b| b.is_ascii_digit())
}

fn valid_email(e: &str) -> bool {
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

fn user_modify(st: &mut State, rq: &Rq) -> R {
    if let Some(p) = rq.opt("telephone") {
        if !valid_phone(p) {
            return Err(fail(text::TELEPHONE_NUMBER_INVALID_8));
        }
    }
    if let Some(im) = rq.opt("im") {
        if !(5..=11).contains(&im.len()) || !im.bytes().all(|b| b.is_ascii_digit()) {
            return Err(fail(text::USER_QQ_INVALID));
        }
    }
    let a = actor_mut(st, rq)?;
    if let Some(v) = rq.opt("real_name") {
        a.real_name = v.into();
    }
    if let Some(v) = rq.opt("nick") {
        a.nick = v.into();
    }
    if let Some(v) = rq.opt("telephone") {
        if a.telephone != v {
            a.telephone = v.into();
            a.telephone_verified = false;
        }
    }
    if let Some(v) = rq.opt("im") {
        a.im = v.into();
    }
    let id = a.id;
    log_user(st, id, rq, "修改资料");
    ok(vec![])
}

fn userpasswd_modify(st: &mut State, rq: &Rq) -> R {
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

fn useremail_modify(st: &mut State, rq: &Rq) -> R {
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

fn telephone_code(st: &mut State, rq: &Rq) -> R {
    let tel = rq.str("telephone").to_string();
    let now = rq.now;
    let a = actor_mut(st, rq)?;
    if a.telephone_verified && a.telephone == tel {
        return Err(fail(text::TELEPHONE_ALREADY_VERIFIED));
    }
    if !valid_phone(&tel) {
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

fn user_log(st: &mut State, rq: &Rq) -> R {
    let a = actor(st, rq)?;
    let log: Vec<V> = a.logs.iter().rev().map(V::from).collect();
    ok(vec![("log", V::Arr(log))])
}

// ---------------------------------------------------------------- agent

fn agent_user_list(st: &mut State, rq: &Rq) -> R {
    let (offset, length) = paging(rq, 6, usize::MAX)?;
    let users: Vec<&Account> = st
        .accounts
        .values()
        .filter(|a| a.under_agent == Some(rq.auth))
        .collect();
    let total = users.len();
    if total == 0 && rq.error_on_empty {
        return Err(fail(text::NO_USERS_UNDER_THIS_ACCOUNT));
    }
    let items: Vec<V> = users
        .iter()
        .skip(offset)
        .take(length)
        .map(|u| {
            let domains = st.domains.values().filter(|d| d.owner == u.id).count();
            obj!("id" => s(u.id), "email" => &u.email, "status" => &u.status, "domains" => s(domains), "points" => s(0))
        })
        .collect();
    ok(vec![
        ("info", obj!("user_total" => total)),
        ("users", V::Arr(items)),
    ])
}

fn agent_user_under(st: &mut State, rq: &Rq) -> R {
    let email = rq.str("user_email").to_ascii_lowercase();
    if !valid_email(&email) {
        return Err(fail(text::UNDER_EMAIL_INVALID));
    }
    let id = st
        .by_email
        .get(&email)
        .ok_or_else(|| fail(text::USER_NOT_EXISTS))?;
    let under = st
        .accounts
        .get(id)
        .is_some_and(|u| u.under_agent == Some(rq.auth));
    if !under {
        return Err(fail(text::NOT_UNDER_AGENT));
    }
    ok(vec![])
}

fn agent_user_transfer(st: &mut State, rq: &Rq) -> R {
    let bad = || fail(text::USER_ID_OR_AGENT_ID_INVALID);
    let uid: u64 = rq.str("user_id").parse().map_err(|_| bad())?;
    let aid: u64 = rq.str("agent_id").parse().map_err(|_| bad())?;
    let user = st.accounts.get(&uid).ok_or_else(bad)?;
    let target = st.accounts.get(&aid).ok_or_else(bad)?;
    if user.under_agent != Some(rq.auth) {
        return Err(fail(text::TRANSFER_USER_NOT_UNDER));
    }
    if target.agent.is_none() || aid == rq.auth {
        return Err(fail(text::TARGET_IS_NOT_A_VALID_AGENT));
    }
    if let Some(u) = st.accounts.get_mut(&uid) {
        u.under_agent = Some(aid);
    }
    log_user(st, rq.auth, rq, &format!("转出用户 {uid} 到代理 {aid}"));
    ok(vec![])
}

fn valid_ip(ip: &str) -> bool {
    ip.parse::<std::net::IpAddr>().is_ok()
}

fn agent_user_create(st: &mut State, rq: &Rq) -> R {
    let email = rq.str("email").to_ascii_lowercase();
    if !valid_email(&email) {
        return Err(fail(text::NEW_USER_EMAIL_INVALID));
    }
    if st.by_email.contains_key(&email) {
        return Err(fail(text::EMAIL_ALREADY_EXISTS));
    }
    let password = rq.str("password");
    if !(6..=18).contains(&password.chars().count()) {
        return Err(fail(text::PASSWORD_INVALID));
    }
    let user_type = rq.str("user_type");
    if user_type != "personal" && user_type != "enterprise" {
        return Err(fail(text::USER_TYPE_INVALID));
    }
    let real_name = rq.str("real_name");
    if real_name.is_empty() || real_name.chars().count() > 64 {
        return Err(fail(text::REAL_NAME_INVALID));
    }
    let id_card = rq.str("id_card");
    if user_type == "enterprise" && !(9..=18).contains(&id_card.len()) {
        return Err(fail(text::ORGANIZATION_CODE_INVALID));
    }
    let tel = rq.str("telephone");
    if !valid_phone(tel) {
        return Err(fail(text::TELEPHONE_NUMBER_INVALID_12));
    }
    if let Some(im) = rq.opt("im") {
        if !im.bytes().all(|b| b.is_ascii_digit()) && !valid_email(im) {
            return Err(fail(text::USER_QQ_MSN_INVALID));
        }
    }
    if !valid_ip(rq.str("ip_addr")) {
        return Err(fail(text::USER_IP_INVALID_15));
    }
    let mut a = Account::new(0, &email, password, user_type);
    a.real_name = real_name.into();
    a.id_card = if user_type == "enterprise" {
        id_card.into()
    } else {
        String::new()
    };
    a.telephone = tel.into();
    a.im = rq.str("im").into();
    a.under_agent = Some(rq.auth);
    let id = st.add_account(a);
    log_user(st, rq.auth, rq, &format!("创建用户 {email}"));
    ok(vec![("user", obj!("id" => s(id)))])
}

fn agent_verify(st: &mut State, rq: &Rq, phone: bool) -> R {
    let bad = || fail(text::USER_ID_INVALID_M5);
    let uid: u64 = rq.str("user_id").parse().map_err(|_| bad())?;
    let user = st.accounts.get_mut(&uid).ok_or_else(bad)?;
    if user.under_agent != Some(rq.auth) {
        return Err(fail(text::NOT_A_USER_UNDER_YOU));
    }
    if phone {
        let tel = rq.str("telephone");
        if !valid_phone(tel) {
            return Err(fail(text::TELEPHONE_NUMBER_INVALID_4));
        }
        user.telephone = tel.into();
        user.telephone_verified = true;
    } else {
        user.email_verified = true;
    }
    ok(vec![])
}

fn product_list() -> R {
    let products: Vec<V> = PRODUCTS
        .iter()
        .map(|(name, ty, title, yearly)| {
            let prices: Vec<V> = TERMS
                .iter()
                .map(|(pn, pt, years)| {
                    obj!("price_name" => *pn, "price_title" => *pt, "price_value" => yuan(yearly * i64::from(*years)), "price_days" => 365 * years)
                })
                .collect();
            let content = format!("{title}只需 {}/年，更多线路、更低 TTL、更多记录，给您最豪华的 DNS 体验！", yuan_text(*yearly));
            obj!("name" => *name, "type" => *ty, "title" => *title, "content" => content, "prices" => prices)
        })
        .collect();
    ok(vec![("products", V::Arr(products))])
}

fn domain_upgrade(st: &mut State, rq: &Rq) -> R {
    let name = rq.str("domain").to_ascii_lowercase();
    if !valid_domain(&name) {
        return Err(fail(text::DOMAIN_INVALID));
    }
    let did = *st
        .by_name
        .get(&name)
        .ok_or_else(|| fail(text::DOMAIN_NOT_EXISTS_7))?;
    let owner = st.domains.get(&did).map_or(0, |d| d.owner);
    let owner_acc = st
        .accounts
        .get(&owner)
        .filter(|u| u.under_agent == Some(rq.auth))
        .ok_or_else(|| fail(text::DOMAIN_IS_NOT_OWNED_BY_YOUR_USER))?;
    let product = PRODUCTS
        .iter()
        .find(|p| p.0 == rq.str("grade") && p.1 == owner_acc.user_type)
        .ok_or_else(|| fail(text::GRADE_INVALID))?;
    let term = TERMS
        .iter()
        .find(|t| t.0 == rq.str("term"))
        .ok_or_else(|| fail(text::TERM_INVALID))?;
    if !valid_ip(rq.str("ip_addr")) {
        return Err(fail(text::USER_IP_INVALID_12));
    }
    let agent = st
        .accounts
        .get(&rq.auth)
        .and_then(|a| a.agent.clone())
        .ok_or_else(|| fail(text::NOT_A_VALID_AGENT))?;
    let user_price = product.3 * i64::from(term.2);
    let agent_price = (rust_decimal::Decimal::from(user_price)
        * rust_decimal::Decimal::from(agent.discount)
        / rust_decimal::Decimal::ONE_HUNDRED)
        .round_dp_with_strategy(0, rust_decimal::RoundingStrategy::MidpointAwayFromZero);
    let agent_price = i64::try_from(agent_price).unwrap_or(i64::MAX);
    if agent.balance_fen < agent_price {
        return Err(fail(text::BALANCE_INSUFFICIENT));
    }
    let days = 365 * i64::from(term.2);
    let today = today(rq.now);
    let grade_code: &'static str = grade(product.0).map_or("D_Plus", |g| g.code);
    let d = st
        .domains
        .get_mut(&did)
        .ok_or_else(|| fail(text::DOMAIN_NOT_EXISTS_7))?;
    let (start, end) = match d.vip {
        Some((start, end)) if end >= today && d.grade == grade_code => (start, end),
        _ => (today, today.yesterday().unwrap_or(today)),
    };
    let end = end.checked_add(jiff::Span::new().days(days)).unwrap_or(end);
    d.vip = Some((start, end));
    d.grade = grade_code;
    d.updated_on = rq.now;
    let domain_id = d.id;
    let seq = st.misc_id();
    let a = st
        .accounts
        .get_mut(&rq.auth)
        .and_then(|a| a.agent.as_mut())
        .ok_or_else(|| fail(text::NOT_A_VALID_AGENT))?;
    a.balance_fen -= agent_price;
    a.points += agent_price / 100;
    let (points, balance, discount) = (a.points, a.balance_fen, a.discount);
    let abbrev: String = product
        .0
        .trim_start_matches("D_")
        .chars()
        .take(3)
        .collect::<String>()
        .to_uppercase();
    let journal = format!(
        "{}{}{:03}YN{:04}",
        rq.now
            .to_zoned(TimeZone::fixed(offset(8)))
            .strftime("%Y%m%d%H"),
        abbrev,
        term.2,
        seq % 10_000
    );
    let end_s = end.to_string();
    log_user(
        st,
        rq.auth,
        rq,
        &format!("升级域名 {name} 到 {} {}", product.0, term.0),
    );
    ok(vec![
        (
            "agent",
            obj!("user_id" => s(rq.auth), "discount" => s(discount), "points" => points, "balance" => yuan(balance)),
        ),
        (
            "domain",
            obj!("domain_id" => s(domain_id), "domain" => &name, "grade" => product.0, "term" => term.0, "vip_start_at" => start.to_string(), "vip_end_at" => &end_s),
        ),
        (
            "bill",
            obj!("user_price" => yuan(user_price), "agent_price" => yuan_text(agent_price), "journal_number" => journal),
        ),
        (
            "notice",
            obj!(
                "title" => format!("域名 {name} 续费 VIP 服务成功"),
                "content" => format!("您的域名 {name} 已经成功续费为： {}-{}，VIP 服务到期日期为 {end_s} 。", product.2, term.1),
                "dns" => "ns1.dnsv2.com 和 ns2.dnsv2.com",
            ),
        ),
    ])
}

// ---------------------------------------------------------------- domains

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

#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Access {
    Read,
    Write,
}

pub(super) fn bad_domain_id() -> Fail {
    fail(text::DOMAIN_ID_INVALID_6)
}

fn bad_record_id() -> Fail {
    fail(text::RECORD_ID_INVALID_8)
}

/// Code a method uses for "you may not touch this domain".
fn not_owner(action: &str) -> Fail {
    let code = match action {
        "Domain.Remove" | "Record.List" => "9",
        "Domain.Status" | "Domain.Info" | "Domain.Log" | "Domain.Searchenginepush" => "8",
        _ => "7",
    };
    fail_as(code, text::NOT_OWNER)
}

/// Resolves `domain_id` or `domain` to a domain the actor may read or write.
pub(super) fn find_domain(st: &State, rq: &Rq, access: Access) -> Result<u64, Fail> {
    let did = if let Some(id) = rq.opt("domain_id") {
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
    let d = st.domains.get(&did).ok_or_else(bad_domain_id)?;
    if d.owner == rq.actor {
        return Ok(did);
    }
    let email = st
        .accounts
        .get(&rq.actor)
        .map(|a| a.email.as_str())
        .unwrap_or("");
    // A share grants reads; `rw` grants record changes, limited to its sub_domain when
    // the share names one. Domain-level settings stay the owner's.
    let Some(share) = d
        .shares
        .iter()
        .find(|s| s.email.eq_ignore_ascii_case(email))
    else {
        return Err(not_owner(rq.action));
    };
    if access == Access::Read {
        return Ok(did);
    }
    if share.mode == "rw" && rq.action.starts_with("Record.") {
        let target = match rq.opt("record_id").and_then(|r| r.parse::<u64>().ok()) {
            Some(rid) => d.records.get(&rid).map(|r| r.name.clone()),
            None => Some(rq.opt("sub_domain").unwrap_or("@").to_lowercase()),
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
    Err(not_owner(rq.action))
}

/// A domain resolved earlier under the same lock; the error arm is unreachable in
/// practice but keeps a bad invariant from panicking the server.
pub(super) fn dom(st: &State, did: u64) -> Result<&Domain, Fail> {
    st.domains.get(&did).ok_or_else(bad_domain_id)
}

pub(super) fn rec(st: &State, did: u64, rid: u64) -> Result<&Record, Fail> {
    dom(st, did)?.records.get(&rid).ok_or_else(bad_record_id)
}

fn is_locked(d: &Domain, now: Timestamp) -> bool {
    d.lock.as_ref().is_some_and(|(_, end)| *end > now)
}

pub(super) fn domain_status(d: &Domain, now: Timestamp) -> &'static str {
    if is_locked(d, now) {
        "lock"
    } else {
        d.status
    }
}

fn is_vip(d: &Domain, now: Timestamp) -> bool {
    d.vip.is_some_and(|(_, end)| end >= today(now))
}

pub(super) fn grade_of(d: &Domain) -> &'static Grade {
    grade(d.grade).unwrap_or(&GRADES[5])
}

pub(super) fn owner_email(st: &State, d: &Domain) -> String {
    st.accounts
        .get(&d.owner)
        .map(|a| a.email.clone())
        .unwrap_or_default()
}

fn log_domain(st: &mut State, did: u64, rq: &Rq, what: &str) {
    if let Some(d) = st.domains.get_mut(&did) {
        d.logs
            .push(format!("{}(API): ({}) {}", fmt_time(rq.now), rq.ip, what));
        if d.logs.len() > 1000 {
            d.logs.remove(0);
        }
        d.updated_on = rq.now;
    }
}

fn domain_create(st: &mut State, rq: &Rq) -> R {
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
    let group = match rq.opt("group_id") {
        Some(g) => {
            let g: u64 = g.parse().unwrap_or(1);
            let custom = st
                .accounts
                .get(&rq.actor)
                .is_some_and(|a| a.groups.iter().any(|(id, _)| *id == g));
            if custom || (1..=7).contains(&g) {
                g
            } else {
                1
            }
        }
        None => 1,
    };
    let did = st.add_domain(&name, rq.actor, "DP_Free", rq.now);
    if let Some(d) = st.domains.get_mut(&did) {
        d.group_id = group;
        d.is_mark = rq.str("is_mark") == "yes";
    }
    log_domain(st, did, rq, &format!("添加域名 {name}"));
    ok(vec![(
        "domain",
        obj!("id" => s(did), "punycode" => &name, "domain" => &name),
    )])
}

/// `offset` and `length` of a listing: `length` absent means `max` and is capped at it.
/// Every listing numbers its codes the same way: `bad_offset`, then the next one for a
/// bad length.
pub(super) fn paging(rq: &Rq, bad_offset: u32, max: usize) -> Result<(usize, usize), Fail> {
    let offset = match rq.opt("offset") {
        None => 0,
        Some(v) => v
            .parse()
            .map_err(|_| fail_as(&bad_offset.to_string(), text::OFFSET_INVALID))?,
    };
    let length = match rq.opt("length").map(str::parse::<usize>) {
        None => max,
        Some(Ok(n)) if n > 0 => n.min(max),
        Some(_) => return Err(fail_as(&(bad_offset + 1).to_string(), text::LENGTH_INVALID)),
    };
    Ok((offset, length))
}

/// Domains the actor sees, in id order: owned ones and ones shared to it.
fn visible_domains<'a>(st: &'a State, actor: u64) -> impl Iterator<Item = (&'a Domain, bool)> + 'a {
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

const PAGE_MAX: usize = 3000;

fn domain_list(st: &mut State, rq: &Rq) -> R {
    let (offset, length) = paging(rq, 6, PAGE_MAX)?;
    let now = rq.now;
    let ty = rq.opt("type").unwrap_or("all");
    let group = rq.opt("group_id").and_then(|g| g.parse::<u64>().ok());
    let keyword = rq.opt("keyword").map(str::to_lowercase);
    let all: Vec<(&Domain, bool)> = visible_domains(st, rq.actor).collect();
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
    if page.is_empty() && rq.error_on_empty {
        let mut f = fail(text::NO_DOMAINS);
        f.payload = vec![("info".into(), info)];
        return Err(f);
    }
    ok(vec![("info", info), ("domains", V::Arr(page))])
}

fn domain_info(st: &mut State, rq: &Rq) -> R {
    let did = find_domain(st, rq, Access::Read)?;
    let d = dom(st, did)?;
    let now = rq.now;
    let g = grade_of(d);
    let remark = if d.remark.is_empty() {
        V::Bool(false)
    } else {
        V::from(&d.remark)
    };
    let dom = obj!(
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
    ok(vec![("domain", dom)])
}

fn domain_remove(st: &mut State, rq: &Rq) -> R {
    let did = find_domain(st, rq, Access::Write)?;
    let d = dom(st, did)?;
    if d.owner != rq.actor {
        return Err(fail(text::NOT_THE_DOMAIN_OWNER));
    }
    if is_locked(d, rq.now) {
        return Err(fail(text::DOMAIN_IS_LOCKED_7));
    }
    if is_vip(d, rq.now) {
        return Err(fail(text::VIP_DOMAIN_CAN_NOT_BE_DELETED));
    }
    if let Some(d) = st.domains.remove(&did) {
        st.by_name.remove(&d.name);
        for rid in d.records.keys() {
            st.record_domain.remove(rid);
        }
        log_user(st, rq.actor, rq, &format!("删除域名 {}", d.name));
    }
    ok(vec![])
}

enum DomainField {
    Status,
    Push,
    Mark,
    Remark,
    Group,
}

fn domain_set(st: &mut State, rq: &Rq, field: DomainField) -> R {
    let did = find_domain(st, rq, Access::Write)?;
    let now = rq.now;
    let custom_group = |st: &State, g: u64| {
        st.accounts
            .get(&rq.actor)
            .is_some_and(|a| a.groups.iter().any(|(id, _)| *id == g))
    };
    let group = match field {
        DomainField::Group => {
            let g: u64 = rq
                .str("group_id")
                .parse()
                .map_err(|_| fail(text::GROUP_ID_INVALID_7))?;
            if !((1..=7).contains(&g) || custom_group(st, g)) {
                return Err(fail(text::GROUP_ID_INVALID_7));
            }
            if dom(st, did)?.owner != rq.actor {
                return Err(fail(text::GROUP_ID_INVALID_7));
            }
            g
        }
        _ => 0,
    };
    let d = st.domains.get_mut(&did).ok_or_else(bad_domain_id)?;
    let what = match field {
        DomainField::Status => {
            if is_locked(d, now) {
                return Err(fail(text::DOMAIN_IS_LOCKED_7));
            }
            d.status = if rq.str("status") == "enable" {
                "enable"
            } else {
                "pause"
            };
            format!("设置域名状态为 {}", rq.str("status"))
        }
        DomainField::Push => {
            if is_locked(d, now) {
                return Err(fail(text::DOMAIN_IS_LOCKED_7));
            }
            d.searchengine_push = rq.str("status") == "yes";
            format!("设置搜索引擎推送 {}", rq.str("status"))
        }
        DomainField::Mark => {
            d.is_mark = rq.str("is_mark") == "yes";
            format!("设置星标 {}", rq.str("is_mark"))
        }
        DomainField::Remark => {
            d.remark = rq.str("remark").to_string();
            "设置域名备注".to_string()
        }
        DomainField::Group => {
            d.group_id = group;
            format!("设置域名分组 {group}")
        }
    };
    log_domain(st, did, rq, &what);
    ok(vec![])
}

fn domain_log(st: &mut State, rq: &Rq) -> R {
    let did = find_domain(st, rq, Access::Read)?;
    let offset = rq
        .opt("offset")
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(0);
    let length = rq
        .opt("length")
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

fn domain_purview(st: &mut State, rq: &Rq) -> R {
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

fn domain_transfer(st: &mut State, rq: &Rq) -> R {
    let did = find_domain(st, rq, Access::Write)?;
    let email = rq.str("email").to_ascii_lowercase();
    if !valid_email(&email) {
        return Err(fail(text::TARGET_EMAIL_INVALID));
    }
    let target = *st
        .by_email
        .get(&email)
        .ok_or_else(|| fail(text::TARGET_EMAIL_NOT_REGISTERED))?;
    if target == dom(st, did)?.owner {
        return Err(fail(text::CAN_NOT_TRANSFER_TO_YOURSELF));
    }
    same_user_type(
        user_type(st, dom(st, did)?.owner),
        user_type(st, target),
        [
            fail(text::PERSONAL_DOMAIN_CAN_NOT_TRANSFER_TO_ENTERPRISE),
            fail(text::ENTERPRISE_DOMAIN_CAN_NOT_TRANSFER_TO_PERSONAL),
        ],
    )?;
    if let Some(d) = st.domains.get_mut(&did) {
        d.owner = target;
        d.group_id = 1;
        d.shares.clear();
    }
    log_domain(st, did, rq, &format!("域名过户给 {email}"));
    ok(vec![])
}

fn domain_lock(st: &mut State, rq: &Rq) -> R {
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
    if is_locked(d, rq.now) {
        return Err(fail(text::DOMAIN_IS_ALREADY_LOCKED));
    }
    let code = md5_hex(&format!("{did}:{}", rq.now.as_nanosecond()))[..10].to_string();
    let end = rq.now + SignedDuration::from_hours(24 * days);
    if let Some(d) = st.domains.get_mut(&did) {
        d.lock = Some((code.clone(), end));
    }
    log_domain(st, did, rq, &format!("锁定域名 {days} 天"));
    ok(vec![(
        "lock",
        obj!("domain_id" => did, "lock_code" => code, "lock_end" => today(end).to_string()),
    )])
}

fn domain_unlock(st: &mut State, rq: &Rq) -> R {
    let did = find_domain(st, rq, Access::Write)?;
    let d = st.domains.get_mut(&did).ok_or_else(bad_domain_id)?;
    match &d.lock {
        Some((code, end)) if *end > rq.now => {
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

fn domainshare(st: &mut State, rq: &Rq) -> R {
    let access = if rq.action == "Domainshare.List" {
        Access::Read
    } else {
        Access::Write
    };
    let did = find_domain(st, rq, access)?;
    if rq.action == "Domainshare.List" {
        let d = dom(st, did)?;
        if d.shares.is_empty() && rq.error_on_empty {
            return Err(fail(text::NO_SHARES));
        }
        let share: Vec<V> = d
            .shares
            .iter()
            .map(|s| obj!("share_to" => &s.email, "mode" => &s.mode, "status" => &s.status))
            .collect();
        return ok(vec![
            ("share", V::Arr(share)),
            ("owner", V::from(owner_email(st, d))),
        ]);
    }
    let email = rq.str("email").to_ascii_lowercase();
    if !valid_email(&email) {
        return Err(fail(text::SHARE_EMAIL_INVALID));
    }
    if !st.by_email.contains_key(&email) {
        return Err(fail(text::SHARE_EMAIL_NOT_REGISTERED));
    }
    let max = grade_of(dom(st, did)?).share_max;
    let owner = owner_email(st, dom(st, did)?).to_ascii_lowercase();
    let mode = if rq.str("mode") == "rw" { "rw" } else { "r" };
    let d = st.domains.get_mut(&did).ok_or_else(bad_domain_id)?;
    let pos = d.shares.iter().position(|s| s.email == email);
    let what = match rq.action {
        "Domainshare.Create" => {
            if email == owner {
                return Err(fail(text::SHARE_EMAIL_INVALID));
            }
            if pos.is_some() {
                return Err(fail(text::SHARE_ALREADY_EXISTS));
            }
            if d.shares.len() >= max {
                return Err(fail(text::SHARE_LIMIT_REACHED));
            }
            d.shares.push(Share {
                email: email.clone(),
                mode: mode.into(),
                sub_domain: rq.opt("sub_domain").map(str::to_string),
                status: "enabled".into(),
            });
            format!("共享域名给 {email}")
        }
        "Domainshare.Modify" => {
            let old = rq.opt("old_sub_domain");
            let Some(i) =
                pos.filter(|i| old.is_none() || d.shares[*i].sub_domain.as_deref() == old)
            else {
                return Err(fail(text::SHARE_NOT_FOUND));
            };
            d.shares[i].mode = mode.into();
            if rq.opt("new_sub_domain").is_some() || old.is_some() {
                d.shares[i].sub_domain = rq.opt("new_sub_domain").map(str::to_string);
            }
            format!("修改共享 {email}")
        }
        _ => {
            let Some(i) = pos else {
                return Err(fail(text::SHARE_NOT_FOUND));
            };
            d.shares.remove(i);
            format!("取消共享 {email}")
        }
    };
    log_domain(st, did, rq, &what);
    ok(vec![])
}

fn domainalias(st: &mut State, rq: &Rq) -> R {
    let access = if rq.action == "Domainalias.List" {
        Access::Read
    } else {
        Access::Write
    };
    let did = find_domain(st, rq, access)?;
    match rq.action {
        "Domainalias.List" => {
            let d = dom(st, did)?;
            if d.aliases.is_empty() && rq.error_on_empty {
                return Err(fail(text::NO_ALIASES));
            }
            let alias: Vec<V> = d
                .aliases
                .iter()
                .map(|(id, name)| obj!("id" => s(id), "domain" => name))
                .collect();
            ok(vec![("alias", V::Arr(alias))])
        }
        "Domainalias.Create" => {
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
            if let Some(d) = st.domains.get_mut(&did) {
                d.aliases.push((id, alias.clone()));
            }
            log_domain(st, did, rq, &format!("添加别名 {alias}"));
            ok(vec![("alias", obj!("id" => s(id), "punycode" => &alias))])
        }
        _ => {
            let aid: u64 = rq.str("alias_id").parse().unwrap_or(0);
            let d = st.domains.get_mut(&did).ok_or_else(bad_domain_id)?;
            let Some(i) = d.aliases.iter().position(|(id, _)| *id == aid) else {
                return Err(fail(text::ALIAS_ID_INVALID));
            };
            let (_, name) = d.aliases.remove(i);
            log_domain(st, did, rq, &format!("删除别名 {name}"));
            ok(vec![])
        }
    }
}

fn domaingroup(st: &mut State, rq: &Rq) -> R {
    let actor_id = rq.actor;
    let size = |st: &State, g: u64| -> usize {
        if g == 8 {
            visible_domains(st, actor_id)
                .filter(|(_, mine)| !mine)
                .count()
        } else {
            st.domains
                .values()
                .filter(|d| d.owner == actor_id && d.group_id == g)
                .count()
        }
    };
    match rq.action {
        "Domaingroup.List" => {
            let mut groups: Vec<V> = SYSTEM_GROUPS
                .iter()
                .map(|(id, name)| obj!("group_id" => *id, "group_name" => *name, "group_type" => "system", "size" => size(st, *id)))
                .collect();
            for (id, name) in &actor(st, rq)?.groups {
                groups.push(obj!("group_id" => *id, "group_name" => name, "group_type" => "custom", "size" => size(st, *id)));
            }
            ok(vec![("groups", V::Arr(groups))])
        }
        "Domaingroup.Create" => {
            let name = rq.str("group_name").to_string();
            let vip = st
                .domains
                .values()
                .any(|d| d.owner == actor_id && is_vip(d, rq.now));
            let a = actor(st, rq)?;
            if name.is_empty() || name.chars().count() > 20 {
                return Err(fail(text::GROUP_NAME_INVALID));
            }
            if a.groups.iter().any(|(_, n)| *n == name)
                || SYSTEM_GROUPS.iter().any(|(_, n)| *n == name)
            {
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
        "Domaingroup.Modify" => {
            let gid: u64 = rq.str("group_id").parse().unwrap_or(0);
            let name = rq.str("group_name").to_string();
            let a = actor_mut(st, rq)?;
            if !a.groups.iter().any(|(id, _)| *id == gid) {
                return Err(fail(text::GROUP_ID_INVALID_6));
            }
            if name.is_empty() || name.chars().count() > 20 {
                return Err(fail(text::GROUP_NAME_INVALID));
            }
            if a.groups.iter().any(|(id, n)| *n == name && *id != gid) {
                return Err(fail(text::GROUP_NAME_EXISTS));
            }
            for g in a.groups.iter_mut().filter(|(id, _)| *id == gid) {
                g.1 = name.clone();
            }
            ok(vec![])
        }
        _ => {
            let gid: u64 = rq.str("group_id").parse().unwrap_or(0);
            let a = actor_mut(st, rq)?;
            let Some(i) = a.groups.iter().position(|(id, _)| *id == gid) else {
                return Err(fail(text::GROUP_ID_INVALID_6));
            };
            a.groups.remove(i);
            for d in st
                .domains
                .values_mut()
                .filter(|d| d.owner == actor_id && d.group_id == gid)
            {
                d.group_id = 1;
            }
            ok(vec![])
        }
    }
}

fn acquire(st: &mut State, rq: &Rq) -> R {
    let name = rq.str("domain").to_lowercase();
    if !name.is_ascii() {
        return Err(fail(text::IDN_IS_NOT_SUPPORTED));
    }
    if !valid_domain(&name) {
        return Err(fail(text::DOMAIN_INVALID));
    }
    let did = *st
        .by_name
        .get(&name)
        .ok_or_else(|| fail(text::DOMAIN_DOES_NOT_EXIST))?;
    let d = dom(st, did)?;
    if d.status == "spam" {
        return Err(fail(text::DOMAIN_IS_BANNED));
    }
    if is_locked(d, rq.now) {
        return Err(fail(text::DOMAIN_IS_LOCKED_12));
    }
    if is_vip(d, rq.now) {
        return Err(fail(text::VIP_DOMAIN_CAN_NOT_BE_ACQUIRED));
    }
    same_user_type(
        user_type(st, d.owner),
        user_type(st, rq.actor),
        [
            fail(text::ENTERPRISE_ACCOUNT_CAN_NOT_ACQUIRE_PERSONAL_DOMAIN),
            fail(text::PERSONAL_ACCOUNT_CAN_NOT_ACQUIRE_ENTERPRISE_DOMAIN),
        ],
    )?;
    // The sim's WHOIS: the registrant mailbox of the domain itself.
    let emails = [format!("admin@{name}"), format!("hostmaster@{name}")];
    match rq.action {
        "Domain.Acquire" => ok(vec![(
            "emails",
            V::Arr(emails.iter().map(V::from).collect()),
        )]),
        "Domain.Acquiresend" | "Domain.Acquiresend.New" => {
            let key = if rq.action == "Domain.Acquiresend" {
                "email"
            } else {
                "whois_email"
            };
            let email = rq.str(key).to_lowercase();
            if !emails.contains(&email) {
                return Err(fail(text::EMAIL_PARAMETER_INVALID));
            }
            let code = format!(
                "{:06}",
                u64::from_str_radix(&md5_hex(&format!("{name}{}", rq.now))[..8], 16).unwrap_or(0)
                    % 1_000_000
            );
            st.acquires.insert(name, (rq.actor, email, code));
            ok(vec![])
        }
        _ => {
            let good = st
                .acquires
                .get(&name)
                .is_some_and(|(who, _, code)| *who == rq.actor && code == rq.str("code"));
            if !good {
                return Err(fail(text::VERIFICATION_CODE_IS_WRONG));
            }
            complete_acquire(st, &name, rq.now);
            ok(vec![])
        }
    }
}

/// Moves a domain to the account that asked to retrieve it.
pub fn complete_acquire(st: &mut State, name: &str, now: Timestamp) -> bool {
    let Some((who, _, _)) = st.acquires.remove(name) else {
        return false;
    };
    let Some(did) = st.by_name.get(name).copied() else {
        return false;
    };
    if let Some(d) = st.domains.get_mut(&did) {
        d.owner = who;
        d.group_id = 1;
        d.shares.clear();
        d.updated_on = now;
        d.logs.push(format!("{}(API): 域名取回", fmt_time(now)));
    }
    true
}

// ---------------------------------------------------------------- records

fn grade_param(rq: &Rq) -> Result<&'static Grade, Fail> {
    grade(rq.str("domain_grade")).ok_or_else(|| fail(text::DOMAIN_GRADE_INVALID))
}

fn record_type(rq: &Rq) -> R {
    let g = grade_param(rq)?;
    ok(vec![(
        "types",
        V::Arr(g.types.iter().map(|t| V::from(*t)).collect()),
    )])
}

fn record_line(st: &mut State, rq: &Rq) -> R {
    let g = grade_param(rq)?;
    find_domain(st, rq, Access::Read)?;
    let ids: Vec<(String, V)> = lines_of(g)
        .map(|(name, id)| {
            let v = if *id == "0" { V::Int(0) } else { V::from(*id) };
            (name.to_string(), v)
        })
        .collect();
    let names: Vec<V> = lines_of(g).map(|(name, _)| V::from(*name)).collect();
    ok(vec![("line_ids", V::Obj(ids)), ("lines", V::Arr(names))])
}

/// A validated record content from Create/Modify/Ddns parameters.
struct Content {
    name: String,
    rtype: String,
    line: String,
    line_id: String,
    value: String,
    mx: u32,
    ttl: u32,
    enabled: bool,
    weight: Option<u32>,
}

fn resolve_line(g: &Grade, rq: &Rq) -> Result<(String, String), Fail> {
    let bad = || fail(text::RECORD_LINE_INVALID);
    if let Some(id) = rq.opt("record_line_id") {
        return lines_of(g)
            .find(|(_, i)| *i == id)
            .map(|(n, i)| (n.to_string(), i.to_string()))
            .ok_or_else(bad);
    }
    let name = rq.opt("record_line").unwrap_or("默认");
    lines_of(g)
        .find(|(n, _)| *n == name)
        .map(|(n, i)| (n.to_string(), i.to_string()))
        .ok_or_else(bad)
}

fn check_sub_domain(g: &Grade, name: &str) -> Result<(), Fail> {
    if name == "@" {
        return Ok(());
    }
    let labels: Vec<&str> = name.split('.').collect();
    for (i, l) in labels.iter().enumerate() {
        if l.contains('*') && (i != 0 || *l != "*") {
            return Err(fail(text::WILDCARD_SUBDOMAIN_INVALID));
        }
        let ok_chars = l
            .chars()
            .all(|c| c.is_alphanumeric() || c == '-' || c == '_' || c == '*');
        if l.is_empty() || !ok_chars || l.len() > 63 {
            return Err(fail(text::SUBDOMAIN_INVALID));
        }
    }
    if labels.len() > g.sub_levels {
        return Err(fail(text::SUBDOMAIN_LEVELS_EXCEEDED));
    }
    Ok(())
}

fn check_value(rtype: &str, value: &str) -> Result<(), Fail> {
    let bad = || fail(text::RECORD_VALUE_INVALID);
    let host_like = |v: &str| {
        let v = v.trim_end_matches('.');
        !v.is_empty()
            && v.split('.').all(|l| {
                !l.is_empty()
                    && l.chars()
                        .all(|c| c.is_alphanumeric() || c == '-' || c == '_')
            })
    };
    let good = match rtype {
        "A" => value.parse::<std::net::Ipv4Addr>().is_ok(),
        "AAAA" => value.parse::<std::net::Ipv6Addr>().is_ok(),
        "CNAME" | "MX" | "NS" => host_like(value),
        "SRV" => value.split_whitespace().count() == 4,
        "URL" => value.starts_with("http://") || value.starts_with("https://"),
        _ => !value.is_empty() && value.len() <= 512,
    };
    if good {
        Ok(())
    } else {
        Err(bad())
    }
}

/// Validates content against the domain's grade. `modify` selects Modify's TTL code.
fn content(
    st: &State,
    did: u64,
    rq: &Rq,
    current: Option<&Record>,
    ddns: bool,
) -> Result<Content, Fail> {
    let d = dom(st, did)?;
    let g = grade_of(d);
    let name = rq
        .opt("sub_domain")
        .map(str::to_lowercase)
        .or_else(|| current.filter(|_| ddns).map(|c| c.name.clone()))
        .unwrap_or_else(|| "@".to_string());
    check_sub_domain(g, &name)?;
    let rtype = if ddns {
        current.map_or("A".to_string(), |c| c.rtype.clone())
    } else {
        rq.str("record_type").to_uppercase()
    };
    if !g.types.contains(&rtype.as_str()) {
        return Err(fail(text::RECORD_TYPE_INVALID));
    }
    let (line, line_id) = resolve_line(g, rq)?;
    let value = match rq.opt("value") {
        Some(v) => v.to_string(),
        None if ddns => rq.ip.to_string(),
        None => String::new(),
    };
    check_value(&rtype, &value)?;
    let mx = if rtype == "MX" {
        let mx: u32 = rq.opt("mx").and_then(|m| m.parse().ok()).unwrap_or(0);
        if !(1..=20).contains(&mx) {
            return Err(fail(text::MX_VALUE_SHOULD_BE_1_20));
        }
        mx
    } else {
        0
    };
    let ttl = match rq.opt("ttl") {
        Some(t) => t.parse::<u32>().unwrap_or(0),
        None if ddns => current.map_or(600, |c| c.ttl),
        None => current.map_or(600.max(g.min_ttl), |c| c.ttl),
    };
    if ttl < g.min_ttl || !(1..=604_800).contains(&ttl) {
        return Err(if rq.action == "Record.Create" {
            fail(text::TTL_OVER_LIMIT)
        } else {
            fail(text::TTL_TOO_SMALL)
        });
    }
    let enabled = match rq.opt("status") {
        Some(s) => s != "disable",
        None => current.is_none_or(|c| c.enabled),
    };
    let weight = match rq.opt("weight") {
        Some(w) if g.enterprise && g.vip => w
            .parse::<u32>()
            .ok()
            .filter(|w| *w <= 100)
            .filter(|w| *w > 0),
        _ => current.and_then(|c| c.weight),
    };
    Ok(Content {
        name,
        rtype,
        line,
        line_id,
        value,
        mx,
        ttl,
        enabled,
        weight,
    })
}

/// Conflict and load-balance rules shared by Create and Modify (`skip` = record itself).
fn check_conflicts(
    st: &State,
    did: u64,
    c: &Content,
    skip: Option<u64>,
    rr_code: Option<&str>,
) -> Result<(), Fail> {
    let d = dom(st, did)?;
    let g = grade_of(d);
    let same_host = d
        .records
        .values()
        .filter(|r| Some(r.id) != skip && r.name == c.name && r.line == c.line);
    let mut same_type = 0;
    for r in same_host {
        if r.rtype == c.rtype && r.value.eq_ignore_ascii_case(&c.value) {
            return Err(fail(text::RECORD_EXISTS));
        }
        let exclusive = ["CNAME", "URL"];
        let clash = (exclusive.contains(&c.rtype.as_str())
            || exclusive.contains(&r.rtype.as_str()))
            && r.rtype != c.rtype
            && ["A", "AAAA", "CNAME", "URL"].contains(&r.rtype.as_str())
            && ["A", "AAAA", "CNAME", "URL"].contains(&c.rtype.as_str());
        if clash {
            return Err(fail(text::RECORD_CONFLICT));
        }
        if r.rtype == c.rtype && r.enabled {
            same_type += 1;
        }
    }
    if c.enabled && same_type >= g.round_robin {
        let code = match rr_code {
            Some(code) => code,
            None if c.rtype == "CNAME" => "500026",
            None => "500025",
        };
        return Err(fail_as(code, text::LOAD_BALANCE_EXCEEDED));
    }
    Ok(())
}

fn record_create(st: &mut State, rq: &Rq) -> R {
    let did = find_domain(st, rq, Access::Write)?;
    if is_locked(dom(st, did)?, rq.now) {
        return Err(fail(text::DOMAIN_IS_LOCKED_21));
    }
    let c = content(st, did, rq, None, false)?;
    check_conflicts(st, did, &c, None, None)?;
    let d = dom(st, did)?;
    if d.records.len() >= grade_of(d).records_max {
        // Not in the public code list; the live server's text for the grade's record cap.
        return Err(fail(text::RECORD_COUNT_EXCEEDED));
    }
    let mut rec = new_record(
        0, &c.name, &c.rtype, &c.value, &c.line, &c.line_id, c.ttl, c.mx, rq.now, false,
    );
    rec.enabled = c.enabled;
    rec.weight = c.weight;
    let rid = st.add_record(did, rec);
    log_domain(
        st,
        did,
        rq,
        &format!("添加记录 {} {} {} {}", c.name, c.rtype, c.line, c.value),
    );
    let status = if c.enabled { "enabled" } else { "disabled" };
    ok(vec![(
        "record",
        obj!("id" => s(rid), "name" => &c.name, "status" => status),
    )])
}

fn find_record(st: &State, did: u64, rq: &Rq) -> Result<u64, Fail> {
    let rid: u64 = rq.str("record_id").parse().map_err(|_| bad_record_id())?;
    if dom(st, did)?.records.contains_key(&rid) {
        Ok(rid)
    } else {
        Err(bad_record_id())
    }
}

const NOOP_LIMIT: usize = 5;

fn record_lock_fail() -> Fail {
    fail(text::RECORD_NOOP_LOCKED)
}

fn record_locked(r: &Record, now: Timestamp) -> Option<Fail> {
    r.locked_until
        .filter(|u| *u > now)
        .map(|_| record_lock_fail())
}

fn record_modify(st: &mut State, rq: &Rq, ddns: bool) -> R {
    let did = find_domain(st, rq, Access::Write)?;
    if is_locked(dom(st, did)?, rq.now) {
        return Err(fail(text::DOMAIN_IS_LOCKED_21));
    }
    let rid = find_record(st, did, rq)?;
    let cur = rec(st, did, rid)?.clone();
    if let Some(f) = record_locked(&cur, rq.now) {
        return Err(f);
    }
    if cur.hold {
        return Err(fail(text::NS_NOT_MODIFIABLE));
    }
    let c = content(st, did, rq, Some(&cur), ddns)?;
    let noop = c.name == cur.name
        && c.rtype == cur.rtype
        && c.line == cur.line
        && c.value == cur.value
        && c.mx == cur.mx
        && c.ttl == cur.ttl
        && c.enabled == cur.enabled
        && c.weight == cur.weight;
    let now = rq.now;
    if noop {
        // Abuse rule: more than 5 no-change modifications in an hour lock the record.
        let d = st.domains.get_mut(&did).ok_or_else(bad_domain_id)?;
        let r = d.records.get_mut(&rid).ok_or_else(bad_record_id)?;
        r.noop_mods.retain(|t| now.duration_since(*t) < HOUR);
        r.noop_mods.push(now);
        if r.noop_mods.len() > NOOP_LIMIT {
            r.locked_until = Some(now + HOUR);
            r.noop_mods.clear();
            return Err(record_lock_fail());
        }
    } else {
        check_conflicts(st, did, &c, Some(rid), if ddns { Some("25") } else { None })?;
        let d = st.domains.get_mut(&did).ok_or_else(bad_domain_id)?;
        let r = d.records.get_mut(&rid).ok_or_else(bad_record_id)?;
        r.name = c.name.clone();
        r.rtype = c.rtype.clone();
        r.line = c.line.clone();
        r.line_id = c.line_id.clone();
        r.value = c.value.clone();
        r.mx = c.mx;
        r.ttl = c.ttl;
        r.enabled = c.enabled;
        r.weight = c.weight;
        r.updated_on = now;
        log_domain(
            st,
            did,
            rq,
            &format!("修改记录 {} {} {} {}", c.name, c.rtype, c.line, c.value),
        );
    }
    let record = if ddns {
        obj!("id" => rid, "name" => &c.name, "value" => &c.value)
    } else {
        let status = if c.enabled { "enable" } else { "disable" };
        obj!("id" => rid, "name" => &c.name, "value" => &c.value, "status" => status)
    };
    ok(vec![("record", record)])
}

fn record_remove(st: &mut State, rq: &Rq) -> R {
    let did = find_domain(st, rq, Access::Write)?;
    if is_locked(dom(st, did)?, rq.now) {
        return Err(fail(text::DOMAIN_IS_LOCKED_21));
    }
    let rid = find_record(st, did, rq)?;
    if rec(st, did, rid)?.hold {
        return Err(fail(text::NS_NOT_REMOVABLE));
    }
    if let Some(r) = st
        .domains
        .get_mut(&did)
        .and_then(|d| d.records.remove(&rid))
    {
        st.record_domain.remove(&rid);
        log_domain(
            st,
            did,
            rq,
            &format!("删除记录 {} {} {}", r.name, r.rtype, r.value),
        );
    }
    ok(vec![])
}

fn record_remark(st: &mut State, rq: &Rq) -> R {
    let did = find_domain(st, rq, Access::Write)?;
    let rid = find_record(st, did, rq)?;
    if let Some(r) = st
        .domains
        .get_mut(&did)
        .and_then(|d| d.records.get_mut(&rid))
    {
        r.remark = rq.str("remark").to_string();
    }
    ok(vec![])
}

fn record_status(st: &mut State, rq: &Rq) -> R {
    let did = find_domain(st, rq, Access::Write)?;
    if is_locked(dom(st, did)?, rq.now) {
        return Err(fail(text::DOMAIN_IS_LOCKED_21));
    }
    let rid = find_record(st, did, rq)?;
    let enable = rq.str("status") == "enable";
    let r = st
        .domains
        .get_mut(&did)
        .and_then(|d| d.records.get_mut(&rid))
        .ok_or_else(bad_record_id)?;
    if let Some(f) = record_locked(r, rq.now) {
        return Err(f);
    }
    r.enabled = enable;
    r.updated_on = rq.now;
    let name = r.name.clone();
    let status = if enable { "enable" } else { "disable" };
    log_domain(st, did, rq, &format!("设置记录 {name} 状态 {status}"));
    ok(vec![(
        "record",
        obj!("id" => rid, "name" => name, "status" => status),
    )])
}

fn record_item(r: &Record) -> V {
    let mut v = obj!(
        "id" => s(r.id),
        "name" => &r.name,
        "line" => &r.line,
        "line_id" => &r.line_id,
        "type" => &r.rtype,
        "ttl" => s(r.ttl),
        "value" => &r.value,
        "weight" => r.weight.map_or(V::Null, |w| V::Int(i64::from(w))),
        "mx" => s(r.mx),
        "enabled" => if r.enabled { "1" } else { "0" },
        "status" => if r.enabled { "enabled" } else { "disabled" },
        "monitor_status" => "",
        "remark" => &r.remark,
        "updated_on" => fmt_time(r.updated_on),
        "use_aqb" => "no",
    );
    if r.hold {
        if let V::Obj(fields) = &mut v {
            fields.push(("hold".into(), V::from("hold")));
        }
    }
    v
}

fn record_list(st: &mut State, rq: &Rq) -> R {
    let did = find_domain(st, rq, Access::Read)?;
    let (offset, length) = paging(rq, 7, PAGE_MAX)?;
    let d = dom(st, did)?;
    let sub = rq.opt("sub_domain").map(str::to_lowercase);
    let keyword = rq.opt("keyword").map(str::to_lowercase);
    let rtype = rq.opt("record_type").map(str::to_uppercase);
    let matching: Vec<&Record> = d
        .records
        .values()
        .filter(|r| sub.as_ref().is_none_or(|s| r.name == *s))
        .filter(|r| rtype.as_ref().is_none_or(|t| r.rtype == *t))
        .filter(|r| {
            keyword.as_ref().is_none_or(|k| {
                r.name.contains(k.as_str()) || r.value.to_lowercase().contains(k.as_str())
            })
        })
        .collect();
    let domain = obj!(
        "id" => d.id,
        "name" => &d.name,
        "punycode" => &d.name,
        "grade" => d.grade,
        "owner" => owner_email(st, d),
        "ext_status" => "",
        "ttl" => d.ttl,
    );
    let info = obj!("sub_domains" => s(d.records.len()), "record_total" => s(matching.len()));
    let page: Vec<V> = matching
        .iter()
        .skip(offset)
        .take(length)
        .map(|r| record_item(r))
        .collect();
    if page.is_empty() && rq.error_on_empty {
        let mut f = fail(text::NO_RECORDS);
        f.payload = vec![("domain".into(), domain), ("info".into(), info)];
        return Err(f);
    }
    ok(vec![
        ("domain", domain),
        ("info", info),
        ("records", V::Arr(page)),
    ])
}

fn record_info(st: &mut State, rq: &Rq) -> R {
    let did = find_domain(st, rq, Access::Read)?;
    let rid = find_record(st, did, rq)?;
    let d = dom(st, did)?;
    let r = &d.records[&rid];
    ok(vec![
        (
            "domain",
            obj!("id" => d.id, "domain" => &d.name, "domain_grade" => d.grade),
        ),
        (
            "record",
            obj!(
                "id" => s(r.id),
                "sub_domain" => &r.name,
                "record_type" => &r.rtype,
                "record_line" => &r.line,
                "record_line_id" => &r.line_id,
                "value" => &r.value,
                "weight" => r.weight.map_or(V::Null, |w| V::Int(i64::from(w))),
                "mx" => s(r.mx),
                "ttl" => s(r.ttl),
                "enabled" => if r.enabled { "1" } else { "0" },
                "monitor_status" => "",
                "remark" => &r.remark,
                "updated_on" => fmt_time(r.updated_on),
                "domain_id" => s(d.id),
            ),
        ),
    ])
}

// ---------------------------------------------------------------- batch

/// The sim's bound on one job (the doc names none): keeps a hostile request from
/// exhausting memory while leaving room for a zone's worth of records.
const MAX_JOB_RECORDS: usize = 100_000;

fn too_big() -> Fail {
    fail(text::BATCH_TOO_BIG)
}

fn batch_create(st: &mut State, rq: &Rq) -> R {
    let mut items = Vec::new();
    let op = match rq.action {
        "Batch.Domain.Create" => {
            let value = rq.opt("record_value").map(str::to_string);
            if let Some(v) = &value {
                if v.parse::<std::net::Ipv4Addr>().is_err() {
                    return Err(fail(text::BATCH_RECORD_VALUE_NOT_IP));
                }
            }
            for name in rq
                .str("domains")
                .split(',')
                .map(|n| n.trim().to_lowercase())
                .filter(|n| !n.is_empty())
            {
                let records = value
                    .iter()
                    .flat_map(|v| {
                        ["@", "www"].map(|h| JobRecord {
                            record_id: None,
                            sub_domain: h.into(),
                            record_type: "A".into(),
                            area: "默认".into(),
                            value: v.clone(),
                            mx: 0,
                            ttl: 600,
                            status: "waiting",
                            err_msg: String::new(),
                        })
                    })
                    .collect();
                items.push(JobDomain {
                    domain_id: None,
                    domain: name,
                    domain_grade: "DP_Free".into(),
                    status: "waiting",
                    err_msg: String::new(),
                    records,
                });
            }
            JobOp::DomainCreate
        }
        "Batch.Record.Create" => {
            let recs: serde_json::Value = serde_json::from_str(rq.str("records"))
                .map_err(|_| fail(text::BATCH_RECORDS_NOT_ARRAY))?;
            let recs = recs.as_array().cloned().unwrap_or_default();
            let field = |r: &serde_json::Value, k: &str| {
                r.get(k)
                    .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_string))
                    .unwrap_or_default()
            };
            let mut template = Vec::new();
            for r in &recs {
                let mx = field(r, "mx");
                let mx = if mx.is_empty() { field(r, "MX") } else { mx };
                for host in field(r, "sub_domain")
                    .split(',')
                    .map(str::trim)
                    .filter(|h| !h.is_empty())
                {
                    template.push(JobRecord {
                        record_id: None,
                        sub_domain: host.to_lowercase(),
                        record_type: field(r, "record_type").to_uppercase(),
                        area: {
                            let l = field(r, "record_line");
                            if l.is_empty() {
                                "默认".into()
                            } else {
                                l
                            }
                        },
                        value: field(r, "value"),
                        mx: mx.parse().unwrap_or(0),
                        ttl: field(r, "ttl").parse().unwrap_or(600),
                        status: "waiting",
                        err_msg: String::new(),
                    });
                }
            }
            if template.is_empty() {
                return Err(fail(text::BATCH_RECORDS_EMPTY));
            }
            let ids: Vec<&str> = rq
                .str("domain_id")
                .split(',')
                .map(str::trim)
                .filter(|i| !i.is_empty())
                .collect();
            // A 4 MB form could otherwise ask for billions of records (hosts x domains).
            if template.len().saturating_mul(ids.len()) > MAX_JOB_RECORDS {
                return Err(too_big());
            }
            for id in ids {
                let did = id.parse::<u64>().ok();
                let d = did
                    .and_then(|i| st.domains.get(&i))
                    .filter(|d| d.owner == rq.actor);
                items.push(JobDomain {
                    domain_id: did,
                    domain: d.map(|d| d.name.clone()).unwrap_or_default(),
                    domain_grade: d.map_or("", |d| d.grade).to_string(),
                    status: "waiting",
                    err_msg: String::new(),
                    records: template.clone(),
                });
            }
            JobOp::RecordAdd
        }
        _ => {
            let change = rq.str("change").to_string();
            let change_to = rq.str("change_to").to_string();
            if change == "record_type" && rq.opt("value").is_none() {
                return Err(fail(text::BATCH_VALUE_REQUIRED));
            }
            let mut by_domain: Vec<JobDomain> = Vec::new();
            for id in rq
                .str("record_id")
                .split(',')
                .map(str::trim)
                .filter(|i| !i.is_empty())
            {
                let rid = id.parse::<u64>().unwrap_or(0);
                let did = st.record_domain.get(&rid).copied();
                let d = did
                    .and_then(|i| st.domains.get(&i))
                    .filter(|d| d.owner == rq.actor);
                let r = d.and_then(|d| d.records.get(&rid));
                let jr = JobRecord {
                    record_id: Some(rid),
                    sub_domain: r.map(|r| r.name.clone()).unwrap_or_default(),
                    record_type: r.map(|r| r.rtype.clone()).unwrap_or_default(),
                    area: r.map(|r| r.line.clone()).unwrap_or_default(),
                    value: r.map(|r| r.value.clone()).unwrap_or_default(),
                    mx: r.map_or(0, |r| r.mx),
                    ttl: r.map_or(0, |r| r.ttl),
                    status: "waiting",
                    err_msg: String::new(),
                };
                let key = d.map(|d| d.id);
                match by_domain.iter_mut().find(|j| j.domain_id == key) {
                    Some(j) => j.records.push(jr),
                    None => by_domain.push(JobDomain {
                        domain_id: key,
                        domain: d.map(|d| d.name.clone()).unwrap_or_default(),
                        domain_grade: d.map_or("", |d| d.grade).to_string(),
                        status: "waiting",
                        err_msg: String::new(),
                        records: vec![jr],
                    }),
                }
            }
            items = by_domain;
            JobOp::RecordModify {
                change,
                change_to,
                value: rq.str("value").to_string(),
                mx: rq.str("mx").to_string(),
            }
        }
    };
    if items.is_empty() {
        return Err(fail(text::BATCH_NOTHING_TO_DO));
    }
    if items.len() > MAX_JOB_RECORDS {
        return Err(too_big());
    }
    let id = st.misc_id();
    st.jobs.insert(
        id,
        Job {
            id,
            owner: rq.actor,
            op,
            created: rq.now,
            ip: rq.ip.to_string(),
            items,
            done: 0,
        },
    );
    ok(vec![("job_id", s(id))])
}

/// Jobs progress with the clock: one domain entry completes per simulated second.
pub fn advance_jobs(st: &mut State, now: Timestamp) {
    let pending: Vec<u64> = st
        .jobs
        .values()
        .filter(|j| j.done < j.items.len())
        .map(|j| j.id)
        .collect();
    for jid in pending {
        while let Some(job) = st.jobs.get(&jid) {
            let due = usize::try_from(now.duration_since(job.created).as_secs().max(0))
                .unwrap_or(usize::MAX);
            if job.done >= job.items.len() || job.done >= due {
                break;
            }
            let idx = job.done;
            let mut item = job.items[idx].clone();
            let (op, owner, ip) = (job.op.clone(), job.owner, job.ip.clone());
            run_job_item(st, &op, owner, &ip, &mut item, now);
            if let Some(job) = st.jobs.get_mut(&jid) {
                job.items[idx] = item;
                job.done += 1;
            }
        }
    }
}

/// Applies one batch entry through the same rules as the single-record calls.
fn run_job_item(
    st: &mut State,
    op: &JobOp,
    owner: u64,
    ip: &str,
    item: &mut JobDomain,
    now: Timestamp,
) {
    let ip_addr = ip.parse().unwrap_or(std::net::IpAddr::from([127, 0, 0, 1]));
    let mk = |action: &'static str, params: Vec<(&str, String)>| Rq {
        action,
        params: params
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
        ip: ip_addr,
        now,
        error_on_empty: true,
        auth: owner,
        actor: owner,
    };
    let mut domain_ok = true;
    match op {
        JobOp::DomainCreate => {
            match domain_create(
                st,
                &mk("Domain.Create", vec![("domain", item.domain.clone())]),
            ) {
                Ok(out) => {
                    item.domain_id = out.payload.first().and_then(|(_, v)| match v {
                        V::Obj(f) => f
                            .iter()
                            .find(|(k, _)| k == "id")
                            .and_then(|(_, v)| match v {
                                V::Str(s) => s.parse().ok(),
                                _ => None,
                            }),
                        _ => None,
                    });
                }
                Err(f) => {
                    domain_ok = false;
                    item.err_msg = f.en;
                }
            }
        }
        JobOp::RecordAdd => {
            if item.domain_id.is_none() || item.domain.is_empty() {
                domain_ok = false;
                item.err_msg = "Domain id invalid".into();
            }
        }
        JobOp::RecordModify { .. } => {
            if item.domain_id.is_none() {
                domain_ok = false;
                item.err_msg = "Record id invalid".into();
            }
        }
    }
    let did = item.domain_id.map(|d| d.to_string()).unwrap_or_default();
    for r in item.records.iter_mut() {
        if !domain_ok {
            r.status = "error";
            r.err_msg = item.err_msg.clone();
            continue;
        }
        let result = match op {
            JobOp::DomainCreate | JobOp::RecordAdd => record_create(
                st,
                &mk(
                    "Record.Create",
                    vec![
                        ("domain_id", did.clone()),
                        ("sub_domain", r.sub_domain.clone()),
                        ("record_type", r.record_type.clone()),
                        ("record_line", r.area.clone()),
                        ("value", r.value.clone()),
                        ("mx", r.mx.to_string()),
                        ("ttl", r.ttl.to_string()),
                    ],
                ),
            )
            .map(|out| {
                r.record_id = out.payload.first().and_then(|(_, v)| match v {
                    V::Obj(f) => f
                        .iter()
                        .find(|(k, _)| k == "id")
                        .and_then(|(_, v)| match v {
                            V::Str(s) => s.parse().ok(),
                            _ => None,
                        }),
                    _ => None,
                });
            }),
            JobOp::RecordModify {
                change,
                change_to,
                value,
                mx,
            } => {
                let mut p = vec![
                    ("domain_id", did.clone()),
                    ("record_id", r.record_id.unwrap_or(0).to_string()),
                    ("sub_domain", r.sub_domain.clone()),
                    ("record_type", r.record_type.clone()),
                    ("record_line", r.area.clone()),
                    ("value", r.value.clone()),
                    ("mx", r.mx.to_string()),
                    ("ttl", r.ttl.to_string()),
                ];
                let mut set = |k: &'static str, v: String| {
                    if let Some(slot) = p.iter_mut().find(|(key, _)| *key == k) {
                        slot.1 = v;
                    } else {
                        p.push((k, v));
                    }
                };
                match change.as_str() {
                    "area" => set("record_line", change_to.clone()),
                    "record_type" => {
                        set("record_type", change_to.clone());
                        set("value", value.clone());
                        if !mx.is_empty() {
                            set("mx", mx.clone());
                        }
                    }
                    "status" => set(
                        "status",
                        if change_to.starts_with("disable") {
                            "disable".into()
                        } else {
                            "enable".into()
                        },
                    ),
                    other => set(
                        match other {
                            "sub_domain" => "sub_domain",
                            "value" => "value",
                            "mx" => "mx",
                            _ => "ttl",
                        },
                        change_to.clone(),
                    ),
                }
                record_modify(st, &mk("Record.Modify", p), false).map(|_| {
                    if let Some(rec) = item
                        .domain_id
                        .and_then(|d| st.domains.get(&d))
                        .and_then(|d| d.records.get(&r.record_id.unwrap_or(0)))
                    {
                        r.sub_domain = rec.name.clone();
                        r.record_type = rec.rtype.clone();
                        r.area = rec.line.clone();
                        r.value = rec.value.clone();
                        r.mx = rec.mx;
                        r.ttl = rec.ttl;
                    }
                })
            }
        };
        match result {
            Ok(()) => r.status = "ok",
            Err(f) => {
                r.status = "error";
                r.err_msg = f.en;
            }
        }
    }
    let any_err = !domain_ok || item.records.iter().any(|r| r.status == "error");
    item.status = if any_err { "error" } else { "ok" };
    if any_err && item.err_msg.is_empty() {
        item.err_msg = item
            .records
            .iter()
            .find(|r| !r.err_msg.is_empty())
            .map(|r| r.err_msg.clone())
            .unwrap_or_default();
    }
}

fn batch_detail(st: &mut State, rq: &Rq) -> R {
    let jid: u64 = rq.str("job_id").parse().unwrap_or(0);
    let job = st
        .jobs
        .get(&jid)
        .filter(|j| j.owner == rq.actor)
        .ok_or_else(|| fail(text::JOB_NOT_FOUND))?;
    let (mut total, mut success, mut failed) = (0usize, 0usize, 0usize);
    let mut tally = |status: &str| {
        total += 1;
        match status {
            "ok" => success += 1,
            "error" => failed += 1,
            _ => {}
        }
    };
    let running = job.done;
    let (ty, operation) = match job.op {
        JobOp::DomainCreate => ("domain", "plus"),
        JobOp::RecordAdd => ("record_add", "plus"),
        JobOp::RecordModify { .. } => ("record_modify", "edit"),
    };
    let detail: Vec<V> = job
        .items
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let status = if i == running && d.status == "waiting" {
                "running"
            } else {
                d.status
            };
            tally(status);
            let records: Vec<V> = d
                .records
                .iter()
                .enumerate()
                .map(|(j, r)| {
                    let rstatus = if status == "running" && r.status == "waiting" {
                        "running"
                    } else {
                        r.status
                    };
                    tally(rstatus);
                    obj!(
                        "id" => j,
                        "record_id" => r.record_id.map_or(V::Null, V::from),
                        "sub_domain" => &r.sub_domain,
                        "record_type" => &r.record_type,
                        "area" => &r.area,
                        "value" => &r.value,
                        "mx" => s(r.mx),
                        "ttl" => r.ttl,
                        "err_msg" => &r.err_msg,
                        "status" => rstatus,
                        "operation" => operation,
                    )
                })
                .collect();
            obj!(
                "id" => i,
                "domain_id" => d.domain_id.map_or(V::from(""), s),
                "domain" => &d.domain,
                "domain_grade" => &d.domain_grade,
                "err_msg" => &d.err_msg,
                "status" => status,
                "operation" => operation,
                "records" => records,
            )
        })
        .collect();
    let created = fmt_time(job.created);
    ok(vec![
        ("detail", V::Arr(detail)),
        ("total", V::from(total)),
        ("success", V::from(success)),
        ("fail", V::from(failed)),
        ("type", V::from(ty)),
        ("created_at", V::from(created)),
    ])
}
