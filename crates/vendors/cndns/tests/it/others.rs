//! Coupons, gifts and support tickets.

use super::*;

/// What an SMS account needs besides the contact: the company and its legal person.
const SMS_EXTRA: [(&str, &str); 6] = [
    ("adminname", "张三"),
    ("adminid", "310101199001011234"),
    ("company", "上海示例网络科技有限公司"),
    ("yyzz", "91310115MA1K3ABC2X"),
    ("corporation", "李四"),
    ("corporationid", "310101198001011234"),
];

/// A 企推宝 order: the company, its contact and the words it buys.
const QITUIBAO: [(&str, &str); 10] = [
    ("prd", "1"),
    ("term", "1"),
    ("companyname", "杭州示例贸易有限公司"),
    ("mobile", "13800138000"),
    ("email", "boss@example.cn"),
    ("place", "1"),
    ("domain", "trade-example.cn"),
    ("keyword", "机械"),
    ("longWord", "机械配件"),
    ("cityLongWord", "杭州机械"),
];

/// Every action of the sibling modules this file loops over.
const NAMES: [&str; 12] = [
    "/edm/createorder",
    "/edm/modifypass",
    "/edm/upoints",
    "/edm/getdetail",
    "/edm/getrestpoints",
    "/edm/getloginurl",
    "/sms/createorder",
    "/sms/modifypass",
    "/sms/upoints",
    "/sms/getdetail",
    "/sms/getrestpoints",
    "/sms/getloginurl",
];

#[tokio::test]
async fn coupons_discount_once_and_match_their_type() {
    let e = env().await;
    let usable = list(&e.ok("/present/ticketlist", &[("state", "1")]).await);
    assert_eq!(usable.len(), 3);
    assert_eq!(list(&e.ok("/present/ticketlist", &[]).await).len(), 4);
    let before = e.balance().await;
    let buy = |sig: &'static str| {
        vec![
            ("dbname", "coupondb1"),
            ("dbpassword", "abc12345"),
            ("dbtype", "2"),
            ("dbsize", "1"),
            ("linetype", "dx"),
            ("location", "cn"),
            ("years", "1"),
            ("signature", sig),
        ]
    };
    // A renewal coupon does not pay for a purchase; a used one, an unknown one, a
    // lower-case spelling (coupons are case sensitive) and any voucher are refused.
    for (sig, code) in [
        ("9A1C0D7E22B4", "10043"),
        ("77E0B1C3D9A0", "10043"),
        ("NOPE00000000", "10042"),
        ("4ff245b1d2b7", "10042"),
    ] {
        assert_eq!(
            e.code("/database/createodr", &buy(sig)).await,
            code,
            "{sig}"
        );
    }
    let mut with_voucher = buy("4FF245B1D2B7");
    with_voucher.push(("voucherid", "V1"));
    assert_eq!(e.code("/database/createodr", &with_voucher).await, "10046");
    assert_eq!(e.balance().await, before);
    // 30 yuan database, 20 yuan coupon.
    e.ok("/database/createodr", &buy("4FF245B1D2B7")).await;
    assert_eq!(e.balance().await, before - Decimal::new(10, 0));
    let used = list(&e.ok("/present/ticketlist", &[("state", "0")]).await);
    assert!(used.iter().any(|t| t["signature"] == "4FF245B1D2B7"));
    // The renewal coupon pays for a renewal.
    e.ok(
        "/database/renewdb",
        &[
            ("dbname", "coupondb1"),
            ("years", "1"),
            ("signature", "9A1C0D7E22B4"),
        ],
    )
    .await;
    assert_eq!(e.balance().await, before - Decimal::new(25, 0));
}

#[tokio::test]
async fn gifts_of_a_hosting_plan() {
    let e = env().await;
    let gift = first(
        &e.ok(
            "/present/openmail",
            &[
                ("hostname", "demoweb"),
                ("maildomain", "gift-mail.com"),
                ("mailpassword", "abc123"),
            ],
        )
        .await,
    );
    assert_eq!(gift["emldomain"], "gift-mail.com");
    let other = [("hostname", "demoweb"), ("maildomain", "other.com")];
    let other = [&other[..], &[("mailpassword", "abc123")]].concat();
    assert_eq!(e.code("/present/openmail", &other).await, "16003");
    let db = first(
        &e.ok(
            "/present/openssl",
            &[
                ("hostname", "demoweb"),
                ("dbname", "giftdb01"),
                ("dbpassword", "abc12345"),
                ("dbtype", "1"),
            ],
        )
        .await,
    );
    assert_eq!(db["dbname"], "giftdb01");
    // OpenSSL's sample: `2012-10-25 10:23:20.123`.
    for k in ["regtime", "expiretime"] {
        let (shape, n) = digit_runs(db[k].as_str().unwrap());
        assert_eq!(shape, "N-N-N N:N:N.N", "{k}: {db}");
        let widths: Vec<usize> = n.iter().map(String::len).collect();
        assert_eq!(widths, [4, 2, 2, 2, 2, 2, 3], "{k}: {db}");
    }
    let host = first(&e.ok("/hosting/hostdetail", &[("ftpname", "demoweb")]).await);
    assert_eq!(
        (host["presenthost1"].as_str(), host["presenttype1"].as_str()),
        (Some("gift-mail.com"), Some("EMAIL"))
    );
    assert_eq!(host["presenttype2"], "DATABASE");
    // Gifts expire with the host, and are managed like bought products.
    let gift = first(&e.ok("/database/dbdetail", &[("dbname", "giftdb01")]).await);
    assert_eq!(gift["expiretime"], host["exptme"]);
    // A gift database belongs to its host and runs where it does.
    assert_eq!(
        (&gift["belongtohost"], &gift["location"]),
        (&"demoweb".into(), &host["location"])
    );
    let mailbox = [("maildomain", "gift-mail.com"), ("mailaccout", "info")];
    let mailbox = [
        &mailbox[..],
        &[("mailboxpassword", "box12345"), ("mailboxsize", "100")],
    ];
    let nohost = [("hostname", "nohost"), ("dbname", "giftdb02")];
    let nohost = [&nohost[..], &[("dbpassword", "abc12345"), ("dbtype", "1")]];
    e.steps(&[
        ("/mail/mailadduser", &mailbox.concat(), OK),
        ("/present/openssl", &nohost.concat(), "16002"),
    ])
    .await;
}

#[tokio::test]
async fn support_tickets() {
    let e = env().await;
    let question = [
        ("cnt", "数据库连接不上"),
        ("cate", "000301"),
        ("priname", "sq_demodb01"),
    ];
    let q = e.ok("support/api/question", &question).await;
    let id = q["QuestionID"].as_str().unwrap().to_string();
    let d = e.ok("support/api/replydetail", &[("Question", &id)]).await;
    assert_eq!(
        (d["state"].as_str(), d["hasReply"].as_str()),
        (Some("processing"), Some("True"))
    );
    let reply = &list(&d["message"])[0];
    assert!(
        reply["a_cnt"].as_str().unwrap().starts_with('%'),
        "urlencoded: {reply}"
    );
    let r = e
        .ok(
            "support/api/reply",
            &[("cnt", "还是不行"), ("Question", &id)],
        )
        .await;
    assert!(r["ReplyID"].as_str().is_some());
    e.steps(&[
        (
            "support/api/reply",
            &[("cnt", "x"), ("Question", "266")],
            "40015",
        ),
        (
            "support/api/question",
            &[("cnt", "x"), ("cate", "123456")],
            "40009",
        ),
        (
            "support/api/replydetail",
            &[("Question", "999999")],
            "40014",
        ),
    ])
    .await;
    // The support host's own auth codes.
    e.sim.set_ip_allowlist(testing::allow(&["192.0.2.1"]));
    let err = e.err("support/api/replydetail", &[("Question", &id)]).await;
    assert!(matches!(err, Error::Authentication { .. }), "{err}");
    assert_eq!(code_of(&err), "40002");
}

#[tokio::test]
async fn edm_and_sms_points_accounts() {
    let e = env().await;
    // An ID number whose 17th byte falls inside a multi-byte character is refused, not
    // a crash, and nothing is charged.
    let before = e.balance().await;
    let mut kv = vec![("lastname", "张"), ("firstname", "三"), ("points", "3000")];
    kv.extend_from_slice(&SMS_EXTRA);
    kv.retain(|(k, _)| *k != "adminid");
    kv.push(("adminid", "一二三四五六"));
    assert_field(&e.err("/sms/createorder", &kv).await, "adminid");
    assert_eq!(e.balance().await, before);
    // (module, extra create params, create points, price of those, top-up, its price)
    for (m, extra, pts, cost, top, top_cost) in [
        ("edm", &[][..], "10000", 100, "1000", 10),
        ("sms", &SMS_EXTRA[..], "3000", 180, "1000", 60),
    ] {
        let before = e.balance().await;
        let mut kv = vec![("lastname", "张"), ("firstname", "三"), ("points", pts)];
        kv.extend_from_slice(extra);
        let created = e.ok(op(&NAMES, m, "createorder"), &kv).await;
        let account = first(&match created {
            Value::Object(_) => Value::Array(vec![created]),
            other => other,
        })["account"]
            .as_str()
            .unwrap()
            .to_string();
        assert_eq!(e.balance().await, before - Decimal::new(cost, 0), "{m}");
        let a = [("account", account.as_str())];
        assert_eq!(e.ok(op(&NAMES, m, "getrestpoints"), &a).await, pts, "{m}");
        e.ok(op(&NAMES, m, "upoints"), &[a[0], ("points", top)])
            .await;
        let rest: u64 = e
            .ok(op(&NAMES, m, "getrestpoints"), &a)
            .await
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        assert_eq!(rest, pts.parse::<u64>().unwrap() + 1000, "{m}");
        assert_eq!(
            e.balance().await,
            before - Decimal::new(cost + top_cost, 0),
            "{m}"
        );
        e.ok(
            op(&NAMES, m, "modifypass"),
            &[a[0], ("password", "N3w-pass!")],
        )
        .await;
        let d = e.ok(op(&NAMES, m, "getdetail"), &a).await;
        let d = if d.is_array() { first(&d) } else { d };
        assert_eq!(d["password"], "N3w-pass!", "{m}");
        let url = e.ok(op(&NAMES, m, "getloginurl"), &a).await;
        assert!(url.as_str().unwrap().starts_with("http://"), "{m}");
        e.refused_field(op(&NAMES, m, "upoints"), &[a[0], ("points", "7")], "points")
            .await;
        e.not_found(op(&NAMES, m, "getdetail"), &[("account", "nobody@x.cn")])
            .await;
    }
}

#[tokio::test]
async fn site_builder_lifecycle() {
    let e = env().await;
    let cats = list(&e.ok("/sitestarpro/getcatalist", &[]).await);
    assert_eq!(cats.len(), 3);
    let mobile_tpls = list(&e.ok("/sitestarpro/gettemplate", &[("Mobile", "1")]).await);
    assert!(mobile_tpls.iter().all(|t| t["tpl_belong_type"] == "2"));
    assert!(!list(&e.ok("/sitestarpro/getcaseparamlist", &[]).await).is_empty());
    let cases = [("mobile", "0"), ("parentcategory", "2")];
    let cases = list(&e.ok("/sitestarpro/getsitecaselist", &cases).await);
    assert_eq!(cases.len(), 1);
    let before = e.balance().await;
    let pro = [("websitetag", "pro"), ("location", "sh"), ("mbl", "0")];
    let with_template = |t| [&[("years", "1"), ("template", t)][..], &pro].concat();
    let site = first(
        &e.ok("/sitetarpro/createsite", &with_template("pc1001"))
            .await,
    );
    assert_eq!(e.balance().await, before - Decimal::new(300, 0));
    let web = site["ftpname"].as_str().unwrap().to_string();
    let w = ("webname", web.as_str());
    let micro = [("years", "1"), ("websitetag", "microsite")];
    let micro = [&micro[..], &[("location", "cn"), ("mbl", "1")]].concat();
    assert_eq!(e.code("/sitetarpro/createsite", &micro).await, "19122");
    e.refused_field(
        "/sitetarpro/createsite",
        &with_template("m1001"),
        "template",
    )
    .await;
    let detail = "/sitestarpro/getprodetail";
    // The mobile version added later (half the edition's price).
    e.ok("/sitetarpro/createothpro", &[w, ("template", "m1001")])
        .await;
    e.reads(&[(detail, &[w], "/0/Terminal", "pcmobile".into())])
        .await;
    e.ok("/sitestarpro/renewalsite", &[w, ("years", "1")]).await;
    let ups = list(&e.ok("/sitestarpro/getupgradelist", &[w]).await);
    assert_eq!(ups[0]["sitetype"], "ulti");
    let sh = ("location", "sh");
    e.ok("/sitestarpro/siteupgrade", &[w, ("sitetag", "ulti"), sh])
        .await;
    // The edition shows in what it can still become.
    let ups = "/sitestarpro/getupgradelist";
    e.reads(&[(ups, &[w], "/0/sitetype", "shop".into())]).await;
    let mobile = ("domainname", "m.idcgate-demo.com");
    e.steps(&[
        (
            "/sitestarpro/siteupgrade",
            &[w, ("sitetag", "pro"), sh],
            "12123",
        ),
        (
            "/sitestarpro/binddomain",
            &[w, ("domainname", "www.idcgate-demo.com"), ("pcmbl", "pc")],
            OK,
        ),
        (
            "/sitestarpro/binddomain",
            &[w, mobile, ("pcmbl", "mbl")],
            OK,
        ),
    ])
    .await;
    // pro 300 + mobile 150 + renew 300 + upgrade (600 - 300) x 2 years left.
    assert_eq!(e.balance().await, before - Decimal::new(1350, 0));
    let doms = list(&e.ok("/sitestarpro/getdomainlst", &[w]).await);
    assert_eq!(
        doms.iter()
            .find(|d| d["domain"] == "m.idcgate-demo.com")
            .unwrap()["Locate"],
        "MBL"
    );
    e.steps(&[
        (
            "/sitestarpro/deletedomain",
            &[w, mobile, ("pcmb1", "mbl")],
            OK,
        ),
        ("/sitestarpro/deletedomain", &[w, mobile], "12124"),
    ])
    .await;
    let url = e
        .ok("/sitestarpro/geteditweburl", &[w, ("type", "mbl")])
        .await;
    assert!(url.as_str().unwrap().contains("/edit/mbl"));
    let template = [w, ("template", "pc1002")];
    e.ok("/sitestarpro/buytemplate", &template).await;
    e.reads(&[(detail, &[w], "/0/templateid", "pc1002".into())])
        .await;
    assert_eq!(e.code("/sitestarpro/buytemplate", &template).await, "19119");
    let copy = [w, ("years", "1"), ("Websitetag", "pro")];
    let sites = e.sim.site_names();
    // As the document's sample: the copy is made, its name is not answered.
    assert_eq!(e.ok("/sitestarpro/getcorysite", &copy).await, "");
    let copy = e
        .sim
        .site_names()
        .into_iter()
        .find(|s| !sites.contains(s))
        .unwrap();
    e.reads(&[(ups, &[("webname", &copy)], "/0/sitetype", "ulti".into())])
        .await;
    e.ok("/sitestarpro/changename", &[w, ("newname", "mysite2024")])
        .await;
    e.not_found(detail, &[w]).await;
    let renamed = [("webname", "mysite2024")];
    e.reads(&[(detail, &renamed, "/0/ftpname", "mysite2024".into())])
        .await;
}

#[tokio::test]
async fn qituibao_and_soukeyi_orders() {
    let e = env().await;
    e.sim.set_balance(idcgate_core::Money::from_fen(3_000_000));
    let before = e.balance().await;
    let order = e.ok("/qituibao/createorder", &QITUIBAO).await;
    let nme = order["s_nme"].as_str().unwrap().to_string();
    assert_eq!(e.balance().await, before - Decimal::new(1980, 0));
    assert_eq!(e.code("/qituibao/createorder", &QITUIBAO).await, "10049");
    let n = ("nme", nme.as_str());
    let details = "/qituibao/getdetails";
    e.reads(&[(details, &[n], "/0/s_prd", "1".into())]).await;
    // The list arrives as JSON inside a string; the client decodes it.
    let ups = list(&e.ok("/qituibao/getupgradelist", &[n]).await);
    assert_eq!(ups.len(), 2);
    e.ok("/qituibao/upgradeorder", &[n, ("newprd", "3")]).await;
    e.reads(&[(details, &[n], "/0/s_prd", "3".into())]).await;
    e.steps(&[
        ("/qituibao/upgradeorder", &[n, ("newprd", "2")], "14101"),
        ("/qituibao/reneworder", &[n, ("term", "1")], OK),
    ])
    .await;
    assert_eq!(
        e.balance().await,
        before - Decimal::new(1980 + 5000 + 6980, 0)
    );
    let check = "/qituibao/checkdomain";
    e.reads(&[
        (check, &[("dmoain", "trade-example.cn")], "", "1".into()),
        (check, &[("dmoain", "other.cn")], "", "0".into()),
    ])
    .await;
    let idx = e.ok("/qituibao/checkkeyword", &[("keyword", "机械")]).await;
    assert_eq!(
        idx,
        e.ok("/qituibao/checkkeyword", &[("keyword", "机械")]).await
    );
    // 搜客易 is withdrawn: no new orders, the old one is still served.
    let s = ("nme", "sky50001");
    e.steps(&[(
        "/soukeyi/createorder",
        &[("prd", "1"), ("term", "1")],
        "10026",
    )])
    .await;
    e.reads(&[("/soukeyi/getupdatelist", &[s], "/0/s_prd", "3".into())])
        .await;
    let b = e.balance().await;
    e.steps(&[
        ("/soukeyi/reneworder", &[s, ("term", "1")], OK),
        ("/soukeyi/upgradeorder", &[s, ("newprd", "3")], OK),
    ])
    .await;
    e.reads(&[("/soukeyi/getdetails", &[s], "/0/s_prd", "3".into())])
        .await;
    // Renewed first, so the upgrade is prorated over the two years now left.
    assert_eq!(e.balance().await, b - Decimal::new(1200 + 800 * 2, 0));
    e.not_found("/soukeyi/getdetails", &[("nme", &nme)]).await;
}

/// A text's shape with every run of digits as `N`, and the runs.
pub fn digit_runs(text: &str) -> (String, Vec<String>) {
    let (mut shape, mut runs) = (String::new(), Vec::<String>::new());
    let mut in_run = false;
    for c in text.chars() {
        if c.is_ascii_digit() {
            if !in_run {
                shape.push('N');
                runs.push(String::new());
            }
            if let Some(r) = runs.last_mut() {
                r.push(c);
            }
            in_run = true;
        } else {
            shape.push(c);
            in_run = false;
        }
    }
    (shape, runs)
}

/// Dates as the document's samples print them: ContactList `2012-9-14 16:17:00`
/// (unpadded month and day), the SMS orders' `buytime` `2014-12-03 0:0:0` (a padded date,
/// an unpadded time); not the `2026/12/2 11:46:17` of other answers.
#[tokio::test]
async fn dates_are_printed_as_each_sample_does() {
    let e = env().await;
    let contacts = list(&e.ok("/domains/contactlist", &[]).await);
    assert!(!contacts.is_empty());
    for c in &contacts {
        let t = c["regtime"].as_str().unwrap();
        let (shape, n) = digit_runs(t);
        assert_eq!(shape, "N-N-N N:N:N", "{t}");
        assert!(n[1..3].iter().all(|x| !x.starts_with('0')), "{t}");
        assert!(n[3..].iter().all(|x| x.len() == 2), "{t}");
    }
    let mut kv = vec![("lastname", "张"), ("firstname", "三"), ("points", "3000")];
    kv.extend_from_slice(&SMS_EXTRA);
    let created = e.ok("/sms/createorder", &kv).await;
    let account = created["account"].as_str().unwrap().to_string();
    let detail = first(&e.ok("/sms/getdetail", &[("account", &account)]).await);
    for t in [&created["buytime"], &detail["buytime"]] {
        let t = t.as_str().unwrap();
        let (shape, n) = digit_runs(t);
        assert_eq!(shape, "N-N-N N:N:N", "{t}");
        assert_eq!((n[1].len(), n[2].len()), (2, 2), "{t}");
        assert!(
            n[3..].iter().all(|x| x == "0" || !x.starts_with('0')),
            "{t}"
        );
    }
}
