//! Usernames (docs/back-office.md, issue 13): per tenant off, optional or
//! required; unique whatever the case; a sign-in name beside e-mail and phone;
//! set at sign-up and by the back office, changed by the user with a step-up;
//! found by the back office; freed when the account closes. On both stores.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use shared::domain::tenant::{Policy, Usernames};

use crate::common::{Answer, Api, Backend, CODE, Flows, PASSWORD};

/// Each case starts the tenants it needs (for `on_both_stores!`).
async fn backend(backend: Backend) -> Backend {
    backend
}

impl Api {
    async fn with_usernames(backend: Backend, usernames: Usernames) -> Self {
        let policy = Policy { phone_required: false, sandbox_code: Some(CODE.into()), usernames, ..Policy::default() };
        Self::start(backend, policy).await
    }

    /// A request as `bearer` (an admin token or a user's access token) from
    /// device `d`.
    async fn authorized(&self, method: Method, path: &str, bearer: &str, body: Option<Value>) -> Answer {
        let authorization = format!("Bearer {bearer}");
        self.send(method, path, body, &[("Authorization", &authorization), ("X-Device-ID", "d")]).await
    }

    /// Starts a sign-up with `extra` fields merged in.
    async fn start_sign_up(&self, email: &str, extra: Value) -> Answer {
        let mut body = json!({
            "email": email, "password": PASSWORD, "first_name": "Maria", "last_name": "Alder",
            "terms_accepted": true, "privacy_policy_accepted": true,
        });
        body.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        self.post("/v1/registrations", body, &[]).await
    }

    /// Verifies a started sign-up's e-mail (the tenant needs no phone).
    async fn verify_email(&self, started: &Answer) -> Answer {
        let id = started.body["registration_id"].as_str().unwrap_or_else(|| panic!("{}", started.body));
        self.post(&format!("/v1/registrations/{id}/email/verify"), json!({ "code": CODE }), &[("X-Device-ID", "d")])
            .await
    }

    async fn find(&self, query: &str) -> Answer {
        self.authorized(Method::GET, &format!("/v1/users?{query}"), &self.app.admin_token.clone(), None).await
    }
}

on_both_stores!(
    backend;
    sign_up_with_a_username_and_sign_in_by_it_in_any_case,
    a_username_is_unique_whatever_its_case,
    two_sign_ups_racing_for_one_username_make_one_user,
    the_back_office_sets_finds_and_changes_usernames,
    a_user_changes_its_username_after_a_step_up,
    closing_the_account_frees_the_username,
    tenants_without_or_requiring_usernames,
);

fn ids(answer: &Answer) -> Vec<&str> {
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    answer.body["users"].as_array().unwrap().iter().map(|u| u["user_id"].as_str().unwrap()).collect()
}

async fn sign_up_with_a_username_and_sign_in_by_it_in_any_case(backend: Backend) {
    let api = Api::with_usernames(backend, Usernames::Optional).await;
    let started = api.start_sign_up("maria@example.com", json!({ "username": "CashierMariaA" })).await;
    assert_eq!(started.status, StatusCode::ACCEPTED, "{}", started.body);
    let id = started.body["registration_id"].as_str().unwrap();
    let status = api.get(&format!("/v1/registrations/{id}"), &[]).await;
    assert_eq!(status.body["username"], "CashierMariaA", "{}", status.body);
    let done = api.verify_email(&started).await;
    assert_eq!(done.status, StatusCode::CREATED, "{}", done.body);
    for spelling in ["CashierMariaA", "cashiermariaa", " CASHIERMARIAA "] {
        let login = api.login(spelling, PASSWORD, "d").await;
        assert_eq!(login.status, StatusCode::OK, "{spelling}: {}", login.body);
        let token = login.body["access_token"].as_str().expect("tokens");
        let me = api.authorized(Method::GET, "/v1/me", token, None).await;
        // Kept as given.
        assert_eq!(me.body["username"], "CashierMariaA", "{}", me.body);
    }
    // E-mail still works; a wrong password by username is the usual answer.
    assert_eq!(api.login("maria@example.com", PASSWORD, "d").await.status, StatusCode::OK);
    let wrong = api
        .post(
            "/v1/auth/login",
            json!({ "username": "CashierMariaA", "password": "Wr0ng!Pass" }),
            &[("X-Device-ID", "d")],
        )
        .await;
    assert_eq!((wrong.status, wrong.code()), (StatusCode::UNAUTHORIZED, "invalid_credentials"));
    let unknown = api.login("NobodyHere", PASSWORD, "d").await;
    assert_eq!((unknown.status, unknown.code()), (StatusCode::UNAUTHORIZED, "invalid_credentials"));
}

async fn a_username_is_unique_whatever_its_case(backend: Backend) {
    let api = Api::with_usernames(backend, Usernames::Optional).await;
    let first = api.start_sign_up("one@example.com", json!({ "username": "Cashier.Maria" })).await;
    assert_eq!(api.verify_email(&first).await.status, StatusCode::CREATED);
    let again = api.start_sign_up("two@example.com", json!({ "username": "CASHIER.maria" })).await;
    assert_eq!((again.status, again.code()), (StatusCode::CONFLICT, "username_taken"), "{}", again.body);
    let admin = api.app.admin_token.clone();
    let body = json!({
        "email": "three@example.com", "username": "cashier.MARIA", "first_name": "T", "last_name": "Hree",
        "user_type": "consumer", "password": PASSWORD,
    });
    let created = api.authorized(Method::POST, "/v1/users", &admin, Some(body)).await;
    assert_eq!((created.status, created.code()), (StatusCode::CONFLICT, "username_taken"), "{}", created.body);
    // Nothing half-written: the e-mail of the refused creation is free.
    let body = json!({
        "email": "three@example.com", "username": "Cashier_Tom", "first_name": "T", "last_name": "Hree",
        "user_type": "consumer", "password": PASSWORD,
    });
    let created = api.authorized(Method::POST, "/v1/users", &admin, Some(body)).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    // Bad names, in the requester's language.
    for (name, code) in [
        ("ab", "too_short"),
        ("1abc", "invalid_username"),
        ("a b c", "invalid_username"),
        ("maria@x.ch", "invalid_username"),
    ] {
        let refused = api.start_sign_up("bad@example.com", json!({ "username": name })).await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{name}");
        assert_eq!(
            (&refused.body["errors"][0]["field"], &refused.body["errors"][0]["code"]),
            (&json!("username"), &json!(code))
        );
    }
    let german = api
        .post(
            "/v1/registrations",
            json!({ "email": "b@example.com", "password": PASSWORD, "first_name": "B", "last_name": "C",
                    "terms_accepted": true, "privacy_policy_accepted": true, "username": "9lives" }),
            &[("Accept-Language", "de")],
        )
        .await;
    assert!(german.body["errors"][0]["message"].as_str().unwrap().contains("Benutzername"), "{}", german.body);
}

/// Both sign-ups start while the name is free; the first to complete gets
/// it, the other's completion answers 409 and creates nothing.
async fn two_sign_ups_racing_for_one_username_make_one_user(backend: Backend) {
    let api = Api::with_usernames(backend, Usernames::Optional).await;
    let a = api.start_sign_up("race-a@example.com", json!({ "username": "Racer" })).await;
    let b = api.start_sign_up("race-b@example.com", json!({ "username": "racer" })).await;
    assert_eq!((a.status, b.status), (StatusCode::ACCEPTED, StatusCode::ACCEPTED));
    let (done_a, done_b) = tokio::join!(api.verify_email(&a), api.verify_email(&b));
    let mut statuses = [done_a.status, done_b.status];
    statuses.sort();
    assert_eq!(statuses, [StatusCode::CREATED, StatusCode::CONFLICT], "{} {}", done_a.body, done_b.body);
    let loser = if done_a.status == StatusCode::CONFLICT { &done_a } else { &done_b };
    assert_eq!(loser.code(), "username_taken");
    let loser_email = if done_a.status == StatusCode::CONFLICT { "race-a@example.com" } else { "race-b@example.com" };
    assert!(ids(&api.find(&format!("email={loser_email}")).await).is_empty(), "no user for the loser");
    assert_eq!(ids(&api.find("username=RACER").await).len(), 1);
}

async fn the_back_office_sets_finds_and_changes_usernames(backend: Backend) {
    let api = Api::with_usernames(backend, Usernames::Optional).await;
    let admin = api.app.admin_token.clone();
    let body = json!({
        "email": "clerk@example.com", "username": "ClerkOne", "first_name": "C", "last_name": "Lerk",
        "user_type": "consumer", "password": PASSWORD,
    });
    let created = api.authorized(Method::POST, "/v1/users", &admin, Some(body)).await;
    assert_eq!((created.status, &created.body["username"]), (StatusCode::CREATED, &json!("ClerkOne")));
    let id = created.body["user_id"].as_str().unwrap().to_owned();
    assert_eq!(ids(&api.find("username=clerkone").await), [id.as_str()]);
    assert!(ids(&api.find("username=ClerkTwo").await).is_empty());

    let path = format!("/v1/users/{id}");
    let renamed = api.authorized(Method::PATCH, &path, &admin, Some(json!({ "username": "ClerkTwo" }))).await;
    assert_eq!(renamed.body["username"], "ClerkTwo", "{}", renamed.body);
    assert!(ids(&api.find("username=ClerkOne").await).is_empty(), "the old name is free");
    assert_eq!(ids(&api.find("username=clerktwo").await), [id.as_str()]);
    assert_eq!(api.login("ClerkTwo", PASSWORD, "d").await.status, StatusCode::OK);
    assert_eq!(api.login("ClerkOne", PASSWORD, "d").await.code(), "invalid_credentials");
    // Another user cannot take it; a change of case only is the same name.
    let body = json!({
        "email": "other@example.com", "first_name": "O", "last_name": "Ther", "user_type": "consumer",
        "password": PASSWORD,
    });
    let other = api.authorized(Method::POST, "/v1/users", &admin, Some(body)).await.body["user_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let taken = api
        .authorized(Method::PATCH, &format!("/v1/users/{other}"), &admin, Some(json!({ "username": "CLERKTWO" })))
        .await;
    assert_eq!((taken.status, taken.code()), (StatusCode::CONFLICT, "username_taken"), "{}", taken.body);
    let recased = api.authorized(Method::PATCH, &path, &admin, Some(json!({ "username": "clerkTWO" }))).await;
    assert_eq!(recased.body["username"], "clerkTWO", "{}", recased.body);
    // Optional here: null removes it, and the name is free again.
    let removed = api.authorized(Method::PATCH, &path, &admin, Some(json!({ "username": null }))).await;
    assert_eq!(removed.body["username"], Value::Null, "{}", removed.body);
    let taken = api
        .authorized(Method::PATCH, &format!("/v1/users/{other}"), &admin, Some(json!({ "username": "ClerkTwo" })))
        .await;
    assert_eq!(taken.status, StatusCode::OK, "{}", taken.body);
}

async fn a_user_changes_its_username_after_a_step_up(backend: Backend) {
    let api = Api::with_usernames(backend, Usernames::Optional).await;
    let started = api.start_sign_up("self@example.com", json!({ "username": "SelfOne" })).await;
    let token = api.verify_email(&started).await.body["access_token"].as_str().unwrap().to_owned();
    // Right after signing in, no password is needed.
    let changed = api.authorized(Method::PATCH, "/v1/me", &token, Some(json!({ "username": "SelfTwo" }))).await;
    assert_eq!((changed.status, &changed.body["username"]), (StatusCode::OK, &json!("SelfTwo")), "{}", changed.body);
    // Later, the current password is.
    api.app.clock.advance(chrono::Duration::seconds(Policy::default().step_up_window_secs + 1));
    let bare = api.authorized(Method::PATCH, "/v1/me", &token, Some(json!({ "username": "SelfThree" }))).await;
    assert_eq!((bare.status, bare.code()), (StatusCode::FORBIDDEN, "step_up_required"), "{}", bare.body);
    // Other profile fields still need none.
    let named = api.authorized(Method::PATCH, "/v1/me", &token, Some(json!({ "last_name": "Renamed" }))).await;
    assert_eq!(named.status, StatusCode::OK, "{}", named.body);
    // A step-up field of the wrong shape is refused even when unused.
    let empty = api
        .authorized(Method::PATCH, "/v1/me", &token, Some(json!({ "last_name": "X", "current_password": "" })))
        .await;
    assert_eq!(empty.body["errors"][0]["field"], "current_password", "{}", empty.body);
    let wrong = json!({ "username": "SelfThree", "current_password": "Wr0ng!Pass" });
    let wrong = api.authorized(Method::PATCH, "/v1/me", &token, Some(wrong)).await;
    assert_eq!(wrong.body["errors"][0]["code"], "incorrect_password", "{}", wrong.body);
    let proven = json!({ "username": "SelfThree", "current_password": PASSWORD });
    let proven = api.authorized(Method::PATCH, "/v1/me", &token, Some(proven)).await;
    assert_eq!(proven.body["username"], "SelfThree", "{}", proven.body);
    assert_eq!(api.login("selfthree", PASSWORD, "d").await.status, StatusCode::OK);
    assert_eq!(api.login("SelfTwo", PASSWORD, "d").await.code(), "invalid_credentials");
    let id = proven.body["user_id"].as_str().unwrap();
    let audit = api.authorized(Method::GET, &format!("/v1/users/{id}/audit"), &api.app.admin_token.clone(), None).await;
    let events: Vec<&Value> = audit.body["events"].as_array().unwrap().iter().map(|e| &e["event"]).collect();
    assert_eq!(events.iter().filter(|e| **e == "username_changed").count(), 2, "{events:?}");
}

async fn closing_the_account_frees_the_username(backend: Backend) {
    let api = Api::with_usernames(backend, Usernames::Optional).await;
    let started = api.start_sign_up("leaver@example.com", json!({ "username": "Leaver" })).await;
    let token = api.verify_email(&started).await.body["access_token"].as_str().unwrap().to_owned();
    let closed = api.authorized(Method::DELETE, "/v1/me", &token, Some(json!({ "password": PASSWORD }))).await;
    assert_eq!(closed.status, StatusCode::OK, "{}", closed.body);
    assert_eq!(api.login("Leaver", PASSWORD, "d").await.code(), "invalid_credentials");
    let again = api.start_sign_up("newcomer@example.com", json!({ "username": "leaver" })).await;
    assert_eq!(again.status, StatusCode::ACCEPTED, "{}", again.body);
    assert_eq!(api.verify_email(&again).await.status, StatusCode::CREATED);
}

async fn tenants_without_or_requiring_usernames(backend: Backend) {
    // Off: the field is unknown everywhere.
    let off = Api::with_usernames(backend, Usernames::Off).await;
    let refused = off.start_sign_up("off@example.com", json!({ "username": "Someone" })).await;
    assert_eq!(refused.body["errors"][0]["code"], "unknown_field", "{}", refused.body);
    let plain = off.start_sign_up("off@example.com", json!({})).await;
    assert_eq!(plain.status, StatusCode::ACCEPTED);
    // Required: sign-up and creation need one.
    let required = Api::with_usernames(backend, Usernames::Required).await;
    let missing = required.start_sign_up("req@example.com", json!({})).await;
    assert_eq!(
        (&missing.body["errors"][0]["field"], &missing.body["errors"][0]["code"]),
        (&json!("username"), &json!("required"))
    );
    let body = json!({
        "email": "req@example.com", "first_name": "R", "last_name": "Eq", "user_type": "consumer", "password": PASSWORD,
    });
    let admin = required.app.admin_token.clone();
    let created = required.authorized(Method::POST, "/v1/users", &admin, Some(body)).await;
    assert_eq!(created.body["errors"][0]["code"], "required", "{}", created.body);
    let started = required.start_sign_up("req@example.com", json!({ "username": "Needed" })).await;
    let id = required.verify_email(&started).await.body["user_id"].as_str().unwrap().to_owned();
    let cleared =
        required.authorized(Method::PATCH, &format!("/v1/users/{id}"), &admin, Some(json!({ "username": null }))).await;
    assert_eq!(cleared.body["errors"][0]["code"], "required", "{}", cleared.body);
}
