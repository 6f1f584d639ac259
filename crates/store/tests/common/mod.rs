//! What the store's test crates share.
#![allow(dead_code)] // each test crate uses its own part

use idcgate_store::{LedgerFilter, LedgerLine, ListPage, OrderStore, SqlStore};

/// The first ten rows, counted, in `sort`'s order (the list's own without one), found
/// by `search`.
pub fn page(sort: Option<&str>, descending: bool, search: Option<&str>) -> ListPage {
    ListPage {
        search: search.map(String::from),
        sort: sort.map(String::from),
        descending,
        limit: 10,
        offset: 0,
        count: true,
    }
}

/// `limit` rows after `offset`, counted, in the list's own order.
pub fn window(limit: i64, offset: i64, descending: bool) -> ListPage {
    ListPage {
        limit,
        offset,
        ..page(None, descending, None)
    }
}

/// The ledger lines of `account`: an exact account, or a prefix ending in `:`.
pub async fn ledger_of(s: &SqlStore, account: &str) -> Vec<LedgerLine> {
    s.ledger_lines(&LedgerFilter {
        account: Some(account.into()),
        ..Default::default()
    })
    .await
    .unwrap()
}
