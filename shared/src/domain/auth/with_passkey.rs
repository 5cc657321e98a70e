//! A passkey (WebAuthn): alone it proves two factors (the device and the
//! PIN or biometrics it verified); as the answer to a login's second
//! factor it ends that challenge.

use super::{LoginOutcome, LoginVia, Origin, challenge_factors, continue_login, load_challenge};
use crate::app::App;
use crate::domain::error::Error;
use crate::domain::ids::ChallengeId;
use crate::domain::policy::Factor;
use crate::domain::policy::SignInMethod;
use crate::domain::tenant::Tenant;
use crate::domain::user::audit_write;
use crate::ports::{Condition, Write};
use crate::table::{ChallengeKind, challenge_key};

/// `POST /v1/auth/passkey/options`: the options of a passkey sign-in
/// (`challenge_id` absent: a passkey alone) or of the passkey answer to a
/// login's 2FA challenge (one that offers `passkey`, on its device).
/// Limited per IP like the login.
pub async fn passkey_options(
    app: &App,
    tenant: &Tenant,
    challenge_id: Option<&ChallengeId>,
    origin: Origin<'_>,
) -> Result<(String, serde_json::Value), Error> {
    super::count_ip(app, tenant, &origin, "login-ip").await?;
    let owner = match challenge_id {
        None if !tenant.policy.allows_sign_in(SignInMethod::Passkey) => return Err(Error::SignInMethodDisabled),
        None => None,
        Some(id) => {
            let (challenge, _) = load_challenge(app, tenant, id, ChallengeKind::Mfa, origin.device_id).await?;
            if !challenge_factors(&challenge).contains(&Factor::Passkey) {
                // Not a malformed field: this account has no passkey to
                // answer with (say so, and which factors remain).
                return Err(Error::PasskeyNotOffered);
            }
            Some((challenge.id, challenge.user_id))
        }
    };
    crate::domain::passkeys::begin_sign_in(app, tenant, owner, origin.device_id).await
}

/// `POST /v1/auth/passkey`: the assertion of a passkey ceremony. A passkey
/// alone (user verified) proves two factors; as a 2FA answer it ends its
/// challenge. Then the login goes on as after any second factor (a new
/// password if required, legal documents, a session).
pub async fn sign_in_with_passkey(
    app: &App,
    tenant: &Tenant,
    ceremony_id: &str,
    credential: serde_json::Value,
    origin: Origin<'_>,
) -> Result<LoginOutcome, Error> {
    super::count_ip(app, tenant, &origin, "login-ip").await?;
    let device_id = origin.device_id;
    let asserted = crate::domain::passkeys::finish_sign_in(app, tenant, ceremony_id, credential, device_id).await?;
    if asserted.ceremony.challenge_id.is_none() && !tenant.policy.allows_sign_in(SignInMethod::Passkey) {
        return Err(Error::SignInMethodDisabled);
    }
    let user = asserted.user;
    let detail = serde_json::json!({ "device_id": device_id, "passkey_id": asserted.passkey_id });
    let mut writes = vec![asserted.record_write, audit_write(app, &user.id, "passkey_used", detail)?];
    // A passkey alone proves two factors: the device, and the user's PIN or
    // biometrics it verified.
    let mut via = LoginVia {
        device_id,
        by_phone: false,
        mfa_passed: true,
        amr: vec!["hwk".into(), "mfa".into()],
        first_factor: None,
    };
    if let Some(challenge_id) = &asserted.ceremony.challenge_id {
        let (challenge, version) = load_challenge(app, tenant, challenge_id, ChallengeKind::Mfa, device_id)
            .await
            .map_err(|_| Error::InvalidCredentials { retry_after: None })?;
        if challenge.user_id != user.id || challenge.epoch != user.session_epoch {
            return Err(Error::InvalidCredentials { retry_after: None });
        }
        via = LoginVia::after(&challenge, device_id, Some(Factor::Passkey));
        writes.push(Write::Delete { key: challenge_key(&challenge.id), condition: Condition::Version(version) });
    }
    continue_login(app, tenant, &user, via, writes)
        .await
        .map_err(|e| if e == Error::Conflict { Error::InvalidCredentials { retry_after: None } } else { e })
}
