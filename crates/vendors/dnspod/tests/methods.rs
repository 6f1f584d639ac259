//! Every implemented method, client -> simulator over a socket, in JSON and in XML,
//! asserting the state change or the data returned.
#![allow(clippy::unwrap_used)] // a test may fail loudly

mod common;
use common::*;
use idcgate_core::{Capabilities, Capability, Error, RecordInput, RecordType};
use idcgate_dnspod::{DnspodClient, Format, Sim};
use serde_json::Value;
use std::time::Duration;

/// Array items whether the doc came from JSON or from XML (where `[]` reads as "").
fn items(doc: &Value, key: &str) -> Vec<Value> {
    doc.get(key)
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
}

/// A scalar as text: XML has no numbers.
fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

async fn call(c: &DnspodClient, action: &str, p: &[(&str, &str)]) -> Value {
    match c.call(action, &params(p)).await {
        Ok(v) => v,
        Err(e) => panic!("{action} {p:?}: {e}"),
    }
}

async fn err(c: &DnspodClient, action: &str, p: &[(&str, &str)]) -> Error {
    c.call(action, &params(p)).await.expect_err(action)
}

/// An A record on the default line: the Record.Create most tests need.
fn a_record<'a>(zone: &'a str, sub: &'a str, value: &'a str) -> [(&'a str, &'a str); 5] {
    [
        ("domain", zone),
        ("sub_domain", sub),
        ("record_type", "A"),
        ("record_line", "默认"),
        ("value", value),
    ]
}

/// The upstream code of a call that must fail with one.
async fn fails_with(c: &DnspodClient, action: &str, p: &[(&str, &str)]) -> String {
    upstream_code(&err(c, action, p).await)
}

#[track_caller]
fn assert_field(e: &Error, want: &str) {
    assert!(
        matches!(e, Error::InvalidInput { field, .. } if field == want),
        "{e:?}"
    );
}

fn upstream_code(e: &Error) -> String {
    match e {
        Error::Upstream { code, .. } => code.clone(),
        other => panic!("expected an upstream error, got {other:?}"),
    }
}

async fn user_id(agent: &DnspodClient, email: &str) -> String {
    agent
        .list_users()
        .await
        .unwrap()
        .into_iter()
        .find(|u| u.email == email)
        .unwrap()
        .id
}

#[tokio::test]
async fn account_methods() {
    for format in FORMATS {
        let sim = Sim::new();
        let (_, token) = sim.add_user("me@example.com", "Passw0rd-1", false);
        let srv = serve(&sim).await;
        let c = client(&srv, &[("login_token", &token)], format);
        let v = call(&c, "Info.Version", &[]).await;
        assert_eq!(v["status"]["message"], "4.6");
        assert_eq!(v["status"]["code"], "1");

        call(
            &c,
            "User.Modify",
            &[
                ("nick", "Mr Me"),
                ("real_name", "我"),
                ("telephone", "13911112222"),
            ],
        )
        .await;
        let d = call(&c, "User.Detail", &[]).await;
        let u = &d["info"]["user"];
        assert_eq!(u["nick"], "Mr Me");
        assert_eq!(u["real_name"], "我");
        assert_eq!(u["telephone"], "13911112222");
        assert_eq!(u["email"], "me@example.com");
        assert_eq!(u["telephone_verified"], "no");
        assert_eq!(text(&u["agent_pending"]), "false");
        assert_eq!(
            fails_with(&c, "User.Modify", &[("telephone", "123")]).await,
            "8"
        );

        let v = call(&c, "Telephoneverify.Code", &[("telephone", "13911112222")]).await;
        assert_eq!(text(&v["user"]["verify_code"]).len(), 6);
        assert_eq!(
            fails_with(&c, "Telephoneverify.Code", &[("telephone", "999")]).await,
            "5"
        );

        assert_eq!(
            fails_with(
                &c,
                "Userpasswd.Modify",
                &[("old_password", "bad"), ("new_password", "N3w-Passw0rd")]
            )
            .await,
            "8"
        );
        assert_eq!(
            fails_with(
                &c,
                "Userpasswd.Modify",
                &[("old_password", "Passw0rd-1"), ("new_password", "12345678")]
            )
            .await,
            "88"
        );
        call(
            &c,
            "Userpasswd.Modify",
            &[
                ("old_password", "Passw0rd-1"),
                ("new_password", "N3w-Passw0rd"),
            ],
        )
        .await;
        let by_pw = client(
            &srv,
            &[
                ("login_email", "me@example.com"),
                ("login_password", "N3w-Passw0rd"),
            ],
            format,
        );
        call(&by_pw, "User.Detail", &[]).await;

        assert_eq!(
            fails_with(
                &c,
                "Useremail.Modify",
                &[
                    ("old_email", "me@example.com"),
                    ("new_email", "me2@example.com"),
                    ("password", "x")
                ]
            )
            .await,
            "10"
        );
        call(
            &c,
            "Useremail.Modify",
            &[
                ("old_email", "me@example.com"),
                ("new_email", "me2@example.com"),
                ("password", "N3w-Passw0rd"),
            ],
        )
        .await;
        let d = call(&c, "User.Detail", &[]).await;
        assert_eq!(d["info"]["user"]["email"], "me2@example.com");

        let log = items(&call(&c, "User.Log", &[]).await, "log");
        assert!(text(&log[0]).ends_with("修改邮箱"), "newest first: {log:?}");
        assert!(log.len() >= 3);
    }
}

#[tokio::test]
async fn agent_methods() {
    for format in FORMATS {
        let sim = Sim::sandbox();
        let (agent2, _) = sim.add_user("agent2@example.com", "Passw0rd-1", true);
        let srv = serve(&sim).await;
        let c = sandbox_client(&sim, &srv, format);

        let v = call(&c, "User.List", &[]).await;
        assert_eq!(text(&v["info"]["user_total"]), "3");
        assert_eq!(items(&v, "users").len(), 3);
        let page = call(&c, "User.List", &[("offset", "1"), ("length", "1")]).await;
        assert_eq!(items(&page, "users")[0]["email"], "li.na@example.cn");

        let created = call(
            &c,
            "User.Create",
            &[
                ("email", "new@example.cn"),
                ("password", "Secret-123"),
                ("user_type", "personal"),
                ("real_name", "王五"),
                ("telephone", "13700001234"),
                ("ip_addr", "198.51.100.9"),
            ],
        )
        .await;
        let new_id = text(&created["user"]["id"]);
        assert!(!new_id.is_empty());
        assert_eq!(c.list_users().await.unwrap().len(), 4);
        let dup = err(
            &c,
            "User.Create",
            &[
                ("email", "new@example.cn"),
                ("password", "Secret-123"),
                ("user_type", "personal"),
                ("real_name", "x"),
                ("telephone", "13700001234"),
                ("ip_addr", "198.51.100.9"),
            ],
        )
        .await;
        assert_eq!(upstream_code(&dup), "7");

        assert!(c.user_is_under("new@example.cn").await.unwrap());
        assert!(!c.user_is_under("agent2@example.com").await.unwrap());
        let e = err(&c, "User.Under", &[("user_email", "nobody@example.cn")]).await;
        assert!(matches!(e, Error::NotFound { .. }), "{e:?}");
        assert_eq!(
            fails_with(&c, "User.Under", &[("user_email", "not-an-email")]).await,
            "6"
        );

        call(&c, "Verify.Email", &[("user_id", &new_id)]).await;
        call(
            &c,
            "Verify.Telephone",
            &[("user_id", &new_id), ("telephone", "13700004321")],
        )
        .await;
        let as_user = c.for_user(&new_id);
        let d = call(&as_user, "User.Detail", &[]).await;
        assert_eq!(d["info"]["user"]["email"], "new@example.cn");
        assert_eq!(d["info"]["user"]["email_verified"], "yes");
        assert_eq!(d["info"]["user"]["telephone_verified"], "yes");
        assert_eq!(d["info"]["user"]["telephone"], "13700004321");
        assert_eq!(
            fails_with(&c, "Verify.Email", &[("user_id", "1")]).await,
            "-5"
        );

        call(
            &c,
            "User.Transfer",
            &[("user_id", &new_id), ("agent_id", &agent2.to_string())],
        )
        .await;
        assert!(!c.user_is_under("new@example.cn").await.unwrap());
        assert_eq!(
            fails_with(
                &c,
                "User.Transfer",
                &[("user_id", &new_id), ("agent_id", &agent2.to_string())]
            )
            .await,
            "7"
        );

        let products = c.products().await.unwrap();
        let plus = products.iter().find(|p| p.grade == "D_Plus").unwrap();
        assert_eq!(plus.user_type, "personal");
        assert_eq!(plus.prices[0].price.to_string(), "698");
        assert_eq!(plus.prices[4].days, 1825);
        let raw = call(&c, "Product.List", &[]).await;
        assert_eq!(items(&raw, "products").len(), 4);

        // Enterprise user's domain to D_Expert for a year: 1998 at the agent's 80%.
        let up = c
            .upgrade_domain("shop-example.cn", "D_Expert", "1year", "198.51.100.10", "")
            .await
            .unwrap();
        assert_eq!(up.agent_price.to_string(), "1598.4");
        assert_eq!(up.user_price.to_string(), "1998");
        assert_eq!(up.agent_balance.to_string(), "3401.6");
        assert_eq!(
            sim.agent_balance_fen(idcgate_dnspod::sim::SANDBOX_EMAIL),
            Some(340_160)
        );
        // The Billing capability reads the same agent balance through User.Detail.
        let billing = idcgate_core::Connection::billing(&c).unwrap();
        let bal = billing.balance().await.unwrap();
        assert_eq!(bal.available.to_fen(), Ok(340_160));
        assert_eq!(
            up.vip_start,
            sim.now()
                .to_zoned(jiff::tz::TimeZone::fixed(jiff::tz::offset(8)))
                .date()
                .to_string()
        );
        // Renewal extends the same VIP period by another year.
        let again = c
            .upgrade_domain("shop-example.cn", "D_Expert", "1year", "198.51.100.10", "")
            .await
            .unwrap();
        assert_eq!(again.vip_start, up.vip_start);
        assert!(again.vip_end > up.vip_end);
        let ops = user_id(&c, "ops@shop-example.cn").await;
        let info = call(
            &c.for_user(&ops),
            "Domain.Info",
            &[("domain", "shop-example.cn")],
        )
        .await;
        assert_eq!(info["domain"]["grade"], "D_Expert");
        assert_eq!(info["domain"]["is_vip"], "yes");
        // Personal user cannot take an enterprise grade; the agent's own domain is not a user's.
        assert_eq!(
            fails_with(
                &c,
                "Domain.Upgrade",
                &[
                    ("domain", "zhangwei.net"),
                    ("grade", "D_Expert"),
                    ("term", "1year"),
                    ("ip_addr", "198.51.100.10")
                ]
            )
            .await,
            "10"
        );
        assert_eq!(
            fails_with(
                &c,
                "Domain.Upgrade",
                &[
                    ("domain", "sandbox-agent.cn"),
                    ("grade", "D_Plus"),
                    ("term", "1year"),
                    ("ip_addr", "198.51.100.10")
                ]
            )
            .await,
            "8"
        );
        let broke = c
            .upgrade_domain("zhangwei.net", "D_Extra", "5year", "198.51.100.10", "")
            .await
            .unwrap_err();
        assert!(
            matches!(broke, Error::InsufficientBalance { .. }),
            "{broke:?}"
        );
        assert_eq!(
            sim.agent_balance_fen(idcgate_dnspod::sim::SANDBOX_EMAIL),
            Some(340_160 - 159_840)
        );

        // A plain user is not an agent.
        let (_, token) = sim.add_user("plain@example.com", "Passw0rd-1", false);
        let plain = client(&srv, &[("login_token", &token)], format);
        assert_eq!(fails_with(&plain, "User.List", &[]).await, "-3");
    }
}

#[tokio::test]
async fn domain_methods() {
    for format in FORMATS {
        let sim = Sim::sandbox();
        let srv = serve(&sim).await;
        let c = sandbox_client(&sim, &srv, format);

        let created = call(
            &c,
            "Domain.Create",
            &[("domain", "newzone.com"), ("is_mark", "yes")],
        )
        .await;
        let id = text(&created["domain"]["id"]);
        assert_eq!(created["domain"]["domain"], "newzone.com");
        assert_eq!(
            fails_with(&c, "Domain.Create", &[("domain", "newzone.com")]).await,
            "7"
        );
        assert_eq!(
            fails_with(&c, "Domain.Create", &[("domain", "not a domain")]).await,
            "6"
        );
        let list = call(&c, "Domain.List", &[]).await;
        assert_eq!(text(&list["info"]["domain_total"]), "3");
        let marked = call(&c, "Domain.List", &[("type", "ismark")]).await;
        assert_eq!(items(&marked, "domains").len(), 1);
        assert_eq!(text(&items(&marked, "domains")[0]["id"]), id);
        let kw = call(&c, "Domain.List", &[("keyword", "status")]).await;
        assert_eq!(items(&kw, "domains")[0]["name"], "agent-status.com");

        call(
            &c,
            "Domain.Status",
            &[("domain_id", &id), ("status", "disable")],
        )
        .await;
        call(
            &c,
            "Domain.Searchenginepush",
            &[("domain", "newzone.com"), ("status", "no")],
        )
        .await;
        call(
            &c,
            "Domain.Remark",
            &[("domain", "newzone.com"), ("remark", "客户A")],
        )
        .await;
        call(
            &c,
            "Domain.Ismark",
            &[("domain", "newzone.com"), ("is_mark", "no")],
        )
        .await;
        let info = call(&c, "Domain.Info", &[("domain_id", &id)]).await;
        assert_eq!(info["domain"]["status"], "pause");
        assert_eq!(info["domain"]["searchengine_push"], "no");
        assert_eq!(info["domain"]["remark"], "客户A");
        assert_eq!(info["domain"]["is_mark"], "no");
        call(
            &c,
            "Domain.Status",
            &[("domain_id", &id), ("status", "enable")],
        )
        .await;
        let log = items(
            &call(
                &c,
                "Domain.Log",
                &[("domain", "newzone.com"), ("length", "2")],
            )
            .await,
            "log",
        );
        assert_eq!(log.len(), 2);
        assert!(text(&log[0]).contains("设置域名状态为 enable"), "{log:?}");
        let purview = items(
            &call(&c, "Domain.Purview", &[("domain", "newzone.com")]).await,
            "purview",
        );
        let ttl = purview.iter().find(|p| p["name"] == "记录TTL最低").unwrap();
        assert_eq!(text(&ttl["value"]), "600");

        // Shares.
        call(
            &c,
            "Domainshare.Create",
            &[
                ("domain", "newzone.com"),
                ("email", "zhang.wei@example.cn"),
                ("mode", "rw"),
            ],
        )
        .await;
        assert_eq!(
            fails_with(
                &c,
                "Domainshare.Create",
                &[("domain", "newzone.com"), ("email", "zhang.wei@example.cn")]
            )
            .await,
            "9"
        );
        assert_eq!(
            fails_with(
                &c,
                "Domainshare.Create",
                &[("domain", "newzone.com"), ("email", "nobody@example.cn")]
            )
            .await,
            "8"
        );
        let shares = call(&c, "Domainshare.List", &[("domain", "newzone.com")]).await;
        assert_eq!(
            items(&shares, "share")[0]["share_to"],
            "zhang.wei@example.cn"
        );
        assert_eq!(items(&shares, "share")[0]["mode"], "rw");
        assert_eq!(shares["owner"], idcgate_dnspod::sim::SANDBOX_EMAIL);
        let zhang = user_id(&c, "zhang.wei@example.cn").await;
        let zc = c.for_user(&zhang);
        let shared = call(&zc, "Domain.List", &[("type", "share")]).await;
        assert_eq!(items(&shared, "domains")[0]["name"], "newzone.com");
        call(
            &zc,
            "Record.Create",
            &a_record("newzone.com", "shared", "192.0.2.1"),
        )
        .await;
        // Narrow the share to `shared`: other names are out of reach.
        call(
            &c,
            "Domainshare.Modify",
            &[
                ("domain", "newzone.com"),
                ("email", "zhang.wei@example.cn"),
                ("mode", "rw"),
                ("new_sub_domain", "shared"),
            ],
        )
        .await;
        assert_eq!(
            fails_with(
                &zc,
                "Record.Create",
                &a_record("newzone.com", "other", "192.0.2.1")
            )
            .await,
            "7"
        );
        call(
            &zc,
            "Record.Create",
            &a_record("newzone.com", "shared", "192.0.2.3"),
        )
        .await;
        call(
            &c,
            "Domainshare.Modify",
            &[
                ("domain", "newzone.com"),
                ("email", "zhang.wei@example.cn"),
                ("mode", "r"),
                ("old_sub_domain", "shared"),
            ],
        )
        .await;
        assert_eq!(
            items(
                &call(&c, "Domainshare.List", &[("domain", "newzone.com")]).await,
                "share"
            )[0]["mode"],
            "r"
        );
        assert_eq!(
            fails_with(
                &zc,
                "Record.Create",
                &a_record("newzone.com", "shared2", "192.0.2.1")
            )
            .await,
            "7"
        );
        call(
            &c,
            "Domainshare.Remove",
            &[("domain", "newzone.com"), ("email", "zhang.wei@example.cn")],
        )
        .await;
        assert!(items(
            &call(&c, "Domainshare.List", &[("domain", "newzone.com")]).await,
            "share"
        )
        .is_empty());

        // Lock / unlock.
        let lock = call(
            &c,
            "Domain.Lock",
            &[("domain", "newzone.com"), ("days", "10")],
        )
        .await;
        assert_eq!(text(&lock["lock"]["domain_id"]), id);
        let code = text(&lock["lock"]["lock_code"]);
        assert_eq!(
            call(&c, "Domain.Info", &[("domain", "newzone.com")]).await["domain"]["status"],
            "lock"
        );
        assert_eq!(
            fails_with(
                &c,
                "Record.Create",
                &a_record("newzone.com", "@", "192.0.2.2")
            )
            .await,
            "21"
        );
        assert_eq!(
            fails_with(
                &c,
                "Domain.Unlock",
                &[("domain", "newzone.com"), ("lock_code", "wrong")]
            )
            .await,
            "9"
        );
        call(
            &c,
            "Domain.Unlock",
            &[("domain", "newzone.com"), ("lock_code", &code)],
        )
        .await;
        assert_eq!(
            call(&c, "Domain.Info", &[("domain", "newzone.com")]).await["domain"]["status"],
            "enable"
        );
        assert_eq!(
            fails_with(
                &c,
                "Domain.Lock",
                &[("domain", "newzone.com"), ("days", "31")]
            )
            .await,
            "9"
        );

        // Aliases: the free grade has none; the VIP grade has some.
        assert_eq!(
            fails_with(
                &c,
                "Domainalias.Create",
                &[("domain_id", &id), ("domain", "alias-one.com")]
            )
            .await,
            "10"
        );
        let ops = user_id(&c, "ops@shop-example.cn").await;
        let oc = c.for_user(&ops);
        let shop_id =
            text(&call(&oc, "Domain.Info", &[("domain", "shop-example.cn")]).await["domain"]["id"]);
        let alias = call(
            &oc,
            "Domainalias.Create",
            &[("domain_id", &shop_id), ("domain", "shop-alias.cn")],
        )
        .await;
        let alias_id = text(&alias["alias"]["id"]);
        assert_eq!(alias["alias"]["punycode"], "shop-alias.cn");
        let aliases = call(&oc, "Domainalias.List", &[("domain_id", &shop_id)]).await;
        assert_eq!(items(&aliases, "alias")[0]["domain"], "shop-alias.cn");
        assert_eq!(
            fails_with(&c, "Domain.Create", &[("domain", "shop-alias.cn")]).await,
            "11"
        );
        call(
            &oc,
            "Domainalias.Remove",
            &[("domain_id", &shop_id), ("alias_id", &alias_id)],
        )
        .await;
        assert!(items(
            &call(&oc, "Domainalias.List", &[("domain_id", &shop_id)]).await,
            "alias"
        )
        .is_empty());

        // Groups: free accounts have no custom groups; VIP ones do.
        assert_eq!(
            fails_with(&c, "Domaingroup.Create", &[("group_name", "客户")]).await,
            "9"
        );
        let groups = items(&call(&c, "Domaingroup.List", &[]).await, "groups");
        assert_eq!(groups.len(), 8);
        assert_eq!(text(&groups[0]["size"]), "3");
        let g = call(&oc, "Domaingroup.Create", &[("group_name", "重点客户")]).await;
        let gid = text(&g["groups"]["id"]);
        call(
            &oc,
            "Domain.Changegroup",
            &[("domain", "shop-example.cn"), ("group_id", &gid)],
        )
        .await;
        call(
            &oc,
            "Domaingroup.Modify",
            &[("group_id", &gid), ("group_name", "VIP客户")],
        )
        .await;
        let groups = items(&call(&oc, "Domaingroup.List", &[]).await, "groups");
        let custom = groups.iter().find(|g| text(&g["group_id"]) == gid).unwrap();
        assert_eq!(custom["group_name"], "VIP客户");
        assert_eq!(text(&custom["size"]), "1");
        let in_group = call(&oc, "Domain.List", &[("group_id", &gid)]).await;
        assert_eq!(items(&in_group, "domains").len(), 1);
        call(&oc, "Domaingroup.Remove", &[("group_id", &gid)]).await;
        assert_eq!(
            text(
                &call(&oc, "Domain.Info", &[("domain", "shop-example.cn")]).await["domain"]
                    ["group_id"]
            ),
            "1"
        );
        assert_eq!(
            fails_with(&oc, "Domaingroup.Remove", &[("group_id", &gid)]).await,
            "6"
        );

        // Transfer (enterprise -> enterprise only).
        assert_eq!(
            fails_with(
                &c,
                "Domain.Transfer",
                &[
                    ("domain", "agent-status.com"),
                    ("email", "li.na@example.cn")
                ]
            )
            .await,
            "11"
        );
        call(
            &c,
            "Domain.Transfer",
            &[
                ("domain", "agent-status.com"),
                ("email", "ops@shop-example.cn"),
            ],
        )
        .await;
        assert!(matches!(
            err(&c, "Domain.Info", &[("domain", "agent-status.com")]).await,
            Error::Upstream { .. }
        ));
        assert_eq!(
            call(&oc, "Domain.Info", &[("domain", "agent-status.com")]).await["domain"]["owner"],
            "ops@shop-example.cn"
        );

        // Retrieval: code flow, then link flow.
        let li = user_id(&c, "li.na@example.cn").await;
        let lc = c.for_user(&li);
        let emails = items(
            &call(&lc, "Domain.Acquire", &[("domain", "zhangwei.net")]).await,
            "emails",
        );
        let whois = text(&emails[0]);
        assert_eq!(
            fails_with(
                &lc,
                "Domain.Acquiresend",
                &[("domain", "zhangwei.net"), ("email", "me@elsewhere.cn")]
            )
            .await,
            "16"
        );
        call(
            &lc,
            "Domain.Acquiresend",
            &[("domain", "zhangwei.net"), ("email", &whois)],
        )
        .await;
        assert_eq!(
            fails_with(
                &lc,
                "Domain.Acquirevalidate",
                &[("domain", "zhangwei.net"), ("code", "000000x")]
            )
            .await,
            "15"
        );
        let code = sim.acquire_code("zhangwei.net").unwrap();
        call(
            &lc,
            "Domain.Acquirevalidate",
            &[("domain", "zhangwei.net"), ("code", &code)],
        )
        .await;
        assert_eq!(
            text(
                &call(&lc, "Domain.Info", &[("domain", "zhangwei.net")]).await["domain"]["user_id"]
            ),
            li
        );
        call(
            &zc,
            "Domain.Acquiresend.New",
            &[("domain", "zhangwei.net"), ("whois_email", &whois)],
        )
        .await;
        assert!(sim.click_acquire_link("zhangwei.net"));
        assert_eq!(
            text(
                &call(&zc, "Domain.Info", &[("domain", "zhangwei.net")]).await["domain"]["user_id"]
            ),
            zhang
        );
        assert_eq!(
            fails_with(&zc, "Domain.Acquire", &[("domain", "shop-example.cn")]).await,
            "86"
        );
        // Domains never cross between personal and enterprise accounts.
        assert_eq!(
            fails_with(&oc, "Domain.Acquire", &[("domain", "zhangwei.net")]).await,
            "14"
        );
        assert_eq!(
            fails_with(&zc, "Domain.Acquire", &[("domain", "agent-status.com")]).await,
            "13"
        );

        // Remove.
        call(&c, "Domain.Remove", &[("domain_id", &id)]).await;
        let gone = err(&c, "Domain.Info", &[("domain_id", &id)]).await;
        assert!(matches!(gone, Error::NotFound { .. }), "{gone:?}");
        let gone = err(&c, "Domain.Info", &[("domain", "newzone.com")]).await;
        assert!(matches!(gone, Error::NotFound { .. }), "{gone:?}");
        assert_eq!(
            fails_with(&oc, "Domain.Remove", &[("domain", "shop-example.cn")]).await,
            "8",
            "VIP undeletable"
        );
    }
}

#[tokio::test]
async fn record_methods() {
    for format in FORMATS {
        let sim = Sim::sandbox();
        let srv = serve(&sim).await;
        let c = sandbox_client(&sim, &srv, format);
        let zone = "sandbox-agent.cn";

        let types = items(
            &call(&c, "Record.Type", &[("domain_grade", "DP_Free")]).await,
            "types",
        );
        assert!(types.contains(&Value::from("URL")));
        assert!(!types.contains(&Value::from("CAA")));
        assert!(items(
            &call(&c, "Record.Type", &[("domain_grade", "DP_Ultra")]).await,
            "types"
        )
        .contains(&Value::from("CAA")));
        assert_eq!(
            fails_with(&c, "Record.Type", &[("domain_grade", "X")]).await,
            "6"
        );
        let lines = call(
            &c,
            "Record.Line",
            &[("domain", zone), ("domain_grade", "DP_Free")],
        )
        .await;
        assert_eq!(items(&lines, "lines").len(), 15);
        assert_eq!(text(&lines["line_ids"]["联通"]), "10=1");
        assert_eq!(text(&lines["line_ids"]["默认"]), "0");
        assert_eq!(
            items(
                &call(
                    &c,
                    "Record.Line",
                    &[("domain", zone), ("domain_grade", "DP_Plus")]
                )
                .await,
                "lines"
            )
            .len(),
            20
        );

        let created = call(
            &c,
            "Record.Create",
            &[
                ("domain", zone),
                ("sub_domain", "api"),
                ("record_type", "A"),
                ("record_line_id", "10=1"),
                ("value", "192.0.2.10"),
                ("ttl", "600"),
            ],
        )
        .await;
        let rid = text(&created["record"]["id"]);
        assert_eq!(created["record"]["name"], "api");
        let info = call(&c, "Record.Info", &[("domain", zone), ("record_id", &rid)]).await;
        assert_eq!(info["record"]["record_line"], "联通");
        assert_eq!(info["record"]["value"], "192.0.2.10");
        // Grade rules.
        let e = err(
            &c,
            "Record.Create",
            &[
                ("domain", zone),
                ("sub_domain", "api"),
                ("record_type", "A"),
                ("record_line", "默认"),
                ("value", "192.0.2.11"),
                ("ttl", "60"),
            ],
        )
        .await;
        assert_field(&e, "ttl");
        let e = err(&c, "Record.Create", &a_record(zone, "a.b.c", "192.0.2.11")).await;
        assert_field(&e, "sub_domain");
        let e = err(
            &c,
            "Record.Create",
            &[
                ("domain", zone),
                ("record_type", "CAA"),
                ("record_line", "默认"),
                ("value", "0 issue \"x\""),
            ],
        )
        .await;
        assert_field(&e, "record_type");
        let e = err(
            &c,
            "Record.Create",
            &[
                ("domain", zone),
                ("record_type", "A"),
                ("record_line", "广东"),
                ("value", "192.0.2.11"),
            ],
        )
        .await;
        assert_field(&e, "record_line");
        let e = err(&c, "Record.Create", &a_record(zone, "@", "300.1.1.1")).await;
        assert_field(&e, "value");
        assert_eq!(
            fails_with(&c, "Record.Create", &a_record(zone, "www", "192.0.2.11")).await,
            "31",
            "A next to the CNAME www"
        );
        call(&c, "Record.Create", &a_record(zone, "rr", "192.0.2.1")).await;
        call(&c, "Record.Create", &a_record(zone, "rr", "192.0.2.2")).await;
        let e = err(&c, "Record.Create", &a_record(zone, "rr", "192.0.2.3")).await;
        assert_eq!(
            upstream_code(&e),
            "500025",
            "free grade: 2 round-robin records"
        );

        let listed = call(&c, "Record.List", &[("domain", zone)]).await;
        let recs = items(&listed, "records");
        assert_eq!(
            text(&listed["info"]["record_total"]),
            recs.len().to_string()
        );
        assert_eq!(recs.iter().filter(|r| r.get("hold").is_some()).count(), 2);
        let filtered = call(&c, "Record.List", &[("domain", zone), ("sub_domain", "rr")]).await;
        assert_eq!(items(&filtered, "records").len(), 2);
        let typed = call(
            &c,
            "Record.List",
            &[("domain", zone), ("record_type", "MX")],
        )
        .await;
        assert_eq!(items(&typed, "records").len(), 1);
        let paged = call(
            &c,
            "Record.List",
            &[("domain", zone), ("offset", "1"), ("length", "2")],
        )
        .await;
        assert_eq!(items(&paged, "records")[0]["id"], recs[1]["id"]);
        let none = call(
            &c,
            "Record.List",
            &[("domain", zone), ("sub_domain", "nothing")],
        )
        .await;
        assert!(items(&none, "records").is_empty());
        assert_eq!(
            text(&none["status"]["code"]),
            "1",
            "the client sends error_on_empty=no"
        );
        // A caller may still ask for DNSPod's default: the empty list is code 10.
        assert_eq!(
            fails_with(
                &c,
                "Record.List",
                &[
                    ("domain", zone),
                    ("sub_domain", "nothing"),
                    ("error_on_empty", "yes")
                ]
            )
            .await,
            "10"
        );

        let m = call(
            &c,
            "Record.Modify",
            &[
                ("domain", zone),
                ("record_id", &rid),
                ("sub_domain", "api"),
                ("record_type", "A"),
                ("record_line", "电信"),
                ("value", "192.0.2.20"),
                ("ttl", "1200"),
            ],
        )
        .await;
        assert_eq!(text(&m["record"]["id"]), rid);
        let info = call(&c, "Record.Info", &[("domain", zone), ("record_id", &rid)]).await;
        assert_eq!(info["record"]["record_line"], "电信");
        assert_eq!(text(&info["record"]["ttl"]), "1200");
        let d = call(
            &c,
            "Record.Ddns",
            &[
                ("domain", zone),
                ("record_id", &rid),
                ("sub_domain", "api"),
                ("record_line", "电信"),
                ("value", "192.0.2.30"),
            ],
        )
        .await;
        assert_eq!(d["record"]["value"], "192.0.2.30");
        // Without a value the caller's address is used.
        let d = call(
            &c,
            "Record.Ddns",
            &[
                ("domain", zone),
                ("record_id", &rid),
                ("sub_domain", "api"),
                ("record_line", "电信"),
            ],
        )
        .await;
        assert_eq!(d["record"]["value"], "127.0.0.1");
        call(
            &c,
            "Record.Remark",
            &[
                ("domain", zone),
                ("record_id", &rid),
                ("remark", "api 服务器"),
            ],
        )
        .await;
        call(
            &c,
            "Record.Status",
            &[("domain", zone), ("record_id", &rid), ("status", "disable")],
        )
        .await;
        let info = call(&c, "Record.Info", &[("domain", zone), ("record_id", &rid)]).await;
        assert_eq!(info["record"]["remark"], "api 服务器");
        assert_eq!(text(&info["record"]["enabled"]), "0");
        let hold = text(&recs[0]["id"]);
        assert_eq!(
            fails_with(
                &c,
                "Record.Remove",
                &[("domain", zone), ("record_id", &hold)]
            )
            .await,
            "7"
        );
        call(
            &c,
            "Record.Remove",
            &[("domain", zone), ("record_id", &rid)],
        )
        .await;
        let gone = err(&c, "Record.Info", &[("domain", zone), ("record_id", &rid)]).await;
        assert!(matches!(gone, Error::NotFound { .. }), "{gone:?}");
        let missing = err(
            &c,
            "Record.Create",
            &[
                ("record_type", "A"),
                ("record_line", "默认"),
                ("value", "1.1.1.1"),
            ],
        )
        .await;
        assert_field(&missing, "domain_id|domain");
    }
}

#[tokio::test]
async fn record_count_is_limited_per_grade() {
    for format in FORMATS {
        let sim = fixed_sim();
        let (_, token) = sim.add_user("full@example.com", "Passw0rd-1", false);
        let srv = serve(&sim).await;
        let c = client(&srv, &[("login_token", &token)], format);
        let created = call(&c, "Domain.Create", &[("domain", "full.com")]).await;
        let id = text(&created["domain"]["id"]);
        // Free grade: 500 records, two of them the default NS. One batch fills the rest.
        let hosts: Vec<String> = (0..498).map(|i| format!("h{i}")).collect();
        let records = format!(
            r#"[{{"sub_domain":"{}","record_type":"A","record_line":"默认","value":"192.0.2.1","ttl":600}}]"#,
            hosts.join(",")
        );
        let job = call(
            &c,
            "Batch.Record.Create",
            &[("domain_id", &id), ("records", &records)],
        )
        .await;
        sim.advance(Duration::from_secs(1));
        let d = call(&c, "Batch.Detail", &[("job_id", &text(&job["job_id"]))]).await;
        assert_eq!(text(&d["success"]), "499", "{}", text(&d["fail"]));
        assert_eq!(
            fails_with(
                &c,
                "Record.Create",
                &a_record("full.com", "one-more", "192.0.2.1")
            )
            .await,
            "500027"
        );
        assert_eq!(c.raw_records("full.com").await.unwrap().len(), 500);
    }
}

#[tokio::test]
async fn batch_jobs_progress_with_the_clock() {
    for format in FORMATS {
        let sim = Sim::sandbox_at(start());
        let srv = serve(&sim).await;
        let c = sandbox_client(&sim, &srv, format);

        let job = call(
            &c,
            "Batch.Domain.Create",
            &[
                ("domains", "batch-one.com,batch-two.com,bad domain"),
                ("record_value", "192.0.2.7"),
            ],
        )
        .await;
        let job_id = text(&job["job_id"]);
        let d = call(&c, "Batch.Detail", &[("job_id", &job_id)]).await;
        assert_eq!(d["type"], "domain");
        assert_eq!(text(&d["success"]), "0");
        assert_eq!(items(&d, "detail")[0]["status"], "running");
        assert_eq!(items(&d, "detail")[1]["status"], "waiting");
        sim.advance(Duration::from_secs(1));
        let d = call(&c, "Batch.Detail", &[("job_id", &job_id)]).await;
        assert_eq!(items(&d, "detail")[0]["status"], "ok");
        assert_eq!(text(&d["success"]), "3", "one domain + its two records");
        sim.advance(Duration::from_secs(5));
        let d = call(&c, "Batch.Detail", &[("job_id", &job_id)]).await;
        assert_eq!(text(&d["total"]), "9");
        assert_eq!(text(&d["success"]), "6");
        assert_eq!(text(&d["fail"]), "3");
        assert_eq!(items(&d, "detail")[2]["status"], "error");
        let recs = call(
            &c,
            "Record.List",
            &[("domain", "batch-two.com"), ("record_type", "A")],
        )
        .await;
        assert_eq!(items(&recs, "records").len(), 2);

        let one =
            text(&call(&c, "Domain.Info", &[("domain", "batch-one.com")]).await["domain"]["id"]);
        let two =
            text(&call(&c, "Domain.Info", &[("domain", "batch-two.com")]).await["domain"]["id"]);
        let records = r#"[{"sub_domain":"api,cdn","record_type":"A","record_line":"默认","value":"192.0.2.8","ttl":"600"}]"#;
        let job = call(
            &c,
            "Batch.Record.Create",
            &[("domain_id", &format!("{one},{two}")), ("records", records)],
        )
        .await;
        let job_id = text(&job["job_id"]);
        sim.advance(Duration::from_secs(2));
        let d = call(&c, "Batch.Detail", &[("job_id", &job_id)]).await;
        assert_eq!(d["type"], "record_add");
        assert_eq!(text(&d["fail"]), "0");
        let new_ids: Vec<String> = items(&d, "detail")
            .iter()
            .flat_map(|x| items(x, "records"))
            .map(|r| text(&r["record_id"]))
            .collect();
        assert_eq!(new_ids.len(), 4);
        let api = call(
            &c,
            "Record.List",
            &[("domain", "batch-one.com"), ("sub_domain", "cdn")],
        )
        .await;
        assert_eq!(items(&api, "records")[0]["value"], "192.0.2.8");

        let job = call(
            &c,
            "Batch.Record.Modify",
            &[
                ("record_id", &new_ids.join(",")),
                ("change", "value"),
                ("change_to", "192.0.2.9"),
            ],
        )
        .await;
        let job_id = text(&job["job_id"]);
        sim.advance(Duration::from_secs(2));
        let d = call(&c, "Batch.Detail", &[("job_id", &job_id)]).await;
        assert_eq!(d["type"], "record_modify");
        assert_eq!(text(&d["fail"]), "0", "{d}");
        for zone in ["batch-one.com", "batch-two.com"] {
            let l = call(
                &c,
                "Record.List",
                &[("domain", zone), ("keyword", "192.0.2.9")],
            )
            .await;
            assert_eq!(items(&l, "records").len(), 2, "{zone}");
        }
        let e = err(&c, "Batch.Detail", &[("job_id", "1")]).await;
        assert!(matches!(e, Error::NotFound { .. }), "{e:?}");
    }
}

#[tokio::test]
async fn dns_capability_through_connect() {
    for format in FORMATS {
        let sim = Sim::sandbox();
        let srv = serve(&sim).await;
        let acct = sandbox_account(&sim, &srv);
        let conn = idcgate_dnspod::connect(&acct, &cfg()).unwrap();
        assert_eq!(
            Capabilities::of(conn.as_ref()),
            vec![Capability::Dns, Capability::Billing]
        );
        // `call` works by short name and by id.
        let types = conn
            .call(
                "dnspod:Record.Type",
                &params(&[("domain_grade", "DP_Free")]),
            )
            .await
            .unwrap();
        assert!(
            items(&types, "types").contains(&Value::from("MX")),
            "{types}"
        );
        let direct = idcgate_dnspod::connect_client(&acct, &cfg())
            .unwrap()
            .with_format(format);
        let dns: &dyn idcgate_core::capability::Dns = if format == Format::Json {
            conn.dns().unwrap()
        } else {
            &direct
        };

        let zones = dns.list_zones().await.unwrap();
        let names: Vec<&str> = zones.iter().map(|z| z.name.as_str()).collect();
        assert_eq!(names, ["sandbox-agent.cn", "agent-status.com"]);
        assert_eq!(zones[0].record_count, Some(5));
        let recs = dns.list_records("sandbox-agent.cn").await.unwrap();
        assert_eq!(recs.len(), 5);
        let mx = recs.iter().find(|r| r.rtype == RecordType::Mx).unwrap();
        assert_eq!(mx.priority, Some(10));
        let lined = dns.list_records("agent-status.com").await.unwrap();
        assert!(lined.iter().any(|r| r.line.as_deref() == Some("telecom")));
        assert!(lined.iter().any(|r| r.line.as_deref() == Some("unicom")));

        let input = RecordInput {
            host: "cap".into(),
            rtype: RecordType::A,
            value: "192.0.2.40".into(),
            ttl: 600,
            line: Some("mobile".into()),
            priority: None,
        };
        let rec = dns.create_record("sandbox-agent.cn", &input).await.unwrap();
        let id = rec.upstream_id.clone().unwrap();
        let back = dns.list_records("sandbox-agent.cn").await.unwrap();
        let got = back
            .iter()
            .find(|r| r.upstream_id.as_deref() == Some(id.as_str()))
            .unwrap();
        assert_eq!(got.line.as_deref(), Some("mobile"));
        let mx_in = RecordInput {
            host: "cap".into(),
            rtype: RecordType::Txt,
            value: "hello".into(),
            ttl: 600,
            line: None,
            priority: None,
        };
        dns.update_record("sandbox-agent.cn", &id, &mx_in)
            .await
            .unwrap();
        dns.set_record_enabled("sandbox-agent.cn", &id, false)
            .await
            .unwrap();
        let back = dns.list_records("sandbox-agent.cn").await.unwrap();
        let got = back
            .iter()
            .find(|r| r.upstream_id.as_deref() == Some(id.as_str()))
            .unwrap();
        assert_eq!(
            (got.rtype, got.value.as_str(), got.line.clone(), got.enabled),
            (RecordType::Txt, "hello", None, false)
        );
        dns.set_record_enabled("sandbox-agent.cn", &id, true)
            .await
            .unwrap();
        let back = dns.list_records("sandbox-agent.cn").await.unwrap();
        assert!(back
            .iter()
            .any(|r| r.upstream_id.as_deref() == Some(id.as_str()) && r.enabled));
        dns.delete_record("sandbox-agent.cn", &id).await.unwrap();
        assert_eq!(dns.list_records("sandbox-agent.cn").await.unwrap().len(), 5);
        let lines = dns.lines("sandbox-agent.cn").await.unwrap();
        assert_eq!(lines[0], "default");
        assert!(lines.contains(&"telecom".to_string()));
        let e = dns.list_records("missing-zone.cn").await.unwrap_err();
        assert!(matches!(e, Error::NotFound { .. }), "{e:?}");
    }
}

#[tokio::test]
async fn messages_in_both_languages() {
    for format in FORMATS {
        let sim = Sim::sandbox();
        let srv = serve(&sim).await;
        for (cn, missing, done) in [
            (true, "域名不存在", "操作已经成功完成"),
            (false, "Domain is not exists", "Action completed successful"),
        ] {
            let c = sandbox_client(&sim, &srv, format).with_lang(cn);
            let e = err(&c, "Domain.Info", &[("domain", "nope.cn")]).await;
            assert!(matches!(e, Error::NotFound { .. }), "{e:?}");
            assert!(e.to_string().contains(missing), "{e}");
            let ok = call(&c, "Domain.Info", &[("domain", "sandbox-agent.cn")]).await;
            assert_eq!(ok["status"]["message"], done);
            let e = err(&c, "Record.Type", &[("domain_grade", "X")]).await;
            assert!(
                matches!(&e, Error::Upstream { message, .. } if message.is_ascii() != cn),
                "{e:?}"
            );
        }
        // Unknown actions refuse locally, without a request.
        let before = sim.request_count();
        let c = sandbox_client(&sim, &srv, format);
        let e = c.call("Monitor.Nope", &vec![]).await.unwrap_err();
        assert!(matches!(e, Error::InvalidInput { .. }));
        assert_eq!(sim.request_count(), before);
    }
}

#[tokio::test]
async fn monitor_methods() {
    for format in FORMATS {
        let sim = Sim::sandbox_at(start());
        let srv = serve(&sim).await;
        let c = sandbox_client(&sim, &srv, format);
        let zone = "agent-status.com";
        let subs = call(&c, "Monitor.Listsubdomain", &[("domain", zone)]).await;
        assert_eq!(items(&subs, "subdomain"), vec![Value::from("@")]);
        let e = err(&c, "Monitor.Listsubdomain", &[("domain", "nope.cn")]).await;
        assert!(matches!(e, Error::NotFound { .. }), "{e:?}");
        let values = call(
            &c,
            "Monitor.Listsubvalue",
            &[("domain", zone), ("subdomain", "@")],
        )
        .await;
        let recs = items(&values, "records");
        assert_eq!(recs.len(), 2);
        assert_eq!(values["points"]["list"]["ctc"], "电信");
        let rid = text(&recs[0]["id"]);
        let did = text(&values["domain"]["id"]);

        let create = [
            ("domain_id", did.as_str()),
            ("record_id", rid.as_str()),
            ("port", "80"),
            ("monitor_interval", "60"),
            ("host", "agent-status.com"),
            ("monitor_type", "http"),
            ("monitor_path", "/"),
            ("points", "ctc,cuc"),
            ("bak_ip", "pass"),
        ];
        let made = call(&c, "Monitor.Create", &create).await;
        let mid = text(&made["monitor"]["monitor_id"]);
        assert_eq!(mid.len(), 36, "a UUID");
        assert_eq!(text(&made["monitor"]["record_id"]), rid);
        assert_eq!(fails_with(&c, "Monitor.Create", &create).await, "20");
        let mut bad = create;
        bad[8] = ("bak_ip", "not-an-ip");
        assert_eq!(fails_with(&c, "Monitor.Create", &bad).await, "15");

        let list = call(&c, "Monitor.List", &[]).await;
        assert_eq!(text(&list["info"]["total_count"]), "1");
        assert_eq!(items(&list, "monitors")[0]["status"], "Ok");
        call(
            &c,
            "Monitor.Modify",
            &[
                ("monitor_id", &mid),
                ("port", "443"),
                ("monitor_interval", "180"),
                ("monitor_type", "https"),
                ("monitor_path", "/health"),
                ("points", "cmc"),
                ("bak_ip", "192.0.2.99"),
            ],
        )
        .await;
        let info = call(&c, "Monitor.Info", &[("monitor_id", &mid)]).await;
        assert_eq!(text(&info["info"]["port"]), "443");
        assert_eq!(info["info"]["monitor_path"], "/health");
        assert_eq!(info["info"]["bak_ip"], "192.0.2.99");
        let e = err(&c, "Monitor.Info", &[("monitor_id", "nope")]).await;
        assert!(matches!(e, Error::NotFound { .. }), "{e:?}");

        call(
            &c,
            "Monitor.Setstatus",
            &[("monitor_id", &mid), ("status", "disable")],
        )
        .await;
        assert_eq!(
            call(&c, "Monitor.Info", &[("monitor_id", &mid)]).await["info"]["monitor_status"],
            "disabled"
        );
        call(
            &c,
            "Record.Status",
            &[("domain", zone), ("record_id", &rid), ("status", "disable")],
        )
        .await;
        assert_eq!(
            fails_with(
                &c,
                "Monitor.Setstatus",
                &[("monitor_id", &mid), ("status", "enabled")]
            )
            .await,
            "9"
        );
        call(
            &c,
            "Record.Status",
            &[("domain", zone), ("record_id", &rid), ("status", "enable")],
        )
        .await;
        call(
            &c,
            "Monitor.Setstatus",
            &[("monitor_id", &mid), ("status", "enabled")],
        )
        .await;

        sim.advance(Duration::from_secs(600));
        assert!(sim.monitor_outage(&mid, "连接超时|connect timeout after 30s"));
        sim.advance(Duration::from_secs(360));
        let hist = call(
            &c,
            "Monitor.Gethistory",
            &[("monitor_id", &mid), ("hours", "1")],
        )
        .await;
        let nodes = items(&hist, "monitor_history");
        assert_eq!(nodes.len(), 1);
        assert_eq!(nodes[0]["point"], "cmc");
        let samples = items(&nodes[0]["data"], "data");
        assert_eq!(samples.len(), 6, "one sample per 180 s since creation");
        assert_eq!(samples[0]["status"], "Down");
        assert_eq!(samples[5]["status"], "Ok");
        let desc = call(&c, "Monitor.Userdesc", &[]).await;
        assert_eq!(text(&desc["desc"]["moniting_count"]), "1");
        assert_eq!(text(&desc["desc"]["down_count"]), "1");
        assert_eq!(text(&desc["user"]["max_count"]), "10");
        let downs = call(&c, "Monitor.Getdowns", &[("offset", "0"), ("length", "10")]).await;
        assert_eq!(text(&downs["info"]["total_count"]), "1");
        assert_eq!(
            items(&downs, "monitor_downs")[0]["warn_reason"],
            "连接超时|connect timeout after 30s"
        );

        call(&c, "Monitor.Remove", &[("monitor_id", &mid)]).await;
        assert_eq!(
            text(&call(&c, "Monitor.List", &[]).await["info"]["total_count"]),
            "0"
        );
        let e = err(&c, "Monitor.Remove", &[("monitor_id", &mid)]).await;
        assert!(matches!(e, Error::NotFound { .. }), "{e:?}");
    }
}

#[tokio::test]
async fn sandbox_is_a_believable_agent_account() {
    let sim = Sim::sandbox();
    let srv = serve(&sim).await;
    let c = sandbox_client(&sim, &srv, Format::Json);
    let me = call(&c, "User.Detail", &[]).await;
    assert_eq!(me["info"]["user"]["balance"], 5000);
    let users = c.list_users().await.unwrap();
    assert_eq!(users.len(), 3);
    let mut zones = 0;
    for who in std::iter::once(None).chain(users.iter().map(|u| Some(u.id.clone()))) {
        let client = who.as_deref().map_or(c.clone(), |id| c.for_user(id));
        for d in items(&call(&client, "Domain.List", &[]).await, "domains") {
            zones += 1;
            let name = text(&d["name"]);
            let recs = client.raw_records(&name).await.unwrap();
            assert!(recs.len() >= 4, "{name}");
            let held: Vec<&Value> = recs.iter().filter(|r| r["hold"] == "hold").collect();
            assert_eq!(held.len(), 2, "{name}");
            assert!(held.iter().all(|r| r["type"] == "NS" && r["name"] == "@"));
        }
    }
    assert_eq!(zones, 4);
    assert_eq!(sim.domain_count(), 4);
}
