//! The signed-in user's second factors (SPEC §6, "Second factors"): the
//! authenticator app and recovery codes.

use ::http::StatusCode;
use lambda_http::{Body, Response};
use serde_json::json;

use super::reply::{json_response, message};
use crate::domain::factors;
use crate::domain::password::Password;
use crate::http::body::{Code, Cx, Password as PasswordField};
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

/// The current password a step-up body holds.
fn step_up(ctx: &Ctx<'_>) -> Result<Password, Problem> {
    let mut f = Fields::parse(ctx.body)?;
    let password = StepUpBody::read(&mut f, &Cx::of(ctx)).current_password;
    f.finish(StepUpBody::FIELDS)?;
    password.map(Password::new).ok_or_else(|| Problem::validation(vec![]))
}

pub async fn get_factors(ctx: &Ctx<'_>) -> Result<Response<Body>, Problem> {
    let tenant = ctx.tenant()?;
    let principal = ctx.principal()?;
    let view = factors::factors(ctx.app, tenant, &principal.user_id).await?;
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
    let mut f = Fields::parse(ctx.body)?;
    let code = ConfirmTotpBody::read(&mut f, &Cx::of(ctx)).code;
    f.finish(ConfirmTotpBody::FIELDS)?;
    let code = code.ok_or_else(|| Problem::validation(vec![]))?;
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
