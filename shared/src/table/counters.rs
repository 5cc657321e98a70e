//! Counters: failed password checks and their lock episodes, rate windows and
//! cooldowns. Counters are bare items the store increments atomically
//! (`Store::increment`, `increment_below`, `tally`).

use serde::{Deserialize, Serialize};

use super::{encode, sha256_hex, user_pk};
use crate::domain::ids::{SessionId, UserId};
use crate::ports::{Item, Key, StoreError};

/// The lock episode a failure counter (`account_failures_key`,
/// `device_failures_key`) is in: from its first refused login until the
/// failures are forgotten. Its refusals share one audit entry, so a flood
/// of wrong passwords cannot bury the audit trail.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockEpisode {
    /// The first refusal (epoch seconds): where its entry sits in the trail.
    pub started_at: i64,
    /// When the episode stops collecting refusals at the latest (epoch
    /// seconds; the item's expiry).
    pub ends_at: i64,
    /// The failure counter's expiry as the first refusal read it (it moves
    /// with each failure): a counter of one failure that expires later was
    /// started afresh since (`None`: the counter was gone).
    pub counter_expiry: Option<i64>,
}

impl LockEpisode {
    /// The episode of the counter under `failures`, as an item.
    pub fn item(&self, failures: &Key) -> Result<Item, StoreError> {
        Ok(Item::new(lock_episode_key(failures), encode(self)?, Some(self.ends_at)))
    }

    /// The counter of this episode's refusals (a key per episode, as
    /// `Store::increment` wants).
    pub fn refusals_key(&self, failures: &Key) -> Key {
        Key::new(failures.pk.clone(), format!("EPISODE#{}#{}", episode_tag(failures), self.started_at))
    }

    /// The audit event id of this episode: the same for each of its
    /// refusals, so they all find its entry.
    pub fn event_id(&self, failures: &Key) -> String {
        format!("evt_refusals_{}", episode_tag(failures))
    }
}

/// A failure counter's tag: its sort key (which may hold a device id of
/// any visible ASCII) hashed to 16 hex digits.
fn episode_tag(failures: &Key) -> String {
    sha256_hex(&failures.sk)[..16].to_owned()
}

/// The lock episode a failure counter is in.
pub fn lock_episode_key(failures: &Key) -> Key {
    Key::new(failures.pk.clone(), format!("EPISODE#{}", episode_tag(failures)))
}

/// The account's shared counter of failed password checks.
pub fn account_failures_key(user_id: &UserId) -> Key {
    Key::new(user_pk(user_id), "FAILS")
}

/// A session's counter of wrong step-up passwords.
pub fn step_up_failures_key(user_id: &UserId, session_id: &SessionId) -> Key {
    Key::new(user_pk(user_id), format!("FAILS#STEPUP#{session_id}"))
}

/// A trusted device's own counter of failed password checks.
pub fn device_failures_key(user_id: &UserId, device_id: &str) -> Key {
    Key::new(user_pk(user_id), format!("FAILS#DEVICE#{device_id}"))
}

/// The failure counter of a login name no account has, by the name's keyed
/// hash (`limits::destination`: `<tenant>#<hash>`; the name itself is
/// never stored).
pub fn unknown_name_failures_key(destination: &str) -> Key {
    Key::new(format!("FAILS#{destination}"), "FAILS")
}

/// The counter of `scope`'s events for `subject` in the window starting at
/// `window_start` (epoch seconds).
pub fn rate_key(scope: &str, subject: &str, window_start: i64) -> Key {
    Key::new(format!("RATE#{scope}#{subject}"), format!("W#{window_start}"))
}

/// A running cooldown of `scope` for `subject` (an empty item whose expiry
/// is the cooldown's end).
pub fn cooldown_key(scope: &str, subject: &str) -> Key {
    Key::new(format!("COOLDOWN#{scope}#{subject}"), "COOLDOWN")
}

/// The item of a cooldown that ends at `until` (epoch seconds).
pub fn cooldown_item(scope: &str, subject: &str, until: i64) -> Item {
    Item::new(cooldown_key(scope, subject), serde_json::json!({}), Some(until))
}
