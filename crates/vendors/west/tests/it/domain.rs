//! Finance and domains: every charge is booked; templates, registration, renewal, NS,
//! registered hosts, DNSSEC, certificates, passwords, smart DNS, privacy.

use super::*;

async fn cn_template(e: &Env, name: &str) -> String {
    let t = e
        .ok(
            "domain.createtemplate",
            &[
                ("regtype", "I"),
                ("name", name),
                ("idtype", "SFZ"),
                ("idnumber", "510104199001011234"),
                ("email", "w@example.cn"),
                ("phone", "13900001111"),
                ("province", "四川"),
                ("city", "成都"),
                ("address", "锦江区1号"),
            ],
        )
        .await;
    id_of(&t, "templateid")
}

#[tokio::test]
async fn charges_are_booked_and_balance_agrees() {
    let e = env().await;
    let before = e.balance().await;
    let fin_before = items(&e.ok("info.getfinance", &[("limit", "100")]).await).len();
    let two_years = [("domain", "newshop.com"), ("year", "2")];
    let price = e.price("domain.getprice", &two_years).await;
    assert_eq!(price, Decimal::new(11000, 2));
    let tid = cn_template(&e, "王五").await;
    let order = [&two_years[..], &[("templateid", &tid)]].concat();
    let r = e.ok("domain.regdomain", &order).await;
    assert_eq!(dec(&r["amount"]), price);
    assert_eq!(e.balance().await, before - price);
    let fin = e.ok("info.getfinance", &[("limit", "100")]).await;
    assert_eq!(items(&fin).len(), fin_before + 1);
    let newest = &items(&fin)[0];
    assert_eq!(dec(&newest["amount"]), -price);
    assert_eq!(newest["orderid"], r["orderid"]);
    assert_eq!(dec(&newest["balance"]), before - price);
    let today = &newest["time"].as_str().unwrap()[..10];
    let spend = e
        .ok(
            "info.getspending",
            &[("start_date", today), ("end_date", today)],
        )
        .await;
    assert_eq!(dec(&spend["total"]), price);
    assert_eq!(spend["count"], 1);
    // A range with nothing in it.
    let range = [("start_date", "2001-01-01"), ("end_date", "2001-01-02")];
    e.lists_nothing("info.getfinance", &range).await;
    assert_eq!(
        e.conn
            .billing()
            .unwrap()
            .balance()
            .await
            .unwrap()
            .available
            .0,
        before - price
    );
}

#[tokio::test]
async fn insufficient_balance_refuses_and_changes_nothing() {
    let e = env().await;
    e.sim
        .set_balance(idcgate_core::Money(Decimal::new(1000, 2)));
    let fin = e.sim.finance_len();
    let tid = cn_template(&e, "赵六").await;
    let err = e.err("domain.regdomain", &reg("toopricey.com", &tid)).await;
    assert!(matches!(err, Error::InsufficientBalance { .. }), "{err}");
    assert_eq!(e.balance().await, Decimal::new(1000, 2));
    assert_eq!(e.sim.finance_len(), fin);
    e.avail("domain.checkdomain", "domain", &[("toopricey.com", 1)])
        .await;
    e.lists_nothing("domain.getdomains", &[("domain", "toopricey")])
        .await;
}

#[tokio::test]
async fn templates_real_name_and_transfer() {
    let e = env().await;
    let tid = cn_template(&e, "孙七").await;
    let info = e
        .ok("domain.gettemplateinfo", &[("templateid", &tid)])
        .await;
    assert_eq!(info["realname"], "unverified");
    // .cn needs a verified template
    let err = e.err("domain.regdomain", &reg("sunqi.cn", &tid)).await;
    assert!(matches!(err, Error::InvalidInput { .. }), "{err}");
    e.refused_field(
        "domain.uploadrealname",
        &[
            ("templateid", &tid),
            ("uploadtoken", "guess"),
            ("idfile", "aGVsbG8gd29ybGQgaW1hZ2U="),
        ],
        "uploadtoken",
    )
    .await;
    let tok = e
        .ok("domain.getrealnametoken", &[("templateid", &tid)])
        .await;
    let up = e
        .ok(
            "domain.uploadrealname",
            &[
                ("templateid", &tid),
                ("uploadtoken", tok["uploadtoken"].as_str().unwrap()),
                ("idfile", "aGVsbG8gd29ybGQgaW1hZ2U="),
            ],
        )
        .await;
    assert_eq!(up["realname"], "verified");
    e.ok("domain.regdomain", &reg("sunqi.cn", &tid)).await;
    let rn = e
        .ok("domain.getdomainrealname", &[("domain", "sunqi.cn")])
        .await;
    assert_eq!(
        (rn["realname"].as_str(), rn["name"].as_str()),
        (Some("verified"), Some("孙七"))
    );
    // Changing the owner's name resets verification; changing the phone does not.
    e.ok(
        "domain.modifytemplate",
        &[("templateid", &tid), ("phone", "13911112222")],
    )
    .await;
    e.reads(&[(
        "domain.gettemplateinfo",
        &[("templateid", &tid)],
        "/realname",
        "verified".into(),
    )])
    .await;
    let m = e
        .ok(
            "domain.modifytemplate",
            &[("templateid", &tid), ("name", "孙八")],
        )
        .await;
    assert_eq!(m["realname"], "unverified");
    // Template transfer to another verified template.
    let list = e.ok("domain.gettemplatelist", &[]).await;
    let other = items(&list)
        .into_iter()
        .find(|t| t["realname"] == "verified")
        .map(|t| id_of(&t, "templateid"))
        .unwrap();
    e.steps(&[
        ("domain.deletetemplate", &[("templateid", &tid)], "20113"),
        (
            "domain.domaintransfer",
            &[("domain", "sunqi.cn"), ("templateid", &other)],
            OK,
        ),
    ])
    .await;
    assert_eq!(
        id_of(
            &e.ok("domain.getdomaininfo", &[("domain", "sunqi.cn")])
                .await,
            "templateid"
        ),
        other
    );
    let tl = e
        .ok("domain.gettransferlist", &[("domain", "sunqi.cn")])
        .await;
    assert_eq!(items(&tl).len(), 1);
    assert_eq!(id_of(&items(&tl)[0], "fromtemplate"), tid);
    e.steps(&[
        ("domain.deletetemplate", &[("templateid", &tid)], OK),
        ("domain.gettemplateinfo", &[("templateid", &tid)], "20102"),
    ])
    .await;
    // International templates need no real-name and cannot register .cn.
    let intl = id_of(
        &e.ok(
            "domain.createintltemplate",
            &[
                ("name", "Intl Co"),
                ("email", "a@b.com"),
                ("phone", "12345678"),
                ("address", "1 Road"),
            ],
        )
        .await,
        "templateid",
    );
    e.steps(&[
        ("domain.getrealnametoken", &[("templateid", &intl)], "20113"),
        (
            "domain.regdomain",
            &[("domain", "intlco.cn"), ("templateid", &intl)],
            "20113",
        ),
        (
            "domain.regdomain",
            &[("domain", "intlco.com"), ("templateid", &intl)],
            OK,
        ),
    ])
    .await;
}

#[tokio::test]
async fn registration_checks_renewal_and_failures() {
    let e = env().await;
    e.avail(
        "domain.checkdomain",
        "domain",
        &[
            ("baidu.com", 0),
            ("idcgate-demo.com", 0),
            ("fresh-name.top", 1),
        ],
    )
    .await;
    let tid = cn_template(&e, "周九").await;
    let before = e.balance().await;
    e.fails_saying("domain.regdomain", &reg("baidu.com", &tid), "已被注册")
        .await;
    assert_eq!(
        e.balance().await,
        before,
        "a failed registration is not charged"
    );
    let failed = e.ok("domain.getfaileddomains", &[]).await;
    assert_eq!(items(&failed)[0]["domain"], "baidu.com");
    let r = e
        .ok(
            "domain.regdomain",
            &[
                ("domain", "fresh-name.top"),
                ("year", "1"),
                ("templateid", &tid),
            ],
        )
        .await;
    let exp1 = r["expiredate"].as_str().unwrap().to_string();
    let d = e.ok("domain.getdomains", &[("domain", "fresh-name")]).await;
    assert_eq!(items(&d)[0]["expiredate"], exp1.as_str());
    let two_years = [("domain", "fresh-name.top"), ("year", "2")];
    let rp = e.price("domain.getrenewprice", &two_years).await;
    assert_eq!(rp, Decimal::new(5800, 2));
    let bal = e.balance().await;
    let renewal = [&two_years[..], &[("expiredate", &exp1)]].concat();
    let rn = e.ok("domain.renewdomain", &renewal).await;
    let exp3 = rn["expiredate"].as_str().unwrap();
    assert_eq!(
        &exp3[..4],
        &(exp1[..4].parse::<i32>().unwrap() + 2).to_string()
    );
    assert_eq!(e.balance().await, bal - rp);
    // The same renewal again (a retry) is refused by the expiry guard.
    let again = e.err("domain.renewdomain", &renewal).await;
    assert!(again.to_string().contains("expiredate"), "{again}");
    assert_eq!(e.balance().await, bal - rp);
    let info = e
        .ok("domain.getdomaininfo", &[("domain", "fresh-name.top")])
        .await;
    assert_eq!(info["expiredate"], exp3);
    let whois = e
        .ok("domain.getwhois", &[("domain", "fresh-name.top")])
        .await;
    assert_eq!(whois["registrant"], "周九");
    let unregistered = [("domain", "unregistered-x.com")];
    e.reads(&[("domain.getwhois", &unregistered, "/registered", 0.into())])
        .await;
    let rs = e
        .ok("domain.getregistrystatus", &[("domain", "fresh-name.top")])
        .await;
    assert!(!rs["status"]
        .as_array()
        .unwrap()
        .contains(&Value::from("serverHold")));
    e.ok(
        "domain.modifydomain",
        &[
            ("domain", "fresh-name.top"),
            ("autorenew", "1"),
            ("remark", "主站"),
        ],
    )
    .await;
    let info = e
        .ok("domain.getdomaininfo", &[("domain", "fresh-name.top")])
        .await;
    assert_eq!(
        (info["autorenew"].as_i64(), info["remark"].as_str()),
        (Some(1), Some("主站"))
    );
}

#[tokio::test]
async fn nameservers_hosts_and_dnssec() {
    let e = env().await;
    let d = "mybrand.net";
    e.steps(&[
        (
            "domain.regdns",
            &[
                ("domain", d),
                ("dns", "ns1.mybrand.net"),
                ("ip", "192.0.2.53"),
            ],
            OK,
        ),
        (
            "domain.regdns",
            &[
                ("domain", d),
                ("dns", "ns1.mybrand.net"),
                ("ip", "192.0.2.53"),
            ],
            "20113",
        ),
        (
            "domain.regdns",
            &[
                ("domain", d),
                ("dns", "ns1.other.net"),
                ("ip", "192.0.2.53"),
            ],
            "20000",
        ),
        (
            "domain.modifyregdns",
            &[
                ("domain", d),
                ("dns", "ns1.mybrand.net"),
                ("ip", "192.0.2.54"),
            ],
            OK,
        ),
    ])
    .await;
    let s = e.ok("domain.syncregdns", &[("domain", d)]).await;
    assert_eq!(s["synced"], 1);
    let g = e.ok("domain.getregdns", &[("domain", d)]).await;
    assert_eq!(items(&g)[0]["ip"], "192.0.2.54");
    assert_ne!(g["synctime"], "");
    e.ok(
        "domain.modifydns",
        &[
            ("domain", d),
            ("dns1", "ns1.mybrand.net"),
            ("dns2", "ns2.myhostadmin.net"),
        ],
    )
    .await;
    // In use.
    e.fails_saying(
        "domain.deleteregdns",
        &[("domain", d), ("dns", "ns1.mybrand.net")],
        "20113",
    )
    .await;
    let reg = e.conn.registrar().unwrap();
    reg.set_nameservers(
        d,
        &["ns1.myhostadmin.net".into(), "ns2.myhostadmin.net".into()],
    )
    .await
    .unwrap();
    assert_eq!(
        reg.get_domain(d).await.unwrap().nameservers,
        vec!["ns1.myhostadmin.net", "ns2.myhostadmin.net"]
    );
    e.ok(
        "domain.deleteregdns",
        &[("domain", d), ("dns", "ns1.mybrand.net")],
    )
    .await;
    e.lists_nothing("domain.getregdns", &[("domain", d)]).await;
    // DNSSEC
    let digest = "A".repeat(64);
    e.fails_saying(
        "domain.adddnssec",
        &[
            ("domain", d),
            ("keyTag", "12345"),
            ("algorithm", "13"),
            ("digestType", "2"),
            ("digest", "ABC"),
        ],
        "digest",
    )
    .await;
    e.ok(
        "domain.adddnssec",
        &[
            ("domain", d),
            ("keyTag", "12345"),
            ("algorithm", "13"),
            ("digestType", "2"),
            ("digest", &digest),
        ],
    )
    .await;
    assert_eq!(
        e.code(
            "domain.adddnssec",
            &[
                ("domain", d),
                ("keyTag", "12345"),
                ("algorithm", "13"),
                ("digestType", "2"),
                ("digest", &digest)
            ]
        )
        .await,
        "20118"
    );
    e.reads(&[("domain.syncdnssec", &[("domain", d)], "/synced", 1.into())])
        .await;
    let ds = e.ok("domain.getdnssec", &[("domain", d)]).await;
    assert_eq!(items(&ds)[0]["keyTag"], 12345);
    e.ok("domain.deletednssec", &[("domain", d), ("keyTag", "12345")])
        .await;
    e.lists_nothing("domain.getdnssec", &[("domain", d)]).await;
    e.fails_saying(
        "domain.deletednssec",
        &[("domain", d), ("keyTag", "12345")],
        "20102",
    )
    .await;
}

#[tokio::test]
async fn certificates_passwords_smart_dns_and_privacy() {
    let e = env().await;
    let d = "blog-site.top";
    let c = e.ok("domain.getdomaincert", &[("domain", d)]).await;
    assert_eq!(c["owner"], "张三");
    let b = e
        .ok(
            "domain.batchgetcert",
            &[("domains", "blog-site.top,mybrand.net,not-mine.com")],
        )
        .await;
    assert_eq!(items(&b).len(), 2);
    assert_eq!(b["failed"][0], "not-mine.com");
    let z = e
        .ok(
            "domain.batchdownloadcert",
            &[("domains", "blog-site.top,mybrand.net")],
        )
        .await;
    assert_eq!(z["count"], 2);
    assert!(z["url"].as_str().unwrap().ends_with(".zip"));
    e.fails_saying(
        "domain.modifydomainpwd",
        &[("domain", d), ("password", "short")],
        "password",
    )
    .await;
    e.ok(
        "domain.modifydomainpwd",
        &[("domain", d), ("password", "NewPass2025")],
    )
    .await;
    let pwd = e.ok("domain.getdomainpwd", &[("domain", d)]).await;
    assert_eq!(pwd["password"], "NewPass2025");
    // Smart DNS: priced, charged, dated.
    let p = e
        .price("domain.getsmartdnsprice", &[("domain", d), ("year", "2")])
        .await;
    let bal = e.balance().await;
    let o = e
        .ok("domain.opensmartdns", &[("domain", d), ("year", "2")])
        .await;
    assert_eq!(dec(&o["amount"]), p);
    assert_eq!(e.balance().await, bal - p);
    assert_eq!(
        e.ok("domain.getdomaininfo", &[("domain", d)]).await["smartdns"],
        o["expiredate"]
    );
    // Privacy
    let pp = e.price("domain.getprivacyprice", &[("domain", d)]).await;
    e.fails_saying(
        "domain.modifyprivacyemail",
        &[("domain", d), ("email", "p@x.com")],
        "20113",
    )
    .await;
    let bal = e.balance().await;
    e.ok("domain.openprivacy", &[("domain", d)]).await;
    assert_eq!(e.balance().await, bal - pp);
    e.steps(&[
        ("domain.openprivacy", &[("domain", d)], "20113"),
        (
            "domain.modifyprivacyemail",
            &[("domain", d), ("email", "hidden@privacy.cn")],
            OK,
        ),
    ])
    .await;
    let r = e
        .ok("domain.renewprivacy", &[("domain", d), ("year", "1")])
        .await;
    let info = e.ok("domain.getprivacyinfo", &[("domain", d)]).await;
    assert_eq!(items(&info)[0]["email"], "hidden@privacy.cn");
    assert_eq!(items(&info)[0]["expiredate"], r["expiredate"]);
    let whois = e.ok("domain.getwhois", &[("domain", d)]).await;
    assert_eq!(whois["registrant"], "REDACTED FOR PRIVACY");
    assert_eq!(items(&e.ok("domain.getprivacyinfo", &[]).await).len(), 1);
}

#[tokio::test]
async fn registrar_capability() {
    let e = env().await;
    let reg = e.conn.registrar().unwrap();
    let all = reg.list_domains().await.unwrap();
    assert_eq!(all.len(), 5);
    assert!(all
        .iter()
        .all(|d| d.expires_at.is_some() && d.status == idcgate_core::DomainStatus::Active));
    assert!(reg.check_available("capability-test.com").await.unwrap());
    let q = reg
        .quote_registration("capability-test.com", 1)
        .await
        .unwrap();
    assert_eq!(q.price.0, Decimal::new(5500, 2));
    let before = e.balance().await;
    let o = reg
        .register("capability-test.com", 1, "order-1")
        .await
        .unwrap();
    assert_eq!(o.amount, q.price);
    assert_eq!(e.balance().await, before - q.price.0);
    let d = reg.get_domain("capability-test.com").await.unwrap();
    let r = reg
        .renew("capability-test.com", 1, "order-2")
        .await
        .unwrap();
    assert_eq!(r.amount.0, Decimal::new(6900, 2));
    let d2 = reg.get_domain("capability-test.com").await.unwrap();
    assert!(d2.expires_at.unwrap() > d.expires_at.unwrap());
    assert_eq!(reg.list_domains().await.unwrap().len(), 6);
}

#[tokio::test]
async fn invoices() {
    let e = env().await;
    let cfg = e.ok("invoice.getconfig", &[]).await;
    let invoiceable = dec(&cfg["invoiceable"]);
    assert_eq!(
        invoiceable,
        Decimal::new(5500, 2),
        "the sandbox spent 55.00"
    );
    let c = e.ok("invoice.getcost", &[("amount", "50")]).await;
    assert_eq!(dec(&c["postage"]), Decimal::new(1500, 2));
    e.fails_saying("invoice.getcost", &[("amount", "100000")], "amount")
        .await;
}
