//! CDN packages (domains, origins, purges, statistics, logs) and DDoS products.

use super::*;

#[tokio::test]
async fn cdn_lifecycle() {
    let e = env().await;
    let before = e.balance().await;
    // 10 G for 2 months at 0.30 per G a month.
    let package = [
        ("type", "g"),
        ("years", "2"),
        ("tmetpe", "2"),
        ("base", "10"),
    ];
    let nme = e.ok("/cdn/createcdn", &package).await;
    let nme = nme.as_str().unwrap().to_string();
    assert_eq!(e.balance().await, before - Decimal::new(6, 0));
    let n = ("nme", nme.as_str());
    let info = e.ok("/cdn/index", &[n]).await;
    assert_eq!(
        (info["_prd"].as_str(), info["_ext1"].as_str()),
        (Some("g"), Some("10"))
    );
    assert!(info["_exptme"].as_str().unwrap().starts_with("/Date("));
    let origins = |dme, mast| [n, ("dme", dme), ("mastAddress", mast)];
    let both = "192.0.2.10|192.0.2.11";
    e.ok("/cdn/adddomain", &origins("static.example.com", both))
        .await;
    let again = origins("static.example.com", "192.0.2.10");
    let err = e.err("/cdn/adddomain", &again).await;
    assert!(
        matches!(err, Error::Upstream { ref code, .. } if code.is_empty()),
        "{err}"
    );
    e.ok(
        "/cdn/adddomain",
        &origins("img.example.com", "origin.example.com"),
    )
    .await;
    e.ok(
        "/cdn/setdomainorigin",
        &[
            n,
            ("dme", "img.example.com"),
            ("mastAddress", "203.0.113.5"),
            ("host", "img.example.com"),
        ],
    )
    .await;
    let doms = list(&e.ok("/cdn/dmelist", &[n]).await);
    assert_eq!(doms.len(), 2);
    assert_eq!(
        doms.iter()
            .find(|d| d["domain"] == "img.example.com")
            .unwrap()["mastAddress"],
        "203.0.113.5"
    );
    // Purges: directories end with '/', and only the package's own domains.
    let p = e
        .ok(
            "/cdn/purge",
            &[
                n,
                (
                    "refresh_url",
                    "http://static.example.com/a/, http://img.example.com/b/",
                ),
                ("refresh_type", "1"),
            ],
        )
        .await;
    assert_eq!(list(&p["details"]).len(), 2);
    e.refused(
        "/cdn/purge",
        &[
            n,
            ("refresh_url", "http://static.example.com/a"),
            ("refresh_type", "1"),
        ],
        "目录刷新必须以/结尾",
    )
    .await;
    e.refused(
        "/cdn/purge",
        &[
            n,
            ("refresh_url", "http://other.example.org/x.png"),
            ("refresh_type", "0"),
        ],
        "不属于该产品的域名",
    )
    .await;
    // Statistics: six sub-queries on one path, stable for the same state.
    for (action, key) in [
        ("/cdn/getstattop#1", "counters"),
        ("/cdn/getstattop#2", "counters"),
        ("/cdn/getstattop#3", "uv"),
        ("/cdn/getstattop#4", "pv"),
        ("/cdn/getstattop#5", "counters"),
        ("/cdn/getstattop#6", "flow"),
    ] {
        let a = e.ok(action, &[n, ("dme", "static.example.com")]).await;
        let b = e.ok(action, &[n, ("dme", "static.example.com")]).await;
        assert_eq!(a, b, "{action}");
        assert!(!first(&a["details"])[key].is_null(), "{action}: {a}");
    }
    // On the wire the statistics are the object itself, as the document's samples: no
    // envelope around them.
    // A 14-digit otime, which the client's 17-digit ones cannot repeat (10036).
    let mut q = e.auth_at(&otime(0)[..14]);
    q.extend([
        ("nme".to_string(), nme.clone()),
        ("dme".into(), "static.example.com".into()),
        ("type".into(), "1".into()),
    ]);
    let bare = e.raw("/cdn/GetstatTop.aspx", &q).await;
    let keys: Vec<&String> = bare.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["details"], "{bare}");
    let logs = list(
        &e.ok("/cdn/getdmelog", &[n, ("dme", "static.example.com")])
            .await,
    );
    assert_eq!(logs.len(), 1);
    // Upgrade G -> T and renew, each charged.
    let b2 = e.balance().await;
    e.ok("/cdn/upgradecdn", &[n, ("type", "t"), ("base", "1")])
        .await;
    assert!(e.balance().await < b2);
    assert_eq!(e.ok("/cdn/index", &[n]).await["_prd"], "t");
    let b3 = e.balance().await;
    e.refused(
        "/cdn/upgradecdn",
        &[n, ("type", "g"), ("base", "100")],
        "只支持G升级到T",
    )
    .await;
    assert_eq!(e.balance().await, b3);
    e.ok("/cdn/renewcdn", &[n, ("years", "1"), ("tmetpe", "2")])
        .await;
    assert_eq!(e.balance().await, b3 - Decimal::new(250, 0));
    e.ok("/cdn/deldomain", &[n, ("dme", "img.example.com")])
        .await;
    assert_eq!(list(&e.ok("/cdn/dmelist", &[n]).await).len(), 1);
    e.not_found("/cdn/index", &[("nme", "cdn0")]).await;
}

#[tokio::test]
async fn ddos_products() {
    let e = env().await;
    let products = list(&e.ok("/ddos/productinfo", &[]).await);
    assert_eq!(products.len(), 3);
    let buyid = products[0]["buyid"].as_str().unwrap().to_string();
    let before = e.balance().await;
    let term = |term, termtype| {
        [
            ("buyid", buyid.as_str()),
            ("term", term),
            ("termtype", termtype),
        ]
    };
    let order = first(&e.ok("/ddos/createorder", &term("1", "2")).await);
    assert_eq!(e.balance().await, before - Decimal::new(899, 0));
    let nme = order["d_nme"].as_str().unwrap();
    let d = first(&e.ok("/ddos/orderdetails", &[("nme", nme)]).await);
    assert_eq!(d["d_regstt"], "1");
    // "只能购买 1月 1年": any other term is refused and nothing is charged.
    let b = e.balance().await;
    let err = e.err("/ddos/createorder", &term("3", "2")).await;
    assert!(matches!(err, Error::Upstream { .. }), "{err}");
    assert_eq!(e.balance().await, b);
    e.sim.set_balance(idcgate_core::Money::from_fen(100));
    let err = e.err("/ddos/createorder", &term("1", "5")).await;
    assert!(matches!(err, Error::InsufficientBalance { .. }), "{err}");
}

/// getStatFlow (read from the document's copied body, see spec.tsv): one item per day of
/// the range, the same figures each time it is asked, ranges over 90 days or of another
/// package's domain refused.
#[tokio::test]
async fn domain_flow_per_day() {
    let e = env().await;
    let nme = e
        .ok(
            "/cdn/createcdn",
            &[
                ("type", "g"),
                ("years", "1"),
                ("tmetpe", "2"),
                ("base", "10"),
            ],
        )
        .await;
    let n = ("nme", nme.as_str().unwrap());
    let dme = ("dme", "static.example.com");
    e.ok("/cdn/adddomain", &[n, dme, ("mastAddress", "192.0.2.10")])
        .await;
    let range = [
        n,
        dme,
        ("startTime", "2024-01-01"),
        ("endTime", "2024-01-03"),
    ];
    let flow = e.ok("/cdn/getstatflow", &range).await;
    let days = list(&flow["details"]);
    assert_eq!(days.len(), 3);
    assert_eq!(days[0]["timestamp"], "2024-01-01T00:00:00Z");
    let bytes = days[1]["flow"].as_u64().unwrap();
    assert!(bytes > 0);
    assert_eq!(days[1]["bps"].as_u64().unwrap(), bytes * 8 / 86_400);
    assert_eq!(e.ok("/cdn/getstatflow", &range).await, flow);
    // Today alone when no range is given.
    assert_eq!(
        list(&e.ok("/cdn/getstatflow", &[n, dme]).await["details"]).len(),
        1
    );
    let long = [
        n,
        dme,
        ("startTime", "2023-01-01"),
        ("endTime", "2024-01-01"),
    ];
    e.refused("/cdn/getstatflow", &long, "90").await;
    e.not_found("/cdn/getstatflow", &[n, ("dme", "other.example.com")])
        .await;
}
