//! Signing in and out (docs/api.md): login, 2FA, the password-change
//! challenge, refresh, logout, and the forgotten password.

use ::http::StatusCode;
use schemars::{JsonSchema, Schema};
use serde::Serialize;

use super::reply::{DEVICE_COOKIE, FactorName, Message, Reply, TokensAnswer, Yes, clear_cookie, message, tokens_reply};
use crate::domain::Error;
use crate::domain::auth::{self, LoginOutcome, Origin, PendingDocument};
use crate::domain::ids::{ChallengeId, RefreshToken};
use crate::domain::password::Password;
use crate::domain::policy::Factor;
use crate::domain::values;
use crate::domain::{passwords, sessions};
use crate::http::body::{
    Accepted, AsWrongCode, Challenge, Code, Cx, Email, FactorCode, FactorOf, NewPassword, NoChallenge, OneOf,
    Password as PasswordField, Refresh, Token, Username, check_confirmation,
};
use crate::http::context::Ctx;
use crate::http::input::Fields;
use crate::http::problem::Problem;

crate::body! {
    /// `POST /v1/auth/login`
    pub struct LoginBody {
        /// The e-mail address (or the phone, where the tenant allows it).
        username: required Username,
        password: required PasswordField,
        /// What an earlier sign-in on this device returned (also read from the
        /// `registrar_device` cookie): the device's own failure allowance.
        device_token: optional Token,
    }
}

crate::body! {
    /// `POST /v1/auth/mfa`
    pub struct MfaBody {
        /// A malformed one answers like a wrong code (`invalid_code`).
        challenge_id: required Challenge<AsWrongCode>,
        /// One of the login's `factors` that is answered with a code; by
        /// default the one a code was sent by, else `totp`.
        factor: optional FactorOf<CodeAnswers>,
        /// The code: sent by SMS or e-mail, shown by the app, or a recovery
        /// code (`xxxxx-xxxxx`).
        code: required FactorCode,
    }
}

/// The factors a login's challenge is answered with by a code.
pub struct CodeAnswers;

impl crate::http::body::Choice for CodeAnswers {
    const CHOICES: &'static [&'static str] = &["totp", "sms", "email", "recovery_code"];
}

crate::body! {
    /// `POST /v1/auth/mfa/send`: the login's second-factor code again.
    pub struct SendMfaCodeBody {
        challenge_id: required Challenge<NoChallenge>,
        /// The factor to send the code by, one of the login's `factors`:
        /// by default the one already sent (or the only one).
        factor: optional OneOf<CodeFactors>,
    }
}

/// The factors a code is sent by.
pub struct CodeFactors;

impl crate::http::body::Choice for CodeFactors {
    const CHOICES: &'static [&'static str] = &["sms", "email"];
}

crate::body! {
    /// `POST /v1/auth/code/send`: a passwordless sign-in code.
    pub struct SignInCodeSendBody {
        /// The e-mail address, the phone (E.164) or the username.
        username: required Username,
        /// Where the code goes: the verified address (`email`) or phone
        /// (`sms`); by default the kind of name given, else the tenant's
        /// other code method.
        channel: optional FactorOf<CodeFactors>,
    }
}

crate::body! {
    /// `POST /v1/auth/code`: signing in with the code sent.
    pub struct SignInCodeBody {
        /// The name the code was asked for.
        username: required Username,
        code: required Code,
        /// As for the login: the device's own failure allowance.
        device_token: optional Token,
    }
}

crate::body! {
    /// `POST /v1/auth/password/challenge`
    pub struct PasswordChallengeBody {
        challenge_id: required Challenge<NoChallenge>,
        new_password: required NewPassword,
        /// The new password typed again (optional); when given, it must be
        /// the same (`password_mismatch`).
        confirm_password: optional NewPassword,
    }
}

crate::body! {
    /// `POST /v1/auth/legal/accept`: the documents a login listed as
    /// pending, each accepted (`true`).
    pub struct LegalAcceptanceBody {
        challenge_id: required Challenge<NoChallenge>,
        /// The tenant's current terms (when the login listed `terms`).
        terms_accepted: optional Accepted,
        /// The tenant's current privacy policy (when the login listed `privacy`).
        privacy_policy_accepted: optional Accepted,
    }
}

crate::body! {
    /// `POST /v1/auth/refresh`: the token here or in the `refresh_token` cookie.
    pub struct RefreshBody {
        /// A malformed one is 401 `invalid_token`.
        refresh_token: optional Refresh,
    }
}

crate::body! {
    /// `POST /v1/auth/password/forgot`
    pub struct ForgotPasswordBody {
        email: required Email,
    }
}

crate::body! {
    /// `POST /v1/auth/password/reset`
    pub struct ResetPasswordBody {
        email: required Email,
        code: required Code,
        new_password: required NewPassword,
        /// The new password typed again (optional); when given, it must be
        /// the same (`password_mismatch`).
        confirm_password: optional NewPassword,
    }
}

/// What a first factor (or one of a login's challenges) answers: the
/// session's tokens, or the next challenge.
#[derive(Serialize, JsonSchema)]
#[serde(untagged)]
#[schemars(transform = one_of)]
pub enum LoginAnswer {
    Tokens(TokensAnswer),
    Mfa(MfaRequired),
    PasswordChange(PasswordChangeRequired),
    LegalAcceptance(LegalAcceptanceRequired),
}

/// The alternatives of an answer exclude each other (each requires a member
/// the others do not have).
fn one_of(schema: &mut Schema) {
    if let Some(ways) = schema.remove("anyOf") {
        schema.insert("oneOf".into(), ways);
    }
}

/// The second factor is asked for.
#[derive(Serialize, JsonSchema)]
pub struct MfaRequired {
    pub mfa_required: Yes,
    #[schemars(with = "String")]
    pub challenge_id: ChallengeId,
    /// The factors the user may answer with, strongest first.
    #[schemars(with = "Vec<FactorName>", length(min = 1))]
    pub factors: Vec<Factor>,
    /// The factor a code was sent by.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(extend("enum" = ["sms", "email"]))]
    pub channel: Option<&'static str>,
    /// Within the SMS cooldown: no code was sent; seconds until one may be.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub retry_after: Option<u64>,
}

/// A new password is required before the session.
#[derive(Serialize, JsonSchema)]
pub struct PasswordChangeRequired {
    pub password_change_required: Yes,
    #[schemars(with = "String")]
    pub challenge_id: ChallengeId,
}

/// Legal documents are to be accepted before the session.
#[derive(Serialize, JsonSchema)]
pub struct LegalAcceptanceRequired {
    pub legal_acceptance_required: Yes,
    #[schemars(with = "String")]
    pub challenge_id: ChallengeId,
    #[schemars(length(min = 1))]
    pub documents: Vec<PendingDocumentAnswer>,
}

/// A legal document and the version to accept.
#[derive(Serialize, JsonSchema)]
pub struct PendingDocumentAnswer {
    #[schemars(extend("enum" = ["terms", "privacy"]))]
    pub code: &'static str,
    pub version: String,
}

pub(crate) fn login_answer(ctx: &Ctx<'_>, outcome: LoginOutcome) -> Reply<LoginAnswer> {
    match outcome {
        LoginOutcome::Tokens(tokens) => tokens_reply(ctx, tokens, StatusCode::OK, "logged_in").map(LoginAnswer::Tokens),
        LoginOutcome::Mfa { challenge_id, factors, channel, retry_after } => {
            Reply::ok(LoginAnswer::Mfa(MfaRequired { mfa_required: Yes, challenge_id, factors, channel, retry_after }))
        }
        LoginOutcome::PasswordChange { challenge_id } => {
            Reply::ok(LoginAnswer::PasswordChange(PasswordChangeRequired {
                password_change_required: Yes,
                challenge_id,
            }))
        }
        LoginOutcome::LegalAcceptance { challenge_id, documents } => {
            let documents = documents
                .into_iter()
                .map(|PendingDocument { code, version }| PendingDocumentAnswer { code, version })
                .collect();
            Reply::ok(LoginAnswer::LegalAcceptance(LegalAcceptanceRequired {
                legal_acceptance_required: Yes,
                challenge_id,
                documents,
            }))
        }
    }
}

pub async fn login(ctx: &Ctx<'_>) -> Result<Reply<LoginAnswer>, Problem> {
    let tenant = ctx.tenant()?;
    let device = ctx.required_device()?;
    let LoginBody { username, password, device_token } = LoginBody::parse(ctx)?;
    let device_token = device_token.or_else(|| ctx.cookie(DEVICE_COOKIE));
    let origin = Origin { ip: &ctx.client_ip, device_id: device, device_token: device_token.as_deref() };
    let outcome = auth::login(ctx.app, tenant, &username, &Password::new(password), origin).await?;
    Ok(login_answer(ctx, outcome))
}

pub async fn send_sign_in_code(ctx: &Ctx<'_>) -> Result<Reply<Message>, Problem> {
    let tenant = ctx.tenant()?;
    let device = ctx.required_device()?;
    let SignInCodeSendBody { username, channel } = SignInCodeSendBody::parse(ctx)?;
    let origin = Origin { ip: &ctx.client_ip, device_id: device, device_token: None };
    auth::send_sign_in_code(ctx.app, tenant, &username, channel, origin).await?;
    Ok(Reply::accepted(Message::new(ctx, "sign_in_code_sent")))
}

pub async fn sign_in_with_code(ctx: &Ctx<'_>) -> Result<Reply<LoginAnswer>, Problem> {
    let tenant = ctx.tenant()?;
    let device = ctx.required_device()?;
    let SignInCodeBody { username, code, device_token } = SignInCodeBody::parse(ctx)?;
    let device_token = device_token.or_else(|| ctx.cookie(DEVICE_COOKIE));
    let origin = Origin { ip: &ctx.client_ip, device_id: device, device_token: device_token.as_deref() };
    let outcome = auth::sign_in_with_code(ctx.app, tenant, &username, &code, origin).await?;
    Ok(login_answer(ctx, outcome))
}

pub async fn verify_mfa(ctx: &Ctx<'_>) -> Result<Reply<LoginAnswer>, Problem> {
    let tenant = ctx.tenant()?;
    let device = ctx.required_device()?;
    let MfaBody { challenge_id, factor, code } = MfaBody::parse(ctx)?;
    // The device token (cookie) earns a trusted device app-code tries of its own.
    let device_token = ctx.cookie(DEVICE_COOKIE);
    let origin = Origin { ip: &ctx.client_ip, device_id: device, device_token: device_token.as_deref() };
    let outcome = auth::verify_mfa(ctx.app, tenant, &challenge_id, factor, &code, origin).await?;
    Ok(login_answer(ctx, outcome))
}

pub async fn send_mfa_code(ctx: &Ctx<'_>) -> Result<Reply<Message>, Problem> {
    let tenant = ctx.tenant()?;
    let device = ctx.required_device()?;
    let SendMfaCodeBody { challenge_id, factor } = SendMfaCodeBody::parse(ctx)?;
    auth::resend_mfa_code(ctx.app, tenant, &challenge_id, factor, device).await?;
    Ok(Reply::accepted(Message::new(ctx, "code_resent")))
}

pub async fn complete_password_challenge(ctx: &Ctx<'_>) -> Result<Reply<LoginAnswer>, Problem> {
    let tenant = ctx.tenant()?;
    let device = ctx.required_device()?;
    let mut f = Fields::parse(ctx.body)?;
    let read = PasswordChallengeBody::read(&mut f, &Cx::of(ctx));
    if let Some(password) = &read.new_password {
        f.errors.extend(values::password_errors(&tenant.policy.password, "new_password", password, None));
    }
    check_confirmation(&mut f, read.new_password.as_ref(), read.confirm_password.as_ref());
    let PasswordChallengeBody { challenge_id, new_password, .. } = PasswordChallengeBody::complete(f, read)?;
    let outcome =
        auth::complete_password_challenge(ctx.app, tenant, &challenge_id, &Password::new(new_password), device).await?;
    Ok(login_answer(ctx, outcome))
}

pub async fn accept_legal_documents(ctx: &Ctx<'_>) -> Result<Reply<LoginAnswer>, Problem> {
    let tenant = ctx.tenant()?;
    let device = ctx.required_device()?;
    let LegalAcceptanceBody { challenge_id, terms_accepted, privacy_policy_accepted } =
        LegalAcceptanceBody::parse(ctx)?;
    let accepted: Vec<&str> = [("terms", terms_accepted), ("privacy", privacy_policy_accepted)]
        .into_iter()
        .filter_map(|(code, yes)| (yes == Some(true)).then_some(code))
        .collect();
    let outcome = auth::accept_legal_documents(ctx.app, tenant, &challenge_id, &accepted, device).await?;
    Ok(login_answer(ctx, outcome))
}

/// The refresh token from the body (`refresh_token`) or the cookie.
fn refresh_token(ctx: &Ctx<'_>) -> Result<RefreshToken, Problem> {
    if !ctx.body.is_empty()
        && let Some(token) = RefreshBody::parse(ctx)?.refresh_token
    {
        return Ok(token);
    }
    let cookie = ctx.cookie("refresh_token");
    cookie.as_deref().and_then(RefreshToken::parse).ok_or_else(|| Error::InvalidToken.into())
}

pub async fn refresh(ctx: &Ctx<'_>) -> Result<Reply<TokensAnswer>, Problem> {
    let tenant = ctx.tenant()?;
    let device = ctx.required_device()?;
    let token = refresh_token(ctx)?;
    let tokens = sessions::refresh(ctx.app, tenant, &token, device).await?;
    Ok(tokens_reply(ctx, tokens, StatusCode::OK, "token_refreshed"))
}

pub async fn logout(ctx: &Ctx<'_>) -> Result<Reply<Message>, Problem> {
    let principal = ctx.principal()?;
    let device = ctx.required_device()?;
    if principal.session.device_id.as_deref().is_some_and(|bound| bound != device) {
        return Err(Error::InvalidDevice.into());
    }
    sessions::logout(ctx.app, &principal.user_id, &principal.session_id).await?;
    Ok(clear_cookie(ctx, Reply::ok(Message::new(ctx, "logged_out"))))
}

/// `POST /v1/auth/logout-all`: every session of the user ended.
#[derive(Serialize, JsonSchema)]
pub struct LoggedOutEverywhere {
    pub sessions_revoked: usize,
    pub message: String,
}

pub async fn logout_all(ctx: &Ctx<'_>) -> Result<Reply<LoggedOutEverywhere>, Problem> {
    let principal = ctx.principal()?;
    let sessions_revoked = sessions::logout_all(ctx.app, &principal.user_id).await?;
    let body = LoggedOutEverywhere { sessions_revoked, message: message(ctx, "logged_out_everywhere") };
    Ok(clear_cookie(ctx, Reply::ok(body)))
}

pub async fn forgot_password(ctx: &Ctx<'_>) -> Result<Reply<Message>, Problem> {
    let tenant = ctx.tenant()?;
    let email = ForgotPasswordBody::parse(ctx)?.email;
    passwords::forgot_password(ctx.app, tenant, &email, &ctx.client_ip).await?;
    Ok(Reply::accepted(Message::new(ctx, "reset_requested")))
}

pub async fn reset_password(ctx: &Ctx<'_>) -> Result<Reply<Message>, Problem> {
    let tenant = ctx.tenant()?;
    let mut f = Fields::parse(ctx.body)?;
    let read = ResetPasswordBody::read(&mut f, &Cx::of(ctx));
    if let Some(password) = &read.new_password {
        let email = read.email.as_ref();
        f.errors.extend(values::password_errors(&tenant.policy.password, "new_password", password, email));
    }
    check_confirmation(&mut f, read.new_password.as_ref(), read.confirm_password.as_ref());
    let ResetPasswordBody { email, code, new_password, .. } = ResetPasswordBody::complete(f, read)?;
    passwords::reset_password(ctx.app, tenant, &email, &code, &Password::new(new_password), &ctx.client_ip).await?;
    Ok(Reply::ok(Message::new(ctx, "password_reset")))
}
