//! Signing in on the hosted pages without a password (docs/hosted-pages.md),
//! through the domain functions of the API's routes, with their limits and
//! no-enumeration:
//!
//! - a code (policy `sign_in_methods`: `email_code`, `sms_code`): the
//!   sign-in page links to `screen=code`, whose form (`step=code_send`)
//!   calls the domain function of `POST /v1/auth/code/send` and shows the
//!   code's page whether or not the name has an account; its form
//!   (`step=code`) calls that of `POST /v1/auth/code`, and the login goes on
//!   as after a password (the second factor, a new password, legal
//!   documents, the code for the client);
//! - a passkey (`passkey`, with the tenant's `passkeys.rp_id`): the sign-in
//!   page links to `screen=passkey`, whose page embeds the request options of
//!   `POST /v1/auth/passkey/options` (a ceremony bound to the browser's
//!   device id) and the one script that asks the browser for the assertion
//!   and posts it (`step=passkey`) to the domain function of
//!   `POST /v1/auth/passkey`. The second factor's page links there too,
//!   with the login's `challenge_id`, when the login offers a passkey: the
//!   ceremony answers that challenge.

use ::http::{HeaderName, HeaderValue, StatusCode};

use super::passwordless_views as views;
use super::views::{Alert, Frame};
use super::{Flow, StepForm, alert_of, csp_source, with_browser_cookie};
use crate::domain::auth::{self, LoginOutcome, Origin};
use crate::domain::ids::ChallengeId;
use crate::domain::policy::{Factor, SignInMethod};
use crate::domain::tenant::Tenant;
use crate::domain::{Error, FieldError};
use crate::http::body::Partial;
use crate::http::context::Ctx;
use crate::http::handlers::reply::Reply;
use crate::http::problem::Problem;

/// The ways besides the password the tenant's sign-in page offers: the
/// code methods it enables, and the passkey when it enables it and names a
/// relying party.
pub(super) fn offered(tenant: &Tenant) -> Vec<SignInMethod> {
    let policy = &tenant.policy;
    [SignInMethod::EmailCode, SignInMethod::SmsCode, SignInMethod::Passkey]
        .into_iter()
        .filter(|m| policy.allows_sign_in(*m))
        .filter(|m| *m != SignInMethod::Passkey || policy.passkeys.rp_id.is_some())
        .collect()
}

/// The channels the code page offers, in the tenant's order of methods.
fn channels(frame: &Frame<'_>) -> Vec<&'static str> {
    frame
        .methods
        .iter()
        .filter_map(|m| match m {
            SignInMethod::EmailCode => Some("email"),
            SignInMethod::SmsCode => Some("sms"),
            _ => None,
        })
        .collect()
}

/// `GET /oauth2/authorize?screen=code|passkey`: the code's request or the
/// passkey's page (with `challenge_id`: the passkey as a login's second
/// factor); the sign-in page when the tenant does not offer it.
pub(super) async fn screen(
    ctx: &Ctx<'_>,
    flow: &Flow,
    frame: &Frame<'_>,
    screen: &str,
    hint: &str,
    token: &str,
    new: bool,
) -> Result<Reply<String>, Problem> {
    let offered = |method: SignInMethod| frame.methods.contains(&method);
    if screen == "code" && (offered(SignInMethod::EmailCode) || offered(SignInMethod::SmsCode)) {
        let html = views::code_request(frame, &flow.request, hint, &channels(frame), &Alert::default());
        return Ok(with_browser_cookie(ctx, page(flow, StatusCode::OK, html, false, None), token, new));
    }
    let challenge = ctx.query.iter().find(|(n, _)| n == "challenge_id").and_then(|(_, v)| ChallengeId::parse(v));
    if screen == "passkey" && (offered(SignInMethod::Passkey) || challenge.is_some()) {
        let device = super::device_id(token);
        let (errors, status) = (Alert::default(), StatusCode::OK);
        let reply = passkey_page(ctx, flow, frame, &device, challenge.as_ref(), errors, status, None).await?;
        return Ok(with_browser_cookie(ctx, reply, token, new));
    }
    let html = super::views::sign_in(frame, &flow.request, hint, &Alert::default(), None);
    Ok(with_browser_cookie(ctx, page(flow, StatusCode::OK, html, false, None), token, new))
}

/// A page of `flow` (the CSP's `form-action` lets it reach the client's
/// redirect URI), with the passkey's script allowed by its hash when
/// `script`, and `Retry-After` after a limit.
fn page(flow: &Flow, status: StatusCode, html: String, script: bool, retry_after: Option<u64>) -> Reply<String> {
    let target = csp_source(&flow.request.redirect_uri);
    let hash = script.then(views::passkey_script_hash);
    let mut reply = Reply::page_to(status, html, hash.as_deref(), target.as_deref());
    if let Some(seconds) = retry_after {
        reply = reply.header(HeaderName::from_static("retry-after"), HeaderValue::from(seconds));
    }
    reply
}

/// The passkey's page with a new ceremony (of `POST /v1/auth/passkey/options`,
/// bound to the browser's device id; for the login's `challenge` when it
/// answers a second factor), `errors` above it. A refused ceremony (a
/// limit, a challenge gone or without a passkey) shows the sign-in page
/// with its alert.
#[allow(clippy::too_many_arguments)]
pub(super) async fn passkey_page(
    ctx: &Ctx<'_>,
    flow: &Flow,
    frame: &Frame<'_>,
    device: &str,
    challenge: Option<&ChallengeId>,
    errors: Alert,
    status: StatusCode,
    retry_after: Option<u64>,
) -> Result<Reply<String>, Problem> {
    let origin = Origin { ip: &ctx.client_ip, device_id: device, device_token: None };
    match auth::passkey_options(ctx.app, &flow.tenant, challenge, origin).await {
        Ok((ceremony_id, public_key)) => {
            let options = serde_json::to_string(&without_nulls(public_key)).unwrap_or_default();
            let challenge = challenge.map(ChallengeId::as_str);
            let html = views::passkey(frame, &flow.request, &ceremony_id, challenge, &options, &errors);
            Ok(page(flow, status, html, true, retry_after))
        }
        Err(err) => {
            let (errors, status, retry_after) = alert_of(err, flow.lang)?;
            let html = super::views::sign_in(frame, &flow.request, "", &errors, None);
            Ok(page(flow, status, html, false, retry_after))
        }
    }
}

/// The options as `PublicKeyCredential.parseRequestOptionsFromJSON` takes
/// them: members that are `null` left out.
fn without_nulls(value: serde_json::Value) -> serde_json::Value {
    match value {
        serde_json::Value::Object(map) => {
            map.into_iter().filter(|(_, v)| !v.is_null()).map(|(k, v)| (k, without_nulls(v))).collect()
        }
        serde_json::Value::Array(items) => items.into_iter().map(without_nulls).collect(),
        other => other,
    }
}

/// The channel a form names (`email`, `sms`), if any; another is refused.
fn channel_of(form: &StepForm<Partial>) -> Result<Option<Factor>, Error> {
    match form.channel.as_deref().filter(|c| !c.is_empty()) {
        None => Ok(None),
        Some("email") => Ok(Some(Factor::Email)),
        Some("sms") => Ok(Some(Factor::Sms)),
        Some(_) => Err(Error::Validation(vec![FieldError::new("channel", "invalid_choice")])),
    }
}

/// `step=code_send`: a sign-in code for the name, by the domain function
/// of `POST /v1/auth/code/send` (its limits, its decoys): the code's page
/// whether or not the name has an account; the request's page again with
/// the alert after an error (429 with `Retry-After` for a limit).
pub(super) async fn send_code(
    ctx: &Ctx<'_>,
    flow: &Flow,
    frame: &Frame<'_>,
    form: &StepForm<Partial>,
    origin: Origin<'_>,
) -> Result<Reply<String>, Problem> {
    let username = form.username.clone().unwrap_or_default();
    let channel = form.channel.as_deref().filter(|c| *c == "email" || *c == "sms");
    let sent = match channel_of(form) {
        Ok(_) if username.trim().is_empty() => Err(Error::Validation(vec![FieldError::new("username", "required")])),
        Ok(asked) => auth::send_sign_in_code(ctx.app, &flow.tenant, username.trim(), asked, origin).await,
        Err(err) => Err(err),
    };
    Ok(match sent {
        Ok(()) => {
            let html = views::code_entry(frame, &flow.request, username.trim(), channel, &Alert::default());
            page(flow, StatusCode::OK, html, false, None)
        }
        Err(err) => {
            let (errors, status, retry_after) = alert_of(err, flow.lang)?;
            let html = views::code_request(frame, &flow.request, &username, &channels(frame), &errors);
            page(flow, status, html, false, retry_after)
        }
    })
}

/// `step=code`: the login by the code sent, as `POST /v1/auth/code`.
pub(super) async fn sign_in_with_code(
    ctx: &Ctx<'_>,
    tenant: &Tenant,
    form: &StepForm<Partial>,
    origin: Origin<'_>,
) -> Result<LoginOutcome, Error> {
    let username = form.username.clone().unwrap_or_default();
    let code = form.code.clone().unwrap_or_default();
    auth::sign_in_with_code(ctx.app, tenant, username.trim(), code.trim(), origin).await
}

/// `step=code` refused: the code's page again, with the alert.
pub(super) fn code_again(frame: &Frame<'_>, flow: &Flow, form: &StepForm<Partial>, errors: &Alert) -> String {
    let username = form.username.clone().unwrap_or_default();
    let channel = form.channel.as_deref().filter(|c| *c == "email" || *c == "sms");
    views::code_entry(frame, &flow.request, &username, channel, errors)
}

/// `step=passkey`: the assertion the page's script posted (the JSON of
/// `PublicKeyCredential.toJSON()`), as `POST /v1/auth/passkey`. A field
/// that is no JSON object is refused by the domain as any bad assertion.
pub(super) async fn sign_in_with_passkey(
    ctx: &Ctx<'_>,
    tenant: &Tenant,
    form: &StepForm<Partial>,
    origin: Origin<'_>,
) -> Result<LoginOutcome, Error> {
    let ceremony_id = form.ceremony_id.clone().unwrap_or_default();
    let credential = form
        .credential
        .as_deref()
        .and_then(|text| serde_json::from_str::<serde_json::Value>(text).ok())
        .filter(serde_json::Value::is_object)
        .unwrap_or_else(|| serde_json::json!({}));
    auth::sign_in_with_passkey(ctx.app, tenant, &ceremony_id, credential, origin).await
}
