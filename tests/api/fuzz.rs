//! Property-based fuzzing of every route through the same parsing the
//! handlers use (`shared::http::handle`, as the local API and, per route,
//! the Lambda functions call it): hostile bodies, headers, paths and query
//! strings never produce a 5xx, a panic or a non-problem error (but for
//! the OpenID Provider's routes, whose errors are OAuth 2.0's or pages).
//!
//! 10,000 cases per route by default; `PROPTEST_CASES` overrides.

use std::sync::{Arc, OnceLock};

use lambda_http::Body;
use lambda_http::http::{Method, Request};
use proptest::prelude::*;
use serde_json::{Value, json};
use shared::app::App;
use shared::domain::tenant::{CodePolicy, Policy};
use shared::http::{ROUTES, Route, handle};
use shared::testing::{TestOptions, build_app};

struct World {
    runtime: tokio::runtime::Runtime,
    app: Arc<App>,
    api_key: String,
    admin_token: String,
}

fn world() -> &'static World {
    static WORLD: OnceLock<World> = OnceLock::new();
    WORLD.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        let (app, api_key, admin_token) = runtime.block_on(async {
            let policy = Policy {
                sandbox_code: Some("123456".into()),
                codes: CodePolicy { max_sends: 1_000_000, ..CodePolicy::default() },
                // Every method, so the code sign-in's handlers see the input.
                sign_in_methods: shared::domain::policy::SignInMethod::ALL.to_vec(),
                ..Policy::default()
            };
            let app = build_app(TestOptions { policy: policy.clone(), ..TestOptions::default() }).await.app;
            let tenant = shared::domain::tenant::Tenant { id: "fuzz".into(), name: "Fuzz".into(), policy };
            shared::local::seed_tenant(&app, &tenant, "sk_fuzz_key").await.unwrap();
            let admin = shared::local::seed_admin_token(&app, &tenant, None).await.unwrap();
            (app, "sk_fuzz_key".to_owned(), admin)
        });
        World { runtime, app, api_key, admin_token }
    })
}

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(10_000)
}

/// Field names the handlers know (every property of every request body in
/// the generated OpenAPI document, nested ones too), so generated objects
/// reach deep parsing. (Computed once: proptest rebuilds recursive
/// strategies for every case.)
fn fields() -> &'static [String] {
    static FIELDS: OnceLock<Vec<String>> = OnceLock::new();
    FIELDS.get_or_init(document_fields)
}

fn document_fields() -> Vec<String> {
    fn collect(schema: &Value, names: &mut std::collections::BTreeSet<String>) {
        if let Some(properties) = schema["properties"].as_object() {
            for (name, property) in properties {
                names.insert(name.clone());
                collect(property, names);
            }
        }
    }
    let doc = shared::http::openapi::document();
    let mut names = std::collections::BTreeSet::new();
    for item in doc["paths"].as_object().into_iter().flat_map(|paths| paths.values()) {
        for operation in item.as_object().into_iter().flat_map(|ops| ops.values()) {
            collect(&operation["requestBody"]["content"]["application/json"]["schema"], &mut names);
        }
    }
    assert!(names.len() > 30, "the document names the bodies' fields");
    names.into_iter().collect()
}

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(|f| json!(f)),
        ".{0,40}".prop_map(Value::String),
        prop_oneof![
            Just("anna@example.com"),
            Just("Str0ng!Pass"),
            Just("123456"),
            Just("+41791234567"),
            Just("email"),
            Just("sms"),
            Just("S"),
            Just("consumer"),
            Just("company_user"),
            Just("Europe/Zurich"),
            Just("1990-01-01"),
            Just("de"),
            Just("CH"),
            Just("reg_01a214ebb5f4742abc6ee99dd3ac47d9"),
        ]
        .prop_map(|s| Value::String(s.into())),
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((prop::sample::select(fields()), inner), 0..8)
                .prop_map(|pairs| Value::Object(pairs.into_iter().collect())),
        ]
    })
}

fn body() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        4 => prop::collection::vec((prop::sample::select(fields()), leaf()), 0..12)
            .prop_map(|pairs| Value::Object(pairs.into_iter().collect()).to_string().into_bytes()),
        2 => json_value().prop_map(|v| v.to_string().into_bytes()),
        1 => prop::collection::vec(any::<u8>(), 0..256),
        1 => Just(Vec::new()),
        1 => (0usize..3).prop_map(|n| vec![b'['; 35_000 * n + 200]),
    ]
}

fn path_segment() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z_0-9]{0,40}",
        Just("reg_01a214ebb5f4742abc6ee99dd3ac47d9".to_owned()),
        Just("usr_01a214ebb5f4742abc6ee99dd3ac47d9".to_owned()),
        Just("countries".to_owned()),
        Just("%00%ff%2F..".to_owned()),
        "[\\PC]{0,12}".prop_map(|s| s.chars().filter(|c| !c.is_whitespace() && !"?#/".contains(*c)).collect()),
    ]
}

fn header_value() -> impl Strategy<Value = String> {
    prop_oneof![Just(String::new()), "[ -~]{0,60}", Just("x".repeat(300))]
}

#[derive(Debug, Clone)]
struct Hostile {
    params: Vec<String>,
    query: String,
    body: Vec<u8>,
    api_key: u8,
    bearer: u8,
    content_type: u8,
    device: Option<String>,
    language: String,
    cookie: Option<String>,
}

fn hostile() -> impl Strategy<Value = Hostile> {
    (
        prop::collection::vec(path_segment(), 2),
        "[a-z=&%0-9]{0,30}",
        body(),
        0u8..3,
        0u8..4,
        0u8..5,
        prop::option::of(header_value()),
        header_value(),
        prop::option::of(header_value()),
    )
        .prop_map(|(params, query, body, api_key, bearer, content_type, device, language, cookie)| Hostile {
            params,
            query,
            body,
            api_key,
            bearer,
            content_type,
            device,
            language,
            cookie,
        })
}

fn request(route: &Route, h: &Hostile, w: &World) -> Request<Body> {
    let mut path = route.path.replace("{proxy+}", &format!("v1/registrations/{}", h.params[0]));
    for (i, name) in ["{id}", "{kind}", "{code}"].iter().enumerate() {
        path = path.replace(name, &h.params[i % 2]);
    }
    let uri = if h.query.is_empty() { path } else { format!("{path}?{}", h.query) };
    let mut builder = Request::builder().method(route.method.clone()).uri(uri.as_str());
    if builder.uri_ref().is_none() {
        builder = Request::builder().method(route.method.clone()).uri(route.path);
    }
    match h.api_key {
        0 => {}
        1 => builder = builder.header("X-API-Key", &w.api_key),
        _ => builder = builder.header("X-API-Key", "sk_wrong"),
    }
    match h.bearer {
        0 => {}
        1 => builder = builder.header("Authorization", format!("Bearer {}", w.admin_token)),
        2 => builder = builder.header("Authorization", "Bearer eyJhbGciOiJub25lIn0.e30."),
        _ => builder = builder.header("Authorization", "Basic Zm9vOmJhcg=="),
    }
    let content_type = [
        "application/json",
        "text/plain",
        "application/problem+json; charset=utf-8",
        "",
        "application/x-www-form-urlencoded",
    ][h.content_type as usize];
    if !content_type.is_empty() {
        builder = builder.header("Content-Type", content_type);
    }
    for (name, value) in [("X-Device-ID", &h.device), ("Cookie", &h.cookie)] {
        if let Some(value) = value {
            builder = builder.header(name, value.as_str());
        }
    }
    builder = builder.header("Accept-Language", h.language.as_str());
    let body = if h.body.is_empty() { Body::Empty } else { Body::Binary(h.body.clone()) };
    builder.body(body).unwrap_or_else(|_| Request::builder().method(Method::GET).uri("/").body(Body::Empty).unwrap())
}

fn check(route: &Route, h: &Hostile) -> Result<(), TestCaseError> {
    let w = world();
    let request = request(route, h, w);
    let response = w.runtime.block_on(handle(&w.app, request));
    let status = response.status().as_u16();
    prop_assert!(status < 500 || status == 503, "{} {} answered {status}", route.method, route.path);
    prop_assert!(status != 503, "{} {}: no dependency fails here", route.method, route.path);
    let html = response.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default();
    if html.starts_with("text/html") {
        // A hosted page (its errors too): a whole document, never framed.
        let Body::Text(text) = response.body() else {
            return Err(TestCaseError::fail(format!("{} {}: a page without a body", route.method, route.path)));
        };
        prop_assert!(text.starts_with("<!DOCTYPE html><html lang="), "{}", text);
        let csp = response.headers().get("content-security-policy").and_then(|v| v.to_str().ok()).unwrap_or_default();
        prop_assert!(csp.contains("frame-ancestors 'none'"), "{}", csp);
        return Ok(());
    }
    if status >= 400 {
        let Body::Text(text) = response.body() else {
            return Err(TestCaseError::fail(format!("{} {}: {status} without a body", route.method, route.path)));
        };
        let problem: Value = serde_json::from_str(text).map_err(|e| TestCaseError::fail(e.to_string()))?;
        if route.path.starts_with("/oauth2/") && problem.get("error").is_some() {
            // OAuth 2.0's errors (RFC 6749 §5.2), which its clients read.
            prop_assert!(matches!(status, 400 | 401), "{} {}: {status}", route.method, route.path);
            prop_assert!(problem["error"].is_string() && problem["error_description"].is_string());
            return Ok(());
        }
        prop_assert_eq!(problem["status"].as_u64(), Some(u64::from(status)));
        prop_assert!(problem["code"].is_string() && problem["title"].is_string());
    }
    Ok(())
}

macro_rules! fuzz_routes {
    ($($name:ident => $function:literal),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                let route = ROUTES.iter().find(|r| r.function == $function).expect("route");
                let config = ProptestConfig { cases: cases(), failure_persistence: None, ..ProptestConfig::default() };
                proptest!(config, |(h in hostile())| check(route, &h)?);
            }
        )*
        #[test]
        fn every_route_is_fuzzed() {
            let fuzzed = [$($function),*];
            for route in ROUTES {
                assert!(fuzzed.contains(&route.function), "{} is not fuzzed", route.function);
            }
        }
    };
}

fuzz_routes!(
    health => "health",
    jwks => "jwks",
    openid_configuration => "openid-configuration",
    preflight => "preflight",
    start_registration => "start-registration",
    get_registration => "get-registration",
    verify_registration_email => "verify-registration-email",
    add_registration_phone => "add-registration-phone",
    verify_registration_phone => "verify-registration-phone",
    resend_registration_code => "resend-registration-code",
    login => "login",
    verify_mfa => "verify-mfa",
    send_mfa_code => "send-mfa-code",
    send_sign_in_code => "send-sign-in-code",
    sign_in_with_code => "sign-in-with-code",
    complete_password_challenge => "complete-password-challenge",
    accept_legal_documents => "accept-legal-documents",
    put_reference => "put-reference",
    delete_reference => "delete-reference",
    refresh => "refresh",
    logout => "logout",
    logout_all => "logout-all",
    forgot_password => "forgot-password",
    reset_password => "reset-password",
    get_me => "get-me",
    update_me => "update-me",
    close_me => "close-me",
    add_credential => "add-credential",
    verify_credential => "verify-credential",
    change_password => "change-password",
    list_sessions => "list-sessions",
    delete_session => "delete-session",
    get_factors => "get-factors",
    export_me => "export-me",
    enroll_totp => "enroll-totp",
    confirm_totp => "confirm-totp",
    remove_totp => "remove-totp",
    regenerate_recovery_codes => "regenerate-recovery-codes",
    begin_passkey_registration => "begin-passkey-registration",
    finish_passkey_registration => "finish-passkey-registration",
    delete_passkey => "delete-passkey",
    passkey_sign_in_options => "passkey-sign-in-options",
    passkey_sign_in => "passkey-sign-in",
    federated_token => "federated-token",
    list_identities => "list-identities",
    link_identity => "link-identity",
    unlink_identity => "unlink-identity",
    authorize => "authorize",
    hosted_sign_in => "hosted-sign-in",
    create_user => "create-user",
    import_users => "import-users",
    list_users => "list-users",
    get_user => "get-user",
    update_user => "update-user",
    change_user_status => "change-user-status",
    unlock_user => "unlock-user",
    reset_user_password => "reset-user-password",
    revoke_user_sessions => "revoke-user-sessions",
    get_user_audit => "get-user-audit",
    list_reference => "list-reference",
    get_reference => "get-reference",
    oauth_token => "oauth-token",
    oauth_userinfo => "oauth-userinfo",
    oauth_revoke => "oauth-revoke",
    oauth_logout => "oauth-logout",
);
