//! DynamoDB round trips per call (SPEC §15 "Scale"): the hot paths through
//! the real AWS SDK against moto, each call's round trips counted by an SDK
//! interceptor (`shared::round_trips`), on a warm instance (the tenant and
//! API key caches filled by an earlier call). A call that needs one more
//! round trip than its goal fails here, with the calls it made.

use std::sync::Arc;

use reqwest::StatusCode;
use serde_json::json;
use shared::adapters::dynamodb::DynamoStore;
use shared::adapters::system::ManualClock;
use shared::domain::tenant::Policy;
use shared::round_trips::{Counter, Tally};
use shared::testing::{TestOptions, spawn_app};

use crate::common::{self, Api, CODE, Flows, PASSWORD};

/// An app on a fresh table in moto whose every DynamoDB call `counter` sees.
async fn counted(policy: Policy) -> (Api, Counter) {
    let counter = Counter::default();
    let config = aws_sdk_dynamodb::config::Builder::from(&common::moto_sdk()).interceptor(counter.clone()).build();
    let clock = Arc::new(ManualClock::at_test_start());
    let store = DynamoStore::new(aws_sdk_dynamodb::Client::from_conf(config), common::unique("trips"), clock.clone());
    store.create_table().await.expect("create table on moto");
    let options = TestOptions { policy, store: Some(Arc::new(store)), clock: Some(clock), ..TestOptions::default() };
    (Api::on(spawn_app(options).await), counter)
}

/// The calls over their goal, each with the round trips it made.
#[derive(Default)]
struct Over(std::sync::Mutex<Vec<String>>);

impl Over {
    /// Notes `call` when `tally` (its round trips) is over `goal`.
    fn at_most(&self, call: &str, tally: &Tally, goal: u32) {
        if tally.round_trips > goal {
            let trace = tally.trace.join("\n    ");
            let line = format!("{call}: {} round trips, goal at most {goal}:\n    {trace}", tally.round_trips);
            self.0.lock().unwrap().push(line);
        }
    }

    fn assert_none(&self) {
        let over = self.0.lock().unwrap();
        assert!(over.is_empty(), "over their DynamoDB round trips:\n  {}", over.join("\n  "));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hot_paths_stay_within_their_round_trips() {
    let over = Over::default();
    let policy = Policy { sandbox_code: Some(CODE.into()), ..Policy::default() };
    let (api, counter) = counted(policy).await;
    // The default policy asks for a phone: the completion is the phone's
    // verification. A first sign-up warms the caches.
    let sign_up = |email: &'static str, phone: &'static str| {
        let api = &api;
        let counter = counter.clone();
        async move {
            let body = json!({
                "email": email, "password": PASSWORD, "first_name": "Anna", "last_name": "Muster",
                "terms_accepted": true, "privacy_policy_accepted": true,
            });
            let started = api.post("/v1/registrations", body, &[]).await;
            assert_eq!(started.status, StatusCode::ACCEPTED, "{}", started.body);
            let id = started.body["registration_id"].as_str().unwrap().to_owned();
            let email_done =
                api.post(&format!("/v1/registrations/{id}/email/verify"), json!({ "code": CODE }), &[]).await;
            assert_eq!(email_done.status, StatusCode::OK, "{}", email_done.body);
            let added = api.post(&format!("/v1/registrations/{id}/phone"), json!({ "phone": phone }), &[]).await;
            assert_eq!(added.status, StatusCode::ACCEPTED, "{}", added.body);
            counter.take();
            let done = api.post(&format!("/v1/registrations/{id}/phone/verify"), json!({ "code": CODE }), &[]).await;
            assert_eq!(done.status, StatusCode::CREATED, "{}", done.body);
            (done.body, counter.take())
        }
    };
    sign_up("warm@example.com", "+41791110000").await;
    let (_, completion) = sign_up("trips@example.com", "+41791110001").await;
    over.at_most("sign-up completion", &completion, 2);

    // A login with the phone's 2FA: the challenge, then its answer.
    api.advance(120);
    counter.take();
    let login = api.login("trips@example.com", PASSWORD, "dev-1").await;
    let challenge_trips = counter.take();
    assert_eq!(login.body["mfa_required"], true, "{}", login.body);
    over.at_most("login to a 2FA challenge", &challenge_trips, 4);
    let answered = api.mfa(&login.body["challenge_id"], "sms", CODE, "dev-1").await;
    let answer_trips = counter.take();
    assert_eq!(answered.status, StatusCode::OK, "{}", answered.body);
    over.at_most("2FA answer", &answer_trips, 3);

    // A refresh and a bearer read.
    let refreshed = api.refresh(answered.body["refresh_token"].as_str().unwrap(), "dev-1").await;
    let refresh_trips = counter.take();
    assert_eq!(refreshed.status, StatusCode::OK, "{}", refreshed.body);
    over.at_most("refresh", &refresh_trips, 2);
    let me = api.me(refreshed.body["access_token"].as_str().unwrap()).await;
    let me_trips = counter.take();
    assert_eq!((me.status, me.body["email"].as_str()), (StatusCode::OK, Some("trips@example.com")));
    over.at_most("GET /v1/me", &me_trips, 1);

    // A login straight to tokens, and an e-mail-only sign-up's completion,
    // on a tenant that asks for no phone (no 2FA).
    let policy = Policy { phone_required: false, sandbox_code: Some(CODE.into()), ..Policy::default() };
    let (api, counter) = counted(policy).await;
    api.sign_up("warm@example.com").await;
    let started = api
        .post(
            "/v1/registrations",
            json!({
                "email": "plain@example.com", "password": PASSWORD, "first_name": "Anna", "last_name": "Muster",
                "terms_accepted": true, "privacy_policy_accepted": true,
            }),
            &[],
        )
        .await;
    let id = started.body["registration_id"].as_str().expect("a registration").to_owned();
    counter.take();
    let done = api.post(&format!("/v1/registrations/{id}/email/verify"), json!({ "code": CODE }), &[]).await;
    assert_eq!(done.status, StatusCode::CREATED, "{}", done.body);
    over.at_most("sign-up completion by e-mail", &counter.take(), 2);
    api.advance(120);
    counter.take();
    let plain = api.login("plain@example.com", PASSWORD, "dev-1").await;
    let plain_trips = counter.take();
    assert!(plain.body["access_token"].is_string(), "{}", plain.body);
    over.at_most("login to tokens", &plain_trips, 4);
    over.assert_none();
}
