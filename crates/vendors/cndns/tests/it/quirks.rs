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
                &[
                    ("domainname", "idcgate-demo.com"),
                    ("rec_item", "q"),
                    ("rec_type", "A"),
                    ("rec_value", "192.0.2.9"),
                ],
            )
            .await;
        let id = id.as_str().unwrap().to_string();
        let ns = first(
            &e.ok("/domains/dnslist", &[("domainname", "idcgate-demo.com")])
                .await,
        );
        assert_eq!(ns["dns1"], "ns1.cndns.com", "{quirk:?}");
        e.ok(
            "/domains/deleterec",
            &[("domainname", "idcgate-demo.com"), ("rec_id", &id)],
        )
        .await;
        let err = e
            .err(
                "/domains/deleterec",
                &[("domainname", "idcgate-demo.com"), ("rec_id", &id)],
            )
            .await;
        assert_eq!(code_of(&err), "11318", "{quirk:?}");
        assert_eq!(e.balance().await, Decimal::new(4945, 0), "{quirk:?}");
    }
}

#[tokio::test]
async fn a_broken_list_item_is_skipped_not_fatal() {
    let e = env().await;
    e.sim.set_quirk(Quirk::BrokenItem);
    let recs = e.records("idcgate-demo.com").await;
    // Four records, the second unreadable.
    assert_eq!(recs.len(), 3);
    e.sim.set_quirk(Quirk::None);
    assert_eq!(e.records("idcgate-demo.com").await.len(), 4);
}

#[tokio::test]
async fn a_body_with_no_envelope_is_transport_for_reads() {
    let e = env().await;
    e.srv.faults.update(|f| f.malformed_next = 1);
    let err = e.err("/user/userdetail", &[]).await;
    assert!(matches!(err, Error::Transport { .. }), "{err}");
}
