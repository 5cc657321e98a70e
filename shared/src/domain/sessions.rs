//! The signed-in user's sessions (docs/sessions-and-keys.md): which
//! are live, the list a user sees, ending one of them, the idle timeout
//! (policy `refresh.idle_timeout_secs`), the refresh (rotating tokens with a
//! grace window and reuse detection), and logout.
//!
//! A session is live while its item exists and has not expired (the store
//! treats an expired item as absent), its epoch has not been ended
//! ([`User::session_valid`]), and it was used (opened or refreshed) within
//! the tenant's idle timeout.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Duration, Utc};
use hmac::{Hmac, Mac};
use serde::Serialize;
use sha2::Sha256;

use super::error::Error;
use super::events::{EventType, user_event};
use super::ids::RefreshToken;
use super::ids::{SessionId, UserId};
use super::tenant::Tenant;
use super::user::{
    RefreshRecord, Session, Tokens, User, audit_write, load_session_and_user, load_user, refresh_token, sweep_sessions,
    tokens_for,
};
use crate::app::App;
use crate::ports::{Condition, Item, Write};
use crate::table::{self, Failed, Kind, Record, refresh_key, session_key, sessions_of, user_key};

/// The most session items one list reads (the newest): a partition can
/// hold sessions of ended epochs that a failed sweep left to their TTL.
pub const MAX_LISTED: usize = 1000;

/// A session as its owner sees it (`GET /v1/me/sessions`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SessionView {
    pub id: SessionId,
    /// The `X-Device-ID` it is bound to (`None` until its first refresh
    /// for a session a sign-up opened without one).
    pub device_id: Option<String>,
    pub created_at: DateTime<Utc>,
    /// Opened or last refreshed.
    pub last_used_at: DateTime<Utc>,
    /// Its absolute end (the refresh token's lifetime from the sign-in).
    pub expires_at: DateTime<Utc>,
    /// The session of the access token that asked.
    pub current: bool,
}

/// Whether `session` has gone unused for longer than the tenant's idle
/// timeout at `now`.
pub fn idle(tenant: &Tenant, session: &Session, now: DateTime<Utc>) -> bool {
    now - session.last_used() > Duration::seconds(tenant.policy.refresh.idle_timeout_secs)
}

/// Whether `session` of `user` is live at `now`: not expired, not of an
/// ended epoch, not idle.
pub fn live(tenant: &Tenant, user: &User, session: &Session, now: DateTime<Utc>) -> bool {
    session.user_id == user.id
        && session.tenant_id == tenant.id
        && session.expires_at > now
        && user.session_valid(session)
        && !idle(tenant, session, now)
}

/// The user's live sessions, the most recently used first; `current` marks
/// the caller's. Two reads at once: the user (for its epoch) and its
/// sessions.
pub async fn list(
    app: &App,
    tenant: &Tenant,
    user_id: &UserId,
    current: &SessionId,
) -> Result<Vec<SessionView>, Error> {
    let (pk, prefix) = sessions_of(user_id);
    let (user, items) = tokio::join!(load_user(app, user_id), app.store.query(&pk, prefix, true, None, MAX_LISTED));
    let (user, _) = user?.ok_or(Error::InvalidToken)?;
    Ok(views(tenant, &user, items?.items, current, app.clock.now()))
}

/// The live sessions of a `user` already read, as [`list`] shows them.
pub async fn list_of(app: &App, tenant: &Tenant, user: &User, current: &SessionId) -> Result<Vec<SessionView>, Error> {
    let (pk, prefix) = sessions_of(&user.id);
    let items = app.store.query(&pk, prefix, true, None, MAX_LISTED).await?;
    Ok(views(tenant, user, items.items, current, app.clock.now()))
}

/// The live ones of the session `items` of `user`, the most recently used
/// first.
fn views(tenant: &Tenant, user: &User, items: Vec<Item>, current: &SessionId, now: DateTime<Utc>) -> Vec<SessionView> {
    let mut sessions = Vec::new();
    for item in items {
        let session: Session = match table::decode(item) {
            Ok(session) => session,
            // An unreadable item is no session anyone can use.
            Err(err) => {
                tracing::warn!(user_id = %user.id, error = %err, "session item skipped");
                continue;
            }
        };
        let is_current = session.id == *current;
        // The caller's own session passed the bearer check just now.
        if is_current || live(tenant, user, &session, now) {
            sessions.push(SessionView {
                last_used_at: session.last_used(),
                id: session.id,
                device_id: session.device_id,
                created_at: session.created_at,
                expires_at: session.expires_at,
                current: is_current,
            });
        }
    }
    sessions.sort_by(|a, b| (b.last_used_at, b.created_at, &b.id).cmp(&(a.last_used_at, a.created_at, &a.id)));
    sessions
}

/// Ends one live session of the user (its refresh tokens stop working at
/// once, and its access tokens at the next bearer check, which finds no
/// session); audited as `session_ended`. A session that is not the user's,
/// not live, or unknown is [`Error::SessionNotFound`], alike.
pub async fn end(
    app: &App,
    tenant: &Tenant,
    user_id: &UserId,
    session_id: &SessionId,
    caller: &SessionId,
) -> Result<(), Error> {
    // Under the caller's own partition: another user's session is simply
    // not there.
    let (session, user) = load_session_and_user(app, user_id, session_id).await?.ok_or(Error::SessionNotFound)?;
    if !live(tenant, &user, &session, app.clock.now()) {
        return Err(Error::SessionNotFound);
    }
    let detail = serde_json::json!({ "session_id": session_id, "current": session_id == caller });
    let writes = vec![
        // Deleted even if a refresh touched it since the read: the owner
        // ended it.
        Write::Delete { key: session_key(user_id, session_id), condition: Condition::Exists },
        audit_write(app, user_id, "session_ended", detail)?,
    ];
    match table::commit(app.store.as_ref(), writes).await {
        Ok(()) => Ok(()),
        // Ended meanwhile (logout, another delete, reuse detection).
        Err(Failed::Condition(Kind::Session)) => Err(Error::SessionNotFound),
        Err(err) => Err(err.into()),
    }
}

/// Ends `session`, found idle past the timeout by a refresh, and audits it
/// (`session_idle_timeout`). One ended meanwhile needs nothing more.
pub async fn end_idle(app: &App, session: &Session) -> Result<(), Error> {
    let detail = serde_json::json!({ "session_id": session.id, "last_used_at": session.last_used() });
    let writes = vec![
        Write::Delete { key: session_key(&session.user_id, &session.id), condition: Condition::Exists },
        audit_write(app, &session.user_id, "session_idle_timeout", detail)?,
    ];
    match table::commit(app.store.as_ref(), writes).await {
        Ok(()) | Err(Failed::Condition(Kind::Session)) => Ok(()),
        Err(err) => Err(err.into()),
    }
}

/// How long a rotated refresh token still returns its successor.
pub const REFRESH_GRACE_SECS: i64 = 10;

/// The successor of a refresh token: derived, not stored, so a token
/// presented again within the grace window gets the very same successor.
fn successor(app: &App, user_id: &UserId, session_id: &SessionId, token: &str) -> Result<String, Error> {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(app.settings.refresh_key()?)
        .unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
    mac.update(b"refresh-successor:");
    mac.update(token.as_bytes());
    Ok(refresh_token(user_id, session_id, &URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())))
}

/// Who presents a refresh token: a device of the API (`X-Device-ID`), or
/// the OpenID Connect client its session was opened for (`/oauth2/token`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Holder<'a> {
    Device(&'a str),
    Client(&'a str),
}

/// Exchanges a refresh token for a new access token and its successor.
pub async fn refresh(app: &App, tenant: &Tenant, token: &RefreshToken, device_id: &str) -> Result<Tokens, Error> {
    rotate(app, tenant, token, Holder::Device(device_id)).await.map(|(tokens, _, _)| tokens)
}

/// Exchanges a refresh token of `holder` for a new access token and its
/// successor (the grace window and reuse detection of [`refresh`]); also
/// returns the session and the user the tokens are for. A session opened
/// for a client is refreshed by that client alone, an API session never
/// by a client.
pub async fn rotate(
    app: &App,
    tenant: &Tenant,
    token: &RefreshToken,
    holder: Holder<'_>,
) -> Result<(Tokens, Session, User), Error> {
    let (user_id, session_id) = (token.user_id(), token.session_id());
    let token = token.expose();
    // One retry: a parallel refresh may rotate the token between our read
    // and our write; then the grace path answers with the same successor.
    for _ in 0..2 {
        // The record, its session and the user in one round trip.
        let key = refresh_key(token);
        let keys = [key.clone(), session_key(user_id, session_id), user_key(user_id)];
        let mut items = app.store.get_many(&keys).await?.into_iter();
        let (item, session_item, user_item) = (items.next().flatten(), items.next().flatten(), items.next().flatten());
        let item = item.ok_or(Error::InvalidToken)?;
        let version = item.version;
        let mut record: RefreshRecord = table::decode(item)?;
        if record.tenant_id != tenant.id || record.user_id != *user_id || record.session_id != *session_id {
            return Err(Error::InvalidToken);
        }
        let session_item = session_item.ok_or(Error::InvalidToken)?;
        let session_version = session_item.version;
        let mut session: Session = table::decode(session_item)?;
        // Suspended, disabled and closed users cannot refresh, even if a
        // session survived the status change.
        // and sessions of an ended epoch (logout-all, reset, …) are dead.
        // The user is read here anyway: the new access token takes its
        // roles from it as they are now, not as they were at sign-in.
        let user = match user_item.map(table::decode::<User>).transpose()? {
            Some(user) if user.is_active() && user.session_valid(&session) => user,
            _ => return Err(Error::InvalidToken),
        };
        match holder {
            Holder::Device(_) if session.client_id.is_some() => return Err(Error::InvalidToken),
            Holder::Device(device_id) => match &session.device_id {
                Some(bound) if bound != device_id => return Err(Error::InvalidDevice),
                _ => {}
            },
            Holder::Client(client_id) if session.client_id.as_deref() != Some(client_id) => {
                return Err(Error::InvalidToken);
            }
            Holder::Client(_) => {}
        }
        let now = app.clock.now();
        // Unused past the tenant's idle timeout: ended, like an expired one.
        if idle(tenant, &session, now) {
            end_idle(app, &session).await?;
            return Err(Error::InvalidToken);
        }
        let next = successor(app, user_id, session_id, token)?;
        if let Some(rotated_at) = record.rotated_at {
            if now - rotated_at <= Duration::seconds(REFRESH_GRACE_SECS) {
                let tokens = tokens_for(app, tenant, &session, &user, next).await?;
                return Ok((tokens, session, user));
            }
            // Reuse after the window: someone holds a stolen token. Kill the family.
            tracing::warn!(session_id = %session.id, "refresh token reused; session revoked");
            table::commit(
                app.store.as_ref(),
                vec![
                    Write::Delete { key: session_key(&session.user_id, &session.id), condition: Condition::Always },
                    audit_write(
                        app,
                        &session.user_id,
                        "refresh_reuse_detected",
                        serde_json::json!({ "session_id": session.id }),
                    )?,
                ],
            )
            .await?;
            return Err(Error::InvalidToken);
        }
        record.rotated_at = Some(now);
        let fresh = RefreshRecord {
            session_id: session.id.clone(),
            user_id: session.user_id.clone(),
            tenant_id: tenant.id.clone(),
            issued_at: now,
            expires_at: session.expires_at,
            rotated_at: None,
        };
        // The old record stays (until its TTL) to recognise reuse.
        let mut writes = vec![record.put(token, Condition::Version(version))?, fresh.put(&next, Condition::NotExists)?];
        // The session, as read (so it still exists): bound to the device on
        // its first refresh, and used now (the idle timeout counts from here).
        if let Holder::Device(device_id) = holder {
            session.device_id.get_or_insert_with(|| device_id.to_owned());
        }
        session.last_used_at = Some(now);
        writes.push(Write::Put { item: session.item()?, condition: Condition::Version(session_version) });
        // The answer is made before the rotation is stored: a token that
        // cannot be issued (a failing `pre_token` hook) rotates nothing.
        let tokens = tokens_for(app, tenant, &session, &user, next).await?;
        match table::commit(app.store.as_ref(), writes).await {
            Ok(()) => return Ok((tokens, session, user)),
            Err(Failed::Condition(Kind::Session)) => return Err(Error::InvalidToken),
            Err(Failed::Condition(_)) => continue,
            Err(err) => return Err(err.into()),
        }
    }
    Err(Error::Conflict)
}

/// Ends one session.
pub async fn logout(app: &App, user_id: &UserId, session_id: &SessionId) -> Result<(), Error> {
    table::commit(
        app.store.as_ref(),
        vec![
            Write::Delete { key: session_key(user_id, session_id), condition: Condition::Always },
            audit_write(app, user_id, "logged_out", serde_json::json!({ "session_id": session_id }))?,
        ],
    )
    .await?;
    Ok(())
}

/// Ends every session of the user at once (one write of the user, however
/// many sessions there are), then sweeps their items; returns how many
/// session items were swept.
pub async fn logout_all(app: &App, user_id: &UserId) -> Result<usize, Error> {
    for _ in 0..3 {
        let (mut user, version) = load_user(app, user_id).await?.ok_or(Error::InvalidToken)?;
        user.end_sessions(None);
        let writes = vec![
            user.put(Condition::Version(version))?,
            audit_write(app, user_id, "logged_out_everywhere", serde_json::json!({}))?,
            user_event(app, &user, EventType::SessionsRevoked, None, serde_json::json!({ "reason": "logout_all" }))?,
        ];
        match table::commit(app.store.as_ref(), writes).await {
            Ok(()) => return Ok(sweep_sessions(app, &user).await),
            Err(Failed::Condition(_)) => continue,
            Err(err) => return Err(err.into()),
        }
    }
    Err(Error::Conflict)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::policy::{Policy, RefreshPolicy};

    fn tenant(idle_secs: i64) -> Tenant {
        let refresh = RefreshPolicy { idle_timeout_secs: idle_secs };
        Tenant { id: "t".into(), name: "T".into(), policy: Policy { refresh, ..Policy::default() } }
    }

    fn session(created: DateTime<Utc>, last_used: Option<DateTime<Utc>>) -> Session {
        Session {
            id: SessionId::parse("ses_1").unwrap(),
            user_id: UserId::parse("usr_1").unwrap(),
            tenant_id: "t".into(),
            device_id: Some("d".into()),
            amr: Vec::new(),
            created_at: created,
            expires_at: created + Duration::days(14),
            epoch: 0,
            auth_time: Some(created),
            last_used_at: last_used,
            client_id: None,
            scopes: Vec::new(),
            signed_in_by: None,
        }
    }

    #[test]
    fn a_session_is_idle_only_past_the_timeout_since_its_last_use() {
        let t0 = DateTime::parse_from_rfc3339("2026-11-20T09:00:00Z").unwrap().to_utc();
        let tenant = tenant(3600);
        let used = session(t0, Some(t0 + Duration::hours(5)));
        assert!(!idle(&tenant, &used, t0 + Duration::hours(6)), "exactly the timeout is not past it");
        assert!(idle(&tenant, &used, t0 + Duration::hours(6) + Duration::seconds(1)));
        // An item from before `last_used_at` counts from its opening.
        let old = session(t0, None);
        assert_eq!(old.last_used(), t0);
        assert!(idle(&tenant, &old, t0 + Duration::hours(1) + Duration::seconds(1)));
    }

    #[test]
    fn live_means_this_users_unexpired_current_epoch_and_not_idle() {
        let t0 = DateTime::parse_from_rfc3339("2026-11-20T09:00:00Z").unwrap().to_utc();
        let tenant = tenant(30 * 24 * 3600);
        let mut user: User = serde_json::from_value(serde_json::json!({
            "id": "usr_1", "tenant_id": "t", "user_type": "consumer", "status": "active", "email": "a@b.ch",
            "email_verified_at": null, "phone": null, "phone_verified_at": null, "password_hash": "x",
            "first_name": "A", "last_name": "B", "language": "en", "terms": null, "privacy": null,
            "created_at": "2026-11-20T09:00:00Z", "updated_at": "2026-11-20T09:00:00Z",
        }))
        .unwrap();
        let s = session(t0, Some(t0));
        assert!(live(&tenant, &user, &s, t0 + Duration::days(1)));
        assert!(!live(&tenant, &user, &s, t0 + Duration::days(14)), "expired");
        let mut foreign = s.clone();
        foreign.user_id = UserId::parse("usr_2").unwrap();
        assert!(!live(&tenant, &user, &foreign, t0));
        user.end_sessions(None);
        assert!(!live(&tenant, &user, &s, t0), "an ended epoch");
    }
}
