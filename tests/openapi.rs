//! The OpenAPI 3.1 document (`docs/openapi.json`, written by
//! `scripts/gen-openapi.py`) agrees with the code: every route of the route
//! table and nothing else, the right security, every problem code of the
//! message catalogue; and the local API serves it at /v1/openapi.json.

use std::collections::BTreeSet;

use serde_json::Value;
use shared::http::{Auth, Endpoint, OPENAPI, OPENAPI_PATH, ROUTES, Route};
use shared::testing::{TestOptions, spawn_app};

/// The operations of the API: every route but the CORS preflight's
/// (`OPTIONS /{proxy+}`), which browsers send, not clients.
fn operations() -> impl Iterator<Item = &'static Route> {
    ROUTES.iter().filter(|r| r.endpoint != Endpoint::Preflight)
}

fn document() -> Value {
    serde_json::from_str(OPENAPI).expect("docs/openapi.json is JSON")
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
            Auth::None => BTreeSet::new(),
            Auth::ApiKey => ["ApiKey"].into(),
            Auth::Bearer | Auth::Admin => ["ApiKey", "Bearer"].into(),
        };
        assert_eq!(schemes, expected, "{}", route.function);
        if route.auth != Auth::None {
            assert!(operation["responses"]["401"].is_object(), "{}: 401 documented", route.function);
        }
    }
}

#[test]
fn every_problem_code_is_documented() {
    let doc = document();
    let documented: BTreeSet<String> = doc["components"]["schemas"]["Problem"]["properties"]["code"]["enum"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_owned())
        .collect();
    let catalogue: BTreeSet<String> = shared::i18n::SOURCES[0]
        .1
        .lines()
        .filter_map(|l| l.strip_prefix("problem-"))
        .filter_map(|l| l.split_once("-title").map(|(code, _)| code.to_owned()))
        .collect();
    assert_eq!(documented, catalogue);
}

#[tokio::test]
async fn the_local_api_serves_it() {
    let app = spawn_app(TestOptions::default()).await;
    let response = reqwest::get(app.url(OPENAPI_PATH)).await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.json::<Value>().await.unwrap(), document());
}
