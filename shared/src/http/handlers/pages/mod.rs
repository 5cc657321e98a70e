//! The hosted sign-in pages (SPEC §13, docs/hosted-pages.md):
//! `GET /oauth2/authorize` checks the authorization request and answers the
//! sign-in page (or, with a live hosted session, the code at once);
//! `POST /oauth2/authorize` takes each step's form (`step`: `password`,
//! `mfa`, `new_password`, `legal`) through the same state machine as the
//! API (`domain::auth`), and ends with a 303 to the client's redirect URI
//! with the code. The forgotten password (`GET` with `screen=forgot`, then
//! the steps `forgot` and `reset`) goes through the API's own
//! `domain::passwords` and back to the sign-in page. The sign-up (`GET`
//! with `screen=signup`, then the steps of `signup.rs`) goes through the
//! API's `domain::registration` and ends as a sign-in does.
//!
//! Every form carries the authorization request as hidden fields, checked
//! again at each POST exactly as the GET was (the client, its redirect URI
//! compared exactly, PKCE), and a CSRF token: the value of the browser
//! cookie, compared in constant time.

mod federation;
mod passwordless;
mod passwordless_views;
mod signup;
mod signup_views;
pub mod views;

pub use federation::{idp_response, idp_response_post};

use ::http::{HeaderName, HeaderValue, StatusCode};
use cookie::{Cookie, SameSite};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use self::views::{Alert, Frame};
use super::reply::{DEVICE_COOKIE, Reply};
use crate::domain::Error;
use crate::domain::auth::with_session::sign_in_with_session;
use crate::domain::auth::{self, LoginOutcome, Origin};
use crate::domain::ids::{ChallengeId, RefreshToken};
use crate::domain::oauth::{self, AuthorizationRequest, Client};
use crate::domain::password::Password;
use crate::domain::passwords;
use crate::domain::policy::{Branding, Factor};
use crate::domain::tenant::Tenant;
use crate::domain::user::Tokens;
use crate::domain::values::{EmailAddress, LANGUAGES, password_errors};
use crate::http::body::{Assertion, Cx, Id, Password as PasswordField, Text, Username};
use crate::http::context::Ctx;
use crate::http::input::Fields;
use crate::http::problem::Problem;
use crate::i18n::negotiate_within;

/// The scopes a client may ask for (`openid` always among them).
pub const SCOPES: [&str; 5] = ["openid", "email", "profile", "phone", "offline_access"];

/// The browser cookie whose value is every form's CSRF token and names the
/// browser as a device (its sessions and challenges are bound to it).
const BROWSER_COOKIE: &str = "registrar_browser";
/// The hosted session's refresh token (`with_session`).
const SESSION_COOKIE: &str = "registrar_hosted_session";
/// The browser's device token (`credentials::device_token`) is the API's
/// cookie (`DEVICE_COOKIE`) scoped to `/oauth2` (the API's is scoped to
/// `/v1/auth`); it lives a year, as the API's does.
const DEVICE_COOKIE_SECS: i64 = 365 * 24 * 3600;
/// The browser cookie's lifetime (Chrome's cap): the device id it names
/// outlives any hosted session.
const BROWSER_COOKIE_SECS: i64 = 400 * 24 * 3600;
/// The longest `state` or `nonce` taken (they travel in every form).
const MAX_PARAM: usize = 512;

crate::body! {
    /// `POST /oauth2/authorize`: one step of the hosted sign-in, as a form
    /// (`application/x-www-form-urlencoded`), with the authorization
    /// request of `GET /oauth2/authorize` carried along.
    pub struct StepForm {
        /// The value of the browser cookie the page set (CSRF).
        csrf: optional Text,
        /// `password`, `mfa`, `new_password`, `legal`, `forgot` or `reset`;
        /// the sign-up's `signup`, `signup_email`, `signup_phone`, `signup_sms`;
        /// without a password, `code_send`, `code` or `passkey`.
        step: optional Text,
        response_type: optional Text,
        client_id: optional Id,
        redirect_uri: optional Text,
        scope: optional Text,
        state: optional Text,
        nonce: optional Text,
        code_challenge: optional Text,
        code_challenge_method: optional Text,
        ui_locales: optional Text,
        /// `password`: the e-mail address, phone or username.
        username: optional Username,
        /// `password`.
        password: optional PasswordField,
        /// `mfa`, `new_password`, `legal`: the login's challenge.
        challenge_id: optional Id,
        /// `mfa`: the factor answered (`totp`, `sms`, `email`, `recovery_code`).
        factor: optional Text,
        /// `mfa`: the factors the login offered (for the page again).
        factors: optional Text,
        /// `mfa`, `reset`: the code.
        code: optional Text,
        /// `new_password`, `reset`.
        new_password: optional PasswordField,
        /// `new_password`, `reset`: typed again.
        confirm_password: optional PasswordField,
        /// `legal`: the documents listed, `code:version,…` (for the page again).
        documents: optional Text,
        /// `legal`: `true` when ticked.
        terms_accepted: optional Text,
        /// `legal`: `true` when ticked.
        privacy_policy_accepted: optional Text,
        /// `forgot`, `reset`: the e-mail address of the account;
        /// `signup`: the new account's.
        email: optional Text,
        /// `signup_email`, `signup_phone`, `signup_sms`: the sign-up's
        /// registration, bound to the browser (`reg_….<mac>`, as the page
        /// gave it).
        registration_id: optional Text,
        /// `signup`.
        first_name: optional Text,
        /// `signup`.
        last_name: optional Text,
        /// `signup` (optional): `YYYY-MM-DD`.
        birth_date: optional Text,
        /// `signup` (tenants whose sign-up starts with the phone),
        /// `signup_phone`: E.164.
        phone: optional Text,
        /// `signup_email`, `signup_sms`: `true` sends a new code instead of
        /// checking one.
        resend: optional Text,
        /// `link`: the provider identity waiting for this account's proof.
        pending: optional Id,
        /// `link`: the provider's name (for the page again).
        provider_name: optional Text,
        /// `code_send`, `code`: where the code goes (`email`, `sms`).
        channel: optional Text,
        /// `passkey`: the ceremony of the page's request options.
        ceremony_id: optional Id,
        /// `passkey`: the JSON of the browser's assertion
        /// (`PublicKeyCredential.toJSON()` of `navigator.credentials.get()`).
        credential: optional Assertion,
    }
}

/// A checked authorization request: its client and tenant.
pub struct Flow {
    pub client: Client,
    pub tenant: Tenant,
    pub request: AuthorizationRequest,
    pub lang: &'static str,
}

/// What checking a request found.
pub(super) enum Checked {
    Flow(Box<Flow>),
    /// It cannot go back to the client: a page (400) with this message.
    Page(&'static str),
    /// It goes back to the client with an error (RFC 6749 §4.1.2.1).
    Refused {
        redirect_uri: String,
        error: &'static str,
        description: &'static str,
        state: Option<String>,
    },
}

/// The page's language: the first of `ui_locales` the tenant offers, else
/// `Accept-Language` among the tenant's languages.
pub(super) fn language(ctx: &Ctx<'_>, ui_locales: Option<&str>, tenant: Option<&Tenant>) -> &'static str {
    let offered: Vec<String> = tenant
        .map_or_else(|| LANGUAGES.iter().map(|l| (*l).to_owned()).collect(), |tenant| tenant.policy.languages.clone());
    for tag in ui_locales.unwrap_or_default().split_whitespace() {
        let primary = tag.split(['-', '_']).next().unwrap_or_default().to_ascii_lowercase();
        if let Some(lang) = LANGUAGES.iter().copied().find(|l| *l == primary && offered.iter().any(|o| o == l)) {
            return lang;
        }
    }
    negotiate_within(ctx.header("accept-language"), &offered)
}

/// Checks an authorization request given by `get` (the query of the GET,
/// or a form's hidden fields). First what decides whether an error may go
/// back to the client at all (the client, its redirect URI, exactly), then
/// the rest, whose errors go back there.
pub(super) async fn check(
    ctx: &Ctx<'_>,
    get: &(dyn Fn(&str) -> Option<String> + Sync),
    repeated: bool,
) -> Result<Checked, Problem> {
    let Some(client_id) = get("client_id").filter(|id| !id.is_empty() && id.len() <= 200) else {
        return Ok(Checked::Page("page-error-unknown_client"));
    };
    let Some((client, tenant)) = oauth::find_client(ctx.app, &client_id).await? else {
        return Ok(Checked::Page("page-error-unknown_client"));
    };
    let Some(redirect_uri) = get("redirect_uri").filter(|uri| client.redirect_uris.contains(uri)) else {
        return Ok(Checked::Page("page-error-invalid_redirect_uri"));
    };
    let state = get("state");
    let refuse = |error, description| {
        Ok(Checked::Refused { redirect_uri: redirect_uri.clone(), error, description, state: state.clone() })
    };
    if repeated {
        return refuse("invalid_request", "a parameter is given more than once");
    }
    if state.as_ref().is_some_and(|s| s.len() > MAX_PARAM) {
        return Ok(Checked::Refused {
            redirect_uri,
            error: "invalid_request",
            description: "state is too long",
            state: None,
        });
    }
    if get("response_type").as_deref() != Some("code") {
        return refuse("unsupported_response_type", "response_type must be code");
    }
    let scope = get("scope").unwrap_or_default();
    let scopes: Vec<String> = scope.split_whitespace().map(str::to_owned).collect();
    if !scopes.iter().any(|s| s == "openid") {
        return refuse("invalid_scope", "scope must contain openid");
    }
    if scopes.iter().any(|s| !SCOPES.contains(&s.as_str())) {
        return refuse("invalid_scope", "scope may hold openid, email, profile, phone, offline_access");
    }
    let Some(code_challenge) = get("code_challenge") else {
        return refuse("invalid_request", "code_challenge (PKCE) is required");
    };
    if get("code_challenge_method").as_deref() != Some("S256") {
        return refuse("invalid_request", "code_challenge_method must be S256");
    }
    if !oauth::codes::is_s256_challenge(&code_challenge) {
        return refuse("invalid_request", "code_challenge must be the base64url SHA-256 of the verifier");
    }
    let nonce = get("nonce");
    if nonce.as_ref().is_some_and(|n| n.is_empty() || n.len() > MAX_PARAM) {
        return refuse("invalid_request", "nonce must be 1 to 512 characters");
    }
    let prompt = get("prompt");
    if let Some(prompt) = &prompt {
        let values: Vec<&str> = prompt.split_whitespace().collect();
        let known = values.iter().all(|v| ["none", "login", "consent", "select_account"].contains(v));
        if !known || (values.contains(&"none") && values.len() > 1) {
            return refuse("invalid_request", "prompt may be none, or any of login, consent, select_account");
        }
    }
    let ui_locales = get("ui_locales").filter(|l| l.len() <= 100);
    let lang = language(ctx, ui_locales.as_deref(), Some(&tenant));
    let login_hint = get("login_hint").filter(|h| h.len() <= 320);
    let request = AuthorizationRequest {
        client_id,
        redirect_uri,
        scopes,
        state,
        nonce,
        code_challenge,
        prompt,
        login_hint,
        ui_locales,
    };
    Ok(Checked::Flow(Box::new(Flow { client, tenant, request, lang })))
}

/// `uri` with `pairs` added to its query.
fn with_query(uri: &str, pairs: &[(&str, &str)]) -> String {
    let mut query = form_urlencoded::Serializer::new(String::new());
    for (name, value) in pairs {
        query.append_pair(name, value);
    }
    let separator = if uri.contains('?') { '&' } else { '?' };
    format!("{uri}{separator}{}", query.finish())
}

/// An error sent back to the client (with `state` and `iss`, RFC 9207).
pub(super) fn refusal(
    ctx: &Ctx<'_>,
    status: StatusCode,
    redirect_uri: &str,
    error: &str,
    description: &str,
    state: Option<&str>,
) -> Result<Reply<String>, Problem> {
    let mut pairs = vec![("error", error), ("error_description", description)];
    if let Some(state) = state {
        pairs.push(("state", state));
    }
    pairs.push(("iss", &ctx.app.settings.issuer));
    Reply::redirect(status, &with_query(redirect_uri, &pairs))
}

/// A cookie of the hosted pages: HttpOnly, SameSite=Lax (the client's
/// top-level redirect to the authorize page carries it), Secure unless the
/// local run turned it off.
fn cookie(ctx: &Ctx<'_>, name: &str, value: &str, path: &str, max_age: i64) -> Option<HeaderValue> {
    let cookie = Cookie::build((name, value))
        .path(path)
        .max_age(cookie::time::Duration::seconds(max_age))
        .http_only(true)
        .secure(ctx.app.settings.secure_cookies)
        .same_site(SameSite::Lax)
        .build();
    HeaderValue::from_str(&cookie.to_string()).ok()
}

/// The `Set-Cookie` that removes the hosted session from the browser (the
/// signed-out page of `/oauth2/logout`).
pub fn end_hosted_session(ctx: &Ctx<'_>) -> Option<HeaderValue> {
    cookie(ctx, SESSION_COOKIE, "", "/oauth2", 0)
}

/// The browser cookie's name: `__Host-` (Secure, Path=/, no Domain) where
/// cookies are Secure; plain over the local API's http.
pub(super) fn browser_cookie_name(ctx: &Ctx<'_>) -> String {
    if ctx.app.settings.secure_cookies { format!("__Host-{BROWSER_COOKIE}") } else { BROWSER_COOKIE.to_owned() }
}

/// The browser's token (the cookie's, or a new one to set), and whether it
/// is new.
fn browser_token(ctx: &Ctx<'_>) -> (String, bool) {
    match ctx.cookie(&browser_cookie_name(ctx)).filter(|t| t.len() == 43) {
        Some(token) => (token, false),
        None => (ctx.app.random_token(32), true),
    }
}

/// The device id of the browser's sessions and challenges: derived from
/// its token (never the token itself, which is the CSRF secret).
pub(super) fn device_id(token: &str) -> String {
    let digest = Sha256::digest(format!("registrar-browser:{token}").as_bytes());
    format!("browser-{}", hex::encode(&digest[..12]))
}

pub(super) fn with_browser_cookie(ctx: &Ctx<'_>, reply: Reply<String>, token: &str, new: bool) -> Reply<String> {
    match cookie(ctx, &browser_cookie_name(ctx), token, "/", BROWSER_COOKIE_SECS).filter(|_| new) {
        Some(value) => reply.header(::http::header::SET_COOKIE, value),
        None => reply,
    }
}

/// A page of `flow`, with the browser cookie when it is new. Its forms
/// may lead to the client's redirect URI (the 303 at the end).
pub(super) fn page(
    ctx: &Ctx<'_>,
    flow: &Flow,
    status: StatusCode,
    html: String,
    token: &str,
    new: bool,
) -> Reply<String> {
    let target = csp_source(&flow.request.redirect_uri);
    with_browser_cookie(ctx, Reply::page_to(status, html, None, target.as_deref()), token, new)
}

/// The CSP source of a redirect URI: its origin (`https://app.example.com`,
/// `http://127.0.0.1:8080`), or its scheme for an app's own (`com.example.app:`).
pub(super) fn csp_source(uri: &str) -> Option<String> {
    let (scheme, rest) = uri.split_once(':')?;
    let scheme_ok =
        !scheme.is_empty() && scheme.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'-' || b == b'.');
    if !scheme_ok {
        return None;
    }
    if scheme != "http" && scheme != "https" {
        return Some(format!("{scheme}:"));
    }
    let authority = rest.strip_prefix("//")?.split(['/', '?', '#']).next()?;
    let authority = authority.rsplit('@').next()?;
    let ok = !authority.is_empty() && authority.bytes().all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b));
    ok.then(|| format!("{scheme}://{authority}"))
}

pub(super) fn error_page(_ctx: &Ctx<'_>, status: StatusCode, lang: &'static str, key: &str) -> Reply<String> {
    let branding = Branding::default();
    let frame = Frame { lang, branding: &branding, csrf: "", methods: &[], providers: &[] };
    Reply::page(status, views::error(&frame, key), None)
}

/// `GET /oauth2/authorize`
pub async fn authorize(ctx: &Ctx<'_>) -> Result<Reply<String>, Problem> {
    let query = ctx.query.clone();
    let repeated = query.iter().enumerate().any(|(i, (name, _))| query[..i].iter().any(|(n, _)| n == name));
    let get = |name: &str| query.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone());
    let fallback = language(ctx, get("ui_locales").as_deref(), None);
    let flow = match check(ctx, &get, repeated).await? {
        Checked::Flow(flow) => *flow,
        Checked::Page(key) => return Ok(error_page(ctx, StatusCode::BAD_REQUEST, fallback, key)),
        Checked::Refused { redirect_uri, error, description, state } => {
            return refusal(ctx, StatusCode::FOUND, &redirect_uri, error, description, state.as_deref());
        }
    };
    let (token, new) = browser_token(ctx);
    let prompts = flow.request.prompt.clone().unwrap_or_default();
    let forced = prompts.split_whitespace().any(|p| p == "login");
    if !forced && !new {
        let hosted = ctx.cookie(SESSION_COOKIE).as_deref().and_then(RefreshToken::parse);
        if let Some(hosted) = hosted {
            match sign_in_with_session(ctx.app, &flow.tenant, &hosted, &device_id(&token)).await {
                Ok(hosted) => return finish(ctx, &flow, hosted, StatusCode::FOUND).await,
                Err(Error::InvalidToken | Error::InvalidDevice) => {}
                Err(err) => return Err(err.into()),
            }
        }
    }
    if prompts.split_whitespace().any(|p| p == "none") {
        let state = flow.request.state.as_deref();
        let description = "no hosted session: the user must sign in";
        return refusal(ctx, StatusCode::FOUND, &flow.request.redirect_uri, "login_required", description, state);
    }
    if let Some(provider) = get("identity_provider") {
        return federation::to_provider(ctx, &flow, &provider, &token, new).await;
    }
    let methods = passwordless::offered(&flow.tenant);
    let frame = Frame::of(&flow, &token, &methods);
    let hint = flow.request.login_hint.clone().unwrap_or_default();
    // The sign-in page's links (the forgotten password, a code, a
    // passkey): the same request.
    let screen = get("screen").unwrap_or_default();
    let html = if screen == "forgot" {
        views::forgot(&frame, &flow.request, &hint, &Alert::default())
    } else if screen == "signup" {
        let values = signup_views::SignUpValues::default();
        signup_views::sign_up(&frame, &flow.request, &flow.tenant.policy, &values, &Alert::default())
    } else if screen == "code" || screen == "passkey" {
        return passwordless::screen(ctx, &flow, &frame, &screen, &hint, &token, new).await;
    } else {
        views::sign_in(&frame, &flow.request, &hint, &Alert::default(), None)
    };
    Ok(page(ctx, &flow, StatusCode::OK, html, &token, new))
}

/// The end of a sign-in: the code for the client, naming the session the
/// sign-in opened (or the hosted session just rotated), whose refresh token
/// the browser keeps as the hosted session; and the redirect. One session:
/// the client's logout ends what the browser holds too.
pub(super) async fn finish(
    ctx: &Ctx<'_>,
    flow: &Flow,
    tokens: Tokens,
    status: StatusCode,
) -> Result<Reply<String>, Problem> {
    let code = oauth::issue_code(ctx.app, &flow.tenant, &flow.client, &flow.request, &tokens).await?;
    let mut pairs = vec![("code", code.as_str())];
    if let Some(state) = &flow.request.state {
        pairs.push(("state", state));
    }
    pairs.push(("iss", &ctx.app.settings.issuer));
    let reply = Reply::redirect(status, &with_query(&flow.request.redirect_uri, &pairs))?;
    // The hosted session, and the device token a password sign-in earned
    // the browser (its own failure allowance at the next sign-in here).
    let mut cookies =
        Vec::from_iter(cookie(ctx, SESSION_COOKIE, &tokens.refresh_token, "/oauth2", tokens.refresh_expires_in));
    if let Some(device_token) = &tokens.device_token {
        cookies.extend(cookie(ctx, DEVICE_COOKIE, device_token, "/oauth2", DEVICE_COOKIE_SECS));
    }
    Ok(cookies.into_iter().fold(reply, |reply, value| reply.header(::http::header::SET_COOKIE, value)))
}

/// `POST /oauth2/authorize`: one step of the sign-in.
pub async fn hosted_sign_in(ctx: &Ctx<'_>) -> Result<Reply<String>, Problem> {
    // A page's answer, whatever came: a body that is not a form is an
    // empty one (no CSRF token: the 403 page), a form that repeats a field
    // is no step of this site's.
    let fields = Fields::parse_form(if ctx.form { ctx.body } else { b"" });
    let Ok(mut f) = fields else {
        return Ok(error_page(ctx, StatusCode::BAD_REQUEST, language(ctx, None, None), "page-error-step"));
    };
    let form = StepForm::read(&mut f, &Cx::of(ctx));
    let get = |name: &str| -> Option<String> {
        match name {
            "response_type" => form.response_type.clone(),
            "client_id" => form.client_id.clone(),
            "redirect_uri" => form.redirect_uri.clone(),
            "scope" => form.scope.clone(),
            "state" => form.state.clone(),
            "nonce" => form.nonce.clone(),
            "code_challenge" => form.code_challenge.clone(),
            "code_challenge_method" => form.code_challenge_method.clone(),
            "ui_locales" => form.ui_locales.clone(),
            _ => None,
        }
    };
    let fallback = language(ctx, form.ui_locales.as_deref(), None);
    // The CSRF token first: a form this site did not serve goes nowhere.
    let cookie_token = ctx.cookie(&browser_cookie_name(ctx)).filter(|t| t.len() == 43);
    let same = match (&cookie_token, &form.csrf) {
        (Some(cookie), Some(field)) => bool::from(cookie.as_bytes().ct_eq(field.as_bytes())),
        _ => false,
    };
    let Some(token) = cookie_token.filter(|_| same) else {
        return Ok(error_page(ctx, StatusCode::FORBIDDEN, fallback, "page-error-csrf"));
    };
    let flow = match check(ctx, &get, false).await? {
        Checked::Flow(flow) => *flow,
        Checked::Page(key) => return Ok(error_page(ctx, StatusCode::BAD_REQUEST, fallback, key)),
        Checked::Refused { redirect_uri, error, description, state } => {
            return refusal(ctx, StatusCode::SEE_OTHER, &redirect_uri, error, description, state.as_deref());
        }
    };
    let device = device_id(&token);
    let device_token = ctx.cookie(DEVICE_COOKIE);
    let origin = Origin { ip: &ctx.client_ip, device_id: &device, device_token: device_token.as_deref() };
    let challenge = form.challenge_id.as_deref().and_then(ChallengeId::parse);
    let methods = passwordless::offered(&flow.tenant);
    let frame = Frame::of(&flow, &token, &methods);
    let tenant = &flow.tenant;
    let step = form.step.as_deref().unwrap_or_default();
    if step == "forgot" || step == "reset" {
        let (html, status, retry_after) = forgotten_password(ctx, &flow, &frame, &form, step).await?;
        return Ok(reply(ctx, &flow, status, html, &token, retry_after));
    }
    if signup::STEPS.contains(&step) {
        return signup::step(ctx, &flow, &frame, &form, step, &token, &device).await;
    }
    if step == "link" {
        return match federation::link_step(ctx, &flow, &frame, &form, origin).await? {
            Ok(outcome) => match next_step(&frame, &flow.request, outcome) {
                Next::Tokens(tokens) => finish(ctx, &flow, *tokens, StatusCode::SEE_OTHER).await,
                Next::Page(html) => Ok(reply(ctx, &flow, StatusCode::OK, html, &token, None)),
            },
            Err((html, status, retry_after)) => Ok(reply(ctx, &flow, status, html, &token, retry_after)),
        };
    }
    if step == "code_send" {
        return passwordless::send_code(ctx, &flow, &frame, &form, origin).await;
    }
    // Each step, and how its page is shown again after an error.
    let outcome = match step {
        "password" => {
            let username = form.username.clone().unwrap_or_default();
            let password = Password::new(form.password.clone().unwrap_or_default());
            auth::login(ctx.app, tenant, &username, &password, origin).await
        }
        "mfa" => match &challenge {
            Some(id) => {
                let factor = form.factor.as_deref().and_then(Factor::parse);
                let code = form.code.clone().unwrap_or_default();
                auth::verify_mfa(ctx.app, tenant, id, factor, code.trim(), origin).await
            }
            None => Err(Error::InvalidCode),
        },
        "new_password" => match &challenge {
            Some(id) => {
                let new = form.new_password.clone().unwrap_or_default();
                let mut errors = password_errors(&tenant.policy.password, "new_password", &new, None);
                if form.confirm_password.as_deref() != Some(new.as_str()) {
                    errors.push(crate::domain::FieldError::new("confirm_password", "password_mismatch"));
                }
                if errors.is_empty() {
                    auth::complete_password_challenge(ctx.app, tenant, id, &Password::new(new), &device).await
                } else {
                    Err(Error::Validation(errors))
                }
            }
            None => Err(Error::ChallengeNotFound),
        },
        "legal" => match &challenge {
            Some(id) => {
                let accepted: Vec<&str> = [("terms", &form.terms_accepted), ("privacy", &form.privacy_policy_accepted)]
                    .into_iter()
                    .filter_map(|(code, ticked)| (ticked.as_deref() == Some("true")).then_some(code))
                    .collect();
                auth::accept_legal_documents(ctx.app, tenant, id, &accepted, &device).await
            }
            None => Err(Error::ChallengeNotFound),
        },
        "code" => passwordless::sign_in_with_code(ctx, tenant, &form, origin).await,
        "passkey" => passwordless::sign_in_with_passkey(ctx, tenant, &form, origin).await,
        _ => return Ok(error_page(ctx, StatusCode::BAD_REQUEST, flow.lang, "page-error-step")),
    };
    let (html, status, retry_after) = match outcome {
        Ok(outcome) => match next_step(&frame, &flow.request, outcome) {
            Next::Tokens(tokens) => return finish(ctx, &flow, *tokens, StatusCode::SEE_OTHER).await,
            Next::Page(html) => (html, StatusCode::OK, None),
        },
        Err(err) => {
            let (errors, status, retry_after) = alert_of(err, flow.lang)?;
            let challenge_text = form.challenge_id.clone().unwrap_or_default();
            let html = match step {
                "mfa" => {
                    let factors: Vec<Factor> =
                        form.factors.as_deref().unwrap_or_default().split(',').filter_map(Factor::parse).collect();
                    let channel = form.factor.as_deref().filter(|f| *f == "sms" || *f == "email");
                    views::second_factor(&frame, &flow.request, &challenge_text, &factors, channel, &errors)
                }
                "new_password" => views::new_password(&frame, &flow.request, &challenge_text, &errors),
                "legal" => {
                    let documents: Vec<(String, String)> = form
                        .documents
                        .as_deref()
                        .unwrap_or_default()
                        .split(',')
                        .filter_map(|d| d.split_once(':'))
                        .filter(|(code, _)| *code == "terms" || *code == "privacy")
                        .map(|(code, version)| (code.to_owned(), version.to_owned()))
                        .collect();
                    views::legal(&frame, &flow.request, &challenge_text, &documents, &errors)
                }
                "code" => passwordless::code_again(&frame, &flow, &form, &errors),
                "passkey" => {
                    // A new ceremony: the refused one is spent.
                    let challenge = challenge.as_ref();
                    return passwordless::passkey_page(
                        ctx,
                        &flow,
                        &frame,
                        &device,
                        challenge,
                        errors,
                        status,
                        retry_after,
                    )
                    .await;
                }
                _ => {
                    // The name is shown again; the password never is.
                    let username = form.username.clone().unwrap_or_default();
                    views::sign_in(&frame, &flow.request, &username, &errors, None)
                }
            };
            (html, status, retry_after)
        }
    };
    Ok(reply(ctx, &flow, status, html, &token, retry_after))
}

/// Where a login goes next: its tokens, or the page of its next step.
pub(super) enum Next {
    Tokens(Box<Tokens>),
    Page(String),
}

/// The page of a login's next step (the second factor, a new password,
/// the legal documents), or its tokens.
pub(super) fn next_step(frame: &Frame<'_>, request: &AuthorizationRequest, outcome: LoginOutcome) -> Next {
    let none = Alert::default();
    Next::Page(match outcome {
        LoginOutcome::Tokens(tokens) => return Next::Tokens(Box::new(tokens)),
        LoginOutcome::Mfa { challenge_id, factors, channel, .. } => {
            views::second_factor(frame, request, challenge_id.as_str(), &factors, channel, &none)
        }
        LoginOutcome::PasswordChange { challenge_id } => {
            views::new_password(frame, request, challenge_id.as_str(), &none)
        }
        LoginOutcome::LegalAcceptance { challenge_id, documents } => {
            let documents: Vec<(String, String)> =
                documents.into_iter().map(|d| (d.code.to_owned(), d.version)).collect();
            views::legal(frame, request, challenge_id.as_str(), &documents, &none)
        }
    })
}

/// A step's page, with `Retry-After` after a rate limit or the lock.
pub(super) fn reply(
    ctx: &Ctx<'_>,
    flow: &Flow,
    status: StatusCode,
    html: String,
    token: &str,
    retry_after: Option<u64>,
) -> Reply<String> {
    let mut reply = page(ctx, flow, status, html, token, false);
    if let Some(seconds) = retry_after {
        reply = reply.header(HeaderName::from_static("retry-after"), HeaderValue::from(seconds));
    }
    reply
}

/// A domain error as the page shows it: the alert, the status (429 for a
/// rate limit or the lock, else 400) and `Retry-After`; a server error
/// stays a problem.
pub(super) fn alert_of(err: Error, lang: &'static str) -> Result<(Alert, StatusCode, Option<u64>), Problem> {
    let problem = Problem::from(err);
    if problem.status.is_server_error() {
        return Err(problem);
    }
    let (detail, fields) = problem.messages(lang);
    let status = if problem.status == StatusCode::TOO_MANY_REQUESTS { problem.status } else { StatusCode::BAD_REQUEST };
    Ok((Alert { detail: Some(detail), fields }, status, problem.retry_after))
}

/// The steps of the forgotten password, as the API's
/// `POST /v1/auth/password/forgot` and `/reset` do them (the same domain
/// functions: their limits, tries and no-enumeration): `forgot` sends a
/// code if the address has an account and shows the reset page either way;
/// `reset` sets the new password with the code and shows the sign-in page,
/// the address filled in.
async fn forgotten_password(
    ctx: &Ctx<'_>,
    flow: &Flow,
    frame: &Frame<'_>,
    form: &StepForm<crate::http::body::Partial>,
    step: &str,
) -> Result<(String, StatusCode, Option<u64>), Problem> {
    let (tenant, request) = (&flow.tenant, &flow.request);
    let raw = form.email.clone().unwrap_or_default();
    let email = EmailAddress::parse(&raw)
        .map_err(|code| Error::Validation(vec![crate::domain::FieldError::new("email", code)]));
    if step == "forgot" {
        let sent = match email {
            Ok(email) => passwords::forgot_password(ctx.app, tenant, &email, &ctx.client_ip).await.map(|()| email),
            Err(err) => Err(err),
        };
        return Ok(match sent {
            Ok(email) => (views::reset(frame, request, email.as_str(), &Alert::default()), StatusCode::OK, None),
            Err(err) => {
                let (errors, status, retry_after) = alert_of(err, flow.lang)?;
                (views::forgot(frame, request, &raw, &errors), status, retry_after)
            }
        });
    }
    let new = form.new_password.clone().unwrap_or_default();
    let code = form.code.clone().unwrap_or_default();
    let done = match email {
        Ok(email) => {
            // The API's checks, in its order: the rules before the code.
            let mut errors = password_errors(&tenant.policy.password, "new_password", &new, Some(&email));
            if form.confirm_password.as_deref() != Some(new.as_str()) {
                errors.push(crate::domain::FieldError::new("confirm_password", "password_mismatch"));
            }
            if errors.is_empty() {
                let new = Password::new(new);
                passwords::reset_password(ctx.app, tenant, &email, code.trim(), &new, &ctx.client_ip)
                    .await
                    .map(|()| email)
            } else {
                Err(Error::Validation(errors))
            }
        }
        Err(err) => Err(err),
    };
    Ok(match done {
        Ok(email) => {
            let notice = crate::i18n::text(flow.lang, "page-reset-done", &[]);
            let html = views::sign_in(frame, request, email.as_str(), &Alert::default(), Some(&notice));
            (html, StatusCode::OK, None)
        }
        Err(err) => {
            let (errors, status, retry_after) = alert_of(err, flow.lang)?;
            (views::reset(frame, request, &raw, &errors), status, retry_after)
        }
    })
}
