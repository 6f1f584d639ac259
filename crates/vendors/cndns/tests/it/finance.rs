//! Money: the finance summary, prices and product-name availability.

use super::*;

#[tokio::test]
async fn finance_summary_and_billing() {
    let e = env().await;
    let f = first(&e.ok("/user/userdetail", &[]).await);
    assert_eq!(f["availablebalance"], "4945.00");
    assert_eq!(f["usedmoney"], "55.00");
    assert_eq!(f["totalremittance"], "5000.00");
    let b = e.conn.billing().unwrap().balance().await.unwrap();
    assert_eq!(b.available.to_string(), "4945.00");
    assert_eq!(b.credit.to_string(), "0.00");
    e.sim.set_balance(idcgate_core::Money::from_fen(1234));
    assert_eq!(e.balance().await, Decimal::new(1234, 2));
}

#[tokio::test]
async fn price_table() {
    let e = env().await;
    for (kv, expect) in [
        (
            vec![
                ("type", "1"),
                ("years", "1"),
                ("tag", "dme"),
                ("suffix", ".cn"),
            ],
            "29.9",
        ),
        (
            vec![
                ("type", "1"),
                ("years", "3"),
                ("tag", "dme"),
                ("suffix", "cn"),
            ],
            "89.7",
        ),
        (
            vec![
                ("type", "1"),
                ("years", "1"),
                ("tag", "dme"),
                ("prd", "com01"),
            ],
            "55",
        ),
        (
            vec![
                ("type", "1"),
                ("years", "1"),
                ("tag", "dme"),
                ("suffix", ".com"),
                ("priceType", "1"),
            ],
            "69",
        ),
        // "年限 格式错误就默认 1 年时间".
        (
            vec![
                ("type", "1"),
                ("years", "x"),
                ("tag", "dme"),
                ("suffix", ".net"),
            ],
            "65",
        ),
        (
            vec![
                ("type", "1"),
                ("years", "1"),
                ("tag", "dme"),
                ("suffix", ".nope"),
            ],
            "0",
        ),
        (
            vec![
                ("type", "3"),
                ("years", "1"),
                ("hosttype", "bz"),
                ("hostsize", "2"),
                ("location", "cn"),
            ],
            "160",
        ),
        (
            vec![
                ("type", "3"),
                ("years", "2"),
                ("hosttype", "net"),
                ("hostsize", "5"),
                ("location", "cn"),
            ],
            "880",
        ),
    ] {
        assert_eq!(
            e.ok("/product/getproductprice", &kv).await,
            expect,
            "{kv:?}"
        );
    }
    let renew = "/product/getrenewprice";
    let mine = [
        ("type", "1"),
        ("pdtname", "idcgate-demo.cn"),
        ("years", "2"),
    ];
    e.reads(&[
        (renew, &mine, "", "78".into()),
        (
            renew,
            &[("type", "1"), ("pdtname", "not-mine.com")],
            "",
            "0".into(),
        ),
    ])
    .await;
}

#[tokio::test]
async fn product_name_availability() {
    let e = env().await;
    let check = "/product/checkpraname";
    e.steps(&[
        (
            check,
            &[("praname", "free-name-1.com"), ("protype", "1")],
            OK,
        ),
        (
            check,
            &[("praname", "idcgate-demo.com"), ("protype", "1")],
            "10031",
        ),
        (check, &[("praname", "x"), ("protype", "99")], "10029"),
    ])
    .await;
}

/// getProductPrice type 4 (建站之星 pro) and 5 (DDOS), and getRenewPrice type 4 (a
/// site by name), quote what CreateSite, DDOS CreateOrder and RenewalSite charge.
#[tokio::test]
async fn site_builder_and_ddos_prices_match_the_charges() {
    let e = env().await;
    e.sim.set_balance(idcgate_core::Money::from_fen(5_000_000));
    let quote = |kv: &[(&'static str, &'static str)]| {
        let kv = kv.to_vec();
        let e = &e;
        async move { dec(&e.ok("/product/getproductprice", &kv).await) }
    };
    let site = [
        ("type", "4"),
        ("years", "2"),
        ("tag", "pc"),
        ("location", "cn"),
        ("websitetag", "ulti"),
    ];
    let price = quote(&site).await;
    let before = e.balance().await;
    let made = first(
        &e.ok(
            "/sitetarpro/createsite",
            &[
                ("years", "2"),
                ("template", "pc1001"),
                ("websitetag", "ulti"),
                ("location", "cn"),
                ("mbl", "0"),
            ],
        )
        .await,
    );
    assert_eq!(before - e.balance().await, price);
    assert_eq!(price, Decimal::new(1200, 0));
    // Renewing it: getRenewPrice names the site.
    let web = made["ftpname"].as_str().unwrap().to_string();
    let renew = [("type", "4"), ("pdtname", web.as_str()), ("years", "1")];
    let renew_price = dec(&e.ok("/product/getrenewprice", &renew).await);
    let before = e.balance().await;
    e.ok(
        "/sitestarpro/renewalsite",
        &[("webname", web.as_str()), ("years", "1")],
    )
    .await;
    assert_eq!(before - e.balance().await, renew_price);
    // DDOS: a year of the product, by its prd or its buyid, as a 1-year order charges.
    let product = first(&e.ok("/ddos/productinfo", &[]).await);
    let buyid = product["buyid"].as_str().unwrap().to_string();
    let prd = product["proprd"].as_str().unwrap().to_string();
    let by_prd = dec(&e
        .ok(
            "/product/getproductprice",
            &[("type", "5"), ("prd", prd.as_str())],
        )
        .await);
    let by_id = dec(&e
        .ok(
            "/product/getproductprice",
            &[("type", "5"), ("buyid", buyid.as_str())],
        )
        .await);
    assert_eq!(by_prd, by_id);
    let before = e.balance().await;
    e.ok(
        "/ddos/createorder",
        &[("buyid", buyid.as_str()), ("term", "1"), ("termtype", "5")],
    )
    .await;
    assert_eq!(before - e.balance().await, by_prd);
    // Unknown products have no price ("0").
    assert_eq!(
        quote(&[("type", "5"), ("prd", "nope")]).await,
        Decimal::ZERO
    );
    assert_eq!(
        quote(&[("type", "4"), ("tag", "bz"), ("websitetag", "pro")]).await,
        Decimal::ZERO
    );
}
