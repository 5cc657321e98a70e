//! Passkeys (WebAuthn) end to end over HTTP on both stores, with the
//! software authenticator of `shared::soft_authenticator` standing in for
//! the browser: registration, sign-in with a passkey alone, the passkey as
//! the second factor after the password, removal; and the hostile cases
//! (replay, wrong origin, wrong relying party, expired and reused
//! ceremonies, no user verification, a cloned credential's counter).

use reqwest::StatusCode;
use serde_json::{Value, json};
use shared::domain::policy::PasskeyPolicy;
use shared::domain::tenant::{IpLimits, Policy};
use shared::soft_authenticator::SoftAuthenticator;

use crate::common::{Answer, Api, Backend, CODE, Flows, PASSWORD};

const ORIGIN: &str = "http://localhost:3000";

async fn api(backend: Backend) -> Api {
    let passkeys = PasskeyPolicy { rp_id: Some("localhost".into()), origins: vec![ORIGIN.into()] };
    let ip_limits = IpLimits { logins_per_5_min: 10_000, ..IpLimits::default() };
    let policy =
        Policy { phone_required: false, sandbox_code: Some(CODE.into()), passkeys, ip_limits, ..Policy::default() };
    Api::start(backend, policy).await
}

impl Api {
    /// Signs up with the e-mail alone; the bearer header.
    async fn bearer(&self, email: &str) -> String {
        let done = self.sign_up(email).await;
        format!("Bearer {}", done["access_token"].as_str().expect("tokens"))
    }

    /// Registers `key` for the user of `bearer`; the answer.
    async fn register(&self, bearer: &str, key: &mut SoftAuthenticator, origin: &str) -> Answer {
        let auth = [("Authorization", bearer)];
        let options = self.post("/v1/me/passkeys/options", json!({ "current_password": PASSWORD }), &auth).await;
        assert_eq!(options.status, StatusCode::OK, "{}", options.body);
        let credential = key.create(&options.body["publicKey"], origin);
        let body = json!({ "ceremony_id": options.body["ceremony_id"], "credential": credential, "name": "Laptop" });
        self.post("/v1/me/passkeys", body, &auth).await
    }

    /// Sign-in options (a passkey alone, or for a 2FA `challenge`).
    async fn sign_in_options(&self, challenge: Option<&Value>, device: &str) -> Answer {
        let body = challenge.map_or_else(|| json!({}), |c| json!({ "challenge_id": c }));
        self.post("/v1/auth/passkey/options", body, &[("X-Device-ID", device)]).await
    }

    async fn sign_in(&self, ceremony: &Value, assertion: Value, device: &str) -> Answer {
        let body = json!({ "ceremony_id": ceremony, "credential": assertion });
        self.post("/v1/auth/passkey", body, &[("X-Device-ID", device)]).await
    }

    /// A whole sign-in with `key` alone.
    async fn passkey_sign_in(&self, key: &mut SoftAuthenticator, origin: &str) -> Answer {
        let options = self.sign_in_options(None, "d1").await;
        assert_eq!(options.status, StatusCode::OK, "{}", options.body);
        let assertion = key.get(&options.body["publicKey"], origin);
        self.sign_in(&options.body["ceremony_id"], assertion, "d1").await
    }
}

on_both_stores!(
    api;
    a_passkey_is_registered_and_signs_in_alone_or_as_the_second_factor,
    hostile_assertions_are_refused,
    registration_needs_the_password_and_a_credential_once,
    a_removed_passkey_no_longer_signs_in,
    closing_the_account_deletes_its_passkeys,
    fifty_parallel_answers_to_one_ceremony_sign_in_once,
);

async fn a_passkey_is_registered_and_signs_in_alone_or_as_the_second_factor(api: Api) {
    let bearer = api.bearer("pia@example.com").await;
    let mut key = SoftAuthenticator::new("pia", "localhost");
    let registered = api.register(&bearer, &mut key, ORIGIN).await;
    assert_eq!(registered.status, StatusCode::CREATED, "{}", registered.body);
    assert_eq!(registered.body["passkey"]["name"], "Laptop");
    assert_eq!(registered.body["recovery_codes"].as_array().map(Vec::len), Some(10), "the first strong factor");
    let told = api.app.messages_to("pia@example.com");
    assert!(told.last().unwrap().to_string().contains("passkey was added"), "{:?}", told.last());
    let view = api.get("/v1/me/factors", &[("Authorization", &bearer)]).await;
    assert_eq!(view.body["passkeys"][0]["id"], registered.body["passkey"]["id"], "{}", view.body);

    // A passkey alone: no username, no password.
    let alone = api.passkey_sign_in(&mut key, ORIGIN).await;
    assert!(alone.body["access_token"].is_string(), "{}", alone.body);
    let view = api.get("/v1/me/factors", &[("Authorization", &bearer)]).await;
    assert!(view.body["passkeys"][0]["last_used_at"].is_string(), "{}", view.body);

    // After the password the login asks for a second factor, passkey first,
    // and sends nothing.
    let mails = api.app.messages_to("pia@example.com").len();
    let login = api
        .post(
            "/v1/auth/login",
            json!({ "username": "pia@example.com", "password": PASSWORD }),
            &[("X-Device-ID", "d2")],
        )
        .await;
    assert_eq!(login.body["factors"], json!(["passkey", "recovery_code"]), "{}", login.body);
    assert_eq!(api.app.messages_to("pia@example.com").len(), mails);
    let options = api.sign_in_options(Some(&login.body["challenge_id"]), "d2").await;
    assert_eq!(options.status, StatusCode::OK, "{}", options.body);
    let allowed = options.body["publicKey"]["allowCredentials"].as_array().map(Vec::len);
    assert_eq!(allowed, Some(1), "the user's own passkeys: {}", options.body);
    let assertion = key.get(&options.body["publicKey"], ORIGIN);
    let second = api.sign_in(&options.body["ceremony_id"], assertion, "d2").await;
    assert!(second.body["access_token"].is_string(), "{}", second.body);
    // The challenge is spent with it.
    let again = api.sign_in_options(Some(&login.body["challenge_id"]), "d2").await;
    assert_eq!(again.code(), "challenge_not_found", "{}", again.body);
}

async fn hostile_assertions_are_refused(api: Api) {
    let bearer = api.bearer("eve@example.com").await;
    let mut key = SoftAuthenticator::new("eve", "localhost");
    assert_eq!(api.register(&bearer, &mut key, ORIGIN).await.status, StatusCode::CREATED);

    // Another origin (a phishing page) or another relying party.
    let phished = api.passkey_sign_in(&mut key, "http://localhost.evil.example:3000").await;
    assert_eq!((phished.status, phished.code()), (StatusCode::UNAUTHORIZED, "invalid_credentials"), "{}", phished.body);
    let mut elsewhere = SoftAuthenticator::new("eve", "evil.example");
    let wrong_rp = api.passkey_sign_in(&mut elsewhere, ORIGIN).await;
    assert_eq!(wrong_rp.code(), "invalid_credentials", "{}", wrong_rp.body);
    // Without user verification a passkey is one factor, not two.
    key.user_verified = false;
    assert_eq!(api.passkey_sign_in(&mut key, ORIGIN).await.code(), "invalid_credentials");
    key.user_verified = true;

    // A ceremony is answered once: the same assertion again, and a
    // recorded assertion against a new ceremony, are refused.
    let options = api.sign_in_options(None, "d1").await;
    let assertion = key.get(&options.body["publicKey"], ORIGIN);
    let first = api.sign_in(&options.body["ceremony_id"], assertion.clone(), "d1").await;
    assert!(first.body["access_token"].is_string(), "{}", first.body);
    let replay = api.sign_in(&options.body["ceremony_id"], assertion.clone(), "d1").await;
    assert_eq!((replay.status, replay.code()), (StatusCode::NOT_FOUND, "challenge_not_found"));
    let fresh = api.sign_in_options(None, "d1").await;
    let replayed = api.sign_in(&fresh.body["ceremony_id"], assertion, "d1").await;
    assert_eq!(replayed.code(), "invalid_credentials", "another challenge: {}", replayed.body);
    // A ceremony on another device, or after its 5 minutes.
    let options = api.sign_in_options(None, "d1").await;
    let assertion = key.get(&options.body["publicKey"], ORIGIN);
    let other_device = api.sign_in(&options.body["ceremony_id"], assertion, "d9").await;
    assert_eq!(other_device.code(), "invalid_device");
    let options = api.sign_in_options(None, "d1").await;
    api.advance(5 * 60 + 1);
    let assertion = key.get(&options.body["publicKey"], ORIGIN);
    let late = api.sign_in(&options.body["ceremony_id"], assertion, "d1").await;
    assert_eq!(late.code(), "challenge_not_found", "{}", late.body);
    // A clone whose counter lags behind the credential's.
    key.counter = 0;
    assert_eq!(api.passkey_sign_in(&mut key, ORIGIN).await.code(), "invalid_credentials");
    // Each refused use of the credential is on the owner's audit trail.
    let me = api.get("/v1/me", &[("Authorization", &bearer)]).await;
    let admin = format!("Bearer {}", api.app.admin_token);
    let path = format!("/v1/users/{}/audit", me.body["user_id"].as_str().unwrap());
    let audit = api.get(&path, &[("Authorization", admin.as_str())]).await;
    let failed = audit.body["events"].as_array().unwrap().iter().filter(|e| e["event"] == "passkey_failed").count();
    assert!(failed >= 4, "{}", audit.body);
    // A malformed credential, or an id longer than WebAuthn allows, is a 422, not a 500.
    let options = api.sign_in_options(None, "d1").await;
    let junk = api
        .sign_in(
            &options.body["ceremony_id"],
            json!({ "id": "x", "rawId": "x", "type": "public-key", "response": {} }),
            "d1",
        )
        .await;
    assert_eq!(junk.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", junk.body);
    let options = api.sign_in_options(None, "d1").await;
    let mut long = key.get(&options.body["publicKey"], ORIGIN);
    let id = "A".repeat(2000);
    long["id"] = json!(id);
    long["rawId"] = json!(id);
    let too_long = api.sign_in(&options.body["ceremony_id"], long, "d1").await;
    assert_eq!(too_long.body["errors"][0]["code"], "invalid_credential", "{}", too_long.body);
}

async fn registration_needs_the_password_and_a_credential_once(api: Api) {
    let bearer = api.bearer("ida@example.com").await;
    let auth = [("Authorization", bearer.as_str())];
    // Even just after the sign-in: a stolen access token alone adds nothing.
    let bare = api.post("/v1/me/passkeys/options", json!({}), &auth).await;
    assert_eq!(bare.body["errors"][0]["field"], "current_password", "{}", bare.body);
    let wrong = api.post("/v1/me/passkeys/options", json!({ "current_password": "Wr0ng!Pass" }), &auth).await;
    assert_eq!(wrong.body["errors"][0]["code"], "incorrect_password", "{}", wrong.body);
    let options = api.post("/v1/me/passkeys/options", json!({ "current_password": PASSWORD }), &auth).await;
    assert_eq!(options.status, StatusCode::OK, "{}", options.body);
    let mut key = SoftAuthenticator::new("ida", "localhost");
    let credential = key.create(&options.body["publicKey"], ORIGIN);
    let wrong_origin = key.create(&options.body["publicKey"], "http://evil.example");
    let body = json!({ "ceremony_id": options.body["ceremony_id"], "credential": wrong_origin });
    let refused = api.post("/v1/me/passkeys", body, &auth).await;
    assert_eq!(refused.body["errors"][0]["code"], "invalid_credential", "{}", refused.body);
    // That ceremony is spent; a new one registers.
    let body = json!({ "ceremony_id": options.body["ceremony_id"], "credential": credential });
    assert_eq!(api.post("/v1/me/passkeys", body, &auth).await.code(), "challenge_not_found");
    let options = api.post("/v1/me/passkeys/options", json!({ "current_password": PASSWORD }), &auth).await;
    let credential = key.create(&options.body["publicKey"], ORIGIN);
    let body = json!({ "ceremony_id": options.body["ceremony_id"], "credential": credential });
    let added = api.post("/v1/me/passkeys", body, &auth).await;
    assert_eq!(added.status, StatusCode::CREATED, "{}", added.body);
    // The same credential cannot be registered again: the browser is told
    // (excludeCredentials) and the answer refused; nor for another user.
    let options = api.post("/v1/me/passkeys/options", json!({ "current_password": PASSWORD }), &auth).await;
    let excluded = options.body["publicKey"]["excludeCredentials"].as_array().map(Vec::len);
    assert_eq!(excluded, Some(1), "the browser is told: {}", options.body);
    let credential = key.create(&options.body["publicKey"], ORIGIN);
    let body = json!({ "ceremony_id": options.body["ceremony_id"], "credential": credential });
    let twice = api.post("/v1/me/passkeys", body, &auth).await;
    assert_eq!(twice.body["errors"][0]["code"], "invalid_credential", "{}", twice.body);
    let other = api.bearer("ida.two@example.com").await;
    let theirs = api.register(&other, &mut key, ORIGIN).await;
    assert_eq!(theirs.body["errors"][0]["code"], "credential_registered", "{}", theirs.body);
}

async fn a_removed_passkey_no_longer_signs_in(api: Api) {
    let bearer = api.bearer("ria@example.com").await;
    let mut key = SoftAuthenticator::new("ria", "localhost");
    let added = api.register(&bearer, &mut key, ORIGIN).await;
    let path = format!("/v1/me/passkeys/{}", added.body["passkey"]["id"].as_str().unwrap());
    let auth = [("Authorization", bearer.as_str())];
    let wrong =
        api.send(reqwest::Method::DELETE, &path, Some(json!({ "current_password": "Wr0ng!Pass" })), &auth).await;
    assert_eq!(wrong.body["errors"][0]["code"], "incorrect_password", "{}", wrong.body);
    let removed = api.send(reqwest::Method::DELETE, &path, Some(json!({ "current_password": PASSWORD })), &auth).await;
    assert_eq!(removed.status, StatusCode::OK, "{}", removed.body);
    let gone = api.send(reqwest::Method::DELETE, &path, Some(json!({ "current_password": PASSWORD })), &auth).await;
    assert_eq!(gone.code(), "passkey_not_found");
    assert_eq!(api.passkey_sign_in(&mut key, ORIGIN).await.code(), "invalid_credentials");
    let view = api.get("/v1/me/factors", &auth).await;
    assert_eq!((view.body["passkeys"].clone(), view.body["recovery_codes_left"].clone()), (json!([]), json!(0)));
    let login = api
        .post(
            "/v1/auth/login",
            json!({ "username": "ria@example.com", "password": PASSWORD }),
            &[("X-Device-ID", "d1")],
        )
        .await;
    assert!(login.body["access_token"].is_string(), "no factor left: {}", login.body);
}

async fn closing_the_account_deletes_its_passkeys(api: Api) {
    let bearer = api.bearer("gone@example.com").await;
    let mut key = SoftAuthenticator::new("gone", "localhost");
    assert_eq!(api.register(&bearer, &mut key, ORIGIN).await.status, StatusCode::CREATED);
    let closed = api
        .send(reqwest::Method::DELETE, "/v1/me", Some(json!({ "password": PASSWORD })), &[("Authorization", &bearer)])
        .await;
    assert_eq!(closed.status, StatusCode::OK, "{}", closed.body);
    assert_eq!(api.passkey_sign_in(&mut key, ORIGIN).await.code(), "invalid_credentials");
    // Its credential id is free again (the lock went with the record).
    let other = api.bearer("next@example.com").await;
    let again = api.register(&other, &mut key, ORIGIN).await;
    assert_eq!(again.status, StatusCode::CREATED, "{}", again.body);
}

/// One ceremony, its assertion sent 50 times at once: one session, and
/// every other answer refused alike.
async fn fifty_parallel_answers_to_one_ceremony_sign_in_once(api: Api) {
    let bearer = api.bearer("burst@example.com").await;
    let mut key = SoftAuthenticator::new("burst", "localhost");
    assert_eq!(api.register(&bearer, &mut key, ORIGIN).await.status, StatusCode::CREATED);
    let options = api.sign_in_options(None, "d1").await;
    let assertion = key.get(&options.body["publicKey"], ORIGIN);
    let ceremony = &options.body["ceremony_id"];
    let answers = futures::future::join_all((0..50).map(|_| api.sign_in(ceremony, assertion.clone(), "d1"))).await;
    let signed_in = answers.iter().filter(|a| a.body["access_token"].is_string()).count();
    let codes: Vec<&str> = answers.iter().map(|a| a.code()).collect();
    assert_eq!(signed_in, 1, "{codes:?}");
    assert!(codes.iter().all(|c| c.is_empty() || *c == "challenge_not_found"), "{codes:?}");
}

#[tokio::test]
async fn a_tenant_without_a_relying_party_has_no_passkeys() {
    let api = Api::start(
        Backend::Memory,
        Policy { phone_required: false, sandbox_code: Some(CODE.into()), ..Policy::default() },
    )
    .await;
    let bearer = api.bearer("none@example.com").await;
    let body = json!({ "current_password": PASSWORD });
    let options = api.post("/v1/me/passkeys/options", body, &[("Authorization", &bearer)]).await;
    assert_eq!((options.status, options.code()), (StatusCode::CONFLICT, "passkeys_not_configured"), "{}", options.body);
}
