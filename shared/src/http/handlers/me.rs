//! The signed-in user: profile, closing the account, new
//! credentials, the password, and the user's sessions.

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::Serialize;

use super::factors::FactorsAnswer;
use super::reply::{DetailsAnswer, Message, Reply, StatusName, clear_cookie, message};
use super::users::{AcceptanceAnswer, AuditEvent};
use crate::domain::FieldError;
use crate::domain::ids::{SessionId, UserId};
use crate::domain::me::{self, Credential, NewCredential, Profile};
use crate::domain::paging::Cursor;
use crate::domain::password::{CurrentPassword, Password};
use crate::domain::personal_data::{self, Consents, PersonalData};
use crate::domain::sessions::{self, SessionView};
use crate::domain::values::{self, EmailAddress, Phone, Status, Username};
use crate::http::body::{
    Choice, Code, Cx, NewPassword, OneOf, Password as PasswordField, ProfilePatchBody, Text, check_confirmation,
};
use crate::http::context::Ctx;
use crate::http::input::Fields;
use crate::http::problem::Problem;

/// `GET /v1/me`: the signed-in user's profile (never hashes or codes).
#[derive(Serialize, JsonSchema)]
pub struct MeAnswer {
    #[schemars(with = "String")]
    pub user_id: UserId,
    #[schemars(with = "String", extend("enum" = crate::domain::values::UserType::NAMES))]
    pub user_type: crate::domain::values::UserType,
    #[schemars(with = "StatusName")]
    pub status: Status,
    /// `null` for a user that signed up with its phone alone.
    pub email: Option<String>,
    pub phone: Option<String>,
    #[schemars(with = "Option<String>")]
    pub username: Option<Username>,
    #[serde(flatten)]
    pub details: DetailsAnswer,
    pub roles: Vec<String>,
    pub mfa_enabled: bool,
    /// The address and the phone, verified or not, and one being added.
    pub credentials: Vec<ProfileCredential>,
    pub created_at: DateTime<Utc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// One credential of the user.
#[derive(Serialize, JsonSchema)]
pub struct ProfileCredential {
    #[serde(rename = "type")]
    #[schemars(extend("enum" = ["email", "phone"]))]
    pub kind: &'static str,
    pub value: String,
    pub verified: bool,
}

impl MeAnswer {
    fn new(profile: Profile, message: Option<String>) -> Self {
        let Profile {
            user_id,
            user_type,
            status,
            email,
            phone,
            username,
            details,
            roles,
            mfa_enabled,
            credentials,
            created_at,
        } = profile;
        let credentials = credentials
            .into_iter()
            .map(|Credential { kind, value, verified }| ProfileCredential { kind, value, verified })
            .collect();
        Self {
            user_id,
            user_type,
            status,
            email,
            phone,
            username,
            details: details.into(),
            roles,
            mfa_enabled,
            credentials,
            created_at,
            message,
        }
    }
}

pub async fn get_me(ctx: &Ctx<'_>) -> Result<Reply<MeAnswer>, Problem> {
    // The user the bearer check read with the session (one round trip).
    let profile = Profile::from(&ctx.principal()?.user);
    Ok(Reply::ok(MeAnswer::new(profile, None)))
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

pub async fn update_me(ctx: &Ctx<'_>) -> Result<Reply<MeAnswer>, Problem> {
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
    Ok(Reply::ok(MeAnswer::new(profile, Some(message(ctx, "profile_updated")))))
}

pub async fn close_me(ctx: &Ctx<'_>) -> Result<Reply<Message>, Problem> {
    let principal = ctx.principal()?;
    let password = CloseMeBody::parse(ctx)?.password;
    let current = CurrentPassword { password: Password::new(password), session_id: principal.session_id.clone() };
    me::close_account(ctx.app, &principal.user_id, &current).await?;
    Ok(clear_cookie(ctx, Reply::ok(Message::new(ctx, "account_closed"))))
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

pub async fn add_credential(ctx: &Ctx<'_>) -> Result<Reply<Message>, Problem> {
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
    let (AddCredentialBody { current_password: current, .. }, credential) =
        AddCredentialBody::complete_with(f, read, credential)?;
    let step_up = match current {
        Some(password) => me::StepUp::Password(CurrentPassword {
            password: Password::new(password),
            session_id: principal.session_id.clone(),
        }),
        None => me::StepUp::SignedInAt(principal.session.auth_time),
    };
    me::add_credential(ctx.app, tenant, &principal.user_id, credential, step_up).await?;
    Ok(Reply::accepted(Message::new(ctx, "credential_code_sent")))
}

/// `POST /v1/me/credentials/verify`: the credential verified.
#[derive(Serialize, JsonSchema)]
pub struct CredentialVerified {
    /// Whether a second factor is now on.
    pub mfa_enabled: bool,
    pub message: String,
}

pub async fn verify_credential(ctx: &Ctx<'_>) -> Result<Reply<CredentialVerified>, Problem> {
    let tenant = ctx.tenant()?;
    let principal = ctx.principal()?;
    let VerifyCredentialBody { r#type: kind, code } = VerifyCredentialBody::parse(ctx)?;
    // Codes of any configured length are checked by the domain.
    let mfa_enabled =
        me::verify_credential(ctx.app, tenant, &principal.user_id, Some(&principal.session), kind, &code).await?;
    Ok(Reply::ok(CredentialVerified { mfa_enabled, message: message(ctx, "credential_verified") }))
}

pub async fn change_password(ctx: &Ctx<'_>) -> Result<Reply<Message>, Problem> {
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
    Ok(Reply::ok(Message::new(ctx, "password_changed")))
}

/// `GET /v1/me/sessions`.
#[derive(Serialize, JsonSchema)]
pub struct Sessions {
    pub sessions: Vec<SessionAnswer>,
}

/// A session as its owner sees it.
#[derive(Serialize, JsonSchema)]
pub struct SessionAnswer {
    #[schemars(with = "String", regex(pattern = r"^ses_[0-9a-f]{32}$"))]
    pub id: SessionId,
    /// The `X-Device-ID` it is bound to (`null` until its first refresh
    /// for a session a sign-up opened without one).
    pub device_id: Option<String>,
    pub created_at: DateTime<Utc>,
    /// Opened or last refreshed.
    pub last_used_at: DateTime<Utc>,
    /// Its absolute end (the refresh token's lifetime from the sign-in).
    pub expires_at: DateTime<Utc>,
    /// The session of the access token that asked.
    pub current: bool,
}

impl From<SessionView> for SessionAnswer {
    fn from(view: SessionView) -> Self {
        let SessionView { id, device_id, created_at, last_used_at, expires_at, current } = view;
        Self { id, device_id, created_at, last_used_at, expires_at, current }
    }
}

/// `GET /v1/me/sessions`: the caller's live sessions, its own marked
/// `current` (personal data: the pipeline answers with `no-store`).
pub async fn list_sessions(ctx: &Ctx<'_>) -> Result<Reply<Sessions>, Problem> {
    let tenant = ctx.tenant()?;
    let principal = ctx.principal()?;
    let sessions = sessions::list(ctx.app, tenant, &principal.user_id, &principal.session_id).await?;
    Ok(Reply::ok(Sessions { sessions: sessions.into_iter().map(SessionAnswer::from).collect() }))
}

/// `DELETE /v1/me/sessions/{id}`: ends one of the caller's sessions (its
/// own too, like a logout: then the refresh cookie is cleared as well).
pub async fn delete_session(ctx: &Ctx<'_>) -> Result<Reply<Message>, Problem> {
    let tenant = ctx.tenant()?;
    let principal = ctx.principal()?;
    let id = SessionId::parse(ctx.param("id"))
        .ok_or_else(|| Problem::validation(vec![FieldError::new("id", "invalid_id")]))?;
    sessions::end(ctx.app, tenant, &principal.user_id, &id, &principal.session_id).await?;
    let reply = Reply::ok(Message::new(ctx, "session_ended"));
    Ok(if id == principal.session_id { clear_cookie(ctx, reply) } else { reply })
}

/// `GET /v1/me/export`: everything Registrar holds of the user (GDPR Art.
/// 15 and 20), without a hash, code, token or secret.
#[derive(Serialize, JsonSchema)]
pub struct PersonalDataAnswer {
    pub exported_at: DateTime<Utc>,
    /// As `GET /v1/me` shows it.
    pub profile: MeAnswer,
    pub email_verified_at: Option<DateTime<Utc>>,
    pub phone_verified_at: Option<DateTime<Utc>>,
    pub consents: ConsentsAnswer,
    /// The live sessions, as `GET /v1/me/sessions` lists them.
    pub sessions: Vec<SessionAnswer>,
    /// As `GET /v1/me/factors` shows them: whether the authenticator app is
    /// on and since when, how many recovery codes are left, the passkeys'
    /// public metadata.
    pub factors: FactorsAnswer,
    /// The accounts of other identity providers linked, as
    /// `GET /v1/me/identities` lists them.
    pub identities: Vec<super::federation::IdentityAnswer>,
    /// The audit trail, newest first: at most 1,000 events a call.
    pub audit: Vec<AuditEvent>,
    /// Pass as `before` for the rest of the trail; `null` when it is all
    /// here.
    pub audit_next: Option<String>,
}

/// The documents accepted and the consent to the processing of personal
/// data.
#[derive(Serialize, JsonSchema)]
pub struct ConsentsAnswer {
    pub terms: Option<AcceptanceAnswer>,
    pub privacy: Option<AcceptanceAnswer>,
    pub personal_data_consent_at: Option<DateTime<Utc>>,
}

/// `GET /v1/me/export?before=`: the user's data, with the trail from the
/// cursor `before` on (a previous answer's `audit_next`).
pub async fn export_me(ctx: &Ctx<'_>) -> Result<Reply<PersonalDataAnswer>, Problem> {
    let tenant = ctx.tenant()?;
    let principal = ctx.principal()?;
    let before = ctx
        .query_param("before")
        .map(Cursor::parse)
        .transpose()
        .map_err(|code| Problem::validation(vec![FieldError::new("before", code)]))?;
    let data =
        personal_data::export(ctx.app, tenant, &principal.user_id, &principal.session_id, before.as_ref()).await?;
    let identities = crate::domain::federation::identities::list(ctx.app, &principal.user_id).await?;
    let PersonalData {
        exported_at,
        profile,
        email_verified_at,
        phone_verified_at,
        consents: Consents { terms, privacy, personal_data_consent_at },
        sessions,
        factors,
        audit,
        audit_next,
    } = data;
    Ok(Reply::ok(PersonalDataAnswer {
        exported_at,
        profile: MeAnswer::new(profile, None),
        email_verified_at,
        phone_verified_at,
        consents: ConsentsAnswer {
            terms: terms.map(AcceptanceAnswer::from),
            privacy: privacy.map(AcceptanceAnswer::from),
            personal_data_consent_at,
        },
        sessions: sessions.into_iter().map(SessionAnswer::from).collect(),
        factors: factors.into(),
        identities: identities.into_iter().map(super::federation::IdentityAnswer::from).collect(),
        // The stored entry's fields, each named, as the back office reads them.
        audit: audit
            .into_iter()
            .map(|entry| AuditEvent { event: entry.event, at: entry.at, detail: entry.detail })
            .collect(),
        audit_next,
    }))
}
