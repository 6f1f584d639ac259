//! The document's business rules the simulator keeps (issue 13): images per zone, the
//! terms and discounts of renewals, hosting traffic at purchase. Each checked through
//! the client over a socket, by the answer and by what the balance and state show after.

#![allow(clippy::unwrap_used)] // a test may fail loudly

mod common;

use common::*;
use idcgate_core::Error;

const LINE_SX: &str = "20250407014442321990";

fn refused_saying(err: &Error, text: &str) {
    assert!(
        matches!(err, Error::Upstream { message, .. } if message == text),
        "expected {text:?}, got {err:?}"
    );
}

/// getsystems: "lines 可用区GUID列表", "zone_names 可用区名称(多个用"、"分隔)". Ubuntu is
/// listed for 绍兴BGP only: it is bought and installed there, refused on 德阳电信, and
/// each image's zone_names names exactly its zones.
#[tokio::test]
async fn an_image_is_orderable_only_on_its_lines() {
    let (sim, _srv, conn) = sandbox().await;
    let systems = conn.list("getsystems", &[]).await.unwrap();
    let names = |guid: &str| {
        let row = systems.iter().find(|s| s["guid"] == guid).unwrap();
        (
            row["lines"].as_str().unwrap().to_string(),
            row["zone_names"].clone(),
        )
    };
    assert_eq!(
        names(UBUNTU),
        ("[\"20250407014442321900\"]".to_string(), "绍兴BGP".into())
    );
    assert_eq!(names(WIN).1, "德阳电信、绍兴BGP");

    let books = (in_fen(sim.balance()), sim.ledger().len());
    let on = |line: &'static str, order: &'static str| {
        [
            ("order_id", order),
            ("line_guid", line),
            ("system_guid", UBUNTU),
            ("content", r#"{"cpu":4,"ram":8}"#),
        ]
    };
    let err = conn
        .call_kv("create_order#create_server", &on(LINE_DY, "u-dy"))
        .await
        .unwrap_err();
    refused_saying(&err, "该线路不支持此操作系统");
    assert_eq!((in_fen(sim.balance()), sim.ledger().len()), books);
    let bought = conn
        .call_kv("create_order#create_server", &on(LINE_SX, "u-sx"))
        .await
        .unwrap();
    assert_eq!(
        get(&conn, "getserver", bought["ids"][0].as_i64().unwrap()).await["system_guid"],
        UBUNTU
    );

    // Reinstalling follows the same rule: the 德阳 server cannot take Ubuntu.
    let dy = buy_server(&conn, "c-dy", SMALLEST).await;
    let err = conn
        .call_kv(
            "server_install",
            &[
                ("guid", &dy.to_string()),
                ("systemID", UBUNTU),
                ("password", "Pw-123456"),
            ],
        )
        .await
        .unwrap_err();
    refused_saying(&err, "该线路不支持此操作系统");
    assert_eq!(get(&conn, "getserver", dy).await["system_guid"], CENTOS);

    // Dedicated servers too: the 德阳 lease line's zone does not list Ubuntu.
    let lease = |system: &'static str| {
        [
            ("order_id", "l-u"),
            ("line_guid", "1661580261164386"),
            ("product_guid", "1721941250649658"),
            ("system_guid", system),
            ("content", r#"{"bandwidth":30,"defense":100,"ip_num":1}"#),
        ]
    };
    let err = conn
        .call_kv("create_order#create_lease", &lease(UBUNTU))
        .await
        .unwrap_err();
    refused_saying(&err, "该线路不支持此操作系统");
    conn.call_kv("create_order#create_lease", &lease(CENTOS))
        .await
        .unwrap();
}
