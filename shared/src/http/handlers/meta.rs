//! The routes without a tenant: health, the JWKS, OpenID discovery, and
//! the CORS preflight.

use ::http::{HeaderValue, StatusCode};
use lambda_http::{Body, Response};
use serde_json::json;

use super::reply::json_response;
use crate::http::context::Ctx;
use crate::http::problem::Problem;
use crate::http::routes::routes_of;

/// The headers a browser may send (CORS).
pub const CORS_ALLOWED_HEADERS: &str =
    "Content-Type, Authorization, X-API-Key, X-Device-ID, Accept-Language, X-Request-ID";

pub async fn health(_ctx: &Ctx<'_>) -> Result<Response<Body>, Problem> {
    Ok(json_response(StatusCode::OK, json!({ "status": "ok" })))
}

pub async fn jwks(ctx: &Ctx<'_>) -> Result<Response<Body>, Problem> {
    Ok(public_document(json_response(StatusCode::OK, ctx.app.keys.current().jwks())))
}

/// OpenID Connect Discovery 1.0 metadata, so API Gateway's JWT authorizer
/// and OIDC libraries find the keys from the issuer alone. Registrar issues
/// its tokens through its own routes, not OAuth's authorization endpoint, so
/// only what key discovery needs is listed.
pub async fn openid_configuration(ctx: &Ctx<'_>) -> Result<Response<Body>, Problem> {
    let issuer = &ctx.app.settings.issuer;
    let base = issuer.trim_end_matches('/');
    let document = json!({
        "issuer": issuer,
        "jwks_uri": format!("{base}/.well-known/jwks.json"),
        "id_token_signing_alg_values_supported": ["RS256"],
        "response_types_supported": ["token"],
        "subject_types_supported": ["public"],
        "claims_supported": ["iss", "aud", "sub", "tid", "sid", "typ", "roles", "iat", "exp", "jti", "auth_time", "amr"],
    });
    Ok(public_document(json_response(StatusCode::OK, document)))
}

/// A public document (JWKS, discovery): cacheable, and readable by browser
/// OIDC libraries from any origin (it carries no credentials).
fn public_document(mut response: Response<Body>) -> Response<Body> {
    let headers = response.headers_mut();
    headers.insert("cache-control", HeaderValue::from_static("public, max-age=300"));
    headers.insert(::http::header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    response
}

/// Answers a CORS preflight, locally and as the deployed `preflight`
/// function (`OPTIONS /{proxy+}`). A preflight carries no API key, so it
/// cannot name its tenant: an origin that any tenant allows gets the CORS
/// headers for the path's methods; the actual answer then carries
/// `Access-Control-Allow-Origin` only for the caller's tenant's origins.
/// Any other origin gets no CORS headers, and the browser stops there.
pub async fn preflight(ctx: &Ctx<'_>) -> Result<Response<Body>, Problem> {
    let (app, origin) = (ctx.app, ctx.header("origin"));
    let Some((routes, _)) = routes_of(&format!("/{}", ctx.param("proxy"))) else {
        return Err(Problem::new(StatusCode::NOT_FOUND, "not_found"));
    };
    let mut response = Response::new(Body::Empty);
    *response.status_mut() = StatusCode::NO_CONTENT;
    response.headers_mut().insert(::http::header::VARY, HeaderValue::from_static("Origin"));
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
    let headers = response.headers_mut();
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
