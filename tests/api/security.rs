//! Security round 3 (issue 23): token claims that follow the user, sign-in
//! steps in a safe order, step-ups counted per session, erasure of every
//! copy, shared per-address limits, notices and headers, the SMS cooldown at
//! login, two SMS allowances, and the back office behind a second factor.
//! Each over HTTP against the local API, on both stores where a store is
//! involved.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use shared::domain::tenant::{CodePolicy, Policy, SmsPolicy};

use crate::common::{self, Answer, Api, Backend, CODE, Flows, PASSWORD};

/// A tenant whose codes are the sandbox's fixed `123456`, whose sign-up
/// asks for a phone (so a signed-up user has SMS 2FA), and whose
/// per-address hourly sends are 5, and whose texts anyone can cause are 3
/// an hour (those to verified phones keep the default allowance).
fn policy() -> Policy {
    Policy {
        sandbox_code: Some(CODE.into()),
        codes: CodePolicy { max_sends: 5, ..CodePolicy::default() },
        sms: SmsPolicy { per_hour: 3, ..SmsPolicy::default() },
        ..Policy::default()
    }
}

async fn api(backend: Backend) -> Api {
    Api::start(backend, policy()).await
}

/// The claims of a JWT, read without checking it (the tests' own reading).
fn claims(token: &str) -> Value {
    let payload = token.split('.').nth(1).expect("a JWT");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).expect("base64url")).expect("JSON claims")
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

impl Api {
    /// Signs up with an e-mail and a phone (both verified: SMS 2FA from
    /// then on); the registration id and the completion's answer.
    async fn register_with_phone(&self, email: &str, phone: &str) -> (String, Value) {
        let body = json!({
            "email": email, "password": PASSWORD, "first_name": "Anna", "last_name": "Muster",
            "terms_accepted": true, "privacy_policy_accepted": true,
        });
        let started = self.post("/v1/registrations", body, &[]).await;
        assert_eq!(started.status, StatusCode::ACCEPTED, "{}", started.body);
        let id = started.body["registration_id"].as_str().unwrap().to_owned();
        let step = |path: &str| format!("/v1/registrations/{id}/{path}");
        let verified = self.post(&step("email/verify"), json!({ "code": CODE }), &[]).await;
        assert_eq!(verified.body["next"], "add_phone", "{}", verified.body);
        let added = self.post(&step("phone"), json!({ "phone": phone }), &[]).await;
        assert_eq!(added.status, StatusCode::ACCEPTED, "{}", added.body);
        let done = self.post(&step("phone/verify"), json!({ "code": CODE }), &[("X-Device-ID", "signup")]).await;
        assert_eq!(done.status, StatusCode::CREATED, "{}", done.body);
        (id, done.body)
    }

    /// Signs in through the SMS code; the tokens.
    async fn login_with_sms(&self, username: &str, device: &str) -> Value {
        let login = self.login(username, PASSWORD, device).await;
        assert_eq!(login.body["mfa_required"], true, "{}", login.body);
        let tokens = self.mfa(&login.body["challenge_id"], "sms", CODE, device).await;
        assert_eq!(tokens.status, StatusCode::OK, "{}", tokens.body);
        tokens.body
    }

    /// A request with the admin token.
    async fn as_admin(&self, method: Method, path: &str, body: Option<Value>) -> Answer {
        let admin = bearer(&self.app.admin_token);
        self.send(method, path, body, &[("Authorization", admin.as_str())]).await
    }

    /// A user created by the admin token with `extra` fields (no phone:
    /// its login answers tokens at once); its id.
    async fn created_user(&self, email: &str, extra: Value) -> String {
        let mut body = json!({
            "email": email, "first_name": "Uma", "last_name": "User", "password": PASSWORD, "user_type": "consumer",
            "terms_accepted": true, "privacy_policy_accepted": true,
        });
        for (field, value) in extra.as_object().unwrap() {
            body[field] = value.clone();
        }
        let created = self.as_admin(Method::POST, "/v1/users", Some(body)).await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
        created.body["user_id"].as_str().unwrap().to_owned()
    }
}

on_both_stores!(api;
    removed_roles_are_gone_from_the_next_refreshed_token,
    a_required_new_password_is_asked_for_only_after_the_second_factor,
    step_ups_are_counted_per_session_not_against_the_account_lockout,
    fifty_parallel_wrong_step_ups_compare_at_most_five_and_end_the_session,
    closing_the_account_erases_its_sign_up_record,
    sign_up_starts_and_resends_share_the_address_hourly_limit,
    fifty_parallel_starts_and_resends_send_at_most_five_emails,
    a_login_within_the_sms_cooldown_answers_the_challenge_with_other_factors,
    a_sign_up_flood_leaves_two_factor_texts_going,
    the_back_office_needs_a_session_that_passed_a_second_factor,
    password_changes_and_resets_are_announced,
);

/// Roles are read from the user at every issue: removing one reaches the next
/// refresh (docs/sessions-and-keys.md); `amr` and `auth_time` say how and when
/// the sign-in was.
async fn removed_roles_are_gone_from_the_next_refreshed_token(api: Api) {
    let id = api.created_user("roles@example.com", json!({ "user_type": "consumer", "roles": ["support"] })).await;
    let tokens = api.login("roles@example.com", PASSWORD, "d1").await.body;
    let first = claims(tokens["access_token"].as_str().expect("tokens at once (no second factor)"));
    assert_eq!(first["roles"], json!(["support"]), "{first}");
    assert_eq!(first["amr"], json!(["pwd"]), "{first}");
    assert!(first["auth_time"].as_i64().is_some(), "{first}");

    let patched = api.as_admin(Method::PATCH, &format!("/v1/users/{id}"), Some(json!({ "roles": [] }))).await;
    assert_eq!(patched.status, StatusCode::OK, "{}", patched.body);
    let refreshed = api.refresh(tokens["refresh_token"].as_str().unwrap(), "d1").await;
    assert_eq!(refreshed.status, StatusCode::OK, "{}", refreshed.body);
    let after = claims(refreshed.body["access_token"].as_str().unwrap());
    assert_eq!(after["roles"], json!([]), "the removed role is gone: {after}");
    assert_eq!(refreshed.body["scope"], "", "{}", refreshed.body);
    assert_eq!(after["amr"], first["amr"], "the sign-in's methods stay with the session");
    assert_eq!(after["auth_time"], first["auth_time"]);

    // And a role granted later arrives the same way.
    let granted = api.as_admin(Method::PATCH, &format!("/v1/users/{id}"), Some(json!({ "roles": ["member"] }))).await;
    assert_eq!(granted.status, StatusCode::OK, "{}", granted.body);
    let again = api.refresh(refreshed.body["refresh_token"].as_str().unwrap(), "d1").await;
    assert_eq!(claims(again.body["access_token"].as_str().unwrap())["roles"], json!(["member"]));
}

/// First factor, second factor, then the new password the back office
/// required: the old password alone cannot choose the owner's new one.
async fn a_required_new_password_is_asked_for_only_after_the_second_factor(api: Api) {
    let (_, done) = api.register_with_phone("order@example.com", "+41791110001").await;
    let id = done["user_id"].as_str().unwrap().to_owned();
    let required = json!({ "method": "required", "reason": "rotation" });
    let asked = api.as_admin(Method::POST, &format!("/v1/users/{id}/password-reset"), Some(required)).await;
    assert_eq!(asked.status, StatusCode::OK, "{}", asked.body);

    // The password alone leads to the second factor, not to the new password.
    let login = api.login("order@example.com", PASSWORD, "d1").await;
    assert_eq!(login.body["mfa_required"], true, "{}", login.body);
    assert!(login.body.get("password_change_required").is_none(), "{}", login.body);
    // The second factor's challenge cannot be used to set a password.
    let attempt = json!({ "challenge_id": login.body["challenge_id"], "new_password": "Ch0sen!ByThief" });
    let refused = api.post("/v1/auth/password/challenge", attempt, &[("X-Device-ID", "d1")]).await;
    assert!(refused.status.is_client_error(), "{}", refused.body);
    assert!(api.login("order@example.com", "Ch0sen!ByThief", "d2").await.body["access_token"].is_null());

    let answer = json!({ "challenge_id": login.body["challenge_id"], "code": CODE });
    let next = api.post("/v1/auth/mfa", answer, &[("X-Device-ID", "d1")]).await;
    assert_eq!(next.body["password_change_required"], true, "{}", next.body);
    let change = json!({ "challenge_id": next.body["challenge_id"], "new_password": "N3w!Secret" });
    let tokens = api.post("/v1/auth/password/challenge", change, &[("X-Device-ID", "d1")]).await;
    assert_eq!(tokens.status, StatusCode::OK, "{}", tokens.body);
    let amr = claims(tokens.body["access_token"].as_str().unwrap())["amr"].clone();
    assert_eq!(amr, json!(["pwd", "sms", "mfa"]), "both factors passed before the new password");
    // The new password now works, and still asks for the second factor.
    assert_eq!(api.login("order@example.com", "N3w!Secret", "d3").await.body["mfa_required"], true);
}

/// An attacker who keeps the account locked from outside does not lock the
/// signed-in owner out of its own password change.
async fn step_ups_are_counted_per_session_not_against_the_account_lockout(api: Api) {
    api.created_user("owner@example.com", json!({})).await;
    let tokens = api.login("owner@example.com", PASSWORD, "owner").await.body;
    let auth = bearer(tokens["access_token"].as_str().unwrap());
    for _ in 0..8 {
        let refused = api.login("owner@example.com", "Wr0ng!Pass", "attacker").await;
        assert_eq!(refused.code(), "invalid_credentials", "{}", refused.body);
    }
    let locked = api.login("owner@example.com", PASSWORD, "attacker").await;
    assert!(locked.retry_after().is_some(), "the account is locked: {}", locked.body);

    let change = json!({ "current_password": PASSWORD, "new_password": "N3w!Secret" });
    let changed = api.post("/v1/me/password", change, &[("Authorization", auth.as_str())]).await;
    assert_eq!(changed.status, StatusCode::OK, "the owner changes its password: {}", changed.body);
}

/// A step-up's try is spent before the comparison: of 50 wrong passwords
/// sent at once from one session, at most five are compared (422), the
/// rest are refused, and the session is over.
async fn fifty_parallel_wrong_step_ups_compare_at_most_five_and_end_the_session(api: Api) {
    api.created_user("burst@example.com", json!({})).await;
    let tokens = api.login("burst@example.com", PASSWORD, "d1").await.body;
    let auth = bearer(tokens["access_token"].as_str().unwrap());
    let wrong = json!({ "current_password": "Wr0ng!Pass", "new_password": "N3w!Secret" });
    let headers = [("Authorization", auth.as_str())];
    let answers =
        futures::future::join_all((0..50).map(|_| api.post("/v1/me/password", wrong.clone(), &headers))).await;
    let compared = answers.iter().filter(|a| a.code() == "incorrect_password").count();
    assert!(compared <= 5, "{compared} wrong passwords were compared");
    assert!(answers.iter().all(|a| a.status.is_client_error()), "every answer a 4xx");
    // The session ended: its access token and refresh token are refused,
    // even with the right password.
    let right = json!({ "current_password": PASSWORD, "new_password": "N3w!Secret" });
    let after = api.post("/v1/me/password", right, &[("Authorization", auth.as_str())]).await;
    assert_eq!(after.status, StatusCode::UNAUTHORIZED, "{}", after.body);
    assert_eq!(api.refresh(tokens["refresh_token"].as_str().unwrap(), "d1").await.status, StatusCode::UNAUTHORIZED);
    // The account itself is not locked: a new sign-in works.
    assert!(api.login("burst@example.com", PASSWORD, "d2").await.body["access_token"].is_string());
}

/// Closing erases every copy: the completed sign-up answers 404 after it.
async fn closing_the_account_erases_its_sign_up_record(api: Api) {
    let (registration, done) = api.register_with_phone("erase@example.com", "+41791110002").await;
    let status = api.get(&format!("/v1/registrations/{registration}"), &[]).await;
    assert_eq!(status.status, StatusCode::OK, "{}", status.body);
    assert_eq!(status.body["email"], "erase@example.com");
    let auth = bearer(done["access_token"].as_str().unwrap());
    let closed =
        api.send(Method::DELETE, "/v1/me", Some(json!({ "password": PASSWORD })), &[("Authorization", &auth)]).await;
    assert_eq!(closed.status, StatusCode::OK, "{}", closed.body);
    let gone = api.get(&format!("/v1/registrations/{registration}"), &[]).await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND, "{}", gone.body);
    // The address is free for a new sign-up.
    let again = json!({
        "email": "erase@example.com", "password": PASSWORD, "first_name": "Anna", "last_name": "Neu",
        "terms_accepted": true, "privacy_policy_accepted": true,
    });
    assert_eq!(api.post("/v1/registrations", again, &[]).await.status, StatusCode::ACCEPTED);
}

/// Five sign-up starts for one address and a resend on each: the resends
/// count toward the same hourly limit, so the inbox gets five e-mails.
async fn sign_up_starts_and_resends_share_the_address_hourly_limit(api: Api) {
    let body = json!({
        "email": "flood@example.com", "password": PASSWORD, "first_name": "Anna", "last_name": "Muster",
        "terms_accepted": true, "privacy_policy_accepted": true,
    });
    let mut ids = Vec::new();
    for _ in 0..5 {
        let started = api.post("/v1/registrations", body.clone(), &[]).await;
        assert_eq!(started.status, StatusCode::ACCEPTED, "{}", started.body);
        ids.push(started.body["registration_id"].as_str().unwrap().to_owned());
    }
    // Past each registration's own 60 s cooldown, within the hour.
    api.app.clock.advance(chrono::Duration::seconds(61));
    for id in &ids {
        let resent = api.post(&format!("/v1/registrations/{id}/resend"), json!({ "channel": "email" }), &[]).await;
        assert_eq!(resent.status, StatusCode::TOO_MANY_REQUESTS, "{}", resent.body);
        assert!(resent.retry_after().is_some());
    }
    assert_eq!(api.app.messages_to("flood@example.com").len(), 5, "five e-mails an hour to one address");
}

/// The shared limit holds under a burst: 40 resends and 10 new sign-ups
/// for one address at once put at most five e-mails in its inbox.
async fn fifty_parallel_starts_and_resends_send_at_most_five_emails(api: Api) {
    let body = json!({
        "email": "burst@example.com", "password": PASSWORD, "first_name": "Anna", "last_name": "Muster",
        "terms_accepted": true, "privacy_policy_accepted": true,
    });
    let first = api.post("/v1/registrations", body.clone(), &[]).await;
    let id = first.body["registration_id"].as_str().unwrap().to_owned();
    api.app.clock.advance(chrono::Duration::seconds(61));
    let resend = format!("/v1/registrations/{id}/resend");
    let resends = (0..40).map(|_| api.post(&resend, json!({ "channel": "email" }), &[]));
    let starts = (0..10).map(|_| api.post("/v1/registrations", body.clone(), &[]));
    let (resent, started) =
        futures::future::join(futures::future::join_all(resends), futures::future::join_all(starts)).await;
    let answers: Vec<&Answer> = resent.iter().chain(&started).collect();
    assert!(answers.iter().all(|a| a.status.is_success() || a.status.is_client_error()), "no 5xx");
    let sent = api.app.messages_to("burst@example.com").len();
    assert!(sent <= 5, "{sent} e-mails within the hour");
    assert!(sent >= 2, "the first and at least one more went out: {sent}");
}

/// A login again within the SMS cooldown (signed out and in again) is not
/// a 429: it answers the challenge with the login's factors and when a text
/// may be sent again; never with a factor the login would not offer (the
/// e-mail's code cannot stand in for the SMS).
async fn a_login_within_the_sms_cooldown_answers_the_challenge_with_other_factors(api: Api) {
    api.register_with_phone("again@example.com", "+41791110003").await;
    let tokens = api.login_with_sms("again@example.com", "d1").await;
    let auth = bearer(tokens["access_token"].as_str().unwrap());
    let out = api.send(Method::POST, "/v1/auth/logout", None, &[("Authorization", &auth), ("X-Device-ID", "d1")]).await;
    assert_eq!(out.status, StatusCode::OK, "{}", out.body);
    let texts = api.app.messages_to("+41791110003").len();

    let login = api.login("again@example.com", PASSWORD, "d1").await;
    assert_eq!(login.status, StatusCode::OK, "{}", login.body);
    assert_eq!(login.body["mfa_required"], true, "{}", login.body);
    assert_eq!(login.body["factors"], json!(["sms"]), "{}", login.body);
    let wait = login.body["retry_after"].as_u64().expect("retry_after for a new text");
    assert!((1..=60).contains(&wait), "{wait}");
    assert!(login.body.get("channel").is_none(), "no code was sent: {}", login.body);
    assert_eq!(api.app.messages_to("+41791110003").len(), texts, "no new text within the cooldown");

    // The inbox cannot answer for the phone.
    let challenge = login.body["challenge_id"].clone();
    let device = [("X-Device-ID", "d1")];
    let mails = api.app.messages_to("again@example.com").len();
    let by_mail = api.post("/v1/auth/mfa/send", json!({ "challenge_id": challenge, "factor": "email" }), &device).await;
    assert_eq!(by_mail.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", by_mail.body);
    assert_eq!(api.app.messages_to("again@example.com").len(), mails, "no e-mailed code");
    // Once the cooldown is over, a text goes and signs in.
    api.app.clock.advance(chrono::Duration::seconds(wait as i64));
    let sent = api.post("/v1/auth/mfa/send", json!({ "challenge_id": challenge }), &device).await;
    assert_eq!(sent.status, StatusCode::ACCEPTED, "{}", sent.body);
    let answer = json!({ "challenge_id": challenge, "factor": "sms", "code": CODE });
    let signed_in = api.post("/v1/auth/mfa", answer, &device).await;
    assert_eq!(signed_in.status, StatusCode::OK, "{}", signed_in.body);
    assert_eq!(claims(signed_in.body["access_token"].as_str().unwrap())["amr"], json!(["pwd", "sms", "mfa"]));
}

/// Texts anyone can cause (sign-ups) and texts to verified phones (2FA)
/// spend two allowances: a sign-up flood that spends the first (3 an hour
/// here) leaves 2FA texts going.
async fn a_sign_up_flood_leaves_two_factor_texts_going(api: Api) {
    api.register_with_phone("first@example.com", "+41791110004").await;
    let mut refused = None;
    for n in 0..3 {
        let body = json!({
            "email": format!("flood{n}@example.com"), "password": PASSWORD, "first_name": "Fl", "last_name": "Ood",
            "terms_accepted": true, "privacy_policy_accepted": true,
        });
        let id = api.post("/v1/registrations", body, &[]).await.body["registration_id"].as_str().unwrap().to_owned();
        api.post(&format!("/v1/registrations/{id}/email/verify"), json!({ "code": CODE }), &[]).await;
        let phone = json!({ "phone": format!("+4179222000{n}") });
        let added = api.post(&format!("/v1/registrations/{id}/phone"), phone, &[]).await;
        if added.status != StatusCode::ACCEPTED {
            refused = Some((n, added));
            break;
        }
    }
    let (n, refused) = refused.expect("the open allowance ran out");
    assert_eq!(n, 2, "three sign-up texts an hour");
    assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS, "{}", refused.body);
    assert_eq!(refused.code(), "sms_budget_spent", "{}", refused.body);

    let texts = api.app.messages_to("+41791110004").len();
    let login = api.login("first@example.com", PASSWORD, "d1").await;
    assert_eq!(login.body["channel"], "sms", "the 2FA code goes out: {}", login.body);
    assert_eq!(api.app.messages_to("+41791110004").len(), texts + 1);
}

/// A service owner's password alone does not reach the back office; a
/// session that passed a second factor (here an authenticator app) does.
async fn the_back_office_needs_a_session_that_passed_a_second_factor(api: Api) {
    api.created_user("so@example.com", json!({ "user_type": "service_owner" })).await;
    let tokens = api.login("so@example.com", PASSWORD, "so").await.body;
    let auth = bearer(tokens["access_token"].as_str().unwrap());
    let refused = api.get("/v1/users?status=active", &[("Authorization", &auth)]).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    assert_eq!(refused.code(), "second_factor_required", "{}", refused.body);

    // An authenticator app, then a sign-in with it.
    let enrolled =
        api.post("/v1/me/factors/totp", json!({ "current_password": PASSWORD }), &[("Authorization", &auth)]).await;
    assert_eq!(enrolled.status, StatusCode::CREATED, "{}", enrolled.body);
    let secret = common::base32(enrolled.body["secret"].as_str().unwrap());
    let code = common::totp_at(&secret, api.app.clock.now_secs(), 6);
    let confirmed = api.post("/v1/me/factors/totp/confirm", json!({ "code": code }), &[("Authorization", &auth)]).await;
    assert_eq!(confirmed.status, StatusCode::OK, "{}", confirmed.body);
    api.app.clock.advance(chrono::Duration::seconds(30));
    let login = api.login("so@example.com", PASSWORD, "so").await;
    assert_eq!(login.body["mfa_required"], true, "{}", login.body);
    let code = common::totp_at(&secret, api.app.clock.now_secs(), 6);
    let answer = json!({ "challenge_id": login.body["challenge_id"], "factor": "totp", "code": code });
    let tokens = api.post("/v1/auth/mfa", answer, &[("X-Device-ID", "so")]).await;
    assert_eq!(tokens.status, StatusCode::OK, "{}", tokens.body);
    assert_eq!(claims(tokens.body["access_token"].as_str().unwrap())["amr"], json!(["pwd", "otp", "mfa"]));
    let auth = bearer(tokens.body["access_token"].as_str().unwrap());
    let listed = api.get("/v1/users?status=active", &[("Authorization", &auth)]).await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.body);
    // Admin tokens are machine credentials: unaffected.
    assert_eq!(api.as_admin(Method::GET, "/v1/users?status=active", None).await.status, StatusCode::OK);
}

/// A changed password and a reset one are announced to the address.
async fn password_changes_and_resets_are_announced(api: Api) {
    api.created_user("told@example.com", json!({})).await;
    let tokens = api.login("told@example.com", PASSWORD, "d1").await.body;
    let auth = bearer(tokens["access_token"].as_str().unwrap());
    let before = api.app.messages_to("told@example.com").len();
    let change = json!({ "current_password": PASSWORD, "new_password": "N3w!Secret" });
    assert_eq!(api.post("/v1/me/password", change, &[("Authorization", &auth)]).await.status, StatusCode::OK);
    let messages = api.app.messages_to("told@example.com");
    assert_eq!(messages.len(), before + 1, "one notice");
    assert!(messages.last().unwrap()["subject"].as_str().unwrap().contains("password was changed"), "{messages:?}");

    let forgot = api.post("/v1/auth/password/forgot", json!({ "email": "told@example.com" }), &[]).await;
    assert_eq!(forgot.status, StatusCode::ACCEPTED, "{}", forgot.body);
    let reset = json!({ "email": "told@example.com", "code": CODE, "new_password": "An0ther!Secret" });
    let done = api.post("/v1/auth/password/reset", reset, &[]).await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    let last = api.app.messages_to("told@example.com").pop().unwrap();
    assert!(last["subject"].as_str().unwrap().contains("password was reset"), "{last}");
    assert!(!last.to_string().contains("An0ther"), "no password in a notice");
}

/// Headers every answer carries, and `no-store` where tokens are.
#[tokio::test]
async fn every_answer_carries_the_security_headers() {
    let api = Api::start(Backend::Memory, policy()).await;
    api.created_user("head@example.com", json!({})).await;
    let answers = [
        api.login("head@example.com", PASSWORD, "d1").await,
        api.get("/v1/me", &[]).await,
        api.get("/v1/nowhere", &[]).await,
        api.get("/.well-known/jwks.json", &[]).await,
    ];
    for answer in &answers {
        let header = |name: &str| answer.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
        assert_eq!(header("x-content-type-options"), "nosniff", "{}", answer.status);
        assert_eq!(header("strict-transport-security"), "max-age=31536000; includeSubDomains");
        assert_eq!(header("referrer-policy"), "no-referrer");
    }
    assert_eq!(answers[0].headers["cache-control"], "no-store", "tokens are not cached");
    // The device cookie reaches every route that reads it.
    let cookies: Vec<&str> = answers[0].headers.get_all("set-cookie").iter().map(|v| v.to_str().unwrap()).collect();
    let device = cookies.iter().find(|c| c.starts_with("registrar_device=")).expect("a device cookie");
    assert!(device.contains("Path=/v1/auth;"), "{device}");
    // The cookie an older path left in a browser is expired.
    let old = cookies.iter().find(|c| c.contains("Path=/v1/auth/login")).expect("the old path expired");
    assert!(old.starts_with("registrar_device=;") && old.contains("Max-Age=0"), "{old}");
}
