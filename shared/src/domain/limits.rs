//! Rate limits: fixed-window counters and cooldowns, both kept in the store
//! (so every Lambda instance sees the same counts) and expiring by TTL.

use chrono::Duration;

use super::error::Error;
use super::tenant::Tenant;
use super::values::Phone;
use crate::app::App;
use crate::ports::{Condition, StoreError, Write};
use crate::table;

/// The subject of an address's (or phone's) counters, cooldowns and reset
/// record: the tenant and a keyed hash (HMAC-SHA-256 with the code key, 128
/// bits) of the address, never the address itself, so closing an account leaves
/// no copy of it in those keys (docs/security.md, "Closing erases"). A rotated
/// code key starts the counters afresh.
pub fn destination(app: &App, tenant_id: &str, address: &str) -> Result<String, Error> {
    use hmac::{Hmac, Mac};
    let mut mac = <Hmac<sha2::Sha256> as Mac>::new_from_slice(app.settings.code_key()?)
        .unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
    mac.update(b"destination:");
    mac.update(tenant_id.as_bytes());
    mac.update(b":");
    mac.update(address.as_bytes());
    Ok(format!("{tenant_id}#{}", hex::encode(&mac.finalize().into_bytes()[..16])))
}

/// Counts one event of `scope` for `subject` in a window of `window_secs`;
/// past `max` events in the window, refuses with the seconds until it ends.
pub async fn count(app: &App, scope: &str, subject: &str, window_secs: i64, max: u64) -> Result<(), Error> {
    let now = app.clock.now().timestamp();
    let start = now - now.rem_euclid(window_secs);
    let key = table::rate_key(scope, subject, start);
    let seen = app.store.increment(&key, start + window_secs + 60).await?;
    if seen > max {
        return Err(Error::RateLimited { retry_after: (start + window_secs - now).max(1) as u64 });
    }
    Ok(())
}

/// A rate limit folded into the transaction of what it guards: the count
/// of one event ([`Write::Count`]), and the refusal to answer when its
/// condition fails (past `max` events in the window).
pub struct Gate {
    pub write: Write,
    pub refused: Error,
}

/// [`count`] as a [`Gate`]: no round trip of its own.
pub fn gate(app: &App, scope: &str, subject: &str, window_secs: i64, max: u64) -> Gate {
    let now = app.clock.now().timestamp();
    let start = now - now.rem_euclid(window_secs);
    let key = table::rate_key(scope, subject, start);
    Gate {
        write: Write::Count { key, below: max, expires_at: start + window_secs + 60 },
        refused: Error::RateLimited { retry_after: (start + window_secs - now).max(1) as u64 },
    }
}

impl Gate {
    /// Counts the event alone (one round trip).
    pub async fn pass(self, app: &App) -> Result<(), Error> {
        match app.store.transact(vec![self.write]).await {
            Ok(()) => Ok(()),
            Err(StoreError::ConditionFailed { .. }) => Err(self.refused),
            Err(err) => Err(err.into()),
        }
    }
}

/// Whether the tenant may text `phone` (an E.164 number) at all: its
/// destination allow-list.
pub fn sms_country_allowed(tenant: &Tenant, phone: &str) -> bool {
    let allowed = &tenant.policy.sms.countries;
    allowed.is_empty()
        || Phone::parse(phone).ok().and_then(|p| p.region()).is_some_and(|region| allowed.contains(&region))
}

/// Which of the tenant's two SMS allowances a text spends from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SmsAllowance {
    /// Texts anyone can cause: sign-up codes, codes to a number not
    /// verified yet.
    Open,
    /// Texts to a verified phone of an existing user: 2FA codes, notices.
    Verified,
}

/// The SMS spend guard, before every text: the destination must be allowed,
/// and the allowance's hourly and daily budgets not spent (429 past them,
/// with an error log for the operator: SMS pumping is the largest cost
/// line). The two allowances are counted apart, so a sign-up flood that
/// spends the open one leaves 2FA texts going.
pub async fn spend_sms(app: &App, tenant: &Tenant, phone: &str, allowance: SmsAllowance) -> Result<(), Error> {
    let gates = sms_gates(app, tenant, phone, allowance)?;
    let (writes, refusals): (Vec<Write>, Vec<Error>) = gates.into_iter().map(|g| (g.write, g.refused)).unzip();
    match app.store.transact(writes).await {
        Ok(()) => Ok(()),
        Err(StoreError::ConditionFailed { index }) => Err(sms_refused(tenant, refusals[index].clone())),
        Err(err) => Err(err.into()),
    }
}

/// The SMS spend guard as gates to fold into a transaction (the day's and
/// the hour's, counted together: a text either refuses counts toward
/// neither). The destination must be allowed. A gate's refusal goes
/// through [`sms_refused`].
///
/// Each budget is split over shards (`RATE#{scope}#{tenant}#{shard}`), at
/// most [`SMS_SHARDS`], each with at least [`SMS_UNITS_PER_SHARD`] texts of
/// the budget and caps that add up to it exactly: a text counts on the
/// shard of its destination (a hash of the number), so no one key takes a write
/// from every text of a busy tenant, and the budget is never overspent. A
/// shard can run out while others still have room, so the first refusal
/// may come a little before the whole budget is spent (docs/security.md).
pub fn sms_gates(app: &App, tenant: &Tenant, phone: &str, allowance: SmsAllowance) -> Result<Vec<Gate>, Error> {
    if !sms_country_allowed(tenant, phone) {
        return Err(Error::SmsCountryNotAllowed);
    }
    let sms = &tenant.policy.sms;
    let budgets = match allowance {
        SmsAllowance::Open => [("sms-day", 24 * 3600, sms.per_day), ("sms-hour", 3600, sms.per_hour)],
        SmsAllowance::Verified => {
            [("sms-verified-day", 24 * 3600, sms.verified_per_day), ("sms-verified-hour", 3600, sms.verified_per_hour)]
        }
    };
    // The spread of the destination over the shards: a hash of the number
    // that no key keeps (a shard's number tells nothing of it), and needs
    // no code key (a function that only sends notices has none).
    let digest = <sha2::Sha256 as sha2::Digest>::digest(phone.as_bytes());
    let spread = u64::from_be_bytes(digest[..8].try_into().unwrap_or_default());
    Ok(budgets
        .into_iter()
        .map(|(scope, window, max)| {
            let (shard, cap) = sms_shard(max, spread);
            let mut gate = gate(app, scope, &format!("{}#{shard:02}", tenant.id), window, cap);
            if let Error::RateLimited { retry_after } = gate.refused {
                gate.refused = Error::SmsBudgetSpent { retry_after };
            }
            gate
        })
        .collect())
}

/// At most this many shards per SMS budget.
pub const SMS_SHARDS: u64 = 32;
/// Each shard holds at least this many texts of its budget.
pub const SMS_UNITS_PER_SHARD: u64 = 64;

/// The shard a destination's text counts on (`spread`: a hash of it)
/// and that shard's cap: the budget `max` split over as many shards as it
/// fills, the remainder to the first ones.
fn sms_shard(max: u64, spread: u64) -> (u64, u64) {
    let shards = (max / SMS_UNITS_PER_SHARD).clamp(1, SMS_SHARDS);
    let shard = spread % shards;
    (shard, max / shards + u64::from(shard < max % shards))
}

/// The answer to a text a budget refused, logged for the operator (SMS
/// pumping is the largest cost line).
pub fn sms_refused(tenant: &Tenant, refused: Error) -> Error {
    if matches!(refused, Error::SmsBudgetSpent { .. }) {
        tracing::error!(tenant_id = %tenant.id, "SMS budget of the tenant spent; texts refused");
    }
    refused
}

/// Starts a cooldown of `secs` for `scope`/`subject`, or refuses with the
/// seconds left if one is running.
pub async fn cooldown(app: &App, scope: &str, subject: &str, secs: i64) -> Result<(), Error> {
    let Write::Put { item, condition } = cooldown_write(app, scope, subject, secs) else {
        unreachable!("a cooldown starts with a put")
    };
    match app.store.put(item, condition).await {
        Ok(()) => Ok(()),
        Err(StoreError::ConditionFailed { .. }) => {
            Err(Error::RateLimited { retry_after: cooldown_left(app, scope, subject).await? })
        }
        Err(err) => Err(err.into()),
    }
}

/// The start of a cooldown of `secs` for `scope`/`subject`, as a write
/// whose condition fails while one runs.
pub fn cooldown_write(app: &App, scope: &str, subject: &str, secs: i64) -> Write {
    let until = (app.clock.now() + Duration::seconds(secs)).timestamp();
    Write::Put { item: table::cooldown_item(scope, subject, until), condition: Condition::NotExists }
}

/// The seconds left of the cooldown of `scope`/`subject` (at least 1).
pub async fn cooldown_left(app: &App, scope: &str, subject: &str) -> Result<u64, Error> {
    let now = app.clock.now().timestamp();
    let key = table::cooldown_key(scope, subject);
    Ok(app.store.get(&key).await?.and_then(|i| i.expires_at).map_or(1, |at| (at - now).max(1)) as u64)
}

/// Ends a cooldown early (after the guarded action failed).
pub async fn clear_cooldown(app: &App, scope: &str, subject: &str) {
    let key = table::cooldown_key(scope, subject);
    let _ = app.store.delete(&key, Condition::Always).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sms_budgets_split_into_shards_whose_caps_add_up_to_the_budget() {
        for max in [0, 1, 3, 63, 64, 200, 2_047, 100_000, 36_000_000] {
            let shards = (max / SMS_UNITS_PER_SHARD).clamp(1, SMS_SHARDS);
            let caps: Vec<u64> = (0..shards).map(|spread| sms_shard(max, spread).1).collect();
            assert_eq!(caps.iter().sum::<u64>(), max, "the shards of {max} hold exactly the budget");
            assert!(caps.iter().all(|cap| max < SMS_UNITS_PER_SHARD || *cap >= SMS_UNITS_PER_SHARD));
            assert_eq!(sms_shard(max, shards + 5), sms_shard(max, 5), "a spread maps onto the shards");
        }
        // A small budget stays one key (exact under a burst); a large one
        // spreads over every shard.
        assert_eq!(sms_shard(3, 12345).0, 0);
        let used: std::collections::HashSet<u64> = (0..1000).map(|spread| sms_shard(36_000_000, spread).0).collect();
        assert_eq!(used.len() as u64, SMS_SHARDS);
    }
}
