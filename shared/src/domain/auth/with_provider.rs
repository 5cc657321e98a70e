//! Another identity provider as the first factor (SPEC §14): the hosted
//! pages' answer from the provider (`/oauth2/idpresponse`) and a platform
//! SDK's ID token (`POST /v1/auth/federated/token`). The provider proved
//! who the user is (`amr` `fed`); then the login goes on as after any
//! first factor: the user's second factor if it has 2FA on, the legal
//! documents (a new user accepts them here), a session.
//!
//! An identity whose verified address is an existing account's is linked
//! only once that account proves itself: [`prove_and_link`] checks its
//! password as `POST /v1/auth/login` does (lockout, limits, the same
//! answers), then links, then signs in.

use chrono::Duration;

use super::{LoginOutcome, LoginVia, Origin, continue_login};
use crate::app::App;
use crate::domain::error::Error;
use crate::domain::federation::ProvenIdentity;
use crate::domain::federation::identities::{self, Resolved};
use crate::domain::password::Password;
use crate::domain::tenant::Tenant;
use crate::domain::user::{User, load_user};
use crate::ports::Condition;
use crate::table::{self, PendingIdentity, Record, pending_identity_key};

/// How long a provider identity waits for its account's proof.
const PENDING_SECS: i64 = 10 * 60;

/// What a provider's identity leads to.
#[derive(Debug)]
pub enum FederatedOutcome {
    /// The login's next step or its tokens, as after a password.
    Login(LoginOutcome),
    /// The identity's verified address is this existing account's: it must
    /// prove itself before the identity is linked.
    LinkRequired(Box<User>),
}

/// Counts a sign-in with a provider from the caller's address (the login's
/// `ip_limits.logins_per_5_min`), before anything is fetched or checked.
pub async fn count_attempt(app: &App, tenant: &Tenant, origin: &Origin<'_>) -> Result<(), Error> {
    super::count_ip(app, tenant, origin, "login-ip").await
}

/// Signs in the user of `identity` (a new one if the identity is new and
/// its address nobody's; in `language`); the caller counted the attempt
/// ([`count_attempt`]).
pub async fn sign_in_with_identity(
    app: &App,
    tenant: &Tenant,
    identity: &ProvenIdentity,
    language: &str,
    origin: Origin<'_>,
) -> Result<FederatedOutcome, Error> {
    let user = match identities::resolve(app, tenant, identity).await? {
        Resolved::User(user) => user,
        Resolved::LinkRequired(user) => return Ok(FederatedOutcome::LinkRequired(Box::new(user))),
        Resolved::New => match identities::create_user(app, tenant, identity, language).await? {
            Resolved::User(user) => user,
            Resolved::LinkRequired(user) => return Ok(FederatedOutcome::LinkRequired(Box::new(user))),
            Resolved::New => return Err(Error::Conflict),
        },
    };
    if !user.is_active() {
        return Err(Error::AccountInactive);
    }
    // The provider stands for the mailbox (it is often the mailbox's own
    // provider): an e-mailed code is no second factor after it.
    let via = LoginVia {
        device_id: origin.device_id,
        by_phone: false,
        mfa_passed: false,
        amr: vec!["fed".into()],
        first_factor: Some(crate::domain::policy::Factor::Email),
    };
    continue_login(app, tenant, &user, via, Vec::new()).await.map(FederatedOutcome::Login)
}

/// Keeps `identity` waiting for `user` to prove itself from the browser
/// `device_id`, with the app's authorization `request`; its id.
pub async fn keep_pending(
    app: &App,
    tenant: &Tenant,
    identity: &ProvenIdentity,
    user: &User,
    device_id: &str,
    request: Option<serde_json::Value>,
) -> Result<String, Error> {
    let pending = PendingIdentity {
        id: app.new_id("fed"),
        tenant_id: tenant.id.clone(),
        provider: identity.provider.clone(),
        issuer: identity.issuer.clone(),
        subject: identity.subject.clone(),
        email: identity.email.as_ref().map(ToString::to_string),
        user_id: user.id.clone(),
        device_id: device_id.to_owned(),
        request,
        expires_at: app.clock.now() + Duration::seconds(PENDING_SECS),
    };
    table::commit(app.store.as_ref(), vec![pending.put(Condition::NotExists)?]).await?;
    Ok(pending.id)
}

/// A pending identity of the tenant, for the browser `device_id`.
pub async fn pending(app: &App, tenant: &Tenant, id: &str, device_id: &str) -> Result<PendingIdentity, Error> {
    let found = table::get::<PendingIdentity>(app.store.as_ref(), &pending_identity_key(id)).await?;
    match found {
        Some((pending, _))
            if pending.tenant_id == tenant.id
                && pending.expires_at > app.clock.now()
                && pending.device_id == device_id =>
        {
            Ok(pending)
        }
        _ => Err(Error::ChallengeNotFound),
    }
}

/// The account of a pending identity proves itself with its password
/// (`auth::login`, with its lockout, limits and answers); then the
/// identity is linked and the login goes on where the password leads.
pub async fn prove_and_link(
    app: &App,
    tenant: &Tenant,
    pending_id: &str,
    password: &Password,
    origin: Origin<'_>,
) -> Result<LoginOutcome, Error> {
    let pending = pending(app, tenant, pending_id, origin.device_id).await?;
    let (user, _) = load_user(app, &pending.user_id).await?.ok_or(Error::ChallengeNotFound)?;
    let name = user.email.as_ref().map(ToString::to_string).ok_or(Error::ChallengeNotFound)?;
    let outcome = super::login(app, tenant, &name, password, origin).await?;
    let identity = ProvenIdentity {
        provider: pending.provider.clone(),
        issuer: pending.issuer.clone(),
        subject: pending.subject.clone(),
        email: None,
        email_verified: false,
        given_name: None,
        family_name: None,
        expires_at: 0,
    };
    // The user as the login left it (a rehash writes it).
    let (user, version) = load_user(app, &pending.user_id).await?.ok_or(Error::ChallengeNotFound)?;
    match identities::link(app, &user, version, &identity, "password").await {
        // Linked now, or by this account already (a form sent twice): the
        // pending identity is spent. Anything else keeps it for a retry.
        Ok(()) | Err(Error::IdentityTaken) => {
            let _ = app.store.delete(&pending_identity_key(pending_id), Condition::Always).await;
            Ok(outcome)
        }
        Err(err) => Err(err),
    }
}
