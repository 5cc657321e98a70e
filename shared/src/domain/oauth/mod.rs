//! Registrar as an OpenID Provider (SPEC §13, docs/openid.md): the clients
//! of a tenant, the authorization request, and the code a finished
//! hosted sign-in hands to the client.
//!
//! The hosted pages (`http/handlers/pages/`) check the authorization request
//! and sign the user in through `domain::auth` (the same state machine as
//! the API); when the login ends with tokens, [`issue_code`] stores the
//! code the client exchanges at `/oauth2/token`.

use crate::app::App;
use crate::domain::error::Error;
use crate::domain::tenant::Tenant;
use crate::domain::user::Tokens;

/// A client registered with a tenant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Client {
    pub client_id: String,
    pub tenant_id: String,
    pub name: String,
    /// Compared exactly (no prefix, no wildcard).
    pub redirect_uris: Vec<String>,
    /// A public client (no secret; PKCE alone) or a confidential one
    /// (`client_secret_basic`).
    pub public: bool,
}

/// The client `client_id` and its tenant, if there is one.
pub async fn find_client(app: &App, client_id: &str) -> Result<Option<(Client, Tenant)>, Error> {
    let _ = (app, client_id);
    todo!("the protocol branch stores clients")
}

/// An authorization request, checked against its client: what the code
/// will be bound to and the ID token will carry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuthorizationRequest {
    pub client_id: String,
    /// One of the client's, exactly.
    pub redirect_uri: String,
    /// `openid` and any of `email`, `profile`, `phone`, `offline_access`.
    pub scopes: Vec<String>,
    pub state: Option<String>,
    pub nonce: Option<String>,
    /// The S256 PKCE challenge (base64url of SHA-256 of the verifier).
    pub code_challenge: String,
    pub prompt: Option<String>,
    pub login_hint: Option<String>,
    pub ui_locales: Option<String>,
}

/// Stores the single-use code (60 s) of a sign-in that ended with
/// `tokens` for `request`, bound to its client, redirect URI and PKCE
/// challenge; returns the code to send to the redirect URI.
pub async fn issue_code(
    app: &App,
    tenant: &Tenant,
    client: &Client,
    request: &AuthorizationRequest,
    tokens: &Tokens,
) -> Result<String, Error> {
    let _ = (app, tenant, client, request, tokens);
    todo!("the protocol branch stores codes")
}
