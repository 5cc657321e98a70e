//! The authorization code: issued when a hosted sign-in ends (bound to the
//! client, the redirect URI, the PKCE challenge, the scopes and nonce, the
//! user and the sign-in's session), valid 60 s, redeemed once at the token
//! endpoint for a session of the client's own. A second redemption is
//! `invalid_grant` and revokes that session (RFC 6749 §4.1.2).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::Duration;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::{AuthorizationRequest, Client, OAuthError, SCOPES};
use crate::app::App;
use crate::domain::error::{Error, FieldError};
use crate::domain::ids::{RefreshToken, SessionId};
use crate::domain::sessions::live;
use crate::domain::tenant::Tenant;
use crate::domain::user::{
    RefreshRecord, Session, Tokens, User, audit_write, load_session_and_user, refresh_token, tokens_for,
};
use crate::ports::{Condition, Write};
use crate::table::{self, AuthorizationCode, Failed, Kind, Record, authorization_code_key, oauth_hash, session_key};

/// How long a code can be redeemed.
pub const CODE_TTL_SECS: i64 = 60;
/// How long a code's record is kept (to recognise a second redemption).
const CODE_RECORD_SECS: i64 = 24 * 3600;

/// Whether `challenge` is an S256 challenge: base64url (no padding) of a
/// SHA-256, 43 characters.
pub fn is_s256_challenge(challenge: &str) -> bool {
    challenge.len() == 43 && URL_SAFE_NO_PAD.decode(challenge).is_ok_and(|bytes| bytes.len() == 32)
}

/// Whether `verifier` (RFC 7636 §4.1: 43–128 unreserved characters)
/// matches the S256 `challenge`, compared in constant time.
pub fn verifier_matches(verifier: &str, challenge: &str) -> bool {
    let well_formed = (43..=128).contains(&verifier.len())
        && verifier.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'));
    let computed = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    well_formed && bool::from(computed.as_bytes().ct_eq(challenge.as_bytes()))
}

fn invalid(field: &str, code: &'static str) -> Error {
    Error::Validation(vec![FieldError::new(field, code)])
}

/// See [`super::issue_code`].
pub async fn issue(
    app: &App,
    tenant: &Tenant,
    client: &Client,
    request: &AuthorizationRequest,
    tokens: &Tokens,
) -> Result<String, Error> {
    if request.client_id != client.client_id || client.tenant_id != tenant.id {
        return Err(invalid("client_id", "invalid_choice"));
    }
    if !client.redirect_uris.contains(&request.redirect_uri) {
        return Err(invalid("redirect_uri", "invalid_choice"));
    }
    if !request.scopes.iter().any(|s| s == "openid") || request.scopes.iter().any(|s| !SCOPES.contains(&s.as_str())) {
        return Err(invalid("scope", "invalid_choice"));
    }
    if !is_s256_challenge(&request.code_challenge) {
        return Err(invalid("code_challenge", "invalid_characters"));
    }
    // The refresh token names the session the sign-in opened; it is not
    // stored (the code's redemption issues a token of its own).
    let signed_in = RefreshToken::parse(&tokens.refresh_token).ok_or_else(|| invalid("refresh_token", "required"))?;
    let now = app.clock.now();
    let code = app.random_token(32);
    let mut scopes: Vec<String> = Vec::new();
    for scope in &request.scopes {
        if !scopes.contains(scope) {
            scopes.push(scope.clone());
        }
    }
    let record = AuthorizationCode {
        client_id: client.client_id.clone(),
        tenant_id: tenant.id.clone(),
        redirect_uri: request.redirect_uri.clone(),
        code_challenge: request.code_challenge.clone(),
        scopes,
        nonce: request.nonce.clone(),
        user_id: signed_in.user_id().clone(),
        session_id: signed_in.session_id().clone(),
        issued_at: now,
        valid_until: now + Duration::seconds(CODE_TTL_SECS),
        expires_at: now + Duration::seconds(CODE_RECORD_SECS),
        redeemed_by: None,
        hash: oauth_hash(&code),
    };
    app.store.put(record.item()?, Condition::NotExists).await?;
    Ok(code)
}

/// What a redeemed code issued: the tokens of the client's new session,
/// the session and its user (for the ID token), and the request's nonce.
pub struct Redeemed {
    pub tokens: Tokens,
    pub session: Session,
    pub user: User,
    pub nonce: Option<String>,
}

/// Redeems `code` for `client` (authenticated by the caller): checks the
/// redirect URI and the PKCE verifier, then opens a session of the client
/// (its refresh token new, the sign-in's `auth_time` and `amr` kept) in one
/// transaction with marking the code redeemed, so of parallel redemptions
/// exactly one wins. Any redemption after the first revokes the session
/// the first opened.
pub async fn redeem(
    app: &App,
    tenant: &Tenant,
    client: &Client,
    code: &str,
    redirect_uri: &str,
    verifier: &str,
) -> Result<Redeemed, OAuthError> {
    let spent = OAuthError::InvalidGrant("the code is not valid (unknown, expired, used, or of another client)");
    if code.is_empty() || code.len() > 512 {
        return Err(spent);
    }
    let key = authorization_code_key(code);
    let Some((mut record, version)) = table::get::<AuthorizationCode>(app.store.as_ref(), &key).await? else {
        return Err(spent);
    };
    if record.client_id != client.client_id || record.tenant_id != tenant.id {
        return Err(spent);
    }
    if let Some(issued) = &record.redeemed_by {
        revoke_issued(app, &record, issued).await?;
        return Err(spent);
    }
    let now = app.clock.now();
    if now >= record.valid_until {
        return Err(spent);
    }
    if record.redirect_uri != redirect_uri {
        return Err(OAuthError::InvalidGrant("redirect_uri is not the one the code was issued for"));
    }
    if !verifier_matches(verifier, &record.code_challenge) {
        return Err(OAuthError::InvalidGrant("code_verifier does not match the code_challenge"));
    }
    // The sign-in's session must still be live: signed out (or the user
    // suspended) since, the code is worth nothing.
    let Some((signed_in, user)) = load_session_and_user(app, &record.user_id, &record.session_id).await? else {
        return Err(spent);
    };
    if !user.is_active() || !live(tenant, &user, &signed_in, now) {
        return Err(spent);
    }
    let session = Session {
        id: SessionId::from_new(app.new_id("ses")),
        user_id: user.id.clone(),
        tenant_id: tenant.id.clone(),
        device_id: None,
        created_at: now,
        expires_at: now + Duration::seconds(tenant.policy.refresh_token_ttl_secs),
        epoch: user.session_epoch,
        auth_time: signed_in.auth_time,
        last_used_at: Some(now),
        amr: signed_in.amr.clone(),
        client_id: Some(client.client_id.clone()),
        scopes: record.scopes.clone(),
        signed_in_by: Some(signed_in.id.clone()),
    };
    let token = refresh_token(&user.id, &session.id, &app.random_token(32));
    let refresh = RefreshRecord {
        session_id: session.id.clone(),
        user_id: user.id.clone(),
        tenant_id: tenant.id.clone(),
        issued_at: now,
        expires_at: session.expires_at,
        rotated_at: None,
    };
    record.redeemed_by = Some(session.id.clone());
    // Made before anything is stored: a token that cannot be issued (a
    // failing `pre_token` hook) spends no code.
    let tokens = tokens_for(app, tenant, &session, &user, token.clone()).await?;
    let writes = vec![
        record.put(Condition::Version(version))?,
        session.put(Condition::NotExists)?,
        refresh.put(&token, Condition::NotExists)?,
        audit_write(
            app,
            &user.id,
            "oauth_code_redeemed",
            serde_json::json!({ "client_id": client.client_id, "session_id": session.id }),
        )?,
    ];
    match table::commit(app.store.as_ref(), writes).await {
        Ok(()) => Ok(Redeemed { tokens, session, user, nonce: record.nonce }),
        // Redeemed meanwhile by a parallel request: that is a second
        // redemption too.
        Err(Failed::Condition(Kind::AuthorizationCode)) => {
            if let Some((current, _)) = table::get::<AuthorizationCode>(app.store.as_ref(), &key).await?
                && let Some(issued) = &current.redeemed_by
            {
                revoke_issued(app, &current, issued).await?;
            }
            Err(spent)
        }
        Err(err) => Err(err.into()),
    }
}

/// Ends the session a code's first redemption opened (its refresh token
/// and access tokens die with it), audited.
async fn revoke_issued(app: &App, record: &AuthorizationCode, issued: &SessionId) -> Result<(), OAuthError> {
    tracing::warn!(session_id = %issued, client_id = %record.client_id, "authorization code redeemed again; its session revoked");
    let writes = vec![
        Write::Delete { key: session_key(&record.user_id, issued), condition: Condition::Always },
        audit_write(
            app,
            &record.user_id,
            "oauth_code_reused",
            serde_json::json!({ "client_id": record.client_id, "session_id": issued }),
        )?,
    ];
    table::commit(app.store.as_ref(), writes).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s256_verifiers_match_their_challenge_only() {
        // RFC 7636 Appendix B.
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
        assert!(is_s256_challenge(challenge));
        assert!(verifier_matches(verifier, challenge));
        assert!(!verifier_matches("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXK", challenge));
        assert!(!verifier_matches("short", challenge));
        assert!(!verifier_matches(challenge, verifier), "the challenge is no verifier");
        assert!(!is_s256_challenge("plain-challenge"));
        assert!(!is_s256_challenge(&"A".repeat(44)));
    }
}
