//! The action table against the catalog copy in this directory.

#![allow(clippy::unwrap_used)] // a test may fail loudly

use idcgate_core::spec::catalog_rows;
use idcgate_xensystem::spec;

const CATALOG: &str = include_str!("catalog-xensystem.tsv");

#[test]
fn spec_has_exactly_the_catalog_ids_all_implemented() {
    assert_eq!(spec().matches_catalog(CATALOG), Ok(56));
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
    for cols in catalog_rows(CATALOG) {
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
