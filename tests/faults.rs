//! A store, SES or SNS failure injected at each step of the login, 2FA,
//! password-reset and status-change flows answers 503, leaves nothing
//! half-written, and the flow can be resumed. Also: sign-up and
//! forgot-password take the same time whether or not the address exists
//! (medians over repeated runs).

mod common;

use common::Backend;

use std::sync::Arc;
use std::time::{Duration as StdDuration, Instant};

use chrono::Duration;
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use shared::domain::tenant::Policy;
use shared::testing::{TestApp, TestOptions, spawn_app};

const CODE: &str = "123456";
const PASSWORD: &str = "Str0ng!Pass";

async fn app_on(backend: Backend) -> TestApp {
    let clock = Arc::new(shared::adapters::system::ManualClock::at_test_start());
    let store = common::store_for(backend, clock.clone()).await;
    let policy = Policy { phone_required: false, sandbox_code: Some(CODE.into()), ..Policy::default() };
    spawn_app(TestOptions { policy, store, senders: None, clock: Some(clock) }).await
}

async fn app() -> TestApp {
    app_on(Backend::Memory).await
}

on_both_stores!(
    app_on;
    login_survives_a_store_failure_at_every_step,
    two_factor_login_resumes_after_sms_and_store_failures,
    password_reset_resumes_after_mail_and_store_failures,
    a_status_change_is_all_or_nothing,
);

async fn post(app: &TestApp, path: &str, body: Value, headers: &[(&str, &str)]) -> (StatusCode, Value) {
    let answer = common::request(&Client::new(), app, reqwest::Method::POST, path, Some(body), headers).await;
    (answer.status, answer.body)
}

async fn sign_up(app: &TestApp, email: &str) -> Value {
    let (_, started) = post(
        app,
        "/v1/registrations",
        json!({
            "email": email, "password": PASSWORD, "first_name": "F", "last_name": "L",
            "terms_accepted": true, "privacy_policy_accepted": true,
        }),
        &[],
    )
    .await;
    let id = started["registration_id"].as_str().unwrap().to_owned();
    post(app, &format!("/v1/registrations/{id}/email/verify"), json!({ "code": CODE }), &[]).await.1
}

/// Runs `step` with the store failing from its first call, then its second,
/// … until it passes; every failure must be a 503 problem. Returns how many
/// failures there were.
async fn fail_each_store_call<F, Fut>(app: &TestApp, advance_secs: i64, mut step: F) -> usize
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = (StatusCode, Value)>,
{
    for calls_before_failure in 0..30 {
        app.store.fail_after(calls_before_failure);
        let (status, body) = step().await;
        app.store.heal();
        if status.is_success() {
            return calls_before_failure as usize;
        }
        assert_eq!((status, body["code"].as_str()), (StatusCode::SERVICE_UNAVAILABLE, Some("unavailable")), "{body}");
        // Let limits started before the failure pass, where the flow has them.
        app.clock.advance(Duration::seconds(advance_secs));
    }
    panic!("the step never passed");
}

async fn login_survives_a_store_failure_at_every_step(app: TestApp) {
    sign_up(&app, "login@example.com").await;
    let login = || {
        post(
            &app,
            "/v1/auth/login",
            json!({ "username": "login@example.com", "password": PASSWORD }),
            &[("X-Device-ID", "d")],
        )
    };
    let failures = fail_each_store_call(&app, 61, login).await;
    assert!(failures >= 4, "key, tenant, limit, lock, user, transaction: {failures}");
    // Failed attempts did not count as wrong passwords.
    let (_, user) = post(
        &app,
        "/v1/auth/login",
        json!({ "username": "login@example.com", "password": "Wr0ng!Pass" }),
        &[("X-Device-ID", "d")],
    )
    .await;
    assert!(user["code"] == "invalid_credentials");
}

async fn two_factor_login_resumes_after_sms_and_store_failures(app: TestApp) {
    let tokens = sign_up(&app, "mfa@example.com").await;
    let bearer = format!("Bearer {}", tokens["access_token"].as_str().unwrap());
    post(
        &app,
        "/v1/me/credentials",
        json!({ "type": "phone", "value": "+41790000001" }),
        &[("Authorization", &bearer)],
    )
    .await;
    post(&app, "/v1/me/credentials/verify", json!({ "type": "phone", "code": CODE }), &[("Authorization", &bearer)])
        .await;
    app.sender.fail_sms(true);
    let login = || {
        post(
            &app,
            "/v1/auth/login",
            json!({ "username": "mfa@example.com", "password": PASSWORD }),
            &[("X-Device-ID", "d")],
        )
    };
    let (status, body) = login().await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::SERVICE_UNAVAILABLE, Some("unavailable")));
    app.sender.fail_sms(false);
    // No cooldown from the failed send: the next login texts a code at once.
    let (status, challenge) = login().await;
    assert_eq!(status, StatusCode::OK, "{challenge}");
    let verify = || {
        post(
            &app,
            "/v1/auth/mfa",
            json!({ "challenge_id": challenge["challenge_id"], "code": CODE }),
            &[("X-Device-ID", "d")],
        )
    };
    fail_each_store_call(&app, 0, verify).await;
}

async fn password_reset_resumes_after_mail_and_store_failures(app: TestApp) {
    sign_up(&app, "reset@example.com").await;
    app.sender.fail_email(true);
    let forgot = || post(&app, "/v1/auth/password/forgot", json!({ "email": "reset@example.com" }), &[]);
    let (status, _) = forgot().await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    app.sender.fail_email(false);
    fail_each_store_call(&app, 3600, forgot).await;
    let reset = || {
        post(
            &app,
            "/v1/auth/password/reset",
            json!({ "email": "reset@example.com", "code": CODE, "new_password": "N3w!Secret" }),
            &[],
        )
    };
    let failures = fail_each_store_call(&app, 0, reset).await;
    assert!(failures >= 4);
    let (status, _) = post(
        &app,
        "/v1/auth/login",
        json!({ "username": "reset@example.com", "password": "N3w!Secret" }),
        &[("X-Device-ID", "d")],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "the reset took effect exactly once");
}

async fn a_status_change_is_all_or_nothing(app: TestApp) {
    let tokens = sign_up(&app, "status@example.com").await;
    let id = tokens["user_id"].as_str().unwrap().to_owned();
    let admin = format!("Bearer {}", app.admin_token);
    let path = format!("/v1/users/{id}/status");
    let headers = [("Authorization", admin.as_str())];
    let suspend = || post(&app, &path, json!({ "status": "S", "reason": "check" }), &headers);
    fail_each_store_call(&app, 0, suspend).await;
    let user: Value = Client::new()
        .get(app.url(&format!("/v1/users/{id}")))
        .header("X-API-Key", &app.api_key)
        .header("Authorization", &admin)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(user["status"], "suspended");
    let me = Client::new()
        .get(app.url("/v1/me"))
        .header("X-API-Key", &app.api_key)
        .bearer_auth(tokens["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), StatusCode::UNAUTHORIZED, "sessions revoked");
}

fn median(mut samples: Vec<StdDuration>) -> StdDuration {
    samples.sort();
    samples[samples.len() / 2]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_up_and_forgot_take_the_same_time_for_taken_and_new_addresses() {
    let app = app().await;
    sign_up(&app, "taken@example.com").await;
    let (mut taken, mut fresh, mut known, mut unknown) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for round in 0..9 {
        for (email, samples) in [("taken@example.com", &mut taken), (&*format!("new{round}@example.com"), &mut fresh)] {
            let started = Instant::now();
            let (status, _) = post(
                &app,
                "/v1/registrations",
                json!({
                    "email": email, "password": PASSWORD, "first_name": "F", "last_name": "L",
                    "terms_accepted": true, "privacy_policy_accepted": true,
                }),
                &[],
            )
            .await;
            samples.push(started.elapsed());
            assert_eq!(status, StatusCode::ACCEPTED);
        }
        for (email, samples) in
            [("taken@example.com", &mut known), (&*format!("nobody{round}@example.com"), &mut unknown)]
        {
            let started = Instant::now();
            let (status, _) = post(&app, "/v1/auth/password/forgot", json!({ "email": email }), &[]).await;
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
