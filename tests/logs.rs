//! Logs never contain a password, a code, a token, an API key or a hash:
//! every line written while the main flows run (sign-up, login with 2FA,
//! refresh, reset, admin creation, failures) is captured, at debug level, in
//! the JSON format Lambda uses, and searched for every secret in play. (The
//! test command also scans the logs of the whole suite by pattern:
//! `scripts/scan-logs.py`.)

use std::io::Write;
use std::sync::{Arc, Mutex};

use reqwest::Client;
use serde_json::{Value, json};
use shared::domain::tenant::Policy;
use shared::testing::{TestOptions, spawn_app};

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

const CODE: &str = "918273";
const PASSWORD: &str = "Secr3t!Passw0rd";
const NEW_PASSWORD: &str = "Fresh!Secr3t99";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_reaches_the_logs() {
    let captured = Captured::default();
    let writer = captured.clone();
    tracing_subscriber::fmt()
        .json()
        .with_env_filter("debug")
        .with_writer(move || writer.clone())
        .try_init()
        .expect("the only subscriber of this test binary");

    let policy = Policy { phone_required: false, sandbox_code: Some(CODE.into()), ..Policy::default() };
    let app = spawn_app(TestOptions { policy, ..TestOptions::default() }).await;
    let http = Client::new();
    let mut secrets: Vec<String> =
        vec![CODE.into(), PASSWORD.into(), NEW_PASSWORD.into(), app.api_key.clone(), app.admin_token.clone()];
    let post = |path: String, body: Value, extra: Vec<(&'static str, String)>| {
        let mut request = http.post(app.url(&path)).header("X-API-Key", &app.api_key).json(&body);
        for (name, value) in extra {
            request = request.header(name, value);
        }
        async move { request.send().await.unwrap().json::<Value>().await.unwrap() }
    };

    let started = post(
        "/v1/registrations".into(),
        json!({
            "email": "quiet@example.com", "password": PASSWORD, "first_name": "Q", "last_name": "Uiet",
            "terms_accepted": true, "privacy_policy_accepted": true,
        }),
        vec![],
    )
    .await;
    let id = started["registration_id"].as_str().unwrap();
    post(format!("/v1/registrations/{id}/email/verify"), json!({ "code": "000000" }), vec![]).await;
    let signed_up = post(format!("/v1/registrations/{id}/email/verify"), json!({ "code": CODE }), vec![]).await;
    let bearer = format!("Bearer {}", signed_up["access_token"].as_str().unwrap());
    post(
        "/v1/me/credentials".into(),
        json!({ "type": "phone", "value": "+41795550011" }),
        vec![("Authorization", bearer.clone())],
    )
    .await;
    post(
        "/v1/me/credentials/verify".into(),
        json!({ "type": "phone", "code": CODE }),
        vec![("Authorization", bearer.clone())],
    )
    .await;
    let device = vec![("X-Device-ID", "dev".to_owned())];
    post("/v1/auth/login".into(), json!({ "username": "quiet@example.com", "password": "Wr0ng!Pass" }), device.clone())
        .await;
    let challenge =
        post("/v1/auth/login".into(), json!({ "username": "quiet@example.com", "password": PASSWORD }), device.clone())
            .await;
    let tokens =
        post("/v1/auth/mfa".into(), json!({ "challenge_id": challenge["challenge_id"], "code": CODE }), device.clone())
            .await;
    let refreshed =
        post("/v1/auth/refresh".into(), json!({ "refresh_token": tokens["refresh_token"] }), device.clone()).await;
    app.clock.advance(chrono::Duration::seconds(61));
    post("/v1/auth/password/forgot".into(), json!({ "email": "quiet@example.com" }), vec![]).await;
    post(
        "/v1/auth/password/reset".into(),
        json!({ "email": "quiet@example.com", "code": CODE, "new_password": NEW_PASSWORD }),
        vec![],
    )
    .await;
    let admin = vec![("Authorization", format!("Bearer {}", app.admin_token))];
    post("/v1/users".into(), json!({
        "email": "staff@example.com", "first_name": "S", "last_name": "T", "user_type": "service_owner", "password": PASSWORD,
    }), admin).await;
    app.sender.fail_email(true);
    post(
        "/v1/registrations".into(),
        json!({
            "email": "fails@example.com", "password": PASSWORD, "first_name": "F", "last_name": "Ails",
            "terms_accepted": true, "privacy_policy_accepted": true,
        }),
        vec![],
    )
    .await;

    // Requests at once (each waits as long as a send takes): every line
    // still belongs to exactly one request.
    let many = (0..40)
        .map(|i| post("/v1/auth/password/forgot".into(), json!({ "email": format!("c{i}@example.com") }), vec![]));
    futures::future::join_all(many).await;

    for answer in [&signed_up, &tokens, &refreshed] {
        for field in ["access_token", "refresh_token"] {
            let value = answer[field].as_str().expect("a token was issued");
            secrets.push(value.to_owned());
        }
    }
    // Every password hash and code hash in the store.
    for email in ["quiet@example.com", "staff@example.com"] {
        let lock = app.app.store.get(&shared::table::email_lock_key(&app.tenant.id, email)).await.unwrap().unwrap();
        let user = app
            .app
            .store
            .get(&shared::table::user_key(
                &shared::domain::ids::UserId::parse(lock.body["user_id"].as_str().unwrap()).unwrap(),
            ))
            .await
            .unwrap()
            .unwrap();
        secrets.push(user.body["password_hash"].as_str().unwrap().to_owned());
    }
    let registration = app
        .app
        .store
        .get(&shared::table::registration_key(&shared::domain::ids::RegistrationId::parse(id).unwrap()))
        .await
        .unwrap()
        .unwrap();
    secrets.push(registration.body["password_hash"].as_str().unwrap().to_owned());

    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(logs.lines().count() > 20, "the flows were logged: {logs}");
    assert!(logs.contains("\"request_id\""), "lines carry the request id");
    for secret in &secrets {
        assert!(!logs.contains(secret.as_str()), "a secret reached the logs: {secret}");
    }
    for line in logs.lines() {
        let parsed: Value = serde_json::from_str(line).expect("JSON lines");
        let requests = parsed["spans"].as_array().map_or(0, |s| s.iter().filter(|s| s["name"] == "request").count());
        assert!(requests <= 1, "a line inside two requests' spans: {line}");
    }
}
