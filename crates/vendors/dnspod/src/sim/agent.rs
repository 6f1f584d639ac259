//! The agent (reseller) API: its users, their verification, VIP products and
//! `Domain.Upgrade` charged to the agent's balance.

use super::common::*;
use super::render::{obj, s, yuan, yuan_text, V};
use super::state::*;
use super::{fail, Args, Fail, Handler, Req, R};
use crate::errors::text;

pub(super) fn handler(name: &str) -> Option<Handler> {
    Some(match name {
        "User.List" => user_list,
        "User.Under" => user_under,
        "User.Transfer" => user_transfer,
        "User.Create" => user_create,
        "Verify.Email" => verify_email,
        "Verify.Telephone" => verify_telephone,
        "Product.List" => product_list,
        "Domain.Upgrade" => upgrade,
        _ => return None,
    })
}

fn user_list(st: &mut State, rq: &Req<'_>) -> R {
    let (offset, length) = paging(rq, 6, usize::MAX)?;
    let users: Vec<&Account> = st
        .accounts
        .values()
        .filter(|a| a.under_agent == Some(rq.auth()))
        .collect();
    let total = users.len();
    if total == 0 && rq.error_on_empty() {
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

fn user_under(st: &mut State, rq: &Req<'_>) -> R {
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
        .is_some_and(|u| u.under_agent == Some(rq.auth()));
    if !under {
        return Err(fail(text::NOT_UNDER_AGENT));
    }
    ok(vec![])
}

fn user_transfer(st: &mut State, rq: &Req<'_>) -> R {
    let bad = || fail(text::USER_ID_OR_AGENT_ID_INVALID);
    let uid: u64 = rq.str("user_id").parse().map_err(|_| bad())?;
    let aid: u64 = rq.str("agent_id").parse().map_err(|_| bad())?;
    let user = st.accounts.get(&uid).ok_or_else(bad)?;
    let target = st.accounts.get(&aid).ok_or_else(bad)?;
    if user.under_agent != Some(rq.auth()) {
        return Err(fail(text::TRANSFER_USER_NOT_UNDER));
    }
    if target.agent.is_none() || aid == rq.auth() {
        return Err(fail(text::TARGET_IS_NOT_A_VALID_AGENT));
    }
    if let Some(u) = st.accounts.get_mut(&uid) {
        u.under_agent = Some(aid);
    }
    log_user(st, rq.auth(), rq, &format!("转出用户 {uid} 到代理 {aid}"));
    ok(vec![])
}

fn user_create(st: &mut State, rq: &Req<'_>) -> R {
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
    if let Some(im) = rq.arg("im") {
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
    a.under_agent = Some(rq.auth());
    let id = st.add_account(a);
    log_user(st, rq.auth(), rq, &format!("创建用户 {email}"));
    ok(vec![("user", obj!("id" => s(id)))])
}

/// The `user_id` argument of `Verify.*`: one of the agent's users.
fn my_user<'a>(st: &'a mut State, rq: &Req<'_>) -> Result<&'a mut Account, Fail> {
    let bad = || fail(text::USER_ID_INVALID_M5);
    let uid: u64 = rq.str("user_id").parse().map_err(|_| bad())?;
    let user = st.accounts.get_mut(&uid).ok_or_else(bad)?;
    if user.under_agent != Some(rq.auth()) {
        return Err(fail(text::NOT_A_USER_UNDER_YOU));
    }
    Ok(user)
}

fn verify_email(st: &mut State, rq: &Req<'_>) -> R {
    my_user(st, rq)?.email_verified = true;
    ok(vec![])
}

fn verify_telephone(st: &mut State, rq: &Req<'_>) -> R {
    let user = my_user(st, rq)?;
    let tel = rq.str("telephone");
    if !valid_phone(tel) {
        return Err(fail(text::TELEPHONE_NUMBER_INVALID_4));
    }
    user.telephone = tel.into();
    user.telephone_verified = true;
    ok(vec![])
}

/// What an agent pays for a list price: its discount, rounded to the fen as its bills are.
fn agent_price(list_fen: i64, discount: u32) -> i64 {
    let price = (rust_decimal::Decimal::from(list_fen) * rust_decimal::Decimal::from(discount)
        / rust_decimal::Decimal::ONE_HUNDRED)
        .round_dp_with_strategy(0, rust_decimal::RoundingStrategy::MidpointAwayFromZero);
    i64::try_from(price).unwrap_or(i64::MAX)
}

/// The price list as the calling agent buys: `price_value` is what `Domain.Upgrade`
/// then takes from its balance (the bill's `agent_price`); the text keeps the list price.
fn product_list(st: &mut State, rq: &Req<'_>) -> R {
    let discount = st
        .accounts
        .get(&rq.auth())
        .and_then(|a| a.agent.as_ref())
        .map_or(100, |a| a.discount);
    let products: Vec<V> = PRODUCTS
        .iter()
        .map(|(name, ty, title, yearly)| {
            let prices: Vec<V> = TERMS
                .iter()
                .map(|(pn, pt, years)| {
                    let price = agent_price(yearly * i64::from(*years), discount);
                    obj!("price_name" => *pn, "price_title" => *pt, "price_value" => yuan(price), "price_days" => 365 * years)
                })
                .collect();
            let content = format!("{title}只需 {}/年，更多线路、更低 TTL、更多记录，给您最豪华的 DNS 体验！", yuan_text(*yearly));
            obj!("name" => *name, "type" => *ty, "title" => *title, "content" => content, "prices" => prices)
        })
        .collect();
    ok(vec![("products", V::Arr(products))])
}

fn upgrade(st: &mut State, rq: &Req<'_>) -> R {
    let name = rq.str("domain").to_ascii_lowercase();
    let did = domain_by_name(st, &name, text::DOMAIN_NOT_EXISTS_7)?;
    let owner = st.domains.get(&did).map_or(0, |d| d.owner);
    let owner_acc = st
        .accounts
        .get(&owner)
        .filter(|u| u.under_agent == Some(rq.auth()))
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
        .get(&rq.auth())
        .and_then(|a| a.agent.clone())
        .ok_or_else(|| fail(text::NOT_A_VALID_AGENT))?;
    let user_price = product.3 * i64::from(term.2);
    let agent_price = agent_price(user_price, agent.discount);
    if agent.balance_fen < agent_price {
        return Err(fail(text::BALANCE_INSUFFICIENT));
    }
    let days = 365 * i64::from(term.2);
    let today = today(rq.now());
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
    d.updated_on = rq.now();
    let domain_id = d.id;
    let seq = st.misc_id();
    let a = st
        .accounts
        .get_mut(&rq.auth())
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
        china(rq.now()).strftime("%Y%m%d%H"),
        abbrev,
        term.2,
        seq % 10_000
    );
    let end_s = end.to_string();
    let memo = format!("升级域名 {name} 到 {} {}", product.0, term.0);
    log_user(st, rq.auth(), rq, &memo);
    st.bills.push(Bill {
        agent: rq.auth(),
        journal_number: journal.clone(),
        memo,
        agent_price_fen: agent_price,
    });
    ok(vec![
        (
            "agent",
            obj!("user_id" => s(rq.auth()), "discount" => s(discount), "points" => points, "balance" => yuan(balance)),
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
