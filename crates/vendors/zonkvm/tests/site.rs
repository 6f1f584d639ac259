//! The hosting panel operations (hosting_operate): security, WAF, proxies, redirects,
//! user.ini, rewrite rules and the file manager, on the sandbox's seeded site.

mod common;

use common::*;
use idcgate_core::Error;
use idcgate_zonkvm::ZonkvmConnection;
use serde_json::Value;

const SITE: i64 = 1;
const ROOT: &str = "/www/wwwroot/shop1";

async fn h(conn: &ZonkvmConnection, o: &str, extra: &[(&str, &str)]) -> Value {
    op(conn, &format!("hosting_operate#{o}"), SITE, extra).await
}

async fn h_err(conn: &ZonkvmConnection, o: &str, extra: &[(&str, &str)]) -> Error {
    let mut p = vec![("guid", "1")];
    p.extend_from_slice(extra);
    conn.invoke(&format!("hosting_operate#{o}"), &p)
        .await
        .unwrap_err()
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
    h(
        &conn,
        "hosting_delete_redirect",
        &[("redirectname", "redirect_1")],
    )
    .await;
    let err = h_err(
        &conn,
        "hosting_delete_redirect",
        &[("redirectname", "redirect_1")],
    )
    .await;
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
    h(&conn, "hosting_create_dir", &[("path", &p("/restore"))]).await;
    h(
        &conn,
        "hosting_unzip",
        &[
            ("path", &p("/restore")),
            ("dfile", &p("/site.zip")),
            ("password", ""),
        ],
    )
    .await;
    assert_eq!(
        names(&h(&conn, "hosting_get_dir_new", &[("path", &p("/restore"))]).await),
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
        &[("contents_path", &p("/restore")), ("filename", "home.html")],
    )
    .await;
    assert_eq!(found.as_array().unwrap().len(), 1);
    let up = h(
        &conn,
        "hosting_upload_files_exists",
        &[("files", r#"["index.html","new.zip"]"#)],
    )
    .await;
    assert_eq!(up, serde_json::json!(["index.html"]));

    h(
        &conn,
        "hosting_set_batch_data",
        &[
            ("path", &p("/restore")),
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
            ("path", &p("/restore")),
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
        names(&h(&conn, "hosting_get_dir_new", &[("path", &p("/restore"))]).await),
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
