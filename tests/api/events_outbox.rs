//! Events through the transactional outbox (SPEC §11, issue 26 item 2):
//! each change writes its event item in its own transaction, and the
//! in-process dispatcher posts every committed event to the tenant's
//! webhook (`policy.webhook`), signed per Standard Webhooks with the
//! event's id as `webhook-id`, at least once: a receiver that fails gets
//! it again, with the same id; a change that fails tells nothing.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use shared::domain::policy::EventWebhook;
use shared::domain::tenant::Policy;
use shared::ports::Store;
use tokio::io::AsyncWriteExt;

use crate::common::{self, Api, Backend, CODE, Flows, PASSWORD};

/// One delivery a receiver took: its headers (names lower-cased), its raw
/// body and the status it answered.
#[derive(Clone, Debug)]
pub(crate) struct Delivery {
    headers: Vec<(String, String)>,
    pub(crate) body: Vec<u8>,
    status: u16,
}

impl Delivery {
    pub(crate) fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("a JSON payload")
    }

    pub(crate) fn header(&self, name: &str) -> String {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone()).unwrap_or_default()
    }
}

/// An event receiver on 127.0.0.1: answers 500 to its first `failing`
/// deliveries, then 204; keeps every delivery.
pub(crate) struct Receiver {
    pub(crate) url: String,
    deliveries: Arc<Mutex<Vec<Delivery>>>,
}

impl Receiver {
    pub(crate) async fn start(failing: usize) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}/events", listener.local_addr().unwrap());
        let deliveries: Arc<Mutex<Vec<Delivery>>> = Arc::new(Mutex::new(Vec::new()));
        let kept = deliveries.clone();
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                let kept = kept.clone();
                tokio::spawn(async move {
                    let Some(common::Request { headers, body, .. }) = common::read_request(&mut socket).await else {
                        return;
                    };
                    let status = {
                        let mut all = kept.lock().unwrap();
                        let status = if all.len() < failing { 500 } else { 204 };
                        all.push(Delivery { headers, body, status });
                        status
                    };
                    let head = format!("HTTP/1.1 {status} X\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
                    let _ = socket.write_all(head.as_bytes()).await;
                });
            }
        });
        Self { url, deliveries }
    }

    pub(crate) fn deliveries(&self) -> Vec<Delivery> {
        self.deliveries.lock().unwrap().clone()
    }

    /// The events accepted (2xx) so far, each once, in arrival order.
    pub(crate) fn accepted(&self) -> Vec<Value> {
        let mut seen = BTreeSet::new();
        let deliveries = self.deliveries().into_iter().filter(|d| d.status < 300);
        deliveries.map(|d| d.json()).filter(|e| seen.insert(e["id"].as_str().unwrap_or("").to_owned())).collect()
    }

    /// Waits (polling, at most 20 s) until `done` holds for the accepted
    /// events; panics with what arrived otherwise.
    pub(crate) async fn wait_for(&self, what: &str, done: impl Fn(&[Value]) -> bool) -> Vec<Value> {
        for _ in 0..400 {
            let accepted = self.accepted();
            if done(&accepted) {
                return accepted;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("{what}: never arrived; got {:#?}", self.accepted());
    }

    /// Waits for one accepted event of `event_type`.
    async fn event(&self, event_type: &str) -> Value {
        let accepted = self.wait_for(event_type, |events| events.iter().any(|e| e["type"] == event_type)).await;
        accepted.into_iter().find(|e| e["type"] == event_type).unwrap()
    }
}

/// An app on `backend` whose tenant posts its events to a receiver that
/// fails its first `failing` deliveries.
async fn with_receiver(backend: Backend, failing: usize) -> (Api, Receiver) {
    let receiver = Receiver::start(failing).await;
    let policy = Policy {
        sandbox_code: Some(CODE.into()),
        phone_required: false,
        webhook: Some(EventWebhook { url: receiver.url.clone() }),
        ..Policy::default()
    };
    (Api::start(backend, policy).await, receiver)
}

/// The event items in the tenant's outbox (every shard), in time order.
async fn stored_events(api: &Api) -> Vec<Value> {
    let mut items = Vec::new();
    for partition in shared::table::event_partitions(&api.app.tenant.id) {
        items.extend(api.app.store.query_all(&partition, "").await.expect("outbox readable"));
    }
    items.sort_by(|a, b| a.key.sk.cmp(&b.key.sk));
    items.into_iter().map(|item| item.body).collect()
}

/// No delivery carries the password, a hash or a code.
fn assert_no_secret(receiver: &Receiver) {
    for delivery in receiver.deliveries() {
        let body = String::from_utf8_lossy(&delivery.body).into_owned();
        for secret in [PASSWORD, "N3w!Secret", "$argon2", CODE, "password_hash", "refresh_token"] {
            assert!(!body.contains(secret), "{secret} in {body}");
        }
    }
}

async fn backend(backend: Backend) -> Backend {
    backend
}

on_both_stores!(backend;
    a_sign_up_tells_user_created_signed_with_the_event_id,
    a_status_change_a_password_change_and_a_close_each_tell_theirs,
    nothing_is_lost_when_the_receiver_fails_first,
    a_change_that_fails_tells_nothing,
);

async fn a_sign_up_tells_user_created_signed_with_the_event_id(backend: Backend) {
    let (api, receiver) = with_receiver(backend, 0).await;
    let tokens = api.sign_up("created@example.com").await;
    let user_id = tokens["user_id"].as_str().unwrap();
    let event = receiver.event("user.created").await;
    assert_eq!(event["user_id"], user_id);
    assert_eq!(event["tenant"], api.app.tenant.id.as_str());
    assert_eq!(event["data"]["source"], "sign_up");
    assert_eq!(event["data"]["email"], "created@example.com");
    assert_eq!(event["data"]["email_verified"], true);
    assert!(event["id"].as_str().unwrap().starts_with("evt_"), "{event}");
    assert!(event.get("actor").is_none(), "the user signed itself up: {event}");
    let delivery = receiver.deliveries().into_iter().find(|d| d.json()["type"] == "user.created").unwrap();
    assert_eq!(delivery.header("webhook-id"), event["id"].as_str().unwrap(), "the event id is the webhook id");
    let (verified, said) = verify(&delivery, &delivery.body);
    assert!(verified, "the Standard Webhooks library refused the signature: {said}");
    let mut tampered = delivery.body.clone();
    tampered.extend_from_slice(b" ");
    assert!(!verify(&delivery, &tampered).0, "a changed body must not verify");
    // The event is the item of the outbox, as stored.
    let stored = stored_events(&api).await;
    assert!(stored.iter().any(|e| e["id"] == event["id"]), "{stored:?}");
    assert_no_secret(&receiver);
}

async fn a_status_change_a_password_change_and_a_close_each_tell_theirs(backend: Backend) {
    let (api, receiver) = with_receiver(backend, 0).await;
    let tokens = api.sign_up("changes@example.com").await;
    let user_id = tokens["user_id"].as_str().unwrap().to_owned();
    let bearer = format!("Bearer {}", tokens["access_token"].as_str().unwrap());
    let admin = format!("Bearer {}", api.app.admin_token);

    let change = json!({ "current_password": PASSWORD, "new_password": "N3w!Secret" });
    let changed = api.post("/v1/me/password", change, &[("Authorization", &bearer)]).await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.body);
    let password = receiver.event("password.changed").await;
    assert_eq!(password["user_id"], user_id.as_str());
    assert_eq!(password["data"], json!({ "reason": "user" }));

    let status = json!({ "status": "suspended", "reason": "chargeback" });
    let suspended = api.post(&format!("/v1/users/{user_id}/status"), status, &[("Authorization", &admin)]).await;
    assert_eq!(suspended.status, StatusCode::OK, "{}", suspended.body);
    let moved = receiver.event("user.status_changed").await;
    assert_eq!(moved["data"], json!({ "from": "active", "to": "suspended", "reason": "chargeback" }));
    assert!(moved["actor"].as_str().unwrap().starts_with("admin:"), "{moved}");

    let close = json!({ "status": "closed", "reason": "asked to" });
    let closed = api.post(&format!("/v1/users/{user_id}/status"), close, &[("Authorization", &admin)]).await;
    assert_eq!(closed.status, StatusCode::OK, "{}", closed.body);
    let gone = receiver.event("user.closed").await;
    assert_eq!(gone["data"], json!({ "from": "suspended", "reason": "asked to" }));
    assert_eq!(gone["user_id"], user_id.as_str());

    // A user that closes its own account tells it too, without an actor.
    let tokens = api.sign_up("leaver@example.com").await;
    let bearer = format!("Bearer {}", tokens["access_token"].as_str().unwrap());
    let left =
        api.send(Method::DELETE, "/v1/me", Some(json!({ "password": PASSWORD })), &[("Authorization", &bearer)]).await;
    assert!(left.status.is_success(), "{}", left.body);
    let leaver = tokens["user_id"].as_str().unwrap().to_owned();
    let accepted = receiver
        .wait_for("the leaver's user.closed", |events| {
            events.iter().any(|e| e["type"] == "user.closed" && e["user_id"] == leaver.as_str())
        })
        .await;
    let own = accepted.iter().find(|e| e["type"] == "user.closed" && e["user_id"] == leaver.as_str()).unwrap();
    assert!(own.get("actor").is_none(), "{own}");
    assert_eq!(own["data"]["reason"], "user");
    assert_no_secret(&receiver);
}

async fn nothing_is_lost_when_the_receiver_fails_first(backend: Backend) {
    // The first five deliveries fail: the batch of changes below is told
    // all the same, each event at least once, retries with the same id.
    let (api, receiver) = with_receiver(backend, 5).await;
    let admin = format!("Bearer {}", api.app.admin_token);
    let mut users = Vec::new();
    for n in 0..3 {
        users.push(api.sign_up(&format!("batch{n}@example.com")).await["user_id"].as_str().unwrap().to_owned());
    }
    for user_id in &users {
        let status = json!({ "status": "suspended", "reason": "batch" });
        let answer = api.post(&format!("/v1/users/{user_id}/status"), status, &[("Authorization", &admin)]).await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    }
    let stored: BTreeSet<String> =
        stored_events(&api).await.iter().map(|e| e["id"].as_str().unwrap().to_owned()).collect();
    assert_eq!(stored.len(), 6, "three sign-ups, each created and suspended: {stored:?}");
    let accepted = receiver
        .wait_for("every stored event", |events| {
            let ids: BTreeSet<String> = events.iter().map(|e| e["id"].as_str().unwrap().to_owned()).collect();
            stored.is_subset(&ids)
        })
        .await;
    assert_eq!(accepted.len(), stored.len(), "no event that was not stored");
    let deliveries = receiver.deliveries();
    let failed: Vec<&Delivery> = deliveries.iter().filter(|d| d.status == 500).collect();
    assert_eq!(failed.len(), 5);
    for refused in failed {
        let id = refused.header("webhook-id");
        let retried = deliveries.iter().find(|d| d.status < 300 && d.header("webhook-id") == id);
        let retried = retried.unwrap_or_else(|| panic!("{id} was never delivered again"));
        assert_eq!(retried.json()["id"], id.as_str(), "a retry carries the same event id");
        assert_eq!(retried.body, refused.body, "a retry carries the same event");
    }
}

async fn a_change_that_fails_tells_nothing(backend: Backend) {
    let (api, receiver) = with_receiver(backend, 0).await;
    let admin = format!("Bearer {}", api.app.admin_token);
    let body = json!({
        "email": "taken@example.com", "first_name": "T", "last_name": "Aken", "user_type": "consumer",
        "password": PASSWORD,
    });
    let created = api.post("/v1/users", body.clone(), &[("Authorization", &admin)]).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    receiver.event("user.created").await;
    let before = stored_events(&api).await.len();
    // The same address again: the e-mail lock's condition fails, and the
    // transaction (its event with it) writes nothing.
    let again = api.post("/v1/users", body, &[("Authorization", &admin)]).await;
    assert_eq!(again.code(), "email_taken", "{}", again.body);
    // A status change the rules refuse writes nothing either.
    let user_id = created.body["user_id"].as_str().or(created.body["id"].as_str()).unwrap().to_owned();
    let wrong = json!({ "status": "created", "reason": "no" });
    let refused = api.post(&format!("/v1/users/{user_id}/status"), wrong, &[("Authorization", &admin)]).await;
    assert!(refused.status.is_client_error(), "{}", refused.body);
    // A change after them is told, and nothing before it but the creation.
    let status = json!({ "status": "suspended", "reason": "after" });
    let after = api.post(&format!("/v1/users/{user_id}/status"), status, &[("Authorization", &admin)]).await;
    assert_eq!(after.status, StatusCode::OK, "{}", after.body);
    receiver.event("user.status_changed").await;
    assert_eq!(stored_events(&api).await.len(), before + 1);
    let types: Vec<Value> = receiver.accepted().iter().map(|e| e["type"].clone()).collect();
    assert_eq!(types, [json!("user.created"), json!("user.status_changed")]);
}

/// Whether the Standard Webhooks reference library verifies `body` with
/// the delivery's headers and the test apps' secret, and what it said.
fn verify(delivery: &Delivery, body: &[u8]) -> (bool, String) {
    let script = "import json, sys\n\
        from standardwebhooks import Webhook\n\
        headers = json.loads(sys.argv[1])\n\
        Webhook(sys.argv[2]).verify(sys.stdin.buffer.read(), headers)\n\
        print('verified')\n";
    let headers = json!({
        "webhook-id": delivery.header("webhook-id"),
        "webhook-timestamp": delivery.header("webhook-timestamp"),
        "webhook-signature": delivery.header("webhook-signature"),
    });
    let output = common::run_python(
        &common::python("REGISTRAR_TEST_PYTHON", ".venv"),
        script,
        &[headers.to_string().as_str(), shared::testing::TEST_WEBHOOK_SECRET],
        body,
    );
    (output.status.success(), String::from_utf8_lossy(&output.stderr).into_owned())
}
