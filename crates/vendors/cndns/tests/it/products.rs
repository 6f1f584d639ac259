//! Hosting, databases and mail: purchases against the balance, renewals extending
//! expiry, and the state switches, each asserted through a following read.

use super::*;

fn exp(v: &Value, k: &str) -> jiff::Timestamp {
    let s = first(v)[k].as_str().unwrap().to_string();
    let n: Vec<i16> = s
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|p| p.parse().ok())
        .collect();
    jiff::civil::date(n[0], n[1] as i8, n[2] as i8)
        .at(n[3] as i8, n[4] as i8, n[5] as i8, 0)
        .to_zoned(jiff::tz::TimeZone::fixed(jiff::tz::offset(8)))
        .unwrap()
        .timestamp()
}

fn one_year_later(a: jiff::Timestamp, b: jiff::Timestamp) -> bool {
    (365 * 86_400..=366 * 86_400).contains(&(b.as_second() - a.as_second()))
}

#[tokio::test]
async fn hosting_lifecycle() {
    let e = env().await;
    assert!(!list(&e.ok("/hosting/hostlist", &[]).await).is_empty());
    assert_eq!(list(&e.ok("/hosting/proroomlist", &[]).await).len(), 2);
    let price = e
        .ok(
            "/hosting/getprice",
            &[
                ("years", "2"),
                ("hosttype", "bz"),
                ("hostsize", "2"),
                ("location", "cn"),
            ],
        )
        .await;
    assert_eq!(price, "320");
    let before = e.balance().await;
    let create = [
        ("ftpname", "newsite"),
        ("ftppassword", "abc123!@#"),
        ("years", "2"),
        ("hosttype", "bz"),
        ("hostsize", "2"),
        ("linetype", "dx"),
        ("Location", "cn"),
    ];
    e.ok("/hosting/createhosting", &create).await;
    assert_eq!(e.balance().await, before - Decimal::new(320, 0));
    assert_eq!(e.code("/hosting/createhosting", &create).await, "13002");
    e.refused_field(
        "/hosting/createhosting",
        &[
            ("ftpname", "othersite"),
            ("ftppassword", "weak"),
            ("years", "1"),
            ("hosttype", "bz"),
            ("hostsize", "2"),
            ("Location", "cn"),
        ],
        "ftppassword",
    )
    .await;
    let d = e.ok("/hosting/hostdetail", &[("ftpname", "newsite")]).await;
    assert_eq!(first(&d)["hostsize"], "200");
    let t0 = exp(&d, "exptme");
    e.ok(
        "/hosting/renewhosting",
        &[("ftpname", "newsite"), ("years", "1")],
    )
    .await;
    let d = e.ok("/hosting/hostdetail", &[("ftpname", "newsite")]).await;
    assert!(one_year_later(t0, exp(&d, "exptme")));
    assert_eq!(e.balance().await, before - Decimal::new(480, 0));
    for (action, kv, field, value) in [
        (
            "/hosting/modifyftpstate",
            ("ftpstate", "2"),
            "ftpstate",
            "2",
        ),
        (
            "/hosting/modifywebstate",
            ("webstate", "2"),
            "webstate",
            "2",
        ),
        (
            "/hosting/modifypassword",
            ("newpassword", "xyz789$%^"),
            "ftppassword",
            "xyz789$%^",
        ),
    ] {
        e.ok(action, &[("ftpname", "newsite"), kv]).await;
        let d = first(&e.ok("/hosting/hostdetail", &[("ftpname", "newsite")]).await);
        assert_eq!(d[field], value, "{action}");
    }
    // A stopped site cannot take a new domain; a bound domain cannot be bound to another
    // site, nor unbound twice.
    let shop = [("ftpname", "newsite"), ("domainname", "shop.example.cn")];
    e.steps(&[
        ("/hosting/binddomain", &shop, "13140"),
        (
            "/hosting/modifywebstate",
            &[("ftpname", "newsite"), ("webstate", "1")],
            OK,
        ),
        ("/hosting/binddomain", &shop, OK),
        (
            "/hosting/binddomain",
            &[("ftpname", "demoweb"), shop[1]],
            "13142",
        ),
        (
            "/hosting/setdefaultpage",
            &[("ftpname", "newsite"), ("defaultpage", "index.php")],
            OK,
        ),
        ("/hosting/unbinddomain", &shop, OK),
        ("/hosting/unbinddomain", &shop, "13144"),
    ])
    .await;
    e.not_found("/hosting/hostdetail", &[("ftpname", "nosuch")])
        .await;
    assert_eq!(
        e.ok(
            "/product/getrenewprice",
            &[("type", "3"), ("pdtname", "newsite"), ("years", "1")]
        )
        .await,
        "160"
    );
}

#[tokio::test]
async fn database_lifecycle() {
    let e = env().await;
    assert_eq!(list(&e.ok("/database/dblist", &[]).await).len(), 2);
    let before = e.balance().await;
    let create = [
        ("dbname", "shopdb01"),
        ("dbpassword", "abc12345"),
        ("dbtype", "2"),
        ("dbsize", "2"),
        ("linetype", "dx"),
        ("location", "cn"),
        ("years", "1"),
    ];
    e.ok("/database/createodr", &create).await;
    assert_eq!(e.balance().await, before - Decimal::new(60, 0));
    assert_eq!(
        code_of(&e.err("/database/createodr", &create).await),
        "14002"
    );
    for (k, v, code) in [
        ("dbname", "1bad", "14001"),
        ("dbtype", "9", "14004"),
        ("dbsize", "7", "14005"),
        ("location", "mars", "14006"),
    ] {
        let mut kv: Vec<(&str, &str)> = create
            .iter()
            .filter(|(x, _)| *x != k && *x != "dbname")
            .copied()
            .collect();
        kv.push(("dbname", if k == "dbname" { v } else { "otherdb01" }));
        if k != "dbname" {
            kv.push((k, v));
        }
        assert_eq!(
            code_of(&e.err("/database/createodr", &kv).await),
            code,
            "{k}={v}"
        );
    }
    let d = e.ok("/database/dbdetail", &[("dbname", "shopdb01")]).await;
    assert_eq!(first(&d)["charset"], "utf8");
    let t0 = exp(&d, "expiretime");
    e.ok(
        "/database/renewdb",
        &[("dbname", "shopdb01"), ("years", "1")],
    )
    .await;
    let d = e.ok("/database/dbdetail", &[("dbname", "shopdb01")]).await;
    assert!(one_year_later(t0, exp(&d, "expiretime")));
    e.ok(
        "/database/modifydbstate",
        &[("dbname", "shopdb01"), ("dbstate", "2")],
    )
    .await;
    e.ok(
        "/database/modifydbpass",
        &[("dbname", "shopdb01"), ("dbpassword", "newpass99")],
    )
    .await;
    let d = first(&e.ok("/database/dbdetail", &[("dbname", "shopdb01")]).await);
    assert_eq!(
        (d["dbstate"].as_str(), d["dbpassword"].as_str()),
        (Some("2"), Some("newpass99"))
    );
    e.not_found("/database/dbdetail", &[("dbname", "nosuchdb")])
        .await;
}

#[tokio::test]
async fn mail_lifecycle() {
    let e = env().await;
    let before = e.balance().await;
    e.ok(
        "/mail/createoder",
        &[
            ("maildomain", "corp-mail.com"),
            ("mailpassword", "admin123"),
            ("years", "1"),
            ("mailtag", "g"),
            ("mailusernumber", "2"),
        ],
    )
    .await;
    assert_eq!(e.balance().await, before - Decimal::new(120, 0));
    let d = first(
        &e.ok("/mail/getmaildetail", &[("maildomain", "corp-mail.com")])
            .await,
    );
    assert_eq!(d["adminacc"], "admin@corp-mail.com");
    e.ok(
        "/mail/modifymailpassword",
        &[
            ("maildomain", "corp-mail.com"),
            ("mailpassword", "admin456"),
        ],
    )
    .await;
    for acc in ["ceo", "cto"] {
        e.ok(
            "/mail/mailadduser",
            &[
                ("maildomain", "corp-mail.com"),
                ("mailaccout", acc),
                ("mailboxpassword", "box12345"),
                ("mailboxsize", "1024"),
            ],
        )
        .await;
    }
    // Two mailboxes bought, two used.
    assert_eq!(
        e.code(
            "/mail/mailadduser",
            &[
                ("maildomain", "corp-mail.com"),
                ("mailaccout", "cfo"),
                ("mailboxpassword", "box12345"),
                ("mailboxsize", "1024"),
            ]
        )
        .await,
        "15107"
    );
    e.ok(
        "/mail/modifymailaccountstate",
        &[
            ("maildomain", "corp-mail.com"),
            ("mailaccout", "ceo"),
            ("mailboxstate", "2"),
        ],
    )
    .await;
    e.ok(
        "/mail/modifymailusermemo",
        &[
            ("maildomain", "corp-mail.com"),
            ("mailaccount", "ceo"),
            ("mailboxmemo", "boss"),
        ],
    )
    .await;
    e.ok(
        "/mail/modifymailboxsize",
        &[
            ("maildomain", "corp-mail.com"),
            ("mailaccount", "ceo"),
            ("mailboxsize", "2048"),
        ],
    )
    .await;
    e.ok(
        "/mail/modifymailboxpassword",
        &[
            ("maildomain", "corp-mail.com"),
            ("mailaccount", "ceo"),
            ("mailboxpassword", "newbox123"),
        ],
    )
    .await;
    let boxes = list(
        &e.ok("/mail/getmailboxlist", &[("maildomain", "corp-mail.com")])
            .await,
    );
    let ceo = boxes.iter().find(|b| b["mailaccount"] == "ceo").unwrap();
    assert_eq!(
        (
            ceo["state"].as_str(),
            ceo["memo"].as_str(),
            ceo["size"].as_str()
        ),
        (Some("disabled"), Some("boss"), Some("2048M"))
    );
    e.ok(
        "/mail/deletemailbox",
        &[("maildomain", "corp-mail.com"), ("mailaccount", "cto")],
    )
    .await;
    assert_eq!(
        list(
            &e.ok("/mail/getmailboxlist", &[("maildomain", "corp-mail.com")])
                .await
        )
        .len(),
        1
    );
    e.refused_field(
        "/mail/deletemailbox",
        &[("maildomain", "corp-mail.com"), ("mailaccount", "cto")],
        "mailaccount",
    )
    .await;
    let t0 = exp(
        &e.ok("/mail/getmaildetail", &[("maildomain", "corp-mail.com")])
            .await,
        "expiretime",
    );
    e.ok(
        "/mail/renewalmail",
        &[("maildomain", "corp-mail.com"), ("years", "1")],
    )
    .await;
    let t1 = exp(
        &e.ok("/mail/getmaildetail", &[("maildomain", "corp-mail.com")])
            .await,
        "expiretime",
    );
    assert!(one_year_later(t0, t1));
    assert_eq!(e.balance().await, before - Decimal::new(240, 0));
    // The sandbox mail domain has its mailboxes.
    assert_eq!(
        list(
            &e.ok(
                "/mail/getmailboxlist",
                &[("maildomain", "idcgate-mail.org")]
            )
            .await
        )
        .len(),
        2
    );
}

#[tokio::test]
async fn hosting_panel_switches_files_and_log() {
    let e = env().await;
    let f = ("ftpname", "demoweb");
    // Each switch: (action, its params, the code a bad value gets).
    for (action, good, bad, code) in [
        (
            "/hosting/set404page",
            ("pagepath", "404.html"),
            ("pagepath", "404.php"),
            "13108",
        ),
        (
            "/hosting/setdefaultipaccess",
            ("grantaccess", "2"),
            ("grantaccess", "9"),
            "13112",
        ),
        (
            "/hosting/modifyerrtype",
            ("errortype", "1"),
            ("errortype", "5"),
            "13119",
        ),
        (
            "/hosting/logaccess",
            ("logaccess", "1"),
            ("logaccess", "7"),
            "13124",
        ),
    ] {
        e.ok(action, &[f, good]).await;
        assert_eq!(code_of(&e.err(action, &[f, bad]).await), code, "{action}");
    }
    // .NET versions exist only on Windows hosts; Tomcat only on JSP hosts.
    assert_eq!(
        code_of(
            &e.err("/hosting/modifynetversion", &[f, ("netversion", "4")])
                .await
        ),
        "13111"
    );
    e.ok("/hosting/resettomcat", &[("ftpname", "javaapp")])
        .await;
    assert_eq!(code_of(&e.err("/hosting/resettomcat", &[f]).await), "10018");
    e.ok(
        "/hosting/createhosting",
        &[
            ("ftpname", "winsite"),
            ("ftppassword", "abc123!@#"),
            ("years", "1"),
            ("hosttype", "net"),
            ("hostsize", "3"),
            ("Location", "cn"),
        ],
    )
    .await;
    e.ok(
        "/hosting/modifynetversion",
        &[("ftpname", "winsite"), ("netversion", "4")],
    )
    .await;
    // IP rules: added once, removed once.
    for action in ["/hosting/denydefineip", "/hosting/grantdefineip"] {
        let rule = [f, ("ip", "203.0.113.7"), ("mask", "255.255.255.0")];
        e.ok(action, &[rule[0], rule[1], rule[2], ("operation", "1")])
            .await;
        e.refused(
            action,
            &[rule[0], rule[1], rule[2], ("operation", "1")],
            "规则已存在或不存在",
        )
        .await;
        e.ok(action, &[rule[0], rule[1], rule[2], ("operation", "2")])
            .await;
        e.refused_field(
            action,
            &[
                f,
                ("ip", "300.1.1.1"),
                ("mask", "255.0.0.0"),
                ("operation", "1"),
            ],
            "ip",
        )
        .await;
    }
    e.ok(
        "/hosting/setfolderipaccess",
        &[
            f,
            ("folderpath", "admin"),
            ("ip", "218.85.132.*,10.*"),
            ("operation", "1"),
        ],
    )
    .await;
    assert_eq!(
        code_of(
            &e.err(
                "/hosting/setfolderipaccess",
                &[
                    f,
                    ("folderpath", "wwwroot/x"),
                    ("ip", "1.2.3.4"),
                    ("operation", "1")
                ]
            )
            .await
        ),
        "13122"
    );
    // Files: pack, unpack where it lands, delete.
    e.ok(
        "/hosting/packfile",
        &[f, ("sourcefile", "wwwroot/images"), ("destfile", "img.zip")],
    )
    .await;
    assert_eq!(
        code_of(
            &e.err(
                "/hosting/packfile",
                &[f, ("sourcefile", "nothing"), ("destfile", "x.zip")]
            )
            .await
        ),
        "13127"
    );
    e.ok(
        "/hosting/unpackfile",
        &[
            f,
            ("sourcezipfile", "img.zip"),
            ("destfolderpath", "wwwroot/restored"),
        ],
    )
    .await;
    e.ok(
        "/hosting/deletefile",
        &[f, ("delinfo", "wwwroot/restored/logo.png")],
    )
    .await;
    assert_eq!(
        code_of(
            &e.err(
                "/hosting/deletefile",
                &[f, ("delinfo", "wwwroot/restored/logo.png")]
            )
            .await
        ),
        "13148"
    );
    assert_eq!(
        code_of(
            &e.err(
                "/hosting/unpackfile",
                &[f, ("sourcezipfile", "none.zip"), ("destfolderpath", "x")]
            )
            .await
        ),
        "13126"
    );
    // Size and upgrade.
    assert_eq!(
        e.ok("/hosting/hostingsize", &[f, ("operation", "1")]).await,
        "500"
    );
    let used: u32 = e
        .ok("/hosting/hostingsize", &[f, ("operation", "2")])
        .await
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(used > 0 && used < 500);
    let ups = list(&e.ok("/hosting/gethostupgradelist", &[f]).await);
    assert!(ups
        .iter()
        .all(|u| u["hostsize"] != "5" && u["hostsize"] != "2"));
    let before = e.balance().await;
    e.ok(
        "/hosting/hostingupgrade",
        &[
            f,
            ("hoststyp", "lin"),
            ("hostsize", "8"),
            ("linetype", "sx"),
            ("location", "cn"),
        ],
    )
    .await;
    // (8 - 5) x 60 a year, one year left.
    assert_eq!(e.balance().await, before - Decimal::new(180, 0));
    assert_eq!(
        first(&e.ok("/hosting/hostdetail", &[f]).await)["hostsize"],
        "800"
    );
    assert_eq!(
        code_of(
            &e.err(
                "/hosting/hostingupgrade",
                &[
                    f,
                    ("hoststyp", "lin"),
                    ("hostsize", "2"),
                    ("linetype", "sx"),
                    ("location", "cn")
                ]
            )
            .await
        ),
        "13145"
    );
    // Every change above is in the host's log.
    let log = list(&e.ok("/hosting/gethostinglog", &[f]).await);
    // The opening entry, 4 switches, 4 IP rule changes, a folder rule, pack, unpack,
    // delete and the upgrade; failed calls leave no entry.
    assert_eq!(log.len(), 14);
    assert!(log
        .iter()
        .any(|l| l["logmemo"].as_str().unwrap().starts_with("hostingupgrade")));
}

#[tokio::test]
async fn database_upgrade_backups_and_charset() {
    let e = env().await;
    let d = ("dbname", "sq_demodb01");
    assert_eq!(e.ok("/database/ispresent", &[d]).await, "N");
    assert_eq!(
        e.ok("/database/dbsize", &[d, ("operation", "1")]).await,
        "100"
    );
    assert_eq!(
        e.ok("/database/dbsize", &[d, ("operation", "2")]).await,
        "3"
    );
    let ups = list(&e.ok("/database/getupgradelist", &[d]).await);
    assert_eq!(ups.len(), 4);
    assert_eq!(ups[0]["sqsize"], "3");
    let before = e.balance().await;
    e.ok(
        "/database/upgrade",
        &[
            d,
            ("dbtype", "2"),
            ("dbsize", "4"),
            ("linetype", "dx"),
            ("location", "cn"),
        ],
    )
    .await;
    // (4 - 2) x 30 a year, one year left.
    assert_eq!(e.balance().await, before - Decimal::new(60, 0));
    assert_eq!(
        e.ok("/database/dbsize", &[d, ("operation", "1")]).await,
        "200"
    );
    assert_eq!(
        code_of(
            &e.err(
                "/database/upgrade",
                &[
                    d,
                    ("dbtype", "5"),
                    ("dbsize", "10"),
                    ("linetype", "dx"),
                    ("location", "cn")
                ]
            )
            .await
        ),
        "14004"
    );
    // Backups in slots 1-5.
    assert_eq!(
        code_of(
            &e.err("/database/restore", &[d, ("backupnumber", "2")])
                .await
        ),
        "14110"
    );
    e.ok("/database/backup", &[d, ("backupnumber", "2")]).await;
    e.ok("/database/restore", &[d, ("backupnumber", "2")]).await;
    assert_eq!(
        first(&e.ok("/database/dbdetail", &[d]).await)["backupnumber"],
        "2"
    );
    e.ok("/database/delbackupfile", &[d, ("backupnumber", "2")])
        .await;
    assert_eq!(
        code_of(
            &e.err("/database/delbackupfile", &[d, ("backupnumber", "2")])
                .await
        ),
        "14111"
    );
    assert_eq!(
        code_of(&e.err("/database/backup", &[d, ("backupnumber", "6")]).await),
        "14107"
    );
    // Charset for MySQL; FTP passwords for MSSQL only.
    e.ok("/database/setcharset", &[d, ("charset", "gbk")]).await;
    assert_eq!(
        first(&e.ok("/database/dbdetail", &[d]).await)["charset"],
        "gbk"
    );
    assert_eq!(
        code_of(
            &e.err("/database/modifyftppass", &[d, ("ftppassword", "abc12345")])
                .await
        ),
        "10018"
    );
    e.ok(
        "/database/createodr",
        &[
            ("dbname", "mssqldb1"),
            ("dbpassword", "abc12345"),
            ("dbtype", "5"),
            ("dbsize", "1"),
            ("linetype", "dx"),
            ("location", "cn"),
            ("years", "1"),
        ],
    )
    .await;
    e.ok(
        "/database/modifyftppass",
        &[("dbname", "mssqldb1"), ("ftppassword", "ftp12345")],
    )
    .await;
    assert_eq!(
        first(&e.ok("/database/dbdetail", &[("dbname", "mssqldb1")]).await)["ftppassword"],
        "ftp12345"
    );
    assert_eq!(
        code_of(
            &e.err(
                "/database/setcharset",
                &[("dbname", "mssqldb1"), ("charset", "gbk")]
            )
            .await
        ),
        "14114"
    );
}

#[tokio::test]
async fn mail_upgrade_domain_change_chengmail_and_fetching() {
    let e = env().await;
    let m = ("maildomain", "idcgate-mail.org");
    assert_eq!(e.ok("/mail/ispresent", &[m]).await, "N");
    let url = e.ok("/mail/getmailloginurl", &[m, ("lang", "en")]).await;
    assert!(url.as_str().unwrap().contains("lang=en"));
    let before = e.balance().await;
    e.ok("/mail/mailupgrade", &[m, ("mailusernumber", "8")])
        .await;
    // Three more 标准版 mailboxes at 36 a year, one year left.
    assert_eq!(e.balance().await, before - Decimal::new(108, 0));
    assert_eq!(
        first(&e.ok("/mail/getmaildetail", &[m]).await)["usernum"],
        "8"
    );
    assert_field(
        &e.err("/mail/mailupgrade", &[m, ("mailusernumber", "2")])
            .await,
        "mailusernumber",
    );
    // Fetching from another server into a mailbox.
    e.ok(
        "/mail/setmailserver",
        &[
            m,
            ("chengmailbox", "sales@idcgate-mail.org"),
            ("chengmailpassword", "YWJjMTIz"),
            ("outmailserver", "pop.example.net"),
            ("port", "110"),
            ("outmailbox", "old@example.net"),
            ("outmailpassword", "eHl6Nzg5"),
        ],
    )
    .await;
    let boxes = list(&e.ok("/mail/getmailboxlist", &[m]).await);
    assert_eq!(
        boxes.iter().find(|b| b["mailaccount"] == "sales").unwrap()["fetch"],
        "old@example.net@pop.example.net:110"
    );
    e.refused_field(
        "/mail/setmailserver",
        &[
            m,
            ("chengmailbox", "sales"),
            ("chengmailpassword", "not base64!"),
            ("outmailserver", "pop.example.net"),
            ("port", "110"),
            ("outmailbox", "old@example.net"),
            ("outmailpassword", "eHl6Nzg5"),
        ],
        "chengmailpassword",
    )
    .await;
    // Admin mailboxes are for gift domains only.
    assert_eq!(
        code_of(
            &e.err("/mail/setadminmailbox", &[m, ("mailaccount", "sales")])
                .await
        ),
        "15120"
    );
    e.ok(
        "/present/openmail",
        &[
            ("hostname", "demoweb"),
            ("maildomain", "gift-box.com"),
            ("mailpassword", "abc123"),
        ],
    )
    .await;
    let g = ("maildomain", "gift-box.com");
    assert_eq!(e.ok("/mail/ispresent", &[g]).await, "Y");
    e.ok(
        "/mail/mailadduser",
        &[
            g,
            ("mailaccout", "boss"),
            ("mailboxpassword", "box12345"),
            ("mailboxsize", "100"),
        ],
    )
    .await;
    e.ok("/mail/setadminmailbox", &[g, ("mailaccount", "boss")])
        .await;
    assert_eq!(
        first(&e.ok("/mail/getmaildetail", &[g]).await)["adminacc"],
        "boss@gift-box.com"
    );
    // 橙邮 users only on 橙邮 domains.
    assert_not_found(
        &e.err(
            "/mail/chengmailadduser",
            &[
                m,
                ("mailaccount", "x1"),
                ("mailboxpassword", "box12345"),
                ("mailboxsize", "100"),
            ],
        )
        .await,
    );
    e.ok(
        "/mail/createoder",
        &[
            ("maildomain", "cheng-mail.com"),
            ("mailpassword", "admin123"),
            ("years", "1"),
            ("mailtag", "m"),
            ("mailusernumber", "3"),
            ("mailtype", "1"),
        ],
    )
    .await;
    let c = ("maildomain", "cheng-mail.com");
    e.ok(
        "/mail/chengmailadduser",
        &[
            c,
            ("mailaccount", "ops"),
            ("mailboxpassword", "box12345"),
            ("mailboxsize", "1024"),
        ],
    )
    .await;
    e.ok(
        "/mail/chengmailmodifyuserpassword",
        &[c, ("mailaccount", "ops"), ("mailboxpassword", "box67890")],
    )
    .await;
    assert_eq!(list(&e.ok("/mail/getmailboxlist", &[c]).await).len(), 1);
    e.ok("/mail/chengmaildeleteuser", &[c, ("mailaccount", "ops")])
        .await;
    assert_eq!(
        code_of(
            &e.err("/mail/chengmaildeleteuser", &[c, ("mailaccount", "ops")])
                .await
        ),
        "15119"
    );
    // Moving the mail service to another domain.
    e.ok(
        "/mail/modifymaildomain",
        &[c, ("mailnewdomain", "cheng-mail.net")],
    )
    .await;
    assert_not_found(&e.err("/mail/getmaildetail", &[c]).await);
    assert_eq!(
        first(
            &e.ok("/mail/getmaildetail", &[("maildomain", "cheng-mail.net")])
                .await
        )["emldomain"],
        "cheng-mail.net"
    );
    assert_eq!(
        code_of(
            &e.err(
                "/mail/modifymaildomain",
                &[
                    ("maildomain", "cheng-mail.net"),
                    ("mailnewdomain", "idcgate-mail.org")
                ]
            )
            .await
        ),
        "15117"
    );
}
