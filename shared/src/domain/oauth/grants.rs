//! What the OpenID Provider's endpoints do once the request is read: the
//! token endpoint's two grants, userinfo, revocation (RFC 7009) and
//! RP-initiated logout.

use serde_json::{Map, Value};

use super::codes::redeem;
use super::id_token::{self, IdTokenFacts};
use super::{Client, OAuthError, clients};
use crate::app::App;
use crate::domain::ids::{RefreshToken, SessionId, UserId};
use crate::domain::sessions::{self, Holder, live};
use crate::domain::tenant::Tenant;
use crate::domain::user::{RefreshRecord, Session, Tokens, User, audit_write, load_session_and_user};
use crate::ports::{Condition, Write};
use crate::table::{self, refresh_key, session_key};

/// A grant presented to the token endpoint (its `Debug` shows no secret).
#[derive(Clone)]
pub enum Grant {
    /// `grant_type=authorization_code`.
    AuthorizationCode { code: String, redirect_uri: String, code_verifier: String },
    /// `grant_type=refresh_token`; `scope`, when given, may not ask for more
    /// than was granted.
    RefreshToken { refresh_token: RefreshToken, scope: Option<Vec<String>> },
}

/// The token endpoint's answer (RFC 6749 §5.1, OpenID Connect Core §3.1.3.3;
/// its `Debug` shows no token).
#[derive(Clone)]
pub struct Issued {
    /// The same JWT as the API's access tokens.
    pub access_token: String,
    pub expires_in: i64,
    pub id_token: String,
    pub refresh_token: String,
    /// The granted OpenID Connect scopes, space-separated.
    pub scope: String,
}

impl std::fmt::Debug for Grant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::AuthorizationCode { redirect_uri, .. } => {
                f.debug_struct("AuthorizationCode").field("redirect_uri", redirect_uri).finish_non_exhaustive()
            }
            Self::RefreshToken { refresh_token, scope } => {
                f.debug_struct("RefreshToken").field("refresh_token", refresh_token).field("scope", scope).finish()
            }
        }
    }
}

impl std::fmt::Debug for Issued {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Issued")
            .field("expires_in", &self.expires_in)
            .field("scope", &self.scope)
            .finish_non_exhaustive()
    }
}

/// Exchanges `grant` for tokens of `client` (authenticated by the caller).
pub async fn exchange(app: &App, tenant: &Tenant, client: &Client, grant: Grant) -> Result<Issued, OAuthError> {
    match grant {
        Grant::AuthorizationCode { code, redirect_uri, code_verifier } => {
            let redeemed = redeem(app, tenant, client, &code, &redirect_uri, &code_verifier).await?;
            issued(app, tenant, client, redeemed.tokens, &redeemed.session, &redeemed.user, redeemed.nonce.as_deref())
        }
        Grant::RefreshToken { refresh_token, scope } => {
            let (tokens, session, user) =
                match sessions::rotate(app, tenant, &refresh_token, Holder::Client(&client.client_id)).await {
                    Ok(rotated) => rotated,
                    Err(crate::domain::Error::Unavailable { reason, registration_id }) => {
                        return Err(OAuthError::Failed(crate::domain::Error::Unavailable { reason, registration_id }));
                    }
                    Err(_) => return Err(OAuthError::InvalidGrant("the refresh token is not valid")),
                };
            if let Some(asked) = scope
                && asked.iter().any(|s| !session.scopes.contains(s))
            {
                return Err(OAuthError::InvalidScope);
            }
            issued(app, tenant, client, tokens, &session, &user, None)
        }
    }
}

fn issued(
    app: &App,
    tenant: &Tenant,
    client: &Client,
    tokens: Tokens,
    session: &Session,
    user: &User,
    nonce: Option<&str>,
) -> Result<Issued, OAuthError> {
    let facts = IdTokenFacts {
        issuer: &app.settings.issuer,
        client_id: &client.client_id,
        now: app.clock.now().timestamp(),
        ttl: tenant.policy.access_token_ttl_secs,
        nonce,
        access_token: &tokens.access_token,
    };
    let claims = id_token::claims(&facts, session, user);
    let id_token = app.keys.current().sign_claims(&claims).map_err(|e| {
        OAuthError::Failed(crate::domain::Error::Unavailable { reason: e.to_string(), registration_id: None })
    })?;
    Ok(Issued {
        access_token: tokens.access_token,
        expires_in: tokens.expires_in,
        id_token,
        refresh_token: tokens.refresh_token,
        scope: session.scopes.join(" "),
    })
}

/// The live session and user an access token names, and its tenant.
async fn bearer_session(app: &App, access_token: &str) -> Result<Option<(Tenant, Session, User)>, OAuthError> {
    let now = app.clock.now();
    let settings = &app.settings;
    let Some(claims) =
        app.keys.current().verify_at(access_token, &settings.issuer, &settings.audience, now.timestamp())
    else {
        return Ok(None);
    };
    let (Some(user_id), Some(session_id)) = (UserId::parse(&claims.sub), SessionId::parse(&claims.sid)) else {
        return Ok(None);
    };
    if claims.typ != "client" {
        return Ok(None);
    }
    let Some(tenant) = crate::domain::tenant::get_tenant(app.store.as_ref(), &claims.tid).await? else {
        return Ok(None);
    };
    let Some((session, user)) = load_session_and_user(app, &user_id, &session_id).await? else {
        return Ok(None);
    };
    if !user.is_active() || !live(&tenant, &user, &session, now) {
        return Ok(None);
    }
    Ok(Some((tenant, session, user)))
}

/// The claims of the scopes granted to the session of `access_token`
/// (`sub` alone for a session the API opened, which has no OpenID Connect
/// scopes).
pub async fn userinfo(app: &App, access_token: &str) -> Result<Map<String, Value>, OAuthError> {
    let (_, session, user) = bearer_session(app, access_token).await?.ok_or(OAuthError::InvalidToken)?;
    Ok(id_token::user_claims(&user, &session.scopes))
}

/// Ends `session` and, with `with_sign_in` (a logout, not a revocation),
/// the hosted sign-in's session it came from too; audited as `event`.
async fn end(app: &App, session: &Session, with_sign_in: bool, event: &str) -> Result<(), OAuthError> {
    let mut writes =
        vec![Write::Delete { key: session_key(&session.user_id, &session.id), condition: Condition::Always }];
    if let Some(signed_in) = session.signed_in_by.as_ref().filter(|_| with_sign_in) {
        writes.push(Write::Delete { key: session_key(&session.user_id, signed_in), condition: Condition::Always });
    }
    let detail = serde_json::json!({ "session_id": session.id, "client_id": session.client_id });
    writes.push(audit_write(app, &session.user_id, event, detail)?);
    table::commit(app.store.as_ref(), writes).await?;
    Ok(())
}

/// RFC 7009: revokes the session of a refresh or access token that
/// `client` was issued (the client's grant: the user stays signed in to
/// the hosted pages). A token that is unknown, expired, malformed or
/// another client's is left alone, and the answer is the same.
pub async fn revoke(app: &App, tenant: &Tenant, client: &Client, token: &str) -> Result<(), OAuthError> {
    let session = if let Some(refresh) = RefreshToken::parse(token) {
        let record = table::get::<RefreshRecord>(app.store.as_ref(), &refresh_key(refresh.expose())).await?;
        match record {
            Some((record, _)) if record.tenant_id == tenant.id => {
                load_session_and_user(app, &record.user_id, &record.session_id).await?.map(|(session, _)| session)
            }
            _ => None,
        }
    } else {
        bearer_session(app, token).await?.filter(|(t, _, _)| t.id == tenant.id).map(|(_, session, _)| session)
    };
    match session {
        Some(session) if session.client_id.as_deref() == Some(client.client_id.as_str()) => {
            end(app, &session, false, "oauth_token_revoked").await
        }
        _ => Ok(()),
    }
}

/// What an RP-initiated logout found: the client it is for (from the ID
/// token hint or `client_id`), and whether a session was ended.
#[derive(Clone, Debug, Default)]
pub struct EndedSession {
    pub client: Option<Client>,
    pub ended: bool,
}

/// RP-initiated logout: `id_token_hint` (an ID token this deployment
/// signed; expired is fine) names the client and the session, which ends
/// (with the hosted sign-in's session it came from). `client_id`, when
/// given, must be the hint's audience.
pub async fn end_session(
    app: &App,
    id_token_hint: Option<&str>,
    client_id: Option<&str>,
) -> Result<EndedSession, OAuthError> {
    let Some(hint) = id_token_hint else {
        let Some(id) = client_id else { return Ok(EndedSession::default()) };
        let client = clients::find(app.store.as_ref(), id).await?.map(|(client, _, _)| client);
        return Ok(EndedSession { client, ended: false });
    };
    let claims = app
        .keys
        .current()
        .verify_signed(hint, &app.settings.issuer)
        .ok_or(OAuthError::InvalidRequest("id_token_hint is not an ID token of this provider"))?;
    let audience = match &claims.get("aud") {
        Some(Value::String(aud)) => aud.clone(),
        Some(Value::Array(list)) if list.len() == 1 => list[0].as_str().unwrap_or_default().to_owned(),
        _ => String::new(),
    };
    if client_id.is_some_and(|id| id != audience) {
        return Err(OAuthError::InvalidRequest("client_id is not the audience of id_token_hint"));
    }
    let Some((client, tenant, _)) = clients::find(app.store.as_ref(), &audience).await? else {
        return Err(OAuthError::InvalidRequest("id_token_hint is not an ID token of this provider"));
    };
    let text = |name: &str| claims.get(name).and_then(Value::as_str).unwrap_or_default().to_owned();
    let (user_id, session_id) = (UserId::parse(&text("sub")), SessionId::parse(&text("sid")));
    let mut ended = false;
    if let (Some(user_id), Some(session_id)) = (user_id, session_id)
        && let Some((session, _)) = load_session_and_user(app, &user_id, &session_id).await?
        && session.tenant_id == tenant.id
        && session.client_id.as_deref() == Some(client.client_id.as_str())
    {
        end(app, &session, true, "oauth_logged_out").await?;
        ended = true;
    }
    Ok(EndedSession { client: Some(client), ended })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_holds_no_token_code_or_verifier() {
        let issued = Issued {
            access_token: "eyJ.access.secret".into(),
            expires_in: 900,
            id_token: "eyJ.id.secret".into(),
            refresh_token: "rt_refresh_secret".into(),
            scope: "openid email".into(),
        };
        let grant = Grant::AuthorizationCode {
            code: "code-secret".into(),
            redirect_uri: "https://app.example.com/cb".into(),
            code_verifier: "verifier-secret".into(),
        };
        let tokens = Tokens {
            user_id: "usr_1".into(),
            access_token: "eyJ.access.secret".into(),
            token_type: "Bearer",
            expires_in: 900,
            refresh_token: "rt_refresh_secret".into(),
            scope: String::new(),
            device_token: Some("dt_device_secret".into()),
            refresh_expires_in: 3600,
        };
        let printed = format!("{issued:?} {grant:?} {tokens:?}");
        assert!(!printed.contains("secret"), "{printed}");
        assert!(printed.contains("openid email") && printed.contains("https://app.example.com/cb"), "{printed}");
    }
}
