//! Domain transfer in (域名转入): an order charged one year at the renewal price, a state
//! machine read through domainzhuanrustate (0 等待处理 -> 6 转移中 -> 10 转入成功, or 1
//! 转移密码错误 until the code is resent), cancellation refunding the charge.

use super::domain::{needs_audit, Domain};
use super::finance::domain_price;
use super::{Fields, Handler, Purpose, Req, SimErr, State, R};
use idcgate_wire::sim::decode_base64;
use serde_json::json;

#[derive(Debug, Clone)]
pub(crate) struct Transfer {
    pub domain: String,
    pub contact: u64,
    pub authcode: String,
    pub code: u8,
    pub paid: rust_decimal::Decimal,
    pub own_dns: bool,
}

fn title(code: u8) -> &'static str {
    match code {
        0 => "等待处理",
        1 => "转移密码错误",
        6 => "转移中",
        10 => "转入成功",
        11 => "转入失败",
        12 => "取消转入",
        _ => "等待查询状态",
    }
}

/// What the losing registrar accepts: the sim's rule for a correct transfer code
/// (letters and digits or symbols, 8+ characters, not all alike).
fn code_ok(code: &str) -> bool {
    code.len() >= 8
        && code.chars().any(|c| c.is_ascii_digit())
        && code.chars().any(|c| !c.is_ascii_digit())
}

/// Standard base64 (`jm=Y` sends the code encoded), padding at the end only; `None` if it
/// is not base64 of UTF-8 text.
fn base64_decode(s: &str) -> Option<String> {
    String::from_utf8(decode_base64(s.trim_end_matches('=').bytes())?).ok()
}

fn authcode(q: &Req) -> Result<String, SimErr> {
    let raw = q
        .arg("authcode")
        .ok_or_else(|| SimErr::new(11731, "转移密码不能为空"))?;
    if q.arg("jm").is_some_and(|j| j.eq_ignore_ascii_case("Y")) {
        base64_decode(raw).ok_or_else(|| SimErr::field(11739, "转移密码错误", "authcode"))
    } else {
        Ok(raw.to_string())
    }
}

/// The domain a transfer or owner-change call names; 11728 when it is not a domain name.
pub(crate) fn named_domain(q: &Req) -> Result<String, SimErr> {
    let d = q.domain()?;
    if !super::valid_hostname(&d) || d.ends_with('.') {
        return Err(SimErr::field(11728, "域名格式错误", "domainname"));
    }
    Ok(d)
}

fn transfer_of<'a>(st: &'a mut State, q: &Req, missing: u32) -> Result<&'a mut Transfer, SimErr> {
    let d = named_domain(q)?;
    st.transfers
        .get_mut(&d)
        .ok_or_else(|| SimErr::new(missing, "没有找到转入订单"))
}

pub(crate) fn handler(name: &str) -> Option<Handler> {
    Some(match name {
        "/domains/domainzhuanru" => start,
        "/domains/domainzhuanrustate" => state,
        "/domains/cancelzhuanru" => cancel,
        "/domains/updateauthcode" => update_authcode,
        _ => return None,
    })
}

fn state(st: &mut State, q: &Req) -> R {
    let t = transfer_of(st, q, 11744)?;
    let shown = t.code;
    // The registry moves one step each time the status is looked at.
    t.code = match t.code {
        0 if code_ok(&t.authcode) => 6,
        0 => 1,
        6 => 10,
        c => c,
    };
    if shown == 6 {
        complete(st, q)?;
    }
    // The state as it stood when asked ("0 等待处理" first); the move shows next time.
    Ok(json!({"code": shown.to_string(), "title": title(shown)}))
}

fn cancel(st: &mut State, q: &Req) -> R {
    let t = transfer_of(st, q, 11750)?;
    if t.code >= 10 {
        return Err(SimErr::new(11751, "取消转入失败"));
    }
    t.code = 12;
    let (paid, domain) = (t.paid, t.domain.clone());
    st.deposit(q.now_ms(), paid, &format!("域名转入取消退款 {domain}"));
    Ok(json!(" "))
}

fn update_authcode(st: &mut State, q: &Req) -> R {
    let code = authcode(q)?;
    let t = transfer_of(st, q, 11752)?;
    if t.code != 1 {
        return Err(SimErr::new(11752, "没有找到可操作的转入订单"));
    }
    t.authcode = code;
    t.code = 0;
    Ok(json!(" "))
}

fn start(st: &mut State, q: &Req) -> R {
    let name = named_domain(q)?;
    let code = authcode(q)?;
    let uid = q
        .req("userid")?
        .parse::<u64>()
        .map_err(|_| SimErr::new(11729, "联系人ID格式错误"))?;
    let Some((_, tld)) = name.split_once('.') else {
        return Err(SimErr::new(11728, "域名格式错误"));
    };
    let Some((_, price)) = domain_price(&format!(".{tld}")) else {
        return Err(SimErr::new(11732, "不支持转入该后缀"));
    };
    if !st.contacts.contains_key(&uid) {
        return Err(SimErr::new(11722, "联系人ID不存在"));
    }
    if st.domains.contains_key(&name) {
        return Err(SimErr::new(11734, "已存在域名订单"));
    }
    if st.transfers.get(&name).is_some_and(|t| t.code < 10) {
        return Err(SimErr::new(11735, "已存在转入订单"));
    }
    // Only a domain registered elsewhere can move here.
    if !st.taken.contains(&name) {
        return Err(SimErr::new(11736, "Whois禁止转移或域名已过期"));
    }
    st.charge_order(q, Purpose::Renew, price, format!("域名转入 {name}"))
        .map_err(|e| match e.code {
            10021 => SimErr::new(11738, "账户余额不足"),
            _ => e,
        })?;
    st.transfers.insert(
        name.clone(),
        Transfer {
            domain: name,
            contact: uid,
            authcode: code,
            code: 0,
            paid: price,
            own_dns: q.text("Mcdns") == "1",
        },
    );
    Ok(json!(" "))
}

/// The transfer went through: the domain joins the account with a year added.
fn complete(st: &mut State, q: &Req) -> Result<(), SimErr> {
    let name = q.domain()?;
    let Some(t) = st.transfers.get(&name).cloned() else {
        return Ok(());
    };
    st.taken.remove(&name);
    let mut d = Domain::new(&name, t.contact, q.now_ms(), 1);
    if !needs_audit(&name) {
        d.audit = super::domain::Audit::None;
    }
    if !t.own_dns {
        d.ns = vec![
            "ns1.previous-registrar.net".into(),
            "ns2.previous-registrar.net".into(),
        ];
    }
    st.domains.insert(name, d);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_and_codes() {
        assert_eq!(base64_decode("RGUzJGRnUzA=").as_deref(), Some("De3$dgS0"));
        assert_eq!(base64_decode("!!"), None);
        assert!(code_ok("De3$dgS0"));
        assert!(!code_ok("12345678"));
        assert!(!code_ok("abc1"));
    }
}
