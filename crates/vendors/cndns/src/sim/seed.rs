//! The sandbox account and bulk data for benchmarks.

use super::dns::Rec;
use super::domain::{Audit, Contact, Domain};
use super::products::{Db, Host, MailDomain, Mailbox};
use super::{yuan, State, Ticket, DAY_MS};

fn contact(st: &mut State, now: i64, company: &str, person: bool, checked: u8) -> u64 {
    let id = st.next_id();
    let fields = [
        ("company-en", "Idcgate Demo Network Co"),
        ("lastname-en", "zhang"),
        ("firstname-en", "san"),
        ("country-en", "CN"),
        ("state-en", "shanghai"),
        ("city-en", "shanghai"),
        ("address-en", "No 707 zhangyang road pudong"),
        ("company-cn", company),
        ("lastname-cn", "张"),
        ("firstname-cn", "三"),
        ("country-cn", "中国"),
        ("state-cn", "上海"),
        ("city-cn", "上海市"),
        ("address-cn", "上海浦东新区张杨路707号3001室"),
        ("zipcode", "200120"),
        ("phone", "+86.02151697771"),
        ("fax", "+86.02151697771"),
        ("email", "hostmaster@idcgate.invalid"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    st.contacts.insert(
        id,
        Contact {
            id,
            fields,
            usertype: if person { "I" } else { "O" },
            idtype: if person { "SFZ" } else { "YYZZ" }.into(),
            idnumber: if person {
                "310101199001011234"
            } else {
                "91310115MA1K3ABC2X"
            }
            .into(),
            checked,
            created: now - 400 * DAY_MS,
        },
    );
    id
}

fn record(st: &mut State, domain: &str, item: &str, rtype: &str, value: &str, mx: u32) {
    let id = st.next_id();
    if let Some(d) = st.domains.get_mut(domain) {
        d.records.insert(
            id,
            Rec {
                id,
                item: item.into(),
                rtype: rtype.into(),
                value: value.into(),
                mx,
                ttl: 600,
            },
        );
    }
}

pub(super) fn sandbox(st: &mut State) {
    let now = st.now_ms();
    st.deposit(now - 300 * DAY_MS, yuan(5000, 0), "汇款充值");
    st.charge(
        now - 200 * DAY_MS,
        yuan(55, 0),
        "域名注册 idcgate-demo.com 1年".into(),
    )
    .ok();
    let company = contact(st, now, "上海示例网络科技有限公司", false, 2);
    let _person = contact(st, now, "李四", true, 0);
    for (name, age_days, years) in [
        ("idcgate-demo.com", 200, 1),
        ("idcgate-shop.net", 500, 2),
        ("idcgate-mail.org", 90, 1),
        ("idcgate-blog.top", 340, 1),
    ] {
        let d = Domain::new(name, company, now - age_days * DAY_MS, years);
        st.domains.insert(name.into(), d);
    }
    let mut cn = Domain::new("idcgate-demo.cn", company, now - 3 * DAY_MS, 1);
    cn.audit = Audit::NoData;
    st.domains.insert(cn.name.clone(), cn);
    if let Some(d) = st.domains.get_mut("idcgate-shop.net") {
        d.ns = vec!["f1g1ns1.dnspod.net".into(), "f1g1ns2.dnspod.net".into()];
    }
    record(st, "idcgate-demo.com", "@", "A", "203.0.113.10", 10);
    record(
        st,
        "idcgate-demo.com",
        "www",
        "CNAME",
        "idcgate-demo.com.",
        10,
    );
    record(st, "idcgate-demo.com", "@", "MX", "mx.idcgate-demo.com.", 5);
    record(
        st,
        "idcgate-demo.com",
        "@",
        "TXT",
        "v=spf1 include:spf.cndns.com ~all",
        10,
    );
    record(st, "idcgate-mail.org", "@", "MX", "mxdomain.qq.com.", 10);
    record(st, "idcgate-blog.top", "blog", "A", "198.51.100.7", 10);
    let mut web = Host::new(
        "demoweb",
        "lin",
        "5",
        now - 200 * DAY_MS,
        now + 165 * DAY_MS,
    );
    web.linetype = "sx".into();
    web.password = "Demo123!web".into();
    web.domains = vec!["idcgate-demo.com".into(), "www.idcgate-demo.com".into()];
    web.log.push((now - 200 * DAY_MS, "主机开通".into()));
    st.hosts.insert("demoweb".into(), web);
    st.hosts.insert(
        "javaapp".into(),
        Host::new("javaapp", "jsp", "3", now - 30 * DAY_MS, now + 335 * DAY_MS),
    );
    st.dbs.insert(
        "sq_demodb01".into(),
        Db::new(
            "sq_demodb01",
            "2",
            "2",
            now - 200 * DAY_MS,
            now + 165 * DAY_MS,
            "demo1234db",
        ),
    );
    let mut boxes = std::collections::BTreeMap::new();
    for (acc, size) in [("admin", 2048), ("sales", 1024)] {
        boxes.insert(
            acc.to_string(),
            Mailbox {
                size_mb: size,
                enabled: true,
                memo: String::new(),
                password: "Mail1234".into(),
            },
        );
    }
    let mut mail = MailDomain::new(
        "idcgate-mail.org",
        "m",
        5,
        "MailAdmin1",
        now - 90 * DAY_MS,
        now + 275 * DAY_MS,
    );
    mail.boxes = boxes;
    st.mails.insert("idcgate-mail.org".into(), mail);
    for (sig, title, money, tktype, used) in [
        ("FC86684E3578", "微信绑定账户优惠券", 10, 0, false),
        ("4FF245B1D2B7", "新购优惠券", 20, 1, false),
        ("9A1C0D7E22B4", "续费优惠券", 15, 2, false),
        ("77E0B1C3D9A0", "已使用的优惠券", 10, 0, true),
    ] {
        st.tickets.push(Ticket {
            signature: sig.into(),
            title: title.into(),
            money: yuan(money, 0),
            tktype,
            apply: now - 30 * DAY_MS,
            exp: now + 150 * DAY_MS,
            used,
        });
    }
    let rid = st.next_id();
    // The id the document's Reply example uses; a closed question refuses follow-ups.
    let closed = super::support::CLOSED_SAMPLE;
    st.questions.insert(
        closed,
        super::support::Question {
            cate: "000201".into(),
            product: "demoweb".into(),
            state: "close",
            replies: vec![super::support::Reply {
                id: rid,
                staff: false,
                text: "网站无法访问".into(),
                time: now - 20 * DAY_MS,
            }],
        },
    );
    // A 搜客易 order from before the product was withdrawn.
    st.promos.insert(
        "sky50001".into(),
        super::promo::Order {
            soukeyi: true,
            nme: "sky50001".into(),
            prd: 1,
            company: "上海示例网络科技有限公司".into(),
            domain: "idcgate-demo.com".into(),
            reg: now - 300 * DAY_MS,
            exp: now + 65 * DAY_MS,
            account: "sky50001".into(),
            password: "Sky-pass1".into(),
            mobile: String::new(),
            email: String::new(),
            telephone: String::new(),
            linkman: String::new(),
            keywords: Default::default(),
        },
    );
    for taken in [
        "cndns.com",
        "baidu.com",
        "qq.com",
        "example.com",
        "taken-name.com",
    ] {
        st.taken.insert(taken.into());
    }
}

pub(super) fn bulk(st: &mut State, domains: usize, records_per_domain: usize) {
    let now = st.now_ms();
    let owner = match st.contacts.keys().next() {
        Some(id) => *id,
        None => contact(st, now, "批量测试网络有限公司", false, 2),
    };
    for i in 0..domains {
        let name = format!("bulk{i:06}.com");
        let d = Domain::new(&name, owner, now - (i as i64 % 300) * DAY_MS, 1);
        st.domains.insert(name.clone(), d);
        for r in 0..records_per_domain {
            let ip = format!("10.{}.{}.{}", (r >> 16) & 255, (r >> 8) & 255, r & 255);
            record(st, &name, &format!("h{r}"), "A", &ip, 10);
        }
    }
}
