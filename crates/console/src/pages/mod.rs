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
