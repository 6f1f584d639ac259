//! One module per area of the console; each adds its own routes.

mod admin;
mod dashboard;
mod dns;
mod inventory;
mod login;
mod money;
mod servers;

use crate::layout::ListQuery;
use crate::session::{Op, Refusal};
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

impl ConfirmForm {
    /// `Err` (a 400 page saying `why`) unless the form confirms `what` as its
    /// confirmation page gave it.
    pub fn confirms(&self, op: &Op, what: &str, why: &str) -> Result<(), Refusal> {
        confirmed(op, self.confirm == what, why)
    }

    /// `confirms` for a name typed by hand: blanks around it do not count.
    pub fn typed(&self, op: &Op, what: &str, why: &str) -> Result<(), Refusal> {
        confirmed(op, self.confirm.trim() == what, why)
    }
}

fn confirmed(op: &Op, ok: bool, why: &str) -> Result<(), Refusal> {
    if ok {
        Ok(())
    } else {
        Err(crate::layout::bad_input(op, why))
    }
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
