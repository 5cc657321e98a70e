//! Self-registration, step by step (docs/sign-up.md).

use ::http::StatusCode;
use chrono::{DateTime, Utc};
use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde::Serialize;

use super::reply::{Answer, Reply, TokensAnswer, enum_schema, message, tokens_reply};
use crate::domain::ids::RegistrationId;
use crate::domain::password::Password;
use crate::domain::registration::{self, Channel, RegistrationStatus, SignUp, Verified};
use crate::domain::tenant::{SignUpStart, Tenant};
use crate::domain::user::Tokens;
use crate::domain::values::{self, Phone, Username};
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

enum_schema!(
    /// A sign-up's step (`domain::Step`).
    StepName for Step: Step::VerifyEmail, Step::AddPhone, Step::VerifyPhone, Step::Done
);

/// `POST /v1/registrations`: the sign-up started, its first code sent.
#[derive(Serialize, JsonSchema)]
pub struct Started {
    #[schemars(regex(pattern = r"^reg_[0-9a-f]{32}$"))]
    pub registration_id: String,
    #[schemars(with = "StepName")]
    pub next: Step,
    pub expires_at: DateTime<Utc>,
    pub message: String,
}

/// Reads a sign-up's first step from `f`: the API's JSON body, or the
/// hosted sign-up page's form (`pages::signup`), with the same fields,
/// rules and errors (the tenant's password rules, its first credential,
/// usernames, the legal documents). `lang` is the language of the user's
/// messages when the body names none.
pub fn read_sign_up(
    mut f: Fields,
    tenant: &Tenant,
    cx: &Cx,
    lang: &str,
    partner_id: Option<String>,
) -> Result<SignUp, Problem> {
    let read = StartRegistrationBody::read(&mut f, cx);
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
    let (password, details) = (body.password, body.details.details(lang));
    Ok(SignUp {
        email: body.email,
        phone,
        password: Password::new(password),
        details,
        partner_id,
        username: body.username,
    })
}

pub async fn start_registration(ctx: &Ctx<'_>) -> Result<Reply<Started>, Problem> {
    let tenant = ctx.tenant()?;
    let f = Fields::parse(ctx.body)?;
    let sign_up = read_sign_up(f, tenant, &Cx::of(ctx), ctx.lang, ctx.partner_id.clone())?;
    let registration::Started { registration_id, next, expires_at } =
        registration::start(ctx.app, tenant, sign_up, &ctx.client_ip).await?;
    let key = if next == Step::VerifyPhone { "registration_started_phone" } else { "registration_started" };
    Ok(Reply::accepted(Started { registration_id, next, expires_at, message: message(ctx, key) }))
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

/// `GET /v1/registrations/{id}`: where a sign-up stands.
#[derive(Serialize, JsonSchema)]
pub struct RegistrationAnswer {
    pub registration_id: String,
    /// `null` for a sign-up that started with the phone and gave no address.
    pub email: Option<String>,
    pub email_verified: bool,
    pub phone_required: bool,
    /// Masked: all but the last two digits hidden.
    pub phone: Option<String>,
    pub phone_verified: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<String>")]
    pub username: Option<Username>,
    #[schemars(with = "StepName")]
    pub next: Step,
    /// Every step, in order: the e-mail's first, or the phone's for a
    /// sign-up that started with it.
    #[schemars(with = "Vec<StepName>")]
    pub steps: Vec<Step>,
    pub completed: bool,
    pub expires_at: DateTime<Utc>,
}

impl From<RegistrationStatus> for RegistrationAnswer {
    fn from(status: RegistrationStatus) -> Self {
        let RegistrationStatus {
            registration_id,
            email,
            email_verified,
            phone_required,
            phone,
            phone_verified,
            username,
            next,
            steps,
            completed,
            expires_at,
        } = status;
        Self {
            registration_id,
            email,
            email_verified,
            phone_required,
            phone,
            phone_verified,
            username,
            next,
            steps,
            completed,
            expires_at,
        }
    }
}

pub async fn get_registration(ctx: &Ctx<'_>) -> Result<Reply<RegistrationAnswer>, Problem> {
    let status = registration::status(ctx.app, ctx.tenant()?, &registration_id(ctx)?).await?;
    Ok(Reply::ok(status.into()))
}

/// The sign-up's next step.
#[derive(Serialize, JsonSchema)]
pub struct StepAnswer {
    #[schemars(with = "StepName")]
    pub next: Step,
    pub message: String,
}

impl StepAnswer {
    fn new(ctx: &Ctx<'_>, next: Step, key: &str) -> Self {
        Self { next, message: message(ctx, key) }
    }
}

/// A verified code's answer: the next step (200), or the completed
/// sign-up's session (201).
#[derive(Serialize)]
#[serde(untagged)]
pub enum VerifiedAnswer {
    Next(StepAnswer),
    Completed(TokensAnswer),
}

impl Answer for VerifiedAnswer {
    fn schema(status: u16, generator: &mut SchemaGenerator) -> Schema {
        match status {
            201 => generator.subschema_for::<TokensAnswer>(),
            _ => generator.subschema_for::<StepAnswer>(),
        }
    }
}

/// The answer to a verified code (`key`: the message of a next step).
fn verified(ctx: &Ctx<'_>, verified: Verified, key: &str) -> Reply<VerifiedAnswer> {
    match verified {
        Verified::Next(next) => Reply::ok(VerifiedAnswer::Next(StepAnswer::new(ctx, next, key))),
        Verified::Completed(tokens) => completed(ctx, tokens).map(VerifiedAnswer::Completed),
    }
}

pub async fn verify_registration_email(ctx: &Ctx<'_>) -> Result<Reply<VerifiedAnswer>, Problem> {
    let tenant = ctx.tenant()?;
    let code = read_code(ctx)?;
    let device = ctx.device_id()?;
    let outcome = registration::verify_email(ctx.app, tenant, &registration_id(ctx)?, &code, device).await?;
    Ok(verified(ctx, outcome, "email_verified"))
}

/// Reads the phone of `/phone` from `f`: the API's JSON body, or the
/// hosted sign-up page's form (required, either way of `PhoneBody`).
pub fn read_phone(mut f: Fields, cx: &Cx) -> Result<Phone, Problem> {
    let read = PhoneBody::read(&mut f, cx);
    let phone = read.phone(&mut f);
    if phone.is_none() && !["phone", "phone_prefix", "phone_number"].into_iter().any(|name| f.has(name)) {
        f.errors.push(FieldError::new("phone", "required"));
    }
    let (_, phone) = PhoneBody::complete_with(f, read, phone)?;
    Ok(phone)
}

pub async fn add_registration_phone(ctx: &Ctx<'_>) -> Result<Reply<StepAnswer>, Problem> {
    let tenant = ctx.tenant()?;
    let phone = read_phone(Fields::parse(ctx.body)?, &Cx::of(ctx))?;
    let next = registration::add_phone(ctx.app, tenant, &registration_id(ctx)?, phone).await?;
    Ok(Reply::accepted(StepAnswer::new(ctx, next, "phone_added")))
}

pub async fn verify_registration_phone(ctx: &Ctx<'_>) -> Result<Reply<VerifiedAnswer>, Problem> {
    let tenant = ctx.tenant()?;
    let code = read_code(ctx)?;
    let device = ctx.device_id()?;
    let outcome = registration::verify_phone(ctx.app, tenant, &registration_id(ctx)?, &code, device).await?;
    Ok(verified(ctx, outcome, "phone_verified"))
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

pub async fn resend_registration_code(ctx: &Ctx<'_>) -> Result<Reply<StepAnswer>, Problem> {
    let tenant = ctx.tenant()?;
    let body = ResendBody::parse(ctx)?;
    let channel = if body.channel == "email" { Channel::Email } else { Channel::Sms };
    let next = registration::resend(ctx.app, tenant, &registration_id(ctx)?, channel).await?;
    Ok(Reply::accepted(StepAnswer::new(ctx, next, "code_resent")))
}

fn completed(ctx: &Ctx<'_>, tokens: Tokens) -> Reply<TokensAnswer> {
    tokens_reply(ctx, tokens, StatusCode::CREATED, "registration_complete")
}
