//! Seeds: the sandbox demo account and bulk data for benchmarks.

use super::dns;
use super::domain::{Domain, Record, Template};
use super::misc::Listing;
use super::server::{new_server, Rule, SecGroup};
use super::{add_months, dec, State, DAY_MS};

fn template(st: &mut State, intl: bool, name: &str, now: i64) -> u64 {
    let id = st.next_id();
    st.templates.insert(
        id,
        Template {
            id,
            intl,
            regtype: "I".into(),
            name: name.into(),
            org: String::new(),
            idtype: if intl { String::new() } else { "SFZ".into() },
            idnumber: if intl {
                String::new()
            } else {
                "11010519491231002X".into()
            },
            email: "admin@idcgate-demo.com".into(),
            phone: "13800138000".into(),
            country: "CN".into(),
            province: "四川".into(),
            city: "成都".into(),
            address: "高新区天府大道100号".into(),
            postcode: "610041".into(),
            verified: !intl,
            uploadtoken: None,
            created: now - 400 * DAY_MS,
        },
    );
    id
}

fn rec(host: &str, t: &str, v: &str, line: &str, level: i64) -> Record {
    Record {
        host: host.into(),
        rtype: t.into(),
        value: v.into(),
        ttl: 900,
        level,
        line: line.into(),
        ..Record::default()
    }
}

pub(crate) fn sandbox(st: &mut State) {
    let now = st.now_ms();
    st.deposit(now - 30 * DAY_MS, dec(5000, 0), "充值", "在线充值");
    let cn = template(st, false, "张三", now);
    template(st, true, "Zhang San", now);
    // Domains registered at various times so expiry reminders have something to find.
    let domains: [(&str, i64); 5] = [
        ("idcgate-demo.com", 300),
        ("demo-shop.cn", 200),
        ("mybrand.net", 350),
        ("blog-site.top", 30),
        ("startup.xyz", 100),
    ];
    for (i, (name, age_days)) in domains.iter().enumerate() {
        let reg = now - age_days * DAY_MS;
        let mut d = Domain::new(name, cn, reg, 1, format!("DomPass{i}23"));
        d.regdate = reg;
        d.expire = add_months(reg, 12);
        st.domains.insert(name.to_string(), d);
        let recs = [
            rec("@", "A", &format!("203.0.113.{}", 10 + i), "", 10),
            rec("www", "CNAME", name, "", 10),
            rec("@", "MX", &format!("mx.{name}"), "", 10),
            rec("@", "TXT", "v=spf1 include:spf.west.cn ~all", "", 10),
            rec("www", "A", &format!("198.51.100.{}", 10 + i), "LTEL", 10),
        ];
        // The seed goes through the same rules as callers, so it cannot hold a zone
        // the API would refuse to build.
        for r in recs {
            if let Err(e) = dns::add(st, name, r) {
                tracing::warn!(zone = name, msg = %e.msg, "sandbox seed record refused");
            }
        }
    }
    // One past purchase, so finance, spending and invoices have history to show.
    if let Err(e) = st.charge(
        now - 20 * DAY_MS,
        dec(55, 0),
        "注册域名 idcgate-demo.com 1年".into(),
    ) {
        tracing::warn!(msg = %e.msg, "sandbox seed charge refused");
    }
    let sg = st.next_id();
    st.secgroups.insert(
        sg,
        SecGroup {
            id: sg,
            name: "default".into(),
            remark: "默认安全组".into(),
            rules: [("22", "SSH"), ("80", "HTTP"), ("443", "HTTPS")]
                .iter()
                .map(|(p, r)| Rule {
                    id: 0,
                    direction: "in".into(),
                    protocol: "tcp".into(),
                    port: p.to_string(),
                    source: "0.0.0.0/0".into(),
                    policy: "accept".into(),
                    priority: 1,
                    remark: r.to_string(),
                })
                .enumerate()
                .map(|(i, mut r)| {
                    r.id = sg * 10 + i as u64;
                    r
                })
                .collect(),
        },
    );
    let a = new_server(
        st,
        3,
        "centos7.9",
        (2, 4, 40, 5),
        "Init2024pass",
        "web-01",
        now - 90 * DAY_MS,
        12,
        false,
    );
    let b = new_server(
        st,
        4,
        "ubuntu22.04",
        (4, 8, 100, 10),
        "Init2024pass",
        "hk-app-01",
        now - 20 * DAY_MS,
        3,
        false,
    );
    for id in [a, b] {
        if let Some(s) = st.servers.get_mut(&id) {
            s.secgroup = Some(sg);
        }
    }
    let h = super::hosting::new_host(st, "L2", "demosite", "Host2024pass", now - 100 * DAY_MS, 1);
    if let Some(h) = st.hosts.get_mut(&h) {
        h.domains = vec!["www.idcgate-demo.com".into(), "idcgate-demo.com".into()];
        h.traffic_mb = 1536;
    }
    let mid = super::mail::new_mail(
        st,
        "idcgate-demo.com",
        "M20",
        "Mail2024pass",
        now - 100 * DAY_MS,
        1,
    );
    if let Some(x) = st.mails.get_mut(&mid) {
        x.mailboxes
            .extend(["info".to_string(), "sales".to_string()]);
        x.postmaster_locked = true;
    }
    super::misc::new_mssql(
        st,
        "demodb",
        "2016",
        500,
        "Sql2024pass",
        now - 60 * DAY_MS,
        1,
        false,
    );
    let listings: [(&str, i64, i64, &[&'static str]); 6] = [
        (
            "cloudnine.com",
            8800,
            9900,
            &["bargainlist", "westlist", "todaydrop"],
        ),
        ("shopfast.net", 1200, 1200, &["westlist", "todaynew"]),
        ("miaomiao.cn", 399, 599, &["bargainlist", "yesterdaynew"]),
        ("datahub.top", 88, 88, &["yesterdaydelisted"]),
        ("bestcoffee.xyz", 150, 200, &["todaydrop", "todaynew"]),
        ("techblog.cc", 500, 500, &["yesterdaynew", "westlist"]),
    ];
    for (d, p, o, tags) in listings {
        st.listings.insert(
            d.into(),
            Listing {
                domain: d.into(),
                price: dec(p, 0),
                origprice: dec(o, 0),
                expire: now + 200 * DAY_MS,
                tags: tags.to_vec(),
            },
        );
    }
}

/// Bulk data is inserted directly (no validation per item) so that 10k domains and
/// 100k records seed in well under a second.
pub(crate) fn bulk(st: &mut State, domains: usize, records: usize, servers: usize) {
    let now = st.now_ms();
    let tid = match st.templates.keys().next() {
        Some(t) => *t,
        None => template(st, false, "批量测试", now),
    };
    for i in 0..domains {
        let name = format!("bulk-{i:06}.com");
        let mut d = Domain::new(
            &name,
            tid,
            now - (i as i64 % 300) * DAY_MS,
            1,
            format!("Bulk{i}pass"),
        );
        for j in 0..records {
            let id = st.next_id();
            d.records.insert(
                id,
                Record {
                    id,
                    host: format!("h{j}"),
                    rtype: "A".into(),
                    value: format!("10.{}.{}.{}", i % 250, j / 250 % 250, j % 250 + 1),
                    ttl: 900,
                    level: 10,
                    ..Record::default()
                },
            );
        }
        st.domains.insert(name, d);
    }
    for i in 0..servers {
        let room = super::server::ROOMS[i % super::server::ROOMS.len()].0;
        new_server(
            st,
            room,
            "centos7.9",
            (2, 4, 40, 5),
            "Bulk2024pass",
            &format!("bulk-{i}"),
            now,
            12,
            false,
        );
    }
}
