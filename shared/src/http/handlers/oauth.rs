//! The OpenID Provider's protocol endpoints (docs/openid.md): the token
//! endpoint, userinfo, revocation (RFC 7009) and RP-initiated logout. The
//! authorization endpoint and the hosted pages are `pages`.
//!
//! Their errors are OAuth 2.0's (RFC 6749 §5.2: JSON `{error,
//! error_description}`, 400, or 401 `invalid_client` with
//! `WWW-Authenticate: Basic`), not problem documents: OAuth clients read
//! those. Only a failing store answers a problem (503). Their bodies are
//! forms (`application/x-www-form-urlencoded`); a parameter they do not
//! know is ignored (RFC 6749 §3.2), one given twice is `invalid_request`.

use std::collections::BTreeMap;

use ::http::{HeaderValue, StatusCode};
use base64::Engine;
use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde::{Deserialize, Serialize};

use super::reply::{Answer, Reply};
use crate::domain::ids::RefreshToken;
use crate::domain::oauth::clients::ClientCredentials;
use crate::domain::oauth::{self, Grant, OAuthError, authenticate_client, grants};
use crate::domain::policy::Branding;
use crate::domain::tenant::Tenant;
use crate::http::context::Ctx;
use crate::http::problem::Problem;

/// A form parameter of an endpoint: its name, whether it is required, and
/// what it is (the OpenAPI document's request body is made from these).
pub struct Param {
    pub name: &'static str,
    pub required: bool,
    pub doc: &'static str,
}

const fn param(name: &'static str, required: bool, doc: &'static str) -> Param {
    Param { name, required, doc }
}

/// `GET /oauth2/authorize`'s query (OpenID Connect Core §3.1.2.1).
pub const AUTHORIZE_PARAMS: &[Param] = &[
    param("response_type", true, "`code`."),
    param("client_id", true, "A client registered with the tenant."),
    param("redirect_uri", true, "One of the client's redirect URIs, exactly."),
    param("scope", true, "`openid`, and any of `email`, `profile`, `phone`, `offline_access`."),
    param("state", false, "Echoed to the redirect URI."),
    param("nonce", false, "Carried into the ID token."),
    param("code_challenge", true, "PKCE: base64url of the SHA-256 of the verifier."),
    param("code_challenge_method", true, "`S256`."),
    param("prompt", false, "`none` (no page: a hosted session or `login_required`), `login`."),
    param("login_hint", false, "Fills the sign-in page's username."),
    param("ui_locales", false, "The pages' language: en, de, fr, it."),
    param("identity_provider", false, "One of the tenant's identity providers: straight to its sign-in."),
    param("screen", false, "`forgot` or `signup`: that page instead of the sign-in page."),
];

/// What another identity provider answers at `/oauth2/idpresponse` (in the
/// query, or as a form: Apple's `form_post`).
pub const IDP_RESPONSE_PARAMS: &[Param] = &[
    param("code", false, "The provider's authorization code."),
    param("state", false, "The state Registrar sent the provider (used once)."),
    param("error", false, "The provider's error (the user cancelled): the sign-in page again."),
    param("error_description", false, "The provider's description of its error."),
    param("user", false, "Apple: the user's name as JSON, on the first sign-in only."),
    param("resubmitted", false, "Set by the page that posts a provider's form again from this site."),
];

/// `POST /oauth2/token`'s form.
pub const TOKEN_PARAMS: &[Param] = &[
    param("grant_type", true, "`authorization_code` or `refresh_token`."),
    param("code", false, "authorization_code: the code sent to the redirect URI."),
    param("redirect_uri", false, "authorization_code: the redirect URI of the authorization request, exactly."),
    param("code_verifier", false, "authorization_code: the PKCE verifier (S256) of the request's challenge."),
    param("refresh_token", false, "refresh_token: the refresh token (rotated: each works once)."),
    param("scope", false, "refresh_token: at most the granted scopes (the answer names the granted ones)."),
    param("client_id", false, "A public client's id; a confidential client authenticates with HTTP Basic instead."),
];

/// `POST /oauth2/revoke`'s form.
pub const REVOKE_PARAMS: &[Param] = &[
    param("token", true, "A refresh or access token issued to the client: its session ends."),
    param("token_type_hint", false, "`refresh_token` or `access_token` (tokens are told apart by their shape anyway)."),
    param("client_id", false, "A public client's id; a confidential client authenticates with HTTP Basic instead."),
];

/// `GET /oauth2/logout`'s query.
pub const LOGOUT_PARAMS: &[Param] = &[
    param("id_token_hint", false, "An ID token the client was issued (expired is fine): the session to end."),
    param("post_logout_redirect_uri", false, "One of the client's registered post-logout redirect URIs, exactly."),
    param("state", false, "Echoed to the post-logout redirect URI."),
    param("client_id", false, "The client, when no id_token_hint names it (then no session ends)."),
    param("ui_locales", false, "The signed-out page's language (en, de, fr, it)."),
];

/// The parameters of a form body (or the query), each given at most once.
struct Form(BTreeMap<String, String>);

impl Form {
    fn of_body(ctx: &Ctx<'_>) -> Result<Self, OAuthError> {
        if !ctx.body.is_empty() && !ctx.form {
            return Err(OAuthError::InvalidRequest("the body must be application/x-www-form-urlencoded"));
        }
        Self::of_pairs(form_urlencoded::parse(ctx.body).map(|(n, v)| (n.into_owned(), v.into_owned())))
    }

    fn of_pairs(pairs: impl Iterator<Item = (String, String)>) -> Result<Self, OAuthError> {
        let mut map = BTreeMap::new();
        for (name, value) in pairs {
            if map.insert(name, value).is_some() {
                return Err(OAuthError::InvalidRequest("a parameter is given more than once"));
            }
        }
        Ok(Self(map))
    }

    /// A parameter, if given and not empty (RFC 6749 §3.1: an empty one is
    /// as if omitted).
    fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str).filter(|v| !v.is_empty())
    }

    fn required(&self, name: &str, missing: &'static str) -> Result<&str, OAuthError> {
        self.get(name).ok_or(OAuthError::InvalidRequest(missing))
    }
}

/// RFC 6749 §2.3.1's HTTP Basic: `base64(urlencode(id) ":" urlencode(secret))`.
fn basic_credentials(ctx: &Ctx<'_>) -> Result<Option<(String, String)>, OAuthError> {
    let Some(header) = ctx.header("authorization") else { return Ok(None) };
    let Some((scheme, encoded)) = header.trim().split_once(' ') else { return Ok(None) };
    if !scheme.eq_ignore_ascii_case("basic") {
        return Ok(None);
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .ok_or(OAuthError::InvalidClient)?;
    let (id, secret) = decoded.split_once(':').ok_or(OAuthError::InvalidClient)?;
    match (form_decode(id), form_decode(secret)) {
        (Some(id), Some(secret)) => Ok(Some((id, secret))),
        _ => Err(OAuthError::InvalidClient),
    }
}

/// The `application/x-www-form-urlencoded` decoding of one value.
fn form_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).ok()
}

/// Who the request authenticates as (see `oauth::clients::authenticate_client`).
fn credentials(ctx: &Ctx<'_>, form: &Form) -> Result<ClientCredentials, OAuthError> {
    let basic = basic_credentials(ctx)?.map(|(id, secret)| ClientCredentials::basic(id, secret));
    Ok(ClientCredentials { form_client_id: form.get("client_id").map(str::to_owned), basic })
}

/// An OAuth 2.0 error answer (RFC 6749 §5.2).
#[derive(Serialize, Deserialize, JsonSchema)]
#[schemars(rename = "OAuthError")]
pub struct OAuthErrorAnswer {
    #[schemars(extend("enum" = ["invalid_request", "invalid_client", "invalid_grant", "unsupported_grant_type", "invalid_scope", "invalid_token"]))]
    pub error: String,
    /// For the developer, in English.
    pub error_description: String,
}

/// An endpoint's answer: its success, or an OAuth 2.0 error (400, 401).
#[derive(Serialize)]
#[serde(untagged)]
pub enum OAuth<T> {
    Ok(T),
    Refused(OAuthErrorAnswer),
}

impl<T: Serialize + JsonSchema> Answer for OAuth<T> {
    fn schema(status: u16, generator: &mut SchemaGenerator) -> Schema {
        match status {
            200 => generator.subschema_for::<T>(),
            _ => generator.subschema_for::<OAuthErrorAnswer>(),
        }
    }
}

/// The answer to a refused request: 400 or 401 (with the challenge its
/// scheme asks for), or the store's 503 problem.
fn refuse<T>(err: OAuthError) -> Result<Reply<OAuth<T>>, Problem>
where
    OAuth<T>: Answer,
{
    let status = match &err {
        OAuthError::Failed(failure) => return Err(Problem::from(failure.clone())),
        OAuthError::InvalidClient | OAuthError::InvalidToken => StatusCode::UNAUTHORIZED,
        _ => StatusCode::BAD_REQUEST,
    };
    let challenge = match &err {
        OAuthError::InvalidClient => Some(HeaderValue::from_static("Basic realm=\"registrar\"")),
        OAuthError::InvalidToken => Some(HeaderValue::from_static("Bearer error=\"invalid_token\"")),
        _ => None,
    };
    let body = OAuthErrorAnswer { error: err.code().to_owned(), error_description: err.description().to_owned() };
    let reply = Reply::new(status, OAuth::Refused(body));
    Ok(match challenge {
        Some(value) => reply.header(::http::header::WWW_AUTHENTICATE, value),
        None => reply,
    })
}

fn answer<T>(outcome: Result<T, OAuthError>) -> Result<Reply<OAuth<T>>, Problem>
where
    OAuth<T>: Answer,
{
    match outcome {
        Ok(body) => Ok(Reply::ok(OAuth::Ok(body))),
        Err(err) => refuse(err),
    }
}

/// The token endpoint's answer (RFC 6749 §5.1, OpenID Connect Core §3.1.3.3).
#[derive(Serialize, JsonSchema)]
#[schemars(rename = "OAuthTokens")]
pub struct TokenAnswer {
    /// The same JWT (RS256) as the API's access tokens.
    pub access_token: String,
    #[schemars(extend("enum" = ["Bearer"]))]
    pub token_type: &'static str,
    /// Seconds until the access token expires.
    pub expires_in: i64,
    /// The ID token (RS256, `aud` = the client).
    pub id_token: String,
    /// Rotated at every use (reuse detection as on the API).
    pub refresh_token: String,
    /// The granted scopes, space-separated.
    pub scope: String,
}

/// `POST /oauth2/token`.
pub async fn oauth_token(ctx: &Ctx<'_>) -> Result<Reply<OAuth<TokenAnswer>>, Problem> {
    let outcome = token(ctx).await;
    let tenant = outcome.as_ref().ok().map(|(_, tenant)| tenant.clone());
    answer(outcome.map(|(body, _)| body)).map(|reply| cors(ctx, tenant.as_ref(), reply))
}

/// A browser app (a public client on one of its tenant's CORS origins) may
/// read the answer: the route has no API key, so the pipeline knows no
/// tenant; the client named it. The preflight already allows every
/// tenant's origins.
fn cors<T: Answer>(ctx: &Ctx<'_>, tenant: Option<&Tenant>, reply: Reply<T>) -> Reply<T> {
    let origin = ctx.header("origin");
    let allowed = origin.filter(|origin| tenant.is_some_and(|t| t.policy.cors_origins.iter().any(|o| o == origin)));
    match allowed.and_then(|origin| HeaderValue::from_str(origin).ok()) {
        Some(origin) => reply.header(::http::header::ACCESS_CONTROL_ALLOW_ORIGIN, origin),
        None => reply,
    }
}

async fn token(ctx: &Ctx<'_>) -> Result<(TokenAnswer, Tenant), OAuthError> {
    let form = Form::of_body(ctx)?;
    let credentials = credentials(ctx, &form)?;
    // Who asks first: an unknown client learns nothing about the grant.
    let (client, tenant) = authenticate_client(ctx.app.store.as_ref(), &credentials).await?;
    let grant = match form.required("grant_type", "grant_type is required")? {
        "authorization_code" => Grant::AuthorizationCode {
            code: form.required("code", "code is required")?.to_owned(),
            redirect_uri: form.required("redirect_uri", "redirect_uri is required")?.to_owned(),
            code_verifier: form.required("code_verifier", "code_verifier is required (PKCE)")?.to_owned(),
        },
        "refresh_token" => Grant::RefreshToken {
            refresh_token: RefreshToken::parse(form.required("refresh_token", "refresh_token is required")?)
                .ok_or(OAuthError::InvalidGrant("the refresh token is not valid"))?,
            scope: form.get("scope").map(|s| s.split(' ').filter(|s| !s.is_empty()).map(str::to_owned).collect()),
        },
        _ => return Err(OAuthError::UnsupportedGrantType),
    };
    let issued = grants::exchange(ctx.app, &tenant, &client, grant).await?;
    let oauth::Issued { access_token, expires_in, id_token, refresh_token, scope } = issued;
    Ok((TokenAnswer { access_token, token_type: "Bearer", expires_in, id_token, refresh_token, scope }, tenant))
}

/// The claims of the granted scopes (OpenID Connect Core §5.1, §5.3).
#[derive(Serialize, Deserialize, JsonSchema)]
pub struct UserinfoAnswer {
    /// The user's id.
    pub sub: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email_verified: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub given_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub family_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locale: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zoneinfo: Option<String>,
    /// When the profile last changed (epoch seconds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone_number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone_number_verified: Option<bool>,
}

/// `GET /oauth2/userinfo` (bearer access token).
pub async fn oauth_userinfo(ctx: &Ctx<'_>) -> Result<Reply<OAuth<UserinfoAnswer>>, Problem> {
    answer(userinfo(ctx).await)
}

async fn userinfo(ctx: &Ctx<'_>) -> Result<UserinfoAnswer, OAuthError> {
    let token = ctx
        .header("authorization")
        .and_then(|h| h.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim())
        .ok_or(OAuthError::InvalidToken)?;
    let claims = grants::userinfo(ctx.app, token).await?;
    serde_json::from_value(serde_json::Value::Object(claims)).map_err(|e| {
        OAuthError::Failed(crate::domain::Error::Unavailable { reason: e.to_string(), registration_id: None })
    })
}

/// RFC 7009's answer: nothing to say (200 for unknown tokens too).
#[derive(Serialize, JsonSchema)]
pub struct Revoked {}

/// `POST /oauth2/revoke`.
pub async fn oauth_revoke(ctx: &Ctx<'_>) -> Result<Reply<OAuth<Revoked>>, Problem> {
    let outcome = revoke(ctx).await;
    let tenant = outcome.as_ref().ok().map(|(_, tenant)| tenant.clone());
    answer(outcome.map(|(body, _)| body)).map(|reply| cors(ctx, tenant.as_ref(), reply))
}

async fn revoke(ctx: &Ctx<'_>) -> Result<(Revoked, Tenant), OAuthError> {
    let form = Form::of_body(ctx)?;
    let credentials = credentials(ctx, &form)?;
    let token = form.required("token", "token is required")?.to_owned();
    let (client, tenant) = authenticate_client(ctx.app.store.as_ref(), &credentials).await?;
    grants::revoke(ctx.app, &tenant, &client, &token).await?;
    Ok((Revoked {}, tenant))
}

/// `GET /oauth2/logout`: RP-initiated logout 1.0. Ends the session of
/// `id_token_hint`, then sends the browser to `post_logout_redirect_uri`
/// (with `state`) when it is one the client registered, else answers a
/// small signed-out page (400 when the hint or the return address is not
/// valid).
pub async fn oauth_logout(ctx: &Ctx<'_>) -> Result<Reply<String>, Problem> {
    let lang = ctx
        .query_param("ui_locales")
        .map(|locales| crate::i18n::negotiate(Some(&locales.replace(' ', ","))))
        .unwrap_or(ctx.lang);
    let page = |status: StatusCode, key: &str| {
        let html =
            super::pages::views::notice(lang, &Branding::default(), "page-signed-out-title", &format!("page-{key}"));
        Ok(Reply::page(status, html, None))
    };
    let query = match Form::of_pairs(ctx.query.iter().cloned()) {
        Ok(query) => query,
        Err(_) => return page(StatusCode::BAD_REQUEST, "signed-out-invalid"),
    };
    let ended = match grants::end_session(ctx.app, query.get("id_token_hint"), query.get("client_id")).await {
        Ok(ended) => ended,
        Err(OAuthError::Failed(failure)) => return Err(Problem::from(failure)),
        Err(_) => return page(StatusCode::BAD_REQUEST, "signed-out-invalid"),
    };
    // Signed out here too: the browser's hosted session (which the ended
    // session was) leaves the browser.
    let signed_out = |reply: Result<Reply<String>, Problem>| {
        reply.map(|reply| match super::pages::end_hosted_session(ctx) {
            Some(cookie) => reply.header(::http::header::SET_COOKIE, cookie),
            None => reply,
        })
    };
    let Some(uri) = query.get("post_logout_redirect_uri") else {
        return signed_out(page(StatusCode::OK, "signed-out-body"));
    };
    let registered = ended.client.as_ref().is_some_and(|c| c.post_logout_redirect_uris.iter().any(|r| r == uri));
    if !registered {
        return signed_out(page(StatusCode::BAD_REQUEST, "signed-out-unregistered"));
    }
    let location = match query.get("state") {
        Some(state) => {
            let separator = if uri.contains('?') { '&' } else { '?' };
            let encoded: String = form_urlencoded::Serializer::new(String::new()).append_pair("state", state).finish();
            format!("{uri}{separator}{encoded}")
        }
        None => uri.to_owned(),
    };
    signed_out(Reply::redirect(StatusCode::FOUND, &location))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_credentials_are_form_decoded() {
        assert_eq!(form_decode("my%20app+x%3A1").as_deref(), Some("my app x:1"));
        assert_eq!(form_decode("%zz"), None);
        assert_eq!(form_decode("%4"), None);
        assert_eq!(form_decode("plain").as_deref(), Some("plain"));
    }
}
