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
