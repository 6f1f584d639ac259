//! The hosting actions of the downstream endpoint that once answered "not offered",
//! through `serve` against the Zonkvm simulator, on SQLite and PostgreSQL, as raw
//! forms and through the Zonkvm client pointed at the endpoint (a second hop):
//!
//! - `get_php_version` / `hosting_get_soft_find` of a line (the product): the
//!   upstream's answer on the product's own line, the same through either hop;
//! - `hosting_del_backup` by a backup's id: deleted only where the tenant's own site
//!   lists it, another tenant's id not found with the backup kept;
//! - `hosting_upload` (multipart/form-data): chunks written and resumed at the
//!   upstream as sent, control characters and all, binary ones byte for byte (0x00-0xFF,
//!   a ~200 KiB random file in three chunks), through a raw multipart form, a
//!   urlencoded one and the client alike;
//!   a chunk over 1 MiB is refused with nothing written;
//! - `hosting_add_database`: the site's bundled database, answered `{"id"}` as the
//!   finance system answers it, that the tenant then reads and manages as its own
//!   database; nothing charged, the books balanced, the password in no audit entry.
#![allow(clippy::unwrap_used)] // a test may fail loudly

mod resale;

use idcgate_core::capability::Connection;
use idcgate_core::{ResourceKind, SiteAction};
use idcgate_engine::testing::{assert_books_balance, backup_ids, hosting_line, panel_call};
use idcgate_store::testing::TestDb;
use idcgate_store::{both_backends, TenantOrderStore as _};
use resale::*;
use serde_json::Value;
use std::sync::Arc;

both_backends!(the_hosting_actions_once_not_offered_work_through_the_endpoint);

const HOST_OFFER: &str = "20250408030033590712";
const DB_OFFER: &str = "20250407053315151712";
const DB_SECRET: &str = "Db-Secret-77";

/// A `hosting_operate` multipart form by `who`: text fields, then `file` as a file
/// part named `name` holding `bytes` as they are.
async fn upload(
    i: &Instance,
    who: (&str, &str),
    name: &str,
    fields: &[(&str, &str)],
    bytes: &[u8],
) -> Value {
    let boundary = "----downstreampanel7f3a";
    let mut body = Vec::new();
    let mut text = vec![
        ("appid", who.0),
        ("appkey", who.1),
        ("action", "hosting_operate"),
        ("operate", "hosting_upload"),
    ];
    text.extend_from_slice(fields);
    for (k, v) in text {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n")
                .as_bytes(),
        );
    }
    body.extend_from_slice(
        format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\nContent-Type: application/octet-stream\r\n\r\n").as_bytes(),
    );
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let mut req = format!(
        "POST /api/same/index HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary={boundary}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    req.extend_from_slice(&body);
    let (status, text) = http_bytes(i.addr, &req).await;
    assert_eq!(status, 200, "{text}");
    serde_json::from_str(&text).unwrap()
}

async fn the_hosting_actions_once_not_offered_work_through_the_endpoint(db: &TestDb) {
    let r = reseller(db.reopen().await).await;
    let ids =
        r.i.site_products(&[
            ("host-a", ResourceKind::HostingSite, HOST_OFFER),
            ("db-a", ResourceKind::Database, DB_OFFER),
        ])
        .await;
    let direct = r.upstream();
    let (appid, appkey) = r.i.tenant("down", "1000.00").await;
    let (other_id, other_key) = r.i.tenant("other", "1000.00").await;
    let me = (appid.as_str(), appkey.as_str());
    let other = (other_id.as_str(), other_key.as_str());
    let via = client(&r.i.url(), &appid, &appkey);
    let other_via = client(&r.i.url(), &other_id, &other_key);
    let (site, _) = site_and_database(&*via, (&ids[0], &ids[1]), "mine").await;
    let (other_site, _) = site_and_database(&*other_via, (&ids[0], &ids[1]), "theirs").await;
    let upstream_site = upstream_of(&r.i, &site).await;
    let balance = r.i.balance("tenant:down").await;
    let sim_records = r.sim.ledger().len();

    // Line reads: the upstream's answers on the product's own line, through either hop.
    let products = direct.call("hosting_product", &vec![]).await.unwrap();
    let line = hosting_line(&products, HOST_OFFER);
    for (action, extra) in [
        ("get_php_version", vec![]),
        ("hosting_get_soft_find", vec![("sNname", "phpmyadmin")]),
    ] {
        let params = |line: &str| {
            let mut p = vec![("line_guid".to_string(), line.to_string())];
            p.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
            p
        };
        let want = direct.call(action, &params(&line)).await.unwrap();
        let mut form = vec![("line_guid", ids[0].as_str())];
        form.extend_from_slice(&extra);
        let v = r.i.call(me, action, &form).await;
        assert_eq!(v["code"], 1, "{action}: {v}");
        assert_eq!(v["data"], want, "{action}");
        assert_eq!(via.call(action, &params(&ids[0])).await.unwrap(), want);
        // A line not on sale, or not a number: refused.
        for bad in ["999999", "x", "0"] {
            let mut form = vec![("line_guid", bad)];
            form.extend_from_slice(&extra);
            let v = r.i.call(me, action, &form).await;
            assert_eq!(v["code"], 0, "{action} {bad}: {v}");
        }
    }

    // Backups, deleted by their ids where the tenant's own site lists them.
    let backups = |conn: Arc<dyn Connection>, site: String| async move {
        let list = conn
            .web_hosting()
            .unwrap()
            .site_panel(&site, &panel_call("hosting_backup_list", &[]))
            .await
            .unwrap();
        backup_ids(&list)
    };
    for _ in 0..2 {
        via.web_hosting()
            .unwrap()
            .site_panel(&site, &panel_call("hosting_to_backup", &[]))
            .await
            .unwrap();
    }
    other_via
        .web_hosting()
        .unwrap()
        .site_panel(&other_site, &panel_call("hosting_to_backup", &[]))
        .await
        .unwrap();
    let mine = backups(via.clone(), site.clone()).await;
    let theirs = backups(other_via.clone(), other_site.clone()).await;
    assert_eq!((mine.len(), theirs.len()), (2, 1));
    // The other tenant names mine: not found, kept at the upstream.
    let v =
        r.i.post_form(&panel_form(
            other,
            "hosting_del_backup",
            vec![("guid", mine[0].clone())],
        ))
        .await;
    assert_eq!(v["code"], 0, "{v}");
    assert_eq!(v["msg"], "备份不存在", "{v}");
    let at_sim = direct
        .web_hosting()
        .unwrap()
        .site_panel(&upstream_site, &panel_call("hosting_backup_list", &[]))
        .await
        .unwrap();
    assert_eq!(at_sim.as_array().unwrap().len(), 2, "{at_sim}");
    // Mine: one as a raw form, one through the Zonkvm client (its own capability lists
    // the site's backups at the endpoint first, then names the backup).
    let v =
        r.i.post_form(&panel_form(
            me,
            "hosting_del_backup",
            vec![("guid", mine[0].clone())],
        ))
        .await;
    assert_eq!(v["code"], 1, "{v}");
    via.web_hosting()
        .unwrap()
        .site_panel(
            &site,
            &panel_call("hosting_del_backup", &[("record", &mine[1])]),
        )
        .await
        .unwrap();
    assert!(backups(via.clone(), site.clone()).await.is_empty());
    assert_eq!(backups(other_via.clone(), other_site.clone()).await, theirs);

    // Uploads: a chunk as sent (leading blanks, quotes, CRLF, a boundary look-alike,
    // NUL and other control characters, Chinese), resumed at its length, through the
    // Zonkvm client and as a raw multipart form.
    let root = direct
        .call(
            "gethosting",
            &vec![("guid".to_string(), upstream_site.clone())],
        )
        .await
        .unwrap()["path"]
        .as_str()
        .unwrap()
        .to_string();
    // The tenant learns it from its own gethosting, as from the finance system, once
    // the inventory has synced the site.
    r.i.engine
        .sync_account("z", std::sync::Arc::new(idcgate_engine::sync::NoProgress))
        .await
        .unwrap();
    let shown = via
        .call("gethosting", &vec![("guid".to_string(), site.clone())])
        .await
        .unwrap();
    assert_eq!(shown["path"].as_str(), Some(root.as_str()), "{shown}");
    let body = |conn: Arc<dyn Connection>, site: String| {
        let path = format!("{root}/notes.txt");
        async move {
            conn.web_hosting()
                .unwrap()
                .site_panel(
                    &site,
                    &panel_call(
                        "hosting_get_file_body",
                        &[("rewrite", "x"), ("path", &path)],
                    ),
                )
                .await
                .unwrap()["data"]
                .as_str()
                .unwrap()
                .to_string()
        }
    };
    let first = "  line one \"q\"\r\n--not-a-boundary\r\n\0\u{1}中文\r\n";
    via.web_hosting()
        .unwrap()
        .site_panel(
            &site,
            &panel_call(
                "hosting_upload",
                &[
                    ("contents_path", &root),
                    ("start", "0"),
                    ("file", first),
                    ("filename", "notes.txt"),
                ],
            ),
        )
        .await
        .unwrap();
    assert_eq!(body(direct.clone(), upstream_site.clone()).await, first);
    let offset = first.len().to_string();
    let v = upload(
        &r.i,
        me,
        "notes.txt",
        &[
            ("guid", &site),
            ("contents_path", &root),
            ("start", &offset),
        ],
        b"tail",
    )
    .await;
    assert_eq!(v["code"], 1, "{v}");
    let whole = format!("{first}tail");
    assert_eq!(body(via.clone(), site.clone()).await, whole);
    assert_eq!(body(direct.clone(), upstream_site.clone()).await, whole);
    // Binary files arrive byte for byte: every byte value as a raw form...
    let site_id: i64 = upstream_site.parse().unwrap();
    let at_sim = |name: &str| r.sim.hosting_file(site_id, &format!("{root}/{name}"));
    let all: Vec<u8> = (0..=255u8).collect();
    let v = upload(
        &r.i,
        me,
        "all.bin",
        &[("guid", &site), ("contents_path", &root), ("start", "0")],
        &all,
    )
    .await;
    assert_eq!(v["code"], 1, "{v}");
    assert_eq!(at_sim("all.bin").unwrap(), all);
    // ...~200 KiB of random bytes in three chunks, each resumed at the bytes so far...
    let big = {
        use rand::{Rng, SeedableRng};
        let mut rng = rand::rngs::StdRng::seed_from_u64(200);
        (0..200 * 1024 + 17).map(|_| rng.gen()).collect::<Vec<u8>>()
    };
    let cuts = [0, 70_001, 140_003, big.len()];
    for w in cuts.windows(2) {
        let start = w[0].to_string();
        let v = upload(
            &r.i,
            me,
            "big.zip",
            &[("guid", &site), ("contents_path", &root), ("start", &start)],
            &big[w[0]..w[1]],
        )
        .await;
        assert_eq!(v["code"], 1, "{v}");
    }
    assert_eq!(at_sim("big.zip").unwrap(), big);
    // ...and through the Zonkvm client at the endpoint (a second hop).
    let mut second = panel_call(
        "hosting_upload",
        &[("contents_path", &root), ("start", "0")],
    );
    second.file = Some(idcgate_core::PanelFile {
        name: "hop.bin".into(),
        bytes: big[..4096].iter().rev().copied().collect(),
    });
    via.web_hosting()
        .unwrap()
        .site_panel(&site, &second)
        .await
        .unwrap();
    assert_eq!(at_sim("hop.bin").unwrap(), second.file.unwrap().bytes);
    // ...and as a urlencoded value: percent-decoded bytes, no charset applied.
    let encoded: String = all.iter().rev().map(|b| format!("%{b:02X}")).collect();
    let form = format!(
        "appid={}&appkey={}&action=hosting_operate&operate=hosting_upload&guid={site}&contents_path={root}&start=0&filename=url.bin&file={encoded}",
        me.0, me.1
    );
    let raw = format!(
        "POST /api/same/index HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded; charset=gbk\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{form}",
        form.len()
    );
    let (status, text) = http_bytes(r.i.addr, raw.as_bytes()).await;
    assert_eq!((status, text.contains("\"code\":1")), (200, true), "{text}");
    assert_eq!(
        at_sim("url.bin").unwrap(),
        all.iter().rev().copied().collect::<Vec<u8>>()
    );
    // A chunk over 1 MiB is refused, nothing written.
    let v = upload(
        &r.i,
        me,
        "all.bin",
        &[("guid", &site), ("contents_path", &root), ("start", "0")],
        &vec![0xff; (1 << 20) + 1],
    )
    .await;
    assert_eq!(v["code"], 0, "{v}");
    assert!(v["msg"].as_str().unwrap().contains("过长"), "{v}");
    assert_eq!(at_sim("all.bin").unwrap(), all);
    // Another tenant's guid: not found.
    let v = upload(
        &r.i,
        other,
        "notes.txt",
        &[("guid", &site), ("contents_path", &root), ("start", "0")],
        b"x",
    )
    .await;
    assert_eq!(v["msg"], "订单不存在", "{v}");
    assert_eq!(body(direct.clone(), upstream_site.clone()).await, whole);

    // The bundled database: the other tenant cannot add it to my site; I can, and
    // then hold it as my own database, with nothing charged.
    let add = |who: (&str, &str)| {
        panel_form(
            who,
            "hosting_add_database",
            vec![("guid", site.clone()), ("db_password", DB_SECRET.into())],
        )
    };
    let v = r.i.post_form(&add(other)).await;
    assert_eq!(v["msg"], "订单不存在", "{v}");
    let v = r.i.post_form(&add(me)).await;
    assert_eq!(v["code"], 1, "{v}");
    let guid = v["data"]["id"].as_i64().unwrap().to_string();
    let row = r.i.call(me, "getsql", &[("guid", &guid)]).await;
    assert_eq!(row["code"], 1, "{row}");
    assert_eq!(row["data"]["db_password"], "", "never shown");
    let sql_orders = direct.call("sql_orders", &vec![]).await.unwrap();
    let upstream_db = upstream_of(&r.i, &guid).await;
    let at_sim = sql_orders["servers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["id"].as_i64().map(|n| n.to_string()).as_deref() == Some(upstream_db.as_str()))
        .unwrap()
        .clone();
    assert_eq!(at_sim["hosting_id"].to_string(), upstream_site, "{at_sim}");
    let v =
        r.i.call(
            me,
            "sql_operate",
            &[("operate", "sql_get_access"), ("guid", &guid)],
        )
        .await;
    assert_eq!(v["data"]["msg"], "127.0.0.1", "{v}");
    via.databases()
        .unwrap()
        .database_action(&guid, &SiteAction::Password("New-Db-88".into()))
        .await
        .unwrap();
    let v = r.i.call(other, "getsql", &[("guid", &guid)]).await;
    assert_eq!(v["code"], 0, "{v}");
    // Asked again: the finance system's answer, naming the one held.
    let v = r.i.post_form(&add(me)).await;
    assert_eq!(v["code"], 0, "{v}");
    assert!(v["msg"].as_str().unwrap().contains(&guid), "{v}");

    assert_eq!(r.i.balance("tenant:down").await, balance, "nothing charged");
    assert_eq!(r.sim.ledger().len(), sim_records, "nothing bought upstream");
    let trail = r.i.engine.audit_trail(100_000).await.unwrap();
    for e in &trail {
        assert!(!format!("{e:?}").contains(DB_SECRET), "{e:?}");
    }
    assert_books_balance(&r.i.engine).await;
}

/// The upstream's id of the tenant order `guid`.
async fn upstream_of(i: &Instance, guid: &str) -> String {
    let row = i
        .store
        .get_tenant_order(guid.parse().unwrap())
        .await
        .unwrap();
    row.unwrap().resource.unwrap()
}
