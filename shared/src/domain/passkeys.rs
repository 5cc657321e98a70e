//! Passkeys (WebAuthn; docs/second-factors.md), on `webauthn-rs`: a
//! signed-in user registers one (after a step-up), signs in with it alone
//! (a discoverable credential with user verification: two factors), or
//! answers a login's 2FA challenge with it. Each ceremony's state waits in
//! the table between its two requests, for 5 minutes, and is deleted as its
//! second request begins, so a challenge is answered once whatever the
//! outcome.

use chrono::Duration;
use serde::Serialize;
use serde_json::Value;
use webauthn_rs::prelude::{
    CreationChallengeResponse, DiscoverableAuthentication, Passkey, PasskeyAuthentication, PasskeyRegistration,
    PublicKeyCredential, RegisterPublicKeyCredential, RequestChallengeResponse, Url, Uuid, Webauthn, WebauthnBuilder,
};

use super::credentials::{StepUp, step_up};
use super::error::Error;
use super::events::{EventType, user_event};
use super::ids::UserId;
use super::policy::Factor;
use super::tenant::Tenant;
use super::user::{User, audit_write, load_user};
use crate::app::App;
use crate::ports::{Condition, StoreError, Write};
use crate::table::{
    self, Ceremony, CeremonyKind, CredentialLock, Failed, Kind, PasskeyRecord, Record, ceremony_key,
    credential_lock_key, passkey_key, passkeys_of,
};

/// How long a ceremony waits for its second request.
pub const CEREMONY_TTL_SECS: i64 = 5 * 60;
/// The most passkeys a user has.
pub const MAX_PASSKEYS: usize = 10;

/// The tenant's relying party, or 409 `passkeys_not_configured` (no
/// `passkeys.rp_id`) / 403 `factor_not_allowed`.
fn webauthn(tenant: &Tenant) -> Result<Webauthn, Error> {
    if !tenant.policy.second_factors.allows(Factor::Passkey) {
        return Err(Error::FactorNotAllowed);
    }
    let policy = &tenant.policy.passkeys;
    let rp_id = policy.rp_id.as_deref().ok_or(Error::PasskeysNotConfigured)?;
    let origins: Vec<Url> = policy.origins.iter().filter_map(|o| Url::parse(o).ok()).collect();
    let first = origins.first().ok_or(Error::PasskeysNotConfigured)?;
    let mut builder = WebauthnBuilder::new(rp_id, first).map_err(|_| Error::PasskeysNotConfigured)?;
    for origin in &origins[1..] {
        builder = builder.append_allowed_origin(origin);
    }
    builder.rp_name(&tenant.name).build().map_err(|_| Error::PasskeysNotConfigured)
}

/// Whether the tenant has passkeys at all (allowed and configured).
pub fn available(tenant: &Tenant) -> bool {
    tenant.policy.passkeys_available()
}

/// The WebAuthn user handle of a user: its id's UUID.
fn user_handle(user_id: &UserId) -> Result<Uuid, Error> {
    let hex = user_id.as_str().strip_prefix(UserId::PREFIX).unwrap_or_default();
    Uuid::parse_str(hex).map_err(|_| Error::Unavailable { reason: "user id is no UUID".into(), registration_id: None })
}

fn unreadable(what: &str) -> Error {
    Error::Unavailable { reason: format!("stored {what} unreadable"), registration_id: None }
}

/// A passkey as its owner sees it (no key material).
#[derive(Clone, Debug, Serialize)]
pub struct PasskeyView {
    pub id: String,
    pub name: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub last_used_at: Option<chrono::DateTime<chrono::Utc>>,
    /// The credential may be synced to the owner's other devices.
    pub backup_eligible: bool,
    pub backed_up: bool,
}

impl PasskeyView {
    fn of(record: &PasskeyRecord) -> Self {
        let flag = |name: &str| record.credential["cred"][name].as_bool().unwrap_or(false);
        Self {
            id: record.id.clone(),
            name: record.name.clone(),
            created_at: record.created_at,
            last_used_at: record.last_used_at,
            backup_eligible: flag("backup_eligible"),
            backed_up: flag("backup_state"),
        }
    }
}

/// A user's passkeys, oldest first.
pub async fn passkeys(app: &App, user_id: &UserId) -> Result<Vec<(PasskeyRecord, u64)>, Error> {
    let (pk, prefix) = passkeys_of(user_id);
    let items = app.store.query_all(&pk, prefix).await?;
    items
        .into_iter()
        .map(|item| {
            let version = item.version;
            table::decode::<PasskeyRecord>(item).map(|r| (r, version)).map_err(Error::from)
        })
        .collect()
}

/// Deletes the passkeys of a closed account with their credential locks
/// (the user item already counts none). Best effort: what a store failure
/// leaves cannot sign in (the user is closed) and is logged.
pub async fn sweep(app: &App, user_id: &UserId) {
    let records = match passkeys(app, user_id).await {
        Ok(records) => records,
        Err(err) => {
            tracing::warn!(%user_id, error = %err, "passkeys of a closed account left");
            return;
        }
    };
    for (record, _) in records {
        let writes = vec![
            Write::Delete { key: record.key(), condition: Condition::Always },
            Write::Delete {
                key: credential_lock_key(&record.tenant_id, &record.credential_id),
                condition: Condition::Always,
            },
        ];
        if let Err(err) = table::commit(app.store.as_ref(), writes).await {
            tracing::warn!(%user_id, error = %err, "a passkey of a closed account left");
        }
    }
}

/// The longest credential id taken (WebAuthn allows 1023 bytes).
const MAX_CREDENTIAL_ID: usize = 1023;

/// The views of a user's passkeys (for `GET /v1/me/factors`).
pub async fn views(app: &App, user: &User) -> Result<Vec<PasskeyView>, Error> {
    if user.passkeys == 0 {
        return Ok(Vec::new());
    }
    Ok(passkeys(app, &user.id).await?.iter().map(|(r, _)| PasskeyView::of(r)).collect())
}

/// Stores a ceremony's state; its id.
async fn store_ceremony(
    app: &App,
    tenant: &Tenant,
    kind: CeremonyKind,
    state: Value,
    (user_id, challenge_id, device_id): (Option<UserId>, Option<super::ids::ChallengeId>, Option<String>),
) -> Result<String, Error> {
    let ceremony = Ceremony {
        id: app.new_id("cer"),
        kind,
        tenant_id: tenant.id.clone(),
        user_id,
        challenge_id,
        device_id,
        state,
        expires_at: app.clock.now() + Duration::seconds(CEREMONY_TTL_SECS),
    };
    table::commit(app.store.as_ref(), vec![ceremony.put(Condition::NotExists)?]).await?;
    Ok(ceremony.id)
}

/// Takes a ceremony (deleting it: each is answered once, right or wrong):
/// of this tenant and one of `kinds`, unexpired, else 404
/// `challenge_not_found`.
async fn take_ceremony(app: &App, tenant: &Tenant, id: &str, kinds: &[CeremonyKind]) -> Result<Ceremony, Error> {
    let valid_id = id
        .strip_prefix("cer_")
        .is_some_and(|rest| (1..=64).contains(&rest.len()) && rest.bytes().all(|b| b.is_ascii_alphanumeric()));
    if !valid_id {
        return Err(Error::ChallengeNotFound);
    }
    let (ceremony, version) =
        table::get::<Ceremony>(app.store.as_ref(), &ceremony_key(id)).await?.ok_or(Error::ChallengeNotFound)?;
    match app.store.delete(&ceremony_key(id), Condition::Version(version)).await {
        Ok(()) => {}
        Err(StoreError::ConditionFailed { .. }) => return Err(Error::ChallengeNotFound),
        Err(err) => return Err(err.into()),
    }
    if ceremony.tenant_id != tenant.id || !kinds.contains(&ceremony.kind) || ceremony.expires_at <= app.clock.now() {
        return Err(Error::ChallengeNotFound);
    }
    Ok(ceremony)
}

/// The options of a ceremony as the browser's JSON helpers take them
/// (`PublicKeyCredential.parseCreationOptionsFromJSON` and
/// `parseRequestOptionsFromJSON`): the `publicKey` member's value.
fn public_key(options: Value) -> Value {
    options.get("publicKey").cloned().unwrap_or(options)
}

/// `POST /v1/me/passkeys/options`: starts a registration for the
/// signed-in user, after a step-up (the handler asks for the password): a
/// stolen access token alone cannot add a way in. The credential is
/// discoverable (resident) and needs user verification.
pub async fn begin_registration(
    app: &App,
    tenant: &Tenant,
    user_id: &UserId,
    proof: StepUp,
) -> Result<(String, Value), Error> {
    let webauthn = webauthn(tenant)?;
    let (user, _) = load_user(app, user_id).await?.ok_or(Error::InvalidToken)?;
    step_up(app, tenant, &user, proof).await?;
    let existing = passkeys(app, user_id).await?;
    if existing.len() >= MAX_PASSKEYS {
        return Err(Error::PasskeyLimit);
    }
    let exclude = existing
        .iter()
        .filter_map(|(r, _)| serde_json::from_value::<Passkey>(r.credential.clone()).ok())
        .map(|p| p.cred_id().clone())
        .collect::<Vec<_>>();
    let name = user.sign_in_name();
    let display = format!("{} {}", user.details.first_name, user.details.last_name);
    let display = if display.trim().is_empty() { name.clone() } else { display };
    let (options, state): (CreationChallengeResponse, PasskeyRegistration) = webauthn
        .start_passkey_registration(user_handle(&user.id)?, &name, &display, Some(exclude))
        .map_err(|err| Error::Unavailable { reason: format!("webauthn: {err}"), registration_id: None })?;
    // A discoverable (resident) credential: it signs in without a username.
    let mut options = public_key(serde_json::to_value(&options).unwrap_or_default());
    options["authenticatorSelection"]["residentKey"] = Value::from("required");
    options["authenticatorSelection"]["requireResidentKey"] = Value::from(true);
    let state = serde_json::to_value(&state).map_err(|_| unreadable("ceremony"))?;
    let id =
        store_ceremony(app, tenant, CeremonyKind::Registration, state, (Some(user.id.clone()), None, None)).await?;
    Ok((id, options))
}

/// What a registration answers: the passkey, and the recovery codes when
/// it is the user's first strong factor (shown once).
#[derive(Clone, Debug, Serialize)]
pub struct Registered {
    pub passkey: PasskeyView,
    pub recovery_codes: Option<Vec<String>>,
}

/// `POST /v1/me/passkeys`: the browser's credential for the ceremony. A
/// credential id registered before (to anyone) is refused.
pub async fn finish_registration(
    app: &App,
    tenant: &Tenant,
    user_id: &UserId,
    ceremony_id: &str,
    name: Option<String>,
    credential: Value,
) -> Result<Registered, Error> {
    let webauthn = webauthn(tenant)?;
    let ceremony = take_ceremony(app, tenant, ceremony_id, &[CeremonyKind::Registration]).await?;
    if ceremony.user_id.as_ref() != Some(user_id) {
        return Err(Error::ChallengeNotFound);
    }
    let state: PasskeyRegistration = serde_json::from_value(ceremony.state).map_err(|_| unreadable("ceremony"))?;
    let credential: RegisterPublicKeyCredential =
        serde_json::from_value(credential).map_err(|_| Error::field("credential", "invalid_credential"))?;
    if credential.raw_id.len() > MAX_CREDENTIAL_ID {
        return Err(Error::field("credential", "invalid_credential"));
    }
    let passkey = webauthn
        .finish_passkey_registration(&credential, &state)
        .map_err(|_| Error::field("credential", "invalid_credential"))?;
    let (mut user, version) = load_user(app, user_id).await?.ok_or(Error::InvalidToken)?;
    if user.passkeys as usize >= MAX_PASSKEYS {
        return Err(Error::PasskeyLimit);
    }
    let now = app.clock.now();
    let credential_id = base64_url(passkey.cred_id().as_ref());
    // Refused before the owner is told of a passkey that is not added.
    if app.store.get(&credential_lock_key(&tenant.id, &credential_id)).await?.is_some() {
        return Err(Error::field("credential", "credential_registered"));
    }
    let record = PasskeyRecord {
        id: app.new_id("pk"),
        user_id: user.id.clone(),
        tenant_id: tenant.id.clone(),
        name: name.unwrap_or_else(|| "Passkey".into()),
        credential_id: credential_id.clone(),
        created_at: now,
        last_used_at: None,
        credential: serde_json::to_value(&passkey).map_err(|_| unreadable("passkey"))?,
    };
    let lock = CredentialLock {
        tenant_id: tenant.id.clone(),
        credential_id,
        user_id: user.id.clone(),
        passkey_id: record.id.clone(),
    };
    user.passkeys += 1;
    let codes = super::factors::first_strong_factor_codes(app, &mut user)?;
    user.updated_at = now;
    super::factors::notify(app, &user, "passkey_added").await?;
    let writes = vec![
        user.put(Condition::Version(version))?,
        record.put(Condition::NotExists)?,
        lock.put(Condition::NotExists)?,
        audit_write(app, &user.id, "passkey_added", serde_json::json!({ "passkey_id": record.id }))?,
        {
            let data = serde_json::json!({ "factor": "passkey", "passkey_id": record.id });
            user_event(app, &user, EventType::FactorAdded, None, data)?
        },
    ];
    table::commit(app.store.as_ref(), writes).await.map_err(|err| match err {
        Failed::Condition(Kind::CredentialLock) => Error::field("credential", "credential_registered"),
        other => other.into(),
    })?;
    Ok(Registered { passkey: PasskeyView::of(&record), recovery_codes: codes })
}

fn base64_url(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// `DELETE /v1/me/passkeys/{id}`: after the current password. With no
/// strong factor left, the recovery codes go too.
pub async fn remove(
    app: &App,
    user_id: &UserId,
    passkey_id: &str,
    proof: StepUp,
    tenant: &Tenant,
) -> Result<(), Error> {
    let (mut user, version) = load_user(app, user_id).await?.ok_or(Error::InvalidToken)?;
    step_up(app, tenant, &user, proof).await?;
    let (record, record_version) = table::get::<PasskeyRecord>(app.store.as_ref(), &passkey_key(&user.id, passkey_id))
        .await?
        .ok_or(Error::PasskeyNotFound)?;
    user.passkeys = user.passkeys.saturating_sub(1);
    if !user.has_strong_factor() {
        user.recovery_codes.clear();
    }
    let deletes = vec![
        Write::Delete { key: record.key(), condition: Condition::Version(record_version) },
        Write::Delete {
            key: credential_lock_key(&record.tenant_id, &record.credential_id),
            condition: Condition::Always,
        },
    ];
    let detail = serde_json::json!({ "passkey_id": record.id });
    super::factors::save_factor_change(app, &mut user, version, "passkey_removed", detail, deletes).await?;
    Ok(())
}

/// `POST /v1/auth/passkey/options`: a sign-in with a passkey alone (no
/// `challenge_id`: any discoverable passkey of the tenant's relying party),
/// or the passkey answer to a login's 2FA challenge (its user's passkeys).
pub async fn begin_sign_in(
    app: &App,
    tenant: &Tenant,
    challenge: Option<(super::ids::ChallengeId, UserId)>,
    device_id: &str,
) -> Result<(String, Value), Error> {
    let webauthn = webauthn(tenant)?;
    let fail = |err: webauthn_rs::prelude::WebauthnError| Error::Unavailable {
        reason: format!("webauthn: {err}"),
        registration_id: None,
    };
    let (kind, state, options, owner): (CeremonyKind, Value, RequestChallengeResponse, _) = match challenge {
        None => {
            let (mut options, state): (RequestChallengeResponse, DiscoverableAuthentication) =
                webauthn.start_discoverable_authentication().map_err(fail)?;
            // A button-started sign-in, not the autofill one.
            options.mediation = None;
            let state = serde_json::to_value(&state).map_err(|_| unreadable("ceremony"))?;
            (CeremonyKind::SignIn, state, options, (None, None))
        }
        Some((challenge_id, user_id)) => {
            let keys: Vec<Passkey> = passkeys(app, &user_id)
                .await?
                .into_iter()
                .filter_map(|(r, _)| serde_json::from_value(r.credential).ok())
                .collect();
            if keys.is_empty() {
                return Err(Error::field("challenge_id", "invalid_choice"));
            }
            let (options, state): (RequestChallengeResponse, PasskeyAuthentication) =
                webauthn.start_passkey_authentication(&keys).map_err(fail)?;
            let state = serde_json::to_value(&state).map_err(|_| unreadable("ceremony"))?;
            (CeremonyKind::SecondFactor, state, options, (Some(user_id), Some(challenge_id)))
        }
    };
    let id = store_ceremony(app, tenant, kind, state, (owner.0, owner.1, Some(device_id.to_owned()))).await?;
    Ok((id, public_key(serde_json::to_value(&options).unwrap_or_default())))
}

/// A passkey assertion checked: the user, its passkey record (the counter
/// and backup flags brought up to date, last use now) and the write of it.
pub struct Asserted {
    pub user: User,
    pub ceremony: Ceremony,
    pub record_write: Write,
    pub passkey_id: String,
}

/// `POST /v1/auth/passkey`: checks the assertion of the ceremony (taken,
/// so never twice) on its device. A wrong origin, relying party, signature,
/// counter or a missing user verification: 401 `invalid_credentials`.
pub async fn finish_sign_in(
    app: &App,
    tenant: &Tenant,
    ceremony_id: &str,
    credential: Value,
    device_id: &str,
) -> Result<Asserted, Error> {
    let webauthn = webauthn(tenant)?;
    let ceremony = take_ceremony(app, tenant, ceremony_id, &[CeremonyKind::SignIn, CeremonyKind::SecondFactor]).await?;
    let kind = ceremony.kind;
    if ceremony.device_id.as_deref() != Some(device_id) {
        return Err(Error::InvalidDevice);
    }
    let refused = || Error::InvalidCredentials { retry_after: None };
    let assertion: PublicKeyCredential =
        serde_json::from_value(credential).map_err(|_| Error::field("credential", "invalid_credential"))?;
    if assertion.raw_id.len() > MAX_CREDENTIAL_ID {
        return Err(Error::field("credential", "invalid_credential"));
    }
    // Whose credential: the lock of its id (and the user handle must agree).
    let credential_id = base64_url(assertion.get_credential_id());
    let (lock, _) = table::get::<CredentialLock>(app.store.as_ref(), &credential_lock_key(&tenant.id, &credential_id))
        .await?
        .ok_or_else(refused)?;
    if ceremony.user_id.as_ref().is_some_and(|owner| *owner != lock.user_id) {
        return Err(refused());
    }
    let (mut record, record_version) =
        table::get::<PasskeyRecord>(app.store.as_ref(), &passkey_key(&lock.user_id, &lock.passkey_id))
            .await?
            .ok_or_else(refused)?;
    let mut passkey: Passkey = serde_json::from_value(record.credential.clone()).map_err(|_| unreadable("passkey"))?;
    let verified = verify_assertion(&webauthn, kind, &ceremony, &assertion, &passkey, &lock, &record);
    let result = match verified {
        Ok(result) => result,
        Err(reason) => {
            // The credential is this user's: its failed use is on the trail
            // (a counter gone back is a cloned authenticator).
            let detail = serde_json::json!({ "passkey_id": lock.passkey_id, "device_id": device_id, "reason": reason });
            table::commit(app.store.as_ref(), vec![audit_write(app, &lock.user_id, "passkey_failed", detail)?]).await?;
            return Err(refused());
        }
    };
    passkey.update_credential(&result);
    record.credential = serde_json::to_value(&passkey).map_err(|_| unreadable("passkey"))?;
    record.last_used_at = Some(app.clock.now());
    let (user, _) = load_user(app, &lock.user_id).await?.ok_or_else(refused)?;
    if user.tenant_id != tenant.id {
        return Err(refused());
    }
    if !user.is_active() {
        return Err(Error::AccountInactive);
    }
    Ok(Asserted {
        user,
        ceremony,
        record_write: record.put(Condition::Version(record_version))?,
        passkey_id: lock.passkey_id,
    })
}

/// Verifies an assertion against the ceremony and the stored credential;
/// on refusal, why (for the audit trail).
fn verify_assertion(
    webauthn: &Webauthn,
    kind: CeremonyKind,
    ceremony: &Ceremony,
    assertion: &PublicKeyCredential,
    passkey: &Passkey,
    lock: &CredentialLock,
    record: &PasskeyRecord,
) -> Result<webauthn_rs::prelude::AuthenticationResult, String> {
    let result = match kind {
        CeremonyKind::SignIn => {
            let (handle, _) = webauthn.identify_discoverable_authentication(assertion).map_err(|e| e.to_string())?;
            if user_handle(&lock.user_id).ok() != Some(handle) {
                return Err("user handle of another user".into());
            }
            let state: DiscoverableAuthentication =
                serde_json::from_value(ceremony.state.clone()).map_err(|_| "ceremony unreadable".to_owned())?;
            webauthn.finish_discoverable_authentication_v2(assertion, state, passkey).map_err(|e| e.to_string())?
        }
        _ => {
            let state: PasskeyAuthentication =
                serde_json::from_value(ceremony.state.clone()).map_err(|_| "ceremony unreadable".to_owned())?;
            webauthn.finish_passkey_authentication(assertion, &state).map_err(|e| e.to_string())?
        }
    };
    if !result.user_verified() {
        return Err("user not verified".into());
    }
    // The ceremony's copy of the credential may be older than the stored
    // one: the counter must also pass the stored counter.
    let stored = record.credential["cred"]["counter"].as_u64().unwrap_or(0);
    if (stored > 0 || result.counter() > 0) && u64::from(result.counter()) <= stored {
        return Err("counter went back (a cloned authenticator?)".into());
    }
    Ok(result)
}

/// The e-mail texts of passkey changes exist in every language.
#[cfg(test)]
mod tests {
    #[test]
    fn passkey_notices_are_translated() {
        for lang in crate::domain::values::LANGUAGES {
            for event in ["passkey_added", "passkey_removed"] {
                let subject = crate::i18n::text(lang, &format!("email-{event}-subject"), &[]);
                assert!(!subject.starts_with("email-"), "{lang} {event}: {subject}");
            }
        }
    }
}
