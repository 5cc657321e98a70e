//! The tenant's blocking hooks (`policy.hooks`, docs/hooks.md) against a
//! receiver on localhost: a `pre_sign_up` hook that denies with its message
//! or adds attributes, a `pre_token` hook that adds claims but never a
//! reserved one, hooks that fail or time out following their `on_failure`,
//! and signatures that the Standard Webhooks reference library (PyPI's
//! `standardwebhooks`) accepts.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use reqwest::StatusCode;
use serde_json::{Value, json};
use shared::domain::policy::{Hook, Hooks, OnFailure};
use shared::domain::tenant::Policy;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::common::{Api, Backend, CODE, Flows, PASSWORD};

/// One call a receiver took: its headers (names lower-cased) and raw body.
#[derive(Clone, Debug)]
struct Call {
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Call {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("a JSON payload")
    }
}

/// What a receiver answers: a status and body, after a delay.
#[derive(Clone)]
struct Reply {
    status: u16,
    body: String,
    delay: Duration,
}

/// A hook receiver on 127.0.0.1 (HTTP/1.1 by hand): answers every call with
/// the reply the test set and keeps each call.
struct Receiver {
    url: String,
    calls: Arc<Mutex<Vec<Call>>>,
    reply: Arc<Mutex<Reply>>,
}

impl Receiver {
    async fn start(reply: Value) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        let calls = Arc::new(Mutex::new(Vec::new()));
        let reply = Arc::new(Mutex::new(Reply { status: 200, body: reply.to_string(), delay: Duration::ZERO }));
        let (kept, answer) = (calls.clone(), reply.clone());
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                let (kept, answer) = (kept.clone(), answer.clone());
                tokio::spawn(async move {
                    let Some(call) = read_call(&mut socket).await else { return };
                    kept.lock().unwrap().push(call);
                    let reply = answer.lock().unwrap().clone();
                    tokio::time::sleep(reply.delay).await;
                    let head = format!(
                        "HTTP/1.1 {} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                        reply.status,
                        reply.body.len()
                    );
                    let _ = socket.write_all(format!("{head}{}", reply.body).as_bytes()).await;
                });
            }
        });
        Self { url, calls, reply }
    }

    fn answer(&self, status: u16, body: Value, delay: Duration) {
        *self.reply.lock().unwrap() = Reply { status, body: body.to_string(), delay };
    }

    fn calls(&self) -> Vec<Call> {
        self.calls.lock().unwrap().clone()
    }

    fn hook(&self) -> Hook {
        Hook::to(self.url.clone())
    }
}

async fn read_call(socket: &mut tokio::net::TcpStream) -> Option<Call> {
    let mut data = Vec::new();
    let mut buf = [0u8; 4096];
    let end = loop {
        let n = socket.read(&mut buf).await.ok()?;
        if n == 0 {
            return None;
        }
        data.extend_from_slice(&buf[..n]);
        if let Some(at) = data.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
    };
    let head = String::from_utf8_lossy(&data[..end]).into_owned();
    let headers: Vec<(String, String)> = head
        .lines()
        .skip(1)
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_owned()))
        .collect();
    let length: usize = headers.iter().find(|(n, _)| n == "content-length").and_then(|(_, v)| v.parse().ok())?;
    while data.len() < end + length {
        let n = socket.read(&mut buf).await.ok()?;
        if n == 0 {
            return None;
        }
        data.extend_from_slice(&buf[..n]);
    }
    Some(Call { headers, body: data[end..end + length].to_vec() })
}

fn policy(hooks: Hooks) -> Policy {
    Policy { sandbox_code: Some(CODE.into()), phone_required: false, hooks, ..Policy::default() }
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
);

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

/// Runs `script` with the test command's Python (`REGISTRAR_TEST_PYTHON`,
/// the virtualenv with `standardwebhooks`), `args` and `stdin`.
fn python(script: &str, args: &[&str], stdin: &[u8]) -> std::process::Output {
    use std::io::Write;
    let python = std::env::var("REGISTRAR_TEST_PYTHON").unwrap_or_else(|_| {
        panic!(
            "REGISTRAR_TEST_PYTHON is not set: this test checks signatures with the Standard Webhooks \
             library. Run `make test`, which installs it into .venv."
        )
    });
    let mut child = std::process::Command::new(python)
        .arg("-c")
        .arg(script)
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start Python");
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    child.wait_with_output().expect("Python ran")
}
