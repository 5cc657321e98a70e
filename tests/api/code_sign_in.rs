//! Passwordless sign-in by a code (`POST /v1/auth/code/send`,
//! `POST /v1/auth/code`; policy `sign_in_methods`) over HTTP, on both
//! stores: off unless enabled, one factor proved per code (the second must be
//! another), the same answers for names that get no code, codes and
//! passwords sharing one lockout under a parallel burst, single use, a failed
//! send that leaves nothing behind, and erasure with the account.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use shared::domain::policy::{SecondFactorPolicy, SignInMethod};
use shared::domain::tenant::{IpLimits, Policy};

use crate::common::{Answer, Api, Backend, CODE, Flows, PASSWORD};

/// A tenant with every sign-in method, the sandbox's fixed code, no phone
/// asked at sign-up, and room for 50 sign-ins at once from one address.
fn policy() -> Policy {
    Policy {
        sandbox_code: Some(CODE.into()),
        ip_limits: IpLimits { logins_per_5_min: 1000, ..IpLimits::default() },
        phone_required: false,
        sign_in_methods: SignInMethod::ALL.to_vec(),
        ..Policy::default()
    }
}

async fn api(backend: Backend) -> Api {
    Api::start(backend, policy()).await
}

fn claims(token: &Value) -> Value {
    let payload = token.as_str().expect("a token").split('.').nth(1).expect("a JWT");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).expect("base64url")).expect("JSON claims")
}

impl Api {
    async fn send_sign_in_code(&self, username: &str, channel: Option<&str>) -> Answer {
        let mut body = json!({ "username": username });
        if let Some(channel) = channel {
            body["channel"] = json!(channel);
        }
        self.post("/v1/auth/code/send", body, &[("X-Device-ID", "d1")]).await
    }

    async fn sign_in_with_code(&self, username: &str, code: &str, device: &str) -> Answer {
        self.post("/v1/auth/code", json!({ "username": username, "code": code }), &[("X-Device-ID", device)]).await
    }
}

on_both_stores!(api;
    an_emailed_code_signs_in_once,
    the_second_factor_after_a_code_is_another_factor,
    names_that_get_no_code_get_the_same_answer,
    fifty_parallel_wrong_codes_are_counted_one_by_one_toward_the_lockout,
    fifty_parallel_right_codes_sign_in_once,
    a_failed_send_leaves_nothing_behind,
    closing_the_account_erases_its_pending_sign_in_code,
    a_session_end_voids_a_pending_code,
    a_decoy_never_replaces_a_pending_code,
);

/// A code drawn before every session ended (logout-all here; a reset or a
/// status change do the same) no longer signs in.
async fn a_session_end_voids_a_pending_code(api: Api) {
    let tokens = api.sign_up("epoch@example.com").await;
    assert_eq!(api.send_sign_in_code("epoch@example.com", None).await.status, StatusCode::ACCEPTED);
    let auth = format!("Bearer {}", tokens["access_token"].as_str().unwrap());
    let headers = [("Authorization", auth.as_str()), ("X-Device-ID", "signup")];
    let out = api.post("/v1/auth/logout-all", json!({}), &headers).await;
    assert_eq!(out.status, StatusCode::OK, "{}", out.body);
    assert_eq!(api.sign_in_with_code("epoch@example.com", CODE, "d1").await.code(), "invalid_code");
}

/// Asking by a channel the user lacks (a decoy) leaves the code sent by the
/// other one working.
async fn a_decoy_never_replaces_a_pending_code(api: Api) {
    api.sign_up("decoy@example.com").await;
    assert_eq!(api.send_sign_in_code("decoy@example.com", None).await.status, StatusCode::ACCEPTED);
    api.advance(61);
    assert_eq!(api.send_sign_in_code("decoy@example.com", Some("sms")).await.status, StatusCode::ACCEPTED);
    let tokens = api.sign_in_with_code("decoy@example.com", CODE, "d1").await;
    assert_eq!(tokens.status, StatusCode::OK, "the e-mailed code still works: {}", tokens.body);
}

/// The default policy offers the password and passkeys only: both code
/// routes answer 403, and a tenant without `password` refuses the login.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn code_sign_in_is_off_unless_the_tenant_enables_it() {
    let default = Api::start(Backend::Memory, Policy { sandbox_code: Some(CODE.into()), ..Policy::default() }).await;
    let sent = default.send_sign_in_code("anna@example.com", None).await;
    assert_eq!((sent.status, sent.code()), (StatusCode::FORBIDDEN, "sign_in_method_disabled"), "{}", sent.body);
    let signed = default.sign_in_with_code("anna@example.com", CODE, "d1").await;
    assert_eq!(signed.code(), "sign_in_method_disabled", "{}", signed.body);

    let codes_only = Policy { sign_in_methods: vec![SignInMethod::EmailCode], ..policy() };
    let api = Api::start(Backend::Memory, codes_only).await;
    api.sign_up("anna@example.com").await;
    let login = api.post(
        "/v1/auth/login",
        json!({ "username": "anna@example.com", "password": PASSWORD }),
        &[("X-Device-ID", "d1")],
    );
    let login = login.await;
    assert_eq!((login.status, login.code()), (StatusCode::FORBIDDEN, "sign_in_method_disabled"), "{}", login.body);
    // E-mail codes only: a text is refused, the e-mail goes.
    assert_eq!(api.send_sign_in_code("anna@example.com", Some("sms")).await.code(), "sign_in_method_disabled");
    assert_eq!(api.send_sign_in_code("anna@example.com", None).await.status, StatusCode::ACCEPTED);
    let tokens = api.sign_in_with_code("anna@example.com", CODE, "d1").await;
    assert!(tokens.body["access_token"].is_string(), "{}", tokens.body);
}

/// An e-mailed code signs a user without a second factor in, with `otp` as
/// its method; the code works once.
async fn an_emailed_code_signs_in_once(api: Api) {
    api.sign_up("once@example.com").await;
    let before = api.app.messages_to("once@example.com").len();
    let sent = api.send_sign_in_code("ONCE@example.com", None).await;
    assert_eq!(sent.status, StatusCode::ACCEPTED, "{}", sent.body);
    assert_eq!(api.app.messages_to("once@example.com").len(), before + 1, "the code went to the address");

    let wrong = api.sign_in_with_code("once@example.com", "654321", "d1").await;
    assert_eq!((wrong.status, wrong.code()), (StatusCode::UNPROCESSABLE_ENTITY, "invalid_code"), "{}", wrong.body);
    let tokens = api.sign_in_with_code("once@example.com", CODE, "d1").await;
    assert_eq!(tokens.status, StatusCode::OK, "{}", tokens.body);
    assert_eq!(claims(&tokens.body["access_token"])["amr"], json!(["otp"]));
    let again = api.sign_in_with_code("once@example.com", CODE, "d1").await;
    assert_eq!(again.code(), "invalid_code", "a code works once: {}", again.body);
}

/// A code proves its factor; the second factor must be another: the SMS
/// after an e-mailed code, the e-mail after a texted one.
async fn the_second_factor_after_a_code_is_another_factor(api: Api) {
    let tokens = api.sign_up("two@example.com").await;
    api.add_phone(&format!("Bearer {}", tokens["access_token"].as_str().unwrap()), "+41791112201").await;

    assert_eq!(api.send_sign_in_code("two@example.com", None).await.status, StatusCode::ACCEPTED);
    let challenge = api.sign_in_with_code("two@example.com", CODE, "d1").await;
    assert_eq!(challenge.body["mfa_required"], true, "{}", challenge.body);
    assert_eq!(challenge.body["factors"], json!(["sms"]), "never the e-mail again: {}", challenge.body);
    let answer = json!({ "challenge_id": challenge.body["challenge_id"], "code": CODE });
    let signed = api.post("/v1/auth/mfa", answer, &[("X-Device-ID", "d1")]).await;
    assert_eq!(signed.status, StatusCode::OK, "{}", signed.body);
    assert_eq!(claims(&signed.body["access_token"])["amr"], json!(["otp", "sms", "mfa"]));

    api.advance(120);
    let texted = api.send_sign_in_code("+41791112201", None).await;
    assert_eq!(texted.status, StatusCode::ACCEPTED, "{}", texted.body);
    let challenge = api.sign_in_with_code("+41 79 111 22 01", CODE, "d2").await;
    assert_eq!(challenge.body["factors"], json!(["email"]), "{}", challenge.body);
    let answer = json!({ "challenge_id": challenge.body["challenge_id"], "code": CODE });
    let signed = api.post("/v1/auth/mfa", answer, &[("X-Device-ID", "d2")]).await;
    assert_eq!(claims(&signed.body["access_token"])["amr"], json!(["sms", "otp", "mfa"]), "{}", signed.body);
}

/// Where the tenant requires a second factor and the user has only its
/// address, an e-mailed code cannot be followed by another: refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_required_second_factor_is_never_a_second_emailed_code() {
    for backend in [Backend::Memory, Backend::DynamoDb] {
        let required = Policy {
            second_factors: SecondFactorPolicy { required: true, ..SecondFactorPolicy::default() },
            ..policy()
        };
        let api = Api::start(backend, required).await;
        api.sign_up("only@example.com").await;
        // The password's second factor is the e-mailed code…
        let body = json!({ "username": "only@example.com", "password": PASSWORD });
        let login = api.post("/v1/auth/login", body, &[("X-Device-ID", "d1")]).await;
        assert_eq!(login.body["factors"], json!(["email"]), "{}", login.body);
        // …but after an e-mailed sign-in code there is no other.
        api.advance(120);
        assert_eq!(api.send_sign_in_code("only@example.com", None).await.status, StatusCode::ACCEPTED);
        let refused = api.sign_in_with_code("only@example.com", CODE, "d2").await;
        assert_eq!((refused.status, refused.code()), (StatusCode::FORBIDDEN, "mfa_unavailable"), "{}", refused.body);
    }
}

/// Unknown names, inactive users and a channel the user lacks get the
/// answer a real send gets, and no message; the per-name cooldown answers
/// every name alike.
async fn names_that_get_no_code_get_the_same_answer(api: Api) {
    api.sign_up("real@example.com").await;
    let suspended = api.sign_up("gone@example.com").await;
    let id = suspended["user_id"].as_str().unwrap();
    let admin = format!("Bearer {}", api.app.admin_token);
    let status = json!({ "status": "suspended", "reason": "test" });
    let headers = [("Authorization", admin.as_str())];
    let changed = api.send(Method::POST, &format!("/v1/users/{id}/status"), Some(status), &headers).await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.body);

    let real = api.send_sign_in_code("real@example.com", None).await;
    let messages = shared::testing::outbox_messages(&api.app.outbox).len();
    // After the real send's cooldown: the same user by SMS (it has no phone).
    api.advance(120);
    for (name, channel) in [("real@example.com", Some("sms")), ("nobody@example.com", None), ("gone@example.com", None)]
    {
        let answer = api.send_sign_in_code(name, channel).await;
        assert_eq!((answer.status, &answer.body), (real.status, &real.body), "{name} {channel:?}");
    }
    assert_eq!(shared::testing::outbox_messages(&api.app.outbox).len(), messages, "no message for any of them");
    // A code for a name that got none never signs in.
    assert_eq!(api.sign_in_with_code("nobody@example.com", CODE, "d1").await.code(), "invalid_code");
    assert_eq!(api.sign_in_with_code("gone@example.com", CODE, "d1").await.code(), "invalid_code");

    let known = api.send_sign_in_code("real@example.com", None).await;
    let unknown = api.send_sign_in_code("nobody@example.com", None).await;
    assert_eq!(known.code(), "rate_limited", "{}", known.body);
    assert_eq!(
        (known.status, known.code(), known.retry_after()),
        (unknown.status, unknown.code(), unknown.retry_after())
    );
}

/// Each wrong code is an attempt against the account's lockout, spent before
/// the comparison: of 50 at once, exactly the five free failures answer
/// `invalid_code`; the rest meet the lock (401 with `Retry-After`). The code
/// is used up, and the password is locked out too.
async fn fifty_parallel_wrong_codes_are_counted_one_by_one_toward_the_lockout(api: Api) {
    api.sign_up("burst@example.com").await;
    assert_eq!(api.send_sign_in_code("burst@example.com", None).await.status, StatusCode::ACCEPTED);
    let wrong = (0..50).map(|n| format!("{:06}", 200_000 + n));
    let api = &api;
    let attempts = wrong.map(|code| async move { api.sign_in_with_code("burst@example.com", &code, "d1").await });
    let answers = futures::future::join_all(attempts).await;
    let free = answers.iter().filter(|a| a.code() == "invalid_code").count();
    assert_eq!(free, 5, "the free failures, counted one by one");
    assert!(
        answers.iter().filter(|a| a.code() != "invalid_code").all(|a| a.status == StatusCode::UNAUTHORIZED
            && a.code() == "invalid_credentials"
            && a.retry_after().is_some()),
        "the rest meet the lock"
    );
    let password = api.post(
        "/v1/auth/login",
        json!({ "username": "burst@example.com", "password": PASSWORD }),
        &[("X-Device-ID", "d2")],
    );
    assert!(password.await.retry_after().is_some(), "the account is locked for the password too");
    // The right code now meets the lock; once the failures are forgotten,
    // it is used up.
    assert_eq!(api.sign_in_with_code("burst@example.com", CODE, "d1").await.status, StatusCode::UNAUTHORIZED);
    use shared::domain::credentials::{FAILURE_MEMORY_SECS, MAX_LOCK_SECS};
    api.advance(MAX_LOCK_SECS + FAILURE_MEMORY_SECS + 1);
    assert_eq!(api.sign_in_with_code("burst@example.com", CODE, "d1").await.code(), "invalid_code");
}

/// Of 50 right answers at once, one signs in.
async fn fifty_parallel_right_codes_sign_in_once(api: Api) {
    api.sign_up("race@example.com").await;
    assert_eq!(api.send_sign_in_code("race@example.com", None).await.status, StatusCode::ACCEPTED);
    let answers =
        futures::future::join_all((0..50).map(|_| api.sign_in_with_code("race@example.com", CODE, "d1"))).await;
    let signed = answers.iter().filter(|a| a.status == StatusCode::OK).count();
    assert_eq!(signed, 1, "{:?}", answers.iter().map(|a| a.body.to_string()).collect::<Vec<_>>());
    assert!(answers.iter().all(|a| a.status == StatusCode::OK || a.status.is_client_error()));
}

/// A send that fails is a 503 and leaves no code and no cooldown: the user
/// asks again at once, and that code works. So does a second factor's text
/// that fails after the code was spent.
async fn a_failed_send_leaves_nothing_behind(api: Api) {
    api.sign_up("flaky@example.com").await;
    api.app.sender.fail_email(true);
    let failed = api.send_sign_in_code("flaky@example.com", None).await;
    assert_eq!(failed.status, StatusCode::SERVICE_UNAVAILABLE, "{}", failed.body);
    assert_eq!(api.sign_in_with_code("flaky@example.com", CODE, "d1").await.code(), "invalid_code", "no code stands");
    api.app.sender.fail_email(false);
    assert_eq!(api.send_sign_in_code("flaky@example.com", None).await.status, StatusCode::ACCEPTED, "no cooldown left");
    assert_eq!(api.sign_in_with_code("flaky@example.com", CODE, "d1").await.status, StatusCode::OK);

    // The code proved, but the second factor's text failed: 503, and a new
    // code may be asked for at once (the spent one is never restored).
    let tokens = api.sign_up("flaky2@example.com").await;
    api.add_phone(&format!("Bearer {}", tokens["access_token"].as_str().unwrap()), "+41791112202").await;
    api.advance(120);
    assert_eq!(api.send_sign_in_code("flaky2@example.com", None).await.status, StatusCode::ACCEPTED);
    api.app.sender.fail_sms(true);
    let failed = api.sign_in_with_code("flaky2@example.com", CODE, "d1").await;
    assert_eq!(failed.status, StatusCode::SERVICE_UNAVAILABLE, "{}", failed.body);
    api.app.sender.fail_sms(false);
    assert_eq!(
        api.send_sign_in_code("flaky2@example.com", None).await.status,
        StatusCode::ACCEPTED,
        "no cooldown left"
    );
    let challenge = api.sign_in_with_code("flaky2@example.com", CODE, "d1").await;
    assert_eq!(challenge.body["factors"], json!(["sms"]), "{}", challenge.body);
}

/// Closing the account deletes a sign-in code asked for its address.
async fn closing_the_account_erases_its_pending_sign_in_code(api: Api) {
    let tokens = api.sign_up("erase@example.com").await;
    assert_eq!(api.send_sign_in_code("erase@example.com", None).await.status, StatusCode::ACCEPTED);
    let app = &api.app.app;
    let subject = shared::domain::limits::destination(app, &api.app.tenant.id, "erase@example.com").unwrap();
    let key = shared::table::sign_in_code_key(&subject);
    assert!(app.store.get(&key).await.unwrap().is_some(), "the code is stored under the name");
    let auth = format!("Bearer {}", tokens["access_token"].as_str().unwrap());
    let headers = [("Authorization", auth.as_str())];
    let closed = api.send(Method::DELETE, "/v1/me", Some(json!({ "password": PASSWORD })), &headers).await;
    assert_eq!(closed.status, StatusCode::OK, "{}", closed.body);
    assert!(app.store.get(&key).await.unwrap().is_none(), "closing erased it");
}
