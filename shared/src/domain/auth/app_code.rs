//! The authenticator app's codes and recovery codes as the second factor:
//! the challenge's tries and the user's, then the code (see
//! [`crate::domain::factors::prove`]); a recovery code's use is e-mailed.

use super::{LoginOutcome, LoginVia, Origin, continue_login};
use crate::app::App;
use crate::domain::credentials::trusted_device;
use crate::domain::error::Error;
use crate::domain::factors::{self, Proof};
use crate::domain::policy::Factor;
use crate::domain::tenant::Tenant;
use crate::domain::user::load_user;
use crate::i18n::{Arg, text};
use crate::ports::Email;
use crate::ports::{Condition, Write};
use crate::table::{Challenge, Record, challenge_key};

/// The second factor by an app or recovery code: the challenge's tries,
/// the user's, then the code; the user (its accepted step, or the code
/// used) is written with the session under its version, so of parallel
/// right answers one goes on. A recovery code's use is e-mailed to the
/// owner before anything is written (so a failed send changes nothing and
/// may be retried).
pub(super) async fn verify(
    app: &App,
    tenant: &Tenant,
    challenge: Challenge,
    version: u64,
    factor: Factor,
    code: &str,
    origin: Origin<'_>,
) -> Result<LoginOutcome, Error> {
    let device_id = origin.device_id;
    let (mut user, user_version) = load_user(app, &challenge.user_id).await?.ok_or(Error::InvalidCode)?;
    let tries = factors::challenge_tries_key(challenge.id.as_str());
    let expiry = challenge.expires_at.timestamp() + 60;
    let trusted = trusted_device(app, tenant, &user, origin.device_token);
    let proof = match factors::prove(app, tenant, &mut user, factor, code, (&tries, expiry), trusted.as_deref()).await {
        Ok(proof) => proof,
        Err(Error::InvalidCode) => return Err(super::wrong_second_factor(app, &user.id, factor, device_id).await),
        Err(other) => return Err(other),
    };
    if !user.is_active() || user.session_epoch != challenge.epoch {
        return Err(Error::InvalidCode);
    }
    if let Proof::RecoveryCode { left } = proof
        && let Some(email) = &user.email
    {
        let lang = user.details.language.as_str();
        let mail = Email {
            to: email.to_string(),
            subject: text(lang, "email-recovery-code-used-subject", &[]),
            text: text(lang, "email-recovery-code-used-text", &[("left", Arg::Num(left as i64))]),
            language: lang.to_owned(),
        };
        app.mailer.send_email(&mail).await?;
    }
    user.updated_at = app.clock.now();
    let writes = vec![
        Write::Delete { key: challenge_key(&challenge.id), condition: Condition::Version(version) },
        user.put(Condition::Version(user_version))?,
        factors::proof_audit(app, &user.id, &proof, device_id)?,
    ];
    let via = LoginVia::after(&challenge, device_id, Some(factor));
    continue_login(app, tenant, &user, via, writes)
        .await
        .map_err(|e| if e == Error::Conflict { Error::InvalidCode } else { e })
}
