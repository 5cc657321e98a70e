//! The steps after the factors: a new password the back office required,
//! and the tenant's legal documents in their current versions.

use super::pending_documents;
use super::{LoginOutcome, LoginVia, continue_login, load_challenge};
use crate::app::App;
use crate::domain::error::Error;
use crate::domain::events::{EventType, user_event};
use crate::domain::ids::ChallengeId;
use crate::domain::password::{Password, hash_password};
use crate::domain::passwords::{announce_password, check_new_password};
use crate::domain::tenant::Tenant;
use crate::domain::user::{User, audit_write, load_user};
use crate::ports::{Condition, Write};
use crate::table::{Challenge, ChallengeKind, Record, challenge_key};

/// A login step without a code (a new password, legal documents) and its
/// user, with both versions: the user must still be active (no password, no
/// session otherwise) and have kept its sessions since the login (a reset
/// by the owner ends the login too).
async fn load_step(
    app: &App,
    tenant: &Tenant,
    challenge_id: &ChallengeId,
    kind: ChallengeKind,
    device_id: &str,
) -> Result<(Challenge, u64, User, u64), Error> {
    let (challenge, challenge_version) = load_challenge(app, tenant, challenge_id, kind, device_id).await?;
    // A step stored before steps carried their methods may come from the
    // old order (a new password before the second factor): not honoured,
    // the login starts again (such steps lived five minutes).
    if challenge.amr.is_empty() {
        return Err(Error::ChallengeNotFound);
    }
    let (user, version) = load_user(app, &challenge.user_id).await?.ok_or(Error::ChallengeNotFound)?;
    if !user.is_active() {
        return Err(Error::AccountInactive);
    }
    if user.session_epoch != challenge.epoch {
        return Err(Error::ChallengeNotFound);
    }
    Ok((challenge, challenge_version, user, version))
}

/// The "reset required" challenge: a new password, then the login goes on.
pub async fn complete_password_challenge(
    app: &App,
    tenant: &Tenant,
    challenge_id: &ChallengeId,
    new_password: &Password,
    device_id: &str,
) -> Result<LoginOutcome, Error> {
    let (challenge, challenge_version, mut user, version) =
        load_step(app, tenant, challenge_id, ChallengeKind::PasswordChange, device_id).await?;
    check_new_password(tenant, &user, new_password)?;
    user.password_hash = hash_password(new_password, app.random.as_ref()).await?;
    user.reset_required = false;
    user.updated_at = app.clock.now();
    let writes = vec![
        user.put(Condition::Version(version))?,
        Write::Delete { key: challenge_key(&challenge.id), condition: Condition::Version(challenge_version) },
        audit_write(app, &user.id, "password_changed", serde_json::json!({ "reason": "reset_required" }))?,
        user_event(app, &user, EventType::PasswordChanged, None, serde_json::json!({ "reason": "reset_required" }))?,
    ];
    let via = LoginVia::after(&challenge, device_id, None);
    let outcome = continue_login(app, tenant, &user, via, writes).await?;
    announce_password(app, tenant, &user, "password_changed").await;
    Ok(outcome)
}

/// The legal-acceptance challenge: the user accepts the documents the
/// login listed (each pending one must be accepted: `required` otherwise),
/// recorded with the tenant's current versions and now; then the login goes
/// on (2FA, or a session).
pub async fn accept_legal_documents(
    app: &App,
    tenant: &Tenant,
    challenge_id: &ChallengeId,
    accepted: &[&str],
    device_id: &str,
) -> Result<LoginOutcome, Error> {
    let (challenge, challenge_version, mut user, version) =
        load_step(app, tenant, challenge_id, ChallengeKind::LegalAcceptance, device_id).await?;
    let pending = pending_documents(tenant, &user);
    let missing: Vec<_> = pending
        .iter()
        .filter(|d| !accepted.contains(&d.code))
        .map(|d| {
            crate::domain::FieldError::new(
                if d.code == "terms" { "terms_accepted" } else { "privacy_policy_accepted" },
                "required",
            )
        })
        .collect();
    if !missing.is_empty() {
        return Err(Error::Validation(missing));
    }
    let now = app.clock.now();
    for document in &pending {
        let acceptance = Some(crate::domain::user::Acceptance { version: document.version.clone(), accepted_at: now });
        match document.code {
            "terms" => user.terms = acceptance,
            _ => user.privacy = acceptance,
        }
    }
    user.updated_at = now;
    let writes = vec![
        user.put(Condition::Version(version))?,
        Write::Delete { key: challenge_key(&challenge.id), condition: Condition::Version(challenge_version) },
        audit_write(
            app,
            &user.id,
            "legal_accepted",
            serde_json::json!({ "documents": pending, "device_id": device_id }),
        )?,
        {
            let fields: Vec<&str> = pending.iter().map(|d| d.code).collect();
            user_event(app, &user, EventType::UserUpdated, None, serde_json::json!({ "fields": fields }))?
        },
    ];
    let via = LoginVia::after(&challenge, device_id, None);
    continue_login(app, tenant, &user, via, writes).await
}
