//! A store, SES or SNS failure injected at each step of the login, 2FA,
//! password-reset and status-change flows answers 503, leaves nothing
//! half-written, and the flow can be resumed. (That sign-up and
//! forgot-password take the same time whether or not the address exists:
//! tests/timing.rs.)

use std::sync::Arc;

use chrono::Duration;
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use shared::domain::tenant::Policy;
use shared::testing::{TestApp, TestOptions, spawn_app};

use crate::common::{self, Backend, CODE, Flows, PASSWORD};

async fn app_on(backend: Backend) -> TestApp {
    let clock = Arc::new(shared::adapters::system::ManualClock::at_test_start());
    let store = common::store_for(backend, clock.clone()).await;
    let policy = Policy { phone_required: false, sandbox_code: Some(CODE.into()), ..Policy::default() };
    spawn_app(TestOptions { policy, store, senders: None, clock: Some(clock), ..TestOptions::default() }).await
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
    app.sign_up("login@example.com").await;
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
    let tokens = app.sign_up("mfa@example.com").await;
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
    app.sign_up("reset@example.com").await;
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
    let tokens = app.sign_up("status@example.com").await;
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
