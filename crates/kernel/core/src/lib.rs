//! idcgate kernel: the unified, vendor-neutral model every layer speaks.
//!
//! Owns: the inventory model (domains, DNS records, servers, hosting, databases, mail,
//! certificates, balances, quotes, orders), the capability traits vendors implement,
//! the error taxonomy, money, and the declarative action-spec format.
//!
//! Must not know: any vendor's wire format or field names, HTTP, storage, or our own
//! REST surface.

pub mod capability;
pub mod error;
pub mod model;
pub mod money;
pub mod spec;

pub use capability::{Capabilities, Capability, Connection};
pub use error::{Error, Result};
pub use model::*;
pub use money::Money;
