//! The writes every change of an account shares, whoever makes it (the user
//! itself in `me`, the back office in `users`): profile fields, the
//! username, saving a user with its indexes and locks, and closing (the
//! erasure of every copy of its personal data).

use chrono::NaiveDate;

use super::actor::Actor;
use super::error::Error;
use super::events::{EventType, user_event};
use super::limits;
use super::tenant::Tenant;
use super::user::{User, audit_write};
use super::values::{EmailAddress, Status, Username, normalized_name};
use crate::app::App;
use crate::ports::{Condition, Write};
use crate::table::{self, Failed, Kind, Record, email_lock_key, phone_lock_key, registration_key, reset_key};

/// Changes to a profile; `Some(None)` clears an optional field.
#[derive(Clone, Debug, Default)]
pub struct ProfileChanges {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub gender: Option<Option<String>>,
    pub birth_date: Option<Option<NaiveDate>>,
    pub language: Option<String>,
    pub time_zone: Option<Option<String>>,
    pub username: Option<Option<Username>>,
}

impl ProfileChanges {
    /// The names of the fields that change.
    pub fn names(&self) -> Vec<&'static str> {
        [
            ("first_name", self.first_name.is_some()),
            ("last_name", self.last_name.is_some()),
            ("gender", self.gender.is_some()),
            ("birth_date", self.birth_date.is_some()),
            ("preferred_language", self.language.is_some()),
            ("time_zone", self.time_zone.is_some()),
            ("username", self.username.is_some()),
        ]
        .into_iter()
        .filter_map(|(name, changed)| changed.then_some(name))
        .collect()
    }

    /// Writes the changes into `user`; a username as the tenant's policy
    /// allows (`users::set_username`).
    pub fn apply(self, tenant: &Tenant, user: &mut User) -> Result<(), Error> {
        let changes = self;
        if let Some(name) = changes.username {
            set_username(tenant, user, name)?;
        }
        if let Some(v) = changes.first_name {
            user.details.first_name = v;
        }
        if let Some(v) = changes.last_name {
            user.details.last_name = v;
        }
        if let Some(v) = changes.gender {
            user.details.gender = v;
        }
        if let Some(v) = changes.birth_date {
            user.details.birth_date = v;
        }
        if let Some(v) = changes.language {
            user.details.language = v;
        }
        if let Some(v) = changes.time_zone {
            user.details.time_zone = v;
        }
        Ok(())
    }
}

/// Gives `user` the username `name` (or none), as the tenant's policy
/// allows: unknown when the tenant has no usernames, required when it
/// requires them.
pub fn set_username(tenant: &Tenant, user: &mut User, name: Option<Username>) -> Result<(), Error> {
    tenant.policy.usernames.check(name.as_ref())?;
    user.username = name;
    Ok(())
}

/// Writes a changed user with `writes` (the user's put first) and its index
/// and username lock in one transaction; a username another user holds is
/// `UsernameTaken`.
pub async fn save_user(app: &App, before: &User, user: &User, mut writes: Vec<Write>) -> Result<(), Error> {
    writes.extend(table::user_index_writes(Some(before), user)?);
    let locks = table::username_lock_writes(Some(before), user)?;
    writes.extend(locks);
    match table::commit(app.store.as_ref(), writes).await {
        Err(Failed::Condition(Kind::UsernameLock)) => Err(Error::UsernameTaken),
        other => Ok(other?),
    }
}

/// The writes that close `user`: erase personal data, free the locks, audit,
/// tell (`user.closed`; `actor`: who closed it, when not the user itself).
pub fn close_writes(
    app: &App,
    mut user: User,
    version: u64,
    reason: &str,
    actor: Option<&Actor>,
) -> Result<Vec<Write>, Error> {
    let now = app.clock.now();
    let mut writes = Vec::new();
    if let Some(email) = &user.email {
        writes
            .push(Write::Delete { key: email_lock_key(&user.tenant_id, email.as_str()), condition: Condition::Always });
        // A reset code (or invitation) sent to the address goes too.
        let key = reset_key(&limits::destination(app, &user.tenant_id, email.as_str())?);
        writes.push(Write::Delete { key, condition: Condition::Always });
    }
    // So does a passwordless sign-in code asked for any of its names.
    let names = [
        user.email.as_ref().map(EmailAddress::as_str),
        user.phone.as_deref(),
        user.username.as_ref().map(|u| u.as_str()),
    ];
    for name in names.into_iter().flatten() {
        let subject = limits::destination(app, &user.tenant_id, &normalized_name(name))?;
        writes.push(Write::Delete { key: crate::table::sign_in_code_key(&subject), condition: Condition::Always });
    }
    // The completed sign-up holds the same personal data (and the password
    // hash): `GET /v1/registrations/{id}` answers 404 from now on.
    if let Some(registration_id) = user.registration_id.take() {
        writes.push(Write::Delete { key: registration_key(&registration_id), condition: Condition::Always });
    }
    if let (Some(phone), Some(_)) = (&user.phone, user.phone_verified_at) {
        writes.push(Write::Delete { key: phone_lock_key(&user.tenant_id, phone), condition: Condition::Always });
    }
    if let Some(name) = &user.username {
        let key = crate::table::username_lock_key(&user.tenant_id, name);
        writes.push(Write::Delete { key, condition: Condition::Always });
    }
    let previous = user.status;
    let before = user.clone();
    user.status = Status::Closed;
    user.email = None;
    user.email_verified_at = None;
    user.phone = None;
    user.phone_verified_at = None;
    user.username = None;
    user.password_hash = String::new();
    user.details.first_name = String::new();
    user.details.last_name = String::new();
    user.details.gender = None;
    user.details.birth_date = None;
    user.details.time_zone = None;
    user.pending_credential = None;
    user.nationality = None;
    user.address = None;
    user.attributes.clear();
    user.references.clear();
    // Second factors go too (the passkey records after the close: `passkeys::sweep`).
    user.totp = None;
    user.recovery_codes.clear();
    user.passkeys = 0;
    user.updated_at = now;
    user.end_sessions(None);
    writes.insert(0, user.put(Condition::Version(version))?);
    writes.extend(crate::table::user_index_writes(Some(&before), &user)?);
    writes.push(audit_write(
        app,
        &user.id,
        "status_changed",
        serde_json::json!({
            "from": previous, "to": "closed", "reason": reason,
        }),
    )?);
    let data = serde_json::json!({ "from": previous, "reason": reason });
    writes.push(user_event(app, &user, EventType::UserClosed, actor, data)?);
    Ok(writes)
}
