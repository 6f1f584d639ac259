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

/// Buys with `kv` through `action` at `cost` from the balance; the same purchase again is
/// refused with `dup`. The balance before the purchase.
async fn buys_once(e: &Env, action: &str, kv: &[(&str, &str)], cost: i64, dup: &str) -> Decimal {
    let before = e.balance().await;
    e.ok(action, kv).await;
    assert_eq!(
        e.balance().await,
        before - Decimal::new(cost, 0),
        "{action}"
    );
    assert_eq!(e.code(action, kv).await, dup, "{action}");
    before
}

/// Renewing `key` for a year through `renew` moves `field` of `detail`'s answer a year on.
async fn renews_a_year(e: &Env, renew: &str, detail: &str, key: (&str, &str), field: &str) {
    let t0 = exp(&e.ok(detail, &[key]).await, field);
    e.ok(renew, &[key, ("years", "1")]).await;
    let t1 = exp(&e.ok(detail, &[key]).await, field);
    assert!(one_year_later(t0, t1), "{renew}");
}

#[tokio::test]
async fn hosting_lifecycle() {
    let e = env().await;
    assert!(!list(&e.ok("/hosting/hostlist", &[]).await).is_empty());
    assert_eq!(list(&e.ok("/hosting/proroomlist", &[]).await).len(), 2);
    let size = [("hosttype", "bz"), ("hostsize", "2")];
    let price = [&[("years", "2"), ("location", "cn")], &size[..]].concat();
    assert_eq!(e.ok("/hosting/getprice", &price).await, "320");
    let create = [
        &[("ftpname", "newsite"), ("ftppassword", "abc123!@#")][..],
        &[("years", "2"), ("linetype", "dx"), ("Location", "cn")],
        &size[..],
    ]
    .concat();
    let before = buys_once(&e, "/hosting/createhosting", &create, 320, "13002").await;
    let weak = [
        ("ftpname", "othersite"),
        ("ftppassword", "weak"),
        ("years", "1"),
    ];
    let weak = [&weak[..], &size, &[("Location", "cn")]].concat();
    e.refused_field("/hosting/createhosting", &weak, "ftppassword")
        .await;
    let site = ("ftpname", "newsite");
    let detail = "/hosting/hostdetail";
    e.reads(&[(detail, &[site], "/0/hostsize", "200".into())])
        .await;
    renews_a_year(&e, "/hosting/renewhosting", detail, site, "exptme").await;
    assert_eq!(e.balance().await, before - Decimal::new(480, 0));
    for (action, switch) in [
        ("/hosting/modifyftpstate", "ftpstate"),
        ("/hosting/modifywebstate", "webstate"),
    ] {
        e.ok(action, &[site, (switch, "2")]).await;
        // HostDetail answers only the document's keys: the switch is seen in the panel.
        assert_eq!(e.sim.panel("newsite").unwrap()[switch], "2", "{action}");
    }
    let password = ("newpassword", "xyz789$%^");
    e.ok("/hosting/modifypassword", &[site, password]).await;
    e.reads(&[(detail, &[site], "/0/ftppassword", password.1.into())])
        .await;
    // A stopped site cannot take a new domain; a bound domain cannot be bound to another
    // site, nor unbound twice.
    let shop = [site, ("domainname", "shop.example.cn")];
    e.steps(&[
        ("/hosting/binddomain", &shop, "13140"),
        ("/hosting/modifywebstate", &[site, ("webstate", "1")], OK),
        ("/hosting/binddomain", &shop, OK),
        (
            "/hosting/binddomain",
            &[("ftpname", "demoweb"), shop[1]],
            "13142",
        ),
        (
            "/hosting/setdefaultpage",
            &[site, ("defaultpage", "index.php")],
            OK,
        ),
        ("/hosting/unbinddomain", &shop, OK),
        ("/hosting/unbinddomain", &shop, "13144"),
    ])
    .await;
    e.not_found(detail, &[("ftpname", "nosuch")]).await;
    let renewal = [("type", "3"), ("pdtname", "newsite"), ("years", "1")];
    e.reads(&[("/product/getrenewprice", &renewal, "", "160".into())])
        .await;
}

#[tokio::test]
async fn the_hosting_capability_starts_stops_and_binds_a_host_by_its_ftp_name() {
    use idcgate_core::SiteAction;
    let e = env().await;
    let hosting = e.conn.web_hosting().unwrap();
    assert!(matches!(
        hosting.list_sites().await,
        Err(Error::Unsupported { .. })
    ));
    let web = || e.sim.panel("demoweb").unwrap();
    hosting
        .site_action("demoweb", &SiteAction::Stop)
        .await
        .unwrap();
    assert_eq!(web()["webstate"], "2");
    // A paused host takes no domain (13140), as the API says.
    assert!(hosting
        .site_action("demoweb", &SiteAction::AddDomain("cap.example.cn".into()))
        .await
        .is_err());
    hosting
        .site_action("demoweb", &SiteAction::Start)
        .await
        .unwrap();
    assert_eq!(web()["webstate"], "1");
    hosting
        .site_action("demoweb", &SiteAction::AddDomain("cap.example.cn".into()))
        .await
        .unwrap();
    assert!(web()["domains"]
        .as_str()
        .unwrap()
        .contains("cap.example.cn"));
    hosting
        .site_action(
            "demoweb",
            &SiteAction::RemoveDomain("cap.example.cn".into()),
        )
        .await
        .unwrap();
    assert!(!web()["domains"]
        .as_str()
        .unwrap()
        .contains("cap.example.cn"));
    hosting
        .site_action("demoweb", &SiteAction::Password("Cap123!pass".into()))
        .await
        .unwrap();
    e.reads(&[(
        "/hosting/hostdetail",
        &[("ftpname", "demoweb")],
        "/0/ftppassword",
        "Cap123!pass".into(),
    )])
    .await;
    assert!(matches!(
        hosting.site_action("demoweb", &SiteAction::Domains).await,
        Err(Error::Unsupported { .. })
    ));
    assert!(hosting
        .site_action("nosuch", &SiteAction::Stop)
        .await
        .is_err());
}

#[tokio::test]
async fn database_lifecycle() {
    let e = env().await;
    assert_eq!(list(&e.ok("/database/dblist", &[]).await).len(), 2);
    let create = [
        ("dbname", "shopdb01"),
        ("dbpassword", "abc12345"),
        ("dbtype", "2"),
        ("dbsize", "2"),
        ("linetype", "dx"),
        ("location", "cn"),
        ("years", "1"),
    ];
    buys_once(&e, "/database/createodr", &create, 60, "14002").await;
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
        assert_eq!(e.code("/database/createodr", &kv).await, code, "{k}={v}");
    }
    let db = ("dbname", "shopdb01");
    let detail = "/database/dbdetail";
    // DBDetail's sample carries where the database runs and what it belongs to.
    e.reads(&[
        (detail, &[db], "/0/charset", "utf8".into()),
        (detail, &[db], "/0/location", "cn".into()),
        (detail, &[db], "/0/linetype", "dx".into()),
        (detail, &[db], "/0/belongtohost", "".into()),
    ])
    .await;
    renews_a_year(&e, "/database/renewdb", detail, db, "expiretime").await;
    e.steps(&[
        ("/database/modifydbstate", &[db, ("dbstate", "2")], OK),
        (
            "/database/modifydbpass",
            &[db, ("dbpassword", "newpass99")],
            OK,
        ),
    ])
    .await;
    e.reads(&[(detail, &[db], "/0/dbpassword", "newpass99".into())])
        .await;
    // DBDetail answers only the document's keys: the run state is seen in the panel.
    assert_eq!(e.sim.panel(db.1).unwrap()["dbstate"], "2");
    e.not_found(detail, &[("dbname", "nosuchdb")]).await;
}

#[tokio::test]
async fn mail_lifecycle() {
    let e = env().await;
    let before = e.balance().await;
    let m = ("maildomain", "corp-mail.com");
    let order = [
        ("mailpassword", "admin123"),
        ("years", "1"),
        ("mailtag", "g"),
    ];
    let order = [&[m, ("mailusernumber", "2")], &order[..]].concat();
    e.ok("/mail/createoder", &order).await;
    assert_eq!(e.balance().await, before - Decimal::new(120, 0));
    let detail = "/mail/getmaildetail";
    e.reads(&[(detail, &[m], "/0/adminacc", "admin@corp-mail.com".into())])
        .await;
    let mailbox = [("mailboxpassword", "box12345"), ("mailboxsize", "1024")];
    let add = |acc| [m, ("mailaccout", acc), mailbox[0], mailbox[1]];
    let ceo = [m, ("mailaccount", "ceo")];
    // Two mailboxes bought, two used.
    e.steps(&[
        (
            "/mail/modifymailpassword",
            &[m, ("mailpassword", "admin456")],
            OK,
        ),
        ("/mail/mailadduser", &add("ceo"), OK),
        ("/mail/mailadduser", &add("cto"), OK),
        ("/mail/mailadduser", &add("cfo"), "15107"),
        (
            "/mail/modifymailaccountstate",
            &[m, ("mailaccout", "ceo"), ("mailboxstate", "0")],
            OK,
        ),
        (
            "/mail/modifymailaccountstate",
            &[m, ("mailaccout", "ceo"), ("mailboxstate", "2")],
            "15109",
        ),
        (
            "/mail/modifymailusermemo",
            &[ceo[0], ceo[1], ("mailboxmemo", "boss")],
            OK,
        ),
        (
            "/mail/modifymailboxsize",
            &[ceo[0], ceo[1], ("mailboxsize", "2048")],
            OK,
        ),
        (
            "/mail/modifymailboxpassword",
            &[ceo[0], ceo[1], ("mailboxpassword", "newbox123")],
            OK,
        ),
    ])
    .await;
    let boxes = list(&e.ok("/mail/getmailboxlist", &[m]).await);
    let ceo_box = boxes.iter().find(|b| b["mailaccount"] == "ceo").unwrap();
    assert_eq!(
        (
            ceo_box["state"].as_str(),
            ceo_box["memo"].as_str(),
            ceo_box["size"].as_str()
        ),
        (Some("disabled"), Some("boss"), Some("2048M"))
    );
    // 1 is 使用: the box is in use again.
    let state = [m, ("mailaccout", "ceo"), ("mailboxstate", "1")];
    e.ok("/mail/modifymailaccountstate", &state).await;
    let boxes = list(&e.ok("/mail/getmailboxlist", &[m]).await);
    let ceo_box = boxes.iter().find(|b| b["mailaccount"] == "ceo").unwrap();
    assert_eq!(ceo_box["state"], "active");
    let cto = [m, ("mailaccount", "cto")];
    e.ok("/mail/deletemailbox", &cto).await;
    assert_eq!(list(&e.ok("/mail/getmailboxlist", &[m]).await).len(), 1);
    e.refused_field("/mail/deletemailbox", &cto, "mailaccount")
        .await;
    renews_a_year(&e, "/mail/renewalmail", detail, m, "expiretime").await;
    assert_eq!(e.balance().await, before - Decimal::new(240, 0));
    // The sandbox mail domain has its mailboxes.
    let sandbox = [("maildomain", "idcgate-mail.org")];
    assert_eq!(list(&e.ok("/mail/getmailboxlist", &sandbox).await).len(), 2);
}

#[tokio::test]
async fn hosting_panel_switches_files_and_log() {
    let e = env().await;
    let f = ("ftpname", "demoweb");
    let win = ("ftpname", "winsite");
    let windows = [
        ("ftppassword", "abc123!@#"),
        ("years", "1"),
        ("Location", "cn"),
    ];
    let windows = [&[win, ("hosttype", "net"), ("hostsize", "3")], &windows[..]].concat();
    // Each switch takes a good value and refuses a bad one; .NET versions exist only on
    // Windows hosts, Tomcat only on JSP hosts.
    e.steps(&[
        ("/hosting/createhosting", &windows, OK),
        ("/hosting/set404page", &[f, ("pagepath", "404.html")], OK),
        (
            "/hosting/set404page",
            &[f, ("pagepath", "404.php")],
            "13108",
        ),
        (
            "/hosting/setdefaultipaccess",
            &[win, ("grantaccess", "2")],
            OK,
        ),
        (
            "/hosting/setdefaultipaccess",
            &[win, ("grantaccess", "9")],
            "13112",
        ),
        ("/hosting/modifyerrtype", &[win, ("errortype", "1")], OK),
        (
            "/hosting/modifyerrtype",
            &[win, ("errortype", "5")],
            "13119",
        ),
        ("/hosting/logaccess", &[win, ("logaccess", "1")], OK),
        ("/hosting/logaccess", &[win, ("logaccess", "7")], "13124"),
        (
            "/hosting/modifynetversion",
            &[f, ("netversion", "4")],
            "13111",
        ),
        ("/hosting/resettomcat", &[("ftpname", "javaapp")], OK),
        ("/hosting/resettomcat", &[f], "10018"),
        ("/hosting/modifynetversion", &[win, ("netversion", "4")], OK),
    ])
    .await;
    // 仅 windows 主机有此功能: each Windows-only control is refused on the Linux host
    // with the code its table gives a failure.
    let rule = [
        ("ip", "203.0.113.7"),
        ("mask", "255.255.255.0"),
        ("operation", "1"),
    ];
    e.steps(&[
        (
            "/hosting/setdefaultipaccess",
            &[f, ("grantaccess", "2")],
            "13112",
        ),
        (
            "/hosting/denydefineip",
            &[f, rule[0], rule[1], rule[2]],
            "13116",
        ),
        (
            "/hosting/grantdefineip",
            &[f, rule[0], rule[1], rule[2]],
            "13118",
        ),
        ("/hosting/modifyerrtype", &[f, ("errortype", "1")], "13120"),
        (
            "/hosting/setfolderipaccess",
            &[f, ("folderpath", "admin"), rule[0], rule[2]],
            "13123",
        ),
        (
            "/hosting/deletefile",
            &[f, ("delinfo", "wwwroot/index.html")],
            "13149",
        ),
        ("/hosting/logaccess", &[f, ("logaccess", "1")], "13125"),
    ])
    .await;
    // IP rules: added once, removed once.
    for action in ["/hosting/denydefineip", "/hosting/grantdefineip"] {
        let rule = [win, ("ip", "203.0.113.7"), ("mask", "255.255.255.0")];
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
                win,
                ("ip", "300.1.1.1"),
                ("mask", "255.0.0.0"),
                ("operation", "1"),
            ],
            "ip",
        )
        .await;
    }
    let folder = [("ip", "218.85.132.*,10.*"), ("operation", "1")];
    let packed = ("destfolderpath", "wwwroot/restored");
    let logo = ("delinfo", "wwwroot/restored/logo.png");
    // Files: pack, unpack where it lands, delete.
    e.steps(&[
        (
            "/hosting/setfolderipaccess",
            &[win, ("folderpath", "admin"), folder[0], folder[1]],
            OK,
        ),
        (
            "/hosting/setfolderipaccess",
            &[
                win,
                ("folderpath", "wwwroot/x"),
                ("ip", "1.2.3.4"),
                folder[1],
            ],
            "13122",
        ),
        (
            "/hosting/packfile",
            &[
                win,
                ("sourcefile", "wwwroot/images"),
                ("destfile", "img.zip"),
            ],
            OK,
        ),
        (
            "/hosting/packfile",
            &[win, ("sourcefile", "nothing"), ("destfile", "x.zip")],
            "13127",
        ),
        (
            "/hosting/unpackfile",
            &[win, ("sourcezipfile", "img.zip"), packed],
            OK,
        ),
        ("/hosting/deletefile", &[win, logo], OK),
        ("/hosting/deletefile", &[win, logo], "13148"),
        (
            "/hosting/unpackfile",
            &[win, ("sourcezipfile", "none.zip"), ("destfolderpath", "x")],
            "13126",
        ),
    ])
    .await;
    // Size and upgrade.
    e.reads(&[(
        "/hosting/hostingsize",
        &[f, ("operation", "1")],
        "",
        "500".into(),
    )])
    .await;
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
    let line = [("hoststyp", "lin"), ("linetype", "sx"), ("location", "cn")];
    let upgrade = |size| [f, line[0], ("hostsize", size), line[1], line[2]];
    e.ok("/hosting/hostingupgrade", &upgrade("8")).await;
    // (8 - 5) x 60 a year, one year left.
    assert_eq!(e.balance().await, before - Decimal::new(180, 0));
    e.reads(&[("/hosting/hostdetail", &[f], "/0/hostsize", "800".into())])
        .await;
    assert_eq!(
        e.code("/hosting/hostingupgrade", &upgrade("2")).await,
        "13145"
    );
    // Every change above is in its host's log; failed calls leave no entry. The Linux
    // host: the opening entry, the 404 page and the upgrade.
    let log = list(&e.ok("/hosting/gethostinglog", &[f]).await);
    assert_eq!(log.len(), 3);
    // The Windows one: its opening, 4 switches, 4 IP rule changes, a folder rule, pack,
    // unpack and delete.
    assert_eq!(
        list(&e.ok("/hosting/gethostinglog", &[win]).await).len(),
        13
    );
    assert!(log
        .iter()
        .any(|l| l["logmemo"].as_str().unwrap().starts_with("hostingupgrade")));
}

#[tokio::test]
async fn database_upgrade_backups_and_charset() {
    let e = env().await;
    let d = ("dbname", "sq_demodb01");
    e.reads(&[
        ("/database/ispresent", &[d], "", "N".into()),
        (
            "/database/dbsize",
            &[d, ("operation", "1")],
            "",
            "100".into(),
        ),
        ("/database/dbsize", &[d, ("operation", "2")], "", "3".into()),
    ])
    .await;
    let ups = list(&e.ok("/database/getupgradelist", &[d]).await);
    assert_eq!(ups.len(), 4);
    assert_eq!(ups[0]["sqsize"], "3");
    let before = e.balance().await;
    let line = [("linetype", "dx"), ("location", "cn")];
    let upgrade = |t, size| [d, ("dbtype", t), ("dbsize", size), line[0], line[1]];
    e.ok("/database/upgrade", &upgrade("2", "4")).await;
    // (4 - 2) x 30 a year, one year left.
    assert_eq!(e.balance().await, before - Decimal::new(60, 0));
    let slot = ("backupnumber", "2");
    let mssql = ("dbname", "mssqldb1");
    let order = [("dbpassword", "abc12345"), ("years", "1"), line[0], line[1]];
    let order = [&[mssql, ("dbtype", "5"), ("dbsize", "1")], &order[..]].concat();
    // Backups in slots 1-5; charset for MySQL, FTP passwords for MSSQL only.
    e.steps(&[
        ("/database/upgrade", &upgrade("5", "10"), "14004"),
        ("/database/restore", &[d, slot], "14110"),
        ("/database/backup", &[d, slot], OK),
        ("/database/restore", &[d, slot], OK),
    ])
    .await;
    e.reads(&[(
        "/database/dbsize",
        &[d, ("operation", "1")],
        "",
        "200".into(),
    )])
    .await;
    assert_eq!(e.sim.panel(d.1).unwrap()["backupnumber"], "2");
    e.steps(&[
        ("/database/delbackupfile", &[d, slot], OK),
        ("/database/delbackupfile", &[d, slot], "14111"),
        ("/database/backup", &[d, ("backupnumber", "6")], "14107"),
        ("/database/setcharset", &[d, ("charset", "gbk")], OK),
        (
            "/database/modifyftppass",
            &[d, ("ftppassword", "abc12345")],
            "10018",
        ),
        ("/database/createodr", &order, OK),
        (
            "/database/modifyftppass",
            &[mssql, ("ftppassword", "ftp12345")],
            OK,
        ),
        (
            "/database/setcharset",
            &[mssql, ("charset", "gbk")],
            "14114",
        ),
    ])
    .await;
    e.reads(&[
        ("/database/dbdetail", &[d], "/0/charset", "gbk".into()),
        (
            "/database/dbdetail",
            &[mssql],
            "/0/ftppassword",
            "ftp12345".into(),
        ),
    ])
    .await;
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
    e.reads(&[("/mail/getmaildetail", &[m], "/0/usernum", "8".into())])
        .await;
    e.refused_field(
        "/mail/mailupgrade",
        &[m, ("mailusernumber", "2")],
        "mailusernumber",
    )
    .await;
    // Fetching from another server into a mailbox.
    let fetch = |mailbox, password| {
        [
            m,
            ("chengmailbox", mailbox),
            ("chengmailpassword", password),
            ("outmailserver", "pop.example.net"),
            ("port", "110"),
            ("outmailbox", "old@example.net"),
            ("outmailpassword", "eHl6Nzg5"),
        ]
    };
    let sales = fetch("sales@idcgate-mail.org", "YWJjMTIz");
    e.ok("/mail/setmailserver", &sales).await;
    // GetMailboxList answers only the document's keys: the rule is seen in the panel.
    assert_eq!(
        e.sim.panel(m.1).unwrap()["fetch"]["sales"],
        "old@example.net@pop.example.net:110"
    );
    let bad = fetch("sales", "not base64!");
    e.refused_field("/mail/setmailserver", &bad, "chengmailpassword")
        .await;
    // Admin mailboxes are for gift domains only.
    let g = ("maildomain", "gift-box.com");
    let gift = [("hostname", "demoweb"), g, ("mailpassword", "abc123")];
    let boss = [g, ("mailaccout", "boss"), ("mailboxpassword", "box12345")];
    e.steps(&[
        (
            "/mail/setadminmailbox",
            &[m, ("mailaccount", "sales")],
            "15120",
        ),
        ("/present/openmail", &gift, OK),
    ])
    .await;
    assert_eq!(e.ok("/mail/ispresent", &[g]).await, "Y");
    e.steps(&[
        (
            "/mail/mailadduser",
            &[boss[0], boss[1], boss[2], ("mailboxsize", "100")],
            OK,
        ),
        ("/mail/setadminmailbox", &[g, ("mailaccount", "boss")], OK),
    ])
    .await;
    e.reads(&[(
        "/mail/getmaildetail",
        &[g],
        "/0/adminacc",
        "boss@gift-box.com".into(),
    )])
    .await;
    // 橙邮 users only on 橙邮 domains.
    let user = |c, name, size| {
        [
            c,
            ("mailaccount", name),
            ("mailboxpassword", "box12345"),
            ("mailboxsize", size),
        ]
    };
    e.not_found("/mail/chengmailadduser", &user(m, "x1", "100"))
        .await;
    let c = ("maildomain", "cheng-mail.com");
    let order = [
        ("mailpassword", "admin123"),
        ("years", "1"),
        ("mailtag", "m"),
    ];
    let order = [&[c, ("mailusernumber", "3"), ("mailtype", "1")], &order[..]].concat();
    let ops = [c, ("mailaccount", "ops")];
    e.steps(&[
        ("/mail/createoder", &order, OK),
        ("/mail/chengmailadduser", &user(c, "ops", "1024"), OK),
        (
            "/mail/chengmailmodifyuserpassword",
            &[ops[0], ops[1], ("mailboxpassword", "box67890")],
            OK,
        ),
    ])
    .await;
    assert_eq!(list(&e.ok("/mail/getmailboxlist", &[c]).await).len(), 1);
    // Then moving the mail service to another domain.
    let net = ("maildomain", "cheng-mail.net");
    e.steps(&[
        ("/mail/chengmaildeleteuser", &ops, OK),
        ("/mail/chengmaildeleteuser", &ops, "15119"),
        (
            "/mail/modifymaildomain",
            &[c, ("mailnewdomain", "cheng-mail.net")],
            OK,
        ),
        (
            "/mail/modifymaildomain",
            &[net, ("mailnewdomain", "idcgate-mail.org")],
            "15117",
        ),
    ])
    .await;
    e.not_found("/mail/getmaildetail", &[c]).await;
    e.reads(&[(
        "/mail/getmaildetail",
        &[net],
        "/0/emldomain",
        "cheng-mail.net".into(),
    )])
    .await;
}
