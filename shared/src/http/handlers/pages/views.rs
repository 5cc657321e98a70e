//! The hosted pages' HTML (maud: every value is escaped; no markup is
//! built from strings). Each page is a form that works without
//! JavaScript, every input labelled, with the `autocomplete` tokens
//! password managers and browsers act on, errors announced
//! (`role="alert"`), in the page's language, in the tenant's colours.

use maud::{DOCTYPE, Markup, html};

use crate::domain::oauth::AuthorizationRequest;
use crate::domain::policy::{Branding, Factor, IdentityProvider, SignInMethod, is_hex_color};
use crate::i18n::{Arg, text};

/// What every page of one flow shares.
pub struct Frame<'a> {
    pub lang: &'static str,
    pub branding: &'a Branding,
    /// The CSRF token of every form (the cookie's value).
    pub csrf: &'a str,
    /// The ways besides the password the sign-in page offers
    /// (`passwordless::offered`): codes, a passkey.
    pub methods: &'a [SignInMethod],
    /// The tenant's identity providers: a button each on the sign-in page.
    pub providers: &'a [IdentityProvider],
}

impl<'a> Frame<'a> {
    /// The frame of `flow`'s pages, its forms carrying `csrf`, the sign-in
    /// page offering `methods` besides the password.
    pub(super) fn of(flow: &'a super::Flow, csrf: &'a str, methods: &'a [SignInMethod]) -> Self {
        let policy = &flow.tenant.policy;
        Frame { lang: flow.lang, branding: &policy.branding, csrf, methods, providers: &policy.identity_providers }
    }
}

impl Frame<'_> {
    pub(super) fn t(&self, key: &str) -> String {
        text(self.lang, key, &[])
    }
}

/// A page's errors: the detail and the fields' messages.
#[derive(Default)]
pub struct Alert {
    pub detail: Option<String>,
    pub fields: Vec<String>,
}

pub(super) fn alert(alert: &Alert) -> Markup {
    html! {
        @if alert.detail.is_some() || !alert.fields.is_empty() {
            div.alert role="alert" {
                @if let Some(detail) = &alert.detail { p { (detail) } }
                @if !alert.fields.is_empty() {
                    ul { @for message in &alert.fields { li { (message) } } }
                }
            }
        }
    }
}

pub(super) fn layout(frame: &Frame<'_>, title: &str, body: Markup) -> String {
    let name = frame.branding.name.clone().unwrap_or_else(|| frame.t("page-default-name"));
    let color = frame.branding.primary_color.as_deref().filter(|c| is_hex_color(c)).unwrap_or("#1f5fbf");
    let logo = frame.branding.logo_url.as_deref().filter(|url| url.starts_with("https://"));
    html! {
        (DOCTYPE)
        html lang=(frame.lang) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="referrer" content="no-referrer";
                title { (title) " – " (name) }
                style {
                    "body{font-family:system-ui,sans-serif;max-width:26rem;margin:3rem auto;padding:0 1rem;color:#1b1b1b}"
                    "label{display:block;margin:1rem 0 .25rem}"
                    "input[type=text],input[type=email],input[type=password],select{width:100%;padding:.5rem;box-sizing:border-box}"
                    ".alert{border:2px solid #b00020;padding:.5rem 1rem;margin:1rem 0}"
                    ".notice{border:2px solid #1b7f3b;padding:.5rem 1rem;margin:1rem 0}"
                    "button{margin-top:1.5rem;padding:.6rem 1.2rem;border:0;color:#fff;background:" (color) "}"
                    "a{color:" (color) "}"
                    ".check label{display:inline;margin:0}"
                }
            }
            body {
                header {
                    @if let Some(logo) = logo { img src=(logo) alt=(name) height="48"; }
                    p.tenant { (name) }
                }
                main { h1 { (title) } (body) }
            }
        }
    }
    .into_string()
}

/// The authorization request and the CSRF token, as hidden fields: every
/// POST carries them and is checked again as the GET was.
pub(super) fn hidden(frame: &Frame<'_>, request: &AuthorizationRequest, step: &str) -> Markup {
    html! {
        input type="hidden" name="csrf" value=(frame.csrf);
        input type="hidden" name="step" value=(step);
        input type="hidden" name="response_type" value="code";
        input type="hidden" name="client_id" value=(request.client_id);
        input type="hidden" name="redirect_uri" value=(request.redirect_uri);
        input type="hidden" name="scope" value=(request.scopes.join(" "));
        input type="hidden" name="code_challenge" value=(request.code_challenge);
        input type="hidden" name="code_challenge_method" value="S256";
        @if let Some(state) = &request.state { input type="hidden" name="state" value=(state); }
        @if let Some(nonce) = &request.nonce { input type="hidden" name="nonce" value=(nonce); }
        @if let Some(locales) = &request.ui_locales { input type="hidden" name="ui_locales" value=(locales); }
    }
}

/// The link to another screen (`forgot`, `signup`, `code`, `passkey`): the
/// same authorization request, as a GET (checked again there), with `screen`.
pub(super) fn screen_href(request: &AuthorizationRequest, screen: &str) -> String {
    authorize_href(request, "screen", screen)
}

/// `GET /oauth2/authorize` with the same request and `name=value` added
/// (`screen=forgot`, `identity_provider=acme`).
pub(super) fn authorize_href(request: &AuthorizationRequest, name: &str, value: &str) -> String {
    let mut query = form_urlencoded::Serializer::new(String::new());
    query.append_pair("response_type", "code");
    query.append_pair("client_id", &request.client_id);
    query.append_pair("redirect_uri", &request.redirect_uri);
    query.append_pair("scope", &request.scopes.join(" "));
    query.append_pair("code_challenge", &request.code_challenge);
    query.append_pair("code_challenge_method", "S256");
    for (name, value) in [
        ("state", &request.state),
        ("nonce", &request.nonce),
        ("prompt", &request.prompt),
        ("login_hint", &request.login_hint),
        ("ui_locales", &request.ui_locales),
    ] {
        if let Some(value) = value {
            query.append_pair(name, value);
        }
    }
    query.append_pair(name, value);
    format!("/oauth2/authorize?{}", query.finish())
}

/// The sign-in with a password; `notice` a success to announce (the reset
/// password).
pub fn sign_in(
    frame: &Frame<'_>,
    request: &AuthorizationRequest,
    username: &str,
    errors: &Alert,
    notice: Option<&str>,
) -> String {
    let body = html! {
        @if let Some(notice) = notice {
            div.notice role="status" { p { (notice) } }
        }
        (alert(errors))
        form method="post" action="/oauth2/authorize" {
            (hidden(frame, request, "password"))
            label for="username" { (frame.t("page-username")) }
            input #username type="text" name="username" value=(username) autocomplete="username webauthn"
                autocapitalize="none" spellcheck="false" required autofocus;
            label for="password" { (frame.t("page-password")) }
            input #password type="password" name="password" autocomplete="current-password" required;
            button type="submit" { (frame.t("page-submit-sign-in")) }
        }
        p { a href=(screen_href(request, "forgot")) { (frame.t("page-forgot-link")) } }
        p { a href=(screen_href(request, "signup")) { (frame.t("page-signup-link")) } }
        (other_ways(frame, request))
        @if !frame.providers.is_empty() {
            // A link each: the provider's page, then back (no JavaScript).
            ul.providers {
                @for provider in frame.providers {
                    li {
                        a href=(authorize_href(request, "identity_provider", &provider.id)) {
                            (text(frame.lang, "page-idp-continue", &[("provider", Arg::Str(&provider.label()))]))
                        }
                    }
                }
            }
        }
    };
    layout(frame, &frame.t("page-sign-in-title"), body)
}

/// The sign-in page's links to the other ways the tenant offers: a code,
/// a passkey (each a GET of the same authorization request, checked there).
fn other_ways(frame: &Frame<'_>, request: &AuthorizationRequest) -> Markup {
    let code = frame.methods.iter().any(|m| matches!(m, SignInMethod::EmailCode | SignInMethod::SmsCode));
    let passkey = frame.methods.contains(&SignInMethod::Passkey);
    html! {
        @if code { p { a href=(screen_href(request, "code")) { (frame.t("page-code-link")) } } }
        @if passkey { p { a href=(screen_href(request, "passkey")) { (frame.t("page-passkey-link")) } } }
    }
}

/// The forgotten password: the address to send a code to.
pub fn forgot(frame: &Frame<'_>, request: &AuthorizationRequest, email: &str, errors: &Alert) -> String {
    let body = html! {
        (alert(errors))
        p { (frame.t("page-forgot-intro")) }
        form method="post" action="/oauth2/authorize" {
            (hidden(frame, request, "forgot"))
            label for="email" { (frame.t("page-email")) }
            input #email type="email" name="email" value=(email) autocomplete="username"
                autocapitalize="none" spellcheck="false" required autofocus;
            button type="submit" { (frame.t("page-submit-send-code")) }
        }
    };
    layout(frame, &frame.t("page-forgot-title"), body)
}

/// The reset: the code sent to `email` (if it has an account: the same
/// page either way) and the new password, twice.
pub fn reset(frame: &Frame<'_>, request: &AuthorizationRequest, email: &str, errors: &Alert) -> String {
    let body = html! {
        (alert(errors))
        p { (text(frame.lang, "page-reset-sent", &[("email", Arg::Str(email))])) }
        form method="post" action="/oauth2/authorize" {
            (hidden(frame, request, "reset"))
            input type="hidden" name="email" value=(email);
            label for="code" { (frame.t("page-code")) }
            input #code type="text" name="code" inputmode="numeric" autocomplete="one-time-code"
                autocapitalize="none" spellcheck="false" required autofocus;
            label for="new_password" { (frame.t("page-new-password")) }
            input #new_password type="password" name="new_password" autocomplete="new-password" required;
            label for="confirm_password" { (frame.t("page-confirm-password")) }
            input #confirm_password type="password" name="confirm_password" autocomplete="new-password" required;
            button type="submit" { (frame.t("page-submit-save")) }
        }
    };
    layout(frame, &frame.t("page-reset-title"), body)
}

/// The second factor: a code sent, shown by the app, or a recovery code.
pub fn second_factor(
    frame: &Frame<'_>,
    request: &AuthorizationRequest,
    challenge_id: &str,
    factors: &[Factor],
    channel: Option<&str>,
    errors: &Alert,
) -> String {
    let answerable: Vec<Factor> = factors.iter().copied().filter(|f| *f != Factor::Passkey).collect();
    let factor_list = factors.iter().map(|f| f.as_str()).collect::<Vec<_>>().join(",");
    let chosen = channel.map(str::to_owned).or_else(|| answerable.first().map(|f| f.as_str().to_owned()));
    let body = html! {
        (alert(errors))
        @match channel {
            Some("sms") => p { (frame.t("page-mfa-sent-sms")) },
            Some("email") => p { (frame.t("page-mfa-sent-email")) },
            _ => p { (frame.t("page-mfa-intro")) },
        }
        @if factors.contains(&Factor::Passkey) {
            // The passkey's page, the ceremony answering this challenge.
            p { a href=(format!("{}&challenge_id={challenge_id}", screen_href(request, "passkey"))) {
                (frame.t("page-mfa-passkey-link"))
            } }
        }
        @if !answerable.is_empty() {
            form method="post" action="/oauth2/authorize" {
                (hidden(frame, request, "mfa"))
                input type="hidden" name="challenge_id" value=(challenge_id);
                input type="hidden" name="factors" value=(factor_list);
                @if answerable.len() > 1 || channel.is_none() {
                    label for="factor" { (frame.t("page-factor")) }
                    select #factor name="factor" {
                        @for factor in &answerable {
                            option value=(factor.as_str()) selected[chosen.as_deref() == Some(factor.as_str())] {
                                (frame.t(&format!("page-factor-{}", factor.as_str())))
                            }
                        }
                    }
                } @else if let Some(chosen) = &chosen {
                    input type="hidden" name="factor" value=(chosen);
                }
                label for="code" { (frame.t("page-code")) }
                input #code type="text" name="code" inputmode="numeric" autocomplete="one-time-code"
                    autocapitalize="none" spellcheck="false" required autofocus;
                button type="submit" { (frame.t("page-submit-verify")) }
            }
        }
    };
    layout(frame, &frame.t("page-mfa-title"), body)
}

/// The new password the back office required.
pub fn new_password(frame: &Frame<'_>, request: &AuthorizationRequest, challenge_id: &str, errors: &Alert) -> String {
    let body = html! {
        (alert(errors))
        form method="post" action="/oauth2/authorize" {
            (hidden(frame, request, "new_password"))
            input type="hidden" name="challenge_id" value=(challenge_id);
            label for="new_password" { (frame.t("page-new-password")) }
            input #new_password type="password" name="new_password" autocomplete="new-password" required autofocus;
            label for="confirm_password" { (frame.t("page-confirm-password")) }
            input #confirm_password type="password" name="confirm_password" autocomplete="new-password" required;
            button type="submit" { (frame.t("page-submit-save")) }
        }
    };
    layout(frame, &frame.t("page-new-password-title"), body)
}

/// The legal documents to accept, each a checkbox.
pub fn legal(
    frame: &Frame<'_>,
    request: &AuthorizationRequest,
    challenge_id: &str,
    documents: &[(String, String)],
    errors: &Alert,
) -> String {
    let documents_field =
        documents.iter().map(|(code, version)| format!("{code}:{version}")).collect::<Vec<_>>().join(",");
    let body = html! {
        (alert(errors))
        form method="post" action="/oauth2/authorize" {
            (hidden(frame, request, "legal"))
            input type="hidden" name="challenge_id" value=(challenge_id);
            input type="hidden" name="documents" value=(documents_field);
            @for (code, version) in documents {
                @let field = if code == "terms" { "terms_accepted" } else { "privacy_policy_accepted" };
                div.check {
                    input id=(field) type="checkbox" name=(field) value="true" required;
                    " "
                    label for=(field) {
                        (text(frame.lang, &format!("page-accept-{code}"), &[("version", Arg::Str(version))]))
                    }
                }
            }
            button type="submit" { (frame.t("page-submit-continue")) }
        }
    };
    layout(frame, &frame.t("page-legal-title"), body)
}

/// A page with a title and one paragraph, of no flow (the signed-out page
/// of `/oauth2/logout`).
pub fn notice(lang: &'static str, branding: &Branding, title_key: &str, body_key: &str) -> String {
    let frame = Frame { lang, branding, csrf: "", methods: &[], providers: &[] };
    let body = html! { p { (frame.t(body_key)) } };
    layout(&frame, &frame.t(title_key), body)
}

/// A page that ends the flow here: the request cannot go back to the
/// client (unknown client, unregistered redirect URI) or the form was not
/// this site's (CSRF).
pub fn error(frame: &Frame<'_>, message_key: &str) -> String {
    let body = html! {
        div.alert role="alert" { p { (frame.t(message_key)) } }
    };
    layout(frame, &frame.t("page-error-title"), body)
}
