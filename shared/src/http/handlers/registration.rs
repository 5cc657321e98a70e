//! Self-registration, step by step (SPEC §3).

use ::http::StatusCode;
use lambda_http::{Body, Response};
use serde_json::json;

use super::reply::{json_response, message, read_code, tokens_response};
use crate::domain::FieldError;
use crate::domain::password::Password;
use crate::domain::registration::{self, Channel, SignUp, Verified};
use crate::domain::user::Tokens;
use crate::domain::values::{self, EmailAddress, Phone};
use crate::http::context::Ctx;
use crate::http::input::Fields;
use crate::http::problem::Problem;

pub async fn start_registration(ctx: &Ctx<'_>) -> Result<Response<Body>, Problem> {
    let tenant = ctx.tenant()?;
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

pub async fn get_registration(ctx: &Ctx<'_>) -> Result<Response<Body>, Problem> {
    let status = registration::status(ctx.app, ctx.tenant()?, ctx.param("id")).await?;
    Ok(json_response(StatusCode::OK, serde_json::to_value(status).unwrap_or_default()))
}

pub async fn verify_registration_email(ctx: &Ctx<'_>) -> Result<Response<Body>, Problem> {
    let tenant = ctx.tenant()?;
    let code = read_code(ctx, tenant)?;
    let device = ctx.device_id()?;
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

pub async fn add_registration_phone(ctx: &Ctx<'_>) -> Result<Response<Body>, Problem> {
    let tenant = ctx.tenant()?;
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

pub async fn verify_registration_phone(ctx: &Ctx<'_>) -> Result<Response<Body>, Problem> {
    let tenant = ctx.tenant()?;
    let code = read_code(ctx, tenant)?;
    let device = ctx.device_id()?;
    let tokens = registration::verify_phone(ctx.app, tenant, ctx.param("id"), &code, device).await?;
    Ok(completed(ctx, tokens))
}

pub async fn resend_registration_code(ctx: &Ctx<'_>) -> Result<Response<Body>, Problem> {
    let tenant = ctx.tenant()?;
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

fn completed(ctx: &Ctx<'_>, tokens: Tokens) -> Response<Body> {
    tokens_response(ctx, &tokens, StatusCode::CREATED, "registration_complete")
}
