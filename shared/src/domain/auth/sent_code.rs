//! Codes sent by SMS or e-mail as the second factor: drawn, stored with the
//! challenge, sent within the destination's cooldown, hourly sends and the
//! SMS budget, sent again on request (`POST /v1/auth/mfa/send`), and
//! checked (a try spent before each comparison).

use chrono::Duration;

use super::{LoginOutcome, LoginVia, challenge_factors, continue_login, load_challenge};
use crate::app::App;
use crate::domain::codes::{PendingCode, draw_code, hash_code, is_right, try_write};
use crate::domain::error::Error;
use crate::domain::ids::ChallengeId;
use crate::domain::limits;
use crate::domain::policy::Factor;
use crate::domain::tenant::Tenant;
use crate::domain::user::{User, load_user};
use crate::i18n::{Arg, text};
use crate::ports::{Condition, StoreError, Write};
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

/// Whether [`send_mfa_code`] sent the code, or found the destination's
/// cooldown running (the cooldown it was to start, folded into its write).
pub(super) enum Sent {
    Sent,
    CoolingDown,
}

/// Draws a new code for `challenge` (a new one, or one whose code is being
/// resent), stores the challenge under `condition` with `writes` in one
/// transaction, and sends the code. Counted against the destination's
/// hourly sends and, for SMS, the tenant's budget, in that transaction;
/// with `cooldown` (the destination's, to start) there too, so a login's
/// code costs one write; without it the caller has started the cooldown,
/// which ends again if nothing was sent. A send that fails removes a new
/// challenge (the login may be tried again) and leaves a resent one with a
/// code nobody has (it may be resent).
pub(super) async fn send_mfa_code(
    app: &App,
    tenant: &Tenant,
    user: &User,
    mut challenge: Challenge,
    condition: Condition,
    mut writes: Vec<Write>,
    cooldown: Option<Write>,
) -> Result<Sent, Error> {
    let channel = challenge.channel.clone().unwrap_or_default();
    let (destination, ttl_secs) = code_destination(tenant, user, &channel);
    let subject = limits::destination(app, &tenant.id, &destination)?;
    let max_sends = tenant.policy.codes.max_sends as u64;
    let folded = cooldown.is_some();
    let mut gates = vec![limits::gate(app, "mfa-dest", &subject, 3600, max_sends)];
    if channel == "sms" {
        match limits::sms_gates(app, tenant, &destination, limits::SmsAllowance::Verified) {
            Ok(sms) => gates.extend(sms),
            Err(refused) => {
                if !folded {
                    limits::clear_cooldown(app, "mfa-dest", &subject).await;
                }
                return Err(refused);
            }
        }
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
    let cooldown_at = writes.len();
    writes.extend(cooldown);
    let gates_at = writes.len();
    let refusals: Vec<Error> = gates.iter().map(|g| g.refused.clone()).collect();
    writes.extend(gates.into_iter().map(|g| g.write));
    writes.push(challenge.put(condition)?);
    writes.push(pointer.put(Condition::Always)?);
    let kinds: Vec<Kind> = writes.iter().map(|w| Kind::of(w.key())).collect();
    match app.store.transact(writes).await {
        Ok(()) => {}
        Err(StoreError::ConditionFailed { index }) if folded && index == cooldown_at => return Ok(Sent::CoolingDown),
        Err(StoreError::ConditionFailed { index }) if (gates_at..gates_at + refusals.len()).contains(&index) => {
            if !folded {
                limits::clear_cooldown(app, "mfa-dest", &subject).await;
            }
            return Err(limits::sms_refused(tenant, refusals[index - gates_at].clone()));
        }
        // The challenge itself changed (spent by its code): gone.
        Err(StoreError::ConditionFailed { index }) if kinds.get(index) == Some(&Kind::Challenge) => {
            return Err(Error::ChallengeNotFound);
        }
        Err(StoreError::ConditionFailed { index }) => {
            return Err(Failed::Condition(kinds.get(index).copied().unwrap_or(Kind::Unknown)).into());
        }
        Err(err) => return Err(err.into()),
    }
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
    Ok(Sent::Sent)
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
    send_mfa_code(app, tenant, &user, challenge, Condition::Version(version), Vec::new(), None).await.map(|_| ())
}

/// The answer to a challenge by the code it sent (`factor`: SMS or
/// e-mail). The caller's address (`gate`) and the code's try are counted
/// in the write the answer makes: a wrong code's (with its audit entry),
/// or the right code's, which ends the challenge and goes on with the
/// login, so the code counts only within its tries.
#[allow(clippy::too_many_arguments)]
pub(super) async fn verify(
    app: &App,
    tenant: &Tenant,
    challenge: Challenge,
    version: u64,
    factor: Factor,
    code: &str,
    device_id: &str,
    gate: limits::Gate,
) -> Result<LoginOutcome, Error> {
    let candidate = hash_code(app.settings.code_key()?, "mfa", &challenge.id, code);
    let max_tries = tenant.policy.codes.max_attempts;
    // No code was sent by this factor (yet): nothing can match.
    let sent = challenge.code.as_ref().filter(|_| challenge.channel.as_deref() == Some(factor.as_str()));
    let Some(pending) = sent else {
        gate.pass(app).await?;
        return Err(Error::InvalidCode);
    };
    let live = app.clock.now() < pending.expires_at;
    if !live || !is_right(pending, &candidate) {
        // A wrong (or expired) code: its try and the address's count.
        let spend = live.then(|| try_write(pending, max_tries));
        return Err(wrong_answer(app, &challenge.user_id, factor, device_id, gate, spend).await);
    }
    // A user no longer active, or whose sessions all ended since the login
    // (a reset, logout-all): the challenge is dead, and answers like any
    // failed code.
    let spent = try_write(pending, max_tries);
    let user = load_user(app, &challenge.user_id).await?.map(|(user, _)| user);
    let Some(user) = user.filter(|u| u.is_active() && u.session_epoch == challenge.epoch) else {
        return Err(wrong_answer(app, &challenge.user_id, factor, device_id, gate, Some(spent)).await);
    };
    // The session (or the legal documents still to accept) comes with the
    // challenge's end. The right code sent twice at once: one of them goes
    // on; the other answer is the one every failed code gets.
    let writes = vec![
        gate.write.clone(),
        spent,
        Write::Delete { key: challenge_key(&challenge.id), condition: Condition::Version(version) },
    ];
    let via = LoginVia::after(&challenge, device_id, Some(factor));
    match continue_login(app, tenant, &user, via, writes).await {
        Err(Error::RateLimited { .. }) => Err(gate.refused),
        // Out of tries, or the challenge spent by a parallel right answer:
        // answered, audited and counted as every wrong code is.
        Err(Error::Conflict | Error::InvalidCode) => {
            Err(wrong_answer(app, &challenge.user_id, factor, device_id, gate, None).await)
        }
        other => other,
    }
}

/// A wrong second factor by a sent code: the address's count, the code's
/// try (`spend`, unless it expired) and the audit entry in one write; a
/// code out of tries is audited all the same.
async fn wrong_answer(
    app: &App,
    user_id: &crate::domain::ids::UserId,
    factor: Factor,
    device_id: &str,
    gate: limits::Gate,
    spend: Option<Write>,
) -> Error {
    let detail = serde_json::json!({ "factor": factor, "device_id": device_id });
    let audit = match crate::domain::user::audit_write(app, user_id, "mfa_failed", detail) {
        Ok(write) => write,
        Err(err) => return err,
    };
    let mut writes = vec![gate.write.clone(), audit.clone()];
    writes.extend(spend);
    match table::commit(app.store.as_ref(), writes).await {
        Ok(()) => Error::InvalidCode,
        Err(Failed::Condition(Kind::RateWindow)) => gate.refused,
        // Out of tries: the failure is still audited.
        Err(Failed::Condition(Kind::Tries)) => match table::commit(app.store.as_ref(), vec![gate.write, audit]).await {
            Ok(()) => Error::InvalidCode,
            Err(Failed::Condition(Kind::RateWindow)) => gate.refused,
            Err(err) => err.into(),
        },
        Err(err) => err.into(),
    }
}
