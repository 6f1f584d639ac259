//! One module per area of the console; each adds its own routes.

mod admin;
mod dashboard;
mod dns;
mod inventory;
mod login;
mod money;
mod servers;

use crate::layout::ListQuery;
use crate::Console;
use axum::extract::rejection::{FormRejection, PathRejection, QueryRejection};
use axum::extract::{Path, Query};
use axum::{Form, Router};
use serde::Deserialize;

/// What handlers take from a request, as results: each is refused with a page of the
/// console's own (`layout::read`, `layout::path_name`, `Op::submitted`), never with
/// axum's bare text.
pub(crate) type NameIn = Result<Path<String>, PathRejection>;
pub(crate) type FormIn<T> = Result<Form<T>, FormRejection>;
pub(crate) type QueryIn<T> = Result<Query<T>, QueryRejection>;
pub(crate) type ListIn = QueryIn<ListQuery>;

/// `Posted` for forms whose token is their `csrf` field.
macro_rules! posted {
    ($($form:ty),+ $(,)?) => {
        $(impl crate::session::Posted for $form {
            fn csrf(&self) -> &str {
                &self.csrf
            }
        })+
    };
}
pub(crate) use posted;

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

posted!(CsrfForm, ConfirmForm);

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
