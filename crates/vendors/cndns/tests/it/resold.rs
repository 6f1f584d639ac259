//! Resold 百度云 (bcc) and 阿里云 (ali) servers, one table for both: purchase, renewal,
//! the power state, disk backups and mounts, reinstall, password — asserted through
//! OrderDetails — and their text-only failures.

use super::*;
use serde_json::json;

/// Every action of the sibling modules this file loops over.
const NAMES: [&str; 32] = [
    "/bcc/productinfo",
    "/bcc/createorder",
    "/bcc/reneworder",
    "/bcc/orderdetails",
    "/bcc/backups",
    "/bcc/deletebackups",
    "/bcc/restorebackups",
    "/bcc/shutdown",
    "/bcc/startingup",
    "/bcc/restart",
    "/bcc/mount",
    "/bcc/uninstall",
    "/bcc/rebuildsystemlist",
    "/bcc/rebuildsystem",
    "/bcc/modifypassword",
    "/bcc/getvncurl",
    "/ali/productinfo",
    "/ali/createorder",
    "/ali/reneworder",
    "/ali/orderdetails",
    "/ali/backups",
    "/ali/deletebackups",
    "/ali/restorebackups",
    "/ali/shutdown",
    "/ali/startingup",
    "/ali/restart",
    "/ali/mount",
    "/ali/uninstall",
    "/ali/rebuildsystemlist",
    "/ali/rebuildsystem",
    "/ali/modifypassword",
    "/ali/getvncurl",
];

fn details(v: &Value) -> Value {
    first(&v["Details"])
}

/// A Baidu server for the lifecycle test: 1 CPU, 2 GB, a 20 GB disk, one month.
const BCC_BUY: [(&str, &str); 9] = [
    ("pass", "qwer1234!"),
    ("cpucount", "1"),
    ("memory", "2"),
    ("cdsstr", "std1=20"),
    ("flow", "1"),
    ("location", "1"),
    ("systemid", "m-OmBEAOmD"),
    ("term", "1"),
    ("termtype", "2"),
];

/// An Aliyun server for the lifecycle test: a t5 with a 40 GB disk, one month.
const ALI_BUY: [(&str, &str); 9] = [
    ("pass", "qwer1234!"),
    ("slcns", "ecs.t5"),
    ("slid", "ecs.t5-lc1m2.small"),
    ("cdsstr", "eff=40"),
    ("flow", "1"),
    ("location", "2"),
    ("systemid", "m-UbT1804x"),
    ("term", "1"),
    ("termtype", "2"),
];

#[tokio::test]
async fn resold_cloud_lifecycle() {
    let e = env().await;
    // (module, purchase, its monthly price: cpu 35 + ram 20/GB + flow 18 + disk 0.5/GB)
    for (m, buy, monthly) in [("bcc", &BCC_BUY[..], 103), ("ali", &ALI_BUY[..], 113)] {
        let info = e.ok(op(&NAMES, m, "productinfo"), &[]).await;
        assert_eq!(list(&info["Location"]).len(), 3, "{m}");
        let before = e.balance().await;
        let name = e.ok(op(&NAMES, m, "createorder"), buy).await;
        let name = name.as_str().unwrap().to_string();
        assert_eq!(e.balance().await, before - Decimal::new(monthly, 0), "{m}");
        // Any of the four spellings of the product name is understood.
        let d = e
            .ok(op(&NAMES, m, "orderdetails"), &[("pdtmme", name.as_str())])
            .await;
        assert_eq!(details(&d)["regstt"], "1");
        let disk = list(&d["ext"])
            .into_iter()
            .find(|x| x["exttype"] == "bd")
            .unwrap()["extid"]
            .as_str()
            .unwrap()
            .to_string();
        let p = |k: &'static str| (k, name.as_str());
        let x = ("extid", disk.as_str());
        let exp0 = details(&d)["exptme"].as_str().unwrap().to_string();
        e.ok(
            op(&NAMES, m, "reneworder"),
            &[p("pdtnme"), ("term", "2"), ("termtype", "2")],
        )
        .await;
        let d = e.ok(op(&NAMES, m, "orderdetails"), &[p("pdtnme")]).await;
        assert_ne!(details(&d)["exptme"], exp0.as_str());
        assert_eq!(
            e.balance().await,
            before - Decimal::new(monthly * 3, 0),
            "{m}"
        );
        // Power, with refusals as free text.
        let state = |d: Value| details(&d)["regstt"].as_str().unwrap().to_string();
        e.ok(op(&NAMES, m, "shutdown"), &[p("pdtname")]).await;
        let d = e.ok(op(&NAMES, m, "orderdetails"), &[p("pdtnme")]).await;
        assert_eq!(state(d), "2", "{m}");
        let err = e.err(op(&NAMES, m, "restart"), &[p("pdtname")]).await;
        assert!(
            matches!(err, Error::Upstream { ref code, .. } if code.is_empty()),
            "{err}"
        );
        e.ok(op(&NAMES, m, "startingup"), &[p("pdtname")]).await;
        e.ok(op(&NAMES, m, "restart"), &[p("pdtname")]).await;
        let d = e.ok(op(&NAMES, m, "orderdetails"), &[p("pdtnme")]).await;
        assert_eq!(details(&d)["regstt"], "1");
        // Disk backups and mounts.
        e.refused(
            op(&NAMES, m, "restorebackups"),
            &[p("pdtname"), x],
            "没有备份可还原",
        )
        .await;
        // The data disk as the panel shows it (OrderDetails answers only the
        // document's keys): (no backup, mounted).
        let read = || async { e.sim.panel(&name).unwrap()["disks"][disk.as_str()].clone() };
        let disk_state = |d: Value| {
            (
                d["backup"].as_str().unwrap().is_empty(),
                d["mounted"].clone(),
            )
        };
        e.ok(op(&NAMES, m, "backups"), &[p("pdtnme"), x]).await;
        assert_eq!(disk_state(read().await), (false, json!("1")), "{m}");
        e.ok(op(&NAMES, m, "restorebackups"), &[p("pdtmne"), x])
            .await;
        e.ok(op(&NAMES, m, "deletebackups"), &[p("pdtname"), x])
            .await;
        assert_eq!(disk_state(read().await), (true, json!("1")), "{m}");
        e.ok(op(&NAMES, m, "uninstall"), &[p("pdtname"), x]).await;
        assert_eq!(disk_state(read().await), (true, json!("0")), "{m}");
        e.refused(op(&NAMES, m, "uninstall"), &[p("pdtname"), x], "磁盘未挂载")
            .await;
        e.ok(op(&NAMES, m, "mount"), &[p("pdtmme"), x]).await;
        assert_eq!(disk_state(read().await), (true, json!("1")), "{m}");
        // Reinstall, password, console.
        let systems = list(
            &e.ok(op(&NAMES, m, "rebuildsystemlist"), &[p("pdtname")])
                .await,
        );
        assert_eq!(systems.len(), 3);
        e.ok(
            op(&NAMES, m, "rebuildsystem"),
            &[p("pdtnme"), ("systemid", "m-Win2012R")],
        )
        .await;
        e.ok(
            op(&NAMES, m, "modifypassword"),
            &[p("pdtname"), ("pass", "Zxcv5678(")],
        )
        .await;
        let d = details(&e.ok(op(&NAMES, m, "orderdetails"), &[p("pdtnme")]).await);
        assert_eq!(
            (d["systype"].as_str(), d["pss"].as_str()),
            (Some("windows"), Some("Zxcv5678("))
        );
        let url = e.ok(op(&NAMES, m, "getvncurl"), &[p("pdtnme")]).await;
        assert!(url.as_str().unwrap().starts_with("https://"));
        e.not_found(op(&NAMES, m, "orderdetails"), &[("pdtnme", "b000")])
            .await;
    }
}

/// A one-CPU Baidu server bought by the month.
const BCC_SMALL: [(&str, &str); 8] = [
    ("pass", "qwer1234!"),
    ("cpucount", "1"),
    ("memory", "1"),
    ("flow", "1"),
    ("location", "1"),
    ("systemid", "m-OmBEAOmD"),
    ("term", "1"),
    ("termtype", "2"),
];

#[tokio::test]
async fn baidu_upgrade_and_refusals() {
    let e = env().await;
    let yearly = [&BCC_SMALL[..7], &[("termtype", "5")]].concat();
    let name = e.ok("/bcc/createorder", &yearly).await;
    let name = name.as_str().unwrap().to_string();
    let before = e.balance().await;
    // +1 CPU +1 GB (35 + 20 a month) for the 12 months left.
    let server = ("pdtnme", name.as_str());
    let upgrade = [server, ("upgtype", "1"), ("upgstr", "1:1")];
    e.ok("/bcc/upgradeorder", &upgrade).await;
    let d = details(&e.ok("/bcc/orderdetails", &[server]).await);
    assert_eq!(d["nme"], "百度云BCC");
    let spent = before - e.balance().await;
    assert!(
        spent == Decimal::new(55 * 12, 0) || spent == Decimal::new(55 * 11, 0),
        "{spent}"
    );
    let err = e
        .err(
            "/bcc/upgradeorder",
            &[
                ("pdtnme", name.as_str()),
                ("upgtype", "1"),
                ("upgstr", "0:9"),
            ],
        )
        .await;
    assert!(matches!(err, Error::Upstream { .. }), "{err}");
    for (k, v) in [
        ("pass", "short1!"),
        ("cpucount", "3"),
        ("memory", "64"),
        ("flow", "500"),
        ("termtype", "7"),
        ("ticketid", "NOPE"),
    ] {
        let mut kv = BCC_SMALL.to_vec();
        kv.retain(|(x, _)| *x != k);
        kv.push((k, v));
        let err = e.err("/bcc/createorder", &kv).await;
        assert!(
            matches!(err, Error::Upstream { .. } | Error::NotFound { .. }),
            "{k}: {err}"
        );
    }
    e.sim.set_balance(idcgate_core::Money::ZERO);
    let err = e
        .err(
            "/ali/createorder",
            &[
                ("pass", "qwer1234!"),
                ("slcns", "ecs.c5"),
                ("slid", "ecs.c5.large"),
                ("flow", "1"),
                ("location", "1"),
                ("systemid", "m-OmBEAOmD"),
            ],
        )
        .await;
    assert!(matches!(err, Error::InsufficientBalance { .. }), "{err}");
}

#[tokio::test]
async fn resold_and_ddos_coupons_are_ticketid() {
    let e = env().await;
    let before = e.balance().await;
    let with = |sig: &'static str| [&BCC_SMALL[..], &[("ticketid", sig)]].concat();
    // A renewal coupon does not pay for a purchase: refused (as text), nothing charged.
    let err = e.err("/bcc/createorder", &with("9A1C0D7E22B4")).await;
    assert!(
        matches!(err, Error::Upstream { ref code, .. } if code.is_empty()),
        "{err}"
    );
    assert_eq!(e.balance().await, before);
    // The 20-yuan purchase coupon comes off the 73-yuan month and is spent once.
    e.ok("/bcc/createorder", &with("4FF245B1D2B7")).await;
    assert_eq!(e.balance().await, before - Decimal::new(73 - 20, 0));
    let used = list(&e.ok("/present/ticketlist", &[("state", "0")]).await);
    assert!(used.iter().any(|t| t["signature"] == "4FF245B1D2B7"));
    let err = e.err("/bcc/createorder", &with("4FF245B1D2B7")).await;
    assert!(matches!(err, Error::Upstream { .. }), "{err}");
    assert_eq!(e.balance().await, before - Decimal::new(53, 0));
    // DDOS takes the all-purpose 10-yuan coupon the same way.
    let products = list(&e.ok("/ddos/productinfo", &[]).await);
    let buyid = products[0]["buyid"].as_str().unwrap().to_string();
    let b = e.balance().await;
    let month = [("buyid", buyid.as_str()), ("term", "1"), ("termtype", "2")];
    let with_coupon = [&month[..], &[("ticketid", "FC86684E3578")]].concat();
    e.ok("/ddos/createorder", &with_coupon).await;
    assert_eq!(e.balance().await, b - Decimal::new(899 - 10, 0));
}

/// ProductInfo's Product list quotes each configuration at what CreateOrder charges for
/// it (one month, 1 Mbps, a 40 GB disk), and RebuildSystemList names each system by the
/// `sysValue` RebuildSystem takes.
#[tokio::test]
async fn product_list_prices_are_charged_and_rebuild_values_are_taken() {
    let e = env().await;
    for (m, disk) in [("bcc", "std1"), ("ali", "eff")] {
        let info = e.ok(op(&NAMES, m, "productinfo"), &[]).await;
        let products = list(&info["Product"]);
        assert!(products.len() >= 3, "{m}");
        let p = &products[1];
        let mut buy: Vec<(&str, String)> = vec![
            ("pass", "qwer1234!".into()),
            ("cdsstr", format!("{disk}={}", p["size"].as_str().unwrap())),
            ("flow", "1".into()),
            ("location", p["location"].as_str().unwrap().into()),
            ("systemid", "m-OmBEAOmD".into()),
            ("term", p["term"].as_str().unwrap().into()),
            ("termtype", p["termtype"].as_str().unwrap().into()),
        ];
        if m == "bcc" {
            buy.push(("cpucount", p["cpu"].as_str().unwrap().into()));
            buy.push(("memory", p["sram"].as_str().unwrap().into()));
        } else {
            buy.push(("slcns", p["slcns"].as_str().unwrap().into()));
            buy.push(("slid", p["slid"].as_str().unwrap().into()));
        }
        let kv: Vec<(&str, &str)> = buy.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let before = e.balance().await;
        let name = e.ok(op(&NAMES, m, "createorder"), &kv).await;
        assert_eq!(before - e.balance().await, dec(&p["prc"]), "{m} {p}");
        let name = name.as_str().unwrap().to_string();
        let systems = list(
            &e.ok(op(&NAMES, m, "rebuildsystemlist"), &[("pdtname", &name)])
                .await,
        );
        let windows = systems.iter().find(|s| s["sysType"] == "windows").unwrap();
        assert_eq!(windows["sysPlace"], p["location"]);
        let value = windows["sysValue"].as_str().unwrap();
        e.ok(
            op(&NAMES, m, "rebuildsystem"),
            &[("pdtnme", name.as_str()), ("systemid", value)],
        )
        .await;
        let d = e
            .ok(op(&NAMES, m, "orderdetails"), &[("pdtnme", name.as_str())])
            .await;
        assert_eq!(details(&d)["systemid"], value);
    }
}
