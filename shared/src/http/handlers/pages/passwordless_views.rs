//! The hosted pages of the sign-in without a password (maud, as
//! `views.rs`; the links to them are on its sign-in page): the page that asks
//! for a code, the page that takes it, and the passkey's page, the one
//! page with a script (its CSP allows that script alone, by its hash).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use maud::{PreEscaped, html};
use sha2::{Digest, Sha256};

use super::views::{Alert, Frame, alert, hidden, layout, screen_href};
use crate::domain::oauth::AuthorizationRequest;
use crate::i18n::{Arg, text};

/// The passkey page's one script: on the button's click, the WebAuthn
/// request options of the form's `data-options` go to
/// `navigator.credentials.get`, and the assertion (`toJSON()`) goes back
/// in the form's `credential` field, posted as `step=passkey`. No inline
/// event handler: the CSP allows this script by its hash and nothing else.
pub(super) const PASSKEY_SCRIPT: &str = r#"(function () {
  var form = document.getElementById("passkey-form");
  var button = document.getElementById("passkey-button");
  var failed = document.getElementById("passkey-failed");
  if (!form || !button || !window.PublicKeyCredential || !PublicKeyCredential.parseRequestOptionsFromJSON) return;
  button.hidden = false;
  button.addEventListener("click", function () {
    failed.hidden = true;
    var options = PublicKeyCredential.parseRequestOptionsFromJSON(JSON.parse(form.dataset.options));
    navigator.credentials.get({ publicKey: options }).then(function (credential) {
      form.elements.credential.value = JSON.stringify(credential.toJSON());
      form.submit();
    }, function () {
      failed.hidden = false;
    });
  });
})();"#;

/// The CSP hash source of [`PASSKEY_SCRIPT`] (`sha256-…`).
pub(super) fn passkey_script_hash() -> String {
    format!("sha256-{}", STANDARD.encode(Sha256::digest(PASSKEY_SCRIPT.as_bytes())))
}

/// The code's request: the name, and the channel when the tenant offers
/// both (`email`, `sms`).
pub fn code_request(
    frame: &Frame<'_>,
    request: &AuthorizationRequest,
    username: &str,
    channels: &[&str],
    errors: &Alert,
) -> String {
    let body = html! {
        (alert(errors))
        p { (frame.t("page-code-intro")) }
        form method="post" action="/oauth2/authorize" {
            (hidden(frame, request, "code_send"))
            @if let [only] = channels { input type="hidden" name="channel" value=(only); }
            label for="username" { (frame.t("page-username")) }
            input #username type="text" name="username" value=(username) autocomplete="username"
                autocapitalize="none" spellcheck="false" required autofocus;
            @if channels.len() > 1 {
                label for="channel" { (frame.t("page-channel")) }
                select #channel name="channel" {
                    @for channel in channels {
                        option value=(channel) { (frame.t(&format!("page-channel-{channel}"))) }
                    }
                }
            }
            button type="submit" { (frame.t("page-submit-send-code")) }
        }
        p { a href=(screen_href(request, "password")) { (frame.t("page-password-link")) } }
    };
    layout(frame, &frame.t("page-code-title"), body)
}

/// The code sent to `username` (if it has an account: the same page
/// either way), to sign in with.
pub fn code_entry(
    frame: &Frame<'_>,
    request: &AuthorizationRequest,
    username: &str,
    channel: Option<&str>,
    errors: &Alert,
) -> String {
    let body = html! {
        (alert(errors))
        p { (text(frame.lang, "page-code-sent", &[("username", Arg::Str(username))])) }
        form method="post" action="/oauth2/authorize" {
            (hidden(frame, request, "code"))
            input type="hidden" name="username" value=(username);
            @if let Some(channel) = channel { input type="hidden" name="channel" value=(channel); }
            label for="code" { (frame.t("page-code")) }
            input #code type="text" name="code" inputmode="numeric" autocomplete="one-time-code"
                autocapitalize="none" spellcheck="false" required autofocus;
            button type="submit" { (frame.t("page-submit-sign-in")) }
        }
        p { a href=(screen_href(request, "code")) { (frame.t("page-code-link")) } }
    };
    layout(frame, &frame.t("page-code-title"), body)
}

/// The passkey's page (with the login's `challenge_id` when it answers
/// its second factor): the ceremony's request options (JSON, in the
/// form's `data-options`) for [`PASSKEY_SCRIPT`], whose button asks the
/// browser for the assertion and posts it. Without JavaScript: a note.
pub fn passkey(
    frame: &Frame<'_>,
    request: &AuthorizationRequest,
    ceremony_id: &str,
    challenge_id: Option<&str>,
    options: &str,
    errors: &Alert,
) -> String {
    let body = html! {
        (alert(errors))
        p { (frame.t("page-passkey-intro")) }
        noscript { p { (frame.t("page-passkey-noscript")) } }
        div.alert #passkey-failed aria-live="assertive" hidden { p { (frame.t("page-passkey-failed")) } }
        form #passkey-form method="post" action="/oauth2/authorize" data-options=(options) {
            (hidden(frame, request, "passkey"))
            input type="hidden" name="ceremony_id" value=(ceremony_id);
            @if let Some(challenge_id) = challenge_id { input type="hidden" name="challenge_id" value=(challenge_id); }
            input type="hidden" name="credential" value="";
            button #passkey-button type="button" hidden { (frame.t("page-passkey-button")) }
        }
        p { a href=(screen_href(request, "password")) { (frame.t("page-password-link")) } }
        script { (PreEscaped(PASSKEY_SCRIPT)) }
    };
    layout(frame, &frame.t("page-passkey-title"), body)
}
