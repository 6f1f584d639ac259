//! The action table against the catalog copy in this directory.

#![allow(clippy::unwrap_used)] // a test may fail loudly

use idcgate_core::spec::catalog_rows;
use idcgate_zonkvm::spec;

const CATALOG: &str = include_str!("catalog-zonkvm.tsv");

#[test]
fn spec_has_exactly_the_catalog_ids() {
    assert_eq!(spec().matches_catalog(CATALOG), Ok(144));
}

#[test]
fn wire_actions_methods_and_required_params_follow_the_catalog() {
    for cols in catalog_rows(CATALOG) {
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

/// The five rows once `todo` are implemented from a reading of the document that their
/// notes state (the backup `guid` clash, the IIS-only operations, the statistics).
#[test]
fn every_row_is_implemented_and_readings_are_noted() {
    for name in [
        "hosting_operate#hosting_get_site_total_list_custom",
        "hosting_operate#hosting_del_backup",
        "hosting_operate#hosting_get_iis_ssl_bydomain",
        "hosting_operate#hosting_get_iis_ssl_file_list",
        "hosting_operate#hosting_set_domain_iis_byfile",
    ] {
        let a = spec().find(name).unwrap();
        assert!(a.implemented && a.notes.contains("[reading: "), "{name}");
    }
    let del = spec().find("hosting_operate#hosting_del_backup").unwrap();
    assert!(del.notes.contains("guid is the backup record id"));
}
