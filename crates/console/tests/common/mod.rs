//! The console harness the page tests share: a console router served on a free port
//! over an engine on the test database with account `w` on a West sandbox, operators of
//! every role, and a browser that logs in through the real login form.
#![allow(dead_code)] // each test crate uses its own part

use idcgate_console::auth::Operators;
use idcgate_console::{router, ConsoleConfig};
use idcgate_engine::testing::{sandboxed, Sandboxed};
use idcgate_engine::{vendor_entry, Engine};
use idcgate_store::testing::TestDb;
use idcgate_store::{AuditEntry, Role, SqlStore};
use idcgate_wire::sim::SimServer;
use reqwest::StatusCode;
use std::sync::Arc;

pub const PASSWORD: &str = "correct horse battery staple";

/// The operators [`start`] adds, one of each role.
pub const OPERATORS: [(&str, Role); 4] = [
    ("adm", Role::Admin),
    ("ops", Role::Operator),
    ("fin", Role::Finance),
    ("view", Role::Viewer),
];

pub struct App {
    pub engine: Arc<Engine>,
    /// The database behind the engine, for what a test seeds or checks beneath it.
    pub store: SqlStore,
    pub base: String,
    /// The sandbox account's own credential values.
    pub sandbox_secrets: Vec<String>,
    pub srv: SimServer,
    _stop: tokio::sync::oneshot::Sender<()>,
}

/// The console on `db` with account `w` (a West sandbox) and operators `adm`, `ops`,
/// `fin` and `view`.
pub async fn start(db: &TestDb) -> App {
    let Sandboxed {
        engine,
        srv,
        secrets,
    } = sandboxed(db, vendor_entry!(West, idcgate_west), "w").await;
    let ops = Operators {
        engine: &engine,
        actor: "test",
    };
    for (name, role) in OPERATORS {
        ops.add(name, role, PASSWORD).await.unwrap();
    }
    let (base, stop) = serve(router(engine.clone(), ConsoleConfig::default())).await;
    App {
        engine,
        store: db.reopen().await,
        base,
        sandbox_secrets: secrets,
        srv,
        _stop: stop,
    }
}

/// Serves `app` on a free port until the sender is dropped; its base URL.
pub async fn serve(app: axum::Router) -> (String, tokio::sync::oneshot::Sender<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = stopped.await;
            })
            .await
            .unwrap();
    });
    (base, stop)
}

pub fn urlencode(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}

/// `value` of the first `name="<name>" value="…"` in a page.
pub fn field(body: &str, name: &str) -> Option<String> {
    let at = body.find(&format!("name=\"{name}\" value=\""))?;
    let rest = &body[at + name.len() + 15..];
    Some(rest[..rest.find('"')?].to_string())
}

/// The text of the element with `id`.
pub fn by_id(body: &str, id: &str) -> Option<String> {
    let at = body.find(&format!("id=\"{id}\""))?;
    let rest = &body[at..];
    let rest = &rest[rest.find('>')? + 1..];
    Some(rest[..rest.find('<')?].to_string())
}

pub fn cookie_of(r: &reqwest::Response, name: &str) -> Option<String> {
    r.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| v.split(';').next())
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

pub struct Answer {
    pub status: StatusCode,
    pub body: String,
    pub location: Option<String>,
    /// The one-shot notice the redirect carries, decoded.
    pub notice: Option<String>,
    pub set_cookies: Vec<String>,
}

/// Asserts `a` is the page refusing a role what `what` asked: 403, saying so.
pub fn refused_for_role(a: &Answer, what: &str) {
    assert_eq!(a.status, StatusCode::FORBIDDEN, "{what}: {}", a.body);
    assert!(
        a.body.contains("Your role does not allow this action."),
        "{what}"
    );
}

/// Asserts hostile `fields` posted to `path` were refused with a page of the console's
/// own: a client error, nothing unescaped, the input not echoed whole (the page under
/// `max_len` bytes), saying why.
pub fn refused_safely(a: &Answer, path: &str, fields: &[(&str, &str)], max_len: usize) {
    let shown = fields
        .iter()
        .map(|(k, v)| (k, v.chars().take(20).collect::<String>()))
        .collect::<Vec<_>>();
    assert!(
        a.status.is_client_error(),
        "POST {path} {shown:?}: {}",
        a.status
    );
    assert!(!a.body.contains("<script>alert"), "POST {path}: unescaped");
    assert!(
        a.body.len() < max_len,
        "POST {path}: the input came back whole"
    );
    assert!(
        a.body.contains("role=\"alert\""),
        "POST {path} {shown:?}: a page saying why"
    );
}

/// Asserts each of `actions` is in the audit `trail` as done by `actor`.
pub fn assert_audited(trail: &[AuditEntry], actions: &[&str], actor: &str) {
    for action in actions {
        assert!(
            trail
                .iter()
                .any(|e| e.action == *action && e.actor == actor),
            "{action} audited as {actor}"
        );
    }
}

/// A browser logged in as one operator: its session cookie and CSRF token.
pub struct Browser {
    pub http: reqwest::Client,
    pub base: String,
    pub cookie: String,
    pub csrf: String,
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

pub async fn answer(r: reqwest::Response) -> Answer {
    let location = r
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let notice = cookie_of(&r, "idcgate_flash").map(|v| {
        percent_encoding::percent_decode_str(&v)
            .decode_utf8_lossy()
            .to_string()
    });
    let set_cookies = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .map(str::to_string)
        .collect();
    Answer {
        status: r.status(),
        location,
        notice,
        set_cookies,
        body: r.text().await.unwrap(),
    }
}

impl Browser {
    /// Logs in through the real form: the login page's token and cookie, then the POST.
    pub async fn login(app: &App, name: &str) -> Browser {
        Browser::login_with(app, name, PASSWORD).await
    }

    /// [`Browser::login`] with a password of its own.
    pub async fn login_with(app: &App, name: &str, password: &str) -> Browser {
        let http = client();
        let r = http
            .get(format!("{}/login", app.base))
            .send()
            .await
            .unwrap();
        let login_cookie = cookie_of(&r, "idcgate_login").expect("login cookie");
        let token = field(&r.text().await.unwrap(), "token").expect("login token");
        let r = http
            .post(format!("{}/login", app.base))
            .header("cookie", format!("idcgate_login={login_cookie}"))
            .form(&[
                ("token", token.as_str()),
                ("next", "/orders"),
                ("name", name),
                ("password", password),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "login of {name}");
        let session = cookie_of(&r, "idcgate_session").expect("session cookie");
        let mut b = Browser {
            http,
            base: app.base.clone(),
            cookie: format!("idcgate_session={session}"),
            csrf: String::new(),
        };
        let page = b.get("/orders").await;
        assert_eq!(page.status, StatusCode::OK);
        b.csrf = field(&page.body, "csrf").expect("csrf token on every page");
        b
    }

    pub async fn get(&self, path: &str) -> Answer {
        self.get_in(path, "en").await
    }

    pub async fn get_in(&self, path: &str, lang: &str) -> Answer {
        let r = self
            .http
            .get(format!("{}{path}", self.base))
            .header("cookie", &self.cookie)
            .header("accept-language", lang)
            .send()
            .await
            .unwrap();
        answer(r).await
    }

    /// A form as the page sends it, with this session's CSRF token.
    pub async fn post(&self, path: &str, fields: &[(&str, &str)]) -> Answer {
        let mut all = vec![("csrf", self.csrf.as_str())];
        all.extend_from_slice(fields);
        self.post_raw(path, &all).await
    }

    pub async fn post_raw(&self, path: &str, fields: &[(&str, &str)]) -> Answer {
        let r = self
            .http
            .post(format!("{}{path}", self.base))
            .header("cookie", &self.cookie)
            .header("accept-language", "en")
            .form(fields)
            .send()
            .await
            .unwrap();
        answer(r).await
    }
}
