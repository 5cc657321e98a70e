//! Users, their uniqueness locks, sessions, refresh tokens and the tokens a
//! sign-in returns.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::codes::PendingCode;
use super::error::Error;
use super::tenant::{Tenant, decode_item, encode_item};
use super::tokens::Claims;
use crate::app::App;
use crate::ports::{Condition, Item, Key, Write};

/// When a legal document was accepted, and which version.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Acceptance {
    pub version: String,
    pub accepted_at: DateTime<Utc>,
}

/// A credential being added by a signed-in user, waiting for its code.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingCredential {
    /// `email` or `phone`.
    pub kind: String,
    pub value: String,
    pub code: PendingCode,
}

/// A user of a tenant.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub id: String,
    pub tenant_id: String,
    pub user_type: String,
    pub status: String,
    pub email: String,
    pub email_verified_at: Option<DateTime<Utc>>,
    pub phone: Option<String>,
    pub phone_verified_at: Option<DateTime<Utc>>,
    pub password_hash: String,
    pub first_name: String,
    pub last_name: String,
    pub gender: Option<String>,
    pub birth_date: Option<NaiveDate>,
    pub language: String,
    pub time_zone: Option<String>,
    #[serde(default)]
    pub roles: Vec<String>,
    pub terms: Option<Acceptance>,
    pub privacy: Option<Acceptance>,
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
    pub session_survivor: Option<String>,
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

impl User {
    /// 2FA is on once two credentials (e-mail and phone) are verified.
    pub fn mfa_enabled(&self) -> bool {
        self.email_verified_at.is_some() && self.phone.is_some() && self.phone_verified_at.is_some()
    }

    pub fn is_active(&self) -> bool {
        self.status == "active"
    }

    /// Ends every session but `keep` at once (the caller writes the user,
    /// in the same transaction as the change that requires it). `keep`
    /// survives only if it is still valid: a session ended meanwhile is not
    /// brought back.
    pub fn end_sessions(&mut self, keep: Option<&Session>) {
        let survivor = keep.filter(|s| s.user_id == self.id && self.session_valid(s)).map(|s| s.id.clone());
        self.session_epoch += 1;
        self.session_survivor = survivor;
    }

    /// Whether `session` outlived every "end all sessions" of the user.
    pub fn session_valid(&self, session: &Session) -> bool {
        session.epoch >= self.session_epoch || self.session_survivor.as_deref() == Some(session.id.as_str())
    }

    /// The user's item, to be written under `condition`.
    pub fn write(&self, condition: Condition) -> Result<Write, Error> {
        Ok(Write::Put { item: Item::new(user_key(&self.id), encode_item(self)?, None), condition })
    }
}

/// The user's profile item.
pub fn user_key(user_id: &str) -> Key {
    Key::new(format!("USER#{user_id}"), "PROFILE")
}

/// The item that makes an e-mail unique within a tenant.
pub fn email_lock_key(tenant_id: &str, email: &str) -> Key {
    Key::new(format!("EMAIL#{tenant_id}#{email}"), "LOCK")
}

/// The item that makes a verified phone unique within a tenant.
pub fn phone_lock_key(tenant_id: &str, phone: &str) -> Key {
    Key::new(format!("PHONE#{tenant_id}#{phone}"), "LOCK")
}

/// A lock item pointing at its user.
pub fn lock_item(key: Key, user_id: &str) -> Item {
    Item::new(key, serde_json::json!({ "user_id": user_id }), None)
}

/// A refresh token's item, by the token's SHA-256 (tokens are 256-bit random).
pub fn refresh_key(token: &str) -> Key {
    Key::new(format!("REFRESH#{}", hex::encode(Sha256::digest(token.as_bytes()))), "REFRESH")
}

/// A session's item, under its user so all of them can be listed.
pub fn session_key(user_id: &str, session_id: &str) -> Key {
    Key::new(format!("USER#{user_id}"), format!("SESSION#{session_id}"))
}

/// An audit entry's key: newest last in sort order.
pub fn audit_key(app: &App, user_id: &str) -> Key {
    let now = app.clock.now();
    Key::new(format!("USER#{user_id}"), format!("AUDIT#{}#{}", now.format("%Y%m%dT%H%M%S%.6fZ"), app.new_id("evt")))
}

/// The write of one audit entry.
pub fn audit_write(app: &App, user_id: &str, event: &str, detail: serde_json::Value) -> Write {
    let body = serde_json::json!({ "event": event, "at": app.clock.now(), "detail": detail });
    Write::Put { item: Item::new(audit_key(app, user_id), body, None), condition: Condition::NotExists }
}

/// A session: one sign-in on one device. Revoking it (deleting the item)
/// kills every refresh token of its family at once.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    pub id: String,
    pub user_id: String,
    pub tenant_id: String,
    /// The device the session is bound to; `None` until the first refresh
    /// names one (sessions opened by a sign-up without `X-Device-ID`).
    pub device_id: Option<String>,
    #[serde(default)]
    pub roles: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    /// The user's session epoch when the session opened.
    #[serde(default)]
    pub epoch: u64,
    /// When the user last proved the password (or a code of sign-up): a
    /// step-up within the tenant's window needs no password again.
    #[serde(default)]
    pub auth_time: Option<DateTime<Utc>>,
}

/// A refresh token's record (the token itself is never stored).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefreshRecord {
    pub session_id: String,
    pub user_id: String,
    pub tenant_id: String,
    pub issued_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    /// When this token was exchanged for its successor.
    #[serde(default)]
    pub rotated_at: Option<DateTime<Utc>>,
}

impl RefreshRecord {
    pub fn item(&self, token_key: Key) -> Result<Item, Error> {
        Ok(Item::new(token_key, encode_item(self)?, Some(self.expires_at.timestamp())))
    }
}

impl Session {
    pub fn item(&self) -> Result<Item, Error> {
        Ok(Item::new(session_key(&self.user_id, &self.id), encode_item(self)?, Some(self.expires_at.timestamp())))
    }
}

/// What a successful sign-in (or sign-up) returns.
#[derive(Clone, Debug, Serialize)]
pub struct Tokens {
    pub user_id: String,
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: i64,
    pub refresh_token: String,
    /// After a sign-in with the password: the token that earns this device
    /// its own failure allowance at later logins (also set as a cookie).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub device_token: Option<String>,
    /// The refresh token's lifetime, for the cookie's `Max-Age`.
    #[serde(skip)]
    pub refresh_expires_in: i64,
}

/// Signs an access token for `session`.
pub fn access_token(app: &App, tenant: &Tenant, session: &Session) -> Result<String, Error> {
    let now = app.clock.now();
    let claims = Claims {
        iss: app.settings.issuer.clone(),
        aud: app.settings.audience.clone(),
        sub: session.user_id.clone(),
        tid: tenant.id.clone(),
        sid: session.id.clone(),
        typ: "client".into(),
        roles: session.roles.clone(),
        iat: now.timestamp(),
        exp: now.timestamp() + tenant.policy.access_token_ttl_secs,
        jti: app.new_id("jti"),
        auth_time: session.auth_time.map(|at| at.timestamp()),
    };
    app.keys.current().sign(&claims).map_err(|e| Error::Unavailable { reason: e.to_string(), registration_id: None })
}

/// The tokens answer for `session` with `refresh_token`.
pub fn tokens_for(app: &App, tenant: &Tenant, session: &Session, refresh_token: String) -> Result<Tokens, Error> {
    Ok(Tokens {
        user_id: session.user_id.clone(),
        access_token: access_token(app, tenant, session)?,
        token_type: "Bearer",
        expires_in: tenant.policy.access_token_ttl_secs,
        refresh_token,
        device_token: None,
        refresh_expires_in: (session.expires_at - app.clock.now()).num_seconds().max(0),
    })
}

/// The writes that open a session for `user` and the tokens to return. The
/// caller puts the writes into its own transaction, so a session exists only
/// if everything else of the step was stored too.
pub fn open_session(
    app: &App,
    tenant: &Tenant,
    user: &User,
    device_id: Option<&str>,
) -> Result<(Vec<Write>, Tokens), Error> {
    let now = app.clock.now();
    let refresh_ttl = chrono::Duration::seconds(tenant.policy.refresh_token_ttl_secs);
    let session = Session {
        id: app.new_id("ses"),
        user_id: user.id.clone(),
        tenant_id: tenant.id.clone(),
        device_id: device_id.map(str::to_owned),
        roles: user.roles.clone(),
        created_at: now,
        expires_at: now + refresh_ttl,
        epoch: user.session_epoch,
        auth_time: Some(now),
    };
    let refresh_token = refresh_token(&user.id, &session.id, &app.random_token(32));
    let refresh = RefreshRecord {
        session_id: session.id.clone(),
        user_id: user.id.clone(),
        tenant_id: tenant.id.clone(),
        issued_at: now,
        expires_at: session.expires_at,
        rotated_at: None,
    };
    let writes = vec![
        Write::Put { item: session.item()?, condition: Condition::NotExists },
        Write::Put { item: refresh.item(refresh_key(&refresh_token))?, condition: Condition::NotExists },
    ];
    let tokens = tokens_for(app, tenant, &session, refresh_token)?;
    Ok((writes, tokens))
}

/// A refresh token names its session, `<user id>.<session id>.<secret>`, so
/// a refresh reads its record, the session and the user in one round trip.
/// The ids are no secret (the access token carries them too); the secret is
/// 32 random bytes, or for a successor an HMAC of its predecessor, and only
/// the SHA-256 of the whole token is stored.
pub fn refresh_token(user_id: &str, session_id: &str, secret: &str) -> String {
    format!("{user_id}.{session_id}.{secret}")
}

/// Reads a user and its version.
pub async fn load_user(app: &App, user_id: &str) -> Result<Option<(User, u64)>, Error> {
    let Some(item) = app.store.get(&user_key(user_id)).await? else {
        return Ok(None);
    };
    let version = item.version;
    Ok(Some((decode_item(item)?, version)))
}

/// A session and its user, read in one round trip; `None` when either is
/// gone (or unreadable: the token that names them is then worth nothing).
pub async fn load_session_and_user(
    app: &App,
    user_id: &str,
    session_id: &str,
) -> Result<Option<(Session, User)>, Error> {
    let found = app.store.get_many(&[session_key(user_id, session_id), user_key(user_id)]).await?;
    let mut found = found.into_iter();
    let (Some(Some(session)), Some(Some(user))) = (found.next(), found.next()) else {
        return Ok(None);
    };
    let session = serde_json::from_value(session.body).ok();
    let user = serde_json::from_value(user.body).ok();
    Ok(session.zip(user))
}

/// The user a lock item points at.
pub async fn user_by_lock(app: &App, lock: &Key) -> Result<Option<(User, u64)>, Error> {
    let Some(item) = app.store.get(lock).await? else {
        return Ok(None);
    };
    let Some(user_id) = item.body["user_id"].as_str() else {
        return Ok(None);
    };
    load_user(app, user_id).await
}

/// Deletes the session items of a user (but `keep`) after their epoch has
/// ended: housekeeping only, since a session of an ended epoch is refused
/// anyway, so a failure here is logged and left to the sessions' TTL. Plain
/// deletes, a few at a time (a transaction would cost twice the writes and
/// buys nothing here). Returns how many were deleted.
pub async fn sweep_sessions(app: &App, user: &User) -> usize {
    let user_id = user.id.as_str();
    const AT_ONCE: usize = 16;
    let mut swept = 0;
    loop {
        let page = match app.store.query(&format!("USER#{user_id}"), "SESSION#", false, 1000).await {
            Ok(page) => page,
            Err(err) => {
                tracing::warn!(%user_id, error = %err, "sessions left to their TTL");
                return swept;
            }
        };
        let full = page.len() == 1000;
        // Only sessions of an ended epoch: one opened since stays.
        let doomed: Vec<Key> = page
            .into_iter()
            .filter(|item| {
                let session = serde_json::from_value::<Session>(item.body.clone());
                session.is_ok_and(|s| !user.session_valid(&s))
            })
            .map(|item| item.key)
            .collect();
        if doomed.is_empty() {
            return swept;
        }
        let mut running = tokio::task::JoinSet::new();
        let mut failures = 0;
        let mut tally = |done: Option<Result<Result<(), crate::ports::StoreError>, tokio::task::JoinError>>| {
            if matches!(done, Some(Ok(Ok(())))) {
                swept += 1;
            } else {
                failures += 1;
            }
        };
        for key in doomed {
            if running.len() >= AT_ONCE {
                tally(running.join_next().await);
            }
            let store = app.store.clone();
            running.spawn(async move { store.delete(&key, Condition::Always).await });
        }
        while let Some(done) = running.join_next().await {
            tally(Some(done));
        }
        if failures > 0 {
            tracing::warn!(%user_id, failures, "sessions left to their TTL");
            return swept;
        }
        if !full {
            return swept;
        }
    }
}
