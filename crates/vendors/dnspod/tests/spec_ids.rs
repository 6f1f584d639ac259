//! spec.tsv lists exactly the catalog ids, and every one is implemented.

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

#[test]
fn alternatives_are_checked() {
    let create = spec().require("Record.Create").unwrap();
    let ok = [
        ("domain", "a.com"),
        ("record_type", "A"),
        ("record_line", "默认"),
        ("value", "1.1.1.1"),
    ];
    assert!(create.validate(ok).is_ok());
    let by_id = [
        ("domain_id", "1"),
        ("record_type", "A"),
        ("record_line_id", "0"),
        ("value", "1.1.1.1"),
    ];
    assert!(create.validate(by_id).is_ok());
    let missing = [
        ("record_type", "A"),
        ("record_line", "默认"),
        ("value", "1.1.1.1"),
    ];
    assert_eq!(create.validate(missing).unwrap_err().0, "domain_id|domain");
    let no_line = [
        ("domain", "a.com"),
        ("record_type", "A"),
        ("value", "1.1.1.1"),
    ];
    assert_eq!(
        create.validate(no_line).unwrap_err().0,
        "record_line|record_line_id"
    );
    let bad_int = [
        ("domain", "a.com"),
        ("record_type", "A"),
        ("record_line", "默认"),
        ("value", "1"),
        ("ttl", "x"),
    ];
    assert_eq!(create.validate(bad_int).unwrap_err().0, "ttl");
}
