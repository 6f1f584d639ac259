//! Virtual hosting, mail, mini-programs, MSSQL, auctions and ICP filing codes.

use super::*;

#[tokio::test]
async fn hosting_purchase_domains_subsites_files_backups() {
    let e = env().await;
    let cfg = e.ok("host.getconfig", &[]).await;
    assert_eq!(cfg["models"][1], "L2");
    let models = e.ok("host.getmodels", &[]).await;
    assert_eq!(items(&models).len(), 3);
    let price = dec(&e
        .ok("host.getprice", &[("model", "L1"), ("year", "2")])
        .await["price"]);
    assert_eq!(price, Decimal::new(19800, 2));
    assert_eq!(
        e.ok("host.checkftp", &[("ftpname", "demosite")]).await["avail"],
        0
    );
    assert_eq!(
        e.ok("host.checkftp", &[("ftpname", "newsite1")]).await["avail"],
        1
    );
    assert!(e
        .err(
            "host.buy",
            &[
                ("model", "L1"),
                ("ftpname", "demosite"),
                ("password", "Host2025pass")
            ]
        )
        .await
        .to_string()
        .contains("20113"));
    let bal = e.balance().await;
    let b = e
        .ok(
            "host.buy",
            &[
                ("model", "L1"),
                ("ftpname", "newsite1"),
                ("password", "Host2025pass"),
                ("year", "2"),
            ],
        )
        .await;
    assert_eq!(e.balance().await, bal - price);
    let id = id_of(&b, "id");
    assert_eq!(e.ok("host.detail", &[("id", &id)]).await["model"], "L1");
    assert_eq!(items(&e.ok("host.detail", &[]).await).len(), 2);
    assert_eq!(
        e.ok("host.synchost", &[("id", &id)]).await["ftpname"],
        "newsite1"
    );
    assert_eq!(
        e.ok("host.gettraffic", &[("id", &id)]).await["limit"],
        10000
    );
    // Domains and sub-sites
    assert!(e
        .err("host.gensitemap", &[("id", &id)])
        .await
        .to_string()
        .contains("20113"));
    e.ok(
        "host.bindomain",
        &[("id", &id), ("domain", "www.newsite.com")],
    )
    .await;
    e.ok(
        "host.bindomain",
        &[("id", &id), ("domain", "blog.newsite.com")],
    )
    .await;
    assert!(e
        .err(
            "host.bindomain",
            &[("id", &id), ("domain", "www.idcgate-demo.com")]
        )
        .await
        .to_string()
        .contains("20113"));
    assert_eq!(
        items(&e.ok("host.getbindomains", &[("id", &id)]).await).len(),
        2
    );
    assert_eq!(
        id_of(
            &e.ok("host.findbydomain", &[("domain", "blog.newsite.com")])
                .await,
            "id"
        ),
        id
    );
    assert!(e
        .err(
            "host.createsubsite",
            &[("id", &id), ("domain", "x.other.com"), ("path", "/x")]
        )
        .await
        .to_string()
        .contains("20113"));
    let sid = id_of(
        &e.ok(
            "host.createsubsite",
            &[
                ("id", &id),
                ("domain", "blog.newsite.com"),
                ("path", "/blog"),
            ],
        )
        .await,
        "subsiteid",
    );
    e.ok(
        "host.setsubsite",
        &[("id", &id), ("subsiteid", &sid), ("path", "/weblog")],
    )
    .await;
    assert_eq!(
        e.ok("host.getsubsitedetail", &[("id", &id), ("subsiteid", &sid)])
            .await["path"],
        "/weblog"
    );
    assert_eq!(
        items(&e.ok("host.getsubsitelist", &[("id", &id)]).await).len(),
        1
    );
    let files = e
        .ok("host.getfilelist", &[("id", &id), ("path", "/wwwroot")])
        .await;
    assert!(items(&files).iter().any(|f| f["name"] == "weblog"));
    e.ok("host.deletesubsite", &[("id", &id), ("subsiteid", &sid)])
        .await;
    assert!(items(&e.ok("host.getsubsitelist", &[("id", &id)]).await).is_empty());
    e.ok(
        "host.unbindomain",
        &[("id", &id), ("domain", "blog.newsite.com")],
    )
    .await;
    assert!(items(
        &e.ok("host.findbydomain", &[("domain", "blog.newsite.com")])
            .await
    )
    .is_empty());
    assert_eq!(
        e.ok("host.gensitemap", &[("id", &id)]).await["url"],
        "http://www.newsite.com/sitemap.xml"
    );
    // Default documents drive the file list.
    e.ok(
        "host.setdefaultdoc",
        &[("id", &id), ("doc", "home.html,index.php")],
    )
    .await;
    assert_eq!(
        e.ok("host.getdefaultdoc", &[("id", &id)]).await["doc"],
        "home.html,index.php"
    );
    let files = e
        .ok("host.getfilelist", &[("id", &id), ("path", "/wwwroot")])
        .await;
    assert_eq!(items(&files)[0]["name"], "home.html");
    // Backup / restore
    assert!(e
        .err("host.restore", &[("id", &id)])
        .await
        .to_string()
        .contains("20113"));
    let bk = id_of(&e.ok("host.backup", &[("id", &id)]).await, "backupid");
    assert_eq!(
        items(
            &e.ok("host.getfilelist", &[("id", &id), ("path", "/backup")])
                .await
        )
        .len(),
        1
    );
    assert_eq!(
        id_of(&e.ok("host.restore", &[("id", &id)]).await, "backupid"),
        bk
    );
    // Passwords, CC, firewall
    e.ok(
        "host.modifypwd",
        &[("id", &id), ("password", "Other2025pass")],
    )
    .await;
    assert_eq!(
        e.ok("host.getpwd", &[("id", &id)]).await["password"],
        "Other2025pass"
    );
    assert_eq!(e.ok("host.getcc", &[("id", &id)]).await["enable"], 1);
    assert!(e
        .err(
            "host.setfirewall",
            &[("id", &id), ("rules", r#"[{"ip":"bad","policy":"deny"}]"#)]
        )
        .await
        .to_string()
        .contains("rules"));
    let fw = e
        .ok(
            "host.setfirewall",
            &[
                ("id", &id),
                ("rules", r#"[{"ip":"203.0.113.9","policy":"deny"}]"#),
            ],
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
    assert_eq!(
        e.ok("mail.checkdomain", &[("domain", "idcgate-demo.com")])
            .await["avail"],
        0
    );
    assert_eq!(
        e.ok("mail.checkdomain", &[("domain", "mybrand.net")]).await["avail"],
        1
    );
    assert_eq!(
        e.ok("mail.checkpwd", &[("password", "weak")]).await["valid"],
        0
    );
    assert_eq!(
        e.ok("mail.checkpwd", &[("password", "Strong2025x")]).await["valid"],
        1
    );
    let p = dec(&e
        .ok("mail.getprice", &[("type", "M5"), ("year", "1")])
        .await["price"]);
    let bal = e.balance().await;
    let b = e
        .ok(
            "mail.buy",
            &[
                ("domain", "mybrand.net"),
                ("type", "M5"),
                ("password", "Strong2025x"),
            ],
        )
        .await;
    assert_eq!(e.balance().await, bal - p);
    let id = id_of(&b, "id");
    assert_eq!(e.ok("mail.detail", &[("id", &id)]).await["maxmailbox"], 5);
    let rp = dec(&e
        .ok("mail.getrenewprice", &[("id", &id), ("year", "2")])
        .await["price"]);
    let r = e.ok("mail.renew", &[("id", &id), ("year", "2")]).await;
    assert_eq!(dec(&r["amount"]), rp);
    assert!(e
        .err("mail.getupgradeprice", &[("id", &id), ("type", "M5")])
        .await
        .to_string()
        .contains("type"));
    let up = dec(&e
        .ok("mail.getupgradeprice", &[("id", &id), ("type", "M20")])
        .await["price"]);
    let bal = e.balance().await;
    e.ok("mail.upgrade", &[("id", &id), ("type", "M20")]).await;
    assert_eq!(e.balance().await, bal - up);
    assert_eq!(e.ok("mail.sync", &[("id", &id)]).await["type"], "M20");
    e.ok("mail.setstatus", &[("id", &id), ("status", "pause")])
        .await;
    assert!(e
        .err("mail.setstatus", &[("id", &id), ("status", "pause")])
        .await
        .to_string()
        .contains("20113"));
    assert_eq!(
        e.ok("mail.detail", &[("id", &id)]).await["status"],
        "paused"
    );
    e.ok("mail.setstatus", &[("id", &id), ("status", "resume")])
        .await;
    // Passwords are never read back: only the refusal of a weak one is observable.
    assert_eq!(
        e.code("mail.modifypwd", &[("id", &id), ("password", "12345678")])
            .await,
        "invalid password: errcode 20000: password: 密码需8-32位且包含字母和数字"
    );
    e.ok(
        "mail.modifypwd",
        &[("id", &id), ("password", "Newer2025xx")],
    )
    .await;
    assert!(e.ok("mail.getfilingcode", &[("id", &id)]).await["code"]
        .as_str()
        .unwrap()
        .starts_with("WM"));
    assert!(e
        .err("mail.clearpostmaster", &[("id", &id)])
        .await
        .to_string()
        .contains("20113"));
    let m = e.conn.mail().unwrap();
    let domains = m.list_mail_domains().await.unwrap();
    assert_eq!(domains.len(), 2);
    let demo = domains
        .iter()
        .find(|d| d.domain == "idcgate-demo.com")
        .unwrap();
    e.ok("mail.clearpostmaster", &[("id", &demo.upstream_id)])
        .await;
    assert_eq!(
        e.ok("mail.detail", &[("id", &demo.upstream_id)]).await["postmasterlocked"],
        0
    );
    let boxes = m.list_mailboxes("idcgate-demo.com").await.unwrap();
    assert_eq!(boxes.len(), 3);
    assert!(boxes
        .iter()
        .any(|b| b.address == "info@idcgate-demo.com" && b.enabled));
}

#[tokio::test]
async fn miniapps() {
    let e = env().await;
    assert!(items(&e.ok("miniapp.syncall", &[]).await).is_empty());
    let p = dec(&e.ok("miniapp.getprice", &[("type", "basic")]).await["price"]);
    assert_eq!(p, Decimal::new(30000, 2));
    let t = e
        .ok(
            "miniapp.buy",
            &[
                ("type", "basic"),
                ("domain", "shop.mybrand.net"),
                ("trial", "1"),
            ],
        )
        .await;
    assert_eq!(dec(&t["amount"]), Decimal::ZERO);
    let id = id_of(&t, "id");
    assert!(e
        .err("miniapp.renew", &[("id", &id)])
        .await
        .to_string()
        .contains("20113"));
    let bal = e.balance().await;
    e.ok("miniapp.convert", &[("id", &id)]).await;
    assert_eq!(e.balance().await, bal - p);
    assert_eq!(e.ok("miniapp.sync", &[("id", &id)]).await["trial"], 0);
    let r = e.ok("miniapp.renew", &[("id", &id), ("year", "1")]).await;
    assert_eq!(dec(&r["amount"]), p);
    e.ok("miniapp.upgrade", &[("id", &id), ("type", "pro")])
        .await;
    assert_eq!(items(&e.ok("miniapp.syncall", &[]).await)[0]["type"], "pro");
    assert!(e.ok("miniapp.getmanageurl", &[("id", &id)]).await["url"]
        .as_str()
        .unwrap()
        .contains(&id));
}

#[tokio::test]
async fn mssql_databases() {
    let e = env().await;
    let cfg = e.ok("mssql.getconfig", &[]).await;
    assert!(cfg["sizes"].as_array().unwrap().contains(&Value::from(200)));
    assert_eq!(
        e.ok("mssql.checkname", &[("name", "demodb")]).await["avail"],
        0
    );
    assert_eq!(
        e.ok("mssql.checkname", &[("name", "shopdb")]).await["avail"],
        1
    );
    let p = dec(&e
        .ok(
            "mssql.getprice",
            &[("version", "2019"), ("size", "200"), ("year", "1")],
        )
        .await["price"]);
    assert_eq!(p, Decimal::new(12000, 2));
    let t = e
        .ok(
            "mssql.buy",
            &[
                ("name", "shopdb"),
                ("version", "2019"),
                ("size", "200"),
                ("password", "Sql2025pass"),
                ("trial", "1"),
            ],
        )
        .await;
    let id = id_of(&t, "id");
    assert!(e
        .err("mssql.renew", &[("id", &id)])
        .await
        .to_string()
        .contains("20113"));
    let bal = e.balance().await;
    e.ok("mssql.convert", &[("id", &id)]).await;
    assert_eq!(e.balance().await, bal - p);
    e.ok("mssql.renew", &[("id", &id), ("year", "1")]).await;
    assert_eq!(e.balance().await, bal - p - p);
    let up = dec(&e
        .ok("mssql.getupgradeprice", &[("id", &id), ("size", "500")])
        .await["price"]);
    e.ok("mssql.upgrade", &[("id", &id), ("size", "500")]).await;
    assert_eq!(e.balance().await, bal - p - p - up);
    assert_eq!(e.ok("mssql.detail", &[("id", &id)]).await["size"], 500);
    // Passwords are never read back: only the refusal of a weak one is observable.
    assert_eq!(
        e.code("mssql.modifypwd", &[("id", &id), ("password", "12345678")])
            .await,
        "invalid password: errcode 20000: password: 密码需8-32位且包含字母和数字"
    );
    e.ok(
        "mssql.modifypwd",
        &[("id", &id), ("password", "Newsql2025x")],
    )
    .await;
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
    assert_eq!(
        e.ok("domain.checkdomain", &[("domain", "miaomiao.cn")])
            .await["avail"],
        0
    );
    let bal = e.balance().await;
    e.ok("auction.buydomain", &[("domain", "miaomiao.cn")])
        .await;
    assert_eq!(e.balance().await, bal - price);
    assert!(e
        .err("auction.buydomain", &[("domain", "miaomiao.cn")])
        .await
        .to_string()
        .contains("20113"));
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
    assert!(e
        .err("filing.view", &[("id", "1")])
        .await
        .to_string()
        .contains("20102"));
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
            &[
                ("serverroom", "3"),
                ("os", "centos7.9"),
                ("cpu", "1"),
                ("memory", "1"),
                ("disk", "40"),
                ("bandwidth", "1"),
                ("password", "Ledger2025x"),
            ],
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
