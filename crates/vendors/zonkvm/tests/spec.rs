//! The action table against the catalog copy in this directory.

use idcgate_zonkvm::spec;
use std::collections::BTreeSet;

#[test]
fn spec_has_exactly_the_catalog_ids() {
    let catalog = include_str!("catalog-zonkvm.tsv");
    let expected: BTreeSet<&str> = catalog
        .lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.split('\t').next().unwrap())
        .collect();
    assert_eq!(expected.len(), 144);
    let ours: BTreeSet<&str> = spec().actions.iter().map(|a| a.id.as_str()).collect();
    assert_eq!(ours, expected);
}

#[test]
fn wire_actions_methods_and_required_params_follow_the_catalog() {
    let catalog = include_str!("catalog-zonkvm.tsv");
    for line in catalog.lines().skip(1) {
        let cols: Vec<&str> = line.split('\t').collect();
        let action = spec().find(cols[0]).unwrap();
        assert_eq!(action.method, cols[3], "{}", cols[0]);
        assert_eq!(action.path, cols[4], "{}", cols[0]);
        let name = cols[0].trim_start_matches("zonkvm:");
        assert_eq!(
            action.action,
            name.split('#').next().unwrap(),
            "{}",
            cols[0]
        );
        for p in cols[5].split(',').map(str::trim) {
            let (bare, required) = match p.strip_suffix('*') {
                Some(b) => (b, true),
                None => (p.trim_end_matches('?'), false),
            };
            if bare == "-" {
                continue;
            }
            let ours = action
                .param(bare)
                .unwrap_or_else(|| panic!("{} lacks {bare}", cols[0]));
            if required {
                assert!(ours.required, "{} {bare} should be required", cols[0]);
            }
            if p.ends_with('?') {
                assert!(!ours.required, "{} {bare} is optional", cols[0]);
            }
        }
    }
}

#[test]
fn the_backup_guid_clash_stays_todo() {
    let a = spec().find("hosting_operate#hosting_del_backup").unwrap();
    assert!(!a.implemented);
    assert!(a.notes.contains("guid"));
}
