//! Inventory pages as last answered, kept briefly so a client polling the same list does
//! not have the database count every matching row again for each request.
//!
//! A page is answered again only while the engine's inventory generation is the one it
//! was read at (every write to the inventory through this process moves it, so such a
//! write shows in the next answer) and for at most [`PAGE_TRUST`] (a write by another
//! process sharing the database shows within that). Authentication, scopes and the
//! request guard run for every request before a page is looked up here.

use axum::body::Bytes;
use axum::http::header::CONTENT_TYPE;
use axum::http::HeaderValue;
use axum::response::{IntoResponse, Response};
use idcgate_core::{ResourceKind, Vendor};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long a page is answered again at most: a write by another process (the CLI
/// beside a server, another instance) shows in this one's answers within this time.
pub const PAGE_TRUST: Duration = Duration::from_secs(1);

/// Bytes of pages kept at once; past it, pages older than `PAGE_TRUST` are forgotten,
/// then everything.
const PAGES_BYTES: usize = 16 * 1024 * 1024;

/// A page larger than this is not kept (a thousand items of a large kind): one would
/// crowd out the small pages that are asked for again and again.
const PAGE_MAX_BYTES: usize = 1024 * 1024;

/// What a list holds: every parameter that chooses its rows but the paging. A query
/// whose answer depends on the time (an expiry horizon) has no key and is never kept.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct ListKey {
    pub kind: Option<ResourceKind>,
    pub vendor: Option<Vendor>,
    pub account: Option<String>,
    pub search: Option<String>,
}

/// One page of a list.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct PageKey {
    pub list: ListKey,
    pub limit: i64,
    pub offset: i64,
}

struct Kept<T> {
    generation: u64,
    at: Instant,
    value: T,
}

impl<T: Clone> Kept<T> {
    fn holds(&self, generation: u64) -> Option<T> {
        (self.generation == generation && self.at.elapsed() < PAGE_TRUST)
            .then(|| self.value.clone())
    }
}

/// Pages as answered, and each list's total: another page of a list kept needs only
/// its rows, not a count of every row that matches.
pub struct PageCache {
    kept: Mutex<Pages>,
    /// One read of a page at a time (by its key's stripe): when a page runs out, the
    /// requests waiting for it take the one read's answer instead of each reading it
    /// again at once (64 callers made 64 reads, a stall of every answer once a second).
    fills: Vec<tokio::sync::Mutex<()>>,
    stripe_of: std::collections::hash_map::RandomState,
}

/// Stripes of `PageCache::fills`: pages of different stripes are read side by side.
const FILL_STRIPES: usize = 64;

impl Default for PageCache {
    fn default() -> Self {
        PageCache {
            kept: Mutex::default(),
            fills: (0..FILL_STRIPES)
                .map(|_| tokio::sync::Mutex::new(()))
                .collect(),
            stripe_of: std::collections::hash_map::RandomState::new(),
        }
    }
}

#[derive(Default)]
struct Pages {
    pages: HashMap<PageKey, Kept<Bytes>>,
    bytes: usize,
    totals: HashMap<ListKey, Kept<i64>>,
}

/// Lists whose totals are kept at once; a full table first forgets the expired.
const TOTALS_KEPT: usize = 4096;

impl PageCache {
    /// Held while reading the page `key` to keep it: a request that waited for it looks
    /// the page up again (at the generation of that moment) before reading it itself.
    pub async fn filling(&self, key: &PageKey) -> tokio::sync::MutexGuard<'_, ()> {
        use std::hash::BuildHasher;
        let stripe = self.stripe_of.hash_one(key) % FILL_STRIPES as u64;
        self.fills[usize::try_from(stripe).unwrap_or(0)]
            .lock()
            .await
    }

    /// The page kept for `key` if it was read at `generation` within `PAGE_TRUST`.
    pub fn get(&self, key: &PageKey, generation: u64) -> Option<Bytes> {
        idcgate_core::lock(&self.kept)
            .pages
            .get(key)?
            .holds(generation)
    }

    /// The total of `list` if it was counted at `generation` within `PAGE_TRUST`.
    pub fn total(&self, list: &ListKey, generation: u64) -> Option<i64> {
        idcgate_core::lock(&self.kept)
            .totals
            .get(list)?
            .holds(generation)
    }

    /// Keeps `body` and the total of its list, read at `generation` (taken before the
    /// read began).
    pub fn put(&self, key: PageKey, generation: u64, body: Bytes, total: i64) {
        let now = Instant::now();
        let mut kept = idcgate_core::lock(&self.kept);
        let Pages {
            pages,
            bytes,
            totals,
        } = &mut *kept;
        if totals.len() >= TOTALS_KEPT && !totals.contains_key(&key.list) {
            totals.retain(|_, t| t.at.elapsed() < PAGE_TRUST);
            if totals.len() >= TOTALS_KEPT {
                totals.clear();
            }
        }
        totals.insert(
            key.list.clone(),
            Kept {
                generation,
                at: now,
                value: total,
            },
        );
        if body.len() > PAGE_MAX_BYTES {
            return;
        }
        if *bytes + body.len() > PAGES_BYTES {
            pages.retain(|_, p| p.at.elapsed() < PAGE_TRUST);
            *bytes = pages.values().map(|p| p.value.len()).sum();
            if *bytes + body.len() > PAGES_BYTES {
                pages.clear();
                *bytes = 0;
            }
        }
        *bytes += body.len();
        if let Some(old) = pages.insert(
            key,
            Kept {
                generation,
                at: now,
                value: body,
            },
        ) {
            *bytes -= old.value.len();
        }
    }
}

/// A JSON answer already serialized.
pub struct JsonBytes(pub Bytes);

impl IntoResponse for JsonBytes {
    fn into_response(self) -> Response {
        (
            [(CONTENT_TYPE, HeaderValue::from_static("application/json"))],
            self.0,
        )
            .into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(offset: i64) -> PageKey {
        PageKey {
            list: ListKey {
                kind: Some(ResourceKind::Domain),
                vendor: None,
                account: None,
                search: None,
            },
            limit: 10,
            offset,
        }
    }

    #[test]
    fn a_page_is_answered_again_only_at_its_generation_and_within_the_trust() {
        let cache = PageCache::default();
        cache.put(key(0), 7, Bytes::from_static(b"[1]"), 42);
        assert_eq!(cache.get(&key(0), 7).as_deref(), Some(&b"[1]"[..]));
        assert_eq!(cache.get(&key(0), 8), None, "a write moved the generation");
        assert_eq!(cache.get(&key(10), 7), None, "another page");
        assert_eq!(cache.total(&key(10).list, 7), Some(42), "its list's total");
        assert_eq!(cache.total(&key(10).list, 8), None);
        std::thread::sleep(PAGE_TRUST);
        assert_eq!(cache.get(&key(0), 7), None, "kept longer than PAGE_TRUST");
        assert_eq!(cache.total(&key(0).list, 7), None);
    }

    #[tokio::test]
    async fn a_page_is_read_by_one_request_at_a_time() {
        let cache = PageCache::default();
        let wait = Duration::from_millis(50);
        let reading = cache.filling(&key(0)).await;
        let second = tokio::time::timeout(wait, cache.filling(&key(0))).await;
        assert!(second.is_err(), "a second read of the page while one runs");
        drop(reading);
        assert!(tokio::time::timeout(wait, cache.filling(&key(0)))
            .await
            .is_ok());
    }

    #[test]
    fn pages_kept_stay_within_their_bytes() {
        let cache = PageCache::default();
        let page = Bytes::from(vec![b'x'; PAGE_MAX_BYTES]);
        for offset in 0..40 {
            cache.put(key(offset), 1, page.clone(), 1);
            let kept = idcgate_core::lock(&cache.kept);
            assert!(kept.bytes <= PAGES_BYTES, "{} bytes kept", kept.bytes);
            let sum: usize = kept.pages.values().map(|p| p.value.len()).sum();
            assert_eq!(kept.bytes, sum);
        }
        cache.put(key(99), 1, Bytes::from(vec![b'x'; PAGE_MAX_BYTES + 1]), 1);
        assert_eq!(cache.get(&key(99), 1), None, "too large to keep");
    }
}
