//! The embedded action table (`spec.tsv`), parsed once. Client encoding, simulator
//! routing and required-parameter checks all read it from here.

use idcgate_core::spec::{ActionSpec, VendorSpec};
use idcgate_core::Vendor;
use std::sync::OnceLock;

const TABLE: &str = include_str!("../spec.tsv");

pub fn spec() -> &'static VendorSpec {
    static SPEC: OnceLock<VendorSpec> = OnceLock::new();
    SPEC.get_or_init(|| {
        // The table is compiled in; a bad table is a build defect that this crate's own
        // tests catch, not a runtime condition to recover from.
        VendorSpec::parse(Vendor::Zonkvm, TABLE)
            .unwrap_or_else(|e| panic!("embedded zonkvm spec.tsv is invalid: {e}"))
    })
}

/// The form field that selects a sub-operation of a dispatcher action.
pub(crate) fn discriminator_field(wire_action: &str) -> &'static str {
    if wire_action == "create_order" {
        "obj_type"
    } else {
        "operate"
    }
}

/// For a sub-operation row (`create_order#create_server`), the field and value the
/// client must send besides `action`.
pub(crate) fn discriminator(action: &ActionSpec) -> Option<(&'static str, &str)> {
    let (_, sub) = action.name().split_once('#')?;
    Some((discriminator_field(&action.action), sub))
}

/// Whether a row is sent as multipart/form-data (the document: hosting_upload "requires"
/// it; everything else is a urlencoded form).
pub(crate) fn is_multipart(action: &ActionSpec) -> bool {
    action.name() == "hosting_operate#hosting_upload"
}

/// Whether a wire action is a dispatcher (its rows are `action#sub`).
pub(crate) fn is_dispatcher(wire_action: &str) -> bool {
    matches!(
        wire_action,
        "create_order" | "hosting_operate" | "sql_operate"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_parses_and_names_discriminators() {
        let s = spec();
        assert_eq!(s.actions.len(), 144);
        let a = s.find("create_order#create_server").unwrap();
        assert_eq!(a.action, "create_order");
        assert_eq!(discriminator(a), Some(("obj_type", "create_server")));
        let h = s.find("hosting_operate#hosting_zip").unwrap();
        assert_eq!(discriminator(h), Some(("operate", "hosting_zip")));
        assert_eq!(discriminator(s.find("getzones").unwrap()), None);
        assert!(is_dispatcher("sql_operate") && !is_dispatcher("getsql"));
    }
}
