//! Codes sent by SMS or e-mail as the second factor: drawn, stored with the
//! challenge, sent within the destination's cooldown, hourly sends and the
//! SMS budget, sent again on request (`POST /v1/auth/mfa/send`), and
//! checked (a try spent before each comparison).

use chrono::Duration;

use super::{LoginOutcome, LoginVia, challenge_factors, continue_login, load_challenge};
use crate::app::App;
use crate::domain::codes::{PendingCode, draw_code, hash_code, spend_try};
use crate::domain::error::Error;
use crate::domain::ids::ChallengeId;
use crate::domain::limits;
use crate::domain::policy::Factor;
use crate::domain::tenant::Tenant;
use crate::domain::user::{User, load_user};
use crate::i18n::{Arg, text};
use crate::ports::{Condition, Write};
use crate::ports::{Email, Sms};
use crate::table::{self, Challenge, ChallengeKind, Failed, Kind, Record, challenge_key};
use crate::table::{PendingMfa, pending_mfa_key};

/// Where a second-factor code sent by `channel` (`sms` or `email`) goes,
/// with the code's lifetime.
pub(super) fn code_destination(tenant: &Tenant, user: &User, channel: &str) -> (String, i64) {
    if channel == "email" {
        (user.email.as_ref().map(ToString::to_string).unwrap_or_default(), tenant.policy.codes.email_ttl_secs)
    } else {
        (user.phone.clone().unwrap_or_default(), tenant.policy.codes.sms_ttl_secs)
    }
}

/// The challenge pending for `user` on `device_id` with a code of `channel`
/// that can still be tried: live, of this user's session epoch, tries left.
pub(super) async fn pending_mfa(
    app: &App,
    tenant: &Tenant,
    user: &User,
    device_id: &str,
    channel: &str,
) -> Result<Option<ChallengeId>, Error> {
    let store = app.store.as_ref();
    let Some((pointer, _)) = table::get::<PendingMfa>(store, &pending_mfa_key(&user.id, device_id)).await? else {
        return Ok(None);
    };
    let Some((challenge, _)) = table::get::<Challenge>(store, &challenge_key(&pointer.challenge_id)).await? else {
        return Ok(None);
    };
    let live = challenge.kind == ChallengeKind::Mfa
        && challenge.tenant_id == tenant.id
        && challenge.user_id == user.id
        && challenge.device_id == device_id
        && challenge.epoch == user.session_epoch
        && challenge.channel.as_deref() == Some(channel)
        && challenge.expires_at > app.clock.now();
    let Some(code) = challenge.code.filter(|_| live) else {
        return Ok(None);
    };
    let tried = app.store.get(&table::tries_key(&code)).await?.map_or(0, |counter| counter.version);
    Ok((tried < u64::from(tenant.policy.codes.max_attempts)).then_some(challenge.id))
}

/// Draws a new code for `challenge` (a new one, or one whose code is being
/// resent), stores the challenge under `condition` with `writes` in one
/// transaction, and sends the code. Counted against the destination's
/// hourly sends and, for SMS, the tenant's budget; the caller has started
/// the destination's cooldown, which ends again if nothing was sent. A
/// send that fails removes a new challenge (the login may be tried again)
/// and leaves a resent one with a code nobody has (it may be resent).
pub(super) async fn send_mfa_code(
    app: &App,
    tenant: &Tenant,
    user: &User,
    mut challenge: Challenge,
    condition: Condition,
    mut writes: Vec<Write>,
) -> Result<(), Error> {
    let channel = challenge.channel.clone().unwrap_or_default();
    let (destination, ttl_secs) = code_destination(tenant, user, &channel);
    let subject = limits::destination(app, &tenant.id, &destination)?;
    let max_sends = tenant.policy.codes.max_sends as u64;
    let mut allowed = limits::count(app, "mfa-dest", &subject, 3600, max_sends).await;
    if allowed.is_ok() && channel == "sms" {
        allowed = limits::spend_sms(app, tenant, &destination, limits::SmsAllowance::Verified).await;
    }
    if let Err(refused) = allowed {
        limits::clear_cooldown(app, "mfa-dest", &subject).await;
        return Err(refused);
    }
    let now = app.clock.now();
    let code = draw_code(app.random.as_ref(), tenant.policy.codes.length, app.sandbox_code(tenant));
    let hash = hash_code(app.settings.code_key()?, "mfa", &challenge.id, &code);
    let fresh = matches!(condition, Condition::NotExists);
    challenge.expires_at = now + Duration::seconds(ttl_secs);
    challenge.code = Some(PendingCode::issue(app, hash, challenge.expires_at));
    let pointer = PendingMfa {
        user_id: user.id.clone(),
        device_id: challenge.device_id.clone(),
        challenge_id: challenge.id.clone(),
        expires_at: challenge.expires_at,
    };
    writes.push(challenge.put(condition)?);
    writes.push(pointer.put(Condition::Always)?);
    table::commit(app.store.as_ref(), writes).await.map_err(|e| match e {
        // The challenge itself changed (spent by its code): gone.
        Failed::Condition(Kind::Challenge) => Error::ChallengeNotFound,
        other => other.into(),
    })?;
    let lang = user.details.language.as_str();
    let minutes = (ttl_secs + 59) / 60;
    let args = [("code", Arg::Str(&code)), ("minutes", Arg::Num(minutes))];
    let sent = if channel == "email" {
        let mail = Email {
            to: destination,
            subject: text(lang, "email-login-code-subject", &[("code", Arg::Str(&code))]),
            text: text(lang, "sms-login-code-text", &args),
            language: lang.to_owned(),
        };
        app.mailer.send_email(&mail).await
    } else {
        let sms = Sms { to: destination, text: text(lang, "sms-login-code-text", &args), language: lang.to_owned() };
        app.texter.send_sms(&sms).await
    };
    if let Err(err) = sent {
        if fresh {
            let _ = app.store.delete(&challenge_key(&challenge.id), Condition::Always).await;
        }
        limits::clear_cooldown(app, "mfa-dest", &subject).await;
        return Err(err.into());
    }
    Ok(())
}

/// `POST /v1/auth/mfa/send`: a code by `factor` (one the challenge
/// offers: SMS or e-mail; the one already sent by default), as a new code
/// (an earlier one stops working), within the destination's cooldown and
/// hourly sends like the first.
pub async fn resend_mfa_code(
    app: &App,
    tenant: &Tenant,
    challenge_id: &ChallengeId,
    factor: Option<&str>,
    device_id: &str,
) -> Result<(), Error> {
    let (mut challenge, version) = load_challenge(app, tenant, challenge_id, ChallengeKind::Mfa, device_id).await?;
    let offered = challenge_factors(&challenge);
    let sent: Vec<Factor> = offered.iter().copied().filter(|f| f.is_sent()).collect();
    let factor = match (factor, challenge.channel.as_deref(), sent.as_slice()) {
        (Some(factor), ..) => Factor::parse(factor),
        (None, Some(channel), _) => Factor::parse(channel),
        (None, None, [only]) => Some(*only),
        (None, None, _) => return Err(Error::field("factor", "required")),
    };
    let Some(factor) = factor.filter(|f| sent.contains(f)) else {
        return Err(Error::field("factor", "invalid_choice"));
    };
    let (user, _) = load_user(app, &challenge.user_id).await?.ok_or(Error::ChallengeNotFound)?;
    if !user.is_active() || user.session_epoch != challenge.epoch {
        return Err(Error::ChallengeNotFound);
    }
    challenge.channel = Some(factor.as_str().into());
    let (destination, _) = code_destination(tenant, &user, factor.as_str());
    let subject = limits::destination(app, &tenant.id, &destination)?;
    limits::cooldown(app, "mfa-dest", &subject, tenant.policy.codes.resend_cooldown_secs).await?;
    send_mfa_code(app, tenant, &user, challenge, Condition::Version(version), Vec::new()).await
}

/// The answer to a challenge by the code it sent (`factor`: SMS or
/// e-mail): a try is spent before the comparison; the right code ends the
/// challenge and the login goes on.
pub(super) async fn verify(
    app: &App,
    tenant: &Tenant,
    challenge: Challenge,
    version: u64,
    factor: Factor,
    code: &str,
    device_id: &str,
) -> Result<LoginOutcome, Error> {
    if challenge.channel.as_deref() != Some(factor.as_str()) {
        // No code was sent by this factor (yet): nothing can match.
        return Err(Error::InvalidCode);
    }
    let candidate = hash_code(app.settings.code_key()?, "mfa", &challenge.id, code);
    let pending = challenge.code.as_ref().ok_or(Error::InvalidCode)?;
    if !spend_try(app, pending, &candidate, tenant.policy.codes.max_attempts).await? {
        return Err(super::wrong_second_factor(app, &challenge.user_id, factor, device_id).await);
    }
    // A user no longer active, or whose sessions all ended since the login
    // (a reset, logout-all): the challenge is dead, and answers like any
    // failed code.
    let (user, _) = load_user(app, &challenge.user_id).await?.ok_or(Error::InvalidCode)?;
    if !user.is_active() || user.session_epoch != challenge.epoch {
        return Err(Error::InvalidCode);
    }
    // The session (or the legal documents still to accept) comes with the
    // challenge's end. The right code sent twice at once: one of them goes
    // on; the other answer is the one every failed code gets.
    let writes = vec![Write::Delete { key: challenge_key(&challenge.id), condition: Condition::Version(version) }];
    let via = LoginVia::after(&challenge, device_id, Some(factor));
    continue_login(app, tenant, &user, via, writes)
        .await
        .map_err(|e| if e == Error::Conflict { Error::InvalidCode } else { e })
}
