//! The signed-in user: profile, closing the account, new
//! credentials, the password, and the user's sessions.

use ::http::StatusCode;
use lambda_http::{Body, Response};
use serde_json::json;

use super::reply::{clear_cookie, json_response, message};
use crate::domain::FieldError;
use crate::domain::ids::SessionId;
use crate::domain::me::{self, NewCredential};
use crate::domain::password::{CurrentPassword, Password};
use crate::domain::sessions;
use crate::domain::values::{self, EmailAddress, Phone};
use crate::http::body::{
    Choice, Code, Cx, NewPassword, OneOf, Password as PasswordField, ProfilePatchBody, Text, check_confirmation,
};
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

crate::body! {
    /// `PATCH /v1/me`: the fields given change; `null` clears an optional one.
    pub struct UpdateMeBody {
        profile: flatten ProfilePatchBody,
        /// The step-up for a new username; without it only a sign-in within
        /// the tenant's `step_up_window_secs` will do (403 `step_up_required`).
        current_password: optional PasswordField,
    }
}

pub async fn update_me(ctx: &Ctx<'_>) -> Result<Response<Body>, Problem> {
    let tenant = ctx.tenant()?;
    let principal = ctx.principal()?;
    let mut f = Fields::parse(ctx.body)?;
    let read = UpdateMeBody::read(&mut f, &Cx::of(ctx));
    // Checked for its shape even when no new username needs it.
    if let Some(password) = &read.current_password {
        match password.chars().count() {
            0 => f.errors.push(FieldError::new("current_password", "required")),
            1..=1024 => {}
            _ => f.errors.push(FieldError::new("current_password", "too_long")),
        }
    }
    let body = UpdateMeBody::complete(f, read)?;
    let step_up = match body.current_password {
        Some(password) => me::StepUp::Password(CurrentPassword {
            password: Password::new(password),
            session_id: principal.session_id.clone(),
        }),
        None => me::StepUp::SignedInAt(principal.session.auth_time),
    };
    let profile = me::update_profile(ctx.app, tenant, &principal.user_id, body.profile.changes(), step_up).await?;
    Ok(profile_response(ctx, &profile, Some("profile_updated")))
}

pub async fn close_me(ctx: &Ctx<'_>) -> Result<Response<Body>, Problem> {
    let principal = ctx.principal()?;
    let password = CloseMeBody::parse(ctx)?.password;
    let current = CurrentPassword { password: Password::new(password), session_id: principal.session_id.clone() };
    me::close_account(ctx.app, &principal.user_id, &current).await?;
    Ok(clear_cookie(ctx, json_response(StatusCode::OK, json!({ "message": message(ctx, "account_closed") }))))
}

/// The kinds of credential a user adds and verifies.
pub struct CredentialKinds;

impl Choice for CredentialKinds {
    const CHOICES: &'static [&'static str] = &["email", "phone"];
}

crate::body! {
    /// `DELETE /v1/me`
    pub struct CloseMeBody {
        password: required PasswordField,
    }
}

crate::body! {
    /// `POST /v1/me/credentials`
    pub struct AddCredentialBody {
        #[doc = "`email` or `phone`"]
        r#type: required OneOf<CredentialKinds>,
        /// The new e-mail address, or the phone in E.164.
        value: required Text,
        /// The step-up; without it only a sign-in within the tenant's
        /// `step_up_window_secs` will do (403 `step_up_required` otherwise).
        current_password: optional PasswordField,
    }
}

crate::body! {
    /// `POST /v1/me/credentials/verify`
    pub struct VerifyCredentialBody {
        r#type: required OneOf<CredentialKinds>,
        code: required Code,
    }
}

crate::body! {
    /// `POST /v1/me/password`
    pub struct ChangePasswordBody {
        current_password: required PasswordField,
        new_password: required NewPassword,
        /// The new password typed again (optional); when given, it must be
        /// the same (`password_mismatch`).
        confirm_password: optional NewPassword,
    }
}

pub async fn add_credential(ctx: &Ctx<'_>) -> Result<Response<Body>, Problem> {
    let tenant = ctx.tenant()?;
    let principal = ctx.principal()?;
    let mut f = Fields::parse(ctx.body)?;
    let read = AddCredentialBody::read(&mut f, &Cx::of(ctx));
    // The value's kind depends on `type`: parsed here, its error recorded
    // with the others.
    let value = read.value.clone();
    let credential = match read.r#type {
        Some("email") => f.check("value", value, EmailAddress::parse).map(NewCredential::Email),
        Some(_) => f.check("value", value, Phone::parse).map(NewCredential::Phone),
        None => None,
    };
    let AddCredentialBody { current_password: current, .. } = AddCredentialBody::complete(f, read)?;
    let credential = credential.ok_or_else(|| Problem::validation(Vec::new()))?;
    let step_up = match current {
        Some(password) => me::StepUp::Password(CurrentPassword {
            password: Password::new(password),
            session_id: principal.session_id.clone(),
        }),
        None => me::StepUp::SignedInAt(principal.session.auth_time),
    };
    me::add_credential(ctx.app, tenant, &principal.user_id, credential, step_up).await?;
    Ok(json_response(StatusCode::ACCEPTED, json!({ "message": message(ctx, "credential_code_sent") })))
}

pub async fn verify_credential(ctx: &Ctx<'_>) -> Result<Response<Body>, Problem> {
    let tenant = ctx.tenant()?;
    let principal = ctx.principal()?;
    let VerifyCredentialBody { r#type: kind, code } = VerifyCredentialBody::parse(ctx)?;
    // Codes of any configured length are checked by the domain.
    let mfa = me::verify_credential(ctx.app, tenant, &principal.user_id, Some(&principal.session), kind, &code).await?;
    Ok(json_response(StatusCode::OK, json!({ "mfa_enabled": mfa, "message": message(ctx, "credential_verified") })))
}

pub async fn change_password(ctx: &Ctx<'_>) -> Result<Response<Body>, Problem> {
    let tenant = ctx.tenant()?;
    let principal = ctx.principal()?;
    let mut f = Fields::parse(ctx.body)?;
    let read = ChangePasswordBody::read(&mut f, &Cx::of(ctx));
    if let Some(password) = &read.new_password {
        f.errors.extend(values::password_errors(&tenant.policy.password, "new_password", password, None));
    }
    check_confirmation(&mut f, read.new_password.as_ref(), read.confirm_password.as_ref());
    let ChangePasswordBody { current_password: current, new_password, .. } = ChangePasswordBody::complete(f, read)?;
    crate::domain::passwords::change_password(
        ctx.app,
        tenant,
        &principal.session,
        &Password::new(current),
        &Password::new(new_password),
    )
    .await?;
    Ok(json_response(StatusCode::OK, json!({ "message": message(ctx, "password_changed") })))
}

/// `GET /v1/me/sessions`: the caller's live sessions, its own marked
/// `current` (personal data: the pipeline answers with `no-store`).
pub async fn list_sessions(ctx: &Ctx<'_>) -> Result<Response<Body>, Problem> {
    let tenant = ctx.tenant()?;
    let principal = ctx.principal()?;
    let sessions = sessions::list(ctx.app, tenant, &principal.user_id, &principal.session_id).await?;
    Ok(json_response(StatusCode::OK, json!({ "sessions": sessions })))
}

/// `DELETE /v1/me/sessions/{id}`: ends one of the caller's sessions (its
/// own too, like a logout: then the refresh cookie is cleared as well).
pub async fn delete_session(ctx: &Ctx<'_>) -> Result<Response<Body>, Problem> {
    let tenant = ctx.tenant()?;
    let principal = ctx.principal()?;
    let id = SessionId::parse(ctx.param("id"))
        .ok_or_else(|| Problem::validation(vec![FieldError::new("id", "invalid_id")]))?;
    sessions::end(ctx.app, tenant, &principal.user_id, &id, &principal.session_id).await?;
    let response = json_response(StatusCode::OK, json!({ "message": message(ctx, "session_ended") }));
    Ok(if id == principal.session_id { clear_cookie(ctx, response) } else { response })
}
