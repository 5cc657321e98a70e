//! The hosted pages' session (docs/hosted-pages.md): after a sign-in on the
//! hosted pages, the browser keeps the refresh token of the session that
//! sign-in opened (the session the client's code names); a later
//! authorization request for the same tenant signs in with it instead of a
//! password. Each use rotates it (so it is alive, the user active, and a
//! stolen copy is caught by reuse detection as any refresh token), and the
//! code of that authorization names it again. One session per browser
//! sign-in: RP-initiated logout ends it with the client's, so the next
//! person at that browser is asked for a password.

use super::super::error::Error;
use super::super::ids::RefreshToken;
use super::super::sessions;
use super::super::tenant::Tenant;
use super::super::user::{Tokens, load_session_and_user};
use super::pending_documents;
use crate::app::App;

/// Signs in with the hosted session `token`: the session rotated (its
/// successor for the browser, and the session the code names).
/// `InvalidToken` when the hosted session is over (expired, idle, ended,
/// reused, the user no longer active) or no longer enough: the tenant now
/// asks for legal documents the user has not accepted, or for a second
/// factor the sign-in did not prove. Then the browser signs in again on
/// the page, through every step.
pub async fn sign_in_with_session(
    app: &App,
    tenant: &Tenant,
    token: &RefreshToken,
    device_id: &str,
) -> Result<Tokens, Error> {
    let (session, user) =
        load_session_and_user(app, token.user_id(), token.session_id()).await?.ok_or(Error::InvalidToken)?;
    if session.tenant_id != tenant.id || !user.is_active() || !user.session_valid(&session) {
        return Err(Error::InvalidToken);
    }
    let second_factor_due = tenant.policy.second_factors.required || user.mfa_enabled();
    if !pending_documents(tenant, &user).is_empty() || (second_factor_due && !session.amr.iter().any(|m| m == "mfa")) {
        return Err(Error::InvalidToken);
    }
    sessions::refresh(app, tenant, token, device_id).await
}
