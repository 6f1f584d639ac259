//! Money: the account's finance summary, the price list (purchase and renewal) and
//! product-name availability.

use super::{m, yuan, Fields, Handler, Req, SimErr, State, R};
use rust_decimal::Decimal;
use serde_json::json;

/// `(registration, renewal)` per year for the suffixes the simulator sells.
pub(crate) fn domain_price(tld: &str) -> Option<(Decimal, Decimal)> {
    Some(match tld.to_ascii_lowercase().as_str() {
        ".com" => (yuan(55, 0), yuan(69, 0)),
        ".net" => (yuan(65, 0), yuan(75, 0)),
        ".cn" => (yuan(29, 90), yuan(39, 0)),
        ".com.cn" => (yuan(29, 90), yuan(39, 0)),
        ".org" => (yuan(69, 0), yuan(79, 0)),
        ".top" => (yuan(9, 90), yuan(29, 0)),
        ".xyz" => (yuan(12, 0), yuan(79, 0)),
        ".中国" => (yuan(120, 0), yuan(120, 0)),
        _ => return None,
    })
}

pub(crate) fn handler(name: &str) -> Option<Handler> {
    Some(match name {
        "/user/userdetail" => user_detail,
        "/product/getproductprice" => product_price,
        "/product/getrenewprice" => renew_price,
        "/product/checkpraname" => check_name,
        _ => return None,
    })
}

fn user_detail(st: &mut State, _: &Req) -> R {
    Ok(json!([{
        "borrowmoney": m(st.borrow),
        "frozenmoney": m(-st.frozen),
        "balancemoney": m(st.balance - st.frozen),
        "availablebalance": m(st.balance),
        "usedmoney": m(st.used),
        "tempmoney": "0.00",
        "rewardmoney": "0.00",
        "totalremittance": m(st.remitted),
    }]))
}

/// "年限 格式错误就默认 1 年时间".
fn years(q: &Req) -> Decimal {
    Decimal::from(
        q.arg("years")
            .and_then(|y| y.parse::<u32>().ok())
            .filter(|y| (1..=10).contains(y))
            .unwrap_or(1),
    )
}

/// A price as the document shows it: `"20"` or `"29.9"` (no trailing zeros); `"0"`
/// means "no price found".
fn price_text(d: Decimal) -> String {
    d.normalize().to_string()
}

fn product_price(_st: &mut State, q: &Req) -> R {
    // 橙云 counts its own `years` of `tmetpe` units; a configuration it refuses has no
    // price ("0").
    if q.text("type") == "2" {
        let p = super::cloud::quote(q).unwrap_or(Decimal::ZERO);
        return Ok(json!(price_text(p)));
    }
    let y = years(q);
    let price = match q.text("type") {
        "1" => {
            let suffix = q
                .arg("suffix")
                .map(|s| {
                    if s.starts_with('.') {
                        s.to_string()
                    } else {
                        format!(".{s}")
                    }
                })
                .or_else(|| {
                    // prd codes look like `com01`.
                    q.arg("prd")
                        .map(|p| format!(".{}", p.trim_end_matches(|c: char| c.is_ascii_digit())))
                })
                .unwrap_or_default();
            let renew = q.text("priceType") == "1";
            domain_price(&suffix).map(|(reg, ren)| if renew { ren } else { reg })
        }
        "3" => {
            let size = q.text("hostsize");
            super::products::hosting_price(q.text("hosttype"), size)
        }
        // 建站之星 pro: the edition's yearly price, one version (tag pc or mbl), as
        // CreateSite charges it; the older 企业建站 (tag bz/sw) is not sold here.
        "4" => match q.text("tag") {
            "pc" | "mbl" => q
                .arg("websitetag")
                .or_else(|| q.arg("websitesetag"))
                .and_then(super::sitestar::tag_price),
            _ => None,
        },
        // DDOS: a product (`prd` or `buyid`) for a year of months, as CreateOrder
        // charges 12 months for a year.
        "5" => q
            .arg("prd")
            .or_else(|| q.arg("buyid"))
            .and_then(super::cdn::ddos_monthly)
            .map(|month| month * Decimal::from(12)),
        _ => return Err(SimErr::new(10001, "价格查询失败,产品类型错误")),
    };
    Ok(json!(price_text(price.map_or(Decimal::ZERO, |p| p * y))))
}

fn renew_price(st: &mut State, q: &Req) -> R {
    if q.text("type") == "2" {
        // Cloud names are upper case (`S262101`): looked up as sent.
        return Ok(
            match super::cloud::renewal_quote(st, q.text("pdtname"), q) {
                Some(p) => json!(price_text(p)),
                None if q.arg("pdtname").is_none() => {
                    return Err(SimErr::new(10001, "价格查询失败,产品名称为空"))
                }
                None => json!("0"),
            },
        );
    }
    let y = years(q);
    let name = q.text("pdtname").to_ascii_lowercase();
    let price = match q.text("type") {
        "1" => st.domains.get(&name).and_then(|d| {
            let tld = d.name.split_once('.').map(|(_, t)| format!(".{t}"))?;
            domain_price(&tld).map(|(_, renew)| renew)
        }),
        "3" => st
            .hosts
            .get(&name)
            .and_then(|h| super::products::hosting_price(&h.hosttype, &h.hostsize)),
        "4" => super::sitestar::renewal_price(st, &name),
        _ => None,
    };
    match price {
        Some(p) => Ok(json!(price_text(p * y))),
        None if name.is_empty() => Err(SimErr::new(10001, "价格查询失败,产品名称为空")),
        None => Ok(json!("0")),
    }
}

fn check_name(st: &mut State, q: &Req) -> R {
    let name = q.req("praname")?.trim().to_ascii_lowercase();
    let used = match q.req("protype")? {
        "1" => st.domains.contains_key(&name) || st.taken.contains(&name),
        "2" => st.hosts.contains_key(&name),
        "3" => st.dbs.contains_key(&name),
        "4" => st.mails.contains_key(&name),
        "5" | "6" | "7" | "8" | "9" | "10" => false,
        _ => return Err(SimErr::new(10029, "产品类型非法")),
    };
    if used {
        return Err(SimErr::new(10031, "产品名称已使用"));
    }
    Ok(json!(" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prices_print_like_the_document() {
        assert_eq!(price_text(yuan(20, 0)), "20");
        assert_eq!(price_text(yuan(29, 90) * Decimal::from(3)), "89.7");
        assert!(domain_price(".invalid").is_none());
    }
}
