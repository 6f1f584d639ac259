//! Cloud servers: config, purchase, lifecycle, money, migration, networking, protection.

use super::*;
use idcgate_core::{PowerAction, PowerState, Resize, ServerSpec};
use std::time::Duration;

async fn first_server(e: &Env) -> String {
    let l = e.ok("server.list", &[]).await;
    id_of(&items(&l)[0], "id")
}

async fn buy(e: &Env, room: &str, os: &str) -> Value {
    e.ok(
        "server.buy",
        &server_order(
            room,
            os,
            ["2", "4", "50", "5"],
            "Passw0rd2025",
            &[("month", "3"), ("name", "测试机")],
        ),
    )
    .await
}

#[tokio::test]
async fn config_os_per_room_and_purchase() {
    let e = env().await;
    let cfg = e.ok("server.getconfig", &[]).await;
    assert_eq!(cfg["serverrooms"].as_array().unwrap().len(), 15);
    let bj = e.ok("server.getos", &[("serverroom", "3")]).await;
    let hk10 = e.ok("server.getos", &[("serverroom", "15")]).await;
    assert!(items(&bj).iter().any(|o| o["os"] == "win2019"));
    assert!(!items(&hk10).iter().any(|o| o["os"] == "win2019"));
    e.fails_saying("server.getos", &[("serverroom", "5")], "serverroom")
        .await;
    let prices = e.ok("server.getconfigprice", &[("serverroom", "4")]).await;
    assert_eq!(
        dec(&items(&prices)[0]["cpu"]),
        Decimal::new(3750, 2),
        "Hong Kong costs 1.5x"
    );
    let quote = e
        .price(
            "server.getprice",
            &[
                ("serverroom", "3"),
                ("cpu", "2"),
                ("memory", "4"),
                ("disk", "50"),
                ("bandwidth", "5"),
                ("month", "3"),
            ],
        )
        .await;
    assert_eq!(quote, Decimal::new(3 * (50 + 60 + 25 + 60) * 100, 2));
    e.fails_saying(
        "server.buy",
        &server_order("15", "win2019", ["2", "4", "50", "5"], "Passw0rd2025", &[]),
        "os",
    )
    .await;
    let before = e.balance().await;
    let b = buy(&e, "3", "debian12").await;
    assert_eq!(dec(&b["amount"]), quote);
    assert_eq!(e.balance().await, before - quote);
    let id = id_of(&b, "id");
    let i = [("id", id.as_str())];
    let d = e.ok("server.detail", &i).await;
    assert_eq!(
        (d["name"].as_str(), d["os"].as_str(), d["status"].as_str()),
        (Some("测试机"), Some("debian12"), Some("running"))
    );
    assert_eq!(e.ok("server.getip", &i).await["ip"], b["ip"]);
    e.reads(&[("server.getinitpwd", &i, "/password", "Passw0rd2025".into())])
        .await;
    assert_eq!(
        items(&e.ok("server.list", &[("serverroom", "3")]).await).len(),
        2
    );
    let fin = e.ok("info.getfinance", &[]).await;
    assert_eq!(items(&fin)[0]["orderid"], b["orderid"]);
}

#[tokio::test]
async fn lifecycle_password_reinstall_and_logs() {
    let e = env().await;
    let id = first_server(&e).await;
    let i = [("id", id.as_str())];
    e.steps(&[
        ("server.setstatus", &[i[0], ("status", "start")], "20113"),
        ("server.setstatus", &[i[0], ("status", "stop")], OK),
    ])
    .await;
    e.reads(&[("server.getstatus", &i, "/status", "stopped".into())])
        .await;
    let perf = e.ok("server.perfdata", &i).await;
    assert!(
        items(&perf).iter().all(|p| p["cpu"] == 0),
        "a stopped server uses no CPU"
    );
    e.steps(&[
        ("server.setstatus", &[i[0], ("status", "restart")], "20113"),
        ("server.setstatus", &[i[0], ("status", "start")], OK),
        ("server.setstatus", &[i[0], ("status", "restart")], OK),
    ])
    .await;
    e.reads(&[("server.getstatus", &i, "/status", "running".into())])
        .await;
    assert_eq!(items(&e.ok("server.perfdata", &i).await).len(), 12);
    e.refused_field(
        "server.modifypwd",
        &[i[0], ("password", "short")],
        "password",
    )
    .await;
    e.ok("server.modifypwd", &[i[0], ("password", "Changed2025x")])
        .await;
    // The password is never read back; the operation log shows the one change.
    let log = items(&e.ok("server.oplog", &i).await);
    assert_eq!(log[0]["content"], "修改密码");
    assert_eq!(log.iter().filter(|l| l["content"] == "修改密码").count(), 1);
    e.ok("server.denylogin", &[i[0], ("deny", "1")]).await;
    e.reads(&[("server.detail", &i, "/denylogin", 1.into())])
        .await;
    e.ok(
        "server.reinstall",
        &[i[0], ("os", "rocky9.2"), ("password", "Reinst2025x")],
    )
    .await;
    e.reads(&[
        ("server.detail", &i, "/os", "rocky9.2".into()),
        ("server.getinitpwd", &i, "/password", "Reinst2025x".into()),
    ])
    .await;
    let log = e.ok("server.oplog", &i).await;
    assert!(items(&log)[0]["content"]
        .as_str()
        .unwrap()
        .contains("rocky9.2"));
    assert!(log["total"].as_u64().unwrap() >= 6);
    let code = e.ok("server.getfilingcode", &i).await;
    assert_eq!(
        code["code"],
        e.ok("server.getfilingcode", &i).await["code"],
        "stable"
    );
    let con = e.ok("server.getconsole", &i).await;
    assert!(con["url"].as_str().unwrap().contains(&id));
}

#[tokio::test]
async fn renew_upgrade_vcpu_ips_and_trial_conversion() {
    let e = env().await;
    e.sim
        .set_balance(idcgate_core::Money(Decimal::new(5_000_000, 2)));
    let id = first_server(&e).await;
    let i = [("id", id.as_str())];
    let exp = e.ok("server.detail", &i).await["expiredate"]
        .as_str()
        .unwrap()
        .to_string();
    let p = e
        .price("server.getrenewprice", &[i[0], ("year", "1")])
        .await;
    let bal = e.balance().await;
    let r = e.ok("server.renew", &[i[0], ("year", "1")]).await;
    assert_eq!(e.balance().await, bal - p);
    assert_eq!(
        &r["expiredate"].as_str().unwrap()[..4],
        &(exp[..4].parse::<i32>().unwrap() + 1).to_string()
    );
    let cfg = e.ok("server.getserverconfig", &i).await;
    assert_eq!(cfg["cpu"], 2);
    e.fails_saying("server.getupgradeprice", &[i[0], ("disk", "10")], "disk")
        .await;
    let up = e
        .price(
            "server.getupgradeprice",
            &[i[0], ("cpu", "4"), ("memory", "8")],
        )
        .await;
    assert!(up > Decimal::ZERO);
    let bal = e.balance().await;
    e.ok("server.upgrade", &[i[0], ("cpu", "4"), ("memory", "8")])
        .await;
    assert_eq!(e.balance().await, bal - up);
    e.reads(&[("server.getserverconfig", &i, "/memory", 8.into())])
        .await;
    let vp = e.ok("server.getvcpuprice", &i).await;
    assert_eq!(vp["target"], "dedicated");
    let bal = e.balance().await;
    e.ok("server.switchvcpu", &i).await;
    assert_eq!(e.balance().await, bal - dec(&vp["price"]));
    e.reads(&[("server.getserverconfig", &i, "/vcpu", "dedicated".into())])
        .await;
    // Extra IPs up to the limit, each charged.
    let ipp = e.price("server.extraipprice", &i).await;
    for n in 0..4 {
        assert_eq!(e.ok("server.checkextraip", &i).await["count"], n);
        let bal = e.balance().await;
        e.ok("server.addextraip", &i).await;
        assert_eq!(e.balance().await, bal - ipp);
    }
    e.reads(&[("server.checkextraip", &i, "/canadd", 0.into())])
        .await;
    e.fails_saying("server.addextraip", &i, "20113").await;
    assert_eq!(
        e.ok("server.getip", &i).await["extraips"]
            .as_array()
            .unwrap()
            .len(),
        4
    );
    assert!(e.ok("server.getipv6", &i).await["ipv6"][0]
        .as_str()
        .unwrap()
        .starts_with("240e:"));
    // Trial: free, one at a time, convert charges.
    let order = server_order("6", "debian12", TINY, "Trial2025xx", &[("trial", "1")]);
    let t = e.ok("server.buy", &order).await;
    assert_eq!(dec(&t["amount"]), Decimal::ZERO);
    let tid = id_of(&t, "id");
    e.steps(&[
        ("server.renew", &[("id", &tid)], "20113"),
        ("server.getconvertprice", &i, "20113"),
    ])
    .await;
    let cp = e
        .price("server.getconvertprice", &[("id", &tid), ("month", "1")])
        .await;
    let bal = e.balance().await;
    e.ok("server.convert", &[("id", &tid), ("month", "1")])
        .await;
    assert_eq!(e.balance().await, bal - cp);
    e.reads(&[("server.detail", &[("id", &tid)], "/trial", 0.into())])
        .await;
}

#[tokio::test]
async fn migration_advances_with_the_clock() {
    let e = env().await;
    let id = first_server(&e).await;
    let i = [("id", id.as_str())];
    let st = e.ok("server.getmigratestatus", &i).await;
    assert_eq!(st["canmigrate"], 1);
    let price = e
        .price("server.getmigrateprice", &[i[0], ("target", "8")])
        .await;
    let old_ip = e.ok("server.getip", &i).await["ip"].clone();
    let bal = e.balance().await;
    e.ok("server.migrate", &[i[0], ("target", "8")]).await;
    assert_eq!(e.balance().await, bal - price);
    e.reads(&[("server.getstatus", &i, "/status", "migrating".into())])
        .await;
    e.fails_saying("server.migrate", &[i[0], ("target", "7")], "20113")
        .await;
    e.sim.advance(Duration::from_secs(5 * 60));
    let p = e.ok("server.getmigrateprogress", &i).await;
    assert!((45..=55).contains(&p["progress"].as_i64().unwrap()), "{p}");
    let ips = e.ok("server.getmigrateip", &i).await;
    assert_eq!(ips["oldip"], old_ip);
    // Client tokens carry real time: 11 simulated minutes later they are stale, as
    // they would be against a live server whose clock ran ahead.
    e.sim.advance(Duration::from_secs(6 * 60));
    let err = e.err("server.getmigrateprogress", &i).await;
    assert!(matches!(err, Error::Authentication { .. }), "{err}");
}

#[tokio::test]
async fn migration_completes_and_changes_room_and_ip() {
    let e = env().await;
    let id = first_server(&e).await;
    let i = [("id", id.as_str())];
    e.ok("server.migrate", &[i[0], ("target", "8")]).await;
    let newip = e.ok("server.getmigrateip", &i).await["newip"].clone();
    // Keep each jump under the token lifetime: 9 + 2 minutes, re-signing in between.
    e.sim.advance(Duration::from_secs(9 * 60));
    assert!(
        e.ok("server.getmigrateprogress", &i).await["progress"]
            .as_i64()
            .unwrap()
            >= 89
    );
    e.sim.advance(Duration::from_secs(2 * 60));
    // Re-sign against the simulator's clock with raw requests. The listing, asked first,
    // already shows the finished migration (it completes on the clock, not on a read).
    let mut pairs = e.auth();
    pairs.push(("limit".into(), "1000".into()));
    let v = e
        .raw_json("/api/v2/server/?act=list", gbk_form(&pairs))
        .await;
    let listed = items(&v["data"])
        .into_iter()
        .find(|s| id_of(s, "id") == id)
        .unwrap();
    assert_eq!(
        (&listed["serverroom"], &listed["ip"], &listed["status"]),
        (&Value::from(8), &newip, &Value::from("running"))
    );
    let mut pairs = e.auth();
    pairs.push(("id".into(), id.clone()));
    let v = e
        .raw_json("/api/v2/server/?act=getmigrateprogress", gbk_form(&pairs))
        .await;
    assert_eq!(v["data"]["progress"], 100);
    assert_eq!(v["data"]["status"], "done");
    let mut pairs = e.auth();
    pairs.push(("id".into(), id.clone()));
    let v = e
        .raw_json("/api/v2/server/?act=detail", gbk_form(&pairs))
        .await;
    assert_eq!(
        (v["data"]["serverroom"].as_i64(), &v["data"]["ip"]),
        (Some(8), &newip)
    );
}

#[tokio::test]
async fn security_groups_switches_shield_and_cc() {
    let e = env().await;
    let id = first_server(&e).await;
    let i = [("id", id.as_str())];
    let g = id_of(
        &e.ok("server.addsecgroup", &[("name", "web"), ("remark", "网站")])
            .await,
        "groupid",
    );
    e.fails_saying("server.addsecgroup", &[("name", "web")], "20113")
        .await;
    let r = e
        .ok(
            "server.addsecgrouprule",
            &[
                ("groupid", &g),
                ("direction", "in"),
                ("protocol", "tcp"),
                ("port", "8000-8080"),
                ("source", "10.0.0.0/8"),
            ],
        )
        .await;
    assert_eq!(
        e.code(
            "server.addsecgrouprule",
            &[
                ("groupid", &g),
                ("direction", "in"),
                ("protocol", "tcp"),
                ("port", "8000-8080"),
                ("source", "10.0.0.0/8")
            ]
        )
        .await,
        "20118"
    );
    e.fails_saying(
        "server.addsecgrouprule",
        &[
            ("groupid", &g),
            ("direction", "in"),
            ("protocol", "tcp"),
            ("port", "70000"),
        ],
        "port",
    )
    .await;
    let rules = e.ok("server.getsecgrouprules", &[("groupid", &g)]).await;
    assert_eq!(
        (items(&rules).len(), items(&rules)[0]["port"].as_str()),
        (1, Some("8000-8080"))
    );
    e.steps(&[
        ("server.deploysecgroup", &[i[0], ("groupid", &g)], OK),
        ("server.delsecgroup", &[("groupid", &g)], "20113"),
    ])
    .await;
    let list = e.ok("server.secgrouplist", &[]).await;
    assert_eq!(
        items(&list)
            .iter()
            .find(|x| id_of(x, "groupid") == g)
            .unwrap()["servers"],
        1
    );
    e.ok(
        "server.delsecgrouprule",
        &[("groupid", &g), ("ruleid", &id_of(&r, "ruleid"))],
    )
    .await;
    e.lists_nothing("server.getsecgrouprules", &[("groupid", &g)])
        .await;
    let default = items(&list)
        .iter()
        .find(|x| x["name"] == "default")
        .map(|x| id_of(x, "groupid"))
        .unwrap();
    e.ok("server.deploysecgroup", &[i[0], ("groupid", &default)])
        .await;
    e.ok("server.delsecgroup", &[("groupid", &g)]).await;
    // Virtual switches: same room only.
    let room = e.ok("server.detail", &i).await["serverroom"].to_string();
    let l = id_of(
        &e.ok(
            "server.createlswitch",
            &[("name", "内网"), ("serverroom", &room)],
        )
        .await,
        "lswid",
    );
    let far = id_of(
        &e.ok(
            "server.createlswitch",
            &[("name", "far"), ("serverroom", "19")],
        )
        .await,
        "lswid",
    );
    e.fails_saying("server.connectlswitch", &[i[0], ("lswid", &far)], "20113")
        .await;
    let c = e.ok("server.connectlswitch", &[i[0], ("lswid", &l)]).await;
    assert!(c["privateip"].as_str().unwrap().starts_with("10."));
    assert_eq!(
        e.ok("server.getlswinfo", &[("lswid", &l)]).await["servers"][0].to_string(),
        id
    );
    assert_eq!(items(&e.ok("server.lswlist", &[]).await).len(), 2);
    e.steps(&[
        ("server.disconnectlswitch", &i, OK),
        ("server.disconnectlswitch", &i, "20113"),
    ])
    .await;
    // Cloud shield
    e.reads(&[("server.cloudshieldstatus", &i, "/status", 0.into())])
        .await;
    e.ok("server.setcloudshield", &[i[0], ("status", "1")])
        .await;
    e.reads(&[("server.cloudshieldstatus", &i, "/status", 1.into())])
        .await;
    assert_eq!(
        items(&e.ok("server.cloudshieldlog", &i).await)[0]["content"],
        "开启云盾"
    );
    // CC protection and blacklist
    let cc = e.ok("server.getccconfig", &i).await;
    assert_eq!(cc["level"], 1);
    let up = e.ok("server.getccupgrade", &i).await;
    let lvl2 = items(&up).into_iter().find(|x| x["level"] == 2).unwrap();
    let bal = e.balance().await;
    e.ok("server.upgradecc", &[i[0], ("level", "2")]).await;
    assert_eq!(e.balance().await, bal - dec(&lvl2["price"]));
    e.reads(&[("server.getccconfig", &i, "/qps", 5000.into())])
        .await;
    e.ok("server.setcc", &[i[0], ("qps", "3000"), ("mode", "strict")])
        .await;
    e.fails_saying("server.setcc", &[i[0], ("qps", "9999")], "qps")
        .await;
    let cc = e.ok("server.getccconfig", &i).await;
    assert_eq!(
        (cc["qps"].as_i64(), cc["mode"].as_str()),
        (Some(3000), Some("strict"))
    );
    let log = e.ok("server.cclog", &i).await;
    let ip = items(&log)[0]["ip"].as_str().unwrap().to_string();
    e.reads(&[
        (
            "server.checkblacklist",
            &[i[0], ("ip", &ip)],
            "/blacklisted",
            1.into(),
        ),
        ("server.getccstatus", &i, "/blacklist", 1.into()),
    ])
    .await;
    e.ok("server.removeblacklist", &[i[0], ("ip", &ip)]).await;
    e.reads(&[(
        "server.checkblacklist",
        &[i[0], ("ip", &ip)],
        "/blacklisted",
        0.into(),
    )])
    .await;
    e.fails_saying("server.removeblacklist", &[i[0], ("ip", &ip)], "20113")
        .await;
}

#[tokio::test]
async fn compute_capability() {
    let e = env().await;
    let c = e.conn.compute().unwrap();
    let cat = c.catalog().await.unwrap();
    assert_eq!(cat.regions.len(), 15);
    assert!(cat
        .images
        .iter()
        .any(|i| i.region.as_deref() == Some("4") && i.id == "win2022"));
    assert!(cat.plans.iter().all(|p| p.monthly_price.is_some()));
    assert_eq!(c.list_servers().await.unwrap().len(), 2);
    let before = e.balance().await;
    let s = c
        .create_server(&ServerSpec {
            name: "cap".into(),
            region: "3".into(),
            image: "ubuntu22.04".into(),
            plan: Some("c1m2".into()),
            months: Some(1),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!((s.cpu, s.ram_mb, s.power), (1, 2048, PowerState::Running));
    assert!(e.balance().await < before);
    c.power(&s.upstream_id, PowerAction::Stop).await.unwrap();
    assert_eq!(
        c.get_server(&s.upstream_id).await.unwrap().power,
        PowerState::Stopped
    );
    c.power(&s.upstream_id, PowerAction::Start).await.unwrap();
    c.reinstall(&s.upstream_id, "debian12").await.unwrap();
    c.reset_password(&s.upstream_id, "Mine2025pass")
        .await
        .unwrap();
    c.resize(
        &s.upstream_id,
        &Resize {
            cpu: Some(2),
            ram_mb: Some(4096),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let s2 = c.get_server(&s.upstream_id).await.unwrap();
    assert_eq!(
        (s2.cpu, s2.ram_mb, s2.os_image.as_deref()),
        (2, 4096, Some("debian12"))
    );
    assert!(c
        .console(&s.upstream_id)
        .await
        .unwrap()
        .url
        .starts_with("https://"));
    assert!(matches!(
        c.get_server("424242").await,
        Err(Error::NotFound { .. })
    ));
    assert!(matches!(
        c.delete_server(&s.upstream_id).await,
        Err(Error::Unsupported { .. })
    ));
    assert!(matches!(
        c.list_backups(&s.upstream_id).await,
        Err(Error::Unsupported { .. })
    ));
    assert_eq!(c.list_servers().await.unwrap().len(), 3);
}
