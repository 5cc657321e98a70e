//! Authentication and sessions (docs/sessions-and-keys.md, docs/security.md)
//! end to end over HTTP, every case on the in-memory store and on DynamoDB
//! (moto). Time moves only through the injected clock.

use std::sync::Arc;

use reqwest::StatusCode;
use serde_json::{Value, json};
use shared::adapters::system::{ManualClock, OsRandom};
use shared::domain::tenant::{IpLimits, Policy, SmsPolicy, issue_api_key, revoke_api_key, save_tenant};
use shared::ports::Condition;
use shared::table::{email_lock_key, user_key};
use shared::testing::{TestOptions, spawn_app};

use crate::common::{self, Answer, Api, Backend, CODE, Flows, PASSWORD};

/// The test app for a backend (for `on_both_stores!`).
async fn api(backend: Backend) -> Api {
    let policy = Policy { phone_required: false, sandbox_code: Some(CODE.into()), ..Policy::default() };
    Api::start(backend, policy).await
}

impl Api {
    /// The stored user of `email` and its version.
    async fn stored_user(&self, email: &str) -> (Value, u64) {
        let lock = self.app.app.store.get(&email_lock_key(&self.app.tenant.id, email)).await.unwrap().expect("lock");
        let item = self
            .app
            .app
            .store
            .get(&user_key(&shared::domain::ids::UserId::parse(lock.body["user_id"].as_str().unwrap()).unwrap()))
            .await
            .unwrap()
            .expect("user");
        (item.body, item.version)
    }

    async fn change_user(&self, email: &str, change: impl FnOnce(&mut Value)) {
        let (mut body, version) = self.stored_user(email).await;
        change(&mut body);
        let key = user_key(&shared::domain::ids::UserId::parse(body["id"].as_str().unwrap()).unwrap());
        let item = shared::ports::Item::new(key, body, None);
        self.app.app.store.put(item, Condition::Version(version)).await.unwrap();
    }

    /// The audit trail's entries of refused sign-ins of `email`'s user, as
    /// the back office reads them (the trail's first page), newest first.
    async fn refusal_entries(&self, email: &str) -> Vec<Value> {
        let id = self.stored_user(email).await.0["id"].as_str().unwrap().to_owned();
        let events = self.audit(&id).await.into_iter();
        events.filter(|e| e["event"] == "login_failed" || e["event"] == "account_locked").collect()
    }
}

/// The refused attempts the entries count in all.
fn refused(entries: &[Value]) -> u64 {
    entries.iter().map(|e| e["detail"]["refused"].as_u64().unwrap_or_else(|| panic!("no count: {e}"))).sum()
}

on_both_stores!(
    api;
    login_by_email_returns_tokens_and_a_cookie,
    login_by_phone_with_two_factors,
    unknown_user_wrong_password_and_lock_answer_alike,
    lockout_sequence_and_its_retry_after,
    a_success_or_quiet_time_resets_the_failures,
    login_rate_limit_per_ip,
    reset_required_challenge,
    old_hash_parameters_are_upgraded_at_login,
    inactive_users_cannot_log_in_or_refresh,
    refresh_rotates_with_a_grace_window_and_reuse_detection,
    parallel_refreshes_of_one_token_both_succeed,
    refresh_is_bound_to_the_device_and_reads_the_cookie,
    a_store_failure_mid_rotation_keeps_the_old_token,
    logout_and_logout_all,
    forgot_and_reset_password,
    change_password_ends_other_sessions,
    me_profile_update_and_credentials,
    closing_the_account_frees_the_email,
    token_attacks_get_401,
    a_login_within_the_cooldown_gets_the_pending_challenge,
    the_second_factor_code_is_resent_within_its_limits,
    confirm_password_is_checked_wherever_a_password_is_set,
    legal_documents_come_after_the_second_factor,
);

async fn login_by_email_returns_tokens_and_a_cookie(api: Api) {
    api.sign_up("anna@example.com").await;
    let answer = api.login(" Anna@Example.com ", PASSWORD, "dev-1").await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert_eq!(answer.body["token_type"], "Bearer");
    let refresh = answer.body["refresh_token"].as_str().unwrap();
    let cookie = answer.headers["set-cookie"].to_str().unwrap();
    assert!(cookie.starts_with(&format!("refresh_token={refresh};")) && cookie.contains("HttpOnly"), "{cookie}");
    let me = api.me(answer.body["access_token"].as_str().unwrap()).await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(me.body["email"], "anna@example.com");
    assert!(me.body.get("password_hash").is_none() && !me.body.to_string().contains("argon2"));
    let missing_device =
        api.post("/v1/auth/login", json!({ "username": "anna@example.com", "password": PASSWORD }), &[]).await;
    // No device id: the client forgot a header (400), no session is involved.
    assert_eq!((missing_device.status, missing_device.code()), (StatusCode::BAD_REQUEST, "device_required"));
    assert!(missing_device.body["detail"].as_str().unwrap().contains("X-Device-ID"), "{}", missing_device.body);
    let bad_device = api.login("anna@example.com", PASSWORD, "tab\there").await;
    assert_eq!(bad_device.code(), "invalid_device");
}

async fn login_by_phone_with_two_factors(api: Api) {
    api.sign_up_with_phone("mfa@example.com", "+41791112233").await;
    // E-mail login: the second factor is the phone.
    let sms_before = api.app.messages_to("+41791112233").len();
    let by_email = api.login("mfa@example.com", PASSWORD, "dev-1").await;
    assert_eq!(by_email.status, StatusCode::OK, "{}", by_email.body);
    assert_eq!((by_email.body["mfa_required"].as_bool(), by_email.body["channel"].as_str()), (Some(true), Some("sms")));
    assert!(by_email.body.get("access_token").is_none());
    assert_eq!(api.app.messages_to("+41791112233").len(), sms_before + 1, "a code was texted");
    api.advance(61);
    // Phone login: the second factor is the e-mail.
    let mails_before = api.app.messages_to("mfa@example.com").len();
    let answer = api.login("+41 79 111 22 33", PASSWORD, "dev-1").await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert_eq!(answer.body["channel"], "email");
    let mails = api.app.messages_to("mfa@example.com");
    assert_eq!(mails.len(), mails_before + 1, "a code was e-mailed");
    assert!(mails.last().unwrap()["subject"].as_str().unwrap().starts_with("Your sign-in code"));
    let challenge = answer.body["challenge_id"].as_str().unwrap();
    let other_device =
        api.post("/v1/auth/mfa", json!({ "challenge_id": challenge, "code": CODE }), &[("X-Device-ID", "dev-2")]).await;
    assert_eq!((other_device.status, other_device.code()), (StatusCode::UNAUTHORIZED, "invalid_device"));
    let wrong = api
        .post("/v1/auth/mfa", json!({ "challenge_id": challenge, "code": "000000" }), &[("X-Device-ID", "dev-1")])
        .await;
    assert_eq!(wrong.code(), "invalid_code");
    let right =
        api.post("/v1/auth/mfa", json!({ "challenge_id": challenge, "code": CODE }), &[("X-Device-ID", "dev-1")]).await;
    assert_eq!(right.status, StatusCode::OK, "{}", right.body);
    assert!(right.body["access_token"].is_string());
    // The wrong e-mailed code is audited as a wrong app code is.
    let user_id = right.body["user_id"].as_str().unwrap();
    let failed: Vec<Value> = api
        .audit(user_id)
        .await
        .into_iter()
        .filter(|e| e["event"] == "mfa_failed")
        .map(|e| e["detail"].clone())
        .collect();
    assert_eq!(failed, [json!({ "factor": "email", "device_id": "dev-1" })]);
    let again =
        api.post("/v1/auth/mfa", json!({ "challenge_id": challenge, "code": CODE }), &[("X-Device-ID", "dev-1")]).await;
    // Spent on use; afterwards it answers like a wrong code (nothing tells a
    // burst which of its guesses came after the right one).
    assert_eq!(again.code(), "invalid_code", "a challenge is spent on use");
}

async fn unknown_user_wrong_password_and_lock_answer_alike(api: Api) {
    api.sign_up("same@example.com").await;
    let unknown = api.login("nobody@example.com", PASSWORD, "d").await;
    let wrong = api.login("same@example.com", "Wr0ng!Pass", "d").await;
    let garbage = api.login("not a name", PASSWORD, "d").await;
    for answer in [&unknown, &wrong, &garbage] {
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
        assert_eq!(answer.code(), "invalid_credentials");
        assert_eq!(answer.retry_after(), None);
    }
    let strip = |v: &Value| {
        let mut v = v.clone();
        v.as_object_mut().unwrap().remove("request_id");
        v
    };
    assert_eq!(strip(&unknown.body), strip(&wrong.body));
    let names = |a: &Answer| {
        let mut names: Vec<String> = a.headers.keys().map(|k| k.to_string()).collect();
        names.sort();
        names
    };
    assert_eq!(names(&unknown), names(&wrong), "same headers");
    for _ in 0..5 {
        api.login("same@example.com", "Wr0ng!Pass", "d").await;
    }
    let locked = api.login("same@example.com", PASSWORD, "d").await;
    assert_eq!(strip(&locked.body), strip(&wrong.body), "a lock looks like wrong credentials");
    assert!(locked.retry_after().is_some(), "except for Retry-After");
}

async fn lockout_sequence_and_its_retry_after(api: Api) {
    api.sign_up("lock@example.com").await;
    let mut seen = Vec::new();
    for failure in 1..=16 {
        let answer = api.login("lock@example.com", "Wr0ng!Pass", "d").await;
        assert_eq!(answer.code(), "invalid_credentials", "failure {failure}");
        seen.push(answer.retry_after());
        // While locked, even the right password is refused with the time left.
        if let Some(wait) = answer.retry_after() {
            let during = api.login("lock@example.com", PASSWORD, "d").await;
            assert_eq!(during.code(), "invalid_credentials");
            assert_eq!(during.retry_after(), Some(wait));
            api.advance(wait as i64);
        }
        if failure % 10 == 0 {
            api.advance(300); // stay inside the per-IP login limit
        }
    }
    let expected: Vec<Option<u64>> =
        (1..=16u32).map(|n| if n <= 5 { None } else { Some((1u64 << (n - 5)).min(900)) }).collect();
    assert_eq!(seen, expected);
    // One lock episode, one audit entry: every refused attempt counted,
    // the 16 wrong passwords and the 11 right ones refused while locked.
    let user_id = api.stored_user("lock@example.com").await.0["id"].as_str().unwrap().to_owned();
    let events = api.app.app.store.query_all(&format!("USER#{user_id}"), "AUDIT#").await.unwrap();
    let refusals: Vec<&Value> = events
        .iter()
        .map(|e| &e.body)
        .filter(|e| e["event"] == "account_locked" || e["event"] == "login_failed")
        .collect();
    assert_eq!(refusals.len(), 1, "{refusals:#?}");
    assert_eq!(refusals[0]["event"], "account_locked");
    assert_eq!(refusals[0]["detail"]["refused"], 27);
    assert_eq!(refusals[0]["detail"]["device_id"], "d");
    assert!(refusals[0]["detail"]["locked_until"].is_string(), "{:#}", refusals[0]);
}

async fn a_success_or_quiet_time_resets_the_failures(api: Api) {
    api.sign_up("reset@example.com").await;
    for _ in 0..5 {
        api.login("reset@example.com", "Wr0ng!Pass", "d").await;
    }
    assert_eq!(api.login("reset@example.com", PASSWORD, "d").await.status, StatusCode::OK);
    let after_success = api.login("reset@example.com", "Wr0ng!Pass", "d").await;
    assert_eq!(after_success.retry_after(), None, "the count started over");
    for _ in 0..4 {
        api.login("reset@example.com", "Wr0ng!Pass", "d").await;
    }
    api.advance(15 * 60);
    let after_quiet = api.login("reset@example.com", "Wr0ng!Pass", "d").await;
    assert_eq!(after_quiet.retry_after(), None, "15 quiet minutes forget the failures");
}

async fn login_rate_limit_per_ip(api: Api) {
    for n in 0..30 {
        let answer = api.login(&format!("ghost{n}@example.com"), PASSWORD, "d").await;
        assert_eq!(answer.code(), "invalid_credentials");
    }
    let limited = api.login("ghost@example.com", PASSWORD, "d").await;
    assert_eq!((limited.status, limited.code()), (StatusCode::TOO_MANY_REQUESTS, "rate_limited"));
    assert!(limited.retry_after().is_some_and(|s| (1..=300).contains(&s)));
    api.advance(300);
    assert_eq!(api.login("ghost@example.com", PASSWORD, "d").await.code(), "invalid_credentials");
}

async fn reset_required_challenge(api: Api) {
    api.sign_up("admin-reset@example.com").await;
    api.change_user("admin-reset@example.com", |u| u["reset_required"] = json!(true)).await;
    let answer = api.login("admin-reset@example.com", PASSWORD, "d").await;
    assert_eq!(answer.body["password_change_required"], true, "{}", answer.body);
    assert!(answer.body.get("access_token").is_none());
    let challenge = answer.body["challenge_id"].as_str().unwrap();
    let weak = api
        .post(
            "/v1/auth/password/challenge",
            json!({ "challenge_id": challenge, "new_password": "weak" }),
            &[("X-Device-ID", "d")],
        )
        .await;
    assert_eq!(weak.code(), "validation_failed");
    let done = api
        .post(
            "/v1/auth/password/challenge",
            json!({ "challenge_id": challenge, "new_password": "N3w!Secret" }),
            &[("X-Device-ID", "d")],
        )
        .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    assert!(done.body["access_token"].is_string());
    assert_eq!(api.login("admin-reset@example.com", PASSWORD, "d").await.code(), "invalid_credentials");
    assert!(api.login("admin-reset@example.com", "N3w!Secret", "d").await.body["access_token"].is_string());

    // Suspended between the login and the challenge: no new password, no session.
    api.sign_up("suspended-reset@example.com").await;
    api.change_user("suspended-reset@example.com", |u| u["reset_required"] = json!(true)).await;
    let answer = api.login("suspended-reset@example.com", PASSWORD, "d").await;
    let challenge = answer.body["challenge_id"].as_str().expect("a challenge").to_owned();
    api.change_user("suspended-reset@example.com", |u| u["status"] = json!("suspended")).await;
    let refused = api
        .post(
            "/v1/auth/password/challenge",
            json!({ "challenge_id": challenge, "new_password": "N3w!Secret" }),
            &[("X-Device-ID", "d")],
        )
        .await;
    assert_eq!(refused.code(), "account_inactive", "{}", refused.body);
    assert!(refused.body.get("access_token").is_none());
    let (stored, _) = api.stored_user("suspended-reset@example.com").await;
    assert_eq!(stored["reset_required"], true, "the password did not change");
}

async fn old_hash_parameters_are_upgraded_at_login(api: Api) {
    use argon2::password_hash::{PasswordHasher, SaltString};
    api.sign_up("old@example.com").await;
    let weak = argon2::Argon2::new(
        argon2::Algorithm::Argon2id,
        argon2::Version::V0x13,
        argon2::Params::new(4096, 1, 1, None).unwrap(),
    );
    let old = weak
        .hash_password(PASSWORD.as_bytes(), &SaltString::encode_b64(b"0123456789abcdef").unwrap())
        .unwrap()
        .to_string();
    api.change_user("old@example.com", |u| u["password_hash"] = json!(old)).await;
    assert_eq!(api.login("old@example.com", PASSWORD, "d").await.status, StatusCode::OK);
    let stored = api.stored_user("old@example.com").await.0["password_hash"].as_str().unwrap().to_owned();
    assert!(stored.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{stored}");
    assert_eq!(api.login("old@example.com", PASSWORD, "d").await.status, StatusCode::OK);
}

async fn inactive_users_cannot_log_in_or_refresh(api: Api) {
    let tokens = api.sign_up("sleepy@example.com").await;
    let session = api.login("sleepy@example.com", PASSWORD, "d").await;
    for status in ["suspended", "disabled"] {
        api.change_user("sleepy@example.com", |u| u["status"] = json!(status)).await;
        let login = api.login("sleepy@example.com", PASSWORD, "d").await;
        assert_eq!((login.status, login.code()), (StatusCode::FORBIDDEN, "account_inactive"), "{status}");
        let refresh = api.refresh(session.body["refresh_token"].as_str().unwrap(), "d").await;
        assert_eq!((refresh.status, refresh.code()), (StatusCode::UNAUTHORIZED, "invalid_token"), "{status}");
        let me = api.me(tokens["access_token"].as_str().unwrap()).await;
        assert_eq!(me.status, StatusCode::UNAUTHORIZED);
    }
    let wrong = api.login("sleepy@example.com", "Wr0ng!Pass", "d").await;
    assert_eq!(wrong.code(), "invalid_credentials", "no status is revealed without the password");
}

async fn refresh_rotates_with_a_grace_window_and_reuse_detection(api: Api) {
    api.sign_up("rot@example.com").await;
    let first = api.login("rot@example.com", PASSWORD, "d").await.body;
    let t0 = first["refresh_token"].as_str().unwrap().to_owned();
    let r1 = api.refresh(&t0, "d").await;
    assert_eq!(r1.status, StatusCode::OK, "{}", r1.body);
    let t1 = r1.body["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(t0, t1, "rotated on use");
    assert!(r1.headers["set-cookie"].to_str().unwrap().contains(&t1));
    api.advance(5);
    let again = api.refresh(&t0, "d").await;
    assert_eq!(again.status, StatusCode::OK, "inside the grace window");
    assert_eq!(again.body["refresh_token"], t1.as_str(), "the same successor");
    let t2 = api.refresh(&t1, "d").await.body["refresh_token"].as_str().unwrap().to_owned();
    let access = api.refresh(&t2, "d").await;
    let t3 = access.body["refresh_token"].as_str().unwrap().to_owned();
    api.advance(11);
    let reuse = api.refresh(&t0, "d").await;
    assert_eq!((reuse.status, reuse.code()), (StatusCode::UNAUTHORIZED, "invalid_token"));
    // The whole family is gone: the newest token and the access token too.
    assert_eq!(api.refresh(&t3, "d").await.code(), "invalid_token");
    assert_eq!(api.me(access.body["access_token"].as_str().unwrap()).await.status, StatusCode::UNAUTHORIZED);
}

async fn parallel_refreshes_of_one_token_both_succeed(api: Api) {
    api.sign_up("tabs@example.com").await;
    let token = api.login("tabs@example.com", PASSWORD, "d").await.body["refresh_token"].as_str().unwrap().to_owned();
    let (a, b) = tokio::join!(api.refresh(&token, "d"), api.refresh(&token, "d"));
    assert_eq!((a.status, b.status), (StatusCode::OK, StatusCode::OK), "{} / {}", a.body, b.body);
    assert_eq!(a.body["refresh_token"], b.body["refresh_token"], "both tabs hold the same successor");
    let next = api.refresh(a.body["refresh_token"].as_str().unwrap(), "d").await;
    assert_eq!(next.status, StatusCode::OK);
}

async fn refresh_is_bound_to_the_device_and_reads_the_cookie(api: Api) {
    api.sign_up("dev@example.com").await;
    let token =
        api.login("dev@example.com", PASSWORD, "phone-1").await.body["refresh_token"].as_str().unwrap().to_owned();
    let other = api.refresh(&token, "laptop-9").await;
    assert_eq!((other.status, other.code()), (StatusCode::UNAUTHORIZED, "invalid_device"));
    let none = api.post("/v1/auth/refresh", json!({ "refresh_token": token }), &[]).await;
    assert_eq!((none.status, none.code()), (StatusCode::BAD_REQUEST, "device_required"));
    let cookie = format!("theme=dark; refresh_token={token}");
    let by_cookie = api
        .send(reqwest::Method::POST, "/v1/auth/refresh", None, &[("X-Device-ID", "phone-1"), ("Cookie", &cookie)])
        .await;
    assert_eq!(by_cookie.status, StatusCode::OK, "{}", by_cookie.body);
    let forged = api.refresh("bm90LWEtdG9rZW4", "phone-1").await;
    assert_eq!(forged.code(), "invalid_token");
    let empty = api.send(reqwest::Method::POST, "/v1/auth/refresh", None, &[("X-Device-ID", "phone-1")]).await;
    assert_eq!(empty.code(), "invalid_token");
}

async fn a_store_failure_mid_rotation_keeps_the_old_token(api: Api) {
    api.sign_up("fault@example.com").await;
    let token = api.login("fault@example.com", PASSWORD, "d").await.body["refresh_token"].as_str().unwrap().to_owned();
    // One read (record, session and user together; the API key is cached
    // since the login), then the write.
    for reads_before_failure in 0..2 {
        api.app.store.fail_after(reads_before_failure);
        let failed = api.refresh(&token, "d").await;
        assert_eq!(failed.status, StatusCode::SERVICE_UNAVAILABLE, "{}", failed.body);
        assert_eq!(failed.code(), "unavailable");
        api.app.store.heal();
    }
    let after = api.refresh(&token, "d").await;
    assert_eq!(after.status, StatusCode::OK, "the old token still works: {}", after.body);
}

async fn logout_and_logout_all(api: Api) {
    api.sign_up("out@example.com").await;
    let one = api.login("out@example.com", PASSWORD, "d1").await.body;
    let two = api.login("out@example.com", PASSWORD, "d2").await.body;
    let bearer = format!("Bearer {}", one["access_token"].as_str().unwrap());
    let wrong_device =
        api.post("/v1/auth/logout", json!({}), &[("Authorization", &bearer), ("X-Device-ID", "d2")]).await;
    assert_eq!(wrong_device.code(), "invalid_device");
    let out = api
        .send(reqwest::Method::POST, "/v1/auth/logout", None, &[("Authorization", &bearer), ("X-Device-ID", "d1")])
        .await;
    assert_eq!(out.status, StatusCode::OK, "{}", out.body);
    assert!(out.headers["set-cookie"].to_str().unwrap().contains("Max-Age=0"));
    assert_eq!(api.me(one["access_token"].as_str().unwrap()).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(api.refresh(one["refresh_token"].as_str().unwrap(), "d1").await.code(), "invalid_token");
    assert_eq!(api.me(two["access_token"].as_str().unwrap()).await.status, StatusCode::OK, "other sessions live");

    let three = api.login("out@example.com", PASSWORD, "d3").await.body;
    let bearer = format!("Bearer {}", two["access_token"].as_str().unwrap());
    let all = api.send(reqwest::Method::POST, "/v1/auth/logout-all", None, &[("Authorization", &bearer)]).await;
    assert_eq!(all.status, StatusCode::OK, "{}", all.body);
    assert!(all.body["sessions_revoked"].as_u64().unwrap() >= 2);
    for tokens in [&two, &three] {
        assert_eq!(api.me(tokens["access_token"].as_str().unwrap()).await.status, StatusCode::UNAUTHORIZED);
        assert_eq!(api.refresh(tokens["refresh_token"].as_str().unwrap(), "d3").await.status, StatusCode::UNAUTHORIZED);
    }
}

async fn forgot_and_reset_password(api: Api) {
    let signed_up = api.sign_up("forgot@example.com").await;
    let known = api.post("/v1/auth/password/forgot", json!({ "email": "forgot@example.com" }), &[]).await;
    let unknown = api.post("/v1/auth/password/forgot", json!({ "email": "ghost@example.com" }), &[]).await;
    assert_eq!((known.status, unknown.status), (StatusCode::ACCEPTED, StatusCode::ACCEPTED));
    assert_eq!(known.body, unknown.body);
    let mut known_headers: Vec<String> = known.headers.keys().map(|k| k.to_string()).collect();
    let mut unknown_headers: Vec<String> = unknown.headers.keys().map(|k| k.to_string()).collect();
    known_headers.sort();
    unknown_headers.sort();
    assert_eq!(known_headers, unknown_headers, "same headers");
    let mails = api.app.messages_to("forgot@example.com");
    assert_eq!(mails.last().unwrap()["subject"], "Reset your password");
    assert!(api.app.messages_to("ghost@example.com").is_empty());
    let soon = api.post("/v1/auth/password/forgot", json!({ "email": "forgot@example.com" }), &[]).await;
    assert_eq!((soon.status, soon.code()), (StatusCode::TOO_MANY_REQUESTS, "rate_limited"));

    let wrong = api
        .post(
            "/v1/auth/password/reset",
            json!({ "email": "forgot@example.com", "code": "000000", "new_password": "N3w!Secret" }),
            &[],
        )
        .await;
    assert_eq!(wrong.code(), "invalid_code");
    let ghost = api
        .post(
            "/v1/auth/password/reset",
            json!({ "email": "ghost@example.com", "code": CODE, "new_password": "N3w!Secret" }),
            &[],
        )
        .await;
    assert_eq!(ghost.code(), "invalid_code");
    let weak = api
        .post(
            "/v1/auth/password/reset",
            json!({ "email": "forgot@example.com", "code": CODE, "new_password": "forgot123" }),
            &[],
        )
        .await;
    assert_eq!(weak.code(), "validation_failed");
    let done = api
        .post(
            "/v1/auth/password/reset",
            json!({ "email": "forgot@example.com", "code": CODE, "new_password": "N3w!Secret" }),
            &[],
        )
        .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    assert_eq!(
        api.me(signed_up["access_token"].as_str().unwrap()).await.status,
        StatusCode::UNAUTHORIZED,
        "all sessions end"
    );
    assert_eq!(api.login("forgot@example.com", PASSWORD, "d").await.code(), "invalid_credentials");
    assert_eq!(api.login("forgot@example.com", "N3w!Secret", "d").await.status, StatusCode::OK);
    let reused = api
        .post(
            "/v1/auth/password/reset",
            json!({ "email": "forgot@example.com", "code": CODE, "new_password": "An0ther!Pass" }),
            &[],
        )
        .await;
    assert_eq!(reused.code(), "invalid_code", "a code is spent on use");
}

async fn change_password_ends_other_sessions(api: Api) {
    api.sign_up("chg@example.com").await;
    let here = api.login("chg@example.com", PASSWORD, "d1").await.body;
    let there = api.login("chg@example.com", PASSWORD, "d2").await.body;
    let bearer = format!("Bearer {}", here["access_token"].as_str().unwrap());
    let wrong = api
        .post(
            "/v1/me/password",
            json!({ "current_password": "Wr0ng!Pass", "new_password": "N3w!Secret" }),
            &[("Authorization", &bearer)],
        )
        .await;
    assert_eq!(wrong.body["errors"][0]["code"], "incorrect_password");
    let done = api
        .post(
            "/v1/me/password",
            json!({ "current_password": PASSWORD, "new_password": "N3w!Secret" }),
            &[("Authorization", &bearer)],
        )
        .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    assert_eq!(api.me(here["access_token"].as_str().unwrap()).await.status, StatusCode::OK, "this session stays");
    assert_eq!(api.me(there["access_token"].as_str().unwrap()).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(api.login("chg@example.com", "N3w!Secret", "d").await.status, StatusCode::OK);
}

async fn me_profile_update_and_credentials(api: Api) {
    let tokens = api.sign_up("me@example.com").await;
    let bearer = format!("Bearer {}", tokens["access_token"].as_str().unwrap());
    let auth = [("Authorization", bearer.as_str())];
    let me = api.me(tokens["access_token"].as_str().unwrap()).await.body;
    assert_eq!(me["mfa_enabled"], false);
    assert_eq!(me["credentials"], json!([{ "type": "email", "value": "me@example.com", "verified": true }]));
    let patched = api
        .send(
            reqwest::Method::PATCH,
            "/v1/me",
            Some(json!({ "first_name": "Annette", "time_zone": "Europe/Berlin", "gender": null })),
            &auth,
        )
        .await;
    assert_eq!(patched.status, StatusCode::OK, "{}", patched.body);
    assert_eq!(patched.body["first_name"], "Annette");
    assert_eq!(patched.body["time_zone"], "Europe/Berlin");
    let bad = api
        .send(reqwest::Method::PATCH, "/v1/me", Some(json!({ "time_zone": "Mars/Base", "email": "x@y.z" })), &auth)
        .await;
    let codes: Vec<&str> = bad.body["errors"].as_array().unwrap().iter().map(|e| e["code"].as_str().unwrap()).collect();
    assert_eq!(codes, ["invalid_time_zone", "unknown_field"]);

    let added = api.post("/v1/me/credentials", json!({ "type": "phone", "value": "+41790001122" }), &auth).await;
    assert_eq!(added.status, StatusCode::ACCEPTED);
    assert_eq!(api.app.messages_to("+41790001122").len(), 1);
    let wrong = api.post("/v1/me/credentials/verify", json!({ "type": "phone", "code": "000000" }), &auth).await;
    assert_eq!(wrong.code(), "invalid_code");
    let verified = api.post("/v1/me/credentials/verify", json!({ "type": "phone", "code": CODE }), &auth).await;
    assert_eq!(verified.body["mfa_enabled"], true);
    let me = api.me(tokens["access_token"].as_str().unwrap()).await.body;
    assert_eq!(me["phone"], "+41790001122");
    let user_id = me["user_id"].as_str().unwrap();
    let events = api.app.app.store.query_all(&format!("USER#{user_id}"), "AUDIT#").await.unwrap();
    assert!(events.iter().any(|e| e.body["event"] == "mfa_enabled"));
    // Now the phone logs in, with a second factor.
    assert_eq!(api.login("+41790001122", PASSWORD, "d").await.body["mfa_required"], true);
}

async fn closing_the_account_frees_the_email(api: Api) {
    let tokens = api.sign_up("bye@example.com").await;
    let bearer = format!("Bearer {}", tokens["access_token"].as_str().unwrap());
    let auth = [("Authorization", bearer.as_str())];
    let wrong = api.send(reqwest::Method::DELETE, "/v1/me", Some(json!({ "password": "Wr0ng!Pass" })), &auth).await;
    assert_eq!(wrong.body["errors"][0]["code"], "incorrect_password");
    let closed = api.send(reqwest::Method::DELETE, "/v1/me", Some(json!({ "password": PASSWORD })), &auth).await;
    assert_eq!(closed.status, StatusCode::OK, "{}", closed.body);
    assert_eq!(api.me(tokens["access_token"].as_str().unwrap()).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(api.login("bye@example.com", PASSWORD, "d").await.code(), "invalid_credentials");
    let stored = api
        .app
        .app
        .store
        .get(&user_key(&shared::domain::ids::UserId::parse(tokens["user_id"].as_str().unwrap()).unwrap()))
        .await
        .unwrap()
        .unwrap()
        .body;
    assert_eq!(stored["status"], "closed");
    assert_eq!(stored["email"], "");
    assert_eq!(stored["first_name"], "");
    api.sign_up("bye@example.com").await;
}

async fn token_attacks_get_401(api: Api) {
    use base64::Engine;
    let b64 = |v: &Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
    let tokens = api.sign_up("jwt@example.com").await;
    let good = tokens["access_token"].as_str().unwrap();
    let parts: Vec<&str> = good.split('.').collect();
    let claims: Value =
        serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
    let none = format!("{}.{}.", b64(&json!({ "alg": "none", "typ": "JWT" })), parts[1]);
    let mut forged_claims = claims.clone();
    forged_claims["sub"] = json!("usr_someone_else");
    let tampered = format!("{}.{}.{}", parts[0], b64(&forged_claims), parts[2]);
    // HS256 with the public key's JWK as the secret (algorithm confusion).
    let jwk = api.app.app.keys.current().jwks()["keys"][0].to_string();
    let hs = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(jwk.as_bytes()),
    )
    .unwrap();
    let now = api.app.clock.now_secs();
    let sign = |mut c: Value, edit: &dyn Fn(&mut Value)| {
        edit(&mut c);
        let claims: shared::domain::tokens::Claims = serde_json::from_value(c).unwrap();
        api.app.app.keys.current().sign(&claims).unwrap()
    };
    let expired = sign(claims.clone(), &|c| c["exp"] = json!(now - 1));
    let other_tenant = sign(claims.clone(), &|c| c["tid"] = json!("another-tenant"));
    let wrong_aud = sign(claims.clone(), &|c| c["aud"] = json!("someone-else"));
    let wrong_iss = sign(claims.clone(), &|c| c["iss"] = json!("https://evil.example"));
    let admin_typ = sign(claims.clone(), &|c| c["typ"] = json!("admin"));
    let not_yet_valid = sign(claims.clone(), &|c| c["iat"] = json!(now + 3600));
    // A valid signature by a key Registrar does not know, with its own kid.
    let stranger = shared::domain::tokens::Keyring::generate().unwrap();
    let unknown_kid = stranger.sign(&serde_json::from_value(claims.clone()).unwrap()).unwrap();
    // The same, claiming Registrar's kid.
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
    header.kid = Some(api.app.app.keys.current().active_kid().unwrap().to_owned());
    let foreign_pem = shared::domain::tokens::generate_pem().unwrap();
    let borrowed_kid = jsonwebtoken::encode(
        &header,
        &claims,
        &jsonwebtoken::EncodingKey::from_rsa_pem(foreign_pem.as_bytes()).unwrap(),
    )
    .unwrap();
    for (name, token) in [
        ("alg none", none.as_str()),
        ("tampered", &tampered),
        ("hs256 with the public key", &hs),
        ("expired", &expired),
        ("other tenant", &other_tenant),
        ("wrong aud", &wrong_aud),
        ("wrong iss", &wrong_iss),
        ("admin typ", &admin_typ),
        ("garbage", "a.b.c"),
        ("not yet valid", &not_yet_valid),
        ("unknown kid", &unknown_kid),
        ("someone else's key with our kid", &borrowed_kid),
    ] {
        let answer = api.me(token).await;
        assert_eq!((answer.status, answer.code()), (StatusCode::UNAUTHORIZED, "invalid_token"), "{name}");
    }
    let no_header = api.send(reqwest::Method::GET, "/v1/me", None, &[]).await;
    assert_eq!(no_header.code(), "invalid_token");
    assert_eq!(api.me(good).await.status, StatusCode::OK);
}

/// A warm instance trusts an API key it checked for a minute: a new key
/// works at once, a revoked one until the minute is over, then never again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_keys_are_cached_for_a_minute() {
    let api = api(Backend::Memory).await;
    let store = api.app.store.as_ref();
    let now = api.app.clock.now_dt();
    let (info, key) = issue_api_key(store, &OsRandom, now, &api.app.tenant.id, None).await.unwrap();
    let with_key = |key: String| {
        let http = api.http.clone();
        let url = api.app.url("/v1/reference/countries/CH");
        async move { http.get(url).header("X-API-Key", key).send().await.unwrap().status() }
    };
    assert_eq!(with_key(key.clone()).await, StatusCode::OK, "a new key works at once");
    revoke_api_key(store, &api.app.tenant.id, &info.key_id).await.unwrap();
    api.advance(59);
    assert_eq!(with_key(key.clone()).await, StatusCode::OK, "still trusted within the minute");
    api.advance(2);
    assert_eq!(with_key(key.clone()).await, StatusCode::UNAUTHORIZED, "revoked after the minute");
    api.advance(120);
    assert_eq!(with_key(key).await, StatusCode::UNAUTHORIZED, "a revoked key is never cached");
    assert_eq!(with_key("sk_unknown_0123456789".into()).await, StatusCode::UNAUTHORIZED);
}

/// A tenant's own per-IP limits replace the defaults (users behind one
/// company NAT, a load test): here lower ones, for logins and sign-ups.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tenants_ip_limits_apply() {
    let api = api(Backend::Memory).await;
    api.sign_up("before@example.com").await;
    let mut tenant = api.app.tenant.clone();
    tenant.policy.ip_limits = IpLimits { signups_per_hour: 1, logins_per_5_min: 3, resets_per_hour: 20 };
    save_tenant(api.app.store.as_ref(), &tenant).await.unwrap();
    // The instance trusts the key and its tenant's policy it checked for up
    // to a minute (Settings::api_key_cache_secs); then the new limits apply.
    api.advance(61);
    for n in 0..3 {
        assert_eq!(api.login(&format!("ghost{n}@example.com"), PASSWORD, "d").await.code(), "invalid_credentials");
    }
    let limited = api.login("ghost@example.com", PASSWORD, "d").await;
    assert_eq!((limited.status, limited.code()), (StatusCode::TOO_MANY_REQUESTS, "rate_limited"));
    let body = json!({
        "email": "after@example.com", "password": PASSWORD, "first_name": "Anna", "last_name": "Muster",
        "terms_accepted": true, "privacy_policy_accepted": true,
    });
    let refused = api.post("/v1/registrations", body, &[]).await;
    assert_eq!((refused.status, refused.code()), (StatusCode::TOO_MANY_REQUESTS, "rate_limited"), "{}", refused.body);
}

/// Parallel attacks (issue 11): every counter holds when 50 requests arrive
/// at once, on both stores. The tenant's per-IP limits are raised so that
/// what is measured is the per-account and per-code counting.
mod under_attack {
    use super::*;
    use futures::future::join_all;
    use shared::ports::Key;

    const BURST: usize = 50;

    async fn open_api(backend: Backend) -> Api {
        let clock = Arc::new(ManualClock::at_test_start());
        let store = common::store_for(backend, clock.clone()).await;
        let ip_limits = IpLimits { signups_per_hour: 10_000, logins_per_5_min: 10_000, resets_per_hour: 10_000 };
        let policy = Policy { phone_required: false, sandbox_code: Some(CODE.into()), ip_limits, ..Policy::default() };
        let app =
            spawn_app(TestOptions { policy, store, senders: None, clock: Some(clock), ..TestOptions::default() }).await;
        Api::on(app)
    }

    on_both_stores!(
        open_api;
        fifty_parallel_wrong_passwords_lock_the_account_but_not_the_owners_device,
        fifty_parallel_wrong_mfa_codes_spend_five_tries_and_answer_alike,
        fifty_parallel_wrong_reset_codes_spend_five_tries_and_answer_alike,
        fifty_parallel_wrong_credential_codes_spend_five_tries_and_answer_alike,
        reset_answers_alike_for_known_and_unknown_addresses,
        step_up_guards_credentials_and_counts_per_session,
        every_spelling_of_an_unknown_name_shares_its_counter,
        a_flood_of_wrong_passwords_is_audited_once_per_lock_episode,
        a_sweep_spares_sessions_opened_after_the_revocation,
        a_revoked_session_is_not_revived_by_changing_the_password,
        the_sms_budget_and_country_list_hold,
        a_changed_email_is_announced_ends_other_sessions_and_voids_reset_codes,
        revocation_reaches_every_one_of_over_a_thousand_sessions,
        fifty_parallel_resends_and_logins_send_one_code,
    );

    /// Fifty resends of a challenge's code at once: one SMS, the others
    /// 429; fifty logins again within the cooldown: no SMS at all.
    async fn fifty_parallel_resends_and_logins_send_one_code(api: Api) {
        let api = &api;
        let phone = "+41795550077";
        api.sign_up_with_phone("resend-burst@example.com", phone).await;
        api.advance(61);
        let login = api.login("resend-burst@example.com", PASSWORD, "d").await;
        let challenge = login.body["challenge_id"].as_str().expect("a 2FA challenge").to_owned();
        let texts = api.app.messages_to(phone).len();
        let again = join_all((0..BURST).map(|_| api.login("resend-burst@example.com", PASSWORD, "d"))).await;
        // Parallel logins without a device token spend the account's shared
        // allowance before the password is proven (issue 11): those past it
        // answer like wrong passwords; the others get the pending challenge.
        let codes: Vec<&str> = again.iter().map(|a| a.code()).collect();
        let pending = again.iter().filter(|a| a.body["challenge_id"] == challenge.as_str()).count();
        assert!(
            pending >= 1 && pending + codes.iter().filter(|c| **c == "invalid_credentials").count() == BURST,
            "{codes:?}"
        );
        assert_eq!(api.app.messages_to(phone).len(), texts, "no SMS within the cooldown");
        api.advance(61);
        let body = json!({ "challenge_id": challenge });
        let sends = join_all((0..BURST).map(|_| api.post("/v1/auth/mfa/send", body.clone(), &[("X-Device-ID", "d")])));
        let answers = sends.await;
        let sent = answers.iter().filter(|a| a.status == StatusCode::ACCEPTED).count();
        assert_eq!(sent, 1, "{:?}", answers.iter().map(|a| a.code()).collect::<Vec<_>>());
        assert!(answers.iter().filter(|a| a.status != StatusCode::ACCEPTED).all(|a| a.code() == "rate_limited"));
        assert_eq!(api.app.messages_to(phone).len(), texts + 1, "one SMS");
    }

    /// The answer without what differs on every request.
    fn comparable(answer: &Answer) -> (StatusCode, Value, Option<u64>) {
        let mut body = answer.body.clone();
        body.as_object_mut().map(|o| o.remove("request_id"));
        (answer.status, body, answer.retry_after())
    }

    /// Every failing answer of a burst is the same (the right code, had it
    /// lost, would be indistinguishable).
    fn all_alike(answers: &[Answer]) {
        let failures: Vec<_> = answers.iter().filter(|a| !a.status.is_success()).map(comparable).collect();
        assert!(failures.windows(2).all(|w| w[0] == w[1]), "failing answers differ: {failures:#?}");
    }

    /// How many tries the code under `record` (an item holding a
    /// `PendingCode` at `pointer`) has spent.
    async fn tries_spent(api: &Api, record: &Key, pointer: &str) -> u64 {
        let item = api.app.app.store.get(record).await.unwrap().expect("the code's record");
        let nonce = item.body.pointer(pointer).and_then(Value::as_str).expect("a nonce").to_owned();
        let counter = api.app.app.store.get(&Key::new(format!("TRIES#{nonce}"), "TRIES")).await.unwrap();
        counter.map_or(0, |c| c.version)
    }

    async fn fifty_parallel_wrong_passwords_lock_the_account_but_not_the_owners_device(api: Api) {
        api.sign_up("target@example.com").await;
        // The owner signed in on this phone before: it holds a device token.
        let owner = api.login("target@example.com", PASSWORD, "owner-phone").await;
        assert_eq!(owner.status, StatusCode::OK, "{}", owner.body);
        let device_token = owner.body["device_token"].as_str().expect("a device token").to_owned();
        let cookie =
            owner.headers.get_all("set-cookie").iter().map(|v| v.to_str().unwrap().to_owned()).collect::<Vec<_>>();
        assert!(
            cookie
                .iter()
                .any(|c| c.starts_with(&format!("registrar_device={device_token};")) && c.contains("HttpOnly")),
            "{cookie:?}"
        );

        // A failure long ago, forgotten: its stale counter is reset under
        // the burst, which must not reset it again and again.
        api.login("target@example.com", "Wr0ng!Pass", "x").await;
        api.advance(16 * 60);
        let burst = (0..BURST).map(|_| api.login("target@example.com", "Wr0ng!Pass", "owner-phone"));
        let answers = join_all(burst).await;
        let codes: Vec<(&str, &Value)> = answers.iter().map(|a| (a.code(), &a.body["detail"])).collect();
        assert!(answers.iter().all(|a| a.code() == "invalid_credentials"), "every guess refused: {codes:?}");
        let locked = answers.iter().filter(|a| a.retry_after().is_some()).count();
        assert!(locked >= BURST - 5, "all but the 5 free failures are locked out: {locked}");
        // Audited once per episode with a count: the forgotten failure's,
        // and the burst's (split in two at most, where it raced the start).
        let entries = api.refusal_entries("target@example.com").await;
        assert!((2..=3).contains(&entries.len()) && refused(&entries) == 1 + BURST as u64, "{entries:#?}");
        assert_eq!(entries.last().unwrap()["detail"]["refused"], 1, "the forgotten failure's own entry");

        // The account is locked: the right password from anywhere else (even
        // naming the owner's X-Device-ID, which is no secret) is refused …
        let elsewhere = api.login("target@example.com", PASSWORD, "owner-phone").await;
        assert_eq!(elsewhere.code(), "invalid_credentials");
        assert!(elsewhere.retry_after().is_some(), "locked, as after as many failures in a row");
        let forged = format!("{}x", &device_token[..device_token.len() - 1]);
        let with_forged = api
            .post(
                "/v1/auth/login",
                json!({ "username": "target@example.com", "password": PASSWORD, "device_token": forged }),
                &[("X-Device-ID", "owner-phone")],
            )
            .await;
        assert_eq!(with_forged.code(), "invalid_credentials", "a forged device token earns nothing");
        // … but the owner's device signs in: its allowance is its own.
        let cookie_header = format!("registrar_device={device_token}");
        let by_cookie = api
            .post(
                "/v1/auth/login",
                json!({ "username": "target@example.com", "password": PASSWORD }),
                &[("X-Device-ID", "owner-phone"), ("Cookie", &cookie_header)],
            )
            .await;
        assert_eq!(by_cookie.status, StatusCode::OK, "{}", by_cookie.body);
        // A token of another user's device is no good for this one.
        api.sign_up("other@example.com").await;
        let other = api.login("other@example.com", PASSWORD, "x").await;
        let foreign = other.body["device_token"].as_str().unwrap();
        let with_foreign = api
            .post(
                "/v1/auth/login",
                json!({ "username": "target@example.com", "password": PASSWORD, "device_token": foreign }),
                &[("X-Device-ID", "x")],
            )
            .await;
        assert_eq!(with_foreign.code(), "invalid_credentials");
    }

    /// Refused sign-ins are audited once per lock episode, with a count
    /// (docs/back-office.md, "Audit trail"): thirty wrong passwords, twenty of
    /// them at once, leave one entry (two at most, where the burst races the
    /// episode's start) that counts all thirty; a success ends the episode, and
    /// so does the quiet time, and the next failure starts a new entry, newest
    /// first.
    async fn a_flood_of_wrong_passwords_is_audited_once_per_lock_episode(api: Api) {
        let email = "flood@example.com";
        api.sign_up(email).await;
        let burst = join_all((0..20).map(|_| api.login(email, "Wr0ng!Pass", "burst"))).await;
        assert!(burst.iter().all(|a| a.code() == "invalid_credentials"), "every guess refused");
        for _ in 0..10 {
            assert_eq!(api.login(email, "Wr0ng!Pass", "one-by-one").await.code(), "invalid_credentials");
        }
        let flood = api.refusal_entries(email).await;
        assert!((1..=2).contains(&flood.len()), "{flood:#?}");
        assert_eq!(refused(&flood), 30, "{flood:#?}");
        assert_eq!(flood[0]["event"], "account_locked");
        assert!(flood[0]["detail"]["locked_until"].is_string(), "{:#}", flood[0]);
        assert_eq!(flood[0]["detail"]["device_id"], "one-by-one", "the last refusal's device");

        // The lock runs out and the owner signs in: the episode is over.
        api.advance(shared::domain::credentials::MAX_LOCK_SECS + 1);
        assert_eq!(api.login(email, PASSWORD, "phone").await.status, StatusCode::OK);
        assert_eq!(api.login(email, "Wr0ng!Pass", "later").await.code(), "invalid_credentials");
        let after_success = api.refusal_entries(email).await;
        assert_eq!(after_success.len(), flood.len() + 1, "{after_success:#?}");
        assert_eq!(after_success[0]["event"], "login_failed");
        assert_eq!(
            (&after_success[0]["detail"]["refused"], &after_success[0]["detail"]["device_id"]),
            (&json!(1), &json!("later"))
        );
        assert_eq!(after_success[1..], flood[..], "the flood's entries stay as they were");

        // A failure after the quiet time starts another; one within it counts.
        api.advance(shared::domain::credentials::FAILURE_MEMORY_SECS);
        api.login(email, "Wr0ng!Pass", "later").await;
        api.login(email, "Wr0ng!Pass", "later").await;
        let after_quiet = api.refusal_entries(email).await;
        assert_eq!(after_quiet.len(), flood.len() + 2, "{after_quiet:#?}");
        assert_eq!(after_quiet[0]["detail"]["refused"], 2);
        assert_eq!(refused(&after_quiet), 33);
    }

    async fn fifty_parallel_wrong_mfa_codes_spend_five_tries_and_answer_alike(api: Api) {
        let api = &api;
        api.sign_up_with_phone("mfa-attack@example.com", "+41795550001").await;
        api.advance(61);
        let login = api.login("mfa-attack@example.com", PASSWORD, "d").await;
        let challenge = login.body["challenge_id"].as_str().expect("a 2FA challenge").to_owned();
        let guess = |code: String| {
            let body = json!({ "challenge_id": challenge, "code": code });
            async move { api.post("/v1/auth/mfa", body, &[("X-Device-ID", "d")]).await }
        };
        let answers = join_all((0..BURST).map(|n| guess(format!("{:06}", 200_000 + n)))).await;
        assert!(
            answers.iter().all(|a| a.code() == "invalid_code"),
            "{:?}",
            answers.iter().map(|a| a.code()).collect::<Vec<_>>()
        );
        all_alike(&answers);
        let record = Key::new(format!("CHALLENGE#{challenge}"), "CHALLENGE");
        assert_eq!(tries_spent(api, &record, "/code/nonce").await, 5, "five tries, counted one by one");
        // The right code now: refused exactly like a wrong one.
        let right = guess(CODE.into()).await;
        assert_eq!(comparable(&right), comparable(&answers[0]));

        // A fresh challenge, the right code inside the burst: at most one
        // session, every failure alike, still five tries at most.
        api.advance(61);
        let login = api.login("mfa-attack@example.com", PASSWORD, "d").await;
        let challenge = login.body["challenge_id"].as_str().unwrap().to_owned();
        let guesses = (0..BURST).map(|n| if n == BURST / 2 { CODE.to_owned() } else { format!("{:06}", 300_000 + n) });
        let answers = join_all(guesses.map(|code| {
            let body = json!({ "challenge_id": challenge, "code": code });
            async move { api.post("/v1/auth/mfa", body, &[("X-Device-ID", "d")]).await }
        }))
        .await;
        assert!(answers.iter().filter(|a| a.status == StatusCode::OK).count() <= 1);
        all_alike(&answers);
    }

    async fn fifty_parallel_wrong_reset_codes_spend_five_tries_and_answer_alike(api: Api) {
        let api = &api;
        api.sign_up("reset-attack@example.com").await;
        api.advance(61);
        let forgot = api.post("/v1/auth/password/forgot", json!({ "email": "reset-attack@example.com" }), &[]).await;
        assert_eq!(forgot.status, StatusCode::ACCEPTED);
        let reset = |code: String| {
            let body = json!({ "email": "reset-attack@example.com", "code": code, "new_password": "N3w!Secret9" });
            async move { api.post("/v1/auth/password/reset", body, &[]).await }
        };
        let answers = join_all((0..BURST).map(|n| reset(format!("{:06}", 400_000 + n)))).await;
        assert!(answers.iter().all(|a| a.code() == "invalid_code"));
        all_alike(&answers);
        // Stored under a keyed hash of the address, never the address.
        let destination =
            shared::domain::limits::destination(&api.app.app, &api.app.tenant.id, "reset-attack@example.com").unwrap();
        let record = shared::table::reset_key(&destination);
        assert_eq!(tries_spent(api, &record, "/code/nonce").await, 5);
        let right = reset(CODE.into()).await;
        assert_eq!(comparable(&right), comparable(&answers[0]), "the right code after the cap looks wrong");
        assert_eq!(
            api.login("reset-attack@example.com", PASSWORD, "d").await.status,
            StatusCode::OK,
            "password unchanged"
        );
    }

    async fn fifty_parallel_wrong_credential_codes_spend_five_tries_and_answer_alike(api: Api) {
        let api = &api;
        let tokens = api.sign_up("cred-attack@example.com").await;
        let bearer = format!("Bearer {}", tokens["access_token"].as_str().unwrap());
        let auth = [("Authorization", bearer.as_str())];
        let added = api.post("/v1/me/credentials", json!({ "type": "phone", "value": "+41795550002" }), &auth).await;
        assert_eq!(added.status, StatusCode::ACCEPTED, "{}", added.body);
        let verify = |code: String| {
            let body = json!({ "type": "phone", "code": code });
            async move { api.post("/v1/me/credentials/verify", body, &auth).await }
        };
        let answers = join_all((0..BURST).map(|n| verify(format!("{:06}", 500_000 + n)))).await;
        assert!(answers.iter().all(|a| a.code() == "invalid_code"));
        all_alike(&answers);
        let user_id = tokens["user_id"].as_str().unwrap();
        assert_eq!(
            tries_spent(
                api,
                &user_key(&shared::domain::ids::UserId::parse(user_id).unwrap()),
                "/pending_credential/code/nonce"
            )
            .await,
            5
        );
        let right = verify(CODE.into()).await;
        assert_eq!(comparable(&right), comparable(&answers[0]));
        assert_eq!(api.me(tokens["access_token"].as_str().unwrap()).await.body["phone"], Value::Null);
    }

    async fn reset_answers_alike_for_known_and_unknown_addresses(api: Api) {
        let api = &api;
        api.sign_up("known@example.com").await;
        api.advance(61);
        for email in ["known@example.com", "nobody@example.com"] {
            let forgot = api.post("/v1/auth/password/forgot", json!({ "email": email }), &[]).await;
            assert_eq!(forgot.status, StatusCode::ACCEPTED);
        }
        let reset = |email: &'static str| {
            let body = json!({ "email": email, "code": "999999", "new_password": "N3w!Secret9" });
            async move { api.post("/v1/auth/password/reset", body, &[]).await }
        };
        for _ in 0..6 {
            let before = api.app.store.calls();
            let known = reset("known@example.com").await;
            let between = api.app.store.calls();
            let unknown = reset("nobody@example.com").await;
            let after = api.app.store.calls();
            assert_eq!(between - before, after - between, "as many store calls (and so as much time) either way");
            assert_eq!(comparable(&known), comparable(&unknown), "a reset tells nothing about the address");
            let names = |a: &Answer| {
                let mut names: Vec<String> = a.headers.keys().map(|k| k.to_string()).collect();
                names.sort();
                names
            };
            assert_eq!(names(&known), names(&unknown));
        }
    }

    async fn step_up_guards_credentials_and_counts_per_session(api: Api) {
        let tokens = api.sign_up("stepup@example.com").await;
        // Past the window since the sign-in, a bare bearer is not enough.
        api.advance(Policy::default().step_up_window_secs + 1);
        let refreshed = api.refresh(tokens["refresh_token"].as_str().unwrap(), "any").await;
        let bearer = format!("Bearer {}", refreshed.body["access_token"].as_str().unwrap());
        let auth_late = [("Authorization", bearer.as_str())];
        let bare =
            api.post("/v1/me/credentials", json!({ "type": "email", "value": "evil@example.com" }), &auth_late).await;
        assert_eq!((bare.status, bare.code()), (StatusCode::FORBIDDEN, "step_up_required"), "{}", bare.body);
        assert!(api.app.messages_to("evil@example.com").is_empty());
        // Wrong current passwords count per session (docs/security.md), not
        // toward the login lockout: the fifth ends the session.
        let wrong = json!({ "type": "email", "value": "evil@example.com", "current_password": "Wr0ng!Pass" });
        for _ in 0..5 {
            let answer = api.post("/v1/me/credentials", wrong.clone(), &auth_late).await;
            assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", answer.body);
            assert_eq!(answer.body["errors"][0]["field"], "current_password");
            assert_eq!(answer.retry_after(), None, "no lock");
        }
        let right = json!({ "type": "email", "value": "new-me@example.com", "current_password": PASSWORD });
        let ended = api.post("/v1/me/credentials", right.clone(), &auth_late).await;
        assert_eq!(ended.status, StatusCode::UNAUTHORIZED, "the session ended: {}", ended.body);
        assert!(api.app.messages_to("evil@example.com").is_empty());
        // The account is not locked: a new sign-in, and its step-up, work.
        let login = api.login("stepup@example.com", PASSWORD, "elsewhere").await;
        assert_eq!(login.status, StatusCode::OK, "{}", login.body);
        let bearer = format!("Bearer {}", login.body["access_token"].as_str().unwrap());
        let auth = [("Authorization", bearer.as_str())];
        assert_eq!(api.post("/v1/me/credentials", right, &auth).await.status, StatusCode::ACCEPTED);
    }

    async fn a_changed_email_is_announced_ends_other_sessions_and_voids_reset_codes(api: Api) {
        let tokens = api.sign_up("old-me@example.com").await;
        let other = api.login("old-me@example.com", PASSWORD, "tablet").await;
        assert_eq!(other.status, StatusCode::OK);
        api.advance(61);
        let forgot = api.post("/v1/auth/password/forgot", json!({ "email": "old-me@example.com" }), &[]).await;
        assert_eq!(forgot.status, StatusCode::ACCEPTED);
        let bearer = format!("Bearer {}", tokens["access_token"].as_str().unwrap());
        let auth = [("Authorization", bearer.as_str())];
        let add = json!({ "type": "email", "value": "new-me@example.com", "current_password": PASSWORD });
        assert_eq!(api.post("/v1/me/credentials", add, &auth).await.status, StatusCode::ACCEPTED);
        let notices_before = api.app.messages_to("old-me@example.com").len();
        let verified = api.post("/v1/me/credentials/verify", json!({ "type": "email", "code": CODE }), &auth).await;
        assert_eq!(verified.status, StatusCode::OK, "{}", verified.body);
        let notices = api.app.messages_to("old-me@example.com");
        assert_eq!(notices.len(), notices_before + 1, "the old address is told");
        assert!(!notices.last().unwrap().to_string().contains(CODE), "the notice carries no code");
        assert_eq!(api.me(tokens["access_token"].as_str().unwrap()).await.status, StatusCode::OK, "this session stays");
        assert_eq!(api.me(other.body["access_token"].as_str().unwrap()).await.status, StatusCode::UNAUTHORIZED);
        assert_eq!(
            api.refresh(other.body["refresh_token"].as_str().unwrap(), "tablet").await.status,
            StatusCode::UNAUTHORIZED
        );
        let reset = json!({ "email": "old-me@example.com", "code": CODE, "new_password": "N3w!Secret9" });
        let stale = api.post("/v1/auth/password/reset", reset, &[]).await;
        assert_eq!(stale.code(), "invalid_code", "the code sent to the old address is void");
    }

    async fn revocation_reaches_every_one_of_over_a_thousand_sessions(api: Api) {
        api.sign_up("many@example.com").await;
        let (user, _) = api.stored_user("many@example.com").await;
        let user: shared::domain::user::User = serde_json::from_value(user).unwrap();
        let app = &api.app.app;
        // 1,050 sessions, as 1,050 logins would leave them (written one by
        // one: moto copies its tables for every transaction).
        let mut tokens = Vec::new();
        for n in 0..1_050 {
            let (writes, issued) =
                shared::domain::user::open_session(app, &api.app.tenant, &user, Some(&format!("d{n}")), vec![])
                    .await
                    .unwrap();
            for write in writes {
                let shared::ports::Write::Put { item, condition } = write else { unreachable!("a session is puts") };
                app.store.put(item, condition).await.unwrap();
            }
            tokens.push(issued);
        }
        let (first, last) = (&tokens[0], &tokens[1_049]);
        assert_eq!(api.me(&last.access_token).await.status, StatusCode::OK);
        let bearer = format!("Bearer {}", first.access_token);
        let all = api.send(reqwest::Method::POST, "/v1/auth/logout-all", None, &[("Authorization", &bearer)]).await;
        assert_eq!(all.status, StatusCode::OK, "{}", all.body);
        for (n, issued) in [(0, first), (999, &tokens[999]), (1_000, &tokens[1_000]), (1_049, last)] {
            assert_eq!(api.me(&issued.access_token).await.status, StatusCode::UNAUTHORIZED, "session {n}");
            let refresh = api.refresh(&issued.refresh_token, &format!("d{n}")).await;
            assert_eq!(refresh.status, StatusCode::UNAUTHORIZED, "session {n}");
        }
        let left = app.store.query_all(&format!("USER#{}", user.id), "SESSION#").await.unwrap();
        assert!(left.is_empty(), "{} session items left", left.len());
        // The epoch refuses them, not the missing items: one put back (a
        // sweep that failed half-way) is refused all the same.
        let (writes, revived) =
            shared::domain::user::open_session(app, &api.app.tenant, &user, Some("d0"), vec![]).await.unwrap();
        for write in writes {
            let shared::ports::Write::Put { item, condition } = write else { unreachable!("a session is puts") };
            app.store.put(item, condition).await.unwrap();
        }
        assert_eq!(api.me(&revived.access_token).await.status, StatusCode::UNAUTHORIZED, "a session of an ended epoch");
        assert_eq!(api.refresh(&revived.refresh_token, "d0").await.status, StatusCode::UNAUTHORIZED);
    }

    async fn every_spelling_of_an_unknown_name_shares_its_counter(api: Api) {
        api.sign_up("real@example.com").await;
        let spellings = |base: &str| -> Vec<String> {
            let (local, domain) = base.split_once('@').unwrap();
            vec![
                base.to_owned(),
                base.to_uppercase(),
                format!(" {base} "),
                format!("{}@{domain}", local.to_uppercase()),
                format!("{local}@{}", domain.to_uppercase()),
                format!("  {}  ", base.to_uppercase()),
            ]
        };
        let mut seen = Vec::new();
        for base in ["real@example.com", "ghost@example.com"] {
            let mut last = None;
            for name in spellings(base) {
                last = api.login(&name, "Wr0ng!Pass", "d").await.retry_after();
            }
            seen.push(last);
        }
        assert_eq!(seen[0], Some(2), "six failures on the account lock it");
        assert_eq!(seen[0], seen[1], "an unknown name locks alike, however it is spelled");
        let phone = [
            "+41 79 555 00 09",
            "+41795550009",
            "+41-79-555-00-09",
            "+41 (79) 555 00 09",
            "+41.79.555.00.09",
            " +41795550009 ",
        ];
        let mut last = None;
        for name in phone {
            last = api.login(name, "Wr0ng!Pass", "d").await.retry_after();
        }
        assert_eq!(last, Some(2), "an unknown phone too");
    }

    async fn a_sweep_spares_sessions_opened_after_the_revocation(api: Api) {
        api.sign_up("sweep@example.com").await;
        let old = api.login("sweep@example.com", PASSWORD, "a").await;
        let bearer = format!("Bearer {}", old.body["access_token"].as_str().unwrap());
        let all = api.send(reqwest::Method::POST, "/v1/auth/logout-all", None, &[("Authorization", &bearer)]).await;
        assert_eq!(all.status, StatusCode::OK);
        let new = api.login("sweep@example.com", PASSWORD, "b").await;
        // A sweep of the ended epoch that runs late (after this login).
        let (user, _) = api.stored_user("sweep@example.com").await;
        let user: shared::domain::user::User = serde_json::from_value(user).unwrap();
        shared::domain::user::sweep_sessions(&api.app.app, &user).await;
        assert_eq!(api.me(new.body["access_token"].as_str().unwrap()).await.status, StatusCode::OK);
        assert_eq!(api.refresh(new.body["refresh_token"].as_str().unwrap(), "b").await.status, StatusCode::OK);
    }

    async fn a_revoked_session_is_not_revived_by_changing_the_password(api: Api) {
        api.sign_up("revive@example.com").await;
        let stale = api.login("revive@example.com", PASSWORD, "a").await;
        let token = stale.body["access_token"].as_str().unwrap().to_owned();
        // The request's bearer check passes …
        let claims = api.me(&token).await;
        assert_eq!(claims.status, StatusCode::OK);
        let (user, _) = api.stored_user("revive@example.com").await;
        let refresh = stale.body["refresh_token"].as_str().unwrap();
        let refresh = shared::domain::ids::RefreshToken::parse(refresh).unwrap();
        let session_id = refresh.session_id().as_str();
        let session_item = api
            .app
            .app
            .store
            .get(&shared::table::session_key(
                &shared::domain::ids::UserId::parse(user["id"].as_str().unwrap()).unwrap(),
                &shared::domain::ids::SessionId::parse(session_id).unwrap(),
            ))
            .await
            .unwrap()
            .unwrap();
        let session: shared::domain::user::Session = serde_json::from_value(session_item.body).unwrap();
        // … then every session ends (logout-all from another device) …
        let other = api.login("revive@example.com", PASSWORD, "b").await;
        let bearer = format!("Bearer {}", other.body["access_token"].as_str().unwrap());
        api.send(reqwest::Method::POST, "/v1/auth/logout-all", None, &[("Authorization", &bearer)]).await;
        // … and only then does the password change of the first request land.
        let changed = shared::domain::passwords::change_password(
            &api.app.app,
            &api.app.tenant,
            &session,
            &shared::domain::password::Password::new(PASSWORD),
            &shared::domain::password::Password::new("N3w!Secret9"),
        )
        .await;
        assert!(changed.is_ok(), "{changed:?}");
        assert_eq!(api.me(&token).await.status, StatusCode::UNAUTHORIZED, "the ended session stays ended");
        assert_eq!(
            api.refresh(stale.body["refresh_token"].as_str().unwrap(), "a").await.status,
            StatusCode::UNAUTHORIZED
        );
    }

    /// SMS pumping: a tenant texts only the countries it serves, and stops
    /// at its hourly budget with a 429 that leaves nothing half-written.
    async fn the_sms_budget_and_country_list_hold(api: Api) {
        let tokens = api.sign_up("texter@example.com").await;
        let mut tenant = api.app.tenant.clone();
        tenant.policy.sms =
            SmsPolicy { countries: vec!["CH".into()], per_hour: 3, per_day: 100, ..SmsPolicy::default() };
        tenant.policy.phone_required = true;
        save_tenant(api.app.app.store.as_ref(), &tenant).await.unwrap();
        api.advance(61); // past the cached policy
        let bearer = format!("Bearer {}", tokens["access_token"].as_str().unwrap());
        let auth = [("Authorization", bearer.as_str())];
        let add = |phone: &str| json!({ "type": "phone", "value": phone, "current_password": PASSWORD });
        let german = api.post("/v1/me/credentials", add("+4915112345678"), &auth).await;
        assert_eq!(german.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", german.body);
        assert_eq!(german.body["errors"][0]["code"], "country_not_allowed");
        assert!(api.app.messages_to("+4915112345678").is_empty());
        // The hourly budget: three texts, then 429 until the hour is over.
        for n in 0..3 {
            let phone = format!("+4179555010{n}");
            let sent = api.post("/v1/me/credentials", add(&phone), &auth).await;
            assert_eq!(sent.status, StatusCode::ACCEPTED, "{}", sent.body);
            // A resend the cooldown refuses sends nothing and spends nothing.
            let again = api.post("/v1/me/credentials", add(&phone), &auth).await;
            assert_eq!(again.code(), "rate_limited", "{}", again.body);
        }
        let spent = api.post("/v1/me/credentials", add("+41795550109"), &auth).await;
        assert_eq!((spent.status, spent.code()), (StatusCode::TOO_MANY_REQUESTS, "sms_budget_spent"), "{}", spent.body);
        assert!(spent.retry_after().is_some_and(|s| (1..=3600).contains(&s)));
        assert!(api.app.messages_to("+41795550109").is_empty());
        // Sign-up's phone step is held by the same budget.
        let started = api
            .post(
                "/v1/registrations",
                json!({ "email": "later@example.com", "password": PASSWORD, "first_name": "L", "last_name": "T",
                        "terms_accepted": true, "privacy_policy_accepted": true }),
                &[],
            )
            .await;
        let id = started.body["registration_id"].as_str().unwrap().to_owned();
        api.post(&format!("/v1/registrations/{id}/email/verify"), json!({ "code": CODE }), &[]).await;
        let phone = api.post(&format!("/v1/registrations/{id}/phone"), json!({ "phone": "+41795550110" }), &[]).await;
        assert_eq!(phone.code(), "sms_budget_spent", "{}", phone.body);
        let abroad = api.post(&format!("/v1/registrations/{id}/phone"), json!({ "phone": "+33612345678" }), &[]).await;
        assert_eq!(abroad.body["errors"][0]["code"], "country_not_allowed", "{}", abroad.body);
        // An hour later the texts flow again, and the registration goes on.
        api.advance(3600);
        let phone = api.post(&format!("/v1/registrations/{id}/phone"), json!({ "phone": "+41795550110" }), &[]).await;
        assert_eq!(phone.status, StatusCode::ACCEPTED, "{}", phone.body);
    }
}

/// Signing in again within the SMS cooldown (an abandoned attempt, a second
/// tab): the challenge still pending for that user and device, and no new
/// SMS; never for a wrong password or another device.
async fn a_login_within_the_cooldown_gets_the_pending_challenge(api: Api) {
    let phone = "+41791112244";
    api.sign_up_with_phone("again@example.com", phone).await;
    api.advance(61);
    let first = api.login("again@example.com", PASSWORD, "dev-1").await;
    assert_eq!(first.body["mfa_required"], true, "{}", first.body);
    let challenge = first.body["challenge_id"].as_str().unwrap().to_owned();
    let texts = api.app.messages_to(phone).len();
    api.advance(20);
    let again = api.login("again@example.com", PASSWORD, "dev-1").await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.body);
    assert_eq!((again.body["challenge_id"].as_str(), again.body["channel"].as_str()), (Some(&*challenge), Some("sms")));
    assert_eq!(api.app.messages_to(phone).len(), texts, "no new SMS");
    let wrong = api.login("again@example.com", "Wr0ng!Pass", "dev-1").await;
    assert_eq!(wrong.code(), "invalid_credentials", "a wrong password gets no challenge");
    // Another device within the cooldown: no 429 and no text, but a
    // challenge without a code, with the login's factors and the seconds
    // until a text may go (the login's 2FA, docs/sessions-and-keys.md).
    let other = api.login("again@example.com", PASSWORD, "dev-2").await;
    assert_eq!(other.status, StatusCode::OK, "{}", other.body);
    assert_ne!(other.body["challenge_id"], challenge.as_str(), "{}", other.body);
    assert_eq!(other.body["factors"], json!(["sms"]), "the login's own factors, no other: {}", other.body);
    assert!(other.body["retry_after"].as_u64().is_some_and(|s| (1..=41).contains(&s)), "{}", other.body);
    assert!(other.body.get("channel").is_none(), "{}", other.body);
    assert_eq!(api.app.messages_to(phone).len(), texts, "no new SMS");
    // A challenge whose tries are spent is not handed out again.
    let device = [("X-Device-ID", "dev-1")];
    for _ in 0..5 {
        let guess = api.post("/v1/auth/mfa", json!({ "challenge_id": challenge, "code": "000000" }), &device).await;
        assert_eq!(guess.code(), "invalid_code");
    }
    let spent = api.login("again@example.com", PASSWORD, "dev-1").await;
    assert_ne!(spent.body["challenge_id"], challenge.as_str(), "{}", spent.body);
    assert!(spent.body["retry_after"].as_u64().is_some(), "a new challenge without a code: {}", spent.body);
    // Past the cooldown: a new challenge and a new SMS.
    api.advance(61);
    let fresh = api.login("again@example.com", PASSWORD, "dev-1").await;
    assert_ne!(fresh.body["challenge_id"].as_str(), Some(&*challenge), "{}", fresh.body);
    assert_eq!(api.app.messages_to(phone).len(), texts + 1);
    let done =
        api.post("/v1/auth/mfa", json!({ "challenge_id": fresh.body["challenge_id"], "code": CODE }), &device).await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
}

/// `POST /v1/auth/mfa/send`: a new code for the login's challenge, after the
/// destination's cooldown only, on the challenge's device only; its tries
/// start again with it.
async fn the_second_factor_code_is_resent_within_its_limits(api: Api) {
    let phone = "+41791112255";
    api.sign_up_with_phone("resend@example.com", phone).await;
    api.advance(61);
    let login = api.login("resend@example.com", PASSWORD, "dev-1").await;
    let challenge = login.body["challenge_id"].as_str().unwrap().to_owned();
    let texts = api.app.messages_to(phone).len();
    let device = [("X-Device-ID", "dev-1")];
    let send = || api.post("/v1/auth/mfa/send", json!({ "challenge_id": challenge }), &device);
    let early = send().await;
    assert_eq!((early.status, early.code()), (StatusCode::TOO_MANY_REQUESTS, "rate_limited"), "{}", early.body);
    assert!(early.retry_after().is_some());
    for _ in 0..5 {
        let guess = api.post("/v1/auth/mfa", json!({ "challenge_id": challenge, "code": "000000" }), &device).await;
        assert_eq!(guess.code(), "invalid_code");
    }
    api.advance(61);
    let elsewhere =
        api.post("/v1/auth/mfa/send", json!({ "challenge_id": challenge }), &[("X-Device-ID", "dev-2")]).await;
    assert_eq!(elsewhere.code(), "invalid_device", "{}", elsewhere.body);
    let unknown =
        api.post("/v1/auth/mfa/send", json!({ "challenge_id": "chl_0123456789abcdef0123456789abcdef" }), &device).await;
    assert_eq!((unknown.status, unknown.code()), (StatusCode::NOT_FOUND, "challenge_not_found"), "{}", unknown.body);
    let by_mail = json!({ "challenge_id": challenge, "factor": "email" });
    let other_factor = api.post("/v1/auth/mfa/send", by_mail, &device).await;
    assert_eq!(other_factor.body["errors"][0]["field"], "factor", "only the challenge's own: {}", other_factor.body);
    let sent = send().await;
    assert_eq!(sent.status, StatusCode::ACCEPTED, "{}", sent.body);
    assert_eq!(api.app.messages_to(phone).len(), texts + 1, "a new SMS");
    let again = send().await;
    assert_eq!(again.code(), "rate_limited", "the cooldown holds for resends too");
    // The new code has tries of its own: the right one signs in.
    let done = api.post("/v1/auth/mfa", json!({ "challenge_id": challenge, "code": CODE }), &device).await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    api.advance(61);
    let gone = send().await;
    assert_eq!(gone.code(), "challenge_not_found", "a spent challenge is gone");
}

/// `confirm_password`, where a source API sent it: checked for equality
/// when given (`password_mismatch`), ignored when absent.
async fn confirm_password_is_checked_wherever_a_password_is_set(api: Api) {
    let sign_up = |confirm: &str| {
        json!({
            "email": "confirm@example.com", "password": PASSWORD, "confirm_password": confirm,
            "first_name": "Con", "last_name": "Firm", "terms_accepted": true, "privacy_policy_accepted": true,
        })
    };
    let mismatch = api.post("/v1/registrations", sign_up("Str0ng!Pas"), &[]).await;
    assert_eq!(mismatch.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", mismatch.body);
    assert_eq!(
        mismatch.body["errors"],
        json!([{
            "field": "confirm_password", "code": "password_mismatch", "message": "The passwords do not match.",
        }])
    );
    let started = api.post("/v1/registrations", sign_up(PASSWORD), &[]).await;
    assert_eq!(started.status, StatusCode::ACCEPTED, "{}", started.body);
    let tokens = api.sign_up("confirm2@example.com").await;
    assert_eq!(tokens["scope"], "", "a self-registered user has no roles");
    let bearer = format!("Bearer {}", tokens["access_token"].as_str().unwrap());
    let change = |confirm: &str| json!({ "current_password": PASSWORD, "new_password": "N3w!Secret", "confirm_password": confirm });
    let auth = [("Authorization", bearer.as_str())];
    let refused = api.post("/v1/me/password", change("N3w!Secre7"), &auth).await;
    assert_eq!(refused.body["errors"][0]["field"], "confirm_password", "{}", refused.body);
    let changed = api.post("/v1/me/password", change("N3w!Secret"), &auth).await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.body);
    api.advance(61);
    api.post("/v1/auth/password/forgot", json!({ "email": "confirm2@example.com" }), &[]).await;
    let reset = |confirm: &str| json!({ "email": "confirm2@example.com", "code": CODE, "new_password": "Thr33!Secret", "confirm_password": confirm });
    let refused = api.post("/v1/auth/password/reset", reset("Thr33!Secre7"), &[]).await;
    assert_eq!(refused.body["errors"][0]["code"], "password_mismatch", "{}", refused.body);
    let done = api.post("/v1/auth/password/reset", reset("Thr33!Secret"), &[]).await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
}

/// A user with 2FA whose terms are pending (here: an older version than the
/// tenant's) proves both factors before it can record a consent.
async fn legal_documents_come_after_the_second_factor(api: Api) {
    api.sign_up_with_phone("legal2fa@example.com", "+41795550101").await;
    let lock = api.app.app.store.get(&shared::table::email_lock_key(&api.app.tenant.id, "legal2fa@example.com")).await;
    let id = lock.unwrap().unwrap().body["user_id"].as_str().unwrap().to_owned();
    let key = shared::table::user_key(&shared::domain::ids::UserId::parse(&id).unwrap());
    let item = api.app.app.store.get(&key).await.unwrap().unwrap();
    let mut body = item.body.clone();
    body["terms"]["version"] = json!("2025-01");
    let item = shared::ports::Item::new(key, body, None);
    api.app.app.store.put(item, shared::ports::Condition::Always).await.unwrap();

    api.advance(61);
    let first = api.login("legal2fa@example.com", PASSWORD, "d").await;
    assert_eq!(first.body["mfa_required"], true, "the second factor first: {}", first.body);
    let mfa = json!({ "challenge_id": first.body["challenge_id"], "code": CODE });
    let legal = api.post("/v1/auth/mfa", mfa, &[("X-Device-ID", "d")]).await;
    assert_eq!(legal.body["legal_acceptance_required"], true, "{}", legal.body);
    assert_eq!(legal.body["documents"], json!([{ "code": "terms", "version": "2026-01" }]));
    // The MFA challenge is spent; the legal one does not take a code.
    let again = api
        .post(
            "/v1/auth/mfa",
            json!({ "challenge_id": first.body["challenge_id"], "code": CODE }),
            &[("X-Device-ID", "d")],
        )
        .await;
    assert_eq!(again.code(), "invalid_code", "{}", again.body);
    let as_code = api
        .post(
            "/v1/auth/mfa",
            json!({ "challenge_id": legal.body["challenge_id"], "code": CODE }),
            &[("X-Device-ID", "d")],
        )
        .await;
    assert_eq!(as_code.code(), "invalid_code", "{}", as_code.body);
    let accept = json!({ "challenge_id": legal.body["challenge_id"], "terms_accepted": true });
    let tokens = api.post("/v1/auth/legal/accept", accept, &[("X-Device-ID", "d")]).await;
    assert!(tokens.body["access_token"].is_string(), "no second 2FA round: {}", tokens.body);
}
