//! Events (SPEC §11): every change another system must hear of writes an
//! event item in the same transaction as the change (a transactional
//! outbox, `table::EventRecord`); a deliverer reads the committed items and
//! posts each to the tenant's webhook (`policy.webhook`), signed per
//! Standard Webhooks with the event's id as `webhook-id`, at least once.
//!
//! [`publish`] is the one delivery, whoever feeds it: locally the store's
//! committed transactions ([`run_dispatcher`], fed by
//! `adapters::event_feed`), deployed the table's stream (`publish-events`).
//! A request never waits for a delivery and never fails because of one.

use std::collections::HashMap;
use std::time::Duration;

use serde_json::Value;

use super::actor::Actor;
use super::error::Error;
use super::ids::UserId;
use super::tenant::get_tenant;
use crate::app::App;
use crate::ports::Write;
use crate::table::{EventRecord, Record, User};

/// What happened, as receivers read it (`type`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventType {
    UserCreated,
    UserUpdated,
    UserStatusChanged,
    UserClosed,
    UserSignedIn,
    UserLocked,
    PasswordChanged,
    PasswordReset,
    CredentialChanged,
    FactorAdded,
    FactorRemoved,
    SessionsRevoked,
    RolesChanged,
    IdentityLinked,
    IdentityUnlinked,
}

impl EventType {
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::UserCreated => "user.created",
            EventType::UserUpdated => "user.updated",
            EventType::UserStatusChanged => "user.status_changed",
            EventType::UserClosed => "user.closed",
            EventType::UserSignedIn => "user.signed_in",
            EventType::UserLocked => "user.locked",
            EventType::PasswordChanged => "password.changed",
            EventType::PasswordReset => "password.reset",
            EventType::CredentialChanged => "credential.changed",
            EventType::FactorAdded => "factor.added",
            EventType::FactorRemoved => "factor.removed",
            EventType::SessionsRevoked => "sessions.revoked",
            EventType::RolesChanged => "roles.changed",
            EventType::IdentityLinked => "identity.linked",
            EventType::IdentityUnlinked => "identity.unlinked",
        }
    }
}

/// The write of one event of `user_id` in `tenant`, for the transaction of
/// the change it tells of. `data` says what changed, never a secret, hash,
/// code or token. `actor`: who made the change when not the user itself.
pub fn event_write(
    app: &App,
    tenant: &str,
    user_id: &UserId,
    event_type: EventType,
    actor: Option<&Actor>,
    data: Value,
) -> Result<Write, Error> {
    let event = EventRecord {
        id: app.new_id("evt"),
        event_type: event_type.as_str().to_owned(),
        tenant: tenant.to_owned(),
        occurred_at: app.clock.now(),
        user_id: user_id.to_string(),
        actor: actor.map(Actor::label),
        data,
    };
    Ok(event.put(crate::ports::Condition::NotExists)?)
}

/// The write of one event of `user` (in its tenant): see [`event_write`].
pub fn user_event(
    app: &App,
    user: &User,
    event_type: EventType,
    actor: Option<&Actor>,
    data: Value,
) -> Result<Write, Error> {
    event_write(app, &user.tenant_id, &user.id, event_type, actor, data)
}

/// Who a user is, as `user.created` tells it: the names it signs in with,
/// its type and status (never its password's hash or a factor's secret).
pub fn user_summary(user: &User) -> Value {
    serde_json::json!({
        "user_type": user.user_type.as_str(),
        "status": user.status.as_str(),
        "email": user.email.as_ref().map(|e| e.as_str()),
        "email_verified": user.email_verified_at.is_some(),
        "phone": user.phone,
        "phone_verified": user.phone_verified_at.is_some(),
        "username": user.username.as_ref().map(|u| u.as_str()),
        "company_id": user.company_id,
        "roles": user.roles,
    })
}

/// How long one delivery may take.
const DELIVERY_TIMEOUT: Duration = Duration::from_secs(5);

/// Why an event was not delivered (it is tried again).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Undelivered {
    pub event_id: String,
    pub reason: String,
}

/// Delivers `events` once each: to the tenant's webhook when its policy
/// names one (an event of a tenant without one is done). Returns those not
/// delivered, for the caller to try again (the local dispatcher after a
/// backoff; deployed, the stream's retry and then its dead-letter queue).
pub async fn publish(app: &App, events: &[EventRecord]) -> Vec<Undelivered> {
    let mut webhooks: HashMap<String, Option<String>> = HashMap::new();
    let mut undelivered = Vec::new();
    for event in events {
        let url = match webhooks.get(&event.tenant) {
            Some(url) => url.clone(),
            None => match get_tenant(app.store.as_ref(), &event.tenant).await {
                Ok(tenant) => {
                    let url = tenant.and_then(|t| t.policy.webhook).map(|w| w.url);
                    webhooks.insert(event.tenant.clone(), url.clone());
                    url
                }
                Err(err) => {
                    undelivered.push(Undelivered { event_id: event.id.clone(), reason: err.to_string() });
                    continue;
                }
            },
        };
        let Some(url) = url else { continue };
        let payload = match serde_json::to_value(event) {
            Ok(payload) => payload,
            Err(err) => {
                undelivered.push(Undelivered { event_id: event.id.clone(), reason: err.to_string() });
                continue;
            }
        };
        if let Err(err) = app.hooks.deliver(&url, &event.id, &payload, DELIVERY_TIMEOUT).await {
            tracing::warn!(event_id = %event.id, event_type = %event.event_type, reason = %err.0, "event not delivered");
            undelivered.push(Undelivered { event_id: event.id.clone(), reason: err.0 });
        }
    }
    undelivered
}

/// The events the table still holds (a week: `EVENT_TTL_SECS`) that
/// occurred from `from` to `to`, every tenant's, in each tenant's time
/// order: what the redrive publishes again once the stream (24 hours) no
/// longer holds a dead-lettered batch's records.
pub async fn stored_between(
    app: &App,
    from: chrono::DateTime<chrono::Utc>,
    to: chrono::DateTime<chrono::Utc>,
) -> Result<Vec<EventRecord>, Error> {
    let store = app.store.as_ref();
    let mut found = Vec::new();
    for tenant in super::tenant::list_tenants(store).await? {
        // Sort keys are `{occurred_at}#{id}`: every key of `from` or later
        // sorts after `from` alone.
        // The tenant's shards, merged in time order.
        let partitions = crate::table::event_partitions(&tenant.id);
        let mut start = Some(crate::table::event_instant(from));
        let last = crate::table::event_instant(to);
        'pages: while let Some(after) = start.take() {
            let page = super::paging::query_merged(store, &partitions, "", Some(&after), 100).await?;
            for item in page.items {
                if item.key.sk.as_str() > format!("{last}~").as_str() {
                    break 'pages;
                }
                let event = crate::table::decode_event(item)?;
                // Another tenant's partition may share the name of a shard
                // (a tenant id ending in `#07`).
                if event.tenant == tenant.id {
                    found.push(event);
                }
            }
            start = page.last_evaluated;
        }
    }
    Ok(found)
}

/// How the local dispatcher waits between tries of an event: `first`, then
/// twice as long each time, at most `max`.
#[derive(Clone, Copy, Debug)]
pub struct Backoff {
    pub first: Duration,
    pub max: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Self { first: Duration::from_secs(1), max: Duration::from_secs(60) }
    }
}

impl Backoff {
    /// The wait after the `tries`-th failed try (from 1).
    pub fn after(&self, tries: u32) -> Duration {
        self.first.saturating_mul(2u32.saturating_pow(tries.saturating_sub(1).min(16))).min(self.max)
    }
}

/// The local dispatcher: delivers every event `feed` hands it (the events
/// of committed transactions), each retried with `backoff` until it is
/// delivered or its item would have expired (7 days). Runs until the feed
/// closes; each event on its own task, so a failing receiver delays no
/// other tenant's events and no request.
pub async fn run_dispatcher(app: App, mut feed: tokio::sync::mpsc::UnboundedReceiver<EventRecord>, backoff: Backoff) {
    let app = std::sync::Arc::new(app);
    while let Some(event) = feed.recv().await {
        let app = app.clone();
        tokio::spawn(async move {
            let deadline = event.occurred_at + chrono::Duration::seconds(crate::table::EVENT_TTL_SECS);
            let mut tries = 0;
            loop {
                tries += 1;
                if publish(&app, std::slice::from_ref(&event)).await.is_empty() {
                    return;
                }
                if app.clock.now() >= deadline {
                    tracing::error!(event_id = %event.id, tries, "event dropped: not delivered within its lifetime");
                    return;
                }
                tokio::time::sleep(backoff.after(tries)).await;
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_backoff_doubles_up_to_its_cap() {
        let backoff = Backoff { first: Duration::from_millis(100), max: Duration::from_secs(1) };
        let waits: Vec<u128> = (1..=6).map(|n| backoff.after(n).as_millis()).collect();
        assert_eq!(waits, [100, 200, 400, 800, 1000, 1000]);
        assert_eq!(Backoff::default().after(1000), Duration::from_secs(60));
    }
}
