//! No enumeration by timing (issue 11): unknown users and addresses answer
//! as slowly as known ones at sign-up, login, forgot and reset, compared by
//! the medians of wall-clock times. A test binary of its own: beside the
//! other suites (fifty parallel argon2 logins, DynamoDB tables of thousands
//! of items on moto) these comparisons would measure the neighbours.

mod common;

use std::sync::Arc;
use std::time::{Duration as StdDuration, Instant};

use chrono::Duration;
use reqwest::StatusCode;
use serde_json::json;
use shared::adapters::system::ManualClock;
use shared::domain::tenant::{IpLimits, Policy};
use shared::testing::{TestOptions, spawn_app};

use common::{Answer, Api, Backend, CODE, Flows, PASSWORD};

/// A tenant that requires no phone, its codes the sandbox's.
fn policy() -> Policy {
    Policy { phone_required: false, sandbox_code: Some(CODE.into()), ..Policy::default() }
}

/// Unknown users cost one argon2 verification too: compare median times.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_timing_unknown_versus_known_users() {
    let api = Api::start(Backend::Memory, policy()).await;
    api.sign_up("timed@example.com").await;
    let mut known = Vec::new();
    let mut unknown = Vec::new();
    for round in 0..12 {
        // Alternate, so load on the machine hits both alike.
        let started = Instant::now();
        api.login("timed@example.com", "Wr0ng!Pass", "d").await;
        known.push(started.elapsed());
        let started = Instant::now();
        api.login(&format!("nobody{round}@example.com"), "Wr0ng!Pass", "d").await;
        unknown.push(started.elapsed());
        api.advance(3600); // past every lock and rate window
    }
    let median = |mut v: Vec<StdDuration>| {
        v.sort();
        v[v.len() / 2]
    };
    let (k, u) = (median(known), median(unknown));
    let ratio = k.as_secs_f64() / u.as_secs_f64();
    assert!((0.5..2.0).contains(&ratio), "known {k:?} vs unknown {u:?}");
}

/// How long `answer` took, and what it was.
async fn timed(answer: impl std::future::Future<Output = Answer>) -> (StdDuration, Answer) {
    let started = Instant::now();
    let answer = answer.await;
    (started.elapsed(), answer)
}

/// A mailer that takes 80 ms, like SES on a slow day.
struct SlowMailer(Arc<dyn shared::ports::Mailer>);

#[async_trait::async_trait]
impl shared::ports::Mailer for SlowMailer {
    async fn send_email(&self, email: &shared::ports::Email) -> Result<(), shared::ports::SendError> {
        tokio::time::sleep(StdDuration::from_millis(80)).await;
        self.0.send_email(email).await
    }
}

/// No enumeration by timing (issue 11): with a mailer that takes 80 ms, an
/// unknown address is not measurably faster than a known one at sign-up,
/// login, forgot and reset. Medians of rounds that alternate the order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_addresses_do_not_answer_faster_with_a_slow_mailer() {
    let clock = Arc::new(ManualClock::at_test_start());
    let outbox_dir = std::env::temp_dir().join(common::unique("slow-outbox"));
    let outbox = Arc::new(shared::adapters::outbox::Outbox::new(outbox_dir, clock.clone()));
    let ip_limits = IpLimits { signups_per_hour: 10_000, logins_per_5_min: 10_000, resets_per_hour: 10_000 };
    let policy = Policy { phone_required: false, sandbox_code: Some(CODE.into()), ip_limits, ..Policy::default() };
    let senders = Some((Arc::new(SlowMailer(outbox.clone())) as Arc<dyn shared::ports::Mailer>, outbox as _));
    let app =
        spawn_app(TestOptions { policy, store: None, senders, clock: Some(clock), ..TestOptions::default() }).await;
    let api = Api::on(app);
    api.sign_up("known@example.com").await;

    let mut gaps: Vec<(&str, Vec<f64>)> = Vec::new();
    for flow in ["sign-up", "login", "forgot", "reset"] {
        let mut known_times = Vec::new();
        let mut unknown_times = Vec::new();
        for round in 0..9 {
            api.advance(3601); // past the per-address send limits
            let request = |email: String| -> std::pin::Pin<Box<dyn std::future::Future<Output = Answer> + Send + '_>> {
                let api = &api;
                match flow {
                    "sign-up" => Box::pin(async move {
                        let body = json!({ "email": email, "password": PASSWORD, "first_name": "T", "last_name": "T",
                                           "terms_accepted": true, "privacy_policy_accepted": true });
                        api.post("/v1/registrations", body, &[]).await
                    }),
                    "login" => Box::pin(async move { api.login(&email, "Wr0ng!Pass", "d").await }),
                    "forgot" => {
                        Box::pin(
                            async move { api.post("/v1/auth/password/forgot", json!({ "email": email }), &[]).await },
                        )
                    }
                    _ => Box::pin(async move {
                        let body = json!({ "email": email, "code": "999999", "new_password": "N3w!Secret9" });
                        api.post("/v1/auth/password/reset", body, &[]).await
                    }),
                }
            };
            let unknown = format!("nobody{round}@example.com");
            let ((a, answer_a), (b, answer_b)) = if round % 2 == 0 {
                let k = timed(request("known@example.com".into())).await;
                (k, timed(request(unknown)).await)
            } else {
                let u = timed(request(unknown)).await;
                (timed(request("known@example.com".into())).await, u)
            };
            assert_eq!(answer_a.status, answer_b.status, "{flow}: {} / {}", answer_a.body, answer_b.body);
            known_times.push(a.as_secs_f64() * 1000.0);
            unknown_times.push(b.as_secs_f64() * 1000.0);
            // A login's failures must not lock the account mid-measurement.
            if flow == "login" {
                api.advance(16 * 60);
            }
        }
        let median = |mut v: Vec<f64>| {
            v.sort_by(f64::total_cmp);
            v[v.len() / 2]
        };
        let (known, unknown) = (median(known_times), median(unknown_times));
        gaps.push((flow, vec![known, unknown]));
    }
    for (flow, medians) in &gaps {
        let (known, unknown) = (medians[0], medians[1]);
        assert!(unknown + 30.0 >= known, "{flow}: unknown {unknown:.1} ms vs known {known:.1} ms (all: {gaps:?})");
    }
}

fn median(mut samples: Vec<StdDuration>) -> StdDuration {
    samples.sort();
    samples[samples.len() / 2]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_up_and_forgot_take_the_same_time_for_taken_and_new_addresses() {
    let app = common::spawn_on(Backend::Memory, policy()).await;
    app.sign_up("taken@example.com").await;
    let (mut taken, mut fresh, mut known, mut unknown) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for round in 0..9 {
        for (email, samples) in [("taken@example.com", &mut taken), (&*format!("new{round}@example.com"), &mut fresh)] {
            let started = Instant::now();
            let status = app
                .post(
                    "/v1/registrations",
                    json!({
                        "email": email, "password": PASSWORD, "first_name": "F", "last_name": "L",
                        "terms_accepted": true, "privacy_policy_accepted": true,
                    }),
                    &[],
                )
                .await
                .status;
            samples.push(started.elapsed());
            assert_eq!(status, StatusCode::ACCEPTED);
        }
        for (email, samples) in
            [("taken@example.com", &mut known), (&*format!("nobody{round}@example.com"), &mut unknown)]
        {
            let started = Instant::now();
            let status = app.post("/v1/auth/password/forgot", json!({ "email": email }), &[]).await.status;
            samples.push(started.elapsed());
            assert_eq!(status, StatusCode::ACCEPTED);
        }
        app.clock.advance(Duration::hours(1)); // past every limit and cooldown
    }
    let ratio = |a: Vec<StdDuration>, b: Vec<StdDuration>| median(a).as_secs_f64() / median(b).as_secs_f64();
    let sign_up_ratio = ratio(taken, fresh);
    let forgot_ratio = ratio(known, unknown);
    assert!((0.5..2.0).contains(&sign_up_ratio), "sign-up taken/new: {sign_up_ratio}");
    assert!((0.33..3.0).contains(&forgot_ratio), "forgot known/unknown: {forgot_ratio}");
}
