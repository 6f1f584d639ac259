//! One module per area of the console; each adds its own routes.

mod admin;
mod dashboard;
mod dns;
mod inventory;
mod login;
mod money;
mod servers;

use crate::Console;
use axum::Router;
use serde::Deserialize;

/// A form that carries only its CSRF token (a button).
#[derive(Deserialize)]
pub(crate) struct CsrfForm {
    #[serde(default)]
    pub csrf: String,
}

/// A confirmation page's form: the token and what it confirms.
#[derive(Deserialize)]
pub(crate) struct ConfirmForm {
    #[serde(default)]
    pub csrf: String,
    #[serde(default)]
    pub confirm: String,
}

pub fn routes() -> Router<Console> {
    Router::new()
        .merge(login::routes())
        .merge(dashboard::routes())
        .merge(inventory::routes())
        .merge(dns::routes())
        .merge(servers::routes())
        .merge(money::routes())
        .merge(admin::routes())
}
