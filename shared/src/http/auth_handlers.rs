//! Handlers of SPEC §5 and §6: login, 2FA, refresh, logout, passwords and
//! the signed-in user.

use ::http::{HeaderValue, StatusCode};
use lambda_http::{Body, Response};
use serde_json::json;

use super::Ctx;
use super::handlers::{device_id, json_response, message, read_code, tenant, tokens_response};
use super::input::Fields;
use super::problem::Problem;
use crate::domain::auth::{self, LoginOutcome, Origin};
use crate::domain::me::{self, NewCredential, ProfileChanges};
use crate::domain::password::Password;
use crate::domain::values::{self, EmailAddress, Phone};
use crate::domain::{Error, FieldError};

/// `X-Device-ID` where a route requires it: 401 `invalid_device` if missing.
fn required_device<'a>(ctx: &'a Ctx<'_>) -> Result<&'a str, Problem> {
    match device_id(ctx) {
        Ok(Some(device)) => Ok(device),
        _ => Err(Error::InvalidDevice.into()),
    }
}

fn principal<'a>(ctx: &'a Ctx<'_>) -> Result<&'a super::Principal, Problem> {
    ctx.principal.as_ref().ok_or_else(|| Error::InvalidToken.into())
}

fn login_answer(ctx: &Ctx<'_>, outcome: LoginOutcome) -> Response<Body> {
    match outcome {
        LoginOutcome::Tokens(tokens) => tokens_response(ctx, &tokens, StatusCode::OK, "logged_in"),
        LoginOutcome::Mfa { challenge_id, channel } => json_response(
            StatusCode::OK,
            json!({
                "mfa_required": true, "challenge_id": challenge_id, "channel": channel,
            }),
        ),
        LoginOutcome::PasswordChange { challenge_id } => json_response(
            StatusCode::OK,
            json!({
                "password_change_required": true, "challenge_id": challenge_id,
            }),
        ),
    }
}

pub async fn login(ctx: &Ctx<'_>) -> Result<Response<Body>, Problem> {
    let tenant = tenant(ctx)?;
    let device = required_device(ctx)?;
    let mut f = Fields::parse(ctx.body)?;
    let username = f.str("username");
    let password = f.str("password");
    let device_token = f.opt_str("device_token");
    f.finish(&["username", "password", "device_token"])?;
    let (Some(username), Some(password)) = (username, password) else {
        return Err(Problem::validation(vec![]));
    };
    let device_token = device_token.or_else(|| cookie(ctx, super::handlers::DEVICE_COOKIE));
    let origin = Origin { ip: &ctx.client_ip, device_id: device, device_token: device_token.as_deref() };
    let outcome = auth::login(ctx.app, tenant, &username, &Password::new(password), origin).await?;
    Ok(login_answer(ctx, outcome))
}

pub async fn verify_mfa(ctx: &Ctx<'_>) -> Result<Response<Body>, Problem> {
    let tenant = tenant(ctx)?;
    let device = required_device(ctx)?;
    let mut f = Fields::parse(ctx.body)?;
    let challenge_id = f.str("challenge_id");
    let code = f.str("code");
    f.finish(&["challenge_id", "code"])?;
    let (Some(challenge_id), Some(code)) = (challenge_id, code) else {
        return Err(Problem::validation(vec![]));
    };
    let origin = Origin { ip: &ctx.client_ip, device_id: device, device_token: None };
    let tokens = auth::verify_mfa(ctx.app, tenant, &challenge_id, &code, origin).await?;
    Ok(tokens_response(ctx, &tokens, StatusCode::OK, "logged_in"))
}

pub async fn password_challenge(ctx: &Ctx<'_>) -> Result<Response<Body>, Problem> {
    let tenant = tenant(ctx)?;
    let device = required_device(ctx)?;
    let mut f = Fields::parse(ctx.body)?;
    let challenge_id = f.str("challenge_id");
    let new_password = f.str("new_password");
    if let Some(password) = &new_password {
        f.errors.extend(values::password_errors(&tenant.policy.password, "new_password", password, None));
    }
    f.finish(&["challenge_id", "new_password"])?;
    let (Some(challenge_id), Some(new_password)) = (challenge_id, new_password) else {
        return Err(Problem::validation(vec![]));
    };
    let outcome =
        auth::complete_password_challenge(ctx.app, tenant, &challenge_id, &Password::new(new_password), device).await?;
    Ok(login_answer(ctx, outcome))
}

/// The refresh token from the body (`refresh_token`) or the cookie.
fn refresh_token(ctx: &Ctx<'_>) -> Result<Option<String>, Problem> {
    if !ctx.body.is_empty() {
        let mut f = Fields::parse(ctx.body)?;
        let token = f.opt_str("refresh_token");
        f.finish(&["refresh_token"])?;
        if token.is_some() {
            return Ok(token);
        }
    }
    Ok(cookie(ctx, "refresh_token"))
}

/// The value of the request's cookie `wanted`.
fn cookie(ctx: &Ctx<'_>, wanted: &str) -> Option<String> {
    ctx.headers
        .get_all(::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == wanted)
        .map(|(_, value)| value.to_owned())
}

pub async fn refresh(ctx: &Ctx<'_>) -> Result<Response<Body>, Problem> {
    let tenant = tenant(ctx)?;
    let device = required_device(ctx)?;
    let token = refresh_token(ctx)?.ok_or(Error::InvalidToken)?;
    let tokens = auth::refresh(ctx.app, tenant, &token, device).await?;
    Ok(tokens_response(ctx, &tokens, StatusCode::OK, "token_refreshed"))
}

fn clear_cookie(ctx: &Ctx<'_>, mut response: Response<Body>) -> Response<Body> {
    let cookie = super::handlers::refresh_cookie(ctx, "", 0);
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().insert(::http::header::SET_COOKIE, value);
    }
    response
}

pub async fn logout(ctx: &Ctx<'_>) -> Result<Response<Body>, Problem> {
    let principal = principal(ctx)?;
    let device = required_device(ctx)?;
    if principal.session.device_id.as_deref().is_some_and(|bound| bound != device) {
        return Err(Error::InvalidDevice.into());
    }
    auth::logout(ctx.app, &principal.user_id, &principal.session_id).await?;
    Ok(clear_cookie(ctx, json_response(StatusCode::OK, json!({ "message": message(ctx, "logged_out") }))))
}

pub async fn logout_all(ctx: &Ctx<'_>) -> Result<Response<Body>, Problem> {
    let principal = principal(ctx)?;
    let count = auth::logout_all(ctx.app, &principal.user_id).await?;
    let body = json!({ "sessions_revoked": count, "message": message(ctx, "logged_out_everywhere") });
    Ok(clear_cookie(ctx, json_response(StatusCode::OK, body)))
}

fn read_email(f: &mut Fields) -> Option<EmailAddress> {
    let raw = f.str("email");
    f.check("email", raw, EmailAddress::parse)
}

pub async fn forgot_password(ctx: &Ctx<'_>) -> Result<Response<Body>, Problem> {
    let tenant = tenant(ctx)?;
    let mut f = Fields::parse(ctx.body)?;
    let email = read_email(&mut f);
    f.finish(&["email"])?;
    let email = email.ok_or_else(|| Problem::validation(vec![]))?;
    auth::forgot_password(ctx.app, tenant, &email, &ctx.client_ip).await?;
    Ok(json_response(StatusCode::ACCEPTED, json!({ "message": message(ctx, "reset_requested") })))
}

pub async fn reset_password(ctx: &Ctx<'_>) -> Result<Response<Body>, Problem> {
    let tenant = tenant(ctx)?;
    let mut f = Fields::parse(ctx.body)?;
    let email = read_email(&mut f);
    let code = f.str("code");
    let new_password = f.str("new_password");
    if let Some(password) = &new_password {
        f.errors.extend(values::password_errors(&tenant.policy.password, "new_password", password, email.as_ref()));
    }
    f.finish(&["email", "code", "new_password"])?;
    let (Some(email), Some(code), Some(new_password)) = (email, code, new_password) else {
        return Err(Problem::validation(vec![]));
    };
    auth::reset_password(ctx.app, tenant, &email, &code, &Password::new(new_password), &ctx.client_ip).await?;
    Ok(json_response(StatusCode::OK, json!({ "message": message(ctx, "password_reset") })))
}

fn profile_response(ctx: &Ctx<'_>, profile: &me::Profile, message_key: Option<&str>) -> Response<Body> {
    let mut body = serde_json::to_value(profile).unwrap_or_default();
    if let (Some(key), Some(object)) = (message_key, body.as_object_mut()) {
        object.insert("message".into(), message(ctx, key));
    }
    json_response(StatusCode::OK, body)
}

pub async fn get_me(ctx: &Ctx<'_>) -> Result<Response<Body>, Problem> {
    let principal = principal(ctx)?;
    let profile = me::profile(ctx.app, &principal.user_id).await?;
    Ok(profile_response(ctx, &profile, None))
}

pub async fn update_me(ctx: &Ctx<'_>) -> Result<Response<Body>, Problem> {
    let principal = principal(ctx)?;
    let mut f = Fields::parse(ctx.body)?;
    let today = ctx.app.clock.now().date_naive();
    let mut changes = ProfileChanges::default();
    for name in ["first_name", "last_name"] {
        if f.has(name) {
            let raw = f.str(name);
            let value = f.check(name, raw, values::parse_name);
            if name == "first_name" { changes.first_name = value } else { changes.last_name = value }
        } else if let Some(None) = f.nullable_str(name) {
            f.errors.push(FieldError::new(name, "required"));
        }
    }
    if f.has("preferred_language") {
        let raw = f.str("preferred_language");
        changes.language = f.check("preferred_language", raw, values::parse_language);
    } else if let Some(None) = f.nullable_str("preferred_language") {
        f.errors.push(FieldError::new("preferred_language", "required"));
    }
    if let Some(value) = f.nullable_str("gender") {
        changes.gender = Some(match value {
            Some(raw) => f.check("gender", Some(raw), values::parse_gender),
            None => None,
        });
    }
    if let Some(value) = f.nullable_str("birth_date") {
        changes.birth_date = Some(match value {
            Some(raw) => f.check("birth_date", Some(raw), |s| values::parse_birth_date(s, today)),
            None => None,
        });
    }
    if let Some(value) = f.nullable_str("time_zone") {
        changes.time_zone = Some(match value {
            Some(raw) => f.check("time_zone", Some(raw), values::parse_time_zone),
            None => None,
        });
    }
    f.finish(&["first_name", "last_name", "preferred_language", "gender", "birth_date", "time_zone"])?;
    let profile = me::update_profile(ctx.app, &principal.user_id, changes).await?;
    Ok(profile_response(ctx, &profile, Some("profile_updated")))
}

pub async fn close_me(ctx: &Ctx<'_>) -> Result<Response<Body>, Problem> {
    let principal = principal(ctx)?;
    let mut f = Fields::parse(ctx.body)?;
    let password = f.str("password");
    f.finish(&["password"])?;
    let password = password.ok_or_else(|| Problem::validation(vec![]))?;
    me::close_account(ctx.app, &principal.user_id, &Password::new(password)).await?;
    Ok(clear_cookie(ctx, json_response(StatusCode::OK, json!({ "message": message(ctx, "account_closed") }))))
}

fn read_kind(f: &mut Fields) -> Option<&'static str> {
    let raw = f.str("type");
    f.check("type", raw, |s| match s {
        "email" => Ok("email"),
        "phone" => Ok("phone"),
        _ => Err("invalid_choice"),
    })
}

pub async fn add_credential(ctx: &Ctx<'_>) -> Result<Response<Body>, Problem> {
    let tenant = tenant(ctx)?;
    let principal = principal(ctx)?;
    let mut f = Fields::parse(ctx.body)?;
    let kind = read_kind(&mut f);
    let raw = f.str("value");
    let credential = match kind {
        Some("email") => f.check("value", raw, EmailAddress::parse).map(NewCredential::Email),
        Some(_) => f.check("value", raw, Phone::parse).map(NewCredential::Phone),
        None => None,
    };
    let current = f.opt_str("current_password");
    f.finish(&["type", "value", "current_password"])?;
    let credential = credential.ok_or_else(|| Problem::validation(vec![]))?;
    let step_up = match current {
        Some(password) => me::StepUp::Password(Password::new(password)),
        None => me::StepUp::SignedInAt(principal.session.auth_time),
    };
    me::add_credential(ctx.app, tenant, &principal.user_id, credential, step_up).await?;
    Ok(json_response(StatusCode::ACCEPTED, json!({ "message": message(ctx, "credential_code_sent") })))
}

pub async fn verify_credential(ctx: &Ctx<'_>) -> Result<Response<Body>, Problem> {
    let tenant = tenant(ctx)?;
    let principal = principal(ctx)?;
    let mut f = Fields::parse(ctx.body)?;
    let kind = read_kind(&mut f);
    let code = f.str("code");
    f.finish(&["type", "code"])?;
    let (Some(kind), Some(code)) = (kind, code) else {
        return Err(Problem::validation(vec![]));
    };
    let _ = read_code; // codes of any configured length are checked by the domain
    let mfa = me::verify_credential(ctx.app, tenant, &principal.user_id, Some(&principal.session), kind, &code).await?;
    Ok(json_response(StatusCode::OK, json!({ "mfa_enabled": mfa, "message": message(ctx, "credential_verified") })))
}

pub async fn change_password(ctx: &Ctx<'_>) -> Result<Response<Body>, Problem> {
    let tenant = tenant(ctx)?;
    let principal = principal(ctx)?;
    let mut f = Fields::parse(ctx.body)?;
    let current = f.str("current_password");
    let new_password = f.str("new_password");
    if let Some(password) = &new_password {
        f.errors.extend(values::password_errors(&tenant.policy.password, "new_password", password, None));
    }
    f.finish(&["current_password", "new_password"])?;
    let (Some(current), Some(new_password)) = (current, new_password) else {
        return Err(Problem::validation(vec![]));
    };
    auth::change_password(ctx.app, tenant, &principal.session, &Password::new(current), &Password::new(new_password))
        .await?;
    Ok(json_response(StatusCode::OK, json!({ "message": message(ctx, "password_changed") })))
}
