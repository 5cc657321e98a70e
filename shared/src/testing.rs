//! Test support (feature `test-support`): an app on port 0 with a manual
//! clock, fault-injecting store and senders, and helpers to read the outbox —
//! in the manner of zero-to-production's `spawn_app`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use crate::adapters::faulty::{FaultyStore, FlakySender};
use crate::adapters::memory::MemoryStore;
use crate::adapters::outbox::Outbox;
use crate::adapters::system::{ManualClock, OsRandom};
use crate::app::{App, Secret, Settings};
use crate::domain::tenant::{Policy, Tenant};
use crate::domain::tokens::Keyring;
use crate::local::seed_tenant;
use crate::ports::{Mailer, Store, Texter};

/// With `REGISTRAR_TEST_LOG_DIR` set (the test command sets it), every test
/// process that builds an app writes its logs there (Registrar's own at debug
/// level, its dependencies' at info as in Lambda) in the JSON format Lambda uses, one file per process; `scripts/scan-logs.py` then
/// searches them for secrets. Without it nothing is installed, so a test may
/// install its own subscriber.
pub fn capture_logs() {
    static INSTALLED: OnceLock<()> = OnceLock::new();
    INSTALLED.get_or_init(|| {
        let Some(dir) = std::env::var_os("REGISTRAR_TEST_LOG_DIR").map(PathBuf::from) else { return };
        let binary = std::env::current_exe()
            .ok()
            .and_then(|path| path.file_stem().map(|stem| stem.to_string_lossy().into_owned()))
            .unwrap_or_else(|| "test".into());
        let file = std::fs::create_dir_all(&dir)
            .and_then(|()| std::fs::File::create(dir.join(format!("{binary}-{}.jsonl", std::process::id()))))
            .expect("REGISTRAR_TEST_LOG_DIR must be a writable folder");
        // Another subscriber already installed (e.g. by a test) keeps its place.
        let _ = tracing_subscriber::fmt()
            .json()
            .with_env_filter("info,shared=debug,registrar=debug")
            .with_writer(std::sync::Mutex::new(file))
            .try_init();
    });
}

/// The webhook secret test apps sign their hook calls with.
pub const TEST_WEBHOOK_SECRET: &str = "whsec_dGVzdCB3ZWJob29rIHNlY3JldCBvZiAzMiBieXRlcyE=";

/// How the test apps' dispatcher retries an event: soon, and often.
pub const TEST_EVENT_BACKOFF: crate::domain::events::Backoff = crate::domain::events::Backoff {
    first: std::time::Duration::from_millis(50),
    max: std::time::Duration::from_millis(400),
};

/// One RSA key per test process (generating one takes a moment).
pub fn test_keys() -> Arc<Keyring> {
    static KEYS: OnceLock<Arc<Keyring>> = OnceLock::new();
    KEYS.get_or_init(|| Arc::new(Keyring::generate().expect("RSA key generation"))).clone()
}

/// A running app and handles on everything a test may poke.
pub struct TestApp {
    pub app: Arc<App>,
    pub addr: SocketAddr,
    pub clock: Arc<ManualClock>,
    pub store: Arc<FaultyStore>,
    pub sender: Arc<FlakySender>,
    pub outbox: PathBuf,
    pub api_key: String,
    /// The tenant's admin token (`Authorization: Bearer adm_…`).
    pub admin_token: String,
    pub tenant: Tenant,
    _server: tokio::task::JoinHandle<()>,
}

/// What a test app starts with.
#[derive(Default)]
pub struct TestOptions {
    pub policy: Policy,
    /// The store under the fault injector; in-memory when `None`.
    pub store: Option<Arc<dyn Store>>,
    /// Mailer and texter under the fault injector; the outbox when `None`.
    pub senders: Option<(Arc<dyn Mailer>, Arc<dyn Texter>)>,
    /// The clock (give the one the store was built with); a new one when `None`.
    pub clock: Option<Arc<ManualClock>>,
    /// The AWS configuration of the Lambda client that calls hooks by ARN
    /// (a test points it at a scripted endpoint); aws-config's default
    /// chain when `None`.
    pub lambda: Option<aws_config::SdkConfig>,
    /// The store the in-process event dispatcher reads tenants from (the
    /// app's when `None`): the round-trip test gives it a client of its
    /// own, so its reads are not counted as a request's.
    pub events_store: Option<Arc<dyn Store>>,
}

/// An app built for a test, with the handles a test steers it by.
pub struct BuiltApp {
    pub app: Arc<App>,
    /// The app's clock: tests move time with it.
    pub clock: Arc<ManualClock>,
    /// The app's store, under the fault injector.
    pub store: Arc<FaultyStore>,
    /// The app's mailer and texter, under the fault injector.
    pub sender: Arc<FlakySender>,
    /// The outbox folder the senders write to (unless others were given).
    pub outbox: PathBuf,
}

/// Builds an app on the given ports (clock manual, senders into an outbox
/// folder of its own) without serving it.
pub async fn build_app(options: TestOptions) -> BuiltApp {
    capture_logs();
    let clock = options.clock.unwrap_or_else(|| Arc::new(ManualClock::at_test_start()));
    let inner: Arc<dyn Store> = options.store.unwrap_or_else(|| Arc::new(MemoryStore::new(clock.clone())));
    let store = Arc::new(FaultyStore::new(inner.clone()));
    let outbox_dir = std::env::temp_dir().join(format!("registrar-test-{}", uuid::Uuid::now_v7().simple()));
    let outbox = Arc::new(Outbox::new(outbox_dir.clone(), clock.clone()));
    let (mailer, texter): (Arc<dyn Mailer>, Arc<dyn Texter>) =
        options.senders.unwrap_or_else(|| (outbox.clone(), outbox));
    let sender = Arc::new(FlakySender::new(mailer, texter));
    let app = App {
        store: store.clone(),
        mailer: sender.clone(),
        texter: sender.clone(),
        clock: clock.clone(),
        random: Arc::new(OsRandom),
        keys: Arc::new(crate::app::Keys::fixed(test_keys())),
        settings: Settings {
            issuer: "http://registrar.test".into(),
            audience: "registrar".into(),
            code_key: Some(Secret::new(b"test pepper of at least 32 bytes!!".to_vec())),
            refresh_key: Some(Secret::new(b"a refresh-successor key for tests".to_vec())),
            secure_cookies: true,
            api_key_cache_secs: 60,
            sandbox_codes: true,
        },
        api_keys: Default::default(),
        cors_origins: Default::default(),
        send_time: Default::default(),
        hooks: Arc::new(crate::adapters::hook_transport::HookTransport {
            http: crate::adapters::webhook::WebhookCaller::new(
                Some(crate::adapters::webhook::WebhookSecret::parse(TEST_WEBHOOK_SECRET).expect("test secret")),
                // Receivers check the signature's time against their own
                // clock: the transport's time is the system's, not the test's.
                Arc::new(crate::adapters::system::SystemClock),
            )
            .expect("TLS roots"),
            lambda: crate::adapters::lambda_hook::LambdaHookCaller::lazy(options.lambda),
        }),
        providers: Arc::new(crate::adapters::provider_http::ProviderHttp::new(None).expect("TLS roots")),
    };
    // Events of committed transactions go to the in-process dispatcher,
    // which reads tenants from the store under the fault injector's (its
    // reads are not the requests' round trips) and retries quickly.
    let (events, feed) = tokio::sync::mpsc::unbounded_channel();
    let dispatcher = App { store: options.events_store.unwrap_or(inner), ..app.clone() };
    tokio::spawn(crate::domain::events::run_dispatcher(dispatcher, feed, TEST_EVENT_BACKOFF));
    let app =
        Arc::new(App { store: Arc::new(crate::adapters::event_feed::EventFeed::new(store.clone(), events)), ..app });
    BuiltApp { app, clock, store, sender, outbox: outbox_dir }
}

/// Starts the local API on 127.0.0.1:0 with a tenant of `options.policy`.
pub async fn spawn_app(options: TestOptions) -> TestApp {
    let policy = options.policy.clone();
    let BuiltApp { app, clock, store, sender, outbox } = build_app(options).await;
    let tenant = Tenant { id: format!("t{}", uuid::Uuid::now_v7().simple()), name: "Test".into(), policy };
    let api_key = format!("sk_test_{}", app.random_token(16));
    seed_tenant(&app, &tenant, &api_key).await.expect("seed tenant");
    let admin_token = crate::local::seed_admin_token(&app, &tenant, None).await.expect("seed admin token");
    let (addr, server) =
        crate::http::server::spawn(app.clone(), "127.0.0.1:0".parse().expect("addr")).await.expect("bind port 0");
    TestApp { app, addr, clock, store, sender, outbox, api_key, admin_token, tenant, _server: server }
}

/// Every outbox message, oldest first.
pub fn outbox_messages(dir: &Path) -> Vec<serde_json::Value> {
    let mut names: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|entries| entries.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    names.sort();
    names.iter().filter_map(|p| std::fs::read(p).ok()).filter_map(|bytes| serde_json::from_slice(&bytes).ok()).collect()
}

/// The code in the newest outbox message to `to`, if that message has one.
pub fn latest_code(dir: &Path, to: &str) -> Option<String> {
    let message = outbox_messages(dir).into_iter().rev().find(|m| m["to"] == to)?;
    let text = message["text"].as_str()?;
    let digits: Vec<&str> = text.split(|c: char| !c.is_ascii_digit()).filter(|w| w.len() == 6).collect();
    digits.first().map(|d| (*d).to_owned())
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    pub fn latest_code(&self, to: &str) -> Option<String> {
        latest_code(&self.outbox, to)
    }

    pub fn messages_to(&self, to: &str) -> Vec<serde_json::Value> {
        outbox_messages(&self.outbox).into_iter().filter(|m| m["to"] == to).collect()
    }
}
