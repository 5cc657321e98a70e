//! Concurrency on DynamoDB (moto): 100 concurrent completions of sign-ups for
//! one e-mail leave exactly one user; 50 parallel refreshes of one token all
//! get the same successor (refresh tokens, docs/sessions-and-keys.md).

use std::sync::Arc;

use futures::future::join_all;
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use shared::adapters::system::ManualClock;
use shared::domain::tenant::{CodePolicy, IpLimits, Policy};
use shared::testing::{TestApp, TestOptions, spawn_app};

use crate::common::{self, CODE};

async fn app() -> TestApp {
    let clock = Arc::new(ManualClock::at_test_start());
    let store = common::dynamo_store(clock.clone()).await;
    let policy = Policy {
        phone_required: false,
        sandbox_code: Some(CODE.into()),
        // Allow 100 sign-ups for one address, and from one IP, within the
        // hour for this test, with room: a counter increment that moto
        // answers with a 500 after applying it is retried by the SDK and
        // counts twice (the limit errs on the safe side).
        codes: CodePolicy { max_sends: 1000, ..CodePolicy::default() },
        ip_limits: IpLimits { signups_per_hour: 1000, ..IpLimits::default() },
        ..Policy::default()
    };
    spawn_app(TestOptions { policy, store: Some(store), senders: None, clock: Some(clock), ..TestOptions::default() })
        .await
}

async fn post(http: &Client, app: &TestApp, path: &str, body: Value, device: Option<&str>) -> (StatusCode, Value) {
    let headers: Vec<(&str, &str)> = device.iter().map(|d| ("X-Device-ID", *d)).collect();
    let answer = common::request(http, app, reqwest::Method::POST, path, Some(body), &headers).await;
    (answer.status, answer.body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hundred_racing_completions_leave_one_user() {
    let app = app().await;
    let http = Client::new();
    let starts = (0..100).map(|_| {
        post(
            &http,
            &app,
            "/v1/registrations",
            json!({
                "email": "crowd@example.com", "password": "Str0ng!Pass", "first_name": "C", "last_name": "R",
                "terms_accepted": true, "privacy_policy_accepted": true,
            }),
            None,
        )
    });
    let mut ids = Vec::new();
    for (status, body) in join_all(starts).await {
        assert_eq!(status, StatusCode::ACCEPTED, "{body}");
        ids.push(body["registration_id"].as_str().unwrap().to_owned());
    }
    let completions = ids.iter().map(|id| format!("/v1/registrations/{id}/email/verify")).collect::<Vec<_>>();
    let completions = completions.iter().map(|path| post(&http, &app, path, json!({ "code": CODE }), None));
    let results = join_all(completions).await;
    let created = results.iter().filter(|(s, _)| *s == StatusCode::CREATED).count();
    let taken = results.iter().filter(|(s, b)| *s == StatusCode::CONFLICT && b["code"] == "email_taken").count();
    assert_eq!((created, taken), (1, 99), "{:?}", results.iter().map(|(s, _)| s.as_u16()).collect::<Vec<_>>());
    let lock = app
        .app
        .store
        .get(&shared::table::email_lock_key(&app.tenant.id, "crowd@example.com"))
        .await
        .unwrap()
        .expect("one lock");
    let winner = results.iter().find(|(s, _)| *s == StatusCode::CREATED).unwrap();
    assert_eq!(lock.body["user_id"], winner.1["user_id"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_parallel_refreshes_get_one_successor() {
    let app = app().await;
    let http = Client::new();
    let (_, started) = post(
        &http,
        &app,
        "/v1/registrations",
        json!({
            "email": "tabs@example.com", "password": "Str0ng!Pass", "first_name": "T", "last_name": "B",
            "terms_accepted": true, "privacy_policy_accepted": true,
        }),
        None,
    )
    .await;
    let id = started["registration_id"].as_str().unwrap();
    let (_, tokens) =
        post(&http, &app, &format!("/v1/registrations/{id}/email/verify"), json!({ "code": CODE }), Some("d")).await;
    let token = tokens["refresh_token"].as_str().unwrap().to_owned();
    let refreshes =
        (0..50).map(|_| post(&http, &app, "/v1/auth/refresh", json!({ "refresh_token": token }), Some("d")));
    let results = join_all(refreshes).await;
    for (status, body) in &results {
        assert_eq!(*status, StatusCode::OK, "{body}");
    }
    let successors: std::collections::BTreeSet<String> =
        results.iter().map(|(_, b)| b["refresh_token"].as_str().unwrap_or_default().to_owned()).collect();
    assert_eq!(successors.len(), 1, "every tab holds the same successor");
    let next = successors.into_iter().next().unwrap();
    assert_ne!(next, token);
    assert!(!next.is_empty());
    let (status, _) = post(&http, &app, "/v1/auth/refresh", json!({ "refresh_token": next }), Some("d")).await;
    assert_eq!(status, StatusCode::OK, "the successor works");
}
