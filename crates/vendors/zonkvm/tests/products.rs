//! Dedicated servers, colocation, hosting and databases, client -> simulator.

mod common;

use common::*;
use idcgate_core::capability::{Databases, WebHosting};
use idcgate_core::Error;

const LEASE_LINE: &str = "1661580261164386";
const LEASE_PRODUCT: &str = "1721941250649658";
const IDC_LINE: &str = "20250409132657673520";
const IDC_PRODUCT: &str = "20250409132727581219";
const HOST_A: &str = "20250408030033590712";
const HOST_B: &str = "20250408030033590713";
const SQL_A: &str = "20250407053315151712";
const SQL_B: &str = "20250407053315151713";

#[tokio::test]
async fn dedicated_and_colocation_lifecycles() {
    let (sim, _srv, conn) = sandbox().await;
    assert_eq!(conn.list("lease_harddisk", &[]).await.unwrap().len(), 2);
    assert_eq!(
        conn.list("lease_lines", &[]).await.unwrap()[0]["guid"],
        LEASE_LINE
    );
    let before = sim.balance_fen();
    // 550.00 + 2 extra IPs at 100.00; 12 months at discount1 0.95.
    let v = conn
        .call_kv(
            "create_order#create_lease",
            &[
                ("line_guid", LEASE_LINE),
                ("product_guid", LEASE_PRODUCT),
                ("system_guid", CENTOS),
                ("content", r#"{"ip_num":3,"months":12}"#),
            ],
        )
        .await
        .unwrap();
    assert_eq!(v["money"], "8550.00");
    assert_eq!(sim.balance_fen(), before - 855_000);
    let id = v["ids"][0].as_i64().unwrap();
    let m = get(&conn, "getlease", id).await;
    assert_eq!(
        (m["ipnum"].as_i64(), m["cpu_value"].as_i64()),
        (Some(3), Some(24))
    );
    assert_eq!(
        serde_json::from_str::<Vec<serde_json::Value>>(m["ip"].as_str().unwrap())
            .unwrap()
            .len(),
        3
    );
    op(&conn, "lease_stop", id, &[]).await;
    assert_eq!(get(&conn, "getlease", id).await["run_status"], -1);
    op(&conn, "lease_start", id, &[]).await;
    assert_eq!(get(&conn, "getlease", id).await["run_status"], 1);
    op(&conn, "lease_restart", id, &[]).await;
    assert_eq!(get(&conn, "getlease", id).await["run_status"], 1);
    // Starting a running machine is refused.
    assert!(conn
        .call_kv("lease_start", &[("guid", &id.to_string())])
        .await
        .is_err());
    op(
        &conn,
        "lease_install",
        id,
        &[
            ("systemID", WIN),
            ("password", "L-pass-1"),
            ("port", "3389"),
        ],
    )
    .await;
    let m = get(&conn, "getlease", id).await;
    assert_eq!(
        (m["system_port"].as_str(), m["login_password"].as_str()),
        (Some("3389"), Some("L-pass-1"))
    );
    op(&conn, "lease_setpsw", id, &[("password", "L-pass-2")]).await;
    assert_eq!(
        get(&conn, "getlease", id).await["login_password"],
        "L-pass-2"
    );
    let bal = sim.balance_fen();
    let up = op(
        &conn,
        "lease_upgrade",
        id,
        &[("bandwidthAdd", "20"), ("ipnumAdd", "1")],
    )
    .await;
    let m = get(&conn, "getlease", id).await;
    assert_eq!(
        (m["bandwidth"].as_i64(), m["ipnum"].as_i64()),
        (Some(50), Some(4))
    );
    // The answer's money is what left the balance, and it was more than nothing.
    let charged = fen(&up["money"]);
    assert!(charged > 0);
    assert_eq!(sim.balance_fen(), bal - charged);
    assert_eq!(sim.ledger().last().unwrap().kind, "upgrade");
    let end0 = m["end_time"].as_str().unwrap().to_string();
    let bal = sim.balance_fen();
    let renewed = op(&conn, "lease_renew", id, &[("months", "1")]).await;
    assert_eq!(
        get(&conn, "getlease", id).await["end_time"],
        months_after(&end0, 1).as_str()
    );
    assert_eq!(sim.balance_fen(), bal - fen(&renewed["money"]));
    assert!(op(&conn, "lease_getvncurl", id, &[]).await["url"].is_string());
    assert_eq!(
        op(
            &conn,
            "get_lease_chart",
            id,
            &[
                ("start_time", "1779674400000"),
                ("end_time", "1779678000000")
            ]
        )
        .await["unit"],
        "bps"
    );
    assert_eq!(
        conn.call_kv("lease_orders", &[]).await.unwrap()["servers"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let bal = sim.balance_fen();
    let refund = op(&conn, "lease_refund", id, &[]).await;
    assert_eq!(get(&conn, "getlease", id).await["order_status"], -2);
    // Bought moments ago: most of what was paid comes back.
    assert!(fen(&refund["money"]) > 855_000 / 2);
    assert_eq!(sim.balance_fen(), bal + fen(&refund["money"]));

    // Colocation: 800.00 + power 1A/220V 100.00 = 900.00.
    let v = conn
        .call_kv(
            "create_order#create_idc",
            &[
                ("line_guid", IDC_LINE),
                ("product_guid", IDC_PRODUCT),
                ("content", r#"{"power":"1A/220V","ipnum":1}"#),
            ],
        )
        .await
        .unwrap();
    assert_eq!(v["money"], "900.00");
    let id = v["ids"][0].as_i64().unwrap();
    assert_eq!(get(&conn, "getidc", id).await["power"], "1A/220V");
    let state = |v: serde_json::Value| {
        (
            v["run_status"].as_i64(),
            v["login_password"].as_str().map(str::to_string),
            v["defense"].as_i64(),
        )
    };
    let end0 = get(&conn, "getidc", id).await["end_time"]
        .as_str()
        .unwrap()
        .to_string();
    for (action, extra, run, password, defense) in [
        ("idc_stop", vec![], -1, None, 5),
        ("idc_start", vec![], 1, None, 5),
        ("idc_restart", vec![], 1, None, 5),
        (
            "idc_setpsw",
            vec![("password", "I-pass-1")],
            1,
            Some("I-pass-1"),
            5,
        ),
        (
            "idc_upgrade",
            vec![("defenseAdd", "100")],
            1,
            Some("I-pass-1"),
            105,
        ),
        (
            "idc_install",
            vec![("systemID", CENTOS), ("password", "I-pass-2")],
            1,
            Some("I-pass-2"),
            105,
        ),
    ] {
        op(&conn, action, id, &extra).await;
        let (r, p, d) = state(get(&conn, "getidc", id).await);
        assert_eq!((r, d), (Some(run), Some(defense)), "{action}");
        if let Some(password) = password {
            assert_eq!(p.as_deref(), Some(password), "{action}");
        }
    }
    op(&conn, "idc_renew", id, &[("months", "2")]).await;
    assert_eq!(
        get(&conn, "getidc", id).await["end_time"],
        months_after(&end0, 2).as_str()
    );
    assert!(op(&conn, "idc_getvncurl", id, &[]).await["url"].is_string());
    assert_eq!(
        op(
            &conn,
            "get_idc_chart",
            id,
            &[
                ("start_time", "1779674400000"),
                ("end_time", "1779678000000")
            ]
        )
        .await["in"]
            .as_array()
            .unwrap()
            .len(),
        12
    );
    assert_eq!(conn.list("idc_product", &[]).await.unwrap().len(), 1);
    assert_eq!(conn.list("idc_lines", &[]).await.unwrap().len(), 1);
    assert_eq!(conn.call_kv("idc_orders", &[]).await.unwrap()["pages"], 1);
    op(&conn, "idc_refund", id, &[]).await;
    assert_eq!(get(&conn, "getidc", id).await["order_status"], -2);
    let err = conn
        .call_kv(
            "create_order#create_idc",
            &[
                ("line_guid", IDC_LINE),
                ("product_guid", IDC_PRODUCT),
                ("content", r#"{"power":"9A"}"#),
            ],
        )
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Upstream { ref message, .. } if message.contains("电力")));
}

#[tokio::test]
async fn hosting_orders_and_operations() {
    let (sim, _srv, conn) = sandbox().await;
    assert_eq!(
        conn.list("hosting_lines", &[]).await.unwrap()[0]["guid"],
        HOST_LINE
    );
    assert_eq!(conn.list("hosting_product", &[]).await.unwrap().len(), 2);
    let php = conn
        .list("get_php_version", &[("line_guid", HOST_LINE)])
        .await
        .unwrap();
    assert_eq!(
        php[3],
        serde_json::json!({"name": "PHP 81", "version": "81"})
    );
    let before = sim.balance_fen();
    // 80.00 x 12 at 85% = 816.00.
    let v = conn
        .call_kv(
            "create_order#create_hosting",
            &[
                ("line_guid", HOST_LINE),
                ("product_guid", HOST_A),
                ("prefix", "blog"),
                ("pwd", "Ftp-1"),
                (
                    "content",
                    r#"{"program":"php","program_version":"php74","months":12}"#,
                ),
            ],
        )
        .await
        .unwrap();
    assert_eq!(v["money"], "816.00");
    assert_eq!(sim.balance_fen(), before - 81_600);
    let id = v["ids"][0].as_i64().unwrap();
    let h = get(&conn, "gethosting", id).await;
    assert_eq!(
        (h["ftp_password"].as_str(), h["program_version"].as_str()),
        (Some("Ftp-1"), Some("php74"))
    );
    let hop = |o: &str| format!("hosting_operate#{o}");
    op(&conn, &hop("hosting_stop"), id, &[]).await;
    assert_eq!(get(&conn, "gethosting", id).await["run_status"], -1);
    op(&conn, &hop("hosting_start"), id, &[]).await;
    assert_eq!(get(&conn, "gethosting", id).await["run_status"], 1);
    op(&conn, &hop("hosting_edit_name"), id, &[("name", "my blog")]).await;
    op(
        &conn,
        &hop("hosting_edit_pwd"),
        id,
        &[("ftp_password", "Ftp-2")],
    )
    .await;
    op(
        &conn,
        &hop("hosting_set_php_version"),
        id,
        &[("version", "php82")],
    )
    .await;
    let h = get(&conn, "gethosting", id).await;
    assert_eq!(
        (
            h["name"].as_str(),
            h["ftp_password"].as_str(),
            h["program_version"].as_str()
        ),
        (Some("my blog"), Some("Ftp-2"), Some("php82"))
    );
    op(
        &conn,
        &hop("hosting_add_domain"),
        id,
        &[("domainText", "example.com\nwww.example.com:8080")],
    )
    .await;
    op(
        &conn,
        &hop("hosting_del_domain"),
        id,
        &[("name", "example.com"), ("port", "80")],
    )
    .await;
    let d = conn
        .list(&hop("hosting_domain_list"), &[("guid", &id.to_string())])
        .await
        .unwrap();
    assert_eq!(
        d.iter()
            .map(|x| x["name"].as_str().unwrap())
            .collect::<Vec<_>>()[1..],
        ["www.example.com"]
    );
    op(&conn, &hop("hosting_to_backup"), id, &[]).await;
    assert_eq!(
        conn.list(&hop("hosting_backup_list"), &[("guid", &id.to_string())])
            .await
            .unwrap()
            .len(),
        1
    );
    op(
        &conn,
        &hop("hosting_web_set_index"),
        id,
        &[("indexText", "default.html,index.php")],
    )
    .await;
    assert_eq!(
        op(&conn, &hop("hosting_web_get_index"), id, &[]).await["index"],
        "default.html,index.php"
    );
    op(
        &conn,
        &hop("hosting_set_run_path"),
        id,
        &[("runPath", "/public")],
    )
    .await;
    let up = op(
        &conn,
        &hop("hosting_upgrade"),
        id,
        &[("flow", "50"), ("new_product_guid", HOST_B)],
    )
    .await;
    assert_eq!(
        (up["flow"].as_i64(), up["disk"].as_i64()),
        (Some(50), Some(500))
    );
    let end = get(&conn, "gethosting", id).await["end_time"]
        .as_str()
        .unwrap()
        .to_string();
    let year: i32 = end[..4].parse().unwrap();
    let new_end = format!("{}{}", year + 1, &end[4..]);
    op(
        &conn,
        &hop("hosting_renew"),
        id,
        &[("newEndTimeStr", &new_end)],
    )
    .await;
    assert_eq!(
        get(&conn, "gethosting", id).await["end_time"],
        new_end.as_str()
    );
    op(&conn, &hop("hosting_resume_after_renew"), id, &[]).await;
    let db = op(
        &conn,
        &hop("hosting_add_database"),
        id,
        &[("db_password", "Db-9")],
    )
    .await["id"]
        .as_i64()
        .unwrap();
    assert_eq!(get(&conn, "getsql", db).await["hosting_id"], id);
    let sites = conn.list_sites().await.unwrap();
    assert!(sites
        .iter()
        .any(|s| s.upstream_id == id.to_string()
            && s.domains.contains(&"www.example.com".to_string())));
    let bal = sim.balance_fen();
    let refund = op(&conn, &hop("hosting_refund"), id, &[]).await;
    assert!(fen(&refund["money"]) > 81_600);
    assert_eq!(sim.balance_fen(), bal + fen(&refund["money"]));
    assert_eq!(get(&conn, "gethosting", id).await["order_status"], -2);
}

#[tokio::test]
async fn database_orders_and_operations() {
    let (sim, _srv, conn) = sandbox().await;
    let before = sim.balance_fen();
    let v = conn
        .call_kv(
            "create_order#create_database",
            &[
                ("line_guid", HOST_LINE),
                ("product_guid", SQL_A),
                ("prefix", "app"),
                ("pwd", "Sql-1"),
                ("content", r#"{"db":"1000","code":"utf8mb4"}"#),
            ],
        )
        .await
        .unwrap();
    assert_eq!(sim.balance_fen(), before - 2_800);
    let id = v["ids"][0].as_i64().unwrap();
    let sop = |o: &str| format!("sql_operate#{o}");
    op(&conn, &sop("sql_edit_name"), id, &[("name", "orders db")]).await;
    op(
        &conn,
        &sop("sql_set_access"),
        id,
        &[("dataAccess", "ip"), ("access", "1.2.3.4\n5.6.7.8")],
    )
    .await;
    assert_eq!(
        op(&conn, &sop("sql_get_access"), id, &[]).await["msg"],
        "1.2.3.4,5.6.7.8"
    );
    op(
        &conn,
        &sop("sql_reset_password"),
        id,
        &[("password", "Sql-2")],
    )
    .await;
    let d = get(&conn, "getsql", id).await;
    assert_eq!(
        (d["name"].as_str(), d["db_password"].as_str()),
        (Some("orders db"), Some("Sql-2"))
    );
    // Re-created from the creation parameters: the first password and local-only
    // access are back; the local name (never sent to the node) stays.
    op(&conn, &sop("sql_reissue"), id, &[]).await;
    let d = get(&conn, "getsql", id).await;
    assert_eq!(
        (d["name"].as_str(), d["db_password"].as_str()),
        (Some("orders db"), Some("Sql-1"))
    );
    assert_eq!(
        op(&conn, &sop("sql_get_access"), id, &[]).await["msg"],
        "127.0.0.1"
    );
    for _ in 0..3 {
        assert_eq!(
            op(&conn, &sop("sql_to_backup"), id, &[]).await["msg"],
            "备份中"
        );
    }
    let err = conn
        .call_kv(&sop("sql_to_backup"), &[("guid", &id.to_string())])
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Upstream { ref message, .. } if message.contains("最多保留3个")));
    assert_eq!(
        op(&conn, &sop("sql_get_backup_size"), id, &[]).await["msg"],
        "50%"
    );
    assert_eq!(
        op(&conn, &sop("sql_get_backup_size"), id, &[]).await["msg"],
        "100%"
    );
    let list = conn
        .list(&sop("sql_backup_list"), &[("guid", &id.to_string())])
        .await
        .unwrap();
    let file = format!("/www/backup/database/{}", list[0]["name"].as_str().unwrap());
    op(&conn, &sop("sql_input_backup"), id, &[("file", &file)]).await;
    assert_eq!(
        op(&conn, &sop("sql_get_import_size"), id, &[]).await["msg"],
        "50%"
    );
    op(
        &conn,
        &sop("sql_del_backup"),
        id,
        &[("bak_guid", list[0]["id"].as_str().unwrap())],
    )
    .await;
    assert_eq!(
        conn.list(&sop("sql_backup_list"), &[("guid", &id.to_string())])
            .await
            .unwrap()
            .len(),
        2
    );
    assert_eq!(
        op(
            &conn,
            &sop("sql_upgrade"),
            id,
            &[("new_product_guid", SQL_B)]
        )
        .await["db_size"],
        2000
    );
    let end = get(&conn, "getsql", id).await["end_time"]
        .as_str()
        .unwrap()
        .to_string();
    let month: i32 = end[5..7].parse().unwrap();
    let new_end = if month <= 9 {
        format!("{}0{}{}", &end[..5], month + 2, &end[7..])
    } else {
        format!("{}{}", end[..4].parse::<i32>().unwrap() + 1, &end[4..])
    };
    op(&conn, &sop("sql_renew"), id, &[("newEndTimeStr", &new_end)]).await;
    assert_eq!(get(&conn, "getsql", id).await["end_time"], new_end.as_str());
    assert!(conn
        .list_databases()
        .await
        .unwrap()
        .iter()
        .any(|d| d.upstream_id == id.to_string() && d.size_mb == Some(2000)));
    assert_eq!(conn.list_all("sql_orders").await.unwrap().len(), 2);
    assert_eq!(conn.list("sql_product", &[]).await.unwrap().len(), 2);
    let bal = sim.balance_fen();
    let refund = op(&conn, &sop("sql_refund"), id, &[]).await;
    assert_eq!(get(&conn, "getsql", id).await["order_status"], -2);
    assert!(fen(&refund["money"]) > 0);
    assert_eq!(sim.balance_fen(), bal + fen(&refund["money"]));
    // Refunded is deleted: a second refund is refused and pays nothing.
    assert!(conn
        .call_kv(&sop("sql_refund"), &[("guid", &id.to_string())])
        .await
        .is_err());
    assert_eq!(sim.balance_fen(), bal + fen(&refund["money"]));
}

/// `"12.34"` as fen.
fn fen(v: &serde_json::Value) -> i64 {
    let d: rust_decimal::Decimal = v.as_str().unwrap().parse().unwrap();
    i64::try_from(d * rust_decimal::Decimal::ONE_HUNDRED).unwrap()
}

/// A `Y-m-d H:i:s` time `n` calendar months later (how terms extend).
fn months_after(t: &str, n: i64) -> String {
    let dt = jiff::civil::DateTime::strptime("%Y-%m-%d %H:%M:%S", t).unwrap();
    dt.checked_add(jiff::Span::new().months(n))
        .unwrap()
        .strftime("%Y-%m-%d %H:%M:%S")
        .to_string()
}
