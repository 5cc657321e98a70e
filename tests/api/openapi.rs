//! The OpenAPI 3.1 document, generated from the route table and the request
//! body types (`shared::http::openapi`), agrees with the code: every route
//! of the route table and nothing else, the right security, request bodies
//! that the handlers read field for field; `docs/openapi.json` is what the
//! code generates, and the local API serves exactly that.

use std::collections::BTreeSet;

use reqwest::Method;
use serde_json::{Value, json};
use shared::http::{Auth, Endpoint, OPENAPI_PATH, ROUTES, Route};
use shared::testing::{TestOptions, spawn_app};

use crate::common::{self, Flows};

/// The operations of the API: every route but the CORS preflight's
/// (`OPTIONS /{proxy+}`), which browsers send, not clients.
fn operations() -> impl Iterator<Item = &'static Route> {
    ROUTES.iter().filter(|r| r.endpoint != Endpoint::Preflight)
}

fn document() -> Value {
    shared::http::openapi::document()
}

#[test]
fn the_written_document_is_the_generated_one() {
    let written = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/openapi.json")).unwrap();
    assert!(
        written == shared::http::openapi::served(),
        "docs/openapi.json is stale: run `cargo run --bin registrar-openapi`"
    );
}

#[test]
fn every_route_is_documented_and_nothing_else() {
    let doc = document();
    assert_eq!(doc["openapi"], "3.1.0");
    let mut documented = BTreeSet::new();
    for (path, operations) in doc["paths"].as_object().unwrap() {
        for (method, operation) in operations.as_object().unwrap() {
            documented.insert((
                method.to_uppercase(),
                path.clone(),
                operation["operationId"].as_str().unwrap().to_owned(),
            ));
        }
    }
    let coded: BTreeSet<_> =
        operations().map(|r| (r.method.to_string(), r.path.to_owned(), r.function.to_owned())).collect();
    assert_eq!(documented, coded);
}

#[test]
fn security_matches_each_routes_auth() {
    let doc = document();
    for route in operations() {
        let operation = &doc["paths"][route.path][route.method.as_str().to_lowercase()];
        let schemes: BTreeSet<&str> = operation["security"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|s| s.as_object().unwrap().keys().map(String::as_str))
            .collect();
        let expected: BTreeSet<&str> = match route.auth {
            Auth::None | Auth::Client => BTreeSet::new(),
            Auth::ApiKey => ["ApiKey"].into(),
            Auth::Bearer | Auth::Admin => ["ApiKey", "Bearer"].into(),
        };
        assert_eq!(schemes, expected, "{}", route.function);
        if !matches!(route.auth, Auth::None | Auth::Client) {
            assert!(operation["responses"]["401"].is_object(), "{}: 401 documented", route.function);
        }
    }
}

#[tokio::test]
async fn the_local_api_serves_it() {
    let app = spawn_app(TestOptions::default()).await;
    let response = reqwest::get(app.url(OPENAPI_PATH)).await.unwrap();
    assert_eq!(response.status(), 200);
    let written = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/openapi.json")).unwrap();
    assert_eq!(response.text().await.unwrap(), written);
}

/// A value of the wrong JSON type for `schema`.
fn wrong_value(schema: &Value) -> Value {
    let types: Vec<&str> = match &schema["type"] {
        Value::String(t) => vec![t.as_str()],
        Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
        _ => vec![],
    };
    if types.contains(&"string") || schema.get("const").is_some() { json!(12345) } else { json!("not of this type") }
}

/// Every documented body field is one the handler reads: each documented
/// field sent with the wrong type gets a field error of its own and no
/// `unknown_field`; an undocumented field is `unknown_field`; an empty body
/// reports exactly the documented required fields.
#[tokio::test]
async fn handlers_read_exactly_the_documented_bodies() {
    let api = common::Api::start(
        common::Backend::Memory,
        shared::domain::tenant::Policy {
            phone_required: false,
            sandbox_code: Some("123456".into()),
            ..Default::default()
        },
    )
    .await;
    let started = api
        .post(
            "/v1/registrations",
            json!({ "email": "doc@example.com", "password": "Str0ng!Pass", "first_name": "D", "last_name": "O",
                    "terms_accepted": true, "privacy_policy_accepted": true }),
            &[],
        )
        .await;
    let registration = started.body["registration_id"].as_str().unwrap().to_owned();
    let done =
        api.post(&format!("/v1/registrations/{registration}/email/verify"), json!({ "code": "123456" }), &[]).await;
    let access = format!("Bearer {}", done.body["access_token"].as_str().unwrap());
    let admin = format!("Bearer {}", api.app.admin_token);
    let doc = document();
    let mut checked = 0;
    for route in operations() {
        let operation = &doc["paths"][route.path][route.method.as_str().to_lowercase()];
        let Some(schema) = operation["requestBody"]["content"]["application/json"]["schema"].as_object() else {
            continue;
        };
        let path = route.path.replace("{id}", &registration);
        let mut headers = vec![("X-Device-ID", "doc-device")];
        match route.auth {
            Auth::Bearer => headers.push(("Authorization", access.as_str())),
            Auth::Admin => headers.push(("Authorization", admin.as_str())),
            _ => {}
        }
        let method = Method::from_bytes(route.method.as_str().as_bytes()).unwrap();
        // A body of alternative shapes (`oneOf`) documents the union of their fields.
        let shapes: Vec<&Value> = match schema.get("oneOf") {
            Some(Value::Array(ways)) => ways.iter().collect(),
            _ => vec![&operation["requestBody"]["content"]["application/json"]["schema"]],
        };
        let properties: serde_json::Map<String, Value> =
            shapes.iter().flat_map(|s| s["properties"].as_object().unwrap().clone()).collect();
        let properties = &properties;
        let fields = |answer: &common::Answer, code: Option<&str>| -> BTreeSet<String> {
            answer.body["errors"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|e| code.is_none_or(|c| e["code"] == c))
                .map(|e| e["field"].as_str().unwrap().to_owned())
                .collect()
        };
        for (name, field_schema) in properties {
            let body = json!({ name.as_str(): wrong_value(field_schema) });
            let answer = api.send(method.clone(), &path, Some(body), &headers).await;
            assert_eq!(answer.status, 422, "{} {name}: {}", route.function, answer.body);
            let errors = fields(&answer, None);
            assert!(errors.contains(name.as_str()), "{} {name}: {}", route.function, answer.body);
            assert!(fields(&answer, Some("unknown_field")).is_empty(), "{} {name}: {}", route.function, answer.body);
        }
        let unknown = api.send(method.clone(), &path, Some(json!({ "surely_not_a_field": true })), &headers).await;
        assert!(fields(&unknown, Some("unknown_field")).contains("surely_not_a_field"), "{}", route.function);
        let required: BTreeSet<String> = match shapes.as_slice() {
            [only] => only["required"].as_array().unwrap().iter().map(|r| r.as_str().unwrap().to_owned()).collect(),
            _ => BTreeSet::new(),
        };
        if !required.is_empty() {
            let empty = api.send(method, &path, Some(json!({})), &headers).await;
            assert_eq!(fields(&empty, Some("required")), required, "{}: {}", route.function, empty.body);
        }
        checked += 1;
    }
    assert!(checked >= 15, "only {checked} bodies checked");
}
