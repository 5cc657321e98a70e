//! Self-registration end to end: the local API on port 0, a real HTTP
//! client, codes read from the outbox, time moved by the injected clock.

use std::time::Duration as StdDuration;

use chrono::Duration;
use reqwest::{Client, Response, StatusCode};
use serde_json::{Value, json};
use shared::domain::tenant::Policy;
use shared::table::email_lock_key;
use shared::testing::TestApp;

use crate::common::{self, Backend, PASSWORD};

fn client() -> Client {
    Client::builder().timeout(StdDuration::from_secs(30)).build().expect("client")
}

async fn app_with(backend: Backend, phone_required: bool) -> TestApp {
    common::spawn_on(backend, Policy { phone_required, ..Policy::default() }).await
}

/// Each case takes the backend it runs on (`on_both_stores!`).
async fn backend(backend: Backend) -> Backend {
    backend
}

fn sign_up_body(email: &str) -> Value {
    json!({
        "email": email,
        "password": PASSWORD,
        "first_name": "Anna",
        "last_name": "Muster",
        "gender": "female",
        "birth_date": "1990-04-01",
        "time_zone": "Europe/Zurich",
        "terms_accepted": true,
        "privacy_policy_accepted": true,
    })
}

async fn post(app: &TestApp, path: &str, body: Value, lang: &str) -> Response {
    client()
        .post(app.url(path))
        .header("X-API-Key", &app.api_key)
        .header("Accept-Language", lang)
        .json(&body)
        .send()
        .await
        .expect("request sent")
}

async fn json_of(response: Response) -> Value {
    response.json().await.expect("JSON body")
}

async fn start(app: &TestApp, email: &str, lang: &str) -> String {
    let response = post(app, "/v1/registrations", sign_up_body(email), lang).await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    let body = json_of(response).await;
    assert_eq!(body["next"], "verify_email");
    body["registration_id"].as_str().expect("registration id").to_owned()
}

fn assert_problem(body: &Value, status: u16, code: &str) {
    assert_eq!(body["status"], status, "{body}");
    assert_eq!(body["code"], code, "{body}");
    assert!(body["title"].is_string() && body["detail"].is_string(), "{body}");
    assert!(body["request_id"].is_string(), "{body}");
    assert_eq!(body["type"], format!("urn:registrar:problem:{code}"));
}

async fn user_for(app: &TestApp, email: &str) -> Option<Value> {
    let lock = app.app.store.get(&email_lock_key(&app.tenant.id, email)).await.expect("store")?;
    let user_id = lock.body["user_id"].as_str()?.to_owned();
    let user = app
        .app
        .store
        .get(&shared::table::user_key(&shared::domain::ids::UserId::parse(&user_id).unwrap()))
        .await
        .expect("store")?;
    Some(user.body)
}

async fn happy_path_in_english_with_phone(backend: Backend) {
    let app = app_with(backend, true).await;
    let id = start(&app, "anna@example.com", "en").await;
    let mail = app.messages_to("anna@example.com");
    assert_eq!(mail.len(), 1);
    assert_eq!(mail[0]["channel"], "email");
    assert_eq!(mail[0]["language"], "en");
    assert!(mail[0]["subject"].as_str().unwrap().starts_with("Your confirmation code"));
    let code = app.latest_code("anna@example.com").expect("code e-mailed");

    let verified = post(&app, &format!("/v1/registrations/{id}/email/verify"), json!({ "code": code }), "en").await;
    assert_eq!(verified.status(), StatusCode::OK);
    assert_eq!(json_of(verified).await["next"], "add_phone");

    // No phone either way: the field it needs, named.
    for (body, field) in [
        (json!({}), "phone"),
        (json!({ "phone_prefix": "+41" }), "phone_number"),
        (json!({ "phone_number": "79 123 45 67" }), "phone_prefix"),
    ] {
        let refused = json_of(post(&app, &format!("/v1/registrations/{id}/phone"), body, "en").await).await;
        assert_eq!(refused["code"], "validation_failed");
        assert_eq!(refused["errors"][0]["field"], field, "{refused}");
        assert_eq!(refused["errors"][0]["code"], "required", "{refused}");
    }

    let phone = post(
        &app,
        &format!("/v1/registrations/{id}/phone"),
        json!({ "phone_prefix": "+41", "phone_number": "79 123 45 67" }),
        "en",
    )
    .await;
    assert_eq!(phone.status(), StatusCode::ACCEPTED);
    assert_eq!(json_of(phone).await["next"], "verify_phone");
    let sms = app.messages_to("+41791234567");
    assert_eq!(sms.len(), 1);
    assert_eq!(sms[0]["channel"], "sms");
    let sms_code = app.latest_code("+41791234567").expect("code texted");

    let status = client()
        .get(app.url(&format!("/v1/registrations/{id}")))
        .header("X-API-Key", &app.api_key)
        .send()
        .await
        .unwrap();
    let status = json_of(status).await;
    assert_eq!(status["email_verified"], true);
    assert_eq!(status["phone_verified"], false);
    assert_eq!(status["next"], "verify_phone");
    assert!(!status["phone"].as_str().unwrap().contains("791234"), "phone is masked");

    let done = client()
        .post(app.url(&format!("/v1/registrations/{id}/phone/verify")))
        .header("X-API-Key", &app.api_key)
        .header("X-Device-ID", "device-1")
        .json(&json!({ "code": sms_code }))
        .send()
        .await
        .unwrap();
    assert_eq!(done.status(), StatusCode::CREATED);
    let cookie = done.headers()["set-cookie"].to_str().unwrap().to_owned();
    let body = json_of(done).await;
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 900);
    let refresh = body["refresh_token"].as_str().unwrap();
    assert!(cookie.starts_with(&format!("refresh_token={refresh};")));
    for attribute in ["HttpOnly", "Secure", "SameSite=Strict"] {
        assert!(cookie.contains(attribute), "{cookie}");
    }

    // The access token verifies against the published JWKS key.
    let claims = app
        .app
        .keys
        .current()
        .verify_at(body["access_token"].as_str().unwrap(), "http://registrar.test", "registrar", app.clock.now_secs())
        .expect("valid token");
    assert_eq!(claims.sub, body["user_id"].as_str().unwrap());
    assert_eq!(claims.tid, app.tenant.id);
    let jwks = json_of(client().get(app.url("/.well-known/jwks.json")).send().await.unwrap()).await;
    let header = jsonwebtoken::decode_header(body["access_token"].as_str().unwrap()).unwrap();
    assert_eq!(jwks["keys"][0]["kid"].as_str(), header.kid.as_deref());

    let user = user_for(&app, "anna@example.com").await.expect("user stored");
    assert_eq!(user["status"], "active");
    assert_eq!(user["user_type"], "consumer");
    assert_eq!(user["phone"], "+41791234567");
    assert_eq!(user["time_zone"], "Europe/Zurich");
    assert_eq!(user["terms"]["version"], app.tenant.policy.terms_version);
    assert_eq!(user["privacy"]["version"], app.tenant.policy.privacy_version);
    assert!(user["terms"]["accepted_at"].is_string());
    assert!(user["password_hash"].as_str().unwrap().starts_with("$argon2id$"));

    // A finished registration cannot be verified again: the spent code
    // answers like any failed one.
    let again = post(&app, &format!("/v1/registrations/{id}/phone/verify"), json!({ "code": sms_code }), "en").await;
    assert_problem(&json_of(again).await, 422, "invalid_code");
}

async fn happy_path_in_german_without_phone(backend: Backend) {
    let app = app_with(backend, false).await;
    let id = start(&app, "jonas@example.de", "de-CH, en;q=0.5").await;
    let mail = &app.messages_to("jonas@example.de")[0];
    assert_eq!(mail["language"], "de");
    assert!(mail["subject"].as_str().unwrap().starts_with("Ihr Bestätigungscode"), "{mail}");
    assert!(mail["text"].as_str().unwrap().contains("Hallo Anna"), "{mail}");

    let wrong = post(&app, &format!("/v1/registrations/{id}/email/verify"), json!({ "code": "000000" }), "de").await;
    let wrong = json_of(wrong).await;
    assert_problem(&wrong, 422, "invalid_code");
    assert_eq!(wrong["title"], "Ungültiger Code");

    let code = app.latest_code("jonas@example.de").unwrap();
    let done = post(&app, &format!("/v1/registrations/{id}/email/verify"), json!({ "code": code }), "de").await;
    assert_eq!(done.status(), StatusCode::CREATED);
    assert_eq!(done.headers()["content-language"], "de");
    let body = json_of(done).await;
    assert_eq!(body["message"], "Willkommen! Ihr Konto ist bereit.");
    let user = user_for(&app, "jonas@example.de").await.expect("user stored");
    assert_eq!(user["language"], "de");
    assert_eq!(user["phone"], Value::Null);
}

async fn five_wrong_codes_kill_the_code_until_a_resend(backend: Backend) {
    let app = app_with(backend, false).await;
    let id = start(&app, "brute@example.com", "en").await;
    let code = app.latest_code("brute@example.com").unwrap();
    let wrong = if code == "111111" { "222222" } else { "111111" };
    let without_request_id = |mut body: Value| {
        body.as_object_mut().unwrap().remove("request_id");
        body
    };
    let mut answers = Vec::new();
    for _ in 0..5 {
        let response =
            post(&app, &format!("/v1/registrations/{id}/email/verify"), json!({ "code": wrong }), "en").await;
        let body = json_of(response).await;
        assert_problem(&body, 422, "invalid_code");
        answers.push(without_request_id(body));
    }
    // Past its tries the right code is refused, with the very answer a
    // wrong one gets: nothing tells which guess was right.
    let right = post(&app, &format!("/v1/registrations/{id}/email/verify"), json!({ "code": code }), "en").await;
    assert_eq!(right.status(), StatusCode::UNPROCESSABLE_ENTITY);
    answers.push(without_request_id(json_of(right).await));
    assert!(answers.windows(2).all(|pair| pair[0] == pair[1]), "{answers:?}");

    app.clock.advance(Duration::seconds(61));
    let resent = post(&app, &format!("/v1/registrations/{id}/resend"), json!({ "channel": "email" }), "en").await;
    assert_eq!(resent.status(), StatusCode::ACCEPTED);
    let fresh = app.latest_code("brute@example.com").unwrap();
    let done = post(&app, &format!("/v1/registrations/{id}/email/verify"), json!({ "code": fresh }), "en").await;
    assert_eq!(done.status(), StatusCode::CREATED);
}

/// A code expires at a fraction of a second; its tries must hold to the
/// very end (the counter of tries outlives the code).
async fn the_tries_hold_in_the_last_second_of_a_code(backend: Backend) {
    let app = app_with(backend, false).await;
    app.clock.advance(Duration::milliseconds(500));
    let id = start(&app, "last-second@example.com", "en").await;
    let code = app.latest_code("last-second@example.com").unwrap();
    let wrong = if code == "111111" { "222222" } else { "111111" };
    // 10 minutes less 0.3 s: the code (sent at .5) still lives.
    app.clock.advance(Duration::milliseconds(600_000 - 300));
    for _ in 0..10 {
        let answer = post(&app, &format!("/v1/registrations/{id}/email/verify"), json!({ "code": wrong }), "en").await;
        assert_problem(&json_of(answer).await, 422, "invalid_code");
    }
    let right = post(&app, &format!("/v1/registrations/{id}/email/verify"), json!({ "code": code }), "en").await;
    assert_problem(&json_of(right).await, 422, "invalid_code");
}

async fn an_expired_code_is_refused_and_a_resent_one_works(backend: Backend) {
    let app = app_with(backend, false).await;
    let id = start(&app, "late@example.com", "en").await;
    let code = app.latest_code("late@example.com").unwrap();
    app.clock.advance(Duration::minutes(10));
    let late = post(&app, &format!("/v1/registrations/{id}/email/verify"), json!({ "code": code }), "en").await;
    assert_problem(&json_of(late).await, 422, "invalid_code");
    let resent = post(&app, &format!("/v1/registrations/{id}/resend"), json!({ "channel": "email" }), "en").await;
    assert_eq!(resent.status(), StatusCode::ACCEPTED);
    let fresh = app.latest_code("late@example.com").unwrap();
    let old_again = post(&app, &format!("/v1/registrations/{id}/email/verify"), json!({ "code": code }), "en").await;
    if code != fresh {
        assert_problem(&json_of(old_again).await, 422, "invalid_code");
    }
    let done = post(&app, &format!("/v1/registrations/{id}/email/verify"), json!({ "code": fresh }), "en").await;
    assert_eq!(done.status(), StatusCode::CREATED);
}

async fn resends_have_a_cooldown_and_a_cap(backend: Backend) {
    let app = app_with(backend, false).await;
    let id = start(&app, "spam@example.com", "en").await;
    let soon = post(&app, &format!("/v1/registrations/{id}/resend"), json!({ "channel": "email" }), "en").await;
    assert_eq!(soon.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(soon.headers()["retry-after"], "60");
    assert_problem(&json_of(soon).await, 429, "rate_limited");
    for _ in 0..4 {
        app.clock.advance(Duration::seconds(60));
        let ok = post(&app, &format!("/v1/registrations/{id}/resend"), json!({ "channel": "email" }), "en").await;
        assert_eq!(ok.status(), StatusCode::ACCEPTED);
    }
    app.clock.advance(Duration::seconds(60));
    let capped = post(&app, &format!("/v1/registrations/{id}/resend"), json!({ "channel": "email" }), "en").await;
    assert_eq!(capped.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry: i64 = capped.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!(retry > 23 * 3600, "wait until the registration expires: {retry}");
    assert_problem(&json_of(capped).await, 429, "send_limit_reached");
    assert_eq!(app.messages_to("spam@example.com").len(), 5);
    // SMS cannot be resent before a phone exists.
    let sms = post(&app, &format!("/v1/registrations/{id}/resend"), json!({ "channel": "sms" }), "en").await;
    assert_problem(&json_of(sms).await, 409, "step_out_of_order");
}

async fn a_taken_email_answers_alike_and_never_completes(backend: Backend) {
    let app = app_with(backend, false).await;
    let id = start(&app, "owner@example.com", "en").await;
    let code = app.latest_code("owner@example.com").unwrap();
    let done = post(&app, &format!("/v1/registrations/{id}/email/verify"), json!({ "code": code }), "en").await;
    assert_eq!(done.status(), StatusCode::CREATED);

    // Same status, same fields, same headers as a new address.
    let fresh = post(&app, "/v1/registrations", sign_up_body("someone-new@example.com"), "en").await;
    let taken = post(&app, "/v1/registrations", sign_up_body(" Owner@Example.COM "), "en").await;
    assert_eq!(fresh.status(), taken.status());
    let header_names = |r: &Response| {
        let mut names: Vec<String> = r.headers().keys().map(|k| k.to_string()).collect();
        names.sort();
        names
    };
    assert_eq!(header_names(&fresh), header_names(&taken));
    let fresh_body = json_of(fresh).await;
    let taken_body = json_of(taken).await;
    let keys = |v: &Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
    assert_eq!(keys(&fresh_body), keys(&taken_body));
    assert_eq!(fresh_body["message"], taken_body["message"]);

    // The owner is told instead of getting a code.
    let to_owner = app.messages_to("owner@example.com");
    assert_eq!(to_owner.len(), 2);
    assert_eq!(to_owner[1]["subject"], "You already have an account");
    assert!(!to_owner[1]["text"].as_str().unwrap().chars().any(|c| c.is_ascii_digit()));

    let taken_id = taken_body["registration_id"].as_str().unwrap();
    for guess in ["000000", "123456", &code] {
        let r = post(&app, &format!("/v1/registrations/{taken_id}/email/verify"), json!({ "code": guess }), "en").await;
        assert_problem(&json_of(r).await, 422, "invalid_code");
    }
}

async fn racing_completions_for_one_email_leave_exactly_one_user(backend: Backend) {
    let app = app_with(backend, false).await;
    // Two registrations for one address, both started before either finished.
    let first = start(&app, "race@example.com", "en").await;
    let first_code = app.latest_code("race@example.com").unwrap();
    let second = start(&app, "race@example.com", "en").await;
    let second_code = app.latest_code("race@example.com").unwrap();
    let (first_path, second_path) =
        (format!("/v1/registrations/{first}/email/verify"), format!("/v1/registrations/{second}/email/verify"));
    let (a, b) = tokio::join!(
        post(&app, &first_path, json!({ "code": first_code }), "en"),
        post(&app, &second_path, json!({ "code": second_code }), "en"),
    );
    let mut statuses = [a.status().as_u16(), b.status().as_u16()];
    statuses.sort();
    assert_eq!(statuses, [201, 409]);
    let loser = if a.status() == StatusCode::CONFLICT { json_of(a).await } else { json_of(b).await };
    assert_problem(&loser, 409, "email_taken");
    let users = app.app.store.query_all(&format!("EMAIL#{}#race@example.com", app.tenant.id), "").await.unwrap();
    assert_eq!(users.len(), 1);
    assert!(user_for(&app, "race@example.com").await.is_some());
}

async fn a_failed_email_is_resumed_with_resend(backend: Backend) {
    let app = app_with(backend, false).await;
    app.sender.fail_email(true);
    let response = post(&app, "/v1/registrations", sign_up_body("flaky@example.com"), "en").await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    let problem = json_of(response).await;
    assert_problem(&problem, 503, "unavailable");
    assert_eq!(problem["resume_with"], "resend");
    let id = problem["registration_id"].as_str().expect("id to resume").to_owned();
    assert!(app.messages_to("flaky@example.com").is_empty());
    let status = client()
        .get(app.url(&format!("/v1/registrations/{id}")))
        .header("X-API-Key", &app.api_key)
        .send()
        .await
        .unwrap();
    assert_eq!(json_of(status).await["next"], "verify_email");

    app.sender.fail_email(false);
    // No cooldown: the failed send did not count.
    let resent = post(&app, &format!("/v1/registrations/{id}/resend"), json!({ "channel": "email" }), "en").await;
    assert_eq!(resent.status(), StatusCode::ACCEPTED);
    let code = app.latest_code("flaky@example.com").unwrap();
    let done = post(&app, &format!("/v1/registrations/{id}/email/verify"), json!({ "code": code }), "en").await;
    assert_eq!(done.status(), StatusCode::CREATED);
}

async fn a_failed_sms_is_resumed_with_resend(backend: Backend) {
    let app = app_with(backend, true).await;
    let id = start(&app, "sms@example.com", "en").await;
    let code = app.latest_code("sms@example.com").unwrap();
    post(&app, &format!("/v1/registrations/{id}/email/verify"), json!({ "code": code }), "en").await;
    app.sender.fail_sms(true);
    let failed = post(&app, &format!("/v1/registrations/{id}/phone"), json!({ "phone": "+4915123456789" }), "en").await;
    assert_problem(&json_of(failed).await, 503, "unavailable");
    app.sender.fail_sms(false);
    let resent = post(&app, &format!("/v1/registrations/{id}/resend"), json!({ "channel": "sms" }), "en").await;
    assert_eq!(resent.status(), StatusCode::ACCEPTED);
    let sms_code = app.latest_code("+4915123456789").unwrap();
    let done = post(&app, &format!("/v1/registrations/{id}/phone/verify"), json!({ "code": sms_code }), "en").await;
    assert_eq!(done.status(), StatusCode::CREATED);
}

async fn a_store_failure_at_any_step_of_completion_writes_nothing(backend: Backend) {
    let app = app_with(backend, false).await;
    let id = start(&app, "store@example.com", "en").await;
    let code = app.latest_code("store@example.com").unwrap();
    let path = format!("/v1/registrations/{id}/email/verify");
    // Fail the first store call, then the second, … until the step passes.
    let mut failures = 0;
    for calls_before_failure in 0.. {
        app.store.fail_after(calls_before_failure);
        let answer = post(&app, &path, json!({ "code": code }), "en").await;
        app.store.heal();
        if answer.status() == StatusCode::CREATED {
            break;
        }
        assert_problem(&json_of(answer).await, 503, "unavailable");
        assert!(user_for(&app, "store@example.com").await.is_none(), "no user half-created");
        failures += 1;
        assert!(failures < 20, "the step never passed");
    }
    // The start above left the API key and its tenant cached, as on a warm
    // instance: the registration read and the transaction (which spends
    // the right code's try) remain.
    assert_eq!(failures, 2, "the registration read and the transaction each failed once");
    assert!(user_for(&app, "store@example.com").await.is_some());
}

async fn a_store_failure_at_any_step_of_start_sends_nothing(backend: Backend) {
    let app = app_with(backend, false).await;
    // A first request leaves the API key and its tenant cached (a warm
    // instance), so each store call below belongs to the start itself.
    let unknown = post(&app, "/v1/registrations/reg_00000000000000000000000000000000/resend", json!({}), "en").await;
    assert!(unknown.status().is_client_error());
    let mut failures = 0;
    for calls_before_failure in 0.. {
        app.store.fail_after(calls_before_failure);
        let answer = post(&app, "/v1/registrations", sign_up_body("nostore@example.com"), "en").await;
        app.store.heal();
        if answer.status() == StatusCode::ACCEPTED {
            break;
        }
        let problem = json_of(answer).await;
        assert_problem(&problem, 503, "unavailable");
        assert!(problem.get("registration_id").is_none(), "nothing stored, nothing to resume");
        assert!(app.messages_to("nostore@example.com").is_empty(), "no code for a registration that does not exist");
        failures += 1;
        assert!(failures < 20, "the step never passed");
    }
    assert!(failures >= 3, "the two limits and the put each failed once");
    assert_eq!(app.messages_to("nostore@example.com").len(), 1);
}

async fn sign_ups_per_address_are_limited(backend: Backend) {
    let app = app_with(backend, false).await;
    for _ in 0..5 {
        start(&app, "often@example.com", "en").await;
    }
    let sixth = post(&app, "/v1/registrations", sign_up_body("often@example.com"), "en").await;
    assert_eq!(sixth.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(sixth.headers().contains_key("retry-after"));
    assert_problem(&json_of(sixth).await, 429, "rate_limited");
    assert_eq!(app.messages_to("often@example.com").len(), 5, "no sixth code");
    start(&app, "other@example.com", "en").await;
    app.clock.advance(Duration::hours(1));
    start(&app, "often@example.com", "en").await;
}

async fn an_expired_registration_is_gone(backend: Backend) {
    let app = app_with(backend, false).await;
    let id = start(&app, "slow@example.com", "en").await;
    app.clock.advance(Duration::hours(24));
    let r = client()
        .get(app.url(&format!("/v1/registrations/{id}")))
        .header("X-API-Key", &app.api_key)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert_problem(&json_of(r).await, 404, "registration_not_found");
}

async fn bad_input_gets_precise_problems(backend: Backend) {
    let app = app_with(backend, true).await;
    let http = client();
    let url = app.url("/v1/registrations");
    let key = app.api_key.clone();
    let send = |body: &'static str, content_type: &'static str, key: Option<String>| {
        let mut request = http.post(&url).header("Content-Type", content_type).body(body);
        if let Some(key) = key {
            request = request.header("X-API-Key", key);
        }
        request.send()
    };

    let malformed = send("{\"email\": ", "application/json", Some(key.clone())).await.unwrap();
    assert_eq!(malformed.status(), 400);
    assert_eq!(malformed.headers()["content-type"], "application/problem+json");
    let malformed = json_of(malformed).await;
    assert_problem(&malformed, 400, "malformed_body");
    // Where it breaks, for the client to find: line and column, also in the text.
    let broken = send("{\n  \"email\": \"a@example.com\",\n}", "application/json", Some(key.clone())).await.unwrap();
    let broken = json_of(broken).await;
    assert_eq!((broken["line"].as_i64(), broken["column"].as_i64()), (Some(3), Some(1)), "{broken}");
    assert!(broken["detail"].as_str().unwrap().contains("line 3, column 1"), "{broken}");
    assert!(malformed["line"].is_i64(), "{malformed}");

    let not_object = json_of(send("[1,2]", "application/json", Some(key.clone())).await.unwrap()).await;
    assert_problem(&not_object, 422, "validation_failed");

    let wrong_types = json_of(
        send(r#"{"email": 5, "password": true, "first_name": [], "last_name": "M", "terms_accepted": "yes", "privacy_policy_accepted": true}"#, "application/json", Some(key.clone()))
            .await
            .unwrap(),
    )
    .await;
    assert_problem(&wrong_types, 422, "validation_failed");
    let errors: Vec<(String, String)> = wrong_types["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["field"].as_str().unwrap().to_owned(), e["code"].as_str().unwrap().to_owned()))
        .collect();
    for field in ["email", "password", "first_name", "terms_accepted"] {
        assert!(errors.contains(&(field.to_owned(), "wrong_type".to_owned())), "{field}: {errors:?}");
    }

    let missing = json_of(send("{}", "application/json", Some(key.clone())).await.unwrap()).await;
    let fields: Vec<&str> =
        missing["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    for field in ["email", "password", "first_name", "last_name", "terms_accepted", "privacy_policy_accepted"] {
        assert!(fields.contains(&field), "{field} missing from {fields:?}");
    }
    assert!(missing["errors"][0]["message"].is_string());

    let mut body = sign_up_body("x@example.com");
    body["is_admin"] = json!(true);
    body["terms_accepted"] = json!(false);
    body["password"] = json!("short");
    body["time_zone"] = json!("Mars/Base");
    let r = post(&app, "/v1/registrations", body, "fr;q=0.9, en;q=0.1").await;
    let problem = json_of(r).await;
    assert_problem(&problem, 422, "validation_failed");
    assert_eq!(problem["title"], "Saisie invalide");
    let codes: Vec<(&str, &str)> = problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["field"].as_str().unwrap(), e["code"].as_str().unwrap()))
        .collect();
    for expected in [
        ("is_admin", "unknown_field"),
        ("terms_accepted", "must_accept"),
        ("password", "password_too_short"),
        ("time_zone", "invalid_time_zone"),
    ] {
        assert!(codes.contains(&expected), "{expected:?} in {codes:?}");
    }
    let short = problem["errors"].as_array().unwrap().iter().find(|e| e["code"] == "password_too_short").unwrap();
    assert_eq!(short["message"], "Le mot de passe doit comporter au moins 8 caractères.");

    let wrong_type = send("{}", "text/plain", Some(key.clone())).await.unwrap();
    assert_eq!(wrong_type.status(), 415);
    assert_problem(&json_of(wrong_type).await, 415, "unsupported_media_type");

    let no_key = send("{}", "application/json", None).await.unwrap();
    assert_problem(&json_of(no_key).await, 401, "unauthorized");
    let bad_key = send("{}", "application/json", Some("sk_nope".into())).await.unwrap();
    assert_problem(&json_of(bad_key).await, 401, "unauthorized");

    let huge = format!("{{\"email\":\"{}\"}}", "a".repeat(70 * 1024));
    let too_big = http
        .post(&url)
        .header("X-API-Key", &key)
        .header("Content-Type", "application/json")
        .body(huge)
        .send()
        .await
        .unwrap();
    assert_eq!(too_big.status(), 413);
    assert_eq!(too_big.headers()["connection"], "close", "the unread rest of the body ends the connection");
    assert_problem(&json_of(too_big).await, 413, "payload_too_large");

    let unknown = http.get(app.url("/v1/registrations/reg_0000/email")).header("X-API-Key", &key).send().await.unwrap();
    assert_problem(&json_of(unknown).await, 404, "not_found");
    let method = http.delete(app.url("/v1/registrations")).header("X-API-Key", &key).send().await.unwrap();
    assert_eq!(method.headers()["allow"], "POST");
    assert_problem(&json_of(method).await, 405, "method_not_allowed");

    let missing_reg = post(
        &app,
        "/v1/registrations/reg_01a214ebb5f4742abc6ee99dd3ac47d9/email/verify",
        json!({ "code": "123456" }),
        "en",
    )
    .await;
    assert_problem(&json_of(missing_reg).await, 404, "registration_not_found");
    let garbage_id = post(&app, "/v1/registrations/%00%ff/resend", json!({ "channel": "email" }), "en").await;
    assert_problem(&json_of(garbage_id).await, 404, "registration_not_found");

    // Out of order: a phone before the e-mail is verified; a bad code shape.
    let id = start(&app, "order@example.com", "en").await;
    let early = post(&app, &format!("/v1/registrations/{id}/phone"), json!({ "phone": "+41791234567" }), "en").await;
    let early = json_of(early).await;
    assert_problem(&early, 409, "step_out_of_order");
    assert_eq!(early["next"], "verify_email");
    let early_verify =
        post(&app, &format!("/v1/registrations/{id}/phone/verify"), json!({ "code": "123456" }), "en").await;
    assert_problem(&json_of(early_verify).await, 409, "step_out_of_order");
    let shape = post(&app, &format!("/v1/registrations/{id}/email/verify"), json!({ "code": "12ab" }), "en").await;
    let shape = json_of(shape).await;
    assert_problem(&shape, 422, "validation_failed");
    assert_eq!(shape["errors"][0]["code"], "invalid_code_format");
    assert_eq!(shape["errors"][0]["message"], "The code must consist of 6 digits.", "the message names the length");
    let channel = post(&app, &format!("/v1/registrations/{id}/resend"), json!({ "channel": "pigeon" }), "en").await;
    assert_eq!(json_of(channel).await["errors"][0]["code"], "invalid_choice");
    let code = app.latest_code("order@example.com").unwrap();
    post(&app, &format!("/v1/registrations/{id}/email/verify"), json!({ "code": code }), "en").await;
    let bad_phone = post(&app, &format!("/v1/registrations/{id}/phone"), json!({ "phone": "12345" }), "en").await;
    assert_eq!(json_of(bad_phone).await["errors"][0]["code"], "invalid_phone");
    let both = post(
        &app,
        &format!("/v1/registrations/{id}/phone"),
        json!({ "phone": "+41791234567", "phone_number": "1" }),
        "en",
    )
    .await;
    assert_eq!(json_of(both).await["errors"][0]["code"], "conflicting_fields");
}

async fn another_tenants_registration_does_not_exist(backend: Backend) {
    let app = app_with(backend, false).await;
    let id = start(&app, "tenant@example.com", "en").await;
    let other = app_with(backend, false).await;
    // Same store? No: a second app has its own store, so seed the other
    // tenant's key into this app's store instead.
    let other_tenant =
        shared::domain::tenant::Tenant { id: "other".into(), name: "Other".into(), policy: Policy::default() };
    shared::local::seed_tenant(&app.app, &other_tenant, "sk_other").await.unwrap();
    drop(other);
    let r =
        client().get(app.url(&format!("/v1/registrations/{id}"))).header("X-API-Key", "sk_other").send().await.unwrap();
    assert_problem(&json_of(r).await, 404, "registration_not_found");
}

async fn cors_follows_the_tenants_origins(backend: Backend) {
    let policy = Policy { cors_origins: vec!["https://app.example".into()], ..Policy::default() };
    let app = common::spawn_on(backend, policy).await;
    let preflight = client()
        .request(reqwest::Method::OPTIONS, app.url("/v1/registrations"))
        .header("Origin", "https://app.example")
        .header("Access-Control-Request-Method", "POST")
        .send()
        .await
        .unwrap();
    assert_eq!(preflight.status(), StatusCode::NO_CONTENT);
    assert_eq!(preflight.headers()["access-control-allow-methods"], "POST");
    assert!(preflight.headers()["access-control-allow-headers"].to_str().unwrap().contains("X-API-Key"));
    let send = |origin: &'static str| {
        client()
            .get(app.url("/v1/reference/languages"))
            .header("X-API-Key", &app.api_key)
            .header("Origin", origin)
            .send()
    };
    let allowed = send("https://app.example").await.unwrap();
    assert_eq!(allowed.headers()["access-control-allow-origin"], "https://app.example");
    assert_eq!(allowed.headers()["access-control-allow-credentials"], "true");
    let other = send("https://evil.example").await.unwrap();
    assert_eq!(other.status(), StatusCode::OK);
    assert!(other.headers().get("access-control-allow-origin").is_none());
    // The JWKS stays cacheable.
    let jwks = client().get(app.url("/.well-known/jwks.json")).send().await.unwrap();
    assert_eq!(jwks.headers()["cache-control"], "public, max-age=300");
}

async fn a_tenant_offering_only_german_answers_in_german(backend: Backend) {
    let policy = Policy { languages: vec!["de".into()], ..Policy::default() };
    let app = common::spawn_on(backend, policy).await;
    let response = post(&app, "/v1/registrations", json!({}), "fr, en;q=0.5").await;
    assert_eq!(response.headers()["content-language"], "de");
    assert_eq!(json_of(response).await["title"], "Ungültige Eingabe");
}

on_both_stores!(backend;
    happy_path_in_english_with_phone,
    happy_path_in_german_without_phone,
    five_wrong_codes_kill_the_code_until_a_resend,
    the_tries_hold_in_the_last_second_of_a_code,
    an_expired_code_is_refused_and_a_resent_one_works,
    resends_have_a_cooldown_and_a_cap,
    a_taken_email_answers_alike_and_never_completes,
    racing_completions_for_one_email_leave_exactly_one_user,
    a_failed_email_is_resumed_with_resend,
    a_failed_sms_is_resumed_with_resend,
    a_store_failure_at_any_step_of_completion_writes_nothing,
    a_store_failure_at_any_step_of_start_sends_nothing,
    sign_ups_per_address_are_limited,
    an_expired_registration_is_gone,
    bad_input_gets_precise_problems,
    another_tenants_registration_does_not_exist,
    cors_follows_the_tenants_origins,
    a_tenant_offering_only_german_answers_in_german,
);
