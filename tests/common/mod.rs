//! Helpers shared by the end-to-end test binaries (`tests/api`,
//! `tests/deploy`): moto, both stores, the answers, the shared flows.
#![allow(dead_code)] // each binary uses a different part

pub mod hosted;
pub mod idp;

use std::sync::Arc;

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_dynamodb::config::{Credentials, SharedCredentialsProvider};
use chrono::{DateTime, Duration, Utc};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use shared::adapters::dynamodb::DynamoStore;
use shared::adapters::system::ManualClock;
use shared::domain::tenant::Policy;
use shared::ports::Store;
use shared::testing::{TestApp, TestOptions, spawn_app};

/// moto's server URL, set by the test command (`make test`). Tests that need
/// it fail loudly without it; they never skip.
pub fn moto_url() -> String {
    std::env::var("REGISTRAR_TEST_MOTO_URL").unwrap_or_else(|_| {
        panic!(
            "REGISTRAR_TEST_MOTO_URL is not set: this test talks to moto's server. \
             Run `make test`, which installs moto into .venv and starts it."
        )
    })
}

/// SDK config for moto: static test credentials, a fixed region.
pub fn moto_sdk() -> SdkConfig {
    SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("eu-central-1"))
        .credentials_provider(SharedCredentialsProvider::new(Credentials::new("test", "test", None, None, "moto")))
        .endpoint_url(moto_url())
        .build()
}

/// A unique suffix for names that must not collide between parallel tests.
pub fn unique(prefix: &str) -> String {
    format!("{prefix}-{}", &shared_id()[..20])
}

fn shared_id() -> String {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_nanos();
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    format!("{nanos:x}{n:04x}{:08x}", std::process::id())
}

/// A fresh DynamoDB table on moto (created by the harness, as a deployed
/// stack's table is created by SAM) and a store on it.
pub async fn dynamo_store(clock: Arc<ManualClock>) -> Arc<dyn Store> {
    let client = aws_sdk_dynamodb::Client::new(&moto_sdk());
    let store = DynamoStore::new(client, unique("registrar"), clock);
    store.create_table().await.expect("create table on moto");
    Arc::new(store)
}

/// moto's recorded state (`/moto-api/data.json`).
pub async fn moto_state() -> Value {
    reqwest::get(format!("{}/moto-api/data.json", moto_url()))
        .await
        .expect("moto reachable")
        .json()
        .await
        .expect("moto state is JSON")
}

/// Which store a test runs on.
#[derive(Clone, Copy, Debug)]
pub enum Backend {
    Memory,
    DynamoDb,
}

/// The store for `backend` (`None` lets the test app use its in-memory one).
pub async fn store_for(backend: Backend, clock: Arc<ManualClock>) -> Option<Arc<dyn Store>> {
    match backend {
        Backend::Memory => None,
        Backend::DynamoDb => Some(dynamo_store(clock).await),
    }
}

/// Expands to `on_memory` and `on_dynamodb` modules with one test per case:
/// each case is an `async fn(T)`, and `$make` an `async fn(Backend) -> T`
/// of the test file.
#[macro_export]
macro_rules! on_both_stores {
    ($make:ident; $($case:ident),* $(,)?) => {
        mod on_memory {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    super::$case(super::$make($crate::common::Backend::Memory).await).await;
                }
            )*
        }
        mod on_dynamodb {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    super::$case(super::$make($crate::common::Backend::DynamoDb).await).await;
                }
            )*
        }
    };
}

/// One answer of the API, as the end-to-end tests read it.
pub struct Answer {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    /// The JSON body (`null` when empty).
    pub body: Value,
}

impl Answer {
    /// Reads a response; a non-empty body must be JSON.
    pub async fn read(response: reqwest::Response) -> Self {
        let (status, headers) = (response.status(), response.headers().clone());
        let text = response.text().await.expect("a body");
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or_else(|_| panic!("{status}: not JSON: {text}"))
        };
        Self { status, headers, body }
    }

    /// The problem's `code` ("" for a success).
    pub fn code(&self) -> &str {
        self.body["code"].as_str().unwrap_or("")
    }

    /// `Retry-After` in seconds.
    pub fn retry_after(&self) -> Option<u64> {
        self.headers.get("retry-after").map(|v| v.to_str().unwrap().parse().unwrap())
    }
}

/// Starts the local API on `backend` with a tenant of `policy` (one clock
/// for the app and the store).
pub async fn spawn_on(backend: Backend, policy: Policy) -> TestApp {
    let clock = Arc::new(ManualClock::at_test_start());
    let store = store_for(backend, clock.clone()).await;
    spawn_app(TestOptions { policy, store, senders: None, clock: Some(clock), ..TestOptions::default() }).await
}

/// The password of every test user (the tenants' policies accept it).
pub const PASSWORD: &str = "Str0ng!Pass";
/// The test tenants' sandbox code: every code they send.
pub const CODE: &str = "123456";

/// The flows the suites share, written once over `send` and the injected
/// clock: for the test app (`Api`, or a bare `TestApp`) and for the stack
/// of every function that tests/deploy/iam.rs deploys on moto.
pub trait Flows {
    /// Sends a request with the tenant's API key, `headers` and a JSON `body`.
    async fn send(&self, method: Method, path: &str, body: Option<Value>, headers: &[(&str, &str)]) -> Answer;

    /// The clock the app reads: tests move time only through it.
    fn clock(&self) -> &ManualClock;

    async fn post(&self, path: &str, body: Value, headers: &[(&str, &str)]) -> Answer {
        self.send(Method::POST, path, Some(body), headers).await
    }

    async fn get(&self, path: &str, headers: &[(&str, &str)]) -> Answer {
        self.send(Method::GET, path, None, headers).await
    }

    /// Moves the app's clock `seconds` on.
    fn advance(&self, seconds: i64) {
        self.clock().advance(Duration::seconds(seconds));
    }

    /// The app's time.
    fn now(&self) -> DateTime<Utc> {
        self.clock().now_dt()
    }

    /// Signs up with the e-mail alone (a tenant that requires no phone),
    /// `PASSWORD` and `CODE`; the completion's tokens.
    async fn sign_up(&self, email: &str) -> Value {
        let body = json!({
            "email": email, "password": PASSWORD, "first_name": "Anna", "last_name": "Muster",
            "terms_accepted": true, "privacy_policy_accepted": true,
        });
        let started = self.post("/v1/registrations", body, &[]).await;
        assert_eq!(started.status, StatusCode::ACCEPTED, "{}", started.body);
        let id = started.body["registration_id"].as_str().expect("a registration").to_owned();
        let done = self.post(&format!("/v1/registrations/{id}/email/verify"), json!({ "code": CODE }), &[]).await;
        assert_eq!(done.status, StatusCode::CREATED, "{}", done.body);
        done.body
    }

    /// A password login from `device`: tokens, or the second factor's
    /// challenge.
    async fn login(&self, username: &str, password: &str, device: &str) -> Answer {
        self.post("/v1/auth/login", json!({ "username": username, "password": password }), &[("X-Device-ID", device)])
            .await
    }

    /// Answers a login's second-factor `challenge` with `factor`'s `code`.
    async fn mfa(&self, challenge: &Value, factor: &str, code: &str, device: &str) -> Answer {
        let body = json!({ "challenge_id": challenge, "factor": factor, "code": code });
        self.post("/v1/auth/mfa", body, &[("X-Device-ID", device)]).await
    }

    /// Adds and verifies a phone for the user of `bearer` (`Bearer …`), so
    /// SMS is a factor where the tenant allows it; the verification's answer.
    async fn add_phone(&self, bearer: &str, phone: &str) -> Value {
        let auth = [("Authorization", bearer)];
        let added = self.post("/v1/me/credentials", json!({ "type": "phone", "value": phone }), &auth).await;
        assert_eq!(added.status, StatusCode::ACCEPTED, "{}", added.body);
        let verified = self.post("/v1/me/credentials/verify", json!({ "type": "phone", "code": CODE }), &auth).await;
        assert_eq!(verified.status, StatusCode::OK, "{}", verified.body);
        verified.body
    }

    /// A user with e-mail and phone verified: 2FA on; the sign-up's tokens.
    async fn sign_up_with_phone(&self, email: &str, phone: &str) -> Value {
        let tokens = self.sign_up(email).await;
        let verified = self.add_phone(&format!("Bearer {}", tokens["access_token"].as_str().unwrap()), phone).await;
        assert_eq!(verified["mfa_enabled"], true);
        tokens
    }

    /// The profile (`GET /v1/me`) of `access_token`'s user.
    async fn me(&self, access_token: &str) -> Answer {
        let bearer = format!("Bearer {access_token}");
        self.send(Method::GET, "/v1/me", None, &[("Authorization", &bearer)]).await
    }

    /// Refreshes the refresh `token` from `device`.
    async fn refresh(&self, token: &str, device: &str) -> Answer {
        self.post("/v1/auth/refresh", json!({ "refresh_token": token }), &[("X-Device-ID", device)]).await
    }
}

/// The one HTTP client of the end-to-end tests: a test app and requests to
/// it that carry its API key. Test modules add their own flows in `impl`
/// blocks of their own (one crate: each name once).
pub struct Api {
    pub app: TestApp,
    pub http: reqwest::Client,
}

impl Api {
    /// An app on `backend` with a tenant of `policy`.
    pub async fn start(backend: Backend, policy: Policy) -> Self {
        Self::on(spawn_on(backend, policy).await)
    }

    /// A client for an app started elsewhere.
    pub fn on(app: TestApp) -> Self {
        let http = reqwest::Client::builder().timeout(std::time::Duration::from_secs(120)).build().expect("client");
        Self { app, http }
    }

    /// `user_id`'s audit trail (its first 200 events), newest first, as
    /// the back office reads it with the admin token.
    pub async fn audit(&self, user_id: &str) -> Vec<Value> {
        let admin = format!("Bearer {}", self.app.admin_token);
        let answer = self.get(&format!("/v1/users/{user_id}/audit?limit=200"), &[("Authorization", &admin)]).await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
        answer.body["events"].as_array().unwrap().clone()
    }
}

impl Flows for Api {
    async fn send(&self, method: Method, path: &str, body: Option<Value>, headers: &[(&str, &str)]) -> Answer {
        request(&self.http, &self.app, method, path, body, headers).await
    }

    fn clock(&self) -> &ManualClock {
        &self.app.clock
    }
}

/// A bare test app, one client per request.
impl Flows for TestApp {
    async fn send(&self, method: Method, path: &str, body: Option<Value>, headers: &[(&str, &str)]) -> Answer {
        request(&reqwest::Client::new(), self, method, path, body, headers).await
    }

    fn clock(&self) -> &ManualClock {
        &self.clock
    }
}

/// Sends a request to `app` with its API key, `headers` and a JSON `body`.
pub async fn request(
    http: &reqwest::Client,
    app: &TestApp,
    method: Method,
    path: &str,
    body: Option<Value>,
    headers: &[(&str, &str)],
) -> Answer {
    let mut request = http.request(method, app.url(path)).header("X-API-Key", &app.api_key);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    Answer::read(request.send().await.expect("request sent")).await
}

/// RFC 4648 base32 (upper case, no padding) to bytes.
pub fn base32(text: &str) -> Vec<u8> {
    let (mut bits, mut value, mut out) = (0u32, 0u64, Vec::new());
    for c in text.trim_end_matches('=').bytes() {
        let digit = match c {
            b'A'..=b'Z' => c - b'A',
            b'2'..=b'7' => c - b'2' + 26,
            _ => panic!("not base32: {text}"),
        };
        value = (value << 5) | u64::from(digit);
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((value >> bits) as u8);
        }
    }
    out
}

/// RFC 6238 with HMAC-SHA-1 (the tests' own, independent of the
/// implementation): the `digits`-digit code of time `unix`.
pub fn totp_at(secret: &[u8], unix: i64, digits: u32) -> String {
    let mut mac = <hmac::Hmac<sha1::Sha1> as hmac::Mac>::new_from_slice(secret).unwrap();
    hmac::Mac::update(&mut mac, &((unix / 30) as u64).to_be_bytes());
    let hash = hmac::Mac::finalize(mac).into_bytes();
    let offset = usize::from(hash[19] & 0x0f);
    let number = u32::from_be_bytes([hash[offset] & 0x7f, hash[offset + 1], hash[offset + 2], hash[offset + 3]]);
    format!("{:0width$}", number % 10u32.pow(digits), width = digits as usize)
}

/// One HTTP/1.1 request a test's receiver read by hand: its request line,
/// its headers (names lower-cased) and its body (by `Content-Length`).
pub struct Request {
    pub line: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// Reads one request from `socket` (a hook or webhook receiver, a stand-in
/// provider on 127.0.0.1; no `Content-Length`: no body); `None` when the
/// peer closes first.
pub async fn read_request(socket: &mut tokio::net::TcpStream) -> Option<Request> {
    use tokio::io::AsyncReadExt;
    let mut data = Vec::new();
    let mut buf = [0u8; 4096];
    let end = loop {
        let n = socket.read(&mut buf).await.ok()?;
        if n == 0 {
            return None;
        }
        data.extend_from_slice(&buf[..n]);
        if let Some(at) = data.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
    };
    let head = String::from_utf8_lossy(&data[..end]).into_owned();
    let line = head.lines().next().unwrap_or_default().to_owned();
    let headers: Vec<(String, String)> = head
        .lines()
        .skip(1)
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_owned()))
        .collect();
    let length: usize =
        headers.iter().find(|(n, _)| n == "content-length").and_then(|(_, v)| v.parse().ok()).unwrap_or(0);
    while data.len() < end + length {
        let n = socket.read(&mut buf).await.ok()?;
        if n == 0 {
            return None;
        }
        data.extend_from_slice(&buf[..n]);
    }
    Some(Request { line, headers, body: data[end..end + length].to_vec() })
}

/// The Python interpreter a test runs a tool we did not write with: `var`
/// when set, else the virtualenv `venv` the test command installs it into.
/// A missing interpreter fails the test loudly, never skips it.
pub fn python(var: &str, venv: &str) -> String {
    let python = std::env::var(var).unwrap_or_else(|_| format!("{}/{venv}/bin/python", env!("CARGO_MANIFEST_DIR")));
    assert!(
        std::path::Path::new(&python).exists(),
        "{python} does not exist: set {var}, or run `make test`, which installs {venv}"
    );
    python
}

/// Runs `script` with `python`, `args` and `stdin`.
pub fn run_python(python: &str, script: &str, args: &[&str], stdin: &[u8]) -> std::process::Output {
    use std::io::Write;
    let mut child = std::process::Command::new(python)
        .arg("-c")
        .arg(script)
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start Python");
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    child.wait_with_output().expect("Python ran")
}
