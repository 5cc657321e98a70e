//! The handlers: parse → call the domain → render. One per endpoint.

use ::http::{HeaderValue, StatusCode};
use lambda_http::{Body, Response};
use serde_json::{Value, json};

use super::input::Fields;
use super::problem::Problem;
use super::{Ctx, Endpoint, auth_handlers, users_handlers};
use crate::domain::FieldError;
use crate::domain::password::Password;
use crate::domain::registration::{self, Channel, SignUp, Verified};
use crate::domain::tenant::Tenant;
use crate::domain::user::Tokens;
use crate::domain::values::{self, EmailAddress, Phone};
use crate::i18n::text;

/// Calls the handler of `endpoint`.
pub async fn call(endpoint: Endpoint, ctx: &Ctx<'_>) -> Response<Body> {
    let result = match endpoint {
        Endpoint::Health => Ok(json_response(StatusCode::OK, json!({ "status": "ok" }))),
        Endpoint::Jwks => Ok(jwks(ctx)),
        Endpoint::OpenidConfiguration => Ok(openid_configuration(ctx)),
        Endpoint::Preflight => {
            super::preflight(ctx.app, &format!("/{}", ctx.param("proxy")), ctx.header("origin")).await
        }
        Endpoint::StartRegistration => start_registration(ctx).await,
        Endpoint::GetRegistration => get_registration(ctx).await,
        Endpoint::VerifyRegistrationEmail => verify_email(ctx).await,
        Endpoint::AddRegistrationPhone => add_phone(ctx).await,
        Endpoint::VerifyRegistrationPhone => verify_phone(ctx).await,
        Endpoint::ResendRegistrationCode => resend(ctx).await,
        Endpoint::Login => auth_handlers::login(ctx).await,
        Endpoint::VerifyMfa => auth_handlers::verify_mfa(ctx).await,
        Endpoint::CompletePasswordChallenge => auth_handlers::password_challenge(ctx).await,
        Endpoint::Refresh => auth_handlers::refresh(ctx).await,
        Endpoint::Logout => auth_handlers::logout(ctx).await,
        Endpoint::LogoutAll => auth_handlers::logout_all(ctx).await,
        Endpoint::ForgotPassword => auth_handlers::forgot_password(ctx).await,
        Endpoint::ResetPassword => auth_handlers::reset_password(ctx).await,
        Endpoint::GetMe => auth_handlers::get_me(ctx).await,
        Endpoint::UpdateMe => auth_handlers::update_me(ctx).await,
        Endpoint::CloseMe => auth_handlers::close_me(ctx).await,
        Endpoint::AddCredential => auth_handlers::add_credential(ctx).await,
        Endpoint::VerifyCredential => auth_handlers::verify_credential(ctx).await,
        Endpoint::ChangePassword => auth_handlers::change_password(ctx).await,
        Endpoint::CreateUser => users_handlers::create_user(ctx).await,
        Endpoint::GetUser => users_handlers::get_user(ctx).await,
        Endpoint::ChangeUserStatus => users_handlers::change_status(ctx).await,
        Endpoint::GetUserAudit => users_handlers::audit(ctx).await,
        Endpoint::ListReference => users_handlers::list_reference(ctx).await,
        Endpoint::GetReference => users_handlers::get_reference(ctx).await,
    };
    result.unwrap_or_else(|problem| problem.render(ctx.lang, &ctx.request_id))
}

/// A JSON response.
pub fn json_response(status: StatusCode, body: Value) -> Response<Body> {
    let mut response = Response::new(Body::Text(body.to_string()));
    *response.status_mut() = status;
    response.headers_mut().insert(::http::header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

pub(crate) fn tenant<'a>(ctx: &'a Ctx<'_>) -> Result<&'a Tenant, Problem> {
    // Routes with API-key auth always carry a tenant; this is defensive.
    ctx.tenant.as_ref().ok_or_else(|| Problem::new(StatusCode::UNAUTHORIZED, "unauthorized"))
}

pub(crate) fn message(ctx: &Ctx<'_>, key: &str) -> Value {
    Value::String(text(ctx.lang, &format!("message-{key}"), &[]))
}

fn jwks(ctx: &Ctx<'_>) -> Response<Body> {
    public_document(json_response(StatusCode::OK, ctx.app.keys.current().jwks()))
}

/// OpenID Connect Discovery 1.0 metadata, so API Gateway's JWT authorizer
/// and OIDC libraries find the keys from the issuer alone. Registrar issues
/// its tokens through its own routes, not OAuth's authorization endpoint, so
/// only what key discovery needs is listed.
fn openid_configuration(ctx: &Ctx<'_>) -> Response<Body> {
    let issuer = &ctx.app.settings.issuer;
    let base = issuer.trim_end_matches('/');
    let document = json!({
        "issuer": issuer,
        "jwks_uri": format!("{base}/.well-known/jwks.json"),
        "id_token_signing_alg_values_supported": ["RS256"],
        "response_types_supported": ["token"],
        "subject_types_supported": ["public"],
        "claims_supported": ["iss", "aud", "sub", "tid", "sid", "typ", "roles", "iat", "exp", "jti"],
    });
    public_document(json_response(StatusCode::OK, document))
}

/// A public document (JWKS, discovery): cacheable, and readable by browser
/// OIDC libraries from any origin (it carries no credentials).
fn public_document(mut response: Response<Body>) -> Response<Body> {
    let headers = response.headers_mut();
    headers.insert("cache-control", HeaderValue::from_static("public, max-age=300"));
    headers.insert(::http::header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    response
}

async fn start_registration(ctx: &Ctx<'_>) -> Result<Response<Body>, Problem> {
    let tenant = tenant(ctx)?;
    let mut f = Fields::parse(ctx.body)?;
    let email_raw = f.str("email");
    let email = f.check("email", email_raw, EmailAddress::parse);
    let password = f.str("password");
    let first_name_raw = f.str("first_name");
    let first_name = f.check("first_name", first_name_raw, values::parse_name);
    let last_name_raw = f.str("last_name");
    let last_name = f.check("last_name", last_name_raw, values::parse_name);
    let gender_raw = f.opt_str("gender");
    let gender = f.check("gender", gender_raw, values::parse_gender);
    let today = ctx.app.clock.now().date_naive();
    let birth_raw = f.opt_str("birth_date");
    let birth_date = f.check("birth_date", birth_raw, |s| values::parse_birth_date(s, today));
    let language_raw = f.opt_str("preferred_language");
    let language = f.check("preferred_language", language_raw, values::parse_language);
    let tz_raw = f.opt_str("time_zone");
    let time_zone = f.check("time_zone", tz_raw, values::parse_time_zone);
    for name in ["terms_accepted", "privacy_policy_accepted"] {
        if f.bool(name) == Some(false) {
            f.errors.push(FieldError::new(name, "must_accept"));
        }
    }
    if let Some(password) = &password {
        let broken = values::password_errors(&tenant.policy.password, "password", password, email.as_ref());
        f.errors.extend(broken);
    }
    f.finish(&[
        "email",
        "password",
        "first_name",
        "last_name",
        "gender",
        "birth_date",
        "preferred_language",
        "time_zone",
        "terms_accepted",
        "privacy_policy_accepted",
    ])?;
    let (Some(email), Some(password), Some(first_name), Some(last_name)) = (email, password, first_name, last_name)
    else {
        return Err(Problem::validation(vec![]));
    };
    let sign_up = SignUp {
        email,
        password: Password::new(password),
        first_name,
        last_name,
        gender,
        birth_date,
        language: language.unwrap_or_else(|| ctx.lang.to_owned()),
        time_zone,
        partner_id: ctx.partner_id.clone(),
    };
    let started = registration::start(ctx.app, tenant, sign_up, &ctx.client_ip).await?;
    Ok(json_response(
        StatusCode::ACCEPTED,
        json!({
            "registration_id": started.registration_id,
            "next": started.next,
            "expires_at": started.expires_at,
            "message": message(ctx, "registration_started"),
        }),
    ))
}

async fn get_registration(ctx: &Ctx<'_>) -> Result<Response<Body>, Problem> {
    let status = registration::status(ctx.app, tenant(ctx)?, ctx.param("id")).await?;
    Ok(json_response(StatusCode::OK, serde_json::to_value(status).unwrap_or_default()))
}

/// Reads `{ "code": "123456" }`, checking its shape against the tenant.
pub(crate) fn read_code(ctx: &Ctx<'_>, tenant: &Tenant) -> Result<String, Problem> {
    let mut f = Fields::parse(ctx.body)?;
    let code = f.str("code");
    let length = tenant.policy.sandbox_code.as_ref().map_or(tenant.policy.codes.length, String::len);
    if let Some(code) = &code
        && (code.len() != length || !code.bytes().all(|b| b.is_ascii_digit()))
    {
        f.errors.push(FieldError::new("code", "invalid_code_format").with("length", length as i64));
    }
    f.finish(&["code"])?;
    code.ok_or_else(|| Problem::validation(vec![]))
}

/// The optional `X-Device-ID` (1–128 visible ASCII characters).
pub(crate) fn device_id<'a>(ctx: &'a Ctx<'_>) -> Result<Option<&'a str>, Problem> {
    match ctx.headers.get("x-device-id") {
        None => Ok(None),
        Some(value) => match value.to_str() {
            Ok(v) if !v.is_empty() && v.len() <= 128 && v.bytes().all(|b| b.is_ascii_graphic()) => Ok(Some(v)),
            _ => Err(Problem::validation(vec![FieldError::new("X-Device-ID", "invalid_characters")])),
        },
    }
}

fn completed(ctx: &Ctx<'_>, tokens: Tokens) -> Response<Body> {
    tokens_response(ctx, &tokens, StatusCode::CREATED, "registration_complete")
}

/// The refresh cookie: HttpOnly, Secure, SameSite=Strict, for `/v1/auth`.
pub(crate) fn refresh_cookie(ctx: &Ctx<'_>, token: &str, max_age: i64) -> String {
    let secure = if ctx.app.settings.secure_cookies { "; Secure" } else { "" };
    format!("refresh_token={token}; Path=/v1/auth; Max-Age={max_age}; HttpOnly{secure}; SameSite=Strict")
}

/// The cookie that carries a device token (see `auth::device_token`).
pub(crate) const DEVICE_COOKIE: &str = "registrar_device";

/// A device token lives a year; only the login path reads it.
const DEVICE_COOKIE_SECS: i64 = 365 * 24 * 3600;

/// Tokens as the body, the refresh token also as the cookie (and a device
/// token, when the sign-in issued one).
pub(crate) fn tokens_response(ctx: &Ctx<'_>, tokens: &Tokens, status: StatusCode, message_key: &str) -> Response<Body> {
    let cookie = refresh_cookie(ctx, &tokens.refresh_token, tokens.refresh_expires_in);
    let mut body = serde_json::to_value(tokens).unwrap_or_default();
    if let Some(object) = body.as_object_mut() {
        object.insert("message".into(), message(ctx, message_key));
    }
    let mut response = json_response(status, body);
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().insert(::http::header::SET_COOKIE, value);
    }
    if let Some(token) = &tokens.device_token {
        let secure = if ctx.app.settings.secure_cookies { "; Secure" } else { "" };
        let device = format!(
            "{DEVICE_COOKIE}={token}; Path=/v1/auth/login; Max-Age={DEVICE_COOKIE_SECS}; HttpOnly{secure}; SameSite=Strict"
        );
        if let Ok(value) = HeaderValue::from_str(&device) {
            response.headers_mut().append(::http::header::SET_COOKIE, value);
        }
    }
    response
}

async fn verify_email(ctx: &Ctx<'_>) -> Result<Response<Body>, Problem> {
    let tenant = tenant(ctx)?;
    let code = read_code(ctx, tenant)?;
    let device = device_id(ctx)?;
    match registration::verify_email(ctx.app, tenant, ctx.param("id"), &code, device).await? {
        Verified::Next(next) => Ok(json_response(
            StatusCode::OK,
            json!({
                "next": next,
                "message": message(ctx, "email_verified"),
            }),
        )),
        Verified::Completed(tokens) => Ok(completed(ctx, tokens)),
    }
}

async fn add_phone(ctx: &Ctx<'_>) -> Result<Response<Body>, Problem> {
    let tenant = tenant(ctx)?;
    let mut f = Fields::parse(ctx.body)?;
    let phone = match (f.has("phone"), f.has("phone_prefix") || f.has("phone_number")) {
        (true, true) => {
            f.errors.push(FieldError::new("phone", "conflicting_fields"));
            None
        }
        (true, false) => {
            let raw = f.str("phone");
            f.check("phone", raw, Phone::parse)
        }
        (false, _) => {
            let prefix = f.str("phone_prefix");
            let number = f.str("phone_number");
            match (prefix, number) {
                (Some(prefix), Some(number)) => match Phone::from_parts(&prefix, &number) {
                    Ok(phone) => Some(phone),
                    Err(code) => {
                        let field = if code == "invalid_phone_prefix" { "phone_prefix" } else { "phone_number" };
                        f.errors.push(FieldError::new(field, code));
                        None
                    }
                },
                _ => None,
            }
        }
    };
    f.finish(&["phone", "phone_prefix", "phone_number"])?;
    let phone = phone.ok_or_else(|| Problem::validation(vec![]))?;
    let next = registration::add_phone(ctx.app, tenant, ctx.param("id"), phone).await?;
    Ok(json_response(StatusCode::ACCEPTED, json!({ "next": next, "message": message(ctx, "phone_added") })))
}

async fn verify_phone(ctx: &Ctx<'_>) -> Result<Response<Body>, Problem> {
    let tenant = tenant(ctx)?;
    let code = read_code(ctx, tenant)?;
    let device = device_id(ctx)?;
    let tokens = registration::verify_phone(ctx.app, tenant, ctx.param("id"), &code, device).await?;
    Ok(completed(ctx, tokens))
}

async fn resend(ctx: &Ctx<'_>) -> Result<Response<Body>, Problem> {
    let tenant = tenant(ctx)?;
    let mut f = Fields::parse(ctx.body)?;
    let raw = f.str("channel");
    let channel = f.check("channel", raw, |s| match s {
        "email" => Ok(Channel::Email),
        "sms" => Ok(Channel::Sms),
        _ => Err("invalid_choice"),
    });
    f.finish(&["channel"])?;
    let channel = channel.ok_or_else(|| Problem::validation(vec![]))?;
    let next = registration::resend(ctx.app, tenant, ctx.param("id"), channel).await?;
    Ok(json_response(StatusCode::ACCEPTED, json!({ "next": next, "message": message(ctx, "code_resent") })))
}
