//! The hosting panel operations (hosting_operate): security, WAF, proxies, redirects,
//! user.ini, rewrite rules and the file manager, on the sandbox's seeded site.
#![allow(clippy::unwrap_used)] // a test may fail loudly

mod common;

use common::*;
use idcgate_core::Error;
use idcgate_zonkvm::ZonkvmClient;
use serde_json::Value;

const SITE: i64 = 1;
const ROOT: &str = "/www/wwwroot/shop1";

async fn h(conn: &ZonkvmClient, o: &str, extra: &[(&str, &str)]) -> Value {
    op(conn, &format!("hosting_operate#{o}"), SITE, extra).await
}

async fn h_err(conn: &ZonkvmClient, o: &str, extra: &[(&str, &str)]) -> Error {
    let mut p = vec![("guid", "1")];
    p.extend_from_slice(extra);
    conn.call_kv(&format!("hosting_operate#{o}"), &p)
        .await
        .unwrap_err()
}

/// Which of `files` (a JSON list of names) an upload would overwrite.
async fn existing(conn: &ZonkvmClient, files: &str) -> Value {
    h(conn, "hosting_upload_files_exists", &[("files", files)]).await
}

fn names(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x["filename"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn security_waf_and_user_ini() {
    let (_sim, _srv, conn) = sandbox().await;
    assert_eq!(h(&conn, "hosting_get_security", &[]).await["status"], 0);
    h(
        &conn,
        "hosting_set_security",
        &[
            ("statusSecurity", "1"),
            ("domains", "a.com\nb.com"),
            ("fix", ".jpg|.png"),
            ("http_status", "404"),
        ],
    )
    .await;
    let s = h(&conn, "hosting_get_security", &[]).await;
    assert_eq!(
        (
            s["status"].as_i64(),
            s["http_status"].as_str(),
            s["domains"].as_str()
        ),
        (Some(1), Some("404"), Some("a.com\nb.com"))
    );

    let idx = h(&conn, "hosting_get_index", &[("s", "get_index")]).await;
    assert_eq!(
        (idx["siteName"].as_str(), idx["runPath"].as_str()),
        (Some("shop1.jhgf.gyhost.cn"), Some("/"))
    );
    h(
        &conn,
        "hosting_set_site_status",
        &[("s", "set_site_obj_open"), ("obj", "cc"), ("status", "1")],
    )
    .await;
    h(
        &conn,
        "hosting_set_site_cc_conf",
        &[
            ("post.cc_mode", "2"),
            ("post.cycle", "60"),
            ("post.limit", "120"),
        ],
    )
    .await;
    h(
        &conn,
        "hosting_set_site_retry",
        &[("post", r#"{"retry":300,"retry_time":600,"retry_cycle":60}"#)],
    )
    .await;
    let waf = h(
        &conn,
        "hosting_get_index",
        &[("s", "get_site_config_byname")],
    )
    .await;
    assert_eq!(
        (
            waf["cc"]["status"].as_i64(),
            waf["cc"]["cc_mode"].as_i64(),
            waf["retry"]["retry"].as_i64()
        ),
        (Some(1), Some(2), Some(300))
    );
    let err = h_err(
        &conn,
        "hosting_set_site_status",
        &[
            ("s", "set_site_obj_open"),
            ("obj", "laser"),
            ("status", "1"),
        ],
    )
    .await;
    assert!(
        matches!(err, Error::InvalidInput { ref field, .. } if field == "obj"),
        "{err:?}"
    );
    h(
        &conn,
        "hosting_set_site_status",
        &[("s", "set_site_status"), ("status", "1")],
    )
    .await;

    let sw: Value = serde_json::from_str(
        h(&conn, "hosting_get_dir_user_ini_switch", &[]).await["userini"]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(sw["open_basedir"], 1);
    h(&conn, "hosting_set_dir_user_ini", &[("status", "0")]).await;
    assert_eq!(
        h(&conn, "hosting_get_user_ini", &[]).await["open_basedir"],
        0
    );
}

#[tokio::test]
async fn proxies_and_redirects() {
    let (_sim, _srv, conn) = sandbox().await;
    h(
        &conn,
        "hosting_create_proxy",
        &[
            ("proxyData.proxyname", "api"),
            ("proxyData.proxydir", "/api"),
            ("proxyData.proxysite", "https://api.example.com"),
            ("proxyData.todomain", "api.example.com"),
            ("proxyData.cache", "1"),
        ],
    )
    .await;
    let err = h_err(
        &conn,
        "hosting_create_proxy",
        &[(
            "proxyData",
            r#"{"proxyname":"api","proxysite":"https://x.com"}"#,
        )],
    )
    .await;
    assert!(matches!(err, Error::Upstream { ref message, .. } if message.contains("已存在")));
    h(&conn, "hosting_modify_proxy", &[("proxyData", r#"{"proxyname":"api","proxydir":"/v2","proxysite":"https://v2.example.com","todomain":"v2.example.com"}"#)]).await;
    let list = conn
        .list("hosting_operate#hosting_get_proxy_list", &[("guid", "1")])
        .await
        .unwrap();
    assert_eq!(
        (
            list.len(),
            list[0]["proxydir"].as_str(),
            list[0]["sitename"].as_str()
        ),
        (1, Some("/v2"), Some("shop1.jhgf.gyhost.cn"))
    );
    let f = h(&conn, "hosting_get_proxy_file", &[("proxyname", "api")]).await;
    assert!(f["content"]
        .as_str()
        .unwrap()
        .contains("proxy_pass https://v2.example.com;"));
    h(&conn, "hosting_delete_proxy", &[("proxyname", "api")]).await;
    assert!(conn
        .list("hosting_operate#hosting_get_proxy_list", &[("guid", "1")])
        .await
        .unwrap()
        .is_empty());

    let post = r#"{"redirectdomain":"old.com,www.old.com","redirecttype":301,"type":1,"domainorpath":"domain","holdpath":1,"tourl":"https://new.com"}"#;
    h(&conn, "hosting_create_redirect", &[("post", post)]).await;
    let list = conn
        .list(
            "hosting_operate#hosting_get_redirect_list",
            &[("guid", "1")],
        )
        .await
        .unwrap();
    assert_eq!(list[0]["redirectname"], "redirect_1");
    assert_eq!(
        list[0]["redirectdomain"],
        serde_json::json!(["old.com", "www.old.com"])
    );
    h(&conn, "hosting_modify_redirect", &[("post", r#"{"redirectname":"redirect_1","redirectdomain":"old.com","redirecttype":302,"domainorpath":"domain","tourl":"https://newer.com"}"#)]).await;
    let f = h(
        &conn,
        "hosting_get_redirect_file",
        &[("redirectname", "redirect_1")],
    )
    .await;
    assert!(f["content"]
        .as_str()
        .unwrap()
        .contains("return 302 https://newer.com"));
    h(
        &conn,
        "hosting_save_redirect_file",
        &[("path", "redirect_1"), ("text", "# custom")],
    )
    .await;
    assert_eq!(
        h(
            &conn,
            "hosting_get_redirect_file",
            &[("redirectname", "redirect_1")]
        )
        .await["content"],
        "# custom"
    );
    let first = [("redirectname", "redirect_1")];
    h(&conn, "hosting_delete_redirect", &first).await;
    let err = h_err(&conn, "hosting_delete_redirect", &first).await;
    assert!(matches!(err, Error::Upstream { .. }));
}

#[tokio::test]
async fn rewrite_rules() {
    let (_sim, _srv, conn) = sandbox().await;
    let presets = conn
        .list("hosting_operate#hosting_get_rewrite_list", &[("guid", "1")])
        .await
        .unwrap();
    assert_eq!(presets[0]["name"], "thinkphp");
    let body = h(&conn, "hosting_get_file_body", &[("rewrite", "laravel")]).await;
    assert!(body["data"].as_str().unwrap().contains("try_files"));
    h(
        &conn,
        "hosting_save_file_body",
        &[
            ("file_type", "0"),
            ("path", "shop1"),
            ("text", "rewrite ^/a$ /b;"),
        ],
    )
    .await;
    assert_eq!(
        h(&conn, "hosting_get_file_body", &[("rewrite", "shop1")]).await["data"],
        "rewrite ^/a$ /b;"
    );
}

#[tokio::test]
async fn file_manager() {
    let (_sim, _srv, conn) = sandbox().await;
    let p = |rel: &str| format!("{ROOT}{rel}");
    let restore = p("/restore");
    h(&conn, "hosting_create_dir", &[("path", &p("/app"))]).await;
    h(&conn, "hosting_create_file", &[("path", &p("/app/a.php"))]).await;
    h(
        &conn,
        "hosting_save_file_body",
        &[
            ("file_type", "1"),
            ("path", &p("/app/a.php")),
            ("text", "<?php echo 1;"),
        ],
    )
    .await;
    let err = h_err(&conn, "hosting_create_file", &[("path", "/etc/passwd")]).await;
    assert!(
        matches!(err, Error::InvalidInput { ref field, .. } if field == "path"),
        "{err:?}"
    );
    let err = h_err(&conn, "hosting_create_file", &[("path", &p("/nope/x.txt"))]).await;
    assert!(matches!(err, Error::Upstream { ref message, .. } if message.contains("上级目录")));
    assert_eq!(
        names(&h(&conn, "hosting_get_dir_new", &[("path", ROOT)]).await),
        ["app", "index.html"]
    );
    assert_eq!(
        h(&conn, "hosting_get_dir_size", &[("path", &p("/app"))]).await["size"],
        13
    );
    let b = h(&conn, "hosting_get_dir_binding", &[]).await;
    assert_eq!(b["dirs"], serde_json::json!(["app"]));

    h(
        &conn,
        "hosting_zip",
        &[
            ("filename", "app,index.html"),
            ("path", ROOT),
            ("z_type", "zip"),
            ("dfile", &p("/site.zip")),
        ],
    )
    .await;
    h(&conn, "hosting_create_dir", &[("path", &restore)]).await;
    h(
        &conn,
        "hosting_unzip",
        &[
            ("path", &restore),
            ("dfile", &p("/site.zip")),
            ("password", ""),
        ],
    )
    .await;
    assert_eq!(
        names(&h(&conn, "hosting_get_dir_new", &[("path", &restore)]).await),
        ["app", "index.html"]
    );
    assert_eq!(
        h(
            &conn,
            "hosting_get_file_body",
            &[("rewrite", "x"), ("path", &p("/restore/app/a.php"))]
        )
        .await["data"],
        "<?php echo 1;"
    );

    h(
        &conn,
        "hosting_mv_file",
        &[
            ("sfile", &p("/restore/index.html")),
            ("dfile", &p("/restore/home.html")),
            ("rename", "true"),
        ],
    )
    .await;
    let found = h(
        &conn,
        "hosting_check_exists_files",
        &[("contents_path", &restore), ("filename", "home.html")],
    )
    .await;
    assert_eq!(found.as_array().unwrap().len(), 1);
    let up = existing(&conn, r#"["index.html","new.zip"]"#).await;
    assert_eq!(up, serde_json::json!(["index.html"]));

    h(
        &conn,
        "hosting_set_batch_data",
        &[
            ("path", &restore),
            ("type", "Copy"),
            ("arr", r#"["home.html"]"#),
        ],
    )
    .await;
    h(
        &conn,
        "hosting_paste_file",
        &[
            ("type", "copy"),
            ("sfile", &p("/restore/home.html")),
            ("dfile", &p("/app")),
        ],
    )
    .await;
    assert_eq!(
        names(&h(&conn, "hosting_get_dir_new", &[("path", &p("/app"))]).await),
        ["a.php", "home.html"]
    );
    h(
        &conn,
        "hosting_set_batch_data",
        &[
            ("path", &restore),
            ("type", "Cut"),
            ("arr", r#"["app","home.html"]"#),
        ],
    )
    .await;
    h(&conn, "hosting_create_dir", &[("path", &p("/moved"))]).await;
    h(
        &conn,
        "hosting_batch_paste",
        &[
            ("contents_path", &p("/moved")),
            ("type", "cut"),
            ("skip", "home.html"),
        ],
    )
    .await;
    assert_eq!(
        names(&h(&conn, "hosting_get_dir_new", &[("path", &p("/moved"))]).await),
        ["app"]
    );
    assert_eq!(
        names(&h(&conn, "hosting_get_dir_new", &[("path", &restore)]).await),
        ["home.html"]
    );
    h(
        &conn,
        "hosting_set_batch_data",
        &[
            ("path", ROOT),
            ("type", "Delete"),
            ("arr", r#"["restore"]"#),
        ],
    )
    .await;
    h(&conn, "hosting_delete_file", &[("path", &p("/site.zip"))]).await;
    assert_eq!(
        names(&h(&conn, "hosting_get_dir_new", &[("path", ROOT)]).await),
        ["app", "index.html", "moved"]
    );
    let err = h_err(&conn, "hosting_delete_file", &[("path", ROOT)]).await;
    assert!(matches!(err, Error::Upstream { .. }));
}

#[tokio::test]
async fn ssl_deploy_report_force_https_and_remove() {
    let (sim, _srv, conn) = sandbox().await;
    let cert = include_str!("fixtures/site.crt");
    let key = include_str!("fixtures/site.key");
    let none = h(&conn, "hosting_get_ssl", &[]).await;
    assert_eq!(
        none,
        serde_json::json!({"status": false, "startDate": "", "endDate": "", "issuer": "", "dns": []})
    );
    // No certificate, no forced HTTPS; garbage is refused as the field it came in.
    assert!(
        matches!(h_err(&conn, "hosting_http_to_https", &[]).await, Error::Upstream { ref message, .. } if message == "站点未部署SSL证书")
    );
    assert!(matches!(
        h_err(&conn, "hosting_set_ssl", &[("key", key), ("csr", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----")]).await,
        Error::InvalidInput { ref field, .. } if field == "csr"
    ));
    assert!(matches!(
        h_err(&conn, "hosting_set_ssl", &[("key", cert), ("csr", cert)]).await,
        Error::InvalidInput { ref field, .. } if field == "key"
    ));
    assert_eq!(h(&conn, "hosting_get_ssl", &[]).await["status"], false);

    h(
        &conn,
        "hosting_set_ssl",
        &[("type", "1"), ("key", key), ("csr", cert)],
    )
    .await;
    let got = h(&conn, "hosting_get_ssl", &[]).await;
    // What `openssl x509 -dates -issuer -ext subjectAltName` says of the fixture.
    assert_eq!(
        got,
        serde_json::json!({
            "status": true, "startDate": "2026-11-25", "endDate": "2027-11-25",
            "issuer": "Zonk Test CA", "dns": ["test.jhgf.gyhost.cn", "www.jhgf.example"],
        })
    );
    assert_eq!(sim.hosting_forces_https(SITE), Some(false));
    h(&conn, "hosting_http_to_https", &[]).await;
    assert_eq!(sim.hosting_forces_https(SITE), Some(true));
    h(&conn, "hosting_close_to_https", &[]).await;
    assert_eq!(sim.hosting_forces_https(SITE), Some(false));

    // Taking the SSL listener away also ends a forced redirect.
    h(&conn, "hosting_http_to_https", &[]).await;
    h(&conn, "hosting_close_ssl_conf", &[]).await;
    assert_eq!(sim.hosting_forces_https(SITE), Some(false));
    assert_eq!(h(&conn, "hosting_get_ssl", &[]).await["status"], false);
    assert!(
        matches!(h_err(&conn, "hosting_close_ssl_conf", &[]).await, Error::Upstream { ref message, .. } if message == "站点未部署SSL证书")
    );

    // unset_ssl removes a deployed certificate the same way.
    h(&conn, "hosting_set_ssl", &[("key", key), ("csr", cert)]).await;
    h(
        &conn,
        "hosting_unset_ssl",
        &[("name", "site"), ("password", "")],
    )
    .await;
    assert_eq!(h(&conn, "hosting_get_ssl", &[]).await["status"], false);
    assert!(matches!(
        h_err(&conn, "hosting_unset_ssl", &[]).await,
        Error::Upstream { .. }
    ));
}

#[tokio::test]
async fn chunked_upload_writes_resumes_and_refuses_a_wrong_offset() {
    let (_sim, _srv, conn) = sandbox().await;
    // A chunk keeps its bytes as sent: leading blanks, a quote, CRLF, a boundary look-alike.
    let first = "  line one \"q\"\r\n--not-a-boundary\r\n";
    h(
        &conn,
        "hosting_upload",
        &[
            ("contents_path", ROOT),
            ("start", "0"),
            ("file", first),
            ("filename", "notes.txt"),
        ],
    )
    .await;
    assert_eq!(body(&conn, "notes.txt").await, first);
    let offset = first.len().to_string();
    h(
        &conn,
        "hosting_upload",
        &[
            ("contents_path", ROOT),
            ("start", &offset),
            ("file", "tail"),
            ("filename", "notes.txt"),
        ],
    )
    .await;
    assert_eq!(body(&conn, "notes.txt").await, format!("{first}tail"));
    assert_eq!(
        h(
            &conn,
            "hosting_upload_files_exists",
            &[("files", r#"["notes.txt","nope.txt"]"#)]
        )
        .await,
        serde_json::json!(["notes.txt"])
    );
    // A resume from the wrong offset, outside the site, or without a name changes nothing.
    for (params, field) in [
        (
            vec![
                ("contents_path", ROOT),
                ("start", "3"),
                ("file", "x"),
                ("filename", "notes.txt"),
            ],
            "start",
        ),
        (
            vec![
                ("contents_path", "/etc"),
                ("file", "x"),
                ("filename", "passwd"),
            ],
            "contents_path",
        ),
        (vec![("contents_path", ROOT), ("file", "x")], "filename"),
    ] {
        let err = h_err(&conn, "hosting_upload", &params).await;
        assert!(
            matches!(err, Error::InvalidInput { field: ref f, .. } if f == field),
            "{err:?}"
        );
    }
    assert_eq!(body(&conn, "notes.txt").await, format!("{first}tail"));
    // Starting over at 0 replaces the file.
    h(
        &conn,
        "hosting_upload",
        &[
            ("contents_path", ROOT),
            ("file", "new"),
            ("filename", "notes.txt"),
        ],
    )
    .await;
    assert_eq!(body(&conn, "notes.txt").await, "new");
}

/// Bytes 0x00-0xFF go through the client's panel call as a multipart file part and
/// arrive as sent, resumed at their byte length; the panel's text read refuses them,
/// and an archive keeps them.
#[tokio::test]
async fn a_binary_file_arrives_byte_identical() {
    use idcgate_core::capability::WebHosting;
    use idcgate_core::{PanelCall, PanelFile};
    let (sim, _srv, conn) = sandbox().await;
    let upload = |start: usize, bytes: &[u8]| {
        let mut call = PanelCall::new(
            "hosting_upload",
            vec![
                ("contents_path".into(), ROOT.into()),
                ("start".into(), start.to_string()),
            ],
        );
        call.file = Some(PanelFile {
            name: "logo.png".into(),
            bytes: bytes.to_vec(),
        });
        call
    };
    let all: Vec<u8> = (0..=255u8).collect();
    // Every byte, and a chunk holding what looks like the client's own delimiter.
    let second = b"\r\n------idcgate0000000000000000--\r\n\xff\x00".to_vec();
    conn.site_panel("1", &upload(0, &all)).await.unwrap();
    let path = format!("{ROOT}/logo.png");
    assert_eq!(sim.hosting_file(SITE, &path).unwrap(), all);
    conn.site_panel("1", &upload(all.len(), &second))
        .await
        .unwrap();
    let whole = [all.clone(), second].concat();
    assert_eq!(sim.hosting_file(SITE, &path).unwrap(), whole);
    // A resume that is not at the byte length changes nothing.
    let err = conn.site_panel("1", &upload(3, b"x")).await.unwrap_err();
    assert!(
        matches!(err, Error::InvalidInput { ref field, .. } if field == "start"),
        "{err:?}"
    );
    assert_eq!(sim.hosting_file(SITE, &path).unwrap(), whole);
    let err = h_err(
        &conn,
        "hosting_get_file_body",
        &[("rewrite", "x"), ("path", &path)],
    )
    .await;
    assert!(
        matches!(err, Error::Upstream { ref message, .. } if message.contains("文件编码不被兼容")),
        "{err:?}"
    );
    let restore = format!("{ROOT}/restore");
    h(
        &conn,
        "hosting_zip",
        &[
            ("filename", "logo.png,index.html"),
            ("path", ROOT),
            ("z_type", "zip"),
            ("dfile", &format!("{ROOT}/a.zip")),
        ],
    )
    .await;
    h(&conn, "hosting_create_dir", &[("path", &restore)]).await;
    h(
        &conn,
        "hosting_unzip",
        &[
            ("path", &restore),
            ("dfile", &format!("{ROOT}/a.zip")),
            ("password", ""),
        ],
    )
    .await;
    assert_eq!(
        sim.hosting_file(SITE, &format!("{restore}/logo.png"))
            .unwrap(),
        whole
    );
    assert_eq!(
        sim.hosting_file(SITE, &format!("{restore}/index.html"))
            .unwrap(),
        sim.hosting_file(SITE, &format!("{ROOT}/index.html"))
            .unwrap()
    );
    // Only an upload takes a file.
    let mut call = upload(0, b"x");
    call.operation = "hosting_create_file".into();
    call.fields = vec![("path".into(), format!("{ROOT}/y"))];
    let err = conn.site_panel("1", &call).await.unwrap_err();
    assert!(
        matches!(err, Error::InvalidInput { ref field, .. } if field == "file"),
        "{err:?}"
    );
}

async fn body(conn: &ZonkvmClient, name: &str) -> String {
    let path = format!("{ROOT}/{name}");
    h(
        conn,
        "hosting_get_file_body",
        &[("rewrite", "x"), ("path", &path)],
    )
    .await["data"]
        .as_str()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn a_site_cannot_grow_past_its_space() {
    let (_sim, _srv, conn) = sandbox().await;
    let chunk = "a".repeat(3 << 20);
    let mut size = 0usize;
    let err = loop {
        let start = size.to_string();
        let params = [
            ("contents_path", ROOT),
            ("start", start.as_str()),
            ("file", chunk.as_str()),
            ("filename", "big.bin"),
        ];
        let mut p = vec![("guid", "1")];
        p.extend_from_slice(&params);
        match conn.call_kv("hosting_operate#hosting_upload", &p).await {
            Ok(_) => size += chunk.len(),
            Err(e) => break e,
        }
        assert!(size < 64 << 20, "no limit reached");
    };
    assert!(
        matches!(err, Error::Upstream { ref message, .. } if message == "网站空间不足"),
        "{err:?}"
    );
    assert!(size >= 12 << 20, "stopped early at {size}");
    // The refused chunk left nothing behind; copying the big file would double it.
    assert_eq!(body(&conn, "big.bin").await.len(), size);
    let err = h_err(
        &conn,
        "hosting_zip",
        &[
            ("path", ROOT),
            ("filename", "big.bin"),
            ("dfile", &format!("{ROOT}/big.zip")),
        ],
    )
    .await;
    assert!(
        matches!(err, Error::Upstream { ref message, .. } if message == "网站空间不足"),
        "{err:?}"
    );
    let names = existing(&conn, r#"["big.bin","big.zip"]"#).await;
    assert_eq!(names, serde_json::json!(["big.bin"]));
}
