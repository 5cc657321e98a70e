//! Password-reset and invitation codes: drawn, stored under the address's
//! keyed hash and e-mailed (the forgotten-password flow, the back office's
//! "send a reset", an invitation again).

use chrono::Duration;

use super::codes::{PendingCode, draw_code, hash_code};
use super::error::Error;
use super::limits;
use super::tenant::Tenant;
use super::user::User;
use super::values::Status;
use crate::app::App;
use crate::i18n::{Arg, text};
use crate::ports::{Condition, Email};
use crate::table::{ResetRecord, reset_key};

/// How long an invitation code lives.
pub const INVITATION_TTL_HOURS: i64 = 72;

/// Sends `user` a password-reset code by e-mail (for an invited user, the
/// invitation again) within the address's hourly sends and cooldown: the
/// back office's "send a reset".
pub(crate) async fn send_reset_code(app: &App, tenant: &Tenant, user: &User) -> Result<(), Error> {
    let Some(email) = &user.email else {
        // Signed up with its phone alone: no address to send to.
        return Err(Error::field("method", "no_email"));
    };
    let subject = limits::destination(app, &tenant.id, email.as_str())?;
    limits::count(app, "reset-dest", &subject, 3600, tenant.policy.codes.max_sends as u64).await?;
    limits::cooldown(app, "reset-dest", &subject, tenant.policy.codes.resend_cooldown_secs).await?;
    issue_reset_code(app, tenant, user, &subject).await
}

/// Stores a new reset code for `user`'s address and e-mails it; a failed
/// send removes it and ends the cooldown of `subject` again.
pub(crate) async fn issue_reset_code(app: &App, tenant: &Tenant, user: &User, subject: &str) -> Result<(), Error> {
    let now = app.clock.now();
    // An invited user gets its invitation again (with an invitation's life).
    let invited = user.status == Status::Created;
    let ttl = if invited {
        Duration::hours(INVITATION_TTL_HOURS)
    } else {
        Duration::seconds(tenant.policy.codes.email_ttl_secs)
    };
    let key = reset_key(subject);
    let code = draw_code(app.random.as_ref(), tenant.policy.codes.length, app.sandbox_code(tenant));
    let hash = hash_code(app.settings.code_key()?, "password-reset", &user.id, &code);
    let to = user.email.as_ref().map(ToString::to_string).unwrap_or_default();
    let pending = ResetRecord { user_id: user.id.to_string(), code: PendingCode::issue(app, hash, now + ttl) };
    app.store.put(pending.item(subject)?, Condition::Always).await?;
    let lang = user.details.language.as_str();
    let minutes = (tenant.policy.codes.email_ttl_secs + 59) / 60;
    let name = ("name", Arg::Str(&user.details.first_name));
    let mail = if invited {
        let hours = ("hours", Arg::Num(INVITATION_TTL_HOURS));
        Email {
            to,
            subject: text(lang, "email-invite-subject", &[]),
            text: text(lang, "email-invite-text", &[name, ("code", Arg::Str(&code)), hours]),
            language: lang.to_owned(),
        }
    } else {
        Email {
            to,
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
