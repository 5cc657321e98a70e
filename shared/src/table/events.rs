//! The transactional outbox: one item per event, written in the same
//! transaction as the change it tells of, read by whatever delivers events
//! (the table's stream deployed, the in-process feed locally).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{Kind, Record, shard_of, shard_pk, shards_of};
use crate::ports::{Item, Key, StoreError};

/// How long an event item stays in the table: its deliverer has a week.
pub const EVENT_TTL_SECS: i64 = 7 * 24 * 3600;

/// One event as stored and as delivered (its JSON is the payload every
/// receiver gets): never a secret, hash, code or token.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EventRecord {
    /// `evt_…`: the same on every delivery of this event (Standard
    /// Webhooks' `webhook-id`), so a receiver recognises a retry.
    pub id: String,
    /// `user.created`, `password.changed`… (SPEC §11).
    #[serde(rename = "type")]
    pub event_type: String,
    pub tenant: String,
    pub occurred_at: DateTime<Utc>,
    pub user_id: String,
    /// Who made the change when it was not the user (`admin:<token id>`
    /// or a user id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor: Option<String>,
    pub data: serde_json::Value,
}

impl EventRecord {
    /// The event an item holds, when it is an event item.
    pub fn from_item(item: &Item) -> Option<EventRecord> {
        (Kind::of(&item.key) == Kind::Event).then(|| serde_json::from_value(item.body.clone()).ok()).flatten()
    }
}

impl Record for EventRecord {
    /// `EVENT#{tenant}#{shard}` / `{occurred_at}#{id}`: a tenant's events
    /// in time order within each shard (the shard of the event's id, so no
    /// key takes every event of a tenant: SPEC §15).
    fn key(&self) -> Key {
        let pk = shard_pk(&events_of(&self.tenant), shard_of(&self.id));
        Key::new(pk, format!("{}#{}", event_instant(self.occurred_at), self.id))
    }

    fn expires_at(&self) -> Option<i64> {
        Some(self.occurred_at.timestamp() + EVENT_TTL_SECS)
    }
}

/// The partition of a tenant's events before sharding, `EVENT#{tenant}`
/// (its shards are `EVENT#{tenant}#00` to `#31`).
pub fn events_of(tenant_id: &str) -> String {
    format!("EVENT#{tenant_id}")
}

/// Every partition that holds a tenant's events: the unsharded one
/// (events written before sharding, gone with their TTL within a week),
/// then the shards in order. A reader merges them by sort key for the
/// tenant's time order.
pub fn event_partitions(tenant_id: &str) -> Vec<String> {
    shards_of(&events_of(tenant_id))
}

/// An instant as an event's sort key begins with it (sorting as time does).
pub fn event_instant(at: DateTime<Utc>) -> String {
    at.format("%Y%m%dT%H%M%S%.6fZ").to_string()
}

/// Decodes an event item (an error when the item is not one).
pub fn decode_event(item: Item) -> Result<EventRecord, StoreError> {
    super::decode(item)
}
