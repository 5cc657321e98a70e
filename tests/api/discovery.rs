//! OpenID Connect discovery, checked against the JWT authorizer recipe of
//! docs/operations.md ("Verifying Registrar's tokens in your own APIs"),
//! the way API Gateway uses it: from the recipe's `issuer` it fetches
//! `<issuer>/.well-known/openid-configuration`, takes `jwks_uri`, and accepts
//! a token whose `iss` equals the issuer byte for byte and whose `aud` is
//! one of the recipe's audiences.

use base64::Engine;
use serde_json::{Value, json};
use shared::domain::tenant::{Policy, Tenant};
use shared::testing::{TestOptions, build_app};

/// The recipe's `issuer` and `audience` values, read from docs/operations.md.
fn recipe() -> (String, Vec<String>) {
    let operations = std::fs::read_to_string(format!("{}/docs/operations.md", env!("CARGO_MANIFEST_DIR")))
        .expect("docs/operations.md");
    let block = operations.split("JwtConfiguration:").nth(1).expect("docs/operations.md shows a JwtConfiguration");
    let value = |line: &str| line.split('#').next().unwrap_or_default().trim().to_owned();
    let mut lines = block.lines().map(str::trim);
    let issuer = lines.find_map(|l| l.strip_prefix("issuer:")).map(value).expect("an issuer");
    let audiences: Vec<String> = block
        .lines()
        .skip_while(|l| !l.trim().starts_with("audience:"))
        .skip(1)
        .map_while(|l| l.trim().strip_prefix("- ").map(value))
        .collect();
    assert!(!audiences.is_empty(), "the recipe names an audience");
    (issuer, audiences)
}

#[tokio::test]
async fn the_documented_authorizer_recipe_finds_and_accepts_registrars_tokens() {
    let (issuer, audiences) = recipe();
    assert!(issuer.starts_with("https://") && !issuer.ends_with('/'), "{issuer}");
    let policy = Policy { phone_required: false, sandbox_code: Some("135791".into()), ..Policy::default() };
    let app = build_app(TestOptions { policy: policy.clone(), ..TestOptions::default() }).await.app;
    let mut app = (*app).clone();
    app.settings.issuer = issuer.clone();
    let tenant = Tenant { id: "discovery".into(), name: "Discovery".into(), policy };
    shared::local::seed_tenant(&app, &tenant, "sk_discovery_key_0123456789").await.unwrap();
    let (addr, _server) =
        shared::http::server::spawn(std::sync::Arc::new(app), "127.0.0.1:0".parse().unwrap()).await.unwrap();
    // The issuer's host is this server: only the path is requested here.
    let local = |url: &str| format!("http://{addr}{}", url.strip_prefix(&issuer).expect("under the issuer"));
    let http = reqwest::Client::new();

    let answer = http.get(local(&format!("{issuer}/.well-known/openid-configuration"))).send().await.unwrap();
    assert_eq!(answer.status(), 200);
    assert_eq!(answer.headers()["cache-control"], "public, max-age=300");
    let discovery: Value = answer.json().await.unwrap();
    assert_eq!(discovery["issuer"], issuer.as_str(), "byte for byte");
    assert_eq!(discovery["jwks_uri"], format!("{issuer}/.well-known/jwks.json"));
    assert_eq!(discovery["id_token_signing_alg_values_supported"], json!(["RS256"]));
    assert!(!discovery["response_types_supported"].as_array().unwrap().is_empty());
    assert_eq!(discovery["subject_types_supported"], json!(["public"]));

    let post = |path: &str, body: Value| {
        http.post(format!("http://{addr}{path}")).header("X-API-Key", "sk_discovery_key_0123456789").json(&body).send()
    };
    let started: Value = post(
        "/v1/registrations",
        json!({ "email": "oidc@example.com", "password": "Str0ng!Pass", "first_name": "O", "last_name": "Idc",
                "terms_accepted": true, "privacy_policy_accepted": true }),
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let id = started["registration_id"].as_str().unwrap();
    let done: Value = post(&format!("/v1/registrations/{id}/email/verify"), json!({ "code": "135791" }))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = done["access_token"].as_str().expect("tokens");
    let payload = token.split('.').nth(1).unwrap();
    let claims: Value =
        serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
    assert_eq!(claims["iss"], issuer.as_str(), "the token's iss is the recipe's issuer");
    assert!(audiences.iter().any(|a| claims["aud"] == a.as_str()), "aud {} among {audiences:?}", claims["aud"]);

    let jwks: Value =
        http.get(local(discovery["jwks_uri"].as_str().unwrap())).send().await.unwrap().json().await.unwrap();
    let kid = jsonwebtoken::decode_header(token).unwrap().kid.unwrap();
    assert!(jwks["keys"].as_array().unwrap().iter().any(|k| k["kid"] == kid.as_str()), "the signing key is published");
}
