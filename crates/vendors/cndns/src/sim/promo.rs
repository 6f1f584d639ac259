//! 企推宝 (qituibao, B2B promotion packages) and 搜客易 (soukeyi, search promotion,
//! withdrawn from sale: existing orders can still be renewed and upgraded).

use super::{
    add_years, done, edit_mine, fmt_time, yuan, Fields, Handler, Per, Purpose, Req, SimErr, State,
    R,
};
use rust_decimal::Decimal;
use serde_json::{json, Value};

#[derive(Debug, Clone)]
pub(crate) struct Order {
    pub soukeyi: bool,
    pub nme: String,
    pub prd: u8,
    pub company: String,
    pub domain: String,
    pub reg: i64,
    pub exp: i64,
    /// The order's own login (管理账户 / 账户名) and its password.
    pub account: String,
    pub password: String,
    /// (商贸、全能) contact: mobile, e-mail, telephone, name.
    pub mobile: String,
    pub email: String,
    pub telephone: String,
    pub linkman: String,
    /// (推广) keywords: main, secondary, general, regional.
    pub keywords: [String; 4],
}

/// 企推宝 products: (prd, name, yearly price). Families: 商贸 1-3, 推广 4-5, 全能 6-8.
const QTB: [(u8, &str, i64); 8] = [
    (1, "企推宝商贸入门版", 1980),
    (2, "企推宝商贸标准版", 3980),
    (3, "企推宝商贸旗舰版", 6980),
    (4, "企推宝推广入门版", 2980),
    (5, "企推宝推广标准版", 4980),
    (6, "企推宝全能入门版", 3980),
    (7, "企推宝全能标准版", 6980),
    (8, "企推宝全能旗舰版", 9980),
];
const SKY: [(u8, &str, i64); 3] = [
    (1, "搜客易百度版", 1200),
    (2, "搜客易谷歌版", 1200),
    (3, "搜客易百度谷歌版", 2000),
];

fn catalogue(soukeyi: bool) -> &'static [(u8, &'static str, i64)] {
    if soukeyi {
        &SKY
    } else {
        &QTB
    }
}

fn price(soukeyi: bool, prd: u8) -> Option<Decimal> {
    catalogue(soukeyi)
        .iter()
        .find(|p| p.0 == prd)
        .map(|p| yuan(p.2, 0))
}

/// The first prd of a 企推宝 family (upgrades stay within it).
fn family_start(prd: u8) -> u8 {
    match prd {
        1..=3 => 1,
        4..=5 => 4,
        _ => 6,
    }
}

fn family_end(prd: u8) -> u8 {
    match prd {
        1..=3 => 3,
        4..=5 => 5,
        _ => 8,
    }
}

/// Whether a 企推宝 product is of the 推广 family (4-5), whose answers use `y_*` keys.
fn promotion(o: &Order) -> bool {
    !o.soukeyi && matches!(o.prd, 4 | 5)
}

/// getDetails' keys: 搜客易's, 企推宝 推广's `y_*` or 商贸/全能's `s_*` set (each as its
/// sample lists them); `created` leaves out the term and state, as CreateOrder's
/// samples do.
fn details(o: &Order, now: i64, member: &str, created: bool) -> Value {
    let name = catalogue(o.soukeyi)
        .iter()
        .find(|p| p.0 == o.prd)
        .map_or("", |p| p.1);
    let years = ((o.exp - o.reg) / (365 * super::DAY_MS)).max(1).to_string();
    let state = if now > o.exp { "7" } else { "1" };
    let mut d = if o.soukeyi {
        json!({
            "s_nme": o.nme, "s_unme": o.account, "s_pass": o.password,
            "s_prd": o.prd.to_string(), "g_nme": name,
            "s_addtme": fmt_time(o.reg), "s_exptme": fmt_time(o.exp),
            "s_size": "1", "s_mod": if o.prd == 2 { "google" } else { "baidu" },
            "s_years": years, "s_status": state,
        })
    } else if promotion(o) {
        let [main, sec, general, city] = &o.keywords;
        json!({
            "y_nme": o.nme, "y_ext1": o.password, "y_prd": o.prd.to_string(), "g_nme": name,
            "y_unme": member, "y_addtme": fmt_time(o.reg), "y_exptme": fmt_time(o.exp),
            "y_customername": o.company, "y_sitedomain": o.domain,
            "y_setkeywordinfo": main, "y_setlongwordrule": general,
            "y_setcitylongwordrule": city, "y_ext6": sec,
            "y_years": years, "y_regstt": state,
        })
    } else {
        json!({
            "s_nme": o.nme, "s_o1": o.account, "s_o2": o.password,
            "s_prd": o.prd.to_string(), "g_nme": name, "s_unme": member,
            "s_addtme": fmt_time(o.reg), "s_exptme": fmt_time(o.exp),
            "s_copnme_cn": o.company, "s_eml": o.email, "s_o8": o.mobile,
            "s_o7": o.linkman, "s_tel": o.telephone,
            "s_yarcnt": years, "s_regstt": state,
        })
    };
    if created && !o.soukeyi {
        if let Some(m) = d.as_object_mut() {
            m.remove("s_yarcnt");
            m.remove("s_regstt");
        }
    }
    d
}

/// A stable 综合指数 for a keyword (what the live service computes from search data).
fn keyword_index(k: &str) -> u64 {
    u64::from_str_radix(&crate::md5_hex(k)[..4], 16).unwrap_or(0) % 10_000
}

pub(crate) fn handler(name: &str) -> Option<Handler> {
    Some(match name {
        "/soukeyi/createorder" => |_, _| Err(SimErr::new(10026, "您无权购买该产品(产品已下线)")),
        "/qituibao/createorder" => create,
        "/qituibao/checkkeyword" => |_, q| Ok(json!(keyword_index(q.req("keyword")?).to_string())),
        "/qituibao/checkdomain" => check_domain,
        "/qituibao/getdetails" | "/soukeyi/getdetails" => |st, q| {
            let member = st.username.clone();
            on_order(st, q, |_, o| {
                Ok(json!([details(o, q.now_ms(), &member, false)]))
            })
        },
        "/qituibao/getupgradelist" | "/soukeyi/getupdatelist" => upgrade_list,
        "/qituibao/reneworder" | "/soukeyi/reneworder" => renew,
        "/qituibao/upgradeorder" | "/soukeyi/upgradeorder" => upgrade,
        _ => return None,
    })
}

fn is_soukeyi(q: &Req) -> bool {
    q.action().name().starts_with("/soukeyi/")
}

/// The caller's order of the module (`nme`), edited through [`edit`].
fn on_order(st: &mut State, q: &Req, op: impl FnOnce(&mut State, &mut Order) -> R) -> R {
    let soukeyi = is_soukeyi(q);
    let nme = q.req("nme")?.to_string();
    let missing = || SimErr::new(10025, "订单不存在或无权管理");
    edit_mine(
        st,
        |st| &mut st.promos,
        nme,
        |o| o.soukeyi == soukeyi,
        missing,
        op,
    )
}

fn check_domain(st: &mut State, q: &Req) -> R {
    // The table spells it dmoain (sic).
    let d = q
        .arg("dmoain")
        .or_else(|| q.arg("domain"))
        .unwrap_or_default()
        .to_ascii_lowercase();
    let n = st
        .promos
        .values()
        .filter(|o| !o.soukeyi && o.domain == d)
        .count();
    Ok(json!(n.to_string()))
}

fn upgrade_list(st: &mut State, q: &Req) -> R {
    on_order(st, q, |_, o| {
        let soukeyi = o.soukeyi;
        let current = price(soukeyi, o.prd).unwrap_or_default();
        let higher: Vec<Value> = catalogue(soukeyi)
            .iter()
            .filter(|p| yuan(p.2, 0) > current)
            .filter(|p| soukeyi || (family_start(o.prd)..=family_end(o.prd)).contains(&p.0))
            .map(|p| json!({"s_prd": p.0.to_string()}))
            .collect();
        // 企推宝 nests the list as a JSON string in `message`, as its sample shows.
        Ok(if soukeyi {
            Value::Array(higher)
        } else {
            json!(Value::Array(higher).to_string())
        })
    })
}

fn renew(st: &mut State, q: &Req) -> R {
    on_order(st, q, |st, o| {
        let y = q.period("term", 5, 10016)?;
        let p = price(o.soukeyi, o.prd).ok_or_else(|| SimErr::new(13010, "产品续费失败"))?;
        st.charge_order(
            q,
            Purpose::Renew,
            p * Decimal::from(y),
            format!(
                "{} 续费 {} {y}年",
                if o.soukeyi { "搜客易" } else { "企推宝" },
                o.nme
            ),
        )?;
        o.exp = add_years(o.exp, y);
        done()
    })
}

fn upgrade(st: &mut State, q: &Req) -> R {
    on_order(st, q, |st, o| {
        let soukeyi = o.soukeyi;
        let tier: u8 = q
            .req("newprd")?
            .parse()
            .map_err(|_| SimErr::field(14101, "升级失败(产品编号非法)", "newprd"))?;
        // 企推宝's newprd counts tiers within the family (基础/标准/旗舰).
        let target = if soukeyi {
            tier
        } else {
            family_start(o.prd) + tier.saturating_sub(1)
        };
        let (Some(old), Some(new)) = (price(soukeyi, o.prd), price(soukeyi, target)) else {
            return Err(SimErr::field(14101, "升级失败(产品编号非法)", "newprd"));
        };
        let refusal = SimErr::new(14101, "升级失败(只能升级到更高版本)");
        if !soukeyi && target > family_end(o.prd) {
            return Err(refusal);
        }
        st.charge_upgrade(
            q,
            old,
            new,
            o.exp,
            Per::Year,
            refusal,
            format!("升级 {}", o.nme),
        )?;
        o.prd = target;
        done()
    })
}

fn create(st: &mut State, q: &Req) -> R {
    let prd: u8 = q
        .req("prd")?
        .parse()
        .ok()
        .filter(|p| (1..=8).contains(p))
        .ok_or_else(|| SimErr::field(21001, "产品编号非法", "prd"))?;
    let y = q.period("term", 5, 10016)?;
    let company = q.req("companyname")?.to_string();
    if st.promos.values().any(|o| o.company == company) {
        return Err(SimErr::field(10049, "企推宝公司名称不可用", "companyname"));
    }
    let promoting = matches!(prd, 4 | 5);
    // (商贸、全能) need the contact; (推广) may leave it out.
    let mobile = if promoting {
        q.text("mobile")
    } else {
        q.req("mobile")?
    };
    let mobile_ok =
        mobile.len() == 11 && mobile.starts_with('1') && mobile.chars().all(|c| c.is_ascii_digit());
    if !(mobile_ok || mobile.is_empty() && promoting) {
        return Err(SimErr::field(10050, "企推宝手机号码不可用", "mobile"));
    }
    let email = if promoting {
        q.text("email")
    } else {
        q.req("email")?
    };
    if !(email.contains('@') || email.is_empty() && promoting) {
        return Err(SimErr::field(10051, "企推宝邮箱不可用", "email"));
    }
    // (推广) needs the site and its words; (商贸、全能) only the contact.
    let (domain, keywords) = if promoting {
        let words = [
            q.req("keyword")?.to_string(),
            q.text("secKeyword").to_string(),
            q.req("longWord")?.to_string(),
            q.req("cityLongWord")?.to_string(),
        ];
        (q.req("domain")?.to_ascii_lowercase(), words)
    } else {
        (q.text("domain").to_ascii_lowercase(), Default::default())
    };
    let p = price(false, prd).ok_or_else(|| SimErr::new(21005, "产品购买失败"))?;
    let id = st.next_id();
    let nme = format!("qtb{}", 60_000 + id);
    st.charge_order(
        q,
        Purpose::Buy,
        p * Decimal::from(y),
        format!("企推宝 开通 {nme} {y}年"),
    )?;
    let o = Order {
        soukeyi: false,
        nme: nme.clone(),
        prd,
        company,
        domain,
        reg: q.now_ms(),
        exp: add_years(q.now_ms(), y),
        account: format!("u{nme}"),
        password: crate::md5_hex(&format!("qtb{id}"))
            .chars()
            .take(8)
            .collect(),
        mobile: mobile.into(),
        email: email.into(),
        telephone: q.text("telephone").into(),
        linkman: q.text("linkman").into(),
        keywords,
    };
    let answer = details(&o, q.now_ms(), &st.username, true);
    st.promos.insert(nme, o);
    Ok(answer)
}
