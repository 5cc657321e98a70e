//! The password as the first factor: `POST /v1/auth/login`. Unknown names
//! and locked accounts cost one (dummy) argon2 verification too, and all
//! three answer alike.

use super::{LoginOutcome, LoginVia, Origin, continue_login};
use crate::app::App;
use crate::domain::credentials::{check_password_after, spend_attempt, spend_read_attempt};
use crate::domain::error::Error;
use crate::domain::password::{Password, hash_password, needs_rehash};
use crate::domain::policy::SignInMethod;
use crate::domain::tenant::Tenant;
use crate::ports::{Condition, Write};
use crate::table::Record;

/// Checks a password. Unknown users and locked accounts cost one (dummy)
/// argon2 verification too, and all three answer alike.
pub async fn login(
    app: &App,
    tenant: &Tenant,
    username: &str,
    password: &Password,
    origin: Origin<'_>,
) -> Result<LoginOutcome, Error> {
    if !tenant.policy.allows_sign_in(SignInMethod::Password) {
        return Err(Error::SignInMethodDisabled);
    }
    // The name's lock, then the user and its lockout counter: two reads.
    let mut claimant = super::Claimant::read(app, tenant, username, &origin).await?;
    let mut gate = Some(super::ip_gate(tenant, app, &origin, "login-ip"));
    // A name nobody has here may be the old system's (the tenant's
    // `user_migration` hook): then it is a user here from now on. The
    // caller's address is counted before the hook is called.
    if claimant.found.is_none() && tenant.policy.hooks.user_migration.is_some() {
        if let Some(gate) = gate.take() {
            gate.pass(app).await?;
        }
        if crate::domain::migration::migrate(app, tenant, username, Some(password)).await? {
            claimant = super::Claimant::read(app, tenant, username, &origin).await?;
        }
    }
    // The attempt is spent (with the address's count, in one write) before
    // the password is compared.
    let counter = claimant.counter.take().flatten();
    let attempt = match gate {
        Some(gate) => spend_read_attempt(app, &claimant.failures, counter, gate).await?,
        None => spend_attempt(app, &claimant.failures).await?,
    };
    let hash = claimant.user().map(|user| user.password_hash.as_str());
    if let Err(refused) = check_password_after(attempt, password, hash).await {
        return Err(claimant.refused(app, refused, origin.device_id).await);
    }
    let super::Claimant { found, failures, .. } = claimant;
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
    let via = LoginVia {
        device_id: origin.device_id,
        by_phone,
        mfa_passed: false,
        amr: vec!["pwd".into()],
        first_factor: None,
    };
    continue_login(app, tenant, &user, via, writes).await
}
