//! What a newcomer meets in the first hour (issue 24): answers that say
//! what to do, in the README's order.

use reqwest::StatusCode;
use serde_json::json;
use shared::domain::tenant::Policy;

use crate::common::{Api, Backend, CODE, Flows, PASSWORD};

async fn api() -> Api {
    Api::start(Backend::Memory, Policy { phone_required: false, sandbox_code: Some(CODE.into()), ..Policy::default() })
        .await
}

/// A login without `X-Device-ID` is a 400 that names the header, not a 401
/// about a session that does not exist.
#[tokio::test]
async fn a_missing_device_id_is_a_400_naming_the_header() {
    let api = api().await;
    let login = api.post("/v1/auth/login", json!({ "username": "a@example.com", "password": "x" }), &[]).await;
    assert_eq!((login.status, login.code()), (StatusCode::BAD_REQUEST, "device_required"), "{}", login.body);
    assert!(login.body["detail"].as_str().unwrap().contains("X-Device-ID"), "{}", login.body);
    let refresh = api.post("/v1/auth/refresh", json!({ "refresh_token": "x.y.z" }), &[]).await;
    assert_eq!(refresh.code(), "device_required", "{}", refresh.body);
}

/// A resend after the sign-up completed says so in words, in every
/// language (no raw `done`).
#[tokio::test]
async fn a_step_after_completion_says_the_sign_up_is_complete() {
    let api = api().await;
    let body = json!({
        "email": "done@example.com", "password": "Str0ng!Pass", "first_name": "Anna", "last_name": "Muster",
        "terms_accepted": true, "privacy_policy_accepted": true,
    });
    let id = api.post("/v1/registrations", body, &[]).await.body["registration_id"].as_str().unwrap().to_owned();
    let done = api.post(&format!("/v1/registrations/{id}/email/verify"), json!({ "code": CODE }), &[]).await;
    assert_eq!(done.status, StatusCode::CREATED, "{}", done.body);
    for (lang, words) in [("en", "already complete"), ("de", "bereits abgeschlossen"), ("fr", "déjà terminée")] {
        let resend = api
            .post(
                &format!("/v1/registrations/{id}/resend"),
                json!({ "channel": "email" }),
                &[("Accept-Language", lang)],
            )
            .await;
        assert_eq!((resend.status, resend.code()), (StatusCode::CONFLICT, "step_out_of_order"), "{}", resend.body);
        let detail = resend.body["detail"].as_str().unwrap();
        assert!(detail.contains(words) && !detail.contains("done"), "{lang}: {detail}");
    }
}

/// A passkey asked for a second factor the sign-in does not offer (the
/// account has none) is a problem of its own, not a field error.
#[tokio::test]
async fn a_passkey_for_an_account_without_one_says_so() {
    let api = api().await;
    api.sign_up_with_phone("sms@example.com", "+41791230001").await;
    let login = api.login("sms@example.com", PASSWORD, "d1").await;
    let device = [("X-Device-ID", "d1")];
    assert_eq!(login.body["factors"], json!(["sms"]), "{}", login.body);
    let options =
        api.post("/v1/auth/passkey/options", json!({ "challenge_id": login.body["challenge_id"] }), &device).await;
    assert_eq!((options.status, options.code()), (StatusCode::CONFLICT, "passkey_not_offered"), "{}", options.body);
    assert!(options.body["detail"].as_str().unwrap().contains("no passkey"), "{}", options.body);
}
