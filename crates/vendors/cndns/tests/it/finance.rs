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
