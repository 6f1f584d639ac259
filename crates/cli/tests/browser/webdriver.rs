//! A small W3C WebDriver client: enough to drive headless Chromium through
//! `chromedriver` from a test (navigate, find, click, type, read, screenshot, run a
//! script). Synchronous for the test's sake: it owns a one-thread runtime and blocks on
//! each call, so dropping it can end the session and the driver cleanly.

use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The key W3C WebDriver names an element reference with.
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

/// Where the browser and its driver are, or why they cannot be used.
pub struct Tools {
    pub chromium: PathBuf,
    pub chromedriver: PathBuf,
}

impl Tools {
    /// Chromium and chromedriver as Debian installs them (`chromium`,
    /// `chromium-driver`), or where `IDCGATE_CHROMIUM` / `IDCGATE_CHROMEDRIVER` say.
    pub fn find() -> Result<Tools, String> {
        let pick = |var: &str, default: &str| {
            std::env::var_os(var)
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from(default))
        };
        let chromium = pick("IDCGATE_CHROMIUM", "/usr/bin/chromium");
        let chromedriver = pick("IDCGATE_CHROMEDRIVER", "/usr/bin/chromedriver");
        for (what, p) in [("chromium", &chromium), ("chromedriver", &chromedriver)] {
            if !p.is_file() {
                return Err(format!(
                    "{what} not found at {} (apt-get install chromium chromium-driver)",
                    p.display()
                ));
            }
        }
        Ok(Tools {
            chromium,
            chromedriver,
        })
    }
}

/// One element of the current page.
#[derive(Debug, Clone)]
pub struct Element(String);

/// A browser session and the driver process behind it.
pub struct Browser {
    rt: tokio::runtime::Runtime,
    http: reqwest::Client,
    /// `http://127.0.0.1:PORT/session/ID`
    session: String,
    driver: Child,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or(0)
}

impl Browser {
    /// Starts chromedriver on a free port and opens a headless Chromium session
    /// (1280×900) whose browser asks for `accept_languages` first.
    pub fn start(tools: &Tools, accept_languages: &str) -> Result<Browser, String> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| format!("runtime: {e}"))?;
        // Redirects are not followed: `fetch` reports what the console answered itself.
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| format!("http client: {e}"))?;
        let port = free_port();
        let first = accept_languages.split(',').next().unwrap_or("en").trim();
        let driver = Command::new(&tools.chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", tools.chromedriver.display()))?;
        let base = format!("http://127.0.0.1:{port}");
        // Owned from here on, so a failure below still kills the driver.
        let mut browser = Browser {
            rt,
            http,
            session: String::new(),
            driver,
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let ready = browser
                .raw("GET", &format!("{base}/status"), None)
                .ok()
                .and_then(|v| v["value"]["ready"].as_bool())
                .unwrap_or(false);
            if ready {
                break;
            }
            if Instant::now() > deadline {
                return Err("chromedriver did not become ready within 20 s".into());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let caps = json!({
            "capabilities": { "alwaysMatch": {
                "browserName": "chrome",
                "pageLoadStrategy": "normal",
                "goog:chromeOptions": {
                    "binary": tools.chromium.to_string_lossy(),
                    "args": [
                        "--headless=new",
                        "--no-sandbox",
                        "--disable-gpu",
                        "--disable-dev-shm-usage",
                        "--window-size=1280,900",
                        "--hide-scrollbars",
                        format!("--lang={first}"),
                    ],
                    "prefs": { "intl.accept_languages": accept_languages },
                },
            }}
        });
        let v = browser.raw("POST", &format!("{base}/session"), Some(caps))?;
        let id = v["value"]["sessionId"]
            .as_str()
            .ok_or_else(|| format!("no session id in {v}"))?;
        browser.session = format!("{base}/session/{id}");
        Ok(browser)
    }

    /// One WebDriver command; a WebDriver error comes back as `Err` with its message.
    fn raw(&self, method: &str, url: &str, body: Option<Value>) -> Result<Value, String> {
        let req = match method {
            "GET" => self.http.get(url),
            "DELETE" => self.http.delete(url),
            _ => self
                .http
                .post(url)
                .header("content-type", "application/json")
                .body(body.unwrap_or_else(|| json!({})).to_string()),
        };
        let bytes = self.rt.block_on(async {
            let r = req.send().await.map_err(|e| e.to_string())?;
            r.bytes().await.map_err(|e| e.to_string())
        })?;
        let v: Value = serde_json::from_slice(&bytes)
            .map_err(|e| format!("{method} {url}: unreadable answer ({e})"))?;
        if let Some(err) = v["value"]["error"].as_str() {
            let msg = v["value"]["message"].as_str().unwrap_or("");
            let first = msg.lines().next().unwrap_or("");
            return Err(format!("{method} {url}: {err}: {first}"));
        }
        Ok(v)
    }

    fn cmd(&self, method: &str, path: &str, body: Option<Value>) -> Result<Value, String> {
        let url = format!("{}{path}", self.session);
        self.raw(method, &url, body).map(|v| v["value"].clone())
    }

    pub fn goto(&self, url: &str) -> Result<(), String> {
        self.cmd("POST", "/url", Some(json!({ "url": url })))
            .map(|_| ())
    }

    pub fn url(&self) -> Result<String, String> {
        self.cmd("GET", "/url", None)
            .map(|v| v.as_str().unwrap_or("").to_string())
    }

    fn element_of(v: &Value) -> Option<Element> {
        v[ELEMENT_KEY].as_str().map(|s| Element(s.to_string()))
    }

    /// The first element `css` selects, or `Err` when there is none.
    pub fn find(&self, css: &str) -> Result<Element, String> {
        let v = self.cmd(
            "POST",
            "/element",
            Some(json!({ "using": "css selector", "value": css })),
        )?;
        Self::element_of(&v).ok_or_else(|| format!("no element for {css:?}"))
    }

    /// Every element `css` selects (none is not an error).
    pub fn find_all(&self, css: &str) -> Result<Vec<Element>, String> {
        let v = self.cmd(
            "POST",
            "/elements",
            Some(json!({ "using": "css selector", "value": css })),
        )?;
        Ok(v.as_array()
            .map(|a| a.iter().filter_map(Self::element_of).collect())
            .unwrap_or_default())
    }

    pub fn click(&self, e: &Element) -> Result<(), String> {
        self.cmd("POST", &format!("/element/{}/click", e.0), None)
            .map(|_| ())
    }

    /// Empties a field, then types `text` into it.
    pub fn type_into(&self, e: &Element, text: &str) -> Result<(), String> {
        self.cmd("POST", &format!("/element/{}/clear", e.0), None)?;
        self.cmd(
            "POST",
            &format!("/element/{}/value", e.0),
            Some(json!({ "text": text })),
        )
        .map(|_| ())
    }

    /// The text an element shows (as rendered: hidden text is left out).
    pub fn text(&self, e: &Element) -> Result<String, String> {
        self.cmd("GET", &format!("/element/{}/text", e.0), None)
            .map(|v| v.as_str().unwrap_or("").to_string())
    }

    /// An element's attribute, `None` when it has none.
    pub fn attribute(&self, e: &Element, name: &str) -> Result<Option<String>, String> {
        self.cmd("GET", &format!("/element/{}/attribute/{name}", e.0), None)
            .map(|v| v.as_str().map(str::to_string))
    }

    /// An element's tag name, lower case (`input`, `select`).
    pub fn tag(&self, e: &Element) -> Result<String, String> {
        self.cmd("GET", &format!("/element/{}/name", e.0), None)
            .map(|v| v.as_str().unwrap_or("").to_lowercase())
    }

    /// The text of the first element `css` selects.
    pub fn text_of(&self, css: &str) -> Result<String, String> {
        self.text(&self.find(css)?)
    }

    /// Runs `script` (a function body; `arguments` holds `args`) in the page and
    /// answers what it returns. Elements are passed as `Browser::arg`.
    pub fn execute(&self, script: &str, args: Vec<Value>) -> Result<Value, String> {
        self.cmd(
            "POST",
            "/execute/sync",
            Some(json!({ "script": script, "args": args })),
        )
    }

    /// An element as a script argument.
    pub fn arg(e: &Element) -> Value {
        json!({ ELEMENT_KEY: e.0 })
    }

    /// `GET url` outside the browser but with the browser's cookies (its session):
    /// the status and content type the server answered, which a page cannot show.
    pub fn fetch(&self, url: &str) -> Result<(u16, String), String> {
        let cookies = self.cmd("GET", "/cookie", None)?;
        let header: Vec<String> = cookies
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|c| {
                        Some(format!("{}={}", c["name"].as_str()?, c["value"].as_str()?))
                    })
                    .collect()
            })
            .unwrap_or_default();
        let req = self.http.get(url).header("cookie", header.join("; "));
        self.rt.block_on(async {
            let r = req.send().await.map_err(|e| format!("GET {url}: {e}"))?;
            let ctype = r
                .headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_string();
            Ok((r.status().as_u16(), ctype))
        })
    }

    /// Waits up to `secs` for `check` to answer `Some`; `Err` says what was awaited.
    pub fn wait_for<T>(
        &self,
        secs: u64,
        what: &str,
        mut check: impl FnMut(&Browser) -> Option<T>,
    ) -> Result<T, String> {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            if let Some(v) = check(self) {
                return Ok(v);
            }
            if Instant::now() > deadline {
                let at = self.url().unwrap_or_default();
                return Err(format!("waited {secs} s for {what} (at {at})"));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// A PNG of the whole page (beyond the window when the page is longer), through
    /// Chromium's own capture; the window only if that is not available.
    pub fn screenshot_png(&self) -> Result<Vec<u8>, String> {
        let full = self
            .cmd(
                "POST",
                "/goog/cdp/execute",
                Some(json!({
                    "cmd": "Page.captureScreenshot",
                    "params": { "format": "png", "captureBeyondViewport": true },
                })),
            )
            .ok()
            .and_then(|v| v["data"].as_str().map(str::to_string));
        let b64 = match full {
            Some(d) => d,
            None => self
                .cmd("GET", "/screenshot", None)?
                .as_str()
                .ok_or("no screenshot data")?
                .to_string(),
        };
        base64_decode(&b64).ok_or_else(|| "screenshot is not base64".to_string())
    }

    /// Writes a screenshot to `dir/name.png` for each of `dirs`.
    pub fn screenshot(&self, name: &str, dirs: &[&Path]) -> Result<(), String> {
        let png = self.screenshot_png()?;
        for d in dirs {
            std::fs::create_dir_all(d).map_err(|e| format!("{}: {e}", d.display()))?;
            let p = d.join(format!("{name}.png"));
            std::fs::write(&p, &png).map_err(|e| format!("{}: {e}", p.display()))?;
        }
        Ok(())
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if !self.session.is_empty() {
            let _ = self.raw("DELETE", &self.session.clone(), None);
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// Standard base64 (with padding, as WebDriver sends screenshots; blanks passed over).
pub fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let chars = text.bytes().filter(|c| !c.is_ascii_whitespace());
    idcgate_wire::sim::decode_base64(chars.take_while(|&c| c != b'='))
}

#[test]
fn base64_reads_what_webdriver_sends() {
    assert_eq!(base64_decode("aWRjZ2F0ZQ==").unwrap(), b"idcgate");
    assert_eq!(base64_decode("iVBORw0KGgo=").unwrap(), b"\x89PNG\r\n\x1a\n");
    assert_eq!(base64_decode("YWI=").unwrap(), b"ab");
    assert!(base64_decode("not*base64").is_none());
}
