//! The embedded action table (`spec.tsv`), parsed once. Client encoding, simulator
//! routing and required-parameter checks all read it from here.

use idcgate_core::spec::{ActionSpec, VendorSpec};
use idcgate_core::Vendor;

const TABLE: &str = include_str!("../spec.tsv");

/// Every documented Zonkvm action, parsed once (see [`VendorSpec::embedded`]).
pub fn spec() -> &'static VendorSpec {
    idcgate_core::embedded_spec!(Vendor::Zonkvm, TABLE)
}

/// The form field that selects a sub-operation of a dispatcher action, as the rows'
/// `name#=value` discriminators declare it (`obj_type` for `create_order`, `operate`
/// for the others). Kept for the simulator's routing; `""` for a wire action that is
/// not a dispatcher.
pub(crate) fn discriminator_field(wire_action: &str) -> &'static str {
    spec()
        .actions
        .iter()
        .filter(|a| a.action == wire_action)
        .find_map(ActionSpec::discriminator)
        .map_or("", |(field, _)| field)
}

/// Whether a wire action is a dispatcher (its rows are `action#sub`, told apart by a
/// discriminator).
pub(crate) fn is_dispatcher(wire_action: &str) -> bool {
    !discriminator_field(wire_action).is_empty()
}

/// Whether a row is sent as multipart/form-data (the document: hosting_upload "requires"
/// it; everything else is a urlencoded form).
pub(crate) fn is_multipart(action: &ActionSpec) -> bool {
    action.name() == "hosting_operate#hosting_upload"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_parses_and_names_discriminators() {
        VendorSpec::parse(Vendor::Zonkvm, TABLE).unwrap();
        let s = spec();
        assert_eq!(s.actions.len(), 144);
        let a = s.find("create_order#create_server").unwrap();
        assert_eq!(a.action, "create_order");
        assert_eq!(a.discriminator(), Some(("obj_type", "create_server")));
        let h = s.find("hosting_operate#hosting_zip").unwrap();
        assert_eq!(h.discriminator(), Some(("operate", "hosting_zip")));
        assert_eq!(s.find("getzones").unwrap().discriminator(), None);
        assert!(is_dispatcher("sql_operate") && !is_dispatcher("getsql"));
        assert_eq!(discriminator_field("create_order"), "obj_type");
        assert_eq!(discriminator_field("hosting_operate"), "operate");
    }

    #[test]
    fn every_sub_operation_row_is_named_by_its_discriminator() {
        for a in &spec().actions {
            let sub = a.name().split_once('#').map(|(_, sub)| sub);
            assert_eq!(a.discriminator().map(|(_, v)| v), sub, "{}", a.id);
        }
    }
}
