//! The document's business rules the simulator keeps (issue 13): images per zone, the
//! terms and discounts of renewals, hosting traffic at purchase. Each checked through
//! the client over a socket, by the answer and by what the balance and state show after.

#![allow(clippy::unwrap_used)] // a test may fail loudly

mod common;

use common::*;
use idcgate_core::purchase::{Operation::*, PurchaseRequest, Purchasing};
use idcgate_core::ResourceKind::{HostingSite, Server};
use idcgate_core::{Connection, Error};

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

    // The client's quote refuses it before anything is sent.
    let quote = PurchaseRequest::new(Server, Create, "vm")
        .offer("德阳电信-1核1G")
        .option("system_guid", UBUNTU);
    let err = conn.quote(&quote).await.unwrap_err();
    assert!(
        matches!(err, Error::InvalidInput { ref field, .. } if field == "system_guid"),
        "{err:?}"
    );
    conn.quote(&quote.option("system_guid", CENTOS))
        .await
        .unwrap();

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

/// A year on from a `Y-m-d H:i:s` time, and `months` on (within the same year's end).
fn later(end: &str, years: i32, months: u32) -> String {
    let year: i32 = end[..4].parse().unwrap();
    let month: u32 = end[5..7].parse().unwrap();
    let m0 = month - 1 + months;
    let (year, month) = (year + years + (m0 / 12) as i32, m0 % 12 + 1);
    format!("{year}-{month:02}{}", &end[7..])
}

/// getlines / lease_lines / hosting_product: `months` lists the terms on sale and
/// `discount` (discount1..3, a percent table) their price; a renewal is held to both as
/// a purchase is, and the client's quote says what is charged.
#[tokio::test]
async fn renewals_use_the_lines_months_and_discounts() {
    let (sim, _srv, conn) = sandbox().await;
    let books = |sim: &idcgate_zonkvm::Sim| (in_fen(sim.balance()), sim.ledger().len());
    // Cloud: 1C1G on 德阳电信 is 29.00 a month; 10 months is not sold, 12 are at 0.9.
    let id = buy_server(&conn, "r-1", SMALLEST).await;
    let before = books(&sim);
    let renew = |months: &'static str| {
        let id = id.to_string();
        let conn = &conn;
        async move {
            conn.call_kv(
                "server_renew",
                &[("guid", id.as_str()), ("renewLength", months)],
            )
            .await
        }
    };
    refused_saying(&renew("10").await.unwrap_err(), "续费时长不正确");
    assert_eq!(books(&sim), before);
    let quote = conn
        .quote(&PurchaseRequest::new(Server, Renew, format!("server_{id}")).months(12))
        .await
        .unwrap();
    assert_eq!(in_fen(quote.price), 31_320);
    let v = renew("12").await.unwrap();
    assert_eq!(v["money"], "313.20");
    assert_eq!(in_fen(sim.balance()), before.0 - 31_320);

    // Dedicated: the seed's machine is 550.00 a month; 12 months at discount1 0.95.
    let before = books(&sim);
    let err = conn
        .call_kv("lease_renew", &[("guid", "1"), ("months", "11")])
        .await
        .unwrap_err();
    refused_saying(&err, "续费时长不正确");
    assert_eq!(books(&sim), before);
    let v = conn
        .call_kv("lease_renew", &[("guid", "1"), ("months", "12")])
        .await
        .unwrap();
    assert_eq!(v["money"], "6270.00");

    // Hosting: the seed's site lists at 80.00; a year at 85% is 816.00. Renewing to a
    // date 10 months on (not a term on sale) takes the shortest term that reaches it.
    let site = get(&conn, "gethosting", 1).await;
    assert_eq!(
        site["renew_price"], "80.00",
        "the list price, not the discounted one"
    );
    let end = site["end_time"].as_str().unwrap().to_string();
    let before = in_fen(sim.balance());
    let to = later(&end, 0, 10);
    conn.call_kv(
        "hosting_operate#hosting_renew",
        &[("guid", "1"), ("newEndTimeStr", &to)],
    )
    .await
    .unwrap();
    assert_eq!(in_fen(sim.balance()), before - 81_600);
    assert_eq!(get(&conn, "gethosting", 1).await["end_time"], to.as_str());
    let err = conn
        .call_kv(
            "hosting_operate#hosting_renew",
            &[
                ("guid", "1"),
                ("newEndTimeStr", &later(&to, 1, 0)),
                ("renewLength", "13"),
            ],
        )
        .await
        .unwrap_err();
    refused_saying(&err, "续费时长不正确");
}

/// hosting_product: "flow 月流量(GB)", "max_flow 月流量上限(GB)", "up_flow 流量叠加包大小
/// (GB/步长)", "up_flow_price 流量叠加包价格(元)"; create_hosting's content.flow "不传则使用
/// 产品默认值". Beyond max_flow (or below what the product includes) is refused; traffic
/// above the product's costs a started up_flow step at up_flow_price a month, discounted
/// with the term; the quote agrees.
#[tokio::test]
async fn hosting_purchase_enforces_max_flow_and_prices_extra_flow() {
    let (sim, _srv, conn) = sandbox().await;
    let order = |flow: &str| {
        let content = format!(r#"{{"program":"php","months":12,"flow":{flow}}}"#);
        vec![
            ("line_guid".to_string(), HOST_LINE.to_string()),
            ("product_guid".into(), HOST_A.into()),
            ("prefix".into(), format!("f{flow}")),
            ("content".into(), content),
        ]
    };
    let before = (in_fen(sim.balance()), sim.ledger().len());
    for flow in ["101", "10"] {
        let err = conn
            .call("create_order#create_hosting", &order(flow))
            .await
            .unwrap_err();
        refused_saying(&err, "流量超出产品允许范围");
    }
    assert_eq!((in_fen(sim.balance()), sim.ledger().len()), before);
    // 55 GB: 25 above the product's 30, three 10 GB steps at 5.00: 95.00 a month;
    // 12 months at 85% = 969.00.
    let quote = |flow: &'static str| {
        let r = PurchaseRequest::new(HostingSite, Create, "site")
            .offer(HOST_A)
            .months(12)
            .option("content.flow", flow);
        let conn = &conn;
        async move { conn.quote(&r).await }
    };
    assert_eq!(in_fen(quote("55").await.unwrap().price), 96_900);
    let err = quote("101").await.unwrap_err();
    assert!(
        matches!(err, Error::InvalidInput { ref field, .. } if field == "flow"),
        "{err:?}"
    );
    let v = conn
        .call("create_order#create_hosting", &order("55"))
        .await
        .unwrap();
    assert_eq!(v["money"], "969.00");
    assert_eq!(in_fen(sim.balance()), before.0 - 96_900);
    let site = get(&conn, "gethosting", v["ids"][0].as_i64().unwrap()).await;
    assert_eq!(
        (site["flow"].as_i64(), site["renew_price"].as_str()),
        (Some(55), Some("95.00"))
    );
}
