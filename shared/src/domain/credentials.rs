//! What proves a user is who it claims, beyond the single request: the
//! account's lockout (failed password or sign-in code checks, counted before
//! each comparison), the step-up check of a signed-in user's current
//! password (counted per session), and device tokens (a device that signed
//! in before gets a failure allowance of its own).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Duration, Utc};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use super::error::Error;
use super::limits;
use super::password::{CurrentPassword, Password, dummy_hash, verify_password};
use super::tenant::Tenant;
use super::user::{User, audit_write};
use super::values::normalized_name;
use crate::app::App;
use crate::domain::ids::UserId;
use crate::ports::{Condition, Item, Key, StoreError, Write};
use crate::table::{self, account_failures_key, device_failures_key, session_key, unknown_name_failures_key};

/// Failures allowed before the lock starts.
pub const FREE_FAILURES: u32 = 5;
/// The longest lock.
pub const MAX_LOCK_SECS: i64 = 15 * 60;
/// Quiet time after which failures are forgotten.
pub const FAILURE_MEMORY_SECS: i64 = 15 * 60;

/// The counter of failed password checks a login (or a step-up) spends
/// from: a device that signed in before and proves it with its device token
/// has an allowance of its own, which failures from elsewhere cannot touch;
/// every other caller shares the account's. Unknown names count too (under
/// the name's keyed hash), so they answer and cost exactly like known ones.
pub(crate) fn failures_key(
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

/// What spending one attempt from a lockout counter found.
pub(crate) enum Attempt {
    /// A lock runs: refuse without comparing, with the seconds it has left.
    Locked { retry_after: u64 },
    /// The attempt is counted (as a failure until proven right): the
    /// `count`-th in a row. While an earlier failure's lock still runs (a
    /// parallel burst), nothing may be compared.
    Counted { count: u64, previous_lock_runs: bool },
}

impl Attempt {
    /// The answer to a counted attempt that failed: the lock it started.
    pub(crate) fn refusal(count: u64) -> Error {
        let lock = lock_secs(count);
        Error::InvalidCredentials { retry_after: (lock > 0).then_some(lock as u64) }
    }
}

/// Spends one attempt from `key` (a password's or a sign-in code's) before
/// its comparison: one atomic update counts it as a failure until proven
/// right; the count and the previous failure's time decide whether a lock
/// runs, so parallel guesses are counted one by one and a burst gets at
/// most the free failures plus one comparison. A running lock refuses
/// without counting (so a locked owner's retries do not lengthen it).
pub(crate) async fn spend_attempt(app: &App, key: &Key) -> Result<Attempt, Error> {
    let now = app.clock.now().timestamp();
    // The counter lives long enough for the longest lock plus the quiet
    // time; when the failures are forgotten is decided here, from the time
    // of the last failure (the counter's expiry tells it) and its lock.
    let keep = FAILURE_MEMORY_SECS + MAX_LOCK_SECS;
    if let Some(counter) = app.store.get(key).await? {
        let lock_end = counter.expires_at.unwrap_or(now) - keep + lock_secs(counter.version);
        if lock_end > now {
            return Ok(Attempt::Locked { retry_after: (lock_end - now) as u64 });
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
    Ok(Attempt::Counted { count: tally.count, previous_lock_runs })
}

/// [`spend_attempt`] from the counter the caller read with the user
/// (`counter`: `None` when none is live), in one round trip: the counter
/// is written at the version read (so parallel attempts are still counted
/// one by one: the losers of a race take [`spend_attempt`]'s atomic path),
/// with the caller's rate limit `gate` in the same transaction. A running
/// lock counts the gate alone.
pub(crate) async fn spend_read_attempt(
    app: &App,
    key: &Key,
    counter: Option<Item>,
    gate: limits::Gate,
) -> Result<Attempt, Error> {
    let now = app.clock.now().timestamp();
    let keep = FAILURE_MEMORY_SECS + MAX_LOCK_SECS;
    let live = counter.filter(|c| c.is_live(now));
    if let Some(counter) = &live {
        let lock_end = counter.expires_at.unwrap_or(now) - keep + lock_secs(counter.version);
        if lock_end > now {
            gate.pass(app).await?;
            return Ok(Attempt::Locked { retry_after: (lock_end - now) as u64 });
        }
        if now - lock_end >= FAILURE_MEMORY_SECS {
            // Failures to forget first: the atomic path does it.
            gate.pass(app).await?;
            return spend_attempt(app, key).await;
        }
    }
    let (condition, previous) = match &live {
        Some(counter) => (Condition::Version(counter.version), Some((counter.version, counter.expires_at))),
        None => (Condition::NotExists, None),
    };
    let count = previous.map_or(1, |(version, _)| version + 1);
    let put = Write::Put { item: Item::new(key.clone(), serde_json::json!({}), Some(now + keep)), condition };
    match app.store.transact(vec![gate.write.clone(), put]).await {
        Ok(()) => {
            let previous_lock_runs = previous
                .and_then(|(_, expiry)| expiry)
                .is_some_and(|expiry| expiry - keep + lock_secs(count - 1) > now);
            Ok(Attempt::Counted { count, previous_lock_runs })
        }
        Err(StoreError::ConditionFailed { index: 0 }) => Err(gate.refused),
        Err(StoreError::ConditionFailed { .. }) => {
            // A parallel attempt counted since the read: count atomically.
            gate.pass(app).await?;
            spend_attempt(app, key).await
        }
        Err(err) => Err(err.into()),
    }
}

/// Once one password attempt is spent ([`spend_attempt`],
/// [`spend_read_attempt`]), verifies `password` against `hash` (a dummy hash when there is no user,
/// or while locked, so every answer costs one argon2 verification). Locked
/// and wrong answer alike but for `Retry-After`: the lock this failure
/// started, or the time left.
pub(crate) async fn check_password_after(
    attempt: Attempt,
    password: &Password,
    hash: Option<&str>,
) -> Result<(), Error> {
    match attempt {
        Attempt::Locked { retry_after } => {
            verify_password(password, dummy_hash()).await;
            Err(Error::InvalidCredentials { retry_after: Some(retry_after) })
        }
        Attempt::Counted { count, previous_lock_runs } => {
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
            Err(Attempt::refusal(count))
        }
    }
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
        table::commit(
            app.store.as_ref(),
            vec![
                Write::Delete { key: session, condition: Condition::Always },
                audit_write(app, &user.id, "session_ended_step_up", detail)?,
            ],
        )
        .await?;
    }
    Err(Error::IncorrectPassword { field, retry_after: None })
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
pub(crate) fn trusted_device(app: &App, tenant: &Tenant, user: &User, token: Option<&str>) -> Option<String> {
    let id = claimed_device(token?)?;
    let (_, mac) = token?.split_once('.')?;
    let expected = device_mac(app, &tenant.id, user, id).ok()?;
    bool::from(expected.as_bytes().ct_eq(mac.as_bytes())).then(|| id.to_owned())
}

/// The device id a device token names (`dvt_<id>.<mac>`), before its MAC
/// is checked against the user ([`trusted_device`]).
pub(crate) fn claimed_device(token: &str) -> Option<&str> {
    let (id, _) = token.strip_prefix("dvt_")?.split_once('.')?;
    let valid =
        !id.is_empty() && id.len() <= 64 && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    valid.then_some(id)
}

/// How a takeover path proves it is the account's owner.
pub enum StepUp {
    /// The current password (counted toward the session's step-up tries).
    Password(CurrentPassword),
    /// A sign-in at this time (the session's `auth_time`), enough within the
    /// tenant's `step_up_window_secs`.
    SignedInAt(Option<DateTime<Utc>>),
}

pub(crate) async fn step_up(app: &App, tenant: &Tenant, user: &User, proof: StepUp) -> Result<(), Error> {
    match proof {
        StepUp::Password(current) => check_current_password(app, user, &current, "current_password").await,
        StepUp::SignedInAt(Some(at)) if app.clock.now() - at < Duration::seconds(tenant.policy.step_up_window_secs) => {
            Ok(())
        }
        StepUp::SignedInAt(_) => Err(Error::StepUpRequired),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_free_failures_start_no_lock() {
        for count in 0..=u64::from(FREE_FAILURES) {
            assert_eq!(lock_secs(count), 0, "failure {count}");
        }
    }

    #[test]
    fn each_failure_after_the_free_ones_doubles_the_lock() {
        let locks: Vec<i64> = (6..=14).map(lock_secs).collect();
        assert_eq!(locks, [2, 4, 8, 16, 32, 64, 128, 256, 512]);
    }

    #[test]
    fn the_lock_stops_growing_at_fifteen_minutes() {
        assert_eq!(MAX_LOCK_SECS, 15 * 60);
        for count in [15, 16, 25, 26, 1_000, u64::MAX] {
            assert_eq!(lock_secs(count), MAX_LOCK_SECS, "failure {count}");
        }
    }
}
