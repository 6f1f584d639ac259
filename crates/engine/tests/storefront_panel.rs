//! The storefront's hosting actions that once answered "not offered", against the
//! Zonkvm simulator on SQLite and PostgreSQL: a line's panel reads on the product's own
//! upstream line (writing nothing), a backup deleted by its id only where the tenant's
//! own site lists it, and a site's bundled database held by the tenant as a free
//! holding of its own (no money moved, the password nowhere in the audit log), and an
//! uploaded file's bytes (0x00-0xFF, a chunked one reassembled) arriving at the
//! tenant's own site as sent.
#![allow(clippy::unwrap_used)] // a test may fail loudly

mod common;

use common::storefront::{sign_in, site_products, upstream_of, DB_OFFER, HOST_OFFER};

use idcgate_core::storefront::{HoldingState, Purchase, RefusalKind, Shopper, Storefront};
use idcgate_core::{Money, PanelCall, PanelFile, ResourceKind, SiteAction};
use idcgate_engine::storefront::Shop;
use idcgate_engine::testing::{assert_books_balance, backup_ids, hosting_line, panel_call};
use idcgate_engine::Engine;
use idcgate_store::testing::TestDb;
use idcgate_store::{both_backends, TenantOrderStore as _};
use serde_json::Value;
use std::sync::Arc;

both_backends!(
    a_lines_panel_is_read_on_the_products_own_line_and_writes_nothing,
    a_backup_is_deleted_by_its_id_only_where_the_tenants_own_site_lists_it,
    a_bundled_database_is_the_tenants_own_free_holding,
    an_uploaded_file_arrives_byte_identical_on_the_tenants_own_site_only,
);

const DB_SECRET: &str = "Db-Secret-77";

/// An engine reselling the Zonkvm simulator (account `z`) with one hosting and one
/// database product at cost + 10%, and the shop over it.
struct Front {
    engine: Arc<Engine>,
    /// The database beneath the engine, for what a test reads behind it.
    store: idcgate_store::SqlStore,
    shop: Shop,
    sim: idcgate_zonkvm::Sim,
    _srv: idcgate_wire::sim::SimServer,
    host: i64,
    db: i64,
}

async fn front(db: &TestDb) -> Front {
    let engine = common::engine_on(db, vec![common::zonkvm(), common::west()]).await;
    let sim = idcgate_zonkvm::Sim::sandbox();
    let srv = common::add_sandbox(&engine, "z", &sim).await;
    let ids = site_products(
        &engine,
        &[
            ("host-a", ResourceKind::HostingSite, HOST_OFFER),
            ("db-a", ResourceKind::Database, DB_OFFER),
        ],
    )
    .await;
    Front {
        store: db.reopen().await,
        shop: Shop::new(engine.clone()),
        engine,
        sim,
        _srv: srv,
        host: ids[0],
        db: ids[1],
    }
}

impl Front {
    async fn tenant(&self, name: &str) -> Shopper {
        sign_in(&self.engine, &self.shop, name, "1000.00", "0")
            .await
            .0
    }

    /// A month of `offering` for `who`, active.
    async fn buy(&self, who: &Shopper, offering: i64, order_id: &str) -> i64 {
        let h = self
            .shop
            .buy(
                who,
                &Purchase {
                    offering,
                    months: 1,
                    client_order_id: Some(order_id.into()),
                    client_user_id: Some("7".into()),
                    options: Default::default(),
                },
            )
            .await
            .unwrap();
        assert_eq!(h.state, HoldingState::Active, "{h:?}");
        h.guid
    }

    /// The upstream's id of the tenant order `guid`.
    async fn upstream(&self, guid: i64) -> String {
        upstream_of(&self.store, guid).await
    }

    /// A raw call at the simulator, as the reseller's own account.
    async fn at_sim(&self, action: &str, params: &[(&str, &str)]) -> Value {
        let conn = self.engine.connection("z").await.unwrap();
        let params = params
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        conn.call(action, &params).await.unwrap()
    }

    async fn audit_len(&self) -> usize {
        self.engine.audit_trail(100_000).await.unwrap().len()
    }

    async fn tenant_balance(&self, who: &Shopper) -> i64 {
        let balances = self.engine.reads().ledger_balances().await.unwrap();
        let account = format!("tenant:{}", who.tenant);
        balances
            .into_iter()
            .find(|(a, _)| *a == account)
            .map_or(0, |(_, fen)| fen)
    }
}

async fn a_lines_panel_is_read_on_the_products_own_line_and_writes_nothing(db: &TestDb) {
    let f = front(db).await;
    // Added before the tenant is first shown the catalog (it is cached a minute).
    let cloud = f
        .engine
        .add_product("test", idcgate_engine::testing::cloud_product("cloud", "z"))
        .await
        .unwrap();
    let (_west, west) = common::west_l1(&f.engine).await;
    let who = f.tenant("acme").await;
    let products = f.at_sim("hosting_product", &[]).await;
    let line = hosting_line(&products, HOST_OFFER);
    let audit = f.audit_len().await;
    let sim_records = f.sim.ledger().len();

    // The upstream's own answers on the product's line; a line named in the call is
    // not the tenant's to choose and is dropped.
    let php = f
        .shop
        .line_panel(
            &who,
            f.host,
            &panel_call("get_php_version", &[("line_guid", "elsewhere")]),
        )
        .await
        .unwrap();
    assert_eq!(
        php,
        f.at_sim("get_php_version", &[("line_guid", &line)]).await
    );
    assert!(!php.as_array().unwrap().is_empty(), "{php}");
    let tool = f
        .shop
        .line_panel(
            &who,
            f.host,
            &panel_call("hosting_get_soft_find", &[("sNname", "phpmyadmin")]),
        )
        .await
        .unwrap();
    assert_eq!(
        tool,
        f.at_sim(
            "hosting_get_soft_find",
            &[("line_guid", &line), ("sNname", "phpmyadmin")]
        )
        .await
    );
    assert!(tool["ext"]["url"].as_str().unwrap().contains("phpmyadmin"));
    // A database product is a hosting line downstream too.
    f.shop
        .line_panel(&who, f.db, &panel_call("get_php_version", &[]))
        .await
        .unwrap();

    // Nothing else is a line: no such product, a retired one, and only the two reads.
    for offering in [0, 999_999, cloud.id] {
        let r = f
            .shop
            .line_panel(&who, offering, &panel_call("get_php_version", &[]))
            .await
            .unwrap_err();
        assert_eq!(r.kind, RefusalKind::NotFound, "{offering}: {r:?}");
    }
    let r = f
        .shop
        .line_panel(&who, f.host, &panel_call("hosting_lines", &[]))
        .await
        .unwrap_err();
    assert_eq!(r.kind, RefusalKind::Invalid, "{r:?}");

    // A West hosting product: its upstream has no such read, and says so.
    let r = f
        .shop
        .line_panel(&who, west.id, &panel_call("get_php_version", &[]))
        .await
        .unwrap_err();
    assert_eq!(r.kind, RefusalKind::Unsupported, "{r:?}");
    assert!(r.message.contains("cannot do this"), "{r:?}");

    // Reads wrote nothing: no audit entry, nothing upstream.
    assert_eq!(f.audit_len().await, audit);
    assert_eq!(f.sim.ledger().len(), sim_records);
}

async fn a_backup_is_deleted_by_its_id_only_where_the_tenants_own_site_lists_it(db: &TestDb) {
    let f = front(db).await;
    let (acme, bolt) = (f.tenant("acme").await, f.tenant("bolt").await);
    let mine = f.buy(&acme, f.host, "a-site").await;
    let theirs = f.buy(&bolt, f.host, "b-site").await;
    let backups = |who: Shopper, guid: i64| {
        let shop = &f.shop;
        async move {
            let list = shop
                .panel(&who, guid, &panel_call("hosting_backup_list", &[]))
                .await
                .unwrap();
            backup_ids(&list)
        }
    };
    for (who, guid) in [(&acme, mine), (&bolt, theirs)] {
        f.shop
            .panel(who, guid, &panel_call("hosting_to_backup", &[]))
            .await
            .unwrap();
    }
    let acme_backup = backups(acme.clone(), mine).await.remove(0);
    let bolt_backup = backups(bolt.clone(), theirs).await.remove(0);
    assert_ne!(acme_backup, bolt_backup);

    // Bolt names Acme's backup on its own site: not found, and Acme's is still there
    // at the upstream.
    // A guid slipped in beside the record is never what is deleted.
    let slipped = mine.to_string();
    let del = |record: &str| {
        panel_call(
            "hosting_del_backup",
            &[("record", record), ("guid", slipped.as_str())],
        )
    };
    let r = f
        .shop
        .panel(&bolt, theirs, &del(&acme_backup))
        .await
        .unwrap_err();
    assert_eq!(r.kind, RefusalKind::NotFound, "{r:?}");
    // Nor may it name Acme's site.
    let r = f
        .shop
        .panel(&bolt, mine, &del(&acme_backup))
        .await
        .unwrap_err();
    assert_eq!(r.kind, RefusalKind::NotFound, "{r:?}");
    let upstream = f.upstream(mine).await;
    let at_sim = f
        .at_sim(
            "hosting_operate#hosting_backup_list",
            &[("guid", &upstream)],
        )
        .await;
    assert_eq!(at_sim.as_array().unwrap().len(), 1, "{at_sim}");
    // Not a record id at all.
    for bad in ["", "1 OR 1=1", "-1"] {
        let r = f.shop.panel(&acme, mine, &del(bad)).await.unwrap_err();
        assert_eq!(r.kind, RefusalKind::Invalid, "{bad:?}: {r:?}");
    }

    // Each deletes its own.
    f.shop.panel(&acme, mine, &del(&acme_backup)).await.unwrap();
    f.shop
        .panel(&bolt, theirs, &del(&bolt_backup))
        .await
        .unwrap();
    assert!(backups(acme.clone(), mine).await.is_empty());
    assert!(backups(bolt.clone(), theirs).await.is_empty());
    let r = f
        .shop
        .panel(&acme, mine, &del(&acme_backup))
        .await
        .unwrap_err();
    assert_eq!(r.kind, RefusalKind::NotFound, "deleted twice: {r:?}");
    assert_books_balance(&f.engine).await;
}

async fn a_bundled_database_is_the_tenants_own_free_holding(db: &TestDb) {
    let f = front(db).await;
    let (acme, bolt) = (f.tenant("acme").await, f.tenant("bolt").await);
    let site = f.buy(&acme, f.host, "a-site").await;
    let site_upstream = f.upstream(site).await;
    let site_holding = f.shop.holding(&acme, site).await.unwrap();
    let charges = f.store.tenant_charges("acme").await.unwrap().len();
    let sqls = || async {
        let rows = f.at_sim("sql_orders", &[]).await;
        rows["servers"].as_array().unwrap().clone()
    };
    let before = sqls().await.len();

    // Another tenant cannot add it to Acme's site; nothing is sent.
    let r = f
        .shop
        .add_bundled_database(&bolt, site, None, DB_SECRET)
        .await
        .unwrap_err();
    assert_eq!(r.kind, RefusalKind::NotFound, "{r:?}");
    // Nor on a database or an unchecked password.
    let plain = f.buy(&acme, f.db, "a-db").await;
    let r = f
        .shop
        .add_bundled_database(&acme, plain, None, DB_SECRET)
        .await
        .unwrap_err();
    assert_eq!(r.kind, RefusalKind::NotFound, "{r:?}");
    for (pw, engine) in [("", None), ("a\0b", None), (DB_SECRET, Some("my sql"))] {
        let r = f
            .shop
            .add_bundled_database(&acme, site, engine, pw)
            .await
            .unwrap_err();
        assert_eq!(r.kind, RefusalKind::Invalid, "{pw:?} {engine:?}: {r:?}");
    }
    // A suspended tenant reads; it makes nothing.
    let suspended = Shopper {
        may_buy: false,
        ..acme.clone()
    };
    let r = f
        .shop
        .add_bundled_database(&suspended, site, None, DB_SECRET)
        .await
        .unwrap_err();
    assert_eq!(r.kind, RefusalKind::Suspended, "{r:?}");
    assert_eq!(sqls().await.len(), before + 1, "only the database bought");
    // What the database bought cost; nothing else moved.
    let balance = f.tenant_balance(&acme).await;
    let charges = charges + 1;

    // Acme adds it: a holding of its own, nothing paid, the site's end.
    let held = f
        .shop
        .add_bundled_database(&acme, site, Some("mysql"), DB_SECRET)
        .await
        .unwrap();
    assert_eq!(held.kind, ResourceKind::Database);
    assert_eq!(held.state, HoldingState::Active);
    assert_eq!(held.paid, Money::ZERO);
    // The site's end, as the upstream keeps it (to the second).
    let (end, site_end) = (held.expires_at.unwrap(), site_holding.expires_at.unwrap());
    assert!(
        (end.as_second() - site_end.as_second()).abs() <= 1,
        "{end} {site_end}"
    );
    assert_eq!(f.tenant_balance(&acme).await, balance, "no money moved");
    assert_eq!(
        f.store.tenant_charges("acme").await.unwrap().len(),
        charges,
        "no charge written"
    );
    let upstream = f.upstream(held.guid).await;
    let row = sqls()
        .await
        .into_iter()
        .find(|r| r["id"].as_i64().map(|n| n.to_string()).as_deref() == Some(upstream.as_str()))
        .unwrap();
    assert_eq!(row["hosting_id"].to_string(), site_upstream, "{row}");
    assert_eq!(
        row["db_password"], DB_SECRET,
        "the upstream has the password"
    );
    assert_eq!(row["renew_price"], "0.00");

    // Acme manages it as any database it holds; Bolt cannot see it.
    let (_, dbs) = f
        .shop
        .holdings(&acme, ResourceKind::Database, 1, 100)
        .await
        .unwrap();
    assert!(dbs.iter().any(|h| h.guid == held.guid), "{dbs:?}");
    let access = f
        .shop
        .panel(&acme, held.guid, &panel_call("sql_get_access", &[]))
        .await
        .unwrap();
    assert_eq!(access["msg"], "127.0.0.1", "{access}");
    f.shop
        .site(&acme, held.guid, &SiteAction::Password("New-Db-88".into()))
        .await
        .unwrap();
    for r in [
        f.shop.holding(&bolt, held.guid).await.unwrap_err(),
        f.shop
            .panel(&bolt, held.guid, &panel_call("sql_get_access", &[]))
            .await
            .unwrap_err(),
    ] {
        assert_eq!(r.kind, RefusalKind::NotFound, "{r:?}");
    }

    // A second add: the upstream's answer, nothing made, the one held named.
    let r = f
        .shop
        .add_bundled_database(&acme, site, None, DB_SECRET)
        .await
        .unwrap_err();
    assert_eq!(r.kind, RefusalKind::Invalid, "{r:?}");
    assert!(r.message.contains(&held.guid.to_string()), "{r:?}");
    assert_eq!(sqls().await.len(), before + 2);

    // It is not renewed on its own; the site's refund leaves it (the upstream's own
    // order), its own refund gives nothing back.
    let r = f.shop.renew(&acme, held.guid, 1, None).await.unwrap_err();
    assert_eq!(r.kind, RefusalKind::Unsupported, "{r:?}");
    f.shop.refund(&acme, site).await.unwrap();
    let still = f.shop.holding(&acme, held.guid).await.unwrap();
    assert_eq!(still.state, HoldingState::Active);
    assert_eq!(f.shop.refund(&acme, held.guid).await.unwrap(), Money::ZERO);
    assert_eq!(
        f.shop.holding(&acme, held.guid).await.unwrap().state,
        HoldingState::Refunded
    );

    // A bundled database the upstream already has for a site (added there, or by a
    // call whose answer was lost) is the one the tenant gets: nothing made twice.
    let second = f.buy(&acme, f.host, "a-site-2").await;
    let second_upstream = f.upstream(second).await;
    let made = f
        .at_sim(
            "hosting_operate#hosting_add_database",
            &[("guid", &second_upstream), ("db_password", "Direct-1")],
        )
        .await;
    let count = sqls().await.len();
    let adopted = f
        .shop
        .add_bundled_database(&acme, second, None, DB_SECRET)
        .await
        .unwrap();
    assert_eq!(f.upstream(adopted.guid).await, made["id"].to_string());
    assert_eq!(sqls().await.len(), count);

    // The password is nowhere in the audit log.
    let trail = f.engine.audit_trail(100_000).await.unwrap();
    assert!(
        trail.iter().any(|e| e.action == "database.create"),
        "an audited write"
    );
    for e in &trail {
        assert!(!format!("{e:?}").contains(DB_SECRET), "{e:?}");
    }
    assert_books_balance(&f.engine).await;
}

/// `hosting_upload` of `bytes` as `name` at byte `start` of the file in `dir`.
fn upload(dir: &str, name: &str, start: usize, bytes: &[u8]) -> PanelCall {
    let mut c = panel_call(
        "hosting_upload",
        &[("contents_path", dir), ("start", &start.to_string())],
    );
    c.file = Some(PanelFile {
        name: name.into(),
        bytes: bytes.to_vec(),
    });
    c
}

async fn an_uploaded_file_arrives_byte_identical_on_the_tenants_own_site_only(db: &TestDb) {
    use rand::{Rng, SeedableRng};
    let f = front(db).await;
    let acme = f.tenant("acme").await;
    let other = f.tenant("other").await;
    let site = f.buy(&acme, f.host, "up-site").await;
    let upstream = f.upstream(site).await;
    let id: i64 = upstream.trim_start_matches("hosting_").parse().unwrap();
    let root = f.at_sim("gethosting", &[("guid", &upstream)]).await["path"]
        .as_str()
        .unwrap()
        .to_string();
    let balance = f.tenant_balance(&acme).await;
    let charges = f.sim.ledger().len();

    // Every byte value, as sent.
    let all: Vec<u8> = (0..=255u8).collect();
    let at = format!("{root}/all.bin");
    f.shop
        .panel(&acme, site, &upload(&root, "all.bin", 0, &all))
        .await
        .unwrap();
    assert_eq!(f.sim.hosting_file(id, &at).unwrap(), all);

    // ~200 KiB of random bytes in three chunks, each resumed at the bytes so far.
    let mut rng = rand::rngs::StdRng::seed_from_u64(200);
    let big: Vec<u8> = (0..200 * 1024 + 17).map(|_| rng.gen()).collect();
    let cuts = [0, 70_001, 140_003, big.len()];
    for w in cuts.windows(2) {
        f.shop
            .panel(
                &acme,
                site,
                &upload(&root, "big.zip", w[0], &big[w[0]..w[1]]),
            )
            .await
            .unwrap();
    }
    let big_at = format!("{root}/big.zip");
    assert_eq!(f.sim.hosting_file(id, &big_at).unwrap(), big);

    // Another tenant's guid is not found, and nothing is written.
    let err = f
        .shop
        .panel(&other, site, &upload(&root, "all.bin", 0, b"theirs"))
        .await
        .unwrap_err();
    assert_eq!(err.kind, RefusalKind::NotFound, "{err:?}");
    assert_eq!(f.sim.hosting_file(id, &at).unwrap(), all);

    // Nothing charged; the audit shows the upload's size, never its content or name.
    assert_eq!(f.tenant_balance(&acme).await, balance);
    assert_eq!(f.sim.ledger().len(), charges);
    let trail = f.engine.audit_trail(100_000).await.unwrap();
    let uploads: Vec<_> = trail
        .iter()
        .filter(|e| e.detail.contains("hosting_upload"))
        .collect();
    assert_eq!(uploads.len(), 4, "{trail:?}");
    assert!(
        uploads.iter().any(|e| e.detail.contains("file(256 bytes)")),
        "{uploads:?}"
    );
    for e in &trail {
        assert!(
            !e.detail.contains("big.zip") && !e.detail.contains("theirs"),
            "{e:?}"
        );
    }
    assert_books_balance(&f.engine).await;
}
