//! Second factors (docs/second-factors.md): the signed-in user's
//! authenticator app, recovery codes and passkeys, and signing in with a
//! passkey.

use ::http::StatusCode;
use lambda_http::{Body, Response};
use serde_json::json;

use super::reply::{json_response, message};
use crate::domain::auth::{self, Origin};
use crate::domain::factors;
use crate::domain::ids::ChallengeId;
use crate::domain::me::StepUp;
use crate::domain::passkeys;
use crate::domain::password::{CurrentPassword, Password};
use crate::http::body::{Code, Cx, Id, PasskeyName, Password as PasswordField, WebAuthnCredential};
use crate::http::context::Ctx;
use crate::http::input::Fields;
use crate::http::problem::Problem;

crate::body! {
    /// `POST /v1/me/factors/totp`, `DELETE /v1/me/factors/totp` and
    /// `POST /v1/me/factors/recovery-codes`: the step-up.
    pub struct StepUpBody {
        current_password: required PasswordField,
    }
}

crate::body! {
    /// `POST /v1/me/factors/totp/confirm`: the app's current code.
    pub struct ConfirmTotpBody {
        code: required Code,
    }
}

/// The current password a step-up body holds, from the caller's session.
fn step_up(ctx: &Ctx<'_>) -> Result<CurrentPassword, Problem> {
    let session_id = ctx.principal()?.session_id.clone();
    let password = Password::new(StepUpBody::parse(ctx)?.current_password);
    Ok(CurrentPassword { password, session_id })
}

pub async fn get_factors(ctx: &Ctx<'_>) -> Result<Response<Body>, Problem> {
    let tenant = ctx.tenant()?;
    let principal = ctx.principal()?;
    let view = crate::domain::factor_list::factors(ctx.app, tenant, &principal.user_id).await?;
    Ok(json_response(StatusCode::OK, serde_json::to_value(view).unwrap_or_default()))
}

pub async fn enroll_totp(ctx: &Ctx<'_>) -> Result<Response<Body>, Problem> {
    let tenant = ctx.tenant()?;
    let principal = ctx.principal()?;
    let password = step_up(ctx)?;
    let enrollment = factors::enroll_totp(ctx.app, tenant, &principal.user_id, &password).await?;
    let mut body = serde_json::to_value(enrollment).unwrap_or_default();
    body["message"] = message(ctx, "totp_enrolled");
    Ok(json_response(StatusCode::CREATED, body))
}

pub async fn confirm_totp(ctx: &Ctx<'_>) -> Result<Response<Body>, Problem> {
    let tenant = ctx.tenant()?;
    let principal = ctx.principal()?;
    let code = ConfirmTotpBody::parse(ctx)?.code;
    let codes = factors::confirm_totp(ctx.app, tenant, &principal.user_id, &code).await?;
    let key = if codes.is_some() { "recovery_codes_created" } else { "totp_enabled" };
    Ok(json_response(
        StatusCode::OK,
        json!({ "totp": "enabled", "recovery_codes": codes, "message": message(ctx, key) }),
    ))
}

pub async fn remove_totp(ctx: &Ctx<'_>) -> Result<Response<Body>, Problem> {
    let principal = ctx.principal()?;
    let password = step_up(ctx)?;
    factors::remove_totp(ctx.app, &principal.user_id, &password).await?;
    Ok(json_response(StatusCode::OK, json!({ "message": message(ctx, "totp_removed") })))
}

pub async fn regenerate_recovery_codes(ctx: &Ctx<'_>) -> Result<Response<Body>, Problem> {
    let principal = ctx.principal()?;
    let password = step_up(ctx)?;
    let codes = factors::regenerate_recovery_codes(ctx.app, &principal.user_id, &password).await?;
    Ok(json_response(
        StatusCode::OK,
        json!({ "recovery_codes": codes, "message": message(ctx, "recovery_codes_created") }),
    ))
}

crate::body! {
    /// `POST /v1/me/passkeys`: the browser's new credential for the ceremony.
    pub struct RegisterPasskeyBody {
        ceremony_id: required Id,
        /// `PublicKeyCredential.toJSON()` of `navigator.credentials.create()`.
        credential: required WebAuthnCredential,
        /// What the owner calls it (`Laptop`); `Passkey` when absent.
        name: optional PasskeyName,
    }
}

crate::body! {
    /// `POST /v1/auth/passkey/options`: no `challenge_id` for a sign-in with
    /// a passkey alone; a login's `challenge_id` to answer its 2FA with one.
    pub struct SignInOptionsBody {
        challenge_id: optional Id,
    }
}

crate::body! {
    /// `POST /v1/auth/passkey`: the browser's assertion for the ceremony.
    pub struct PasskeySignInBody {
        ceremony_id: required Id,
        /// `PublicKeyCredential.toJSON()` of `navigator.credentials.get()`.
        credential: required WebAuthnCredential,
    }
}

/// A body that may be absent (`{}` then).
fn fields(ctx: &Ctx<'_>) -> Result<Fields, Problem> {
    Fields::parse(if ctx.body.is_empty() { b"{}" } else { ctx.body })
}

/// `{ceremony_id, publicKey}`: what `navigator.credentials.create()` or
/// `.get()` needs (through `PublicKeyCredential.parse…OptionsFromJSON`).
fn ceremony(status: StatusCode, id: String, options: serde_json::Value) -> Response<Body> {
    json_response(status, json!({ "ceremony_id": id, "publicKey": options }))
}

pub async fn begin_passkey_registration(ctx: &Ctx<'_>) -> Result<Response<Body>, Problem> {
    let tenant = ctx.tenant()?;
    let principal = ctx.principal()?;
    // The password, always: a stolen access token (even a fresh one) must
    // not add a way in that outlives a password reset.
    let proof = StepUp::Password(step_up(ctx)?);
    let (id, options) = passkeys::begin_registration(ctx.app, tenant, &principal.user_id, proof).await?;
    Ok(ceremony(StatusCode::OK, id, options))
}

pub async fn finish_passkey_registration(ctx: &Ctx<'_>) -> Result<Response<Body>, Problem> {
    let tenant = ctx.tenant()?;
    let principal = ctx.principal()?;
    let RegisterPasskeyBody { ceremony_id, credential, name } = RegisterPasskeyBody::parse(ctx)?;
    let registered =
        passkeys::finish_registration(ctx.app, tenant, &principal.user_id, &ceremony_id, name, credential).await?;
    let mut body = serde_json::to_value(registered).unwrap_or_default();
    body["message"] = message(ctx, "passkey_added");
    Ok(json_response(StatusCode::CREATED, body))
}

pub async fn delete_passkey(ctx: &Ctx<'_>) -> Result<Response<Body>, Problem> {
    let tenant = ctx.tenant()?;
    let principal = ctx.principal()?;
    let password = step_up(ctx)?;
    let id = ctx.param("id");
    let valid = id
        .strip_prefix("pk_")
        .is_some_and(|r| (1..=64).contains(&r.len()) && r.bytes().all(|b| b.is_ascii_alphanumeric()));
    if !valid {
        return Err(crate::domain::Error::PasskeyNotFound.into());
    }
    passkeys::remove(ctx.app, &principal.user_id, id, StepUp::Password(password), tenant).await?;
    Ok(json_response(StatusCode::OK, json!({ "message": message(ctx, "passkey_removed") })))
}

pub async fn passkey_sign_in_options(ctx: &Ctx<'_>) -> Result<Response<Body>, Problem> {
    let tenant = ctx.tenant()?;
    let device = ctx.required_device()?;
    let mut f = fields(ctx)?;
    let challenge_id = SignInOptionsBody::read(&mut f, &Cx::of(ctx)).challenge_id;
    f.finish(SignInOptionsBody::FIELDS)?;
    let challenge_id = match challenge_id {
        Some(id) => Some(ChallengeId::parse(&id).ok_or(crate::domain::Error::ChallengeNotFound)?),
        None => None,
    };
    let origin = Origin { ip: &ctx.client_ip, device_id: device, device_token: None };
    let (id, options) = auth::passkey_options(ctx.app, tenant, challenge_id.as_ref(), origin).await?;
    Ok(ceremony(StatusCode::OK, id, options))
}

pub async fn passkey_sign_in(ctx: &Ctx<'_>) -> Result<Response<Body>, Problem> {
    let tenant = ctx.tenant()?;
    let device = ctx.required_device()?;
    let PasskeySignInBody { ceremony_id, credential } = PasskeySignInBody::parse(ctx)?;
    let origin = Origin { ip: &ctx.client_ip, device_id: device, device_token: None };
    let outcome = auth::sign_in_with_passkey(ctx.app, tenant, &ceremony_id, credential, origin).await?;
    Ok(super::auth::login_answer(ctx, outcome))
}
