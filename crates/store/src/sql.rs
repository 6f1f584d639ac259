//! The one SQL implementation of [`Store`], over sqlx's `Any` driver so both backends
//! share every query (`$N` placeholders work on SQLite and PostgreSQL alike). Dialect
//! differences are confined to migrations and job claiming.

use crate::crypto::{digest, random_hex, Cipher};
use crate::migrations::{latest, migrations, Dialect};
use crate::*;
use idcgate_core::{Credentials, UpstreamAccount, Vendor};
use sha2::{Digest, Sha256};
use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{AnyPool, Executor, Row};
use std::collections::{HashMap, HashSet};
use std::time::Duration;

const KEY_CHECK_PLAIN: &str = "idcgate-master-key-check-v1";

pub struct SqlStore {
    pub(crate) pool: AnyPool,
    pub(crate) dialect: Dialect,
    cipher: Option<Cipher>,
    verified: VerifiedTokens,
    /// Moved on by every write to the inventory through this handle
    /// (`Store::inventory_generation`).
    inventory: std::sync::atomic::AtomicU64,
}

/// Moves the inventory's generation on when dropped: after the write's commit, or when
/// it failed or was cancelled (a needless move costs a reader one cache miss, a missing
/// one would serve a stale page).
struct InventoryWrite<'a>(&'a std::sync::atomic::AtomicU64);

impl Drop for InventoryWrite<'_> {
    fn drop(&mut self) {
        self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }
}

/// How long a verified token is taken on trust without reading the database again: a
/// token revoked by another process (the CLI beside a server) stops working within this.
/// A revocation through this handle empties the cache at once.
pub const TOKEN_TRUST: Duration = Duration::from_secs(1);
/// A pooled connection idle this long is pinged before it is used again.
const CHECK_IDLE_AFTER: Duration = Duration::from_secs(1);
/// Tokens remembered at once; a full cache first forgets the expired, then everything.
const TOKENS_REMEMBERED: usize = 4096;

/// Tokens verified within [`TOKEN_TRUST`], keyed by the SHA-256 digest of what was
/// presented (never the token itself). Only successes are kept: a wrong token always
/// reaches the database, and the server limits failures per client.
#[derive(Default)]
struct VerifiedTokens {
    entries: std::sync::Mutex<HashMap<[u8; 32], (TokenInfo, std::time::Instant)>>,
}

impl VerifiedTokens {
    fn get(&self, digest: &[u8; 32]) -> Option<TokenInfo> {
        let entries = idcgate_core::lock(&self.entries);
        let (info, at) = entries.get(digest)?;
        (at.elapsed() < TOKEN_TRUST).then(|| info.clone())
    }

    fn put(&self, digest: [u8; 32], info: TokenInfo) {
        let mut entries = idcgate_core::lock(&self.entries);
        if entries.len() >= TOKENS_REMEMBERED {
            entries.retain(|_, (_, at)| at.elapsed() < TOKEN_TRUST);
            if entries.len() >= TOKENS_REMEMBERED {
                entries.clear();
            }
        }
        entries.insert(digest, (info, std::time::Instant::now()));
    }

    fn forget_all(&self) {
        idcgate_core::lock(&self.entries).clear();
    }
}

idcgate_core::debug_shows!(SqlStore: dialect);

pub(crate) fn now_ms() -> i64 {
    jiff::Timestamp::now().as_millisecond()
}

/// What an error may show of a database URL: its scheme, user, host and path. The
/// password after `user:` and the whole query string (where `password=` or
/// `sslpassword=` may stand) are hidden; text that is no URL (a `key=value` DSN, which
/// may hold a password anywhere) is not shown at all.
fn display_url(url: &str) -> String {
    let Some(s) = url.find("://") else {
        return "(not a URL: not shown)".into();
    };
    // The last `@` ends the user part, so a password holding `@`, `?` or `/` stays
    // inside what is hidden.
    let (head, rest) = match url.rfind('@') {
        Some(at) if at > s => {
            let userinfo = &url[s + 3..at];
            let shown = match userinfo.split_once(':') {
                Some((user, _)) => format!("{user}:***"),
                None => userinfo.to_string(),
            };
            (format!("{}{shown}", &url[..s + 3]), &url[at..])
        }
        _ => (url[..s + 3].to_string(), &url[s + 3..]),
    };
    match rest.split_once('?') {
        Some((place, _)) => format!("{head}{place}?***"),
        None => format!("{head}{rest}"),
    }
}

#[cfg(test)]
mod shown_urls {
    use super::display_url;

    #[test]
    fn no_password_reaches_an_error() {
        for (url, shown) in [
            ("postgres://u:pw@h:5432/db", "postgres://u:***@h:5432/db"),
            ("postgres://u:p@ss?w/rd@h/db", "postgres://u:***@h/db"),
            ("postgres://u@h/db?password=pw", "postgres://u@h/db?***"),
            (
                "postgres://h/db?sslmode=require&password=pw",
                "postgres://h/db?***",
            ),
            (
                "sqlite:///var/lib/idcgate/db.sqlite",
                "sqlite:///var/lib/idcgate/db.sqlite",
            ),
            ("host=h password=pw dbname=x", "(not a URL: not shown)"),
        ] {
            assert_eq!(display_url(url), shown, "{url}");
        }
    }
}

impl SqlStore {
    /// Held across a write to the inventory (resources, or the accounts a vendor filter
    /// reads): the generation moves when it ends.
    fn inventory_write(&self) -> InventoryWrite<'_> {
        InventoryWrite(&self.inventory)
    }

    /// The row of `table` whose `column` (a unique one) is `key`.
    pub(crate) async fn row_by<'k, K, T>(
        &self,
        table: &Table<T>,
        column: &str,
        key: K,
    ) -> Result<Option<T>>
    where
        K: 'k + Send + sqlx::Encode<'k, sqlx::Any> + sqlx::Type<sqlx::Any>,
    {
        let mut args = sqlx::any::AnyArguments::default();
        sqlx::Arguments::add(&mut args, key).map_err(sqlx::Error::Encode)?;
        let sql = format!(
            "SELECT {} FROM {} WHERE {column} = $1",
            table.columns, table.name
        );
        sqlx::query_with(&sql, args)
            .read_optional(&self.pool, table.from)
            .await
    }

    /// The rows `sql` selects for its one parameter `$1 = key`, read by `from`.
    pub(crate) async fn rows_for<'q, K, T>(
        &self,
        sql: &'q str,
        key: K,
        from: fn(&AnyRow) -> Result<T>,
    ) -> Result<Vec<T>>
    where
        K: 'q + Send + sqlx::Encode<'q, sqlx::Any> + sqlx::Type<sqlx::Any>,
    {
        sqlx::query(sql).bind(key).read_all(&self.pool, from).await
    }

    /// Opens (creating if needed) and migrates the database at `url`
    /// (`sqlite:///path/file.db` or `postgres://...`). Secrets need [`SqlStore::unlock`].
    pub async fn open(url: &str) -> Result<Self> {
        sqlx::any::install_default_drivers();
        let dialect = if url.starts_with("sqlite:") {
            Dialect::Sqlite
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Dialect::Postgres
        } else {
            return Err(StoreError::Open {
                url: display_url(url),
                message: "unsupported database URL (expected sqlite:// or postgres://)".into(),
            });
        };
        if dialect == Dialect::Sqlite {
            create_private(url);
        }
        let mut url_owned = url.to_string();
        if dialect == Dialect::Sqlite && !url.contains("mode=") {
            url_owned.push_str(if url.contains('?') {
                "&mode=rwc"
            } else {
                "?mode=rwc"
            });
        }
        let opts = AnyPoolOptions::new()
            .max_connections(if dialect == Dialect::Sqlite { 4 } else { 8 })
            .acquire_timeout(Duration::from_secs(10))
            // A connection is checked before use only when it sat idle, where a server
            // restart or a dropped link shows; one just back from a statement is alive.
            // Checking every one cost a round trip per statement (on SQLite two more
            // hand-offs to the connection's thread), a third of a short read's time.
            .test_before_acquire(false)
            .before_acquire(|conn, meta| {
                Box::pin(async move {
                    if meta.idle_for >= CHECK_IDLE_AFTER {
                        sqlx::Connection::ping(conn).await?;
                    }
                    Ok(true)
                })
            });
        let opts = if dialect == Dialect::Sqlite {
            opts.after_connect(|conn, _| {
                Box::pin(async move {
                    conn.execute("PRAGMA busy_timeout = 10000").await?;
                    conn.execute("PRAGMA journal_mode = WAL").await?;
                    // In WAL mode NORMAL is corruption-safe; FULL would fsync every commit.
                    conn.execute("PRAGMA synchronous = NORMAL").await?;
                    conn.execute("PRAGMA foreign_keys = ON").await?;
                    Ok(())
                })
            })
        } else {
            opts
        };
        // One direct connection first: the pool would only report "timed out", while this
        // names the real cause (refused, unknown database, bad password, unwritable file).
        let probe = tokio::time::timeout(
            Duration::from_secs(10),
            <sqlx::AnyConnection as sqlx::Connection>::connect(&url_owned),
        )
        .await
        .map_err(|_| StoreError::Open {
            url: display_url(url),
            message: "no answer within 10 s".into(),
        })?
        .map_err(|e| StoreError::Open {
            url: display_url(url),
            message: e.to_string(),
        })?;
        let mut probe = probe;
        // SQLite opens any file; reading its schema is what tells a database from junk.
        let check = match dialect {
            Dialect::Sqlite => "SELECT count(*) FROM sqlite_master",
            Dialect::Postgres => "SELECT 1",
        };
        probe.execute(check).await.map_err(|e| StoreError::Open {
            url: display_url(url),
            message: e.to_string(),
        })?;
        let _ = sqlx::Connection::close(probe).await;
        let pool = opts
            .connect(&url_owned)
            .await
            .map_err(|e| StoreError::Open {
                url: display_url(url),
                message: e.to_string(),
            })?;
        let store = SqlStore {
            pool,
            dialect,
            cipher: None,
            verified: VerifiedTokens::default(),
            inventory: std::sync::atomic::AtomicU64::new(0),
        };
        store.migrate().await?;
        Ok(store)
    }

    async fn migrate(&self) -> Result<()> {
        self.pool
            .execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
            .await?;
        let current: i64 = sqlx::query("SELECT value FROM meta WHERE key = 'schema_version'")
            .fetch_optional(&self.pool)
            .await?
            .map(|r| r.try_get::<String, _>(0))
            .transpose()?
            .map(|s| s.parse().unwrap_or(0))
            .unwrap_or(0);
        if current > latest() {
            return Err(StoreError::SchemaTooNew {
                found: current,
                known: latest(),
            });
        }
        for (version, statements) in migrations(self.dialect) {
            if version <= current {
                continue;
            }
            let mut tx = self.begin_write().await?;
            for s in statements {
                tx.execute(s.as_str()).await?;
            }
            if version == 15 {
                Self::fill_sort_columns(&mut tx).await?;
            }
            sqlx::query(
                "INSERT INTO meta (key, value) VALUES ('schema_version', $1)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            )
            .bind(version.to_string())
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
        }
        Ok(())
    }

    /// The columns v15 added, filled for the rows written before it, from their
    /// documents as every later write fills them (`sort_columns`).
    async fn fill_sort_columns(tx: &mut sqlx::Transaction<'static, sqlx::Any>) -> Result<()> {
        let rows =
            sqlx::query("SELECT account, kind, rkey, data FROM resources WHERE kind IN ($1, $2)")
                .bind(ResourceKind::Server.as_str())
                .bind(ResourceKind::DnsZone.as_str())
                .fetch_all(&mut **tx)
                .await?;
        for r in rows {
            let kind: String = r.try_get("kind")?;
            let kind: ResourceKind = kind
                .parse()
                .map_err(|e: idcgate_core::Error| StoreError::Corrupt(e.to_string()))?;
            let data: String = r.try_get("data")?;
            // A document that no longer reads keeps the defaults: it sorts as unknown.
            let data = serde_json::from_str(&data).unwrap_or(serde_json::Value::Null);
            let (lifecycle, power, record_count) = sort_columns(kind, &data);
            sqlx::query(
                "UPDATE resources SET lifecycle = $4, power = $5, record_count = $6
                 WHERE account = $1 AND kind = $2 AND rkey = $3",
            )
            .bind(r.try_get::<String, _>("account")?)
            .bind(kind.as_str())
            .bind(r.try_get::<String, _>("rkey")?)
            .bind(lifecycle)
            .bind(power)
            .bind(record_count)
            .execute(&mut **tx)
            .await?;
        }
        Ok(())
    }

    /// A transaction that will write. On SQLite it takes the write lock up front
    /// (`BEGIN IMMEDIATE`): a deferred transaction that reads, then writes, fails with
    /// SQLITE_BUSY instead of waiting when another connection wrote in between.
    pub(crate) async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>> {
        Ok(match self.dialect {
            Dialect::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            Dialect::Postgres => self.pool.begin().await?,
        })
    }

    /// Whether this database already holds secrets sealed under some master key.
    pub async fn has_master_key(&self) -> Result<bool> {
        Ok(
            sqlx::query("SELECT value FROM meta WHERE key = 'key_check'")
                .fetch_optional(&self.pool)
                .await?
                .is_some(),
        )
    }

    /// Checks the key against the database's key check (recording one on first use).
    pub async fn unlock(&mut self, key: &crate::MasterKey) -> Result<()> {
        let cipher = Cipher::new(key);
        let row = sqlx::query("SELECT value FROM meta WHERE key = 'key_check'")
            .fetch_optional(&self.pool)
            .await?;
        match row {
            Some(r) => {
                let sealed: String = r.try_get(0)?;
                if cipher.decrypt(&sealed).as_deref() != Some(KEY_CHECK_PLAIN) {
                    return Err(StoreError::WrongMasterKey);
                }
            }
            None => {
                sqlx::query("INSERT INTO meta (key, value) VALUES ('key_check', $1)")
                    .bind(cipher.encrypt(KEY_CHECK_PLAIN)?)
                    .execute(&self.pool)
                    .await?;
            }
        }
        self.cipher = Some(cipher);
        Ok(())
    }

    pub(crate) fn cipher(&self) -> Result<&Cipher> {
        self.cipher
            .as_ref()
            .ok_or_else(|| StoreError::Database("store is locked: no master key given".into()))
    }

    fn account_from_row(&self, r: &AnyRow) -> Result<UpstreamAccount> {
        let name: String = r.try_get("name")?;
        let vendor: String = r.try_get("vendor")?;
        let sealed: String = r.try_get("credentials_sealed")?;
        let plain = self
            .cipher()?
            .decrypt(&sealed)
            .ok_or(StoreError::WrongMasterKey)?;
        let credentials = Credentials::from_plain_json(&plain)
            .map_err(|e| StoreError::Corrupt(format!("credentials of {name}: {e}")))?;
        let rate: i64 = r.try_get("rate_limit")?;
        Ok(UpstreamAccount {
            vendor: vendor
                .parse::<Vendor>()
                .map_err(|e| StoreError::Corrupt(format!("account {name}: {e}")))?,
            base_url: r.try_get("base_url")?,
            credentials,
            rate_limit_per_sec: u32::try_from(rate).unwrap_or(u32::MAX),
            name,
        })
    }

    fn resource_from_row(r: &AnyRow) -> Result<ResourceRow> {
        let kind: String = r.try_get("kind")?;
        let data: String = r.try_get("data")?;
        Ok(read_row!(r => ResourceRow {
            account,
            kind = kind
                .parse()
                .map_err(|e: idcgate_core::Error| StoreError::Corrupt(e.to_string()))?,
            key: "rkey",
            name,
            data = serde_json::from_str(&data).map_err(|e| StoreError::Corrupt(e.to_string()))?,
            expires_at_ms: "expires_at",
            first_seen_ms: "first_seen",
            last_seen_ms: "last_seen",
            gone_at_ms: "gone_at",
        }))
    }

    /// Every zone of `account` is listed at its next sync.
    async fn forget_zone_markers(&self, account: &str) -> Result<()> {
        sqlx::query("DELETE FROM zone_markers WHERE account = $1")
            .bind(text(account).into_owned())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn write_account(&self, a: &UpstreamAccount, replace: bool) -> Result<()> {
        let sealed = self.cipher()?.encrypt(&a.credentials.to_plain_json())?;
        let sql = if replace {
            "INSERT INTO accounts (name, vendor, base_url, credentials_sealed, rate_limit, created_at)
             VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (name) DO UPDATE SET vendor = excluded.vendor, base_url = excluded.base_url,
               credentials_sealed = excluded.credentials_sealed, rate_limit = excluded.rate_limit"
        } else {
            "INSERT INTO accounts (name, vendor, base_url, credentials_sealed, rate_limit, created_at)
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (name) DO NOTHING"
        };
        let done = sqlx::query(sql)
            .bind(&a.name)
            .bind(a.vendor.as_str())
            .bind(&a.base_url)
            .bind(sealed)
            .bind(i64::from(a.rate_limit_per_sec))
            .bind(now_ms())
            .execute(&self.pool)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::Conflict(format!("account {}", a.name)));
        }
        Ok(())
    }

    /// `(a LIKE $n OR b LIKE $n ...)`: `search` anywhere in any of `columns`, whatever
    /// its ASCII case; its pattern is pushed on `texts`, as the bind `$n`.
    pub(crate) fn contains_any(
        &self,
        texts: &mut Vec<String>,
        columns: &[&str],
        search: &str,
    ) -> String {
        texts.push(like_pattern(search));
        let n = texts.len();
        let any: Vec<String> = columns
            .iter()
            .map(|c| format!("{} LIKE ${n} ESCAPE '\\'", self.lower(c)))
            .collect();
        format!("({})", any.join(" OR "))
    }

    /// The page `of` asks for, its rows read by `read`, and how many match in all: the
    /// page's rows carry that count (`total_rows`, computed once beside them); a page
    /// past the end counts apart. Both statements bind `texts`.
    pub(crate) async fn page_and_total<T>(
        &self,
        of: &PageOf<'_>,
        texts: &[String],
        read: fn(&AnyRow) -> Result<T>,
    ) -> Result<(Vec<T>, i64)> {
        let PageOf {
            columns,
            from,
            where_sql,
            order,
            limit,
            offset,
        } = of;
        let counted = format!("SELECT COUNT(*) FROM {from}{where_sql}");
        let sql = format!(
            "SELECT {columns}, ({counted}) AS total_rows FROM {from}{where_sql}
             ORDER BY {order} LIMIT {limit} OFFSET {offset}"
        );
        let rows = with_texts(&sql, texts).fetch_all(&self.pool).await?;
        let total = match rows.first() {
            Some(r) => r.try_get::<i64, _>("total_rows")?,
            None => with_texts(&counted, texts)
                .fetch_one(&self.pool)
                .await?
                .try_get::<i64, _>(0)?,
        };
        Ok((rows.iter().map(read).collect::<Result<_>>()?, total))
    }

    /// `column` in lower case, ASCII letters only, alike on both backends: SQLite's
    /// LOWER knows no other, PostgreSQL's knows none other under the "C" collation.
    pub(crate) fn lower(&self, column: &str) -> String {
        match self.dialect {
            Dialect::Sqlite => format!("LOWER({column})"),
            Dialect::Postgres => format!("LOWER({column} COLLATE \"C\")"),
        }
    }

    /// The order of a listing as parts read one after another, each a condition on its
    /// rows and their ORDER BY: always total (ending in the primary key), so pages
    /// neither repeat nor skip a row, and each in the order of an index (v11, v15) with
    /// every column in one direction, so a page deep in a long list reads only index
    /// entries up to itself instead of sorting every row. Resources that never expire
    /// are a part of their own after the others: the backends put NULL at opposite ends.
    fn order_parts(&self, filter: &ResourceFilter) -> Vec<(Option<&'static str>, String)> {
        let dir = |d: bool| if d { "DESC" } else { "ASC" };
        // Names with a prefix come off its range's index ("C" on PostgreSQL, v15) in
        // that index's order, which is also SQLite's: the planner takes it whatever it
        // guesses of the rows (a database never analyzed has no statistics).
        let name = match (self.dialect, &filter.name_prefix) {
            (Dialect::Postgres, Some(_)) => "name COLLATE \"C\"",
            _ => "name",
        };
        let by = |column: &str, d: bool| {
            let d = dir(d);
            format!("{column} {d}, {name} {d}, account {d}, kind {d}, rkey {d}")
        };
        match filter.order {
            None if filter.expires_before_ms.is_some() => {
                vec![(None, format!("expires_at, kind, {name}, account, rkey"))]
            }
            None => vec![(None, format!("kind, {name}, account, rkey"))],
            Some(ResourceOrder::Name { descending }) => {
                let d = dir(descending);
                vec![(None, format!("{name} {d}, account {d}, kind {d}, rkey {d}"))]
            }
            Some(ResourceOrder::Account { descending }) => {
                let d = dir(descending);
                vec![(None, format!("account {d}, {name} {d}, kind {d}, rkey {d}"))]
            }
            Some(ResourceOrder::Expiry { descending }) => {
                let d = dir(descending);
                vec![
                    (Some("expires_at IS NOT NULL"), by("expires_at", descending)),
                    (
                        Some("expires_at IS NULL"),
                        format!("{name} {d}, account {d}, kind {d}, rkey {d}"),
                    ),
                ]
            }
            Some(ResourceOrder::Lifecycle { descending }) => {
                vec![(None, by("lifecycle", descending))]
            }
            Some(ResourceOrder::Power { descending }) => vec![(None, by("power", descending))],
            Some(ResourceOrder::RecordCount { descending }) => {
                vec![(None, by("record_count", descending))]
            }
        }
    }

    fn filter_sql(&self, filter: &ResourceFilter) -> (String, Vec<String>, Vec<i64>) {
        // Text binds first ($1..), then integers; keeps the builder trivial.
        let mut clauses = Vec::new();
        let mut texts: Vec<String> = Vec::new();
        let mut ints: Vec<i64> = Vec::new();
        let text_clause =
            |clauses: &mut Vec<String>, texts: &mut Vec<String>, sql: &str, v: String| {
                texts.push(v);
                clauses.push(sql.replace('?', &format!("${}", texts.len())));
            };
        if let Some(a) = &filter.account {
            text_clause(&mut clauses, &mut texts, "account = ?", a.clone());
        }
        if let Some(k) = filter.kind {
            text_clause(&mut clauses, &mut texts, "kind = ?", k.as_str().to_string());
        }
        if let Some(s) = &filter.search {
            text_clause(
                &mut clauses,
                &mut texts,
                &format!("{} LIKE ? ESCAPE '\\'", self.lower("name")),
                like_pattern(s),
            );
        }
        if let Some(p) = &filter.name_prefix {
            text_clause(
                &mut clauses,
                &mut texts,
                "name LIKE ? ESCAPE '\\'",
                format!("{}%", escape_like(p)),
            );
            // Neither backend reads a LIKE with a bound pattern off an index (SQLite's
            // also ignores ASCII case), so alone it reads every row of the kind (a zone's
            // records among 100,000). The same prefix as a range in code point order
            // reads only the zone's: SQLite's BINARY collation, PostgreSQL's "C" (its
            // own index, v15). The range is case-sensitive, as PostgreSQL's LIKE is.
            if let Some(upper) = prefix_upper_bound(p) {
                let name = match self.dialect {
                    Dialect::Sqlite => "name",
                    Dialect::Postgres => "name COLLATE \"C\"",
                };
                text_clause(&mut clauses, &mut texts, &format!("{name} >= ?"), p.clone());
                text_clause(&mut clauses, &mut texts, &format!("{name} < ?"), upper);
            }
        }
        if let Some(state) = &filter.state {
            texts.push(state.clone());
            texts.push(state.clone());
            let (a, b) = (texts.len() - 1, texts.len());
            clauses.push(format!("(lifecycle = ${a} OR power = ${b})"));
        }
        if let Some(list) = &filter.accounts {
            if list.is_empty() {
                clauses.push("1 = 0".into());
            } else {
                let mut marks = Vec::new();
                for a in list {
                    texts.push(a.clone());
                    marks.push(format!("${}", texts.len()));
                }
                clauses.push(format!("account IN ({})", marks.join(", ")));
            }
        }
        if !filter.include_gone {
            clauses.push("gone_at IS NULL".into());
        }
        let base = texts.len();
        if let Some(t) = filter.expires_before_ms {
            ints.push(t);
            clauses.push(format!(
                "expires_at IS NOT NULL AND expires_at < ${}",
                base + ints.len()
            ));
        }
        if let Some(t) = filter.expires_after_ms {
            ints.push(t);
            clauses.push(format!(
                "expires_at IS NOT NULL AND expires_at >= ${}",
                base + ints.len()
            ));
        }
        let where_sql = where_sql(&clauses);
        let texts = texts.iter().map(|t| text(t).into_owned()).collect();
        (where_sql, texts, ints)
    }

    /// A query over `filter_sql`'s clauses with its binds in its order: texts, then ints.
    fn bind_filter(
        sql: &str,
        texts: Vec<String>,
        ints: Vec<i64>,
    ) -> sqlx::query::Query<'_, sqlx::Any, sqlx::any::AnyArguments<'_>> {
        let mut q = sqlx::query(sql);
        for t in texts {
            q = q.bind(t);
        }
        for i in ints {
            q = q.bind(i);
        }
        q
    }

    /// The rows of a listing, its parts (`order_parts`) read in turn until the page is
    /// full; with `with_total`, the count of every matching row when the first part's
    /// statement could say it (an uncorrelated subquery, computed once beside the page:
    /// a window count would read every matching row before the limit).
    async fn listing(
        &self,
        filter: &ResourceFilter,
        with_total: bool,
    ) -> Result<(Vec<ResourceRow>, Option<i64>)> {
        let (where_sql, texts, ints) = self.filter_sql(filter);
        let parts = self.order_parts(filter);
        let last = parts.len() - 1;
        let mut out = Vec::new();
        let mut total = None;
        // An offset without a limit is not one (SQLite has no OFFSET without LIMIT).
        let mut left = filter.limit.map(|l| l.max(0));
        let mut offset = if left.is_some() {
            filter.offset.unwrap_or(0).max(0)
        } else {
            0
        };
        for (i, (condition, order)) in parts.into_iter().enumerate() {
            if left == Some(0) {
                break;
            }
            let part_where = match (condition, where_sql.is_empty()) {
                (None, _) => where_sql.clone(),
                (Some(c), true) => format!(" WHERE {c}"),
                (Some(c), false) => format!("{where_sql} AND {c}"),
            };
            let count = if with_total && i == 0 {
                format!(", (SELECT COUNT(*) FROM resources{where_sql}) AS total_rows")
            } else {
                String::new()
            };
            let sql = match left {
                None => format!("SELECT *{count} FROM resources{part_where} ORDER BY {order}"),
                // The page's keys first, off the order's index alone, then their rows: the
                // rows an offset passes over are never read (nor sorted, where the
                // planner misjudges how many there are).
                Some(l) => format!(
                    "SELECT *{count} FROM (SELECT account, kind, rkey FROM resources{part_where}
                       ORDER BY {order} LIMIT {l} OFFSET {offset}) page
                     JOIN resources USING (account, kind, rkey) ORDER BY {order}"
                ),
            };
            let rows = Self::bind_filter(&sql, texts.clone(), ints.clone())
                .fetch_all(&self.pool)
                .await?;
            if !count.is_empty() {
                total = match rows.first() {
                    Some(r) => Some(r.try_get::<i64, _>("total_rows")?),
                    // An empty first page of the only part: there are none.
                    None if offset == 0 && last == 0 => Some(0),
                    // Past the end, or rows only in a later part: counted apart.
                    None => None,
                };
            }
            if rows.is_empty() && offset > 0 && i < last {
                // The offset reaches past this part: what is left of it goes on into the next.
                let sql = format!("SELECT COUNT(*) FROM resources{part_where}");
                let n: i64 = Self::bind_filter(&sql, texts.clone(), ints.clone())
                    .fetch_one(&self.pool)
                    .await?
                    .try_get(0)?;
                offset = (offset - n).max(0);
            } else if !rows.is_empty() {
                offset = 0;
            }
            if let Some(l) = left.as_mut() {
                *l -= i64::try_from(rows.len()).unwrap_or(i64::MAX);
            }
            for r in &rows {
                out.push(Self::resource_from_row(r)?);
            }
        }
        Ok((out, total))
    }

    /// Runs an INSERT or UPDATE of `resources` whose placeholders number a row's
    /// columns the same way ($1 account .. $7 last_seen, $8 lifecycle, $9 power,
    /// $10 record_count); returns the rows affected.
    async fn write_resource(
        tx: &mut sqlx::Transaction<'_, sqlx::Any>,
        sql: &str,
        row: &ResourceRow,
        data: &str,
    ) -> Result<u64> {
        let (lifecycle, power, record_count) = sort_columns(row.kind, &row.data);
        let done = sqlx::query(sql)
            .bind(&row.account)
            .bind(row.kind.as_str())
            .bind(&row.key)
            .bind(&row.name)
            .bind(data)
            .bind(row.expires_at_ms)
            .bind(row.last_seen_ms)
            .bind(lifecycle)
            .bind(power)
            .bind(record_count)
            .execute(&mut **tx)
            .await?;
        Ok(done.rows_affected())
    }

    /// Marks one live resource gone and records what it held.
    async fn set_gone(
        tx: &mut sqlx::Transaction<'_, sqlx::Any>,
        account: &str,
        kind: ResourceKind,
        key: &str,
        data: &str,
        now_ms: i64,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE resources SET gone_at = $4 WHERE account = $1 AND kind = $2 AND rkey = $3",
        )
        .bind(account)
        .bind(kind.as_str())
        .bind(key)
        .bind(now_ms)
        .execute(&mut **tx)
        .await?;
        Self::record_change(
            tx,
            Change {
                account,
                kind: kind.as_str(),
                key,
                change: ChangeKind::Gone,
                at: now_ms,
                before: Some(data),
                after: None,
            },
        )
        .await
    }

    async fn record_change(tx: &mut sqlx::Transaction<'_, sqlx::Any>, c: Change<'_>) -> Result<()> {
        sqlx::query(
            "INSERT INTO resource_changes (account, kind, rkey, change, at, before_data, after_data)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(c.account)
        .bind(c.kind)
        .bind(c.key)
        .bind(c.change.as_str())
        .bind(c.at)
        .bind(c.before.map(str::to_string))
        .bind(c.after.map(str::to_string))
        .execute(&mut **tx)
        .await?;
        Ok(())
    }
}

/// One row of `resource_changes`.
struct Change<'a> {
    account: &'a str,
    kind: &'a str,
    key: &'a str,
    change: ChangeKind,
    at: i64,
    before: Option<&'a str>,
    after: Option<&'a str>,
}

impl<'a> Change<'a> {
    /// A sync's change to `row`, now holding `after`.
    fn of(
        row: &'a ResourceRow,
        change: ChangeKind,
        before: Option<&'a str>,
        after: &'a str,
    ) -> Self {
        Change {
            account: &row.account,
            kind: row.kind.as_str(),
            key: &row.key,
            change,
            at: row.last_seen_ms,
            before,
            after: Some(after),
        }
    }
}

/// Text as both backends store it: PostgreSQL text cannot hold NUL, which upstream
/// text can (a TXT value, an error message echoing one), so NUL becomes U+FFFD on
/// every backend alike, in what is written and in what is looked up.
pub(crate) fn text(s: &str) -> std::borrow::Cow<'_, str> {
    if s.contains('\0') {
        std::borrow::Cow::Owned(s.replace('\0', "\u{FFFD}"))
    } else {
        std::borrow::Cow::Borrowed(s)
    }
}

/// What a list filters and sorts by that lives in a resource's document, as columns
/// (v15): a server's lifecycle and power states, a zone's record count; `''` and -1
/// where a document has none (an unknown count sorts below every known one).
fn sort_columns(kind: ResourceKind, data: &serde_json::Value) -> (String, String, i64) {
    let state = |key: &str| text(data[key].as_str().unwrap_or_default()).into_owned();
    match kind {
        ResourceKind::Server => (state("lifecycle"), state("power"), -1),
        ResourceKind::DnsZone => (
            String::new(),
            String::new(),
            data["record_count"].as_i64().unwrap_or(-1),
        ),
        _ => (String::new(), String::new(), -1),
    }
}

/// `row` with its text columns as `text` stores them (`data` is JSON, where NUL is
/// already the escape `\u0000`).
fn stored_row(row: &ResourceRow) -> ResourceRow {
    ResourceRow {
        account: text(&row.account).into_owned(),
        key: text(&row.key).into_owned(),
        name: text(&row.name).into_owned(),
        ..row.clone()
    }
}

/// ` WHERE` and `clauses` joined by AND; nothing without clauses.
/// The placeholders of an `IN (...)` list of `count` values from `$first` on
/// (`$3, $4, $5`); more than 1000 values (`what`) at once are refused.
pub(crate) fn in_list(first: usize, count: usize, what: &str) -> Result<String> {
    if count > 1000 {
        return Err(StoreError::Database(format!(
            "{count} {what} asked for at once; at most 1000"
        )));
    }
    let marks: Vec<String> = (first..first + count).map(|i| format!("${i}")).collect();
    Ok(marks.join(", "))
}

pub(crate) fn where_sql(clauses: &[String]) -> String {
    if clauses.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", clauses.join(" AND "))
    }
}

/// One page of a listing: `columns` of `from` (a table, or a join) where `where_sql`
/// holds (empty, or led by ` WHERE`), in `order`, `limit` rows from `offset` on.
pub(crate) struct PageOf<'a> {
    pub columns: &'a str,
    pub from: &'a str,
    pub where_sql: &'a str,
    pub order: &'a str,
    pub limit: i64,
    pub offset: i64,
}

/// `sql` with `texts` bound in their order.
pub(crate) fn with_texts<'q>(
    sql: &'q str,
    texts: &[String],
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
    let mut q = sqlx::query(sql);
    for t in texts {
        q = q.bind(t.clone());
    }
    q
}

/// A LIKE pattern for "contains `s`, ignoring ASCII case" against `SqlStore::lower`.
pub(crate) fn like_pattern(s: &str) -> String {
    format!("%{}%", escape_like(&text(&s.to_ascii_lowercase())))
}

/// User text inside a LIKE pattern matches itself: `%`, `_` and the escape are escaped.
pub(crate) fn escape_like(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

pub(crate) fn audit_from_row(r: &AnyRow) -> Result<AuditEntry> {
    Ok(read_row!(r => AuditEntry {
        id, at_ms: "at", actor, action, target, outcome, detail, intent_id,
    }))
}

fn token_from_row(r: &AnyRow) -> Result<TokenInfo> {
    let scope: String = r.try_get("scope")?;
    let revoked: Option<i64> = r.try_get("revoked_at")?;
    Ok(read_row!(r => TokenInfo {
        id,
        name,
        scope = parsed(Scope::from_word, "scope", &scope)?,
        created_at_ms: "created_at",
        revoked = revoked.is_some(),
    }))
}

impl SqlStore {
    /// `verify_token` by the database alone.
    async fn verify_token_stored(&self, presented: &str) -> Result<Option<TokenInfo>> {
        let Some(rest) = presented.strip_prefix("idg_") else {
            return Ok(None);
        };
        let Some((id, secret)) = rest.split_once('_') else {
            return Ok(None);
        };
        sqlx::query("SELECT * FROM api_tokens WHERE id = $1 AND revoked_at IS NULL")
            .bind(id)
            .read_verified(&self.pool, "secret_hash", secret, token_from_row)
            .await
    }
}

#[async_trait]
impl Store for SqlStore {
    fn backend(&self) -> &'static str {
        match self.dialect {
            Dialect::Sqlite => "sqlite",
            Dialect::Postgres => "postgres",
        }
    }

    async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    fn inventory_generation(&self) -> u64 {
        self.inventory.load(std::sync::atomic::Ordering::SeqCst)
    }

    async fn add_account(&self, account: &UpstreamAccount) -> Result<()> {
        let _written = self.inventory_write();
        self.write_account(account, false).await
    }

    async fn put_account(&self, account: &UpstreamAccount) -> Result<()> {
        let _written = self.inventory_write();
        self.write_account(account, true).await?;
        // The name may now reach another upstream account, whose zones' markers say
        // nothing about what the inventory holds.
        self.forget_zone_markers(&account.name).await
    }

    async fn get_account(&self, name: &str) -> Result<Option<UpstreamAccount>> {
        let row = sqlx::query("SELECT * FROM accounts WHERE name = $1")
            .bind(name)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| self.account_from_row(&r)).transpose()
    }

    async fn list_accounts(&self) -> Result<Vec<UpstreamAccount>> {
        sqlx::query("SELECT * FROM accounts ORDER BY name")
            .read_all(&self.pool, |r| self.account_from_row(r))
            .await
    }

    async fn remove_account(&self, name: &str) -> Result<bool> {
        let _written = self.inventory_write();
        let done = sqlx::query("DELETE FROM accounts WHERE name = $1")
            .bind(name)
            .execute(&self.pool)
            .await?;
        self.forget_zone_markers(name).await?;
        Ok(done.rows_affected() > 0)
    }

    async fn upsert_resources(&self, rows: &[ResourceRow]) -> Result<Vec<Upserted>> {
        let _written = self.inventory_write();
        let cleaned: Vec<ResourceRow>;
        let rows = if rows.iter().any(|r| {
            [&r.account, &r.key, &r.name]
                .iter()
                .any(|t| t.contains('\0'))
        }) {
            cleaned = rows.iter().map(stored_row).collect();
            &cleaned[..]
        } else {
            rows
        };
        let mut outcomes = Vec::with_capacity(rows.len());
        let mut tx = self.begin_write().await?;
        // Existing rows are read in chunks per (account, kind): one query per chunk
        // instead of one per resource keeps a 100k-record sync cheap on PostgreSQL.
        for chunk in rows.chunks(400) {
            let mut existing: std::collections::HashMap<
                (String, String, String),
                (String, String, Option<i64>, Option<i64>),
            > = std::collections::HashMap::new();
            let mut groups: std::collections::BTreeMap<(&str, &str), Vec<&str>> =
                std::collections::BTreeMap::new();
            for r in chunk {
                groups
                    .entry((r.account.as_str(), r.kind.as_str()))
                    .or_default()
                    .push(r.key.as_str());
            }
            for ((account, kind), keys) in groups {
                let marks = in_list(3, keys.len(), "keys")?;
                let sql = format!(
                    "SELECT rkey, name, data, expires_at, gone_at FROM resources WHERE account = $1 AND kind = $2 AND rkey IN ({marks})"
                );
                let mut q = sqlx::query(&sql).bind(account).bind(kind);
                for k in &keys {
                    q = q.bind(*k);
                }
                for r in q.fetch_all(&mut *tx).await? {
                    existing.insert(
                        (account.to_string(), kind.to_string(), r.try_get(0)?),
                        (r.try_get(1)?, r.try_get(2)?, r.try_get(3)?, r.try_get(4)?),
                    );
                }
            }
            for row in chunk {
                let kind = row.kind.as_str();
                let data = serde_json::to_string(&row.data)
                    .map_err(|e| StoreError::Corrupt(e.to_string()))?;
                let outcome = match existing.get(&(
                    row.account.clone(),
                    kind.to_string(),
                    row.key.clone(),
                )) {
                    None => {
                        // DO NOTHING + re-check covers another instance inserting first.
                        let inserted = Self::write_resource(
                            &mut tx,
                            "INSERT INTO resources (account, kind, rkey, name, data, expires_at, first_seen, last_seen, gone_at, lifecycle, power, record_count)
                             VALUES ($1, $2, $3, $4, $5, $6, $7, $7, NULL, $8, $9, $10) ON CONFLICT DO NOTHING",
                            row,
                            &data,
                        )
                        .await?;
                        if inserted == 0 {
                            Upserted::Unchanged
                        } else {
                            Self::record_change(
                                &mut tx,
                                Change::of(row, ChangeKind::Added, None, &data),
                            )
                            .await?;
                            Upserted::Added
                        }
                    }
                    Some((old_name, old_data, old_exp, gone)) => {
                        if gone.is_none()
                            && *old_name == row.name
                            && *old_data == data
                            && *old_exp == row.expires_at_ms
                        {
                            Upserted::Unchanged
                        } else {
                            Self::write_resource(
                                &mut tx,
                                "UPDATE resources SET name = $4, data = $5, expires_at = $6, last_seen = $7, gone_at = NULL,
                                   lifecycle = $8, power = $9, record_count = $10
                                 WHERE account = $1 AND kind = $2 AND rkey = $3",
                                row,
                                &data,
                            )
                            .await?;
                            let change = if gone.is_some() {
                                ChangeKind::Returned
                            } else {
                                ChangeKind::Changed
                            };
                            Self::record_change(
                                &mut tx,
                                Change::of(row, change, Some(old_data), &data),
                            )
                            .await?;
                            Upserted::Changed
                        }
                    }
                };
                outcomes.push(outcome);
            }
        }
        tx.commit().await?;
        Ok(outcomes)
    }

    async fn mark_gone(
        &self,
        account: &str,
        kind: ResourceKind,
        seen: &[String],
        now_ms: i64,
    ) -> Result<Vec<String>> {
        let _written = self.inventory_write();
        let seen: HashSet<std::borrow::Cow<'_, str>> = seen.iter().map(|k| text(k)).collect();
        let stored_account = text(account);
        let account: &str = &stored_account;
        let mut tx = self.begin_write().await?;
        let live = sqlx::query(
            "SELECT rkey, data FROM resources WHERE account = $1 AND kind = $2 AND gone_at IS NULL",
        )
        .bind(account)
        .bind(kind.as_str())
        .fetch_all(&mut *tx)
        .await?;
        let mut gone = Vec::new();
        for r in live {
            let key: String = r.try_get(0)?;
            if seen.contains(key.as_str()) {
                continue;
            }
            let data: String = r.try_get(1)?;
            Self::set_gone(&mut tx, account, kind, &key, &data, now_ms).await?;
            gone.push(key);
        }
        tx.commit().await?;
        Ok(gone)
    }

    async fn list_resources(&self, filter: &ResourceFilter) -> Result<Vec<ResourceRow>> {
        Ok(self.listing(filter, false).await?.0)
    }

    async fn page_resources(&self, filter: &ResourceFilter) -> Result<(Vec<ResourceRow>, i64)> {
        let (rows, total) = self.listing(filter, true).await?;
        let total = match total {
            Some(t) => t,
            None => self.count_resources(filter).await?,
        };
        Ok((rows, total))
    }

    async fn count_resources(&self, filter: &ResourceFilter) -> Result<i64> {
        let (where_sql, texts, ints) = self.filter_sql(filter);
        let sql = format!("SELECT COUNT(*) FROM resources{where_sql}");
        Self::bind_filter(&sql, texts, ints)
            .read_one(&self.pool, first_column)
            .await
    }

    async fn get_resource(
        &self,
        account: &str,
        kind: ResourceKind,
        key: &str,
    ) -> Result<Option<ResourceRow>> {
        sqlx::query("SELECT * FROM resources WHERE account = $1 AND kind = $2 AND rkey = $3")
            .bind(text(account).into_owned())
            .bind(kind.as_str())
            .bind(text(key).into_owned())
            .read_optional(&self.pool, Self::resource_from_row)
            .await
    }

    async fn get_resources(
        &self,
        account: &str,
        kind: ResourceKind,
        keys: &[String],
    ) -> Result<Vec<ResourceRow>> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let marks = in_list(3, keys.len(), "keys")?;
        let sql = format!(
            "SELECT * FROM resources WHERE account = $1 AND kind = $2 AND rkey IN ({marks})"
        );
        let mut q = sqlx::query(&sql)
            .bind(text(account).into_owned())
            .bind(kind.as_str());
        for k in keys {
            q = q.bind(text(k).into_owned());
        }
        q.read_all(&self.pool, Self::resource_from_row).await
    }

    async fn delete_resource(
        &self,
        account: &str,
        kind: ResourceKind,
        key: &str,
        now_ms: i64,
    ) -> Result<()> {
        let _written = self.inventory_write();
        let (stored_account, stored_key) = (text(account), text(key));
        let (account, key): (&str, &str) = (&stored_account, &stored_key);
        let mut tx = self.begin_write().await?;
        let row = sqlx::query("SELECT data FROM resources WHERE account = $1 AND kind = $2 AND rkey = $3 AND gone_at IS NULL")
            .bind(account)
            .bind(kind.as_str())
            .bind(key)
            .fetch_optional(&mut *tx)
            .await?;
        if let Some(r) = row {
            let data: String = r.try_get(0)?;
            Self::set_gone(&mut tx, account, kind, key, &data, now_ms).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn changes(&self, account: Option<&str>, limit: i64) -> Result<Vec<ChangeRow>> {
        let rows =
            match account {
                Some(a) => sqlx::query(
                    "SELECT * FROM resource_changes WHERE account = $1 ORDER BY id DESC LIMIT $2",
                )
                .bind(a)
                .bind(limit)
                .fetch_all(&self.pool)
                .await?,
                None => {
                    sqlx::query("SELECT * FROM resource_changes ORDER BY id DESC LIMIT $1")
                        .bind(limit)
                        .fetch_all(&self.pool)
                        .await?
                }
            };
        rows.iter()
            .map(|r| {
                let kind: String = r.try_get("kind")?;
                let change: String = r.try_get("change")?;
                let parse = |s: Option<String>| -> Result<Option<serde_json::Value>> {
                    s.map(|s| {
                        serde_json::from_str(&s).map_err(|e| StoreError::Corrupt(e.to_string()))
                    })
                    .transpose()
                };
                Ok(read_row!(r => ChangeRow {
                    account,
                    kind = kind
                        .parse()
                        .map_err(|e: idcgate_core::Error| StoreError::Corrupt(e.to_string()))?,
                    key: "rkey",
                    change = parsed(ChangeKind::from_word, "unknown change kind", &change)?,
                    at_ms: "at",
                    before = parse(r.try_get("before_data")?)?,
                    after = parse(r.try_get("after_data")?)?,
                }))
            })
            .collect()
    }

    async fn append_audit(&self, e: &AuditEntry) -> Result<i64> {
        sqlx::query(
            "INSERT INTO audit_log (at, actor, action, target, outcome, detail, intent_id) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(e.at_ms)
        .bind(text(&e.actor).into_owned())
        .bind(text(&e.action).into_owned())
        .bind(text(&e.target).into_owned())
        .bind(text(&e.outcome).into_owned())
        .bind(text(&e.detail).into_owned())
        .bind(e.intent_id)
        .read_one(&self.pool, first_column)
        .await
    }

    async fn begin_audit(&self, i: &AuditIntent) -> Result<i64> {
        sqlx::query(
            "INSERT INTO audit_intents (at, actor, action, target) VALUES ($1, $2, $3, $4) RETURNING id",
        )
        .bind(i.at_ms)
        .bind(text(&i.actor).into_owned())
        .bind(text(&i.action).into_owned())
        .bind(text(&i.target).into_owned())
        .read_one(&self.pool, first_column)
        .await
    }

    async fn unfinished_audit(&self, limit: i64) -> Result<Vec<AuditIntent>> {
        sqlx::query(
            "SELECT i.id, i.at, i.actor, i.action, i.target FROM audit_intents i
             WHERE NOT EXISTS (SELECT 1 FROM audit_log a WHERE a.intent_id = i.id)
             ORDER BY i.id DESC LIMIT $1",
        )
        .bind(limit)
        .read_all(&self.pool, |r| {
            Ok(read_row!(r => AuditIntent { id, at_ms: "at", actor, action, target }))
        })
        .await
    }

    async fn page_audit(
        &self,
        filter: &AuditFilter,
        page: &ListPage,
    ) -> Result<(Vec<AuditEntry>, Option<i64>)> {
        let mut texts: Vec<String> = Vec::new();
        let mut clauses: Vec<String> = Vec::new();
        let mut contains = |texts: &mut Vec<String>, columns: &[&str], v: &str| {
            clauses.push(self.contains_any(texts, columns, v));
        };
        for (column, v) in [
            ("actor", &filter.actor),
            ("action", &filter.action),
            ("target", &filter.target),
        ] {
            if let Some(v) = v {
                contains(&mut texts, &[column], v);
            }
        }
        if let Some(s) = &page.search {
            contains(&mut texts, &["actor", "action", "target", "detail"], s);
        }
        if let Some(o) = &filter.outcome {
            texts.push(text(o).into_owned());
            clauses.push(format!("outcome = ${}", texts.len()));
        }
        if let Some(t) = filter.since_ms {
            clauses.push(format!("at >= {t}"));
        }
        let where_sql = where_sql(&clauses);
        let d = if page.descending { "DESC" } else { "ASC" };
        let column = match page.sort.as_deref() {
            Some(c @ ("actor" | "action" | "target" | "outcome")) => format!("{c} {d}, "),
            _ => String::new(),
        };
        let order = format!("{column}at {d}, id {d}");
        let (limit, offset) = (page.limit.max(0), page.offset.max(0));
        let log = format!(
            "SELECT id, at, actor, action, target, outcome, detail, intent_id FROM audit_log{where_sql}"
        );
        // The intents no entry completes, as entries; the detail is ours, quoted here.
        let unfinished = format!(
            "SELECT * FROM (SELECT 0 AS id, i.at, i.actor, i.action, i.target,
                'unfinished' AS outcome, '{}' AS detail, i.id AS intent_id
              FROM audit_intents i
              WHERE NOT EXISTS (SELECT 1 FROM audit_log a WHERE a.intent_id = i.id)) u{where_sql}",
            UNFINISHED_DETAIL.replace('\'', "''")
        );
        // Each part reads no further than the page reaches, in its own order (off the
        // (at, id) indexes newest first), before the two are merged.
        let reach = limit.saturating_add(offset);
        let sql = format!(
            "SELECT * FROM (
               SELECT * FROM ({log} ORDER BY {order} LIMIT {reach}) l
               UNION ALL
               SELECT * FROM ({unfinished} ORDER BY {order} LIMIT {reach}) f) trail
             ORDER BY {order} LIMIT {limit} OFFSET {offset}"
        );
        let rows = with_texts(&sql, &texts)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(audit_from_row)
            .collect::<Result<Vec<_>>>()?;
        let total = if page.count {
            let sql = format!(
                "SELECT (SELECT COUNT(*) FROM ({log}) l) + (SELECT COUNT(*) FROM ({unfinished}) f)"
            );
            Some(
                with_texts(&sql, &texts)
                    .fetch_one(&self.pool)
                    .await?
                    .try_get::<i64, _>(0)?,
            )
        } else {
            None
        };
        Ok((rows, total))
    }

    async fn audit_outcomes(&self, limit: i64) -> Result<Vec<String>> {
        sqlx::query(
            "SELECT DISTINCT outcome FROM (SELECT outcome FROM audit_log ORDER BY id DESC LIMIT $1) recent
             ORDER BY outcome",
        )
        .bind(limit)
        .read_all(&self.pool, first_column)
        .await
    }

    async fn list_audit(&self, limit: i64) -> Result<Vec<AuditEntry>> {
        sqlx::query("SELECT * FROM audit_log ORDER BY id DESC LIMIT $1")
            .bind(limit)
            .read_all(&self.pool, audit_from_row)
            .await
    }

    async fn last_audit_per_target(&self, action: &str) -> Result<Vec<AuditEntry>> {
        sqlx::query(
            "SELECT * FROM audit_log WHERE id IN
               (SELECT MAX(id) FROM audit_log WHERE action = $1 GROUP BY target)
             ORDER BY target",
        )
        .bind(action)
        .read_all(&self.pool, audit_from_row)
        .await
    }

    async fn create_token(
        &self,
        name: &str,
        scope: Scope,
        now_ms: i64,
    ) -> Result<(TokenInfo, String)> {
        let id = random_hex::<6>("a token id")?;
        let secret = random_hex::<24>("a token secret")?;
        let done = sqlx::query(
            "INSERT INTO api_tokens (id, name, secret_hash, scope, created_at) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (name) DO NOTHING",
        )
        .bind(&id)
        .bind(name)
        .bind(digest(&secret))
        .bind(scope.as_str())
        .bind(now_ms)
        .execute(&self.pool)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::Conflict(format!("token {name}")));
        }
        let info = TokenInfo {
            id: id.clone(),
            name: name.to_string(),
            scope,
            created_at_ms: now_ms,
            revoked: false,
        };
        Ok((info, format!("idg_{id}_{secret}")))
    }

    async fn verify_token(&self, presented: &str) -> Result<Option<TokenInfo>> {
        let digest: [u8; 32] = Sha256::digest(presented.as_bytes()).into();
        if let Some(info) = self.verified.get(&digest) {
            return Ok(Some(info));
        }
        let verified = self.verify_token_stored(presented).await?;
        if let Some(info) = &verified {
            self.verified.put(digest, info.clone());
        }
        Ok(verified)
    }

    async fn list_tokens(&self) -> Result<Vec<TokenInfo>> {
        sqlx::query("SELECT * FROM api_tokens ORDER BY created_at, name")
            .read_all(&self.pool, token_from_row)
            .await
    }

    async fn revoke_token(&self, id_or_name: &str) -> Result<bool> {
        let done = sqlx::query("UPDATE api_tokens SET revoked_at = $2 WHERE (id = $1 OR name = $1) AND revoked_at IS NULL")
            .bind(id_or_name)
            .bind(now_ms())
            .execute(&self.pool)
            .await?;
        self.verified.forget_all();
        Ok(done.rows_affected() > 0)
    }
    async fn ensure_job(&self, name: &str, first_run_ms: i64) -> Result<()> {
        sqlx::query(
            "INSERT INTO jobs (name, next_run_at) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
        )
        .bind(name)
        .bind(first_run_ms)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn claim_job_spread(
        &self,
        owner: &str,
        now_ms: i64,
        lease_until_ms: i64,
        defer_ms: i64,
    ) -> Result<Option<String>> {
        sqlx::query(
            "INSERT INTO job_runners (owner, seen_at) VALUES ($1, $2)
             ON CONFLICT (owner) DO UPDATE SET seen_at = excluded.seen_at",
        )
        .bind(owner)
        .bind(now_ms)
        .execute(&self.pool)
        .await?;
        // PostgreSQL: SKIP LOCKED lets concurrent instances claim different jobs without
        // waiting. SQLite has a single writer, so the statement is already exclusive.
        let lock = match self.dialect {
            Dialect::Postgres => " FOR UPDATE SKIP LOCKED",
            Dialect::Sqlite => "",
        };
        let sql = format!(
            "UPDATE jobs SET locked_by = $1, locked_until = $2, last_run_by = $1
             WHERE name = (SELECT name FROM jobs WHERE next_run_at <= $3
                           AND (locked_until IS NULL OR locked_until < $3)
                           AND (last_run_by IS NULL OR last_run_by <> $1
                                OR next_run_at <= $3 - $4
                                OR NOT EXISTS (SELECT 1 FROM job_runners
                                               WHERE owner <> $1 AND seen_at >= $3 - $4))
                           ORDER BY next_run_at LIMIT 1{lock})
             AND (locked_until IS NULL OR locked_until < $3)
             RETURNING name"
        );
        sqlx::query(&sql)
            .bind(owner)
            .bind(lease_until_ms)
            .bind(now_ms)
            .bind(defer_ms.max(0))
            .read_optional(&self.pool, first_column)
            .await
    }

    async fn release_jobs(&self, owner: &str) -> Result<u64> {
        sqlx::query("DELETE FROM job_runners WHERE owner = $1")
            .bind(owner)
            .execute(&self.pool)
            .await?;
        let done = sqlx::query(
            "UPDATE jobs SET locked_by = NULL, locked_until = NULL WHERE locked_by = $1",
        )
        .bind(owner)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected())
    }

    async fn reserve_rate(
        &self,
        key: &str,
        interval_us: i64,
        tolerance_us: i64,
        n: i64,
    ) -> Result<(i64, i64)> {
        // A generic cell rate: the schedule's end moves on by `n` slots from where it
        // was, or from `tolerance` ago if it lies further back (the account was idle).
        // One statement, so concurrent reservations queue on the row. PostgreSQL's clock
        // is the one every instance shares; SQLite's callers share a machine.
        let step = interval_us.saturating_mul(n);
        let row = match self.dialect {
            Dialect::Postgres => {
                sqlx::query(
                    "WITH clock AS (SELECT (EXTRACT(EPOCH FROM clock_timestamp()) * 1000000)::BIGINT AS now_us)
                     INSERT INTO rate_gates (account, tat_us)
                     SELECT $1, clock.now_us - $2 + $3 FROM clock
                     ON CONFLICT (account) DO UPDATE
                     SET tat_us = GREATEST(rate_gates.tat_us + $3, excluded.tat_us)
                     RETURNING tat_us, (SELECT now_us FROM clock)",
                )
                .bind(key)
                .bind(tolerance_us)
                .bind(step)
                .fetch_one(&self.pool)
                .await?
            }
            Dialect::Sqlite => {
                let now_us = jiff::Timestamp::now().as_microsecond();
                sqlx::query(
                    "INSERT INTO rate_gates (account, tat_us) VALUES ($1, $2 - $3 + $4)
                     ON CONFLICT (account) DO UPDATE
                     SET tat_us = MAX(rate_gates.tat_us + $4, excluded.tat_us)
                     RETURNING tat_us, $2",
                )
                .bind(key)
                .bind(now_us)
                .bind(tolerance_us)
                .bind(step)
                .fetch_one(&self.pool)
                .await?
            }
        };
        Ok((row.try_get::<i64, _>(0)?, row.try_get::<i64, _>(1)?))
    }

    async fn finish_job(
        &self,
        name: &str,
        owner: &str,
        next_run_ms: i64,
        error: Option<&str>,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE jobs SET locked_by = NULL, locked_until = NULL, next_run_at = $3, last_error = $4
             WHERE name = $1 AND locked_by = $2",
        )
        .bind(name)
        .bind(owner)
        .bind(next_run_ms)
        .bind(error.map(str::to_string))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn append_balance_reading(&self, b: &BalanceReading) -> Result<i64> {
        sqlx::query(
            "INSERT INTO balance_readings (account, at, available_fen, credit_fen, source)
             VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(&b.account)
        .bind(b.at_ms)
        .bind(b.available_fen)
        .bind(b.credit_fen)
        .bind(&b.source)
        .read_one(&self.pool, first_column)
        .await
    }

    async fn balance_readings(
        &self,
        account: &str,
        since_ms: i64,
        limit: i64,
    ) -> Result<Vec<BalanceReading>> {
        sqlx::query(&format!(
            "SELECT {READING_COLUMNS} FROM balance_readings
             WHERE account = $1 AND at >= $2 ORDER BY at, id LIMIT $3"
        ))
        .bind(account)
        .bind(since_ms)
        .bind(limit)
        .read_all(&self.pool, reading_from)
        .await
    }

    async fn balance_reading_before(
        &self,
        account: &str,
        at_ms: i64,
    ) -> Result<Option<BalanceReading>> {
        sqlx::query(&format!(
            "SELECT {READING_COLUMNS} FROM balance_readings
             WHERE account = $1 AND at <= $2 ORDER BY at DESC, id DESC LIMIT 1"
        ))
        .bind(account)
        .bind(at_ms)
        .read_optional(&self.pool, reading_from)
        .await
    }
}

const READING_COLUMNS: &str = "id, account, at, available_fen, credit_fen, source";

fn reading_from(r: &AnyRow) -> Result<BalanceReading> {
    Ok(read_row!(r => BalanceReading {
        id, account, at_ms: "at", available_fen, credit_fen, source,
    }))
}

/// The least string above every string that starts with `prefix` in code point (and
/// so UTF-8 byte) order: the prefix with its last character raised by one. `None` for
/// an empty prefix or one ending in the last code point.
fn prefix_upper_bound(prefix: &str) -> Option<String> {
    let mut chars: Vec<char> = prefix.chars().collect();
    let last = chars.pop()?;
    let next = match u32::from(last) + 1 {
        0xD800 => '\u{E000}',
        n => char::from_u32(n)?,
    };
    chars.push(next);
    Some(chars.into_iter().collect())
}

/// Creates a new SQLite database file readable by its owner alone (0600) before SQLite
/// opens it: SQLite gives its `-wal` and `-shm` files the database file's permissions,
/// so credentials (sealed) and the audit log are never readable by other users. An
/// existing file is left as its owner set it; whatever fails here SQLite reports.
fn create_private(url: &str) {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or_default();
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    if path.is_empty() || path == ":memory:" || query.contains("mode=memory") {
        return;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    // AlreadyExists is the common case; anything else SQLite will name when it opens.
    let _ = options.open(path);
}

#[cfg(test)]
mod prefix_tests {
    use super::prefix_upper_bound;

    #[test]
    fn a_prefix_range_ends_just_above_its_strings() {
        assert_eq!(prefix_upper_bound("a.com ").as_deref(), Some("a.com!"));
        assert_eq!(prefix_upper_bound("\u{D7FF}").as_deref(), Some("\u{E000}"));
        assert_eq!(prefix_upper_bound(""), None);
        assert_eq!(prefix_upper_bound("\u{10FFFF}"), None);
        let upper = prefix_upper_bound("zone ").unwrap();
        for s in ["zone ", "zone a", "zone \u{10FFFF}x"] {
            assert!(s >= "zone " && s < upper.as_str(), "{s:?}");
        }
        assert!("zone!" >= upper.as_str() && "zonf" > upper.as_str());
    }
}
