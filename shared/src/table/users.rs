//! Users: the profile, the locks that make an e-mail, phone or username
//! unique within a tenant, the back office's search indexes and the audit
//! trail.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{PendingCode, Record, encode, user_pk};
use crate::domain::ids::{SessionId, UserId};
use crate::domain::values::{EmailAddress, PersonalDetails, Status, UserType, Username};
use crate::ports::{Condition, Item, Key, StoreError, Write};

/// A user of a tenant.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub id: UserId,
    pub tenant_id: String,
    pub user_type: UserType,
    pub status: Status,
    /// `None` for a user that signed up with its phone alone, and once the
    /// account is closed. Stored as `""` then, as earlier versions wrote it.
    #[serde(with = "email_or_empty")]
    pub email: Option<EmailAddress>,
    pub email_verified_at: Option<DateTime<Utc>>,
    pub phone: Option<String>,
    pub phone_verified_at: Option<DateTime<Utc>>,
    /// A sign-in name besides e-mail and phone, as given (unique per tenant,
    /// case-insensitive, through its [`Lock`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<Username>,
    pub password_hash: String,
    #[serde(flatten)]
    pub details: PersonalDetails,
    #[serde(default)]
    pub roles: Vec<String>,
    pub terms: Option<Acceptance>,
    pub privacy: Option<Acceptance>,
    /// When the user consented to the processing of personal data, as the
    /// back office recorded it (`ManagementPersonalDataConsent`); a
    /// self-registered user's consent is its privacy acceptance.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub personal_data_consent_at: Option<DateTime<Utc>>,
    /// The sign-up the user came from (self-registered users): closing the
    /// account erases that record too, which holds the same personal data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registration_id: Option<crate::domain::ids::RegistrationId>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// An admin asked for a new password at the next login.
    #[serde(default)]
    pub reset_required: bool,
    #[serde(default)]
    pub pending_credential: Option<PendingCredential>,
    /// The company of a `company_user` (and of consumers a company created).
    #[serde(default)]
    pub company_id: Option<String>,
    /// The partner whose API key created the user.
    #[serde(default)]
    pub partner_id: Option<String>,
    /// ISO 3166-1 alpha-2.
    #[serde(default)]
    pub nationality: Option<String>,
    #[serde(default)]
    pub address: Option<Address>,
    /// Free attributes an admin attached.
    #[serde(default)]
    pub attributes: serde_json::Map<String, serde_json::Value>,
    /// Reference entries by kind (`civil-statuses` → `SINGLE`), each one
    /// that existed when written.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub references: std::collections::BTreeMap<String, String>,
    /// Who created the user (`admin:<token id>`, `usr_…`, or `self`).
    #[serde(default)]
    pub created_by: Option<String>,
    /// Sessions opened in an earlier epoch are dead (every bearer and
    /// refresh checks it): ending every session is one write of the user,
    /// however many sessions there are.
    #[serde(default)]
    pub session_epoch: u64,
    /// The one session of an earlier epoch that stays alive (the one that
    /// changed the password).
    #[serde(default)]
    pub session_survivor: Option<SessionId>,
    /// The authenticator app (TOTP), pending until its first code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub totp: Option<TotpFactor>,
    /// The keyed hashes of the recovery codes not used yet.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub recovery_codes: Vec<String>,
    /// How many passkeys the user has (their [`PasskeyRecord`]s), kept in
    /// the same transactions, so a login knows without a query.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub passkeys: u32,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

impl Record for User {
    fn key(&self) -> Key {
        user_key(&self.id)
    }
}

/// A user's authenticator app. The secret is not stored: it is derived
/// from the code key, the user and `salt` (see `domain::factors`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TotpFactor {
    pub salt: String,
    pub created_at: DateTime<Utc>,
    /// When its first code confirmed it; until then it is not a factor.
    pub confirmed_at: Option<DateTime<Utc>>,
    /// The last time step whose code was accepted (each is accepted once).
    #[serde(default)]
    pub last_step: u64,
    /// The id of the code key the secret is derived from.
    #[serde(default)]
    pub key_id: String,
}

/// When a legal document was accepted, and which version.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Acceptance {
    pub version: String,
    pub accepted_at: DateTime<Utc>,
}

/// A postal address.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Address {
    pub street: Option<String>,
    pub street_nr: Option<String>,
    pub zip: Option<String>,
    pub city: Option<String>,
    /// ISO 3166-1 alpha-2.
    pub country: Option<String>,
    pub c_o: Option<String>,
}

/// A credential being added by a signed-in user, waiting for its code.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingCredential {
    /// `email` or `phone`.
    pub kind: String,
    pub value: String,
    pub code: PendingCode,
}

/// The item that makes an e-mail (or a verified phone) unique within a
/// tenant, pointing at its user.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lock {
    pub user_id: UserId,
}

impl Lock {
    /// The lock `key` for `user_id`, under `condition`.
    pub fn put(key: Key, user_id: &UserId, condition: Condition) -> Result<Write, StoreError> {
        Ok(Write::Put { item: Item::new(key, encode(&Lock { user_id: user_id.clone() })?, None), condition })
    }
}

/// One event of a user's audit trail.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AuditEntry {
    pub event: String,
    pub at: DateTime<Utc>,
    pub detail: serde_json::Value,
}

impl AuditEntry {
    /// The entry's key: its time, then `event_id` (which makes entries of
    /// one instant distinct), so the trail reads in time order.
    pub fn key(&self, user_id: &UserId, event_id: &str) -> Key {
        Key::new(user_pk(user_id), format!("AUDIT#{}#{event_id}", self.at.format("%Y%m%dT%H%M%S%.6fZ")))
    }

    /// The entry as an item under `key`.
    pub fn item(&self, key: Key) -> Result<Item, StoreError> {
        Ok(Item::new(key, encode(self)?, None))
    }

    /// The entry's write.
    pub fn put(&self, user_id: &UserId, event_id: &str) -> Result<Write, StoreError> {
        Ok(Write::Put { item: self.item(self.key(user_id, event_id))?, condition: Condition::NotExists })
    }
}

/// A user's record.
pub fn user_key(user_id: &UserId) -> Key {
    Key::new(user_pk(user_id), "PROFILE")
}

/// The lock that makes an e-mail unique within a tenant.
pub fn email_lock_key(tenant_id: &str, email: &str) -> Key {
    Key::new(format!("EMAIL#{tenant_id}#{email}"), "LOCK")
}

/// The lock that makes a username unique within a tenant, whatever its case.
pub fn username_lock_key(tenant_id: &str, username: &Username) -> Key {
    Key::new(format!("USERNAME#{tenant_id}#{}", username.as_str().to_ascii_lowercase()), "LOCK")
}

/// The writes that move a user's username lock from `before`'s username to
/// `after`'s (none when it did not change). The new lock's put is the last
/// write and fails (`ConditionFailed`) when another user holds the name.
pub fn username_lock_writes(before: Option<&User>, after: &User) -> Result<Vec<Write>, StoreError> {
    let old = before.and_then(|u| u.username.as_ref()).map(|n| username_lock_key(&after.tenant_id, n));
    let new = after.username.as_ref().map(|n| username_lock_key(&after.tenant_id, n));
    if old == new {
        return Ok(Vec::new());
    }
    let mut writes = Vec::new();
    if let Some(key) = old {
        writes.push(Write::Delete { key, condition: Condition::Always });
    }
    if let Some(key) = new {
        writes.push(Lock::put(key, &after.id, Condition::NotExists)?);
    }
    Ok(writes)
}

/// The lock that makes a verified phone unique within a tenant.
pub fn phone_lock_key(tenant_id: &str, phone: &str) -> Key {
    Key::new(format!("PHONE#{tenant_id}#{phone}"), "LOCK")
}

/// A user's audit trail: partition and sort-key prefix (sort keys in time
/// order).
pub fn audit_of(user_id: &UserId) -> (String, &'static str) {
    (user_pk(user_id), "AUDIT#")
}

/// The searchable fields of a user, each a partition of entries per value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UserIndex {
    Status,
    Company,
    /// The phone as stored, verified or not (a verified one also has its
    /// unique [`Lock`]; an unverified one may be several users').
    Phone,
}

impl UserIndex {
    fn name(self) -> &'static str {
        match self {
            UserIndex::Status => "STATUS",
            UserIndex::Company => "COMPANY",
            UserIndex::Phone => "PHONE",
        }
    }
}

impl UserIndex {
    /// Whether every user of a tenant may be under one value of the field
    /// (a status, a company), so its partition is split into shards (SPEC
    /// §15); a phone's users are a handful.
    fn sharded(self) -> bool {
        matches!(self, UserIndex::Status | UserIndex::Company)
    }
}

/// `USERS#{tenant}#{field}#{value}`: the partition of a tenant's users
/// with `value` in `field` as it was before sharding (and a phone's still).
fn unsharded(tenant_id: &str, field: UserIndex, value: &str) -> String {
    format!("USERS#{tenant_id}#{}#{value}", field.name())
}

/// The partitions of a tenant's users with `value` in `field`, and the
/// sort key prefix of their entries: for a status or a company, the
/// unsharded partition (entries written before sharding) and its
/// [`SHARDS`](super::SHARDS) shards `…#{value}#00` to `…#31`; for a phone,
/// its one partition. An entry sorts by `USER#{usr}` in each of them.
pub fn users_by(tenant_id: &str, field: UserIndex, value: &str) -> (Vec<String>, &'static str) {
    let pk = unsharded(tenant_id, field, value);
    let partitions = if field.sharded() { super::shards_of(&pk) } else { vec![pk] };
    (partitions, "USER#")
}

/// Where a user's entry under `value` is written: the shard of its id.
fn user_index_key(tenant_id: &str, field: UserIndex, value: &str, user_id: &UserId) -> Key {
    let pk = unsharded(tenant_id, field, value);
    let pk = if field.sharded() { super::shard_pk(&pk, super::shard_of(user_id.as_str())) } else { pk };
    Key::new(pk, format!("USER#{user_id}"))
}

/// A user listed under its status or company, for the back office's
/// searches (`GET /v1/users?status=|company_id=`).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct UserIndexEntry {
    pub user_id: UserId,
}

/// The writes that keep a user's index entries in step with a write of the
/// user: `before` is the stored user (`None` for a new one). Put in the same
/// transaction as the user. An entry of an old value is deleted from the
/// user's shard only: one left in the unsharded partition by a write before
/// sharding stays (a delete there would put every change of the tenant's
/// users on one key again); the search rereads every user it lists and
/// leaves out those that no longer match.
pub fn user_index_writes(before: Option<&User>, after: &User) -> Result<Vec<Write>, StoreError> {
    let values = |u: &User| {
        [
            (UserIndex::Status, Some(u.status.as_str().to_owned())),
            (UserIndex::Company, u.company_id.clone()),
            (UserIndex::Phone, u.phone.clone()),
        ]
    };
    let none = [(UserIndex::Status, None), (UserIndex::Company, None), (UserIndex::Phone, None)];
    let old = before.map(values).unwrap_or(none);
    let mut writes = Vec::new();
    for ((field, old), (_, new)) in old.into_iter().zip(values(after)) {
        if old == new {
            continue;
        }
        if let Some(old) = old {
            let key = user_index_key(&after.tenant_id, field, &old, &after.id);
            writes.push(Write::Delete { key, condition: Condition::Always });
        }
        if let Some(new) = new {
            let key = user_index_key(&after.tenant_id, field, &new, &after.id);
            let item = Item::new(key, encode(&UserIndexEntry { user_id: after.id.clone() })?, None);
            writes.push(Write::Put { item, condition: Condition::Always });
        }
    }
    Ok(writes)
}

/// A user's e-mail address as stored: `""` for none.
mod email_or_empty {
    use serde::{Deserialize, Deserializer, Serializer};

    use crate::domain::values::EmailAddress;

    pub fn serialize<S: Serializer>(email: &Option<EmailAddress>, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(email.as_ref().map_or("", EmailAddress::as_str))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<EmailAddress>, D::Error> {
        let email = Option::<EmailAddress>::deserialize(deserializer)?;
        Ok(email.filter(|email| !email.as_str().is_empty()))
    }
}
