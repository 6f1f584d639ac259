//! The console's identities: operators, their second factors, sessions and the failure
//! counts that lock a name or an address. The console owns the rules (password hashing,
//! TOTP, roles, never the last admin) and audits every change through the engine; this
//! is the one way it reaches the records, so nothing else in a surface holds the store.
//! Errors stay the store's: the console tells a storage failure from a refusal itself.

use crate::Engine;
use idcgate_store::{
    Counted, FailureLimit, OperatorRow, Result, Role, SessionRow, SessionStage, Store, TotpState,
};

/// See the module's documentation.
#[derive(Clone, Copy)]
pub struct Operators<'a> {
    store: &'a dyn Store,
}

impl Engine {
    /// The console's operators and sessions; see [`Operators`].
    pub fn operators(&self) -> Operators<'_> {
        Operators {
            store: self.store.as_ref(),
        }
    }
}

/// Each method of [`Operators`] as the console names it, and the store's method it
/// is: the arguments go through as they are.
macro_rules! forward {
    ($($(#[$doc:meta])* $name:ident($($arg:ident: $ty:ty),*) -> $out:ty = $store:ident;)*) => {
        impl Operators<'_> {
            $(
                $(#[$doc])*
                pub async fn $name(&self, $($arg: $ty),*) -> Result<$out> {
                    self.store.$store($($arg),*).await
                }
            )*
        }
    };
}

forward! {
    list() -> Vec<OperatorRow> = list_operators;
    get(name: &str) -> Option<OperatorRow> = get_operator;
    /// `Conflict` if the name is taken.
    add(name: &str, role: Role, hash: &str, now_ms: i64) -> OperatorRow = add_operator;
    /// A new password hash; ends the operator's sessions. `false`: no such operator.
    set_password(name: &str, hash: &str, now_ms: i64) -> bool = set_operator_password;
    set_role(name: &str, role: Role, now_ms: i64) -> bool = set_operator_role;
    remove(name: &str) -> bool = remove_operator;
    totp(name: &str) -> TotpState = operator_totp;
    begin_totp(name: &str, secret: &str, now_ms: i64) -> bool = begin_totp;
    confirm_totp(name: &str, code_digests: &[String], now_ms: i64) -> bool = confirm_totp;
    clear_totp(name: &str, now_ms: i64) -> bool = clear_totp;
    /// Uses up one recovery code: `true` once per code.
    use_recovery_code(name: &str, code_digest: &str) -> bool = use_recovery_code;
    /// Counts a failed login; the lock's end once `max` are counted.
    login_failed(name: &str, now_ms: i64, max: i64, lock_ms: i64) -> Option<i64> = login_failed;
    login_succeeded(name: &str) -> () = login_succeeded;
    create_session(
        id_digest: &str, operator: &str, csrf: &str, stage: SessionStage, now_ms: i64
    ) -> () = create_session;
    /// The live session (touched), if seen after `idle_after_ms` and created after
    /// `created_after_ms`.
    session(
        id_digest: &str, now_ms: i64, idle_after_ms: i64, created_after_ms: i64
    ) -> Option<SessionRow> = session;
    end_session(id_digest: &str) -> bool = end_session;
    /// The end of the lock on `subject` in `scope` (an address), if one is in force.
    locked_until(scope: &str, subject: &str, now_ms: i64) -> Option<i64> = locked_until;
    count_failure(
        scope: &str, subject: &str, now_ms: i64, limit: FailureLimit
    ) -> Counted = count_failure;
}
