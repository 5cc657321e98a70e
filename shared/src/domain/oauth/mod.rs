//! Registrar as an OpenID Provider (SPEC §13, docs/openid.md): the clients
//! of a tenant, the authorization request, and the code a finished
//! hosted sign-in hands to the client.
//!
//! The hosted pages (`http/handlers/pages/`) check the authorization request
//! and sign the user in through `domain::auth` (the same state machine as
//! the API); when the login ends with tokens, [`issue_code`] stores the
//! code the client exchanges at `/oauth2/token`.
//!
//! | child | what |
//! |---|---|
//! | `clients` | registering, listing, changing and removing clients; redirect URIs; client authentication |
//! | `codes` | the authorization code: issued, redeemed once |
//! | `id_token` | the ID token's and the userinfo's claims (pure) |
//! | `grants` | the token endpoint's grants, userinfo, revocation, RP-initiated logout |

use crate::app::App;
use crate::domain::error::Error;
use crate::domain::tenant::Tenant;
use crate::domain::user::Tokens;

pub mod clients;
pub mod codes;
pub mod grants;
pub mod id_token;

pub use clients::{ClientDraft, ClientSecret, LocalClient, authenticate_client, check_redirect_uri};
pub use grants::{EndedSession, Grant, Issued};

/// A client registered with a tenant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Client {
    pub client_id: String,
    pub tenant_id: String,
    pub name: String,
    /// Compared exactly (no prefix, no wildcard).
    pub redirect_uris: Vec<String>,
    /// Where RP-initiated logout (`/oauth2/logout`) may send the browser
    /// back: registered apart from the redirect URIs, compared exactly.
    pub post_logout_redirect_uris: Vec<String>,
    /// A public client (no secret; PKCE alone) or a confidential one
    /// (`client_secret_basic`).
    pub public: bool,
}

/// The scopes a client may ask for (SPEC §13).
pub const SCOPES: [&str; 5] = ["openid", "email", "profile", "phone", "offline_access"];

/// The client `client_id` and its tenant, if there is one.
pub async fn find_client(app: &App, client_id: &str) -> Result<Option<(Client, Tenant)>, Error> {
    Ok(clients::find(app.store.as_ref(), client_id).await?.map(|(client, tenant, _)| (client, tenant)))
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
///
/// The code remembers the session the sign-in opened (named by the
/// refresh token of `tokens`, which is not stored); redeeming it opens a
/// session of the client's own. A request that does not fit its client
/// (another client, a redirect URI not registered, a scope not offered, no
/// `openid`, a malformed challenge) is refused with `Error::Validation`:
/// the pages check it before.
pub async fn issue_code(
    app: &App,
    tenant: &Tenant,
    client: &Client,
    request: &AuthorizationRequest,
    tokens: &Tokens,
) -> Result<String, Error> {
    codes::issue(app, tenant, client, request, tokens).await
}

/// Why a request of the OpenID Provider's endpoints was refused: the
/// RFC 6749 §5.2 error codes (the handlers render them).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum OAuthError {
    /// A parameter missing, repeated, malformed or not supported here.
    #[error("invalid_request: {0}")]
    InvalidRequest(&'static str),
    /// Unknown client, failed or missing client authentication, or a
    /// method the client is not registered for.
    #[error("invalid_client")]
    InvalidClient,
    /// The code or refresh token is unknown, expired, spent, of another
    /// client or redirect URI, or the verifier does not match.
    #[error("invalid_grant: {0}")]
    InvalidGrant(&'static str),
    #[error("unsupported_grant_type")]
    UnsupportedGrantType,
    #[error("invalid_scope")]
    InvalidScope,
    /// A bearer token that is not (any more) good (userinfo).
    #[error("invalid_token")]
    InvalidToken,
    /// The store failed: a 503, never one of the above.
    #[error(transparent)]
    Failed(#[from] Error),
}

impl From<crate::ports::StoreError> for OAuthError {
    fn from(err: crate::ports::StoreError) -> Self {
        Self::Failed(err.into())
    }
}

impl From<crate::table::Failed> for OAuthError {
    fn from(err: crate::table::Failed) -> Self {
        Self::Failed(err.into())
    }
}

impl OAuthError {
    /// The RFC 6749 error code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidRequest(_) => "invalid_request",
            Self::InvalidClient => "invalid_client",
            Self::InvalidGrant(_) => "invalid_grant",
            Self::UnsupportedGrantType => "unsupported_grant_type",
            Self::InvalidScope => "invalid_scope",
            Self::InvalidToken => "invalid_token",
            Self::Failed(_) => "temporarily_unavailable",
        }
    }

    /// A short English description for the developer (never a secret).
    pub fn description(&self) -> &'static str {
        match self {
            Self::InvalidRequest(what) | Self::InvalidGrant(what) => what,
            Self::InvalidClient => "client authentication failed",
            Self::UnsupportedGrantType => "grant_type must be authorization_code or refresh_token",
            Self::InvalidScope => "the scope asks for more than was granted",
            Self::InvalidToken => "the access token is not valid",
            Self::Failed(_) => "try again",
        }
    }
}
