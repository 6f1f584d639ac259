//! DNS records: validation table, AddRec's id in message, ModifyRec, DeleteRec twice
//! (11318), name servers elsewhere (11307) — and the Dns capability over them.

use super::*;
use idcgate_core::{RecordInput, RecordType};

const ZONE: &str = "idcgate-demo.com";

/// The record `id` of a `/domains/reclist` answer.
fn listed<'a>(recs: &'a [Value], id: &str) -> &'a Value {
    match recs.iter().find(|r| r["rec_id"] == id) {
        Some(r) => r,
        None => panic!("record {id} is not listed"),
    }
}

#[tokio::test]
async fn add_modify_delete_round_trip() {
    let e = env().await;
    let before = list(&e.ok("/domains/reclist", &[("domainname", ZONE)]).await).len();
    let id = e
        .ok("/domains/addrec", &rec(ZONE, "api", "A", "192.0.2.44"))
        .await;
    let id = id
        .as_str()
        .expect("AddRec answers the id as a string")
        .to_string();
    let recs = list(&e.ok("/domains/reclist", &[("domainname", ZONE)]).await);
    assert_eq!(recs.len(), before + 1);
    let r = listed(&recs, &id);
    assert_eq!(
        (r["rec_item"].as_str(), r["rec_ttl"].as_str()),
        (Some("api"), Some("600"))
    );
    let by_id = [("domainname", ZONE), ("rec_id", &id)];
    let change = [("rec_ttl", "3600"), ("rec_value", "192.0.2.45")];
    e.ok("/domains/modifyrec", &[&by_id[..], &change].concat())
        .await;
    let recs = list(&e.ok("/domains/reclist", &[("domainname", ZONE)]).await);
    let r = listed(&recs, &id);
    assert_eq!(
        (r["rec_value"].as_str(), r["rec_ttl"].as_str()),
        (Some("192.0.2.45"), Some("3600"))
    );
    e.ok("/domains/deleterec", &by_id).await;
    let again = e.err("/domains/deleterec", &by_id).await;
    assert_not_found(&again);
    assert_eq!(code_of(&again), "11318");
    assert_eq!(
        list(&e.ok("/domains/reclist", &[("domainname", ZONE)]).await).len(),
        before
    );
}

#[tokio::test]
async fn record_validation_table() {
    let e = env().await;
    for (item, ty, value, level, ttl, code) in [
        ("a", "A", "300.1.1.1", "", "600", "11312"),
        ("a", "AAAA", "1.2.3.4", "", "600", "11312"),
        ("c", "CNAME", "not a host", "", "600", "11313"),
        ("m", "MX", "mx.example.com.", "", "600", "11304"),
        ("m", "MX", "mx.example.com.", "0", "600", "11311"),
        ("t", "TXT", "中文记录", "", "600", "11316"),
        ("bad..item", "A", "1.2.3.4", "", "600", "11309"),
        ("ttl", "A", "1.2.3.4", "", "60", "11319"),
        // The apex already has an A record of this value (duplicate).
        ("@", "A", "203.0.113.10", "", "600", "11319"),
        // www is a CNAME: nothing else may sit beside it.
        ("www", "A", "1.2.3.4", "", "600", "11319"),
    ] {
        let mut kv = vec![
            ("domainname", ZONE),
            ("rec_item", item),
            ("rec_type", ty),
            ("rec_value", value),
            ("rec_ttl", ttl),
        ];
        if !level.is_empty() {
            kv.push(("rec_level", level));
        }
        let err = e.err("/domains/addrec", &kv).await;
        assert_eq!(code_of(&err), code, "{item} {ty} {value}: {err}");
    }
    e.refused_field(
        "/domains/addrec",
        &[
            ("domainname", ZONE),
            ("rec_item", "x"),
            ("rec_type", "A"),
            ("rec_value", "1.2.3.4"),
            ("rec_ttl", "60"),
        ],
        "rec_ttl",
    )
    .await;
    // Records need CNDNS's name servers.
    let elsewhere = rec("idcgate-shop.net", "x", "A", "1.2.3.4");
    assert_eq!(e.code("/domains/addrec", &elsewhere).await, "11307");
    e.not_found("/domains/reclist", &NOT_MINE).await;
}

#[tokio::test]
async fn dns_capability() {
    let e = env().await;
    let dns = e.conn.dns().unwrap();
    let recs = dns.list_records(ZONE).await.unwrap();
    assert_eq!(recs.len(), 4);
    let mx = recs.iter().find(|r| r.rtype == RecordType::Mx).unwrap();
    assert_eq!(mx.priority, Some(5));
    let input = RecordInput {
        host: "mail".into(),
        rtype: RecordType::Mx,
        value: "mx2.idcgate-demo.com.".into(),
        ttl: 900,
        line: None,
        priority: Some(20),
    };
    let created = dns.create_record(ZONE, &input).await.unwrap();
    let id = created.upstream_id.clone().unwrap();
    let listed = dns.list_records(ZONE).await.unwrap();
    let found = listed
        .iter()
        .find(|r| r.upstream_id.as_deref() == Some(id.as_str()))
        .unwrap();
    assert_eq!((found.priority, found.ttl), (Some(20), 900));
    let updated = dns
        .update_record(
            ZONE,
            &id,
            &RecordInput {
                value: "mx3.idcgate-demo.com.".into(),
                ..input.clone()
            },
        )
        .await
        .unwrap();
    assert_eq!(updated.value, "mx3.idcgate-demo.com.");
    let err = dns
        .update_record(
            ZONE,
            &id,
            &RecordInput {
                host: "other".into(),
                ..input.clone()
            },
        )
        .await
        .unwrap_err();
    assert_field(&err, "host");
    dns.delete_record(ZONE, &id).await.unwrap();
    // Already gone (11318) is what was asked for.
    dns.delete_record(ZONE, &id).await.unwrap();
    assert_eq!(dns.list_records(ZONE).await.unwrap().len(), 4);
    let err = dns
        .create_record(
            ZONE,
            &RecordInput {
                line: Some("telecom".into()),
                ..input
            },
        )
        .await
        .unwrap_err();
    assert_field(&err, "line");
    assert_eq!(dns.lines(ZONE).await.unwrap(), ["default"]);
    assert!(matches!(
        dns.list_zones().await,
        Err(Error::Unsupported { .. })
    ));
}

#[tokio::test]
async fn bulk_seed_is_served() {
    let sim = Sim::sandbox();
    sim.seed_bulk(30, 12);
    let e = env_with(sim, testing::config()).await;
    let recs = e.records("bulk000029.com").await;
    assert_eq!(recs.len(), 12);
    assert!(recs.iter().any(|r| r.value == "10.0.0.11"));
}

#[tokio::test]
async fn the_record_limit_holds() {
    let e = env().await;
    let max: usize = e.detail(ZONE).await["maxdns"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let mut have = e.records(ZONE).await.len();
    while have < max {
        let item = format!("n{have}");
        e.ok("/domains/addrec", &rec(ZONE, &item, "A", "192.0.2.1"))
            .await;
        have += 1;
    }
    e.refused(
        "/domains/addrec",
        &rec(ZONE, "one-more", "A", "192.0.2.1"),
        "上限",
    )
    .await;
    assert_eq!(e.records(ZONE).await.len(), max);
}

/// 11313/11314 "记录值错误或最后一位缺少点": CNAME and MX targets need the trailing dot;
/// one CNAME per host, and nothing beside it. The Dns capability sends the dotted form
/// whichever way the caller writes the target, so it is unaffected.
#[tokio::test]
async fn cname_and_mx_targets_are_absolute_and_one_cname_per_host() {
    let e = env().await;
    let mx = |value| {
        [
            ("domainname", ZONE),
            ("rec_item", "mail2"),
            ("rec_type", "MX"),
            ("rec_value", value),
            ("rec_level", "10"),
        ]
    };
    e.steps(&[
        (
            "/domains/addrec",
            &rec(ZONE, "cdn", "CNAME", "cdn.example.net"),
            "11313",
        ),
        ("/domains/addrec", &mx("mx.example.net"), "11314"),
        (
            "/domains/addrec",
            &rec(ZONE, "cdn", "CNAME", "cdn.example.net."),
            OK,
        ),
        ("/domains/addrec", &mx("mx.example.net."), OK),
        // A second CNAME of the host, and anything beside a CNAME, are refused.
        (
            "/domains/addrec",
            &rec(ZONE, "cdn", "CNAME", "other.example.net."),
            "11319",
        ),
        (
            "/domains/addrec",
            &rec(ZONE, "cdn", "A", "192.0.2.9"),
            "11319",
        ),
        (
            "/domains/addrec",
            &rec(ZONE, "@", "CNAME", "x.example.net."),
            "11319",
        ),
    ])
    .await;
    // The capability adds the dot for the caller.
    let dns = e.conn.dns().unwrap();
    let input = RecordInput {
        host: "alias".into(),
        rtype: RecordType::Cname,
        value: "target.example.org".into(),
        ttl: 600,
        line: None,
        priority: None,
    };
    let made = dns.create_record(ZONE, &input).await.unwrap();
    assert_eq!(made.value, "target.example.org");
    let listed = e.records(ZONE).await;
    let alias = listed.iter().find(|r| r.host == "alias").unwrap();
    assert_eq!(alias.value, "target.example.org.");
    let changed = RecordInput {
        value: "other.example.org".into(),
        ..input
    };
    let id = made.upstream_id.unwrap();
    dns.update_record(ZONE, &id, &changed).await.unwrap();
    let listed = e.records(ZONE).await;
    let alias = listed.iter().find(|r| r.host == "alias").unwrap();
    assert_eq!(alias.value, "other.example.org.");
}
