//! Whose a provider identity is (docs/identity-providers.md). An identity
//! (`iss` + `sub`) belongs to one user, by a lock item written with
//! `NotExists` in the transaction that creates or links, so many first
//! sign-ins at once make one user. A new identity makes a new user (the
//! provider's verified address as verified); an identity whose verified
//! address is an existing account's is never linked silently: the account
//! proves itself first ([`Resolved::LinkRequired`]).

use super::ProvenIdentity;
use crate::app::App;
use crate::domain::credentials::{StepUp, step_up};
use crate::domain::error::Error;
use crate::domain::events::{EventType, user_event, user_summary};
use crate::domain::ids::UserId;
use crate::domain::policy::SignInMethod;
use crate::domain::tenant::Tenant;
use crate::domain::user::{User, audit_write, load_user, lock_write, user_by_lock};
use crate::domain::values::{PersonalDetails, Status, UserType};
use crate::ports::{Condition, Write};
use crate::table::{
    self, Failed, IdentityLock, Kind, LinkedIdentity, Record, email_lock_key, identities_of, identity_lock_key,
    linked_identity_key,
};

/// Whose an identity is.
#[derive(Debug)]
pub enum Resolved {
    /// A user's, linked before.
    User(User),
    /// Nobody's yet, and the provider's verified address is this user's:
    /// the account must prove itself before the identity is linked.
    LinkRequired(User),
    /// Nobody's: a new user.
    New,
}

/// Finds whose `identity` is.
pub async fn resolve(app: &App, tenant: &Tenant, identity: &ProvenIdentity) -> Result<Resolved, Error> {
    let lock = identity_lock_key(&tenant.id, &identity.issuer, &identity.subject);
    if let Some((user, _)) = user_by_lock(app, &lock).await? {
        return Ok(Resolved::User(user));
    }
    if let Some(email) = identity.email.as_ref().filter(|_| identity.email_verified)
        && let Some((user, _)) = user_by_lock(app, &email_lock_key(&tenant.id, email.as_str())).await?
    {
        return Ok(Resolved::LinkRequired(user));
    }
    Ok(Resolved::New)
}

/// The writes that link `identity` to `user`: its lock (`NotExists`: an
/// identity is one user's) and the user's record of it (`NotExists`: one
/// identity per provider), the audit entry and the event.
fn link_writes(app: &App, user: &User, identity: &ProvenIdentity, how: &str) -> Result<Vec<Write>, Error> {
    let lock = IdentityLock {
        user_id: user.id.clone(),
        provider: identity.provider.clone(),
        tenant_id: user.tenant_id.clone(),
        issuer: identity.issuer.clone(),
        subject: identity.subject.clone(),
    };
    let linked = LinkedIdentity {
        user_id: user.id.clone(),
        provider: identity.provider.clone(),
        issuer: identity.issuer.clone(),
        subject: identity.subject.clone(),
        email: identity.email.as_ref().map(ToString::to_string),
        linked_at: app.clock.now(),
    };
    let detail = serde_json::json!({ "provider": identity.provider, "how": how });
    Ok(vec![
        lock.put(Condition::NotExists)?,
        linked.put(Condition::NotExists)?,
        audit_write(app, &user.id, "identity_linked", detail.clone())?,
        user_event(app, user, EventType::IdentityLinked, None, detail)?,
    ])
}

/// Creates the user of a new `identity`: active, the provider's verified
/// address as its verified e-mail (an unverified one is not taken: it
/// would keep the address's owner from signing up), no password, the
/// legal documents not accepted yet (the sign-in asks for them), in the
/// language asked for. When another sign-in of the same identity created
/// the user first, that user; when the address was taken meanwhile,
/// [`Resolved::LinkRequired`].
pub async fn create_user(
    app: &App,
    tenant: &Tenant,
    identity: &ProvenIdentity,
    language: &str,
) -> Result<Resolved, Error> {
    let now = app.clock.now();
    let email = identity.email.clone().filter(|_| identity.email_verified);
    let details = PersonalDetails {
        first_name: identity.given_name.clone().unwrap_or_default(),
        last_name: identity.family_name.clone().unwrap_or_default(),
        gender: None,
        birth_date: None,
        language: language.to_owned(),
        time_zone: None,
    };
    // A sign-up like any: the tenant's `pre_sign_up` hook decides first.
    let who = crate::domain::hooks::Applicant { email: email.as_ref(), phone: None, username: None, details: &details };
    let attributes = crate::domain::hooks::pre_sign_up(app, tenant, "identity_provider", who).await?;
    let user = User {
        id: UserId::from_new(app.new_id("usr")),
        tenant_id: tenant.id.clone(),
        user_type: UserType::Consumer,
        status: Status::Active,
        email: email.clone(),
        email_verified_at: email.as_ref().map(|_| now),
        phone: None,
        phone_verified_at: None,
        username: None,
        password_hash: String::new(),
        details,
        roles: Vec::new(),
        terms: None,
        privacy: None,
        personal_data_consent_at: None,
        registration_id: None,
        created_at: now,
        updated_at: now,
        reset_required: false,
        pending_credential: None,
        company_id: None,
        partner_id: None,
        nationality: None,
        address: None,
        attributes,
        references: Default::default(),
        created_by: Some(format!("provider:{}", identity.provider)),
        session_epoch: 0,
        session_survivor: None,
        totp: None,
        recovery_codes: Vec::new(),
        passkeys: 0,
    };
    let mut writes = vec![user.put(Condition::NotExists)?];
    if let Some(email) = &email {
        writes.push(lock_write(email_lock_key(&tenant.id, email.as_str()), &user.id)?);
    }
    let by = serde_json::json!({ "by": user.created_by, "status": user.status });
    writes.push(audit_write(app, &user.id, "created", by)?);
    let mut data = user_summary(&user);
    data["source"] = serde_json::json!("identity_provider");
    data["provider"] = serde_json::json!(identity.provider);
    writes.push(user_event(app, &user, EventType::UserCreated, None, data)?);
    writes.extend(link_writes(app, &user, identity, "sign_up")?);
    writes.extend(table::user_index_writes(None, &user)?);
    match table::commit(app.store.as_ref(), writes).await {
        Ok(()) => {
            tracing::info!(user_id = %user.id, provider = %identity.provider, "user created by an identity provider");
            Ok(Resolved::User(user))
        }
        // Another sign-in of this identity, or a sign-up with this address,
        // came first.
        Err(Failed::Condition(Kind::IdentityLock | Kind::EmailLock)) => match resolve(app, tenant, identity).await? {
            Resolved::New => Err(Error::Conflict),
            resolved => Ok(resolved),
        },
        Err(err) => Err(err.into()),
    }
}

/// Links `identity` to `user` (who proved itself), read at `version`: the
/// user is written at that version in the same transaction, so a user
/// closed (or changed) meanwhile gets no identity (409 `conflict`).
/// `identity_taken` when the identity is someone's (this user's included)
/// or the user has an identity at that provider already.
pub async fn link(app: &App, user: &User, version: u64, identity: &ProvenIdentity, how: &str) -> Result<(), Error> {
    if !user.is_active() {
        return Err(Error::AccountInactive);
    }
    let mut writes = link_writes(app, user, identity, how)?;
    let mut changed = user.clone();
    changed.updated_at = app.clock.now();
    writes.push(changed.put(Condition::Version(version))?);
    match table::commit(app.store.as_ref(), writes).await {
        Ok(()) => {
            tracing::info!(user_id = %user.id, provider = %identity.provider, "identity linked");
            Ok(())
        }
        Err(Failed::Condition(Kind::IdentityLock | Kind::LinkedIdentity)) => Err(Error::IdentityTaken),
        Err(Failed::Condition(_)) => Err(Error::Conflict),
        Err(err) => Err(err.into()),
    }
}

/// The identities `user` has linked.
pub async fn list(app: &App, user_id: &UserId) -> Result<Vec<LinkedIdentity>, Error> {
    let (pk, prefix) = identities_of(user_id);
    let items = app.store.query_all(&pk, prefix).await?;
    Ok(items.into_iter().filter_map(|item| table::decode(item).ok()).collect())
}

/// A signed-in user links its identity at `provider_id`, proven by an ID
/// token a platform SDK (or the app's own sign-in) gave it: after the
/// step-up (the current password, or a sign-in within the tenant's
/// `step_up_window_secs`), since it adds a way to sign in.
pub async fn link_signed_in(
    app: &App,
    tenant: &Tenant,
    user_id: &UserId,
    provider_id: &str,
    id_token: &str,
    nonce: Option<&str>,
    proof: StepUp,
) -> Result<LinkedIdentity, Error> {
    let provider = super::provider(tenant, provider_id)?;
    let (user, version) = load_user(app, user_id).await?.ok_or(Error::InvalidToken)?;
    step_up(app, tenant, &user, proof).await?;
    let identity = super::verify_id_token(app, provider, id_token, nonce, true).await?;
    super::spend(app, id_token, &identity).await?;
    link(app, &user, version, &identity, "signed_in").await?;
    list(app, user_id).await?.into_iter().find(|i| i.provider == provider_id).ok_or(Error::Conflict)
}

/// Unlinks the user's identity at `provider` after the step-up, unless it
/// is the user's last way to sign in (no password, no passkey, no other
/// identity, and no sign-in code the tenant allows to a verified address
/// or phone).
pub async fn unlink(app: &App, tenant: &Tenant, user_id: &UserId, provider: &str, proof: StepUp) -> Result<(), Error> {
    let (user, version) = load_user(app, user_id).await?.ok_or(Error::InvalidToken)?;
    step_up(app, tenant, &user, proof).await?;
    let identities = list(app, user_id).await?;
    let Some(identity) = identities.iter().find(|i| i.provider == provider) else {
        return Err(Error::IdentityNotFound);
    };
    let policy = &tenant.policy;
    let by_code = (policy.allows_sign_in(SignInMethod::EmailCode) && user.email_verified_at.is_some())
        || (policy.allows_sign_in(SignInMethod::SmsCode) && user.phone_verified_at.is_some());
    let other_way = (!user.password_hash.is_empty() && policy.allows_sign_in(SignInMethod::Password))
        || (user.passkeys > 0 && policy.allows_sign_in(SignInMethod::Passkey))
        // Another identity counts only at a provider the tenant still has.
        || identities.iter().any(|i| i.provider != provider && super::provider(tenant, &i.provider).is_ok())
        || by_code;
    if !other_way {
        return Err(Error::LastSignInMethod);
    }
    let detail = serde_json::json!({ "provider": provider });
    // The user written at its version: two unlinks at once (each seeing the
    // other identity still there) cannot both pass.
    let mut changed = user.clone();
    changed.updated_at = app.clock.now();
    let writes = vec![
        Write::Delete {
            key: identity_lock_key(&user.tenant_id, &identity.issuer, &identity.subject),
            condition: Condition::Always,
        },
        Write::Delete { key: linked_identity_key(user_id, provider), condition: Condition::Exists },
        changed.put(Condition::Version(version))?,
        audit_write(app, user_id, "identity_unlinked", detail.clone())?,
        user_event(app, &user, EventType::IdentityUnlinked, None, detail)?,
    ];
    match table::commit(app.store.as_ref(), writes).await {
        Ok(()) => Ok(()),
        Err(Failed::Condition(Kind::LinkedIdentity)) => Err(Error::IdentityNotFound),
        Err(Failed::Condition(_)) => Err(Error::Conflict),
        Err(err) => Err(err.into()),
    }
}

/// The writes that remove every identity of a user (closing the account).
pub async fn removal_writes(app: &App, user_id: &UserId, tenant_id: &str) -> Result<Vec<Write>, Error> {
    let mut writes = Vec::new();
    for identity in list(app, user_id).await? {
        writes.push(Write::Delete {
            key: identity_lock_key(tenant_id, &identity.issuer, &identity.subject),
            condition: Condition::Always,
        });
        writes.push(Write::Delete {
            key: linked_identity_key(user_id, &identity.provider),
            condition: Condition::Always,
        });
    }
    Ok(writes)
}
