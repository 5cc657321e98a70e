//! The hosted sign-up pages' HTML (`signup.rs` the steps): the first step's
//! form, the code of each channel (with a resend), the phone to add. As
//! every hosted page: no JavaScript, every input labelled, the
//! `autocomplete` tokens browsers fill a new account with, errors in the
//! `role="alert"` block, the CSRF token and the authorization request in
//! every form.

use maud::html;

use super::views::{Alert, Frame, alert, hidden, layout};
use crate::domain::oauth::AuthorizationRequest;
use crate::domain::policy::{Policy, SignUpStart, Usernames};
use crate::domain::registration::Channel;
use crate::i18n::{Arg, text};

/// What the first step's form shows again after an error (never the
/// passwords).
#[derive(Default)]
pub struct SignUpValues {
    pub email: String,
    pub phone: String,
    pub username: String,
    pub first_name: String,
    pub last_name: String,
    pub birth_date: String,
}

/// The first step: the tenant's first credential (the address, or the
/// phone where sign-up starts with it), its username if it has them, the
/// name, the password twice, the legal documents of the tenant's current
/// versions.
pub fn sign_up(
    frame: &Frame<'_>,
    request: &AuthorizationRequest,
    policy: &Policy,
    values: &SignUpValues,
    errors: &Alert,
) -> String {
    let phone_first = policy.sign_up_starts_with == SignUpStart::Phone;
    let email_required = !phone_first || policy.email_required;
    let body = html! {
        (alert(errors))
        form method="post" action="/oauth2/authorize" {
            (hidden(frame, request, "signup"))
            @if phone_first {
                label for="phone" { (frame.t("page-phone")) }
                input #phone type="tel" name="phone" value=(values.phone) autocomplete="tel" required autofocus;
            }
            label for="email" {
                (frame.t(if email_required { "page-email" } else { "page-email-optional" }))
            }
            input #email type="email" name="email" value=(values.email) autocomplete="email"
                autocapitalize="none" spellcheck="false" required[email_required] autofocus[!phone_first];
            @if policy.usernames != Usernames::Off {
                label for="username" { (frame.t("page-signup-username")) }
                input #username type="text" name="username" value=(values.username) autocomplete="username"
                    autocapitalize="none" spellcheck="false" required[policy.usernames == Usernames::Required];
            }
            label for="first_name" { (frame.t("page-first-name")) }
            input #first_name type="text" name="first_name" value=(values.first_name) autocomplete="given-name" required;
            label for="last_name" { (frame.t("page-last-name")) }
            input #last_name type="text" name="last_name" value=(values.last_name) autocomplete="family-name" required;
            label for="birth_date" { (frame.t("page-birth-date")) }
            input #birth_date type="date" name="birth_date" value=(values.birth_date) autocomplete="bday";
            label for="password" { (frame.t("page-password")) }
            input #password type="password" name="password" autocomplete="new-password" required;
            label for="confirm_password" { (frame.t("page-signup-confirm-password")) }
            input #confirm_password type="password" name="confirm_password" autocomplete="new-password" required;
            @for (code, field, version) in [
                ("terms", "terms_accepted", &policy.terms_version),
                ("privacy", "privacy_policy_accepted", &policy.privacy_version),
            ] {
                div.check {
                    input id=(field) type="checkbox" name=(field) value="true" required;
                    " "
                    label for=(field) {
                        (text(frame.lang, &format!("page-accept-{code}"), &[("version", Arg::Str(version))]))
                    }
                }
            }
            button type="submit" { (frame.t("page-submit-sign-up")) }
        }
    };
    layout(frame, &frame.t("page-signup-title"), body)
}

/// The code sent on `channel` (its form's second button sends a new one
/// instead); `notice` a success to announce (the new code sent).
pub fn code(
    frame: &Frame<'_>,
    request: &AuthorizationRequest,
    registration_id: &str,
    channel: Channel,
    errors: &Alert,
    notice: Option<&str>,
) -> String {
    let (step, title, sent) = match channel {
        Channel::Email => ("signup_email", "page-signup-email-title", "page-signup-email-sent"),
        Channel::Sms => ("signup_sms", "page-signup-sms-title", "page-signup-sms-sent"),
    };
    let body = html! {
        @if let Some(notice) = notice {
            div.notice role="status" { p { (notice) } }
        }
        (alert(errors))
        p { (frame.t(sent)) }
        form method="post" action="/oauth2/authorize" {
            (hidden(frame, request, step))
            input type="hidden" name="registration_id" value=(registration_id);
            label for="code" { (frame.t("page-code")) }
            input #code type="text" name="code" inputmode="numeric" autocomplete="one-time-code"
                autocapitalize="none" spellcheck="false" required autofocus;
            button type="submit" { (frame.t("page-submit-verify")) }
            // The same form, without the code: a new one sent instead.
            " "
            button type="submit" name="resend" value="true" formnovalidate { (frame.t("page-signup-resend")) }
        }
    };
    layout(frame, &frame.t(title), body)
}

/// The phone the tenant requires, after the address.
pub fn add_phone(
    frame: &Frame<'_>,
    request: &AuthorizationRequest,
    registration_id: &str,
    phone: &str,
    errors: &Alert,
) -> String {
    let body = html! {
        (alert(errors))
        p { (frame.t("page-signup-phone-intro")) }
        form method="post" action="/oauth2/authorize" {
            (hidden(frame, request, "signup_phone"))
            input type="hidden" name="registration_id" value=(registration_id);
            label for="phone" { (frame.t("page-phone")) }
            input #phone type="tel" name="phone" value=(phone) autocomplete="tel" required autofocus;
            button type="submit" { (frame.t("page-submit-send-code")) }
        }
    };
    layout(frame, &frame.t("page-signup-phone-title"), body)
}
