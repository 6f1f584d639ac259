//! The hosting and database control panels resold as they are. A reseller's tenant
//! meets the same panel its upstream serves, so these sub-operations of
//! `hosting_operate` / `sql_operate` pass through: the downstream dialect accepts only
//! those named here, and the capability checks the name and the fields again before
//! anything is sent, so neither trusts the other.
//!
//! Fields are the spec row's, nothing else: `guid` and the discriminator are never
//! taken from a request (the capability sends the upstream's own order number), and a
//! JSON parameter keeps only the keys its row lists under it.
//!
//! Two kinds beside them: reads of a hosting line rather than of an order ([`LINE`],
//! whose `line_guid` the capability sets to the line of the product's offer), and
//! sub-operations whose `guid` is a record of the order rather than the order
//! ([`by_record`]: a backup's id), which the capability sends only once the order's
//! own list shows that record.

use crate::spec::spec;
use idcgate_core::spec::{ActionKind, ActionSpec, ParamType};
use serde_json::Value;

/// `hosting_operate` sub-operations that pass through. Left out, each for a reason:
/// start, stop, the FTP password and domains have their typed `SiteAction`s; renew,
/// refund and upgrade move money (the storefront's); `hosting_add_database` makes a
/// database the tenant then holds (`WebHosting::add_bundled_database`, through the
/// storefront); `hosting_del_backup`'s `guid` is a backup record's id, unique across
/// the upstream account ([`by_record`]).
pub const HOSTING: &[&str] = &[
    "hosting_edit_name",
    "hosting_set_php_version",
    "hosting_get_security",
    "hosting_set_security",
    "hosting_get_index",
    "hosting_set_site_status",
    "hosting_set_site_cc_conf",
    "hosting_set_site_retry",
    "hosting_get_site_total_list_custom",
    "hosting_get_proxy_list",
    "hosting_create_proxy",
    "hosting_modify_proxy",
    "hosting_delete_proxy",
    "hosting_get_proxy_file",
    "hosting_get_redirect_list",
    "hosting_create_redirect",
    "hosting_modify_redirect",
    "hosting_delete_redirect",
    "hosting_get_redirect_file",
    "hosting_save_redirect_file",
    "hosting_backup_list",
    "hosting_to_backup",
    "hosting_get_ssl",
    "hosting_set_ssl",
    "hosting_unset_ssl",
    "hosting_http_to_https",
    "hosting_close_to_https",
    "hosting_close_ssl_conf",
    "hosting_get_iis_ssl_bydomain",
    "hosting_get_iis_ssl_file_list",
    "hosting_set_domain_iis_byfile",
    "hosting_get_dir_binding",
    "hosting_get_dir_user_ini_switch",
    "hosting_get_user_ini",
    "hosting_set_dir_user_ini",
    "hosting_set_run_path",
    "hosting_get_rewrite_list",
    "hosting_get_file_body",
    "hosting_save_file_body",
    "hosting_web_get_index",
    "hosting_web_set_index",
    "hosting_create_file",
    "hosting_create_dir",
    "hosting_get_dir_new",
    "hosting_get_dir_size",
    "hosting_zip",
    "hosting_unzip",
    "hosting_delete_file",
    "hosting_set_batch_data",
    "hosting_mv_file",
    "hosting_check_exists_files",
    "hosting_paste_file",
    "hosting_batch_paste",
    "hosting_upload_files_exists",
    // multipart/form-data: the client sends its row that way; `file` is the call's
    // bytes (`PanelCall::file`), else a text field.
    "hosting_upload",
    // Restores a host after its renewal: no money moves.
    "hosting_resume_after_renew",
];

/// `sql_operate` sub-operations that pass through; the password has its typed
/// `SiteAction`, renew, refund and upgrade move money.
pub const SQL: &[&str] = &[
    "sql_edit_name",
    "sql_reissue",
    "sql_get_access",
    "sql_set_access",
    "sql_backup_list",
    "sql_to_backup",
    "sql_del_backup",
    "sql_get_backup_size",
    "sql_input_backup",
    "sql_get_import_size",
];

/// Reads of a hosting line (a product's line, not an order): `line_guid` is the
/// upstream's line of the product, set by the capability; the rest are the row's.
pub const LINE: &[&str] = &["get_php_version", "hosting_get_soft_find"];

/// The field of a [`by_record`] call that names the record (sent upstream as `guid`).
pub const RECORD: &str = "record";

/// For a sub-operation whose `guid` is one of the order's records, the sub-operation
/// listing them (by the order's id), whose rows' `id` it takes.
pub fn by_record(family: &str, operation: &str) -> Option<&'static str> {
    match (family, operation) {
        ("hosting_operate", "hosting_del_backup") => Some("hosting_backup_list"),
        _ => None,
    }
}

/// Whether `operation` of the wire action `family` (`hosting_operate`, `sql_operate`)
/// passes through.
pub fn passes(family: &str, operation: &str) -> bool {
    match family {
        "hosting_operate" => HOSTING.contains(&operation),
        "sql_operate" => SQL.contains(&operation),
        _ => false,
    }
}

/// Whether a passing sub-operation only reads.
pub fn reads(family: &str, operation: &str) -> bool {
    row(family, operation).is_some_and(|a| a.kind == ActionKind::Read)
}

fn row(family: &str, operation: &str) -> Option<&'static ActionSpec> {
    spec()
        .find(&format!("{family}#{operation}"))
        .filter(|_| passes(family, operation))
}

/// The fields of `given` that the row of `family#operation` lists, in the order given:
/// never `guid` nor the discriminator; `parent[child]` spelled `parent.child`; a JSON
/// parameter's own object reduced to the keys its row lists under it (one with none
/// listed is passed whole). Everything else is dropped. `Err((field, reason))` for a
/// JSON parameter that is not JSON, or a sub-operation that does not pass.
pub fn fields(
    family: &str,
    operation: &str,
    given: &[(String, String)],
) -> Result<Vec<(String, String)>, (String, String)> {
    let action = row(family, operation).ok_or_else(|| {
        (
            "operate".to_string(),
            format!("{operation} is not passed through"),
        )
    })?;
    listed_fields(action, "guid", given)
}

/// The fields of `given` that the row of the line read `action` ([`LINE`]) lists, as
/// [`fields`] takes them; never `line_guid`, which names the line.
pub fn line_fields(
    action: &str,
    given: &[(String, String)],
) -> Result<Vec<(String, String)>, (String, String)> {
    let row = spec()
        .find(action)
        .filter(|_| LINE.contains(&action))
        .ok_or_else(|| {
            (
                "action".to_string(),
                format!("{action} is not passed through"),
            )
        })?;
    listed_fields(row, "line_guid", given)
}

fn listed_fields(
    action: &ActionSpec,
    never: &str,
    given: &[(String, String)],
) -> Result<Vec<(String, String)>, (String, String)> {
    let listed = |name: &str| {
        action
            .params
            .iter()
            .any(|p| p.name == name && !p.discriminator && p.name != never)
    };
    let mut out = Vec::new();
    for (k, v) in given {
        let key = match k.split_once('[') {
            Some((parent, rest)) => match rest.strip_suffix(']') {
                Some(child) => format!("{parent}.{child}"),
                None => continue,
            },
            None => k.clone(),
        };
        if !listed(&key) {
            continue;
        }
        let json = action
            .param(&key)
            .is_some_and(|p| matches!(p.ty, ParamType::Json));
        let prefix = format!("{key}.");
        let children: Vec<&str> = action
            .params
            .iter()
            .filter_map(|p| p.name.strip_prefix(&prefix))
            .collect();
        if !json || children.is_empty() {
            out.push((key, v.clone()));
            continue;
        }
        let mut object = match serde_json::from_str::<Value>(v) {
            Ok(Value::Object(m)) => m,
            _ => return Err((key, "must be a JSON object".into())),
        };
        object.retain(|child, _| children.contains(&child.as_str()));
        out.push((key, Value::Object(object).to_string()));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn owned(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn every_passing_sub_operation_has_a_row_and_none_moves_money() {
        let all = HOSTING
            .iter()
            .map(|o| ("hosting_operate", *o))
            .chain(SQL.iter().map(|o| ("sql_operate", *o)));
        for (family, op) in all {
            assert!(row(family, op).is_some(), "{family}#{op}");
            let short = op.split_once('_').map_or(op, |(_, o)| o);
            for money in ["renew", "refund", "upgrade", "add_database"] {
                assert_ne!(short, money, "{op}");
            }
        }
        assert!(!passes("hosting_operate", "hosting_renew"));
        assert!(!passes("hosting_operate", "hosting_del_backup"));
        assert_eq!(
            by_record("hosting_operate", "hosting_del_backup"),
            Some("hosting_backup_list")
        );
        assert_eq!(by_record("sql_operate", "hosting_del_backup"), None);
        assert!(passes("hosting_operate", "hosting_upload"));
        assert!(!passes("hosting_operate", "hosting_add_database"));
        assert!(!passes("sql_operate", "sql_upgrade"));
        assert!(!passes("hosting_operate", "sql_backup_list"));
        assert!(reads("hosting_operate", "hosting_get_proxy_list"));
        assert!(!reads("hosting_operate", "hosting_create_proxy"));
    }

    #[test]
    fn only_the_rows_fields_go_and_never_a_guid() {
        let out = fields(
            "hosting_operate",
            "hosting_create_proxy",
            &owned(&[
                ("guid", "99"),
                ("operate", "hosting_refund"),
                (
                    "proxyData",
                    r#"{"proxyname":"a","proxysite":"http://x","evil":1}"#,
                ),
                ("proxyData[cache]", "1"),
                ("proxyData.injected", "1"),
                ("user_id", "7"),
            ]),
        )
        .unwrap();
        assert_eq!(
            out,
            owned(&[
                ("proxyData", r#"{"proxyname":"a","proxysite":"http://x"}"#),
                ("proxyData.cache", "1"),
            ])
        );
        assert!(fields(
            "hosting_operate",
            "hosting_create_proxy",
            &owned(&[("proxyData", "not json")])
        )
        .is_err());
        assert!(fields("sql_operate", "sql_refund", &[]).is_err());
    }

    #[test]
    fn a_line_read_takes_its_rows_fields_but_never_the_line() {
        let out = line_fields(
            "hosting_get_soft_find",
            &owned(&[("line_guid", "other"), ("sNname", "phpmyadmin"), ("x", "1")]),
        )
        .unwrap();
        assert_eq!(out, owned(&[("sNname", "phpmyadmin")]));
        assert!(line_fields("hosting_lines", &[]).is_err());
        assert!(line_fields("getserver", &[]).is_err());
    }
}
