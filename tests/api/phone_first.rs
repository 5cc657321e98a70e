//! Sign-up that starts with the phone (issue 13): the SMS code first, then
//! the e-mail's when an address is given or required; every rule of the
//! e-mail-first path holds (uniqueness, no enumeration, send limits, tries,
//! completion in one transaction). On both stores, codes read from the
//! outbox.

use reqwest::StatusCode;
use serde_json::{Value, json};
use shared::domain::tenant::{Policy, SignUpStart};

use crate::common::{Answer, Api, Backend, Flows, PASSWORD};

const PHONE: &str = "+41791234567";

async fn backend(backend: Backend) -> Backend {
    backend
}

impl Api {
    async fn phone_first(backend: Backend, email_required: bool) -> Self {
        let policy = Policy { sign_up_starts_with: SignUpStart::Phone, email_required, ..Policy::default() };
        Self::start(backend, policy).await
    }

    /// Starts a sign-up with `fields` merged in.
    async fn start_by_phone(&self, fields: Value) -> Answer {
        let mut body = json!({
            "password": PASSWORD, "first_name": "Mia", "last_name": "Phone",
            "terms_accepted": true, "privacy_policy_accepted": true,
        });
        body.as_object_mut().unwrap().extend(fields.as_object().unwrap().clone());
        self.post("/v1/registrations", body, &[]).await
    }

    async fn verify(&self, id: &str, channel: &str, code: &str) -> Answer {
        let path = format!("/v1/registrations/{id}/{channel}/verify");
        self.post(&path, json!({ "code": code }), &[("X-Device-ID", "d")]).await
    }

    fn code(&self, to: &str) -> String {
        self.app.latest_code(to).unwrap_or_else(|| panic!("no code to {to}: {:?}", self.app.messages_to(to)))
    }
}

on_both_stores!(
    backend;
    the_phone_first_then_the_email,
    the_phone_alone_where_no_address_is_required,
    a_taken_phone_answers_like_a_free_one_and_never_completes,
    a_taken_address_is_told_only_to_its_owner,
    two_sign_ups_racing_for_one_phone_make_one_user,
    the_rules_of_the_first_step,
);

async fn the_phone_first_then_the_email(backend: Backend) {
    let api = Api::phone_first(backend, true).await;
    let started = api
        .start_by_phone(json!({ "phone_prefix": "+41", "phone_number": "079 123 45 67", "email": "mia@example.com" }))
        .await;
    assert_eq!(
        (started.status, &started.body["next"]),
        (StatusCode::ACCEPTED, &json!("verify_phone")),
        "{}",
        started.body
    );
    assert!(started.body["message"].as_str().unwrap().contains("phone"), "{}", started.body);
    let id = started.body["registration_id"].as_str().unwrap().to_owned();
    assert!(api.app.messages_to("mia@example.com").is_empty(), "no e-mail before the phone is proven");
    let status = api.get(&format!("/v1/registrations/{id}"), &[]).await.body;
    assert_eq!(status["steps"], json!(["verify_phone", "verify_email"]), "{status}");
    assert_eq!((&status["next"], &status["email"]), (&json!("verify_phone"), &json!("mia@example.com")));
    assert_eq!(status["phone"], "+•••••••••67", "masked");

    // The e-mail step is out of order until the phone is proven.
    let early = api.verify(&id, "email", "123456").await;
    assert_eq!(early.code(), "step_out_of_order", "{}", early.body);
    let phone_done = api.verify(&id, "phone", &api.code(PHONE)).await;
    assert_eq!(
        (phone_done.status, &phone_done.body["next"]),
        (StatusCode::OK, &json!("verify_email")),
        "{}",
        phone_done.body
    );
    let status = api.get(&format!("/v1/registrations/{id}"), &[]).await.body;
    assert_eq!((&status["phone_verified"], &status["next"]), (&json!(true), &json!("verify_email")), "{status}");
    let done = api.verify(&id, "email", &api.code("mia@example.com")).await;
    assert_eq!(done.status, StatusCode::CREATED, "{}", done.body);

    let me = api.me(done.body["access_token"].as_str().unwrap()).await.body;
    assert_eq!(
        (&me["email"], &me["phone"], &me["mfa_enabled"]),
        (&json!("mia@example.com"), &json!(PHONE), &json!(true))
    );
    let login =
        api.post("/v1/auth/login", json!({ "username": PHONE, "password": PASSWORD }), &[("X-Device-ID", "d")]).await;
    assert_eq!(
        (&login.body["mfa_required"], &login.body["channel"]),
        (&json!(true), &json!("email")),
        "{}",
        login.body
    );
}

async fn the_phone_alone_where_no_address_is_required(backend: Backend) {
    let api = Api::phone_first(backend, false).await;
    let started = api.start_by_phone(json!({ "phone": PHONE })).await;
    let id = started.body["registration_id"].as_str().unwrap_or_else(|| panic!("{}", started.body)).to_owned();
    let status = api.get(&format!("/v1/registrations/{id}"), &[]).await.body;
    assert_eq!((&status["steps"], &status["email"]), (&json!(["verify_phone"]), &Value::Null), "{status}");
    let done = api.verify(&id, "phone", &api.code(PHONE)).await;
    assert_eq!(done.status, StatusCode::CREATED, "{}", done.body);
    let token = done.body["access_token"].as_str().unwrap().to_owned();
    let me = api.me(&token).await.body;
    assert_eq!((&me["email"], &me["mfa_enabled"]), (&Value::Null, &json!(false)), "{me}");
    assert_eq!(me["credentials"], json!([{ "type": "phone", "value": PHONE, "verified": true }]));
    let login =
        api.post("/v1/auth/login", json!({ "username": PHONE, "password": PASSWORD }), &[("X-Device-ID", "d")]).await;
    assert!(login.body["access_token"].is_string(), "{}", login.body);

    // An address added later, as any credential: then 2FA is on.
    let bearer = format!("Bearer {token}");
    let auth = [("Authorization", bearer.as_str())];
    let added = api.post("/v1/me/credentials", json!({ "type": "email", "value": "late@example.com" }), &auth).await;
    assert_eq!(added.status, StatusCode::ACCEPTED, "{}", added.body);
    let code = api.code("late@example.com");
    let verified = api.post("/v1/me/credentials/verify", json!({ "type": "email", "code": code }), &auth).await;
    assert_eq!(verified.body["mfa_enabled"], true, "{}", verified.body);
    assert_eq!(api.me(&token).await.body["email"], "late@example.com");
    // An address given anyway is verified like a required one.
    let started = api.start_by_phone(json!({ "phone": "+41791234568", "email": "given@example.com" })).await;
    let id = started.body["registration_id"].as_str().unwrap().to_owned();
    let next = api.verify(&id, "phone", &api.code("+41791234568")).await;
    assert_eq!(next.body["next"], "verify_email", "{}", next.body);
}

async fn a_taken_phone_answers_like_a_free_one_and_never_completes(backend: Backend) {
    let api = Api::phone_first(backend, false).await;
    let first = api.start_by_phone(json!({ "phone": PHONE })).await;
    let id = first.body["registration_id"].as_str().unwrap().to_owned();
    assert_eq!(api.verify(&id, "phone", &api.code(PHONE)).await.status, StatusCode::CREATED);

    let again = api.start_by_phone(json!({ "phone": PHONE })).await;
    assert_eq!(again.status, first.status);
    let keys = |a: &Answer| a.body.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
    assert_eq!(keys(&again), keys(&first), "the same answer as for a free phone");
    let notice = api.app.messages_to(PHONE).pop().unwrap();
    assert!(notice["text"].as_str().unwrap().contains("already has an account"), "{notice}");
    assert!(api.app.latest_code(PHONE).is_none(), "no code went out");
    let id = again.body["registration_id"].as_str().unwrap();
    for guess in ["000000", "111111", "123456"] {
        assert_eq!(api.verify(id, "phone", guess).await.code(), "invalid_code");
    }
}

async fn two_sign_ups_racing_for_one_phone_make_one_user(backend: Backend) {
    let api = Api::phone_first(backend, false).await;
    let a = api.start_by_phone(json!({ "phone": PHONE })).await;
    let code_a = api.code(PHONE);
    api.app.clock.advance(chrono::Duration::seconds(61));
    let b = api.start_by_phone(json!({ "phone": "+41 79 123 45 67" })).await;
    let code_b = api.code(PHONE);
    let (id_a, id_b) = (a.body["registration_id"].as_str().unwrap(), b.body["registration_id"].as_str().unwrap());
    let (done_a, done_b) = tokio::join!(api.verify(id_a, "phone", &code_a), api.verify(id_b, "phone", &code_b));
    let mut statuses = [done_a.status, done_b.status];
    statuses.sort();
    assert_eq!(statuses, [StatusCode::CREATED, StatusCode::CONFLICT], "{} {}", done_a.body, done_b.body);
    let loser = if done_a.status == StatusCode::CONFLICT { done_a } else { done_b };
    assert_eq!(loser.code(), "phone_taken");
}

async fn the_rules_of_the_first_step(backend: Backend) {
    let api = Api::phone_first(backend, true).await;
    let fields = |a: &Answer| -> Vec<(String, String)> {
        a.body["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| (e["field"].as_str().unwrap().to_owned(), e["code"].as_str().unwrap().to_owned()))
            .collect()
    };
    let nothing = api.start_by_phone(json!({})).await;
    assert_eq!(nothing.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(fields(&nothing), [("phone".into(), "required".into()), ("email".into(), "required".into())]);
    let bad = api.start_by_phone(json!({ "phone": "0791234567", "email": "x@example.com" })).await;
    assert_eq!(fields(&bad), [("phone".to_owned(), "invalid_phone".to_owned())]);

    // The SMS cooldown and the code's tries hold as on the e-mail-first path.
    let started = api.start_by_phone(json!({ "phone": PHONE, "email": "rules@example.com" })).await;
    let id = started.body["registration_id"].as_str().unwrap().to_owned();
    let resend = api.post(&format!("/v1/registrations/{id}/resend"), json!({ "channel": "sms" }), &[]).await;
    assert_eq!((resend.status, resend.code()), (StatusCode::TOO_MANY_REQUESTS, "rate_limited"), "{}", resend.body);
    let email_resend = api.post(&format!("/v1/registrations/{id}/resend"), json!({ "channel": "email" }), &[]).await;
    assert_eq!(email_resend.code(), "step_out_of_order", "{}", email_resend.body);
    let code = api.code(PHONE);
    let wrong = if code == "000000" { "111111" } else { "000000" };
    for _ in 0..5 {
        assert_eq!(api.verify(&id, "phone", wrong).await.code(), "invalid_code");
    }
    assert_eq!(api.verify(&id, "phone", &code).await.code(), "invalid_code", "the code is dead after 5 tries");
    api.app.clock.advance(chrono::Duration::seconds(61));
    let resent = api.post(&format!("/v1/registrations/{id}/resend"), json!({ "channel": "sms" }), &[]).await;
    assert_eq!(resent.status, StatusCode::ACCEPTED, "{}", resent.body);
    assert_eq!(api.verify(&id, "phone", &api.code(PHONE)).await.body["next"], "verify_email");
    // The phone of a phone-first sign-up is not replaced.
    let replaced = api.post(&format!("/v1/registrations/{id}/phone"), json!({ "phone": "+41791234568" }), &[]).await;
    assert_eq!(replaced.code(), "step_out_of_order", "{}", replaced.body);

    // A tenant that starts with the e-mail takes no phone in the first step.
    let email_first = Api::start(backend, Policy::default()).await;
    let refused = email_first
        .post(
            "/v1/registrations",
            json!({ "email": "e@example.com", "phone": PHONE, "password": PASSWORD, "first_name": "E", "last_name": "F",
                    "terms_accepted": true, "privacy_policy_accepted": true }),
            &[],
        )
        .await;
    assert_eq!(fields(&refused), [("phone".to_owned(), "unknown_field".to_owned())], "{}", refused.body);
}

/// The phone step of a sign-up whose address is taken answers like any
/// other (the SMS code works); the address's owner gets the "already has an
/// account" notice instead of a code, and the sign-up never completes.
async fn a_taken_address_is_told_only_to_its_owner(backend: Backend) {
    let api = Api::phone_first(backend, true).await;
    let first = api.start_by_phone(json!({ "phone": PHONE, "email": "owner@example.com" })).await;
    let id = first.body["registration_id"].as_str().unwrap().to_owned();
    assert_eq!(api.verify(&id, "phone", &api.code(PHONE)).await.body["next"], "verify_email");
    assert_eq!(api.verify(&id, "email", &api.code("owner@example.com")).await.status, StatusCode::CREATED);

    let other = "+41791234569";
    let again = api.start_by_phone(json!({ "phone": other, "email": "owner@example.com" })).await;
    let id = again.body["registration_id"].as_str().unwrap().to_owned();
    let next = api.verify(&id, "phone", &api.code(other)).await;
    assert_eq!((next.status, &next.body["next"]), (StatusCode::OK, &json!("verify_email")), "{}", next.body);
    let mails = api.app.messages_to("owner@example.com");
    assert_eq!(mails.len(), 2, "the code of the first sign-up, then the notice");
    assert!(mails[1]["text"].as_str().unwrap().contains("you already have one"), "{}", mails[1]);
    assert!(api.app.latest_code("owner@example.com").is_none(), "no code in the notice");
    for guess in ["000000", "123456"] {
        assert_eq!(api.verify(&id, "email", guess).await.code(), "invalid_code");
    }
}
