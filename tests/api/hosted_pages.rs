//! The hosted sign-in pages (`GET`/`POST /oauth2/authorize`,
//! docs/hosted-pages.md) over HTTP, as a browser without JavaScript uses
//! them (forms, cookies kept by hand), on both stores: errors that must not
//! redirect, errors that go back to the client, the same page for a wrong
//! password and an unknown user, the lockout, the second factor, CSRF, the
//! language, the CSP, the code and state at the end, the hosted
//! session (`prompt=none`, `prompt=login`), and the forgotten password
//! (the link, the code, the new password, the same page for an unknown
//! address, a wrong code), the sign-up (`mod sign_up`), and the sign-in
//! without a password: by a code (the same page for an unknown name, a
//! wrong code, a tenant without it) and by a passkey (the page's options and
//! its one script, a real assertion, a bad one, the second factor).

use std::collections::BTreeMap;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use reqwest::StatusCode;
use reqwest::header::LOCATION;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use shared::domain::oauth::clients::{ClientDraft, register};
use shared::domain::policy::{PasskeyPolicy, SecondFactorPolicy, SignInMethod};
use shared::domain::tenant::{IpLimits, Policy};
use shared::soft_authenticator::SoftAuthenticator;

use crate::common::hosted::{Browser, Page};
use crate::common::{Api, Backend, Flows, PASSWORD};

pub(crate) const REDIRECT: &str = "https://app.example.com/callback";
/// A PKCE verifier and its S256 challenge.
pub(crate) const VERIFIER: &str = "hosted-pages-verifier-0123456789abcdefghijklmnop";
pub(crate) const CHALLENGE: &str = "kSAjrbqUKbAG4_cGK71fT0A5YeQN_vTvaLUsJsMgbpk";
/// The password a reset on the pages sets.
const NEW_PASSWORD: &str = "Fresh!Start-42x";
/// The pages' origin as the tenant's passkeys know it.
const ORIGIN: &str = "http://localhost:3000";

fn policy() -> Policy {
    Policy {
        phone_required: false,
        sandbox_code: Some(crate::common::CODE.into()),
        ip_limits: IpLimits { logins_per_5_min: 1000, ..IpLimits::default() },
        second_factors: SecondFactorPolicy::default(),
        sign_in_methods: SignInMethod::ALL.to_vec(),
        passkeys: PasskeyPolicy { rp_id: Some("localhost".into()), origins: vec![ORIGIN.into()] },
        ..Policy::default()
    }
}

/// The app with one public client of its tenant.
async fn api(backend: Backend) -> Api {
    let api = Api::start(backend, policy()).await;
    register_client(&api).await;
    api
}

/// Registers the public client `pages-client` (redirect URI `REDIRECT`)
/// with the tenant of `api`.
pub(crate) async fn register_client(api: &Api) {
    let draft = ClientDraft {
        client_id: Some("pages-client".into()),
        tenant_id: api.app.tenant.id.clone(),
        name: "Pages".into(),
        redirect_uris: vec![REDIRECT.into()],
        post_logout_redirect_uris: Vec::new(),
        public: true,
    };
    register(api.app.app.store.as_ref(), api.app.app.random.as_ref(), api.now(), draft).await.expect("client");
}

/// A complete authorization request's query, with `extra` pairs.
pub(crate) fn authorize_query(extra: &[(&str, &str)]) -> String {
    let mut query = form_urlencoded::Serializer::new(String::new());
    for (name, value) in [
        ("response_type", "code"),
        ("client_id", "pages-client"),
        ("redirect_uri", REDIRECT),
        ("scope", "openid email"),
        ("state", "st-123"),
        ("nonce", "n-456"),
        ("code_challenge", CHALLENGE),
        ("code_challenge_method", "S256"),
    ] {
        if !extra.iter().any(|(n, _)| *n == name) {
            query.append_pair(name, value);
        }
    }
    for (name, value) in extra.iter().filter(|(_, v)| !v.is_empty()) {
        query.append_pair(name, value);
    }
    query.finish()
}

pub(crate) fn query_of(location: &str) -> BTreeMap<String, String> {
    let query = location.split_once('?').map(|(_, q)| q).unwrap_or_default();
    form_urlencoded::parse(query.as_bytes()).into_owned().collect()
}

async fn signed_in_browser(api: &Api, email: &str) -> (Browser, Page) {
    let mut browser = Browser::at(&api.app.url(""));
    let page = browser.get(&authorize_query(&[("login_hint", email)])).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.html);
    let done = browser.submit(&page, &[("username", email), ("password", PASSWORD)]).await;
    (browser, done)
}

on_both_stores!(api;
    an_unknown_client_or_redirect_uri_gets_a_page_and_no_redirect,
    other_errors_go_back_to_the_client_with_the_state,
    the_password_sign_in_ends_with_the_code_and_the_state,
    a_wrong_password_and_an_unknown_user_get_the_same_page,
    the_lockout_holds_on_the_pages,
    a_browser_that_signed_in_before_keeps_its_own_allowance,
    the_second_factor_is_a_page_of_its_own,
    a_post_without_the_csrf_token_is_refused,
    the_page_speaks_the_language_asked_for,
    the_hosted_session_signs_in_again_and_prompt_decides,
    logout_signs_the_browser_out_too,
    new_terms_end_the_silent_sign_in,
    a_forgotten_password_is_reset_on_the_pages_then_signs_in,
    an_unknown_address_gets_the_same_reset_page,
    a_wrong_reset_code_is_refused_with_an_alert,
    an_emailed_code_signs_in_on_the_pages_and_the_token_endpoint_takes_it,
    an_unknown_name_gets_the_same_code_page,
    a_wrong_sign_in_code_shows_the_code_page_again_with_the_alert,
    a_tenant_without_code_sign_in_offers_none_and_refuses_the_steps,
    the_passkey_page_embeds_the_options_and_allows_its_one_script,
    a_passkey_signs_in_on_the_pages,
    a_bad_passkey_assertion_is_refused_with_a_new_ceremony,
    a_passkey_answers_the_second_factor_on_the_pages,
);

async fn an_unknown_client_or_redirect_uri_gets_a_page_and_no_redirect(api: Api) {
    let mut browser = Browser::at(&api.app.url(""));
    for query in [
        authorize_query(&[("client_id", "nobody")]),
        authorize_query(&[("redirect_uri", "https://evil.example.com/callback")]),
        authorize_query(&[("redirect_uri", "https://app.example.com/callback/")]),
        authorize_query(&[("client_id", "")]),
    ] {
        let page = browser.get(&query).await;
        assert_eq!(page.status, StatusCode::BAD_REQUEST, "{query}");
        assert!(page.headers.get(LOCATION).is_none(), "{query}: no redirect");
        assert!(page.html.contains("role=\"alert\""), "{}", page.html);
        assert!(page.headers["content-type"].to_str().unwrap().starts_with("text/html"));
    }
}

async fn other_errors_go_back_to_the_client_with_the_state(api: Api) {
    let mut browser = Browser::at(&api.app.url(""));
    for (extra, error) in [
        (vec![("code_challenge", "")], "invalid_request"),
        (vec![("code_challenge_method", "plain")], "invalid_request"),
        (vec![("response_type", "token")], "unsupported_response_type"),
        (vec![("scope", "email")], "invalid_scope"),
        (vec![("prompt", "none")], "login_required"),
    ] {
        let page = browser.get(&authorize_query(&extra)).await;
        assert_eq!(page.status, StatusCode::FOUND, "{extra:?}: {}", page.html);
        let location = page.location();
        assert!(location.starts_with(&format!("{REDIRECT}?")), "{location}");
        let query = query_of(&location);
        assert_eq!(query.get("error").map(String::as_str), Some(error), "{extra:?}");
        assert_eq!(query.get("state").map(String::as_str), Some("st-123"));
        assert!(query.contains_key("error_description") && query.contains_key("iss"));
        assert!(!query.contains_key("code"));
    }
}

async fn the_password_sign_in_ends_with_the_code_and_the_state(api: Api) {
    api.sign_up("pages-anna@example.com").await;
    let (_, done) = signed_in_browser(&api, "pages-anna@example.com").await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.html);
    let location = done.location();
    assert!(location.starts_with(&format!("{REDIRECT}?")), "{location}");
    let query = query_of(&location);
    assert!(query.get("code").is_some_and(|c| c.len() >= 20), "{query:?}");
    assert_eq!(query.get("state").map(String::as_str), Some("st-123"));
    assert_eq!(query.get("iss"), Some(&api.app.app.settings.issuer));
}

async fn a_wrong_password_and_an_unknown_user_get_the_same_page(api: Api) {
    api.sign_up("pages-ben@example.com").await;
    let mut browser = Browser::at(&api.app.url(""));
    let page = browser.get(&authorize_query(&[])).await;
    let wrong = browser.submit(&page, &[("username", "pages-ben@example.com"), ("password", "Wr0ng!Pass")]).await;
    let unknown = browser.submit(&page, &[("username", "pages-nobody@example.com"), ("password", "Wr0ng!Pass")]).await;
    assert_eq!(wrong.status, StatusCode::BAD_REQUEST);
    assert_eq!(wrong.status, unknown.status);
    let (wrong_alert, unknown_alert) = (wrong.alert().expect("an alert"), unknown.alert().expect("an alert"));
    assert_eq!(wrong_alert, unknown_alert);
    assert!(wrong.location().is_empty() && unknown.location().is_empty());
    // The name typed is shown again, never the password.
    assert_eq!(wrong.input("username").as_deref(), Some("pages-ben@example.com"));
    assert!(!wrong.html.contains("Wr0ng!Pass"));
}

async fn the_lockout_holds_on_the_pages(api: Api) {
    api.sign_up("pages-carl@example.com").await;
    let mut browser = Browser::at(&api.app.url(""));
    let page = browser.get(&authorize_query(&[])).await;
    // The policy's five free failures, then the lock.
    for _ in 0..5 {
        let failed = browser.submit(&page, &[("username", "pages-carl@example.com"), ("password", "Wr0ng!Pass")]).await;
        assert_eq!(failed.status, StatusCode::BAD_REQUEST, "{}", failed.html);
    }
    let failed = browser.submit(&page, &[("username", "pages-carl@example.com"), ("password", "Wr0ng!Pass")]).await;
    assert!(failed.headers.get("retry-after").is_some(), "the lock says when: {}", failed.status);
    // Locked: the right password is refused too, until the lock ends.
    let locked = browser.submit(&page, &[("username", "pages-carl@example.com"), ("password", PASSWORD)]).await;
    assert_ne!(locked.status, StatusCode::SEE_OTHER, "locked out");
    assert!(locked.alert().is_some());
    api.advance(16 * 60);
    let done = browser.submit(&page, &[("username", "pages-carl@example.com"), ("password", PASSWORD)]).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.html);
}

async fn a_browser_that_signed_in_before_keeps_its_own_allowance(api: Api) {
    api.sign_up("pages-cleo@example.com").await;
    // The owner's browser signs in once: it earns a device token.
    let (mut owner, done) = signed_in_browser(&api, "pages-cleo@example.com").await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.html);
    let device_cookie = done
        .headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|c| c.starts_with("registrar_device="));
    let device_cookie = device_cookie.expect("a device token cookie");
    assert!(device_cookie.contains("Path=/oauth2") && device_cookie.contains("HttpOnly"), "{device_cookie}");
    // Someone else, in another browser, locks the account.
    let mut attacker = Browser::at(&api.app.url(""));
    let page = attacker.get(&authorize_query(&[])).await;
    for _ in 0..6 {
        attacker.submit(&page, &[("username", "pages-cleo@example.com"), ("password", "Wr0ng!Pass")]).await;
    }
    let locked = attacker.submit(&page, &[("username", "pages-cleo@example.com"), ("password", PASSWORD)]).await;
    assert_ne!(locked.status, StatusCode::SEE_OTHER, "locked for the attacker's browser");
    // The owner's browser, asked for the password again, still signs in.
    let page = owner.get(&authorize_query(&[("prompt", "login")])).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.html);
    let again = owner.submit(&page, &[("username", "pages-cleo@example.com"), ("password", PASSWORD)]).await;
    assert_eq!(again.status, StatusCode::SEE_OTHER, "the owner's browser has its own allowance: {}", again.html);
}

async fn the_second_factor_is_a_page_of_its_own(api: Api) {
    api.sign_up_with_phone("pages-dora@example.com", "+41791234567").await;
    let (mut browser, mfa) = signed_in_browser(&api, "pages-dora@example.com").await;
    assert_eq!(mfa.status, StatusCode::OK, "{}", mfa.html);
    assert!(mfa.html.contains("autocomplete=\"one-time-code\""), "{}", mfa.html);
    assert!(mfa.input("challenge_id").is_some());
    let wrong = browser.submit(&mfa, &[("code", "000000")]).await;
    assert_eq!(wrong.status, StatusCode::BAD_REQUEST);
    assert!(wrong.alert().is_some());
    let done = browser.submit(&wrong, &[("code", crate::common::CODE)]).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.html);
    assert!(query_of(&done.location()).contains_key("code"));
}

async fn a_post_without_the_csrf_token_is_refused(api: Api) {
    api.sign_up("pages-emil@example.com").await;
    let mut browser = Browser::at(&api.app.url(""));
    let page = browser.get(&authorize_query(&[])).await;
    let login = [("username", "pages-emil@example.com"), ("password", PASSWORD)];
    // A wrong token in the form.
    let mut fields: Vec<(String, String)> =
        page.hidden().into_iter().map(|(n, v)| if n == "csrf" { (n, "x".repeat(43)) } else { (n, v) }).collect();
    fields.extend(login.iter().map(|(n, v)| ((*n).to_owned(), (*v).to_owned())));
    let forged = browser.post(&fields).await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert!(forged.location().is_empty());
    // No token in the form.
    fields.retain(|(n, _)| n != "csrf");
    assert_eq!(browser.post(&fields).await.status, StatusCode::FORBIDDEN);
    // The right form from a browser without the cookie (another site's post).
    let mut stranger = Browser::at(&api.app.url(""));
    assert_eq!(stranger.submit(&page, &login).await.status, StatusCode::FORBIDDEN);
    // Not a form at all, or a form that repeats a field: a page, never JSON.
    let url = api.app.url("/oauth2/authorize");
    let json = api.http.post(&url).json(&serde_json::json!({ "step": "password" })).send().await.unwrap();
    assert_eq!(json.status(), StatusCode::FORBIDDEN);
    assert!(json.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    let mut repeated = page.hidden();
    repeated.push(("step".into(), "mfa".into()));
    let twice = browser.post(&repeated).await;
    assert_eq!(twice.status, StatusCode::BAD_REQUEST);
    assert!(twice.headers["content-type"].to_str().unwrap().starts_with("text/html"), "{}", twice.html);
    // The page's own form goes through.
    assert_eq!(browser.submit(&page, &login).await.status, StatusCode::SEE_OTHER);
}

async fn the_page_speaks_the_language_asked_for(api: Api) {
    let mut browser = Browser::at(&api.app.url(""));
    let page = browser.get(&authorize_query(&[("ui_locales", "de-CH en")])).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.html.starts_with("<!DOCTYPE html><html lang=\"de\">"), "{}", &page.html[..80]);
    assert!(page.html.contains("Passwort"));
    let csp = page.headers["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert!(csp.contains("form-action 'self' https://app.example.com"), "{csp}");
    // Labels for the inputs, with the tokens password managers act on.
    for (id, token) in [("username", "username webauthn"), ("password", "current-password")] {
        assert!(page.html.contains(&format!("<label for=\"{id}\">")), "{id}");
        assert!(page.html.contains(&format!("autocomplete=\"{token}\"")), "{token}");
    }
    let english = browser.get(&authorize_query(&[])).await;
    assert!(english.html.starts_with("<!DOCTYPE html><html lang=\"en\">"));
}

async fn the_hosted_session_signs_in_again_and_prompt_decides(api: Api) {
    api.sign_up("pages-fay@example.com").await;
    let (mut browser, done) = signed_in_browser(&api, "pages-fay@example.com").await;
    assert_eq!(done.status, StatusCode::SEE_OTHER);
    let first = query_of(&done.location())["code"].clone();
    // Signed in: `prompt=none` and a plain request get a new code at once.
    for extra in [vec![("prompt", "none")], vec![]] {
        let again = browser.get(&authorize_query(&extra)).await;
        assert_eq!(again.status, StatusCode::FOUND, "{extra:?}: {}", again.html);
        let query = query_of(&again.location());
        assert!(query.get("code").is_some_and(|c| *c != first), "{query:?}");
        assert_eq!(query.get("state").map(String::as_str), Some("st-123"));
    }
    // `prompt=login` asks for the password anyway.
    let forced = browser.get(&authorize_query(&[("prompt", "login")])).await;
    assert_eq!(forced.status, StatusCode::OK);
    assert!(forced.html.contains("autocomplete=\"current-password\""));
    // Another browser has no session.
    let mut other = Browser::at(&api.app.url(""));
    let none = other.get(&authorize_query(&[("prompt", "none")])).await;
    assert_eq!(query_of(&none.location()).get("error").map(String::as_str), Some("login_required"));
}

/// RP-initiated logout ends the browser's hosted session too (the code
/// named it): the next person at that browser is asked for the password.
async fn logout_signs_the_browser_out_too(api: Api) {
    api.sign_up("pages-gus@example.com").await;
    let (mut browser, done) = signed_in_browser(&api, "pages-gus@example.com").await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.html);
    // The code of a second authorization, by the hosted session.
    let again = browser.get(&authorize_query(&[])).await;
    assert_eq!(again.status, StatusCode::FOUND, "{}", again.html);
    let code = query_of(&again.location())["code"].clone();
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT),
        ("code_verifier", VERIFIER),
        ("client_id", "pages-client"),
    ];
    let tokens: serde_json::Value =
        api.http.post(api.app.url("/oauth2/token")).form(&form).send().await.unwrap().json().await.unwrap();
    let hint = tokens["id_token"].as_str().unwrap_or_else(|| panic!("an ID token: {tokens}"));
    let out = api.http.get(api.app.url("/oauth2/logout")).query(&[("id_token_hint", hint)]).send().await.unwrap();
    assert_eq!(out.status(), StatusCode::OK);
    let next = browser.get(&authorize_query(&[])).await;
    assert_eq!(next.status, StatusCode::OK, "the sign-in page, not a code: {}", next.location());
    assert!(next.html.contains("autocomplete=\"current-password\""));
}

/// The hosted session never skips a step the sign-in did not pass: once
/// the tenant publishes new terms, the browser signs in again on the page.
async fn new_terms_end_the_silent_sign_in(api: Api) {
    api.sign_up("pages-hal@example.com").await;
    let (mut browser, done) = signed_in_browser(&api, "pages-hal@example.com").await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.html);
    let mut tenant = api.app.tenant.clone();
    tenant.policy.terms_version = "2027-01".into();
    shared::domain::tenant::save_tenant(api.app.app.store.as_ref(), &tenant).await.unwrap();
    api.advance(61); // past the instance's policy cache
    let next = browser.get(&authorize_query(&[])).await;
    assert_eq!(next.status, StatusCode::OK, "the sign-in page, not a code: {}", next.location());
}

/// The sign-in page's link to the forgotten password, followed, and the
/// address sent: the reset page.
async fn forgot(browser: &mut Browser, email: &str) -> Page {
    let sign_in = browser.get(&authorize_query(&[("ui_locales", "en")])).await;
    let link = sign_in.link("screen=forgot").expect("a link to the forgot screen");
    // The same authorization request rides along, checked again by the GET.
    assert!(link.contains("client_id=pages-client") && link.contains("state=st-123"), "{link}");
    let page = browser.follow(&link).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.html);
    assert!(page.html.contains("<label for=\"email\">"), "{}", page.html);
    assert!(page.html.contains("autocomplete=\"username\""), "{}", page.html);
    assert_eq!(page.input("step").as_deref(), Some("forgot"));
    let reset = browser.submit(&page, &[("email", email)]).await;
    assert_eq!(reset.status, StatusCode::OK, "{}", reset.html);
    reset
}

async fn a_forgotten_password_is_reset_on_the_pages_then_signs_in(api: Api) {
    let email = "pages-gus@example.com";
    api.sign_up(email).await;
    let mut browser = Browser::at(&api.app.url(""));
    let reset = forgot(&mut browser, email).await;
    assert!(reset.html.contains("autocomplete=\"one-time-code\""), "{}", reset.html);
    for id in ["code", "new_password", "confirm_password"] {
        assert!(reset.html.contains(&format!("<label for=\"{id}\">")), "{id}");
    }
    assert!(reset.html.contains("autocomplete=\"new-password\""));
    // The sandbox code, as the API's reset takes it.
    let fields = [("code", crate::common::CODE), ("new_password", NEW_PASSWORD), ("confirm_password", NEW_PASSWORD)];
    let signed_out = browser.submit(&reset, &fields).await;
    assert_eq!(signed_out.status, StatusCode::OK, "{}", signed_out.html);
    assert!(signed_out.html.contains("role=\"status\""), "{}", signed_out.html);
    assert!(signed_out.alert().is_none(), "{}", signed_out.html);
    assert_eq!(signed_out.input("username").as_deref(), Some(email));
    // The old password is refused, the new one signs in and ends with the code.
    let old = browser.submit(&signed_out, &[("username", email), ("password", PASSWORD)]).await;
    assert_eq!(old.status, StatusCode::BAD_REQUEST, "{}", old.html);
    let done = browser.submit(&signed_out, &[("username", email), ("password", NEW_PASSWORD)]).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.html);
    let location = done.location();
    assert!(location.starts_with(&format!("{REDIRECT}?")), "{location}");
    let query = query_of(&location);
    assert!(query.contains_key("code"), "{query:?}");
    assert_eq!(query.get("state").map(String::as_str), Some("st-123"));
}

async fn an_unknown_address_gets_the_same_reset_page(api: Api) {
    let known = "pages-hal@example.com";
    let unknown = "pages-nobody-here@example.com";
    api.sign_up(known).await;
    let mut browser = Browser::at(&api.app.url(""));
    let known_page = forgot(&mut browser, known).await;
    let unknown_page = forgot(&mut browser, unknown).await;
    assert_eq!(known_page.status, unknown_page.status);
    // The same page but for the address it names.
    assert_eq!(known_page.html.replace(known, "ADDRESS"), unknown_page.html.replace(unknown, "ADDRESS"));
    // And a reset of the unknown address is a wrong code, like any.
    let fields = [("code", crate::common::CODE), ("new_password", NEW_PASSWORD), ("confirm_password", NEW_PASSWORD)];
    let refused = browser.submit(&unknown_page, &fields).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.html);
    assert!(refused.alert().is_some());
}

async fn a_wrong_reset_code_is_refused_with_an_alert(api: Api) {
    let email = "pages-ivy@example.com";
    api.sign_up(email).await;
    let mut browser = Browser::at(&api.app.url(""));
    let reset = forgot(&mut browser, email).await;
    let wrong = [("code", "000000"), ("new_password", NEW_PASSWORD), ("confirm_password", NEW_PASSWORD)];
    let refused = browser.submit(&reset, &wrong).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.html);
    assert!(refused.alert().is_some(), "{}", refused.html);
    // The page again, the address still carried.
    assert_eq!(refused.input("email").as_deref(), Some(email));
    assert!(refused.html.contains("autocomplete=\"one-time-code\""));
    // A mismatched confirmation is the password rules' alert, and spends no try.
    let mismatch = [("code", crate::common::CODE), ("new_password", NEW_PASSWORD), ("confirm_password", PASSWORD)];
    let refused = browser.submit(&refused, &mismatch).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.html);
    assert!(refused.alert().is_some());
    // The right code still works after the wrong one.
    let right = [("code", crate::common::CODE), ("new_password", NEW_PASSWORD), ("confirm_password", NEW_PASSWORD)];
    let done = browser.submit(&refused, &right).await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.html);
    assert!(done.html.contains("role=\"status\""));
}

/// The sign-in page's link to the code, followed: the page that asks for one.
async fn code_request(browser: &mut Browser) -> Page {
    let sign_in = browser.get(&authorize_query(&[])).await;
    let link = sign_in.link("screen=code").expect("a link to the code screen");
    assert!(link.contains("client_id=pages-client") && link.contains("state=st-123"), "{link}");
    let page = browser.follow(&link).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.html);
    assert_eq!(page.input("step").as_deref(), Some("code_send"));
    assert!(page.html.contains("<label for=\"username\">"), "{}", page.html);
    // Both channels offered: the choice is labelled.
    assert!(page.html.contains("<label for=\"channel\">"), "{}", page.html);
    page
}

/// The code's page for `username` (sent by e-mail).
async fn code_page(browser: &mut Browser, username: &str) -> Page {
    let request = code_request(browser).await;
    let page = browser.submit(&request, &[("username", username), ("channel", "email")]).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.html);
    assert_eq!(page.input("step").as_deref(), Some("code"));
    assert!(page.html.contains("autocomplete=\"one-time-code\""), "{}", page.html);
    assert!(page.alert().is_none(), "{}", page.html);
    page
}

/// The code of a redirect to the client, exchanged at the token endpoint.
async fn redeem(api: &Api, done: &Page) -> Value {
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.html);
    let location = done.location();
    assert!(location.starts_with(&format!("{REDIRECT}?")), "{location}");
    let query = query_of(&location);
    assert_eq!(query.get("state").map(String::as_str), Some("st-123"));
    let form = [
        ("grant_type", "authorization_code"),
        ("code", query["code"].as_str()),
        ("redirect_uri", REDIRECT),
        ("code_verifier", VERIFIER),
        ("client_id", "pages-client"),
    ];
    let response = api.http.post(api.app.url("/oauth2/token")).form(&form).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

/// The claims of a JWT (unchecked: the token endpoint's tests check them).
fn claims(token: &Value) -> Value {
    let payload = token.as_str().expect("a token").split('.').nth(1).expect("a JWT");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).expect("base64url");
    serde_json::from_slice(&bytes).expect("JSON claims")
}

async fn an_emailed_code_signs_in_on_the_pages_and_the_token_endpoint_takes_it(api: Api) {
    let email = "pages-kim@example.com";
    api.sign_up(email).await;
    let mut browser = Browser::at(&api.app.url(""));
    let before = api.app.messages_to(email).len();
    let page = code_page(&mut browser, email).await;
    assert!(page.html.contains(email), "the page names the address: {}", page.html);
    assert_eq!(api.app.messages_to(email).len(), before + 1, "one e-mail with the code");
    let code = api.app.latest_code(email).expect("the code in the outbox");
    let done = browser.submit(&page, &[("code", &code)]).await;
    let tokens = redeem(&api, &done).await;
    let claims = claims(&tokens["id_token"]);
    assert_eq!(claims["email"], email, "{claims}");
    assert_eq!(claims["nonce"], "n-456", "{claims}");
    // The code is spent: the same page, the same code, refused.
    let again = browser.submit(&page, &[("code", &code)]).await;
    assert_eq!(again.status, StatusCode::BAD_REQUEST, "{}", again.html);
}

async fn an_unknown_name_gets_the_same_code_page(api: Api) {
    let known = "pages-lou@example.com";
    let unknown = "pages-no-one@example.com";
    api.sign_up(known).await;
    let mut browser = Browser::at(&api.app.url(""));
    let known_page = code_page(&mut browser, known).await;
    let unknown_page = code_page(&mut browser, unknown).await;
    assert_eq!(known_page.status, unknown_page.status);
    assert_eq!(known_page.html.replace(known, "NAME"), unknown_page.html.replace(unknown, "NAME"));
    assert!(api.app.messages_to(unknown).is_empty(), "no message to a name without an account");
    // Its code is wrong, like any.
    let refused = browser.submit(&unknown_page, &[("code", crate::common::CODE)]).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.html);
    assert!(refused.alert().is_some(), "{}", refused.html);
}

async fn a_wrong_sign_in_code_shows_the_code_page_again_with_the_alert(api: Api) {
    let email = "pages-max@example.com";
    api.sign_up(email).await;
    let mut browser = Browser::at(&api.app.url(""));
    let page = code_page(&mut browser, email).await;
    let wrong = browser.submit(&page, &[("code", "000000")]).await;
    assert_eq!(wrong.status, StatusCode::BAD_REQUEST, "{}", wrong.html);
    assert!(wrong.alert().is_some(), "{}", wrong.html);
    // The page again, the name and the channel still carried.
    assert_eq!(wrong.input("step").as_deref(), Some("code"));
    assert_eq!(wrong.input("username").as_deref(), Some(email));
    assert_eq!(wrong.input("channel").as_deref(), Some("email"));
    // The right code still signs in after the wrong one.
    let code = api.app.latest_code(email).expect("the code in the outbox");
    let done = browser.submit(&wrong, &[("code", &code)]).await;
    redeem(&api, &done).await;
}

async fn a_tenant_without_code_sign_in_offers_none_and_refuses_the_steps(api: Api) {
    let email = "pages-ned@example.com";
    api.sign_up(email).await;
    let mut tenant = api.app.tenant.clone();
    tenant.policy.sign_in_methods = vec![SignInMethod::Password];
    shared::domain::tenant::save_tenant(api.app.app.store.as_ref(), &tenant).await.unwrap();
    api.advance(61); // past the instance's policy cache
    let mut browser = Browser::at(&api.app.url(""));
    let sign_in = browser.get(&authorize_query(&[])).await;
    assert_eq!(sign_in.status, StatusCode::OK, "{}", sign_in.html);
    assert!(sign_in.link("screen=code").is_none(), "{}", sign_in.html);
    assert!(sign_in.link("screen=passkey").is_none(), "{}", sign_in.html);
    // The screens asked for anyway: the sign-in page with the password.
    for screen in ["code", "passkey"] {
        let page = browser.get(&authorize_query(&[("screen", screen)])).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.html);
        assert_eq!(page.input("step").as_deref(), Some("password"), "{screen}: {}", page.html);
    }
    // The steps posted anyway: refused with an alert, no code sent, no redirect.
    let before = api.app.messages_to(email).len();
    let mut send = sign_in.hidden();
    send.retain(|(name, _)| name != "step");
    send.extend([("step".into(), "code_send".into()), ("username".into(), email.into())]);
    let refused = browser.post(&send).await;
    assert!(refused.status.is_client_error(), "{}", refused.html);
    assert!(refused.alert().is_some(), "{}", refused.html);
    assert_eq!(api.app.messages_to(email).len(), before, "no code went out");
    let mut code = sign_in.hidden();
    code.retain(|(name, _)| name != "step");
    code.extend([
        ("step".into(), "code".into()),
        ("username".into(), email.into()),
        ("code".into(), crate::common::CODE.into()),
    ]);
    let refused = browser.post(&code).await;
    assert!(refused.status.is_client_error(), "{}", refused.html);
    assert!(refused.alert().is_some(), "{}", refused.html);
}

/// The passkey's page: its form's request options, unescaped.
fn options_of(page: &Page) -> Value {
    let at = page.html.find("data-options=\"").expect("the options") + "data-options=\"".len();
    let raw = &page.html[at..at + page.html[at..].find('"').unwrap()];
    let text = raw.replace("&quot;", "\"").replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&");
    serde_json::from_str(&text).expect("the options are JSON")
}

/// Posts the passkey's page with `credential` as its script would.
async fn submit_assertion(browser: &mut Browser, page: &Page, credential: &str) -> Page {
    let mut fields = page.hidden();
    fields.retain(|(name, _)| name != "credential");
    fields.push(("credential".into(), credential.into()));
    browser.post(&fields).await
}

async fn passkey_page(browser: &mut Browser) -> Page {
    let sign_in = browser.get(&authorize_query(&[])).await;
    let link = sign_in.link("screen=passkey").expect("a link to the passkey screen");
    let page = browser.follow(&link).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.html);
    assert_eq!(page.input("step").as_deref(), Some("passkey"));
    page
}

async fn the_passkey_page_embeds_the_options_and_allows_its_one_script(api: Api) {
    let mut browser = Browser::at(&api.app.url(""));
    let sign_in = browser.get(&authorize_query(&[])).await;
    let csp = sign_in.headers["content-security-policy"].to_str().unwrap().to_owned();
    assert!(csp.contains("script-src 'none'"), "the sign-in page has no script: {csp}");
    assert!(sign_in.html.contains("autocomplete=\"username webauthn\""));
    let page = passkey_page(&mut browser).await;
    assert!(page.input("ceremony_id").is_some_and(|c| c.starts_with("cer_")), "{}", page.html);
    let options = options_of(&page);
    assert_eq!(options["rpId"], "localhost", "{options}");
    assert!(options["challenge"].as_str().is_some_and(|c| c.len() >= 16), "{options}");
    assert!(!options.to_string().contains("null"), "no nulls for parseRequestOptionsFromJSON: {options}");
    // One script, allowed by its hash alone; no inline handler anywhere.
    assert_eq!(page.html.matches("<script").count(), 1, "{}", page.html);
    let start = page.html.find("<script>").expect("an inline script") + "<script>".len();
    let script = &page.html[start..start + page.html[start..].find("</script>").unwrap()];
    let hash = format!("'sha256-{}'", STANDARD.encode(Sha256::digest(script.as_bytes())));
    let csp = page.headers["content-security-policy"].to_str().unwrap();
    let sources = csp.split(';').map(str::trim).find(|d| d.starts_with("script-src ")).expect("script-src");
    assert_eq!(sources, format!("script-src {hash}"), "{csp}");
    assert!(csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'none'"), "{csp}");
    assert!(!page.html.contains(" onclick=") && !page.html.contains(" onsubmit="), "{}", page.html);
    // Without JavaScript the page says what to do instead.
    assert!(page.html.contains("<noscript>"), "{}", page.html);
}

/// A user signed up by e-mail with a passkey registered through the API.
async fn with_passkey(api: &Api, email: &str) -> SoftAuthenticator {
    let tokens = api.sign_up(email).await;
    let bearer = format!("Bearer {}", tokens["access_token"].as_str().unwrap());
    let mut key = SoftAuthenticator::new(email, "localhost");
    let auth = [("Authorization", bearer.as_str())];
    let options = api.post("/v1/me/passkeys/options", json!({ "current_password": PASSWORD }), &auth).await;
    assert_eq!(options.status, StatusCode::OK, "{}", options.body);
    let credential = key.create(&options.body["publicKey"], ORIGIN);
    let body = json!({ "ceremony_id": options.body["ceremony_id"], "credential": credential, "name": "Laptop" });
    let added = api.post("/v1/me/passkeys", body, &auth).await;
    assert!(added.status.is_success(), "{}", added.body);
    key
}

async fn a_passkey_signs_in_on_the_pages(api: Api) {
    let email = "pages-ola@example.com";
    let mut key = with_passkey(&api, email).await;
    let mut browser = Browser::at(&api.app.url(""));
    let page = passkey_page(&mut browser).await;
    let assertion = key.get(&options_of(&page), ORIGIN);
    let done = submit_assertion(&mut browser, &page, &assertion.to_string()).await;
    let tokens = redeem(&api, &done).await;
    let claims = claims(&tokens["id_token"]);
    assert_eq!(claims["email"], email, "{claims}");
    assert!(claims["amr"].as_array().is_some_and(|amr| amr.contains(&json!("hwk"))), "{claims}");
}

async fn a_bad_passkey_assertion_is_refused_with_a_new_ceremony(api: Api) {
    let mut browser = Browser::at(&api.app.url(""));
    let page = passkey_page(&mut browser).await;
    let ceremony = page.input("ceremony_id").unwrap();
    let forged = json!({ "id": "AAAA", "rawId": "AAAA", "type": "public-key", "response": {} }).to_string();
    for credential in [forged.as_str(), "not json", ""] {
        let refused = submit_assertion(&mut browser, &page, credential).await;
        assert!(refused.status.is_client_error(), "{credential}: {}", refused.html);
        assert!(refused.headers.get(LOCATION).is_none());
        assert!(refused.alert().is_some(), "{credential}: {}", refused.html);
        // The passkey's page again, with a ceremony of its own and its script.
        assert_eq!(refused.input("step").as_deref(), Some("passkey"), "{}", refused.html);
        assert!(refused.input("ceremony_id").is_some_and(|c| c != ceremony && c.starts_with("cer_")));
        let csp = refused.headers["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("script-src 'sha256-"), "{csp}");
    }
}

async fn a_passkey_answers_the_second_factor_on_the_pages(api: Api) {
    let email = "pages-pam@example.com";
    let mut key = with_passkey(&api, email).await;
    let (mut browser, mfa) = signed_in_browser(&api, email).await;
    assert_eq!(mfa.status, StatusCode::OK, "the second factor's page: {}", mfa.html);
    let challenge = mfa.input("challenge_id").expect("the login's challenge");
    let link = mfa.link("screen=passkey").expect("a link to the passkey's page");
    assert!(link.contains(&format!("challenge_id={challenge}")), "{link}");
    let page = browser.follow(&link).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.html);
    assert_eq!(page.input("challenge_id").as_deref(), Some(challenge.as_str()));
    // A bad assertion: the page again, for the same challenge.
    let refused = submit_assertion(&mut browser, &page, "{}").await;
    assert!(refused.status.is_client_error(), "{}", refused.html);
    assert_eq!(refused.input("challenge_id").as_deref(), Some(challenge.as_str()), "{}", refused.html);
    let assertion = key.get(&options_of(&refused), ORIGIN);
    let done = submit_assertion(&mut browser, &refused, &assertion.to_string()).await;
    let tokens = redeem(&api, &done).await;
    let claims = claims(&tokens["id_token"]);
    let amr = claims["amr"].as_array().cloned().unwrap_or_default();
    assert!(amr.contains(&json!("pwd")) && amr.contains(&json!("hwk")), "{claims}");
    // The challenge is spent: another browser's link does not reach it.
    let mut other = Browser::at(&api.app.url(""));
    let elsewhere = other.follow(&link).await;
    assert_ne!(elsewhere.input("step").as_deref(), Some("passkey"), "{}", elsewhere.html);
}

/// The hosted sign-up (`screen=signup`, then the steps `signup`,
/// `signup_email`, `signup_phone`, `signup_sms`): the API's registration
/// through the pages, on both stores.
mod sign_up {
    use base64::Engine as _;
    use reqwest::StatusCode;
    use shared::domain::tenant::Policy;

    use super::{REDIRECT, VERIFIER, api, authorize_query, policy, query_of};
    use crate::common::hosted::{Browser, Page};
    use crate::common::{Api, Backend, CODE, Flows, PASSWORD};

    /// The pages' tenant, asking for a phone after the address.
    async fn phone_api(backend: Backend) -> Api {
        let api = api(backend).await;
        let mut tenant = api.app.tenant.clone();
        tenant.policy = Policy { phone_required: true, ..policy() };
        shared::domain::tenant::save_tenant(api.app.app.store.as_ref(), &tenant).await.unwrap();
        api.advance(61); // past the instance's policy cache
        api
    }

    async fn email_api(backend: Backend) -> Api {
        api(backend).await
    }

    /// The tenant whose sign-up starts with the phone.
    async fn phone_first_api(backend: Backend) -> Api {
        let api = api(backend).await;
        let mut tenant = api.app.tenant.clone();
        tenant.policy = Policy { sign_up_starts_with: shared::domain::tenant::SignUpStart::Phone, ..policy() };
        shared::domain::tenant::save_tenant(api.app.app.store.as_ref(), &tenant).await.unwrap();
        api.advance(61); // past the instance's policy cache
        api
    }

    mod with_phone_first {
        use super::{a_sign_up_that_starts_with_the_phone_verifies_it_first, phone_first_api};

        on_both_stores!(phone_first_api;
            a_sign_up_that_starts_with_the_phone_verifies_it_first,
        );
    }

    /// The tenant that asks for a phone: a module of its own.
    mod with_phone {
        use super::{a_new_user_signs_up_on_the_pages_and_the_client_gets_its_code, phone_api};

        on_both_stores!(phone_api;
            a_new_user_signs_up_on_the_pages_and_the_client_gets_its_code,
        );
    }

    on_both_stores!(email_api;
        the_sign_up_form_keeps_the_api_rules,
        a_wrong_sign_up_code_is_refused_with_an_alert_and_spends_a_try,
        a_taken_address_gets_the_pages_a_new_one_gets,
        a_sign_up_without_the_csrf_token_is_refused,
        a_sign_up_is_bound_to_its_browser,
        a_failed_send_is_resumed_by_the_code_pages_resend,
        the_sign_up_page_speaks_german,
    );

    /// The sign-in page's link to the sign-up, followed.
    async fn sign_up_page(browser: &mut Browser, extra: &[(&str, &str)]) -> Page {
        let sign_in = browser.get(&authorize_query(extra)).await;
        assert_eq!(sign_in.status, StatusCode::OK, "{}", sign_in.html);
        let link = sign_in.link("screen=signup").expect("a link to the sign-up");
        assert!(link.contains("client_id=pages-client") && link.contains("state=st-123"), "{link}");
        let page = browser.follow(&link).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.html);
        assert_eq!(page.input("step").as_deref(), Some("signup"));
        page
    }

    fn fields(email: &str) -> Vec<(&str, &str)> {
        vec![
            ("email", email),
            ("first_name", "Nora"),
            ("last_name", "Neu"),
            ("birth_date", ""),
            ("password", PASSWORD),
            ("confirm_password", PASSWORD),
            ("terms_accepted", "true"),
            ("privacy_policy_accepted", "true"),
        ]
    }

    /// Starts a sign-up for `email` on the pages: the e-mail code's page.
    async fn started(api: &Api, email: &str) -> (Browser, Page) {
        let mut browser = Browser::at(&api.app.url(""));
        let form = sign_up_page(&mut browser, &[]).await;
        let code_page = browser.submit(&form, &fields(email)).await;
        assert_eq!(code_page.status, StatusCode::OK, "{}", code_page.html);
        assert_eq!(code_page.input("step").as_deref(), Some("signup_email"), "{}", code_page.html);
        assert!(code_page.input("registration_id").is_some_and(|id| id.starts_with("reg_")));
        (browser, code_page)
    }

    fn claims(id_token: &str) -> serde_json::Value {
        let payload = id_token.split('.').nth(1).expect("a JWT");
        serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
    }

    async fn a_new_user_signs_up_on_the_pages_and_the_client_gets_its_code(api: Api) {
        let email = "pages-new@example.com";
        let phone = "+41791234500";
        let mut browser = Browser::at(&api.app.url(""));
        let form = sign_up_page(&mut browser, &[]).await;
        // Every input labelled, with the tokens browsers fill a new account with.
        for (id, token) in [
            ("email", "email"),
            ("first_name", "given-name"),
            ("last_name", "family-name"),
            ("birth_date", "bday"),
            ("password", "new-password"),
            ("confirm_password", "new-password"),
        ] {
            assert!(form.html.contains(&format!("<label for=\"{id}\">")), "{id}");
            assert!(form.html.contains(&format!("autocomplete=\"{token}\"")), "{token}");
        }
        // The legal documents of the tenant's versions, each a checkbox.
        for field in ["terms_accepted", "privacy_policy_accepted"] {
            assert!(form.html.contains(&format!("<label for=\"{field}\">")), "{field}");
        }
        let mut filled = fields(email);
        filled[3] = ("birth_date", "1990-04-01");
        let code_page = browser.submit(&form, &filled).await;
        assert_eq!(code_page.status, StatusCode::OK, "{}", code_page.html);
        assert!(code_page.html.contains("autocomplete=\"one-time-code\""), "{}", code_page.html);
        // The e-mailed code, as the outbox has it.
        let code = api.app.latest_code(email).expect("a code e-mailed");
        let phone_page = browser.submit(&code_page, &[("code", code.as_str())]).await;
        assert_eq!(phone_page.status, StatusCode::OK, "{}", phone_page.html);
        assert_eq!(phone_page.input("step").as_deref(), Some("signup_phone"), "{}", phone_page.html);
        assert!(phone_page.html.contains("<label for=\"phone\">") && phone_page.html.contains("autocomplete=\"tel\""));
        let sms_page = browser.submit(&phone_page, &[("phone", phone)]).await;
        assert_eq!(sms_page.input("step").as_deref(), Some("signup_sms"), "{}", sms_page.html);
        let code = api.app.latest_code(phone).expect("a code texted");
        let done = browser.submit(&sms_page, &[("code", code.as_str())]).await;
        // The end of a sign-in: the code and the state to the client, the
        // hosted session to the browser.
        assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.html);
        let location = done.location();
        assert!(location.starts_with(&format!("{REDIRECT}?")), "{location}");
        let query = query_of(&location);
        assert_eq!(query.get("state").map(String::as_str), Some("st-123"));
        assert!(browser.cookies.contains_key("registrar_hosted_session"), "{:?}", browser.cookies.keys());
        let form = [
            ("grant_type", "authorization_code"),
            ("code", query["code"].as_str()),
            ("redirect_uri", REDIRECT),
            ("code_verifier", VERIFIER),
            ("client_id", "pages-client"),
        ];
        let tokens: serde_json::Value =
            api.http.post(api.app.url("/oauth2/token")).form(&form).send().await.unwrap().json().await.unwrap();
        let id_token = tokens["id_token"].as_str().unwrap_or_else(|| panic!("an ID token: {tokens}"));
        let claims = claims(id_token);
        assert_eq!(claims["email"], email, "{claims}");
        assert_eq!(claims["nonce"], "n-456");
        // The ID token names the user the sign-up created, with its phone
        // and birth date.
        let me = api.me(tokens["access_token"].as_str().unwrap()).await;
        assert_eq!(me.status, StatusCode::OK, "{}", me.body);
        assert_eq!(me.body["user_id"], claims["sub"], "{}", me.body);
        assert_eq!(me.body["email"], email);
        assert_eq!(me.body["phone"], phone);
        assert_eq!(me.body["birth_date"], "1990-04-01");
        // A user with address and phone has two factors on, which a
        // sign-up does not prove (its session's `amr` has no `mfa`, as the
        // API's): the hosted session does not sign in silently, the next
        // authorization asks for the password.
        let again = browser.get(&authorize_query(&[])).await;
        assert_eq!(again.status, StatusCode::OK, "{}", again.location());
        assert!(again.html.contains("autocomplete=\"current-password\""));
    }

    async fn the_sign_up_form_keeps_the_api_rules(api: Api) {
        let mut browser = Browser::at(&api.app.url(""));
        let form = sign_up_page(&mut browser, &[("ui_locales", "en")]).await;
        // A weak password typed twice differently, the terms not ticked.
        let mut filled = fields("pages-rules@example.com");
        filled.retain(|(name, _)| *name != "terms_accepted");
        filled[4] = ("password", "weak");
        let refused = browser.submit(&form, &filled).await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.html);
        let alert = refused.alert().expect("an alert");
        assert!(alert.contains("Password:") && alert.contains("Terms of use:"), "{alert}");
        assert!(alert.contains("Password again:"), "the confirmation: {alert}");
        // The values again, never the password; nothing was sent.
        assert_eq!(refused.input("first_name").as_deref(), Some("Nora"));
        assert_eq!(refused.input("email").as_deref(), Some("pages-rules@example.com"));
        assert!(!refused.html.contains(PASSWORD));
        assert!(api.app.latest_code("pages-rules@example.com").is_none());
        // Filled right, the same form goes on.
        let next = browser.submit(&refused, &fields("pages-rules@example.com")).await;
        assert_eq!(next.input("step").as_deref(), Some("signup_email"), "{}", next.html);
    }

    async fn a_wrong_sign_up_code_is_refused_with_an_alert_and_spends_a_try(api: Api) {
        let email = "pages-tries@example.com";
        let (mut browser, code_page) = started(&api, email).await;
        let id = code_page.input("registration_id");
        let wrong = browser.submit(&code_page, &[("code", "000000")]).await;
        assert_eq!(wrong.status, StatusCode::BAD_REQUEST, "{}", wrong.html);
        assert!(wrong.alert().is_some_and(|a| a.contains("code")), "{}", wrong.html);
        assert_eq!(wrong.input("registration_id"), id, "the same sign-up");
        assert!(wrong.html.contains("autocomplete=\"one-time-code\""));
        // Each wrong code spent a try, as the API's: after the tenant's
        // five, the right code is dead too.
        let mut page = wrong;
        for _ in 0..4 {
            page = browser.submit(&page, &[("code", "000000")]).await;
            assert_eq!(page.status, StatusCode::BAD_REQUEST, "{}", page.html);
        }
        let dead = browser.submit(&page, &[("code", CODE)]).await;
        assert_eq!(dead.status, StatusCode::BAD_REQUEST, "the code is used up: {}", dead.location());
        // A new code (past the cooldown) verifies, and the flow ends with the client's code.
        api.advance(61);
        let resent = browser.submit(&dead, &[("resend", "true")]).await;
        assert_eq!(resent.status, StatusCode::OK, "{}", resent.html);
        assert!(resent.html.contains("role=\"status\""), "{}", resent.html);
        let code = api.app.latest_code(email).expect("a new code");
        let done = browser.submit(&resent, &[("code", code.as_str())]).await;
        assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.html);
        assert!(query_of(&done.location()).contains_key("code"));
        // Signed in (one factor, as the tenant asks): the next authorization
        // is a code at once, by the hosted session.
        let again = browser.get(&authorize_query(&[])).await;
        assert_eq!(again.status, StatusCode::FOUND, "{}", again.html);
        assert!(query_of(&again.location()).contains_key("code"));
    }

    /// No enumeration beyond the API's: a taken address gets the pages a
    /// new one gets (its owner an e-mail instead of a code), and its code
    /// never verifies.
    async fn a_taken_address_gets_the_pages_a_new_one_gets(api: Api) {
        let (taken, fresh) = ("pages-taken@example.com", "pages-fresh@example.com");
        api.sign_up(taken).await;
        let (mut taken_browser, taken_page) = started(&api, taken).await;
        let (mut fresh_browser, fresh_page) = started(&api, fresh).await;
        assert_eq!(taken_page.status, fresh_page.status);
        let without = |page: &Page| {
            let (id, csrf) = (page.input("registration_id").unwrap(), page.input("csrf").unwrap());
            page.html.replace(&id, "ID").replace(&csrf, "CSRF")
        };
        assert_eq!(without(&taken_page), without(&fresh_page));
        let refused = taken_browser.submit(&taken_page, &[("code", CODE)]).await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.html);
        assert!(refused.alert().is_some());
        let done = fresh_browser.submit(&fresh_page, &[("code", CODE)]).await;
        assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.html);
    }

    async fn a_sign_up_without_the_csrf_token_is_refused(api: Api) {
        let mut browser = Browser::at(&api.app.url(""));
        let form = sign_up_page(&mut browser, &[]).await;
        let email = "pages-forged@example.com";
        let mut forged: Vec<(String, String)> = form.hidden().into_iter().filter(|(n, _)| n != "csrf").collect();
        forged.extend(fields(email).into_iter().map(|(n, v)| (n.to_owned(), v.to_owned())));
        let refused = browser.post(&forged).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.html);
        assert!(refused.html.contains("role=\"alert\""));
        // Another browser posting the page's form (token and all).
        let mut stranger = Browser::at(&api.app.url(""));
        assert_eq!(stranger.submit(&form, &fields(email)).await.status, StatusCode::FORBIDDEN);
        assert!(api.app.latest_code(email).is_none(), "no sign-up started");
        // A code's form without the token, too.
        let (mut browser, code_page) = started(&api, email).await;
        let mut forged: Vec<(String, String)> = code_page.hidden().into_iter().filter(|(n, _)| n != "csrf").collect();
        forged.push(("code".into(), CODE.into()));
        assert_eq!(browser.post(&forged).await.status, StatusCode::FORBIDDEN);
    }

    async fn the_sign_up_page_speaks_german(api: Api) {
        let mut browser = Browser::at(&api.app.url(""));
        let sign_in = browser.get(&authorize_query(&[("ui_locales", "de-CH en")])).await;
        assert!(sign_in.html.contains("Konto erstellen"), "the link: {}", sign_in.html);
        let form = sign_up_page(&mut browser, &[("ui_locales", "de-CH en")]).await;
        assert!(form.html.starts_with("<!DOCTYPE html><html lang=\"de\">"), "{}", &form.html[..80]);
        assert!(form.html.contains("Vorname") && form.html.contains("Nutzungsbedingungen"), "{}", form.html);
        let mut filled = fields("pages-deutsch@example.com");
        filled[1] = ("first_name", "");
        let refused = browser.submit(&form, &filled).await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST);
        let alert = refused.alert().expect("an alert");
        assert!(alert.contains("Vorname:"), "{alert}");
        let code_page = browser.submit(&refused, &fields("pages-deutsch@example.com")).await;
        assert!(code_page.html.contains("E-Mail-Adresse bestätigen"), "{}", code_page.html);
    }

    /// The registration id in a code's form is bound to the browser: another
    /// browser, with a form of its own (its own CSRF token), cannot use it.
    async fn a_sign_up_is_bound_to_its_browser(api: Api) {
        let (mut browser, code_page) = started(&api, "pages-bound@example.com").await;
        let mut other = Browser::at(&api.app.url(""));
        let own = sign_up_page(&mut other, &[]).await;
        let csrf = own.input("csrf").unwrap();
        let mut fields: Vec<(String, String)> =
            code_page.hidden().into_iter().map(|(n, v)| if n == "csrf" { (n, csrf.clone()) } else { (n, v) }).collect();
        fields.push(("code".into(), CODE.into()));
        let refused = other.post(&fields).await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.location());
        assert!(refused.alert().is_some(), "{}", refused.html);
        // A registration id without its binding is unknown too.
        let mut fields: Vec<(String, String)> = code_page
            .hidden()
            .into_iter()
            .map(|(n, v)| if n == "registration_id" { (n, v.split('.').next().unwrap().to_owned()) } else { (n, v) })
            .collect();
        fields.push(("code".into(), CODE.into()));
        let stripped = browser.post(&fields).await;
        assert_eq!(stripped.status, StatusCode::BAD_REQUEST);
        assert!(stripped.alert().is_some(), "{}", stripped.html);
        // The browser that started it goes on.
        let done = browser.submit(&code_page, &[("code", CODE)]).await;
        assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.html);
    }

    async fn a_sign_up_that_starts_with_the_phone_verifies_it_first(api: Api) {
        let (email, phone) = ("pages-phone-first@example.com", "+41791234511");
        let mut browser = Browser::at(&api.app.url(""));
        let form = sign_up_page(&mut browser, &[]).await;
        assert!(form.html.contains("<label for=\"phone\">") && form.html.contains("autocomplete=\"tel\""));
        let mut filled = fields(email);
        filled.push(("phone", phone));
        let sms_page = browser.submit(&form, &filled).await;
        assert_eq!(sms_page.input("step").as_deref(), Some("signup_sms"), "{}", sms_page.html);
        let code = api.app.latest_code(phone).expect("a code texted");
        let email_page = browser.submit(&sms_page, &[("code", code.as_str())]).await;
        assert_eq!(email_page.input("step").as_deref(), Some("signup_email"), "{}", email_page.html);
        let code = api.app.latest_code(email).expect("a code e-mailed");
        let done = browser.submit(&email_page, &[("code", code.as_str())]).await;
        assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.html);
        assert!(query_of(&done.location()).contains_key("code"));
    }

    /// SES down as the sign-up starts: the registration is kept (as the
    /// API's 503 with `resume_with: resend`), its code's page says so, and
    /// its resend resumes it.
    async fn a_failed_send_is_resumed_by_the_code_pages_resend(api: Api) {
        let email = "pages-flaky@example.com";
        let mut browser = Browser::at(&api.app.url(""));
        let form = sign_up_page(&mut browser, &[]).await;
        api.app.sender.fail_email(true);
        let failed = browser.submit(&form, &fields(email)).await;
        api.app.sender.fail_email(false);
        assert_eq!(failed.status, StatusCode::SERVICE_UNAVAILABLE, "{}", failed.html);
        assert!(failed.headers.get("retry-after").is_some());
        assert!(failed.alert().is_some(), "{}", failed.html);
        assert_eq!(failed.input("step").as_deref(), Some("signup_email"), "{}", failed.html);
        assert!(api.app.latest_code(email).is_none(), "nothing went out");
        let resumed = browser.submit(&failed, &[("resend", "true")]).await;
        assert_eq!(resumed.status, StatusCode::OK, "{}", resumed.html);
        let code = api.app.latest_code(email).expect("the code, sent now");
        let done = browser.submit(&resumed, &[("code", code.as_str())]).await;
        assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.html);
    }
}
