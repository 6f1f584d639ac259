//! The embedded action table (`spec.tsv`), parsed once. Client routing, simulator routing
//! and required-parameter checks all read it from here.

use idcgate_core::spec::{ActionSpec, VendorSpec};
use idcgate_core::Vendor;

const TABLE: &str = include_str!("../spec.tsv");

/// The tag in a row's notes marking a command that user-level keys may not run.
const SYSTEM_ONLY_TAG: &str = "[system-only]";

/// Every documented XenSystem action, parsed once (see [`VendorSpec::embedded`]).
pub fn spec() -> &'static VendorSpec {
    idcgate_core::embedded_spec!(Vendor::Xensystem, TABLE)
}

pub(crate) fn is_system_only(action: &ActionSpec) -> bool {
    action.notes.contains(SYSTEM_ONLY_TAG)
}

/// Whether a wire command name has subaction rows, told apart by their discriminator.
pub(crate) fn has_subactions(command: &str) -> bool {
    spec()
        .actions
        .iter()
        .any(|a| a.action == command && a.discriminator().is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_parses_and_tags_subactions() {
        VendorSpec::parse(Vendor::Xensystem, TABLE).unwrap();
        let s = spec();
        assert_eq!(s.actions.len(), 56);
        let revert = s.require("vm_backup#revert").unwrap();
        assert_eq!(revert.discriminator(), Some(("subaction", "revert")));
        let cmds = s.require("vm_cmds#getData").unwrap();
        assert_eq!(cmds.discriminator(), Some(("cmds", "getData")));
        // Every `name#sub` row, and only those, sends `sub` in its command's field.
        for a in &s.actions {
            let field = if a.action == "vm_cmds" {
                "cmds"
            } else {
                "subaction"
            };
            let expected = a.name().split_once('#').map(|(_, sub)| (field, sub));
            assert_eq!(a.discriminator(), expected, "{}", a.id);
        }
        assert!(is_system_only(s.require("vm_create").unwrap()));
        assert!(!is_system_only(s.require("vm_start").unwrap()));
        assert!(has_subactions("vm_vif"));
        assert!(!has_subactions("vm_start"));
    }
}
