//! Live answers are not always clean JSON; the client reads every malformation the
//! simulator can produce.

use super::*;
use idcgate_cndns::Quirk;

#[tokio::test]
async fn every_quirk_is_decoded() {
    let e = env().await;
    let clean = e.records("idcgate-demo.com").await;
    for quirk in [Quirk::HtmlWrapped, Quirk::Jsonp, Quirk::OverEscaped] {
        e.sim.set_quirk(quirk);
        let recs = e.records("idcgate-demo.com").await;
        assert_eq!(recs, clean, "{quirk:?}");
        // Scalars, nested JSON-in-a-string and failures too.
        let id = e
            .ok(
                "/domains/addrec",
                &rec("idcgate-demo.com", "q", "A", "192.0.2.9"),
            )
            .await;
        let id = id.as_str().unwrap().to_string();
        let ns = first(
            &e.ok("/domains/dnslist", &[("domainname", "idcgate-demo.com")])
                .await,
        );
        assert_eq!(ns["dns1"], "ns1.cndns.com", "{quirk:?}");
        let del = [("domainname", "idcgate-demo.com"), ("rec_id", &id)];
        e.ok("/domains/deleterec", &del).await;
        let again = e.code("/domains/deleterec", &del).await;
        assert_eq!(again, "11318", "{quirk:?}");
        assert_eq!(e.balance().await, Decimal::new(4945, 0), "{quirk:?}");
    }
}

#[tokio::test]
async fn a_broken_list_item_fails_a_raw_call_and_a_listing_alike() {
    let e = env().await;
    e.sim.set_quirk(Quirk::BrokenItem);
    // Four records, the second unreadable: what `idcgate call` runs is an error (after
    // the read's retries), not the three readable ones reported as the zone.
    let err = e
        .err("/domains/reclist", &[("domainname", "idcgate-demo.com")])
        .await;
    assert!(matches!(err, Error::Transport { .. }), "{err}");
    // Sync marks what a listing lacks as gone, so the capability refuses it too.
    let err = e
        .conn
        .dns()
        .unwrap()
        .list_records("idcgate-demo.com")
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Transport { .. }), "{err}");
    e.sim.set_quirk(Quirk::None);
    assert_eq!(e.records("idcgate-demo.com").await.len(), 4);
}

#[tokio::test]
async fn an_unreadable_payload_is_never_success() {
    let sim = Sim::sandbox();
    // Each body says "success" but its payload cannot be read; one fixed body for every
    // request, shapes the simulator never produces.
    for body in [
        r#"{"action":"Rec list","status":"success","message":[坏, {"rec_id":坏}]}"#,
        r#"{"action":"Rec list","status":"success","message":[1, 坏]}"#,
        r#"{"action":"create host","status":"success","message":{"cloudsn":未知},}"#,
        r#"{"action":"create host","status":"success","message":未知,}"#,
    ] {
        let base =
            testing::serve_app(axum::Router::new().fallback(move || async move { body })).await;
        let conn =
            idcgate_cndns::connect(&account(&base, creds(&sim)), &testing::config()).unwrap();
        // A read: an error, not an empty or shorter list.
        let read = conn
            .call(
                "/domains/reclist",
                &vec![("domainname".into(), "idcgate-demo.com".into())],
            )
            .await;
        assert!(
            matches!(read, Err(Error::Transport { .. })),
            "{body}: {read:?}"
        );
        // A write: the upstream may have done it, so neither success (`null`) nor failure.
        let write = conn
            .call(
                "/domains/addrec",
                &rec("idcgate-demo.com", "w", "A", "192.0.2.1")
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect::<Vec<_>>(),
            )
            .await;
        assert!(
            matches!(write, Err(Error::UnknownOutcome { .. })),
            "{body}: {write:?}"
        );
    }
}

#[tokio::test]
async fn a_listing_of_the_wrong_shape_is_an_error_not_an_empty_zone() {
    let sim = Sim::sandbox();
    for (body, empty) in [
        (
            r#"{"action":"Rec list","status":"success","message":"解析异常"}"#,
            false,
        ),
        (
            r#"{"action":"Rec list","status":"success","message":{"rec_id":"1"}}"#,
            false,
        ),
        (
            r#"{"action":"Rec list","status":"success","message":" "}"#,
            true,
        ),
        (
            r#"{"action":"Rec list","status":"success","message":[]}"#,
            true,
        ),
    ] {
        // One fixed body for every request: a shape the simulator never produces.
        let base =
            testing::serve_app(axum::Router::new().fallback(move || async move { body })).await;
        let conn =
            idcgate_cndns::connect(&account(&base, creds(&sim)), &testing::config()).unwrap();
        let got = conn.dns().unwrap().list_records("idcgate-demo.com").await;
        match got {
            Ok(r) if empty => assert!(r.is_empty(), "{body}"),
            Err(Error::Transport { .. }) if !empty => {}
            other => panic!("{body}: {other:?}"),
        }
    }
}

#[tokio::test]
async fn a_body_with_no_envelope_is_transport_for_reads() {
    let e = env().await;
    e.srv.faults.update(|f| f.malformed_next = 1);
    let err = e.err("/user/userdetail", &[]).await;
    assert!(matches!(err, Error::Transport { .. }), "{err}");
}

#[tokio::test]
async fn an_unreadable_body_is_retried_for_reads_and_unknown_for_writes() {
    let e = env_with(Sim::sandbox(), retrying_once()).await;
    // A read: the broken answer is asked again, once.
    let seen = e.srv.faults.requests();
    e.srv.faults.update(|f| f.malformed_next = 1);
    assert_eq!(e.balance().await, Decimal::new(4945, 0));
    assert_eq!(e.srv.faults.requests(), seen + 2);
    // A write: the change may have happened, so it is neither retried nor reported.
    let kv = rec("idcgate-demo.com", "lost", "A", "192.0.2.77");
    e.add_record_unanswered(|f| f.malformed_next = 1, &kv).await;
    // It did happen: reading the zone finds the record once.
    let recs = e.records("idcgate-demo.com").await;
    assert_eq!(recs.iter().filter(|r| r.host == "lost").count(), 1);
}

/// A required parameter left empty is answered with the action's own code for it
/// (11301 域名为空, 11303 主机头不能为空, 10015 ... 为空 of the product modules), every
/// such code one the action's [结果] table lists; 10012 where it lists none.
#[tokio::test]
async fn empty_parameters_get_the_actions_own_codes() {
    let catalog = include_str!("../catalog-cndns.tsv");
    let documented = |id: &str| -> Vec<String> {
        catalog
            .lines()
            .find(|l| l.split('\t').next() == Some(id))
            .and_then(|l| l.split('\t').nth(5))
            .map(|codes| codes.split(',').map(str::to_string).collect())
            .unwrap_or_default()
    };
    let mut checked = 0;
    for a in spec().actions.iter() {
        for p in a.params.iter().filter(|p| p.required) {
            if let Some(code) = idcgate_cndns::errors::empty_code(a.name(), &p.name) {
                let listed = documented(&a.id);
                assert!(
                    listed.contains(&code.to_string()),
                    "{} {}: {code} is not in its table {listed:?}",
                    a.id,
                    p.name
                );
                checked += 1;
            }
        }
    }
    assert!(checked > 60, "{checked}");
    // On the wire: each left out in turn.
    let e = env().await;
    // (page, parameters sent, the code wanted)
    type Case<'a> = (&'a str, &'a [(&'a str, &'a str)], &'a str);
    let cases: [Case; 7] = [
        (
            "/domains/AddRec.aspx",
            &[
                ("domainname", "idcgate-demo.com"),
                ("rec_type", "A"),
                ("rec_value", "1.2.3.4"),
            ],
            "11303",
        ),
        (
            "/domains/AddRec.aspx",
            &[
                ("domainname", "idcgate-demo.com"),
                ("rec_item", "x"),
                ("rec_value", "1.2.3.4"),
            ],
            "11306",
        ),
        (
            "/domains/AddRec.aspx",
            &[
                ("domainname", "idcgate-demo.com"),
                ("rec_item", "x"),
                ("rec_type", "A"),
            ],
            "11305",
        ),
        (
            "/domains/DeleteRec.aspx",
            &[("domainname", "idcgate-demo.com")],
            "11317",
        ),
        ("/domains/DNSList.aspx", &[], "11301"),
        ("/hosting/HostDetail.aspx", &[], "10015"),
        (
            "/domains/CreateDom.aspx",
            &[
                ("domainname", "x.com"),
                ("years", "1"),
                ("domainpass", "Abc12345"),
            ],
            "11131",
        ),
    ];
    for (i, (path, kv, want)) in cases.iter().enumerate() {
        let mut pairs = e.auth_at(&otime(i as i64));
        pairs.extend(kv.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        let v = e.raw(path, &pairs).await;
        let message = v["message"].as_str().unwrap_or_default();
        assert!(message.starts_with(want), "{path} {kv:?}: {v}");
    }
}
