//! Passwordless sign-in by a code (policy `sign_in_methods`: `email_code`,
//! `sms_code`): `POST /v1/auth/code/send` sends a code to the user's
//! verified address or phone, `POST /v1/auth/code` signs in with it. A
//! code proves one factor (the inbox or the phone); a second factor, where
//! one is due, must be another.
//!
//! Neither route tells whether an account exists: the send answers 202 for
//! every name, and its limits (per IP, per name's cooldown and hourly
//! sends) are keyed by the name as typed, known or not; a name that gets no
//! code gets a decoy record and the time a send takes. Checking spends the
//! code's try and the account's lockout attempt before comparing, as a
//! password does, so codes and passwords share one lockout.

use chrono::Duration;

use super::{LoginOutcome, LoginVia, Origin, continue_login};
use crate::app::App;
use crate::domain::codes::{PendingCode, draw_code, hash_code, spend_try};
use crate::domain::credentials::{Attempt, spend_attempt};
use crate::domain::error::Error;
use crate::domain::factors::amr_of;
use crate::domain::ids::UserId;
use crate::domain::limits;
use crate::domain::policy::{Factor, SignInMethod};
use crate::domain::tenant::Tenant;
use crate::domain::user::User;
use crate::domain::values::{EmailAddress, normalized_name};
use crate::i18n::{Arg, text};
use crate::ports::{Condition, Email, Sms, StoreError, Write};
use crate::table::{self, SignInCode, sign_in_code_key, user_key};

/// The hash context of sign-in codes.
const CONTEXT: &str = "sign-in-code";

/// The channel a send uses: the one asked for, else the one the name is
/// (a phone number: `sms`; anything else: `email`), else the tenant's other
/// code method. Refused when the tenant enables no code method, or not the
/// one asked for.
fn channel(tenant: &Tenant, username: &str, asked: Option<Factor>) -> Result<Factor, Error> {
    let enabled = |factor: Factor| {
        let method = if factor == Factor::Sms { SignInMethod::SmsCode } else { SignInMethod::EmailCode };
        tenant.policy.allows_sign_in(method)
    };
    let by_phone = crate::domain::values::Phone::parse(username).is_ok();
    let preferred = asked.unwrap_or(if by_phone { Factor::Sms } else { Factor::Email });
    if enabled(preferred) {
        return Ok(preferred);
    }
    let other = if preferred == Factor::Sms { Factor::Email } else { Factor::Sms };
    match asked {
        None if enabled(other) => Ok(other),
        _ => Err(Error::SignInMethodDisabled),
    }
}

/// Where `user`'s code by `factor` goes: its verified address or phone.
fn destination(user: &User, factor: Factor) -> Option<&str> {
    match factor {
        Factor::Email => user.email.as_ref().map(EmailAddress::as_str).filter(|_| user.email_verified_at.is_some()),
        _ => user.phone.as_deref().filter(|_| user.phone_verified_at.is_some()),
    }
}

/// Whether the tenant enables any code sign-in.
fn any_code_method(tenant: &Tenant) -> bool {
    tenant.policy.allows_sign_in(SignInMethod::EmailCode) || tenant.policy.allows_sign_in(SignInMethod::SmsCode)
}

/// `POST /v1/auth/code/send`: a sign-in code to the verified address or
/// phone of the user `username` names, by `asked` (`email` or `sms`) or the
/// channel the name suggests. The same answer (and about the same time) for
/// unknown and inactive users and for a channel the user lacks.
pub async fn send_sign_in_code(
    app: &App,
    tenant: &Tenant,
    username: &str,
    asked: Option<Factor>,
    origin: Origin<'_>,
) -> Result<(), Error> {
    let factor = channel(tenant, username, asked)?;
    super::count_ip(app, tenant, &origin, "login-ip").await?;
    // Keyed by the name as typed (normalized), known or not: the same 429
    // for everyone.
    let name = limits::destination(app, &tenant.id, &normalized_name(username))?;
    let codes = &tenant.policy.codes;
    // The cooldown first: requests it refuses do not use up the hourly sends.
    limits::cooldown(app, "signin-name", &name, codes.resend_cooldown_secs).await?;
    limits::count(app, "signin-name", &name, 3600, codes.max_sends as u64).await?;
    let ttl_secs = if factor == Factor::Sms { codes.sms_ttl_secs } else { codes.email_ttl_secs };
    let expires_at = app.clock.now() + Duration::seconds(ttl_secs);
    let found = super::find_user(app, tenant, username).await?.map(|(user, ..)| user);
    if found.is_none() {
        // The user read a known name costs.
        app.store.get(&user_key(&UserId::from_new("usr_none".into()))).await?;
    }
    let target =
        found.as_ref().filter(|user| user.is_active()).and_then(|user| Some((user, destination(user, factor)?)));
    let Some((user, to)) = target else {
        return decoy(app, &name, factor, expires_at).await;
    };
    // The destination's own cooldown and hourly sends (a user's three
    // names reach one inbox or phone) and, for a text, the SMS budget:
    // the open allowance, since anyone who knows a name can cause this
    // text (2FA texts keep theirs). Past them no code goes, and the
    // answer is still the same.
    let to_subject = limits::destination(app, &tenant.id, to)?;
    let mut allowed = limits::cooldown(app, "signin-dest", &to_subject, codes.resend_cooldown_secs).await;
    if allowed.is_ok() {
        allowed = limits::count(app, "signin-dest", &to_subject, 3600, codes.max_sends as u64).await;
    }
    if allowed.is_ok() && factor == Factor::Sms {
        allowed = limits::spend_sms(app, tenant, to, limits::SmsAllowance::Open).await;
    }
    if let Err(refused) = allowed {
        tracing::warn!(user_id = %user.id, error = %refused, "sign-in code not sent: over a limit");
        return decoy(app, &name, factor, expires_at).await;
    }
    let code = draw_code(app.random.as_ref(), codes.length, app.sandbox_code(tenant));
    let hash = hash_code(app.settings.code_key()?, CONTEXT, &user.id, &code);
    let record = SignInCode {
        user_id: user.id.to_string(),
        factor,
        destination: to_subject.clone(),
        epoch: user.session_epoch,
        code: PendingCode::issue(app, hash, expires_at),
    };
    // A new code replaces any earlier one for the name.
    app.store.put(record.item(&name)?, Condition::Always).await?;
    let lang = user.details.language.as_str();
    let minutes = (ttl_secs + 59) / 60;
    let args = [("code", Arg::Str(&code)), ("minutes", Arg::Num(minutes))];
    let started = std::time::Instant::now();
    let sent = if factor == Factor::Email {
        let mail = Email {
            to: to.to_owned(),
            subject: text(lang, "email-login-code-subject", &[("code", Arg::Str(&code))]),
            text: text(lang, "sms-login-code-text", &args),
            language: lang.to_owned(),
        };
        app.mailer.send_email(&mail).await
    } else {
        let sms = Sms { to: to.to_owned(), text: text(lang, "sms-login-code-text", &args), language: lang.to_owned() };
        app.texter.send_sms(&sms).await
    };
    app.send_time.record(started.elapsed());
    if let Err(err) = sent {
        // No code stands (an earlier one was replaced), and the name may
        // ask again at once.
        let _ = app.store.delete(&sign_in_code_key(&name), Condition::Always).await;
        limits::clear_cooldown(app, "signin-name", &name).await;
        limits::clear_cooldown(app, "signin-dest", &to_subject).await;
        return Err(err.into());
    }
    Ok(())
}

/// No code for this name: a decoy record that checks like a real one (but
/// never replaces a real code still pending for the name), and the time a
/// send takes here.
async fn decoy(app: &App, name: &str, factor: Factor, expires_at: chrono::DateTime<chrono::Utc>) -> Result<(), Error> {
    let record = SignInCode {
        user_id: String::new(),
        factor,
        destination: String::new(),
        epoch: 0,
        code: PendingCode::issue(app, app.random_token(32), expires_at),
    };
    match app.store.put(record.item(name)?, Condition::NotExists).await {
        Ok(()) | Err(StoreError::ConditionFailed { .. }) => {}
        Err(err) => return Err(err.into()),
    }
    tokio::time::sleep(app.send_time.typical()).await;
    Ok(())
}

/// `POST /v1/auth/code`: signs in with the code sent for `username`. The
/// account's lockout attempt and the code's try are both spent before the
/// comparison; a wrong code answers 422 `invalid_code` (401 with
/// `Retry-After` once the failures lock the account, as for passwords).
/// The right code proves its factor; the login goes on as after a password
/// (a second factor other than this one where due, a required new
/// password, legal documents, a session).
pub async fn sign_in_with_code(
    app: &App,
    tenant: &Tenant,
    username: &str,
    code: &str,
    origin: Origin<'_>,
) -> Result<LoginOutcome, Error> {
    if !any_code_method(tenant) {
        return Err(Error::SignInMethodDisabled);
    }
    super::count_ip(app, tenant, &origin, "login-ip").await?;
    let claimant = super::Claimant::of(app, tenant, username, &origin).await?;
    let refuse = |refused: Error| claimant.refused(app, refused, origin.device_id);
    let count = match spend_attempt(app, &claimant.failures).await? {
        Attempt::Locked { retry_after } => {
            return Err(refuse(Error::InvalidCredentials { retry_after: Some(retry_after) }).await);
        }
        Attempt::Counted { previous_lock_runs: true, count } => return Err(refuse(Attempt::refusal(count)).await),
        Attempt::Counted { count, .. } => count,
    };
    let wrong = |count: u64| match Attempt::refusal(count) {
        Error::InvalidCredentials { retry_after: None } => Error::InvalidCode,
        locked => locked,
    };
    let name = limits::destination(app, &tenant.id, &normalized_name(username))?;
    let key = sign_in_code_key(&name);
    let max_tries = tenant.policy.codes.max_attempts;
    let Some(item) = app.store.get(&key).await? else {
        // No code was asked for this name: spend a try all the same, so
        // the answer and its cost are those of a wrong code.
        let dummy = PendingCode {
            hash: String::new(),
            expires_at: app.clock.now() + Duration::seconds(tenant.policy.codes.email_ttl_secs),
            nonce: hash_code(app.settings.code_key()?, "sign-in-code-none", &tenant.id, &name),
        };
        spend_try(app, &dummy, "-", max_tries).await?;
        return Err(refuse(wrong(count)).await);
    };
    let version = item.version;
    let record: SignInCode = table::decode(item).map_err(|_| Error::InvalidCode)?;
    let candidate = hash_code(app.settings.code_key()?, CONTEXT, &record.user_id, code);
    let right = spend_try(app, &record.code, &candidate, max_tries).await?;
    // The code proves the inbox or phone it went to, for the user it was
    // drawn for, while that is still the user's (a decoy names no user).
    let Some(user) = claimant.user().filter(|user| right && user.id.as_str() == record.user_id).cloned() else {
        return Err(refuse(wrong(count)).await);
    };
    // Still where the code went, and no session end since (a password
    // reset, logout-all, a suspension): otherwise the code is void.
    let current = destination(&user, record.factor).map(|to| limits::destination(app, &tenant.id, to)).transpose()?;
    if current.as_deref() != Some(record.destination.as_str()) || record.epoch != user.session_epoch {
        return Err(refuse(wrong(count)).await);
    }
    let method = if record.factor == Factor::Sms { SignInMethod::SmsCode } else { SignInMethod::EmailCode };
    if !tenant.policy.allows_sign_in(method) {
        return Err(Error::SignInMethodDisabled);
    }
    if !user.is_active() {
        return Err(Error::AccountInactive);
    }
    // Single use: of two right answers at once, one goes on (the other
    // gets the answer every failed code gets). A success forgets the
    // failures.
    let writes = vec![
        Write::Delete { key, condition: Condition::Version(version) },
        Write::Delete { key: claimant.failures.clone(), condition: Condition::Always },
    ];
    let via = LoginVia {
        device_id: origin.device_id,
        by_phone: record.factor == Factor::Sms,
        mfa_passed: false,
        amr: vec![amr_of(record.factor).into()],
        first_factor: Some(record.factor),
    };
    match continue_login(app, tenant, &user, via, writes).await {
        Err(Error::Conflict) => Err(Error::InvalidCode),
        Err(unavailable @ Error::Unavailable { .. }) => {
            // The second factor's code could not be sent, or the store
            // failed: the sign-in code may be spent (it is never restored:
            // a parallel request may have used it), so the name may ask
            // for a new one at once.
            limits::clear_cooldown(app, "signin-name", &name).await;
            limits::clear_cooldown(app, "signin-dest", &record.destination).await;
            Err(unavailable)
        }
        outcome => outcome,
    }
}
