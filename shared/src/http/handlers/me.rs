//! The signed-in user (SPEC §6): profile, closing the account, new
//! credentials, and the password.

use ::http::StatusCode;
use lambda_http::{Body, Response};
use serde_json::json;

use super::reply::{clear_cookie, json_response, message};
use crate::domain::FieldError;
use crate::domain::auth;
use crate::domain::me::{self, NewCredential, ProfileChanges};
use crate::domain::password::Password;
use crate::domain::values::{self, EmailAddress, Phone};
use crate::http::context::Ctx;
use crate::http::input::Fields;
use crate::http::problem::Problem;

fn profile_response(ctx: &Ctx<'_>, profile: &me::Profile, message_key: Option<&str>) -> Response<Body> {
    let mut body = serde_json::to_value(profile).unwrap_or_default();
    if let (Some(key), Some(object)) = (message_key, body.as_object_mut()) {
        object.insert("message".into(), message(ctx, key));
    }
    json_response(StatusCode::OK, body)
}

pub async fn get_me(ctx: &Ctx<'_>) -> Result<Response<Body>, Problem> {
    let principal = ctx.principal()?;
    let profile = me::profile(ctx.app, &principal.user_id).await?;
    Ok(profile_response(ctx, &profile, None))
}

pub async fn update_me(ctx: &Ctx<'_>) -> Result<Response<Body>, Problem> {
    let principal = ctx.principal()?;
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
    let principal = ctx.principal()?;
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
    let tenant = ctx.tenant()?;
    let principal = ctx.principal()?;
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
    let tenant = ctx.tenant()?;
    let principal = ctx.principal()?;
    let mut f = Fields::parse(ctx.body)?;
    let kind = read_kind(&mut f);
    let code = f.str("code");
    f.finish(&["type", "code"])?;
    let (Some(kind), Some(code)) = (kind, code) else {
        return Err(Problem::validation(vec![]));
    };
    // Codes of any configured length are checked by the domain.
    let mfa = me::verify_credential(ctx.app, tenant, &principal.user_id, Some(&principal.session), kind, &code).await?;
    Ok(json_response(StatusCode::OK, json!({ "mfa_enabled": mfa, "message": message(ctx, "credential_verified") })))
}

pub async fn change_password(ctx: &Ctx<'_>) -> Result<Response<Body>, Problem> {
    let tenant = ctx.tenant()?;
    let principal = ctx.principal()?;
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
