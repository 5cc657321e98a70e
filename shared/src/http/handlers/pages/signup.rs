//! The hosted sign-up (SPEC §13: "sign-up, the same steps as the API";
//! docs/hosted-pages.md): the sign-in page links to `GET /oauth2/authorize`
//! with `screen=signup`, whose form starts a registration; then a page per
//! step the registration names next, until it completes and the flow ends
//! as a sign-in does (the code for the client, the hosted session).
//!
//! Each step reads its form with the API's own readers
//! (`registration::read_sign_up`, `read_phone`, `CodeBody`) and calls the
//! API's domain functions (`domain::registration`), so the tenant's rules,
//! limits, code tries and no-enumeration (a taken address gets the same
//! pages, and its code never verifies) are the API's. The registration id
//! travels as a hidden field, bound to the browser (its device id) by a
//! MAC: worth nothing in another browser, as the login's challenge.

use ::http::StatusCode;
use serde_json::{Map, Value};
use subtle::ConstantTimeEq;

use super::signup_views::{self, SignUpValues};
use super::views::{self, Alert, Frame};
use super::{Flow, StepForm, finish, reply};
use crate::app::App;
use crate::domain::codes::hash_code;
use crate::domain::ids::RegistrationId;
use crate::domain::registration::{self, Channel, Verified};
use crate::domain::tenant::SignUpStart;
use crate::domain::user::Tokens;
use crate::domain::{Error, Step};
use crate::http::body::{Cx, Partial};
use crate::http::context::Ctx;
use crate::http::handlers::registration::{CodeBody, read_phone, read_sign_up};
use crate::http::handlers::reply::Reply;
use crate::http::input::Fields;
use crate::http::problem::Problem;
use crate::i18n::text;

/// The steps of the sign-up (`step`): the first one's form, the e-mail's
/// code, the phone to add, the SMS code. A code's form with `resend` sends
/// a new code instead.
pub(super) const STEPS: [&str; 4] = ["signup", "signup_email", "signup_phone", "signup_sms"];

/// Where a step led.
enum Next {
    /// The registration's next step, with a notice to show on its page.
    Step(Step, Option<&'static str>),
    /// The registration started (its id), and its first step.
    Started(String, Step),
    /// The sign-up is complete: its session.
    Done(Tokens),
}

/// `POST /oauth2/authorize` with one of [`STEPS`]: the step through the
/// API's domain function, then the next step's page, the same page again
/// with the error in its alert (429 with `Retry-After` for a limit), or
/// the end of the flow.
pub(super) async fn step(
    ctx: &Ctx<'_>,
    flow: &Flow,
    frame: &Frame<'_>,
    form: &StepForm<Partial>,
    step: &str,
    token: &str,
    device: &str,
) -> Result<Reply<String>, Problem> {
    let (tenant, request) = (&flow.tenant, &flow.request);
    let cx = Cx::within(ctx.app, Some(tenant));
    let id_text = form.registration_id.clone().unwrap_or_default();
    let id = registration_of(ctx.app, &id_text, device);
    let resend = form.resend.as_deref() == Some("true");
    let outcome: Result<Next, Problem> = match step {
        "signup" => {
            let sign_up = read_sign_up(Fields::of(sign_up_fields(form)), tenant, &cx, flow.lang, None);
            match sign_up {
                Ok(sign_up) => registration::start(ctx.app, tenant, sign_up, &ctx.client_ip)
                    .await
                    .map(|started| Next::Started(started.registration_id, started.next))
                    .map_err(Problem::from),
                Err(problem) => Err(problem),
            }
        }
        "signup_phone" => {
            let mut fields = Map::new();
            if let Some(phone) = form.phone.as_deref().map(str::trim).filter(|p| !p.is_empty()) {
                fields.insert("phone".into(), Value::String(phone.to_owned()));
            }
            match (id, read_phone(Fields::of(fields), &cx)) {
                (Ok(id), Ok(phone)) => registration::add_phone(ctx.app, tenant, &id, phone)
                    .await
                    .map(|next| Next::Step(next, None))
                    .map_err(Problem::from),
                (Err(err), _) => Err(err.into()),
                (_, Err(problem)) => Err(problem),
            }
        }
        _ => {
            let channel = if step == "signup_sms" { Channel::Sms } else { Channel::Email };
            match id {
                Ok(id) if resend => registration::resend(ctx.app, tenant, &id, channel)
                    .await
                    .map(|next| Next::Step(next, Some("page-signup-resent")))
                    .map_err(Problem::from),
                Ok(id) => match read_code(form, &cx) {
                    Ok(code) => {
                        let verified = match channel {
                            Channel::Email => {
                                registration::verify_email(ctx.app, tenant, &id, &code, Some(device)).await
                            }
                            Channel::Sms => registration::verify_phone(ctx.app, tenant, &id, &code, Some(device)).await,
                        };
                        verified
                            .map(|verified| match verified {
                                Verified::Next(next) => Next::Step(next, None),
                                Verified::Completed(tokens) => Next::Done(tokens),
                            })
                            .map_err(Problem::from)
                    }
                    Err(problem) => Err(problem),
                },
                Err(err) => Err(err.into()),
            }
        }
    };
    let (html, status, retry_after) = match outcome {
        Ok(Next::Done(tokens)) => return finish(ctx, flow, tokens, StatusCode::SEE_OTHER).await,
        Ok(Next::Started(id, next)) => {
            let id = bound(ctx.app, &id, device)?;
            (next_page(frame, flow, next, &id, None), StatusCode::OK, None)
        }
        Ok(Next::Step(next, notice)) => {
            let notice = notice.map(|key| text(flow.lang, key, &[]));
            (next_page(frame, flow, next, &id_text, notice.as_deref()), StatusCode::OK, None)
        }
        Err(problem) if resumable(&problem).is_some() => {
            // A send failed (SES or SNS down): the registration is there,
            // as before the send; its code's page, whose resend resumes it
            // (the API's `resume_with: resend`).
            let id = match step {
                "signup" => bound(ctx.app, resumable(&problem).unwrap_or_default(), device)?,
                _ => id_text.clone(),
            };
            let channel = match step {
                "signup" if tenant.policy.sign_up_starts_with == SignUpStart::Phone => Channel::Sms,
                "signup_phone" => Channel::Sms,
                "signup_sms" if resend => Channel::Sms,
                _ => Channel::Email,
            };
            let (detail, _) = problem.messages(flow.lang);
            let errors = Alert { detail: Some(detail), fields: Vec::new() };
            let html = signup_views::code(frame, request, &id, channel, &errors, None);
            (html, problem.status, problem.retry_after)
        }
        Err(problem) => {
            let (errors, status, retry_after) = alert_of(problem, flow.lang)?;
            let html = match step {
                "signup" => signup_views::sign_up(frame, request, &tenant.policy, &values(form), &errors),
                "signup_phone" => {
                    let phone = form.phone.clone().unwrap_or_default();
                    signup_views::add_phone(frame, request, &id_text, &phone, &errors)
                }
                "signup_sms" => signup_views::code(frame, request, &id_text, Channel::Sms, &errors, None),
                _ => signup_views::code(frame, request, &id_text, Channel::Email, &errors, None),
            };
            (html, status, retry_after)
        }
    };
    Ok(reply(ctx, flow, status, html, token, retry_after))
}

/// The registration a failed send left to resume with a resend, if the
/// problem is one.
fn resumable(problem: &Problem) -> Option<&str> {
    if problem.status != StatusCode::SERVICE_UNAVAILABLE
        || problem.extensions.get("resume_with").and_then(Value::as_str) != Some("resend")
    {
        return None;
    }
    problem.extensions.get("registration_id").and_then(Value::as_str)
}

/// The page of the registration's `next` step.
fn next_page(frame: &Frame<'_>, flow: &Flow, next: Step, id: &str, notice: Option<&str>) -> String {
    let request = &flow.request;
    match next {
        Step::VerifyEmail => signup_views::code(frame, request, id, Channel::Email, &Alert::default(), notice),
        Step::VerifyPhone => signup_views::code(frame, request, id, Channel::Sms, &Alert::default(), notice),
        Step::AddPhone => signup_views::add_phone(frame, request, id, "", &Alert::default()),
        // Completed already (its session went to the browser that did it):
        // the user signs in.
        Step::Done => {
            let notice = text(flow.lang, "page-signup-done", &[]);
            views::sign_in(frame, request, "", &Alert::default(), Some(&notice))
        }
    }
}

/// The fields of the first step, as the API's body has them: an empty
/// input is no value (a browser sends every input), a ticked checkbox is
/// `true` and one left empty `false` (not accepted).
fn sign_up_fields(form: &StepForm<Partial>) -> Map<String, Value> {
    let mut fields = Map::new();
    for (name, value) in [
        ("email", &form.email),
        ("phone", &form.phone),
        ("password", &form.password),
        ("confirm_password", &form.confirm_password),
        ("username", &form.username),
        ("first_name", &form.first_name),
        ("last_name", &form.last_name),
        ("birth_date", &form.birth_date),
    ] {
        if let Some(value) = value.as_deref().filter(|v| !v.is_empty()) {
            fields.insert(name.into(), Value::String(value.to_owned()));
        }
    }
    for (name, ticked) in
        [("terms_accepted", &form.terms_accepted), ("privacy_policy_accepted", &form.privacy_policy_accepted)]
    {
        fields.insert(name.into(), Value::Bool(ticked.as_deref() == Some("true")));
    }
    fields
}

/// The first step's values, to show again (never the passwords).
fn values(form: &StepForm<Partial>) -> SignUpValues {
    let value = |field: &Option<String>| field.clone().unwrap_or_default();
    SignUpValues {
        email: value(&form.email),
        phone: value(&form.phone),
        username: value(&form.username),
        first_name: value(&form.first_name),
        last_name: value(&form.last_name),
        birth_date: value(&form.birth_date),
    }
}

/// The code of a code's form, read as the API's `CodeBody` (the tenant's
/// length and digits: a malformed code spends no try); spaces around it
/// (pasted) do not count.
fn read_code(form: &StepForm<Partial>, cx: &Cx) -> Result<String, Problem> {
    let mut fields = Map::new();
    if let Some(code) = form.code.as_deref().map(str::trim).filter(|c| !c.is_empty()) {
        fields.insert("code".into(), Value::String(code.to_owned()));
    }
    let mut f = Fields::of(fields);
    let read = CodeBody::read(&mut f, cx);
    Ok(CodeBody::complete(f, read)?.code)
}

/// A refused step as its page shows it: the alert (each field's message
/// after the field's label), the status (429 for a limit, else 400) and
/// `Retry-After`; a server error stays a problem.
fn alert_of(problem: Problem, lang: &'static str) -> Result<(Alert, StatusCode, Option<u64>), Problem> {
    if problem.status.is_server_error() {
        return Err(problem);
    }
    let (detail, messages) = problem.messages(lang);
    let fields = problem
        .errors
        .iter()
        .zip(messages)
        .map(|(error, message)| match label(&error.field) {
            Some(key) => format!("{}: {message}", text(lang, key, &[])),
            None => message,
        })
        .collect();
    let status = if problem.status == StatusCode::TOO_MANY_REQUESTS { problem.status } else { StatusCode::BAD_REQUEST };
    Ok((Alert { detail: Some(detail), fields }, status, problem.retry_after))
}

/// The label of a field of the sign-up's forms.
fn label(field: &str) -> Option<&'static str> {
    Some(match field {
        "email" => "page-email",
        "phone" | "phone_prefix" | "phone_number" => "page-phone",
        "username" => "page-signup-username",
        "first_name" => "page-first-name",
        "last_name" => "page-last-name",
        "birth_date" => "page-birth-date",
        "password" => "page-password",
        "confirm_password" => "page-signup-confirm-password",
        "terms_accepted" => "page-signup-terms",
        "privacy_policy_accepted" => "page-signup-privacy",
        "code" => "page-code",
        _ => return None,
    })
}

/// The MAC that binds a registration id to a browser's device id.
fn binding(app: &App, id: &str, device: &str) -> Result<String, Error> {
    let mac = hash_code(app.settings.code_key()?, "hosted-sign-up", device, id);
    Ok(mac[..32].to_owned())
}

/// The registration id as the pages carry it: `reg_….` and its binding to
/// the browser.
fn bound(app: &App, id: &str, device: &str) -> Result<String, Error> {
    Ok(format!("{id}.{}", binding(app, id, device)?))
}

/// The registration a form names, if it is bound to this browser (another
/// browser's, or none, is as unknown as any other).
fn registration_of(app: &App, field: &str, device: &str) -> Result<RegistrationId, Error> {
    let (id, mac) = field.split_once('.').ok_or(Error::RegistrationNotFound)?;
    let expected = binding(app, id, device)?;
    if !bool::from(expected.as_bytes().ct_eq(mac.as_bytes())) {
        return Err(Error::RegistrationNotFound);
    }
    RegistrationId::parse(id).ok_or(Error::RegistrationNotFound)
}
