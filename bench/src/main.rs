//! Registrar's benchmark runner (`scripts/bench.sh` calls it; see
//! BENCHMARKS.md for what the figures mean).
//!
//! ```text
//! registrar-bench cpu OUT.json [LIVES]          CPU per endpoint, login vs argon2
//! registrar-bench dynamodb OUT.json MOTO_URL    round trips and capacity per endpoint
//! registrar-bench import OUT.json [MOTO_URL]    users imported per second (memory, moto)
//! registrar-bench pem                           a signing key for the cold-start runs
//! ```
//!
//! Both drive every route in-process through `shared::http::handle_route`,
//! the function each Lambda binary runs, on a manual clock.

mod flow;

use std::collections::BTreeMap;
use std::process::Command;
use std::sync::Arc;
use std::time::Instant;

use aws_config::BehaviorVersion;
use aws_sdk_dynamodb::config::{Credentials, Region};
use serde_json::{Value, json};
use shared::adapters::dynamodb::DynamoStore;
use shared::adapters::system::{ManualClock, OsRandom};
use shared::domain::password::{Password, hash_password};
use shared::domain::tokens::Claims;
use shared::ports::Store;

use flow::{Bench, Meter};
use shared::round_trips::{Counter, Tally};

/// Functions whose request hashes a password with argon2 (at least once).
const HASHING: &[&str] = &[
    "start-registration",
    "login",
    "complete-password-challenge",
    "reset-password",
    "change-password",
    "close-me",
    "create-user",
];

/// The process's CPU time (all threads, so argon2 on the blocking pool too).
fn cpu_ns() -> u64 {
    let mut t = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: clock_gettime writes one timespec, which `t` is.
    unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut t) };
    t.tv_sec as u64 * 1_000_000_000 + t.tv_nsec as u64
}

#[derive(Default)]
struct Timer {
    started: Option<(u64, Instant)>,
    samples: BTreeMap<&'static str, Vec<(u64, u64)>>,
}

impl Meter for Timer {
    fn start(&mut self, _: &'static str) {
        self.started = Some((cpu_ns(), Instant::now()));
    }
    fn stop(&mut self, function: &'static str) {
        let (cpu, wall) = self.started.take().expect("started");
        let sample = (cpu_ns() - cpu, wall.elapsed().as_nanos() as u64);
        self.samples.entry(function).or_default().push(sample);
    }
}

struct Ignore;

impl Meter for Ignore {
    fn start(&mut self, _: &'static str) {}
    fn stop(&mut self, _: &'static str) {}
}

fn percentile(sorted: &[u64], p: f64) -> u64 {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn summary(values: &[u64]) -> Value {
    let mut sorted = values.to_vec();
    sorted.sort_unstable();
    let us = |ns: u64| (ns as f64 / 1000.0 * 10.0).round() / 10.0;
    json!({
        "n": sorted.len(),
        "median_us": us(percentile(&sorted, 0.5)),
        "p90_us": us(percentile(&sorted, 0.9)),
        "min_us": us(sorted[0]),
    })
}

/// Debian's `argon2` (the reference implementation) at Registrar's
/// parameters; its own timing line, in seconds, per run.
fn reference_argon2(runs: usize) -> Value {
    let mut printed = Vec::new();
    let mut wall = Vec::new();
    for _ in 0..runs {
        let started = Instant::now();
        let output = Command::new("argon2")
            .args(["registrar-bench-salt", "-id", "-t", "2", "-k", "19456", "-p", "1", "-l", "32"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .and_then(|mut child| {
                use std::io::Write;
                child.stdin.take().expect("stdin").write_all(b"Orchid!Lantern58")?;
                child.wait_with_output()
            })
            .expect("Debian's argon2 command (apt-get install argon2)");
        wall.push(started.elapsed().as_nanos() as u64);
        let text = String::from_utf8_lossy(&output.stdout);
        let seconds: f64 = text
            .lines()
            .find_map(|line| line.trim().strip_suffix(" seconds").and_then(|s| s.trim().parse().ok()))
            .expect("argon2 prints its time in seconds");
        printed.push((seconds * 1e9) as u64);
    }
    json!({ "printed": summary(&printed), "process_wall": summary(&wall), "printed_mean_us": printed.iter().sum::<u64>() as f64 / runs as f64 / 1000.0 })
}

async fn cpu(out: &str, lives: u64) {
    let clock = Arc::new(ManualClock::at_test_start());
    let bench = Bench::new(None, clock).await;
    for n in 0..3 {
        bench.life(&mut Ignore, 1_000_000 + n).await;
    }
    let mut timer = Timer::default();
    for n in 0..lives {
        bench.life(&mut timer, n).await;
    }
    let called: Vec<&'static str> = timer.samples.keys().copied().collect();
    let not_covered = flow::functions_not_covered(&called);
    if !not_covered.is_empty() {
        eprintln!("cpu: not benchmarked (not in the life): {}", not_covered.join(", "));
    }

    // One RS256 signature (every answer with tokens makes one).
    let claims = Claims {
        iss: "http://registrar.test".into(),
        aud: "registrar".into(),
        sub: "usr_bench".into(),
        tid: "bench".into(),
        sid: "ses_bench".into(),
        typ: "client".into(),
        roles: Vec::new(),
        iat: 1_800_000_000,
        exp: 1_800_000_900,
        jti: "jti_bench".into(),
        auth_time: Some(1_800_000_000),
        amr: vec![],
        extra: Default::default(),
    };
    let mut sign_cpu = Vec::new();
    for _ in 0..200 {
        let started = cpu_ns();
        bench.app.keys.current().sign(&claims).expect("sign");
        sign_cpu.push(cpu_ns() - started);
    }

    // One login end to end (no 2FA), and one argon2 hash as the handlers
    // make it, alternately, so both see the same machine: the difference of
    // the medians is what a login costs beyond its hash.
    let password = Password::new("Orchid!Lantern58");
    let mut hash_cpu = Vec::new();
    let mut hash_wall = Vec::new();
    let mut login = Timer::default();
    let body = bench.plain_user(&mut Ignore).await;
    for _ in 0..3 {
        bench.login(&mut Ignore, &body).await;
    }
    for _ in 0..200 {
        let (cpu, wall) = (cpu_ns(), Instant::now());
        hash_password(&password, &OsRandom).await.expect("hash");
        hash_cpu.push(cpu_ns() - cpu);
        hash_wall.push(wall.elapsed().as_nanos() as u64);
        bench.login(&mut login, &body).await;
    }
    let login_samples = &login.samples["login"];
    let login_cpu: Vec<u64> = login_samples.iter().map(|s| s.0).collect();
    let login_wall: Vec<u64> = login_samples.iter().map(|s| s.1).collect();
    let reference = reference_argon2(30);

    let mut endpoints = serde_json::Map::new();
    for (function, samples) in &timer.samples {
        let cpu: Vec<u64> = samples.iter().map(|s| s.0).collect();
        let wall: Vec<u64> = samples.iter().map(|s| s.1).collect();
        endpoints.insert(
            (*function).to_owned(),
            json!({ "hashes": HASHING.contains(function), "cpu": summary(&cpu), "wall": summary(&wall) }),
        );
    }
    let report = json!({
        "lives": lives,
        "endpoints": endpoints,
        "not_covered": not_covered,
        "argon2_in_process": { "cpu": summary(&hash_cpu), "wall": summary(&hash_wall) },
        "argon2_reference": reference,
        "login": { "cpu": summary(&login_cpu), "wall": summary(&login_wall) },
        "rs256_sign": { "cpu": summary(&sign_cpu) },
        // Paired: each login against the hash made just before it, so the
        // machine's drift (argon2's CPU time spreads over milliseconds)
        // cancels out; the median of the pairs, not the pair of medians.
        "login_minus_hash_cpu_us": paired_difference_us(&login_cpu, &hash_cpu),
    });
    std::fs::write(out, serde_json::to_string_pretty(&report).expect("JSON")).expect("write the report");
    println!("cpu: {} functions over {lives} lives written to {out}", endpoints.len());
}

struct Tallies {
    counter: Counter,
    tallies: BTreeMap<&'static str, Vec<Tally>>,
}

impl Meter for Tallies {
    fn start(&mut self, _: &'static str) {
        self.counter.take();
    }
    fn stop(&mut self, function: &'static str) {
        self.tallies.entry(function).or_default().push(self.counter.take());
    }
}

async fn dynamodb(out: &str, moto: &str) {
    let counter = Counter::default();
    let sdk = aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new("eu-central-1"))
        .credentials_provider(Credentials::new("bench", "bench", None, None, "bench"))
        .endpoint_url(moto)
        .load()
        .await;
    let config = aws_sdk_dynamodb::config::Builder::from(&sdk).interceptor(counter.clone()).build();
    let client = aws_sdk_dynamodb::Client::from_conf(config);
    let clock = Arc::new(ManualClock::at_test_start());
    let table = format!("registrar-bench-{}", std::process::id());
    let store = DynamoStore::new(client, table.clone(), clock.clone());
    store.create_table().await.expect("create the table in moto");
    let store: Arc<dyn Store> = Arc::new(store);
    // The event dispatcher (the local stand-in for the stream's function)
    // reads through a client the counter does not see: its reads are not a
    // call's.
    let events: Arc<dyn Store> = Arc::new(DynamoStore::new(aws_sdk_dynamodb::Client::new(&sdk), table, clock.clone()));
    let mut bench = Bench::with_events_store(Some(store), Some(events), clock.clone()).await;
    bench.warm_keys = true;
    let mut meter = Tallies { counter, tallies: BTreeMap::new() };
    for n in 0..3 {
        bench.life(&mut meter, n).await;
    }
    let body = bench.plain_user(&mut Ignore).await;
    let mut plain = Tallies { counter: meter.counter.clone(), tallies: BTreeMap::new() };
    bench.login(&mut plain, &body).await;

    let describe = |tally: &Tally| {
        json!({
            "round_trips": tally.round_trips,
            "operations": tally.operations,
            "read_units": tally.read_units,
            "write_units": tally.write_units,
            // Each round trip's operation and partition keys (the capacity
            // model of scripts/bench/report.py groups them by key class).
            "trace": tally.trace,
        })
    };
    let mut endpoints = serde_json::Map::new();
    let mut lives = serde_json::Map::new();
    for (function, tallies) in &meter.tallies {
        // The last life's calls (the first may meet an empty table).
        let per_life = tallies.len() / 3;
        let last: Vec<Value> = tallies[tallies.len() - per_life..].iter().map(describe).collect();
        endpoints.insert((*function).to_owned(), json!(last));
        // Every life's traces: a partition key two users' lives both name
        // is shared by the tenant's users (the capacity model's hot keys).
        let traces: Vec<Vec<&Vec<String>>> =
            tallies.chunks(per_life.max(1)).map(|life| life.iter().map(|t| &t.trace).collect()).collect();
        lives.insert((*function).to_owned(), json!(traces));
    }
    // What a cold key cache adds: the first keyed request of an instance,
    // or the first after the cache's minute.
    clock.advance(chrono::Duration::seconds(61));
    meter.counter.take();
    bench.warm_up().await;
    let cold = meter.counter.take();
    let report = json!({
        "endpoints": endpoints,
        "plain_login": describe(&plain.tallies["login"][0]),
        "traces_by_life": lives,
        "cold_api_key_cache": describe(&cold),
    });
    std::fs::write(out, serde_json::to_string_pretty(&report).expect("JSON")).expect("write the report");
    println!("dynamodb: {} functions written to {out}", endpoints.len());
}

/// Users of the import benchmark on each store: enough batches for a
/// steady rate, few enough for moto (one HTTP call per write).
const IMPORT_USERS_MEMORY: usize = 5_000;
const IMPORT_USERS_MOTO: usize = 500;

/// A table of its own in moto, behind Registrar's DynamoDB adapter.
async fn moto_store(moto: &str, clock: Arc<ManualClock>) -> Arc<dyn Store> {
    let sdk = aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new("eu-central-1"))
        .credentials_provider(Credentials::new("bench", "bench", None, None, "bench"))
        .endpoint_url(moto)
        .load()
        .await;
    let client = aws_sdk_dynamodb::Client::new(&sdk);
    let table = format!("registrar-bench-import-{}", std::process::id());
    let store = DynamoStore::new(client, table, clock);
    store.create_table().await.expect("create the table in moto");
    Arc::new(store)
}

/// Imports `count` users through `POST /v1/users/import` (the handler the
/// function runs, batches of 100, as `registrar-admin user import` sends
/// them): each line as an export writes it, with Registrar's argon2id hash
/// (an import parses a hash, it never verifies one). The rate, wall clock.
async fn import_rate(store: Option<Arc<dyn Store>>, clock: Arc<ManualClock>, count: usize) -> Value {
    let bench = Bench::new(store, clock).await;
    let hash = hash_password(&Password::new("Orchid!Lantern58"), &OsRandom).await.expect("an argon2id hash");
    let batch = shared::domain::users::IMPORT_BATCH;
    let mut batches = Vec::new();
    let started = Instant::now();
    for first in (0..count).step_by(batch) {
        let users: Vec<Value> = (first..(first + batch).min(count))
            .map(|n| {
                json!({
                    "email": format!("user{n}@import.bench"), "first_name": "Imp", "last_name": "Orted",
                    "user_type": "consumer", "password_hash": hash, "email_verified": true,
                    "created_at": "2019-05-01T10:00:00Z", "terms_accepted": true, "privacy_policy_accepted": true,
                })
            })
            .collect();
        let size = users.len();
        let batch_started = Instant::now();
        let answer = bench.import(&mut Ignore, users).await;
        batches.push(batch_started.elapsed().as_nanos() as u64);
        assert_eq!(answer.status, 200, "{}", answer.body);
        assert_eq!(answer.body["imported"], size, "{}", answer.body);
    }
    let seconds = started.elapsed().as_secs_f64();
    json!({
        "users": count,
        "batch": batch,
        "seconds": (seconds * 1000.0).round() / 1000.0,
        "users_per_s": (count as f64 / seconds).round(),
        "batch_wall": summary(&batches),
    })
}

async fn import(out: &str, moto: Option<&str>) {
    let mut report = serde_json::Map::new();
    let clock = Arc::new(ManualClock::at_test_start());
    report.insert("memory".into(), import_rate(None, clock, IMPORT_USERS_MEMORY).await);
    if let Some(moto) = moto {
        let clock = Arc::new(ManualClock::at_test_start());
        let store = moto_store(moto, clock.clone()).await;
        report.insert("moto".into(), import_rate(Some(store), clock, IMPORT_USERS_MOTO).await);
    }
    report.insert("cores".into(), std::thread::available_parallelism().map_or(0, |n| n.get()).into());
    std::fs::write(out, serde_json::to_string_pretty(&Value::Object(report)).expect("JSON")).expect("write the report");
    println!("import: written to {out}");
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    match args.iter().map(String::as_str).collect::<Vec<_>>()[1..] {
        ["cpu", out] => runtime.block_on(cpu(out, 100)),
        ["cpu", out, lives] => runtime.block_on(cpu(out, lives.parse().expect("LIVES is a number"))),
        ["dynamodb", out, moto] => runtime.block_on(dynamodb(out, moto)),
        ["import", out] => runtime.block_on(import(out, None)),
        ["import", out, moto] => runtime.block_on(import(out, Some(moto))),
        // A fresh RSA signing key (PEM) for the cold-start measurements.
        ["pem"] => print!("{}", shared::domain::tokens::generate_pem().expect("RSA key generation")),
        _ => {
            eprintln!(
                "usage: registrar-bench cpu OUT.json [LIVES] | dynamodb OUT.json MOTO_URL | import OUT.json [MOTO_URL] | pem"
            );
            std::process::exit(2);
        }
    }
}

/// The median of `a[i] - b[i]` (nanoseconds, signed), in microseconds.
fn paired_difference_us(a: &[u64], b: &[u64]) -> f64 {
    let mut differences: Vec<i64> = a.iter().zip(b).map(|(a, b)| *a as i64 - *b as i64).collect();
    differences.sort_unstable();
    differences.get(differences.len() / 2).map_or(f64::NAN, |d| *d as f64 / 1000.0)
}
