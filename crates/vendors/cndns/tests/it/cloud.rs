//! 橙云 cloud hosts: purchase against the balance, build, the power state machine,
//! snapshots, reinstall and renewal, each asserted through a following read.

use super::*;

/// The sandbox's sample host, bought by the month.
fn config() -> Vec<(&'static str, &'static str)> {
    [idcgate_cndns::sim::SAMPLE_HOST_2C2G, &[("tmetpe", "2")]].concat()
}

#[tokio::test]
async fn cloud_lifecycle() {
    let e = env().await;
    let config = config();
    let cat = first(&e.ok("/cloud/cloudlist", &[]).await);
    assert_eq!(list(&cat["CPUInfo"]).len(), 4);
    // 2 CPU 60 + 2048 MB 60 + 50 GB 10 + 2 Mbps 40 = 170 a month.
    assert_eq!(e.ok("/cloud/getprice", &config).await, "170");
    // The general price list quotes 橙云 the same (lower-case hd/bd there), and a
    // configuration the cloud module refuses has no price.
    let general = [&[("type", "2")], &config[..]].concat();
    assert_eq!(e.ok("/product/getproductprice", &general).await, "170");
    let general = [&[("type", "2"), ("cpu", "3")], &config[1..]].concat();
    assert_eq!(e.ok("/product/getproductprice", &general).await, "0");
    let before = e.balance().await;
    let bought = first(&e.ok("/cloud/buycloud", &config).await);
    assert_eq!(e.balance().await, before - Decimal::new(170, 0));
    let name = bought["cloudname"].as_str().unwrap().to_string();
    let n = [("cloudname", name.as_str())];
    assert_eq!(e.ok("/cloud/getsvrstt", &n).await, "not created");
    assert_eq!(e.code("/cloud/restartcloud", &n).await, "17107");
    let build = [n[0], ("password", "Root-pass1")];
    let built = first(&e.ok("/cloud/createhost", &build).await);
    assert_eq!(built["hostpassword"], "Root-pass1");
    // The document's keys, every value a string, dates as its sample prints them.
    let keys: Vec<&str> = built
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    for k in [
        "cloudsn",
        "cloudname",
        "hostpassword",
        "regtme",
        "exptme",
        "hostip",
        "intraip",
        "platformpassword",
        "os",
        "place",
        "freedomain",
        "netmask",
        "router",
        "ICPID",
        "remoteport",
    ] {
        assert!(keys.contains(&k), "{k} missing: {built}");
        assert!(built[k].is_string(), "{k}: {built}");
    }
    assert_eq!(keys.len(), 15, "{built}");
    assert_eq!(built["cloudname"], name.as_str());
    assert!(slash_time(built["regtme"].as_str().unwrap()), "{built}");
    assert!(slash_time(built["exptme"].as_str().unwrap()), "{built}");
    assert_eq!(e.code("/cloud/createhost", &build).await, "17103");
    assert_eq!(e.ok("/cloud/getsvrstt", &n).await, "running");
    // The power state machine, with its refusals.
    for (action, code_or_state) in [
        ("/cloud/restartcloud", "running"),
        ("/cloud/shutdown", "stop"),
        ("/cloud/shutdown", "17111"),
        ("/cloud/poweroff", "17115"),
        ("/cloud/restartcloud", "17108"),
        ("/cloud/starthost", "running"),
        ("/cloud/starthost", "17113"),
        ("/cloud/poweroff", "stop"),
        ("/cloud/starthost", "running"),
    ] {
        match e.call(action, &n).await {
            Ok(_) => assert_eq!(
                e.ok("/cloud/getsvrstt", &n).await,
                code_or_state,
                "{action}"
            ),
            Err(err) => assert_eq!(code_of(&err), code_or_state, "{action}"),
        }
    }
    // Snapshots.
    e.steps(&[
        ("/cloud/rstcloud", &n, "17118"),
        ("/cloud/bkup", &n, OK),
        ("/cloud/rstcloud", &n, OK),
        ("/cloud/delbkupfile", &n, OK),
        ("/cloud/delbkupfile", &n, "17119"),
    ])
    .await;
    // Reinstall onto another system; passwords.
    let systems = list(&e.ok("/cloud/getrebuildsystem", &n).await);
    assert!(systems.iter().any(|s| s["systemval"] == "ubuntu22.04_64"));
    e.ok(
        "/cloud/rebuildcloud",
        &[
            n[0],
            ("cloudpass", "New-root-2"),
            ("cloudsystem", "ubuntu22.04_64"),
        ],
    )
    .await;
    let info = first(&e.ok("/cloud/cloudinfo", &n).await);
    assert_eq!(info["osname"], "Ubuntu 22.04 64 位");
    assert_eq!(info["ostype"], "linux");
    e.steps(&[
        (
            "/cloud/modpassword",
            &[n[0], ("cloudpassword", "Third-pass3")],
            OK,
        ),
        (
            "/cloud/modplatformpassword",
            &[n[0], ("password", "Panel-pass4")],
            OK,
        ),
    ])
    .await;
    e.reads(&[("/cloud/cloudinfo", &n, "/0/platepass", "Panel-pass4".into())])
        .await;
    e.refused_field(
        "/cloud/modpassword",
        &[n[0], ("cloudpassword", "has space")],
        "cloudpassword",
    )
    .await;
    // Renew half a year (the example's tmetpe spelling), charged 6 months.
    let exp0 = info["exptime"].as_str().unwrap().to_string();
    let quoted = e
        .ok(
            "/product/getrenewprice",
            &[("type", "2"), ("pdtname", name.as_str()), ("tmetpe", "4")],
        )
        .await;
    assert_eq!(quoted, "1020");
    e.ok("/cloud/renewalcloud", &[n[0], ("tmetpe", "4")]).await;
    let exp1 = first(&e.ok("/cloud/cloudinfo", &n).await)["exptime"]
        .as_str()
        .unwrap()
        .to_string();
    assert_ne!(exp0, exp1);
    assert_eq!(e.balance().await, before - Decimal::new(170 * 7, 0));
    e.not_found("/cloud/cloudinfo", &[("cloudname", "S000000")])
        .await;
}

#[tokio::test]
async fn cloud_config_errors_table() {
    let e = env().await;
    let config = config();
    let before = e.balance().await;
    for (k, v, code) in [
        ("cpu", "3", "17001"),
        ("ram", "100", "17002"),
        ("HD", "55", "17003"),
        ("BD", "0", "17004"),
        ("os", "dos6", "17005"),
        ("place", "9", "17006"),
        ("tmetpe", "3", "17007"),
    ] {
        let mut kv: Vec<(&str, &str)> = config.iter().filter(|(x, _)| *x != k).copied().collect();
        kv.push((k, v));
        let err = e.err("/cloud/buycloud", &kv).await;
        assert_eq!(code_of(&err), code, "{k}={v}: {err}");
        assert_field(&err, k);
    }
    assert_eq!(e.balance().await, before);
}

#[tokio::test]
async fn cloud_upgrade_ips_port_and_domains() {
    let e = env().await;
    let mut cfg = config();
    cfg.retain(|(k, _)| *k != "os");
    cfg.push(("os", "windows2008R2_64"));
    let bought = first(&e.ok("/cloud/buycloud", &cfg).await);
    let name = bought["cloudname"].as_str().unwrap().to_string();
    let n = ("cloudname", name.as_str());
    e.ok("/cloud/createhost", &[n, ("password", "Root-pass1")])
        .await;
    let room = e.ok("/cloud/getupgradelist", &[n]).await;
    assert_eq!(first(&room["CPUInfo"])["Maxval"], "6");
    let up = [
        n,
        ("CPUNum", "2"),
        ("RAMNum", "0"),
        ("HDNum", "0"),
        ("BDNum", "0"),
    ];
    // Running hosts are refused; a stopped one is upgraded and charged 60 a month.
    e.steps(&[
        ("/cloud/upgradecloud", &up, "17128"),
        ("/cloud/buyip", &[n], "17136"),
        ("/cloud/changeport", &[n], "17152"),
        ("/cloud/shutdown", &[n], OK),
    ])
    .await;
    let before = e.balance().await;
    e.ok("/cloud/upgradecloud", &up).await;
    assert_eq!(e.balance().await, before - Decimal::new(60, 0));
    let cpu = [("/cloud/cloudinfo", &[n][..], "/0/cpu", "4".into())];
    e.reads(&cpu).await;
    let too_many = [n, ("CPUNum", "9"), up[2], up[3], up[4]];
    assert_eq!(e.code("/cloud/upgradecloud", &too_many).await, "17129");
    // An increment that would wrap a u32 is refused, not wrapped under the limit.
    let b = e.balance().await;
    let huge = [n, ("CPUNum", "4294967295"), up[2], up[3], up[4]];
    e.refused_field("/cloud/upgradecloud", &huge, "CPUNum")
        .await;
    assert_eq!(e.balance().await, b);
    e.reads(&cpu).await;
    let ip = first(&e.ok("/cloud/buyip", &[n]).await);
    assert!(ip["ipaddress"].as_str().unwrap().starts_with("210.209."));
    let port = first(&e.ok("/cloud/changeport", &[n]).await)["port"]
        .as_str()
        .unwrap()
        .to_string();
    let info = first(&e.ok("/cloud/cloudinfo", &[n]).await);
    assert_eq!(info["remotepport"], port.as_str());
    assert_eq!(info["ExtIP"], ip["ipaddress"]);
    // Domains: only filed ones in a mainland room.
    let demo = [n, ("domainname", "www.idcgate-demo.com")];
    e.steps(&[
        ("/cloud/binddomain", &demo, OK),
        ("/cloud/binddomain", &demo, "17141"),
        (
            "/cloud/binddomain",
            &[n, ("domainname", "unfiled.example.org")],
            "17140",
        ),
        ("/cloud/deldomain", &demo, OK),
        ("/cloud/deldomain", &demo, "17143"),
    ])
    .await;
}

#[tokio::test]
async fn compute_capability() {
    use idcgate_core::{LifecycleState, PowerAction, PowerState, Resize, ServerKind, ServerSpec};
    let e = env().await;
    let compute = e.conn.compute().unwrap();
    let cat = compute.catalog().await.unwrap();
    assert_eq!(cat.regions.len(), 3);
    assert!(cat.images.iter().any(|i| i.id == "centos7.9_64"));
    let before = e.balance().await;
    let spec = ServerSpec {
        name: "web".into(),
        region: "1".into(),
        image: "centos7.9_64".into(),
        cpu: Some(2),
        ram_mb: Some(2048),
        disk_gb: Some(50),
        bandwidth_mbps: Some(2),
        months: Some(12),
        ..Default::default()
    };
    let s = compute.create_server(&spec).await.unwrap();
    assert_eq!(e.balance().await, before - Decimal::new(170 * 12, 0));
    assert_eq!(
        (s.kind, s.power, s.lifecycle),
        (
            ServerKind::Cloud,
            PowerState::Running,
            LifecycleState::Active
        )
    );
    assert_eq!((s.cpu, s.ram_mb, s.bandwidth_mbps), (2, 2048, 2));
    assert_eq!(s.os_image.as_deref(), Some("CentOS 7.9 64 位"));
    let id = s.upstream_id.clone();
    let err = compute
        .create_server(&ServerSpec {
            cpu: None,
            ..spec.clone()
        })
        .await
        .unwrap_err();
    assert_field(&err, "cpu");
    compute.power(&id, PowerAction::Stop).await.unwrap();
    assert_eq!(
        compute.get_server(&id).await.unwrap().power,
        PowerState::Stopped
    );
    let b = e.balance().await;
    compute
        .resize(
            &id,
            &Resize {
                cpu: Some(4),
                ram_mb: Some(4096),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let s = compute.get_server(&id).await.unwrap();
    assert_eq!((s.cpu, s.ram_mb), (4, 4096));
    // +2 CPU (60) and +2048 MB (60) a month, for the 12 months left.
    assert_eq!(e.balance().await, b - Decimal::new(120 * 12, 0));
    let err = compute
        .resize(
            &id,
            &Resize {
                cpu: Some(1),
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
    assert_field(&err, "cpu");
    compute.power(&id, PowerAction::ForceReboot).await.unwrap();
    assert_eq!(
        compute.get_server(&id).await.unwrap().power,
        PowerState::Running
    );
    compute.reinstall(&id, "ubuntu22.04_64").await.unwrap();
    compute.reset_password(&id, "Known-pass9").await.unwrap();
    assert_eq!(
        compute.get_server(&id).await.unwrap().os_image.as_deref(),
        Some("Ubuntu 22.04 64 位")
    );
    compute.create_backup(&id, "snap", true).await.unwrap();
    compute.restore_backup(&id, "snapshot").await.unwrap();
    compute.delete_backup(&id, "snapshot").await.unwrap();
    assert_eq!(
        code_of(&compute.delete_backup(&id, "snapshot").await.unwrap_err()),
        "17119"
    );
    for r in [
        compute.list_servers().await.map(|_| ()),
        compute.delete_server(&id).await,
        compute.console(&id).await.map(|_| ()),
        compute.list_backups(&id).await.map(|_| ()),
    ] {
        assert!(matches!(r, Err(Error::Unsupported { .. })), "{r:?}");
    }
    assert_not_found(&compute.get_server("S000000").await.unwrap_err());
}

/// `2012/12/20 16:27:17`: CreateHost's sample dates (unpadded month and day).
fn slash_time(s: &str) -> bool {
    let Some((date, time)) = s.split_once(' ') else {
        return false;
    };
    let d: Vec<&str> = date.split('/').collect();
    let t: Vec<&str> = time.split(':').collect();
    let digits = |x: &&str, n: std::ops::RangeInclusive<usize>| {
        n.contains(&x.len()) && x.bytes().all(|b| b.is_ascii_digit())
    };
    d.len() == 3
        && digits(&d[0], 4..=4)
        && d[1..]
            .iter()
            .all(|x| digits(x, 1..=2) && !x.starts_with('0'))
        && t.len() == 3
        // The hour unpadded (`2013/8/9 9:06:46` in the document's hosting samples).
        && digits(&t[0], 1..=2)
        && (t[0] == "0" || !t[0].starts_with('0'))
        && t[1..].iter().all(|x| digits(x, 2..=2))
}
