//! Every `events/<function>.json` (a real API Gateway HTTP API 2.0 event)
//! goes through `lambda_http`'s request parsing and the function's handler,
//! with the store prepared so the event's step is the next one. The events'
//! placeholders (registration id, challenge id, tokens) are swapped for the
//! prepared ones.

use std::sync::Arc;

use chrono::Duration;
use serde_json::{Value, json};
use shared::adapters::system::ManualClock;
use shared::app::App;
use shared::domain::auth::{self, LoginOutcome, Origin};
use shared::domain::factors;
use shared::domain::ids::RegistrationId;
use shared::domain::me::{self, NewCredential, StepUp};
use shared::domain::passkeys;
use shared::domain::password::{CurrentPassword, Password};
use shared::domain::policy::PasskeyPolicy;
use shared::domain::registration::{self, SignUp, Verified};
use shared::domain::tenant::{Policy, Tenant};
use shared::domain::user::Tokens;
use shared::domain::values::{EmailAddress, PersonalDetails, Phone};
use shared::http::{ROUTES, handle_route, route_for_function};
use shared::ports::{Condition, Item};
use shared::soft_authenticator::SoftAuthenticator;
use shared::table::{email_lock_key, user_key};
use shared::testing::{TestOptions, build_app};

use crate::common::{self, CODE, PASSWORD};

const EVENT_API_KEY: &str = "sk_sandbox_events_example_key";
const EVENT_REGISTRATION: &str = "reg_01a214ebb5f4742abc6ee99dd3ac47d9";
const EVENT_CHALLENGE: &str = "chl_01a214ebb5f4742abc6ee99dd3ac47d9";
const EVENT_ACCESS: &str = "ACCESS_TOKEN";
const EVENT_REFRESH: &str = "rt_example_refresh_token";
const EVENT_USER: &str = "usr_01a214ebb5f4742abc6ee99dd3ac47d9";
const EVENT_ADMIN_TOKEN: &str = "adm_local_events_example_admin_token";
const DEVICE: &str = "device-events-1";
const ORIGIN: &str = "http://localhost:3000";
const EVENT_CEREMONY: &str = "cer_01a214ebb5f4742abc6ee99dd3ac47d9";
const EVENT_PASSKEY: &str = "pk_01a214ebb5f4742abc6ee99dd3ac47d9";
const EVENT_SESSION: &str = "ses_01a214ebb5f4742abc6ee99dd3ac47d9";
/// The events' credentials, as their bodies (JSON in a JSON string) hold them.
const EVENT_REGISTRATION_CREDENTIAL: &str = r#"{\"id\": \"AAAAAAAAAAAAAAAAAAAAAA\", \"rawId\": \"AAAAAAAAAAAAAAAAAAAAAA\", \"type\": \"public-key\", \"response\": {\"clientDataJSON\": \"e30\", \"attestationObject\": \"oA\"}}"#;
const EVENT_ASSERTION: &str = r#"{\"id\": \"AAAAAAAAAAAAAAAAAAAAAA\", \"rawId\": \"AAAAAAAAAAAAAAAAAAAAAA\", \"type\": \"public-key\", \"response\": {\"clientDataJSON\": \"e30\", \"authenticatorData\": \"AA\", \"signature\": \"AA\", \"userHandle\": \"AA\"}}"#;

struct Fixture {
    app: Arc<App>,
    tenant: Tenant,
    clock: Arc<ManualClock>,
    /// Placeholder → prepared value.
    swaps: Vec<(&'static str, String)>,
}

async fn fixture(phone_required: bool) -> Fixture {
    let passkeys = PasskeyPolicy { rp_id: Some("localhost".into()), origins: vec![ORIGIN.into()] };
    let policy = Policy { sandbox_code: Some(CODE.into()), phone_required, passkeys, ..Policy::default() };
    let options = TestOptions { policy: policy.clone(), ..TestOptions::default() };
    let shared::testing::BuiltApp { app, clock, .. } = build_app(options).await;
    let tenant = Tenant { id: "sandbox".into(), name: "Events".into(), policy };
    shared::local::seed_tenant(&app, &tenant, EVENT_API_KEY).await.unwrap();
    shared::local::seed_admin_token(&app, &tenant, Some(EVENT_ADMIN_TOKEN)).await.unwrap();
    Fixture { app, tenant, clock, swaps: Vec::new() }
}

fn sign_up(email: &str) -> SignUp {
    SignUp {
        email: Some(EmailAddress::parse(email).unwrap()),
        phone: None,
        password: Password::new(PASSWORD),
        details: PersonalDetails {
            first_name: "Eve".into(),
            last_name: "Nts".into(),
            language: "en".into(),
            ..PersonalDetails::default()
        },
        partner_id: None,
        username: None,
    }
}

impl Fixture {
    fn past_cooldowns(&self) {
        self.clock.advance(Duration::seconds(61));
    }

    /// A registration at its first step; its id replaces the event's.
    async fn registration(&mut self) -> String {
        let id = registration::start(&self.app, &self.tenant, sign_up("events@example.com"), "203.0.113.10")
            .await
            .unwrap()
            .registration_id;
        self.swaps.push((EVENT_REGISTRATION, id.clone()));
        self.past_cooldowns();
        id
    }

    /// A user (phone not required) signed in on the events' device.
    async fn user(&mut self) -> Tokens {
        let id = registration::start(&self.app, &self.tenant, sign_up("anna@example.com"), "203.0.113.10")
            .await
            .unwrap()
            .registration_id;
        let Verified::Completed(_) =
            registration::verify_email(&self.app, &self.tenant, &RegistrationId::parse(&id).unwrap(), CODE, None)
                .await
                .unwrap()
        else {
            panic!("the events' tenant requires no phone")
        };
        let tokens = self.login().await;
        self.swaps.push((EVENT_ACCESS, tokens.access_token.clone()));
        self.swaps.push((EVENT_REFRESH, tokens.refresh_token.clone()));
        self.past_cooldowns();
        tokens
    }

    async fn login_outcome(&self) -> LoginOutcome {
        let origin = Origin { ip: "203.0.113.10", device_id: DEVICE, device_token: None };
        auth::login(&self.app, &self.tenant, "anna@example.com", &Password::new(PASSWORD), origin).await.unwrap()
    }

    async fn login(&self) -> Tokens {
        match self.login_outcome().await {
            LoginOutcome::Tokens(tokens) => tokens,
            other => panic!("expected tokens, got {other:?}"),
        }
    }

    async fn user_id(&self) -> shared::domain::ids::UserId {
        let lock = self.app.store.get(&email_lock_key(&self.tenant.id, "anna@example.com")).await.unwrap().unwrap();
        shared::domain::ids::UserId::parse(lock.body["user_id"].as_str().unwrap()).unwrap()
    }

    /// A login waiting for its second factor.
    async fn mfa_challenge(&mut self) {
        self.user().await;
        let user_id = self.user_id().await;
        let phone = NewCredential::Phone(Phone::parse("+41791234567").unwrap());
        me::add_credential(&self.app, &self.tenant, &user_id, phone, StepUp::Password(current_password()))
            .await
            .unwrap();
        me::verify_credential(&self.app, &self.tenant, &user_id, None, "phone", CODE).await.unwrap();
        self.past_cooldowns();
        let LoginOutcome::Mfa { challenge_id, .. } = self.login_outcome().await else { panic!("2FA is on") };
        self.swaps.push((EVENT_CHALLENGE, challenge_id.to_string()));
    }

    /// A login waiting for the password an admin required.
    async fn password_challenge(&mut self) {
        self.user().await;
        let key = user_key(&self.user_id().await);
        let item = self.app.store.get(&key).await.unwrap().unwrap();
        let mut body = item.body;
        body["reset_required"] = Value::Bool(true);
        self.app.store.put(Item::new(key, body, None), Condition::Version(item.version)).await.unwrap();
        let LoginOutcome::PasswordChange { challenge_id } = self.login_outcome().await else {
            panic!("reset required")
        };
        self.swaps.push((EVENT_CHALLENGE, challenge_id.to_string()));
    }

    /// A pending legal-acceptance challenge for the event's id: the
    /// tenant's terms have a newer version than the user accepted.
    async fn legal_challenge(&mut self) {
        self.user().await;
        let key = user_key(&self.user_id().await);
        let item = self.app.store.get(&key).await.unwrap().unwrap();
        let mut body = item.body;
        body["terms"]["version"] = Value::String("2025-01".into());
        self.app.store.put(Item::new(key, body, None), Condition::Version(item.version)).await.unwrap();
        let LoginOutcome::LegalAcceptance { challenge_id, documents } = self.login_outcome().await else {
            panic!("terms to accept")
        };
        assert_eq!(documents.iter().map(|d| d.code).collect::<Vec<_>>(), ["terms"]);
        self.swaps.push((EVENT_CHALLENGE, challenge_id.to_string()));
    }

    /// Feeds the function's event to its handler.
    async fn answer(&self, function: &str) -> (u16, Value, lambda_http::http::HeaderMap) {
        let path = format!("{}/events/{function}.json", env!("CARGO_MANIFEST_DIR"));
        let mut text = std::fs::read_to_string(&path).unwrap_or_else(|_| panic!("{path} is missing"));
        for (placeholder, value) in &self.swaps {
            text = text.replace(placeholder, value);
        }
        let event: Value = serde_json::from_str(&text).expect("event is JSON");
        assert_eq!(event["version"], "2.0", "{function}: an HTTP API payload 2.0 event");
        let request = lambda_http::request::from_str(&text).expect("lambda_http parses the event");
        let route = route_for_function(function).expect("function in the route table");
        let response = handle_route(&self.app, route, request).await;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = match response.body() {
            lambda_http::Body::Text(text) => serde_json::from_str(text).expect("JSON answer"),
            // A redirect (`/oauth2/logout`).
            lambda_http::Body::Empty => Value::Null,
            other => panic!("{function}: unexpected body {other:?}"),
        };
        (status, body, headers)
    }
}

#[tokio::test]
async fn health_event() {
    let (status, body, _) = fixture(true).await.answer("health").await;
    assert_eq!((status, body["status"].as_str()), (200, Some("ok")));
}

#[tokio::test]
async fn jwks_event() {
    let (status, body, _) = fixture(true).await.answer("jwks").await;
    assert_eq!(status, 200);
    assert_eq!(body["keys"][0]["kty"], "RSA");
    assert_eq!(body["keys"][0]["alg"], "RS256");
}

#[tokio::test]
async fn start_registration_event() {
    let (status, body, headers) = fixture(true).await.answer("start-registration").await;
    assert_eq!(status, 202, "{body}");
    assert!(body["registration_id"].as_str().unwrap().starts_with("reg_"));
    // API Gateway's id, which its access log writes too, not the caller's.
    assert_eq!(headers["x-request-id"], "Kq9fzho-FiAEMdQ2=");
}

#[tokio::test]
async fn problems_carry_api_gateways_request_id() {
    let (status, body, headers) = fixture(true).await.answer("get-me").await;
    assert_eq!(status, 401, "{body}");
    let event: Value = serde_json::from_str(include_str!("../../events/get-me.json")).unwrap();
    let id = event["requestContext"]["requestId"].as_str().unwrap();
    assert_ne!(event["headers"]["x-request-id"].as_str(), Some(id), "the event carries a caller's id as well");
    assert_eq!(headers["x-request-id"], id);
    assert_eq!(body["request_id"], id);
}

#[tokio::test]
async fn get_registration_event() {
    let mut f = fixture(true).await;
    f.registration().await;
    let (status, body, _) = f.answer("get-registration").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["next"], "verify_email");
}

#[tokio::test]
async fn verify_registration_email_event() {
    let mut f = fixture(true).await;
    f.registration().await;
    let (status, body, headers) = f.answer("verify-registration-email").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["next"], "add_phone");
    assert_eq!(headers["content-language"], "en");
}

#[tokio::test]
async fn add_registration_phone_event() {
    let mut f = fixture(true).await;
    let id = f.registration().await;
    registration::verify_email(&f.app, &f.tenant, &RegistrationId::parse(&id).unwrap(), CODE, None).await.unwrap();
    let (status, body, _) = f.answer("add-registration-phone").await;
    assert_eq!(status, 202, "{body}");
    assert_eq!(body["next"], "verify_phone");
}

#[tokio::test]
async fn verify_registration_phone_event() {
    let mut f = fixture(true).await;
    let id = f.registration().await;
    registration::verify_email(&f.app, &f.tenant, &RegistrationId::parse(&id).unwrap(), CODE, None).await.unwrap();
    registration::add_phone(
        &f.app,
        &f.tenant,
        &RegistrationId::parse(&id).unwrap(),
        Phone::parse("+41791234567").unwrap(),
    )
    .await
    .unwrap();
    let (status, body, headers) = f.answer("verify-registration-phone").await;
    assert_eq!(status, 201, "{body}");
    assert!(body["access_token"].is_string());
    assert!(headers["set-cookie"].to_str().unwrap().contains("HttpOnly"));
}

#[tokio::test]
async fn resend_registration_code_event() {
    let mut f = fixture(true).await;
    f.registration().await;
    let (status, body, _) = f.answer("resend-registration-code").await;
    assert_eq!(status, 202, "{body}");
}

#[tokio::test]
async fn an_unprepared_event_gets_a_clean_404() {
    // What `cargo lambda invoke` sees against an empty store.
    let (status, body, _) = fixture(true).await.answer("get-registration").await;
    assert_eq!(status, 404);
    assert_eq!(body["code"], "registration_not_found");
}

#[tokio::test]
async fn login_event() {
    let mut f = fixture(false).await;
    f.user().await;
    let (status, body, headers) = f.answer("login").await;
    assert_eq!(status, 200, "{body}");
    assert!(body["access_token"].is_string());
    assert!(headers["set-cookie"].to_str().unwrap().starts_with("refresh_token="));
}

#[tokio::test]
async fn verify_mfa_event() {
    let mut f = fixture(false).await;
    f.mfa_challenge().await;
    let (status, body, _) = f.answer("verify-mfa").await;
    assert_eq!(status, 200, "{body}");
    assert!(body["access_token"].is_string());
}

#[tokio::test]
async fn send_mfa_code_event() {
    let mut f = fixture(false).await;
    f.mfa_challenge().await;
    f.past_cooldowns();
    let (status, body, _) = f.answer("send-mfa-code").await;
    assert_eq!(status, 202, "{body}");
    let (status, body, _) = f.answer("send-mfa-code").await;
    assert_eq!((status, body["code"].as_str()), (429, Some("rate_limited")), "{body}");
}

#[tokio::test]
async fn complete_password_challenge_event() {
    let mut f = fixture(false).await;
    f.password_challenge().await;
    let (status, body, _) = f.answer("complete-password-challenge").await;
    assert_eq!(status, 200, "{body}");
    assert!(body["access_token"].is_string());
}

#[tokio::test]
async fn accept_legal_documents_event() {
    let mut f = fixture(false).await;
    f.legal_challenge().await;
    let (status, body, _) = f.answer("accept-legal-documents").await;
    assert_eq!(status, 200, "{body}");
    assert!(body["access_token"].is_string());
}

#[tokio::test]
async fn refresh_event() {
    let mut f = fixture(false).await;
    let tokens = f.user().await;
    let (status, body, _) = f.answer("refresh").await;
    assert_eq!(status, 200, "{body}");
    assert_ne!(body["refresh_token"], tokens.refresh_token.as_str());
}

#[tokio::test]
async fn logout_event() {
    let mut f = fixture(false).await;
    f.user().await;
    let (status, body, headers) = f.answer("logout").await;
    assert_eq!(status, 200, "{body}");
    assert!(headers["set-cookie"].to_str().unwrap().contains("Max-Age=0"));
}

#[tokio::test]
async fn logout_all_event() {
    let mut f = fixture(false).await;
    f.user().await;
    f.login().await;
    let (status, body, _) = f.answer("logout-all").await;
    assert_eq!(status, 200, "{body}");
    // The sign-up's session and two logins.
    assert_eq!(body["sessions_revoked"], 3);
}

#[tokio::test]
async fn forgot_password_event() {
    let mut f = fixture(false).await;
    f.user().await;
    let (status, body, _) = f.answer("forgot-password").await;
    assert_eq!(status, 202, "{body}");
}

#[tokio::test]
async fn reset_password_event() {
    let mut f = fixture(false).await;
    f.user().await;
    let email = EmailAddress::parse("anna@example.com").unwrap();
    shared::domain::passwords::forgot_password(&f.app, &f.tenant, &email, "203.0.113.10").await.unwrap();
    let (status, body, _) = f.answer("reset-password").await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn get_me_event() {
    let mut f = fixture(false).await;
    f.user().await;
    let (status, body, _) = f.answer("get-me").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["email"], "anna@example.com");
}

#[tokio::test]
async fn update_me_event() {
    let mut f = fixture(false).await;
    f.user().await;
    let (status, body, _) = f.answer("update-me").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["first_name"], "Annette");
}

#[tokio::test]
async fn close_me_event() {
    let mut f = fixture(false).await;
    f.user().await;
    let (status, body, _) = f.answer("close-me").await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn add_credential_event() {
    let mut f = fixture(false).await;
    f.user().await;
    let (status, body, _) = f.answer("add-credential").await;
    assert_eq!(status, 202, "{body}");
}

#[tokio::test]
async fn verify_credential_event() {
    let mut f = fixture(false).await;
    f.user().await;
    let user_id = f.user_id().await;
    let phone = NewCredential::Phone(Phone::parse("+41791234567").unwrap());
    me::add_credential(&f.app, &f.tenant, &user_id, phone, StepUp::Password(current_password())).await.unwrap();
    let (status, body, _) = f.answer("verify-credential").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["mfa_enabled"], true);
}

#[tokio::test]
async fn change_password_event() {
    let mut f = fixture(false).await;
    f.user().await;
    let (status, body, _) = f.answer("change-password").await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn list_sessions_event() {
    let mut f = fixture(false).await;
    let tokens = f.user().await;
    let (status, body, headers) = f.answer("list-sessions").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(headers["cache-control"], "no-store");
    // The sign-up's session and the login's, the login's the caller's.
    let sessions = body["sessions"].as_array().unwrap();
    assert_eq!(sessions.len(), 2, "{body}");
    let current: Vec<&Value> = sessions.iter().filter(|s| s["current"] == true).collect();
    assert_eq!(current.len(), 1, "{body}");
    assert!(tokens.refresh_token.contains(&format!(".{}.", current[0]["id"].as_str().unwrap())), "{body}");
    assert_eq!(current[0]["device_id"], DEVICE);
}

#[tokio::test]
async fn delete_session_event() {
    let mut f = fixture(false).await;
    f.user().await;
    // Another sign-in of the user: the event ends it.
    let other = f.login().await;
    let token = shared::domain::ids::RefreshToken::parse(&other.refresh_token).unwrap();
    f.swaps.push((EVENT_SESSION, token.session_id().to_string()));
    let (status, body, _) = f.answer("delete-session").await;
    assert_eq!(status, 200, "{body}");
    let refreshed = shared::domain::sessions::refresh(&f.app, &f.tenant, &token, DEVICE).await;
    assert_eq!(refreshed.unwrap_err(), shared::domain::Error::InvalidToken);
    let (status, body, _) = f.answer("delete-session").await;
    assert_eq!((status, body["code"].as_str()), (404, Some("session_not_found")), "{body}");
}

impl Fixture {
    /// A signed-in user with an authenticator app enrolled (and confirmed
    /// when `confirm`); its secret.
    async fn with_app(&mut self, confirm: bool) -> Vec<u8> {
        self.user().await;
        let user_id = self.user_id().await;
        let enrolled = factors::enroll_totp(&self.app, &self.tenant, &user_id, &current_password()).await.unwrap();
        let secret = common::base32(&enrolled.secret);
        if confirm {
            let code = common::totp_at(&secret, self.now(), 6);
            factors::confirm_totp(&self.app, &self.tenant, &user_id, &code).await.unwrap();
            self.clock.advance(Duration::seconds(30));
        }
        secret
    }

    fn now(&self) -> i64 {
        shared::ports::Clock::now(self.clock.as_ref()).timestamp()
    }
}

impl Fixture {
    /// `value` as a JSON string's content (what an event body holds).
    fn escaped(value: &Value) -> String {
        let text = serde_json::to_string(&value.to_string()).unwrap();
        text[1..text.len() - 1].to_owned()
    }

    /// A signed-in user with a passkey of `key`; the passkey's id.
    async fn with_passkey(&mut self, key: &mut SoftAuthenticator) -> String {
        self.user().await;
        let user_id = self.user_id().await;
        let (ceremony, options) =
            passkeys::begin_registration(&self.app, &self.tenant, &user_id, StepUp::Password(current_password()))
                .await
                .unwrap();
        let credential = key.create(&options, ORIGIN);
        let done = passkeys::finish_registration(&self.app, &self.tenant, &user_id, &ceremony, None, credential);
        done.await.unwrap().passkey.id
    }
}

#[tokio::test]
async fn begin_passkey_registration_event() {
    let mut f = fixture(false).await;
    f.user().await;
    let (status, body, _) = f.answer("begin-passkey-registration").await;
    assert_eq!(status, 200, "{body}");
    assert!(body["publicKey"]["challenge"].is_string(), "{body}");
}

/// The fixture user's password as a step-up sends it (from a session of
/// its own: wrong ones would count there).
fn current_password() -> CurrentPassword {
    CurrentPassword {
        password: Password::new(PASSWORD),
        session_id: shared::domain::ids::SessionId::from_new("ses_events".into()),
    }
}

#[tokio::test]
async fn finish_passkey_registration_event() {
    let mut f = fixture(false).await;
    f.user().await;
    let user_id = f.user_id().await;
    let proof = StepUp::Password(current_password());
    let (ceremony, options) = passkeys::begin_registration(&f.app, &f.tenant, &user_id, proof).await.unwrap();
    let credential = SoftAuthenticator::new("events", "localhost").create(&options, ORIGIN);
    f.swaps.push((EVENT_CEREMONY, ceremony));
    f.swaps.push((EVENT_REGISTRATION_CREDENTIAL, Fixture::escaped(&credential)));
    let (status, body, _) = f.answer("finish-passkey-registration").await;
    assert_eq!(status, 201, "{body}");
}

#[tokio::test]
async fn delete_passkey_event() {
    let mut f = fixture(false).await;
    let id = f.with_passkey(&mut SoftAuthenticator::new("events", "localhost")).await;
    f.swaps.push((EVENT_PASSKEY, id));
    let (status, body, _) = f.answer("delete-passkey").await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn passkey_sign_in_options_event() {
    let f = fixture(false).await;
    let (status, body, _) = f.answer("passkey-sign-in-options").await;
    assert_eq!(status, 200, "{body}");
    assert!(body["ceremony_id"].as_str().unwrap().starts_with("cer_"), "{body}");
}

#[tokio::test]
async fn passkey_sign_in_event() {
    let mut f = fixture(false).await;
    let mut key = SoftAuthenticator::new("events", "localhost");
    f.with_passkey(&mut key).await;
    let origin = Origin { ip: "203.0.113.10", device_id: DEVICE, device_token: None };
    let (ceremony, options) = auth::passkey_options(&f.app, &f.tenant, None, origin).await.unwrap();
    let assertion = key.get(&options, ORIGIN);
    f.swaps.push((EVENT_CEREMONY, ceremony));
    f.swaps.push((EVENT_ASSERTION, Fixture::escaped(&assertion)));
    let (status, body, _) = f.answer("passkey-sign-in").await;
    assert_eq!(status, 200, "{body}");
    assert!(body["access_token"].is_string(), "{body}");
}

#[tokio::test]
async fn get_factors_event() {
    let mut f = fixture(false).await;
    f.with_app(true).await;
    let (status, body, _) = f.answer("get-factors").await;
    assert_eq!(
        (status, body["totp"]["confirmed"].clone(), body["recovery_codes_left"].clone()),
        (200, json!(true), json!(10))
    );
}

#[tokio::test]
async fn export_me_event() {
    let mut f = fixture(false).await;
    f.with_app(true).await;
    let (status, body, _) = f.answer("export-me").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["profile"]["email"], "anna@example.com", "{body}");
    assert_eq!(body["factors"]["totp"]["confirmed"], true, "{body}");
    assert!(body["audit"].as_array().unwrap().iter().any(|e| e["event"] == "signed_up"), "{body}");
    let text = body.to_string();
    for (_, secret) in &f.swaps {
        assert!(!text.contains(secret.as_str()), "a token in the export: {body}");
    }
}

#[tokio::test]
async fn enroll_totp_event() {
    let mut f = fixture(false).await;
    f.user().await;
    let (status, body, _) = f.answer("enroll-totp").await;
    assert_eq!(status, 201, "{body}");
    assert!(body["otpauth_uri"].as_str().unwrap().starts_with("otpauth://totp/"), "{body}");
}

#[tokio::test]
async fn confirm_totp_event() {
    let mut f = fixture(false).await;
    let secret = f.with_app(false).await;
    // The event's code is the app's code of now.
    f.swaps.push((CODE, common::totp_at(&secret, f.now(), 6)));
    let (status, body, _) = f.answer("confirm-totp").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["recovery_codes"].as_array().map(Vec::len), Some(10), "{body}");
}

#[tokio::test]
async fn remove_totp_event() {
    let mut f = fixture(false).await;
    f.with_app(true).await;
    let (status, body, _) = f.answer("remove-totp").await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn regenerate_recovery_codes_event() {
    let mut f = fixture(false).await;
    f.with_app(true).await;
    let (status, body, _) = f.answer("regenerate-recovery-codes").await;
    assert_eq!((status, body["recovery_codes"].as_array().map(Vec::len)), (200, Some(10)), "{body}");
}

impl Fixture {
    /// A consumer created by the admin token; its id replaces the event's.
    async fn managed_user(&mut self) {
        self.user().await;
        let id = self.user_id().await;
        self.swaps.push((EVENT_USER, id.to_string()));
    }
}

#[tokio::test]
async fn create_user_event() {
    let (status, body, headers) = fixture(false).await.answer("create-user").await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["user_type"], "service_owner");
    assert_eq!(body["address"]["city"], "Zürich");
    assert!(headers["location"].to_str().unwrap().starts_with("/v1/users/usr_"));
}

#[tokio::test]
async fn get_user_event() {
    let mut f = fixture(false).await;
    f.managed_user().await;
    let (status, body, _) = f.answer("get-user").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["email"], "anna@example.com");
}

#[tokio::test]
async fn change_user_status_event() {
    let mut f = fixture(false).await;
    f.managed_user().await;
    let (status, body, _) = f.answer("change-user-status").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!((body["previous_status"].as_str(), body["status"].as_str()), (Some("active"), Some("suspended")));
}

#[tokio::test]
async fn get_user_audit_event() {
    let mut f = fixture(false).await;
    f.managed_user().await;
    let (status, body, _) = f.answer("get-user-audit").await;
    assert_eq!(status, 200, "{body}");
    assert!(body["events"].as_array().unwrap().iter().any(|e| e["event"] == "signed_up"));
}

#[tokio::test]
async fn list_reference_event() {
    let (status, body, _) = fixture(false).await.answer("list-reference").await;
    assert_eq!(status, 200, "{body}");
    assert!(body["items"].as_array().unwrap().len() >= 249);
}

#[tokio::test]
async fn get_reference_event() {
    let (status, body, _) = fixture(false).await.answer("get-reference").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["name"], "Switzerland");
}

#[test]
fn every_route_has_an_event_with_its_route_key() {
    for route in ROUTES {
        let path = format!("{}/events/{}.json", env!("CARGO_MANIFEST_DIR"), route.function);
        let event: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(event["routeKey"], format!("{} {}", route.method, route.path), "{path}");
        assert_eq!(event["requestContext"]["http"]["method"], route.method.as_str(), "{path}");
    }
}

#[tokio::test]
async fn put_reference_event() {
    let f = fixture(false).await;
    let (status, body, _) = f.answer("put-reference").await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(
        (&body["kind"], &body["code"], &body["names"]["de"]),
        (&json!("civil-statuses"), &json!("SINGLE"), &json!("Ledig"))
    );
    let (status, body, _) = f.answer("put-reference").await;
    assert_eq!(status, 200, "the same entry again: {body}");
}

#[tokio::test]
async fn delete_reference_event() {
    let f = fixture(false).await;
    let (status, body, _) = f.answer("delete-reference").await;
    assert_eq!((status, body["code"].as_str()), (404, Some("reference_not_found")), "{body}");
    assert_eq!(f.answer("put-reference").await.0, 201);
    let (status, body, _) = f.answer("delete-reference").await;
    assert_eq!(status, 200, "{body}");
}

/// The events' OpenID Connect client (as lambda-dev.env registers it), and
/// an OAuth session of the events' user: its code swapped in for
/// `EXAMPLE_CODE`, or redeemed, its tokens for the placeholders.
impl Fixture {
    async fn oauth_client(&self) -> shared::domain::oauth::Client {
        let client: shared::domain::oauth::LocalClient = serde_json::from_value(json!({
            "client_id": "events-client", "redirect_uris": ["https://app.example.com/callback"],
            "post_logout_redirect_uris": ["https://app.example.com/signed-out"], "public": true,
        }))
        .unwrap();
        let now = self.clock.now_dt();
        shared::domain::oauth::clients::seed_local(self.app.store.as_ref(), &self.tenant.id, now, &[client])
            .await
            .unwrap();
        shared::domain::oauth::find_client(&self.app, "events-client").await.unwrap().unwrap().0
    }

    async fn oauth_code(&mut self) -> String {
        use base64::Engine as _;
        use sha2::Digest;
        let client = self.oauth_client().await;
        let tokens = self.user().await;
        let verifier = "events-example-verifier-0123456789abcdefghijklmnop";
        let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(verifier));
        let request = shared::domain::oauth::AuthorizationRequest {
            client_id: client.client_id.clone(),
            redirect_uri: "https://app.example.com/callback".into(),
            scopes: vec!["openid".into(), "email".into()],
            state: None,
            nonce: None,
            code_challenge: challenge,
            prompt: None,
            login_hint: None,
            ui_locales: None,
        };
        let code =
            shared::domain::oauth::issue_code(&self.app, &self.tenant, &client, &request, &tokens).await.unwrap();
        self.swaps.push(("EXAMPLE_CODE", code.clone()));
        code
    }
}

#[tokio::test]
async fn oauth_token_event() {
    let mut f = fixture(false).await;
    f.oauth_code().await;
    let (status, body, headers) = f.answer("oauth-token").await;
    assert_eq!(status, 200, "{body}");
    assert!(body["id_token"].is_string() && body["refresh_token"].is_string(), "{body}");
    assert_eq!(headers["cache-control"], "no-store");
    let (status, body, _) = f.answer("oauth-token").await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_grant")), "spent");
}

#[tokio::test]
async fn oauth_userinfo_event() {
    let mut f = fixture(false).await;
    let code = f.oauth_code().await;
    let (_, issued, _) = f.answer("oauth-token").await;
    f.swaps.retain(|(placeholder, _)| *placeholder != EVENT_ACCESS);
    f.swaps.push((EVENT_ACCESS, issued["access_token"].as_str().unwrap().to_owned()));
    let (status, body, _) = f.answer("oauth-userinfo").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["email"], "anna@example.com");
    assert!(!code.is_empty());
}

#[tokio::test]
async fn oauth_revoke_event() {
    let mut f = fixture(false).await;
    f.oauth_client().await;
    f.user().await;
    // The API's refresh token is no token of the client: left alone, 200.
    let (status, body, _) = f.answer("oauth-revoke").await;
    assert_eq!(status, 200, "{body}");
    let (status, _, _) = f.answer("refresh").await;
    assert_eq!(status, 200, "the API session lives on");
}

#[tokio::test]
async fn oauth_logout_event() {
    let f = fixture(false).await;
    f.oauth_client().await;
    let (status, body, headers) = f.answer("oauth-logout").await;
    assert_eq!(status, 302, "{body}");
    assert_eq!(headers["location"], "https://app.example.com/signed-out?state=af0ifjsldkj");
}
