//! The password's flows: forgotten (a code by e-mail, for an invited user
//! its invitation again), reset with the code, changed by the signed-in
//! user (a step-up), and the notice that tells the owner.

use chrono::Duration;

use super::codes::{PendingCode, hash_code, spend_try};
use super::credentials::check_current_password;
use super::error::Error;
use super::events::{EventType, user_event};
use super::ids::UserId;
use super::limits;
use super::password::{CurrentPassword, Password, hash_password};
use super::reset_codes::issue_reset_code;
use super::tenant::Tenant;
use super::user::{Session, User, audit_write, load_user, sweep_sessions, user_by_lock};
use super::values::{EmailAddress, Status};
use crate::app::App;
use crate::i18n::text;
use crate::ports::{Condition, Email, SendError, Sms, Write};
use crate::table::{self, Failed, Record, ResetRecord, account_failures_key, email_lock_key, reset_key, user_key};

/// The tenant's password rules, including "not the e-mail's local part".
pub(crate) fn check_new_password(tenant: &Tenant, user: &User, password: &Password) -> Result<(), Error> {
    let errors =
        super::values::password_errors(&tenant.policy.password, "new_password", password.expose(), user.email.as_ref());
    if errors.is_empty() { Ok(()) } else { Err(Error::Validation(errors)) }
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
    let mut found = user_by_lock(app, &email_lock_key(&tenant.id, email.as_str())).await?;
    // An address nobody has here may be the old system's (the tenant's
    // `user_migration` hook): the migrated user is invited to set a password.
    if found.is_none()
        && tenant.policy.hooks.user_migration.is_some()
        && super::migration::migrate(app, tenant, email.as_str(), None).await?
    {
        found = user_by_lock(app, &email_lock_key(&tenant.id, email.as_str())).await?;
        if found.as_ref().is_some_and(|(user, _)| user.status == Status::Created) {
            // Its invitation went out with its creation.
            return Ok(());
        }
    }
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
        user_event(app, &user, EventType::PasswordReset, None, serde_json::json!({}))?,
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
        let data = serde_json::json!({ "from": "created", "to": "active", "reason": "invitation accepted" });
        writes.push(user_event(app, &user, EventType::UserStatusChanged, None, data)?);
    }
    // Every session ends with the same write as the new password.
    user.end_sessions(None);
    writes[0] = user.put(Condition::Version(user_version))?;
    table::commit(app.store.as_ref(), writes).await.map_err(|e| match e {
        Failed::Condition(_) => Error::InvalidCode,
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
        user_event(app, &user, EventType::PasswordChanged, None, serde_json::json!({ "reason": "user" }))?,
    ];
    table::commit(app.store.as_ref(), writes).await?;
    announce_password(app, tenant, &user, "password_changed").await;
    sweep_sessions(app, &user).await;
    Ok(())
}

/// Tells the owner that its password changed (`event`: `password_changed`
/// or `password_reset`; ASVS 2.2.3): by e-mail, or by SMS to a verified
/// phone where the user has no address. Sent after the change is stored,
/// best effort: the change stands (whoever made it proved it may), and a
/// notice that could not go out is logged for the operator.
pub(crate) async fn announce_password(app: &App, tenant: &Tenant, user: &User, event: &str) {
    let lang = user.details.language.as_str();
    let sent = if let Some(email) = &user.email {
        let mail = Email {
            to: email.to_string(),
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
