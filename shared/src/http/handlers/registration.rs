//! Self-registration, step by step (docs/sign-up.md).

use ::http::StatusCode;
use lambda_http::{Body, Response};
use serde_json::json;

use super::reply::{json_response, message, tokens_response};
use crate::domain::ids::RegistrationId;
use crate::domain::password::Password;
use crate::domain::registration::{self, Channel, SignUp, Verified};
use crate::domain::tenant::SignUpStart;
use crate::domain::user::Tokens;
use crate::domain::values::{self, Phone};
use crate::domain::{Error, FieldError, Step};
use crate::http::body::{
    Accepted, Choice, Cx, Email, NewPassword, NewUsername, OneOf, PersonalBody, PhoneBody, TenantCode,
    check_confirmation,
};
use crate::http::context::Ctx;
use crate::http::input::Fields;
use crate::http::problem::Problem;

crate::body! {
    /// `POST /v1/registrations`: the first step of a sign-up.
    pub struct StartRegistrationBody {
        /// Required, unless the tenant's sign-up starts with the phone and
        /// does not require an address.
        email: optional Email,
        /// Only where the tenant's sign-up starts with the phone (required
        /// there): E.164, or `phone_prefix` + `phone_number`.
        phone: flatten PhoneBody,
        password: required NewPassword,
        /// The password typed again (optional); when given, it must be
        /// the same (`password_mismatch`).
        confirm_password: optional NewPassword,
        /// For tenants with usernames (required where they require one;
        /// 409 `username_taken` when another user has it).
        username: optional NewUsername,
        details: flatten PersonalBody,
        terms_accepted: required Accepted,
        privacy_policy_accepted: required Accepted,
    }
}

pub async fn start_registration(ctx: &Ctx<'_>) -> Result<Response<Body>, Problem> {
    let tenant = ctx.tenant()?;
    let mut f = Fields::parse(ctx.body)?;
    let read = StartRegistrationBody::read(&mut f, &Cx::of(ctx));
    let body = &read;
    if let Some(password) = &body.password {
        f.errors.extend(values::password_errors(&tenant.policy.password, "password", password, body.email.as_ref()));
    }
    check_confirmation(&mut f, body.password.as_ref(), body.confirm_password.as_ref());
    let phone_given = ["phone", "phone_prefix", "phone_number"].map(|name| f.has(name));
    let phone = body.phone.phone(&mut f);
    let policy = &tenant.policy;
    if policy.sign_up_starts_with == SignUpStart::Phone {
        if phone.is_none() && !phone_given.contains(&true) {
            f.errors.push(FieldError::new("phone", "required"));
        }
        if body.email.is_none() && policy.email_required && !f.has("email") {
            f.errors.push(FieldError::new("email", "required"));
        }
    } else {
        if body.email.is_none() && !f.has("email") {
            f.errors.push(FieldError::new("email", "required"));
        }
        // The phone comes later (`/phone`), where the tenant asks for one
        // (a malformed one has its own error already).
        for (name, given) in ["phone", "phone_prefix", "phone_number"].into_iter().zip(phone_given) {
            if given && phone.is_some() {
                f.errors.push(FieldError::new(name, "unknown_field"));
            }
        }
    }
    let body = StartRegistrationBody::complete(f, read)?;
    let (password, details) = (body.password, body.details.details(ctx.lang));
    let sign_up = SignUp {
        email: body.email,
        phone,
        password: Password::new(password),
        details,
        partner_id: ctx.partner_id.clone(),
        username: body.username,
    };
    let started = registration::start(ctx.app, tenant, sign_up, &ctx.client_ip).await?;
    Ok(json_response(
        StatusCode::ACCEPTED,
        json!({
            "registration_id": started.registration_id,
            "next": started.next,
            "expires_at": started.expires_at,
            "message": message(ctx, if started.next == Step::VerifyPhone { "registration_started_phone" } else { "registration_started" }),
        }),
    ))
}

crate::body! {
    /// A one-time code of the tenant's length, as sent by e-mail or SMS.
    pub struct CodeBody {
        code: required TenantCode,
    }
}

/// The registration of the path (a malformed id is as unknown as any other).
fn registration_id(ctx: &Ctx<'_>) -> Result<RegistrationId, Problem> {
    RegistrationId::parse(ctx.param("id")).ok_or_else(|| Error::RegistrationNotFound.into())
}

/// Reads `{ "code": "123456" }`, checking its shape against the tenant.
fn read_code(ctx: &Ctx<'_>) -> Result<String, Problem> {
    Ok(CodeBody::parse(ctx)?.code)
}

pub async fn get_registration(ctx: &Ctx<'_>) -> Result<Response<Body>, Problem> {
    let status = registration::status(ctx.app, ctx.tenant()?, &registration_id(ctx)?).await?;
    Ok(json_response(StatusCode::OK, serde_json::to_value(status).unwrap_or_default()))
}

pub async fn verify_registration_email(ctx: &Ctx<'_>) -> Result<Response<Body>, Problem> {
    let tenant = ctx.tenant()?;
    let code = read_code(ctx)?;
    let device = ctx.device_id()?;
    match registration::verify_email(ctx.app, tenant, &registration_id(ctx)?, &code, device).await? {
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
    f.finish(PhoneBody::FIELDS)?;
    // A phone that could not be read recorded its error, answered above.
    let phone = phone.ok_or_else(|| Problem::validation(Vec::new()))?;
    let next = registration::add_phone(ctx.app, tenant, &registration_id(ctx)?, phone).await?;
    Ok(json_response(StatusCode::ACCEPTED, json!({ "next": next, "message": message(ctx, "phone_added") })))
}

pub async fn verify_registration_phone(ctx: &Ctx<'_>) -> Result<Response<Body>, Problem> {
    let tenant = ctx.tenant()?;
    let code = read_code(ctx)?;
    let device = ctx.device_id()?;
    match registration::verify_phone(ctx.app, tenant, &registration_id(ctx)?, &code, device).await? {
        Verified::Next(next) => Ok(json_response(
            StatusCode::OK,
            json!({
                "next": next,
                "message": message(ctx, "phone_verified"),
            }),
        )),
        Verified::Completed(tokens) => Ok(completed(ctx, tokens)),
    }
}

/// The channels a code can be resent on.
pub struct Channels;

impl Choice for Channels {
    const CHOICES: &'static [&'static str] = &["email", "sms"];
}

crate::body! {
    /// `POST /v1/registrations/{id}/resend`
    pub struct ResendBody {
        channel: required OneOf<Channels>,
    }
}

pub async fn resend_registration_code(ctx: &Ctx<'_>) -> Result<Response<Body>, Problem> {
    let tenant = ctx.tenant()?;
    let body = ResendBody::parse(ctx)?;
    let channel = if body.channel == "email" { Channel::Email } else { Channel::Sms };
    let next = registration::resend(ctx.app, tenant, &registration_id(ctx)?, channel).await?;
    Ok(json_response(StatusCode::ACCEPTED, json!({ "next": next, "message": message(ctx, "code_resent") })))
}

fn completed(ctx: &Ctx<'_>, tokens: Tokens) -> Response<Body> {
    tokens_response(ctx, &tokens, StatusCode::CREATED, "registration_complete")
}
