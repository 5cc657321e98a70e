//! The tenant's blocking hooks (`policy.hooks`, docs/hooks.md) against a
//! receiver on localhost: a `pre_sign_up` hook that denies with its message
//! or adds attributes, a `pre_token` hook that adds claims but never a
//! reserved one, hooks that fail or time out following their `on_failure`,
//! and signatures that the Standard Webhooks reference library (PyPI's
//! `standardwebhooks`) accepts. The same hooks as Lambda functions: the
//! SDK's Lambda client pointed at a scripted endpoint (the receiver again,
//! answering `POST /2015-03-31/functions/{name}/invocations` as Lambda does),
//! since moto's `Invoke` needs Docker to run a function.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use reqwest::StatusCode;
use serde_json::{Value, json};
use shared::domain::policy::{Hook, Hooks, OnFailure};
use shared::domain::tenant::{IpLimits, Policy};
use shared::testing::{TestOptions, spawn_app};
use tokio::io::AsyncWriteExt;

use crate::common::{self, Api, Backend, CODE, Flows, PASSWORD, store_for};

/// One call a receiver took: its request line, headers (names lower-cased)
/// and raw body.
#[derive(Clone, Debug)]
struct Call {
    line: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Call {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("a JSON payload")
    }

    /// The request's path, percent-decoded.
    fn path(&self) -> String {
        let raw = self.line.split(' ').nth(1).expect("a request target");
        let mut decoded = Vec::new();
        let mut bytes = raw.bytes();
        while let Some(b) = bytes.next() {
            if b == b'%' {
                let hex: String = bytes.by_ref().take(2).map(char::from).collect();
                decoded.push(u8::from_str_radix(&hex, 16).expect("a percent escape"));
            } else {
                decoded.push(b);
            }
        }
        String::from_utf8(decoded).expect("UTF-8")
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }
}

/// What a receiver answers: a status, headers and body, after a delay.
#[derive(Clone)]
struct Reply {
    status: u16,
    headers: Vec<(&'static str, &'static str)>,
    body: String,
    delay: Duration,
}

/// An answer made from the call's payload (an old system that checks the
/// password it is given).
type Answerer = Arc<dyn Fn(&Value) -> (u16, Value) + Send + Sync>;

/// A hook receiver on 127.0.0.1 (HTTP/1.1 by hand): answers every call with
/// the reply the test set and keeps each call.
struct Receiver {
    url: String,
    /// `http://127.0.0.1:<port>`: the endpoint of a scripted AWS service.
    base: String,
    calls: Arc<Mutex<Vec<Call>>>,
    reply: Arc<Mutex<Reply>>,
    answerer: Arc<Mutex<Option<Answerer>>>,
}

impl Receiver {
    async fn start(reply: Value) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let base = format!("http://{}", listener.local_addr().unwrap());
        let url = format!("{base}/hook");
        let calls = Arc::new(Mutex::new(Vec::new()));
        let reply = Reply { status: 200, headers: Vec::new(), body: reply.to_string(), delay: Duration::ZERO };
        let reply = Arc::new(Mutex::new(reply));
        let answerer: Arc<Mutex<Option<Answerer>>> = Arc::new(Mutex::new(None));
        let (kept, answer, made) = (calls.clone(), reply.clone(), answerer.clone());
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                let (kept, answer, made) = (kept.clone(), answer.clone(), made.clone());
                tokio::spawn(async move {
                    let Some(common::Request { line, headers, body }) = common::read_request(&mut socket).await else {
                        return;
                    };
                    let call = Call { line, headers, body };
                    let mut reply = answer.lock().unwrap().clone();
                    if let Some(make) = made.lock().unwrap().as_ref() {
                        let (status, body) = make(&call.json());
                        reply = Reply { status, headers: Vec::new(), body: body.to_string(), delay: Duration::ZERO };
                    }
                    kept.lock().unwrap().push(call);
                    tokio::time::sleep(reply.delay).await;
                    let extra: String =
                        reply.headers.iter().map(|(name, value)| format!("{name}: {value}\r\n")).collect();
                    let head = format!(
                        "HTTP/1.1 {} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\n{extra}connection: close\r\n\r\n",
                        reply.status,
                        reply.body.len()
                    );
                    let _ = socket.write_all(format!("{head}{}", reply.body).as_bytes()).await;
                });
            }
        });
        Self { url, base, calls, reply, answerer }
    }

    /// Answers each call with what `make` makes of its payload.
    fn answer_with(&self, make: impl Fn(&Value) -> (u16, Value) + Send + Sync + 'static) {
        *self.answerer.lock().unwrap() = Some(Arc::new(make));
    }

    fn answer(&self, status: u16, body: Value, delay: Duration) {
        *self.reply.lock().unwrap() = Reply { status, headers: Vec::new(), body: body.to_string(), delay };
    }

    /// Answers as Lambda does for a function that threw: 200, the error as
    /// the payload, and `X-Amz-Function-Error`.
    fn answer_function_error(&self) {
        let body = json!({ "errorMessage": "boom", "errorType": "Error", "trace": [] }).to_string();
        let headers = vec![("x-amz-function-error", "Unhandled")];
        *self.reply.lock().unwrap() = Reply { status: 200, headers, body, delay: Duration::ZERO };
    }

    fn calls(&self) -> Vec<Call> {
        self.calls.lock().unwrap().clone()
    }

    fn hook(&self) -> Hook {
        Hook::to(self.url.clone())
    }
}

fn policy(hooks: Hooks) -> Policy {
    let ip_limits = IpLimits { logins_per_5_min: 1000, ..IpLimits::default() };
    Policy { sandbox_code: Some(CODE.into()), phone_required: false, hooks, ip_limits, ..Policy::default() }
}

fn sign_up_body(email: &str) -> Value {
    json!({
        "email": email, "password": PASSWORD, "first_name": "Hanna", "last_name": "Hook",
        "terms_accepted": true, "privacy_policy_accepted": true,
    })
}

fn claims(token: &Value) -> Value {
    let payload = token.as_str().expect("a token").split('.').nth(1).expect("a JWT");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).expect("base64url")).expect("JSON claims")
}

/// A tenant whose `pre_sign_up` hook goes to a fresh receiver answering
/// `reply`.
async fn with_pre_sign_up(backend: Backend, reply: Value) -> (Api, Receiver) {
    let receiver = Receiver::start(reply).await;
    let hooks = Hooks { pre_sign_up: Some(receiver.hook()), ..Hooks::default() };
    (Api::start(backend, policy(hooks)).await, receiver)
}

/// A tenant whose `pre_token` hook goes to a fresh receiver answering
/// `reply`, with `on_failure`.
async fn with_pre_token(backend: Backend, reply: Value, on_failure: OnFailure) -> (Api, Receiver) {
    let receiver = Receiver::start(reply).await;
    let hook = Hook { on_failure, timeout_ms: 300, ..receiver.hook() };
    let hooks = Hooks { pre_token: Some(hook), ..Hooks::default() };
    (Api::start(backend, policy(hooks)).await, receiver)
}

async fn backend(backend: Backend) -> Backend {
    backend
}

on_both_stores!(backend;
    a_denying_hook_refuses_the_sign_up_with_its_message_before_any_code_is_sent,
    an_allowing_hook_adds_attributes_to_the_user,
    a_pre_token_hook_adds_claims_at_every_issue_but_never_a_reserved_one,
    a_failing_pre_token_hook_that_denies_issues_no_token_and_rotates_nothing,
    a_user_of_the_old_system_signs_in_once_migrated_and_never_asks_again,
    a_forgotten_password_of_the_old_system_brings_an_invitation,
    twenty_first_sign_ins_at_once_migrate_one_user,
    a_lambda_pre_sign_up_hook_is_invoked_with_the_http_hooks_payload_and_denies_with_its_message,
    a_lambda_pre_token_hook_adds_a_claim,
    a_lambda_function_that_throws_or_answers_late_follows_on_failure,
);

/// The old system's password of its user `old@example.com`.
const OLD_PASSWORD: &str = "Legacy!Pass7";

/// A tenant whose `user_migration` hook is an old system that knows
/// `old@example.com` (with `OLD_PASSWORD` at sign-in) and no one else.
async fn with_old_system(backend: Backend) -> (Api, Receiver) {
    let receiver = Receiver::start(json!({})).await;
    receiver.answer_with(|call| {
        let known = call["username"] == "old@example.com";
        let password_ok = call.get("password").is_none_or(|p| p == OLD_PASSWORD);
        if known && password_ok {
            let user = json!({ "email": "old@example.com", "first_name": "Olga", "last_name": "Legacy",
                "preferred_language": "de", "email_verified": true, "terms_accepted": true,
                "privacy_policy_accepted": true });
            (200, json!({ "user": user }))
        } else {
            (404, json!({}))
        }
    });
    let hooks = Hooks { user_migration: Some(receiver.hook()), ..Hooks::default() };
    (Api::start(backend, policy(hooks)).await, receiver)
}

/// The stored password hash of the user with `email` (as the back office
/// finds it), and its id.
async fn stored_hash(api: &Api, email: &str) -> (String, String) {
    let admin = format!("Bearer {}", api.app.admin_token);
    let found = api.get(&format!("/v1/users?email={email}"), &[("Authorization", &admin)]).await;
    let users = found.body["users"].as_array().expect("users").clone();
    assert_eq!(users.len(), 1, "one user has the address: {}", found.body);
    let id = users[0]["user_id"].as_str().unwrap().to_owned();
    let key = shared::table::user_key(&shared::domain::ids::UserId::parse(&id).unwrap());
    let item = shared::ports::Store::get(api.app.store.as_ref(), &key).await.unwrap().expect("the user");
    (item.body["password_hash"].as_str().unwrap().to_owned(), id)
}

async fn a_user_of_the_old_system_signs_in_once_migrated_and_never_asks_again(backend: Backend) {
    let (api, receiver) = with_old_system(backend).await;
    // A wrong password: the old system knows no such sign-in, nothing is made.
    let wrong = api.login("old@example.com", "Wr0ng!Pass", "d1").await;
    assert_eq!((wrong.status, wrong.code()), (StatusCode::UNAUTHORIZED, "invalid_credentials"));
    let first = api.login("old@example.com", OLD_PASSWORD, "d1").await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    assert!(first.body["access_token"].is_string(), "{}", first.body);
    let calls = receiver.calls();
    assert_eq!(calls.len(), 2);
    let asked = calls[1].json();
    assert_eq!(asked["type"], "user_migration");
    assert_eq!(asked["trigger"], "sign_in");
    assert_eq!((asked["username"].as_str(), asked["password"].as_str()), (Some("old@example.com"), Some(OLD_PASSWORD)));
    let (hash, user_id) = stored_hash(&api, "old@example.com").await;
    assert!(hash.starts_with("$argon2id$"), "an argon2id hash of the old password: {hash}");
    let me = api.me(first.body["access_token"].as_str().unwrap()).await;
    assert_eq!((me.body["first_name"].as_str(), me.body["preferred_language"].as_str()), (Some("Olga"), Some("de")));
    assert_eq!(api.audit(&user_id).await.iter().filter(|e| e["event"] == "imported").count(), 1);
    // Once here, the hook is never asked about the user again.
    let again = api.login("old@example.com", OLD_PASSWORD, "d2").await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.body);
    let wrong_now = api.login("old@example.com", "Wr0ng!Pass", "d2").await;
    assert_eq!(wrong_now.code(), "invalid_credentials");
    assert_eq!(receiver.calls().len(), 2, "no call about a user that exists");
    // A name the old system does not know either: the ordinary answer.
    let unknown = api.login("nobody@example.com", OLD_PASSWORD, "d1").await;
    assert_eq!(unknown.code(), "invalid_credentials");
}

async fn a_forgotten_password_of_the_old_system_brings_an_invitation(backend: Backend) {
    let (api, receiver) = with_old_system(backend).await;
    let forgot = api.post("/v1/auth/password/forgot", json!({ "email": "old@example.com" }), &[]).await;
    assert_eq!(forgot.status, StatusCode::ACCEPTED, "{}", forgot.body);
    let asked = receiver.calls().pop().expect("a call").json();
    assert_eq!(asked["trigger"], "forgot_password");
    assert!(asked.get("password").is_none(), "no password to send");
    let mails = api.app.messages_to("old@example.com");
    assert_eq!(mails.len(), 1, "one invitation, no second reset mail");
    let reset = json!({ "email": "old@example.com", "code": CODE, "new_password": PASSWORD });
    let set = api.post("/v1/auth/password/reset", reset, &[]).await;
    assert!(set.status.is_success(), "{}", set.body);
    let login = api.login("old@example.com", PASSWORD, "d1").await;
    assert_eq!(login.status, StatusCode::OK, "{}", login.body);
}

async fn twenty_first_sign_ins_at_once_migrate_one_user(backend: Backend) {
    let (api, receiver) = with_old_system(backend).await;
    let api = Arc::new(api);
    let logins = (0..20).map(|n| {
        let api = api.clone();
        tokio::spawn(async move { api.login("old@example.com", OLD_PASSWORD, &format!("d{n}")).await.status })
    });
    let statuses: Vec<StatusCode> = futures::future::join_all(logins).await.into_iter().map(Result::unwrap).collect();
    // Each attempt is spent before its comparison, so a burst on one
    // account may meet its lockout (401); on DynamoDB a success forgets the
    // failure counter the others are counting on, and one that loses that
    // race five times answers 503 (`counter contended`; retry). Never a 500.
    let expected = [StatusCode::OK, StatusCode::UNAUTHORIZED, StatusCode::SERVICE_UNAVAILABLE];
    assert!(statuses.iter().all(|s| expected.contains(s)), "{statuses:?}");
    assert!(statuses.contains(&StatusCode::OK), "{statuses:?}");
    // One user, however many sign-ins raced to create it.
    let (hash, _) = stored_hash(&api, "old@example.com").await;
    assert!(hash.starts_with("$argon2id$"));
    assert!(!receiver.calls().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_old_system_that_is_down_answers_503_when_its_hook_denies() {
    let receiver = Receiver::start(json!({})).await;
    receiver.answer(500, json!({}), Duration::ZERO);
    let hook = Hook { on_failure: OnFailure::Deny, ..receiver.hook() };
    let api = Api::start(Backend::Memory, policy(Hooks { user_migration: Some(hook), ..Hooks::default() })).await;
    let down = api.login("old@example.com", OLD_PASSWORD, "d1").await;
    assert_eq!((down.status, down.code()), (StatusCode::SERVICE_UNAVAILABLE, "unavailable"), "{}", down.body);
}

async fn a_denying_hook_refuses_the_sign_up_with_its_message_before_any_code_is_sent(backend: Backend) {
    let reply = json!({ "decision": "deny", "message": { "en": "Invitation only.", "de": "Nur auf Einladung." } });
    let (api, receiver) = with_pre_sign_up(backend, reply).await;
    let denied = api.post("/v1/registrations", sign_up_body("deny@example.com"), &[("Accept-Language", "de")]).await;
    assert_eq!(denied.status, StatusCode::FORBIDDEN, "{}", denied.body);
    assert_eq!(denied.code(), "sign_up_denied");
    assert_eq!(denied.body["message"], "Nur auf Einladung.", "the hook's message, in the caller's language");
    assert!(shared::testing::outbox_messages(&api.app.outbox).is_empty(), "no code went out");
    let calls = receiver.calls();
    assert_eq!(calls.len(), 1);
    let payload = calls[0].json();
    assert_eq!(payload["type"], "pre_sign_up");
    assert_eq!(payload["source"], "sign_up");
    assert_eq!(payload["user"]["email"], "deny@example.com");
    assert_eq!(payload["user"]["first_name"], "Hanna");
    assert!(!String::from_utf8_lossy(&calls[0].body).contains(PASSWORD), "never the password");
    // An English caller gets the English message.
    let english = api.post("/v1/registrations", sign_up_body("deny2@example.com"), &[]).await;
    assert_eq!(english.body["message"], "Invitation only.");
}

async fn an_allowing_hook_adds_attributes_to_the_user(backend: Backend) {
    let reply = json!({ "decision": "allow", "attributes": { "crm_id": "c-42", "tier": 2 } });
    let (api, receiver) = with_pre_sign_up(backend, reply).await;
    let tokens = api.sign_up("allow@example.com").await;
    let user_id = tokens["user_id"].as_str().unwrap();
    let admin = format!("Bearer {}", api.app.admin_token);
    let user = api.get(&format!("/v1/users/{user_id}"), &[("Authorization", &admin)]).await;
    assert_eq!(user.status, StatusCode::OK, "{}", user.body);
    assert_eq!(user.body["attributes"], json!({ "crm_id": "c-42", "tier": 2 }));
    // A back-office creation passes the same hook, its attributes joining
    // the caller's (the hook's win a clash).
    let body = json!({
        "email": "staff@example.com", "first_name": "S", "last_name": "Taff", "user_type": "consumer",
        "password": PASSWORD, "attributes": { "tier": 1, "desk": "3F" },
    });
    let created = api.post("/v1/users", body, &[("Authorization", &admin)]).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert_eq!(created.body["attributes"], json!({ "crm_id": "c-42", "tier": 2, "desk": "3F" }));
    let sources: Vec<Value> = receiver.calls().iter().map(|c| c.json()["source"].clone()).collect();
    assert_eq!(sources, [json!("sign_up"), json!("back_office")]);
}

async fn a_pre_token_hook_adds_claims_at_every_issue_but_never_a_reserved_one(backend: Backend) {
    let reply = json!({ "claims": { "plan": "gold", "sub": "usr_evil", "roles": ["admin"], "tid": "other" } });
    let (api, receiver) = with_pre_token(backend, reply, OnFailure::Deny).await;
    let tokens = api.sign_up("claims@example.com").await;
    let user_id = tokens["user_id"].as_str().unwrap().to_owned();
    let signed_up = claims(&tokens["access_token"]);
    assert_eq!(signed_up["plan"], "gold");
    assert_eq!(signed_up["sub"], user_id.as_str(), "a reserved claim is never overridden");
    assert_eq!(signed_up["roles"], json!([]));
    assert_eq!(signed_up["tid"], api.app.tenant.id.as_str());
    // The token still opens the API, and a refresh and a login ask again.
    assert_eq!(api.me(tokens["access_token"].as_str().unwrap()).await.status, StatusCode::OK);
    receiver.answer(200, json!({ "claims": { "plan": "platinum" } }), Duration::ZERO);
    let refreshed = api.refresh(tokens["refresh_token"].as_str().unwrap(), "d1").await;
    assert_eq!(refreshed.status, StatusCode::OK, "{}", refreshed.body);
    assert_eq!(claims(&refreshed.body["access_token"])["plan"], "platinum");
    let login = api.login("claims@example.com", PASSWORD, "d2").await;
    assert_eq!(login.status, StatusCode::OK, "{}", login.body);
    assert_eq!(claims(&login.body["access_token"])["plan"], "platinum");
    let calls = receiver.calls();
    assert_eq!(calls.len(), 3);
    let payload = calls[2].json();
    assert_eq!(payload["type"], "pre_token");
    assert_eq!(payload["user"]["user_id"], user_id.as_str());
    assert_eq!(payload["session"]["amr"], json!(["pwd"]));
}

async fn a_failing_pre_token_hook_that_denies_issues_no_token_and_rotates_nothing(backend: Backend) {
    let (api, receiver) = with_pre_token(backend, json!({ "claims": {} }), OnFailure::Deny).await;
    let tokens = api.sign_up("fail@example.com").await;
    let refresh_token = tokens["refresh_token"].as_str().unwrap();
    // A hook that errs, then one that answers too late: 503 (never a 500).
    receiver.answer(500, json!({}), Duration::ZERO);
    let refused = api.refresh(refresh_token, "d1").await;
    assert_eq!(refused.status, StatusCode::SERVICE_UNAVAILABLE, "{}", refused.body);
    receiver.answer(200, json!({ "claims": {} }), Duration::from_millis(1500));
    let late = api.login("fail@example.com", PASSWORD, "d1").await;
    assert_eq!(late.status, StatusCode::SERVICE_UNAVAILABLE, "{}", late.body);
    // Nothing was rotated: once the hook answers, the same token refreshes,
    // long after the reuse window.
    api.advance(3600);
    receiver.answer(200, json!({ "claims": {} }), Duration::ZERO);
    let refreshed = api.refresh(refresh_token, "d1").await;
    assert_eq!(refreshed.status, StatusCode::OK, "{}", refreshed.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pre_sign_up_hook_that_fails_follows_its_on_failure() {
    for (on_failure, expected) in [(OnFailure::Deny, StatusCode::FORBIDDEN), (OnFailure::Allow, StatusCode::ACCEPTED)] {
        let receiver = Receiver::start(json!({ "decision": "allow" })).await;
        receiver.answer(200, json!({ "decision": "allow" }), Duration::from_millis(1500));
        let hook = Hook { on_failure, timeout_ms: 200, ..receiver.hook() };
        let api = Api::start(Backend::Memory, policy(Hooks { pre_sign_up: Some(hook), ..Hooks::default() })).await;
        let late = api.post("/v1/registrations", sign_up_body("late@example.com"), &[]).await;
        assert_eq!(late.status, expected, "{on_failure:?}: {}", late.body);
        // An answer without a decision is a failure too; so is a hook that
        // cannot be reached.
        receiver.answer(200, json!({ "verdict": "yes" }), Duration::ZERO);
        let odd = api.post("/v1/registrations", sign_up_body("odd@example.com"), &[]).await;
        assert_eq!(odd.status, expected, "{on_failure:?}: {}", odd.body);
        if on_failure == OnFailure::Deny {
            assert_eq!(odd.code(), "sign_up_denied");
            assert!(odd.body.get("message").is_none(), "no hook message to show");
        }
    }
}

/// The reference library of the Standard Webhooks specification accepts
/// the calls' signatures (and refuses one whose body was changed).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hook_calls_are_signed_as_the_standard_webhooks_library_checks() {
    let (api, receiver) = with_pre_sign_up(Backend::Memory, json!({ "decision": "allow" })).await;
    let started = api.post("/v1/registrations", sign_up_body("signed@example.com"), &[]).await;
    assert_eq!(started.status, StatusCode::ACCEPTED, "{}", started.body);
    let call = receiver.calls().pop().expect("a call");
    let header = |name: &str| call.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone()).unwrap();
    assert!(header("webhook-id").starts_with("msg_"));
    // Whether the library verified `body`, and what it said.
    let check = |body: &[u8]| -> (bool, String) {
        let script = "import json, sys\n\
            from standardwebhooks import Webhook\n\
            headers = json.loads(sys.argv[1])\n\
            Webhook(sys.argv[2]).verify(sys.stdin.buffer.read(), headers)\n\
            print('verified')\n";
        let headers = json!({
            "webhook-id": header("webhook-id"),
            "webhook-timestamp": header("webhook-timestamp"),
            "webhook-signature": header("webhook-signature"),
        });
        let output = python(script, &[&headers.to_string(), shared::testing::TEST_WEBHOOK_SECRET], body);
        (output.status.success(), String::from_utf8_lossy(&output.stderr).into_owned())
    };
    let (verified, said) = check(&call.body);
    assert!(verified, "the library refused a signature: {said}");
    let mut tampered = call.body.clone();
    tampered.extend_from_slice(b" ");
    let (verified, said) = check(&tampered);
    assert!(!verified && said.contains("WebhookVerificationError"), "a changed body must not verify: {said}");
}

/// The function the Lambda hooks name.
const HOOK_ARN: &str = "arn:aws:lambda:eu-central-1:123456789012:function:registrar-hook";

/// A tenant with the hooks `make` puts a Lambda `hook` into, on an app whose
/// Lambda client talks to a fresh scripted endpoint answering `reply` (as
/// the other AWS clients are pointed at moto: by the SDK configuration's
/// endpoint).
async fn with_lambda(backend: Backend, reply: Value, hook: Hook, make: fn(Hook) -> Hooks) -> (Api, Receiver) {
    let receiver = Receiver::start(reply).await;
    let lambda = aws_config::SdkConfig::builder()
        .behavior_version(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("eu-central-1"))
        .credentials_provider(aws_sdk_dynamodb::config::SharedCredentialsProvider::new(
            aws_sdk_dynamodb::config::Credentials::new("test", "test", None, None, "test"),
        ))
        .endpoint_url(&receiver.base)
        .build();
    let clock = Arc::new(shared::adapters::system::ManualClock::at_test_start());
    let store = store_for(backend, clock.clone()).await;
    let options = TestOptions {
        policy: policy(make(hook)),
        store,
        clock: Some(clock),
        lambda: Some(lambda),
        ..TestOptions::default()
    };
    (Api::on(spawn_app(options).await), receiver)
}

fn pre_sign_up_hooks(hook: Hook) -> Hooks {
    Hooks { pre_sign_up: Some(hook), ..Hooks::default() }
}

fn pre_token_hooks(hook: Hook) -> Hooks {
    Hooks { pre_token: Some(hook), ..Hooks::default() }
}

/// The path Lambda's `Invoke` of `HOOK_ARN` is sent to.
fn invocations_path() -> String {
    format!("/2015-03-31/functions/{HOOK_ARN}/invocations")
}

async fn a_lambda_pre_sign_up_hook_is_invoked_with_the_http_hooks_payload_and_denies_with_its_message(
    backend: Backend,
) {
    let reply = json!({ "decision": "deny", "message": { "en": "Invitation only.", "de": "Nur auf Einladung." } });
    let (api, function) = with_lambda(backend, reply.clone(), Hook::lambda(HOOK_ARN), pre_sign_up_hooks).await;
    let denied = api.post("/v1/registrations", sign_up_body("deny@example.com"), &[("Accept-Language", "de")]).await;
    assert_eq!((denied.status, denied.code()), (StatusCode::FORBIDDEN, "sign_up_denied"), "{}", denied.body);
    assert_eq!(denied.body["message"], "Nur auf Einladung.", "the function's message, in the caller's language");
    assert!(shared::testing::outbox_messages(&api.app.outbox).is_empty(), "no code went out");
    let calls = function.calls();
    assert_eq!(calls.len(), 1);
    let invoked = &calls[0];
    assert!(invoked.line.starts_with("POST "), "{}", invoked.line);
    assert_eq!(invoked.path(), invocations_path(), "the configured function is invoked");
    assert_eq!(invoked.header("x-amz-invocation-type"), Some("RequestResponse"));
    assert!(invoked.header("authorization").is_some_and(|a| a.starts_with("AWS4-HMAC-SHA256")), "signed by SigV4");
    assert!(invoked.header("webhook-signature").is_none(), "no Standard Webhooks signature: IAM authenticates");
    // The payload is the one an HTTP hook gets for the same sign-up.
    let (http_api, receiver) = with_pre_sign_up(backend, reply).await;
    http_api.post("/v1/registrations", sign_up_body("deny@example.com"), &[("Accept-Language", "de")]).await;
    let mut over_http = receiver.calls().pop().expect("an HTTP call").json();
    let mut invoked_with = invoked.json();
    assert_eq!(invoked_with["tenant_id"], api.app.tenant.id.as_str());
    invoked_with["tenant_id"] = json!("the tenant");
    over_http["tenant_id"] = json!("the tenant");
    assert_eq!(invoked_with, over_http);
    assert_eq!(invoked_with["user"]["email"], "deny@example.com");
    // Never the password.
    assert!(!String::from_utf8_lossy(&invoked.body).contains(PASSWORD));
}

async fn a_lambda_pre_token_hook_adds_a_claim(backend: Backend) {
    let reply = json!({ "claims": { "plan": "gold", "sub": "usr_evil" } });
    let (api, function) = with_lambda(backend, reply, Hook::lambda(HOOK_ARN), pre_token_hooks).await;
    let tokens = api.sign_up("lambda.claims@example.com").await;
    let user_id = tokens["user_id"].as_str().unwrap().to_owned();
    let signed_up = claims(&tokens["access_token"]);
    assert_eq!(signed_up["plan"], "gold");
    assert_eq!(signed_up["sub"], user_id.as_str(), "a reserved claim is never overridden");
    // A function that answers nothing (`null`) is a hook without an answer,
    // as an HTTP hook's empty body: a failure, here `deny` (503, nothing
    // rotated); then the refresh asks again.
    function.answer(200, Value::Null, Duration::ZERO);
    let refresh_token = tokens["refresh_token"].as_str().unwrap();
    let unanswered = api.refresh(refresh_token, "d1").await;
    assert_eq!(unanswered.status, StatusCode::SERVICE_UNAVAILABLE, "{}", unanswered.body);
    function.answer(200, json!({ "claims": { "plan": "platinum" } }), Duration::ZERO);
    let refreshed = api.refresh(refresh_token, "d1").await;
    assert_eq!(refreshed.status, StatusCode::OK, "{}", refreshed.body);
    assert_eq!(claims(&refreshed.body["access_token"])["plan"], "platinum");
    let calls = function.calls();
    assert_eq!(calls.len(), 3);
    assert!(calls.iter().all(|call| call.path() == invocations_path()));
    let payload = calls[0].json();
    assert_eq!(payload["type"], "pre_token");
    assert_eq!(payload["user"]["user_id"], user_id.as_str());
}

async fn a_lambda_function_that_throws_or_answers_late_follows_on_failure(backend: Backend) {
    for (on_failure, expected) in [(OnFailure::Deny, StatusCode::FORBIDDEN), (OnFailure::Allow, StatusCode::ACCEPTED)] {
        let hook = Hook { on_failure, timeout_ms: 300, ..Hook::lambda(HOOK_ARN) };
        let (api, function) = with_lambda(backend, json!({ "decision": "allow" }), hook, pre_sign_up_hooks).await;
        function.answer_function_error();
        let threw = api.post("/v1/registrations", sign_up_body("threw@example.com"), &[]).await;
        assert_eq!(threw.status, expected, "{on_failure:?}: {}", threw.body);
        if on_failure == OnFailure::Deny {
            assert_eq!(threw.code(), "sign_up_denied");
            assert!(threw.body.get("message").is_none(), "the function's error is not shown: {}", threw.body);
        }
        function.answer(200, json!({ "decision": "allow" }), Duration::from_millis(1500));
        let late = api.post("/v1/registrations", sign_up_body("late@example.com"), &[]).await;
        assert_eq!(late.status, expected, "{on_failure:?}: {}", late.body);
        // A payload that is not JSON fails alike; the same answer in time passes.
        function.answer(200, json!("allow"), Duration::ZERO);
        let odd = api.post("/v1/registrations", sign_up_body("odd@example.com"), &[]).await;
        assert_eq!(odd.status, expected, "{on_failure:?}: {}", odd.body);
        function.answer(200, json!({ "decision": "allow" }), Duration::ZERO);
        let fine = api.post("/v1/registrations", sign_up_body("fine@example.com"), &[]).await;
        assert_eq!(fine.status, StatusCode::ACCEPTED, "{on_failure:?}: {}", fine.body);
        assert_eq!(function.calls().len(), 4, "one invocation per sign-up (no retry of a failed function)");
    }
}

/// A `pre_token` function that throws, with `on_failure: deny`, issues no
/// token (503, never a 500); with `allow` the sign-in goes on without claims.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lambda_pre_token_function_that_throws_follows_on_failure() {
    for (on_failure, expected) in
        [(OnFailure::Deny, StatusCode::SERVICE_UNAVAILABLE), (OnFailure::Allow, StatusCode::OK)]
    {
        let hook = Hook { on_failure, ..Hook::lambda(HOOK_ARN) };
        let (api, function) = with_lambda(Backend::Memory, json!({ "claims": {} }), hook, pre_token_hooks).await;
        let tokens = api.sign_up("thrown.token@example.com").await;
        function.answer_function_error();
        let refreshed = api.refresh(tokens["refresh_token"].as_str().unwrap(), "d1").await;
        assert_eq!(refreshed.status, expected, "{on_failure:?}: {}", refreshed.body);
    }
}

/// Runs `script` with the test command's Python (`REGISTRAR_TEST_PYTHON`,
/// the virtualenv with `standardwebhooks`), `args` and `stdin`.
fn python(script: &str, args: &[&str], stdin: &[u8]) -> std::process::Output {
    common::run_python(&common::python("REGISTRAR_TEST_PYTHON", ".venv"), script, args, stdin)
}
