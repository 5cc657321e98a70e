//! The table: every item Registrar stores, its key and its record type, in
//! one place. The domain reads and writes the table only through this
//! module's typed keys and records; the store port (`ports::Store`) and its
//! contract suite know nothing of them.
//!
//! The records are grouped by aggregate, a child module each: `tenants`,
//! `users` (with their locks, indexes and audit trail), `registrations`,
//! `sessions`, `challenges`, `codes`, `passkeys`, `counters`, `events`
//! (the transactional outbox) and `clients` (the OpenID Provider's clients
//! and authorization codes). Every key
//! names what it holds ([`Kind::of`]), so a transaction that fails tells by
//! name which write's condition did not hold ([`commit`]).
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
//! | [`UserIndexEntry`] | `USERS#{tenant}#STATUS#{status}#{shard}`, `USERS#{tenant}#COMPANY#{company}#{shard}` (sharded: see below), `USERS#{tenant}#PHONE#{e164}` | `USER#{usr}` | — | every write of a user's status, company or phone, in its transaction | `GET /v1/users?status=\|company_id=\|phone=` (every shard, merged), `registrar-admin user export` |
//! | [`PasskeyRecord`] | `USER#{usr}` | `PASSKEY#{pk}` | — | passkey registration, sign-in (counter) | sign-in with a passkey, `GET /v1/me/factors` |
//! | [`CredentialLock`] | `WEBAUTHN#{tenant}#{credential id}` | `LOCK` | — | passkey registration and removal | passkey sign-in (whose credential) |
//! | [`Ceremony`] | `CEREMONY#{cer}` | `CEREMONY` | 5 min | `POST …/passkeys/options`, `POST /v1/auth/passkey/options` | the ceremony's second request (deleted on use) |
//! | [`AuditEntry`] | `USER#{usr}` | `AUDIT#{time}#{evt}` | — | every status and security change (a lock episode's entry is rewritten with its count) | `GET /v1/users/{id}/audit`, `GET /v1/me/export` |
//! | [`LockEpisode`] | `USER#{usr}` | `EPISODE#{h}` (`h`: of the failure counter's sort key) | a day after its start | refused logins | refused logins |
//! | refusals of an episode (counter) | `USER#{usr}` | `EPISODE#{h}#{start}` | an hour after its episode | refused logins | refused logins |
//! | failures (counter) | `USER#{usr}` | `FAILS` or `FAILS#DEVICE#{device}` | 30 min after the last failure | login, step-up | login, step-up |
//! | failures of unknown names | `FAILS#{tenant}#{sha256(name)}` | `FAILS` | 30 min after the last failure | login | login |
//! | code tries (counter) | `TRIES#{nonce}` | `TRIES` | code expiry + 60 s | every code check | every code check |
//! | rate window (counter) | `RATE#{scope}#{subject}` (SMS budgets: `RATE#sms-…#{tenant}#{shard}`, `limits::sms_gates`) | `W#{window start}` | window end + 60 s | rate-limited endpoints, often inside the transaction they guard (`Write::Count`) | the same |
//! | cooldown (empty) | `COOLDOWN#{scope}#{subject}` | `COOLDOWN` | the cooldown | code sends | code sends |
//! | [`EventRecord`] | `EVENT#{tenant}#{shard}` (sharded: see below) | `{occurred_at}#{evt}` | 7 days | every change SPEC §11 lists, in its transaction | the table's stream (`publish-events`), the local feed, the redrive (`events::stored_between`: every shard, merged) |
//! | [`ClientRecord`] | `CLIENT#{client id}` | `CLIENT` | — | CLI (`client create\|update\|delete`), local start (`REGISTRAR_OAUTH_CLIENTS`) | `/oauth2/*` (which client, its tenant, its secret) |
//! | [`ClientIndexEntry`] | `TENANT#{tenant}` | `CLIENT#{client id}` | — | with the client, in its transaction | CLI (`client list`) |
//! | [`AuthorizationCode`] | `OAUTHCODE#{sha256(code)}` | `OAUTHCODE` | a day (valid 60 s: `valid_until`) | the hosted sign-in (`oauth::issue_code`), its redemption (`redeemed_by`) | `POST /oauth2/token` |
//! | [`IdentityLock`] | `IDENTITY#{tenant}#{sha256(iss + sub)}` | `LOCK` | — | the first sign-in with a provider identity, a link, an unlink, close | every sign-in with a provider |
//! | [`LinkedIdentity`] | `USER#{usr}` | `IDENTITY#{provider}` | — | with its lock | `GET /v1/me/identities`, unlink, close |
//! | [`FederationState`] | `FEDSTATE#{sha256(state)}` | `FEDSTATE` | 10 min | `/oauth2/authorize` to a provider, `POST /v1/me/identities/{provider}` | `/oauth2/idpresponse` (deleted on use) |
//! | [`UsedIdToken`] | `IDTOKEN#{sha256(token)}` | `USED` | the token's expiry + 60 s | `POST /v1/auth/federated/token`, `POST /v1/me/identities/{provider}` | the same (each token once) |
//! | [`PendingIdentity`] | `FEDPENDING#{id}` | `FEDPENDING` | 10 min | `/oauth2/idpresponse` (an account with the address exists) | the hosted page's proof (deleted on use) |
//!
//! **Shards.** A partition every user of a tenant writes would cap the
//! tenant at DynamoDB's 1,000 write units a second per partition key (a
//! few hundred sign-ups a second, a write in a transaction costing two).
//! The user indexes by status and by company and the event outbox are
//! therefore split into [`SHARDS`] (32) partitions `{pk}#00` to `{pk}#31`,
//! an item going to the shard of its user's or event's id ([`shard_of`],
//! FNV-1a: stable across releases): a sign-up writes about 1/32 of a write
//! to each, so a tenant takes 10,000 sign-ups a second (SPEC §15, measured
//! by `tests/api/hot_keys.rs`). A reader reads every shard and the
//! unsharded `{pk}` itself ([`shards_of`]: items written before sharding;
//! an event's goes with its TTL, a user's index entry stays and is dropped
//! by the search when it no longer matches the user) as one partition,
//! merged by sort key (`domain::paging::query_merged`). The `…#PHONE#`
//! index is a phone's few users and stays one partition.
//!
//! Counters are bare items the store increments atomically
//! (`Store::increment`, `increment_below`); they have keys here but no
//! record type. Stored JSON is what serde writes for the records below; a
//! field added later carries `#[serde(default)]` so older items still read.

use serde::Serialize;
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};

use crate::ports::{Condition, Item, Key, Store, StoreError, Write};

mod challenges;
mod clients;
mod codes;
mod counters;
mod events;
mod identities;
mod passkeys;
mod registrations;
mod sessions;
mod tenants;
mod users;

pub use challenges::*;
pub use clients::*;
pub use codes::*;
pub use counters::*;
pub use events::*;
pub use identities::*;
pub use passkeys::*;
pub use registrations::*;
pub use sessions::*;
pub use tenants::*;
pub use users::*;

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

fn user_pk(user_id: &str) -> String {
    format!("USER#{user_id}")
}

fn sha256_hex(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

// ---------------------------------------------------------------- shards

/// How many shards a partition that every user of a tenant writes is split
/// into (the user indexes by status and by company, the event outbox): a
/// sign-up writes one shard of each, so no key of a tenant takes more than
/// about 1/32 of its sign-ups' writes (SPEC §15: 10,000 sign-ups a second
/// per tenant). Part of the stored format: the readers read shards
/// `0..SHARDS`, so this only grows with a migration of the items.
pub const SHARDS: u32 = 32;

/// The shard (`0..SHARDS`) of `id`: its SHA-256's first four bytes, the
/// same on every instance and every release (a std `Hasher` promises
/// neither). Not FNV-1a: its low bits, which a modulus of 32 keeps, depend
/// only on the low bits of each byte, and ids made in the same
/// millisecond crowded a few shards.
pub fn shard_of(id: &str) -> u32 {
    let digest = Sha256::digest(id.as_bytes());
    u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]]) % SHARDS
}

/// Shard `shard` of the partition `pk`: `{pk}#{shard:02}`.
pub fn shard_pk(pk: &str, shard: u32) -> String {
    format!("{pk}#{shard:02}")
}

/// Every partition a reader of the sharded partition `pk` reads: `pk`
/// itself first (its items written before it was sharded), then its
/// shards in order.
pub fn shards_of(pk: &str) -> Vec<String> {
    std::iter::once(pk.to_owned()).chain((0..SHARDS).map(|shard| shard_pk(pk, shard))).collect()
}

// ---------------------------------------------------------------- transactions

/// What a stored item is, told from its key: the name of a write in a
/// transaction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Tenant,
    TenantIndex,
    ApiKeyGrant,
    ApiKeyInfo,
    AdminToken,
    Registration,
    User,
    EmailLock,
    UsernameLock,
    PhoneLock,
    UserIndex,
    Audit,
    Session,
    Refresh,
    Challenge,
    PendingMfa,
    Reset,
    SignInCode,
    Passkey,
    CredentialLock,
    Ceremony,
    LockEpisode,
    /// A counter: failures, an episode's refusals.
    Counter,
    /// A code's tries (counted in the write that acts on a right code).
    Tries,
    /// A rate limit's window (counted in the write of what it guards).
    RateWindow,
    Cooldown,
    /// An event of the outbox.
    Event,
    /// An OpenID Connect client.
    Client,
    /// A client's entry among its tenant's.
    ClientIndex,
    /// An authorization code (OpenID Connect).
    AuthorizationCode,
    /// Whose a provider identity is.
    IdentityLock,
    /// An identity a user linked.
    LinkedIdentity,
    /// A sign-in waiting at a provider.
    FederationState,
    /// A provider identity waiting for its account's proof.
    PendingIdentity,
    /// An ID token the API took once.
    UsedIdToken,
    /// A key this module does not write.
    Unknown,
}

impl Kind {
    /// What the item under `key` is.
    pub fn of(key: &Key) -> Kind {
        let Some((prefix, _)) = key.pk.split_once('#') else {
            return if key.pk == TENANTS_PK { Kind::TenantIndex } else { Kind::Unknown };
        };
        let sk_prefix = key.sk.split_once('#').map_or(key.sk.as_str(), |(head, _)| head);
        match (prefix, sk_prefix) {
            ("TENANT", "TENANT") => Kind::Tenant,
            ("TENANT", "APIKEY") => Kind::ApiKeyInfo,
            ("TENANT", "ADMINTOKEN") | ("ADMINTOKEN", _) => Kind::AdminToken,
            ("TENANT", "CLIENT") => Kind::ClientIndex,
            ("CLIENT", _) => Kind::Client,
            ("OAUTHCODE", _) => Kind::AuthorizationCode,
            ("IDENTITY", _) => Kind::IdentityLock,
            ("USER", "IDENTITY") => Kind::LinkedIdentity,
            ("FEDSTATE", _) => Kind::FederationState,
            ("FEDPENDING", _) => Kind::PendingIdentity,
            ("IDTOKEN", _) => Kind::UsedIdToken,
            ("APIKEY", _) => Kind::ApiKeyGrant,
            ("REG", _) => Kind::Registration,
            ("USER", "PROFILE") => Kind::User,
            ("USER", "SESSION") => Kind::Session,
            ("USER", "MFA") => Kind::PendingMfa,
            ("USER", "PASSKEY") => Kind::Passkey,
            ("USER", "AUDIT") => Kind::Audit,
            // `EPISODE#{h}` is the episode, `EPISODE#{h}#{start}` its refusals.
            ("USER", "EPISODE") if key.sk.matches('#').count() == 1 => Kind::LockEpisode,
            ("USER", "EPISODE" | "FAILS") | ("FAILS", _) => Kind::Counter,
            ("TRIES", _) => Kind::Tries,
            ("RATE", _) => Kind::RateWindow,
            ("EMAIL", _) => Kind::EmailLock,
            ("USERNAME", _) => Kind::UsernameLock,
            ("PHONE", _) => Kind::PhoneLock,
            ("USERS", _) => Kind::UserIndex,
            ("REFRESH", _) => Kind::Refresh,
            ("CHALLENGE", _) => Kind::Challenge,
            ("PWRESET", _) => Kind::Reset,
            ("SIGNIN", _) => Kind::SignInCode,
            ("WEBAUTHN", _) => Kind::CredentialLock,
            ("CEREMONY", _) => Kind::Ceremony,
            ("COOLDOWN", _) => Kind::Cooldown,
            ("EVENT", _) => Kind::Event,
            _ => Kind::Unknown,
        }
    }
}

/// Why a transaction wrote nothing.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Failed {
    /// The condition of the write of this kind did not hold (the first such
    /// write, when several failed).
    #[error("condition failed ({0:?})")]
    Condition(Kind),
    /// The store could not be reached or refused the call.
    #[error("store unavailable: {0}")]
    Unavailable(String),
}

/// Applies every write or none (at most 100, distinct keys); a failed
/// condition is reported by the kind of the write that failed, never by
/// its position.
pub async fn commit(store: &dyn Store, writes: Vec<Write>) -> Result<(), Failed> {
    let kinds: Vec<Kind> = writes.iter().map(|write| Kind::of(write.key())).collect();
    store.transact(writes).await.map_err(|err| match err {
        StoreError::ConditionFailed { index } => Failed::Condition(kinds.get(index).copied().unwrap_or(Kind::Unknown)),
        StoreError::Unavailable(reason) => Failed::Unavailable(reason),
    })
}

#[cfg(test)]
mod tests {
    use chrono::{NaiveDate, Utc};

    use super::*;
    use crate::domain::ids::{ChallengeId, RegistrationId, SessionId, UserId};
    use crate::domain::values::{Status, Username};

    #[test]
    fn an_id_keeps_its_shard_and_ids_spread_evenly() {
        // Part of the stored format: these never change.
        let pinned: Vec<u32> = ["", "a", "usr_1", "evt_1"].iter().map(|id| shard_of(id)).collect();
        assert_eq!(pinned, [2, 18, 15, 22]);
        assert_eq!(shard_pk("EVENT#t", 7), "EVENT#t#07");
        let partitions = shards_of("EVENT#t");
        assert_eq!(partitions.len(), 33);
        assert_eq!((partitions[0].as_str(), partitions[32].as_str()), ("EVENT#t", "EVENT#t#31"));
        // 32,000 ids shaped as the API makes them (a UUIDv7: ten a
        // millisecond, then random bits): each shard within 15% of the even
        // 1,000 (a fair draw's spread is about 3%).
        let mut counts = [0u32; SHARDS as usize];
        for n in 0..32_000u64 {
            let random = n.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 4;
            let prefix = if n % 2 == 0 { "usr" } else { "evt" };
            let id = format!("{prefix}_{:012x}7{:03x}8{random:015x}", 1_760_000_000_000 + n / 10, n & 0xfff);
            counts[shard_of(&id) as usize] += 1;
        }
        let (min, max) = (counts.iter().min().unwrap(), counts.iter().max().unwrap());
        assert!(*min >= 850 && *max <= 1150, "uneven shards: {counts:?}");
    }

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
    fn a_user_without_an_address_is_stored_with_an_empty_one() {
        // Closed accounts and phone-only sign-ups were always stored with
        // `"email": ""`: they read as no address and are written back so.
        let stored = serde_json::json!({
            "id": "usr_1", "tenant_id": "t", "user_type": "company_user", "status": "closed", "email": "",
            "email_verified_at": null, "phone": null, "phone_verified_at": null, "password_hash": "",
            "first_name": "", "last_name": "", "language": "en", "time_zone": "UTC", "roles": [],
            "terms": null, "privacy": null, "created_at": "2026-01-02T03:04:05Z", "updated_at": "2026-01-02T03:04:05Z"
        });
        let user: User = decode(Item::new(Key::new("USER#usr_1", "PROFILE"), stored, None)).unwrap();
        assert_eq!(user.email, None);
        assert_eq!(user.user_type, crate::domain::values::UserType::CompanyUser);
        let written = user.item().unwrap().body;
        assert_eq!(written["email"], "");
        assert_eq!(written["user_type"], "company_user");
    }

    #[test]
    fn every_key_names_its_kind() {
        let user = UserId::parse("usr_1").unwrap();
        let session = SessionId::parse("ses_2").unwrap();
        let failures = account_failures_key(&user);
        let episode = LockEpisode { started_at: 5, ends_at: 9, counter_expiry: None };
        let code = PendingCode { hash: "ab".into(), expires_at: Utc::now(), nonce: "n".into() };
        let name = Username::parse("Ada").unwrap();
        let audit = AuditEntry { event: "x".into(), at: Utc::now(), detail: serde_json::json!({}) };
        let cases = [
            (tenant_key("t"), Kind::Tenant),
            (tenant_index_key("t"), Kind::TenantIndex),
            (api_key_key("sk_x"), Kind::ApiKeyGrant),
            (api_key_info_key("t", "key_1"), Kind::ApiKeyInfo),
            (admin_token_key("h"), Kind::AdminToken),
            (admin_token_index("t", "adm_1"), Kind::AdminToken),
            (registration_key(&RegistrationId::parse("reg_1").unwrap()), Kind::Registration),
            (user_key(&user), Kind::User),
            (email_lock_key("t", "a@b.ch"), Kind::EmailLock),
            (username_lock_key("t", &name), Kind::UsernameLock),
            (phone_lock_key("t", "+41791234567"), Kind::PhoneLock),
            (Key::new(users_by("t", UserIndex::Status, "active").0[0].clone(), "USER#usr_1"), Kind::UserIndex),
            (Key::new(users_by("t", UserIndex::Company, "c#1").0[7].clone(), "USER#usr_1"), Kind::UserIndex),
            (audit.key(&user, "evt_1"), Kind::Audit),
            (session_key(&user, &session), Kind::Session),
            (refresh_key("token"), Kind::Refresh),
            (challenge_key(&ChallengeId::parse("chl_1").unwrap()), Kind::Challenge),
            (pending_mfa_key(&user, "device"), Kind::PendingMfa),
            (reset_key("t#h"), Kind::Reset),
            (sign_in_code_key("t#h"), Kind::SignInCode),
            (passkey_key(&user, "pk_1"), Kind::Passkey),
            (credential_lock_key("t", "cred"), Kind::CredentialLock),
            (ceremony_key("cer_1"), Kind::Ceremony),
            (lock_episode_key(&failures), Kind::LockEpisode),
            (episode.refusals_key(&failures), Kind::Counter),
            (lock_episode_key(&device_failures_key(&user, "a#b")), Kind::LockEpisode),
            (failures.clone(), Kind::Counter),
            (device_failures_key(&user, "dev#1"), Kind::Counter),
            (step_up_failures_key(&user, &session), Kind::Counter),
            (unknown_name_failures_key("t#h"), Kind::Counter),
            (tries_key(&code), Kind::Tries),
            (rate_key("login", "t#x", 60), Kind::RateWindow),
            (cooldown_key("sms", "t#x"), Kind::Cooldown),
            (Key::new("EVENT#t", "20260101T000000.000000Z#evt_1"), Kind::Event),
            (Key::new(shard_pk("EVENT#t", 31), "20260101T000000.000000Z#evt_1"), Kind::Event),
            (client_key("app"), Kind::Client),
            (client_index_key("t", "app"), Kind::ClientIndex),
            (authorization_code_key("code"), Kind::AuthorizationCode),
            (identity_lock_key("t", "https://idp.example.com", "sub"), Kind::IdentityLock),
            (linked_identity_key(&user, "acme"), Kind::LinkedIdentity),
            (federation_state_key("state"), Kind::FederationState),
            (pending_identity_key("fed_1"), Kind::PendingIdentity),
            (UsedIdToken { hash: "ab".into(), expires_at: 1 }.key(), Kind::UsedIdToken),
        ];
        for (key, kind) in cases {
            assert_eq!(Kind::of(&key), kind, "{key:?}");
        }
        assert_eq!(Kind::of(&Key::new("OTHER#x", "Y")), Kind::Unknown);
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
