//! The table: every item Registrar stores, its key and its record type, in
//! one place. The domain reads and writes the table only through this
//! module's typed keys and records; the store port (`ports::Store`) and its
//! contract suite know nothing of them.
//!
//! One DynamoDB table, string keys `pk`/`sk`, TTL on `expires_at` (epoch
//! seconds; an expired item is absent on every read, see `ports::Item`).
//!
//! | Record | pk | sk | TTL | Written by | Read by |
//! |---|---|---|---|---|---|
//! | [`Tenant`] | `TENANT#{tenant}` | `TENANT` | — | CLI, local start | every request (cached per instance) |
//! | [`TenantIndexEntry`] | `TENANTS` | `TENANT#{tenant}` | — | CLI, local start | CLI (`tenant list`), CORS preflights |
//! | [`ApiKeyGrant`] | `APIKEY#{sha256(key)}` | `APIKEY` | — | CLI | every API-key request (cached) |
//! | [`ApiKeyInfo`] | `TENANT#{tenant}` | `APIKEY#{key id}` | — | CLI | CLI (list, revoke) |
//! | [`AdminTokenInfo`] (by hash) | `ADMINTOKEN#{sha256(token)}` | `ADMINTOKEN` | token's expiry | CLI | `/v1/users*` (admin auth) |
//! | [`AdminTokenInfo`] (by tenant) | `TENANT#{tenant}` | `ADMINTOKEN#{token id}` | token's expiry | CLI | CLI (list, revoke) |
//! | [`Registration`] | `REG#{reg}` | `REG` | policy `registration_ttl_secs` (24 h by default) | `POST /v1/registrations*` | the same, `GET /v1/registrations/{id}` |
//! | [`User`] | `USER#{usr}` | `PROFILE` | — | sign-up completion, `/v1/users*`, `/v1/me*`, login (rehash), the password challenge, logout-all, password reset | every bearer request, login, refresh |
//! | [`Lock`] (e-mail) | `EMAIL#{tenant}#{email}` | `LOCK` | — | sign-up completion, user creation, e-mail change, close | login, sign-up (taken?), reset |
//! | [`Lock`] (username) | `USERNAME#{tenant}#{lower-case name}` | `LOCK` | — | sign-up completion, user creation, `PATCH /v1/users/{id}`, `PATCH /v1/me`, close | login by username, sign-up (taken?), `GET /v1/users?username=` |
//! | [`Lock`] (phone) | `PHONE#{tenant}#{e164}` | `LOCK` | — | sign-up completion, phone change, close | login by phone |
//! | [`Session`] | `USER#{usr}` | `SESSION#{ses}` | refresh lifetime | sign-in, sign-up completion, refresh (binds the device, `last_used_at`), `DELETE /v1/me/sessions/{id}` | bearer requests, refresh, logout, `GET /v1/me/sessions` |
//! | [`RefreshRecord`] | `REFRESH#{sha256(token)}` | `REFRESH` | refresh lifetime | sign-in, refresh (rotation) | refresh, logout |
//! | [`Challenge`] | `CHALLENGE#{chl}` | `CHALLENGE` | 2FA: the policy's code lifetime; password change, legal acceptance: 5 min | login, `POST /v1/auth/mfa/send` (a new code) | `POST /v1/auth/mfa`, password challenge |
//! | [`PendingMfa`] | `USER#{usr}` | `MFA#{sha256(device)}` | the challenge's | login (2FA), `POST /v1/auth/mfa/send` | login within the cooldown |
//! | [`ResetRecord`] | `PWRESET#{tenant}#{keyed hash of the e-mail}` | `PWRESET` | the policy's e-mail code lifetime (10 min by default) or the invitation's (72 h) | forgot password, invitation | reset password |
//! | [`UserIndexEntry`] | `USERS#{tenant}#STATUS#{status}`, `…#COMPANY#{company}`, `…#PHONE#{e164}` | `USER#{usr}` | — | every write of a user's status, company or phone, in its transaction | `GET /v1/users?status=\|company_id=\|phone=` |
//! | [`PasskeyRecord`] | `USER#{usr}` | `PASSKEY#{pk}` | — | passkey registration, sign-in (counter) | sign-in with a passkey, `GET /v1/me/factors` |
//! | [`CredentialLock`] | `WEBAUTHN#{tenant}#{credential id}` | `LOCK` | — | passkey registration and removal | passkey sign-in (whose credential) |
//! | [`Ceremony`] | `CEREMONY#{cer}` | `CEREMONY` | 5 min | `POST …/passkeys/options`, `POST /v1/auth/passkey/options` | the ceremony's second request (deleted on use) |
//! | [`AuditEntry`] | `USER#{usr}` | `AUDIT#{time}#{evt}` | — | every status and security change (a lock episode's entry is rewritten with its count) | `GET /v1/users/{id}/audit` |
//! | [`LockEpisode`] | `USER#{usr}` | `EPISODE#{h}` (`h`: of the failure counter's sort key) | a day after its start | refused logins | refused logins |
//! | refusals of an episode (counter) | `USER#{usr}` | `EPISODE#{h}#{start}` | an hour after its episode | refused logins | refused logins |
//! | failures (counter) | `USER#{usr}` | `FAILS` or `FAILS#DEVICE#{device}` | 30 min after the last failure | login, step-up | login, step-up |
//! | failures of unknown names | `FAILS#{tenant}#{sha256(name)}` | `FAILS` | 30 min after the last failure | login | login |
//! | code tries (counter) | `TRIES#{nonce}` | `TRIES` | code expiry + 60 s | every code check | every code check |
//! | rate window (counter) | `RATE#{scope}#{subject}` | `W#{window start}` | window end + 60 s | rate-limited endpoints | the same |
//! | cooldown (empty) | `COOLDOWN#{scope}#{subject}` | `COOLDOWN` | the cooldown | code sends | code sends |
//!
//! Counters are bare items the store increments atomically
//! (`Store::increment`, `increment_below`); they have keys here but no
//! record type. Stored JSON is what serde writes for the records below; a
//! field added later carries `#[serde(default)]` so older items still read.

use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::domain::ids::{ChallengeId, RegistrationId, SessionId, UserId};
use crate::domain::policy::Policy;
use crate::domain::values::{EmailAddress, PersonalDetails, Phone, Status, Username};
use crate::ports::{Condition, Item, Key, Store, StoreError, Write};

// ---------------------------------------------------------------- records

/// A record stored under a key of its own.
pub trait Record: Serialize + DeserializeOwned {
    /// Where the record is stored.
    fn key(&self) -> Key;

    /// When the item expires (epoch seconds), if ever.
    fn expires_at(&self) -> Option<i64> {
        None
    }

    /// The record as an item.
    fn item(&self) -> Result<Item, StoreError> {
        Ok(Item::new(self.key(), encode(self)?, self.expires_at()))
    }

    /// The write of the record under `condition`.
    fn put(&self, condition: Condition) -> Result<Write, StoreError> {
        Ok(Write::Put { item: self.item()?, condition })
    }
}

/// A record of type `T` read from `item`.
pub fn decode<T: DeserializeOwned>(item: Item) -> Result<T, StoreError> {
    serde_json::from_value(item.body).map_err(|e| StoreError::Unavailable(format!("stored item unreadable: {e}")))
}

fn encode<T: Serialize + ?Sized>(value: &T) -> Result<serde_json::Value, StoreError> {
    serde_json::to_value(value).map_err(|e| StoreError::Unavailable(e.to_string()))
}

/// The record under `key` and its version, if live.
pub async fn get<T: DeserializeOwned>(store: &dyn Store, key: &Key) -> Result<Option<(T, u64)>, StoreError> {
    match store.get(key).await? {
        Some(item) => {
            let version = item.version;
            Ok(Some((decode(item)?, version)))
        }
        None => Ok(None),
    }
}

/// A tenant and its policy.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tenant {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub policy: Policy,
}

impl Record for Tenant {
    fn key(&self) -> Key {
        tenant_key(&self.id)
    }
}

impl Tenant {
    /// The tenant's entry in the list of tenants: its id and its CORS
    /// origins, so one query answers a preflight.
    pub fn index_put(&self) -> Result<Write, StoreError> {
        let entry = TenantIndexEntry { id: self.id.clone(), cors_origins: Some(self.policy.cors_origins.clone()) };
        Ok(Write::Put {
            item: Item::new(tenant_index_key(&self.id), encode(&entry)?, None),
            condition: Condition::Always,
        })
    }
}

/// A tenant's entry in the list of tenants.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TenantIndexEntry {
    pub id: String,
    /// The tenant's CORS origins; `None` in entries written before they
    /// were listed here (read the tenant then).
    #[serde(default)]
    pub cors_origins: Option<Vec<String>>,
}

/// What an API key grants: its tenant (and the partner it was issued to).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiKeyGrant {
    pub tenant_id: String,
    #[serde(default)]
    pub partner_id: Option<String>,
    #[serde(default)]
    pub revoked: bool,
}

impl ApiKeyGrant {
    /// The grant's item under the key's SHA-256.
    pub fn item(&self, key_hash: &str) -> Result<Item, StoreError> {
        Ok(Item::new(api_key_hash_key(key_hash), encode(self)?, None))
    }

    /// The grant's write under the key's SHA-256.
    pub fn put(&self, key_hash: &str, condition: Condition) -> Result<Write, StoreError> {
        Ok(Write::Put { item: self.item(key_hash)?, condition })
    }
}

/// What the operator sees of an API key (never the key).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiKeyInfo {
    pub key_id: String,
    pub tenant_id: String,
    pub partner_id: Option<String>,
    pub revoked: bool,
    pub created_at: DateTime<Utc>,
    /// SHA-256 of the key: where its grant is stored.
    pub hash: String,
}

impl Record for ApiKeyInfo {
    fn key(&self) -> Key {
        Key::new(format!("TENANT#{}", self.tenant_id), format!("APIKEY#{}", self.key_id))
    }
}

/// An admin token's record (the token itself is never stored), written
/// twice: under the token's hash (for authentication) and under its tenant
/// (for listing).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminTokenInfo {
    pub token_id: String,
    pub tenant_id: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub revoked: bool,
    pub hash: String,
}

impl AdminTokenInfo {
    /// Both items of the token, under `condition` each.
    pub fn puts(&self, condition: Condition) -> Result<[Write; 2], StoreError> {
        let expires = Some(self.expires_at.timestamp());
        let body = encode(self)?;
        Ok([
            Write::Put { item: Item::new(admin_token_key(&self.hash), body.clone(), expires), condition },
            Write::Put {
                item: Item::new(admin_token_index(&self.tenant_id, &self.token_id), body, expires),
                condition,
            },
        ])
    }
}

/// When a legal document was accepted, and which version.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Acceptance {
    pub version: String,
    pub accepted_at: DateTime<Utc>,
}

/// A code that was sent and may still be used. Its tries are counted in a
/// counter item of its own ([`tries_key`]), never in this record, so a
/// write of the record can never lose or undo a try.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingCode {
    /// HMAC-SHA256 over purpose, owner and code, hex.
    pub hash: String,
    pub expires_at: DateTime<Utc>,
    /// Random, per issued code: names the counter of its tries, so a new
    /// code (even the sandbox's fixed one) starts with all its tries.
    #[serde(default)]
    pub nonce: String,
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

/// A registration: a sign-up in progress.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Registration {
    pub id: RegistrationId,
    pub tenant_id: String,
    /// Absent in a sign-up that started with the phone and gave none.
    pub email: Option<EmailAddress>,
    pub password_hash: String,
    #[serde(flatten)]
    pub details: PersonalDetails,
    pub terms: Acceptance,
    pub privacy: Acceptance,
    pub phone_required: bool,
    /// The address already belongs to a user: the owner was told, no code
    /// was sent, and this registration can never complete.
    pub email_taken: bool,
    pub email_verified_at: Option<DateTime<Utc>>,
    pub phone: Option<Phone>,
    pub phone_verified_at: Option<DateTime<Utc>>,
    pub email_code: Option<PendingCode>,
    pub sms_code: Option<PendingCode>,
    /// Codes (or notices) handed to the mailer or texter so far.
    pub sends: u32,
    pub last_email_sent_at: Option<DateTime<Utc>>,
    pub last_sms_sent_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub user_id: Option<UserId>,
    /// The partner whose API key started the sign-up.
    #[serde(default)]
    pub partner_id: Option<String>,
    /// The username chosen at sign-up (tenants that use usernames).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<Username>,
    /// The sign-up started with the phone (its SMS code first).
    #[serde(default)]
    pub starts_with_phone: bool,
    /// The phone (of a sign-up that started with it) already belongs to a
    /// user: the owner was told by SMS, and this registration can never
    /// complete.
    #[serde(default)]
    pub phone_taken: bool,
}

impl Record for Registration {
    fn key(&self) -> Key {
        registration_key(&self.id)
    }
    fn expires_at(&self) -> Option<i64> {
        Some(self.expires_at.timestamp())
    }
}

/// A user of a tenant.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub id: UserId,
    pub tenant_id: String,
    pub user_type: String,
    pub status: Status,
    pub email: String,
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

/// A passkey of a user: the library's credential (public key, counter,
/// backup flags; nothing secret) and what the user sees.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PasskeyRecord {
    pub id: String,
    pub user_id: UserId,
    pub tenant_id: String,
    pub name: String,
    /// The credential id, base64url.
    pub credential_id: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    /// `webauthn_rs::prelude::Passkey` as serde writes it.
    pub credential: serde_json::Value,
}

impl Record for PasskeyRecord {
    fn key(&self) -> Key {
        passkey_key(&self.user_id, &self.id)
    }
}

/// Which user a credential id belongs to (one user per credential).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CredentialLock {
    pub tenant_id: String,
    pub credential_id: String,
    pub user_id: UserId,
    pub passkey_id: String,
}

impl Record for CredentialLock {
    fn key(&self) -> Key {
        credential_lock_key(&self.tenant_id, &self.credential_id)
    }
}

/// What a WebAuthn ceremony is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CeremonyKind {
    /// A signed-in user registers a passkey.
    Registration,
    /// Sign-in with a passkey alone (discoverable credential).
    SignIn,
    /// A passkey answers a login's 2FA challenge.
    SecondFactor,
}

/// A WebAuthn ceremony between its two requests: the library's state
/// (the challenge), single-use and short-lived.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Ceremony {
    pub id: String,
    pub kind: CeremonyKind,
    pub tenant_id: String,
    pub user_id: Option<UserId>,
    pub challenge_id: Option<ChallengeId>,
    pub device_id: Option<String>,
    pub state: serde_json::Value,
    pub expires_at: DateTime<Utc>,
}

impl Record for Ceremony {
    fn key(&self) -> Key {
        ceremony_key(&self.id)
    }
    fn expires_at(&self) -> Option<i64> {
        Some(self.expires_at.timestamp())
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

impl Record for User {
    fn key(&self) -> Key {
        user_key(&self.id)
    }
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

/// A session: one sign-in on one device. Revoking it (deleting the item)
/// kills every refresh token of its family at once.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    pub id: SessionId,
    pub user_id: UserId,
    pub tenant_id: String,
    /// The device the session is bound to; `None` until the first refresh
    /// names one (sessions opened by a sign-up without `X-Device-ID`).
    pub device_id: Option<String>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    /// The user's session epoch when the session opened.
    #[serde(default)]
    pub epoch: u64,
    /// When the user last proved the password (or a code of sign-up): a
    /// step-up within the tenant's window needs no password again.
    #[serde(default)]
    pub auth_time: Option<DateTime<Utc>>,
    /// When the session was opened or last refreshed (policy
    /// `refresh.idle_timeout_secs` counts from here). `None` in items
    /// written before it was tracked: read it through [`Session::last_used`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_used_at: Option<DateTime<Utc>>,
    /// How the sign-in proved who the user is (RFC 8176 values: `pwd`,
    /// `otp`, `sms`, `hwk`, `mfa`, …), for the tokens' `amr`. The user's
    /// roles and type are not copied here: every token reads them from the
    /// user, so a change reaches the next refresh.
    #[serde(default)]
    pub amr: Vec<String>,
}

impl Session {
    /// When the session was last used: opened, or refreshed (an item
    /// written before this was tracked counts from its opening).
    pub fn last_used(&self) -> DateTime<Utc> {
        self.last_used_at.unwrap_or(self.created_at)
    }
}

impl Record for Session {
    fn key(&self) -> Key {
        session_key(&self.user_id, &self.id)
    }
    fn expires_at(&self) -> Option<i64> {
        Some(self.expires_at.timestamp())
    }
}

/// A refresh token's record, stored under the token's SHA-256 (the token
/// itself is never stored).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefreshRecord {
    pub session_id: SessionId,
    pub user_id: UserId,
    pub tenant_id: String,
    pub issued_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    /// When this token was exchanged for its successor.
    #[serde(default)]
    pub rotated_at: Option<DateTime<Utc>>,
}

impl RefreshRecord {
    /// The record's write for `token`, under `condition`.
    pub fn put(&self, token: &str, condition: Condition) -> Result<Write, StoreError> {
        let item = Item::new(refresh_key(token), encode(self)?, Some(self.expires_at.timestamp()));
        Ok(Write::Put { item, condition })
    }
}

/// What a login challenge asks for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChallengeKind {
    Mfa,
    PasswordChange,
    /// Legal documents to accept (a newer version, or none accepted yet).
    LegalAcceptance,
}

/// A pending second step of a login.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Challenge {
    pub id: ChallengeId,
    pub kind: ChallengeKind,
    pub tenant_id: String,
    pub user_id: UserId,
    pub device_id: String,
    pub channel: Option<String>,
    /// The factors the login offered (`channel` alone in challenges
    /// written before there were others).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub factors: Vec<crate::domain::policy::Factor>,
    /// The login named the phone (so the second factor is the e-mail).
    #[serde(default)]
    pub by_phone: bool,
    pub code: Option<PendingCode>,
    pub expires_at: DateTime<Utc>,
    /// The user's session epoch at the login: ending every session (a
    /// reset, logout-all) also ends the login steps under way.
    #[serde(default)]
    pub epoch: u64,
    /// The second factor was proven before this step (legal documents
    /// after 2FA): the login goes on without it.
    #[serde(default)]
    pub mfa_passed: bool,
    /// The methods the login proved before this step (RFC 8176), for the
    /// session it ends in.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub amr: Vec<String>,
}

impl Record for Challenge {
    fn key(&self) -> Key {
        challenge_key(&self.id)
    }
    fn expires_at(&self) -> Option<i64> {
        Some(self.expires_at.timestamp())
    }
}

/// The 2FA challenge pending for a user on a device: a login again within
/// the code's cooldown (an abandoned attempt) gets that challenge back, with
/// no new code, instead of a refusal.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PendingMfa {
    pub user_id: UserId,
    pub device_id: String,
    pub challenge_id: ChallengeId,
    pub expires_at: DateTime<Utc>,
}

impl Record for PendingMfa {
    fn key(&self) -> Key {
        pending_mfa_key(&self.user_id, &self.device_id)
    }
    fn expires_at(&self) -> Option<i64> {
        Some(self.expires_at.timestamp())
    }
}

/// A password-reset (or invitation) code for an address of a tenant. A
/// decoy for an unknown address has an empty `user_id`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ResetRecord {
    pub user_id: String,
    pub code: PendingCode,
}

impl ResetRecord {
    /// The record's item for the address (its `limits::destination`
    /// subject), expiring with its code.
    pub fn item(&self, destination: &str) -> Result<Item, StoreError> {
        Ok(Item::new(reset_key(destination), encode(self)?, Some(self.code.expires_at.timestamp())))
    }

    /// The record's write for the address (its `limits::destination`).
    pub fn put(&self, destination: &str, condition: Condition) -> Result<Write, StoreError> {
        Ok(Write::Put { item: self.item(destination)?, condition })
    }
}

/// A passwordless sign-in code, stored under the keyed hash of the name it
/// was asked for (`limits::destination` of the normalized e-mail, phone or
/// username): the user, the factor it proves (`email` or `sms`), the keyed
/// hash of where it went (a changed address voids it) and the code. A decoy
/// for a name that gets no code has an empty `user_id`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SignInCode {
    pub user_id: String,
    pub factor: crate::domain::policy::Factor,
    pub destination: String,
    /// The user's session epoch when the code was drawn: a session end
    /// since (a reset, logout-all, a status change) voids the code.
    #[serde(default)]
    pub epoch: u64,
    pub code: PendingCode,
}

impl SignInCode {
    /// The record's item for the name's subject, expiring with its code.
    pub fn item(&self, name: &str) -> Result<Item, StoreError> {
        Ok(Item::new(sign_in_code_key(name), encode(self)?, Some(self.code.expires_at.timestamp())))
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

/// The lock episode a failure counter (`account_failures_key`,
/// `device_failures_key`) is in: from its first refused login until the
/// failures are forgotten. Its refusals share one audit entry, so a flood
/// of wrong passwords cannot bury the audit trail.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockEpisode {
    /// The first refusal (epoch seconds): where its entry sits in the trail.
    pub started_at: i64,
    /// When the episode stops collecting refusals at the latest (epoch
    /// seconds; the item's expiry).
    pub ends_at: i64,
    /// The failure counter's expiry as the first refusal read it (it moves
    /// with each failure): a counter of one failure that expires later was
    /// started afresh since (`None`: the counter was gone).
    pub counter_expiry: Option<i64>,
}

impl LockEpisode {
    /// The episode of the counter under `failures`, as an item.
    pub fn item(&self, failures: &Key) -> Result<Item, StoreError> {
        Ok(Item::new(lock_episode_key(failures), encode(self)?, Some(self.ends_at)))
    }

    /// The counter of this episode's refusals (a key per episode, as
    /// `Store::increment` wants).
    pub fn refusals_key(&self, failures: &Key) -> Key {
        Key::new(failures.pk.clone(), format!("EPISODE#{}#{}", episode_tag(failures), self.started_at))
    }

    /// The audit event id of this episode: the same for each of its
    /// refusals, so they all find its entry.
    pub fn event_id(&self, failures: &Key) -> String {
        format!("evt_refusals_{}", episode_tag(failures))
    }
}

/// A failure counter's tag: its sort key (which may hold a device id of
/// any visible ASCII) hashed to 16 hex digits.
fn episode_tag(failures: &Key) -> String {
    sha256_hex(&failures.sk)[..16].to_owned()
}

/// The lock episode a failure counter is in.
pub fn lock_episode_key(failures: &Key) -> Key {
    Key::new(failures.pk.clone(), format!("EPISODE#{}", episode_tag(failures)))
}

// ---------------------------------------------------------------- keys

fn user_pk(user_id: &str) -> String {
    format!("USER#{user_id}")
}

fn sha256_hex(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// A tenant's record.
pub fn tenant_key(tenant_id: &str) -> Key {
    Key::new(format!("TENANT#{tenant_id}"), "TENANT")
}

/// A tenant's entry in the list of tenants (`{ id, cors_origins }`).
pub fn tenant_index_key(tenant_id: &str) -> Key {
    Key::new(TENANTS_PK, format!("TENANT#{tenant_id}"))
}

/// The partition holding the list of tenants; its sort keys start with
/// [`TENANT_PREFIX`].
pub const TENANTS_PK: &str = "TENANTS";
pub const TENANT_PREFIX: &str = "TENANT#";

/// An API key's grant, by the key (only its SHA-256 is stored; API keys are
/// long random strings, so an unkeyed hash is enough).
pub fn api_key_key(api_key: &str) -> Key {
    api_key_hash_key(&sha256_hex(api_key))
}

/// An API key's grant, by the key's SHA-256.
pub fn api_key_hash_key(hash: &str) -> Key {
    Key::new(format!("APIKEY#{hash}"), "APIKEY")
}

/// The SHA-256 of an API key or admin token, as keys name them.
pub fn secret_hash(secret: &str) -> String {
    sha256_hex(secret)
}

/// A tenant's API keys (`ApiKeyInfo`): partition and sort-key prefix.
pub fn api_key_infos(tenant_id: &str) -> (String, &'static str) {
    (format!("TENANT#{tenant_id}"), "APIKEY#")
}

/// An API key's entry among its tenant's.
pub fn api_key_info_key(tenant_id: &str, key_id: &str) -> Key {
    Key::new(format!("TENANT#{tenant_id}"), format!("APIKEY#{key_id}"))
}

/// An admin token's record by the token's SHA-256.
pub fn admin_token_key(hash: &str) -> Key {
    Key::new(format!("ADMINTOKEN#{hash}"), "ADMINTOKEN")
}

/// An admin token's entry among its tenant's.
pub fn admin_token_index(tenant_id: &str, token_id: &str) -> Key {
    Key::new(format!("TENANT#{tenant_id}"), format!("ADMINTOKEN#{token_id}"))
}

/// A tenant's admin tokens: partition and sort-key prefix.
pub fn admin_token_infos(tenant_id: &str) -> (String, &'static str) {
    (format!("TENANT#{tenant_id}"), "ADMINTOKEN#")
}

/// A registration's record.
pub fn registration_key(id: &RegistrationId) -> Key {
    Key::new(format!("REG#{id}"), "REG")
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

/// A session's record, under its user so all of them can be listed.
pub fn session_key(user_id: &UserId, session_id: &SessionId) -> Key {
    Key::new(user_pk(user_id), format!("SESSION#{session_id}"))
}

/// A user's sessions: partition and sort-key prefix.
pub fn sessions_of(user_id: &UserId) -> (String, &'static str) {
    (user_pk(user_id), "SESSION#")
}

/// A user's audit trail: partition and sort-key prefix (sort keys in time
/// order).
pub fn audit_of(user_id: &UserId) -> (String, &'static str) {
    (user_pk(user_id), "AUDIT#")
}

/// A refresh token's record, by the token's SHA-256 (tokens are 256-bit
/// random).
pub fn refresh_key(token: &str) -> Key {
    Key::new(format!("REFRESH#{}", sha256_hex(token)), "REFRESH")
}

/// A passkey of a user.
pub fn passkey_key(user_id: &UserId, id: &str) -> Key {
    Key::new(user_pk(user_id), format!("PASSKEY#{id}"))
}

/// The query of a user's passkeys: `pk` and the `sk` prefix.
pub fn passkeys_of(user_id: &UserId) -> (String, &'static str) {
    (user_pk(user_id), "PASSKEY#")
}

pub fn credential_lock_key(tenant_id: &str, credential_id: &str) -> Key {
    Key::new(format!("WEBAUTHN#{tenant_id}#{credential_id}"), "LOCK")
}

pub fn ceremony_key(id: &str) -> Key {
    Key::new(format!("CEREMONY#{id}"), "CEREMONY")
}

pub fn challenge_key(id: &ChallengeId) -> Key {
    Key::new(format!("CHALLENGE#{id}"), "CHALLENGE")
}

/// The 2FA challenge pending for `user_id` on `device_id` (the device id
/// hashed: any visible ASCII, up to 128 characters).
pub fn pending_mfa_key(user_id: &UserId, device_id: &str) -> Key {
    Key::new(user_pk(user_id), format!("MFA#{}", hex::encode(&Sha256::digest(device_id.as_bytes())[..16])))
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

/// The partition of a tenant's users with `value` in `field`, and the sort
/// key prefix of its entries.
pub fn users_by(tenant_id: &str, field: UserIndex, value: &str) -> (String, &'static str) {
    (format!("USERS#{tenant_id}#{}#{value}", field.name()), "USER#")
}

fn user_index_key(tenant_id: &str, field: UserIndex, value: &str, user_id: &UserId) -> Key {
    Key::new(users_by(tenant_id, field, value).0, format!("USER#{user_id}"))
}

/// A user listed under its status or company, for the back office's
/// searches (`GET /v1/users?status=|company_id=`).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct UserIndexEntry {
    pub user_id: UserId,
}

/// The writes that keep a user's index entries in step with a write of the
/// user: `before` is the stored user (`None` for a new one). Put in the same
/// transaction as the user.
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

/// A password-reset code for an address of a tenant, by the address's
/// keyed hash (`limits::destination`: `<tenant>#<hash>`), never the address.
pub fn reset_key(destination: &str) -> Key {
    Key::new(format!("PWRESET#{destination}"), "PWRESET")
}

/// The passwordless sign-in code asked for a name (its keyed hash).
pub fn sign_in_code_key(name: &str) -> Key {
    Key::new(format!("SIGNIN#{name}"), "SIGNIN")
}

/// The account's shared counter of failed password checks.
pub fn account_failures_key(user_id: &UserId) -> Key {
    Key::new(user_pk(user_id), "FAILS")
}

/// A session's counter of wrong step-up passwords.
pub fn step_up_failures_key(user_id: &UserId, session_id: &SessionId) -> Key {
    Key::new(user_pk(user_id), format!("FAILS#STEPUP#{session_id}"))
}

/// A trusted device's own counter of failed password checks.
pub fn device_failures_key(user_id: &UserId, device_id: &str) -> Key {
    Key::new(user_pk(user_id), format!("FAILS#DEVICE#{device_id}"))
}

/// The failure counter of a login name no account has, by the name's keyed
/// hash (`limits::destination`: `<tenant>#<hash>`; the name itself is
/// never stored).
pub fn unknown_name_failures_key(destination: &str) -> Key {
    Key::new(format!("FAILS#{destination}"), "FAILS")
}

/// The counter of a code's tries. Codes written before they carried a
/// nonce count under their hash's digest instead.
pub fn tries_key(code: &PendingCode) -> Key {
    let id = if code.nonce.is_empty() {
        hex::encode(&Sha256::digest(code.hash.as_bytes())[..16])
    } else {
        code.nonce.clone()
    };
    Key::new(format!("TRIES#{id}"), "TRIES")
}

/// The counter of `scope`'s events for `subject` in the window starting at
/// `window_start` (epoch seconds).
pub fn rate_key(scope: &str, subject: &str, window_start: i64) -> Key {
    Key::new(format!("RATE#{scope}#{subject}"), format!("W#{window_start}"))
}

/// A running cooldown of `scope` for `subject` (an empty item whose expiry
/// is the cooldown's end).
pub fn cooldown_key(scope: &str, subject: &str) -> Key {
    Key::new(format!("COOLDOWN#{scope}#{subject}"), "COOLDOWN")
}

/// The item of a cooldown that ends at `until` (epoch seconds).
pub fn cooldown_item(scope: &str, subject: &str, until: i64) -> Item {
    Item::new(cooldown_key(scope, subject), serde_json::json!({}), Some(until))
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;

    use super::*;

    #[test]
    fn user_status_is_stored_as_its_word() {
        assert_eq!(serde_json::to_value(Status::Suspended).unwrap(), serde_json::json!("suspended"));
        assert_eq!(serde_json::from_value::<Status>(serde_json::json!("closed")).unwrap(), Status::Closed);
    }

    #[test]
    fn keys_keep_their_stored_spelling() {
        // Items written by earlier versions must still be found.
        let user = UserId::parse("usr_1").unwrap();
        assert_eq!(user_key(&user), Key::new("USER#usr_1", "PROFILE"));
        assert_eq!(session_key(&user, &SessionId::parse("ses_2").unwrap()), Key::new("USER#usr_1", "SESSION#ses_2"));
        assert_eq!(email_lock_key("t", "a@b.ch"), Key::new("EMAIL#t#a@b.ch", "LOCK"));
        assert_eq!(rate_key("login", "t#x", 60), Key::new("RATE#login#t#x", "W#60"));
        assert_eq!(device_failures_key(&user, "dev"), Key::new("USER#usr_1", "FAILS#DEVICE#dev"));
        let old = PendingCode { hash: "ab".into(), expires_at: Utc::now(), nonce: String::new() };
        assert_eq!(tries_key(&old).pk.len(), "TRIES#".len() + 32);
    }

    #[test]
    fn a_user_stored_by_an_earlier_version_still_reads_and_keeps_its_fields() {
        // A user item as versions before the typed table wrote it.
        let stored = serde_json::json!({
            "id": "usr_0192", "tenant_id": "demo", "user_type": "consumer", "status": "suspended",
            "email": "a@b.ch", "email_verified_at": "2026-01-02T03:04:05Z", "phone": null,
            "phone_verified_at": null, "password_hash": "$argon2id$x", "first_name": "Ada",
            "last_name": "Muster", "gender": "f", "birth_date": "1990-05-06", "language": "de",
            "time_zone": "Europe/Zurich", "roles": ["member"], "terms": null, "privacy": null,
            "created_at": "2026-01-02T03:04:05Z", "updated_at": "2026-01-02T03:04:05Z",
            "session_survivor": "ses_7"
        });
        let item = Item::new(Key::new("USER#usr_0192", "PROFILE"), stored.clone(), None);
        let user: User = decode(item).unwrap();
        assert_eq!(user.id.as_str(), "usr_0192");
        assert_eq!(user.status, Status::Suspended);
        assert_eq!(user.details.language, "de");
        assert_eq!(user.details.birth_date, NaiveDate::from_ymd_opt(1990, 5, 6));
        assert_eq!(user.session_survivor.as_ref().map(SessionId::as_str), Some("ses_7"));
        assert_eq!(user.key(), Key::new("USER#usr_0192", "PROFILE"));
        // Written again, every field keeps its spelling: an earlier version
        // still running during a deploy (or after a rollback) reads it.
        let written = user.item().unwrap().body;
        for (name, value) in stored.as_object().unwrap() {
            assert_eq!(&written[name], value, "{name}");
        }
    }
}
