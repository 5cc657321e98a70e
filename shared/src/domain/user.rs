//! Users, their uniqueness locks, sessions, refresh tokens and the tokens a
//! sign-in returns.

use serde::Serialize;

use super::error::Error;
use super::ids::{SessionId, UserId};
use super::tenant::Tenant;
use super::tokens::Claims;
use super::values::Status;
use crate::app::App;
use crate::ports::{Condition, Key, Write};
use crate::table::{self, AuditEntry, Lock, Record, session_key, sessions_of, user_key};
pub use crate::table::{Acceptance, Address, PendingCredential, RefreshRecord, Session, User};

impl User {
    /// Whether the user has a strong factor (an app or a passkey), whatever the
    /// tenant allows today.
    pub fn has_strong_factor(&self) -> bool {
        self.passkeys > 0 || self.totp.as_ref().is_some_and(|t| t.confirmed_at.is_some())
    }

    /// The name the user signs in with, as an authenticator shows it: the
    /// username, else the e-mail address, else the phone (else the id).
    pub fn sign_in_name(&self) -> String {
        self.username
            .as_ref()
            .map(|name| name.as_str().to_owned())
            .or_else(|| self.email.as_ref().map(ToString::to_string))
            .or_else(|| self.phone.clone())
            .unwrap_or_else(|| self.id.to_string())
    }

    /// 2FA is on once two credentials (e-mail and phone) are verified, or
    /// an authenticator app is confirmed.
    pub fn mfa_enabled(&self) -> bool {
        (self.email_verified_at.is_some() && self.phone.is_some() && self.phone_verified_at.is_some())
            || self.has_strong_factor()
    }

    pub fn is_active(&self) -> bool {
        self.status == Status::Active
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
        session.epoch >= self.session_epoch || self.session_survivor.as_ref() == Some(&session.id)
    }
}

/// The write of a lock (`table::email_lock_key`, `phone_lock_key`) for `user_id`.
pub fn lock_write(key: Key, user_id: &UserId) -> Result<Write, Error> {
    Ok(Lock::put(key, user_id, Condition::NotExists)?)
}

/// The write of one audit entry.
pub fn audit_write(app: &App, user_id: &UserId, event: &str, detail: serde_json::Value) -> Result<Write, Error> {
    let entry = AuditEntry { event: event.to_owned(), at: app.clock.now(), detail };
    Ok(entry.put(user_id, &app.new_id("evt"))?)
}

/// What a successful sign-in (or sign-up) returns (its `Debug` shows no
/// token).
#[derive(Clone, Serialize)]
pub struct Tokens {
    pub user_id: String,
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: i64,
    pub refresh_token: String,
    /// The roles the access token grants, space-separated (OAuth 2.0's
    /// `scope`, RFC 6749 §5.1; empty for a user with no roles).
    pub scope: String,
    /// After a sign-in with the password: the token that earns this device
    /// its own failure allowance at later logins (also set as a cookie).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub device_token: Option<String>,
    /// The refresh token's lifetime, for the cookie's `Max-Age`.
    #[serde(skip)]
    pub refresh_expires_in: i64,
}

impl std::fmt::Debug for Tokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tokens")
            .field("user_id", &self.user_id)
            .field("expires_in", &self.expires_in)
            .field("scope", &self.scope)
            .finish_non_exhaustive()
    }
}

/// Signs an access token for `session` of `user`. What the token says of
/// the user (`roles`, `typ`) is read from the user as it is now, at every
/// issue (refresh included); what it says of the sign-in (`auth_time`,
/// `amr`) comes from the session.
pub async fn access_token(app: &App, tenant: &Tenant, session: &Session, user: &User) -> Result<String, Error> {
    let extra = super::hooks::pre_token(app, tenant, user, session).await?;
    let now = app.clock.now();
    let claims = Claims {
        iss: app.settings.issuer.clone(),
        aud: app.settings.audience.clone(),
        sub: session.user_id.to_string(),
        tid: tenant.id.clone(),
        sid: session.id.to_string(),
        typ: "client".into(),
        roles: user.roles.clone(),
        iat: now.timestamp(),
        exp: now.timestamp() + tenant.policy.access_token_ttl_secs,
        jti: app.new_id("jti"),
        auth_time: session.auth_time.map(|at| at.timestamp()),
        amr: session.amr.clone(),
        extra,
    };
    app.keys.current().sign(&claims).map_err(|e| Error::Unavailable { reason: e.to_string(), registration_id: None })
}

/// The tokens answer for `session` of `user` with `refresh_token`.
pub async fn tokens_for(
    app: &App,
    tenant: &Tenant,
    session: &Session,
    user: &User,
    refresh_token: String,
) -> Result<Tokens, Error> {
    Ok(Tokens {
        user_id: session.user_id.to_string(),
        access_token: access_token(app, tenant, session, user).await?,
        token_type: "Bearer",
        expires_in: tenant.policy.access_token_ttl_secs,
        refresh_token,
        scope: user.roles.join(" "),
        device_token: None,
        refresh_expires_in: (session.expires_at - app.clock.now()).num_seconds().max(0),
    })
}

/// The writes that open a session for `user` and the tokens to return. The
/// caller puts the writes into its own transaction, so a session exists only
/// if everything else of the step was stored too. `amr` says how the user
/// proved itself (RFC 8176).
pub async fn open_session(
    app: &App,
    tenant: &Tenant,
    user: &User,
    device_id: Option<&str>,
    amr: Vec<String>,
) -> Result<(Vec<Write>, Tokens), Error> {
    let now = app.clock.now();
    open_session_since(app, tenant, user, device_id, amr, now).await
}

/// [`open_session`] for a sign-in that happened at `auth_time` (a hosted
/// session signing the user in to another client: its `auth_time` and
/// `amr` are the sign-in's, not now's).
pub async fn open_session_since(
    app: &App,
    tenant: &Tenant,
    user: &User,
    device_id: Option<&str>,
    amr: Vec<String>,
    auth_time: chrono::DateTime<chrono::Utc>,
) -> Result<(Vec<Write>, Tokens), Error> {
    let now = app.clock.now();
    let refresh_ttl = chrono::Duration::seconds(tenant.policy.refresh_token_ttl_secs);
    let session = Session {
        id: SessionId::from_new(app.new_id("ses")),
        user_id: user.id.clone(),
        tenant_id: tenant.id.clone(),
        device_id: device_id.map(str::to_owned),
        created_at: now,
        expires_at: now + refresh_ttl,
        epoch: user.session_epoch,
        auth_time: Some(auth_time),
        amr,
        last_used_at: Some(now),
        client_id: None,
        scopes: Vec::new(),
        signed_in_by: None,
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
    let writes = vec![session.put(Condition::NotExists)?, refresh.put(&refresh_token, Condition::NotExists)?];
    let tokens = tokens_for(app, tenant, &session, user, refresh_token).await?;
    Ok((writes, tokens))
}

/// A refresh token names its session, `<user id>.<session id>.<secret>`, so
/// a refresh reads its record, the session and the user in one round trip.
/// The ids are no secret (the access token carries them too); the secret is
/// 32 random bytes, or for a successor an HMAC of its predecessor, and only
/// the SHA-256 of the whole token is stored.
pub fn refresh_token(user_id: &UserId, session_id: &SessionId, secret: &str) -> String {
    format!("{user_id}.{session_id}.{secret}")
}

/// Reads a user and its version.
pub async fn load_user(app: &App, user_id: &UserId) -> Result<Option<(User, u64)>, Error> {
    Ok(table::get(app.store.as_ref(), &user_key(user_id)).await?)
}

/// A session and its user, read in one round trip; `None` when either is
/// gone (or unreadable: the token that names them is then worth nothing).
pub async fn load_session_and_user(
    app: &App,
    user_id: &UserId,
    session_id: &SessionId,
) -> Result<Option<(Session, User)>, Error> {
    let found = app.store.get_many(&[session_key(user_id, session_id), user_key(user_id)]).await?;
    let mut found = found.into_iter();
    let (Some(Some(session)), Some(Some(user))) = (found.next(), found.next()) else {
        return Ok(None);
    };
    Ok(table::decode(session).ok().zip(table::decode(user).ok()))
}

/// The user a lock item points at.
pub async fn user_by_lock(app: &App, lock: &Key) -> Result<Option<(User, u64)>, Error> {
    let Some((lock, _)) = table::get::<Lock>(app.store.as_ref(), lock).await? else {
        return Ok(None);
    };
    load_user(app, &lock.user_id).await
}

/// Deletes the session items of a user (but `keep`) after their epoch has
/// ended: housekeeping only, since a session of an ended epoch is refused
/// anyway, so a failure here is logged and left to the sessions' TTL. Plain
/// deletes, a few at a time (a transaction would cost twice the writes and
/// buys nothing here), page by page through the user's sessions. Returns
/// how many were deleted.
pub async fn sweep_sessions(app: &App, user: &User) -> usize {
    let user_id = &user.id;
    const AT_ONCE: usize = 16;
    let mut swept = 0;
    let (pk, prefix) = sessions_of(user_id);
    let mut start: Option<String> = None;
    loop {
        let page = match app.store.query(&pk, prefix, false, start.as_deref(), 1000).await {
            Ok(page) => page,
            Err(err) => {
                tracing::warn!(%user_id, error = %err, "sessions left to their TTL");
                return swept;
            }
        };
        // Only sessions of an ended epoch: one opened since stays.
        let doomed: Vec<Key> = page
            .items
            .into_iter()
            .filter(|item| {
                let session = table::decode::<Session>(item.clone());
                session.is_ok_and(|s| !user.session_valid(&s))
            })
            .map(|item| item.key)
            .collect();
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
        // Deleting behind the cursor moves nothing ahead of it.
        match page.last_evaluated {
            Some(last) => start = Some(last),
            None => return swept,
        }
    }
}
