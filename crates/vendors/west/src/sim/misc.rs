//! Mini-programs, MSSQL databases, auction / buy-now listings and ICP filing codes.

use super::domain::Domain;
use super::{
    add_months, by_id, fmt_date, fmt_time, m, one_or_page, page, quote, row, signed_url, term_end,
    valid_hostname, years_left, Args, Handler, Req, SimErr, State, DAY_MS, R,
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
    row(&MINI_TIERS, |x| x.0, t, ("type", "类型不存在"))
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

pub(crate) fn handler(name: &str) -> Option<Handler> {
    Some(match name {
        "miniapp.getprice" => miniapp_getprice,
        "miniapp.buy" => miniapp_buy,
        "miniapp.getmanageurl" => miniapp_getmanageurl,
        "miniapp.convert" => |st, q| miniapp_term(st, q, true),
        "miniapp.renew" => |st, q| miniapp_term(st, q, false),
        "miniapp.upgrade" => miniapp_upgrade,
        "miniapp.syncall" => miniapp_syncall,
        "miniapp.sync" => |st, q| Ok(mini_json(miniapp(st, q)?, q.now_ms())),
        "mssql.getconfig" => mssql_getconfig,
        "mssql.checkname" => mssql_checkname,
        "mssql.getprice" => mssql_getprice,
        "mssql.buy" => mssql_buy,
        "mssql.detail" => mssql_detail,
        "mssql.renew" => |st, q| mssql_term(st, q, false),
        "mssql.convert" => |st, q| mssql_term(st, q, true),
        "mssql.getupgradeprice" => mssql_getupgradeprice,
        "mssql.upgrade" => mssql_upgrade,
        "mssql.modifypwd" => mssql_modifypwd,
        "auction.getbuydetail" => |st, q| Ok(listing_json(listing(st, q)?.1)),
        "auction.buydomain" => buydomain,
        "auction.fulllist" => |st, q| listed(st, q, None),
        "auction.yesterdaydelisted" => |st, q| listed(st, q, Some("yesterdaydelisted")),
        "auction.bargainlist" => |st, q| listed(st, q, Some("bargainlist")),
        "auction.westlist" => |st, q| listed(st, q, Some("westlist")),
        "auction.todaynew" => |st, q| listed(st, q, Some("todaynew")),
        "auction.todaydrop" => |st, q| listed(st, q, Some("todaydrop")),
        "auction.yesterdaynew" => |st, q| listed(st, q, Some("yesterdaynew")),
        "filing.buy" => filing_buy,
        "filing.view" => filing_view,
        _ => return None,
    })
}

fn miniapp_getprice(_: &mut State, q: &Req) -> R {
    let t = mini_price(q.need("type")?)?;
    let year = q.period("year", 5)?;
    Ok(json!({"type":t.0,"year":year,"price":m(Decimal::from(t.1 * year))}))
}

fn miniapp_getmanageurl(st: &mut State, q: &Req) -> R {
    let id = miniapp(st, q)?.id;
    Ok(signed_url("https://xcx.west.cn/manage", id, q.now_ms(), 10))
}

fn miniapp_syncall(st: &mut State, q: &Req) -> R {
    let now = q.now_ms();
    let all: Vec<&MiniApp> = st.miniapps.values().collect();
    if all.is_empty() {
        return Err(SimErr::empty());
    }
    Ok(page(&all, (1, 1000), |x| mini_json(x, now)))
}

fn mssql_getconfig(_: &mut State, _: &Req) -> R {
    Ok(
        json!({"versions":["2008","2012","2016","2019"],"sizes":MSSQL_SIZES,"years":[1,2,3,5],"trialdays":7}),
    )
}

fn mssql_getprice(_: &mut State, q: &Req) -> R {
    let year = q.period("year", 5)?;
    let size = q.int("size")?;
    let p = mssql_price(size)?;
    Ok(
        json!({"version":q.need("version")?,"size":size,"year":year,"price":m(p * Decimal::from(year))}),
    )
}

fn mssql_detail(st: &mut State, q: &Req) -> R {
    let now = q.now_ms();
    one_or_page(&mut st.mssqls, q, |x| mssql_json(x, now))
}

fn mssql_getupgradeprice(st: &mut State, q: &Req) -> R {
    let (x, size, price, _) = mssql_upgrade_quote(st, q)?;
    Ok(quote(x.id, ("size", json!(size)), price))
}

fn mssql_modifypwd(st: &mut State, q: &Req) -> R {
    let pw = q.password()?;
    let x = mssql(st, q)?;
    x.password = pw;
    Ok(json!({"id":x.id}))
}

fn filing_view(st: &mut State, q: &Req) -> R {
    let f = st
        .filings
        .get(&q.id("id")?)
        .ok_or_else(|| SimErr::bad_id("id"))?;
    Ok(json!({"id":f.id,"type":f.ftype,"code":f.code,"time":fmt_time(f.created)}))
}

/// What a paid change of a product answers: the order, then the product's `field`.
fn paid(id: u64, orderid: String, price: Decimal, field: (&str, Value), expire: i64) -> Value {
    let mut v = json!({"id":id,"orderid":orderid,"amount":m(price)});
    v[field.0] = field.1;
    v["expiredate"] = json!(fmt_date(expire));
    v
}

fn miniapp<'a>(st: &'a mut State, q: &Req) -> Result<&'a mut MiniApp, SimErr> {
    by_id(&mut st.miniapps, q, "id")
}

fn miniapp_buy(st: &mut State, q: &Req) -> R {
    let now = q.now_ms();
    let t = mini_price(q.need("type")?)?;
    let d = q.need("domain")?.to_lowercase();
    let year = q.period("year", 5)?;
    let trial = q.arg("trial") == Some("1");
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

/// A trial's conversion or a paid product's renewal (each refuses the other kind of
/// `product`): what the ledger calls it.
fn term_kind(convert: bool, trial: bool, product: &str) -> Result<&'static str, SimErr> {
    match (convert, trial) {
        (true, true) => Ok("转正"),
        (false, false) => Ok("续费"),
        (true, false) => Err(SimErr::refused("id", &format!("该{product}不是试用"))),
        (false, true) => Err(SimErr::refused("id", &format!("试用{product}请先转正"))),
    }
}

/// The end of `years` more years: from now for a converted trial, else from the end.
fn term_end_after(convert: bool, expire: i64, now: i64, years: i64) -> i64 {
    add_months(if convert { now } else { expire.max(now) }, 12 * years)
}

/// A trial's conversion or a paid product's renewal: the same years at the same price.
fn miniapp_term(st: &mut State, q: &Req, convert: bool) -> R {
    let now = q.now_ms();
    let id = q.id("id")?;
    let year = q.period("year", 5)?;
    let x = miniapp(st, q)?;
    let kind = term_kind(convert, x.trial, "小程序")?;
    let price = Decimal::from(mini_price(&x.mtype)?.1 * year);
    let orderid = st.charge(now, price, format!("小程序{id} {kind}{year}年"))?;
    let x = miniapp(st, q)?;
    x.trial = false;
    x.expire = term_end_after(convert, x.expire, now, year);
    Ok(paid(id, orderid, price, ("type", json!(x.mtype)), x.expire))
}

fn miniapp_upgrade(st: &mut State, q: &Req) -> R {
    let now = q.now_ms();
    let id = q.id("id")?;
    let t = mini_price(q.need("type")?)?;
    let x = miniapp(st, q)?;
    let cur = mini_price(&x.mtype)?;
    if t.0 == cur.0 {
        return Err(SimErr::invalid("type", "已是该版本"));
    }
    // "Upgrade/downgrade": a lower edition from now on. The document says nothing of
    // money on a downgrade; nothing is charged and nothing given back (the reading
    // that cannot make money appear), so no order is booked either.
    if t.1 < cur.1 {
        x.mtype = t.0.into();
        return Ok(paid(
            id,
            String::new(),
            Decimal::ZERO,
            ("type", json!(x.mtype)),
            x.expire,
        ));
    }
    let price = Decimal::from((t.1 - cur.1) * years_left(now, x.expire));
    let orderid = st.charge(now, price, format!("升级小程序{id}到{}", t.0))?;
    let x = miniapp(st, q)?;
    x.mtype = t.0.into();
    Ok(paid(id, orderid, price, ("type", json!(x.mtype)), x.expire))
}

fn mssql<'a>(st: &'a mut State, q: &Req) -> Result<&'a mut Mssql, SimErr> {
    by_id(&mut st.mssqls, q, "id")
}

fn mssql_checkname(st: &mut State, q: &Req) -> R {
    let n = q.need("name")?;
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

fn mssql_buy(st: &mut State, q: &Req) -> R {
    let now = q.now_ms();
    let (n, version, size, pw) = (
        q.need("name")?.to_string(),
        q.need("version")?.to_string(),
        q.int("size")?,
        q.password()?,
    );
    let year = q.period("year", 5)?;
    let trial = q.arg("trial") == Some("1");
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

/// A trial's conversion or a paid database's renewal (see [`miniapp_term`]).
fn mssql_term(st: &mut State, q: &Req, convert: bool) -> R {
    let now = q.now_ms();
    let id = q.id("id")?;
    let year = q.period("year", 5)?;
    let x = mssql(st, q)?;
    let unit = mssql_price(x.size)?;
    let kind = term_kind(convert, x.trial, "数据库")?;
    let price = unit * Decimal::from(year);
    let memo = format!("MSSQL {} {kind}{year}年", x.name);
    let orderid = st.charge(now, price, memo)?;
    let x = mssql(st, q)?;
    x.trial = false;
    x.expire = term_end_after(convert, x.expire, now, year);
    Ok(paid(id, orderid, price, ("size", json!(x.size)), x.expire))
}

/// The larger size asked for, the yearly difference for the years left, and the memo.
fn mssql_upgrade_quote<'a>(
    st: &'a mut State,
    q: &Req,
) -> Result<(&'a mut Mssql, i64, Decimal, String), SimErr> {
    let now = q.now_ms();
    let size = q.int("size")?;
    let x = mssql(st, q)?;
    let unit = mssql_price(x.size)?;
    let nu = mssql_price(size)?;
    if size <= x.size {
        return Err(SimErr::invalid("size", "只能升级到更大的容量"));
    }
    let price = (nu - unit) * Decimal::from(years_left(now, x.expire));
    let memo = format!("升级MSSQL {} 到{size}M", x.name);
    Ok((x, size, price, memo))
}

fn mssql_upgrade(st: &mut State, q: &Req) -> R {
    let (x, size, price, memo) = mssql_upgrade_quote(st, q)?;
    let id = x.id;
    let orderid = st.charge(q.now_ms(), price, memo)?;
    let x = mssql(st, q)?;
    x.size = size;
    Ok(paid(id, orderid, price, ("size", json!(x.size)), x.expire))
}

/// The listing `domain` names: (its name, the listing).
fn listing<'a>(st: &'a State, q: &Req) -> Result<(String, &'a Listing), SimErr> {
    let d = q.need("domain")?.to_lowercase();
    let l = st
        .listings
        .get(&d)
        .ok_or_else(|| SimErr::refused("domain", "该域名不在出售列表中"))?;
    Ok((d, l))
}

fn buydomain(st: &mut State, q: &Req) -> R {
    let now = q.now_ms();
    let (d, l) = listing(st, q)?;
    let l = l.clone();
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
    Ok(json!({"domain":d,"orderid":orderid,"amount":m(l.price),"expiredate":fmt_date(l.expire)}))
}

/// The listings carrying `tag` (every listing without one), paged.
fn listed(st: &mut State, q: &Req, tag: Option<&str>) -> R {
    let all: Vec<&Listing> = st
        .listings
        .values()
        .filter(|l| tag.is_none_or(|t| l.tags.contains(&t)))
        .collect();
    if all.is_empty() {
        return Err(SimErr::empty());
    }
    Ok(page(&all, q.paging()?, |l| listing_json(l)))
}

fn filing_buy(st: &mut State, q: &Req) -> R {
    let now = q.now_ms();
    let t = q.need("type")?.to_string();
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
            ftype: t,
            code: code.clone(),
            created: now,
        },
    );
    Ok(json!({"id":id,"orderid":orderid,"amount":m(Decimal::from(FILING_PRICE)),"code":code}))
}
