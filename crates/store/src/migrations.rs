//! Schema migrations, one list per dialect with the same versions. Applied in order at
//! open; a database newer than this binary is refused rather than misread.

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

/// The triggers that refuse changing or deleting `table`'s rows (on PostgreSQL also
/// emptying it), through v3's `append_only()` there.
fn append_only(d: Dialect, table: &str) -> [String; 2] {
    match d {
        Dialect::Sqlite => [
            format!("CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table} BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"),
            format!("CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"),
        ],
        Dialect::Postgres => [
            format!("CREATE TRIGGER {table}_no_change BEFORE UPDATE OR DELETE ON {table} FOR EACH ROW EXECUTE FUNCTION append_only()"),
            format!("CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} FOR EACH STATEMENT EXECUTE FUNCTION append_only()"),
        ],
    }
}

/// (version, statements). Never edit a released entry; append a new version.
pub fn migrations(d: Dialect) -> Vec<(i64, Vec<String>)> {
    let auto_id = match d {
        Dialect::Sqlite => "INTEGER PRIMARY KEY AUTOINCREMENT",
        Dialect::Postgres => "BIGSERIAL PRIMARY KEY",
    };
    let mut v1 = vec![
        "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)".to_string(),
        "CREATE TABLE accounts (
            name TEXT PRIMARY KEY,
            vendor TEXT NOT NULL,
            base_url TEXT NOT NULL,
            credentials_sealed TEXT NOT NULL,
            rate_limit BIGINT NOT NULL,
            created_at BIGINT NOT NULL)"
            .to_string(),
        "CREATE TABLE resources (
            account TEXT NOT NULL,
            kind TEXT NOT NULL,
            rkey TEXT NOT NULL,
            name TEXT NOT NULL,
            data TEXT NOT NULL,
            expires_at BIGINT,
            first_seen BIGINT NOT NULL,
            last_seen BIGINT NOT NULL,
            gone_at BIGINT,
            PRIMARY KEY (account, kind, rkey))"
            .to_string(),
        "CREATE INDEX resources_kind_name ON resources (kind, name)".to_string(),
        "CREATE INDEX resources_expires ON resources (expires_at)".to_string(),
        format!(
            "CREATE TABLE resource_changes (
            id {auto_id},
            account TEXT NOT NULL,
            kind TEXT NOT NULL,
            rkey TEXT NOT NULL,
            change TEXT NOT NULL,
            at BIGINT NOT NULL,
            before_data TEXT,
            after_data TEXT)"
        ),
        format!(
            "CREATE TABLE audit_log (
            id {auto_id},
            at BIGINT NOT NULL,
            actor TEXT NOT NULL,
            action TEXT NOT NULL,
            target TEXT NOT NULL,
            outcome TEXT NOT NULL,
            detail TEXT NOT NULL)"
        ),
        "CREATE TABLE api_tokens (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            secret_hash TEXT NOT NULL,
            scope TEXT NOT NULL,
            created_at BIGINT NOT NULL,
            revoked_at BIGINT)"
            .to_string(),
        "CREATE TABLE jobs (
            name TEXT PRIMARY KEY,
            next_run_at BIGINT NOT NULL,
            locked_by TEXT,
            locked_until BIGINT,
            last_error TEXT)"
            .to_string(),
    ];
    // The audit log is append-only at the database level, not just by convention.
    match d {
        Dialect::Sqlite => {
            v1.push("CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit_log BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END".into());
            v1.push("CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit_log BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END".into());
        }
        Dialect::Postgres => {
            v1.push("CREATE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'audit log is append-only'; END $$".into());
            v1.push("CREATE TRIGGER audit_no_change BEFORE UPDATE OR DELETE ON audit_log FOR EACH ROW EXECUTE FUNCTION audit_append_only()".into());
        }
    }
    // v2: TRUNCATE would empty the audit log without firing row triggers.
    let v2 = match d {
        Dialect::Sqlite => Vec::new(),
        Dialect::Postgres => vec![
            "CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit_log FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only()".to_string(),
        ],
    };
    // v3: the order journal and the double-entry ledger. Orders move by compare-and-set
    // on `state`; their events and the ledger are append-only like the audit log.
    let mut v3 = vec![
        format!(
            "CREATE TABLE orders (
            id {auto_id},
            idem_key TEXT NOT NULL UNIQUE,
            account TEXT NOT NULL,
            kind TEXT NOT NULL,
            operation TEXT NOT NULL,
            target TEXT NOT NULL,
            params TEXT NOT NULL,
            quoted_fen BIGINT NOT NULL,
            actor TEXT NOT NULL,
            state TEXT NOT NULL,
            charged_fen BIGINT,
            upstream_ref TEXT,
            created_at BIGINT NOT NULL,
            updated_at BIGINT NOT NULL)"
        ),
        "CREATE INDEX orders_state ON orders (state, updated_at)".to_string(),
        format!(
            "CREATE TABLE order_events (
            id {auto_id},
            order_id BIGINT NOT NULL REFERENCES orders (id),
            at BIGINT NOT NULL,
            from_state TEXT,
            to_state TEXT NOT NULL,
            detail TEXT NOT NULL)"
        ),
        "CREATE INDEX order_events_order ON order_events (order_id)".to_string(),
        format!(
            "CREATE TABLE ledger_transactions (
            id {auto_id},
            at BIGINT NOT NULL,
            memo TEXT NOT NULL,
            order_id BIGINT REFERENCES orders (id))"
        ),
        format!(
            "CREATE TABLE ledger_entries (
            id {auto_id},
            txn_id BIGINT NOT NULL REFERENCES ledger_transactions (id),
            account TEXT NOT NULL,
            fen BIGINT NOT NULL)"
        ),
        "CREATE INDEX ledger_entries_account ON ledger_entries (account)".to_string(),
        "CREATE INDEX ledger_entries_txn ON ledger_entries (txn_id)".to_string(),
    ];
    if d == Dialect::Postgres {
        v3.push("CREATE FUNCTION append_only() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION '% is append-only', TG_TABLE_NAME; END $$".into());
    }
    for table in ["order_events", "ledger_transactions", "ledger_entries"] {
        v3.extend(append_only(d, table));
    }
    // v4: renewals. A policy row is a kind's default (account and rkey empty: a primary
    // key column cannot be NULL on PostgreSQL) or one resource's override; a NULL field
    // is "not set here". Notices make each reminder stage (and each reason a renewal was
    // skipped) happen once per (resource, expiry), also with two instances racing.
    let v4 = vec![
        "CREATE TABLE renewal_policies (
            kind TEXT NOT NULL,
            account TEXT NOT NULL,
            rkey TEXT NOT NULL,
            auto_renew BIGINT,
            days_before BIGINT,
            max_price_fen BIGINT,
            months BIGINT,
            updated_at BIGINT NOT NULL,
            PRIMARY KEY (kind, account, rkey))"
            .to_string(),
        "CREATE TABLE renewal_floors (
            account TEXT PRIMARY KEY,
            floor_fen BIGINT NOT NULL,
            updated_at BIGINT NOT NULL)"
            .to_string(),
        "CREATE TABLE renewal_notices (
            account TEXT NOT NULL,
            kind TEXT NOT NULL,
            rkey TEXT NOT NULL,
            expires_at BIGINT NOT NULL,
            stage TEXT NOT NULL,
            at BIGINT NOT NULL,
            detail TEXT NOT NULL,
            PRIMARY KEY (account, kind, rkey, expires_at, stage))"
            .to_string(),
    ];
    // v5: resale. Tenants (downstream resellers; the appkey only as a digest, money
    // only in the ledger), the deposits that make a top-up's idempotency key used (in
    // the same transaction as its ledger lines; append-only like them), and the product
    // catalog (a purchase template and a price rule; upstream costs are never stored).
    // Briefly numbered 6 before v4 and v7 existed: a database at 6 or 7 already has it.
    let mut v5 = vec![
        "CREATE TABLE tenants (
            name TEXT PRIMARY KEY,
            appid TEXT NOT NULL UNIQUE,
            appkey_hash TEXT NOT NULL,
            state TEXT NOT NULL,
            price_level TEXT NOT NULL,
            credit_limit_fen BIGINT NOT NULL,
            created_at BIGINT NOT NULL,
            updated_at BIGINT NOT NULL)"
            .to_string(),
        "CREATE TABLE tenant_deposits (
            idem_key TEXT PRIMARY KEY,
            tenant TEXT NOT NULL REFERENCES tenants (name),
            fen BIGINT NOT NULL,
            actor TEXT NOT NULL,
            txn_id BIGINT NOT NULL REFERENCES ledger_transactions (id),
            at BIGINT NOT NULL)"
            .to_string(),
        "CREATE INDEX tenant_deposits_tenant ON tenant_deposits (tenant)".to_string(),
        format!(
            "CREATE TABLE products (
            id {auto_id},
            name TEXT NOT NULL UNIQUE,
            title TEXT NOT NULL,
            account TEXT NOT NULL,
            kind TEXT NOT NULL,
            offer TEXT,
            options TEXT NOT NULL,
            rule TEXT NOT NULL,
            state TEXT NOT NULL,
            created_at BIGINT NOT NULL,
            updated_at BIGINT NOT NULL)"
        ),
    ];
    v5.extend(append_only(d, "tenant_deposits"));
    // v7: balance readings of each upstream account over time, the other half of the
    // statement check for vendors whose finance record cannot be read. Append-only: a
    // reading rewritten after the fact could hide a charge.
    let mut v7 = vec![
        format!(
            "CREATE TABLE balance_readings (
            id {auto_id},
            account TEXT NOT NULL,
            at BIGINT NOT NULL,
            available_fen BIGINT NOT NULL,
            credit_fen BIGINT NOT NULL,
            source TEXT NOT NULL)"
        ),
        "CREATE INDEX balance_readings_account ON balance_readings (account, at)".to_string(),
    ];
    v7.extend(append_only(d, "balance_readings"));
    // 6 is unused: two branches of work numbered 6 and 7 at once and 7 reached databases
    // first. A new migration takes the next number after the last, never a gap, since
    // `migrate` applies only versions above the one a database records.
    // v8: every placement looks up the open orders on its resource (twice), so that
    // lookup must not scan the journal.
    let v8 = vec!["CREATE INDEX orders_target ON orders (account, target)".to_string()];
    // v9: what tenants bought through the downstream endpoint. A tenant order is the
    // downstream's view of one service (its guid is the id); every movement of its money
    // is a tenant charge tied to its ledger transaction (append-only, like the ledger),
    // with the upstream journal order it paid for, so a margin is read from the books.
    // orders.resource_ref: the upstream's id of what an order made, which the endpoint
    // acts on afterwards (upstream_ref stays the vendor's order id the statement needs).
    let mut v9 = vec![
        "ALTER TABLE orders ADD COLUMN resource_ref TEXT".to_string(),
        format!(
            "CREATE TABLE tenant_orders (
            id {auto_id},
            tenant TEXT NOT NULL REFERENCES tenants (name),
            idem_key TEXT NOT NULL UNIQUE,
            product TEXT NOT NULL,
            kind TEXT NOT NULL,
            account TEXT NOT NULL,
            months BIGINT NOT NULL,
            state TEXT NOT NULL,
            client_order_id TEXT NOT NULL,
            client_user_id TEXT NOT NULL,
            resource TEXT,
            expires_at BIGINT,
            detail TEXT NOT NULL,
            created_at BIGINT NOT NULL,
            updated_at BIGINT NOT NULL)"
        ),
        "CREATE INDEX tenant_orders_tenant ON tenant_orders (tenant, id)".to_string(),
        format!(
            "CREATE TABLE tenant_charges (
            id {auto_id},
            tenant_order_id BIGINT NOT NULL REFERENCES tenant_orders (id),
            idem_key TEXT NOT NULL UNIQUE,
            what TEXT NOT NULL,
            fen BIGINT NOT NULL,
            months BIGINT NOT NULL,
            order_id BIGINT,
            txn_id BIGINT NOT NULL REFERENCES ledger_transactions (id),
            at BIGINT NOT NULL)"
        ),
        "CREATE INDEX tenant_charges_order ON tenant_charges (tenant_order_id)".to_string(),
    ];
    v9.extend(append_only(d, "tenant_charges"));
    // v10: audit intents. A mutating upstream call is announced here before it is sent
    // and completed by an `audit_log` row naming the intent, so a process killed in
    // between leaves the intent (append-only like the log: both rows are facts).
    let mut v10 = vec![
        format!(
            "CREATE TABLE audit_intents (
            id {auto_id},
            at BIGINT NOT NULL,
            actor TEXT NOT NULL,
            action TEXT NOT NULL,
            target TEXT NOT NULL)"
        ),
        "ALTER TABLE audit_log ADD COLUMN intent_id BIGINT".to_string(),
        "CREATE INDEX audit_log_intent ON audit_log (intent_id)".to_string(),
    ];
    v10.extend(append_only(d, "audit_intents"));
    // Limits and jobs shared by instances on one database: each account's schedule of
    // upstream send slots (its theoretical arrival time, microseconds), which instance ran
    // a job last and which instances are polling, so jobs spread between them; and the
    // index the REST inventory pages read.
    let v11 = vec![
        "CREATE TABLE rate_gates (account TEXT PRIMARY KEY, tat_us BIGINT NOT NULL)".to_string(),
        "ALTER TABLE jobs ADD COLUMN last_run_by TEXT".to_string(),
        "CREATE TABLE job_runners (owner TEXT PRIMARY KEY, seen_at BIGINT NOT NULL)".to_string(),
        // The inventory's pages come in this order: with it, a page of ten reads ten
        // index entries instead of sorting every live resource of its kind.
        "CREATE INDEX resources_live ON resources (kind, name, account, rkey) WHERE gone_at IS NULL"
            .to_string(),
    ];
    // v12: the console's operators and their sessions. A session row holds only the
    // digest of its cookie; a TOTP secret is sealed like upstream credentials.
    let v12 = vec![
        "CREATE TABLE operators (
            name TEXT PRIMARY KEY,
            role TEXT NOT NULL,
            password_hash TEXT NOT NULL,
            totp_sealed TEXT,
            totp_enabled BIGINT NOT NULL,
            recovery_hashes TEXT NOT NULL,
            failed_logins BIGINT NOT NULL,
            locked_until BIGINT NOT NULL,
            created_at BIGINT NOT NULL,
            updated_at BIGINT NOT NULL)"
            .to_string(),
        "CREATE TABLE console_sessions (
            id_hash TEXT PRIMARY KEY,
            operator TEXT NOT NULL REFERENCES operators (name) ON DELETE CASCADE,
            csrf TEXT NOT NULL,
            stage TEXT NOT NULL,
            created_at BIGINT NOT NULL,
            last_seen BIGINT NOT NULL)"
            .to_string(),
        "CREATE INDEX console_sessions_operator ON console_sessions (operator)".to_string(),
    ];
    // v13: failed authentications counted per (scope, subject) — an appid, an address —
    // in the database, so every instance sees one count and one lockout.
    let v13 = vec![
        "CREATE TABLE auth_failures (
            scope TEXT NOT NULL,
            subject TEXT NOT NULL,
            failures BIGINT NOT NULL,
            window_start BIGINT NOT NULL,
            locked_until BIGINT NOT NULL,
            PRIMARY KEY (scope, subject))"
            .to_string(),
        "CREATE INDEX auth_failures_age ON auth_failures (window_start)".to_string(),
        // The last sync of each account is read from the audit log on every dashboard.
        "CREATE INDEX audit_log_action_target ON audit_log (action, target, id)".to_string(),
    ];
    // v14: notifications. An event is raised once per key (an expiry stage, an order's
    // failure, a sync streak), with one delivery per channel that is claimed like a job
    // (a lease) and retried; every attempt is a row of the delivery log (append-only:
    // the log says what was sent when). Watches hold the last value seen of what is
    // announced on change (a product's cost, a balance under its threshold). Orders'
    // moves are read by the state they moved to.
    let mut v14 = vec![
        format!(
            "CREATE TABLE notify_events (
            id {auto_id},
            ekey TEXT NOT NULL UNIQUE,
            kind TEXT NOT NULL,
            subject TEXT NOT NULL,
            body TEXT NOT NULL,
            data TEXT NOT NULL,
            at BIGINT NOT NULL)"
        ),
        format!(
            "CREATE TABLE notify_deliveries (
            id {auto_id},
            event_id BIGINT NOT NULL REFERENCES notify_events (id),
            channel TEXT NOT NULL,
            state TEXT NOT NULL,
            attempts BIGINT NOT NULL,
            next_at BIGINT NOT NULL,
            locked_by TEXT,
            locked_until BIGINT,
            updated_at BIGINT NOT NULL,
            UNIQUE (event_id, channel))"
        ),
        "CREATE INDEX notify_deliveries_due ON notify_deliveries (state, next_at)".to_string(),
        format!(
            "CREATE TABLE notify_attempts (
            id {auto_id},
            delivery_id BIGINT NOT NULL REFERENCES notify_deliveries (id),
            at BIGINT NOT NULL,
            attempt BIGINT NOT NULL,
            outcome TEXT NOT NULL,
            detail TEXT NOT NULL)"
        ),
        "CREATE TABLE notify_watches (
            wkey TEXT PRIMARY KEY,
            value TEXT NOT NULL,
            updated_at BIGINT NOT NULL)"
            .to_string(),
        "CREATE INDEX order_events_to_state ON order_events (to_state, at)".to_string(),
    ];
    v14.extend(append_only(d, "notify_attempts"));
    // v15: list pages that cost the same with 10,000 domains or 100,000 records. What a
    // list filters or sorts by is a column with an index in that order: a server's
    // lifecycle and power states and a zone's record count, copied out of the stored
    // document when it is written (`sql::sort_columns`; existing rows in `migrate`), and
    // an order by expiry or account read off an index instead of sorted.
    let mut v15 = vec![
        "ALTER TABLE resources ADD COLUMN lifecycle TEXT NOT NULL DEFAULT ''".to_string(),
        "ALTER TABLE resources ADD COLUMN power TEXT NOT NULL DEFAULT ''".to_string(),
        "ALTER TABLE resources ADD COLUMN record_count BIGINT NOT NULL DEFAULT -1".to_string(),
        "CREATE INDEX resources_live_expiry ON resources (kind, expires_at, name, account, rkey) WHERE gone_at IS NULL"
            .to_string(),
        "CREATE INDEX resources_live_account ON resources (kind, account, name, rkey) WHERE gone_at IS NULL"
            .to_string(),
        // The audit trail's pages, newest first, off these instead of sorting the log.
        "CREATE INDEX audit_log_at ON audit_log (at, id)".to_string(),
        "CREATE INDEX audit_intents_at ON audit_intents (at, id)".to_string(),
    ];
    if d == Dialect::Postgres {
        // A name prefix (a zone's records) is read as a range in code point order: the
        // order of the "C" collation, whatever collation the database was created with.
        v15.push(
            "CREATE INDEX resources_live_name_c ON resources (kind, name COLLATE \"C\") WHERE gone_at IS NULL"
                .to_string(),
        );
    }
    // v16: incremental DNS sync. Per zone, the upstream's change marker seen just before
    // its last complete listing of records ('' = none: list it next time), and when it
    // was seen, so an older observation never overwrites a newer forgetting.
    let v16 = vec!["CREATE TABLE zone_markers (
            account TEXT NOT NULL,
            zone TEXT NOT NULL,
            marker TEXT NOT NULL,
            at BIGINT NOT NULL,
            PRIMARY KEY (account, zone))"
        .to_string()];
    // v17: what a product sells per unit beyond its base (extra IPs, bandwidth,
    // defense): the most a holding may add and, for a fixed price, one unit's monthly
    // price in fen (NULL: the product's markup on the upstream's cost of it).
    let v17 = vec!["CREATE TABLE product_units (
            product_id BIGINT NOT NULL REFERENCES products (id),
            unit TEXT NOT NULL,
            monthly_fen BIGINT,
            max_extra BIGINT NOT NULL,
            PRIMARY KEY (product_id, unit))"
        .to_string()];
    vec![
        (1, v1),
        (2, v2),
        (3, v3),
        (4, v4),
        (5, v5),
        (7, v7),
        (8, v8),
        (9, v9),
        (10, v10),
        (11, v11),
        (12, v12),
        (13, v13),
        (14, v14),
        (15, v15),
        (16, v16),
        (17, v17),
    ]
}

pub fn latest() -> i64 {
    migrations(Dialect::Sqlite)
        .last()
        .map(|(v, _)| *v)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_only_grow_and_both_dialects_have_the_same() {
        let versions = |d| migrations(d).iter().map(|(v, _)| *v).collect::<Vec<_>>();
        let sqlite = versions(Dialect::Sqlite);
        assert_eq!(sqlite, versions(Dialect::Postgres));
        assert!(sqlite.windows(2).all(|w| w[0] < w[1]), "{sqlite:?}");
        assert_eq!(latest(), *sqlite.last().unwrap());
    }
}
