//! idcgate kernel: the unified, vendor-neutral model every layer speaks.
//!
//! Owns: the inventory model (domains, DNS records, servers, hosting, databases, mail,
//! certificates, balances, quotes, orders, purchases), the capability traits vendors implement,
//! the error taxonomy, money, the ledger's vocabulary (balanced transactions), and the
//! declarative action-spec format.
//!
//! Must not know: any vendor's wire format or field names, HTTP, storage, or our own
//! REST surface.

pub mod capability;
pub mod error;
pub mod firewall;
pub mod ledger;
pub mod lines;
pub mod model;
pub mod money;
pub mod onboarding;
pub mod purchase;
pub mod spec;
pub mod storefront;
pub mod units;

pub use capability::{Capabilities, Capability, Connection};
pub use error::{Error, Result};
pub use firewall::{Direction, FirewallRule, FirewallRuleSpec, RuleProtocol, Verdict};
pub use model::*;
pub use money::Money;
pub use onboarding::{CredentialKey, Onboarding};
pub use purchase::{Operation, PurchaseRequest, Purchasing, Settled};

/// Locks a mutex even if a previous holder panicked. Every lock in idcgate guards state
/// that each mutation leaves whole (a simulator's account, a cache, a counter), so one
/// panicking request must not take every later request down with it.
pub fn lock<T>(mutex: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    match mutex.lock() {
        Ok(guard) => guard,
        Err(poisoned) => poisoned.into_inner(),
    }
}

/// `Debug` for a type that holds secrets: the fields named, then `..` for the rest, so
/// no secret reaches a log however the type grows.
///
/// ```
/// struct Login { user: String, password: String }
/// idcgate_core::debug_shows!(Login: user);
/// let login = Login { user: "ops".into(), password: "hunter2".into() };
/// assert_eq!(format!("{login:?}"), r#"Login { user: "ops", .. }"#);
/// # let _ = login.password;
/// ```
#[macro_export]
macro_rules! debug_shows {
    ($ty:ident: $($field:ident),* $(,)?) => {
        impl ::std::fmt::Debug for $ty {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.debug_struct(stringify!($ty))
                    $(.field(stringify!($field), &self.$field))*
                    .finish_non_exhaustive()
            }
        }
    };
}

/// A closed set of unit variants, each written as one fixed word: `ALL` (in the order
/// given), `as_str` and `Display` as that word, and `from_word`, the variant written
/// exactly so. Reading what people type stays with each type, since types differ in
/// case, aliases and the error a wrong word gets.
///
/// ```
/// #[derive(Debug, Clone, Copy, PartialEq)]
/// enum Light { Red, Green }
/// idcgate_core::word_enum!(Light { Red => "red", Green => "green" });
/// assert_eq!(Light::ALL, [Light::Red, Light::Green]);
/// assert_eq!(Light::Green.to_string(), "green");
/// assert_eq!(Light::from_word("red"), Some(Light::Red));
/// assert_eq!(Light::from_word("Red"), None);
/// ```
#[macro_export]
macro_rules! word_enum {
    ($ty:ident { $($variant:ident => $word:literal),+ $(,)? }) => {
        impl $ty {
            pub const ALL: [$ty; [$($word),+].len()] = [$($ty::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $($ty::$variant => $word),+
                }
            }

            pub fn from_word(word: &str) -> Option<Self> {
                match word {
                    $($word => Some($ty::$variant),)+
                    _ => None,
                }
            }
        }

        impl ::std::fmt::Display for $ty {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

/// `&'static VendorSpec` of a vendor crate's embedded table, parsed once
/// ([`spec::VendorSpec::embedded`]): `pub fn spec() -> &'static VendorSpec {
/// idcgate_core::embedded_spec!(Vendor::West, include_str!("../spec.tsv")) }`.
#[macro_export]
macro_rules! embedded_spec {
    ($vendor:expr, $table:expr) => {{
        static SPEC: ::std::sync::OnceLock<$crate::spec::VendorSpec> = ::std::sync::OnceLock::new();
        SPEC.get_or_init(|| $crate::spec::VendorSpec::embedded($vendor, $table))
    }};
}
