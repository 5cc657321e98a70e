//! Registrar as an OpenID Provider (docs/openid.md), its protocol side: a
//! user signs in through the API, the hosted sign-in's last step
//! (`oauth::issue_code`) is called on the test app's `App`, and the code
//! is exchanged at `/oauth2/token` over HTTP; then refresh, userinfo,
//! revocation and RP-initiated logout — on both stores.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use reqwest::StatusCode;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use shared::domain::oauth::clients::{self, ClientDraft};
use shared::domain::oauth::{self, AuthorizationRequest, Client};
use shared::domain::tenant::Policy;
use shared::domain::user::Tokens;

use crate::common::{Answer, Api, Backend, CODE, Flows, PASSWORD};

const REDIRECT: &str = "https://app.example.com/callback";
/// The device the user signs in on (the API's login).
const BROWSER: &str = "browser-1";
const AFTER_LOGOUT: &str = "https://app.example.com/signed-out";
/// A PKCE verifier (43 unreserved characters) and its S256 challenge.
const VERIFIER: &str = "verifier-of-the-test-client-0123456789abcdefghij";

fn challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// The app, a public client and a confidential one with its secret.
struct Op {
    api: Api,
    public: Client,
    confidential: Client,
    secret: String,
    /// No redirects followed (logout answers one).
    browser: reqwest::Client,
}

/// The tenant's web app's origin (its CORS origins).
const APP_ORIGIN: &str = "https://app.example.com";

async fn op(backend: Backend) -> Op {
    let policy = Policy {
        phone_required: false,
        sandbox_code: Some(CODE.into()),
        cors_origins: vec![APP_ORIGIN.into()],
        ..Policy::default()
    };
    let api = Api::start(backend, policy).await;
    let app = api.app.app.clone();
    let draft = |public: bool| ClientDraft {
        client_id: None,
        tenant_id: api.app.tenant.id.clone(),
        name: if public { "Web app".into() } else { "Server app".into() },
        redirect_uris: vec![REDIRECT.into(), "http://localhost:5173/cb".into()],
        post_logout_redirect_uris: vec![AFTER_LOGOUT.into()],
        public,
    };
    let (public, none) =
        clients::register(app.store.as_ref(), app.random.as_ref(), app.clock.now(), draft(true)).await.unwrap();
    assert!(none.is_none(), "a public client has no secret");
    let (confidential, secret) =
        clients::register(app.store.as_ref(), app.random.as_ref(), app.clock.now(), draft(false)).await.unwrap();
    let secret = secret.expect("a confidential client's secret").expose().to_owned();
    let browser = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    Op { api, public, confidential, secret, browser }
}

/// A signed-in user: the API login's tokens (as the hosted pages hold them).
struct SignedIn {
    tokens: Tokens,
    user_id: String,
}

impl Op {
    /// Signs `email` up and in with the password.
    async fn sign_in(&self, email: &str) -> SignedIn {
        self.api.sign_up(email).await;
        self.logged_in(email).await
    }

    /// Signs the existing user `email` in with the password.
    async fn logged_in(&self, email: &str) -> SignedIn {
        let login = self.api.login(email, PASSWORD, BROWSER).await;
        assert_eq!(login.status, StatusCode::OK, "{}", login.body);
        let body = login.body;
        let text = |name: &str| body[name].as_str().expect(name).to_owned();
        let tokens = Tokens {
            user_id: text("user_id"),
            access_token: text("access_token"),
            token_type: "Bearer",
            expires_in: body["expires_in"].as_i64().unwrap(),
            refresh_token: text("refresh_token"),
            scope: text("scope"),
            device_token: None,
            refresh_expires_in: 0,
        };
        SignedIn { user_id: tokens.user_id.clone(), tokens }
    }

    /// The code the hosted sign-in would send to the redirect URI.
    async fn code(&self, user: &SignedIn, client: &Client, scopes: &[&str], nonce: Option<&str>) -> String {
        let request = AuthorizationRequest {
            client_id: client.client_id.clone(),
            redirect_uri: REDIRECT.into(),
            scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
            state: Some("st".into()),
            nonce: nonce.map(str::to_owned),
            code_challenge: challenge(VERIFIER),
            prompt: None,
            login_hint: None,
            ui_locales: None,
        };
        let (found, tenant) = oauth::find_client(&self.api.app.app, &client.client_id).await.unwrap().expect("client");
        assert_eq!(&found, client);
        oauth::issue_code(&self.api.app.app, &tenant, client, &request, &user.tokens).await.expect("a code")
    }

    /// Posts `form` to `path` (`basic`: HTTP Basic id and secret).
    async fn form(&self, path: &str, form: &[(&str, &str)], basic: Option<(&str, &str)>) -> Answer {
        let mut request = self.api.http.post(self.api.app.url(path)).form(form);
        if let Some((id, secret)) = basic {
            request = request.basic_auth(id, Some(secret));
        }
        Answer::read(request.send().await.unwrap()).await
    }

    /// Redeems `code` as the public client.
    async fn redeem(&self, code: &str) -> Answer {
        let form = [
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", VERIFIER),
            ("client_id", self.public.client_id.as_str()),
        ];
        self.form("/oauth2/token", &form, None).await
    }

    /// Refreshes as the public client.
    async fn refresh_grant(&self, token: &str) -> Answer {
        let form = [("grant_type", "refresh_token"), ("refresh_token", token), ("client_id", &self.public.client_id)];
        self.form("/oauth2/token", &form, None).await
    }

    async fn userinfo(&self, access_token: &str) -> Answer {
        let request = self.api.http.get(self.api.app.url("/oauth2/userinfo")).bearer_auth(access_token);
        Answer::read(request.send().await.unwrap()).await
    }

    /// `GET /oauth2/logout?…`: status, `Location`, the page.
    async fn logout(&self, query: &[(&str, &str)]) -> (StatusCode, Option<String>, String) {
        let response = self.browser.get(self.api.app.url("/oauth2/logout")).query(query).send().await.unwrap();
        let status = response.status();
        let location = response.headers().get("location").map(|v| v.to_str().unwrap().to_owned());
        if status != StatusCode::FOUND {
            assert_eq!(response.headers()["content-type"], "text/html; charset=utf-8");
            assert!(response.headers()["content-security-policy"].to_str().unwrap().contains("frame-ancestors 'none'"));
        }
        (status, location, response.text().await.unwrap())
    }

    /// The ID token's claims, verified with the JWKS the provider publishes
    /// (jsonwebtoken, not Registrar's own signing code): RS256, `kid`,
    /// `iss`, `aud` = the client.
    async fn verified_id_token(&self, id_token: &str, client: &Client) -> Value {
        let jwks: jsonwebtoken::jwk::JwkSet =
            self.api.http.get(self.api.app.url("/.well-known/jwks.json")).send().await.unwrap().json().await.unwrap();
        let header = jsonwebtoken::decode_header(id_token).unwrap();
        assert_eq!(header.alg, jsonwebtoken::Algorithm::RS256);
        let jwk = jwks.find(header.kid.as_deref().expect("a kid")).expect("the kid is published");
        let key = jsonwebtoken::DecodingKey::from_jwk(jwk).unwrap();
        let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
        validation.set_audience(&[client.client_id.as_str()]);
        validation.set_issuer(&[self.api.app.app.settings.issuer.as_str()]);
        // The test clock runs ahead of the system's: `exp` is checked here.
        validation.validate_exp = false;
        let claims = jsonwebtoken::decode::<Value>(id_token, &key, &validation).expect("a valid ID token").claims;
        assert!(claims["exp"].as_i64().unwrap() > self.api.now().timestamp());
        claims
    }
}

fn oauth_error(answer: &Answer) -> &str {
    answer.body["error"].as_str().unwrap_or("")
}

fn jwt_claims(token: &str) -> Value {
    let payload = token.split('.').nth(1).expect("a JWT");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

async fn a_code_is_exchanged_for_verified_tokens(op: Op) {
    let user = op.sign_in("oidc-happy@example.com").await;
    let code = op.code(&user, &op.public, &["openid", "email", "profile"], Some("n-0S6_WzA2Mj")).await;
    let answer = op.redeem(&code).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert_eq!(answer.headers["cache-control"], "no-store");
    let body = &answer.body;
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["scope"], "openid email profile");
    assert!(body["expires_in"].as_i64().unwrap() > 0);
    let access = body["access_token"].as_str().unwrap();
    let claims = op.verified_id_token(body["id_token"].as_str().unwrap(), &op.public).await;
    assert_eq!(claims["sub"], user.user_id.as_str());
    assert_eq!(claims["nonce"], "n-0S6_WzA2Mj");
    assert_eq!(claims["at_hash"], URL_SAFE_NO_PAD.encode(&Sha256::digest(access.as_bytes())[..16]));
    let signed_in = jwt_claims(&user.tokens.access_token);
    assert_eq!(claims["auth_time"], signed_in["auth_time"], "the sign-in's time");
    assert_eq!(claims["amr"], json!(["pwd"]));
    assert_eq!(claims["email"], "oidc-happy@example.com");
    assert_eq!(claims["email_verified"], true);
    assert_eq!(claims["given_name"], "Anna");
    assert!(claims.get("phone_number").is_none(), "phone was not granted");
    // The client's own session: the access token names it, and the API accepts it.
    let access_claims = jwt_claims(access);
    assert_eq!(claims["sid"], access_claims["sid"]);
    assert_ne!(claims["sid"], signed_in["sid"], "a session of the client's own");
    assert_eq!(access_claims["aud"], "registrar", "the same JWT as the API's");
    assert_eq!(op.api.me(access).await.status, StatusCode::OK);
    // Its refresh token is the client's: the API's refresh refuses it.
    let refresh = body["refresh_token"].as_str().unwrap();
    assert_eq!(op.api.refresh(refresh, BROWSER).await.status, StatusCode::UNAUTHORIZED);
    let audit = op.api.audit(&user.user_id).await;
    assert!(audit.iter().any(|e| e["event"] == "oauth_code_redeemed"), "{audit:?}");
}

/// An app's session never reaches the back office: a service owner signed
/// in to a client (OpenID Connect) is refused there, whatever its factors;
/// the same user's own API session is asked for its second factor instead.
async fn an_apps_session_never_reaches_the_back_office(op: Op) {
    let admin = format!("Bearer {}", op.api.app.admin_token);
    let owner = "oidc-owner@example.com";
    let body = json!({
        "email": owner, "first_name": "Owen", "last_name": "Owner", "user_type": "service_owner",
        "password": PASSWORD, "terms_accepted": true, "privacy_policy_accepted": true,
    });
    let made = op.api.post("/v1/users", body, &[("Authorization", &admin)]).await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.body);
    let user = op.logged_in(owner).await;
    let code = op.code(&user, &op.public, &["openid"], None).await;
    let issued = op.redeem(&code).await;
    assert_eq!(issued.status, StatusCode::OK, "{}", issued.body);
    let app_bearer = format!("Bearer {}", issued.body["access_token"].as_str().unwrap());
    let refused = op.api.get("/v1/users?status=active", &[("Authorization", &app_bearer)]).await;
    assert_eq!((refused.status, refused.code()), (StatusCode::FORBIDDEN, "app_session"), "{}", refused.body);
    let own = format!("Bearer {}", user.tokens.access_token);
    let api_session = op.api.get("/v1/users?status=active", &[("Authorization", &own)]).await;
    assert_eq!(api_session.code(), "second_factor_required", "{}", api_session.body);
}

/// A browser app on the tenant's origin reads the token endpoint's answer
/// (CORS by the client's tenant, which the route learns from the client);
/// another origin's script gets nothing to read.
async fn the_tenants_web_app_may_read_the_token_answer(op: Op) {
    let user = op.sign_in("oidc-spa@example.com").await;
    for (origin, allowed) in [(APP_ORIGIN, true), ("https://evil.example.com", false)] {
        let code = op.code(&user, &op.public, &["openid"], None).await;
        let form = [
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", REDIRECT),
            ("code_verifier", VERIFIER),
            ("client_id", op.public.client_id.as_str()),
        ];
        let request = op.api.http.post(op.api.app.url("/oauth2/token")).header("Origin", origin).form(&form);
        let answer = Answer::read(request.send().await.unwrap()).await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
        let granted = answer.headers.get("access-control-allow-origin").map(|v| v.to_str().unwrap().to_owned());
        assert_eq!(granted, allowed.then(|| origin.to_owned()), "{origin}");
    }
}

async fn a_code_binds_its_verifier_redirect_uri_client_and_lifetime(op: Op) {
    let user = op.sign_in("oidc-bound@example.com").await;
    let code = op.code(&user, &op.public, &["openid"], None).await;
    let public = op.public.client_id.as_str();
    let form = |verifier: &'static str, redirect: &'static str| {
        vec![
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", redirect),
            ("code_verifier", verifier),
            ("client_id", public),
        ]
    };
    let wrong_verifier =
        op.form("/oauth2/token", &form("another-verifier-0123456789abcdefghijklmnopq", REDIRECT), None).await;
    assert_eq!((wrong_verifier.status, oauth_error(&wrong_verifier)), (StatusCode::BAD_REQUEST, "invalid_grant"));
    let other_redirect = op.form("/oauth2/token", &form(VERIFIER, "http://localhost:5173/cb"), None).await;
    assert_eq!((other_redirect.status, oauth_error(&other_redirect)), (StatusCode::BAD_REQUEST, "invalid_grant"));
    let mut no_verifier = form(VERIFIER, REDIRECT);
    no_verifier.retain(|(name, _)| *name != "code_verifier");
    let missing = op.form("/oauth2/token", &no_verifier, None).await;
    assert_eq!((missing.status, oauth_error(&missing)), (StatusCode::BAD_REQUEST, "invalid_request"));
    let confidential = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT),
        ("code_verifier", VERIFIER),
    ];
    let other_client = op.form("/oauth2/token", &confidential, Some((&op.confidential.client_id, &op.secret))).await;
    assert_eq!((other_client.status, oauth_error(&other_client)), (StatusCode::BAD_REQUEST, "invalid_grant"));
    assert!(other_client.body["error_description"].is_string());
    // None of the refused attempts spent it.
    assert_eq!(op.redeem(&code).await.status, StatusCode::OK);

    let late = op.code(&user, &op.public, &["openid"], None).await;
    op.api.advance(61);
    let expired = op.redeem(&late).await;
    assert_eq!((expired.status, oauth_error(&expired)), (StatusCode::BAD_REQUEST, "invalid_grant"));
    let unknown = op.redeem("not-a-code-we-issued").await;
    assert_eq!(oauth_error(&unknown), "invalid_grant");
}

async fn a_second_redemption_revokes_what_the_first_issued(op: Op) {
    let user = op.sign_in("oidc-replay@example.com").await;
    let code = op.code(&user, &op.public, &["openid", "email"], None).await;
    let first = op.redeem(&code).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    let access = first.body["access_token"].as_str().unwrap();
    assert_eq!(op.userinfo(access).await.status, StatusCode::OK);
    let again = op.redeem(&code).await;
    assert_eq!((again.status, oauth_error(&again)), (StatusCode::BAD_REQUEST, "invalid_grant"));
    let refreshed = op.refresh_grant(first.body["refresh_token"].as_str().unwrap()).await;
    assert_eq!((refreshed.status, oauth_error(&refreshed)), (StatusCode::BAD_REQUEST, "invalid_grant"));
    assert_eq!(op.userinfo(access).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(op.api.me(access).await.status, StatusCode::UNAUTHORIZED);
    let audit = op.api.audit(&user.user_id).await;
    assert!(audit.iter().any(|e| e["event"] == "oauth_code_reused"), "{audit:?}");
}

async fn confidential_clients_prove_their_secret(op: Op) {
    let user = op.sign_in("oidc-secret@example.com").await;
    let code = op.code(&user, &op.confidential, &["openid"], None).await;
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT),
        ("code_verifier", VERIFIER),
    ];
    let id = op.confidential.client_id.as_str();
    let wrong = op.form("/oauth2/token", &form, Some((id, "cs_not-the-secret"))).await;
    assert_eq!((wrong.status, oauth_error(&wrong)), (StatusCode::UNAUTHORIZED, "invalid_client"));
    assert!(wrong.headers["www-authenticate"].to_str().unwrap().starts_with("Basic"));
    let mut named = form.to_vec();
    named.push(("client_id", id));
    let missing = op.form("/oauth2/token", &named, None).await;
    assert_eq!((missing.status, oauth_error(&missing)), (StatusCode::UNAUTHORIZED, "invalid_client"));
    let posing = op.form("/oauth2/token", &form, Some((op.public.client_id.as_str(), "anything"))).await;
    assert_eq!(oauth_error(&posing), "invalid_client", "a public client has no secret to prove");
    let unknown = op.form("/oauth2/token", &form, Some(("no-such-client", "x"))).await;
    assert_eq!(unknown.status, StatusCode::UNAUTHORIZED);
    let right = op.form("/oauth2/token", &form, Some((id, op.secret.as_str()))).await;
    assert_eq!(right.status, StatusCode::OK, "{}", right.body);
    op.verified_id_token(right.body["id_token"].as_str().unwrap(), &op.confidential).await;
    // Its refresh token is bound to it: the public client cannot use it.
    let refresh_token = right.body["refresh_token"].as_str().unwrap();
    let stolen = op.refresh_grant(refresh_token).await;
    assert_eq!(oauth_error(&stolen), "invalid_grant");
    let own = [("grant_type", "refresh_token"), ("refresh_token", refresh_token)];
    assert_eq!(op.form("/oauth2/token", &own, Some((id, op.secret.as_str()))).await.status, StatusCode::OK);
}

async fn refresh_tokens_rotate_with_reuse_detection(op: Op) {
    let user = op.sign_in("oidc-refresh@example.com").await;
    let code = op.code(&user, &op.public, &["openid", "email", "offline_access"], Some("nonce-1")).await;
    let first = op.redeem(&code).await;
    let old = first.body["refresh_token"].as_str().unwrap().to_owned();
    let next = op.refresh_grant(&old).await;
    assert_eq!(next.status, StatusCode::OK, "{}", next.body);
    let successor = next.body["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(successor, old);
    assert_eq!(next.body["scope"], "openid email offline_access");
    let claims = op.verified_id_token(next.body["id_token"].as_str().unwrap(), &op.public).await;
    assert_eq!(claims["sid"], jwt_claims(first.body["id_token"].as_str().unwrap())["sid"]);
    assert!(claims.get("nonce").is_none(), "a refreshed ID token carries no nonce");
    // A parallel tab within the grace window gets the same successor.
    let again = op.refresh_grant(&old).await;
    assert_eq!(again.body["refresh_token"], successor.as_str());
    let too_wide = [
        ("grant_type", "refresh_token"),
        ("refresh_token", successor.as_str()),
        ("client_id", op.public.client_id.as_str()),
        ("scope", "openid phone"),
    ];
    let wider = op.form("/oauth2/token", &too_wide, None).await;
    assert_eq!((wider.status, oauth_error(&wider)), (StatusCode::BAD_REQUEST, "invalid_scope"));
    op.api.advance(11);
    let reused = op.refresh_grant(&old).await;
    assert_eq!(oauth_error(&reused), "invalid_grant");
    let killed = op.refresh_grant(&successor).await;
    assert_eq!(oauth_error(&killed), "invalid_grant", "reuse revokes the whole session");
    let malformed = op.refresh_grant("not-a-refresh-token").await;
    assert_eq!(oauth_error(&malformed), "invalid_grant");
}

async fn userinfo_answers_the_claims_of_the_granted_scopes(op: Op) {
    let user = op.sign_in("oidc-userinfo@example.com").await;
    let bare = op.redeem(&op.code(&user, &op.public, &["openid"], None).await).await;
    let info = op.userinfo(bare.body["access_token"].as_str().unwrap()).await;
    assert_eq!(info.status, StatusCode::OK);
    assert_eq!(info.body, json!({ "sub": user.user_id }));
    let wide = op.redeem(&op.code(&user, &op.public, &["openid", "email", "profile", "phone"], None).await).await;
    let info = op.userinfo(wide.body["access_token"].as_str().unwrap()).await;
    assert_eq!(info.body["email"], "oidc-userinfo@example.com");
    assert_eq!(info.body["name"], "Anna Muster");
    assert_eq!(info.body["family_name"], "Muster");
    assert!(info.body.get("phone_number").is_none(), "no phone to tell");
    assert_eq!(info.headers["cache-control"], "no-store");
    // The API's own access token has no OpenID Connect scopes: `sub` alone.
    let api_info = op.userinfo(&user.tokens.access_token).await;
    assert_eq!(api_info.body, json!({ "sub": user.user_id }));
    for bad in ["", "not.a.jwt", "eyJhbGciOiJub25lIn0.e30."] {
        let refused = op.userinfo(bad).await;
        assert_eq!(refused.status, StatusCode::UNAUTHORIZED, "{bad}");
        assert_eq!(refused.headers["www-authenticate"], "Bearer error=\"invalid_token\"");
    }
    let anonymous = Answer::read(op.api.http.get(op.api.app.url("/oauth2/userinfo")).send().await.unwrap()).await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
}

async fn revocation_ends_the_session_of_either_token(op: Op) {
    let user = op.sign_in("oidc-revoke@example.com").await;
    let public = op.public.client_id.as_str();
    let issued = op.redeem(&op.code(&user, &op.public, &["openid"], None).await).await;
    let (access, refresh) =
        (issued.body["access_token"].as_str().unwrap(), issued.body["refresh_token"].as_str().unwrap());
    let revoked = op.form("/oauth2/revoke", &[("token", refresh), ("client_id", public)], None).await;
    assert_eq!(revoked.status, StatusCode::OK, "{}", revoked.body);
    assert_eq!(oauth_error(&op.refresh_grant(refresh).await), "invalid_grant");
    assert_eq!(op.userinfo(access).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(op.api.me(&user.tokens.access_token).await.status, StatusCode::OK, "still signed in to the provider");
    // By its access token, with the hint; another client's token is left alone.
    let second = op.redeem(&op.code(&user, &op.public, &["openid"], None).await).await;
    let access = second.body["access_token"].as_str().unwrap();
    let id = op.confidential.client_id.as_str();
    let foreign = op.form("/oauth2/revoke", &[("token", access)], Some((id, op.secret.as_str()))).await;
    assert_eq!(foreign.status, StatusCode::OK);
    assert_eq!(op.userinfo(access).await.status, StatusCode::OK, "not the confidential client's token");
    let by_access = op
        .form("/oauth2/revoke", &[("token", access), ("token_type_hint", "access_token"), ("client_id", public)], None)
        .await;
    assert_eq!(by_access.status, StatusCode::OK);
    assert_eq!(op.userinfo(access).await.status, StatusCode::UNAUTHORIZED);
    let unknown = op.form("/oauth2/revoke", &[("token", "whatever-this-is"), ("client_id", public)], None).await;
    assert_eq!(unknown.status, StatusCode::OK, "unknown tokens are no error (RFC 7009)");
    let unauthenticated = op.form("/oauth2/revoke", &[("token", "x"), ("client_id", id)], None).await;
    assert_eq!((unauthenticated.status, oauth_error(&unauthenticated)), (StatusCode::UNAUTHORIZED, "invalid_client"));
    let no_token = op.form("/oauth2/revoke", &[("client_id", public)], None).await;
    assert_eq!(oauth_error(&no_token), "invalid_request");
}

async fn logout_returns_only_to_registered_addresses(op: Op) {
    let user = op.sign_in("oidc-logout@example.com").await;
    let issued = op.redeem(&op.code(&user, &op.public, &["openid"], None).await).await;
    let (access, id_token) = (issued.body["access_token"].as_str().unwrap(), issued.body["id_token"].as_str().unwrap());
    let (status, location, _) =
        op.logout(&[("id_token_hint", id_token), ("post_logout_redirect_uri", AFTER_LOGOUT), ("state", "a b&c")]).await;
    assert_eq!(status, StatusCode::FOUND);
    assert_eq!(location.as_deref(), Some(format!("{AFTER_LOGOUT}?state=a+b%26c").as_str()));
    assert_eq!(op.userinfo(access).await.status, StatusCode::UNAUTHORIZED, "the session ended");
    assert_eq!(op.api.me(&user.tokens.access_token).await.status, StatusCode::UNAUTHORIZED, "and the sign-in's");

    let user = op.sign_in("oidc-logout-2@example.com").await;
    let issued = op.redeem(&op.code(&user, &op.public, &["openid"], None).await).await;
    let id_token = issued.body["id_token"].as_str().unwrap();
    op.api.advance(3600);
    let (status, location, page) =
        op.logout(&[("id_token_hint", id_token), ("post_logout_redirect_uri", "https://evil.example.com/")]).await;
    assert_eq!((status, location), (StatusCode::BAD_REQUEST, None), "never to an address not registered");
    assert!(page.contains("<html lang=\"en\">") && page.contains("not registered"), "{page}");
    let refreshed = op.refresh_grant(issued.body["refresh_token"].as_str().unwrap()).await;
    assert_eq!(oauth_error(&refreshed), "invalid_grant", "an expired hint still signs out");
    let (status, _, page) = op.logout(&[("ui_locales", "de")]).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("lang=\"de\"") && page.contains("abgemeldet"), "{page}");
    let (status, _, _) = op.logout(&[("id_token_hint", "forged.token.here")]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, location, _) =
        op.logout(&[("client_id", op.public.client_id.as_str()), ("post_logout_redirect_uri", AFTER_LOGOUT)]).await;
    assert_eq!((status, location.as_deref()), (StatusCode::FOUND, Some(AFTER_LOGOUT)));
}

async fn fifty_parallel_redemptions_succeed_once(op: Op) {
    let user = op.sign_in("oidc-race@example.com").await;
    let code = op.code(&user, &op.public, &["openid"], None).await;
    let redemptions = (0..50).map(|_| op.redeem(&code));
    let answers = futures::future::join_all(redemptions).await;
    let won = answers.iter().filter(|a| a.status == StatusCode::OK).count();
    assert_eq!(won, 1, "{:?}", answers.iter().map(|a| a.body.clone()).collect::<Vec<_>>());
    assert!(answers.iter().filter(|a| a.status != StatusCode::OK).all(|a| oauth_error(a) == "invalid_grant"));
}

async fn malformed_requests_get_oauth_errors(op: Op) {
    let public = op.public.client_id.as_str();
    // Apart: scripts/scan-logs.py takes the other literals of a test line
    // that names a password grant for test passwords.
    let resource_owner_grant = "password";
    let resource_owner = [("grant_type", resource_owner_grant), ("client_id", public)];
    let unsupported = op.form("/oauth2/token", &resource_owner, None).await;
    assert_eq!((unsupported.status, oauth_error(&unsupported)), (StatusCode::BAD_REQUEST, "unsupported_grant_type"));
    let no_grant = op.form("/oauth2/token", &[("client_id", public)], None).await;
    assert_eq!(oauth_error(&no_grant), "invalid_request");
    let twice = op.form("/oauth2/token", &[("client_id", public), ("client_id", public)], None).await;
    assert_eq!(oauth_error(&twice), "invalid_request");
    let json_body = op.api.http.post(op.api.app.url("/oauth2/token")).json(&json!({ "grant_type": "x" }));
    let json_body = Answer::read(json_body.send().await.unwrap()).await;
    assert_eq!((json_body.status, oauth_error(&json_body)), (StatusCode::BAD_REQUEST, "invalid_request"));
    let nobody = op.form("/oauth2/token", &[("grant_type", "authorization_code")], None).await;
    assert_eq!((nobody.status, oauth_error(&nobody)), (StatusCode::UNAUTHORIZED, "invalid_client"));
}

on_both_stores!(op;
    a_code_is_exchanged_for_verified_tokens,
    the_tenants_web_app_may_read_the_token_answer,
    an_apps_session_never_reaches_the_back_office,
    a_code_binds_its_verifier_redirect_uri_client_and_lifetime,
    a_second_redemption_revokes_what_the_first_issued,
    confidential_clients_prove_their_secret,
    refresh_tokens_rotate_with_reuse_detection,
    userinfo_answers_the_claims_of_the_granted_scopes,
    revocation_ends_the_session_of_either_token,
    logout_returns_only_to_registered_addresses,
    fifty_parallel_redemptions_succeed_once,
    malformed_requests_get_oauth_errors,
);

#[tokio::test]
async fn discovery_names_the_providers_endpoints() {
    let op = op(Backend::Memory).await;
    let doc = op.api.get("/.well-known/openid-configuration", &[]).await.body;
    let issuer = op.api.app.app.settings.issuer.clone();
    for (name, path) in [
        ("authorization_endpoint", "/oauth2/authorize"),
        ("token_endpoint", "/oauth2/token"),
        ("userinfo_endpoint", "/oauth2/userinfo"),
        ("revocation_endpoint", "/oauth2/revoke"),
        ("end_session_endpoint", "/oauth2/logout"),
    ] {
        assert_eq!(doc[name], format!("{issuer}{path}"), "{name}");
    }
    assert_eq!(doc["response_types_supported"], json!(["code"]));
    assert_eq!(doc["code_challenge_methods_supported"], json!(["S256"]));
    assert_eq!(doc["grant_types_supported"], json!(["authorization_code", "refresh_token"]));
    assert_eq!(doc["token_endpoint_auth_methods_supported"], json!(["none", "client_secret_basic"]));
    assert_eq!(doc["scopes_supported"], json!(["openid", "email", "profile", "phone", "offline_access"]));
    for claim in ["sub", "nonce", "at_hash", "email", "phone_number", "given_name"] {
        assert!(doc["claims_supported"].as_array().unwrap().contains(&json!(claim)), "{claim}");
    }
}

#[tokio::test]
async fn clients_are_checked_when_registered() {
    let op = op(Backend::Memory).await;
    let app = op.api.app.app.clone();
    let register = |draft: ClientDraft| {
        let app = app.clone();
        async move { clients::register(app.store.as_ref(), app.random.as_ref(), app.clock.now(), draft).await }
    };
    let draft = |tenant: &str, uri: &str| ClientDraft {
        client_id: Some("fixed-id".into()),
        tenant_id: tenant.into(),
        name: "X".into(),
        redirect_uris: vec![uri.into()],
        post_logout_redirect_uris: vec![],
        public: true,
    };
    let tenant = op.api.app.tenant.id.clone();
    assert!(register(draft(&tenant, "http://app.example.com/cb")).await.is_err(), "http only to loopback");
    assert!(register(draft(&tenant, "https://app.example.com/cb#x")).await.is_err(), "no fragment");
    assert!(register(draft("no-such-tenant", REDIRECT)).await.is_err());
    assert!(register(draft(&tenant, REDIRECT)).await.is_ok());
    assert!(register(draft(&tenant, REDIRECT)).await.is_err(), "client ids are unique");
    let listed = clients::list(app.store.as_ref(), &tenant).await.unwrap();
    assert_eq!(listed.len(), 3);
    clients::delete(app.store.as_ref(), &tenant, "fixed-id").await.unwrap();
    assert!(oauth::find_client(&app, "fixed-id").await.unwrap().is_none());
    assert!(clients::delete(app.store.as_ref(), &tenant, "fixed-id").await.is_err());
}
