//! The routes without a tenant: health, the JWKS, OpenID discovery, and
//! the CORS preflight.

use ::http::{HeaderValue, StatusCode};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::reply::{Answer, Reply};
use crate::http::context::Ctx;
use crate::http::problem::Problem;
use crate::http::routes::routes_of;

/// The headers a browser may send (CORS).
pub const CORS_ALLOWED_HEADERS: &str =
    "Content-Type, Authorization, X-API-Key, X-Device-ID, Accept-Language, X-Request-ID";

/// `GET /v1/health`.
#[derive(Serialize, JsonSchema)]
pub struct Health {
    /// `ok`.
    pub status: &'static str,
}

pub async fn health(_ctx: &Ctx<'_>) -> Result<Reply<Health>, Problem> {
    Ok(Reply::ok(Health { status: "ok" }))
}

/// The JSON Web Key Set: the public keys that verify access tokens.
#[derive(Serialize, Deserialize, JsonSchema)]
pub struct Jwks {
    pub keys: Vec<Jwk>,
}

/// One RSA signing key (RFC 7517, 7518).
#[derive(Serialize, Deserialize, JsonSchema)]
pub struct Jwk {
    #[schemars(extend("enum" = ["RSA"]))]
    pub kty: String,
    #[schemars(extend("enum" = ["RS256"]))]
    pub alg: String,
    #[serde(rename = "use", default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("enum" = ["sig"]))]
    pub key_use: Option<String>,
    pub kid: String,
    /// The modulus, base64url.
    pub n: String,
    /// The exponent, base64url.
    pub e: String,
}

pub async fn jwks(ctx: &Ctx<'_>) -> Result<Reply<Jwks>, Problem> {
    // The key set as `jsonwebtoken` writes it, read into the documented shape.
    let keys = serde_json::from_value(ctx.app.keys.current().jwks()).map_err(|e| {
        Problem::from(crate::domain::Error::Unavailable { reason: format!("JWKS: {e}"), registration_id: None })
    })?;
    Ok(public_document(Reply::ok(keys)))
}

/// OpenID Connect Discovery 1.0 metadata.
#[derive(Serialize, JsonSchema)]
pub struct OpenidConfiguration {
    pub issuer: String,
    /// The hosted sign-in (`{issuer}/oauth2/authorize`).
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    pub userinfo_endpoint: String,
    pub revocation_endpoint: String,
    pub end_session_endpoint: String,
    pub jwks_uri: String,
    pub scopes_supported: [&'static str; 5],
    pub response_types_supported: [&'static str; 1],
    pub response_modes_supported: [&'static str; 1],
    pub grant_types_supported: [&'static str; 2],
    pub code_challenge_methods_supported: [&'static str; 1],
    pub token_endpoint_auth_methods_supported: [&'static str; 2],
    pub revocation_endpoint_auth_methods_supported: [&'static str; 2],
    #[schemars(extend("items" = { "const": "RS256" }))]
    pub id_token_signing_alg_values_supported: [&'static str; 1],
    pub subject_types_supported: [&'static str; 1],
    pub claims_supported: &'static [&'static str],
    pub ui_locales_supported: [&'static str; 4],
}

/// OpenID Connect Discovery 1.0 metadata: the OpenID Provider's endpoints
/// (docs/openid.md), and the keys, so API Gateway's JWT authorizer and OIDC
/// libraries find them from the issuer alone.
pub async fn openid_configuration(ctx: &Ctx<'_>) -> Result<Reply<OpenidConfiguration>, Problem> {
    let issuer = ctx.app.settings.issuer.clone();
    let base = issuer.trim_end_matches('/').to_owned();
    let at = |path: &str| format!("{base}{path}");
    Ok(public_document(Reply::ok(OpenidConfiguration {
        authorization_endpoint: at("/oauth2/authorize"),
        token_endpoint: at("/oauth2/token"),
        userinfo_endpoint: at("/oauth2/userinfo"),
        revocation_endpoint: at("/oauth2/revoke"),
        end_session_endpoint: at("/oauth2/logout"),
        jwks_uri: at("/.well-known/jwks.json"),
        issuer,
        scopes_supported: crate::domain::oauth::SCOPES,
        response_types_supported: ["code"],
        response_modes_supported: ["query"],
        grant_types_supported: ["authorization_code", "refresh_token"],
        code_challenge_methods_supported: ["S256"],
        token_endpoint_auth_methods_supported: ["none", "client_secret_basic"],
        revocation_endpoint_auth_methods_supported: ["none", "client_secret_basic"],
        id_token_signing_alg_values_supported: ["RS256"],
        subject_types_supported: ["public"],
        claims_supported: &[
            "iss",
            "sub",
            "aud",
            "exp",
            "iat",
            "auth_time",
            "nonce",
            "amr",
            "at_hash",
            "sid",
            "email",
            "email_verified",
            "name",
            "given_name",
            "family_name",
            "locale",
            "zoneinfo",
            "updated_at",
            "phone_number",
            "phone_number_verified",
            "tid",
            "typ",
            "roles",
            "jti",
        ],
        ui_locales_supported: ["en", "de", "fr", "it"],
    })))
}

/// A public document (JWKS, discovery): cacheable, and readable by browser
/// OIDC libraries from any origin (it carries no credentials).
fn public_document<T: Answer>(reply: Reply<T>) -> Reply<T> {
    reply
        .header(::http::header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=300"))
        .header(::http::header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"))
}

/// Answers a CORS preflight, locally and as the deployed `preflight`
/// function (`OPTIONS /{proxy+}`). A preflight carries no API key, so it
/// cannot name its tenant: an origin that any tenant allows gets the CORS
/// headers for the path's methods; the actual answer then carries
/// `Access-Control-Allow-Origin` only for the caller's tenant's origins.
/// Any other origin gets no CORS headers, and the browser stops there.
pub async fn preflight(ctx: &Ctx<'_>) -> Result<Reply<NoContent>, Problem> {
    let (app, origin) = (ctx.app, ctx.header("origin"));
    let Some((routes, _)) = routes_of(&format!("/{}", ctx.param("proxy"))) else {
        return Err(Problem::new(StatusCode::NOT_FOUND, "not_found"));
    };
    let mut response = Reply::new(StatusCode::NO_CONTENT, NoContent);
    response.headers.insert(::http::header::VARY, HeaderValue::from_static("Origin"));
    // Only a well-formed origin can be one a tenant allows: anything else
    // is answered without reading the tenants' list.
    let Some(origin) = origin.filter(|o| crate::domain::tenant::parse_origin(o).as_deref() == Some(*o)) else {
        return Ok(response);
    };
    let now = app.clock.now().timestamp();
    let allowed = app
        .cors_origins
        .origins(app.store.as_ref(), now, app.settings.api_key_cache_secs)
        .await
        .map_err(|e| Problem::from(crate::domain::Error::from(e)))?;
    if !allowed.contains(origin) {
        return Ok(response);
    }
    let methods: Vec<&str> = routes.iter().map(|r| r.method.as_str()).collect();
    let headers = &mut response.headers;
    if let Ok(value) = HeaderValue::from_str(origin) {
        headers.insert(::http::header::ACCESS_CONTROL_ALLOW_ORIGIN, value);
    }
    if let Ok(value) = HeaderValue::from_str(&methods.join(", ")) {
        headers.insert(::http::header::ACCESS_CONTROL_ALLOW_METHODS, value);
    }
    headers.insert(::http::header::ACCESS_CONTROL_ALLOW_HEADERS, HeaderValue::from_static(CORS_ALLOWED_HEADERS));
    headers.insert(::http::header::ACCESS_CONTROL_ALLOW_CREDENTIALS, HeaderValue::from_static("true"));
    headers.insert(::http::header::ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static("600"));
    Ok(response)
}

/// No body (a 204).
#[derive(Serialize, JsonSchema)]
pub struct NoContent;
