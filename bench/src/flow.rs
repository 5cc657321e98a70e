//! One user's whole life through every route, in-process through
//! `shared::http::handle_route` (what each Lambda function runs), with a
//! meter around each call. The clock is manual, so cooldowns pass at once.

use std::sync::Arc;

use lambda_http::Body;
use lambda_http::http::Request;
use serde_json::{Value, json};
use shared::adapters::faulty::Discard;
use shared::adapters::system::ManualClock;
use shared::app::App;
use shared::domain::policy::PasskeyPolicy;
use shared::domain::tenant::{CodePolicy, IpLimits, Policy, Tenant};
use shared::http::{Route, handle_route, route_for_function};
use shared::ports::{Mailer, Store, Texter};
use shared::testing::{TestOptions, build_app};

pub const CODE: &str = "135790";
const PASSWORD: &str = "Orchid!Lantern58";
const DEVICE: &str = "bench-device";

/// Measures one call of a function.
pub trait Meter {
    fn start(&mut self, function: &'static str);
    fn stop(&mut self, function: &'static str);
}

pub struct Bench {
    pub app: Arc<App>,
    pub clock: Arc<ManualClock>,
    api_key: String,
    admin: String,
    /// Before each measured call, one unmeasured keyed request, so the API
    /// key cache is warm as on a busy instance (the manual clock's jumps
    /// past cooldowns would otherwise expire it).
    pub warm_keys: bool,
}

pub struct Answer {
    pub status: u16,
    pub body: Value,
}

impl Answer {
    fn str(&self, field: &str) -> String {
        self.body[field].as_str().unwrap_or_else(|| panic!("{field} missing in {}", self.body)).to_owned()
    }
}

/// The sandbox tenant's policy with limits a benchmark from one address
/// does not trip (cooldowns still apply; the manual clock skips them).
pub fn policy() -> Policy {
    Policy {
        sandbox_code: Some(CODE.into()),
        codes: CodePolicy { max_sends: 1_000_000, ..CodePolicy::default() },
        ip_limits: IpLimits {
            signups_per_hour: u64::MAX / 2,
            logins_per_5_min: u64::MAX / 2,
            resets_per_hour: u64::MAX / 2,
        },
        passkeys: PasskeyPolicy { rp_id: Some("localhost".into()), origins: vec![PASSKEY_ORIGIN.into()] },
        ..Policy::default()
    }
}

/// The page origin of the flow's passkey ceremonies.
const PASSKEY_ORIGIN: &str = "http://localhost:3000";

impl Bench {
    pub async fn new(store: Option<Arc<dyn Store>>, clock: Arc<ManualClock>) -> Self {
        Self::with_events_store(store, None, clock).await
    }

    /// [`Bench::new`] with the store the event dispatcher reads (the app's
    /// when `None`).
    pub async fn with_events_store(
        store: Option<Arc<dyn Store>>,
        events_store: Option<Arc<dyn Store>>,
        clock: Arc<ManualClock>,
    ) -> Self {
        let senders: (Arc<dyn Mailer>, Arc<dyn Texter>) = (Arc::new(Discard), Arc::new(Discard));
        let options = TestOptions {
            policy: policy(),
            store,
            senders: Some(senders),
            clock: Some(clock),
            events_store,
            ..TestOptions::default()
        };
        let shared::testing::BuiltApp { app, clock, .. } = build_app(options).await;
        let tenant = Tenant { id: "bench".into(), name: "Bench".into(), policy: policy() };
        let api_key = "sk_bench_0123456789abcdef".to_owned();
        shared::local::seed_tenant(&app, &tenant, &api_key).await.expect("seed the tenant");
        let admin = shared::local::seed_admin_token(&app, &tenant, None).await.expect("seed the admin token");
        Self { app, clock, api_key, admin, warm_keys: false }
    }

    /// Calls `function` at `path` the way API Gateway would hand it over.
    pub async fn call(
        &self,
        meter: &mut dyn Meter,
        function: &'static str,
        path: &str,
        body: Option<Value>,
        bearer: Option<&str>,
    ) -> Answer {
        let route = route_for_function(function).expect("a function of the route table");
        let request = self.request(route, path, body, bearer);
        if self.warm_keys && route.auth != shared::http::Auth::None {
            self.warm_up().await;
        }
        meter.start(function);
        let response = handle_route(&self.app, route, request).await;
        meter.stop(function);
        let status = response.status().as_u16();
        let body = match response.body() {
            Body::Text(text) => serde_json::from_str(text).unwrap_or(Value::Null),
            Body::Binary(bytes) => serde_json::from_slice(bytes).unwrap_or(Value::Null),
            _ => Value::Null,
        };
        Answer { status, body }
    }

    /// `POST /v1/users/import` with the admin token: one batch of `users`.
    pub async fn import(&self, meter: &mut dyn Meter, users: Vec<Value>) -> Answer {
        let body = json!({ "users": users });
        self.call(meter, "import-users", "/v1/users/import", Some(body), Some(&self.admin)).await
    }

    /// A keyed request that reads nothing but the API key (and its tenant).
    pub async fn warm_up(&self) {
        let route = route_for_function("get-reference").expect("get-reference");
        let request = self.request(route, "/v1/reference/countries/CH", None, None);
        assert_eq!(handle_route(&self.app, route, request).await.status(), 200);
    }

    /// A request as API Gateway hands it over: key, device, JSON body.
    fn request(&self, route: &Route, path: &str, body: Option<Value>, bearer: Option<&str>) -> Request<Body> {
        let mut request = Request::builder()
            .method(route.method.clone())
            .uri(path)
            .header("x-api-key", &self.api_key)
            .header("x-device-id", DEVICE)
            .header("user-agent", "registrar-bench");
        if let Some(token) = bearer {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        let body = match body {
            Some(value) => {
                request = request.header("content-type", "application/json");
                Body::Text(value.to_string())
            }
            None => Body::Empty,
        };
        request.body(body).expect("a valid request")
    }

    async fn expect(
        &self,
        meter: &mut dyn Meter,
        function: &'static str,
        path: &str,
        body: Option<Value>,
        bearer: Option<&str>,
        status: u16,
    ) -> Answer {
        let answer = self.call(meter, function, path, body, bearer).await;
        assert_eq!(answer.status, status, "{function} {path}: {}", answer.body);
        answer
    }

    /// The current code of the app enrolled with `uri`.
    fn totp_code(&self, uri: &str) -> String {
        use shared::ports::Clock;
        let totp = totp_rs::Totp::from_url(uri).expect("an otpauth URI");
        totp.generate(self.clock.now().timestamp() as u64).to_string()
    }

    /// Moves the clock past every cooldown.
    fn wait(&self) {
        self.clock.advance(chrono::Duration::seconds(61));
    }

    /// Every route once (twice for login), for user number `n`.
    pub async fn life(&self, meter: &mut dyn Meter, n: u64) {
        let m = meter;
        let email = format!("bench{n}@example.com");
        let phone = format!("+4179{:07}", 1_000_000 + n % 8_000_000);
        self.expect(m, "health", "/v1/health", None, None, 200).await;
        self.expect(m, "jwks", "/.well-known/jwks.json", None, None, 200).await;
        self.expect(m, "openid-configuration", "/.well-known/openid-configuration", None, None, 200).await;
        // A preflight from an origin no tenant allows (no header values).
        self.expect(m, "preflight", "/v1/registrations", None, None, 204).await;
        self.expect(m, "list-reference", "/v1/reference/countries", None, None, 200).await;
        self.expect(m, "get-reference", "/v1/reference/countries/CH", None, None, 200).await;

        let sign_up = json!({
            "email": email, "password": PASSWORD, "first_name": "Bench", "last_name": "Mark",
            "terms_accepted": true, "privacy_policy_accepted": true,
        });
        let started = self.expect(m, "start-registration", "/v1/registrations", Some(sign_up), None, 202).await;
        let reg = format!("/v1/registrations/{}", started.str("registration_id"));
        self.expect(m, "get-registration", &reg, None, None, 200).await;
        let code = json!({ "code": CODE });
        self.expect(m, "verify-registration-email", &format!("{reg}/email/verify"), Some(code.clone()), None, 200)
            .await;
        let phone_body = json!({ "phone": phone });
        self.expect(m, "add-registration-phone", &format!("{reg}/phone"), Some(phone_body), None, 202).await;
        self.wait();
        let resend = json!({ "channel": "sms" });
        self.expect(m, "resend-registration-code", &format!("{reg}/resend"), Some(resend), None, 202).await;
        let done =
            self.expect(m, "verify-registration-phone", &format!("{reg}/phone/verify"), Some(code), None, 201).await;
        let access = done.str("access_token");

        self.expect(m, "get-me", "/v1/me", None, Some(&access), 200).await;
        self.expect(m, "update-me", "/v1/me", Some(json!({ "first_name": "Benchy" })), Some(&access), 200).await;
        let refresh = json!({ "refresh_token": done.str("refresh_token") });
        let refreshed = self.expect(m, "refresh", "/v1/auth/refresh", Some(refresh), None, 200).await;
        let access = refreshed.str("access_token");
        let credential = json!({ "type": "email", "value": format!("bench{n}.new@example.com") });
        self.expect(m, "add-credential", "/v1/me/credentials", Some(credential), Some(&access), 202).await;
        let verify = json!({ "type": "email", "code": CODE });
        self.expect(m, "verify-credential", "/v1/me/credentials/verify", Some(verify), Some(&access), 200).await;
        let email = format!("bench{n}.new@example.com");
        let change = json!({ "current_password": PASSWORD, "new_password": "Second!Lantern59" });
        self.expect(m, "change-password", "/v1/me/password", Some(change), Some(&access), 200).await;

        // An authenticator app: enrolled, confirmed, its recovery codes
        // renewed, then removed (the logins below use the SMS code).
        let step_up = json!({ "current_password": "Second!Lantern59" });
        let app = self.expect(m, "enroll-totp", "/v1/me/factors/totp", Some(step_up.clone()), Some(&access), 201).await;
        let confirm = json!({ "code": self.totp_code(&app.str("otpauth_uri")) });
        self.expect(m, "confirm-totp", "/v1/me/factors/totp/confirm", Some(confirm), Some(&access), 200).await;
        self.expect(m, "get-factors", "/v1/me/factors", None, Some(&access), 200).await;
        let codes = "/v1/me/factors/recovery-codes";
        self.expect(m, "regenerate-recovery-codes", codes, Some(step_up.clone()), Some(&access), 200).await;
        self.expect(m, "remove-totp", "/v1/me/factors/totp", Some(step_up.clone()), Some(&access), 200).await;

        // A passkey: registered, signing in alone, then removed.
        let mut key = shared::soft_authenticator::SoftAuthenticator::new(&format!("bench{n}"), "localhost");
        let options = "/v1/me/passkeys/options";
        let ceremony =
            self.expect(m, "begin-passkey-registration", options, Some(step_up.clone()), Some(&access), 200).await;
        let credential = key.create(&ceremony.body["publicKey"], PASSKEY_ORIGIN);
        let body = json!({ "ceremony_id": ceremony.body["ceremony_id"], "credential": credential });
        let added =
            self.expect(m, "finish-passkey-registration", "/v1/me/passkeys", Some(body), Some(&access), 201).await;
        let options = "/v1/auth/passkey/options";
        let ceremony = self.expect(m, "passkey-sign-in-options", options, Some(json!({})), None, 200).await;
        let assertion = key.get(&ceremony.body["publicKey"], PASSKEY_ORIGIN);
        let body = json!({ "ceremony_id": ceremony.body["ceremony_id"], "credential": assertion });
        let by_passkey = self.expect(m, "passkey-sign-in", "/v1/auth/passkey", Some(body), None, 200).await;
        let path = format!("/v1/me/passkeys/{}", added.body["passkey"]["id"].as_str().unwrap_or_default());
        self.expect(m, "delete-passkey", &path, Some(step_up), Some(&access), 200).await;

        // The user's sessions: the passkey's sign-in, listed and ended from the first.
        self.expect(m, "list-sessions", "/v1/me/sessions", None, Some(&access), 200).await;
        let refresh_token = by_passkey.str("refresh_token");
        let session = refresh_token.split('.').nth(1).unwrap_or_default();
        self.expect(m, "delete-session", &format!("/v1/me/sessions/{session}"), None, Some(&access), 200).await;

        // Login with 2FA (the phone is verified), then logout.
        self.wait();
        let login = json!({ "username": email, "password": "Second!Lantern59" });
        let challenge = self.expect(m, "login", "/v1/auth/login", Some(login), None, 200).await;
        self.wait();
        let send = json!({ "challenge_id": challenge.str("challenge_id") });
        self.expect(m, "send-mfa-code", "/v1/auth/mfa/send", Some(send), None, 202).await;
        let mfa = json!({ "challenge_id": challenge.str("challenge_id"), "code": CODE });
        let second = self.expect(m, "verify-mfa", "/v1/auth/mfa", Some(mfa), None, 200).await;
        self.expect(m, "logout", "/v1/auth/logout", None, Some(&second.str("access_token")), 200).await;
        self.expect(m, "logout-all", "/v1/auth/logout-all", None, Some(&access), 200).await;

        // Forgot and reset, then close the account.
        self.wait();
        self.expect(m, "forgot-password", "/v1/auth/password/forgot", Some(json!({ "email": email })), None, 202).await;
        let reset = json!({ "email": email, "code": CODE, "new_password": "Third!Lantern60" });
        self.expect(m, "reset-password", "/v1/auth/password/reset", Some(reset), None, 200).await;
        self.wait();
        let login = json!({ "username": email, "password": "Third!Lantern60" });
        let challenge = self.expect(m, "login", "/v1/auth/login", Some(login), None, 200).await;
        let mfa = json!({ "challenge_id": challenge.str("challenge_id"), "code": CODE });
        let third = self.expect(m, "verify-mfa", "/v1/auth/mfa", Some(mfa), None, 200).await;
        let close = json!({ "password": "Third!Lantern60" });
        self.expect(m, "close-me", "/v1/me", Some(close), Some(&third.str("access_token")), 200).await;

        // The back office: a user created with a reset required.
        let created = json!({
            "email": format!("staff{n}@example.com"), "first_name": "Staff", "last_name": "Member",
            "user_type": "consumer", "password": PASSWORD, "reset_required": true,
        });
        let user = self.expect(m, "create-user", "/v1/users", Some(created), Some(&self.admin), 201).await;
        let path = format!("/v1/users/{}", user.str("user_id"));
        let login = json!({ "username": format!("staff{n}@example.com"), "password": PASSWORD });
        let challenge = self.expect(m, "login", "/v1/auth/login", Some(login), None, 200).await;
        let new_password = json!({ "challenge_id": challenge.str("challenge_id"), "new_password": "Fourth!Lantern61" });
        // Created without its legal documents: they come next.
        let legal = self
            .expect(m, "complete-password-challenge", "/v1/auth/password/challenge", Some(new_password), None, 200)
            .await;
        let accept = json!({
            "challenge_id": legal.str("challenge_id"), "terms_accepted": true, "privacy_policy_accepted": true,
        });
        self.expect(m, "accept-legal-documents", "/v1/auth/legal/accept", Some(accept), None, 200).await;
        self.expect(m, "get-user", &path, None, Some(&self.admin), 200).await;
        let entry = format!("/v1/reference/bench-kinds/K{n}");
        let names = json!({ "names": { "en": "Bench entry" } });
        self.expect(m, "put-reference", &entry, Some(names), Some(&self.admin), 201).await;
        self.expect(m, "delete-reference", &entry, None, Some(&self.admin), 200).await;
        let found = format!("/v1/users?email=staff{n}@example.com");
        self.expect(m, "list-users", &found, None, Some(&self.admin), 200).await;
        let edit = json!({ "last_name": "Membership", "attributes": { "desk": "4b" } });
        self.expect(m, "update-user", &path, Some(edit), Some(&self.admin), 200).await;
        let reason = json!({ "reason": "benchmark" });
        self.expect(m, "unlock-user", &format!("{path}/unlock"), Some(reason.clone()), Some(&self.admin), 200).await;
        let revoke = format!("{path}/sessions/revoke");
        self.expect(m, "revoke-user-sessions", &revoke, Some(reason), Some(&self.admin), 200).await;
        let reset = json!({ "method": "required", "reason": "benchmark" });
        let reset_path = format!("{path}/password-reset");
        self.expect(m, "reset-user-password", &reset_path, Some(reset), Some(&self.admin), 200).await;
        let status = json!({ "status": "suspended", "reason": "benchmark" });
        self.expect(m, "change-user-status", &format!("{path}/status"), Some(status), Some(&self.admin), 200).await;
        self.expect(m, "get-user-audit", &format!("{path}/audit"), None, Some(&self.admin), 200).await;
    }

    /// A user without 2FA for the login benchmark; returns the login body.
    pub async fn plain_user(&self, meter: &mut dyn Meter) -> Value {
        let created = json!({
            "email": "plain@example.com", "first_name": "Plain", "last_name": "User", "user_type": "consumer",
            "password": PASSWORD, "terms_accepted": true, "privacy_policy_accepted": true,
        });
        self.expect(meter, "create-user", "/v1/users", Some(created), Some(&self.admin), 201).await;
        json!({ "username": "plain@example.com", "password": PASSWORD })
    }

    /// One login of the plain user, which answers tokens.
    pub async fn login(&self, meter: &mut dyn Meter, body: &Value) {
        let answer = self.expect(meter, "login", "/v1/auth/login", Some(body.clone()), None, 200).await;
        assert!(answer.body.get("access_token").is_some(), "{}", answer.body);
    }
}

/// The functions of the route table the life above never calls (the
/// report lists them: a route added without its place in the life).
pub fn functions_not_covered(called: &[&'static str]) -> Vec<&'static str> {
    let mut missing: Vec<&'static str> =
        shared::http::ROUTES.iter().map(|route| route.function).filter(|f| !called.contains(f)).collect();
    missing.sort_unstable();
    missing.dedup();
    missing
}
