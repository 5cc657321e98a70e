//! The hosted pages' own session (docs/hosted-pages.md): after a sign-in
//! on the hosted pages, the browser keeps the refresh token of a session
//! of its own (opened beside the one handed to the client, never shared
//! with it); a later authorization request for the same tenant signs in
//! with it instead of a password. Each use rotates it (so it is alive, the
//! user active, and a stolen copy is caught by reuse detection as any
//! refresh token) and opens a new session for the client with the sign-in's
//! `auth_time` and `amr`.

use super::super::error::Error;
use super::super::ids::RefreshToken;
use super::super::sessions;
use super::super::tenant::Tenant;
use super::super::user::{Tokens, audit_write, load_session_and_user, open_session_since};
use crate::app::App;
use crate::domain::ids::UserId;
use crate::table;

/// Opens the hosted session beside the session `signed_in` (what a sign-in
/// on the hosted pages just gave the client), with its `auth_time` and
/// `amr`, bound to the browser's `device_id`.
pub async fn open_hosted_session(
    app: &App,
    tenant: &Tenant,
    signed_in: &Tokens,
    device_id: &str,
) -> Result<Tokens, Error> {
    let token = RefreshToken::parse(&signed_in.refresh_token).ok_or(Error::InvalidToken)?;
    another_session(app, tenant, &token, device_id, "hosted_session_opened").await
}

/// Signs in with the hosted session `token`: the hosted session rotated
/// (its successor for the browser) and a new session for the client, both
/// of the original sign-in. `InvalidToken` when the hosted session is
/// over (expired, idle, ended, reused, the user no longer active).
pub async fn sign_in_with_session(
    app: &App,
    tenant: &Tenant,
    token: &RefreshToken,
    device_id: &str,
) -> Result<(Tokens, Tokens), Error> {
    let hosted = sessions::refresh(app, tenant, token, device_id).await?;
    let successor = RefreshToken::parse(&hosted.refresh_token).ok_or(Error::InvalidToken)?;
    let client = another_session(app, tenant, &successor, device_id, "logged_in").await?;
    Ok((client, hosted))
}

/// A new session of the user of `token`'s session, with its `auth_time`
/// and `amr`, audited as `event`.
async fn another_session(
    app: &App,
    tenant: &Tenant,
    token: &RefreshToken,
    device_id: &str,
    event: &str,
) -> Result<Tokens, Error> {
    let user_id: &UserId = token.user_id();
    let (session, user) = load_session_and_user(app, user_id, token.session_id()).await?.ok_or(Error::InvalidToken)?;
    if session.tenant_id != tenant.id || !user.is_active() || !user.session_valid(&session) {
        return Err(Error::InvalidToken);
    }
    let auth_time = session.auth_time.unwrap_or(session.created_at);
    let (mut writes, tokens) =
        open_session_since(app, tenant, &user, Some(device_id), session.amr.clone(), auth_time).await?;
    writes.push(audit_write(
        app,
        &user.id,
        event,
        serde_json::json!({ "device_id": device_id, "via": "hosted_session" }),
    )?);
    table::commit(app.store.as_ref(), writes).await?;
    Ok(tokens)
}
