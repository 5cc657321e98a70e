//! Sessions and their refresh tokens.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{Record, encode, sha256_hex, user_pk};
use crate::domain::ids::{SessionId, UserId};
use crate::ports::{Condition, Item, Key, StoreError, Write};

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
    /// The OpenID Connect client the session was opened for (by an
    /// authorization code): only that client refreshes it, and never
    /// through the API's `/v1/auth/refresh`. `None` for the API's sessions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// The OpenID Connect scopes granted to that client (`openid`,
    /// `email`, …): what `/oauth2/userinfo` answers. Not the roles.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scopes: Vec<String>,
    /// The hosted sign-in's session the authorization code came from: an
    /// RP-initiated logout ends it too.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signed_in_by: Option<SessionId>,
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

/// A session's record, under its user so all of them can be listed.
pub fn session_key(user_id: &UserId, session_id: &SessionId) -> Key {
    Key::new(user_pk(user_id), format!("SESSION#{session_id}"))
}

/// A user's sessions: partition and sort-key prefix.
pub fn sessions_of(user_id: &UserId) -> (String, &'static str) {
    (user_pk(user_id), "SESSION#")
}

/// A refresh token's record, by the token's SHA-256 (tokens are 256-bit
/// random).
pub fn refresh_key(token: &str) -> Key {
    Key::new(format!("REFRESH#{}", sha256_hex(token)), "REFRESH")
}
