//! The five actions implemented from a reading of the document (their `spec.tsv` notes
//! say which): access statistics, backup deletion by record id, and the IIS-only SSL
//! operations. Client -> simulator over a socket; every write is read back.

#![allow(clippy::unwrap_used)] // a test may fail loudly

mod common;

use common::*;
use idcgate_core::Error;
use idcgate_zonkvm::ZonkvmClient;
use serde_json::Value;

async fn hop(
    conn: &ZonkvmClient,
    op: &str,
    guid: &str,
    more: &[(&str, &str)],
) -> Result<Value, Error> {
    let mut p = vec![("guid", guid)];
    p.extend_from_slice(more);
    conn.call_kv(&format!("hosting_operate#{op}"), &p).await
}

/// Buys a hosting site with `content` and returns its id and record.
async fn buy_site(conn: &ZonkvmClient, prefix: &str, content: &str) -> (String, Value) {
    let v = conn
        .call_kv(
            "create_order#create_hosting",
            &[
                ("line_guid", HOST_LINE),
                ("product_guid", HOST_A),
                ("prefix", prefix),
                ("content", content),
            ],
        )
        .await
        .unwrap();
    let id = v["ids"][0].as_i64().unwrap();
    (id.to_string(), get(conn, "gethosting", id).await)
}

fn day_of(v: &Value) -> String {
    v.as_str().unwrap()[..10].to_string()
}

#[tokio::test]
async fn site_statistics_are_hourly_points_of_the_range() {
    let (sim, _srv, conn) = sandbox().await;
    let bought = day_of(&get(&conn, "gethosting", 1).await["buy_time"]);
    // Two days on, at 10:00 China time (02:00 UTC) whatever the hour the test runs at:
    // run past 23:00 China time, "now" fell in the range's last hour.
    let two_days_on: jiff::civil::Date = day_after(&bought, 2).parse().unwrap();
    sim.set_now(
        two_days_on
            .at(2, 0, 0, 0)
            .to_zoned(jiff::tz::TimeZone::UTC)
            .unwrap()
            .timestamp(),
    );
    let totals = |kind: &'static str, from: String, to: String| {
        let conn = &conn;
        async move {
            hop(
                conn,
                "hosting_get_site_total_list_custom",
                "1",
                &[
                    ("part_type", kind),
                    ("start_date", &from),
                    ("end_date", &to),
                ],
            )
            .await
        }
    };
    // Three days: the day bought (nothing before the purchase), a whole day, today
    // (nothing after now).
    let all = totals("site_total", bought.clone(), day_after(&bought, 2))
        .await
        .unwrap();
    let list = all["list"].as_array().unwrap();
    assert_eq!((list.len(), all["total"].as_i64()), (72, Some(72)));
    assert_eq!(list[0]["time"], format!("{bought} 00:00").as_str());
    assert_eq!(
        list[71]["time"],
        format!("{} 23:00", day_after(&bought, 2)).as_str()
    );
    let count = |i: usize| list[i]["count"].as_i64().unwrap();
    assert!(
        (24..48).all(|i| count(i) > 0),
        "a whole day of the site's life"
    );
    assert_eq!(count(71), 0, "the hour after now");
    assert!(
        count(0) == 0 || bought.ends_with("00:00"),
        "before the purchase"
    );
    let visits = totals("visit_total", day_after(&bought, 1), day_after(&bought, 1))
        .await
        .unwrap();
    let visits = visits["list"].as_array().unwrap();
    assert_eq!(visits.len(), 24);
    for (i, v) in visits.iter().enumerate() {
        assert_eq!(v["count"].as_i64().unwrap(), count(24 + i) / 3, "hour {i}");
    }
    // Refused: an unknown type, a range backwards, more than 31 days.
    let today = day_after(&bought, 2);
    refused_saying(
        &totals("nope", today.clone(), today.clone())
            .await
            .unwrap_err(),
        "参数错误：part_type格式不正确",
    );
    refused_saying(
        &totals("site_total", today.clone(), bought.clone())
            .await
            .unwrap_err(),
        "结束日期不能早于开始日期",
    );
    refused_saying(
        &totals("site_total", bought.clone(), day_after(&bought, 31))
            .await
            .unwrap_err(),
        "统计范围不能超过31天",
    );
}

/// `YYYY-MM-DD` plus `days`.
fn day_after(day: &str, days: i64) -> String {
    let d: jiff::civil::Date = day.parse().unwrap();
    d.checked_add(jiff::Span::new().days(days))
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn a_backup_is_deleted_by_its_record_id() {
    let (_sim, _srv, conn) = sandbox().await;
    let (other, _) = buy_site(&conn, "bk", r#"{"program":"php","months":1}"#).await;
    hop(&conn, "hosting_to_backup", "1", &[]).await.unwrap();
    hop(&conn, "hosting_to_backup", &other, &[]).await.unwrap();
    let list = |guid: String| {
        let conn = &conn;
        async move { hop(conn, "hosting_backup_list", &guid, &[]).await.unwrap() }
    };
    let theirs = list(other.clone()).await;
    // Record ids run over every site: the other site's backup is record 2.
    assert_eq!(
        (theirs[0]["id"].as_str(), theirs[0]["pid"].as_str()),
        (Some("2"), Some(other.as_str()))
    );
    hop(&conn, "hosting_del_backup", "2", &[]).await.unwrap();
    assert_eq!(list(other.clone()).await, Value::Array(vec![]));
    assert_eq!(
        list("1".into()).await.as_array().unwrap().len(),
        1,
        "site 1 keeps its own"
    );
    for gone in ["2", "99"] {
        refused_saying(
            &hop(&conn, "hosting_del_backup", gone, &[])
                .await
                .unwrap_err(),
            "备份不存在",
        );
    }
}

#[tokio::test]
async fn iis_certificates_are_bound_to_domains_by_file() {
    let (_sim, _srv, conn) = sandbox().await;
    let (id, site) = buy_site(
        &conn,
        "iis",
        r#"{"program":"asp","program_version":"asp_net","months":1}"#,
    )
    .await;
    let root = site["path"].as_str().unwrap().to_string();
    let domain = site["domain"].as_str().unwrap().to_string();
    let pfx = format!("{root}/site.pfx");
    for path in [pfx.clone(), format!("{root}/notes.txt")] {
        hop(&conn, "hosting_create_file", &id, &[("path", &path)])
            .await
            .unwrap();
    }
    let files = hop(&conn, "hosting_get_iis_ssl_file_list", &id, &[])
        .await
        .unwrap();
    let files = files.as_array().unwrap();
    assert_eq!(files.len(), 1, "{files:?}");
    assert_eq!(
        (files[0]["filename"].as_str(), files[0]["path"].as_str()),
        (Some("site.pfx"), Some(pfx.as_str()))
    );
    let before = status(&conn, &id).await;
    assert_eq!(before[0]["domain"], domain.as_str());
    assert_eq!(before[0]["status"], false);

    refused_saying(
        &set(&conn, &id, "other.example.com", &pfx)
            .await
            .unwrap_err(),
        "域名未绑定到该站点",
    );
    refused_saying(
        &set(&conn, &id, &domain, &format!("{root}/notes.txt"))
            .await
            .unwrap_err(),
        "证书文件不存在",
    );
    refused_saying(
        &set(&conn, &id, &format!("http://{domain}"), &pfx)
            .await
            .unwrap_err(),
        "参数错误：domain格式不正确",
    );
    assert_eq!(status(&conn, &id).await, before, "refusals change nothing");
    set(&conn, &id, &domain, &pfx).await.unwrap();
    let after = status(&conn, &id).await;
    assert_eq!(
        (after[0]["status"].as_bool(), after[0]["path"].as_str()),
        (Some(true), Some(pfx.as_str()))
    );

    // The PHP (BT) site: every IIS operation is the system's refusal.
    for op in [
        "hosting_get_iis_ssl_bydomain",
        "hosting_get_iis_ssl_file_list",
    ] {
        refused_saying(
            &hop(&conn, op, "1", &[]).await.unwrap_err(),
            "仅IIS环境有效",
        );
    }
}

async fn status(conn: &ZonkvmClient, id: &str) -> Value {
    hop(conn, "hosting_get_iis_ssl_bydomain", id, &[])
        .await
        .unwrap()
}

async fn set(conn: &ZonkvmClient, id: &str, domain: &str, path: &str) -> Result<Value, Error> {
    let kv = [("domain", domain), ("path", path)];
    hop(conn, "hosting_set_domain_iis_byfile", id, &kv).await
}
