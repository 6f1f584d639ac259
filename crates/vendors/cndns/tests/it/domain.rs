//! Domains: availability, contacts, registration and renewal against the balance,
//! passwords, name servers, owner change, real-name audit — and the Registrar
//! capability over them.

use super::*;

const CONTACT: &[(&str, &str)] = &[
    ("company-en", "Example Trading Co Ltd"),
    ("lastname-en", "wang"),
    ("firstname-en", "wu"),
    ("country-en", "CN"),
    ("state-en", "zhejiang"),
    ("city-en", "hangzhou"),
    ("address-en", "No 1 wensan road xihu"),
    ("company-cn", "杭州示例贸易有限公司"),
    ("lastname-cn", "王"),
    ("firstname-cn", "五"),
    ("country-cn", "中国"),
    ("state-cn", "浙江"),
    ("city-cn", "杭州市"),
    ("address-cn", "杭州市西湖区文三路1号"),
    ("zipcode", "310000"),
    ("phone", "+86.057188888888"),
    ("fax", "+86.057188888888"),
    ("email", "owner@example.invalid"),
    ("usertype", "O"),
    ("idtype", "YYZZ"),
    ("idnumber", "91330106MA2B0000XX"),
];

fn with<'a>(base: &[(&'a str, &'a str)], over: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut v: Vec<(&str, &str)> = base
        .iter()
        .filter(|(k, _)| !over.iter().any(|(o, _)| o == k))
        .copied()
        .collect();
    v.extend_from_slice(over);
    v
}

/// CreateDom's parameters.
async fn audited_contact(e: &Env) -> String {
    let all = list(&e.ok("/domains/contactlist", &[]).await);
    let c = all
        .iter()
        .find(|c| c["ischecked"] == "2")
        .expect("audited contact");
    c["userid"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn availability_table() {
    let e = env().await;
    for (label, tld, expect) in [
        ("idcgate-demo", ".com", Ok("unavailable")),
        ("baidu", "com", Ok("unavailable")),
        ("fresh-name-2024", ".net", Ok("available")),
        ("bad_label", ".com", Err("11104")),
        ("ok", ".nope", Err("11107")),
        ("ok", ".c$m", Err("11105")),
    ] {
        let r = e
            .call("dmcheck/check", &[("domain-name", label), ("tld", tld)])
            .await;
        match (r, expect) {
            (Ok(v), Ok(state)) => {
                let full = format!("{label}.{}", tld.trim_start_matches('.'));
                assert_eq!(first(&v)[&full], state, "{label}{tld}");
            }
            (Err(err), Err(code)) => assert_eq!(code_of(&err), code, "{label}{tld}: {err}"),
            (r, x) => panic!("{label}{tld}: {r:?} vs {x:?}"),
        }
    }
}

#[tokio::test]
async fn contact_lifecycle() {
    let e = env().await;
    let id = e.ok("/domains/createcontact", CONTACT).await;
    let id = id.as_str().unwrap().to_string();
    assert!(id.parse::<u64>().is_ok(), "{id}");
    let info = first(&e.ok("/domains/contactinfo", &[("userid", &id)]).await);
    assert_eq!(info["ownername_cn"], "杭州示例贸易有限公司");
    let listed = first(&e.ok("/domains/contactlist", &[("userid", &id)]).await);
    assert_eq!(listed["ischecked"], "0");
    // Bad fields are refused with the field named.
    for (field, bad) in [
        ("email", "nope"),
        ("address-en", "noSpace"),
        ("zipcode", "12"),
    ] {
        e.refused_field(
            "/domains/createcontact",
            &with(CONTACT, &[(field, bad)]),
            field,
        )
        .await;
    }
    // Modify, then delete an unused contact.
    let modified = with(
        CONTACT,
        &[("userid", &id), ("domainname", "-"), ("city-cn", "宁波市")],
    );
    e.ok("/domains/modifycontact", &modified).await;
    let one = first(&e.ok("/domains/contactlist", &[("userid", &id)]).await);
    assert_eq!(one["city_cn"], "宁波市");
    e.ok("/domains/deletecontact", &[("userid", &id)]).await;
    assert!(list(&e.ok("/domains/contactlist", &[("userid", &id)]).await).is_empty());
    // A contact with domains cannot be deleted; by domain name the owner is found.
    let owner = first(
        &e.ok(
            "/domains/contactinfo",
            &[("domainname", "idcgate-demo.com")],
        )
        .await,
    );
    let in_use = [("userid", owner["userid"].as_str().unwrap())];
    assert_eq!(e.code("/domains/deletecontact", &in_use).await, "11056");
    e.not_found("/domains/contactinfo", &NOT_MINE).await;
}

#[tokio::test]
async fn registration_charges_the_price_and_renewal_extends_expiry() {
    let e = env().await;
    let uid = audited_contact(&e).await;
    let before = e.balance().await;
    let price = e
        .ok(
            "/product/getproductprice",
            &[
                ("type", "1"),
                ("years", "2"),
                ("tag", "dme"),
                ("suffix", ".com"),
            ],
        )
        .await;
    assert_eq!(price, "110");
    e.ok(
        "/domains/createdom",
        &createdom(&uid, "brand-new-shop.com", "2", "abc12345"),
    )
    .await;
    assert_eq!(e.balance().await, before - Decimal::new(110, 0));
    let d = e.detail("brand-new-shop.com").await;
    assert_eq!(d["runstate"], "run");
    assert_eq!(d["host1"], "ns1.cndns.com");
    assert_eq!(d["userid"], uid.as_str());
    let exp = d["ExpireTime"].as_str().unwrap().to_string();
    // Twice is refused, and nothing more is charged.
    assert_eq!(
        e.code(
            "/domains/createdom",
            &createdom(&uid, "brand-new-shop.com", "1", "abc12345")
        )
        .await,
        "11119"
    );
    assert_eq!(e.balance().await, before - Decimal::new(110, 0));
    // Renew one year at the renewal price, guarded by exptme.
    let renew_price = e
        .ok(
            "/product/getrenewprice",
            &[
                ("type", "1"),
                ("pdtname", "brand-new-shop.com"),
                ("years", "1"),
            ],
        )
        .await;
    assert_eq!(renew_price, "69");
    let reg = e.conn.registrar().unwrap();
    let before_renew = reg.get_domain("brand-new-shop.com").await.unwrap();
    e.refused_field(
        "/domains/domainrenew",
        &[
            ("domainname", "brand-new-shop.com"),
            ("years", "1"),
            ("exptme", "2000-01-01"),
        ],
        "exptme",
    )
    .await;
    let order = reg.renew("brand-new-shop.com", 1, "ord-1").await.unwrap();
    assert_eq!(order.amount.0, Decimal::new(69, 0));
    let after = reg.get_domain("brand-new-shop.com").await.unwrap();
    let grown =
        after.expires_at.unwrap().as_second() - before_renew.expires_at.unwrap().as_second();
    assert!((365 * 86_400..=366 * 86_400).contains(&grown), "{grown}");
    assert_ne!(
        e.detail("brand-new-shop.com").await["ExpireTime"],
        exp.as_str()
    );
    assert_eq!(e.balance().await, before - Decimal::new(179, 0));
    assert_eq!(e.sim.charges_mentioning("brand-new-shop.com").len(), 2);
}

#[tokio::test]
async fn insufficient_balance_changes_nothing() {
    let e = env().await;
    e.sim.set_balance(idcgate_core::Money::from_fen(1000));
    let uid = audited_contact(&e).await;
    let err = e
        .err(
            "/domains/createdom",
            &createdom(&uid, "too-expensive.com", "1", "abc12345"),
        )
        .await;
    assert!(matches!(err, Error::InsufficientBalance { .. }), "{err}");
    assert_eq!(e.balance().await, Decimal::new(1000, 2));
    e.not_found(
        "/domains/domaindetail",
        &[("domainname", "too-expensive.com")],
    )
    .await;
}

#[tokio::test]
async fn registration_input_errors_table() {
    let e = env().await;
    let uid = audited_contact(&e).await;
    for (domain, years, pass, userid, code) in [
        ("bad_name.com", "1", "abc12345", uid.as_str(), "11106"),
        ("fine-name.com", "11", "abc12345", uid.as_str(), "11133"),
        ("fine-name.com", "1", "abc", uid.as_str(), "11132"),
        ("fine-name.com", "1", "abc12345", "999999", "11109"),
        ("taken-name.com", "1", "abc12345", uid.as_str(), "11124"),
    ] {
        let err = e
            .err(
                "/domains/createdom",
                &createdom(userid, domain, years, pass),
            )
            .await;
        assert_eq!(code_of(&err), code, "{domain} {years} {pass}: {err}");
    }
}

#[tokio::test]
async fn password_name_servers_and_owner_change() {
    let e = env().await;
    e.ok(
        "/domains/modifypassword",
        &[
            ("domainname", "idcgate-demo.com"),
            ("password", "NewPass99"),
        ],
    )
    .await;
    let d = e.detail("idcgate-demo.com").await;
    assert_eq!(d["password"], "NewPass99");
    e.ok(
        "/domains/modifydns",
        &[
            ("domainname", "idcgate-demo.com"),
            ("dns_hst1", "f1g1ns1.dnspod.net"),
            ("dns_hst2", "f1g1ns2.dnspod.net"),
        ],
    )
    .await;
    let ns = first(
        &e.ok("/domains/dnslist", &[("domainname", "idcgate-demo.com")])
            .await,
    );
    assert_eq!(ns["dns1"], "f1g1ns1.dnspod.net");
    assert_eq!(ns["dns3"], " ");
    assert_eq!(
        e.code(
            "/domains/modifydns",
            &[
                ("domainname", "idcgate-demo.com"),
                ("dns_hst1", "a.b.com"),
                ("dns_hst2", "a.b.com"),
            ]
        )
        .await,
        "11403"
    );
    e.ok("/domains/resetdns", &[("domainname", "idcgate-demo.com")])
        .await;
    let reg = e.conn.registrar().unwrap();
    assert_eq!(
        reg.get_domain("idcgate-demo.com")
            .await
            .unwrap()
            .nameservers,
        ["ns1.cndns.com", "ns2.cndns.com"]
    );
    reg.set_nameservers(
        "idcgate-demo.com",
        &["ns1.example.net".into(), "ns2.example.net".into()],
    )
    .await
    .unwrap();
    assert_eq!(
        reg.get_domain("idcgate-demo.com")
            .await
            .unwrap()
            .nameservers,
        ["ns1.example.net", "ns2.example.net"]
    );
    // Owner change to a new contact.
    let id = e.ok("/domains/createcontact", CONTACT).await;
    let id = id.as_str().unwrap();
    e.ok(
        "/domains/domainguohu",
        &[("domainname", "idcgate-demo.com"), ("userid", id)],
    )
    .await;
    let owner = first(
        &e.ok(
            "/domains/contactinfo",
            &[("domainname", "idcgate-demo.com")],
        )
        .await,
    );
    assert_eq!(owner["userid"], id);
    e.not_found(
        "/domains/domainguohu",
        &[("domainname", "nope.com"), ("userid", id)],
    )
    .await;
}

#[tokio::test]
async fn real_name_audit_of_a_cn_domain() {
    let e = env().await;
    let d = e.detail("idcgate-demo.cn").await;
    assert_eq!(d["runstate"], "Not certified");
    // Not submitted yet: no result row.
    assert!(list(
        &e.ok(
            "/domains/checkauditresult",
            &[("domainname", "idcgate-demo.cn")]
        )
        .await
    )
    .is_empty());
    let company = |picture, number| {
        [
            ("domainname", "idcgate-demo.cn"),
            ("ownertype", "E"),
            ("orgtype", "PU"),
            ("ownerpictype", "1"),
            ("ownerpicstr", picture),
            ("ownernumber", number),
        ]
    };
    // A too-small image is refused; a proper one is accepted (POSTed).
    let small = "A".repeat(1000);
    let image = "/9j/".repeat(20_000);
    e.refused_field(
        "/domains/domainaudit",
        &company(&small, "91310115MA1K3ABC2X"),
        "ownerpicstr",
    )
    .await;
    e.steps(&[
        (
            "/domains/domainaudit",
            &company(&image, "91310115MA1K3ABC2X"),
            OK,
        ),
        ("/domains/domainaudit", &company(&image, "1"), "11716"),
    ])
    .await;
    let r = first(
        &e.ok(
            "/domains/checkauditresult",
            &[("domainname", "idcgate-demo.cn,idcgate-demo.com")],
        )
        .await,
    );
    assert_eq!(r["checkstate"], "pass");
    let d = e.detail("idcgate-demo.cn").await;
    assert_eq!(d["runstate"], "run");
    assert_eq!(
        e.code(
            "/domains/domainaudit",
            &[
                ("domainname", "idcgate-demo.com"),
                ("ownertype", "I"),
                ("orgtype", "PR"),
                ("ownerpictype", "1"),
            ]
        )
        .await,
        "11702"
    );
}

#[tokio::test]
async fn registrar_capability() {
    let e = env().await;
    let reg = e.conn.registrar().unwrap();
    assert!(reg.check_available("brand-new-idea.com").await.unwrap());
    assert!(!reg.check_available("idcgate-demo.com").await.unwrap());
    let q = reg
        .quote_registration("brand-new-idea.cn", 2)
        .await
        .unwrap();
    assert_eq!(q.price.to_string(), "59.80");
    let err = reg.quote_registration("x.unknown", 1).await.unwrap_err();
    assert_not_found(&err);
    let before = e.balance().await;
    let o = reg
        .register("brand-new-idea.com", 1, "client-1")
        .await
        .unwrap();
    assert_eq!(o.amount.to_string(), "55.00");
    assert_eq!(e.balance().await, before - Decimal::new(55, 0));
    let d = reg.get_domain("brand-new-idea.com").await.unwrap();
    assert_eq!(d.status, idcgate_core::DomainStatus::Active);
    assert!(d.expires_at.unwrap() > d.registered_at.unwrap());
    assert!(matches!(
        reg.list_domains().await,
        Err(Error::Unsupported { .. })
    ));
    let caps = idcgate_core::Capabilities::of(e.conn.as_ref());
    use idcgate_core::Capability::*;
    assert_eq!(
        caps,
        [Registrar, Dns, Compute, WebHosting, Billing, Purchasing]
    );
}

fn zhuanru<'a>(domain: &'a str, uid: &'a str, code: &'a str) -> [(&'a str, &'a str); 3] {
    [("domainname", domain), ("userid", uid), ("authcode", code)]
}

#[tokio::test]
async fn transfer_in_state_machine() {
    let e = env().await;
    let uid = audited_contact(&e).await;
    let before = e.balance().await;
    let transfer = "/domains/domainzhuanru";
    let state = "/domains/domainzhuanrustate";
    let taken = [("domainname", "taken-name.com")];
    let wrong = zhuanru("taken-name.com", &uid, "12345678");
    // Not registered anywhere: nothing to transfer. A wrong code first: the order
    // waits in state 1 until the code is resent.
    e.steps(&[
        (
            transfer,
            &zhuanru("free-xyz-1.com", &uid, "De3$dgS0"),
            "11736",
        ),
        (transfer, &wrong, OK),
    ])
    .await;
    assert_eq!(e.balance().await, before - Decimal::new(69, 0));
    assert_eq!(e.code(transfer, &wrong).await, "11735");
    // A new order is seen waiting ("0 等待处理") before the registry answers.
    let waiting = e.ok(state, &taken).await;
    assert_eq!(
        (&waiting["code"], &waiting["title"]),
        (&"0".into(), &"等待处理".into())
    );
    e.reads(&[(state, &taken, "/code", "1".into())]).await;
    // Resent base64-encoded (jm=Y): De3$dgS0.
    let resent = [taken[0], ("authcode", "RGUzJGRnUzA="), ("jm", "Y")];
    e.ok("/domains/updateauthcode", &resent).await;
    let mut seen = Vec::new();
    for _ in 0..3 {
        let s = e.ok(state, &taken).await;
        seen.push(s["code"].as_str().unwrap().to_string());
    }
    assert_eq!(seen, ["0", "6", "10"]);
    let d = e.detail("taken-name.com").await;
    assert_eq!(d["runstate"], "run");
    assert_eq!(e.code("/domains/cancelzhuanru", &taken).await, "11751");
    // A cancelled transfer is refunded.
    let example = [("domainname", "example.com")];
    e.ok(transfer, &zhuanru("example.com", &uid, "Abcdefg1"))
        .await;
    assert_eq!(e.balance().await, before - Decimal::new(138, 0));
    e.ok("/domains/cancelzhuanru", &example).await;
    assert_eq!(e.balance().await, before - Decimal::new(69, 0));
    e.reads(&[(state, &example, "/code", "12".into())]).await;
    e.not_found(state, &[("domainname", "never.com")]).await;
}

/// 11728 域名格式错误: a name that is no domain, to every call whose table lists it.
#[tokio::test]
async fn malformed_domain_names_are_11728() {
    let e = env().await;
    let uid = audited_contact(&e).await;
    let bad = [("domainname", "not a domain")];
    e.steps(&[
        (
            "/domains/domainzhuanru",
            &zhuanru("bad_name..com", &uid, "De3$dgS0"),
            "11728",
        ),
        ("/domains/domainzhuanrustate", &bad, "11728"),
        ("/domains/cancelzhuanru", &bad, "11728"),
        (
            "/domains/updateauthcode",
            &[bad[0], ("authcode", "De3$dgS0")],
            "11728",
        ),
        (
            "/domains/domainguohu",
            &[("domainname", "-x-.com"), ("userid", &uid)],
            "11728",
        ),
    ])
    .await;
}

/// checkAuditResult by template ID (域名和模板 ID 二选一): the template's own review
/// state; a template never submitted has no result.
#[tokio::test]
async fn template_audit_state_by_template_id() {
    let e = env().await;
    let all = list(&e.ok("/domains/contactlist", &[]).await);
    let id_of = |checked: &str| {
        all.iter()
            .find(|c| c["ischecked"] == checked)
            .map(|c| c["userid"].as_str().unwrap().to_string())
            .unwrap()
    };
    let (audited, fresh) = (id_of("2"), id_of("0"));
    let r = first(
        &e.ok("/domains/checkauditresult", &[("userid", &audited)])
            .await,
    );
    assert_eq!(
        (&r["userid"], &r["checkstate"]),
        (&audited.as_str().into(), &"pass".into())
    );
    assert!(list(
        &e.ok("/domains/checkauditresult", &[("userid", &fresh)])
            .await
    )
    .is_empty());
    assert_eq!(
        e.code("/domains/checkauditresult", &[("userid", "999999")])
            .await,
        "11719"
    );
}
