//! Helpers shared by the workspace's end-to-end tests.
#![allow(dead_code)] // each test file uses a different part

use std::sync::Arc;

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_dynamodb::config::{Credentials, SharedCredentialsProvider};
use shared::adapters::dynamodb::DynamoStore;
use shared::adapters::system::ManualClock;
use shared::ports::Store;

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
pub async fn moto_state() -> serde_json::Value {
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
    pub status: reqwest::StatusCode,
    pub headers: reqwest::header::HeaderMap,
    /// The JSON body (`null` when empty).
    pub body: serde_json::Value,
}

impl Answer {
    /// Reads a response; a non-empty body must be JSON.
    pub async fn read(response: reqwest::Response) -> Self {
        let (status, headers) = (response.status(), response.headers().clone());
        let text = response.text().await.expect("a body");
        let body = if text.is_empty() {
            serde_json::Value::Null
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
pub async fn spawn_on(backend: Backend, policy: shared::domain::tenant::Policy) -> shared::testing::TestApp {
    let clock = Arc::new(ManualClock::at_test_start());
    let store = store_for(backend, clock.clone()).await;
    shared::testing::spawn_app(shared::testing::TestOptions { policy, store, senders: None, clock: Some(clock) }).await
}

/// The one HTTP client of the end-to-end tests: a test app and requests to
/// it that carry its API key. Test files add their own flows in `impl`
/// blocks of their own.
pub struct Api {
    pub app: shared::testing::TestApp,
    pub http: reqwest::Client,
}

impl Api {
    /// An app on `backend` with a tenant of `policy`.
    pub async fn start(backend: Backend, policy: shared::domain::tenant::Policy) -> Self {
        Self::on(spawn_on(backend, policy).await)
    }

    /// A client for an app started elsewhere.
    pub fn on(app: shared::testing::TestApp) -> Self {
        let http = reqwest::Client::builder().timeout(std::time::Duration::from_secs(120)).build().expect("client");
        Self { app, http }
    }

    /// Sends a request with the app's API key, `headers` and a JSON `body`.
    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<serde_json::Value>,
        headers: &[(&str, &str)],
    ) -> Answer {
        request(&self.http, &self.app, method, path, body, headers).await
    }

    pub async fn post(&self, path: &str, body: serde_json::Value, headers: &[(&str, &str)]) -> Answer {
        self.send(reqwest::Method::POST, path, Some(body), headers).await
    }

    pub async fn get(&self, path: &str, headers: &[(&str, &str)]) -> Answer {
        self.send(reqwest::Method::GET, path, None, headers).await
    }

    /// Signs up with the e-mail alone (a tenant that requires no phone and
    /// whose sandbox code is `code`); the completion's tokens.
    pub async fn sign_up_tokens(&self, email: &str, password: &str, code: &str) -> serde_json::Value {
        let body = serde_json::json!({
            "email": email, "password": password, "first_name": "Anna", "last_name": "Muster",
            "terms_accepted": true, "privacy_policy_accepted": true,
        });
        let started = self.post("/v1/registrations", body, &[]).await;
        assert_eq!(started.status, reqwest::StatusCode::ACCEPTED, "{}", started.body);
        let id = started.body["registration_id"].as_str().expect("a registration").to_owned();
        let code = serde_json::json!({ "code": code });
        let done = self.post(&format!("/v1/registrations/{id}/email/verify"), code, &[]).await;
        assert_eq!(done.status, reqwest::StatusCode::CREATED, "{}", done.body);
        done.body
    }
}

/// Sends a request to `app` with its API key, `headers` and a JSON `body`.
pub async fn request(
    http: &reqwest::Client,
    app: &shared::testing::TestApp,
    method: reqwest::Method,
    path: &str,
    body: Option<serde_json::Value>,
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
