//! Public queries and cloud servers, client -> simulator over a socket. Every write is
//! checked by reading state (or the ledger) back.

#![allow(clippy::unwrap_used)] // a test may fail loudly

mod common;

use common::*;
use idcgate_core::capability::Compute;
use idcgate_core::{Error, LifecycleState, PowerAction, PowerState, Resize, ServerSpec};

#[tokio::test]
async fn public_queries_and_line_catalogs() {
    let (_sim, _srv, conn) = sandbox().await;
    let zones = conn.list("getzones", &[]).await.unwrap();
    assert_eq!(zones.len(), 3);
    assert_eq!(zones[1]["status"], 0, "disabled zones are listed too");
    let systems = conn.list("getsystems", &[]).await.unwrap();
    assert!(systems
        .iter()
        .any(|s| s["guid"] == CENTOS && s["login_name"] == "root"));
    let lines = conn.list("getlines", &[]).await.unwrap();
    assert_eq!(lines.len(), 2, "the line without open_api is hidden");
    assert!(lines.iter().all(|l| l.get("_open_api").is_none()));
    let packages = conn.list("getproduct", &[]).await.unwrap();
    assert_eq!(packages[0]["price"], "29.00");
}

#[tokio::test]
async fn buying_charges_the_price_once_and_lists_the_server() {
    let (sim, _srv, conn) = sandbox().await;
    let before = in_fen(sim.balance());
    // 1C1G package 29.00 + 60 GB extra disk at 0.50 = 59.00/month; 12 months at 0.9.
    let server = [
        ("order_id", "c-1"),
        ("line_guid", LINE_DY),
        ("system_guid", CENTOS),
        ("content.cpu", "1"),
        ("content.ram", "1"),
        ("content.harddisksValues", "40,60"),
        ("content.months", "12"),
        ("content.loginPassword", "Init-Pass-1"),
    ];
    let action = "create_order#create_server";
    let (id, s) = placed(&sim, &conn, action, &server, 63_720, "getserver").await;
    assert_eq!(
        (s["cpu"].as_i64(), s["memory"].as_i64()),
        (Some(1), Some(1))
    );
    assert_eq!(s["harddisks"], "40,60");
    assert_eq!(s["loginPassword"], "Init-Pass-1");
    assert_eq!(
        (s["orderStatus"].as_i64(), s["runStatus"].as_i64()),
        (Some(1), Some(1))
    );
    let page = conn.call_kv("getservers", &[("page", "1")]).await.unwrap();
    assert_eq!(page["pages"], 1);
    assert!(page["servers"]
        .as_array()
        .unwrap()
        .iter()
        .any(|x| x["id"] == id));
    // The same client order id again: the first answer, no second charge.
    let again = server_order(&[("order_id", "c-1")], SMALLEST);
    let again = conn
        .call_kv("create_order#create_server", &again)
        .await
        .unwrap();
    assert_eq!(again["ids"][0], id);
    assert_eq!(in_fen(sim.balance()), before - 63_720);
}

#[tokio::test]
async fn power_install_passwords_and_console() {
    let (sim, _srv, conn) = sandbox().await;
    let id = buy_server(&conn, "p-1", r#"{"cpu":2,"ram":4}"#).await;
    let run = |v: serde_json::Value| v["runStatus"].as_i64();
    op(&conn, "server_stop", id, &[]).await;
    assert_eq!(run(get(&conn, "getserver", id).await), Some(-1));
    let err = conn
        .call_kv("server_stop", &[("guid", &id.to_string())])
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::Upstream { ref message, .. } if message.contains("关机")),
        "{err:?}"
    );
    let err = conn
        .call_kv("server_restart", &[("guid", &id.to_string())])
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::Upstream { .. }),
        "a stopped server cannot restart"
    );
    op(&conn, "server_start", id, &[]).await;
    op(&conn, "server_restart", id, &[]).await;
    assert_eq!(run(get(&conn, "getserver", id).await), Some(1));

    op(
        &conn,
        "server_install",
        id,
        &[("systemID", WIN), ("password", "Win-Pass-9")],
    )
    .await;
    let s = get(&conn, "getserver", id).await;
    assert_eq!(
        (s["system_guid"].as_str(), s["loginName"].as_str()),
        (Some(WIN), Some("administrator"))
    );
    assert_eq!(s["loginPassword"], "Win-Pass-9");
    op(&conn, "server_setpsw", id, &[("password", "Other-Pass-2")]).await;
    assert_eq!(
        get(&conn, "getserver", id).await["loginPassword"],
        "Other-Pass-2"
    );
    let env = op(&conn, "server_setvnc", id, &[("password", "vnc123")]).await;
    assert_eq!(env["msg"], "操作成功", "no data: the envelope comes back");
    assert_eq!(sim.vnc_password(id).as_deref(), Some("vnc123"));
    let url = op(&conn, "server_getvncurl", id, &[]).await;
    assert!(url["url"]
        .as_str()
        .unwrap()
        .contains(&format!("/server/{id}?token=")));
}

#[tokio::test]
async fn upgrade_charges_the_difference_and_refuses_downgrades() {
    let (sim, _srv, conn) = sandbox().await;
    let id = buy_server(&conn, "u-1", SMALLEST).await;
    let before = in_fen(sim.balance());
    let id_s = id.to_string();
    let v = conn
        .call_kv(
            "server_upgrade",
            &[
                ("guid", &id_s),
                ("cpu", "2"),
                ("memory", "4"),
                ("bandwidth", "10"),
            ],
        )
        .await
        .unwrap();
    let s = get(&conn, "getserver", id).await;
    assert_eq!(
        (
            s["cpu"].as_i64(),
            s["memory"].as_i64(),
            s["bandwidth"].as_i64()
        ),
        (Some(2), Some(4), Some(10))
    );
    let charged: rust_decimal::Decimal = v["money"].as_str().unwrap().parse().unwrap();
    assert!(charged > rust_decimal::Decimal::ZERO);
    assert_eq!(
        in_fen(sim.balance()),
        before - idcgate_core::Money(charged).to_fen().unwrap()
    );
    let err = conn
        .call_kv("server_upgrade", &[("guid", &id_s), ("cpu", "1")])
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::Upstream { ref message, .. } if message.contains("不能低于")),
        "{err:?}"
    );
}

#[tokio::test]
async fn renew_extends_and_replays_a_client_order_id() {
    let (sim, _srv, conn) = sandbox().await;
    let id = buy_server(&conn, "r-1", SMALLEST).await;
    let end0 = get(&conn, "getserver", id).await["endTime"]
        .as_str()
        .unwrap()
        .to_string();
    let before = in_fen(sim.balance());
    let p = [
        ("guid", id.to_string()),
        ("renewLength", "2".into()),
        ("client_order_id", "renew-9".into()),
    ];
    let p: Vec<(&str, &str)> = p.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let v = conn.call_kv("server_renew", &p).await.unwrap();
    assert_eq!(v["money"], "58.00");
    let end1 = get(&conn, "getserver", id).await["endTime"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(end1 > end0, "{end0} -> {end1}");
    conn.call_kv("server_renew", &p).await.unwrap();
    assert_eq!(
        get(&conn, "getserver", id).await["endTime"]
            .as_str()
            .unwrap(),
        end1
    );
    assert_eq!(in_fen(sim.balance()), before - 5_800, "charged once");
}

#[tokio::test]
async fn expiry_then_renewal_reopens_the_order() {
    let (sim, _srv, conn) = sandbox().await;
    let id = buy_server(&conn, "e-1", SMALLEST).await;
    sim.advance(std::time::Duration::from_secs(40 * 24 * 3600));
    let s = get(&conn, "getserver", id).await;
    assert_eq!(
        (s["orderStatus"].as_i64(), s["runStatus"].as_i64()),
        (Some(3), Some(-1))
    );
    let err = conn
        .call_kv("server_start", &[("guid", &id.to_string())])
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Upstream { ref message, .. } if message.contains("过期")));
    op(&conn, "server_renew", id, &[("renewLength", "1")]).await;
    assert_eq!(get(&conn, "getserver", id).await["orderStatus"], 1);
    op(&conn, "server_start", id, &[]).await;
}

#[tokio::test]
async fn charts_and_security_policies() {
    let (_sim, _srv, conn) = sandbox().await;
    let id = buy_server(&conn, "g-1", r#"{"cpu":1,"ram":1,"bandwidth":10}"#).await;
    let start = 1_779_674_400_000i64; // 2026-05-25 10:00 China time
    let c = op(
        &conn,
        "get_server_chart",
        id,
        &[
            ("start_time", &start.to_string()),
            ("end_time", &(start + 3_600_000).to_string()),
        ],
    )
    .await;
    assert_eq!(c["date"].as_array().unwrap().len(), 12);
    assert_eq!(c["in"].as_array().unwrap().len(), 12);
    assert_eq!(
        (c["start_time"].as_str(), c["unit"].as_str()),
        (Some("2026-05-25 10:00"), Some("bps"))
    );

    let add = op(
        &conn,
        "server_add_hardpolicy",
        id,
        &[
            ("name", "web"),
            ("weight", "10"),
            ("direction", "Inbound"),
            ("operation", "allow"),
            ("protocol", "tcp"),
            ("remote_ip", "0.0.0.0/0"),
            ("local_port", "80"),
        ],
    )
    .await;
    let pg = add["guid"].as_str().unwrap().to_string();
    let list = conn
        .list("get_security_policy", &[("guid", &id.to_string())])
        .await
        .unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(
        (list[0]["action"].as_str(), list[0]["product_id"].as_i64()),
        (Some("allow"), Some(id))
    );
    let err = conn
        .call_kv(
            "server_add_hardpolicy",
            &[
                ("guid", &id.to_string()),
                ("direction", "Sideways"),
                ("operation", "allow"),
                ("protocol", "tcp"),
                ("remote_ip", "1.1.1.1"),
                ("local_port", "22"),
            ],
        )
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidInput { ref field, .. } if field == "direction"));
    op(&conn, "server_del_hardpolicy", id, &[("policy_guid", &pg)]).await;
    assert!(conn
        .list("get_security_policy", &[("guid", &id.to_string())])
        .await
        .unwrap()
        .is_empty());
}

#[tokio::test]
async fn refund_returns_the_unused_value_and_deletes() {
    let (sim, _srv, conn) = sandbox().await;
    let id = buy_server(&conn, "f-1", SMALLEST).await;
    let before = in_fen(sim.balance());
    let v = op(&conn, "server_refund", id, &[]).await;
    let back = idcgate_core::Money(v["money"].as_str().unwrap().parse().unwrap())
        .to_fen()
        .unwrap();
    assert!((2800..=2900).contains(&back), "{back}");
    assert_eq!(in_fen(sim.balance()), before + back);
    assert_eq!(get(&conn, "getserver", id).await["orderStatus"], -2);
    let err = conn
        .call_kv("server_refund", &[("guid", &id.to_string())])
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Upstream { .. }));
    // After the no-reason window a refund is refused, as the document's message says.
    let late = buy_server(&conn, "f-2", r#"{"cpu":1,"ram":1,"months":3}"#).await;
    sim.advance(std::time::Duration::from_secs(8 * 24 * 3600));
    let err = conn
        .call_kv("server_refund", &[("guid", &late.to_string())])
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::Upstream { ref message, .. } if message == "产品超出可退款时间"),
        "{err:?}"
    );
}

#[tokio::test]
async fn compute_capability_end_to_end() {
    let (sim, _srv, conn) = sandbox().await;
    let cat = conn.catalog().await.unwrap();
    assert_eq!(cat.regions.len(), 2, "disabled zones are not regions");
    assert!(cat.images.iter().any(|i| i.id == UBUNTU));
    let plan = cat
        .plans
        .iter()
        .find(|p| p.name == "德阳电信-2核4G")
        .unwrap();
    assert_eq!((plan.cpu, plan.ram_mb), (2, 4096));
    assert!(cat.plans.iter().any(|p| p.id.starts_with("lease:")));

    let before = in_fen(sim.balance());
    let server = conn
        .create_server(&ServerSpec {
            name: "web1".into(),
            region: "1696639073705350".into(),
            image: CENTOS.into(),
            plan: Some("德阳电信-2核4G".into()),
            client_order_id: Some("cap-1".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(in_fen(sim.balance()), before - 7_900);
    assert_eq!(
        (server.cpu, server.ram_mb, server.power),
        (2, 4096, PowerState::Running)
    );
    let id = server.upstream_id.clone();
    assert!(id.starts_with("server_"));
    conn.power(&id, PowerAction::Stop).await.unwrap();
    assert_eq!(
        conn.get_server(&id).await.unwrap().power,
        PowerState::Stopped
    );
    conn.power(&id, PowerAction::Start).await.unwrap();
    conn.reinstall(&id, WIN).await.unwrap();
    assert_eq!(
        conn.get_server(&id).await.unwrap().os_image.as_deref(),
        Some(WIN)
    );
    conn.reset_password(&id, "Cap-Pass-7").await.unwrap();
    conn.resize(
        &id,
        &Resize {
            cpu: Some(4),
            ram_mb: Some(8192),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let s = conn.get_server(&id).await.unwrap();
    assert_eq!((s.cpu, s.ram_mb), (4, 8192));
    assert!(conn.console(&id).await.unwrap().url.starts_with("https://"));
    assert!(matches!(
        conn.list_backups(&id).await,
        Err(Error::Unsupported { .. })
    ));
    let all = conn.list_servers().await.unwrap();
    assert_eq!(
        all.len(),
        5,
        "2 seeded cloud + 1 new + 1 dedicated + 1 colocation"
    );
    conn.delete_server(&id).await.unwrap();
    assert_eq!(
        conn.get_server(&id).await.unwrap().lifecycle,
        LifecycleState::Deleted
    );
}

#[tokio::test]
async fn bulk_seed_pages_by_100() {
    let (sim, _srv, conn) = sandbox().await;
    sim.seed_bulk_servers(250);
    assert_eq!(sim.server_count(), 252);
    let p = conn.call_kv("getservers", &[("page", "3")]).await.unwrap();
    assert_eq!(
        (p["pages"].as_i64(), p["servers"].as_array().unwrap().len()),
        (Some(3), 52)
    );
    assert_eq!(conn.list_all("getservers").await.unwrap().len(), 252);
}

#[tokio::test]
async fn console_password_and_firewall_rules_through_the_capability() {
    use idcgate_core::{Direction, FirewallRuleSpec, RuleProtocol, Verdict};
    let (sim, _srv, conn) = sandbox().await;
    let (id, other) = ("server_1001", "server_1002");
    conn.set_console_password(id, "Vnc-Pass-1").await.unwrap();
    assert_eq!(sim.vnc_password(1001).as_deref(), Some("Vnc-Pass-1"));
    // Refused before anything is sent: the upstream keeps the password it had.
    for bad in ["short", "has space", "密码密码密码"] {
        let e = conn.set_console_password(id, bad).await.unwrap_err();
        assert!(matches!(e, Error::InvalidInput { ref field, .. } if field == "password"));
    }
    assert_eq!(sim.vnc_password(1001).as_deref(), Some("Vnc-Pass-1"));

    let rule = |name: &str, priority: u32, port: &str| FirewallRuleSpec {
        name: name.into(),
        priority,
        direction: Direction::Inbound,
        protocol: RuleProtocol::Tcp,
        verdict: Verdict::Allow,
        remote: "0.0.0.0/0".into(),
        local_port: port.into(),
    };
    assert!(conn.firewall_rules(id).await.unwrap().is_empty());
    let web = conn
        .add_firewall_rule(id, &rule("web", 20, "80,443"))
        .await
        .unwrap();
    assert_eq!(web.spec, rule("web", 20, "80,443"));
    assert!(web.created_at.is_some());
    // A name is text: quotes reach the upstream as they are and come back the same.
    let odd = FirewallRuleSpec {
        direction: Direction::Outbound,
        protocol: RuleProtocol::Udp,
        verdict: Verdict::Deny,
        remote: "10.0.0.0/8".into(),
        ..rule("o'brien\"; DROP TABLE x --", 5, "53")
    };
    let added = conn.add_firewall_rule(id, &odd).await.unwrap();
    assert_eq!(added.spec, odd);
    let listed = conn.firewall_rules(id).await.unwrap();
    assert_eq!(
        listed.iter().map(|r| r.id.clone()).collect::<Vec<_>>(),
        vec![added.id.clone(), web.id.clone()],
        "first applied first"
    );
    assert_eq!(listed[1], web);

    // Refused before anything is sent.
    for bad in [
        rule("x", 0, "22"),
        rule("x", 10, "0-22"),
        FirewallRuleSpec {
            remote: "1' OR '1'='1".into(),
            ..rule("x", 10, "22")
        },
    ] {
        let e = conn.add_firewall_rule(id, &bad).await.unwrap_err();
        assert!(matches!(e, Error::InvalidInput { .. }), "{e:?}");
    }
    for bad in ["", "a b", "x' OR '1'='1"] {
        let e = conn.delete_firewall_rule(id, bad).await.unwrap_err();
        assert!(matches!(e, Error::InvalidInput { .. }), "{e:?}");
    }
    // A rule is deleted only through its own server.
    assert!(conn.delete_firewall_rule(other, &web.id).await.is_err());
    assert_eq!(conn.firewall_rules(id).await.unwrap(), listed);

    conn.delete_firewall_rule(id, &web.id).await.unwrap();
    assert_eq!(conn.firewall_rules(id).await.unwrap(), vec![added]);
    assert!(conn.delete_firewall_rule(id, &web.id).await.is_err());

    // Dedicated and colocated servers have neither in the document.
    for machine in ["lease_1", "idc_1"] {
        let unsupported = |r: Result<(), Error>| matches!(r, Err(Error::Unsupported { .. }));
        assert!(unsupported(
            conn.set_console_password(machine, "Vnc-Pass-1").await
        ));
        assert!(unsupported(conn.firewall_rules(machine).await.map(|_| ())));
        assert!(unsupported(
            conn.add_firewall_rule(machine, &rule("web", 20, "80"))
                .await
                .map(|_| ())
        ));
        assert!(unsupported(
            conn.delete_firewall_rule(machine, &web.id).await
        ));
    }
}
