//! Refused sign-ins in the audit trail (docs/back-office.md): once per lock
//! episode, with a count, so that a flood of wrong passwords cannot bury a
//! user's history.
//!
//! An episode of a failure counter (the account's, or a trusted device's
//! own) runs from its first refused login until its failures are forgotten:
//! after the quiet time, or when a success, an unlock or a new password
//! starts the counter afresh. Its one audit entry sits at its first refusal,
//! so the trail stays in time order, under an id each of its refusals can
//! compute, and each of them rewrites it in place: how many attempts were
//! refused (wrong passwords and those refused while locked), the last one's
//! time and device, and the latest lock.
//!
//! Three items keep that true under parallel refusals: the episode
//! ([`LockEpisode`], created once, conditionally), a counter of its refusals
//! (one atomic increment each, so every refusal is counted exactly once),
//! and the entry, raised to the highest count by versioned puts. Refusals
//! racing across the end of an episode (a success, then a burst at once)
//! may be counted in either episode's entry; the total stays exact.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::error::Error;
use super::events::{EventType, event_write};
use super::ids::UserId;
use crate::app::App;
use crate::ports::{Condition, Key, StoreError, Write};
use crate::table::{self, AuditEntry, LockEpisode, lock_episode_key};

/// The longest an episode collects refusals: an attack that never pauses
/// long enough to be forgotten gets a new entry every day.
pub const EPISODE_SECS: i64 = 24 * 60 * 60;

/// How long an episode's counter of refusals outlives the episode, for the
/// refusals still under way when it ends.
const REFUSALS_GRACE_SECS: i64 = 60 * 60;

/// How often a refusal tries again when parallel ones change the episode or
/// its entry under it (each try is one write and one read).
const ROUNDS: usize = 16;

/// A refused login of a known user, as the login saw it.
#[derive(Clone, Copy, Debug)]
pub struct Refusal<'a> {
    /// The user's tenant (a lock is told to it: `user.locked`).
    pub tenant_id: &'a str,
    /// The failure counter the attempt spent from (`account_failures_key`,
    /// `device_failures_key`).
    pub failures: &'a Key,
    /// The lock the answer announced (`Retry-After`, seconds), if any.
    pub retry_after: Option<u64>,
    /// How long after its last failure (or the end of its lock) the
    /// counter forgets.
    pub forgotten_after_secs: i64,
    pub device_id: &'a str,
    /// Whether the attempt spent from the device's own allowance.
    pub trusted_device: bool,
}

/// What an episode's entry says (its `detail`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct EpisodeDetail {
    /// Refused attempts so far.
    refused: u64,
    /// The latest one.
    last_at: DateTime<Utc>,
    /// The end of the latest lock, if the episode locked.
    locked_until: Option<DateTime<Utc>>,
    /// The device of the refusal counted last.
    device_id: String,
    trusted_device: bool,
}

impl EpisodeDetail {
    /// `self` updated by `refusal`, counted after it: its count and device;
    /// the later time and the later lock end of the two (parallel refusals
    /// may be counted in another order than they were refused).
    fn merged(&self, refusal: &EpisodeDetail) -> EpisodeDetail {
        EpisodeDetail {
            last_at: self.last_at.max(refusal.last_at),
            locked_until: self.locked_until.max(refusal.locked_until),
            ..refusal.clone()
        }
    }

    /// When the counter has forgotten these failures at the latest.
    fn forgotten_at(&self, forgotten_after_secs: i64) -> DateTime<Utc> {
        self.locked_until.map_or(self.last_at, |until| until.max(self.last_at))
            + Duration::seconds(forgotten_after_secs)
    }

    fn entry(&self, started_at: i64) -> Result<AuditEntry, Error> {
        let event = if self.locked_until.is_some() { "account_locked" } else { "login_failed" };
        let at = DateTime::from_timestamp(started_at, 0).unwrap_or(self.last_at);
        let detail = serde_json::to_value(self).map_err(|e| StoreError::Unavailable(e.to_string()))?;
        Ok(AuditEntry { event: event.to_owned(), at, detail })
    }
}

/// An episode's entry: its key, and what it says with its version if it
/// is stored.
struct EpisodeEntry {
    key: Key,
    stored: Option<(EpisodeDetail, u64)>,
}

impl EpisodeEntry {
    /// The entry of `episode`, not read yet.
    fn of(app: &App, user_id: &UserId, episode: &LockEpisode, failures: &Key) -> Self {
        let started = DateTime::from_timestamp(episode.started_at, 0).unwrap_or_else(|| app.clock.now());
        // Only the key is wanted here: the entry's time and id make it.
        let probe = AuditEntry { event: String::new(), at: started, detail: serde_json::Value::Null };
        EpisodeEntry { key: probe.key(user_id, &episode.event_id(failures)), stored: None }
    }

    async fn reload(&mut self, app: &App) -> Result<(), Error> {
        self.stored = match app.store.get(&self.key).await? {
            Some(item) => {
                let version = item.version;
                let entry: AuditEntry = table::decode(item)?;
                let detail = serde_json::from_value(entry.detail)
                    .map_err(|e| StoreError::Unavailable(format!("lock episode entry unreadable: {e}")))?;
                Some((detail, version))
            }
            None => None,
        };
        Ok(())
    }
}

/// Audits a refused login of `user_id`: counted in the entry of the
/// counter's current episode, which starts here if none runs.
pub async fn audit_refusal(app: &App, user_id: &UserId, refusal: Refusal<'_>) -> Result<(), Error> {
    let now = app.clock.now();
    let (episode, mut entry) = current_episode(app, user_id, &refusal).await?;
    let refusals = episode.refusals_key(refusal.failures);
    let count = app.store.increment(&refusals, episode.ends_at + REFUSALS_GRACE_SECS).await?;
    let mine = EpisodeDetail {
        refused: count,
        last_at: now,
        locked_until: refusal.retry_after.map(|secs| now + Duration::seconds(i64::try_from(secs).unwrap_or(0))),
        device_id: refusal.device_id.to_owned(),
        trusted_device: refusal.trusted_device,
    };
    for round in 0..ROUNDS {
        let (detail, condition) = match &entry.stored {
            None => (mine.clone(), Condition::NotExists),
            // A refusal counted later wrote its count, which includes this
            // one, and its lock (locks only grow with the failures).
            Some((stored, _)) if stored.refused >= count => return Ok(()),
            Some((stored, version)) => (stored.merged(&mine), Condition::Version(*version)),
        };
        let item = detail.entry(episode.started_at)?.item(entry.key.clone())?;
        let mut writes = vec![Write::Put { item, condition }];
        // A lock that starts with this refusal (none was in force) is told
        // in the same transaction as its entry: once per lock.
        let unlocked = |stored: &EpisodeDetail| stored.locked_until.is_none_or(|until| until <= now);
        if let Some(until) = mine.locked_until
            && entry.stored.as_ref().is_none_or(|(stored, _)| unlocked(stored))
        {
            let data = serde_json::json!({ "locked_until": until, "failed_attempts": count });
            writes.push(event_write(app, refusal.tenant_id, user_id, EventType::UserLocked, None, data)?);
        }
        match table::commit(app.store.as_ref(), writes).await {
            Ok(()) => return Ok(()),
            Err(table::Failed::Condition(_)) => {
                // Each lost race raised the stored count; spread the
                // remaining writers out a little.
                let jitter = app.random.below(5 << round.min(4));
                tokio::time::sleep(std::time::Duration::from_millis(u64::from(jitter))).await;
                entry.reload(app).await?;
            }
            Err(err) => return Err(err.into()),
        }
    }
    // The episode's counter holds this refusal, and the next refusal writes
    // a count that includes it: the answer stays the refusal's.
    tracing::warn!(%user_id, count, "lock episode entry contended; its count catches up at the next refusal");
    Ok(())
}

/// The episode the counter is in, and its entry: the one stored, unless the
/// counter started afresh since it began or its failures are forgotten by
/// now; else a new one, starting now.
async fn current_episode(
    app: &App,
    user_id: &UserId,
    refusal: &Refusal<'_>,
) -> Result<(LockEpisode, EpisodeEntry), Error> {
    let now = app.clock.now();
    let episode_key = lock_episode_key(refusal.failures);
    // Two reads at once (not `get_many`: the login's function may read
    // items one by one only, see template.yaml).
    let (counter, stored) = tokio::join!(app.store.get(refusal.failures), app.store.get(&episode_key));
    let (counter, mut stored) = (counter?, stored?);
    let counter_expiry = counter.as_ref().and_then(|c| c.expires_at);
    for _ in 0..ROUNDS {
        if let Some(item) = stored.take() {
            let episode: LockEpisode = table::decode(item)?;
            let mut entry = EpisodeEntry::of(app, user_id, &episode, refusal.failures);
            entry.reload(app).await?;
            // A counter of one failure that expires later than the one the
            // episode began with was started afresh since: a success, an
            // unlock or a new password ended the episode.
            let restarted = counter.as_ref().is_some_and(|c| c.version == 1)
                && episode.counter_expiry.is_none_or(|began| counter_expiry.is_some_and(|now| now > began));
            let forgotten = (entry.stored.as_ref())
                .is_some_and(|(detail, _)| detail.forgotten_at(refusal.forgotten_after_secs) <= now);
            if !restarted && !forgotten {
                return Ok((episode, entry));
            }
            // Ended: make way for the next (unless a parallel refusal
            // already did).
            match app.store.delete(&episode_key, Condition::ExpiresAt(episode.ends_at)).await {
                Ok(()) | Err(StoreError::ConditionFailed { .. }) => {}
                Err(err) => return Err(err.into()),
            }
        }
        let started_at = now.timestamp();
        let episode = LockEpisode { started_at, ends_at: started_at + EPISODE_SECS, counter_expiry };
        match app.store.put(episode.item(refusal.failures)?, Condition::NotExists).await {
            // Its entry is not written yet (one left by an episode started
            // in the same second is found by the first write).
            Ok(()) => {
                let entry = EpisodeEntry::of(app, user_id, &episode, refusal.failures);
                return Ok((episode, entry));
            }
            // A parallel refusal started it: join that one.
            Err(StoreError::ConditionFailed { .. }) => stored = app.store.get(&episode_key).await?,
            Err(err) => return Err(err.into()),
        }
    }
    Err(StoreError::Unavailable("lock episode contended".into()).into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + secs, 0).unwrap()
    }

    fn refusal(refused: u64, last: i64, locked: Option<i64>, device: &str) -> EpisodeDetail {
        EpisodeDetail {
            refused,
            last_at: at(last),
            locked_until: locked.map(at),
            device_id: device.into(),
            trusted_device: false,
        }
    }

    #[test]
    fn a_later_count_keeps_the_latest_time_and_the_longest_lock() {
        // Counted after, refused before (parallel refusals), under the lock
        // of a failure counted earlier.
        let stored = refusal(7, 10, Some(74), "a");
        let merged = stored.merged(&refusal(8, 9, Some(40), "b"));
        assert_eq!(merged, refusal(8, 10, Some(74), "b"));
        assert_eq!(refusal(1, 0, None, "a").merged(&refusal(2, 3, Some(5), "c")), refusal(2, 3, Some(5), "c"));
    }

    #[test]
    fn failures_are_forgotten_after_the_quiet_time_past_the_last_one_or_the_lock() {
        assert_eq!(refusal(3, 100, None, "a").forgotten_at(900), at(1_000));
        assert_eq!(refusal(9, 100, Some(164), "a").forgotten_at(900), at(1_064));
        // A refusal while locked came after the lock it was told of.
        assert_eq!(refusal(9, 200, Some(164), "a").forgotten_at(900), at(1_100));
    }

    #[test]
    fn the_entry_sits_at_the_first_refusal_and_says_whether_it_locked() {
        let entry = refusal(4, 30, None, "a").entry(at(0).timestamp()).unwrap();
        assert_eq!((entry.event.as_str(), entry.at), ("login_failed", at(0)));
        assert_eq!(entry.detail["refused"], 4);
        let locked = refusal(6, 30, Some(32), "a").entry(at(0).timestamp()).unwrap();
        assert_eq!(locked.event, "account_locked");
    }
}
