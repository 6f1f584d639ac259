//! Mini-programs, MSSQL databases, auction / buy-now listings and ICP filing codes.

use super::domain::Domain;
use super::{
    add_months, fmt_date, fmt_time, m, page, term_end, valid_hostname, years_left, Req, SimErr,
    State, DAY_MS, R,
};
use rust_decimal::Decimal;
use serde_json::{json, Value};

const MINI_TIERS: [(&str, i64); 3] = [("basic", 300), ("standard", 800), ("pro", 1500)];
const MSSQL_SIZES: [i64; 5] = [100, 200, 500, 1000, 2000];
const FILING_PRICE: i64 = 30;

#[derive(Debug, Clone)]
pub(crate) struct MiniApp {
    pub id: u64,
    pub mtype: String,
    pub domain: String,
    pub trial: bool,
    pub created: i64,
    pub expire: i64,
}

#[derive(Debug, Clone)]
pub(crate) struct Mssql {
    pub id: u64,
    pub name: String,
    pub version: String,
    pub size: i64,
    pub password: String,
    pub trial: bool,
    pub created: i64,
    pub expire: i64,
}

/// A domain offered for sale; `tags` are the lists it appears in.
#[derive(Debug, Clone)]
pub(crate) struct Listing {
    pub domain: String,
    pub price: Decimal,
    pub origprice: Decimal,
    pub expire: i64,
    pub tags: Vec<&'static str>,
}

#[derive(Debug, Clone)]
pub(crate) struct Filing {
    pub id: u64,
    pub ftype: String,
    pub code: String,
    pub created: i64,
}

fn mini_price(t: &str) -> Result<(&'static str, i64), SimErr> {
    MINI_TIERS
        .iter()
        .copied()
        .find(|x| x.0 == t)
        .ok_or_else(|| SimErr::invalid("type", "类型不存在"))
}

/// Yearly price: 60 yuan per 100 MB.
fn mssql_price(size: i64) -> Result<Decimal, SimErr> {
    if !MSSQL_SIZES.contains(&size) {
        return Err(SimErr::invalid("size", "容量不在可选范围"));
    }
    Ok(Decimal::from(size / 100 * 60))
}

fn mini_json(x: &MiniApp, now: i64) -> Value {
    json!({"id":x.id,"type":x.mtype,"domain":x.domain,"trial":u8::from(x.trial),"regdate":fmt_date(x.created),"expiredate":fmt_date(x.expire),"status":if x.expire < now {"expired"} else {"normal"}})
}

pub(crate) fn mssql_json(x: &Mssql, now: i64) -> Value {
    json!({"id":x.id,"name":x.name,"version":x.version,"size":x.size,"trial":u8::from(x.trial),"regdate":fmt_date(x.created),"expiredate":fmt_date(x.expire),"status":if x.expire < now {"expired"} else {"normal"},"server":format!("sql{}.west.cn", x.id % 20 + 1)})
}

fn listing_json(l: &Listing) -> Value {
    json!({"domain":l.domain,"price":m(l.price),"origprice":m(l.origprice),"expiredate":fmt_date(l.expire),"tags":l.tags})
}

/// Mirrors the fields of the buy form (used by buy and the seeds).
#[allow(clippy::too_many_arguments)]
pub(crate) fn new_mssql(
    st: &mut State,
    name: &str,
    version: &str,
    size: i64,
    password: &str,
    now: i64,
    years: i64,
    trial: bool,
) -> u64 {
    let id = st.next_id();
    let expire = term_end(now, 12 * years, trial, 7);
    st.mssqls.insert(
        id,
        Mssql {
            id,
            name: name.into(),
            version: version.into(),
            size,
            password: password.into(),
            trial,
            created: now,
            expire,
        },
    );
    id
}

pub(crate) fn handle(st: &mut State, name: &str, q: &Req) -> R {
    let now = q.now;
    match name {
        "miniapp.getprice" => {
            let t = mini_price(q.req("type")?)?;
            let year = q.period("year", 5)?;
            Ok(json!({"type":t.0,"year":year,"price":m(Decimal::from(t.1 * year))}))
        }
        "miniapp.buy" => {
            let t = mini_price(q.req("type")?)?;
            let d = q.req("domain")?.to_lowercase();
            let year = q.period("year", 5)?;
            let trial = q.get("trial") == Some("1");
            if !valid_hostname(&d) {
                return Err(SimErr::invalid("domain", "域名格式错误"));
            }
            if st.miniapps.values().any(|x| x.domain == d) {
                return Err(SimErr::refused("domain", "该域名已开通小程序"));
            }
            let price = if trial {
                Decimal::ZERO
            } else {
                Decimal::from(t.1 * year)
            };
            let orderid = st.charge(now, price, format!("购买小程序 {d} {}", t.0))?;
            let id = st.next_id();
            let expire = term_end(now, 12 * year, trial, 15);
            st.miniapps.insert(
                id,
                MiniApp {
                    id,
                    mtype: t.0.into(),
                    domain: d,
                    trial,
                    created: now,
                    expire,
                },
            );
            Ok(json!({"id":id,"orderid":orderid,"amount":m(price),"expiredate":fmt_date(expire)}))
        }
        "miniapp.getmanageurl" => {
            let x = st
                .miniapps
                .get(&q.id("id")?)
                .ok_or_else(|| SimErr::bad_id("id"))?;
            let key = crate::md5_hex(&format!("{}{now}", x.id));
            Ok(
                json!({"id":x.id,"url":format!("https://xcx.west.cn/manage/{}?key={}", x.id, &key[..16]),"expire":fmt_time(now + 10 * 60 * 1000)}),
            )
        }
        "miniapp.convert" | "miniapp.renew" | "miniapp.upgrade" => {
            // Every input is read before the charge, so nothing can fail after it.
            let id = q.id("id")?;
            let year = q.period("year", 5)?;
            let new_type = q.get("type").map(mini_price).transpose()?;
            let x = st
                .miniapps
                .get(&id)
                .ok_or_else(|| SimErr::bad_id("id"))?
                .clone();
            let cur = mini_price(&x.mtype)?;
            let (price, memo) = match name {
                "miniapp.convert" if !x.trial => {
                    return Err(SimErr::refused("id", "该小程序不是试用"))
                }
                "miniapp.renew" if x.trial => {
                    return Err(SimErr::refused("id", "试用小程序请先转正"))
                }
                "miniapp.upgrade" => {
                    let t = new_type.ok_or_else(|| SimErr::invalid("type", "type必传"))?;
                    if t.1 <= cur.1 {
                        return Err(SimErr::invalid("type", "只能升级到更高版本"));
                    }
                    let years = years_left(now, x.expire);
                    (
                        Decimal::from((t.1 - cur.1) * years),
                        format!("升级小程序{id}到{}", t.0),
                    )
                }
                _ => (
                    Decimal::from(cur.1 * year),
                    format!(
                        "小程序{id} {}{year}年",
                        if x.trial { "转正" } else { "续费" }
                    ),
                ),
            };
            let orderid = st.charge(now, price, memo)?;
            let x = st
                .miniapps
                .get_mut(&id)
                .ok_or_else(|| SimErr::bad_id("id"))?;
            match name {
                "miniapp.convert" => {
                    x.trial = false;
                    x.expire = add_months(now, 12 * year);
                }
                "miniapp.renew" => x.expire = add_months(x.expire.max(now), 12 * year),
                _ => x.mtype = new_type.map_or(cur.0, |t| t.0).into(),
            }
            Ok(
                json!({"id":id,"orderid":orderid,"amount":m(price),"type":x.mtype,"expiredate":fmt_date(x.expire)}),
            )
        }
        "miniapp.syncall" => {
            let all: Vec<&MiniApp> = st.miniapps.values().collect();
            if all.is_empty() {
                return Err(SimErr::empty());
            }
            Ok(page(&all, (1, 1000), |x| mini_json(x, now)))
        }
        "miniapp.sync" => {
            let x = st
                .miniapps
                .get(&q.id("id")?)
                .ok_or_else(|| SimErr::bad_id("id"))?;
            Ok(mini_json(x, now))
        }
        "mssql.getconfig" => Ok(
            json!({"versions":["2008","2012","2016","2019"],"sizes":MSSQL_SIZES,"years":[1,2,3,5],"trialdays":7}),
        ),
        "mssql.checkname" => {
            let n = q.req("name")?;
            if !(4..=20).contains(&n.len())
                || !n.starts_with(|c: char| c.is_ascii_alphabetic())
                || !n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            {
                return Err(SimErr::invalid(
                    "name",
                    "数据库名需4-20位字母、数字或下划线，以字母开头",
                ));
            }
            Ok(
                json!({"name":n,"avail":u8::from(!st.mssqls.values().any(|x| x.name.eq_ignore_ascii_case(n)))}),
            )
        }
        "mssql.getprice" => {
            let year = q.period("year", 5)?;
            let p = mssql_price(q.int("size")?)?;
            Ok(
                json!({"version":q.req("version")?,"size":q.int("size")?,"year":year,"price":m(p * Decimal::from(year))}),
            )
        }
        "mssql.buy" => {
            let (n, version, size, pw) = (
                q.req("name")?.to_string(),
                q.req("version")?.to_string(),
                q.int("size")?,
                q.password()?,
            );
            let year = q.period("year", 5)?;
            let trial = q.get("trial") == Some("1");
            let unit = mssql_price(size)?;
            if st.mssqls.values().any(|x| x.name.eq_ignore_ascii_case(&n)) {
                return Err(SimErr::refused("name", "数据库名已被使用"));
            }
            if trial && st.mssqls.values().any(|x| x.trial) {
                return Err(SimErr::refused("trial", "每个账户只能同时试用一个数据库"));
            }
            let price = if trial {
                Decimal::ZERO
            } else {
                unit * Decimal::from(year)
            };
            let orderid = st.charge(now, price, format!("购买MSSQL {n} {size}M"))?;
            let id = new_mssql(st, &n, &version, size, &pw, now, year, trial);
            Ok(
                json!({"id":id,"orderid":orderid,"amount":m(price),"expiredate":fmt_date(st.mssqls[&id].expire)}),
            )
        }
        "mssql.detail" => match q.opt_int("id")? {
            Some(_) => Ok(mssql_json(
                st.mssqls
                    .get(&q.id("id")?)
                    .ok_or_else(|| SimErr::bad_id("id"))?,
                now,
            )),
            None => {
                let all: Vec<&Mssql> = st.mssqls.values().collect();
                if all.is_empty() {
                    return Err(SimErr::empty());
                }
                Ok(page(&all, q.paging()?, |x| mssql_json(x, now)))
            }
        },
        "mssql.renew" | "mssql.convert" | "mssql.upgrade" | "mssql.getupgradeprice" => {
            // Every input is read before the charge, so nothing can fail after it.
            let id = q.id("id")?;
            let year = q.period("year", 5)?;
            let size = q.opt_int("size")?;
            let x = st
                .mssqls
                .get(&id)
                .ok_or_else(|| SimErr::bad_id("id"))?
                .clone();
            let unit = mssql_price(x.size)?;
            let years_left = years_left(now, x.expire);
            let (price, memo) = match name {
                "mssql.renew" if x.trial => {
                    return Err(SimErr::refused("id", "试用数据库请先转正"))
                }
                "mssql.convert" if !x.trial => {
                    return Err(SimErr::refused("id", "该数据库不是试用"))
                }
                "mssql.upgrade" | "mssql.getupgradeprice" => {
                    let size = size.unwrap_or_default();
                    let nu = mssql_price(size)?;
                    if size <= x.size {
                        return Err(SimErr::invalid("size", "只能升级到更大的容量"));
                    }
                    (
                        (nu - unit) * Decimal::from(years_left),
                        format!("升级MSSQL {} 到{size}M", x.name),
                    )
                }
                _ => (
                    unit * Decimal::from(year),
                    format!(
                        "MSSQL {} {}{year}年",
                        x.name,
                        if x.trial { "转正" } else { "续费" }
                    ),
                ),
            };
            if name == "mssql.getupgradeprice" {
                return Ok(json!({"id":id,"size":size,"price":m(price)}));
            }
            let orderid = st.charge(now, price, memo)?;
            let x = st.mssqls.get_mut(&id).ok_or_else(|| SimErr::bad_id("id"))?;
            match name {
                "mssql.convert" => {
                    x.trial = false;
                    x.expire = add_months(now, 12 * year);
                }
                "mssql.renew" => x.expire = add_months(x.expire.max(now), 12 * year),
                _ => x.size = size.unwrap_or(x.size),
            }
            Ok(
                json!({"id":id,"orderid":orderid,"amount":m(price),"size":x.size,"expiredate":fmt_date(x.expire)}),
            )
        }
        "mssql.modifypwd" => {
            let pw = q.password()?;
            let x = st
                .mssqls
                .get_mut(&q.id("id")?)
                .ok_or_else(|| SimErr::bad_id("id"))?;
            x.password = pw;
            Ok(json!({"id":x.id}))
        }
        "auction.getbuydetail" => {
            let d = q.req("domain")?.to_lowercase();
            let l = st
                .listings
                .get(&d)
                .ok_or_else(|| SimErr::refused("domain", "该域名不在出售列表中"))?;
            Ok(listing_json(l))
        }
        "auction.buydomain" => {
            let d = q.req("domain")?.to_lowercase();
            let l = st
                .listings
                .get(&d)
                .cloned()
                .ok_or_else(|| SimErr::refused("domain", "该域名不在出售列表中"))?;
            let tid = match q.opt_int("templateid")? {
                Some(t) => st
                    .templates
                    .get(&(t as u64))
                    .map(|t| t.id)
                    .ok_or_else(|| SimErr::bad_id("templateid"))?,
                None => st
                    .templates
                    .keys()
                    .next()
                    .copied()
                    .ok_or_else(|| SimErr::invalid("templateid", "请先创建模板"))?,
            };
            let orderid = st.charge(now, l.price, format!("一口价购买域名 {d}"))?;
            st.listings.remove(&d);
            let pwd = crate::md5_hex(&format!("{d}{now}"))[..10].to_string() + "B2";
            let mut dom = Domain::new(&d, tid, now, 1, pwd);
            dom.expire = l.expire.max(now + DAY_MS);
            st.domains.insert(d.clone(), dom);
            Ok(
                json!({"domain":d,"orderid":orderid,"amount":m(l.price),"expiredate":fmt_date(l.expire)}),
            )
        }
        "auction.yesterdaydelisted"
        | "auction.bargainlist"
        | "auction.fulllist"
        | "auction.westlist"
        | "auction.todaynew"
        | "auction.todaydrop"
        | "auction.yesterdaynew" => {
            let tag = name.trim_start_matches("auction.");
            let all: Vec<&Listing> = st
                .listings
                .values()
                .filter(|l| tag == "fulllist" || l.tags.contains(&tag))
                .collect();
            if all.is_empty() {
                return Err(SimErr::empty());
            }
            Ok(page(&all, q.paging()?, |l| listing_json(l)))
        }
        "filing.buy" => {
            let t = q.req("type")?.to_string();
            let orderid = st.charge(
                now,
                Decimal::from(FILING_PRICE),
                format!("购买备案授权码({t})"),
            )?;
            let id = st.next_id();
            let code = format!("BA{}{:06}", fmt_date(now).replace('-', ""), id % 1_000_000);
            st.filings.insert(
                id,
                Filing {
                    id,
                    ftype: t.clone(),
                    code: code.clone(),
                    created: now,
                },
            );
            Ok(
                json!({"id":id,"orderid":orderid,"amount":m(Decimal::from(FILING_PRICE)),"code":code}),
            )
        }
        "filing.view" => {
            let f = st
                .filings
                .get(&q.id("id")?)
                .ok_or_else(|| SimErr::bad_id("id"))?;
            Ok(json!({"id":f.id,"type":f.ftype,"code":f.code,"time":fmt_time(f.created)}))
        }
        other => Err(super::unhandled(other)),
    }
}
