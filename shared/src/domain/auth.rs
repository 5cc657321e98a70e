//! Login (with lockout, 2FA and the "reset required" challenge), rotating
//! refresh tokens with a grace window and reuse detection, logout, and the
//! password flows.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::Duration;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use super::codes::{PendingCode, draw_code, hash_code, spend_try};
use super::error::Error;
use super::factors::{self, Proof};
use super::limits;
use super::password::{CurrentPassword, Password, dummy_hash, hash_password, needs_rehash, verify_password};
use super::policy::{Factor, Usernames};
use super::tenant::Tenant;
use super::user::{
    RefreshRecord, Session, Tokens, User, audit_write, load_user, open_session, refresh_token, sweep_sessions,
    tokens_for, user_by_lock,
};
use super::values::Status;
use super::values::{EmailAddress, Phone, Username};
use crate::app::App;
use crate::domain::ids::{ChallengeId, RefreshToken, SessionId, UserId};
use crate::i18n::{Arg, text};
use crate::ports::{Condition, Email, Key, SendError, Sms, StoreError, Write};
use crate::table::{
    self, Challenge, ChallengeKind, PendingMfa, Record, ResetRecord, account_failures_key, challenge_key,
    device_failures_key, email_lock_key, pending_mfa_key, phone_lock_key, refresh_key, reset_key, session_key,
    unknown_name_failures_key, user_key, username_lock_key,
};

/// How long a rotated refresh token still returns its successor.
pub const REFRESH_GRACE_SECS: i64 = 10;
/// Failures allowed before the lock starts.
pub const FREE_FAILURES: u32 = 5;
/// The longest lock.
pub const MAX_LOCK_SECS: i64 = 15 * 60;
/// Quiet time after which failures are forgotten.
pub const FAILURE_MEMORY_SECS: i64 = 15 * 60;
const CHALLENGE_TTL_SECS: i64 = 5 * 60;

/// Where a login came from.
#[derive(Clone, Copy, Debug)]
pub struct Origin<'a> {
    pub ip: &'a str,
    pub device_id: &'a str,
    /// The device token a previous login on this device received.
    pub device_token: Option<&'a str>,
}

/// What a correct password leads to.
#[derive(Debug)]
pub enum LoginOutcome {
    Tokens(Tokens),
    /// The second factor: the factors the user may answer with, strongest
    /// first, and the one a code was sent by (if one was).
    Mfa {
        challenge_id: ChallengeId,
        factors: Vec<Factor>,
        channel: Option<&'static str>,
        /// The seconds until a code may be sent by `sms` (or e-mail) again,
        /// when the login came within the destination's cooldown: the
        /// challenge is answered anyway, with the user's other factors.
        retry_after: Option<u64>,
    },
    PasswordChange {
        challenge_id: ChallengeId,
    },
    /// Legal documents the user has not accepted in their current version.
    LegalAcceptance {
        challenge_id: ChallengeId,
        documents: Vec<PendingDocument>,
    },
}

/// A legal document (`terms` or `privacy`) and the version to accept.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct PendingDocument {
    pub code: &'static str,
    pub version: String,
}

/// The tenant's legal documents that `user` has not accepted in their
/// current version: none accepted yet (a back-office creation left them
/// pending) or an older version than the tenant's.
pub fn pending_documents(tenant: &Tenant, user: &User) -> Vec<PendingDocument> {
    [("terms", &user.terms, &tenant.policy.terms_version), ("privacy", &user.privacy, &tenant.policy.privacy_version)]
        .into_iter()
        .filter(|(_, accepted, current)| accepted.as_ref().is_none_or(|a| &a.version != *current))
        .map(|(code, _, current)| PendingDocument { code, version: current.clone() })
        .collect()
}

/// A login name as the lookup sees it (the normalized e-mail or E.164
/// phone), so every spelling of one name shares one failure counter whether
/// or not an account exists.
fn normalized_name(username: &str) -> String {
    if let Ok(email) = EmailAddress::parse(username) {
        return email.to_string();
    }
    if let Ok(phone) = Phone::parse(username) {
        return phone.as_str().to_owned();
    }
    username.trim().to_lowercase()
}

/// Finds the user for a login name: an e-mail address, an E.164 phone, or
/// (for tenants with usernames) a username in any case.
async fn find_user(app: &App, tenant: &Tenant, username: &str) -> Result<Option<(User, u64, bool)>, Error> {
    if let Ok(email) = EmailAddress::parse(username) {
        let found = user_by_lock(app, &email_lock_key(&tenant.id, email.as_str())).await?;
        return Ok(found.map(|(user, version)| (user, version, false)));
    }
    if let Ok(phone) = Phone::parse(username) {
        let found = user_by_lock(app, &phone_lock_key(&tenant.id, phone.as_str())).await?;
        return Ok(found.map(|(user, version)| (user, version, true)));
    }
    if tenant.policy.usernames != Usernames::Off
        && let Ok(name) = Username::parse(username)
    {
        let found = user_by_lock(app, &username_lock_key(&tenant.id, &name)).await?;
        return Ok(found.map(|(user, version)| (user, version, false)));
    }
    Ok(None)
}

/// The counter of failed password checks a login (or a step-up) spends
/// from: a device that signed in before and proves it with its device token
/// has an allowance of its own, which failures from elsewhere cannot touch;
/// every other caller shares the account's. Unknown names count too (under
/// the name's keyed hash), so they answer and cost exactly like known ones.
fn failures_key(
    app: &App,
    tenant: &Tenant,
    user: Option<&User>,
    username: &str,
    trusted_device: Option<&str>,
) -> Result<Key, Error> {
    Ok(match (user, trusted_device) {
        (Some(user), Some(device)) => device_failures_key(&user.id, device),
        (Some(user), None) => account_failures_key(&user.id),
        (None, _) => unknown_name_failures_key(&limits::destination(app, &tenant.id, &normalized_name(username))?),
    })
}

/// The lock the `count`-th failure in a row starts: none for the free
/// failures, then 2^(n-5) s, at most [`MAX_LOCK_SECS`].
fn lock_secs(count: u64) -> i64 {
    let over = count.saturating_sub(u64::from(FREE_FAILURES));
    if over == 0 { 0 } else { (1i64 << over.min(20)).min(MAX_LOCK_SECS) }
}

/// Spends one password attempt from `key`, then verifies `password` against
/// `hash` (a dummy hash when there is no user, or while locked, so every
/// answer costs one argon2 verification). Every comparison is preceded by
/// one atomic update that counts the attempt as a failure until proven
/// right; the count and the previous failure's time decide whether a lock
/// runs, so parallel guesses are counted one by one and a burst gets at most
/// the free failures plus one comparison. Locked and wrong answer alike but
/// for `Retry-After`: the lock this failure started, or the time left.
async fn spend_password_attempt(app: &App, key: &Key, password: &Password, hash: Option<&str>) -> Result<(), Error> {
    let now = app.clock.now().timestamp();
    // The counter lives long enough for the longest lock plus the quiet
    // time; when the failures are forgotten is decided here, from the time
    // of the last failure (the counter's expiry tells it) and its lock.
    let keep = FAILURE_MEMORY_SECS + MAX_LOCK_SECS;
    if let Some(counter) = app.store.get(key).await? {
        let lock_end = counter.expires_at.unwrap_or(now) - keep + lock_secs(counter.version);
        if lock_end > now {
            // A running lock refuses without counting (so a locked owner's
            // retries do not lengthen it), with the time it has left.
            verify_password(password, dummy_hash()).await;
            return Err(Error::InvalidCredentials { retry_after: Some((lock_end - now) as u64) });
        }
        if now - lock_end >= FAILURE_MEMORY_SECS {
            // Quiet since the lock ended: forget, unless a failure came in
            // meanwhile (it moved the expiry on).
            let condition = counter.expires_at.map_or(Condition::Version(counter.version), Condition::ExpiresAt);
            match app.store.delete(key, condition).await {
                Ok(()) | Err(StoreError::ConditionFailed { .. }) => {}
                Err(err) => return Err(err.into()),
            }
        }
    }
    let tally = app.store.tally(key, now + keep).await?;
    let previous_lock_runs =
        tally.previous_expiry.is_some_and(|expiry| expiry - keep + lock_secs(tally.count - 1) > now);
    match hash {
        Some(hash) if !previous_lock_runs => {
            if verify_password(password, hash).await {
                return Ok(());
            }
        }
        _ => {
            verify_password(password, dummy_hash()).await;
        }
    }
    let lock = lock_secs(tally.count);
    Err(Error::InvalidCredentials { retry_after: (lock > 0).then_some(lock as u64) })
}

/// An account's lockout as the back office sees it: the failures counted
/// (0 once forgotten), when the last one was, and until when the account is
/// locked, if it is.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Lockout {
    pub failed_attempts: u64,
    pub last_failure_at: Option<chrono::DateTime<chrono::Utc>>,
    pub locked_until: Option<chrono::DateTime<chrono::Utc>>,
}

/// The lockout of `user_id`'s account (its shared allowance; a device's own
/// allowance is not shown), read as the login reads it.
pub async fn lockout(app: &App, user_id: &UserId) -> Result<Lockout, Error> {
    let now = app.clock.now().timestamp();
    let Some(counter) = app.store.get(&account_failures_key(user_id)).await? else {
        return Ok(Lockout::default());
    };
    let last_failure = counter.expires_at.unwrap_or(now) - (FAILURE_MEMORY_SECS + MAX_LOCK_SECS);
    let lock_end = last_failure + lock_secs(counter.version);
    if now - lock_end >= FAILURE_MEMORY_SECS {
        return Ok(Lockout::default());
    }
    let at = |secs: i64| chrono::DateTime::from_timestamp(secs, 0);
    Ok(Lockout {
        failed_attempts: counter.version,
        last_failure_at: at(last_failure),
        locked_until: if lock_end > now { at(lock_end) } else { None },
    })
}

/// Wrong step-up passwords a session may send: the last of them ends it.
pub const STEP_UP_TRIES: u64 = 5;
/// How long a session's wrong step-up passwords are remembered: as long as
/// the longest session may live (policy bound), so a stolen refresh token
/// does not get five new guesses a day.
const STEP_UP_MEMORY_SECS: i64 = 400 * 24 * 3600;

/// A step-up: the current password of a signed-in user, counted per
/// session, not against the account's login lockout (an attacker who keeps
/// the account locked from outside must not lock the signed-in owner out
/// of its own password change). The try is spent before the comparison
/// (so parallel guesses count one by one); the [`STEP_UP_TRIES`]-th wrong
/// one ends the session, and a session past them is refused outright. A
/// success forgets the session's failures; a failure answers as a wrong
/// `field`.
pub(crate) async fn check_current_password(
    app: &App,
    user: &User,
    current: &CurrentPassword,
    field: &'static str,
) -> Result<(), Error> {
    let key = table::step_up_failures_key(&user.id, &current.session_id);
    let now = app.clock.now().timestamp();
    let spent = app.store.increment(&key, now + STEP_UP_MEMORY_SECS).await?;
    if spent > STEP_UP_TRIES {
        verify_password(&current.password, dummy_hash()).await;
        return Err(Error::InvalidToken);
    }
    if verify_password(&current.password, &user.password_hash).await {
        app.store.delete(&key, Condition::Always).await?;
        return Ok(());
    }
    if spent == STEP_UP_TRIES {
        let session = session_key(&user.id, &current.session_id);
        let detail = serde_json::json!({ "session_id": current.session_id, "step_up_failures": spent });
        app.store
            .transact(vec![
                Write::Delete { key: session, condition: Condition::Always },
                audit_write(app, &user.id, "session_ended_step_up", detail)?,
            ])
            .await?;
    }
    Err(Error::IncorrectPassword { field, retry_after: None })
}

/// Checks a password. Unknown users and locked accounts cost one (dummy)
/// argon2 verification too, and all three answer alike.
pub async fn login(
    app: &App,
    tenant: &Tenant,
    username: &str,
    password: &Password,
    origin: Origin<'_>,
) -> Result<LoginOutcome, Error> {
    let per_ip = tenant.policy.ip_limits.logins_per_5_min;
    limits::count(app, "login-ip", &format!("{}#{}", tenant.id, origin.ip), 300, per_ip).await?;
    let found = find_user(app, tenant, username).await?;
    let user = found.as_ref().map(|(user, ..)| user);
    let trusted = user.and_then(|user| trusted_device(app, tenant, user, origin.device_token));
    let failures = failures_key(app, tenant, user, username, trusted.as_deref())?;
    let hash = user.map(|user| user.password_hash.as_str());
    if let Err(refused) = spend_password_attempt(app, &failures, password, hash).await {
        if let (Some(user), Error::InvalidCredentials { retry_after }) = (user, &refused) {
            // Once per lock episode, with a count: a flood cannot bury the trail.
            let refusal = super::refusals::Refusal {
                failures: &failures,
                retry_after: *retry_after,
                forgotten_after_secs: FAILURE_MEMORY_SECS,
                device_id: origin.device_id,
                trusted_device: trusted.is_some(),
            };
            // Never changes the answer: a store hiccup here must not turn a
            // known name's refusal into a 503 an unknown name never gets.
            if let Err(err) = super::refusals::audit_refusal(app, &user.id, refusal).await {
                tracing::warn!(user_id = %user.id, error = %err, "refused sign-in not audited");
            }
        }
        return Err(refused);
    }
    let Some((mut user, version, by_phone)) = found else {
        return Err(Error::InvalidCredentials { retry_after: None });
    };
    if !user.is_active() {
        return Err(Error::AccountInactive);
    }
    // A success forgets the failures (of this device, or of the account).
    let mut writes = vec![Write::Delete { key: failures, condition: Condition::Always }];
    if needs_rehash(&user.password_hash) {
        user.password_hash = hash_password(password, app.random.as_ref()).await?;
        user.updated_at = app.clock.now();
        writes.push(user.put(Condition::Version(version))?);
    }
    let via = LoginVia { device_id: origin.device_id, by_phone, mfa_passed: false, amr: vec!["pwd".into()] };
    continue_login(app, tenant, &user, via, writes).await
}

/// The HMAC that makes a device token unforgeable, bound to tenant, user,
/// the user's session epoch (so ending every session — a reset, a password
/// change, logout-all — also ends every device token) and the token's id.
fn device_mac(app: &App, tenant_id: &str, user: &User, id: &str) -> Result<String, Error> {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(app.settings.refresh_key()?)
        .unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
    let epoch = user.session_epoch.to_string();
    for part in ["device-token", tenant_id, user.id.as_str(), epoch.as_str(), id] {
        mac.update(&(part.len() as u64).to_be_bytes());
        mac.update(part.as_bytes());
    }
    Ok(URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes()))
}

/// A device token for a device that just signed in: `dvt_<id>.<mac>`. It is
/// not stored; presented at a later login it proves that this device signed
/// in as this user before (OWASP's device cookie), and so earns the device
/// a failure allowance of its own.
pub fn device_token(app: &App, tenant_id: &str, user: &User) -> Result<String, Error> {
    let id = app.random_token(16);
    Ok(format!("dvt_{id}.{}", device_mac(app, tenant_id, user, &id)?))
}

/// The id of a valid device token of `user`, if one was presented.
fn trusted_device(app: &App, tenant: &Tenant, user: &User, token: Option<&str>) -> Option<String> {
    let (id, mac) = token?.strip_prefix("dvt_")?.split_once('.')?;
    if id.is_empty() || id.len() > 64 || !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
        return None;
    }
    let expected = device_mac(app, &tenant.id, user, id).ok()?;
    bool::from(expected.as_bytes().ct_eq(mac.as_bytes())).then(|| id.to_owned())
}

/// A login step without a code (a new password, legal documents), stored
/// with `writes` in one transaction.
async fn step_challenge(
    app: &App,
    tenant: &Tenant,
    user: &User,
    via: &LoginVia<'_>,
    mut writes: Vec<Write>,
    kind: ChallengeKind,
) -> Result<ChallengeId, Error> {
    let challenge = new_challenge(app, tenant, user, via, kind);
    writes.push(Write::Put { item: challenge.item()?, condition: Condition::NotExists });
    app.store.transact(writes).await?;
    Ok(challenge.id)
}

/// After the first factor, in this order (SPEC §5): the second factor, a
/// new password the back office required, the legal documents to accept,
/// then a new session (with `writes` in the same transaction). Each step
/// is asked for only once every earlier one passed, so nothing a later
/// step stores (a new password, a consent) can be chosen with the password
/// alone.
async fn continue_login(
    app: &App,
    tenant: &Tenant,
    user: &User,
    via: LoginVia<'_>,
    mut writes: Vec<Write>,
) -> Result<LoginOutcome, Error> {
    let device_id = via.device_id;
    if !via.mfa_passed {
        // The code key's id matters only to a user with an app.
        let key_id = if user.totp.is_some() { factors::key_id(app)? } else { String::new() };
        let offered = factors::offered(tenant, user, via.by_phone, &key_id);
        if !offered.is_empty() {
            return start_mfa(app, tenant, user, &via, writes, offered).await;
        }
        // Required by the tenant, or the user had 2FA on with factors the
        // tenant no longer allows: never a password-only sign-in.
        if tenant.policy.second_factors.required || user.mfa_enabled() {
            return Err(Error::MfaUnavailable);
        }
    }
    if user.reset_required {
        let challenge_id = step_challenge(app, tenant, user, &via, writes, ChallengeKind::PasswordChange).await?;
        return Ok(LoginOutcome::PasswordChange { challenge_id });
    }
    let documents = pending_documents(tenant, user);
    if !documents.is_empty() {
        let challenge_id = step_challenge(app, tenant, user, &via, writes, ChallengeKind::LegalAcceptance).await?;
        return Ok(LoginOutcome::LegalAcceptance { challenge_id, documents });
    }
    let mfa_passed = via.mfa_passed;
    let (session_writes, mut tokens) = open_session(app, tenant, user, Some(device_id), via.amr)?;
    tokens.device_token = Some(device_token(app, &tenant.id, user)?);
    writes.extend(session_writes);
    let detail = if mfa_passed {
        serde_json::json!({ "device_id": device_id, "mfa": true })
    } else {
        serde_json::json!({ "device_id": device_id })
    };
    writes.push(audit_write(app, &user.id, "logged_in", detail)?);
    app.store.transact(writes).await?;
    Ok(LoginOutcome::Tokens(tokens))
}

/// Where a second-factor code sent by `channel` (`sms` or `email`) goes,
/// with the code's lifetime.
fn code_destination(tenant: &Tenant, user: &User, channel: &str) -> (String, i64) {
    if channel == "email" {
        (user.email.clone(), tenant.policy.codes.email_ttl_secs)
    } else {
        (user.phone.clone().unwrap_or_default(), tenant.policy.codes.sms_ttl_secs)
    }
}

/// The factors a challenge offers (its channel alone for challenges
/// written before there were others).
fn challenge_factors(challenge: &Challenge) -> Vec<Factor> {
    if challenge.factors.is_empty() {
        challenge.channel.as_deref().and_then(Factor::parse).into_iter().collect()
    } else {
        challenge.factors.clone()
    }
}

/// A new step of `user`'s login (no code, no factors yet), for
/// [`CHALLENGE_TTL_SECS`].
fn new_challenge(app: &App, tenant: &Tenant, user: &User, via: &LoginVia<'_>, kind: ChallengeKind) -> Challenge {
    Challenge {
        id: ChallengeId::from_new(app.new_id("chl")),
        kind,
        tenant_id: tenant.id.clone(),
        user_id: user.id.clone(),
        device_id: via.device_id.to_owned(),
        channel: None,
        factors: Vec::new(),
        by_phone: via.by_phone,
        code: None,
        expires_at: app.clock.now() + Duration::seconds(CHALLENGE_TTL_SECS),
        epoch: user.session_epoch,
        mfa_passed: via.mfa_passed,
        amr: via.amr.clone(),
    }
}

/// Starts the second factor. A user with an app (or a passkey) gets a
/// challenge listing its factors and no code: SMS or e-mail only go out if
/// the client picks them (`POST /v1/auth/mfa/send`). A user whose one
/// factor is a sent code gets it at once, sent to the credential the login
/// did not name. A login again within the code's cooldown (an abandoned
/// attempt, a second tab) gets the challenge still pending for the user on
/// that device back, and no new code; with none pending (signed out and in
/// again, another device), a challenge without a code, listing the factors
/// the login offers (an app or a passkey answer at once) and when a text
/// may be sent again (`POST /v1/auth/mfa/send`). The cooldown itself is never a 429 here: the owner
/// did nothing wrong.
async fn start_mfa(
    app: &App,
    tenant: &Tenant,
    user: &User,
    via: &LoginVia<'_>,
    mut writes: Vec<Write>,
    offered: Vec<Factor>,
) -> Result<LoginOutcome, Error> {
    let sent = offered.iter().copied().find(|f| f.is_sent());
    let strong = offered.iter().any(|f| matches!(f, Factor::Totp | Factor::Passkey));
    let Some(sent) = sent.filter(|_| !strong) else {
        let mut challenge = new_challenge(app, tenant, user, via, ChallengeKind::Mfa);
        challenge.factors = offered.clone();
        writes.push(Write::Put { item: challenge.item()?, condition: Condition::NotExists });
        app.store.transact(writes).await?;
        return Ok(LoginOutcome::Mfa {
            challenge_id: challenge.id,
            factors: offered,
            channel: None,
            retry_after: None,
        });
    };
    let channel = sent.as_str();
    let (destination, _) = code_destination(tenant, user, channel);
    let subject = limits::destination(app, &tenant.id, &destination)?;
    match limits::cooldown(app, "mfa-dest", &subject, tenant.policy.codes.resend_cooldown_secs).await {
        Ok(()) => {}
        Err(Error::RateLimited { retry_after }) => {
            if let Some(pending) = pending_mfa(app, tenant, user, via.device_id, channel).await? {
                if !writes.is_empty() {
                    app.store.transact(writes).await?;
                }
                let challenge_id = pending;
                return Ok(LoginOutcome::Mfa {
                    challenge_id,
                    factors: offered,
                    channel: Some(channel),
                    retry_after: None,
                });
            }
            // Exactly the factors the login offers: adding the e-mail's code
            // here would let whoever holds the inbox (and the password)
            // answer for an SMS-protected account.
            let mut challenge = new_challenge(app, tenant, user, via, ChallengeKind::Mfa);
            challenge.factors = offered.clone();
            writes.push(Write::Put { item: challenge.item()?, condition: Condition::NotExists });
            app.store.transact(writes).await?;
            let (challenge_id, retry_after) = (challenge.id, Some(retry_after));
            return Ok(LoginOutcome::Mfa { challenge_id, factors: offered, channel: None, retry_after });
        }
        Err(other) => return Err(other),
    }
    let mut challenge = new_challenge(app, tenant, user, via, ChallengeKind::Mfa);
    challenge.factors = offered.clone();
    challenge.channel = Some(channel.into());
    let id = challenge.id.clone();
    send_mfa_code(app, tenant, user, challenge, Condition::NotExists, writes).await?;
    Ok(LoginOutcome::Mfa { challenge_id: id, factors: offered, channel: Some(channel), retry_after: None })
}

/// The challenge pending for `user` on `device_id` with a code of `channel`
/// that can still be tried: live, of this user's session epoch, tries left.
async fn pending_mfa(
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
async fn send_mfa_code(
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
    let at = writes.len();
    writes.push(challenge.put(condition)?);
    writes.push(pointer.put(Condition::Always)?);
    app.store.transact(writes).await.map_err(|e| match e {
        // The challenge itself changed (spent by its code): gone.
        StoreError::ConditionFailed { index } if index == at => Error::ChallengeNotFound,
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

/// How the login named the user, from which device, and what it proved.
#[derive(Clone, Debug)]
struct LoginVia<'a> {
    device_id: &'a str,
    by_phone: bool,
    /// The second factor is proven already.
    mfa_passed: bool,
    /// The methods proven so far (RFC 8176), for the session's `amr`.
    amr: Vec<String>,
}

impl LoginVia<'_> {
    /// A login step's `via` after `challenge`, with `factor` proven now
    /// (a second factor: `mfa` joins the methods).
    fn after<'d>(challenge: &Challenge, device_id: &'d str, factor: Option<Factor>) -> LoginVia<'d> {
        let mut amr = challenge.amr.clone();
        if amr.is_empty() {
            // A challenge stored before challenges carried their methods
            // came after the password.
            amr.push("pwd".into());
        }
        let mut mfa_passed = challenge.mfa_passed;
        if let Some(factor) = factor {
            amr.push(factors::amr_of(factor).into());
            mfa_passed = true;
        }
        if mfa_passed && !amr.iter().any(|m| m == "mfa") {
            amr.push("mfa".into());
        }
        amr.dedup();
        LoginVia { device_id, by_phone: challenge.by_phone, mfa_passed, amr }
    }
}

async fn load_challenge(
    app: &App,
    tenant: &Tenant,
    id: &ChallengeId,
    kind: ChallengeKind,
    device_id: &str,
) -> Result<(Challenge, u64), Error> {
    let item = app.store.get(&challenge_key(id)).await?.ok_or(Error::ChallengeNotFound)?;
    let version = item.version;
    let challenge: Challenge = table::decode(item)?;
    if challenge.tenant_id != tenant.id || challenge.kind != kind || challenge.expires_at <= app.clock.now() {
        return Err(Error::ChallengeNotFound);
    }
    if challenge.device_id != device_id {
        return Err(Error::InvalidDevice);
    }
    Ok((challenge, version))
}

/// The second factor: a code of one of the factors the login offered
/// (`factor`; by default the one a code was sent by, else the app).
/// Limited per IP (like the login), per challenge (its tries) and, for app
/// and recovery codes, per user across logins.
pub async fn verify_mfa(
    app: &App,
    tenant: &Tenant,
    challenge_id: &ChallengeId,
    factor: Option<Factor>,
    code: &str,
    origin: Origin<'_>,
) -> Result<LoginOutcome, Error> {
    let per_ip = tenant.policy.ip_limits.logins_per_5_min;
    limits::count(app, "mfa-ip", &format!("{}#{}", tenant.id, origin.ip), 300, per_ip).await?;
    let device_id = origin.device_id;
    // A challenge that is gone (spent by the right code, expired) answers
    // like a wrong code: during a burst, the requests after a success must
    // not look different from those before it.
    let (challenge, version) = load_challenge(app, tenant, challenge_id, ChallengeKind::Mfa, device_id)
        .await
        .map_err(|err| if err == Error::ChallengeNotFound { Error::InvalidCode } else { err })?;
    let offered = challenge_factors(&challenge);
    let factor = factor
        .or_else(|| challenge.channel.as_deref().and_then(Factor::parse))
        .or_else(|| offered.iter().copied().find(|f| *f == Factor::Totp));
    let Some(factor) = factor else {
        return Err(Error::field("factor", "required"));
    };
    if !offered.contains(&factor) || factor == Factor::Passkey {
        return Err(Error::field("factor", "invalid_choice"));
    }
    if !factor.is_sent() {
        return verify_strong_code(app, tenant, challenge, version, factor, code, origin).await;
    }
    if challenge.channel.as_deref() != Some(factor.as_str()) {
        // No code was sent by this factor (yet): nothing can match.
        return Err(Error::InvalidCode);
    }
    let candidate = hash_code(app.settings.code_key()?, "mfa", &challenge.id, code);
    let pending = challenge.code.as_ref().ok_or(Error::InvalidCode)?;
    if !spend_try(app, pending, &candidate, tenant.policy.codes.max_attempts).await? {
        return Err(Error::InvalidCode);
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

/// The second factor by an app or recovery code: the challenge's tries,
/// the user's, then the code; the user (its accepted step, or the code
/// used) is written with the session under its version, so of parallel
/// right answers one goes on. A recovery code's use is e-mailed to the
/// owner before anything is written (so a failed send changes nothing and
/// may be retried).
async fn verify_strong_code(
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
        Err(Error::InvalidCode) => {
            let detail = serde_json::json!({ "factor": factor, "device_id": device_id });
            app.store.transact(vec![audit_write(app, &user.id, "mfa_failed", detail)?]).await?;
            return Err(Error::InvalidCode);
        }
        Err(other) => return Err(other),
    };
    if !user.is_active() || user.session_epoch != challenge.epoch {
        return Err(Error::InvalidCode);
    }
    if let Proof::RecoveryCode { left } = proof
        && !user.email.is_empty()
    {
        let lang = user.details.language.as_str();
        let mail = Email {
            to: user.email.clone(),
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
    let per_ip = tenant.policy.ip_limits.logins_per_5_min;
    limits::count(app, "login-ip", &format!("{}#{}", tenant.id, origin.ip), 300, per_ip).await?;
    let owner = match challenge_id {
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
    super::passkeys::begin_sign_in(app, tenant, owner, origin.device_id).await
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
    let per_ip = tenant.policy.ip_limits.logins_per_5_min;
    limits::count(app, "login-ip", &format!("{}#{}", tenant.id, origin.ip), 300, per_ip).await?;
    let device_id = origin.device_id;
    let asserted = super::passkeys::finish_sign_in(app, tenant, ceremony_id, credential, device_id).await?;
    let user = asserted.user;
    let detail = serde_json::json!({ "device_id": device_id, "passkey_id": asserted.passkey_id });
    let mut writes = vec![asserted.record_write, audit_write(app, &user.id, "passkey_used", detail)?];
    // A passkey alone proves two factors: the device, and the user's PIN or
    // biometrics it verified.
    let mut via = LoginVia { device_id, by_phone: false, mfa_passed: true, amr: vec!["hwk".into(), "mfa".into()] };
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
            super::FieldError::new(
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
        let acceptance = Some(super::user::Acceptance { version: document.version.clone(), accepted_at: now });
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
    ];
    let via = LoginVia::after(&challenge, device_id, None);
    continue_login(app, tenant, &user, via, writes).await
}

/// The successor of a refresh token: derived, not stored, so a token
/// presented again within the grace window gets the very same successor.
fn successor(app: &App, user_id: &UserId, session_id: &SessionId, token: &str) -> Result<String, Error> {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(app.settings.refresh_key()?)
        .unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
    mac.update(b"refresh-successor:");
    mac.update(token.as_bytes());
    Ok(refresh_token(user_id, session_id, &URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())))
}

/// Exchanges a refresh token for a new access token and its successor.
pub async fn refresh(app: &App, tenant: &Tenant, token: &RefreshToken, device_id: &str) -> Result<Tokens, Error> {
    let (user_id, session_id) = (token.user_id(), token.session_id());
    let token = token.expose();
    // One retry: a parallel refresh may rotate the token between our read
    // and our write; then the grace path answers with the same successor.
    for _ in 0..2 {
        // The record, its session and the user in one round trip.
        let key = refresh_key(token);
        let keys = [key.clone(), session_key(user_id, session_id), user_key(user_id)];
        let mut items = app.store.get_many(&keys).await?.into_iter();
        let (item, session_item, user_item) = (items.next().flatten(), items.next().flatten(), items.next().flatten());
        let item = item.ok_or(Error::InvalidToken)?;
        let version = item.version;
        let mut record: RefreshRecord = table::decode(item)?;
        if record.tenant_id != tenant.id || record.user_id != *user_id || record.session_id != *session_id {
            return Err(Error::InvalidToken);
        }
        let session_item = session_item.ok_or(Error::InvalidToken)?;
        let session_version = session_item.version;
        let mut session: Session = table::decode(session_item)?;
        // Suspended, disabled and closed users cannot refresh, even if a
        // session survived the status change.
        // and sessions of an ended epoch (logout-all, reset, …) are dead.
        // The user is read here anyway: the new access token takes its
        // roles from it as they are now, not as they were at sign-in.
        let user = match user_item.map(table::decode::<User>).transpose()? {
            Some(user) if user.is_active() && user.session_valid(&session) => user,
            _ => return Err(Error::InvalidToken),
        };
        match &session.device_id {
            Some(bound) if bound != device_id => return Err(Error::InvalidDevice),
            _ => {}
        }
        let now = app.clock.now();
        // Unused past the tenant's idle timeout: ended, like an expired one.
        if super::sessions::idle(tenant, &session, now) {
            super::sessions::end_idle(app, &session).await?;
            return Err(Error::InvalidToken);
        }
        let next = successor(app, user_id, session_id, token)?;
        if let Some(rotated_at) = record.rotated_at {
            if now - rotated_at <= Duration::seconds(REFRESH_GRACE_SECS) {
                return tokens_for(app, tenant, &session, &user, next);
            }
            // Reuse after the window: someone holds a stolen token. Kill the family.
            tracing::warn!(session_id = %session.id, "refresh token reused; session revoked");
            app.store
                .transact(vec![
                    Write::Delete { key: session_key(&session.user_id, &session.id), condition: Condition::Always },
                    audit_write(
                        app,
                        &session.user_id,
                        "refresh_reuse_detected",
                        serde_json::json!({ "session_id": session.id }),
                    )?,
                ])
                .await?;
            return Err(Error::InvalidToken);
        }
        record.rotated_at = Some(now);
        let fresh = RefreshRecord {
            session_id: session.id.clone(),
            user_id: session.user_id.clone(),
            tenant_id: tenant.id.clone(),
            issued_at: now,
            expires_at: session.expires_at,
            rotated_at: None,
        };
        // The old record stays (until its TTL) to recognise reuse.
        let mut writes = vec![record.put(token, Condition::Version(version))?, fresh.put(&next, Condition::NotExists)?];
        // The session, as read (so it still exists): bound to the device on
        // its first refresh, and used now (the idle timeout counts from here).
        session.device_id.get_or_insert_with(|| device_id.to_owned());
        session.last_used_at = Some(now);
        writes.push(Write::Put { item: session.item()?, condition: Condition::Version(session_version) });
        match app.store.transact(writes).await {
            Ok(()) => return tokens_for(app, tenant, &session, &user, next),
            Err(StoreError::ConditionFailed { index: 2 }) => return Err(Error::InvalidToken),
            Err(StoreError::ConditionFailed { .. }) => continue,
            Err(err) => return Err(err.into()),
        }
    }
    Err(Error::Conflict)
}

/// The tenant's password rules, including "not the e-mail's local part".
fn check_new_password(tenant: &Tenant, user: &User, password: &Password) -> Result<(), Error> {
    let email = EmailAddress::parse(&user.email).ok();
    let errors =
        super::values::password_errors(&tenant.policy.password, "new_password", password.expose(), email.as_ref());
    if errors.is_empty() { Ok(()) } else { Err(Error::Validation(errors)) }
}

/// Ends one session.
pub async fn logout(app: &App, user_id: &UserId, session_id: &SessionId) -> Result<(), Error> {
    app.store
        .transact(vec![
            Write::Delete { key: session_key(user_id, session_id), condition: Condition::Always },
            audit_write(app, user_id, "logged_out", serde_json::json!({ "session_id": session_id }))?,
        ])
        .await?;
    Ok(())
}

/// Ends every session of the user at once (one write of the user, however
/// many sessions there are), then sweeps their items; returns how many
/// session items were swept.
pub async fn logout_all(app: &App, user_id: &UserId) -> Result<usize, Error> {
    for _ in 0..3 {
        let (mut user, version) = load_user(app, user_id).await?.ok_or(Error::InvalidToken)?;
        user.end_sessions(None);
        let writes = vec![
            user.put(Condition::Version(version))?,
            audit_write(app, user_id, "logged_out_everywhere", serde_json::json!({}))?,
        ];
        match app.store.transact(writes).await {
            Ok(()) => return Ok(sweep_sessions(app, &user).await),
            Err(StoreError::ConditionFailed { .. }) => continue,
            Err(err) => return Err(err.into()),
        }
    }
    Err(Error::Conflict)
}

/// Sends a reset code if the account exists; answers the same either way.
pub async fn forgot_password(app: &App, tenant: &Tenant, email: &EmailAddress, ip: &str) -> Result<(), Error> {
    limits::count(app, "reset-ip", &format!("{}#{ip}", tenant.id), 3600, tenant.policy.ip_limits.resets_per_hour)
        .await?;
    let subject = limits::destination(app, &tenant.id, email.as_str())?;
    limits::count(app, "reset-dest", &subject, 3600, tenant.policy.codes.max_sends as u64).await?;
    limits::cooldown(app, "reset-dest", &subject, tenant.policy.codes.resend_cooldown_secs).await?;
    let now = app.clock.now();
    let ttl = Duration::seconds(tenant.policy.codes.email_ttl_secs);
    let found = user_by_lock(app, &email_lock_key(&tenant.id, email.as_str())).await?;
    // Active users reset; invited (created) users get their invitation again.
    let user = match found {
        Some((user, _)) if user.is_active() || user.status == Status::Created => user,
        other => {
            // No code goes out, but the answer takes as long as when one
            // does: the user read, a (decoy) record a reset tries against
            // like a real one, and the time a send takes here.
            if other.is_none() {
                app.store.get(&user_key(&UserId::from_new("usr_none".into()))).await?;
            }
            let decoy = PendingCode::issue(app, app.random_token(32), now + ttl);
            let decoy = ResetRecord { user_id: String::new(), code: decoy };
            app.store.put(decoy.item(&subject)?, Condition::Always).await?;
            tokio::time::sleep(app.send_time.typical()).await;
            return Ok(());
        }
    };
    issue_reset_code(app, tenant, &user, &subject).await
}

/// Sends `user` a password-reset code by e-mail (for an invited user, the
/// invitation again) within the address's hourly sends and cooldown: the
/// back office's "send a reset".
pub(crate) async fn send_reset_code(app: &App, tenant: &Tenant, user: &User) -> Result<(), Error> {
    if user.email.is_empty() {
        // Signed up with its phone alone: no address to send to.
        return Err(Error::field("method", "no_email"));
    }
    let subject = limits::destination(app, &tenant.id, &user.email)?;
    limits::count(app, "reset-dest", &subject, 3600, tenant.policy.codes.max_sends as u64).await?;
    limits::cooldown(app, "reset-dest", &subject, tenant.policy.codes.resend_cooldown_secs).await?;
    issue_reset_code(app, tenant, user, &subject).await
}

/// Stores a new reset code for `user`'s address and e-mails it; a failed
/// send removes it and ends the cooldown of `subject` again.
async fn issue_reset_code(app: &App, tenant: &Tenant, user: &User, subject: &str) -> Result<(), Error> {
    let now = app.clock.now();
    // An invited user gets its invitation again (with an invitation's life).
    let invited = user.status == Status::Created;
    let ttl = if invited {
        Duration::hours(super::users::INVITATION_TTL_HOURS)
    } else {
        Duration::seconds(tenant.policy.codes.email_ttl_secs)
    };
    let key = reset_key(subject);
    let code = draw_code(app.random.as_ref(), tenant.policy.codes.length, app.sandbox_code(tenant));
    let hash = hash_code(app.settings.code_key()?, "password-reset", &user.id, &code);
    let pending = ResetRecord { user_id: user.id.to_string(), code: PendingCode::issue(app, hash, now + ttl) };
    app.store.put(pending.item(subject)?, Condition::Always).await?;
    let lang = user.details.language.as_str();
    let minutes = (tenant.policy.codes.email_ttl_secs + 59) / 60;
    let name = ("name", Arg::Str(&user.details.first_name));
    let mail = if invited {
        let hours = ("hours", Arg::Num(super::users::INVITATION_TTL_HOURS));
        Email {
            to: user.email.clone(),
            subject: text(lang, "email-invite-subject", &[]),
            text: text(lang, "email-invite-text", &[name, ("code", Arg::Str(&code)), hours]),
            language: lang.to_owned(),
        }
    } else {
        Email {
            to: user.email.clone(),
            subject: text(lang, "email-reset-subject", &[]),
            text: text(lang, "email-reset-text", &[name, ("code", Arg::Str(&code)), ("minutes", Arg::Num(minutes))]),
            language: lang.to_owned(),
        }
    };
    let started = std::time::Instant::now();
    let sent = app.mailer.send_email(&mail).await;
    app.send_time.record(started.elapsed());
    if let Err(err) = sent {
        let _ = app.store.delete(&key, Condition::Always).await;
        limits::clear_cooldown(app, "reset-dest", subject).await;
        return Err(err.into());
    }
    Ok(())
}

/// Sets a new password with the e-mailed code; every session ends.
pub async fn reset_password(
    app: &App,
    tenant: &Tenant,
    email: &EmailAddress,
    code: &str,
    new_password: &Password,
    ip: &str,
) -> Result<(), Error> {
    limits::count(app, "reset-ip", &format!("{}#{ip}", tenant.id), 3600, tenant.policy.ip_limits.resets_per_hour)
        .await?;
    let key = reset_key(&limits::destination(app, &tenant.id, email.as_str())?);
    let max_tries = tenant.policy.codes.max_attempts;
    let Some(item) = app.store.get(&key).await? else {
        // No code was sent to this address (no account, or none asked for):
        // spend a try all the same, so the answer and its cost are those of
        // a wrong code for a known address.
        let dummy = PendingCode {
            hash: String::new(),
            expires_at: app.clock.now() + Duration::seconds(tenant.policy.codes.email_ttl_secs),
            nonce: hash_code(app.settings.code_key()?, "password-reset-unknown", &tenant.id, email.as_str()),
        };
        spend_try(app, &dummy, "-", max_tries).await?;
        return Err(Error::InvalidCode);
    };
    let version = item.version;
    let ResetRecord { user_id, code: pending } = table::decode(item).map_err(|_| Error::InvalidCode)?;
    let candidate = hash_code(app.settings.code_key()?, "password-reset", &user_id, code);
    if !spend_try(app, &pending, &candidate, max_tries).await? {
        return Err(Error::InvalidCode);
    }
    // A decoy's (empty) user id names no user.
    let user_id = UserId::parse(&user_id).ok_or(Error::InvalidCode)?;
    let (mut user, user_version) = load_user(app, &user_id).await?.ok_or(Error::InvalidCode)?;
    user.password_hash = hash_password(new_password, app.random.as_ref()).await?;
    user.reset_required = false;
    user.updated_at = app.clock.now();
    let invited = user.status == Status::Created;
    let mut writes = vec![
        user.put(Condition::Version(user_version))?,
        Write::Delete { key, condition: Condition::Version(version) },
        // The account's lock ends with the new password.
        Write::Delete { key: account_failures_key(&user.id), condition: Condition::Always },
        audit_write(app, &user.id, "password_reset", serde_json::json!({}))?,
    ];
    if user.status == Status::Created {
        // Accepting an invitation proves the address and activates the user.
        let before = user.clone();
        user.status = Status::Active;
        writes.extend(table::user_index_writes(Some(&before), &user)?);
        user.email_verified_at = Some(user.updated_at);
        writes[0] = user.put(Condition::Version(user_version))?;
        writes.push(audit_write(
            app,
            &user.id,
            "status_changed",
            serde_json::json!({
                "from": "created", "to": "active", "reason": "invitation accepted", "by": user.id,
            }),
        )?);
    }
    // Every session ends with the same write as the new password.
    user.end_sessions(None);
    writes[0] = user.put(Condition::Version(user_version))?;
    app.store.transact(writes).await.map_err(|e| match e {
        StoreError::ConditionFailed { .. } => Error::InvalidCode,
        other => other.into(),
    })?;
    // An invited user who just chose its first password needs no notice.
    if !invited {
        announce_password(app, tenant, &user, "password_reset").await;
    }
    sweep_sessions(app, &user).await;
    Ok(())
}

/// Changes the password of a signed-in user (a step-up: the current one
/// counts toward the session's step-up tries); other sessions end.
pub async fn change_password(
    app: &App,
    tenant: &Tenant,
    session: &Session,
    current: &Password,
    new_password: &Password,
) -> Result<(), Error> {
    let (mut user, version) =
        load_user(app, &session.user_id).await?.filter(|(u, _)| u.is_active()).ok_or(Error::InvalidToken)?;
    let current = CurrentPassword { password: current.clone(), session_id: session.id.clone() };
    check_current_password(app, &user, &current, "current_password").await?;
    check_new_password(tenant, &user, new_password)?;
    user.password_hash = hash_password(new_password, app.random.as_ref()).await?;
    user.updated_at = app.clock.now();
    user.end_sessions(Some(session));
    let writes = vec![
        user.put(Condition::Version(version))?,
        audit_write(app, &user.id, "password_changed", serde_json::json!({ "reason": "user" }))?,
    ];
    app.store.transact(writes).await?;
    announce_password(app, tenant, &user, "password_changed").await;
    sweep_sessions(app, &user).await;
    Ok(())
}

/// Tells the owner that its password changed (`event`: `password_changed`
/// or `password_reset`; ASVS 2.2.3): by e-mail, or by SMS to a verified
/// phone where the user has no address. Sent after the change is stored,
/// best effort: the change stands (whoever made it proved it may), and a
/// notice that could not go out is logged for the operator.
async fn announce_password(app: &App, tenant: &Tenant, user: &User, event: &str) {
    let lang = user.details.language.as_str();
    let sent = if !user.email.is_empty() {
        let mail = Email {
            to: user.email.clone(),
            subject: text(lang, &format!("email-{event}-subject"), &[]),
            text: text(lang, &format!("email-{event}-text"), &[]),
            language: lang.to_owned(),
        };
        app.mailer.send_email(&mail).await
    } else if let (Some(phone), Some(_)) = (&user.phone, user.phone_verified_at) {
        let sms =
            Sms { to: phone.clone(), text: text(lang, &format!("sms-{event}-text"), &[]), language: lang.to_owned() };
        match limits::spend_sms(app, tenant, phone, limits::SmsAllowance::Verified).await {
            Ok(()) => app.texter.send_sms(&sms).await,
            Err(err) => Err(SendError(err.to_string())),
        }
    } else {
        return;
    };
    if let Err(err) = sent {
        tracing::error!(user_id = %user.id, %event, error = %err, "password notice not sent");
    }
}
