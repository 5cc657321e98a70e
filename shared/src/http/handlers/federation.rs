//! Sign-in with other identity providers through the API (SPEC §14,
//! docs/identity-providers.md): a platform SDK's ID token exchanged for
//! Registrar's tokens, and the signed-in user's linked identities.

use ::http::StatusCode;
use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::Serialize;

use super::auth::{LoginAnswer, login_answer};
use super::reply::{DEVICE_COOKIE, Message, Reply};
use crate::domain::Error;
use crate::domain::auth::Origin;
use crate::domain::auth::with_provider::{self, FederatedOutcome, sign_in_with_identity};
use crate::domain::credentials::StepUp;
use crate::domain::federation::{self, identities};
use crate::domain::password::{CurrentPassword, Password};
use crate::http::body::{IdToken, Nonce, Password as PasswordField, ProviderId};
use crate::http::context::Ctx;
use crate::http::problem::Problem;
use crate::table::LinkedIdentity;

crate::body! {
    /// `POST /v1/auth/federated/token`: an ID token a platform SDK (Sign in
    /// with Apple, Google Sign-In, any OpenID Connect library) gave the app.
    pub struct FederatedTokenBody {
        /// The tenant's identity provider id.
        provider: required ProviderId,
        /// The provider's ID token: checked (signature by the provider's
        /// keys, `iss`, `aud`, `exp`, `nonce`) before anything else.
        id_token: required IdToken,
        /// The nonce the app sent the provider (its SHA-256 in the token is
        /// accepted too); required when the token carries one.
        nonce: optional Nonce,
    }
}

crate::body! {
    /// `POST /v1/me/identities/{provider}`: links the provider's identity
    /// of an ID token to the signed-in user.
    pub struct LinkIdentityBody {
        id_token: required IdToken,
        nonce: optional Nonce,
        /// The step-up; without it only a sign-in within the tenant's
        /// `step_up_window_secs` will do (403 `step_up_required`).
        current_password: optional PasswordField,
    }
}

crate::body! {
    /// `DELETE /v1/me/identities/{provider}` (a body is optional).
    pub struct UnlinkIdentityBody {
        /// The step-up; without it only a sign-in within the tenant's
        /// `step_up_window_secs` will do (403 `step_up_required`).
        current_password: optional PasswordField,
    }
}

/// One identity the user linked.
#[derive(Serialize, JsonSchema)]
pub struct IdentityAnswer {
    /// The tenant's provider id.
    pub provider: String,
    /// The address the provider gave, if any.
    pub email: Option<String>,
    pub linked_at: DateTime<Utc>,
}

impl From<LinkedIdentity> for IdentityAnswer {
    fn from(identity: LinkedIdentity) -> Self {
        Self { provider: identity.provider, email: identity.email, linked_at: identity.linked_at }
    }
}

/// `GET /v1/me/identities`
#[derive(Serialize, JsonSchema)]
pub struct IdentitiesAnswer {
    pub identities: Vec<IdentityAnswer>,
}

/// `POST /v1/auth/federated/token`: like a login; 409
/// `identity_link_required` when the provider's verified address is an
/// existing account's that has not linked this identity.
pub async fn federated_token(ctx: &Ctx<'_>) -> Result<Reply<LoginAnswer>, Problem> {
    let tenant = ctx.tenant()?;
    let device = ctx.required_device()?;
    let FederatedTokenBody { provider, id_token, nonce } = FederatedTokenBody::parse(ctx)?;
    let provider = federation::provider(tenant, &provider)?;
    let device_token = ctx.cookie(DEVICE_COOKIE);
    let origin = Origin { ip: &ctx.client_ip, device_id: device, device_token: device_token.as_deref() };
    // Counted before the provider's keys are fetched or the token checked.
    with_provider::count_attempt(ctx.app, tenant, &origin).await?;
    let identity = federation::verify_id_token(ctx.app, provider, &id_token, nonce.as_deref(), true).await?;
    federation::spend(ctx.app, &id_token, &identity).await?;
    let language = crate::i18n::negotiate_within(ctx.header("accept-language"), &tenant.policy.languages);
    match sign_in_with_identity(ctx.app, tenant, &identity, language, origin).await? {
        FederatedOutcome::Login(outcome) => Ok(login_answer(ctx, outcome)),
        FederatedOutcome::LinkRequired(_) => Err(Error::IdentityLinkRequired.into()),
    }
}

/// `GET /v1/me/identities`
pub async fn list_identities(ctx: &Ctx<'_>) -> Result<Reply<IdentitiesAnswer>, Problem> {
    let principal = ctx.principal()?;
    let identities = identities::list(ctx.app, &principal.user_id).await?;
    Ok(Reply::ok(IdentitiesAnswer { identities: identities.into_iter().map(IdentityAnswer::from).collect() }))
}

fn step_up_of(ctx: &Ctx<'_>, password: Option<String>) -> Result<StepUp, Problem> {
    let principal = ctx.principal()?;
    Ok(match password {
        Some(password) => StepUp::Password(CurrentPassword {
            password: Password::new(password),
            session_id: principal.session_id.clone(),
        }),
        None => StepUp::SignedInAt(principal.session.auth_time),
    })
}

/// `POST /v1/me/identities/{provider}`: 201 with the identity.
pub async fn link_identity(ctx: &Ctx<'_>) -> Result<Reply<IdentityAnswer>, Problem> {
    let tenant = ctx.tenant()?;
    let principal = ctx.principal()?;
    let provider = ctx.param("provider").to_owned();
    let LinkIdentityBody { id_token, nonce, current_password } = LinkIdentityBody::parse(ctx)?;
    let proof = step_up_of(ctx, current_password)?;
    let linked =
        identities::link_signed_in(ctx.app, tenant, &principal.user_id, &provider, &id_token, nonce.as_deref(), proof)
            .await?;
    Ok(Reply::new(StatusCode::CREATED, IdentityAnswer::from(linked)))
}

/// `DELETE /v1/me/identities/{provider}`
pub async fn unlink_identity(ctx: &Ctx<'_>) -> Result<Reply<Message>, Problem> {
    let tenant = ctx.tenant()?;
    let principal = ctx.principal()?;
    let provider = ctx.param("provider").to_owned();
    let password = if ctx.body.iter().all(u8::is_ascii_whitespace) {
        None
    } else {
        UnlinkIdentityBody::parse(ctx)?.current_password
    };
    let proof = step_up_of(ctx, password)?;
    identities::unlink(ctx.app, tenant, &principal.user_id, &provider, proof).await?;
    Ok(Reply::ok(Message::new(ctx, "identity_unlinked")))
}
