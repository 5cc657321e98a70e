//! The signed-in user: profile, changes, credentials (turning 2FA on) and
//! closing the account.

use chrono::Duration;
use serde::Serialize;

pub use super::account::ProfileChanges;
use super::account::{close_writes, save_user};
use super::codes::{PendingCode, draw_code, hash_code, spend_try};
pub use super::credentials::StepUp;
use super::credentials::{check_current_password, step_up};
use super::error::Error;
use super::events::{EventType, user_event};
use super::ids::UserId;
use super::limits;
use super::password::CurrentPassword;
use super::tenant::Tenant;
use super::user::{PendingCredential, Session, User, audit_write, load_user, lock_write, sweep_sessions};
use super::values::{EmailAddress, PersonalDetails, Phone, Status, UserType, Username};
use crate::app::App;
use crate::i18n::{Arg, text};
use crate::ports::{Condition, Email, SendError, Sms, Write};
use crate::table::{self, Failed, Kind, Record, email_lock_key, phone_lock_key, reset_key};

/// One credential of a user.
#[derive(Clone, Debug, Serialize)]
pub struct Credential {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub value: String,
    pub verified: bool,
}

/// What `GET /v1/me` shows (never hashes or codes).
#[derive(Clone, Debug, Serialize)]
pub struct Profile {
    pub user_id: UserId,
    pub user_type: UserType,
    pub status: Status,
    /// `null` for a user that signed up with its phone alone.
    pub email: Option<String>,
    pub phone: Option<String>,
    pub username: Option<Username>,
    #[serde(flatten, serialize_with = "PersonalDetails::serialize_wire")]
    pub details: PersonalDetails,
    pub roles: Vec<String>,
    pub mfa_enabled: bool,
    pub credentials: Vec<Credential>,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

impl From<&User> for Profile {
    fn from(user: &User) -> Self {
        let mut credentials = Vec::new();
        if let Some(email) = &user.email {
            let verified = user.email_verified_at.is_some();
            credentials.push(Credential { kind: "email", value: email.to_string(), verified });
        }
        if let Some(phone) = &user.phone {
            credentials.push(Credential {
                kind: "phone",
                value: phone.clone(),
                verified: user.phone_verified_at.is_some(),
            });
        }
        if let Some(pending) = &user.pending_credential {
            let kind = if pending.kind == "email" { "email" } else { "phone" };
            credentials.push(Credential { kind, value: pending.value.clone(), verified: false });
        }
        Profile {
            user_id: user.id.clone(),
            user_type: user.user_type,
            status: user.status,
            email: user.email.as_ref().map(ToString::to_string),
            phone: user.phone.clone(),
            username: user.username.clone(),
            details: user.details.clone(),
            roles: user.roles.clone(),
            mfa_enabled: user.mfa_enabled(),
            credentials,
            created_at: user.created_at,
        }
    }
}

async fn active_user(app: &App, user_id: &UserId) -> Result<(User, u64), Error> {
    let (user, version) = load_user(app, user_id).await?.ok_or(Error::InvalidToken)?;
    if !user.is_active() {
        return Err(Error::InvalidToken);
    }
    Ok((user, version))
}

/// Applies profile changes; a new username needs the step-up `proof`.
pub async fn update_profile(
    app: &App,
    tenant: &Tenant,
    user_id: &UserId,
    changes: ProfileChanges,
    proof: StepUp,
) -> Result<Profile, Error> {
    let (mut user, version) = active_user(app, user_id).await?;
    let before = user.clone();
    let fields = changes.names();
    changes.apply(tenant, &mut user)?;
    if user.username != before.username {
        step_up(app, tenant, &user, proof).await?;
    }
    if user == before {
        return Ok(Profile::from(&user));
    }
    user.updated_at = app.clock.now();
    let mut writes = vec![
        user.put(Condition::Version(version))?,
        user_event(app, &user, EventType::UserUpdated, None, serde_json::json!({ "fields": fields }))?,
    ];
    if user.username != before.username {
        writes.push(audit_write(app, user_id, "username_changed", serde_json::json!({ "by": "user" }))?);
    }
    save_user(app, &before, &user, writes).await?;
    Ok(Profile::from(&user))
}

/// A credential to add.
#[derive(Clone, Debug)]
pub enum NewCredential {
    Email(EmailAddress),
    Phone(Phone),
}

fn purpose(kind: &str) -> String {
    format!("credential-{kind}")
}

/// Sends a code to a new e-mail address or phone of the user, after a
/// step-up.
pub async fn add_credential(
    app: &App,
    tenant: &Tenant,
    user_id: &UserId,
    credential: NewCredential,
    proof: StepUp,
) -> Result<(), Error> {
    let (mut user, version) = active_user(app, user_id).await?;
    step_up(app, tenant, &user, proof).await?;
    let (kind, value) = match &credential {
        NewCredential::Email(e) => ("email", e.to_string()),
        NewCredential::Phone(p) => ("phone", p.as_str().to_owned()),
    };
    if kind == "phone" && !limits::sms_country_allowed(tenant, &value) {
        return Err(Error::field("value", "country_not_allowed"));
    }
    let subject = limits::destination(app, &tenant.id, &value)?;
    limits::count(app, "credential-dest", &subject, 3600, tenant.policy.codes.max_sends as u64).await?;
    limits::cooldown(app, "credential-dest", &subject, tenant.policy.codes.resend_cooldown_secs).await?;
    if kind == "phone"
        && let Err(refused) = limits::spend_sms(app, tenant, &value, limits::SmsAllowance::Open).await
    {
        limits::clear_cooldown(app, "credential-dest", &subject).await;
        return Err(refused);
    }
    let now = app.clock.now();
    let code = draw_code(app.random.as_ref(), tenant.policy.codes.length, app.sandbox_code(tenant));
    let owner = format!("{}:{value}", user.id);
    let hash = hash_code(app.settings.code_key()?, &purpose(kind), &owner, &code);
    let ttl = match credential {
        NewCredential::Email(_) => tenant.policy.codes.email_ttl_secs,
        NewCredential::Phone(_) => tenant.policy.codes.sms_ttl_secs,
    };
    user.pending_credential = Some(PendingCredential {
        kind: kind.to_owned(),
        value: value.clone(),
        code: PendingCode::issue(app, hash, now + Duration::seconds(ttl)),
    });
    table::commit(app.store.as_ref(), vec![user.put(Condition::Version(version))?]).await?;
    let lang = user.details.language.as_str();
    let minutes = (ttl + 59) / 60;
    let sent = match credential {
        NewCredential::Email(_) => {
            let email = Email {
                to: value,
                subject: text(lang, "email-code-subject", &[("code", Arg::Str(&code))]),
                text: text(
                    lang,
                    "email-code-text",
                    &[
                        ("name", Arg::Str(&user.details.first_name)),
                        ("code", Arg::Str(&code)),
                        ("minutes", Arg::Num(minutes)),
                    ],
                ),
                language: lang.to_owned(),
            };
            app.mailer.send_email(&email).await
        }
        NewCredential::Phone(_) => {
            let sms = Sms {
                to: value,
                text: text(lang, "sms-code-text", &[("code", Arg::Str(&code)), ("minutes", Arg::Num(minutes))]),
                language: lang.to_owned(),
            };
            app.texter.send_sms(&sms).await
        }
    };
    if let Err(err) = sent {
        limits::clear_cooldown(app, "credential-dest", &subject).await;
        return Err(err.into());
    }
    Ok(())
}

/// Checks the code of the pending credential; stores it as verified (2FA is
/// on once e-mail and phone are both verified). Returns whether 2FA is on.
pub async fn verify_credential(
    app: &App,
    tenant: &Tenant,
    user_id: &UserId,
    keep: Option<&Session>,
    kind: &str,
    code: &str,
) -> Result<bool, Error> {
    let (mut user, version) = active_user(app, user_id).await?;
    let pending = user.pending_credential.clone().filter(|p| p.kind == kind).ok_or(Error::InvalidCode)?;
    let owner = format!("{}:{}", user.id, pending.value);
    let candidate = hash_code(app.settings.code_key()?, &purpose(kind), &owner, code);
    if !spend_try(app, &pending.code, &candidate, tenant.policy.codes.max_attempts).await? {
        return Err(Error::InvalidCode);
    }
    let before = user.clone();
    let now = app.clock.now();
    let was_on = user.mfa_enabled();
    let mut writes = Vec::new();
    // What the change replaces: told, and no longer a way in.
    let replaced = if kind == "email" {
        user.email.as_ref().map(ToString::to_string)
    } else {
        user.phone.clone().filter(|_| user.phone_verified_at.is_some())
    };
    let (old_lock, new_lock) = if kind == "email" {
        // A user that signed up with its phone alone has no address yet.
        let old = user.email.as_ref().map(|email| email_lock_key(&tenant.id, email.as_str()));
        let email = EmailAddress::parse(&pending.value).map_err(|code| Error::field("value", code))?;
        let lock = email_lock_key(&tenant.id, email.as_str());
        user.email = Some(email);
        user.email_verified_at = Some(now);
        (old, lock)
    } else {
        let old =
            user.phone.as_ref().filter(|_| user.phone_verified_at.is_some()).map(|p| phone_lock_key(&tenant.id, p));
        user.phone = Some(pending.value.clone());
        user.phone_verified_at = Some(now);
        (old, phone_lock_key(&tenant.id, &pending.value))
    };
    user.pending_credential = None;
    user.updated_at = now;
    let replacing = replaced.as_ref().is_some_and(|old| *old != pending.value);
    if replacing {
        // A changed address or number: every other session ends.
        user.end_sessions(keep);
    }
    writes.push(user.put(Condition::Version(version))?);
    let same_lock = old_lock.as_ref() == Some(&new_lock);
    if !same_lock {
        writes.push(lock_write(new_lock, &user.id)?);
        if let Some(old) = old_lock {
            writes.push(Write::Delete { key: old, condition: Condition::Always });
        }
    }
    let turned_on = !was_on && user.mfa_enabled();
    writes.push(audit_write(app, &user.id, "credential_verified", serde_json::json!({ "type": kind }))?);
    let data = serde_json::json!({ "type": kind, "value": pending.value, "replaced": replacing });
    writes.push(user_event(app, &user, EventType::CredentialChanged, None, data)?);
    if turned_on {
        writes.push(audit_write(app, &user.id, "mfa_enabled", serde_json::json!({}))?);
    }
    if let (true, Some(old)) = (replacing && kind == "email", &replaced) {
        // A reset code sent to the old address is void.
        let key = reset_key(&limits::destination(app, &tenant.id, old)?);
        writes.push(Write::Delete { key, condition: Condition::Always });
    }
    writes.extend(crate::table::user_index_writes(Some(&before), &user)?);
    match table::commit(app.store.as_ref(), writes).await {
        Ok(()) if replacing => {
            sweep_sessions(app, &user).await;
            if let Some(old) = replaced {
                announce_change(app, tenant, &user, kind, &old).await;
            }
            Ok(user.mfa_enabled())
        }
        Ok(()) => Ok(user.mfa_enabled()),
        Err(Failed::Condition(Kind::EmailLock)) => Err(Error::EmailTaken),
        Err(Failed::Condition(Kind::PhoneLock)) => Err(Error::PhoneTaken),
        // The right code racing itself: the loser gets the failed-code answer.
        Err(Failed::Condition(Kind::User)) => Err(Error::InvalidCode),
        Err(err) => Err(err.into()),
    }
}

/// Tells the old address or number that it was replaced (best effort: the
/// change is made; a failed notice is logged for the operator).
async fn announce_change(app: &App, tenant: &Tenant, user: &User, kind: &str, old: &str) {
    let lang = user.details.language.as_str();
    let sent = if kind == "email" {
        let email = Email {
            to: old.to_owned(),
            subject: text(lang, "email-credential-changed-subject", &[]),
            text: text(lang, "email-credential-changed-text", &[("name", Arg::Str(&user.details.first_name))]),
            language: lang.to_owned(),
        };
        app.mailer.send_email(&email).await
    } else {
        let sms =
            Sms { to: old.to_owned(), text: text(lang, "sms-credential-changed-text", &[]), language: lang.to_owned() };
        match limits::spend_sms(app, tenant, old, limits::SmsAllowance::Verified).await {
            Ok(()) => app.texter.send_sms(&sms).await,
            Err(err) => Err(SendError(err.to_string())),
        }
    };
    if let Err(err) = sent {
        tracing::error!(user_id = %user.id, %kind, error = %err, "notice of a changed credential not sent");
    }
}

/// Closes the account after the password: personal data erased, the
/// e-mail freed, every session ended; the audit trail stays.
pub async fn close_account(app: &App, user_id: &UserId, password: &CurrentPassword) -> Result<(), Error> {
    let (user, version) = active_user(app, user_id).await?;
    check_current_password(app, &user, password, "password").await?;
    // The provider identities go with the account (their locks free).
    let identities = super::federation::identities::removal_writes(app, user_id, &user.tenant_id).await?;
    let mut writes = close_writes(app, user, version, "user", None)?;
    writes.extend(identities);
    table::commit(app.store.as_ref(), writes).await?;
    if let Some((closed, _)) = load_user(app, user_id).await? {
        sweep_sessions(app, &closed).await;
    }
    super::passkeys::sweep(app, user_id).await;
    Ok(())
}
