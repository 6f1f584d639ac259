//! 建站之星 Pro (site builder): a template catalogue, sites bought by edition
//! (`websitetag`) with a PC and/or mobile version, renewed, upgraded, copied, renamed,
//! with bound domains and bought premium templates.

use super::{
    add_years, done, edit, fmt_time, rekey, yuan, Fields, Handler, Per, Purpose, Req, SimErr,
    State, R,
};
use idcgate_wire::sim::remove_where;
use rust_decimal::Decimal;
use serde_json::{json, Value};

#[derive(Debug, Clone)]
pub(crate) struct Site {
    pub webname: String,
    pub tag: String,
    pub location: String,
    /// 0 PC, 1 mobile, 2 both.
    pub mbl: u8,
    pub pc_template: String,
    pub mobile_template: String,
    pub reg: i64,
    pub exp: i64,
    /// (domain, PC | MBL).
    pub domains: Vec<(String, &'static str)>,
    pub bought: Vec<String>,
    /// The site's admin password (`webpassword`), set when it is opened.
    pub password: String,
}

/// What RenewalSite charges a year for the caller's site `webname`.
pub(crate) fn renewal_price(st: &State, webname: &str) -> Option<Decimal> {
    st.sites.get(webname).and_then(|s| tag_price(&s.tag))
}

/// Templates: (id, category id, mobile?, premium price in yuan or 0).
/// Category 1 商业, 2 宠物, 3 餐饮 (小程序).
const TEMPLATES: [(&str, &str, bool, i64); 6] = [
    ("pc1001", "1", false, 0),
    ("pc1002", "1", false, 199),
    ("pc2001", "2", false, 0),
    ("m1001", "1", true, 0),
    ("m2001", "2", true, 99),
    ("wx3001", "3", true, 0),
];
const CATEGORIES: [(&str, &str); 3] = [("1", "商业"), ("2", "宠物"), ("3", "餐饮")];
const LOCATIONS: [&str; 6] = ["cn", "hk", "bj", "gz", "sh", "alyhz"];
/// Editions in upgrade order with their yearly price.
const TAGS: [(&str, i64); 7] = [
    ("pro", 300),
    ("ulti", 600),
    ("shop", 1200),
    ("dinner", 800),
    ("weishop", 900),
    ("wxulti", 1500),
    ("wxshop", 2500),
];

pub(crate) fn tag_price(tag: &str) -> Option<Decimal> {
    TAGS.iter()
        .find(|(t, _)| *t == tag)
        .map(|(_, p)| yuan(*p, 0))
}

fn template(id: &str, mobile: bool) -> bool {
    TEMPLATES.iter().any(|t| t.0 == id && t.2 == mobile)
}

/// Space and monthly traffic (MB) of an edition.
fn tag_sizes(tag: &str) -> (u32, u32) {
    match tag {
        "pro" => (300, 500),
        "ulti" => (1000, 3000),
        "shop" | "wxshop" => (3000, 10000),
        _ => (500, 1000),
    }
}

/// `Terminal`: pc, mobile or pcmobile (建站种类 0, 1, 2).
fn terminal(s: &Site) -> &'static str {
    match s.mbl {
        0 => "pc",
        1 => "mobile",
        _ => "pcmobile",
    }
}

/// getProDetail's keys (its sample and 备注): the site's access, template, sizes, dates,
/// filing code and versions.
fn site_json(s: &Site) -> Value {
    let (space, flow) = tag_sizes(&s.tag);
    let template = if s.pc_template.is_empty() {
        &s.mobile_template
    } else {
        &s.pc_template
    };
    json!([{
        "ftpname": s.webname,
        "checkmonthflowURL": format!("http://bandwidth.websiteonline.cn/webservice/showDiagram.php?name={}&check={}", s.webname, crate::md5_hex(&s.webname)),
        "viewURL": format!("http://{}.isitestar.cn", s.webname),
        "manageurl": "http://www.websitemanage.cn/",
        "webadmin": s.webname,
        "webpassword": s.password,
        "templateid": template,
        "cnameaddr": format!("{}.websitecname.cn", s.webname),
        "fileuploadnums": "10000",
        "monthflow": flow.to_string(),
        "spacesize": space.to_string(),
        "buytime": fmt_time(s.reg),
        "expiretime": fmt_time(s.exp),
        // 备案验证码: mainland rooms only.
        "ICPID": if s.location == "hk" { String::new() } else { crate::md5_hex(&format!("icp{}", s.webname)).chars().take(18).collect() },
        "Terminal": terminal(s),
    }])
}

/// CreateSite's answer: getProDetail's keys with the mobile template beside the PC one
/// (`templateid`, `mobiletemplateid`), as its sample has them.
fn opened_json(s: &Site) -> Value {
    let mut v = site_json(s);
    if let Some(o) = v.get_mut(0).and_then(Value::as_object_mut) {
        let mut with = serde_json::Map::new();
        for (k, val) in std::mem::take(o) {
            let pc = k == "templateid";
            with.insert(k, if pc { json!(s.pc_template) } else { val });
            if pc {
                with.insert("mobiletemplateid".into(), json!(s.mobile_template));
            }
        }
        *o = with;
    }
    v
}

pub(crate) fn handler(name: &str) -> Option<Handler> {
    Some(match name {
        "/sitestarpro/getcatalist" => getcatalist,
        "/sitestarpro/gettemplate" => gettemplate,
        "/sitestarpro/getcaseparamlist" => getcaseparamlist,
        "/sitestarpro/getsitecaselist" => getsitecaselist,
        "/sitetarpro/createsite" => create,
        "/sitetarpro/createothpro" => createothpro,
        "/sitestarpro/getprodetail" => getprodetail,
        "/sitestarpro/getdomainlst" => getdomainlst,
        "/sitestarpro/geteditweburl" => geteditweburl,
        "/sitestarpro/getupgradelist" => getupgradelist,
        "/sitestarpro/renewalsite" => renewalsite,
        "/sitestarpro/siteupgrade" => siteupgrade,
        "/sitestarpro/binddomain" => binddomain,
        "/sitestarpro/deletedomain" => deletedomain,
        "/sitestarpro/changename" => changename,
        "/sitestarpro/buytemplate" => buytemplate,
        "/sitestarpro/getcorysite" => getcorysite,
        _ => return None,
    })
}

fn getcatalist(_: &mut State, _: &Req) -> R {
    Ok(Value::Array(
        CATEGORIES
            .iter()
            .map(|(id, n)| json!({"tpl_belong_type": "1", "tpl_category_id": id, "tpl_category_name": n, "amount": TEMPLATES.iter().filter(|t| t.1 == *id).count()}))
            .collect(),
    ))
}

fn gettemplate(_: &mut State, q: &Req) -> R {
    let cat = q.arg("Category");
    let mobile = q.arg("Mobile").map(|m| m == "1");
    Ok(Value::Array(
        TEMPLATES
            .iter()
            .filter(|t| cat.is_none_or(|c| c == t.1) && mobile.is_none_or(|m| m == t.2))
            .map(|(id, c, m, p)| {
                let shot = |size: &str| {
                    format!("http://screenshots.websiteonline.cn/screenshots/{id}-{size}.jpg")
                };
                json!({
                    "tpl_id": id,
                    "tpl_name": id,
                    "tpl_category_id": c,
                    "tpl_belong_color": "white",
                    "tpl_level": "1",
                    "tpl_domain": format!("http://{id}.view.sitestar.cn"),
                    // getCatalist's Type: 1 PC, 2 手机.
                    "tpl_belong_type": if *m { "2" } else { "1" },
                    "user_level": "1",
                    "tpl_pic_screenshot": shot("a"),
                    "tpl_pic_big": shot("b"),
                    "tpl_price": p.to_string(),
                })
            })
            .collect(),
    ))
}

/// The case filters: colours, and categories two levels deep (the sample's structure).
fn getcaseparamlist(_: &mut State, _: &Req) -> R {
    let colors = [
        "红色",
        "橙色",
        "黄色",
        "绿色",
        "浅蓝色",
        "蓝色",
        "浅紫色",
        "紫色",
        "白色",
        "灰色",
    ];
    let colordetail: Vec<Value> = colors
        .iter()
        .zip(1..)
        .map(|(c, id)| json!({"id": id.to_string(), "color": c}))
        .collect();
    let category: Vec<Value> = CATEGORIES
        .iter()
        .map(|(id, n)| {
            json!({"cateid": id, "catename": n, "subcategory": [{
                "cateid": "42", "catename": format!("{n}综合"),
                "subcategory": [{"subcateid": "54", "subcatename": *n}],
            }]})
        })
        .collect();
    Ok(json!([{"colordetail": colordetail}, {"category": category}]))
}

fn getsitecaselist(_: &mut State, q: &Req) -> R {
    // `category` in the table, parentcategory in the example.
    let cat = q.arg("category").or_else(|| q.arg("parentcategory"));
    let cases = [
        (
            "如皋权盛机械制造有限公司",
            "http://www.ntlanquan.com",
            "1",
            "10",
        ),
        ("萌宠之家", "http://www.pet-home.cn", "2", "11"),
    ];
    Ok(Value::Array(
        cases
            .iter()
            .filter(|c| cat.is_none_or(|x| x == c.2))
            .map(|(n, u, c, col)| json!({"webname": n, "viewurl": u, "picurl": format!("http://image.sitestar.cn/upload/{}.jpg", u.trim_start_matches("http://")), "parentcategory": c, "subcategory": "42", "color": col}))
            .collect(),
    ))
}

/// The caller's site (`webname`), edited through [`edit`]; `op` also gets the name.
fn on_site(st: &mut State, q: &Req, op: impl FnOnce(&mut State, &str, &mut Site) -> R) -> R {
    let webname = q.req("webname")?.to_ascii_lowercase();
    edit(
        st,
        |st| &mut st.sites,
        webname.clone(),
        not_mine(),
        |st, s| op(st, &webname, s),
    )
}

fn not_mine() -> SimErr {
    SimErr::new(10019, "产品不在您的名下")
}

/// The domain and the version (PC or mobile) BindDomain and DeleteDomain name.
fn bound_domain(q: &Req) -> Result<(String, &'static str), SimErr> {
    let d = q.req("domainname")?.to_ascii_lowercase();
    if !super::valid_hostname(&d) {
        return Err(SimErr::field(12102, "域名非法", "domainname"));
    }
    // `pcmbl` in BindDomain, `pcmb1` in DeleteDomain (sic).
    let locate = if q.arg("pcmbl").or_else(|| q.arg("pcmb1")) == Some("mbl") {
        "MBL"
    } else {
        "PC"
    };
    Ok((d, locate))
}

fn binddomain(st: &mut State, q: &Req) -> R {
    on_site(st, q, |st, _, s| {
        let (d, locate) = bound_domain(q)?;
        if st
            .sites
            .values()
            .any(|x| x.domains.iter().any(|(b, _)| *b == d))
        {
            return Err(SimErr::new(12104, "域名已绑定"));
        }
        s.domains.push((d, locate));
        done()
    })
}

fn deletedomain(st: &mut State, q: &Req) -> R {
    on_site(st, q, |_, _, s| {
        let (d, _) = bound_domain(q)?;
        remove_where(
            &mut s.domains,
            |(b, _)| *b == d,
            SimErr::new(12124, "域名未绑定无法删除"),
        )?;
        done()
    })
}

/// The site moves to its new name (so it is not stored back under the old one).
fn changename(st: &mut State, q: &Req) -> R {
    let webname = q.req("webname")?.to_ascii_lowercase();
    let mut s = st.sites.get(&webname).cloned().ok_or_else(not_mine)?;
    let new = q.req("newname")?.to_string();
    if !(6..=18).contains(&new.len())
        || !new
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
    {
        return Err(SimErr::field(19101, "新的管理名称非法", "newname"));
    }
    if st.sites.contains_key(&new) {
        return Err(SimErr::new(19102, "新的管理名称已存在"));
    }
    s.webname = new.clone();
    rekey(&mut st.sites, &webname, new, s);
    Ok(json!(" "))
}

fn getprodetail(st: &mut State, q: &Req) -> R {
    on_site(st, q, |_, _, s| Ok(site_json(s)))
}

fn getdomainlst(st: &mut State, q: &Req) -> R {
    on_site(st, q, |_, _, s| {
        Ok(Value::Array(
            s.domains
                .iter()
                .map(|(d, l)| json!({"domain": d, "Locate": l}))
                .collect(),
        ))
    })
}

fn geteditweburl(st: &mut State, q: &Req) -> R {
    on_site(st, q, |_, _, s| {
        let now = q.now_ms();
        let kind = q.text("type");
        if !matches!(kind, "pc" | "mbl" | "wx") {
            return Err(SimErr::field(19103, "版本类型非法", "type"));
        }
        Ok(json!(format!(
            "http://{}.websitemanage.cn/edit/{kind}?token={}",
            s.webname,
            crate::md5_hex(&format!("{}{now}", s.webname))
        )))
    })
}

fn getupgradelist(st: &mut State, q: &Req) -> R {
    on_site(st, q, |_, _, s| {
        let current = TAGS.iter().position(|(t, _)| *t == s.tag).unwrap_or(0);
        Ok(Value::Array(
            TAGS.iter()
                .skip(current + 1)
                .take(2)
                // `Terminnal` (sic) is the sample's spelling.
                .map(|(t, _)| json!({"roomid": "", "sitetype": t, "location": s.location, "Terminnal": terminal(s)}))
                .collect(),
        ))
    })
}

fn renewalsite(st: &mut State, q: &Req) -> R {
    on_site(st, q, |st, webname, s| {
        let years = q.period("years", 5, 10016)?;
        let price = tag_price(&s.tag).ok_or_else(|| SimErr::new(12114, "续费失败"))?;
        st.charge_order(
            q,
            Purpose::Renew,
            price * Decimal::from(years),
            format!("建站续费 {webname} {years}年"),
        )?;
        s.exp = add_years(s.exp, years);
        done()
    })
}

fn siteupgrade(st: &mut State, q: &Req) -> R {
    on_site(st, q, |st, webname, s| {
        let tag = q.req("sitetag")?;
        let (Some(old), Some(new)) = (tag_price(&s.tag), tag_price(tag)) else {
            return Err(SimErr::field(12119, "建站标签非法", "sitetag"));
        };
        st.charge_upgrade(
            q,
            old,
            new,
            s.exp,
            Per::Year,
            SimErr::new(12123, "建站升级失败(只能升级到更高版本)"),
            format!("建站升级 {webname}"),
        )?;
        s.tag = tag.into();
        s.location = q.arg("location").unwrap_or(&s.location).to_string();
        done()
    })
}

fn createothpro(st: &mut State, q: &Req) -> R {
    on_site(st, q, |st, webname, s| {
        let t = q.req("template")?;
        let want_mobile = s.mbl == 0;
        if s.mbl == 2 {
            return Err(SimErr::new(19109, "副产品已开通"));
        }
        if !template(t, want_mobile) {
            return Err(SimErr::field(19108, "副产品模板编号非法", "template"));
        }
        let price = tag_price(&s.tag).unwrap_or_default() / Decimal::from(2);
        st.charge_order(q, Purpose::Buy, price, format!("建站副产品 {webname}"))?;
        if want_mobile {
            s.mobile_template = t.into();
        } else {
            s.pc_template = t.into();
        }
        s.mbl = 2;
        done()
    })
}

fn buytemplate(st: &mut State, q: &Req) -> R {
    on_site(st, q, |st, webname, s| {
        let t = q.req("template")?;
        let Some(tpl) = TEMPLATES.iter().find(|x| x.0 == t) else {
            return Err(SimErr::field(19118, "模板编号非法", "template"));
        };
        if tpl.3 == 0 || s.bought.iter().any(|b| b == t) {
            return Err(SimErr::new(19119, "模板无需购买或已购买"));
        }
        st.charge_order(
            q,
            Purpose::Buy,
            yuan(tpl.3, 0),
            format!("建站模板 {webname} {t}"),
        )?;
        s.bought.push(t.into());
        if tpl.2 {
            s.mobile_template = t.into();
        } else {
            s.pc_template = t.into();
        }
        done()
    })
}

fn getcorysite(st: &mut State, q: &Req) -> R {
    on_site(st, q, |st, webname, s| {
        let now = q.now_ms();
        let years = q.period("years", 5, 10016)?;
        let tag = q.req("Websitetag")?;
        let price = tag_price(tag)
            .filter(|_| matches!(tag, "pro" | "ulti" | "shop"))
            .ok_or_else(|| SimErr::field(10045, "建站标签非法", "Websitetag"))?;
        // Webnames are chosen freely, so a generated one may already exist: draw
        // again rather than replace a site (ids only grow, so this ends).
        let copy = loop {
            let head: String = s.webname.chars().take(8).collect();
            let c = format!("{head}c{}", st.next_id());
            if c != webname && !st.sites.contains_key(&c) {
                break c;
            }
        };
        st.charge_order(
            q,
            Purpose::Buy,
            price * Decimal::from(years),
            format!("建站复制 {webname} -> {copy}"),
        )?;
        let mut c = s.clone();
        c.webname = copy.clone();
        c.tag = tag.into();
        c.reg = now;
        c.exp = add_years(now, years);
        c.domains.clear();
        st.sites.insert(copy, c);
        // The document's answer names no copy: the panel shows it (`Sim::site_names`).
        Ok(json!(""))
    })
}

fn create(st: &mut State, q: &Req) -> R {
    let years = q.period("years", 5, 12008)?;
    let tag = q.req("websitetag")?;
    if tag == "microsite" {
        return Err(SimErr::new(19122, "微建站已下线"));
    }
    let price = tag_price(tag).ok_or_else(|| SimErr::field(19105, "建站标签非法", "websitetag"))?;
    let location = q.checked(
        "location",
        |location| LOCATIONS.contains(&location),
        19106,
        "所在地非法",
    )?;
    let mbl: u8 = match q.req("mbl")? {
        "0" => 0,
        "1" => 1,
        "2" => 2,
        _ => return Err(SimErr::field(19107, "建站种类非法", "mbl")),
    };
    let pc = q.text("template").to_string();
    let mobile = q.text("mobiletemplate").to_string();
    if mbl != 1 && !template(&pc, false) {
        return Err(SimErr::field(12005, "PC版模板编号非法", "template"));
    }
    if mbl != 0 && !template(&mobile, true) {
        return Err(SimErr::field(12006, "手机版模板编号非法", "mobiletemplate"));
    }
    let webname = format!("pro{:06}", st.next_id());
    let amount = price
        * Decimal::from(years)
        * if mbl == 2 {
            Decimal::new(15, 1)
        } else {
            Decimal::ONE
        };
    st.charge_order(
        q,
        Purpose::Buy,
        amount,
        format!("建站开通 {webname} {years}年"),
    )?;
    let site = Site {
        webname: webname.clone(),
        tag: tag.into(),
        location: location.into(),
        mbl,
        pc_template: pc,
        mobile_template: mobile,
        reg: q.now_ms(),
        exp: add_years(q.now_ms(), years),
        domains: Vec::new(),
        bought: Vec::new(),
        password: crate::md5_hex(&format!("web{webname}"))
            .chars()
            .take(8)
            .collect(),
    };
    let answer = opened_json(&site);
    st.sites.insert(webname, site);
    Ok(answer)
}
