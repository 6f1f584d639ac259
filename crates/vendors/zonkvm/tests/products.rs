//! Dedicated servers, colocation, hosting and databases, client -> simulator.

#![allow(clippy::unwrap_used)] // a test may fail loudly

mod common;

use common::*;
use idcgate_core::capability::{Databases, WebHosting};
use idcgate_core::Error;
use idcgate_zonkvm::ZonkvmClient;
use serde_json::Value;

const LEASE_LINE: &str = "1661580261164386";
const LEASE_PRODUCT: &str = "1721941250649658";
const IDC_LINE: &str = "20250409132657673520";
const IDC_PRODUCT: &str = "20250409132727581219";
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
    // 550.00 + 2 extra IPs at 100.00; 12 months at discount1 0.95.
    let lease = [
        ("line_guid", LEASE_LINE),
        ("product_guid", LEASE_PRODUCT),
        ("system_guid", CENTOS),
        ("content", r#"{"ip_num":3,"months":12}"#),
    ];
    let action = "create_order#create_lease";
    let (id, m) = placed(&sim, &conn, action, &lease, 855_000, "getlease").await;
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
    let bal = in_fen(sim.balance());
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
    assert_eq!(in_fen(sim.balance()), bal - charged);
    assert_eq!(sim.ledger().last().unwrap().kind, "upgrade");
    let end0 = m["end_time"].as_str().unwrap().to_string();
    let bal = in_fen(sim.balance());
    let renewed = op(&conn, "lease_renew", id, &[("months", "1")]).await;
    assert_eq!(
        get(&conn, "getlease", id).await["end_time"],
        months_after(&end0, 1).as_str()
    );
    assert_eq!(in_fen(sim.balance()), bal - fen(&renewed["money"]));
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
    let bal = in_fen(sim.balance());
    let refund = op(&conn, "lease_refund", id, &[]).await;
    assert_eq!(get(&conn, "getlease", id).await["order_status"], -2);
    // Bought moments ago: most of what was paid comes back.
    assert!(fen(&refund["money"]) > 855_000 / 2);
    assert_eq!(in_fen(sim.balance()), bal + fen(&refund["money"]));

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
    // 80.00 x 12 at 85% = 816.00.
    let hosting = [
        ("line_guid", HOST_LINE),
        ("product_guid", HOST_A),
        ("prefix", "blog"),
        ("pwd", "Ftp-1"),
        (
            "content",
            r#"{"program":"php","program_version":"php74","months":12}"#,
        ),
    ];
    let action = "create_order#create_hosting";
    let (id, h) = placed(&sim, &conn, action, &hosting, 81_600, "gethosting").await;
    assert_eq!(
        (h["ftp_password"].as_str(), h["program_version"].as_str()),
        (Some("Ftp-1"), Some("php74"))
    );
    let host = Order::new(&conn, id, "hosting_operate", "gethosting");
    host.op("hosting_stop", &[]).await;
    assert_eq!(host.detail().await["run_status"], -1);
    host.op("hosting_start", &[]).await;
    assert_eq!(host.detail().await["run_status"], 1);
    host.op("hosting_edit_name", &[("name", "my blog")]).await;
    host.op("hosting_edit_pwd", &[("ftp_password", "Ftp-2")])
        .await;
    host.op("hosting_set_php_version", &[("version", "php82")])
        .await;
    let h = host.detail().await;
    assert_eq!(
        (
            h["name"].as_str(),
            h["ftp_password"].as_str(),
            h["program_version"].as_str()
        ),
        (Some("my blog"), Some("Ftp-2"), Some("php82"))
    );
    let domains = "example.com\nwww.example.com:8080";
    host.op("hosting_add_domain", &[("domainText", domains)])
        .await;
    let gone = [("name", "example.com"), ("port", "80")];
    host.op("hosting_del_domain", &gone).await;
    let d = host.list("hosting_domain_list").await;
    assert_eq!(
        d.iter()
            .map(|x| x["name"].as_str().unwrap())
            .collect::<Vec<_>>()[1..],
        ["www.example.com"]
    );
    host.op("hosting_to_backup", &[]).await;
    assert_eq!(host.list("hosting_backup_list").await.len(), 1);
    let index = "default.html,index.php";
    host.op("hosting_web_set_index", &[("indexText", index)])
        .await;
    assert_eq!(host.op("hosting_web_get_index", &[]).await["index"], index);
    host.op("hosting_set_run_path", &[("runPath", "/public")])
        .await;
    let up = [("flow", "50"), ("new_product_guid", HOST_B)];
    let up = host.op("hosting_upgrade", &up).await;
    assert_eq!(
        (up["flow"].as_i64(), up["disk"].as_i64()),
        (Some(50), Some(500))
    );
    let end = host.end_time().await;
    let year: i32 = end[..4].parse().unwrap();
    let new_end = format!("{}{}", year + 1, &end[4..]);
    host.renew(&new_end).await;
    host.op("hosting_resume_after_renew", &[]).await;
    let db = host
        .op("hosting_add_database", &[("db_password", "Db-9")])
        .await["id"]
        .as_i64()
        .unwrap();
    assert_eq!(get(&conn, "getsql", db).await["hosting_id"], id);
    let sites = conn.list_sites().await.unwrap();
    assert!(sites
        .iter()
        .any(|s| s.upstream_id == id.to_string()
            && s.domains.contains(&"www.example.com".to_string())));
    let bal = in_fen(sim.balance());
    let refund = host.op("hosting_refund", &[]).await;
    assert!(fen(&refund["money"]) > 81_600);
    assert_eq!(in_fen(sim.balance()), bal + fen(&refund["money"]));
    assert_eq!(host.detail().await["order_status"], -2);
}

#[tokio::test]
async fn database_orders_and_operations() {
    let (sim, _srv, conn) = sandbox().await;
    let database = [
        ("line_guid", HOST_LINE),
        ("product_guid", SQL_A),
        ("prefix", "app"),
        ("pwd", "Sql-1"),
        ("content", r#"{"db":"1000","code":"utf8mb4"}"#),
    ];
    let v = place(
        &sim,
        &conn,
        "create_order#create_database",
        &database,
        2_800,
    )
    .await;
    let id = v["ids"][0].as_i64().unwrap();
    let sql = Order::new(&conn, id, "sql_operate", "getsql");
    sql.op("sql_edit_name", &[("name", "orders db")]).await;
    let access = [("dataAccess", "ip"), ("access", "1.2.3.4\n5.6.7.8")];
    sql.op("sql_set_access", &access).await;
    assert_eq!(
        sql.op("sql_get_access", &[]).await["msg"],
        "1.2.3.4,5.6.7.8"
    );
    sql.op("sql_reset_password", &[("password", "Sql-2")]).await;
    let d = sql.detail().await;
    assert_eq!(
        (d["name"].as_str(), d["db_password"].as_str()),
        (Some("orders db"), Some("Sql-2"))
    );
    // Re-created from the creation parameters: the first password and local-only
    // access are back; the local name (never sent to the node) stays.
    sql.op("sql_reissue", &[]).await;
    let d = sql.detail().await;
    assert_eq!(
        (d["name"].as_str(), d["db_password"].as_str()),
        (Some("orders db"), Some("Sql-1"))
    );
    assert_eq!(sql.op("sql_get_access", &[]).await["msg"], "127.0.0.1");
    for _ in 0..3 {
        assert_eq!(sql.op("sql_to_backup", &[]).await["msg"], "备份中");
    }
    let err = sql.try_op("sql_to_backup").await.unwrap_err();
    assert!(matches!(err, Error::Upstream { ref message, .. } if message.contains("最多保留3个")));
    for progress in ["50%", "100%"] {
        assert_eq!(sql.op("sql_get_backup_size", &[]).await["msg"], progress);
    }
    let list = sql.list("sql_backup_list").await;
    let file = format!("/www/backup/database/{}", list[0]["name"].as_str().unwrap());
    sql.op("sql_input_backup", &[("file", &file)]).await;
    assert_eq!(sql.op("sql_get_import_size", &[]).await["msg"], "50%");
    let bak_guid = list[0]["id"].as_str().unwrap();
    sql.op("sql_del_backup", &[("bak_guid", bak_guid)]).await;
    assert_eq!(sql.list("sql_backup_list").await.len(), 2);
    let up = [("new_product_guid", SQL_B)];
    assert_eq!(sql.op("sql_upgrade", &up).await["db_size"], 2000);
    let end = sql.end_time().await;
    let month: i32 = end[5..7].parse().unwrap();
    let new_end = if month <= 9 {
        format!("{}0{}{}", &end[..5], month + 2, &end[7..])
    } else {
        format!("{}{}", end[..4].parse::<i32>().unwrap() + 1, &end[4..])
    };
    sql.renew(&new_end).await;
    assert!(conn
        .list_databases()
        .await
        .unwrap()
        .iter()
        .any(|d| d.upstream_id == id.to_string() && d.size_mb == Some(2000)));
    assert_eq!(conn.list_all("sql_orders").await.unwrap().len(), 2);
    assert_eq!(conn.list("sql_product", &[]).await.unwrap().len(), 2);
    let bal = in_fen(sim.balance());
    let refund = sql.op("sql_refund", &[]).await;
    assert_eq!(sql.detail().await["order_status"], -2);
    assert!(fen(&refund["money"]) > 0);
    assert_eq!(in_fen(sim.balance()), bal + fen(&refund["money"]));
    // Refunded is deleted: a second refund is refused and pays nothing.
    assert!(sql.try_op("sql_refund").await.is_err());
    assert_eq!(in_fen(sim.balance()), bal + fen(&refund["money"]));
}

/// One hosting or database order and its `<kind>_operate#..` sub-operations.
struct Order<'a> {
    conn: &'a ZonkvmClient,
    id: i64,
    /// `hosting_operate` / `sql_operate`.
    operate: &'static str,
    /// `gethosting` / `getsql`.
    detail: &'static str,
}

impl<'a> Order<'a> {
    fn new(conn: &'a ZonkvmClient, id: i64, operate: &'static str, detail: &'static str) -> Self {
        Order {
            conn,
            id,
            operate,
            detail,
        }
    }

    fn action(&self, o: &str) -> String {
        format!("{}#{o}", self.operate)
    }

    /// Runs a sub-operation that must succeed.
    async fn op(&self, o: &str, extra: &[(&str, &str)]) -> Value {
        op(self.conn, &self.action(o), self.id, extra).await
    }

    /// Runs a sub-operation with no further parameters, success or not.
    async fn try_op(&self, o: &str) -> Result<Value, Error> {
        let id = self.id.to_string();
        self.conn.call_kv(&self.action(o), &[("guid", &id)]).await
    }

    /// A sub-operation's listing for this order.
    async fn list(&self, o: &str) -> Vec<Value> {
        let id = self.id.to_string();
        self.conn
            .list(&self.action(o), &[("guid", &id)])
            .await
            .unwrap()
    }

    async fn detail(&self) -> Value {
        get(self.conn, self.detail, self.id).await
    }

    async fn end_time(&self) -> String {
        self.detail().await["end_time"]
            .as_str()
            .unwrap()
            .to_string()
    }

    /// Renews to `new_end` (`<kind>_renew`) and reads the new end time back.
    async fn renew(&self, new_end: &str) {
        let kind = self.operate.trim_end_matches("_operate");
        self.op(&format!("{kind}_renew"), &[("newEndTimeStr", new_end)])
            .await;
        assert_eq!(self.detail().await["end_time"], new_end);
    }
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
