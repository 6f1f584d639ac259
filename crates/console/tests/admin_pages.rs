//! The console's money and administration pages over real HTTP: a console router
//! served on a free port, an engine on a fresh store (both backends) with a West
//! simulator account, and operators of every role logged in through the real login
//! form. What a role may not do is refused on the server (403) and changes nothing.
#![allow(clippy::unwrap_used)] // a test may fail loudly

mod common;

use common::{
    assert_audited, by_id, client, field, refused_for_role, refused_safely, urlencode, Answer, App,
    Browser, OPERATORS,
};
use idcgate_core::{Money, ResourceKind, UpstreamAccount, Vendor};
use idcgate_engine::catalog::{PriceRule, ProductSpec};
use idcgate_engine::orders::PurchaseTerms;
use idcgate_engine::Engine;
#[allow(unused_imports)]
// the store's traits, for what a test seeds or reads behind the engine
use idcgate_store::prelude::*;
use idcgate_store::testing::TestDb;
use idcgate_store::{LedgerFilter, ProductState, Role, Scope, TenantState};
use idcgate_wire::testing;
use reqwest::StatusCode;

/// The credentials of the account the tests add through the form: nothing else in the
/// tests or the sandbox has these strings, so finding one in a page is a leak.
const FORM_USER: &str = "console-user-7f3a9c";
const FORM_SECRET: &str = "S3cret-Console-Pass-91xq";

/// The add-account form, well formed but for `field`, which is `value`.
fn account_form<'a>(field: &str, value: &'a str) -> Vec<(&'a str, &'a str)> {
    [
        ("name", "h"),
        ("vendor", "west"),
        ("base_url", "http://x"),
        ("rate", "5"),
        ("credentials", "a=b"),
    ]
    .into_iter()
    .map(|(k, v)| (k, if k == field { value } else { v }))
    .collect()
}

/// The id of the one order [`start`] placed.
async fn the_order(app: &App) -> i64 {
    let orders = app
        .engine
        .reads()
        .orders(&Default::default())
        .await
        .unwrap();
    orders[0].id
}

async fn has_operator(app: &App, name: &str) -> bool {
    app.engine.operators().get(name).await.unwrap().is_some()
}

/// The add-account form as its page posts it, for a West account.
async fn add_account(
    b: &Browser,
    name: &str,
    base_url: &str,
    rate: &str,
    credentials: &str,
) -> Answer {
    let fields = [
        ("name", name),
        ("vendor", "west"),
        ("base_url", base_url),
        ("rate", rate),
        ("credentials", credentials),
    ];
    b.post("/accounts", &fields).await
}

/// The console on `db` with account `w` (a West sandbox), operators `adm`, `ops`,
/// `fin` and `view`, tenant `t1`, product `host-l1` and one succeeded order.
async fn start(db: &TestDb) -> App {
    let app = common::start(db).await;
    let engine = &app.engine;
    engine
        .add_tenant("test", "t1", "", Money::ZERO)
        .await
        .unwrap();
    engine
        .add_product(
            "test",
            ProductSpec {
                name: "host-l1".into(),
                title: Some("Host L1".into()),
                account: "w".into(),
                kind: ResourceKind::HostingSite,
                offer: Some("L1".into()),
                options: Default::default(),
                rule: PriceRule::parse("15.00", &["gold=12.00".into()], &[], Some("12")).unwrap(),
            },
        )
        .await
        .unwrap();
    let purchase = PurchaseTerms {
        operation: "register".into(),
        target: "console-test-order.com".into(),
        years: Some(1),
        ..Default::default()
    }
    .request()
    .unwrap();
    engine
        .place_order("test", "w", &purchase, Some("test-order-1"))
        .await
        .unwrap();

    app
}

/// What the refused requests must leave as it was.
#[derive(Debug, PartialEq)]
struct Snapshot {
    audit: usize,
    ledger: usize,
    tenants: Vec<(String, TenantState, String, Money, Money)>,
    products: Vec<(String, ProductState)>,
    accounts: Vec<String>,
    tokens: Vec<(String, bool)>,
    operators: Vec<(String, Role, String)>,
}

async fn snapshot(e: &Engine) -> Snapshot {
    let s = e.reads();
    Snapshot {
        audit: e.audit_trail(100_000).await.unwrap().len(),
        ledger: s
            .ledger(&LedgerFilter {
                limit: Some(i64::MAX),
                ..Default::default()
            })
            .await
            .unwrap()
            .len(),
        tenants: e
            .tenants(true)
            .await
            .unwrap()
            .into_iter()
            .map(|t| {
                (
                    t.tenant.name,
                    t.tenant.state,
                    t.tenant.price_level,
                    t.balance,
                    t.credit_limit,
                )
            })
            .collect(),
        products: e
            .products(true)
            .await
            .unwrap()
            .into_iter()
            .map(|p| (p.name, p.state))
            .collect(),
        accounts: e
            .accounts()
            .await
            .unwrap()
            .into_iter()
            .map(|a| a.name)
            .collect(),
        tokens: s
            .tokens()
            .await
            .unwrap()
            .into_iter()
            .map(|t| (t.name, t.revoked))
            .collect(),
        operators: e
            .operators()
            .list()
            .await
            .unwrap()
            .into_iter()
            .map(|o| (o.name, o.role, o.password_hash))
            .collect(),
    }
}

async fn roles_are_enforced_on_the_server(db: &TestDb) {
    let app = start(db).await;
    let (_, seed_token) = app
        .engine
        .create_token("test", "seed", Scope::Read)
        .await
        .unwrap();
    let seed_id = app.engine.reads().tokens().await.unwrap()[0].id.clone();
    assert!(seed_token.contains(&seed_id));
    let order_id = the_order(&app).await;
    let order_page = format!("/orders/{order_id}");

    let read_pages = [
        "/orders",
        order_page.as_str(),
        "/orders?state=succeeded&account=w",
        "/ledger",
        "/ledger?account=upstream:&since=2020-01-01",
        "/statements/w",
        "/tenants",
        "/tenants/t1",
        "/tenants/t1/orders",
        "/tenants/t1/statement",
        "/products",
        "/products/host-l1",
        "/accounts",
        "/audit",
    ];
    let admin_pages = [
        "/tokens",
        "/operators",
        "/accounts/w/remove",
        "/operators/view/remove",
    ];
    let revoke_page = format!("/tokens/{seed_id}/revoke");
    let money_pages = ["/products/host-l1/retire"];

    for (name, role) in OPERATORS {
        let b = Browser::login(&app, name).await;
        for p in read_pages {
            let a = b.get(p).await;
            assert_eq!(a.status, StatusCode::OK, "{name} GET {p}: {}", a.body);
        }
        let admin = role == Role::Admin;
        for p in admin_pages.iter().copied().chain([revoke_page.as_str()]) {
            let a = b.get(p).await;
            let want = if admin {
                StatusCode::OK
            } else {
                StatusCode::FORBIDDEN
            };
            assert_eq!(a.status, want, "{name} GET {p}");
        }
        let money = matches!(role, Role::Admin | Role::Finance);
        for p in money_pages {
            let want = if money {
                StatusCode::OK
            } else {
                StatusCode::FORBIDDEN
            };
            assert_eq!(b.get(p).await.status, want, "{name} GET {p}");
        }
        // What a page offers follows the role too (the server refuses regardless).
        let tenant = b.get("/tenants/t1").await.body;
        assert_eq!(tenant.contains("id=\"topup\""), money, "{name} top-up form");
        let accounts = b.get("/accounts").await.body;
        assert_eq!(
            accounts.contains("id=\"add-account\""),
            admin,
            "{name} add form"
        );
        assert_eq!(
            accounts.contains("id=\"test-w\""),
            matches!(role, Role::Admin | Role::Operator),
            "{name} test button"
        );
        let nav = b.get("/orders").await.body;
        assert_eq!(nav.contains("href=\"/tokens\""), admin, "{name} nav");

        // Every changing form this role may not send: 403, and nothing changes.
        let before = snapshot(&app.engine).await;
        let mut refused: Vec<(String, Vec<(&str, &str)>)> = Vec::new();
        if !money {
            refused.extend([
                (
                    "/tenants".to_string(),
                    vec![("name", "t-new"), ("credit", "5")],
                ),
                (
                    "/tenants/t1/topup".into(),
                    vec![("amount", "10.00"), ("key", "refused-key")],
                ),
                ("/tenants/t1/credit".into(), vec![("limit", "99")]),
                ("/tenants/t1/level".into(), vec![("level", "gold")]),
                ("/tenants/t1/suspend".into(), vec![]),
                (
                    "/products/host-l1/retire".into(),
                    vec![("confirm", "host-l1")],
                ),
            ]);
        }
        if !admin {
            refused.extend([
                (
                    "/accounts".to_string(),
                    vec![
                        ("name", "w2"),
                        ("vendor", "west"),
                        ("base_url", "http://127.0.0.1:9"),
                        ("rate", "5"),
                        ("credentials", "username=a\napi_password=b"),
                    ],
                ),
                ("/accounts/w/remove".into(), vec![("confirm", "w")]),
                (
                    "/tokens".into(),
                    vec![("name", "t-new"), ("scope", "admin")],
                ),
                (
                    format!("/tokens/{seed_id}/revoke"),
                    vec![("confirm", seed_id.as_str())],
                ),
                (
                    "/operators".into(),
                    vec![("name", "newop"), ("role", "admin")],
                ),
                ("/operators/view/role".into(), vec![("role", "admin")]),
                ("/operators/view/password".into(), vec![]),
                ("/operators/view/reset2fa".into(), vec![]),
                ("/operators/view/remove".into(), vec![("confirm", "view")]),
            ]);
        }
        if !matches!(role, Role::Admin | Role::Operator) {
            refused.push(("/accounts/w/test".into(), vec![]));
        }
        for (path, fields) in &refused {
            let a = b.post(path, fields).await;
            refused_for_role(&a, &format!("{name} POST {path}"));
        }
        assert_eq!(
            snapshot(&app.engine).await,
            before,
            "{name}: refused forms changed something"
        );

        // A form without this session's token is refused whoever sends it.
        let before = snapshot(&app.engine).await;
        let a = b
            .post_raw(
                "/tenants/t1/credit",
                &[("csrf", "not-the-token"), ("limit", "77")],
            )
            .await;
        assert_eq!(a.status, StatusCode::FORBIDDEN);
        let a = b
            .post_raw("/tokens", &[("name", "no-csrf"), ("scope", "read")])
            .await;
        assert_eq!(a.status, StatusCode::FORBIDDEN);
        assert_eq!(snapshot(&app.engine).await, before);

        // And what the role may do, it can.
        if money {
            let a = b
                .post(
                    "/tenants",
                    &[("name", &format!("t-by-{name}")), ("credit", "")],
                )
                .await;
            assert_eq!(a.status, StatusCode::OK, "{name} add tenant: {}", a.body);
            assert!(by_id(&a.body, "appkey").is_some_and(|k| k.len() >= 32));
        }
        if matches!(role, Role::Admin | Role::Operator) {
            let a = b.post("/accounts/w/test", &[]).await;
            assert_eq!(a.status, StatusCode::OK, "{name} test: {}", a.body);
            assert!(by_id(&a.body, "test-answer").is_some_and(|t| t.contains("ok: balance")));
        }
    }
    // Not logged in: every page sends to the login form, every form too.
    let anon = client();
    for p in ["/tenants", "/tokens", "/operators", "/audit"] {
        let r = anon.get(format!("{}{p}", app.base)).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "{p}");
        assert!(r.headers()["location"]
            .to_str()
            .unwrap()
            .starts_with("/login"));
    }
    let r = anon
        .post(format!("{}/tenants/t1/topup", app.base))
        .form(&[("amount", "1"), ("key", "anon")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(app.store.deposit_by_key("anon").await.unwrap().is_none());
}

async fn money_forms_book_once_and_show_secrets_once(db: &TestDb) {
    let app = start(db).await;
    let fin = Browser::login(&app, "fin").await;

    // A top-up form submitted twice (a double click) books once.
    let page = fin.get("/tenants/t1").await;
    let key = field(&page.body, "key").expect("top-up key");
    assert!(key.starts_with("console-"));
    let again = fin.get("/tenants/t1").await;
    assert_ne!(
        field(&again.body, "key").unwrap(),
        key,
        "each form has its own key"
    );
    let form = [
        ("amount", "1,234.50"),
        ("memo", "bank ref 42"),
        ("key", key.as_str()),
    ];
    let first = fin.post("/tenants/t1/topup", &form).await;
    assert_eq!(first.status, StatusCode::SEE_OTHER, "{}", first.body);
    assert_eq!(first.location.as_deref(), Some("/tenants/t1"));
    assert!(first.notice.as_deref().unwrap().contains("Top-up booked"));
    let second = fin.post("/tenants/t1/topup", &form).await;
    assert_eq!(second.status, StatusCode::SEE_OTHER);
    assert!(second.notice.as_deref().unwrap().contains("booked already"));
    let lines = app
        .engine
        .reads()
        .ledger(&LedgerFilter {
            account: Some("tenant:t1".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(lines.len(), 1, "one deposit booked: {lines:?}");
    assert_eq!(lines[0].fen, 123_450);
    assert_eq!(
        app.engine.tenant("t1").await.unwrap().balance,
        Money::from_fen(123_450)
    );
    // The same key for another amount is refused, clearly, and books nothing.
    let other = fin
        .post(
            "/tenants/t1/topup",
            &[("amount", "5"), ("key", key.as_str())],
        )
        .await;
    assert_eq!(other.status, StatusCode::BAD_REQUEST);
    assert!(other.body.contains("nothing was deposited"));
    // The tenant's page shows the booked money; the notice is shown once.
    let page = fin.get("/tenants/t1").await;
    assert!(page.body.contains("¥1,234.50"));
    let statement = fin.get("/tenants/t1/statement").await;
    assert!(statement.body.contains("deposit") && statement.body.contains("¥1,234.50"));
    // Amounts that are not money are refused before the engine.
    for bad in ["", "ten", "1.234", "-5", "0"] {
        let a = fin
            .post("/tenants/t1/topup", &[("amount", bad), ("key", "k-bad")])
            .await;
        assert_eq!(
            a.status,
            StatusCode::BAD_REQUEST,
            "amount {bad:?}: {}",
            a.body
        );
    }
    assert!(app.store.deposit_by_key("k-bad").await.unwrap().is_none());

    // Credit, level, suspend, resume.
    let a = fin.post("/tenants/t1/credit", &[("limit", "300")]).await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.body);
    let a = fin.post("/tenants/t1/level", &[("level", "gold")]).await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.body);
    let t = app.engine.tenant("t1").await.unwrap();
    assert_eq!(t.credit_limit, Money::from_fen(30_000));
    assert_eq!(t.tenant.price_level, "gold");
    let a = fin.post("/tenants/t1/suspend", &[]).await;
    assert_eq!(a.status, StatusCode::SEE_OTHER);
    assert_eq!(
        app.engine.tenant("t1").await.unwrap().tenant.state,
        TenantState::Suspended
    );
    let page = fin.get("/tenants/t1").await.body;
    assert!(page.contains("id=\"resume\"") && !page.contains("id=\"suspend\""));
    let a = fin.post("/tenants/t1/suspend", &[]).await;
    assert_eq!(
        a.status,
        StatusCode::CONFLICT,
        "suspending twice: {}",
        a.body
    );
    let a = fin.post("/tenants/t1/resume", &[]).await;
    assert_eq!(a.status, StatusCode::SEE_OTHER);
    assert_eq!(
        app.engine.tenant("t1").await.unwrap().tenant.state,
        TenantState::Active
    );

    // A new tenant's appkey is on the answer page and nowhere else.
    let added = fin
        .post(
            "/tenants",
            &[("name", "t2"), ("level", "gold"), ("credit", "500")],
        )
        .await;
    assert_eq!(added.status, StatusCode::OK, "{}", added.body);
    let appkey = by_id(&added.body, "appkey").unwrap();
    let appid = app.engine.tenant("t2").await.unwrap().tenant.appid;
    assert!(app
        .store
        .verify_tenant(&appid, &appkey)
        .await
        .unwrap()
        .is_some());
    assert!(added.set_cookies.iter().all(|c| !c.contains(&appkey)));
    for p in ["/tenants", "/tenants/t2", "/audit", "/ledger"] {
        let page = fin.get(p).await;
        assert!(!page.body.contains(&appkey), "appkey on {p}");
    }
    let trail = app.engine.audit_trail(1000).await.unwrap();
    assert!(trail.iter().all(|e| !e.detail.contains(&appkey)));
    let dup = fin.post("/tenants", &[("name", "t2")]).await;
    assert_eq!(dup.status, StatusCode::CONFLICT);

    // Every change is audited as the console operator who made it.
    let actions = [
        "tenant.topup",
        "tenant.credit",
        "tenant.level",
        "tenant.suspend",
        "tenant.add",
    ];
    assert_audited(&trail, &actions, "console:fin");
    let audit = fin
        .get("/audit?action=tenant.topup&actor=console:fin")
        .await;
    assert_eq!(audit.status, StatusCode::OK);
    assert!(audit.body.contains("tenant.topup"));
    assert!(!audit.body.contains("tenant.credit"));
    let audit = fin.get("/audit?outcome=ok&since=2999-01-01").await;
    assert!(audit.body.contains("No entry matches"));

    // The journal and the ledger as the pages show them.
    let orders = fin.get("/orders?state=succeeded").await;
    assert!(orders.body.contains("console-test-order.com"));
    let none = fin.get("/orders?state=failed").await;
    assert!(!none.body.contains("console-test-order.com"));
    assert!(none.body.contains("No order matches"));
    let order_id = the_order(&app).await;
    let order = fin.get(&format!("/orders/{order_id}")).await;
    assert!(order.body.contains("test-order-1") && order.body.contains("sending to the upstream"));
    let ledger = fin.get("/ledger").await;
    assert!(ledger.body.contains("Every transaction sums to zero"));
    assert!(ledger.body.contains("upstream:w") && ledger.body.contains("bank ref 42"));
    let filtered = fin.get("/ledger?account=cost:").await;
    assert!(!filtered.body.contains("bank ref 42"));

    // Products: the engine's prices per level, and retiring behind a confirmation.
    let products = fin.get("/products").await;
    assert!(
        products.body.contains("¥180.00"),
        "base 15.00 x 12: {}",
        products.body
    );
    assert!(products.body.contains("¥144.00"), "gold 12.00 x 12");
    let a = fin.post("/products/host-l1/retire", &[]).await;
    assert_eq!(
        a.status,
        StatusCode::BAD_REQUEST,
        "retire without its confirmation"
    );
    let confirm = fin.get("/products/host-l1/retire").await;
    let name = field(&confirm.body, "confirm").unwrap();
    let a = fin
        .post("/products/host-l1/retire", &[("confirm", &name)])
        .await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.body);
    assert_eq!(
        app.engine.product("host-l1").await.unwrap().state,
        ProductState::Retired
    );
    assert!(!fin.get("/products").await.body.contains("host-l1"));
    assert!(fin.get("/products?all=1").await.body.contains("host-l1"));
}

async fn administration_keeps_secrets(db: &TestDb) {
    let app = start(db).await;
    let adm = Browser::login(&app, "adm").await;
    let sim = idcgate_west::Sim::new(FORM_USER, FORM_SECRET);
    let srv = testing::serve(&sim).await;
    let url = srv.base_url();
    let mut seen: Vec<(String, String)> = Vec::new();
    let mut secrets_extra: Vec<String> = Vec::new();

    // An account whose credentials lack a key is refused, naming the key, not a value.
    let credentials = format!("username={FORM_USER}");
    let missing = add_account(&adm, "formacct", &url, "5", &credentials).await;
    assert_eq!(missing.status, StatusCode::BAD_REQUEST);
    assert!(missing.body.contains("api_password"), "{}", missing.body);
    seen.push(("refused add".into(), missing.body));
    // A line without '=' is refused without quoting it (it may be a bare secret).
    let credentials = format!("username={FORM_USER}\n{FORM_SECRET}");
    let bare = add_account(&adm, "formacct", &url, "5", &credentials).await;
    assert_eq!(bare.status, StatusCode::BAD_REQUEST);
    assert!(bare.body.contains("line 2"));
    seen.push(("bare line".into(), bare.body));
    assert!(app.store.get_account("formacct").await.unwrap().is_none());

    let credentials = format!("username={FORM_USER}\r\napi_password={FORM_SECRET}\r\n");
    let added = add_account(&adm, "formacct", &url, "7", &credentials).await;
    assert_eq!(added.status, StatusCode::SEE_OTHER, "{}", added.body);
    seen.push((
        "add redirect".into(),
        format!("{:?} {:?}", added.notice, added.set_cookies),
    ));
    let stored = app.engine.account("formacct").await.unwrap();
    assert_eq!(stored.credentials.get("api_password"), Some(FORM_SECRET));
    assert_eq!(stored.rate_limit_per_sec, 7);
    let tested = adm.post("/accounts/formacct/test", &[]).await;
    assert_eq!(tested.status, StatusCode::OK, "{}", tested.body);
    assert!(by_id(&tested.body, "test-answer")
        .unwrap()
        .contains("ok: balance"));
    seen.push(("test".into(), tested.body));
    let credentials = format!("username=x\napi_password={FORM_SECRET}");
    let dup = add_account(&adm, "formacct", &url, "5", &credentials).await;
    assert_eq!(dup.status, StatusCode::BAD_REQUEST);
    seen.push(("duplicate".into(), dup.body));
    // A credential in the base URL is refused by the form (the URL is shown to every
    // role); one stored otherwise (the CLI) is shown and searched without it.
    let url_secret = "Url-Secret-4d2b";
    let credentials = format!("username=u\napi_password={FORM_SECRET}");
    let with_secret = format!("http://admin:{url_secret}@127.0.0.1:1/api");
    let in_url = add_account(&adm, "urlacct", &with_secret, "5", &credentials).await;
    assert_eq!(in_url.status, StatusCode::BAD_REQUEST, "{}", in_url.body);
    assert!(in_url.body.contains("credentials"), "{}", in_url.body);
    assert!(app.store.get_account("urlacct").await.unwrap().is_none());
    seen.push(("url refused".into(), in_url.body));
    app.engine
        .put_sandbox_account(&UpstreamAccount {
            name: "urlacct".into(),
            vendor: Vendor::West,
            base_url: format!("https://admin:{url_secret}@127.0.0.1:1/api?key={url_secret}"),
            credentials: idcgate_core::Credentials::new()
                .with("username", "u")
                .with("api_password", "p"),
            rate_limit_per_sec: 5,
        })
        .await
        .unwrap();
    let listed = adm.get("/accounts").await.body;
    assert!(
        listed.contains("https://***@127.0.0.1:1/api?***"),
        "{listed}"
    );
    let found = adm.get(&format!("/accounts?q={url_secret}")).await.body;
    assert!(
        !found.contains("urlacct"),
        "a search finds what the page hides"
    );
    // (The search page shows what was typed in its box, so it is not among `seen`.)
    seen.push(("url shown".into(), listed));
    assert!(app.engine.remove_account("test", "urlacct").await.unwrap());
    secrets_extra.push(url_secret.to_string());

    // Tokens: shown once on the answer page, listed, an API token and nothing more.
    let created = adm
        .post("/tokens", &[("name", "ci-reader"), ("scope", "read")])
        .await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.body);
    let token = by_id(&created.body, "token").unwrap();
    let info = app.engine.verify_token(&token).await.unwrap().unwrap();
    assert_eq!((info.name.as_str(), info.scope), ("ci-reader", Scope::Read));
    let list = adm.get("/tokens").await.body;
    assert!(list.contains("ci-reader") && list.contains(&info.id) && !list.contains(&token));
    // A token opens no console page, as a bearer or in place of a session cookie.
    let anon = client();
    for header in [
        ("authorization", format!("Bearer {token}")),
        ("cookie", format!("idcgate_session={token}")),
    ] {
        let r = anon
            .get(format!("{}/tokens", app.base))
            .header(header.0, &header.1)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "{}", header.0);
        let r = anon
            .post(format!("{}/tokens", app.base))
            .header(header.0, &header.1)
            .form(&[("name", "by-token"), ("scope", "admin")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
    }
    assert_eq!(app.engine.reads().tokens().await.unwrap().len(), 1);
    let confirm = adm.get(&format!("/tokens/{}/revoke", info.id)).await;
    assert!(confirm.body.contains("ci-reader"));
    let a = adm
        .post(
            &format!("/tokens/{}/revoke", info.id),
            &[("confirm", &info.id)],
        )
        .await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.body);
    assert!(app.engine.verify_token(&token).await.unwrap().is_none());
    let again = adm
        .post(
            &format!("/tokens/{}/revoke", info.id),
            &[("confirm", &info.id)],
        )
        .await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);
    seen.push(("token list".into(), adm.get("/tokens").await.body));

    // Operators: a generated password shown once that logs in; role, 2FA, removal.
    let added = adm
        .post("/operators", &[("name", "newbie"), ("role", "finance")])
        .await;
    assert_eq!(added.status, StatusCode::OK, "{}", added.body);
    let password = by_id(&added.body, "password").unwrap();
    assert_eq!(password.len(), 20);
    // Logs in with the shown password (not the tests' shared one).
    Browser::login_with(&app, "newbie", &password).await;
    // A name taken is the operator's mistake, said as such (once a 503 "something
    // failed"), and leaves the operator as it was.
    let taken = adm
        .post("/operators", &[("name", "newbie"), ("role", "admin")])
        .await;
    assert_eq!(taken.status, StatusCode::BAD_REQUEST, "{}", taken.body);
    assert!(
        taken
            .body
            .contains("An operator has this name already: newbie")
            || taken.body.contains("已有同名操作员： newbie"),
        "{}",
        taken.body
    );
    let o = app.engine.operators().get("newbie").await.unwrap().unwrap();
    assert_eq!(o.role, Role::Finance);
    let a = adm
        .post("/operators/newbie/role", &[("role", "viewer")])
        .await;
    assert_eq!(a.status, StatusCode::SEE_OTHER);
    let o = app.engine.operators().get("newbie").await.unwrap().unwrap();
    assert_eq!(o.role, Role::Viewer);
    let a = adm.post("/operators/newbie/reset2fa", &[]).await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.body);
    let a = adm.post("/operators/nobody/reset2fa", &[]).await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    let a = adm.post("/operators/adm/role", &[("role", "viewer")]).await;
    assert_eq!(
        a.status,
        StatusCode::BAD_REQUEST,
        "the last admin stays: {}",
        a.body
    );
    assert!(a.body.contains("last admin"));
    let a = adm
        .post("/operators/newbie/remove", &[("confirm", "newbi")])
        .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert!(has_operator(&app, "newbie").await);
    let a = adm
        .post("/operators/newbie/remove", &[("confirm", "newbie")])
        .await;
    assert_eq!(a.status, StatusCode::SEE_OTHER);
    assert!(!has_operator(&app, "newbie").await);
    let ops = adm.get("/operators").await.body;
    assert!(!ops.contains(&password) && !ops.contains("$argon2"));
    seen.push(("operators".into(), ops));
    let trail = app.engine.audit_trail(1000).await.unwrap();
    let actions = [
        "account.add",
        "token.create",
        "token.revoke",
        "operator.add",
        "operator.role",
        "operator.totp_reset",
        "operator.remove",
    ];
    assert_audited(&trail, &actions, "console:adm");
    assert!(trail
        .iter()
        .all(|e| !e.detail.contains(&token) && !e.detail.contains(&password)));

    // Removing an account needs its name typed on the confirmation page.
    let a = adm
        .post("/accounts/formacct/remove", &[("confirm", "wrong")])
        .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert!(app.store.get_account("formacct").await.unwrap().is_some());

    // No page shows a credential, of the form's account or the sandbox's.
    for p in [
        "/accounts",
        "/accounts/formacct/remove",
        "/accounts/w/remove",
        "/statements/formacct",
        "/statements/w",
        "/audit",
        "/audit?q=account",
        "/orders",
        "/ledger",
        "/tenants",
        "/tenants/t1",
        "/products",
        "/products/host-l1",
        "/tokens",
        "/operators",
        "/",
    ] {
        let a = adm.get(p).await;
        assert!(a.status.is_success(), "{p}: {}", a.status);
        seen.push((p.to_string(), a.body));
    }
    let a = adm
        .post("/accounts/formacct/remove", &[("confirm", "formacct")])
        .await;
    assert_eq!(a.status, StatusCode::SEE_OTHER);
    assert!(app.store.get_account("formacct").await.unwrap().is_none());
    seen.push(("after removal".into(), adm.get("/accounts").await.body));
    let mut secrets = app.sandbox_secrets.clone();
    secrets.extend([FORM_USER.to_string(), FORM_SECRET.to_string()]);
    secrets.extend(secrets_extra);
    for (what, body) in &seen {
        for s in &secrets {
            assert!(!body.contains(s.as_str()), "a credential on {what}");
        }
    }
    // The form's credential is the only one the audit log could have seen: it did not.
    assert!(trail.iter().all(|e| !e.detail.contains(FORM_SECRET)));

    // The log pages newest first, unfiltered (read only as far as the page) or filtered.
    let start = app.engine.audit_trail(100_000).await.unwrap().len();
    for i in 0..120 {
        let e = idcgate_store::AuditEntry {
            id: 0,
            at_ms: idcgate_engine::now_ms(),
            actor: "test".into(),
            action: "bulk.step".into(),
            target: format!("item-{i:03}"),
            outcome: if i % 2 == 0 { "ok" } else { "error" }.into(),
            detail: format!("step {i}"),
            intent_id: None,
        };
        app.store.append_audit(&e).await.unwrap();
    }
    let rows = |body: &str| body.matches("<td>bulk.step</td>").count();
    let first = adm.get("/audit").await.body;
    assert_eq!(rows(&first), 50);
    assert!(first.contains("item-119") && !first.contains("item-069"));
    assert!(first.contains("rel=\"next\"") && !first.contains("rel=\"prev\""));
    let last_page = (start + 120).div_ceil(50);
    let last = adm.get(&format!("/audit?page={last_page}")).await.body;
    assert!(!last.contains("rel=\"next\"") && last.contains("rel=\"prev\""));
    let past = adm
        .get(&format!("/audit?page={}", last_page + 1))
        .await
        .body;
    assert!(past.contains("past the end"));
    let errors = adm
        .get("/audit?action=bulk&outcome=error&page=2")
        .await
        .body;
    assert_eq!(rows(&errors), 10, "60 errors: 50 then 10");
    assert!(errors.contains("Page 2 / 2") && !errors.contains("item-118"));
    let sorted = adm.get("/audit?action=bulk.step&sort=target").await.body;
    assert!(sorted.contains("item-000") && !sorted.contains("item-119"));
}

async fn hostile_input_gets_a_clear_refusal(db: &TestDb) {
    let app = start(db).await;
    let adm = Browser::login(&app, "adm").await;
    let script = "<script>alert(1)</script>";
    let long = "x".repeat(10_000);
    let nul = "a\0b";
    let script_key = format!("{script}=1");
    let before = snapshot(&app.engine).await;
    let posts: Vec<(&str, Vec<(&str, &str)>)> = vec![
        ("/tenants", vec![("name", script)]),
        ("/tenants", vec![("name", nul)]),
        ("/tenants", vec![("name", &long)]),
        ("/tenants", vec![("name", "ok-name"), ("level", script)]),
        ("/tenants", vec![("name", "ok-name"), ("credit", &long)]),
        ("/tenants/t1/topup", vec![("amount", script), ("key", "h1")]),
        ("/tenants/t1/topup", vec![("amount", &long), ("key", "h2")]),
        (
            "/tenants/t1/topup",
            vec![("amount", "1"), ("key", "h3"), ("memo", nul)],
        ),
        ("/tenants/t1/topup", vec![("amount", "1"), ("key", &long)]),
        ("/tenants/t1/topup", vec![("amount", "1"), ("key", "")]),
        ("/tenants/t1/credit", vec![("limit", nul)]),
        ("/tenants/t1/level", vec![("level", script)]),
        ("/tenants/t1/level", vec![("level", nul)]),
        ("/tokens", vec![("name", nul), ("scope", "read")]),
        ("/tokens", vec![("name", &long), ("scope", "read")]),
        ("/tokens", vec![("name", "ok"), ("scope", script)]),
        ("/operators", vec![("name", script), ("role", "viewer")]),
        ("/operators", vec![("name", nul), ("role", "viewer")]),
        ("/operators", vec![("name", "fine"), ("role", &long)]),
        ("/accounts", account_form("name", script)),
        ("/accounts", account_form("vendor", script)),
        ("/accounts", account_form("base_url", "javascript:alert(1)")),
        ("/accounts", account_form("rate", &long)),
        (
            "/accounts",
            account_form("credentials", "username=a\0\napi_password=b"),
        ),
        ("/accounts", account_form("credentials", &script_key)),
        ("/products/host-l1/retire", vec![("confirm", script)]),
        ("/accounts/w/remove", vec![("confirm", &long)]),
        ("/operators/view/remove", vec![("confirm", nul)]),
    ];
    for (path, fields) in &posts {
        let a = adm.post(path, fields).await;
        refused_safely(&a, path, fields, 20_000);
    }
    assert_eq!(snapshot(&app.engine).await.tenants, before.tenants);
    assert_eq!(snapshot(&app.engine).await.accounts, before.accounts);
    assert_eq!(snapshot(&app.engine).await.operators, before.operators);
    assert!(app.engine.reads().tokens().await.unwrap().is_empty());

    // A token name may be any printable text; it is shown escaped.
    let a = adm
        .post("/tokens", &[("name", script), ("scope", "read")])
        .await;
    assert_eq!(a.status, StatusCode::OK);
    assert!(!a.body.contains("<script>alert") && a.body.contains("&lt;script&gt;"));
    let list = adm.get("/tokens").await;
    assert!(!list.body.contains("<script>alert") && list.body.contains("&lt;script&gt;"));

    // Bodies and addresses that do not decode: a 4xx page, never a 500 or a bare text.
    let r = adm
        .http
        .post(format!("{}/tenants", app.base))
        .header("cookie", &adm.cookie)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("csrf={}&name=%FF%FE", adm.csrf))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_client_error(), "{}", r.status());
    let r = adm
        .http
        .post(format!("{}/tenants", app.base))
        .header("cookie", &adm.cookie)
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert!(r.status().is_client_error(), "{}", r.status());
    let gets = [
        format!("/orders?q={}", urlencode(script)),
        format!("/orders?q={}", long),
        "/orders?page=abc".into(),
        "/orders?state=%3Cscript%3E".into(),
        "/orders?account=%00".into(),
        "/orders/abc".into(),
        "/orders/99999999999999999999".into(),
        "/tenants/%00".into(),
        format!("/tenants/{long}"),
        format!("/tenants/{}", urlencode(script)),
        "/tenants/%FF".into(),
        "/products/%3Cscript%3E".into(),
        "/ledger?since=%3Cscript%3E".into(),
        "/ledger?account=%00".into(),
        format!("/audit?actor={}&target=%00", urlencode(script)),
        "/audit?since=yesterday".into(),
        "/statements/%3Cscript%3E".into(),
        "/operators/%3Cscript%3E/remove".into(),
        format!("/tokens/{}/revoke", urlencode(script)),
        "/accounts?sort=%3Cscript%3E&desc=1".into(),
    ];
    for p in &gets {
        let a = adm.get(p).await;
        assert!(
            a.status.is_success() || a.status.is_client_error(),
            "GET {}: {}",
            p.chars().take(60).collect::<String>(),
            a.status
        );
        assert!(!a.body.contains("<script>alert"), "GET {p}: unescaped");
        assert!(
            a.body.contains("</html>"),
            "GET {}: a page",
            p.chars().take(60).collect::<String>()
        );
    }
}

idcgate_store::both_backends!(
    roles_are_enforced_on_the_server,
    money_forms_book_once_and_show_secrets_once,
    administration_keeps_secrets,
    hostile_input_gets_a_clear_refusal,
);
