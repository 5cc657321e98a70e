//! What handlers answer with: JSON, localized messages, token answers and
//! their cookies.

use ::http::{HeaderValue, StatusCode};
use cookie::{Cookie, SameSite};
use lambda_http::{Body, Response};
use serde_json::Value;

use crate::domain::user::Tokens;
use crate::http::context::Ctx;
use crate::i18n::text;

/// A JSON response.
pub fn json_response(status: StatusCode, body: Value) -> Response<Body> {
    let mut response = Response::new(Body::Text(body.to_string()));
    *response.status_mut() = status;
    response.headers_mut().insert(::http::header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

pub fn message(ctx: &Ctx<'_>, key: &str) -> Value {
    Value::String(text(ctx.lang, &format!("message-{key}"), &[]))
}

/// The cookie that carries a device token (see `auth::device_token`).
pub const DEVICE_COOKIE: &str = "registrar_device";

/// A device token lives a year. Its path is `/v1/auth`, like the refresh
/// cookie's: the login, the second factor's answer and the passkey sign-in
/// all read it.
const DEVICE_COOKIE_SECS: i64 = 365 * 24 * 3600;

/// An HttpOnly, SameSite=Strict cookie for `path` (Secure unless the local
/// run turned it off).
fn cookie_header(
    ctx: &Ctx<'_>,
    name: &'static str,
    value: &str,
    path: &'static str,
    max_age: i64,
) -> Option<HeaderValue> {
    let cookie = Cookie::build((name, value))
        .path(path)
        .max_age(cookie::time::Duration::seconds(max_age))
        .http_only(true)
        .secure(ctx.app.settings.secure_cookies)
        .same_site(SameSite::Strict)
        .build();
    HeaderValue::from_str(&cookie.to_string()).ok()
}

/// The refresh cookie: HttpOnly, Secure, SameSite=Strict, for `/v1/auth`.
pub fn refresh_cookie(ctx: &Ctx<'_>, token: &str, max_age: i64) -> Option<HeaderValue> {
    cookie_header(ctx, "refresh_token", token, "/v1/auth", max_age)
}

/// Tokens as the body, the refresh token also as the cookie (and a device
/// token, when the sign-in issued one).
pub fn tokens_response(ctx: &Ctx<'_>, tokens: &Tokens, status: StatusCode, message_key: &str) -> Response<Body> {
    let mut body = serde_json::to_value(tokens).unwrap_or_default();
    if let Some(object) = body.as_object_mut() {
        object.insert("message".into(), message(ctx, message_key));
    }
    let mut response = json_response(status, body);
    if let Some(value) = refresh_cookie(ctx, &tokens.refresh_token, tokens.refresh_expires_in) {
        response.headers_mut().insert(::http::header::SET_COOKIE, value);
    }
    if let Some(value) = tokens
        .device_token
        .as_deref()
        .and_then(|token| cookie_header(ctx, DEVICE_COOKIE, token, "/v1/auth", DEVICE_COOKIE_SECS))
    {
        response.headers_mut().append(::http::header::SET_COOKIE, value);
        // The cookie's path was `/v1/auth/login` once: a browser that kept
        // that one would send it first, a stale token beside the new one.
        if let Some(old) = cookie_header(ctx, DEVICE_COOKIE, "", "/v1/auth/login", 0) {
            response.headers_mut().append(::http::header::SET_COOKIE, old);
        }
    }
    response
}

/// Ends the refresh cookie.
pub fn clear_cookie(ctx: &Ctx<'_>, mut response: Response<Body>) -> Response<Body> {
    if let Some(value) = refresh_cookie(ctx, "", 0) {
        response.headers_mut().insert(::http::header::SET_COOKIE, value);
    }
    response
}
