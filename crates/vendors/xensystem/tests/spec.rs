//! The action table against the catalog copy in this directory.

use idcgate_xensystem::spec;
use std::collections::BTreeSet;

#[test]
fn spec_has_exactly_the_catalog_ids_all_implemented() {
    let catalog = include_str!("catalog-xensystem.tsv");
    let expected: BTreeSet<&str> = catalog
        .lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.split('\t').next().unwrap())
        .collect();
    assert_eq!(expected.len(), 56);
    let ours: BTreeSet<&str> = spec().actions.iter().map(|a| a.id.as_str()).collect();
    assert_eq!(ours, expected);
    let todo: Vec<&str> = spec()
        .actions
        .iter()
        .filter(|a| !a.implemented)
        .map(|a| a.id.as_str())
        .collect();
    assert!(todo.is_empty(), "not implemented: {todo:?}");
}

#[test]
fn spec_methods_and_required_params_follow_the_catalog() {
    let catalog = include_str!("catalog-xensystem.tsv");
    for line in catalog.lines().skip(1) {
        let cols: Vec<&str> = line.split('\t').collect();
        let action = spec().find(cols[0]).unwrap();
        assert_eq!(action.method, cols[3], "{}", cols[0]);
        for p in cols[5]
            .split(',')
            .map(str::trim)
            .filter(|p| p.ends_with('*'))
        {
            let name = p.trim_end_matches('*');
            // In `cmd_params.ip_*` the star is the catalog's NIC-index wildcard.
            if name.contains('.') {
                assert!(
                    action.param(&format!("{name}N")).is_some(),
                    "{}: {name}N",
                    cols[0]
                );
                continue;
            }
            // Starred, but the document says it applies to system-level calls only;
            // a user-level key addresses itself.
            if (cols[0], name) == ("xensystem:user_send_verification_code", "userid") {
                assert!(!action.param(name).unwrap().required);
                continue;
            }
            let ours = action
                .param(name)
                .unwrap_or_else(|| panic!("{} lacks {name}", cols[0]));
            assert!(ours.required, "{} {name} should be required", cols[0]);
        }
    }
}
