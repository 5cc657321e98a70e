//! Rate limits: fixed-window counters and cooldowns, both kept in the store
//! (so every Lambda instance sees the same counts) and expiring by TTL.

use chrono::Duration;

use super::error::Error;
use super::tenant::Tenant;
use super::values::Phone;
use crate::app::App;
use crate::ports::{Condition, StoreError};
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
    // The day first: a text the day refuses does not count toward the hour.
    for (scope, window, max) in budgets {
        match count(app, scope, &tenant.id, window, max).await {
            Ok(()) => {}
            Err(Error::RateLimited { retry_after }) => {
                tracing::error!(tenant_id = %tenant.id, %scope, budget = max, "SMS budget of the tenant spent; texts refused");
                return Err(Error::SmsBudgetSpent { retry_after });
            }
            Err(other) => return Err(other),
        }
    }
    Ok(())
}

/// Starts a cooldown of `secs` for `scope`/`subject`, or refuses with the
/// seconds left if one is running.
pub async fn cooldown(app: &App, scope: &str, subject: &str, secs: i64) -> Result<(), Error> {
    let now = app.clock.now();
    let key = table::cooldown_key(scope, subject);
    let item = table::cooldown_item(scope, subject, (now + Duration::seconds(secs)).timestamp());
    match app.store.put(item, Condition::NotExists).await {
        Ok(()) => Ok(()),
        Err(StoreError::ConditionFailed { .. }) => {
            let left =
                app.store.get(&key).await?.and_then(|i| i.expires_at).map_or(1, |at| (at - now.timestamp()).max(1));
            Err(Error::RateLimited { retry_after: left as u64 })
        }
        Err(err) => Err(err.into()),
    }
}

/// Ends a cooldown early (after the guarded action failed).
pub async fn clear_cooldown(app: &App, scope: &str, subject: &str) {
    let key = table::cooldown_key(scope, subject);
    let _ = app.store.delete(&key, Condition::Always).await;
}
