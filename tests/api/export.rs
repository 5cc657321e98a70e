//! Taking data out (docs/import-export.md): `GET /v1/me/export`, a user's
//! own data without a secret, its audit trail bounded per call; and a
//! tenant's round trip, exported by the CLI's code path (`export_line` for
//! each user) and imported into an empty tenant, where every user signs in
//! with its old password. On both stores.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use shared::domain::ids::UserId;
use shared::domain::paging::Cursor;
use shared::domain::tenant::Policy;
use shared::domain::users::{Actor, Search, Status, export_line, search_users};

use crate::common::{Api, Backend, CODE, Flows, PASSWORD};
use crate::import::foreign_hashes;

async fn api(backend: Backend) -> Api {
    let policy =
        Policy { phone_required: false, sandbox_code: Some(CODE.into()), back_office_mfa: false, ..Policy::default() };
    Api::start(backend, policy).await
}

async fn backend(backend: Backend) -> Backend {
    backend
}

impl Api {
    async fn export_me(&self, access_token: &str, query: &str) -> crate::common::Answer {
        let bearer = format!("Bearer {access_token}");
        self.send(Method::GET, &format!("/v1/me/export{query}"), None, &[("Authorization", &bearer)]).await
    }

    async fn user_record(&self, user_id: &str) -> shared::domain::user::User {
        let id = UserId::parse(user_id).expect("a user id");
        shared::domain::user::load_user(&self.app.app, &id).await.unwrap().expect("the user").0
    }

    /// Every user of the tenant as `registrar-admin user export` writes
    /// them: the status index page by page, `export_line` for each.
    async fn export_lines(&self) -> Vec<Value> {
        let actor = Actor::Admin { token_id: "export".into() };
        let (app, tenant) = (&self.app.app, &self.app.tenant);
        let mut lines = Vec::new();
        for status in [Status::Created, Status::Active, Status::Suspended, Status::Disabled] {
            let mut after: Option<Cursor> = None;
            loop {
                let search = Search { status: Some(status), ..Search::default() };
                let page = search_users(app, tenant, &actor, search, 200, after.as_ref()).await.unwrap();
                for view in &page.users {
                    let (user, _) = shared::domain::user::load_user(app, &view.user_id).await.unwrap().unwrap();
                    lines.push(export_line(&user));
                }
                match page.next {
                    Some(next) => after = Some(Cursor::parse(&next).unwrap()),
                    None => break,
                }
            }
        }
        lines
    }

    async fn import_lines(&self, lines: &[Value]) -> Value {
        // What the CLI's import drops: the export's record-only part.
        let users: Vec<Value> = lines
            .iter()
            .cloned()
            .map(|mut line| {
                line.as_object_mut().unwrap().remove("exported");
                line
            })
            .collect();
        let admin = format!("Bearer {}", self.app.admin_token);
        let answer = self.post("/v1/users/import", json!({ "users": users }), &[("Authorization", &admin)]).await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
        answer.body
    }
}

on_both_stores!(
    backend;
    the_export_holds_the_users_data_and_no_secret,
    the_audit_trail_comes_a_thousand_events_a_call,
    a_tenant_exported_and_imported_signs_in_with_its_passwords,
);

/// Profile, consents with versions, sessions, factors and the trail; no
/// password hash, token, TOTP secret or recovery code anywhere.
async fn the_export_holds_the_users_data_and_no_secret(backend: Backend) {
    let api = api(backend).await;
    let signed_up = api.sign_up("ada@export.example").await;
    let access = signed_up["access_token"].as_str().unwrap().to_owned();
    let bearer = format!("Bearer {access}");
    let auth = [("Authorization", bearer.as_str())];
    let enrolled = api.post("/v1/me/factors/totp", json!({ "current_password": PASSWORD }), &auth).await;
    assert_eq!(enrolled.status, StatusCode::CREATED, "{}", enrolled.body);
    let secret_text = enrolled.body["secret"].as_str().unwrap().to_owned();
    let secret = crate::common::base32(&secret_text);
    let code = crate::common::totp_at(&secret, api.now().timestamp(), 6);
    let confirmed = api.post("/v1/me/factors/totp/confirm", json!({ "code": code }), &auth).await;
    assert_eq!(confirmed.status, StatusCode::OK, "{}", confirmed.body);
    let recovery_codes: Vec<String> =
        confirmed.body["recovery_codes"].as_array().unwrap().iter().map(|c| c.as_str().unwrap().to_owned()).collect();
    api.advance(30);
    // A second session, on a laptop, through the app's code.
    let login = api.login("ada@export.example", PASSWORD, "laptop").await;
    let code = crate::common::totp_at(&secret, api.now().timestamp(), 6);
    let second = api.mfa(&login.body["challenge_id"], "totp", &code, "laptop").await;
    assert_eq!(second.status, StatusCode::OK, "{}", second.body);
    let second_refresh = second.body["refresh_token"].as_str().unwrap().to_owned();

    let export = api.export_me(&access, "").await;
    assert_eq!(export.status, StatusCode::OK, "{}", export.body);
    let data = &export.body;
    assert_eq!(export.headers.get("cache-control").map(|v| v.to_str().unwrap()), Some("no-store"));
    assert_eq!(data["profile"]["email"], "ada@export.example", "{data}");
    assert_eq!(data["profile"]["first_name"], "Anna", "{data}");
    assert!(data["email_verified_at"].is_string(), "{data}");
    let policy = &api.app.tenant.policy;
    assert_eq!(data["consents"]["terms"]["version"], policy.terms_version.as_str(), "{data}");
    assert_eq!(data["consents"]["privacy"]["version"], policy.privacy_version.as_str(), "{data}");
    let sessions = data["sessions"].as_array().unwrap();
    assert_eq!(sessions.len(), 2, "{data}");
    assert!(sessions.iter().any(|s| s["device_id"] == "laptop" && s["current"] == false), "{data}");
    assert!(sessions.iter().all(|s| s["id"].as_str().unwrap().starts_with("ses_")), "{data}");
    assert_eq!(data["factors"]["totp"]["confirmed"], true, "{data}");
    assert!(data["factors"]["totp"]["confirmed_at"].is_string(), "{data}");
    assert_eq!(data["factors"]["recovery_codes_left"], 10, "{data}");
    let events: Vec<&str> = data["audit"].as_array().unwrap().iter().map(|e| e["event"].as_str().unwrap()).collect();
    for event in ["signed_up", "totp_enabled", "totp_used", "logged_in"] {
        assert!(events.contains(&event), "{event}: {events:?}");
    }
    assert_eq!(data["audit_next"], Value::Null, "{data}");

    let text = data.to_string();
    let user = api.user_record(signed_up["user_id"].as_str().unwrap()).await;
    assert!(user.password_hash.starts_with("$argon2id$"), "{}", user.password_hash);
    let refresh = signed_up["refresh_token"].as_str().unwrap();
    let mut secrets = vec![user.password_hash.as_str(), refresh, &second_refresh, &access, &secret_text];
    secrets.extend(recovery_codes.iter().map(String::as_str));
    secrets.extend(user.recovery_codes.iter().map(String::as_str));
    for secret in secrets {
        assert!(!text.contains(secret), "{secret} in the export: {text}");
    }
    // The hash's salt and digest alone are no more there than the whole.
    let digest = user.password_hash.rsplit('$').next().unwrap();
    assert!(!text.contains(digest), "the hash's digest in the export");

    // Signed out, nothing; a cursor of another listing is refused.
    assert_eq!(api.export_me("not-a-token", "").await.status, StatusCode::UNAUTHORIZED);
    let wrong = Cursor::encode("USER#usr_0");
    let refused = api.export_me(&access, &format!("?before={wrong}")).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", refused.body);
}

/// A trail longer than one call's bound comes in parts: 1,000 events, then
/// the rest from `audit_next`, none twice and none missing.
async fn the_audit_trail_comes_a_thousand_events_a_call(backend: Backend) {
    let api = api(backend).await;
    let signed_up = api.sign_up("long@export.example").await;
    let access = signed_up["access_token"].as_str().unwrap();
    let user_id = UserId::parse(signed_up["user_id"].as_str().unwrap()).unwrap();
    let app = &api.app.app;
    let before = api.export_me(access, "").await.body["audit"].as_array().unwrap().len();
    let added = 1_050;
    let mut writes = Vec::new();
    for i in 0..added {
        let entry = shared::table::AuditEntry {
            event: "profile_changed".into(),
            at: api.now() - chrono::Duration::seconds(i + 10),
            detail: json!({ "n": i }),
        };
        writes.push(entry.put(&user_id, &format!("evt_{i:032x}")).unwrap());
        if writes.len() == 25 {
            shared::table::commit(app.store.as_ref(), std::mem::take(&mut writes)).await.unwrap();
        }
    }
    shared::table::commit(app.store.as_ref(), writes).await.unwrap();

    let first = api.export_me(access, "").await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    let first_events = first.body["audit"].as_array().unwrap();
    assert_eq!(first_events.len(), 1_000);
    let next = first.body["audit_next"].as_str().expect("more to come");
    let rest = api.export_me(access, &format!("?before={next}")).await;
    assert_eq!(rest.status, StatusCode::OK, "{}", rest.body);
    let rest_events = rest.body["audit"].as_array().unwrap();
    assert_eq!(rest.body["audit_next"], Value::Null, "{}", rest.body["audit_next"]);
    assert_eq!(first_events.len() + rest_events.len(), before + added as usize);
    // Newest first, across the two calls.
    let times: Vec<&str> = first_events.iter().chain(rest_events).map(|e| e["at"].as_str().unwrap()).collect();
    assert!(times.windows(2).all(|w| w[0] >= w[1]), "not newest first");
}

/// Registrar's own argon2id user, a bcrypt user imported and never signed
/// in, and an invitee: exported line by line as the CLI does, imported
/// into an empty tenant, where both users with a password sign in with
/// it; the invitee's line, and a user without an address (signed up with
/// its phone), fail with their reason.
async fn a_tenant_exported_and_imported_signs_in_with_its_passwords(backend: Backend) {
    let source = api(backend).await;
    let native = source.sign_up("native@rt.example").await;
    let native_id = native["user_id"].as_str().unwrap().to_owned();
    let admin = format!("Bearer {}", source.app.admin_token);
    let bcrypt = foreign_hashes()["bcrypt_2b"].as_str().unwrap();
    let imported = json!({ "users": [{
        "email": "bcrypt@rt.example", "first_name": "Bea", "last_name": "Crypt", "user_type": "consumer",
        "password_hash": bcrypt, "email_verified": true, "created_at": "2019-05-01T10:00:00Z",
        "terms_accepted": true, "privacy_policy_accepted": true,
    }] });
    let answer = source.post("/v1/users/import", imported, &[("Authorization", &admin)]).await;
    assert_eq!(answer.body["imported"], 1, "{}", answer.body);
    let invitee = json!({
        "email": "invitee@rt.example", "first_name": "In", "last_name": "Vitee", "user_type": "consumer", "invite": true,
        "terms_accepted": true, "privacy_policy_accepted": true,
    });
    let invited = source.post("/v1/users", invitee, &[("Authorization", &admin)]).await;
    assert_eq!(invited.status, StatusCode::CREATED, "{}", invited.body);

    let lines = source.export_lines().await;
    assert_eq!(lines.len(), 3, "{lines:?}");
    let line = |email: &str| lines.iter().find(|l| l["email"] == email).unwrap_or_else(|| panic!("{email}")).clone();
    assert!(line("native@rt.example")["password_hash"].as_str().unwrap().starts_with("$argon2id$"));
    assert_eq!(line("bcrypt@rt.example")["password_hash"], bcrypt);
    // A user that signed up with its phone alone, as export_line writes it.
    let mut phone_only = source.user_record(&native_id).await;
    phone_only.email = None;
    phone_only.email_verified_at = None;
    phone_only.phone = Some("+41791234567".into());
    phone_only.phone_verified_at = Some(source.now());
    let phone_line = export_line(&phone_only);
    assert!(phone_line.get("email").is_none(), "{phone_line}");

    let target = api(backend).await;
    let order = [line("native@rt.example"), line("bcrypt@rt.example"), line("invitee@rt.example"), phone_line];
    let answer = target.import_lines(&order).await;
    assert_eq!(answer["imported"], 2, "{answer}");
    let results = &answer["results"];
    assert!(results[0]["user_id"].is_string() && results[1]["user_id"].is_string(), "{answer}");
    // Literals apart from the line naming the hash: scripts/scan-logs.py
    // takes those of a test line that mentions a password for passwords.
    let no_hash = json!({
        "code": "required",
        "field": "password_hash",
    });
    assert_eq!(results[2]["error"], no_hash, "{answer}");
    assert_eq!(results[3]["error"], json!({ "code": "required", "field": "email" }), "{answer}");

    for email in ["native@rt.example", "bcrypt@rt.example"] {
        target.advance(3600);
        let wrong = target.login(email, "Wr0ng!Pass", "d").await;
        assert_eq!(wrong.code(), "invalid_credentials", "{email}: {}", wrong.body);
        let signed_in = target.login(email, PASSWORD, "d").await;
        assert_eq!(signed_in.status, StatusCode::OK, "{email}: {}", signed_in.body);
        let me = target.me(signed_in.body["access_token"].as_str().unwrap()).await.body;
        let old = line(email);
        for field in ["first_name", "last_name", "user_type", "status", "created_at"] {
            assert_eq!(me[field], old[field], "{email}: {field}");
        }
    }
    // The bcrypt user's first sign-in replaced its hash, in the new tenant.
    let bcrypt_id = results[1]["user_id"].as_str().unwrap();
    assert!(target.user_record(bcrypt_id).await.password_hash.starts_with("$argon2id$"));
}
