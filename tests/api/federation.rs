//! Sign-in with another identity provider through the API (SPEC §14:
//! `POST /v1/auth/federated/token`, `/v1/me/identities`), on both stores,
//! against a stand-in provider on 127.0.0.1 (`common::idp`): a new identity
//! makes a user (legal documents asked for, `amr` `fed`), the same identity
//! comes back as the same user, an existing account's address is linked
//! only after that account signs in, every check of the ID token holds, a
//! provider that is down is a 503 that leaves nothing behind, 50 first
//! sign-ins at once make one user, and unlinking keeps a way to sign in.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use shared::domain::tenant::{IpLimits, Policy};

use crate::common::hosted::{Browser, Page};
use crate::common::idp::{CLIENT_ID, Idp};
use crate::common::{Answer, Api, Backend, CODE, Flows, PASSWORD};
use crate::hosted_pages::{REDIRECT, VERIFIER, authorize_query, query_of};

struct Fed {
    api: Api,
    idp: Idp,
}

async fn fed(backend: Backend) -> Fed {
    fed_with(backend, |policy| policy).await
}

/// `fed` with the tenant's policy changed by `change`.
async fn fed_with(backend: Backend, change: impl FnOnce(Policy) -> Policy) -> Fed {
    let idp = Idp::start().await;
    let policy = Policy {
        sandbox_code: Some(CODE.into()),
        phone_required: false,
        ip_limits: IpLimits { logins_per_5_min: 1000, ..IpLimits::default() },
        identity_providers: vec![idp.provider("acme")],
        ..Policy::default()
    };
    let api = Api::start(backend, change(policy)).await;
    crate::hosted_pages::register_client(&api).await;
    Fed { api, idp }
}

fn claims_of(token: &str) -> Value {
    let payload = token.split('.').nth(1).expect("a JWT");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).expect("base64url")).expect("JSON claims")
}

impl Fed {
    fn now(&self) -> i64 {
        self.api.now().timestamp()
    }

    /// An ID token of the stand-in for `subject` with `email` (verified).
    fn token(&self, subject: &str, email: &str) -> String {
        self.idp.sign(&self.idp.claims(subject, email, self.now()))
    }

    async fn exchange(&self, id_token: &str, nonce: Option<&str>, device: &str) -> Answer {
        let mut body = json!({ "provider": "acme", "id_token": id_token });
        if let Some(nonce) = nonce {
            body["nonce"] = json!(nonce);
        }
        self.api.post("/v1/auth/federated/token", body, &[("X-Device-ID", device)]).await
    }

    /// A first sign-in: the legal documents, accepted; the tokens.
    async fn first_sign_in(&self, id_token: &str) -> Value {
        let answer = self.exchange(id_token, None, "phone-1").await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
        assert_eq!(answer.body["legal_acceptance_required"], true, "a new user accepts the documents: {}", answer.body);
        let accepted = self
            .api
            .post(
                "/v1/auth/legal/accept",
                json!({ "challenge_id": answer.body["challenge_id"], "terms_accepted": true, "privacy_policy_accepted": true }),
                &[("X-Device-ID", "phone-1")],
            )
            .await;
        assert_eq!(accepted.status, StatusCode::OK, "{}", accepted.body);
        accepted.body
    }

    async fn users_with(&self, email: &str) -> Vec<Value> {
        let admin = format!("Bearer {}", self.api.app.admin_token);
        let found = self.api.get(&format!("/v1/users?email={email}"), &[("Authorization", &admin)]).await;
        assert_eq!(found.status, StatusCode::OK, "{}", found.body);
        found.body["users"].as_array().cloned().unwrap_or_default()
    }

    async fn bearer_send(&self, method: Method, path: &str, body: Option<Value>, access: &str) -> Answer {
        let bearer = format!("Bearer {access}");
        self.api.send(method, path, body, &[("Authorization", &bearer)]).await
    }
}

on_both_stores!(fed;
    a_new_identity_makes_a_user_and_comes_back_as_it,
    an_existing_accounts_address_is_linked_only_after_it_signs_in,
    an_unverified_address_is_neither_linked_nor_taken,
    every_check_of_the_id_token_holds,
    an_address_that_only_folds_into_an_account_is_not_verified,
    a_provider_that_is_down_is_a_503_and_leaves_nothing,
    fifty_first_sign_ins_at_once_make_one_user,
    unlinking_keeps_a_way_to_sign_in,
    an_unknown_provider_or_a_malformed_token_is_refused_clearly,
    the_pages_sign_in_through_the_provider_and_the_app_gets_its_code,
    a_state_is_used_once_and_only_in_its_browser,
    an_existing_account_links_on_the_pages_after_its_password,
    a_providers_form_post_is_posted_again_from_here,
    a_failing_or_refusing_provider_shows_a_page_and_leaves_nothing,
    a_provider_never_reached_is_a_503_page,
);

async fn a_provider_never_reached_is_a_503_page(f: Fed) {
    f.idp.set_down(true);
    let mut browser = Browser::at(&f.api.app.url(""));
    let page = browser.get(&authorize_query(&[("identity_provider", "acme")])).await;
    assert_eq!(page.status, StatusCode::SERVICE_UNAVAILABLE, "{}", page.html);
    assert!(page.headers["content-type"].to_str().unwrap().starts_with("text/html"));
    assert!(page.location().is_empty() && page.alert().is_some());
    // An id the tenant has not: back to the app with invalid_request.
    let unknown = browser.get(&authorize_query(&[("identity_provider", "nobody")])).await;
    assert_eq!(unknown.status, StatusCode::FOUND);
    assert_eq!(query_of(&unknown.location()).get("error").map(String::as_str), Some("invalid_request"));
}

mod required_second_factor {
    use super::*;

    async fn fed(backend: Backend) -> Fed {
        fed_with(backend, |policy| Policy {
            second_factors: shared::domain::policy::SecondFactorPolicy { required: true, ..Default::default() },
            ..policy
        })
        .await
    }

    on_both_stores!(fed; an_emailed_code_is_no_second_factor_after_a_provider);

    /// The provider stands for the mailbox: a tenant that requires a second
    /// factor gets none by e-mail after it (a password user would).
    async fn an_emailed_code_is_no_second_factor_after_a_provider(f: Fed) {
        let refused = f.exchange(&f.token("emp-r1", "rea@acme.example"), None, "d").await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
        assert_eq!(refused.code(), "mfa_unavailable");
        let outbox = std::fs::read_dir(&f.api.app.outbox).map(|dir| dir.count()).unwrap_or(0);
        assert_eq!(outbox, 0, "no e-mail went out");
    }
}

/// Where a browser goes from the sign-in page's button: the provider's
/// authorization request (its query), checked.
async fn to_the_provider(f: &Fed, browser: &mut Browser) -> std::collections::BTreeMap<String, String> {
    let page = browser.get(&authorize_query(&[])).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.html);
    let href = page.link("identity_provider=acme").expect("a button for the provider");
    assert!(page.html.contains("Continue with acme"), "{}", page.html);
    let sent = browser.follow(&href).await;
    assert_eq!(sent.status, StatusCode::FOUND, "{}", sent.html);
    let location = sent.location();
    assert!(location.starts_with(&format!("{}/authorize?", f.idp.issuer)), "{location}");
    let query = query_of(&location);
    assert_eq!(query["client_id"], CLIENT_ID);
    assert_eq!(query["redirect_uri"], format!("{}/oauth2/idpresponse", f.api.app.app.settings.issuer));
    assert_eq!((query["response_type"].as_str(), query["code_challenge_method"].as_str()), ("code", "S256"));
    assert!(query["state"].len() >= 40 && query["nonce"].len() >= 40, "{query:?}");
    query
}

/// The provider's answer for `sent`: a code for `claims` (the request's nonce added).
fn answer_for(f: &Fed, sent: &std::collections::BTreeMap<String, String>, mut claims: Value) -> String {
    claims["nonce"] = json!(sent["nonce"]);
    let code = f.idp.issue_code(&claims, &sent["code_challenge"]);
    format!("/oauth2/idpresponse?code={code}&state={}", sent["state"])
}

/// The app's code exchanged: the ID token's claims.
async fn app_tokens(f: &Fed, done: &Page) -> Value {
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.html);
    let location = done.location();
    assert!(location.starts_with(REDIRECT), "{location}");
    let back = query_of(&location);
    assert_eq!(back.get("state").map(String::as_str), Some("st-123"));
    let form = [
        ("grant_type", "authorization_code"),
        ("code", back["code"].as_str()),
        ("redirect_uri", REDIRECT),
        ("code_verifier", VERIFIER),
        ("client_id", "pages-client"),
    ];
    let tokens: Value =
        f.api.http.post(f.api.app.url("/oauth2/token")).form(&form).send().await.unwrap().json().await.unwrap();
    assert!(tokens["id_token"].is_string(), "{tokens}");
    tokens
}

async fn the_pages_sign_in_through_the_provider_and_the_app_gets_its_code(f: Fed) {
    let mut browser = Browser::at(&f.api.app.url(""));
    let sent = to_the_provider(&f, &mut browser).await;
    let back = browser.visit(&answer_for(&f, &sent, f.idp.claims("emp-p1", "paula@acme.example", f.now()))).await;
    // A new user: the legal documents first.
    assert_eq!(back.status, StatusCode::OK, "{}", back.html);
    assert!(back.html.contains("terms_accepted"), "{}", back.html);
    let done = browser.submit(&back, &[("terms_accepted", "true"), ("privacy_policy_accepted", "true")]).await;
    let tokens = app_tokens(&f, &done).await;
    let id = claims_of(tokens["id_token"].as_str().unwrap());
    assert_eq!(id["amr"], json!(["fed"]), "{id}");
    assert_eq!(id["email"], "paula@acme.example", "{id}");
    // Registrar was the provider's client: HTTP Basic and the PKCE verifier.
    let calls = f.idp.token_calls.lock().unwrap().clone();
    assert_eq!(calls.len(), 1);
    assert!(calls[0].0.starts_with("Basic ") && calls[0].1.contains_key("code_verifier"), "{calls:?}");
    // The same browser, the same identity again, in another app visit: at once.
    let mut other = Browser::at(&f.api.app.url(""));
    let sent = to_the_provider(&f, &mut other).await;
    let again = other.visit(&answer_for(&f, &sent, f.idp.claims("emp-p1", "paula@acme.example", f.now()))).await;
    assert_eq!(again.status, StatusCode::FOUND, "signed in at once: {}", again.html);
    assert!(again.location().starts_with(REDIRECT));
    assert_eq!(f.users_with("paula@acme.example").await.len(), 1);
}

async fn a_state_is_used_once_and_only_in_its_browser(f: Fed) {
    let mut browser = Browser::at(&f.api.app.url(""));
    let sent = to_the_provider(&f, &mut browser).await;
    let answer = answer_for(&f, &sent, f.idp.claims("emp-p2", "rita@acme.example", f.now()));
    // Someone else's browser with this answer (a login CSRF): nobody signs in.
    let mut stranger = Browser::at(&f.api.app.url(""));
    stranger.get(&authorize_query(&[])).await;
    let refused = stranger.visit(&answer).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.html);
    assert!(refused.alert().is_some());
    assert!(f.users_with("rita@acme.example").await.is_empty());
    // The state was spent by that attempt: the right browser starts again.
    let spent = browser.visit(&answer).await;
    assert_eq!(spent.status, StatusCode::BAD_REQUEST, "{}", spent.html);
    let sent = to_the_provider(&f, &mut browser).await;
    let answer = answer_for(&f, &sent, f.idp.claims("emp-p2", "rita@acme.example", f.now()));
    assert_eq!(browser.visit(&answer).await.status, StatusCode::OK);
    assert_eq!(browser.visit(&answer).await.status, StatusCode::BAD_REQUEST, "used once");
}

async fn an_existing_account_links_on_the_pages_after_its_password(f: Fed) {
    let signed_up = f.api.sign_up("quinn@acme.example").await;
    let mut browser = Browser::at(&f.api.app.url(""));
    let sent = to_the_provider(&f, &mut browser).await;
    let link = browser.visit(&answer_for(&f, &sent, f.idp.claims("emp-p3", "quinn@acme.example", f.now()))).await;
    assert_eq!(link.status, StatusCode::OK, "{}", link.html);
    assert!(link.html.contains("quinn@acme.example") && link.html.contains("current-password"), "{}", link.html);
    assert!(link.location().is_empty(), "never signed in silently");
    let wrong = browser.submit(&link, &[("password", "Wr0ng!Pass")]).await;
    assert_eq!(wrong.status, StatusCode::BAD_REQUEST, "{}", wrong.html);
    assert!(wrong.alert().is_some());
    let done = browser.submit(&wrong, &[("password", PASSWORD)]).await;
    let tokens = app_tokens(&f, &done).await;
    assert_eq!(claims_of(tokens["id_token"].as_str().unwrap())["sub"], signed_up["user_id"]);
    let listed =
        f.bearer_send(Method::GET, "/v1/me/identities", None, signed_up["access_token"].as_str().unwrap()).await;
    assert_eq!(listed.body["identities"][0]["provider"], "acme", "{}", listed.body);
    // From now on the provider signs Quinn in at once.
    let mut later = Browser::at(&f.api.app.url(""));
    let sent = to_the_provider(&f, &mut later).await;
    let again = later.visit(&answer_for(&f, &sent, f.idp.claims("emp-p3", "quinn@acme.example", f.now()))).await;
    assert_eq!(again.status, StatusCode::FOUND, "{}", again.html);
}

async fn a_providers_form_post_is_posted_again_from_here(f: Fed) {
    let mut browser = Browser::at(&f.api.app.url(""));
    let sent = to_the_provider(&f, &mut browser).await;
    let mut claims = f.idp.claims("emp-p4", "sam@acme.example", f.now());
    claims.as_object_mut().unwrap().remove("given_name");
    claims.as_object_mut().unwrap().remove("family_name");
    let path = answer_for(&f, &sent, claims);
    let query = query_of(&path);
    let user = json!({ "name": { "firstName": "Sam", "lastName": "Apple" }, "email": "sam@acme.example" }).to_string();
    // As the provider's site posts it: the browser sends no SameSite cookie.
    let posted = [("code", query["code"].as_str()), ("state", query["state"].as_str()), ("user", user.as_str())];
    let response = f.api.http.post(f.api.app.url("/oauth2/idpresponse")).form(&posted).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let csp = response.headers()["content-security-policy"].to_str().unwrap().to_owned();
    assert!(csp.contains("script-src 'sha256-"), "{csp}");
    let html = response.text().await.unwrap();
    let page = Page { status: StatusCode::OK, headers: Default::default(), html };
    let fields = page.hidden();
    assert!(fields.iter().any(|(n, v)| n == "resubmitted" && v == "true"), "{fields:?}");
    // Posted again from here, with the cookie: the sign-in goes on.
    let back = browser.post_to("/oauth2/idpresponse", &fields).await;
    assert_eq!(back.status, StatusCode::OK, "{}", back.html);
    let done = browser.submit(&back, &[("terms_accepted", "true"), ("privacy_policy_accepted", "true")]).await;
    let tokens = app_tokens(&f, &done).await;
    let me = f.api.me(tokens["access_token"].as_str().unwrap()).await;
    assert_eq!((&me.body["first_name"], &me.body["last_name"]), (&json!("Sam"), &json!("Apple")), "{}", me.body);
}

async fn a_failing_or_refusing_provider_shows_a_page_and_leaves_nothing(f: Fed) {
    let mut browser = Browser::at(&f.api.app.url(""));
    // The user cancels at the provider: the sign-in page again.
    let sent = to_the_provider(&f, &mut browser).await;
    let cancelled = browser.visit(&format!("/oauth2/idpresponse?error=access_denied&state={}", sent["state"])).await;
    assert_eq!(cancelled.status, StatusCode::BAD_REQUEST, "{}", cancelled.html);
    assert!(cancelled.html.contains("current-password") && cancelled.alert().is_some());
    // A token for another nonce (a replayed answer): refused.
    let sent = to_the_provider(&f, &mut browser).await;
    let mut claims = f.idp.claims("emp-p5", "tom@acme.example", f.now());
    claims["nonce"] = json!("another-nonce");
    let code = f.idp.issue_code(&claims, &sent["code_challenge"]);
    let refused = browser.visit(&format!("/oauth2/idpresponse?code={code}&state={}", sent["state"])).await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED, "{}", refused.html);
    assert!(refused.alert().is_some());
    // The provider down at the token endpoint: a 503 page.
    let sent = to_the_provider(&f, &mut browser).await;
    let answer = answer_for(&f, &sent, f.idp.claims("emp-p5", "tom@acme.example", f.now()));
    f.idp.set_down(true);
    let down = browser.visit(&answer).await;
    assert_eq!(down.status, StatusCode::SERVICE_UNAVAILABLE, "{}", down.html);
    assert!(down.headers["content-type"].to_str().unwrap().starts_with("text/html"));
    f.idp.set_down(false);
    assert!(f.users_with("tom@acme.example").await.is_empty(), "nothing half-written");
}

async fn a_new_identity_makes_a_user_and_comes_back_as_it(f: Fed) {
    let first = f.token("emp-1", "ida@acme.example");
    let tokens = f.first_sign_in(&first).await;
    let access = tokens["access_token"].as_str().unwrap();
    let claims = claims_of(access);
    assert_eq!(claims["amr"], json!(["fed"]), "{claims}");
    let me = f.api.me(access).await;
    assert_eq!(me.body["email"], "ida@acme.example", "{}", me.body);
    let email = &me.body["credentials"][0];
    assert_eq!((&email["type"], &email["verified"]), (&json!("email"), &json!(true)), "verified: {}", me.body);
    assert_eq!(me.body["first_name"], "Ida");
    let identities = f.bearer_send(Method::GET, "/v1/me/identities", None, access).await;
    assert_eq!(identities.status, StatusCode::OK);
    assert_eq!(identities.body["identities"][0]["provider"], "acme", "{}", identities.body);
    // A token is taken once: the same one again (seen, say, by another
    // backend the app forwarded it to) signs no one in.
    let replayed = f.exchange(&first, None, "phone-3").await;
    assert_eq!(replayed.status, StatusCode::UNAUTHORIZED, "{}", replayed.body);
    assert_eq!(replayed.code(), "invalid_id_token");
    // The same identity again: the same user, signed in at once.
    let again = f.exchange(&f.token("emp-1", "ida@acme.example"), None, "phone-2").await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.body);
    assert_eq!(again.body["user_id"], tokens["user_id"], "{}", again.body);
    assert!(again.body["access_token"].is_string());
    assert_eq!(f.users_with("ida@acme.example").await.len(), 1);
    let audit = f.api.audit(tokens["user_id"].as_str().unwrap()).await;
    assert!(audit.iter().any(|e| e["event"] == "identity_linked"), "{audit:?}");
    // The user's export names the identity; closing the account frees it.
    let export = f.bearer_send(Method::GET, "/v1/me/export", None, access).await;
    assert_eq!(export.body["identities"][0]["provider"], "acme", "{}", export.body);
}

async fn an_existing_accounts_address_is_linked_only_after_it_signs_in(f: Fed) {
    let signed_up = f.api.sign_up("olga@acme.example").await;
    // Someone with a provider account of the same address: never signed in
    // to Olga's account silently.
    let refused = f.exchange(&f.token("emp-2", "olga@acme.example"), None, "phone-1").await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.body);
    assert_eq!(refused.code(), "identity_link_required");
    assert!(refused.body.get("access_token").is_none());
    // Olga signs in with her password and links the identity herself.
    let login = f.api.login("olga@acme.example", PASSWORD, "laptop").await;
    let access = login.body["access_token"].as_str().unwrap().to_owned();
    let linked = f
        .bearer_send(
            Method::POST,
            "/v1/me/identities/acme",
            Some(json!({ "id_token": f.token("emp-2", "olga@acme.example") })),
            &access,
        )
        .await;
    assert_eq!(linked.status, StatusCode::CREATED, "{}", linked.body);
    assert_eq!(linked.body["provider"], "acme");
    let now = f.exchange(&f.token("emp-2", "olga@acme.example"), None, "phone-1").await;
    assert_eq!(now.status, StatusCode::OK, "{}", now.body);
    assert_eq!(now.body["user_id"], signed_up["user_id"]);
    // Another user may not link the same identity.
    f.api.sign_up("mallory@acme.example").await;
    let mallory = f.api.login("mallory@acme.example", PASSWORD, "m").await;
    let taken = f
        .bearer_send(
            Method::POST,
            "/v1/me/identities/acme",
            Some(json!({ "id_token": f.token("emp-2", "olga@acme.example") })),
            mallory.body["access_token"].as_str().unwrap(),
        )
        .await;
    assert_eq!(taken.status, StatusCode::CONFLICT, "{}", taken.body);
    assert_eq!(taken.code(), "identity_taken");
    // A link long after the sign-in needs the password again.
    f.api.advance(10 * 60);
    let late = f
        .bearer_send(
            Method::POST,
            "/v1/me/identities/acme",
            Some(json!({ "id_token": f.token("emp-3", "x@acme.example") })),
            &access,
        )
        .await;
    assert_eq!(late.status, StatusCode::FORBIDDEN, "{}", late.body);
    assert_eq!(late.code(), "step_up_required");
}

async fn an_unverified_address_is_neither_linked_nor_taken(f: Fed) {
    let signed_up = f.api.sign_up("pia@acme.example").await;
    let mut claims = f.idp.claims("emp-4", "pia@acme.example", f.now());
    claims["email_verified"] = json!(false);
    let tokens = f.first_sign_in(&f.idp.sign(&claims)).await;
    assert_ne!(tokens["user_id"], signed_up["user_id"], "not Pia's account");
    let me = f.api.me(tokens["access_token"].as_str().unwrap()).await;
    assert_eq!(me.body["email"], Value::Null, "an address nobody proved is not taken: {}", me.body);
    assert_eq!(f.users_with("pia@acme.example").await.len(), 1);
}

async fn an_address_that_only_folds_into_an_account_is_not_verified(f: Fed) {
    let signed_up = f.api.sign_up("kevin@acme.example").await;
    // "Kevin" with the Kelvin sign (U+212A), which Unicode folds to "k":
    // another address, even if the provider verified that one.
    let tokens = f.first_sign_in(&f.token("emp-k", "\u{212A}evin@acme.example")).await;
    assert_ne!(tokens["user_id"], signed_up["user_id"], "not Kevin's account");
    let me = f.api.me(tokens["access_token"].as_str().unwrap()).await;
    assert_eq!(me.body["email"], Value::Null, "{}", me.body);
}

async fn every_check_of_the_id_token_holds(f: Fed) {
    let now = f.now();
    let good = f.idp.claims("emp-5", "eve@acme.example", now);
    let with = |name: &str, value: Value| {
        let mut claims = good.clone();
        claims[name] = value;
        f.idp.sign(&claims)
    };
    let other = Idp::start().await;
    let signed = f.idp.sign(&good);
    let mut parts: Vec<String> = signed.split('.').map(str::to_owned).collect();
    let mut forged = claims_of(&signed);
    forged["sub"] = json!("emp-admin");
    parts[1] = URL_SAFE_NO_PAD.encode(forged.to_string());
    let tampered = parts.join(".");
    let unsigned =
        format!("{}.{}.", URL_SAFE_NO_PAD.encode(r#"{"alg":"none"}"#), URL_SAFE_NO_PAD.encode(good.to_string()));
    let cases = [
        ("a changed payload", tampered),
        ("another provider's key", other.sign(&good)),
        ("alg none", unsigned),
        ("expired", with("exp", json!(now - 120))),
        ("issued in the future", with("iat", json!(now + 3600))),
        ("another audience", with("aud", json!("someone-else"))),
        ("another issuer", with("iss", json!("https://evil.example"))),
        ("a nonce nobody sent", with("nonce", json!("n-1"))),
        ("no iat", {
            let mut claims = good.clone();
            claims.as_object_mut().unwrap().remove("iat");
            f.idp.sign(&claims)
        }),
    ];
    for (what, token) in cases {
        let refused = f.exchange(&token, None, "d").await;
        assert!(
            refused.status == StatusCode::UNAUTHORIZED || refused.status == StatusCode::UNPROCESSABLE_ENTITY,
            "{what}: {}",
            refused.body
        );
        assert!(refused.body.get("access_token").is_none() && refused.body.get("challenge_id").is_none(), "{what}");
    }
    // A wrong nonce, and the right one (or its SHA-256, as SDKs send it).
    let with_nonce = with("nonce", json!("n-1"));
    assert_eq!(f.exchange(&with_nonce, Some("n-2"), "d").await.code(), "invalid_id_token");
    assert!(f.users_with("eve@acme.example").await.is_empty(), "nothing was created");
    let answer = f.exchange(&with_nonce, Some("n-1"), "d").await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    // The issuer with a trailing slash is the same issuer.
    let slashed = with("iss", json!(format!("{}/", f.idp.issuer)));
    let answer = f.exchange(&slashed, None, "d").await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
}

async fn a_provider_that_is_down_is_a_503_and_leaves_nothing(f: Fed) {
    let token = f.token("emp-6", "dan@acme.example");
    f.idp.set_down(true);
    let down = f.exchange(&token, None, "d").await;
    assert_eq!(down.status, StatusCode::SERVICE_UNAVAILABLE, "{}", down.body);
    assert_eq!(down.code(), "unavailable");
    assert!(f.users_with("dan@acme.example").await.is_empty(), "nothing half-written");
    f.idp.set_down(false);
    f.first_sign_in(&token).await;
    assert_eq!(f.users_with("dan@acme.example").await.len(), 1);
}

async fn fifty_first_sign_ins_at_once_make_one_user(f: Fed) {
    // Fifty tokens of one identity (each token is taken once).
    let answers = futures::future::join_all((0..50).map(|i| {
        let (f, token) = (&f, f.token("emp-7", "fay@acme.example"));
        async move { f.exchange(&token, None, &format!("d{i}")).await }
    }))
    .await;
    for answer in &answers {
        assert!(
            answer.status == StatusCode::OK || answer.status == StatusCode::CONFLICT,
            "{}: {}",
            answer.status,
            answer.body
        );
    }
    assert!(answers.iter().any(|a| a.status == StatusCode::OK));
    assert_eq!(f.users_with("fay@acme.example").await.len(), 1, "one identity, one user");
}

async fn unlinking_keeps_a_way_to_sign_in(f: Fed) {
    // A user of the provider alone: its only way to sign in stays.
    let tokens = f.first_sign_in(&f.token("emp-8", "gus@acme.example")).await;
    let access = tokens["access_token"].as_str().unwrap();
    let refused = f.bearer_send(Method::DELETE, "/v1/me/identities/acme", None, access).await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.body);
    assert_eq!(refused.code(), "last_sign_in_method");
    // A user with a password may unlink; the identity is free again.
    let signed_up = f.api.sign_up("hal@acme.example").await;
    let hal = signed_up["access_token"].as_str().unwrap();
    let body = json!({ "id_token": f.token("emp-9", "hal@acme.example") });
    let linked = f.bearer_send(Method::POST, "/v1/me/identities/acme", Some(body), hal).await;
    assert_eq!(linked.status, StatusCode::CREATED, "{}", linked.body);
    let unlinked = f.bearer_send(Method::DELETE, "/v1/me/identities/acme", None, hal).await;
    assert_eq!(unlinked.status, StatusCode::OK, "{}", unlinked.body);
    let gone = f.bearer_send(Method::GET, "/v1/me/identities", None, hal).await;
    assert_eq!(gone.body["identities"], json!([]));
    assert_eq!(f.bearer_send(Method::DELETE, "/v1/me/identities/acme", None, hal).await.code(), "identity_not_found");
    // Its address is Hal's: the provider's sign-in asks for the link again.
    let again = f.exchange(&f.token("emp-9", "hal@acme.example"), None, "d").await;
    assert_eq!(again.code(), "identity_link_required");
}

async fn an_unknown_provider_or_a_malformed_token_is_refused_clearly(f: Fed) {
    let token = f.token("emp-10", "ivy@acme.example");
    let unknown = f
        .api
        .post("/v1/auth/federated/token", json!({ "provider": "nobody", "id_token": token }), &[("X-Device-ID", "d")])
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND, "{}", unknown.body);
    assert_eq!(unknown.code(), "provider_not_found");
    let malformed = f
        .api
        .post(
            "/v1/auth/federated/token",
            json!({ "provider": "acme", "id_token": "not a jwt" }),
            &[("X-Device-ID", "d")],
        )
        .await;
    assert_eq!(malformed.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", malformed.body);
    // The token endpoint was never called: nothing here needs the secret.
    assert!(f.idp.token_calls.lock().unwrap().is_empty());
    assert_eq!(CLIENT_ID, claims_of(&token)["aud"]);
}
