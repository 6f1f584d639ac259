//! Logging in to the console over real HTTP: nothing reachable without a session,
//! login CSRF, lockout, the second factor (enrolment with the page's own secret, a
//! code, a recovery code used once), the role that must enrol first, idle and absolute
//! timeouts, cookie flags and security headers, redirects that stay on the console.
#![allow(clippy::unwrap_used)] // a test may fail loudly

mod common;

use idcgate_console::auth::{totp_code, Operators};
use idcgate_console::ConsoleConfig;
use idcgate_engine::{now_ms, Engine, Registry};
use idcgate_store::testing::{self, TestDb};
use idcgate_store::Role;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

const PASSWORD: &str = "correct horse battery";

struct Console {
    engine: Arc<Engine>,
    base: String,
    _stop: tokio::sync::oneshot::Sender<()>,
}

async fn start(db: &TestDb, config: ConsoleConfig) -> Console {
    start_from(db, config, None).await
}

/// With `client`, every request seems to come from that address, as the server in
/// front of the console says.
async fn start_from(
    db: &TestDb,
    config: ConsoleConfig,
    client: Option<std::net::IpAddr>,
) -> Console {
    let engine = Arc::new(Engine::new(
        Arc::new(db.reopen().await),
        Registry::new(vec![]),
        idcgate_wire::testing::wire_config(Duration::from_secs(5)),
    ));
    let mut app = idcgate_console::router(engine.clone(), config);
    if let Some(ip) = client {
        app = app.layer(axum::Extension(ip));
    }
    let (base, stop) = common::serve(app).await;
    Console {
        engine,
        base,
        _stop: stop,
    }
}

async fn add(c: &Console, name: &str, role: Role) {
    Operators {
        engine: &c.engine,
        actor: "test",
    }
    .add(name, role, PASSWORD)
    .await
    .unwrap();
}

/// A browser in miniature: follows no redirects, keeps cookies.
struct Browser {
    http: reqwest::Client,
    base: String,
    jar: HashMap<String, String>,
}

struct Answer {
    status: u16,
    location: String,
    set_cookies: Vec<String>,
    headers: reqwest::header::HeaderMap,
    body: String,
}

impl Browser {
    fn new(c: &Console) -> Self {
        Browser {
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            base: c.base.clone(),
            jar: HashMap::new(),
        }
    }

    async fn send(&mut self, method: &str, path: &str, form: &[(&str, &str)]) -> Answer {
        let url = format!("{}{}", self.base, path);
        let mut req = if method == "GET" {
            self.http.get(url)
        } else {
            let body: String = form
                .iter()
                .map(|(k, v)| format!("{k}={}", urlencode(v)))
                .collect::<Vec<_>>()
                .join("&");
            self.http
                .post(url)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body)
        };
        let cookies: Vec<String> = self.jar.iter().map(|(k, v)| format!("{k}={v}")).collect();
        if !cookies.is_empty() {
            req = req.header("cookie", cookies.join("; "));
        }
        let r = req.send().await.unwrap();
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        let set_cookies: Vec<String> = headers
            .get_all("set-cookie")
            .iter()
            .map(|v| v.to_str().unwrap().to_string())
            .collect();
        for c in &set_cookies {
            let pair = c.split(';').next().unwrap();
            let (k, v) = pair.split_once('=').unwrap();
            if v.is_empty() || c.contains("Max-Age=0") {
                self.jar.remove(k);
            } else {
                self.jar.insert(k.to_string(), v.to_string());
            }
        }
        let location = headers
            .get("location")
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default();
        Answer {
            status,
            location,
            set_cookies,
            headers,
            body: r.text().await.unwrap(),
        }
    }

    async fn get(&mut self, path: &str) -> Answer {
        self.send("GET", path, &[]).await
    }

    async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Answer {
        self.send("POST", path, form).await
    }

    /// Submits the login form as a person would: its page first, for the token.
    async fn login(&mut self, name: &str, password: &str, next: &str) -> Answer {
        let page = self.get("/login").await;
        let token = field(&page.body, "token");
        self.post(
            "/login",
            &[
                ("token", &token),
                ("next", next),
                ("name", name),
                ("password", password),
            ],
        )
        .await
    }

    async fn csrf(&mut self) -> String {
        let page = self.get("/account/security").await;
        assert_eq!(page.status, 200, "{}", page.body);
        field(&page.body, "csrf")
    }
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The value of the first hidden input `name` in a page.
fn field(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html
        .find(&marker)
        .unwrap_or_else(|| panic!("no {name} in {html}"))
        + marker.len();
    html[start..].split('"').next().unwrap().to_string()
}

async fn audit_outcomes(c: &Console, action: &str) -> Vec<(String, String)> {
    c.engine
        .audit_trail(200)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.action == action)
        .map(|e| (e.outcome, e.detail))
        .collect()
}

#[tokio::test]
async fn nothing_is_reachable_without_a_session() {
    let db = testing::sqlite().await;
    let c = start(&db, ConsoleConfig::default()).await;
    let mut b = Browser::new(&c);
    for path in ["/", "/account/security"] {
        let a = b.get(path).await;
        assert_eq!(a.status, 303, "{path}");
        assert!(
            a.location.starts_with("/login?next="),
            "{path}: {}",
            a.location
        );
    }
    for path in ["/account/totp/start", "/account/password"] {
        let a = b.post(path, &[("csrf", "x")]).await;
        assert_eq!(a.status, 303, "{path}");
        assert!(a.location.starts_with("/login"), "{path}");
    }
    let login = b.get("/login").await;
    assert_eq!(login.status, 200);
    assert!(login.body.contains("<form") && login.body.contains("type=\"password\""));
    assert!(login.headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    assert_eq!(login.headers["x-frame-options"], "DENY");
    assert!(login.headers["content-security-policy"]
        .to_str()
        .unwrap()
        .contains("frame-ancestors 'none'"));
}

#[tokio::test]
async fn login_is_guarded_audited_and_locks_out() {
    let db = testing::sqlite().await;
    let c = start(&db, ConsoleConfig::default()).await;
    add(&c, "ann", Role::Admin).await;
    let mut b = Browser::new(&c);

    // A login form posted from elsewhere carries no token matching our cookie.
    let forged = b
        .post(
            "/login",
            &[("token", "x"), ("name", "ann"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(forged.status, 403);
    assert!(!forged
        .set_cookies
        .iter()
        .any(|c| c.starts_with("idcgate_session=")));

    let ok = b.login("ann", PASSWORD, "//evil.example/x").await;
    assert_eq!(
        (ok.status, ok.location.as_str()),
        (303, "/"),
        "the next page stays here"
    );
    let session = ok
        .set_cookies
        .iter()
        .find(|c| c.starts_with("idcgate_session="))
        .unwrap();
    assert!(
        session.contains("HttpOnly") && session.contains("SameSite=Strict"),
        "{session}"
    );
    assert!(!session.contains("Secure"), "plain HTTP here");
    let home = b.get("/").await;
    assert_eq!(home.status, 200);
    assert!(home.body.contains("ann"));

    // Logging out needs the page's own form.
    let csrf = b.csrf().await;
    assert_eq!(b.post("/logout", &[("csrf", "wrong")]).await.status, 303);
    assert_eq!(b.get("/").await.status, 200, "a forged logout ends nothing");
    b.post("/logout", &[("csrf", &csrf)]).await;
    assert_eq!(b.get("/").await.status, 303);

    let mut m = Browser::new(&c);
    for _ in 0..4 {
        assert_eq!(m.login("ann", "wrong password!", "/").await.status, 401);
    }
    assert_eq!(m.login("nobody", "wrong password!", "/").await.status, 401);
    assert_eq!(m.login("ann", "wrong password!", "/").await.status, 401);
    // Five failures: even the right password is refused now.
    let locked = m.login("ann", PASSWORD, "/").await;
    assert_eq!(locked.status, 429, "{}", locked.body);
    assert!(!m.jar.contains_key("idcgate_session"));
    let outcomes = audit_outcomes(&c, "console.login").await;
    assert_eq!(
        outcomes.iter().filter(|(o, _)| o == "ok").count(),
        1,
        "{outcomes:?}"
    );
    assert!(outcomes
        .iter()
        .any(|(_, d)| d.contains("locked for 15 minutes")));
    assert!(outcomes.iter().any(|(_, d)| d == "refused: locked out"));
    assert!(outcomes.iter().any(|(_, d)| d == "no such operator"));
    assert!(
        !outcomes.iter().any(|(_, d)| d.contains("wrong password!")),
        "no password in the audit"
    );
    // An administrator's reset clears the lock.
    Operators {
        engine: &c.engine,
        actor: "test",
    }
    .set_password("ann", "another good password")
    .await
    .unwrap();
    assert_eq!(
        m.login("ann", "another good password", "/").await.status,
        303
    );
}

#[tokio::test]
async fn a_second_factor_is_enrolled_then_asked_and_recovery_codes_work_once() {
    let db = testing::sqlite().await;
    let c = start(&db, ConsoleConfig::default()).await;
    add(&c, "fin", Role::Finance).await;
    let mut b = Browser::new(&c);
    b.login("fin", PASSWORD, "/").await;
    let csrf = b.csrf().await;
    assert_eq!(
        b.post("/account/totp/start", &[("csrf", "forged")])
            .await
            .status,
        403
    );
    let enrol = b.post("/account/totp/start", &[("csrf", &csrf)]).await;
    assert_eq!(enrol.status, 200);
    assert!(enrol.body.contains("<svg"), "a QR code");
    let secret = enrol
        .body
        .split("<code class=\"secret\">")
        .nth(1)
        .unwrap()
        .split('<')
        .next()
        .unwrap()
        .to_string();
    let now = now_ms() / 1000;
    let right = totp_code(&secret, now).unwrap();
    let wrong = format!(
        "{:06}",
        (right.parse::<u32>().unwrap() + 500_000) % 1_000_000
    );
    assert_eq!(
        b.post(
            "/account/totp/confirm",
            &[("csrf", &csrf), ("code", &wrong)]
        )
        .await
        .status,
        400
    );
    let done = b
        .post(
            "/account/totp/confirm",
            &[("csrf", &csrf), ("code", &right)],
        )
        .await;
    assert_eq!(done.status, 200);
    let codes: Vec<String> = done
        .body
        .split("<li><code>")
        .skip(1)
        .map(|s| s.split('<').next().unwrap().to_string())
        .collect();
    assert_eq!(codes.len(), 8, "{}", done.body);
    assert!(
        c.engine
            .operators()
            .get("fin")
            .await
            .unwrap()
            .unwrap()
            .totp_enabled
    );
    b.post("/logout", &[("csrf", &csrf)]).await;

    // The password alone opens nothing.
    let half = b.login("fin", PASSWORD, "/orders").await;
    assert!(
        half.location.starts_with("/login/totp"),
        "{}",
        half.location
    );
    assert!(b.get("/").await.location.starts_with("/login/totp"));
    let bad = b
        .post("/login/totp", &[("next", "/"), ("code", &wrong)])
        .await;
    assert_eq!(bad.status, 401);
    let before = b.jar["idcgate_session"].clone();
    let code = totp_code(&secret, now_ms() / 1000).unwrap();
    let good = b
        .post("/login/totp", &[("next", "/orders"), ("code", &code)])
        .await;
    assert_eq!((good.status, good.location.as_str()), (303, "/orders"));
    assert_ne!(
        b.jar["idcgate_session"], before,
        "a new session id after the second factor"
    );
    assert_eq!(b.get("/").await.status, 200);

    // A recovery code instead of the phone, once.
    for (round, expect) in [(0, 303), (1, 401)] {
        let mut r = Browser::new(&c);
        r.login("fin", PASSWORD, "/").await;
        let a = r
            .post(
                "/login/totp",
                &[("next", "/"), ("code", &codes[0].to_uppercase())],
            )
            .await;
        assert_eq!(a.status, expect, "round {round}");
    }
    assert_eq!(
        c.engine
            .operators()
            .totp("fin")
            .await
            .unwrap()
            .recovery_left,
        7
    );
    let outcomes = audit_outcomes(&c, "console.login").await;
    assert!(
        outcomes
            .iter()
            .any(|(o, d)| o == "ok" && d.contains("recovery code")),
        "{outcomes:?}"
    );
    assert_eq!(audit_outcomes(&c, "operator.totp_enrol").await.len(), 1);
}

#[tokio::test]
async fn a_role_that_must_use_a_second_factor_enrols_before_anything_else() {
    let db = testing::sqlite().await;
    let config = ConsoleConfig {
        require_totp: vec![Role::Admin],
        secure_cookies: true,
        ..Default::default()
    };
    let c = start(&db, config).await;
    add(&c, "ann", Role::Admin).await;
    add(&c, "vic", Role::Viewer).await;
    let mut a = Browser::new(&c);
    let login = a.login("ann", PASSWORD, "/").await;
    assert!(login
        .set_cookies
        .iter()
        .any(|c| c.starts_with("idcgate_session=") && c.contains("Secure")));
    let home = a.get("/").await;
    assert_eq!(
        (home.status, home.location.as_str()),
        (303, "/account/security")
    );
    assert_eq!(a.get("/account/security").await.status, 200);
    let mut v = Browser::new(&c);
    v.login("vic", PASSWORD, "/").await;
    assert_eq!(v.get("/").await.status, 200, "a viewer is not required to");
}

#[tokio::test]
async fn sessions_end_when_idle_or_too_old() {
    let db = testing::sqlite().await;
    let idle = start(
        &db,
        ConsoleConfig {
            idle_timeout_ms: 1_000,
            ..Default::default()
        },
    )
    .await;
    add(&idle, "ann", Role::Viewer).await;
    let mut b = Browser::new(&idle);
    b.login("ann", PASSWORD, "/").await;
    assert_eq!(b.get("/").await.status, 200);
    tokio::time::sleep(Duration::from_millis(1_300)).await;
    assert_eq!(b.get("/").await.status, 303);

    let old = start(
        &db,
        ConsoleConfig {
            absolute_timeout_ms: 1_500,
            ..Default::default()
        },
    )
    .await;
    let mut b = Browser::new(&old);
    b.login("ann", PASSWORD, "/").await;
    for _ in 0..3 {
        assert_eq!(b.get("/").await.status, 200);
        tokio::time::sleep(Duration::from_millis(400)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        b.get("/").await.status,
        303,
        "used all along, but logged in too long ago"
    );
}

#[tokio::test]
async fn the_language_follows_the_browser_then_the_switch() {
    let db = testing::sqlite().await;
    let c = start(&db, ConsoleConfig::default()).await;
    let mut b = Browser::new(&c);
    let zh = b.get("/login").await;
    assert!(zh.body.contains("lang=\"zh-CN\"") && zh.body.contains("登录"));
    let switch = b.get("/lang/en?next=%2F%2Fevil.example").await;
    assert_eq!((switch.status, switch.location.as_str()), (303, "/"));
    let en = b.get("/login").await;
    assert!(
        en.body.contains("lang=\"en\"") && en.body.contains("Log in"),
        "{}",
        en.body
    );
}

#[tokio::test]
async fn one_address_guessing_across_names_is_locked_out() {
    let db = testing::sqlite().await;
    let ip: std::net::IpAddr = "203.0.113.7".parse().unwrap();
    let c = start_from(&db, ConsoleConfig::default(), Some(ip)).await;
    add(&c, "ann", Role::Admin).await;
    let mut b = Browser::new(&c);
    // Four wrong passwords per name stay under each operator's lockout.
    for n in 0..20 {
        let name = format!("user{}", n / 4);
        assert_eq!(
            b.login(&name, "guess guess guess", "/").await.status,
            401,
            "{n}"
        );
    }
    let refused = b.login("ann", PASSWORD, "/").await;
    assert_eq!(refused.status, 429);
    assert!(!b.jar.contains_key("idcgate_session"));
    let ann = c.engine.operators().get("ann").await.unwrap().unwrap();
    assert_eq!(
        ann.locked_until_ms, 0,
        "the address is locked, not the operator"
    );
    let lockouts = audit_outcomes(&c, "console.lockout").await;
    assert_eq!(lockouts.len(), 1, "{lockouts:?}");
    // Another address is not affected.
    let other = start_from(
        &db,
        ConsoleConfig::default(),
        Some("198.51.100.2".parse().unwrap()),
    )
    .await;
    assert_eq!(
        Browser::new(&other)
            .login("ann", PASSWORD, "/")
            .await
            .status,
        303
    );
}
