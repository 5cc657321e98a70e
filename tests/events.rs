//! Every `events/<function>.json` (a real API Gateway HTTP API 2.0 event)
//! goes through `lambda_http`'s request parsing and the function's handler,
//! with the store prepared so the event's step is the next one.

use std::sync::Arc;

use chrono::Duration;
use serde_json::Value;
use shared::app::App;
use shared::domain::password::Password;
use shared::domain::registration::{self, SignUp};
use shared::domain::tenant::{Policy, Tenant};
use shared::domain::values::{EmailAddress, Phone};
use shared::http::{ROUTES, handle_route, route_for_function};
use shared::testing::{TestOptions, build_app};

const EVENT_API_KEY: &str = "sk_sandbox_events_example_key";

/// Where a registration should stand before the event arrives.
#[derive(Clone, Copy)]
enum Stage {
    None,
    VerifyEmail,
    AddPhone,
    VerifyPhone,
}

struct Fixture {
    app: Arc<App>,
    tenant: Tenant,
    clock: Arc<shared::adapters::system::ManualClock>,
}

async fn fixture() -> Fixture {
    let policy = Policy {
        sandbox_code: Some("123456".into()),
        ..Policy::default()
    };
    let options = TestOptions {
        policy: policy.clone(),
        ..TestOptions::default()
    };
    let (app, clock, _, _, _) = build_app(options).await;
    let tenant = Tenant {
        id: "sandbox".into(),
        name: "Events".into(),
        policy,
    };
    shared::local::seed_tenant(&app, &tenant, EVENT_API_KEY)
        .await
        .unwrap();
    Fixture { app, tenant, clock }
}

/// Walks a registration to `stage` through the domain; returns its id.
async fn prepare(f: &Fixture, stage: Stage) -> Option<String> {
    if let Stage::None = stage {
        return None;
    }
    let sign_up = SignUp {
        email: EmailAddress::parse("events@example.com").unwrap(),
        password: Password::new("Str0ng!Pass"),
        first_name: "Eve".into(),
        last_name: "Nts".into(),
        gender: None,
        birth_date: None,
        language: "en".into(),
        time_zone: None,
    };
    let id = registration::start(&f.app, &f.tenant, sign_up)
        .await
        .unwrap()
        .registration_id;
    if let Stage::AddPhone | Stage::VerifyPhone = stage {
        registration::verify_email(&f.app, &f.tenant, &id, "123456", None)
            .await
            .unwrap();
    }
    if let Stage::VerifyPhone = stage {
        let phone = Phone::parse("+41791234567").unwrap();
        registration::add_phone(&f.app, &f.tenant, &id, phone)
            .await
            .unwrap();
    }
    // Past every resend cooldown.
    f.clock.advance(Duration::seconds(61));
    Some(id)
}

/// Reads the event file, with the registration id swapped for a prepared one.
fn load_event(function: &str, registration_id: Option<&str>) -> lambda_http::Request {
    let path = format!("{}/events/{function}.json", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|_| panic!("{path} is missing"));
    let mut event: Value = serde_json::from_str(&text).expect("event is JSON");
    assert_eq!(
        event["version"], "2.0",
        "{function}: an HTTP API payload 2.0 event"
    );
    if let (Some(id), Some(old)) = (
        registration_id,
        event["pathParameters"]["id"].as_str().map(str::to_owned),
    ) {
        for pointer in ["/rawPath", "/requestContext/http/path"] {
            let value = event.pointer_mut(pointer).unwrap();
            *value = Value::String(value.as_str().unwrap().replace(&old, id));
        }
        event["pathParameters"]["id"] = Value::String(id.to_owned());
    }
    lambda_http::request::from_str(&event.to_string()).expect("lambda_http parses the event")
}

async fn answer(function: &str, stage: Stage) -> (u16, Value, lambda_http::http::HeaderMap) {
    let f = fixture().await;
    let id = prepare(&f, stage).await;
    let request = load_event(function, id.as_deref());
    let route = route_for_function(function).expect("function in the route table");
    let response = handle_route(&f.app, route, request).await;
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = match response.body() {
        lambda_http::Body::Text(text) => serde_json::from_str(text).expect("JSON answer"),
        other => panic!("{function}: unexpected body {other:?}"),
    };
    (status, body, headers)
}

#[tokio::test]
async fn health_event() {
    let (status, body, _) = answer("health", Stage::None).await;
    assert_eq!((status, body["status"].as_str()), (200, Some("ok")));
}

#[tokio::test]
async fn jwks_event() {
    let (status, body, _) = answer("jwks", Stage::None).await;
    assert_eq!(status, 200);
    assert_eq!(body["keys"][0]["kty"], "RSA");
    assert_eq!(body["keys"][0]["alg"], "RS256");
}

#[tokio::test]
async fn start_registration_event() {
    let (status, body, headers) = answer("start-registration", Stage::None).await;
    assert_eq!(status, 202, "{body}");
    assert!(
        body["registration_id"]
            .as_str()
            .unwrap()
            .starts_with("reg_")
    );
    assert_eq!(headers["x-request-id"], "req-event-start-registration");
}

#[tokio::test]
async fn get_registration_event() {
    let (status, body, _) = answer("get-registration", Stage::VerifyEmail).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["next"], "verify_email");
}

#[tokio::test]
async fn verify_registration_email_event() {
    let (status, body, headers) = answer("verify-registration-email", Stage::VerifyEmail).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["next"], "add_phone");
    assert_eq!(headers["content-language"], "en");
}

#[tokio::test]
async fn add_registration_phone_event() {
    let (status, body, _) = answer("add-registration-phone", Stage::AddPhone).await;
    assert_eq!(status, 202, "{body}");
    assert_eq!(body["next"], "verify_phone");
}

#[tokio::test]
async fn verify_registration_phone_event() {
    let (status, body, headers) = answer("verify-registration-phone", Stage::VerifyPhone).await;
    assert_eq!(status, 201, "{body}");
    assert!(body["access_token"].is_string());
    assert!(headers["set-cookie"].to_str().unwrap().contains("HttpOnly"));
}

#[tokio::test]
async fn resend_registration_code_event() {
    let (status, body, _) = answer("resend-registration-code", Stage::VerifyEmail).await;
    assert_eq!(status, 202, "{body}");
}

#[tokio::test]
async fn an_unprepared_event_gets_a_clean_404() {
    // What `cargo lambda invoke` sees against an empty store.
    let (status, body, _) = answer("get-registration", Stage::None).await;
    assert_eq!(status, 404);
    assert_eq!(body["code"], "registration_not_found");
}

#[test]
fn every_route_has_an_event_with_its_route_key() {
    for route in ROUTES {
        let path = format!(
            "{}/events/{}.json",
            env!("CARGO_MANIFEST_DIR"),
            route.function
        );
        let event: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(
            event["routeKey"],
            format!("{} {}", route.method, route.path),
            "{path}"
        );
        assert_eq!(
            event["requestContext"]["http"]["method"],
            route.method.as_str(),
            "{path}"
        );
    }
}
