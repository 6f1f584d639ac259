//! Every implemented method, client -> simulator over a socket, in JSON and in XML,
//! asserting the state change or the data returned.
#![allow(clippy::unwrap_used)] // a test may fail loudly

mod common;
use common::*;
use idcgate_core::capability::Dns;
use idcgate_core::{Capabilities, Capability, DnsRecord, Error, RecordInput, RecordType};
use idcgate_dnspod::{DnspodClient, Format, Sim};
use idcgate_wire::testing::{assert_field, assert_not_found};
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

/// One scripted call for [`steps`]: the client, the action, its parameters and the
/// status code DNSPod must answer ("1": success, anything else: that refusal).
type Step<'a> = (&'a DnspodClient, &'a str, &'a [(&'a str, &'a str)], &'a str);

/// Runs `steps` in order, each answered with its code; the answers are not read further.
async fn steps(steps: &[Step<'_>]) {
    for (c, action, p, want) in steps {
        match c.call(action, &params(p)).await {
            Ok(_) if *want == "1" => {}
            Err(e) if *want != "1" => assert_eq!(upstream_code(&e), *want, "{action} {p:?}"),
            other => panic!("{action} {p:?}: wanted code {want}, got {other:?}"),
        }
    }
}

/// Calls of `action` that must fail as invalid input naming the field given.
async fn invalid(c: &DnspodClient, action: &str, cases: &[(&[(&str, &str)], &str)]) {
    for (p, field) in cases {
        assert_field(&err(c, action, p).await, field);
    }
}

/// A call that must fail as not found.
async fn not_found(c: &DnspodClient, action: &str, p: &[(&str, &str)]) {
    assert_not_found(&err(c, action, p).await);
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

/// The `domain` object of Domain.Info.
async fn domain_info(c: &DnspodClient, p: &[(&str, &str)]) -> Value {
    call(c, "Domain.Info", p).await["domain"].clone()
}

/// The `records` of Record.List.
async fn records(c: &DnspodClient, p: &[(&str, &str)]) -> Vec<Value> {
    items(&call(c, "Record.List", p).await, "records")
}

/// Batch.Detail of the job a batch call answered with.
async fn batch_detail(c: &DnspodClient, job: &Value) -> Value {
    call(c, "Batch.Detail", &[("job_id", &text(&job["job_id"]))]).await
}

fn upstream_code(e: &Error) -> String {
    match e {
        Error::Upstream { code, .. } => code.clone(),
        other => panic!("expected an upstream error, got {other:?}"),
    }
}

/// The id of the agent's user `email` and the agent's client acting as that user.
async fn as_user(agent: &DnspodClient, email: &str) -> (String, DnspodClient) {
    let id = agent
        .list_users()
        .await
        .unwrap()
        .into_iter()
        .find(|u| u.email == email)
        .unwrap()
        .id;
    let c = agent.for_user(&id);
    (id, c)
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

        let me = [
            ("nick", "Mr Me"),
            ("real_name", "我"),
            ("telephone", "13911112222"),
        ];
        call(&c, "User.Modify", &me).await;
        let d = call(&c, "User.Detail", &[]).await;
        let u = &d["info"]["user"];
        for (field, value) in me {
            assert_eq!(u[field], value, "{field}");
        }
        assert_eq!(u["email"], "me@example.com");
        assert_eq!(u["telephone_verified"], "no");
        assert_eq!(text(&u["agent_pending"]), "false");
        steps(&[(&c, "User.Modify", &[("telephone", "123")], "8")]).await;

        let v = call(&c, "Telephoneverify.Code", &[("telephone", "13911112222")]).await;
        assert_eq!(text(&v["user"]["verify_code"]).len(), 6);
        let (old, new) = ("Passw0rd-1", "N3w-Passw0rd");
        let passwd = |from, to| [("old_password", from), ("new_password", to)];
        steps(&[
            (&c, "Telephoneverify.Code", &[("telephone", "999")], "5"),
            (&c, "Userpasswd.Modify", &passwd("bad", new), "8"),
            (&c, "Userpasswd.Modify", &passwd(old, "12345678"), "88"),
            (&c, "Userpasswd.Modify", &passwd(old, new), "1"),
        ])
        .await;
        let by_pw = client(
            &srv,
            &[("login_email", "me@example.com"), ("login_password", new)],
            format,
        );
        let email = |password| {
            [
                ("old_email", "me@example.com"),
                ("new_email", "me2@example.com"),
                ("password", password),
            ]
        };
        steps(&[
            (&by_pw, "User.Detail", &[], "1"),
            (&c, "Useremail.Modify", &email("x"), "10"),
            (&c, "Useremail.Modify", &email(new), "1"),
        ])
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
        let (sim, srv, c) = sandbox_on(sim, format).await;

        let v = call(&c, "User.List", &[]).await;
        assert_eq!(text(&v["info"]["user_total"]), "3");
        assert_eq!(items(&v, "users").len(), 3);
        let page = call(&c, "User.List", &[("offset", "1"), ("length", "1")]).await;
        assert_eq!(items(&page, "users")[0]["email"], "li.na@example.cn");

        let new_user = |real_name| {
            [
                ("email", "new@example.cn"),
                ("password", "Secret-123"),
                ("user_type", "personal"),
                ("real_name", real_name),
                ("telephone", "13700001234"),
                ("ip_addr", "198.51.100.9"),
            ]
        };
        let created = call(&c, "User.Create", &new_user("王五")).await;
        let new_id = text(&created["user"]["id"]);
        assert!(!new_id.is_empty());
        assert_eq!(c.list_users().await.unwrap().len(), 4);
        steps(&[(&c, "User.Create", &new_user("x"), "7")]).await;

        assert!(c.user_is_under("new@example.cn").await.unwrap());
        assert!(!c.user_is_under("agent2@example.com").await.unwrap());
        not_found(&c, "User.Under", &[("user_email", "nobody@example.cn")]).await;
        let user = ("user_id", new_id.as_str());
        steps(&[
            (&c, "User.Under", &[("user_email", "not-an-email")], "6"),
            (&c, "Verify.Email", &[user], "1"),
            (
                &c,
                "Verify.Telephone",
                &[user, ("telephone", "13700004321")],
                "1",
            ),
        ])
        .await;
        let d = call(&c.for_user(&new_id), "User.Detail", &[]).await;
        for (field, value) in [
            ("email", "new@example.cn"),
            ("email_verified", "yes"),
            ("telephone_verified", "yes"),
            ("telephone", "13700004321"),
        ] {
            assert_eq!(d["info"]["user"][field], value, "{field}");
        }
        let transfer = [user, ("agent_id", &agent2.to_string())];
        steps(&[
            (&c, "Verify.Email", &[("user_id", "1")], "-5"),
            (&c, "User.Transfer", &transfer, "1"),
        ])
        .await;
        assert!(!c.user_is_under("new@example.cn").await.unwrap());
        steps(&[(&c, "User.Transfer", &transfer, "7")]).await;

        let products = c.products().await.unwrap();
        let plus = products.iter().find(|p| p.grade == "D_Plus").unwrap();
        assert_eq!(plus.user_type, "personal");
        assert_eq!(plus.prices[0].price.to_string(), "558.4"); // 698 at the agent's 80%
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
            sim.agent_balance(idcgate_dnspod::sim::SANDBOX_EMAIL),
            Some(idcgate_core::Money::from_fen(340_160))
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
        let (_, oc) = as_user(&c, "ops@shop-example.cn").await;
        let info = domain_info(&oc, &[("domain", "shop-example.cn")]).await;
        assert_eq!(info["grade"], "D_Expert");
        assert_eq!(info["is_vip"], "yes");
        // Personal user cannot take an enterprise grade; the agent's own domain is not a user's.
        let upgrade = |domain, grade| {
            [
                ("domain", domain),
                ("grade", grade),
                ("term", "1year"),
                ("ip_addr", "198.51.100.10"),
            ]
        };
        let (personal, own) = ("zhangwei.net", "sandbox-agent.cn");
        steps(&[
            (&c, "Domain.Upgrade", &upgrade(personal, "D_Expert"), "10"),
            (&c, "Domain.Upgrade", &upgrade(own, "D_Plus"), "8"),
        ])
        .await;
        let broke = c
            .upgrade_domain("zhangwei.net", "D_Extra", "5year", "198.51.100.10", "")
            .await
            .unwrap_err();
        assert!(
            matches!(broke, Error::InsufficientBalance { .. }),
            "{broke:?}"
        );
        assert_eq!(
            sim.agent_balance(idcgate_dnspod::sim::SANDBOX_EMAIL),
            Some(idcgate_core::Money::from_fen(340_160 - 159_840))
        );

        // A plain user is not an agent.
        let (_, token) = sim.add_user("plain@example.com", "Passw0rd-1", false);
        let plain = client(&srv, &[("login_token", &token)], format);
        steps(&[(&plain, "User.List", &[], "-3")]).await;
    }
}

#[tokio::test]
async fn domain_methods() {
    const ZONE: &str = "newzone.com";
    for format in FORMATS {
        let (sim, _srv, c) = sandbox(format).await;
        let nz = ("domain", ZONE);

        let created = call(&c, "Domain.Create", &[nz, ("is_mark", "yes")]).await;
        let id = text(&created["domain"]["id"]);
        assert_eq!(created["domain"]["domain"], "newzone.com");
        steps(&[
            (&c, "Domain.Create", &[nz], "7"),
            (&c, "Domain.Create", &[("domain", "not a domain")], "6"),
        ])
        .await;
        let list = call(&c, "Domain.List", &[]).await;
        assert_eq!(text(&list["info"]["domain_total"]), "3");
        let marked = call(&c, "Domain.List", &[("type", "ismark")]).await;
        assert_eq!(items(&marked, "domains").len(), 1);
        assert_eq!(text(&items(&marked, "domains")[0]["id"]), id);
        let kw = call(&c, "Domain.List", &[("keyword", "status")]).await;
        assert_eq!(items(&kw, "domains")[0]["name"], "agent-status.com");

        let by_id = ("domain_id", id.as_str());
        steps(&[
            (&c, "Domain.Status", &[by_id, ("status", "disable")], "1"),
            (&c, "Domain.Searchenginepush", &[nz, ("status", "no")], "1"),
            (&c, "Domain.Remark", &[nz, ("remark", "客户A")], "1"),
            (&c, "Domain.Ismark", &[nz, ("is_mark", "no")], "1"),
        ])
        .await;
        let info = domain_info(&c, &[by_id]).await;
        for (field, value) in [
            ("status", "pause"),
            ("searchengine_push", "no"),
            ("remark", "客户A"),
            ("is_mark", "no"),
        ] {
            assert_eq!(info[field], value, "{field}");
        }
        call(&c, "Domain.Status", &[by_id, ("status", "enable")]).await;
        let log = items(&call(&c, "Domain.Log", &[nz, ("length", "2")]).await, "log");
        assert_eq!(log.len(), 2);
        assert!(text(&log[0]).contains("设置域名状态为 enable"), "{log:?}");
        let purview = items(&call(&c, "Domain.Purview", &[nz]).await, "purview");
        let ttl = purview.iter().find(|p| p["name"] == "记录TTL最低").unwrap();
        assert_eq!(text(&ttl["value"]), "600");

        // Shares.
        let zhang = ("email", "zhang.wei@example.cn");
        let nobody = ("email", "nobody@example.cn");
        steps(&[
            (&c, "Domainshare.Create", &[nz, zhang, ("mode", "rw")], "1"),
            (&c, "Domainshare.Create", &[nz, zhang], "9"),
            (&c, "Domainshare.Create", &[nz, nobody], "8"),
        ])
        .await;
        let shares = call(&c, "Domainshare.List", &[nz]).await;
        assert_eq!(
            items(&shares, "share")[0]["share_to"],
            "zhang.wei@example.cn"
        );
        assert_eq!(items(&shares, "share")[0]["mode"], "rw");
        assert_eq!(shares["owner"], idcgate_dnspod::sim::SANDBOX_EMAIL);
        let (zhang_id, zc) = as_user(&c, "zhang.wei@example.cn").await;
        let shared = call(&zc, "Domain.List", &[("type", "share")]).await;
        assert_eq!(items(&shared, "domains")[0]["name"], "newzone.com");
        let narrow = [nz, zhang, ("mode", "rw"), ("new_sub_domain", "shared")];
        let read_only = [nz, zhang, ("mode", "r"), ("old_sub_domain", "shared")];
        // Narrowed to `shared`, other names are out of reach; read-only, none are.
        steps(&[
            (
                &zc,
                "Record.Create",
                &a_record(ZONE, "shared", "192.0.2.1"),
                "1",
            ),
            (&c, "Domainshare.Modify", &narrow, "1"),
            (
                &zc,
                "Record.Create",
                &a_record(ZONE, "other", "192.0.2.1"),
                "7",
            ),
            (
                &zc,
                "Record.Create",
                &a_record(ZONE, "shared", "192.0.2.3"),
                "1",
            ),
            (&c, "Domainshare.Modify", &read_only, "1"),
        ])
        .await;
        assert_eq!(
            items(&call(&c, "Domainshare.List", &[nz]).await, "share")[0]["mode"],
            "r"
        );
        steps(&[
            (
                &zc,
                "Record.Create",
                &a_record(ZONE, "shared2", "192.0.2.1"),
                "7",
            ),
            (&c, "Domainshare.Remove", &[nz, zhang], "1"),
        ])
        .await;
        assert!(items(&call(&c, "Domainshare.List", &[nz]).await, "share").is_empty());

        // Lock / unlock.
        let lock = call(&c, "Domain.Lock", &[nz, ("days", "10")]).await;
        assert_eq!(text(&lock["lock"]["domain_id"]), id);
        let code = text(&lock["lock"]["lock_code"]);
        assert_eq!(domain_info(&c, &[nz]).await["status"], "lock");
        steps(&[
            (&c, "Record.Create", &a_record(ZONE, "@", "192.0.2.2"), "21"),
            (&c, "Domain.Unlock", &[nz, ("lock_code", "wrong")], "9"),
            (&c, "Domain.Unlock", &[nz, ("lock_code", &code)], "1"),
        ])
        .await;
        assert_eq!(domain_info(&c, &[nz]).await["status"], "enable");

        steps(&[
            (&c, "Domain.Lock", &[nz, ("days", "31")], "9"),
            // Aliases: the free grade has none; the VIP grade has some.
            (
                &c,
                "Domainalias.Create",
                &[by_id, ("domain", "alias-one.com")],
                "10",
            ),
        ])
        .await;
        let (_, oc) = as_user(&c, "ops@shop-example.cn").await;
        let shop = ("domain", "shop-example.cn");
        let shop_id = text(&domain_info(&oc, &[shop]).await["id"]);
        let shop_by_id = ("domain_id", shop_id.as_str());
        let alias = call(
            &oc,
            "Domainalias.Create",
            &[shop_by_id, ("domain", "shop-alias.cn")],
        )
        .await;
        let alias_id = text(&alias["alias"]["id"]);
        assert_eq!(alias["alias"]["punycode"], "shop-alias.cn");
        let aliases = call(&oc, "Domainalias.List", &[shop_by_id]).await;
        assert_eq!(items(&aliases, "alias")[0]["domain"], "shop-alias.cn");
        steps(&[
            (&c, "Domain.Create", &[("domain", "shop-alias.cn")], "11"),
            (
                &oc,
                "Domainalias.Remove",
                &[shop_by_id, ("alias_id", &alias_id)],
                "1",
            ),
        ])
        .await;
        assert!(items(&call(&oc, "Domainalias.List", &[shop_by_id]).await, "alias").is_empty());

        // Groups: free accounts have no custom groups; VIP ones do.
        steps(&[(&c, "Domaingroup.Create", &[("group_name", "客户")], "9")]).await;
        let groups = items(&call(&c, "Domaingroup.List", &[]).await, "groups");
        assert_eq!(groups.len(), 8);
        assert_eq!(text(&groups[0]["size"]), "3");
        let g = call(&oc, "Domaingroup.Create", &[("group_name", "重点客户")]).await;
        let gid = text(&g["groups"]["id"]);
        let group = ("group_id", gid.as_str());
        steps(&[
            (&oc, "Domain.Changegroup", &[shop, group], "1"),
            (
                &oc,
                "Domaingroup.Modify",
                &[group, ("group_name", "VIP客户")],
                "1",
            ),
        ])
        .await;
        let groups = items(&call(&oc, "Domaingroup.List", &[]).await, "groups");
        let custom = groups.iter().find(|g| text(&g["group_id"]) == gid).unwrap();
        assert_eq!(custom["group_name"], "VIP客户");
        assert_eq!(text(&custom["size"]), "1");
        let in_group = call(&oc, "Domain.List", &[group]).await;
        assert_eq!(items(&in_group, "domains").len(), 1);
        call(&oc, "Domaingroup.Remove", &[group]).await;
        assert_eq!(text(&domain_info(&oc, &[shop]).await["group_id"]), "1");

        let status_com = ("domain", "agent-status.com");
        steps(&[
            (&oc, "Domaingroup.Remove", &[group], "6"),
            // Transfer (enterprise -> enterprise only).
            (
                &c,
                "Domain.Transfer",
                &[status_com, ("email", "li.na@example.cn")],
                "11",
            ),
            (
                &c,
                "Domain.Transfer",
                &[status_com, ("email", "ops@shop-example.cn")],
                "1",
            ),
        ])
        .await;
        assert!(matches!(
            err(&c, "Domain.Info", &[status_com]).await,
            Error::Upstream { .. }
        ));
        assert_eq!(
            domain_info(&oc, &[status_com]).await["owner"],
            "ops@shop-example.cn"
        );

        // Retrieval: code flow, then link flow.
        let (li, lc) = as_user(&c, "li.na@example.cn").await;
        let zw = ("domain", "zhangwei.net");
        let emails = items(&call(&lc, "Domain.Acquire", &[zw]).await, "emails");
        let whois = text(&emails[0]);
        steps(&[
            (
                &lc,
                "Domain.Acquiresend",
                &[zw, ("email", "me@elsewhere.cn")],
                "16",
            ),
            (&lc, "Domain.Acquiresend", &[zw, ("email", &whois)], "1"),
            (
                &lc,
                "Domain.Acquirevalidate",
                &[zw, ("code", "000000x")],
                "15",
            ),
        ])
        .await;
        let code = sim.acquire_code("zhangwei.net").unwrap();
        call(&lc, "Domain.Acquirevalidate", &[zw, ("code", &code)]).await;
        assert_eq!(text(&domain_info(&lc, &[zw]).await["user_id"]), li);
        call(
            &zc,
            "Domain.Acquiresend.New",
            &[zw, ("whois_email", &whois)],
        )
        .await;
        assert!(sim.click_acquire_link("zhangwei.net"));
        assert_eq!(text(&domain_info(&zc, &[zw]).await["user_id"]), zhang_id);
        // Domains never cross between personal and enterprise accounts.
        steps(&[
            (&zc, "Domain.Acquire", &[shop], "86"),
            (&oc, "Domain.Acquire", &[zw], "14"),
            (&zc, "Domain.Acquire", &[status_com], "13"),
        ])
        .await;

        // Remove; a VIP domain cannot be removed.
        call(&c, "Domain.Remove", &[by_id]).await;
        not_found(&c, "Domain.Info", &[by_id]).await;
        not_found(&c, "Domain.Info", &[nz]).await;
        steps(&[(&oc, "Domain.Remove", &[shop], "8")]).await;
    }
}

#[tokio::test]
async fn record_methods() {
    for format in FORMATS {
        let (_sim, _srv, c) = sandbox(format).await;
        let zone = "sandbox-agent.cn";
        let z = ("domain", zone);

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
        steps(&[(&c, "Record.Type", &[("domain_grade", "X")], "6")]).await;
        let lines = call(&c, "Record.Line", &[z, ("domain_grade", "DP_Free")]).await;
        assert_eq!(items(&lines, "lines").len(), 15);
        assert_eq!(text(&lines["line_ids"]["联通"]), "10=1");
        assert_eq!(text(&lines["line_ids"]["默认"]), "0");
        let plus = call(&c, "Record.Line", &[z, ("domain_grade", "DP_Plus")]).await;
        assert_eq!(items(&plus, "lines").len(), 20);

        let created = call(
            &c,
            "Record.Create",
            &[
                z,
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
        let rec = [z, ("record_id", rid.as_str())];
        let info = call(&c, "Record.Info", &rec).await;
        assert_eq!(info["record"]["record_line"], "联通");
        assert_eq!(info["record"]["value"], "192.0.2.10");
        // Grade rules.
        let api = a_record(zone, "api", "192.0.2.11");
        invalid(
            &c,
            "Record.Create",
            &[
                (&[&api[..], &[("ttl", "60")]].concat(), "ttl"),
                (&a_record(zone, "a.b.c", "192.0.2.11"), "sub_domain"),
                (
                    &[
                        z,
                        ("record_type", "CAA"),
                        ("record_line", "默认"),
                        ("value", "0 issue \"x\""),
                    ],
                    "record_type",
                ),
                (
                    &[
                        z,
                        ("record_type", "A"),
                        ("record_line", "广东"),
                        ("value", "192.0.2.11"),
                    ],
                    "record_line",
                ),
                (&a_record(zone, "@", "300.1.1.1"), "value"),
            ],
        )
        .await;
        // An A next to the CNAME www; the free grade takes 2 round-robin records.
        steps(&[
            (
                &c,
                "Record.Create",
                &a_record(zone, "www", "192.0.2.11"),
                "31",
            ),
            (&c, "Record.Create", &a_record(zone, "rr", "192.0.2.1"), "1"),
            (&c, "Record.Create", &a_record(zone, "rr", "192.0.2.2"), "1"),
            (
                &c,
                "Record.Create",
                &a_record(zone, "rr", "192.0.2.3"),
                "500025",
            ),
        ])
        .await;

        let listed = call(&c, "Record.List", &[z]).await;
        let recs = items(&listed, "records");
        assert_eq!(
            text(&listed["info"]["record_total"]),
            recs.len().to_string()
        );
        assert_eq!(recs.iter().filter(|r| r.get("hold").is_some()).count(), 2);
        assert_eq!(records(&c, &[z, ("sub_domain", "rr")]).await.len(), 2);
        assert_eq!(records(&c, &[z, ("record_type", "MX")]).await.len(), 1);
        let paged = records(&c, &[z, ("offset", "1"), ("length", "2")]).await;
        assert_eq!(paged[0]["id"], recs[1]["id"]);
        let nothing = [z, ("sub_domain", "nothing")];
        let none = call(&c, "Record.List", &nothing).await;
        assert!(items(&none, "records").is_empty());
        assert_eq!(
            text(&none["status"]["code"]),
            "1",
            "the client sends error_on_empty=no"
        );
        // A caller may still ask for DNSPod's default: the empty list is code 10.
        let on_empty = [nothing[0], nothing[1], ("error_on_empty", "yes")];
        steps(&[(&c, "Record.List", &on_empty, "10")]).await;

        let m = call(
            &c,
            "Record.Modify",
            &[
                rec[0],
                rec[1],
                ("sub_domain", "api"),
                ("record_type", "A"),
                ("record_line", "电信"),
                ("value", "192.0.2.20"),
                ("ttl", "1200"),
            ],
        )
        .await;
        assert_eq!(text(&m["record"]["id"]), rid);
        let info = call(&c, "Record.Info", &rec).await;
        assert_eq!(info["record"]["record_line"], "电信");
        assert_eq!(text(&info["record"]["ttl"]), "1200");
        let ddns = [
            rec[0],
            rec[1],
            ("sub_domain", "api"),
            ("record_line", "电信"),
        ];
        let to = [&ddns[..], &[("value", "192.0.2.30")]].concat();
        let d = call(&c, "Record.Ddns", &to).await;
        assert_eq!(d["record"]["value"], "192.0.2.30");
        // Without a value the caller's address is used.
        let d = call(&c, "Record.Ddns", &ddns).await;
        assert_eq!(d["record"]["value"], "127.0.0.1");
        let hold = text(&recs[0]["id"]);
        steps(&[
            (
                &c,
                "Record.Remark",
                &[rec[0], rec[1], ("remark", "api 服务器")],
                "1",
            ),
            (
                &c,
                "Record.Status",
                &[rec[0], rec[1], ("status", "disable")],
                "1",
            ),
        ])
        .await;
        let info = call(&c, "Record.Info", &rec).await;
        assert_eq!(info["record"]["remark"], "api 服务器");
        assert_eq!(text(&info["record"]["enabled"]), "0");
        steps(&[
            (&c, "Record.Remove", &[z, ("record_id", &hold)], "7"),
            (&c, "Record.Remove", &rec, "1"),
        ])
        .await;
        not_found(&c, "Record.Info", &rec).await;
        let no_domain = [
            ("record_type", "A"),
            ("record_line", "默认"),
            ("value", "1.1.1.1"),
        ];
        invalid(&c, "Record.Create", &[(&no_domain, "domain_id|domain")]).await;
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
        let d = batch_detail(&c, &job).await;
        assert_eq!(text(&d["success"]), "499", "{}", text(&d["fail"]));
        let one_more = a_record("full.com", "one-more", "192.0.2.1");
        steps(&[(&c, "Record.Create", &one_more, "500027")]).await;
        assert_eq!(c.raw_records("full.com").await.unwrap().len(), 500);
    }
}

#[tokio::test]
async fn batch_jobs_progress_with_the_clock() {
    for format in FORMATS {
        let (sim, _srv, c) = sandbox_on(Sim::sandbox_at(start()), format).await;

        let job = call(
            &c,
            "Batch.Domain.Create",
            &[
                ("domains", "batch-one.com,batch-two.com,bad domain"),
                ("record_value", "192.0.2.7"),
            ],
        )
        .await;
        let d = batch_detail(&c, &job).await;
        assert_eq!(d["type"], "domain");
        assert_eq!(text(&d["success"]), "0");
        assert_eq!(items(&d, "detail")[0]["status"], "running");
        assert_eq!(items(&d, "detail")[1]["status"], "waiting");
        sim.advance(Duration::from_secs(1));
        let d = batch_detail(&c, &job).await;
        assert_eq!(items(&d, "detail")[0]["status"], "ok");
        assert_eq!(text(&d["success"]), "3", "one domain + its two records");
        sim.advance(Duration::from_secs(5));
        let d = batch_detail(&c, &job).await;
        assert_eq!(text(&d["total"]), "9");
        assert_eq!(text(&d["success"]), "6");
        assert_eq!(text(&d["fail"]), "3");
        assert_eq!(items(&d, "detail")[2]["status"], "error");
        let two = ("domain", "batch-two.com");
        assert_eq!(records(&c, &[two, ("record_type", "A")]).await.len(), 2);

        let one = text(&domain_info(&c, &[("domain", "batch-one.com")]).await["id"]);
        let two = text(&domain_info(&c, &[two]).await["id"]);
        let rows = r#"[{"sub_domain":"api,cdn","record_type":"A","record_line":"默认","value":"192.0.2.8","ttl":"600"}]"#;
        let job = call(
            &c,
            "Batch.Record.Create",
            &[("domain_id", &format!("{one},{two}")), ("records", rows)],
        )
        .await;
        sim.advance(Duration::from_secs(2));
        let d = batch_detail(&c, &job).await;
        assert_eq!(d["type"], "record_add");
        assert_eq!(text(&d["fail"]), "0");
        let new_ids: Vec<String> = items(&d, "detail")
            .iter()
            .flat_map(|x| items(x, "records"))
            .map(|r| text(&r["record_id"]))
            .collect();
        assert_eq!(new_ids.len(), 4);
        let cdn = [("domain", "batch-one.com"), ("sub_domain", "cdn")];
        assert_eq!(records(&c, &cdn).await[0]["value"], "192.0.2.8");

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
        sim.advance(Duration::from_secs(2));
        let d = batch_detail(&c, &job).await;
        assert_eq!(d["type"], "record_modify");
        assert_eq!(text(&d["fail"]), "0", "{d}");
        for zone in ["batch-one.com", "batch-two.com"] {
            let l = records(&c, &[("domain", zone), ("keyword", "192.0.2.9")]).await;
            assert_eq!(l.len(), 2, "{zone}");
        }
        not_found(&c, "Batch.Detail", &[("job_id", "1")]).await;
    }
}

/// A record to create or update through the Dns capability, TTL 600.
fn input(host: &str, rtype: RecordType, value: &str, line: Option<&str>) -> RecordInput {
    RecordInput {
        host: host.into(),
        rtype,
        value: value.into(),
        ttl: 600,
        line: line.map(String::from),
        priority: None,
    }
}

/// The record `id` of `zone` as the Dns capability lists it, if it is there.
async fn listed(dns: &dyn Dns, zone: &str, id: &str) -> Option<DnsRecord> {
    let recs = dns.list_records(zone).await.unwrap();
    recs.into_iter()
        .find(|r| r.upstream_id.as_deref() == Some(id))
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
            vec![Capability::Dns, Capability::Billing, Capability::Purchasing]
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
        let dns: &dyn Dns = if format == Format::Json {
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

        let zone = "sandbox-agent.cn";
        let a = input("cap", RecordType::A, "192.0.2.40", Some("mobile"));
        let rec = dns.create_record(zone, &a).await.unwrap();
        let id = rec.upstream_id.clone().unwrap();
        let got = listed(dns, zone, &id).await.unwrap();
        assert_eq!(got.line.as_deref(), Some("mobile"));
        let txt = input("cap", RecordType::Txt, "hello", None);
        dns.update_record(zone, &id, &txt).await.unwrap();
        dns.set_record_enabled(zone, &id, false).await.unwrap();
        let got = listed(dns, zone, &id).await.unwrap();
        assert_eq!(
            (got.rtype, got.value.as_str(), got.line.clone(), got.enabled),
            (RecordType::Txt, "hello", None, false)
        );
        dns.set_record_enabled(zone, &id, true).await.unwrap();
        assert!(listed(dns, zone, &id).await.is_some_and(|r| r.enabled));
        dns.delete_record(zone, &id).await.unwrap();
        assert_eq!(dns.list_records(zone).await.unwrap().len(), 5);
        let lines = dns.lines(zone).await.unwrap();
        assert_eq!(lines[0], "default");
        assert!(lines.contains(&"telecom".to_string()));
        let e = dns.list_records("missing-zone.cn").await.unwrap_err();
        assert_not_found(&e);
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
            assert_not_found(&e);
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
        let (sim, _srv, c) = sandbox_on(Sim::sandbox_at(start()), format).await;
        let zone = "agent-status.com";
        let subs = call(&c, "Monitor.Listsubdomain", &[("domain", zone)]).await;
        assert_eq!(items(&subs, "subdomain"), vec![Value::from("@")]);
        not_found(&c, "Monitor.Listsubdomain", &[("domain", "nope.cn")]).await;
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
        let mut bad = create;
        bad[8] = ("bak_ip", "not-an-ip");
        steps(&[(&c, "Monitor.Create", &create, "20")]).await;
        // 15 names the backup IP.
        invalid(&c, "Monitor.Create", &[(&bad, "bak_ip")]).await;

        let list = call(&c, "Monitor.List", &[]).await;
        assert_eq!(text(&list["info"]["total_count"]), "1");
        assert_eq!(items(&list, "monitors")[0]["status"], "Ok");
        let monitor = ("monitor_id", mid.as_str());
        call(
            &c,
            "Monitor.Modify",
            &[
                monitor,
                ("port", "443"),
                ("monitor_interval", "180"),
                ("monitor_type", "https"),
                ("monitor_path", "/health"),
                ("points", "cmc"),
                ("bak_ip", "192.0.2.99"),
            ],
        )
        .await;
        let info = call(&c, "Monitor.Info", &[monitor]).await;
        assert_eq!(text(&info["info"]["port"]), "443");
        assert_eq!(info["info"]["monitor_path"], "/health");
        assert_eq!(info["info"]["bak_ip"], "192.0.2.99");
        not_found(&c, "Monitor.Info", &[("monitor_id", "nope")]).await;

        call(&c, "Monitor.Setstatus", &[monitor, ("status", "disable")]).await;
        assert_eq!(
            call(&c, "Monitor.Info", &[monitor]).await["info"]["monitor_status"],
            "disabled"
        );
        // A monitor cannot be enabled while its record is disabled.
        let record = |status| {
            [
                ("domain", zone),
                ("record_id", rid.as_str()),
                ("status", status),
            ]
        };
        steps(&[
            (&c, "Record.Status", &record("disable"), "1"),
            (
                &c,
                "Monitor.Setstatus",
                &[monitor, ("status", "enabled")],
                "9",
            ),
            (&c, "Record.Status", &record("enable"), "1"),
            (
                &c,
                "Monitor.Setstatus",
                &[monitor, ("status", "enabled")],
                "1",
            ),
        ])
        .await;

        sim.advance(Duration::from_secs(600));
        assert!(sim.monitor_outage(&mid, "连接超时|connect timeout after 30s"));
        sim.advance(Duration::from_secs(360));
        let hist = call(&c, "Monitor.Gethistory", &[monitor, ("hours", "1")]).await;
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

        call(&c, "Monitor.Remove", &[monitor]).await;
        assert_eq!(
            text(&call(&c, "Monitor.List", &[]).await["info"]["total_count"]),
            "0"
        );
        not_found(&c, "Monitor.Remove", &[monitor]).await;
    }
}

#[tokio::test]
async fn sandbox_is_a_believable_agent_account() {
    let (sim, _srv, c) = sandbox(Format::Json).await;
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
