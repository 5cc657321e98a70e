//! Users, their e-mail lock, sessions and the tokens a sign-in returns.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::error::Error;
use super::tenant::{Tenant, encode_item};
use super::tokens::Claims;
use crate::app::App;
use crate::ports::{Condition, Item, Key, Write};

/// When a legal document was accepted, and which version.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Acceptance {
    pub version: String,
    pub accepted_at: DateTime<Utc>,
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
}

/// The user's profile item.
pub fn user_key(user_id: &str) -> Key {
    Key::new(format!("USER#{user_id}"), "PROFILE")
}

/// The item that makes an e-mail unique within a tenant.
pub fn email_lock_key(tenant_id: &str, email: &str) -> Key {
    Key::new(format!("EMAIL#{tenant_id}#{email}"), "LOCK")
}

/// A refresh token's item, by the token's SHA-256 (tokens are 256-bit random).
pub fn refresh_key(token: &str) -> Key {
    Key::new(
        format!("REFRESH#{}", hex::encode(Sha256::digest(token.as_bytes()))),
        "REFRESH",
    )
}

/// A session: one sign-in on one device.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    pub id: String,
    pub user_id: String,
    pub tenant_id: String,
    /// The device the session is bound to; `None` until the first refresh
    /// names one (sessions opened by a sign-up without `X-Device-ID`).
    pub device_id: Option<String>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// A refresh token's record (the token itself is never stored).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefreshRecord {
    pub session_id: String,
    pub user_id: String,
    pub tenant_id: String,
    pub issued_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// What a successful sign-in (or sign-up) returns.
#[derive(Clone, Debug, Serialize)]
pub struct Tokens {
    pub user_id: String,
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: i64,
    pub refresh_token: String,
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
    let session_id = app.new_id("ses");
    let refresh_ttl = chrono::Duration::seconds(tenant.policy.refresh_token_ttl_secs);
    let access_ttl = tenant.policy.access_token_ttl_secs;
    let session = Session {
        id: session_id.clone(),
        user_id: user.id.clone(),
        tenant_id: tenant.id.clone(),
        device_id: device_id.map(str::to_owned),
        created_at: now,
        expires_at: now + refresh_ttl,
    };
    let refresh_token = app.random_token(32);
    let refresh = RefreshRecord {
        session_id: session_id.clone(),
        user_id: user.id.clone(),
        tenant_id: tenant.id.clone(),
        issued_at: now,
        expires_at: now + refresh_ttl,
    };
    let expires = Some(session.expires_at.timestamp());
    let writes = vec![
        Write::Put {
            item: Item::new(
                Key::new(format!("USER#{}", user.id), format!("SESSION#{session_id}")),
                encode_item(&session)?,
                expires,
            ),
            condition: Condition::NotExists,
        },
        Write::Put {
            item: Item::new(refresh_key(&refresh_token), encode_item(&refresh)?, expires),
            condition: Condition::NotExists,
        },
    ];
    let claims = Claims {
        iss: app.settings.issuer.clone(),
        aud: app.settings.audience.clone(),
        sub: user.id.clone(),
        tid: tenant.id.clone(),
        sid: session_id,
        typ: "client".into(),
        roles: user.roles.clone(),
        iat: now.timestamp(),
        exp: now.timestamp() + access_ttl,
        jti: app.new_id("jti"),
    };
    let access_token = app.keys.sign(&claims).map_err(|e| Error::Unavailable {
        reason: e.to_string(),
        registration_id: None,
    })?;
    Ok((
        writes,
        Tokens {
            user_id: user.id.clone(),
            access_token,
            token_type: "Bearer",
            expires_in: access_ttl,
            refresh_token,
        },
    ))
}
