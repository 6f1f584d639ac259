//! spec.tsv lists exactly the catalog ids, and every one is implemented.
#![allow(clippy::unwrap_used)] // a test may fail loudly

use idcgate_core::Error;
use idcgate_dnspod::spec;
use std::collections::BTreeSet;

fn catalog_ids(text: &str) -> BTreeSet<String> {
    text.lines()
        .skip(1)
        .filter_map(|l| l.split('\t').next())
        .filter(|id| id.starts_with("dnspod:"))
        .map(str::to_string)
        .collect()
}

#[test]
fn spec_ids_match_both_catalogs() {
    let agent = catalog_ids(include_str!("catalog-dnspod.tsv"));
    let user = catalog_ids(include_str!("catalog-dnspod-standard.tsv"));
    assert_eq!(agent.len(), 8);
    assert_eq!(user.len(), 61);
    let all: BTreeSet<String> = agent.union(&user).cloned().collect();
    let spec_ids: BTreeSet<String> = spec().actions.iter().map(|a| a.id.clone()).collect();
    assert_eq!(spec_ids, all);
    assert_eq!(spec().actions.len(), 69, "no duplicates");
    let agent_names: BTreeSet<String> = idcgate_dnspod::spec::AGENT_ACTIONS
        .iter()
        .map(|a| format!("dnspod:{a}"))
        .collect();
    assert_eq!(agent_names, agent);
}

#[test]
fn every_method_is_implemented() {
    for a in &spec().actions {
        assert!(spec().require(&a.id).is_ok(), "{}", a.id);
        // Wire name = the documented method; path is /<Method>.
        assert_eq!(format!("dnspod:{}", a.action), a.id);
        assert_eq!(a.path, format!("/{}", a.action));
        assert_eq!(a.method, "POST");
    }
    assert_eq!(spec().implemented().count(), 69);
    assert!(matches!(
        spec().require("Record.Nope"),
        Err(Error::InvalidInput { .. })
    ));
    assert!(spec().require("dnspod:Record.List").is_ok(), "full id");
    assert!(spec().require("Record.List").is_ok(), "short name");
}

/// Record.Create's one-of groups and typed fields: the params (`name=value`, space
/// separated), then `None` where they pass or the field (or group) a refusal names.
#[rustfmt::skip]
const ALTERNATIVES: &[(&str, Option<&str>)] = &[
    ("domain=a.com record_type=A record_line=默认 value=1.1.1.1", None),
    ("domain_id=1 record_type=A record_line_id=0 value=1.1.1.1", None),
    ("record_type=A record_line=默认 value=1.1.1.1", Some("domain_id|domain")),
    ("domain=a.com record_type=A value=1.1.1.1", Some("record_line|record_line_id")),
    ("domain=a.com record_type=A record_line=默认 value=1 ttl=x", Some("ttl")),
];

#[test]
fn alternatives_are_checked() {
    let create = spec().require("Record.Create").unwrap();
    for (params, refused) in ALTERNATIVES {
        let pairs = params.split(' ').map(|kv| kv.split_once('=').unwrap());
        let got = create.validate(pairs).err().map(|e| e.0);
        assert_eq!(got.as_deref(), *refused, "{params}");
    }
}
