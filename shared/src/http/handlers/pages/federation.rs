//! Sign-in with another identity provider on the hosted pages (SPEC §14,
//! docs/identity-providers.md). The sign-in page links to
//! `GET /oauth2/authorize?…&identity_provider=ID`, which keeps the app's
//! authorization request with a fresh `state`, `nonce` and PKCE verifier
//! (bound to the browser) and sends the browser to the provider. The
//! provider answers at `GET /oauth2/idpresponse` (or posts its form there,
//! as Apple does): the state is used once and must come back in the
//! browser that started it, the code is exchanged and the ID token checked
//! (`domain::federation`), and the login goes on as after any first factor
//! (a second factor, the legal documents of a new user), ending with the
//! app's own code. An identity whose verified address is an existing
//! account's is linked only after that account's password (step `link`).

use ::http::StatusCode;
use chrono::Duration;
use maud::html;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use super::views::{self, Alert, Frame};
use super::{
    Checked, Flow, Next, browser_cookie_name, check, device_id, error_page, finish, language, next_step, page, refusal,
    with_browser_cookie,
};
use crate::domain::Error;
use crate::domain::auth::Origin;
use crate::domain::auth::with_provider::{self, FederatedOutcome};
use crate::domain::federation;
use crate::domain::oauth::AuthorizationRequest;
use crate::domain::password::Password;
use crate::http::context::Ctx;
use crate::http::handlers::reply::DEVICE_COOKIE;
use crate::http::handlers::reply::Reply;
use crate::http::problem::Problem;
use crate::i18n::{Arg, text};
use crate::ports::Condition;
use crate::table::{self, FederationState, Record, federation_state_key, state_hash};

/// How long a sign-in at a provider may take.
const STATE_SECS: i64 = 10 * 60;

/// The authorization request as its GET parameters, kept with a sign-in
/// at a provider and checked again as it comes back.
fn request_params(request: &AuthorizationRequest) -> Value {
    let mut params = Map::new();
    let mut put = |name: &str, value: &str| {
        params.insert(name.to_owned(), Value::String(value.to_owned()));
    };
    put("response_type", "code");
    put("client_id", &request.client_id);
    put("redirect_uri", &request.redirect_uri);
    put("scope", &request.scopes.join(" "));
    put("code_challenge", &request.code_challenge);
    put("code_challenge_method", "S256");
    for (name, value) in [
        ("state", &request.state),
        ("nonce", &request.nonce),
        ("login_hint", &request.login_hint),
        ("ui_locales", &request.ui_locales),
    ] {
        if let Some(value) = value {
            put(name, value);
        }
    }
    Value::Object(params)
}

/// `GET /oauth2/authorize?identity_provider=ID`, the request checked: the
/// browser goes to the provider.
pub(super) async fn to_provider(
    ctx: &Ctx<'_>,
    flow: &Flow,
    id: &str,
    token: &str,
    new: bool,
) -> Result<Reply<String>, Problem> {
    let request = &flow.request;
    let Ok(provider) = federation::provider(&flow.tenant, id) else {
        let description = "identity_provider is none of the tenant's";
        return refusal(
            ctx,
            StatusCode::FOUND,
            &request.redirect_uri,
            "invalid_request",
            description,
            request.state.as_deref(),
        );
    };
    // Counted as a sign-in attempt from the caller's address, before the
    // provider's discovery is fetched or anything is stored.
    let device = device_id(token);
    let origin = Origin { ip: &ctx.client_ip, device_id: &device, device_token: None };
    if let Err(err) = with_provider::count_attempt(ctx.app, &flow.tenant, &origin).await {
        // The sign-in page with the limit's alert (and its Retry-After).
        let (errors, status, retry_after) = super::alert_of(err, flow.lang)?;
        let methods = super::passwordless::offered(&flow.tenant);
        let frame = Frame::of(flow, token, &methods);
        let hint = request.login_hint.clone().unwrap_or_default();
        let html = views::sign_in(&frame, request, &hint, &errors, None);
        return Ok(with_browser_cookie(ctx, super::reply(ctx, flow, status, html, token, retry_after), token, new));
    }
    let authorization = match federation::authorization(ctx.app, provider, request.login_hint.as_deref()).await {
        Ok(authorization) => authorization,
        Err(Error::Unavailable { reason, .. }) => {
            tracing::warn!(provider = %provider.id, %reason, "identity provider unavailable");
            return Ok(error_page(ctx, StatusCode::SERVICE_UNAVAILABLE, flow.lang, "page-idp-unavailable"));
        }
        Err(err) => return Err(err.into()),
    };
    let record = FederationState {
        hash: state_hash(&authorization.state),
        tenant_id: flow.tenant.id.clone(),
        provider: provider.id.clone(),
        nonce: authorization.nonce,
        code_verifier: authorization.code_verifier,
        device_id: device,
        request: Some(request_params(request)),
        link_user_id: None,
        return_to: None,
        expires_at: ctx.app.clock.now() + Duration::seconds(STATE_SECS),
    };
    table::commit(ctx.app.store.as_ref(), vec![record.put(Condition::NotExists).map_err(Error::from)?])
        .await
        .map_err(Error::from)?;
    let reply = Reply::redirect(StatusCode::FOUND, &authorization.url)?;
    Ok(with_browser_cookie(ctx, reply, token, new))
}

/// `GET /oauth2/idpresponse`: the provider's answer in the query.
pub async fn idp_response(ctx: &Ctx<'_>) -> Result<Reply<String>, Problem> {
    let fields = ctx.query.clone();
    answer(ctx, &fields, false).await
}

/// `POST /oauth2/idpresponse`: the provider's answer as a form (Apple's
/// `form_post`).
pub async fn idp_response_post(ctx: &Ctx<'_>) -> Result<Reply<String>, Problem> {
    let fields: Vec<(String, String)> =
        if ctx.form { form_urlencoded::parse(ctx.body).into_owned().collect() } else { Vec::new() };
    answer(ctx, &fields, true).await
}

/// The fields the provider's answer may carry, posted again by the
/// interstitial page.
const ANSWER_FIELDS: [&str; 5] = ["code", "state", "error", "error_description", "user"];

/// The one script of the interstitial page: it posts the form at once.
const RESUBMIT_SCRIPT: &str = "document.forms[0].submit();";

/// A provider's form post comes from its site, so the browser sends no
/// SameSite cookie with it: this page posts the same fields again from
/// here (at once with its script; its button without JavaScript), and the
/// browser's cookie comes along.
fn interstitial(ctx: &Ctx<'_>, fields: &[(String, String)]) -> Reply<String> {
    let lang = language(ctx, None, None);
    let branding = crate::domain::policy::Branding::default();
    let frame = Frame { lang, branding: &branding, csrf: "", methods: &[], providers: &[] };
    let kept: Vec<&(String, String)> = fields.iter().filter(|(n, _)| ANSWER_FIELDS.contains(&n.as_str())).collect();
    let body = html! {
        form method="post" action="/oauth2/idpresponse" {
            @for (name, value) in &kept { input type="hidden" name=(name) value=(value); }
            input type="hidden" name="resubmitted" value="true";
            button type="submit" { (frame.t("page-submit-continue")) }
        }
        script { (maud::PreEscaped(RESUBMIT_SCRIPT)) }
    };
    let html = views::layout(&frame, &frame.t("page-idp-continue-title"), body);
    let hash = format!(
        "sha256-{}",
        base64::Engine::encode(&base64::engine::general_purpose::STANDARD, Sha256::digest(RESUBMIT_SCRIPT))
    );
    Reply::page(StatusCode::OK, html, Some(&hash))
}

async fn answer(ctx: &Ctx<'_>, fields: &[(String, String)], posted: bool) -> Result<Reply<String>, Problem> {
    let get = |name: &str| fields.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone());
    let fallback = language(ctx, None, None);
    let cookie_token = ctx.cookie(&browser_cookie_name(ctx)).filter(|t| t.len() == 43);
    if posted && cookie_token.is_none() && get("resubmitted").is_none() {
        return Ok(interstitial(ctx, fields));
    }
    let bad = |key: &str| Ok(error_page(ctx, StatusCode::BAD_REQUEST, fallback, key));
    let Some(state) = get("state").filter(|s| !s.is_empty() && s.len() <= 512) else {
        return bad("page-error-idp_state");
    };
    // Used once: read, then deleted at the version read.
    let key = federation_state_key(&state);
    let Some((record, version)) =
        table::get::<FederationState>(ctx.app.store.as_ref(), &key).await.map_err(Error::from)?
    else {
        return bad("page-error-idp_state");
    };
    match ctx.app.store.delete(&key, Condition::Version(version)).await {
        Ok(()) => {}
        Err(crate::ports::StoreError::ConditionFailed { .. }) => return bad("page-error-idp_state"),
        Err(err) => return Err(Error::from(err).into()),
    }
    if record.expires_at <= ctx.app.clock.now() {
        return bad("page-error-idp_state");
    }
    // The browser that went to the provider, and no other: a state (and
    // its code) sent to someone else's browser signs nobody in there.
    let Some(token) = cookie_token.filter(|t| device_id(t) == record.device_id) else {
        return bad("page-error-idp_browser");
    };
    let params = record.request.clone().unwrap_or_default();
    let param = |name: &str| params.get(name).and_then(Value::as_str).map(str::to_owned);
    let flow = match check(ctx, &param, false).await? {
        Checked::Flow(flow) if flow.tenant.id == record.tenant_id => *flow,
        Checked::Flow(_) | Checked::Page(_) => return bad("page-error-idp_state"),
        Checked::Refused { redirect_uri, error, description, state } => {
            return refusal(ctx, StatusCode::SEE_OTHER, &redirect_uri, error, description, state.as_deref());
        }
    };
    let methods = super::passwordless::offered(&flow.tenant);
    let frame = Frame::of(&flow, &token, &methods);
    let status = if posted { StatusCode::SEE_OTHER } else { StatusCode::FOUND };
    let again = |key: &str, status: StatusCode| {
        let errors = Alert { detail: Some(frame.t(key)), fields: Vec::new() };
        let hint = flow.request.login_hint.clone().unwrap_or_default();
        Ok(page(ctx, &flow, status, views::sign_in(&frame, &flow.request, &hint, &errors, None), &token, false))
    };
    if get("error").is_some() {
        return again("page-idp-cancelled", StatusCode::BAD_REQUEST);
    }
    let (Ok(provider), Some(code)) = (federation::provider(&flow.tenant, &record.provider), get("code")) else {
        return again("page-idp-failed", StatusCode::BAD_REQUEST);
    };
    let device = device_id(&token);
    let device_token = ctx.cookie(DEVICE_COOKIE);
    let origin = Origin { ip: &ctx.client_ip, device_id: &device, device_token: device_token.as_deref() };
    if let Err(err) = with_provider::count_attempt(ctx.app, &flow.tenant, &origin).await {
        let (errors, status, retry_after) = super::alert_of(err, flow.lang)?;
        let hint = flow.request.login_hint.clone().unwrap_or_default();
        let html = views::sign_in(&frame, &flow.request, &hint, &errors, None);
        return Ok(super::reply(ctx, &flow, status, html, &token, retry_after));
    }
    let mut identity = match federation::redeem(ctx.app, provider, &code, &record.code_verifier, &record.nonce).await {
        Ok(identity) => identity,
        Err(Error::InvalidIdToken) => return again("page-idp-failed", StatusCode::UNAUTHORIZED),
        Err(Error::Unavailable { reason, .. }) => {
            tracing::warn!(provider = %provider.id, %reason, "identity provider unavailable");
            return Ok(error_page(ctx, StatusCode::SERVICE_UNAVAILABLE, flow.lang, "page-idp-unavailable"));
        }
        Err(err) => return Err(err.into()),
    };
    // Apple names the user once, in the form it posts (not in the token).
    if let Some(user) = get("user").and_then(|u| serde_json::from_str::<Value>(&u).ok()) {
        let name = |part: &str| {
            user["name"][part].as_str().map(str::trim).filter(|n| !n.is_empty() && n.chars().count() <= 100)
        };
        identity.given_name = identity.given_name.or_else(|| name("firstName").map(str::to_owned));
        identity.family_name = identity.family_name.or_else(|| name("lastName").map(str::to_owned));
    }
    let outcome = with_provider::sign_in_with_identity(ctx.app, &flow.tenant, &identity, flow.lang, origin).await;
    match outcome {
        Ok(FederatedOutcome::Login(outcome)) => match next_step(&frame, &flow.request, outcome) {
            Next::Tokens(tokens) => finish(ctx, &flow, *tokens, status).await,
            Next::Page(html) => Ok(page(ctx, &flow, StatusCode::OK, html, &token, false)),
        },
        Ok(FederatedOutcome::LinkRequired(user)) => {
            let request = Some(request_params(&flow.request));
            let pending =
                with_provider::keep_pending(ctx.app, &flow.tenant, &identity, &user, &device, request).await?;
            let email = user.email.as_ref().map(ToString::to_string).unwrap_or_default();
            let html = link(&frame, &flow.request, &pending, &email, &provider.label(), &Alert::default());
            Ok(page(ctx, &flow, StatusCode::OK, html, &token, false))
        }
        Err(err) => {
            let (errors, status, _) = super::alert_of(err, flow.lang)?;
            let hint = flow.request.login_hint.clone().unwrap_or_default();
            Ok(page(ctx, &flow, status, views::sign_in(&frame, &flow.request, &hint, &errors, None), &token, false))
        }
    }
}

/// The page that links a provider's identity to the existing account of
/// `email` once its password is given.
pub(super) fn link(
    frame: &Frame<'_>,
    request: &AuthorizationRequest,
    pending: &str,
    email: &str,
    provider: &str,
    errors: &Alert,
) -> String {
    let intro =
        text(frame.lang, "page-idp-link-intro", &[("email", Arg::Str(email)), ("provider", Arg::Str(provider))]);
    let body = html! {
        (views::alert(errors))
        p { (intro) }
        form method="post" action="/oauth2/authorize" {
            (views::hidden(frame, request, "link"))
            input type="hidden" name="pending" value=(pending);
            input type="hidden" name="email" value=(email);
            input type="hidden" name="provider_name" value=(provider);
            input type="hidden" name="username" value=(email) autocomplete="username";
            label for="password" { (frame.t("page-password")) }
            input #password type="password" name="password" autocomplete="current-password" required autofocus;
            button type="submit" { (frame.t("page-idp-link-submit")) }
        }
    };
    views::layout(frame, &frame.t("page-idp-link-title"), body)
}

/// Step `link`: the account's password proves it; the identity is linked
/// and the login goes on where the password leads. A wrong password shows
/// the page again (the lockout and its answers are the login's).
pub(super) async fn link_step(
    ctx: &Ctx<'_>,
    flow: &Flow,
    frame: &Frame<'_>,
    form: &super::StepForm<crate::http::body::Partial>,
    origin: Origin<'_>,
) -> Result<Result<crate::domain::auth::LoginOutcome, (String, StatusCode, Option<u64>)>, Problem> {
    let pending = form.pending.clone().unwrap_or_default();
    let password = Password::new(form.password.clone().unwrap_or_default());
    match with_provider::prove_and_link(ctx.app, &flow.tenant, &pending, &password, origin).await {
        Ok(outcome) => Ok(Ok(outcome)),
        Err(err) => {
            let (errors, status, retry_after) = super::alert_of(err, flow.lang)?;
            let email = form.email.clone().unwrap_or_default();
            let provider = form.provider_name.clone().unwrap_or_default();
            Ok(Err((link(frame, &flow.request, &pending, &email, &provider, &errors), status, retry_after)))
        }
    }
}
