//! DNS: validation by type, TTL, MX level, lines, pause, default-line rule, duplicates,
//! double delete, both record APIs on one zone store, and the Dns capability.

use super::*;
use idcgate_core::{RecordInput, RecordType};

const Z: &str = "idcgate-demo.com";

/// Adds a `t` record `host` -> `value` to [`Z`], with `more` parameters (level, ttl, line).
async fn add(
    e: &Env,
    host: &str,
    t: &str,
    value: &str,
    more: &[(&str, &str)],
) -> Result<Value, Error> {
    let mut all = vec![("domain", Z), ("host", host), ("type", t), ("value", value)];
    all.extend_from_slice(more);
    e.call("domain.adddnsrecord", &all).await
}

/// The id of a record [`add`] must add.
async fn added(e: &Env, host: &str, t: &str, value: &str, more: &[(&str, &str)]) -> String {
    match add(e, host, t, value, more).await {
        Ok(v) => id_of(&v, "id"),
        Err(err) => panic!("adding {host} {t} {value}: {err}"),
    }
}

#[tokio::test]
async fn record_validation_by_type() {
    let e = env().await;
    let before = items(&e.ok("domain.getdnsrecords", &[("domain", Z)]).await).len();
    // (host, type, value, level, ttl, expected errcode or "" for success)
    let table: [(&str, &str, &str, &str, &str, &str); 18] = [
        ("v4", "A", "192.0.2.10", "10", "900", ""),
        ("v4bad", "A", "192.0.2.300", "10", "900", "20113"),
        ("v6", "AAAA", "2001:db8::1", "10", "900", ""),
        ("v6bad", "AAAA", "192.0.2.1", "10", "900", "20113"),
        ("alias", "CNAME", "target.example.net.", "10", "900", ""),
        ("alias2", "CNAME", "not a host", "10", "900", "20113"),
        ("mail2", "MX", "mx2.example.net", "5", "900", ""),
        ("mail3", "MX", "mx3.example.net", "0", "900", "20116"),
        ("mail4", "MX", "mx4.example.net", "101", "900", "20116"),
        ("txt", "TXT", "hello world", "10", "900", ""),
        (
            "_sip._tcp",
            "SRV",
            "5 5060 sip.example.net",
            "10",
            "900",
            "",
        ),
        (
            "_bad._tcp",
            "SRV",
            "5060 sip.example.net",
            "10",
            "900",
            "20113",
        ),
        ("bad host!", "A", "192.0.2.1", "10", "900", "20113"),
        ("t1", "A", "192.0.2.1", "10", "59", "20116"),
        ("t2", "A", "192.0.2.1", "10", "60", ""),
        ("t3", "A", "192.0.2.1", "10", "86400", ""),
        ("t4", "A", "192.0.2.1", "10", "86401", "20116"),
        // CNAME conflicts with other records on the same host and line.
        ("alias", "A", "192.0.2.1", "10", "900", "20113"),
    ];
    let mut accepted = 0;
    for (host, t, v, level, ttl, want) in table {
        let r = add(&e, host, t, v, &[("level", level), ("ttl", ttl)]).await;
        match (&r, want) {
            (Ok(_), "") => accepted += 1,
            (Err(err), code) if !code.is_empty() => {
                assert!(err.to_string().contains(code), "{host} {t} {v}: {err}")
            }
            _ => panic!("{host} {t} {v} level {level} ttl {ttl}: {r:?}, wanted {want:?}"),
        }
    }
    // Refused records left no trace.
    let all = items(&e.ok("domain.getdnsrecords", &[("domain", Z)]).await);
    assert_eq!(all.len(), before + accepted);
    let ttl_of = |h: &str| {
        all.iter()
            .find(|r| r["item"] == h)
            .map(|r| r["ttl"].clone())
    };
    assert_eq!(ttl_of("t3"), Some(Value::from(86400)));
    assert_eq!(ttl_of("t4"), None);
    // CNAME stored without the trailing dot; MX level kept.
    let got = e
        .ok("domain.getdnsrecord", &[("domain", Z), ("host", "alias")])
        .await;
    assert_eq!(items(&got)[0]["value"], "target.example.net");
    let mx = e
        .ok(
            "domain.getdnsrecord",
            &[("domain", Z), ("host", "mail2"), ("type", "MX")],
        )
        .await;
    assert_eq!(items(&mx)[0]["level"], 5);
}

#[tokio::test]
async fn lines_default_rule_pause_modify_and_delete() {
    let e = env().await;
    // A line record needs a default-line record first.
    let err = add(&e, "cdn", "A", "192.0.2.20", &[("line", "LTEL")])
        .await
        .unwrap_err();
    assert_field(&err, "line");
    let def = added(&e, "cdn", "A", "192.0.2.21", &[]).await;
    for line in ["LTEL", "LCNC", "LMOB", "LEDU", "LSEO", "LFOR"] {
        added(&e, "cdn", "A", "192.0.2.22", &[("line", line)]).await;
    }
    let all = e
        .ok("domain.getdnsrecord", &[("domain", Z), ("host", "cdn")])
        .await;
    assert_eq!(items(&all).len(), 7);
    // The last default-line record cannot go while line records depend on it.
    e.fails_saying(
        "domain.deldnsrecord",
        &[("domain", Z), ("id", &def)],
        "20119",
    )
    .await;
    // Pause (live field val) and resume (the catalog's pause field).
    for (field, v, want) in [("val", "1", 1), ("pause", "0", 0)] {
        e.ok(
            "domain.pausednsrecord",
            &[("domain", Z), ("id", &def), (field, v)],
        )
        .await;
        let r = e
            .ok("domain.getdnsrecord", &[("domain", Z), ("host", "cdn")])
            .await;
        let rec = items(&r)
            .into_iter()
            .find(|x| id_of(x, "id") == def)
            .unwrap();
        assert_eq!(rec["pause"], want, "{field}={v}");
    }
    // Modify keeps what is not sent.
    let by_id = [("domain", Z), ("id", &def)];
    let new = [("value", "192.0.2.99"), ("ttl", "600")];
    e.ok("domain.moddnsrecord", &[&by_id[..], &new].concat())
        .await;
    let r = e
        .ok(
            "domain.getdnsrecord",
            &[("domain", Z), ("host", "cdn"), ("type", "A")],
        )
        .await;
    let m = items(&r)
        .into_iter()
        .find(|x| id_of(x, "id") == def)
        .unwrap();
    assert_eq!(
        (m["value"].as_str(), m["ttl"].as_i64(), m["line"].as_str()),
        (Some("192.0.2.99"), Some(600), Some(""))
    );
    // Modify into a duplicate is refused.
    let other = added(&e, "dupe", "A", "192.0.2.1", &[]).await;
    added(&e, "dupe", "A", "192.0.2.2", &[]).await;
    let rec = [("domain", Z), ("id", &other)];
    e.steps(&[
        (
            "domain.moddnsrecord",
            &[rec[0], rec[1], ("value", "192.0.2.2")],
            "20118",
        ),
        ("domain.deldnsrecord", &rec, OK),
        ("domain.deldnsrecord", &rec, "20120"),
        (
            "domain.moddnsrecord",
            &[rec[0], rec[1], ("value", "192.0.2.3")],
            "20120",
        ),
    ])
    .await;
}

#[tokio::test]
async fn both_record_apis_share_one_zone() {
    let e = env().await;
    // Older API: add, seen by the v2 API.
    let b = e
        .ok("dnsrec.add", &legacy(Z, "legacy", "A", "192.0.2.77"))
        .await;
    let rid = id_of(&b, "record_id");
    assert!(b["record_id"].is_number());
    let v2 = e
        .ok("domain.getdnsrecord", &[("domain", Z), ("host", "legacy")])
        .await;
    assert_eq!(id_of(&items(&v2)[0], "id"), rid);
    // v2 add, seen by the older API (record_id first, a number).
    let id2 = added(&e, "fromv2", "TXT", "v2 text", &[]).await;
    let l = e
        .ok("dnsrec.list", &[("domain", Z), ("hostname", "fromv2")])
        .await;
    let first = &items(&l)[0];
    assert_eq!(
        first.as_object().unwrap().keys().next().unwrap(),
        "record_id"
    );
    assert_eq!(id_of(first, "record_id"), id2);
    // Duplicate across APIs.
    let err = e
        .err("dnsrec.add", &legacy(Z, "fromv2", "TXT", "v2 text"))
        .await;
    assert_eq!(code_of(&err), "409");
    // Modify by the older API, read by v2.
    let by_old = [("domain", Z), ("record_id", &rid)];
    let new = [("record_value", "192.0.2.78"), ("record_ttl", "120")];
    e.ok("dnsrec.modify", &[&by_old[..], &new].concat()).await;
    let v2 = e
        .ok("domain.getdnsrecord", &[("domain", Z), ("host", "legacy")])
        .await;
    assert_eq!(
        (
            items(&v2)[0]["value"].as_str(),
            items(&v2)[0]["ttl"].as_i64()
        ),
        (Some("192.0.2.78"), Some(120))
    );
    // Upsert by hostname with a full name as domain (ACME / DDNS clients).
    const ACME: &str = "_acme-challenge.www.idcgate-demo.com";
    let u1 = e
        .ok("dnsrec.update", &legacy(ACME, "@", "TXT", "token-1"))
        .await;
    let u2 = e
        .ok("dnsrec.update", &legacy(ACME, "@", "TXT", "token-2"))
        .await;
    assert_eq!(u1["record_id"], u2["record_id"], "update is an upsert");
    let acme = e
        .ok(
            "domain.getdnsrecord",
            &[("domain", Z), ("host", "_acme-challenge.www")],
        )
        .await;
    assert_eq!(items(&acme).len(), 1);
    assert_eq!(items(&acme)[0]["value"], "token-2");
    let same = e
        .ok(
            "dnsrec.update",
            &legacy(Z, "_acme-challenge.www", "TXT", "token-2"),
        )
        .await;
    assert_eq!(
        same["record_id"], u1["record_id"],
        "an unchanged update is a success"
    );
    // Remove by the older API; the v2 API then sees it as already deleted.
    let legacy_id = [("domain", Z), ("record_id", rid.as_str())];
    e.steps(&[
        ("dnsrec.remove", &legacy_id, OK),
        (
            "domain.deldnsrecord",
            &[("domain", Z), ("id", &rid)],
            "20120",
        ),
        ("dnsrec.remove", &legacy_id, "410"),
    ])
    .await;
    // Not in the account: 404 -> NotFound.
    assert!(matches!(
        e.err("dnsrec.list", &[("domain", "nobody-owns-this.com")])
            .await,
        Error::NotFound { .. }
    ));
}

/// The older API with `hostname` as the full record name, `domain` the zone or that same
/// name (what public ACME clients send): the record lands at that name, the zone not
/// appended again; list and update find it by the same spelling.
#[tokio::test]
async fn older_api_takes_a_full_hostname_as_absolute() {
    let e = env().await;
    const FULL: &str = "_acme-challenge.www.idcgate-demo.com";
    for (domain, value) in [(Z, "tok-zone"), (FULL, "tok-full")] {
        let b = e
            .ok("dnsrec.update", &legacy(domain, FULL, "TXT", value))
            .await;
        let rid = id_of(&b, "record_id");
        let v2 = e
            .ok(
                "domain.getdnsrecord",
                &[("domain", Z), ("host", "_acme-challenge.www")],
            )
            .await;
        assert_eq!(items(&v2).len(), 1, "{domain}: {v2}");
        assert_eq!(id_of(&items(&v2)[0], "id"), rid, "{domain}");
        assert_eq!(items(&v2)[0]["value"], value, "{domain}");
        let l = e
            .ok("dnsrec.list", &[("domain", domain), ("hostname", FULL)])
            .await;
        assert_eq!(items(&l).len(), 1, "{domain}: {l}");
        assert_eq!(items(&l)[0]["hostname"], "_acme-challenge.www", "{domain}");
    }
    // dnsrec.add likewise, also with the root's full name (the apex) and a trailing dot.
    e.ok(
        "dnsrec.add",
        &legacy(Z, "mail.idcgate-demo.com.", "A", "192.0.2.61"),
    )
    .await;
    e.ok(
        "dnsrec.add",
        &legacy(Z, "idcgate-demo.com", "TXT", "apex-by-full-name"),
    )
    .await;
    let mail = e
        .ok("domain.getdnsrecord", &[("domain", Z), ("host", "mail")])
        .await;
    assert!(
        items(&mail).iter().any(|r| r["value"] == "192.0.2.61"),
        "{mail}"
    );
    let apex = e
        .ok("domain.getdnsrecord", &[("domain", Z), ("host", "@")])
        .await;
    assert!(
        items(&apex)
            .iter()
            .any(|r| r["value"] == "apex-by-full-name"),
        "{apex}"
    );
}

#[tokio::test]
async fn older_api_accepts_the_domain_key_and_refuses_bad_keys() {
    let e = env().await;
    let pw = e.ok("domain.getdomainpwd", &[("domain", Z)]).await["password"]
        .as_str()
        .unwrap()
        .to_string();
    let key = md5_of(&pw);
    let mut pairs = vec![
        ("act".to_string(), "dnsrec.list".to_string()),
        ("domain".into(), Z.into()),
        ("apidomainkey".into(), key),
    ];
    let v = e.raw_json("/api/v2/domain/dns/", gbk_form(&pairs)).await;
    assert_eq!(v["code"], 200);
    assert_eq!(v["msg"], "success");
    assert!(v["body"]["total"].as_u64().unwrap() >= 3);
    pairs[2].1 = "0".repeat(32);
    let v = e.raw_json("/api/v2/domain/dns/", gbk_form(&pairs)).await;
    assert_eq!(v["code"], 401);
    // Without valid credentials an unknown domain is a 401 as well, not a 404: the
    // answer must not tell a stranger which domains the account holds.
    pairs[1].1 = "not-in-this-account.com".into();
    let v = e.raw_json("/api/v2/domain/dns/", gbk_form(&pairs)).await;
    assert_eq!(v["code"], 401);
    let err = e
        .err("dnsrec.list", &[("domain", "not-in-this-account.com")])
        .await;
    assert!(
        matches!(err, Error::NotFound { ref what } if what.contains("404")),
        "{err}"
    );
}

/// The older API's record fields: zone (or a full name), host, type, value.
fn legacy<'a>(
    domain: &'a str,
    host: &'a str,
    rtype: &'a str,
    value: &'a str,
) -> [(&'a str, &'a str); 4] {
    [
        ("domain", domain),
        ("hostname", host),
        ("record_type", rtype),
        ("record_value", value),
    ]
}

fn md5_of(s: &str) -> String {
    // md5(s) == token("", s, ""): the crate's own md5, zero-padded lowercase hex.
    idcgate_west::token("", s, "")
}

#[tokio::test]
async fn dns_capability_on_a_sandbox_zone() {
    let e = env().await;
    let dns = e.conn.dns().unwrap();
    let zones = dns.list_zones().await.unwrap();
    assert_eq!(zones.len(), 5);
    assert!(zones.iter().any(|z| z.name == Z));
    let before = dns.list_records(Z).await.unwrap();
    assert!(before.len() >= 4);
    let input = RecordInput {
        host: "api".into(),
        rtype: RecordType::Cname,
        value: "lb.example.net.".into(),
        ttl: 600,
        line: None,
        priority: None,
    };
    let rec = dns.create_record(Z, &input).await.unwrap();
    assert_eq!(rec.value, "lb.example.net");
    let id = rec.upstream_id.clone().unwrap();
    let line_in = RecordInput {
        host: "api".into(),
        rtype: RecordType::Cname,
        value: "lb-tel.example.net".into(),
        ttl: 600,
        line: Some("telecom".into()),
        priority: None,
    };
    let lined = dns.create_record(Z, &line_in).await.unwrap();
    assert_eq!(lined.line.as_deref(), Some("telecom"));
    let upd = RecordInput {
        value: "lb2.example.net".into(),
        ttl: 300,
        ..input.clone()
    };
    let rec2 = dns.update_record(Z, &id, &upd).await.unwrap();
    assert_eq!((rec2.value.as_str(), rec2.ttl), ("lb2.example.net", 300));
    for enabled in [false, true] {
        dns.set_record_enabled(Z, &id, enabled).await.unwrap();
        let all = dns.list_records(Z).await.unwrap();
        let r = all
            .iter()
            .find(|r| r.upstream_id.as_deref() == Some(id.as_str()));
        assert_eq!(r.unwrap().enabled, enabled);
    }
    dns.delete_record(Z, lined.upstream_id.as_deref().unwrap())
        .await
        .unwrap();
    dns.delete_record(Z, &id).await.unwrap();
    dns.delete_record(Z, &id).await.unwrap(); // already gone = done
    assert_eq!(dns.list_records(Z).await.unwrap().len(), before.len());
    let mx = RecordInput {
        host: "@".into(),
        rtype: RecordType::Mx,
        value: "mx9.example.net".into(),
        ttl: 900,
        line: None,
        priority: Some(20),
    };
    assert_eq!(dns.create_record(Z, &mx).await.unwrap().priority, Some(20));
    assert!(dns.lines(Z).await.unwrap().contains(&"abroad".to_string()));
    let caa = RecordInput {
        rtype: RecordType::Caa,
        ..mx
    };
    assert!(matches!(
        dns.create_record(Z, &caa).await,
        Err(Error::InvalidInput { .. })
    ));
}

#[tokio::test]
async fn bulk_seed_lists_every_page() {
    let sim = Sim::sandbox();
    let t = std::time::Instant::now();
    // The benchmark's size: 10k domains, 100k records, 2k servers.
    sim.seed_bulk(10_000, 10, 2_000);
    assert!(t.elapsed().as_secs() < 20, "seeding took {:?}", t.elapsed());
    let e = env_with(sim, testing::config()).await;
    assert_eq!(
        e.conn.dns().unwrap().list_zones().await.unwrap().len(),
        10_005
    );
    assert_eq!(
        e.conn
            .compute()
            .unwrap()
            .list_servers()
            .await
            .unwrap()
            .len(),
        2_002
    );
    assert_eq!(
        e.conn
            .dns()
            .unwrap()
            .list_records("bulk-009999.com")
            .await
            .unwrap()
            .len(),
        10
    );
    let recs = e
        .ok(
            "domain.getdnsrecords",
            &[
                ("domain", "bulk-000042.com"),
                ("pageno", "4"),
                ("limit", "3"),
            ],
        )
        .await;
    assert_eq!(
        (
            recs["total"].as_u64(),
            recs["totalpages"].as_u64(),
            items(&recs).len()
        ),
        (Some(10), Some(4), 1)
    );
}

#[tokio::test]
async fn pausing_needs_val_or_pause_and_is_refused_before_sending() {
    let e = env().await;
    let before = e.srv.faults.requests();
    e.refused_field(
        "domain.pausednsrecord",
        &[("domain", "mybrand.net"), ("id", "1")],
        "val|pause",
    )
    .await;
    assert_eq!(e.srv.faults.requests(), before);
}
