//! The embedded action table (`spec.tsv`), parsed once. Client routing, simulator routing
//! and required-parameter checks all read it from here.

use idcgate_core::spec::{ActionSpec, VendorSpec};
use idcgate_core::Vendor;
use std::sync::OnceLock;

const TABLE: &str = include_str!("../spec.tsv");

/// The tag in a row's notes marking a command that user-level keys may not run.
const SYSTEM_ONLY_TAG: &str = "[system-only]";

pub fn spec() -> &'static VendorSpec {
    static SPEC: OnceLock<VendorSpec> = OnceLock::new();
    SPEC.get_or_init(|| {
        // The table is compiled in; a bad table is a build defect that this crate's own
        // tests catch, not a runtime condition to recover from.
        VendorSpec::parse(Vendor::Xensystem, TABLE)
            .unwrap_or_else(|e| panic!("embedded xensystem spec.tsv is invalid: {e}"))
    })
}

/// For a subaction row (`vm_backup#list`), the form field carrying the subcommand and
/// its value. `vm_cmds` names its subcommand `cmds`; every other parent uses `subaction`.
pub(crate) fn discriminator(action: &ActionSpec) -> Option<(&'static str, &str)> {
    let (_, sub) = action.name().split_once('#')?;
    let field = if action.action == "vm_cmds" {
        "cmds"
    } else {
        "subaction"
    };
    Some((field, sub))
}

pub(crate) fn is_system_only(action: &ActionSpec) -> bool {
    action.notes.contains(SYSTEM_ONLY_TAG)
}

/// Whether a wire command name has subaction rows (and so needs its discriminator).
pub(crate) fn has_subactions(command: &str) -> bool {
    spec()
        .actions
        .iter()
        .any(|a| a.action == command && a.id.contains('#'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_parses_and_tags_subactions() {
        let s = spec();
        assert_eq!(s.actions.len(), 56);
        let revert = s.require("vm_backup#revert").unwrap();
        assert_eq!(discriminator(revert), Some(("subaction", "revert")));
        let cmds = s.require("vm_cmds#getData").unwrap();
        assert_eq!(discriminator(cmds), Some(("cmds", "getData")));
        assert!(is_system_only(s.require("vm_create").unwrap()));
        assert!(!is_system_only(s.require("vm_start").unwrap()));
        assert!(has_subactions("vm_vif"));
        assert!(!has_subactions("vm_start"));
    }
}
