//! Virtual hosting, mail, mini-programs, MSSQL, auctions and ICP filing codes.

use super::*;
use idcgate_core::SiteAction;

#[tokio::test]
async fn hosting_purchase_domains_subsites_files_backups() {
    let e = env().await;
    let cfg = e.ok("host.getconfig", &[]).await;
    assert_eq!(cfg["models"][1], "L2");
    let models = e.ok("host.getmodels", &[]).await;
    assert_eq!(items(&models).len(), 3);
    let price = e
        .price("host.getprice", &[("model", "L1"), ("year", "2")])
        .await;
    assert_eq!(price, Decimal::new(19800, 2));
    e.avail(
        "host.checkftp",
        "ftpname",
        &[("demosite", 0), ("newsite1", 1)],
    )
    .await;
    let host = |ftpname| {
        [
            ("model", "L1"),
            ("ftpname", ftpname),
            ("password", "Host2025pass"),
            ("year", "2"),
        ]
    };
    e.fails_saying("host.buy", &host("demosite"), "20113").await;
    let id = e.buys("host.buy", &host("newsite1"), price).await;
    let i = [("id", id.as_str())];
    e.reads(&[("host.detail", &i, "/model", "L1".into())]).await;
    assert_eq!(items(&e.ok("host.detail", &[]).await).len(), 2);
    e.reads(&[
        ("host.synchost", &i, "/ftpname", "newsite1".into()),
        ("host.gettraffic", &i, "/limit", 10000.into()),
    ])
    .await;
    // Domains and sub-sites
    e.steps(&[
        ("host.gensitemap", &i, "20113"),
        ("host.bindomain", &[i[0], ("domain", "www.newsite.com")], OK),
        (
            "host.bindomain",
            &[i[0], ("domain", "blog.newsite.com")],
            OK,
        ),
        (
            "host.bindomain",
            &[i[0], ("domain", "www.idcgate-demo.com")],
            "20113",
        ),
    ])
    .await;
    assert_eq!(items(&e.ok("host.getbindomains", &i).await).len(), 2);
    // The same through the hosting capability (what the downstream endpoint routes).
    let hosting = e.conn.web_hosting().unwrap();
    let domains = || async {
        hosting
            .site_action(&id, &SiteAction::Domains)
            .await
            .unwrap()
    };
    assert_eq!(domains().await.len(), 2);
    for action in [SiteAction::AddDomain, SiteAction::RemoveDomain] {
        hosting
            .site_action(&id, &action("shop.newsite.com".into()))
            .await
            .unwrap();
        let bound = domains().await.contains(&"shop.newsite.com".to_string());
        assert_eq!(bound, matches!(action("".into()), SiteAction::AddDomain(_)));
    }
    assert_eq!(domains().await.len(), 2);
    hosting
        .site_action(&id, &SiteAction::Password("Host2026pass".into()))
        .await
        .unwrap();
    assert_eq!(
        e.ok("host.getpwd", &i).await["password"],
        "Host2026pass",
        "the password the capability set"
    );
    assert!(matches!(
        hosting.site_action(&id, &SiteAction::Stop).await,
        Err(idcgate_core::Error::Unsupported { .. })
    ));
    assert_eq!(
        id_of(
            &e.ok("host.findbydomain", &[("domain", "blog.newsite.com")])
                .await,
            "id"
        ),
        id
    );
    e.fails_saying(
        "host.createsubsite",
        &[i[0], ("domain", "x.other.com"), ("path", "/x")],
        "20113",
    )
    .await;
    let sid = id_of(
        &e.ok(
            "host.createsubsite",
            &[i[0], ("domain", "blog.newsite.com"), ("path", "/blog")],
        )
        .await,
        "subsiteid",
    );
    e.ok(
        "host.setsubsite",
        &[i[0], ("subsiteid", &sid), ("path", "/weblog")],
    )
    .await;
    e.reads(&[(
        "host.getsubsitedetail",
        &[i[0], ("subsiteid", &sid)],
        "/path",
        "/weblog".into(),
    )])
    .await;
    assert_eq!(items(&e.ok("host.getsubsitelist", &i).await).len(), 1);
    let files = e
        .ok("host.getfilelist", &[i[0], ("path", "/wwwroot")])
        .await;
    assert!(items(&files).iter().any(|f| f["name"] == "weblog"));
    e.ok("host.deletesubsite", &[i[0], ("subsiteid", &sid)])
        .await;
    assert!(items(&e.ok("host.getsubsitelist", &i).await).is_empty());
    e.ok("host.unbindomain", &[i[0], ("domain", "blog.newsite.com")])
        .await;
    assert!(items(
        &e.ok("host.findbydomain", &[("domain", "blog.newsite.com")])
            .await
    )
    .is_empty());
    e.reads(&[(
        "host.gensitemap",
        &i,
        "/url",
        "http://www.newsite.com/sitemap.xml".into(),
    )])
    .await;
    // Default documents drive the file list.
    e.ok(
        "host.setdefaultdoc",
        &[i[0], ("doc", "home.html,index.php")],
    )
    .await;
    let default_doc = [(
        "host.getdefaultdoc",
        &i[..],
        "/doc",
        "home.html,index.php".into(),
    )];
    e.reads(&default_doc).await;
    let files = e
        .ok("host.getfilelist", &[i[0], ("path", "/wwwroot")])
        .await;
    assert_eq!(items(&files)[0]["name"], "home.html");
    // Backup / restore
    e.fails_saying("host.restore", &i, "20113").await;
    let bk = id_of(&e.ok("host.backup", &i).await, "backupid");
    assert_eq!(
        items(&e.ok("host.getfilelist", &[i[0], ("path", "/backup")]).await).len(),
        1
    );
    assert_eq!(id_of(&e.ok("host.restore", &i).await, "backupid"), bk);
    // A restore puts back the settings the backup holds.
    let fw = r#"[{"ip":"198.51.100.1","policy":"allow"}]"#;
    e.ok("host.setfirewall", &[i[0], ("rules", fw)]).await;
    let bk2 = id_of(&e.ok("host.backup", &i).await, "backupid");
    e.ok("host.setdefaultdoc", &[i[0], ("doc", "changed.html")])
        .await;
    e.ok(
        "host.createsubsite",
        &[i[0], ("domain", "www.newsite.com"), ("path", "/later")],
    )
    .await;
    e.ok(
        "host.setfirewall",
        &[i[0], ("rules", r#"[{"ip":"203.0.113.1","policy":"deny"}]"#)],
    )
    .await;
    let back = [i[0], ("backupid", bk2.as_str())];
    assert_eq!(id_of(&e.ok("host.restore", &back).await, "backupid"), bk2);
    e.reads(&default_doc).await;
    assert!(items(&e.ok("host.getsubsitelist", &i).await).is_empty());
    // Passwords, CC, firewall
    e.ok("host.modifypwd", &[i[0], ("password", "Other2025pass")])
        .await;
    e.reads(&[
        ("host.getpwd", &i, "/password", "Other2025pass".into()),
        ("host.getcc", &i, "/enable", 1.into()),
    ])
    .await;
    e.fails_saying(
        "host.setfirewall",
        &[i[0], ("rules", r#"[{"ip":"bad","policy":"deny"}]"#)],
        "rules",
    )
    .await;
    let fw = e
        .ok(
            "host.setfirewall",
            &[i[0], ("rules", r#"[{"ip":"203.0.113.9","policy":"deny"}]"#)],
        )
        .await;
    assert_eq!(fw["count"], 1);
    let sites = e.conn.web_hosting().unwrap().list_sites().await.unwrap();
    assert_eq!(sites.len(), 2);
    assert!(sites
        .iter()
        .any(|s| s.name == "newsite1" && s.domains == vec!["www.newsite.com".to_string()]));
}

#[tokio::test]
async fn mail_lifecycle() {
    let e = env().await;
    let names = [("idcgate-demo.com", 0), ("mybrand.net", 1)];
    e.avail("mail.checkdomain", "domain", &names).await;
    let strong = ("password", "Strong2025x");
    e.reads(&[
        ("mail.checkpwd", &[("password", "weak")], "/valid", 0.into()),
        ("mail.checkpwd", &[strong], "/valid", 1.into()),
    ])
    .await;
    let p = e
        .price("mail.getprice", &[("type", "M5"), ("year", "1")])
        .await;
    let id = e
        .buys(
            "mail.buy",
            &[("domain", "mybrand.net"), ("type", "M5"), strong],
            p,
        )
        .await;
    let i = [("id", id.as_str())];
    e.reads(&[("mail.detail", &i, "/maxmailbox", 5.into())])
        .await;
    let rp = e.price("mail.getrenewprice", &[i[0], ("year", "2")]).await;
    let r = e.ok("mail.renew", &[i[0], ("year", "2")]).await;
    assert_eq!(dec(&r["amount"]), rp);
    e.fails_saying("mail.getupgradeprice", &[i[0], ("type", "M5")], "type")
        .await;
    let up = e
        .price("mail.getupgradeprice", &[i[0], ("type", "M20")])
        .await;
    let bal = e.balance().await;
    e.ok("mail.upgrade", &[i[0], ("type", "M20")]).await;
    assert_eq!(e.balance().await, bal - up);
    e.reads(&[("mail.sync", &i, "/type", "M20".into())]).await;
    e.steps(&[
        ("mail.setstatus", &[i[0], ("status", "pause")], OK),
        ("mail.setstatus", &[i[0], ("status", "pause")], "20113"),
    ])
    .await;
    e.reads(&[("mail.detail", &i, "/status", "paused".into())])
        .await;
    e.ok("mail.setstatus", &[i[0], ("status", "resume")]).await;
    e.changes_password("mail.modifypwd", i[0], "Newer2025xx")
        .await;
    assert!(e.ok("mail.getfilingcode", &i).await["code"]
        .as_str()
        .unwrap()
        .starts_with("WM"));
    e.fails_saying("mail.clearpostmaster", &i, "20113").await;
    let m = e.conn.mail().unwrap();
    let domains = m.list_mail_domains().await.unwrap();
    assert_eq!(domains.len(), 2);
    let demo = domains
        .iter()
        .find(|d| d.domain == "idcgate-demo.com")
        .unwrap();
    e.ok("mail.clearpostmaster", &[("id", &demo.upstream_id)])
        .await;
    e.reads(&[(
        "mail.detail",
        &[("id", &demo.upstream_id)],
        "/postmasterlocked",
        0.into(),
    )])
    .await;
    let boxes = m.list_mailboxes("idcgate-demo.com").await.unwrap();
    assert_eq!(boxes.len(), 3);
    assert!(boxes
        .iter()
        .any(|b| b.address == "info@idcgate-demo.com" && b.enabled));
}

#[tokio::test]
async fn miniapps() {
    let e = env().await;
    e.lists_nothing("miniapp.syncall", &[]).await;
    let p = e.price("miniapp.getprice", &[("type", "basic")]).await;
    assert_eq!(p, Decimal::new(30000, 2));
    let app = [
        ("type", "basic"),
        ("domain", "shop.mybrand.net"),
        ("trial", "1"),
    ];
    let t = e.ok("miniapp.buy", &app).await;
    assert_eq!(dec(&t["amount"]), Decimal::ZERO);
    let id = id_of(&t, "id");
    let i = [("id", id.as_str())];
    e.converts_trial(["miniapp.renew", "miniapp.convert"], &i, p)
        .await;
    e.reads(&[("miniapp.sync", &i, "/trial", 0.into())]).await;
    let r = e.ok("miniapp.renew", &[i[0], ("year", "1")]).await;
    assert_eq!(dec(&r["amount"]), p);
    e.ok("miniapp.upgrade", &[i[0], ("type", "pro")]).await;
    assert_eq!(items(&e.ok("miniapp.syncall", &[]).await)[0]["type"], "pro");
    // "Upgrade/downgrade": back to a lower edition, nothing charged.
    let before = e.ok("info.checkbalance", &[]).await;
    let down = e.ok("miniapp.upgrade", &[i[0], ("type", "basic")]).await;
    assert_eq!(dec(&down["amount"]), Decimal::ZERO);
    assert_eq!(
        items(&e.ok("miniapp.syncall", &[]).await)[0]["type"],
        "basic"
    );
    assert_eq!(e.ok("info.checkbalance", &[]).await, before);
    e.fails_saying("miniapp.upgrade", &[i[0], ("type", "basic")], "type")
        .await;
    assert!(e.ok("miniapp.getmanageurl", &i).await["url"]
        .as_str()
        .unwrap()
        .contains(&id));
}

#[tokio::test]
async fn mssql_databases() {
    let e = env().await;
    let cfg = e.ok("mssql.getconfig", &[]).await;
    assert!(cfg["sizes"].as_array().unwrap().contains(&Value::from(200)));
    e.avail("mssql.checkname", "name", &[("demodb", 0), ("shopdb", 1)])
        .await;
    let p = e
        .price(
            "mssql.getprice",
            &[("version", "2019"), ("size", "200"), ("year", "1")],
        )
        .await;
    assert_eq!(p, Decimal::new(12000, 2));
    let db = [("name", "shopdb"), ("version", "2019"), ("size", "200")];
    let trial = [("password", "Sql2025pass"), ("trial", "1")];
    let t = e.ok("mssql.buy", &[&db[..], &trial].concat()).await;
    let id = id_of(&t, "id");
    let i = [("id", id.as_str())];
    let bal = e
        .converts_trial(["mssql.renew", "mssql.convert"], &i, p)
        .await;
    e.ok("mssql.renew", &[i[0], ("year", "1")]).await;
    assert_eq!(e.balance().await, bal - p - p);
    let up = e
        .price("mssql.getupgradeprice", &[i[0], ("size", "500")])
        .await;
    e.ok("mssql.upgrade", &[i[0], ("size", "500")]).await;
    assert_eq!(e.balance().await, bal - p - p - up);
    e.reads(&[("mssql.detail", &i, "/size", 500.into())]).await;
    e.changes_password("mssql.modifypwd", i[0], "Newsql2025x")
        .await;
    let databases = e.conn.databases().unwrap();
    databases
        .database_action(&id, &SiteAction::Password("Newsql2026y".into()))
        .await
        .unwrap();
    assert!(matches!(
        databases.database_action(&id, &SiteAction::Stop).await,
        Err(idcgate_core::Error::Unsupported { .. })
    ));
    let dbs = e.conn.databases().unwrap().list_databases().await.unwrap();
    assert_eq!(dbs.len(), 2);
    assert!(dbs
        .iter()
        .any(|d| d.name == "shopdb" && d.size_mb == Some(500) && d.engine == "mssql2019"));
}

#[tokio::test]
async fn auctions_and_buy_now() {
    let e = env().await;
    for (act, n) in [
        ("auction.fulllist", 6),
        ("auction.bargainlist", 2),
        ("auction.westlist", 3),
        ("auction.todaynew", 2),
        ("auction.todaydrop", 2),
        ("auction.yesterdaynew", 2),
        ("auction.yesterdaydelisted", 1),
    ] {
        assert_eq!(items(&e.ok(act, &[]).await).len(), n, "{act}");
    }
    let d = e
        .ok("auction.getbuydetail", &[("domain", "miaomiao.cn")])
        .await;
    let price = dec(&d["price"]);
    e.avail("domain.checkdomain", "domain", &[("miaomiao.cn", 0)])
        .await;
    let bal = e.balance().await;
    e.ok("auction.buydomain", &[("domain", "miaomiao.cn")])
        .await;
    assert_eq!(e.balance().await, bal - price);
    e.fails_saying("auction.buydomain", &[("domain", "miaomiao.cn")], "20113")
        .await;
    assert_eq!(items(&e.ok("auction.fulllist", &[]).await).len(), 5);
    assert_eq!(
        items(&e.ok("domain.getdomains", &[("domain", "miaomiao")]).await).len(),
        1
    );
    // The doc's other path (v2/domain/) serves the same acts.
    let mut pairs = e.auth();
    pairs.push(("act".into(), "fulllist".into()));
    let v = e.raw_json("/api/v2/domain/", gbk_form(&pairs)).await;
    assert_eq!(v["data"]["total"], 5);
}

#[tokio::test]
async fn filing_codes() {
    let e = env().await;
    let bal = e.balance().await;
    let f = e.ok("filing.buy", &[("type", "server")]).await;
    assert_eq!(e.balance().await, bal - Decimal::new(3000, 2));
    let v = e.ok("filing.view", &[("id", &id_of(&f, "id"))]).await;
    assert_eq!(
        (v["code"].clone(), v["type"].as_str()),
        (f["code"].clone(), Some("server"))
    );
    e.fails_saying("filing.view", &[("id", "1")], "20102").await;
}

#[tokio::test]
async fn one_ledger_behind_every_module() {
    let e = env().await;
    let purchases: [(&str, &[(&str, &str)]); 7] = [
        ("filing.buy", &[("type", "host")]),
        (
            "host.buy",
            &[
                ("model", "L1"),
                ("ftpname", "ledgerweb"),
                ("password", "Ledger2025x"),
            ],
        ),
        (
            "mail.buy",
            &[
                ("domain", "ledger-mail.com"),
                ("type", "M5"),
                ("password", "Ledger2025x"),
            ],
        ),
        (
            "mssql.buy",
            &[
                ("name", "ledgerdb"),
                ("version", "2019"),
                ("size", "200"),
                ("password", "Ledger2025x"),
            ],
        ),
        (
            "miniapp.buy",
            &[("type", "basic"), ("domain", "ledger-app.com")],
        ),
        (
            "server.buy",
            &server_order("3", "centos7.9", ["1", "1", "40", "1"], "Ledger2025x", &[]),
        ),
        ("domain.opensmartdns", &[("domain", "idcgate-demo.com")]),
    ];
    let start = e.balance().await;
    let mut paid = Decimal::ZERO;
    for (action, kv) in purchases {
        let r = e.ok(action, kv).await;
        let amount = dec(&r["amount"]);
        assert!(amount > Decimal::ZERO, "{action}: {r}");
        paid += amount;
        assert_eq!(e.balance().await, start - paid, "{action}");
    }
    // The ledger explains the balance to the fen: every record's running balance follows
    // from the one before, and the newest one is the balance checkbalance reports.
    let fin = items(&e.ok("info.getfinance", &[("limit", "1000")]).await);
    let mut chain = Decimal::ZERO;
    for r in fin.iter().rev() {
        chain += dec(&r["amount"]);
        assert_eq!(dec(&r["balance"]), chain, "{r}");
    }
    assert_eq!(chain, start - paid);
    let newest: Vec<&Value> = fin.iter().take(purchases.len()).collect();
    assert!(newest.iter().all(|r| r["type"] == "消费"));
    let spent: Decimal = newest.iter().map(|r| -dec(&r["amount"])).sum();
    assert_eq!(spent, paid);
    let all_spending = e.ok("info.getspending", &[]).await;
    let charges: Decimal = fin
        .iter()
        .filter(|r| r["type"] == "消费")
        .map(|r| -dec(&r["amount"]))
        .sum();
    assert_eq!(dec(&all_spending["total"]), charges);
}
