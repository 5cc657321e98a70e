//! Privileged registration, the account lifecycle, the audit trail and
//! reference data (docs/back-office.md) over HTTP, on both stores.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use shared::domain::tenant::{Policy, RoleRule, TenantEntry};
use shared::domain::values::EmailAddress;
use shared::table::email_lock_key;

use crate::common::{Answer, Api, Backend, CODE, Flows, PASSWORD};

/// The test app for a backend (for `on_both_stores!`).
async fn api(backend: Backend) -> Api {
    // Who reaches whom, with a password sign-in: the second factor the
    // back office asks for by default (`back_office_mfa`) is proven in
    // tests/api/security.rs and tests/deploy/iam.rs.
    let mut policy =
        Policy { phone_required: false, sandbox_code: Some(CODE.into()), back_office_mfa: false, ..Policy::default() };
    // A seed spelling, kept as given, that only admin tokens grant.
    policy.roles.push(RoleRule { name: "ADMIN".into(), granted_by: vec!["admin".into()] });
    // A reference kind of the tenant's own, named in two languages.
    let names = |pairs: &[(&str, &str)]| pairs.iter().map(|(l, n)| ((*l).to_owned(), (*n).to_owned())).collect();
    policy.reference.insert(
        "civil-statuses".into(),
        vec![
            TenantEntry { code: "SINGLE".into(), names: names(&[("en", "Single"), ("de", "Ledig")]) },
            TenantEntry { code: "MARRIED".into(), names: names(&[("en", "Married"), ("fr", "Marié")]) },
        ],
    );
    Api::start(backend, policy).await
}

impl Api {
    /// A request as `bearer` (an admin token or a user's access token).
    async fn call(&self, method: Method, path: &str, bearer: Option<&str>, body: Option<Value>) -> Answer {
        let authorization = bearer.map(|token| format!("Bearer {token}"));
        let headers: Vec<(&str, &str)> = authorization.iter().map(|a| ("Authorization", a.as_str())).collect();
        self.send(method, path, body, &headers).await
    }

    fn admin(&self) -> String {
        self.app.admin_token.clone()
    }

    async fn create(&self, actor: &str, body: Value) -> Answer {
        self.call(Method::POST, "/v1/users", Some(actor), Some(body)).await
    }

    /// Creates a user with the admin token (terms and privacy accepted, so
    /// the first login signs in) and returns (id, access token).
    async fn user(&self, email: &str, user_type: &str, company: Option<&str>) -> (String, String) {
        let mut body = json!({
            "email": email, "first_name": "Uma", "last_name": "User", "user_type": user_type, "password": PASSWORD,
            "terms_accepted": true, "privacy_policy_accepted": true,
        });
        if let Some(company) = company {
            body["company_id"] = json!(company);
        }
        let created = self.create(&self.admin(), body).await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
        let id = created.body["user_id"].as_str().unwrap().to_owned();
        (id, self.access_token(email).await)
    }

    /// Signs in as `email` from device `d`; the access token.
    async fn access_token(&self, email: &str) -> String {
        let mut body = self.login(email, PASSWORD, "d").await.body;
        // A user created with its legal documents pending accepts them first.
        if body["legal_acceptance_required"] == true {
            let accept = json!({
                "challenge_id": body["challenge_id"], "terms_accepted": true, "privacy_policy_accepted": true,
            });
            body = self.post("/v1/auth/legal/accept", accept, &[("X-Device-ID", "d")]).await.body;
        }
        body["access_token"].as_str().unwrap_or_else(|| panic!("login failed: {body}")).to_owned()
    }

    async fn status(&self, actor: &str, id: &str, status: &str, reason: &str) -> Answer {
        let body = json!({ "status": status, "reason": reason });
        self.call(Method::POST, &format!("/v1/users/{id}/status"), Some(actor), Some(body)).await
    }
}

on_both_stores!(
    api;
    the_creation_matrix,
    roles_come_from_the_catalogue,
    read_scope_follows_the_creation_rules,
    the_reach_matrix_over_every_back_office_route,
    every_status_move_allowed_and_refused,
    closing_frees_the_email_and_keeps_the_audit,
    invitations_set_the_password_and_activate,
    bad_input_to_privileged_routes,
    audit_is_newest_first_and_paged,
    reference_data_is_localized,
    a_store_failure_never_splits_user_and_lock,
    the_api_keys_partner_is_recorded,
    seed_spellings_of_user_types,
    the_back_office_unlocks_resets_and_ends_sessions,
    creation_records_consent_and_takes_the_phone_in_parts,
    the_back_office_finds_users,
    the_back_office_edits_a_user,
    pending_legal_documents_are_accepted_at_first_login,
    users_reference_entries_of_any_kind,
    the_back_office_edits_the_tenants_own_kinds,
);

/// User types as the source APIs spell them: any case, `SUBSCRIBER` for a
/// consumer; the answer and the token use Registrar's own names, and the
/// token answer's `scope` lists the roles.
async fn seed_spellings_of_user_types(api: Api) {
    for (n, (given, stored)) in [
        ("SUBSCRIBER", "consumer"),
        ("subscriber", "consumer"),
        ("SERVICE_OWNER", "service_owner"),
        ("Company_User", "company_user"),
        ("CONSUMER", "consumer"),
    ]
    .into_iter()
    .enumerate()
    {
        let email = format!("seed{n}@example.com");
        let body = json!({
            "email": email, "first_name": "S", "last_name": "Eed", "user_type": given, "company_id": "acme",
            "password": PASSWORD, "confirm_password": PASSWORD, "roles": ["member", "ADMIN"],
            "terms_accepted": true, "privacy_policy_accepted": true,
        });
        let created = api.create(&api.admin(), body).await;
        assert_eq!(created.status, StatusCode::CREATED, "{given}: {}", created.body);
        assert_eq!(created.body["user_type"], stored, "{given}");
        let login = api
            .post("/v1/auth/login", json!({ "username": email, "password": PASSWORD }), &[("X-Device-ID", "d")])
            .await;
        assert_eq!(login.body["scope"], "ADMIN member", "{}", login.body);
    }
    for wrong in ["robot", "consumers", "sub scriber", ""] {
        let body = json!({
            "email": "wrong@example.com", "first_name": "S", "last_name": "Eed", "user_type": wrong,
            "password": PASSWORD,
        });
        let refused = api.create(&api.admin(), body).await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{wrong}: {}", refused.body);
        assert_eq!(refused.body["errors"][0]["field"], "user_type", "{wrong}");
    }
    // A confirmation that differs, in the requester's language.
    let body = json!({
        "email": "confirm@example.com", "first_name": "S", "last_name": "Eed", "user_type": "consumer",
        "password": PASSWORD, "confirm_password": "Str0ng!Pas5",
    });
    let authorization = format!("Bearer {}", api.admin());
    let headers = [("Authorization", authorization.as_str()), ("Accept-Language", "de")];
    let refused = api.send(Method::POST, "/v1/users", Some(body), &headers).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", refused.body);
    assert_eq!(refused.body["errors"][0]["field"], "confirm_password");
    assert_eq!(refused.body["errors"][0]["code"], "password_mismatch");
    assert_eq!(refused.body["errors"][0]["message"], "Die Passwörter stimmen nicht überein.");
}

async fn the_creation_matrix(api: Api) {
    let (_, service_owner) = api.user("so@example.com", "service_owner", None).await;
    let (_, company_a) = api.user("cu@example.com", "company_user", Some("acme")).await;
    let (_, consumer) = api.user("co@example.com", "consumer", None).await;
    let admin = api.admin();
    let targets: [(&str, Option<&str>); 4] =
        [("service_owner", None), ("company_user", Some("acme")), ("company_user", Some("globex")), ("consumer", None)];
    let actors = [
        ("admin token", admin.as_str(), [true, true, true, true]),
        ("service_owner", service_owner.as_str(), [true, true, true, false]),
        ("company_user of acme", company_a.as_str(), [false, true, false, true]),
        ("consumer", consumer.as_str(), [false, false, false, false]),
    ];
    let mut n = 0;
    for (actor_name, token, allowed) in actors {
        for ((user_type, company), expected) in targets.iter().zip(allowed) {
            n += 1;
            let mut body = json!({
                "email": format!("target{n}@example.com"), "first_name": "T", "last_name": "T",
                "user_type": user_type, "password": PASSWORD, "roles": ["member"],
            });
            if let Some(company) = company {
                body["company_id"] = json!(company);
            }
            let answer = api.create(token, body).await;
            let what = format!("{actor_name} → {user_type} {company:?}");
            if expected {
                assert_eq!(answer.status, StatusCode::CREATED, "{what}: {}", answer.body);
                let id = answer.body["user_id"].as_str().unwrap();
                assert_eq!(answer.headers["location"], format!("/v1/users/{id}").as_str(), "{what}");
                assert_eq!(answer.body["user_type"], *user_type);
                assert_eq!(answer.body["status"], "active");
                assert!(answer.body.get("password_hash").is_none());
            } else {
                assert_eq!((answer.status, answer.code()), (StatusCode::FORBIDDEN, "forbidden"), "{what}");
                let key = email_lock_key(&api.app.tenant.id, &format!("target{n}@example.com"));
                assert!(api.app.app.store.get(&key).await.unwrap().is_none(), "{what}: nothing created");
            }
        }
    }
    // A company user's consumer belongs to its company.
    let consumer = api.create(&company_a, json!({
        "email": "c2@example.com", "first_name": "C", "last_name": "C", "user_type": "consumer", "password": PASSWORD,
    })).await;
    assert_eq!(consumer.body["company_id"], "acme");
    let taken = api.create(&admin, json!({
        "email": "so@example.com", "first_name": "S", "last_name": "O", "user_type": "consumer", "password": PASSWORD,
    })).await;
    assert_eq!((taken.status, taken.code()), (StatusCode::CONFLICT, "email_taken"));
}

async fn read_scope_follows_the_creation_rules(api: Api) {
    let (so_id, service_owner) = api.user("so@example.com", "service_owner", None).await;
    let (acme_id, acme) = api.user("acme@example.com", "company_user", Some("acme")).await;
    let (globex_id, _) = api.user("globex@example.com", "company_user", Some("globex")).await;
    let (consumer_id, consumer) = api.user("co@example.com", "consumer", None).await;
    let get = |token: String, id: String| {
        let api = &api;
        async move { api.call(Method::GET, &format!("/v1/users/{id}"), Some(&token), None).await }
    };
    assert_eq!(get(api.admin(), consumer_id.clone()).await.status, StatusCode::OK);
    assert_eq!(get(service_owner.clone(), acme_id.clone()).await.status, StatusCode::OK);
    assert_eq!(get(service_owner.clone(), consumer_id.clone()).await.status, StatusCode::OK, "self-registered");
    assert_eq!(get(acme.clone(), acme_id.clone()).await.status, StatusCode::OK);
    assert_eq!(get(acme.clone(), globex_id.clone()).await.code(), "forbidden", "another company");
    assert_eq!(get(acme.clone(), so_id.clone()).await.code(), "forbidden");
    // A self-registered consumer belongs to no company: out of a company
    // user's reach, for reading and for status changes.
    assert_eq!(get(acme.clone(), consumer_id.clone()).await.code(), "forbidden", "a consumer of no company");
    assert_eq!(api.status(&acme, &consumer_id, "X", "test").await.code(), "forbidden");
    let own = api
        .create(
            &acme,
            json!({
                "email": "acme-consumer@example.com", "first_name": "A", "last_name": "C", "user_type": "consumer",
                "password": PASSWORD,
            }),
        )
        .await;
    let own_id = own.body["user_id"].as_str().or(own.body["id"].as_str()).expect("an id").to_owned();
    assert_eq!(get(acme.clone(), own_id).await.status, StatusCode::OK, "its company's consumer");
    assert_eq!(get(consumer.clone(), consumer_id.clone()).await.code(), "forbidden");
    assert_eq!(get(api.admin(), "usr_00000000000000000000000000000000".into()).await.code(), "user_not_found");
    assert_eq!(get(api.admin(), "nonsense".into()).await.code(), "user_not_found");
    // Status changes follow the same scope.
    assert_eq!(api.status(&acme, &globex_id, "S", "test").await.code(), "forbidden");
    // Another tenant's admin token is not valid here; a user of another
    // tenant does not exist here.
    let other = self::api(Backend::Memory).await;
    let foreign = other.call(Method::GET, &format!("/v1/users/{consumer_id}"), Some(&other.admin()), None).await;
    assert_eq!(foreign.code(), "user_not_found");
    let wrong_tenant_token =
        api.call(Method::GET, &format!("/v1/users/{consumer_id}"), Some(&other.admin()), None).await;
    assert_eq!((wrong_tenant_token.status, wrong_tenant_token.code()), (StatusCode::UNAUTHORIZED, "invalid_token"));
    let none = api.call(Method::GET, &format!("/v1/users/{consumer_id}"), None, None).await;
    assert_eq!(none.code(), "invalid_token");
}

/// Every back-office route that names a user (get, audit, status) for every
/// kind of actor and target (the back office's reach). A status change to
/// `created` is never an allowed move, so a caller in scope gets 409 and
/// nothing changes, while one out of scope gets 403.
async fn the_reach_matrix_over_every_back_office_route(api: Api) {
    let (_, service_owner) = api.user("m-so@example.com", "service_owner", None).await;
    let (acme_user_id, acme) = api.user("m-acme@example.com", "company_user", Some("acme")).await;
    let (globex_user_id, _) = api.user("m-globex@example.com", "company_user", Some("globex")).await;
    let (acme_consumer_id, _) = api.user("m-acme-co@example.com", "consumer", Some("acme")).await;
    let (globex_consumer_id, _) = api.user("m-globex-co@example.com", "consumer", Some("globex")).await;
    let (self_registered_id, consumer) = api.user("m-self@example.com", "consumer", None).await;
    let (so_id, _) = api.user("m-so2@example.com", "service_owner", None).await;
    let targets = [
        ("service owner", &so_id),
        ("acme company user", &acme_user_id),
        ("globex company user", &globex_user_id),
        ("acme consumer", &acme_consumer_id),
        ("globex consumer", &globex_consumer_id),
        ("self-registered consumer", &self_registered_id),
    ];
    let actors: [(&str, String, [bool; 6]); 4] = [
        ("admin token", api.admin(), [true; 6]),
        ("service owner", service_owner, [true; 6]),
        ("acme company user", acme, [false, true, false, true, false, false]),
        ("consumer", consumer, [false; 6]),
    ];
    for (actor, token, reach) in &actors {
        for ((target, id), reachable) in targets.iter().zip(reach) {
            let get = api.call(Method::GET, &format!("/v1/users/{id}"), Some(token), None).await;
            let audit = api.call(Method::GET, &format!("/v1/users/{id}/audit"), Some(token), None).await;
            let status = api.status(token, id, "C", "matrix").await;
            let seen = [get.status, audit.status, status.status];
            let expected = if *reachable {
                [StatusCode::OK, StatusCode::OK, StatusCode::CONFLICT]
            } else {
                [StatusCode::FORBIDDEN; 3]
            };
            assert_eq!(seen, expected, "{actor} → {target} (get, audit, status)");
        }
    }
}

async fn every_status_move_allowed_and_refused(api: Api) {
    let admin = api.admin();
    let statuses = ["created", "active", "suspended", "disabled", "closed"];
    let letters = ["C", "A", "S", "D", "X"];
    let allowed: &[(&str, &[&str])] = &[
        ("created", &["active", "closed"]),
        ("active", &["suspended", "disabled", "closed"]),
        ("suspended", &["active", "disabled", "closed"]),
        ("disabled", &["active", "closed"]),
        ("closed", &[]),
    ];
    // How to reach each status from a new (active) or invited (created) user.
    let path_to = |status: &str| -> Vec<&str> {
        match status {
            "active" | "created" => vec![],
            "suspended" => vec!["S"],
            "disabled" => vec!["D"],
            "closed" => vec!["X"],
            _ => unreachable!(),
        }
    };
    let mut n = 0;
    for (from, moves) in allowed {
        for (to, letter) in statuses.iter().zip(letters) {
            n += 1;
            let email = format!("life{n}@example.com");
            let body = if *from == "created" {
                json!({ "email": email, "first_name": "L", "last_name": "L", "user_type": "consumer", "invite": true })
            } else {
                json!({ "email": email, "first_name": "L", "last_name": "L", "user_type": "consumer", "password": PASSWORD })
            };
            let created = api.create(&admin, body).await;
            assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
            let id = created.body["user_id"].as_str().unwrap().to_owned();
            let session = if *from == "created" { None } else { Some(api.access_token(&email).await) };
            for step in path_to(from) {
                assert_eq!(api.status(&admin, &id, step, "setup").await.status, StatusCode::OK);
            }
            // Words and letters both work; alternate.
            let word_or_letter = if n % 2 == 0 { letter.to_owned() } else { to.to_string() };
            let answer = api.status(&admin, &id, &word_or_letter, &format!("move {n}")).await;
            let what = format!("{from} → {to}");
            if moves.contains(to) {
                assert_eq!(answer.status, StatusCode::OK, "{what}: {}", answer.body);
                assert_eq!(answer.body["status"], *to, "{what}");
                assert_eq!(answer.body["previous_status"], *from, "{what}");
                let events = api.audit(&id).await;
                let logged = events.iter().any(|e| {
                    e["event"] == "status_changed"
                        && e["detail"]["to"] == *to
                        && e["detail"]["reason"] == format!("move {n}")
                });
                assert!(logged, "{what}: audit entry with the reason: {events:?}");
                if matches!(*to, "suspended" | "disabled" | "closed")
                    && let Some(token) = &session
                {
                    let me = api.call(Method::GET, "/v1/me", Some(token), None).await;
                    assert_eq!(me.status, StatusCode::UNAUTHORIZED, "{what}: sessions revoked");
                }
            } else {
                assert_eq!((answer.status, answer.code()), (StatusCode::CONFLICT, "invalid_status_change"), "{what}");
                let named: Vec<&str> =
                    answer.body["allowed"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
                assert_eq!(named, moves.to_vec(), "{what}: the allowed moves are named");
            }
        }
    }
}

async fn closing_frees_the_email_and_keeps_the_audit(api: Api) {
    let (id, token) = api.user("gone@example.com", "consumer", None).await;
    let closed = api.status(&api.admin(), &id, "X", "user asked").await;
    assert_eq!(closed.status, StatusCode::OK, "{}", closed.body);
    assert_eq!(api.call(Method::GET, "/v1/me", Some(&token), None).await.status, StatusCode::UNAUTHORIZED);
    let stored = api.call(Method::GET, &format!("/v1/users/{id}"), Some(&api.admin()), None).await.body;
    assert_eq!(stored["status"], "closed");
    assert_eq!(stored["email"], Value::Null);
    assert_eq!(stored["first_name"], "");
    assert!(api.audit(&id).await.iter().any(|e| e["event"] == "created"), "the audit trail stays");
    // Every personal field is gone from the stored item (closing erases).
    let full = json!({
        "email": "full@example.com", "first_name": "Fay", "last_name": "Full", "user_type": "consumer",
        "password": PASSWORD, "phone": "+41795550003", "gender": "female", "birth_date": "1990-02-03",
        "time_zone": "Europe/Zurich", "nationality": "CH", "attributes": { "member_no": "A-17" },
        "address": { "street": "Bahnhofstrasse", "street_nr": "1", "zip": "8001", "city": "Zürich", "country": "CH", "c_o": "Fritz" },
    });
    let created = api.create(&api.admin(), full).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let full_id = created.body["user_id"].as_str().unwrap().to_owned();
    assert_eq!(api.status(&api.admin(), &full_id, "X", "erasure").await.status, StatusCode::OK);
    let item = api
        .app
        .app
        .store
        .get(&shared::table::user_key(&shared::domain::ids::UserId::parse(&full_id).unwrap()))
        .await
        .unwrap()
        .unwrap();
    let kept: Vec<(&String, &Value)> = item
        .body
        .as_object()
        .unwrap()
        .iter()
        .filter(|(_, v)| !(v.is_null() || *v == "" || v.as_object().is_some_and(|o| o.is_empty())))
        .collect();
    let names: Vec<&str> = kept.iter().map(|(k, _)| k.as_str()).collect();
    let personal = [
        "email",
        "phone",
        "first_name",
        "last_name",
        "gender",
        "birth_date",
        "time_zone",
        "nationality",
        "address",
        "attributes",
        "password_hash",
        "pending_credential",
    ];
    assert!(personal.iter().all(|p| !names.contains(p)), "personal data left after closing: {kept:?}");
    assert!(!item.body.to_string().contains("Bahnhofstrasse") && !item.body.to_string().contains("A-17"));
    // The address signs up again.
    let again = api
        .call(
            Method::POST,
            "/v1/registrations",
            None,
            Some(json!({
                "email": "gone@example.com", "password": PASSWORD, "first_name": "G", "last_name": "O",
                "terms_accepted": true, "privacy_policy_accepted": true,
            })),
        )
        .await;
    let reg = again.body["registration_id"].as_str().unwrap();
    let done = api
        .call(Method::POST, &format!("/v1/registrations/{reg}/email/verify"), None, Some(json!({ "code": CODE })))
        .await;
    assert_eq!(done.status, StatusCode::CREATED, "{}", done.body);
    assert_ne!(done.body["user_id"], id.as_str());
}

async fn invitations_set_the_password_and_activate(api: Api) {
    let created = api
        .create(
            &api.admin(),
            json!({
                "email": "invited@example.com", "first_name": "Ivy", "last_name": "Vite", "user_type": "consumer",
                "invite": true, "preferred_language": "it",
            }),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert_eq!(created.body["status"], "created");
    let mail = api.app.messages_to("invited@example.com");
    assert_eq!(mail.len(), 1);
    assert_eq!(mail[0]["subject"], "Sei stato invitato");
    // The back office sends the invitation again (not a 10-minute reset).
    let id = created.body["user_id"].as_str().unwrap();
    api.app.clock.advance(chrono::Duration::seconds(61));
    let again = json!({ "method": "email", "reason": "Lost the invitation" });
    let resent =
        api.call(Method::POST, &format!("/v1/users/{id}/password-reset"), Some(&api.admin()), Some(again)).await;
    assert_eq!(resent.status, StatusCode::OK, "{}", resent.body);
    let mail = api.app.messages_to("invited@example.com");
    assert_eq!((mail.len(), &mail[1]["subject"]), (2, &json!("Sei stato invitato")));
    let reset = api
        .call(
            Method::POST,
            "/v1/auth/password/reset",
            None,
            Some(json!({
                "email": "invited@example.com", "code": CODE, "new_password": "N3w!Secret",
            })),
        )
        .await;
    assert_eq!(reset.status, StatusCode::OK, "{}", reset.body);
    let id = created.body["user_id"].as_str().unwrap();
    let user = api.call(Method::GET, &format!("/v1/users/{id}"), Some(&api.admin()), None).await.body;
    assert_eq!(user["status"], "active");
    assert_eq!(user["email_verified"], true);
    let login = api
        .http
        .post(api.app.url("/v1/auth/login"))
        .header("X-API-Key", &api.app.api_key)
        .header("X-Device-ID", "d")
        .json(&json!({ "username": "invited@example.com", "password": "N3w!Secret" }))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), StatusCode::OK);
}

async fn bad_input_to_privileged_routes(api: Api) {
    let admin = api.admin();
    let (id, _) = api.user("target@example.com", "consumer", None).await;
    let codes = |a: &Answer| -> Vec<(String, String)> {
        a.body["errors"].as_array().map_or(vec![], |e| {
            e.iter().map(|e| (e["field"].as_str().unwrap().into(), e["code"].as_str().unwrap().into())).collect()
        })
    };
    let bad = api
        .create(
            &admin,
            json!({
                "email": "x@example.com", "first_name": "X", "last_name": "X", "user_type": "wizard",
                "password": PASSWORD, "invite": true, "time_zone": "Mars/Base", "nationality": "XX",
                "address": { "country": "ZZ", "planet": "Mars" }, "roles": ["Admin!"], "attributes": [1], "extra": 1,
            }),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    let found = codes(&bad);
    for expected in [
        ("user_type", "invalid_choice"),
        ("password", "password_or_invite"),
        ("time_zone", "invalid_time_zone"),
        ("nationality", "invalid_country"),
        ("address.country", "invalid_country"),
        ("address.planet", "unknown_field"),
        ("roles", "invalid_role"),
        ("attributes", "wrong_type"),
        ("extra", "unknown_field"),
    ] {
        assert!(found.contains(&(expected.0.into(), expected.1.into())), "{expected:?} in {found:?}");
    }
    let no_company = api.create(&admin, json!({
        "email": "y@example.com", "first_name": "Y", "last_name": "Y", "user_type": "company_user", "password": PASSWORD,
    })).await;
    assert_eq!(codes(&no_company), [("company_id".to_string(), "required".to_string())]);
    let empty_reason = api.status(&admin, &id, "S", "   ").await;
    assert_eq!(codes(&empty_reason), [("reason".to_string(), "required".to_string())]);
    let bad_status = api.status(&admin, &id, "Z", "why").await;
    assert_eq!(codes(&bad_status), [("status".to_string(), "invalid_choice".to_string())]);
    let unknown = api.status(&admin, "usr_00000000000000000000000000000000", "S", "why").await;
    assert_eq!((unknown.status, unknown.code()), (StatusCode::NOT_FOUND, "user_not_found"));
    let limit = api.call(Method::GET, &format!("/v1/users/{id}/audit?limit=0"), Some(&admin), None).await;
    assert_eq!(codes(&limit), [("limit".to_string(), "out_of_range".to_string())]);
    let forged =
        api.call(Method::GET, &format!("/v1/users/{id}"), Some("adm_forged_token_of_nobody_at_all"), None).await;
    assert_eq!(forged.code(), "invalid_token");
}

async fn audit_is_newest_first_and_paged(api: Api) {
    let admin = api.admin();
    let (id, _) = api.user("audited@example.com", "consumer", None).await;
    for (n, status) in ["S", "A", "D", "A"].iter().enumerate() {
        api.app.clock.advance(chrono::Duration::seconds(1));
        assert_eq!(api.status(&admin, &id, status, &format!("step {n}")).await.status, StatusCode::OK);
    }
    let all = api.audit(&id).await;
    let reasons: Vec<&str> = all.iter().filter_map(|e| e["detail"]["reason"].as_str()).collect();
    assert_eq!(reasons, ["step 3", "step 2", "step 1", "step 0"], "newest first");
    let first = api.call(Method::GET, &format!("/v1/users/{id}/audit?limit=2"), Some(&admin), None).await.body;
    assert_eq!(first["events"].as_array().unwrap().len(), 2);
    let cursor = first["next"].as_str().expect("a next page");
    let second =
        api.call(Method::GET, &format!("/v1/users/{id}/audit?limit=2&before={cursor}"), Some(&admin), None).await.body;
    assert_eq!(second["events"][0]["detail"]["reason"], "step 1");
}

async fn reference_data_is_localized(api: Api) {
    let get = |path: &'static str, lang: &'static str| {
        let api = &api;
        async move {
            let response = api
                .http
                .get(api.app.url(path))
                .header("X-API-Key", &api.app.api_key)
                .header("Accept-Language", lang)
                .send()
                .await
                .unwrap();
            (response.status(), response.json::<Value>().await.unwrap())
        }
    };
    let (status, countries) = get("/v1/reference/countries", "de").await;
    assert_eq!(status, StatusCode::OK);
    let items = countries["items"].as_array().unwrap();
    assert!(items.len() >= 249);
    assert!(items.iter().any(|c| c["code"] == "DE" && c["name"] == "Deutschland"));
    assert_eq!(get("/v1/reference/countries/ch", "fr").await.1["name"], "Suisse");
    assert_eq!(get("/v1/reference/genders/female", "it").await.1["name"], "Femminile");
    assert_eq!(get("/v1/reference/languages", "en").await.1["items"].as_array().unwrap().len(), 4);
    let legal = get("/v1/reference/legal-documents", "en").await.1;
    assert_eq!(legal["items"][0]["version"], "2026-01");
    assert_eq!(get("/v1/reference/planets", "en").await.0, StatusCode::NOT_FOUND);
    assert_eq!(get("/v1/reference/countries/ZZ", "en").await.1["code"], "reference_not_found");
}

async fn a_store_failure_never_splits_user_and_lock(api: Api) {
    let admin = api.admin();
    let mut failures = 0;
    for calls_before_failure in 0.. {
        api.app.store.fail_after(calls_before_failure);
        let answer = api.create(&admin, json!({
            "email": "atomic@example.com", "first_name": "A", "last_name": "T", "user_type": "consumer", "password": PASSWORD,
        })).await;
        api.app.store.heal();
        if answer.status == StatusCode::CREATED {
            break;
        }
        assert_eq!((answer.status, answer.code()), (StatusCode::SERVICE_UNAVAILABLE, "unavailable"));
        let lock = api.app.app.store.get(&email_lock_key(&api.app.tenant.id, "atomic@example.com")).await.unwrap();
        assert!(lock.is_none(), "no lock without its user");
        failures += 1;
        assert!(failures < 10);
    }
    assert!(failures >= 3, "key, tenant, admin token and the transaction");
}

async fn roles_come_from_the_catalogue(api: Api) {
    let (_, service_owner) = api.user("r-so@example.com", "service_owner", None).await;
    let (_, acme) = api.user("r-acme@example.com", "company_user", Some("acme")).await;
    let mut n = 0;
    let mut create = |token: &str, roles: Value| {
        n += 1;
        let body = json!({
            "email": format!("role{n}@example.com"), "first_name": "R", "last_name": "O", "user_type": "company_user",
            "company_id": "acme", "password": PASSWORD, "roles": roles,
        });
        let token = token.to_owned();
        let api = &api;
        async move { api.create(&token, body).await }
    };
    // Unknown roles: 422 with a field error, for everyone.
    let unknown = create(&api.admin(), json!(["superuser"])).await;
    assert_eq!(unknown.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", unknown.body);
    assert_eq!(
        (unknown.body["errors"][0]["field"].as_str(), unknown.body["errors"][0]["code"].as_str()),
        (Some("roles"), Some("unknown_role"))
    );
    assert_eq!(create(&api.admin(), json!(["admin"])).await.status, StatusCode::CREATED);
    assert_eq!(create(&api.admin(), json!(["ADMIN"])).await.body["roles"], json!(["ADMIN"]), "case kept");
    assert_eq!(
        create(&api.admin(), json!(["Admin"])).await.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "a spelling that matches two names of the catalogue but neither exactly is unknown"
    );
    // A seed spelling of a name the catalogue has once: that role, in the
    // case given (the token's roles and scope carry it as given too).
    let member = create(&acme, json!(["MEMBER"])).await;
    assert_eq!((member.status, &member.body["roles"]), (StatusCode::CREATED, &json!(["MEMBER"])), "{}", member.body);
    assert_eq!(create(&acme, json!(["SUPPORT"])).await.status, StatusCode::FORBIDDEN, "its rule still applies");
    // Who may grant what.
    for (who, token, role, allowed) in [
        ("service owner", &service_owner, "support", true),
        ("service owner", &service_owner, "admin", false),
        ("service owner", &service_owner, "ADMIN", false),
        ("company user", &acme, "member", true),
        ("company user", &acme, "support", false),
        ("company user", &acme, "admin", false),
    ] {
        let answer = create(token, json!([role])).await;
        let expected = if allowed { StatusCode::CREATED } else { StatusCode::FORBIDDEN };
        assert_eq!(answer.status, expected, "{who} grants {role}: {}", answer.body);
    }
    // One role out of reach spoils the request.
    assert_eq!(create(&acme, json!(["member", "admin"])).await.status, StatusCode::FORBIDDEN);
}

async fn the_api_keys_partner_is_recorded(api: Api) {
    let (_, key) = shared::domain::tenant::issue_api_key(
        api.app.app.store.as_ref(),
        api.app.app.random.as_ref(),
        api.app.clock.now_dt(),
        &api.app.tenant.id,
        Some("partner-42".into()),
    )
    .await
    .unwrap();
    let created = api.http.post(api.app.url("/v1/users")).header("X-API-Key", &key)
        .header("Authorization", format!("Bearer {}", api.admin()))
        .json(&json!({ "email": "p@example.com", "first_name": "P", "last_name": "P", "user_type": "consumer", "password": PASSWORD }))
        .send().await.unwrap().json::<Value>().await.unwrap();
    assert_eq!(created["partner_id"], "partner-42");
    let started = api
        .http
        .post(api.app.url("/v1/registrations"))
        .header("X-API-Key", &key)
        .json(&json!({ "email": "self@example.com", "password": PASSWORD, "first_name": "S", "last_name": "S",
            "terms_accepted": true, "privacy_policy_accepted": true }))
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    let reg = started["registration_id"].as_str().unwrap();
    let done = api
        .http
        .post(api.app.url(&format!("/v1/registrations/{reg}/email/verify")))
        .header("X-API-Key", &key)
        .json(&json!({ "code": CODE }))
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    let user = api
        .call(Method::GET, &format!("/v1/users/{}", done["user_id"].as_str().unwrap()), Some(&api.admin()), None)
        .await;
    assert_eq!(user.body["partner_id"], "partner-42");
}

/// The back office helps a user: sees the lockout, unlocks, ends every
/// session, requires a new password or e-mails a reset code; each audited,
/// each within the actor's reach.
async fn the_back_office_unlocks_resets_and_ends_sessions(api: Api) {
    let (id, _) = api.user("help@example.com", "company_user", Some("acme")).await;
    let (_, globex) = api.user("globex@example.com", "company_user", Some("globex")).await;
    let admin = api.admin();
    let path = |action: &str| format!("/v1/users/{id}/{action}");
    let api = &api;
    let login = |password: &'static str, device: &'static str| async move {
        let body = json!({ "username": "help@example.com", "password": password });
        api.post("/v1/auth/login", body, &[("X-Device-ID", device)]).await
    };
    for _ in 0..6 {
        assert_eq!(login("Wr0ng!Pass", "x").await.code(), "invalid_credentials");
    }
    let locked = login(PASSWORD, "x").await;
    assert!(locked.retry_after().is_some(), "locked: {}", locked.body);
    let seen = api.call(Method::GET, &format!("/v1/users/{id}"), Some(&admin), None).await;
    assert_eq!(seen.body["lockout"]["failed_attempts"], 6, "{}", seen.body);
    assert!(seen.body["lockout"]["locked_until"].is_string() && seen.body["lockout"]["last_failure_at"].is_string());

    // Out of reach: another company's user; bad input; an unknown user.
    let reason = json!({ "reason": "Owner called the help desk" });
    let refused = api.call(Method::POST, &path("unlock"), Some(&globex), Some(reason.clone())).await;
    assert_eq!(refused.code(), "forbidden", "{}", refused.body);
    let empty = api.call(Method::POST, &path("unlock"), Some(&admin), Some(json!({}))).await;
    assert_eq!((empty.status, &empty.body["errors"][0]["field"]), (StatusCode::UNPROCESSABLE_ENTITY, &json!("reason")));
    let unknown = "/v1/users/usr_0123456789abcdef0123456789abcdef/unlock";
    assert_eq!(api.call(Method::POST, unknown, Some(&admin), Some(reason.clone())).await.code(), "user_not_found");

    let unlocked = api.call(Method::POST, &path("unlock"), Some(&admin), Some(reason.clone())).await;
    assert_eq!(unlocked.status, StatusCode::OK, "{}", unlocked.body);
    assert_eq!(unlocked.body["previous"]["failed_attempts"], 6);
    let seen = api.call(Method::GET, &format!("/v1/users/{id}"), Some(&admin), None).await;
    assert_eq!(seen.body["lockout"], json!({ "failed_attempts": 0, "last_failure_at": null, "locked_until": null }));
    let one = login(PASSWORD, "d1").await;
    assert_eq!(one.status, StatusCode::OK, "unlocked: {}", one.body);
    let two = login(PASSWORD, "d2").await;

    // Every session ends: access and refresh tokens stop working.
    let revoked = api.call(Method::POST, &path("sessions/revoke"), Some(&admin), Some(reason.clone())).await;
    assert_eq!(revoked.status, StatusCode::OK, "{}", revoked.body);
    assert!(revoked.body["sessions_revoked"].as_u64().unwrap() >= 2, "{}", revoked.body);
    let me = api.call(Method::GET, "/v1/me", one.body["access_token"].as_str(), None).await;
    assert_eq!(me.status, StatusCode::UNAUTHORIZED, "{}", me.body);
    let refresh = json!({ "refresh_token": two.body["refresh_token"] });
    let refreshed = api.post("/v1/auth/refresh", refresh, &[("X-Device-ID", "d2")]).await;
    assert_eq!(refreshed.status, StatusCode::UNAUTHORIZED, "{}", refreshed.body);

    // A new password required at the next sign-in.
    let three = login(PASSWORD, "d4").await;
    let required = json!({ "method": "required", "reason": "Shared credentials" });
    let answer = api.call(Method::POST, &path("password-reset"), Some(&admin), Some(required)).await;
    assert_eq!((answer.status, &answer.body["method"]), (StatusCode::OK, &json!("required")), "{}", answer.body);
    let challenge = login(PASSWORD, "d3").await;
    assert_eq!(challenge.body["password_change_required"], true, "{}", challenge.body);
    let me = api.call(Method::GET, "/v1/me", three.body["access_token"].as_str(), None).await;
    assert_eq!(me.status, StatusCode::UNAUTHORIZED, "requiring a new password ends the sessions");

    // A reset code by e-mail, within the address's cooldown.
    let mails = api.app.messages_to("help@example.com").len();
    let by_mail = json!({ "method": "email", "reason": "Forgot it" });
    let sent = api.call(Method::POST, &path("password-reset"), Some(&admin), Some(by_mail.clone())).await;
    assert_eq!(sent.status, StatusCode::OK, "{}", sent.body);
    assert_eq!(api.app.messages_to("help@example.com").len(), mails + 1, "a reset code was e-mailed");
    let again = api.call(Method::POST, &path("password-reset"), Some(&admin), Some(by_mail.clone())).await;
    assert_eq!((again.status, again.code()), (StatusCode::TOO_MANY_REQUESTS, "rate_limited"), "{}", again.body);
    let reset = json!({ "email": "help@example.com", "code": CODE, "new_password": "N3w!Secret" });
    assert_eq!(api.post("/v1/auth/password/reset", reset, &[]).await.status, StatusCode::OK);
    let sms = json!({ "method": "sms", "reason": "x" });
    let bad = api.call(Method::POST, &path("password-reset"), Some(&admin), Some(sms)).await;
    assert_eq!(bad.body["errors"][0]["code"], "invalid_choice", "{}", bad.body);

    // Not for a suspended user; every action is in the audit trail.
    assert_eq!(api.status(&admin, &id, "suspended", "Fraud check").await.status, StatusCode::OK);
    let refused = api.call(Method::POST, &path("password-reset"), Some(&admin), Some(by_mail)).await;
    assert_eq!(refused.code(), "account_inactive", "{}", refused.body);
    let events: Vec<String> = api.audit(&id).await.iter().map(|e| e["event"].as_str().unwrap().to_owned()).collect();
    for event in ["unlocked", "sessions_revoked", "reset_required", "password_reset_sent"] {
        assert!(events.contains(&event.to_owned()), "{event} in {events:?}");
    }
    let unlock = api.audit(&id).await.into_iter().find(|e| e["event"] == "unlocked").unwrap();
    assert_eq!(unlock["detail"]["reason"], "Owner called the help desk");
    assert!(unlock["detail"]["by"].as_str().unwrap().starts_with("admin:"), "{unlock}");
}

/// The single-call creation of a source API: personal-data consent time and
/// the accepted legal versions recorded (or pending), the phone as prefix
/// and number.
async fn creation_records_consent_and_takes_the_phone_in_parts(api: Api) {
    let admin = api.admin();
    let body = json!({
        "email": "consent@example.com", "first_name": "Cara", "last_name": "Consent", "user_type": "consumer",
        "password": PASSWORD, "phone_prefix": "+41", "phone_number": "079 555 12 34",
        "personal_data_consent_at": "2029-12-01T08:00:00Z", "terms_accepted": true, "privacy_policy_accepted": true,
    });
    let created = api.create(&admin, body).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert_eq!(created.body["phone"], "+41795551234");
    assert_eq!(created.body["personal_data_consent_at"], "2029-12-01T08:00:00Z");
    let policy = Policy::default();
    // Recorded as accepted when the back office recorded it: the versions
    // are the current ones, which may be newer than the consent.
    let accepted_at = created.body["created_at"].clone();
    assert_eq!(created.body["terms"], json!({ "version": policy.terms_version, "accepted_at": accepted_at }));
    assert_eq!(created.body["privacy"]["version"], policy.privacy_version.as_str());
    let id = created.body["user_id"].as_str().unwrap();
    let read = api.call(Method::GET, &format!("/v1/users/{id}"), Some(&admin), None).await;
    assert_eq!(read.body["terms"], created.body["terms"], "stored");

    // Nothing accepted: pending; and the ways a phone and a time go wrong.
    let plain = json!({
        "email": "pending@example.com", "first_name": "P", "last_name": "Ending", "user_type": "consumer",
        "password": PASSWORD,
    });
    let pending = api.create(&admin, plain.clone()).await;
    assert_eq!((&pending.body["terms"], &pending.body["personal_data_consent_at"]), (&Value::Null, &Value::Null));
    for (extra, field, code) in [
        (json!({ "phone": "+41795551235", "phone_prefix": "+41" }), "phone", "conflicting_fields"),
        (json!({ "phone_prefix": "+41" }), "phone_number", "required"),
        (json!({ "phone_prefix": "+41x", "phone_number": "079 555 12 34" }), "phone_prefix", "invalid_phone_prefix"),
        (json!({ "phone_prefix": "+41", "phone_number": "12" }), "phone_number", "invalid_phone"),
        (json!({ "personal_data_consent_at": "yesterday" }), "personal_data_consent_at", "invalid_datetime"),
        (json!({ "personal_data_consent_at": "2099-01-01T00:00:00Z" }), "personal_data_consent_at", "out_of_range"),
    ] {
        let mut body = plain.clone();
        body["email"] = json!("wrong@example.com");
        body.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        let refused = api.create(&admin, body).await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{extra}: {}", refused.body);
        assert_eq!(
            (&refused.body["errors"][0]["field"], &refused.body["errors"][0]["code"]),
            (&json!(field), &json!(code)),
            "{extra}"
        );
    }
}

/// `GET /v1/users`: exact matches by e-mail, phone, status and company,
/// combined, paged in creation order, within the actor's reach; the status
/// index follows every status change.
async fn the_back_office_finds_users(api: Api) {
    let admin = api.admin();
    // Ids order by creation time (to the millisecond; the test clock stands
    // still unless moved).
    let (a1, _) = api.user("a1@example.com", "company_user", Some("acme")).await;
    api.app.clock.advance(chrono::Duration::milliseconds(5));
    let (a2, _) = api.user("a2@example.com", "company_user", Some("acme")).await;
    let (g1, globex) = api.user("g1@example.com", "company_user", Some("globex")).await;
    let body = json!({
        "email": "phoned@example.com", "first_name": "P", "last_name": "Honed", "user_type": "consumer",
        "password": PASSWORD, "phone": "+41795550001",
    });
    let phoned = api.create(&admin, body).await.body["user_id"].as_str().unwrap().to_owned();
    let find = |who: String, query: &'static str| {
        let api = &api;
        async move { api.call(Method::GET, &format!("/v1/users{query}"), Some(&who), None).await }
    };
    let ids = |answer: &Answer| -> Vec<String> {
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
        answer.body["users"].as_array().unwrap().iter().map(|u| u["user_id"].as_str().unwrap().to_owned()).collect()
    };
    assert_eq!(ids(&find(admin.clone(), "?email=A1@example.com").await), vec![a1.clone()]);
    assert_eq!(ids(&find(admin.clone(), "?phone=%2B41795550001").await), vec![phoned.clone()]);
    assert_eq!(ids(&find(admin.clone(), "?company_id=acme").await), vec![a1.clone(), a2.clone()]);
    let first = find(admin.clone(), "?company_id=acme&limit=1").await;
    assert_eq!(ids(&first), vec![a1.clone()]);
    let after = first.body["next"].as_str().expect("a next page").to_owned();
    let second =
        api.call(Method::GET, &format!("/v1/users?company_id=acme&limit=1&after={after}"), Some(&admin), None).await;
    assert_eq!((ids(&second), &second.body["next"]), (vec![a2.clone()], &Value::Null));
    let active = ids(&find(admin.clone(), "?status=active").await);
    assert!([&a1, &a2, &g1, &phoned].iter().all(|id| active.contains(id)), "{active:?}");

    // Status changes move users between the status lists.
    assert_eq!(api.status(&admin, &a2, "suspended", "Check").await.status, StatusCode::OK);
    assert_eq!(ids(&find(admin.clone(), "?status=suspended").await), vec![a2.clone()]);
    assert_eq!(ids(&find(admin.clone(), "?status=A&company_id=acme").await), vec![a1.clone()]);
    assert_eq!(api.status(&admin, &a2, "closed", "Gone").await.status, StatusCode::OK);
    assert!(ids(&find(admin.clone(), "?status=suspended").await).is_empty());
    assert_eq!(ids(&find(admin.clone(), "?status=closed&company_id=acme").await), vec![a2.clone()]);

    // A company user sees its own company only.
    assert_eq!(ids(&find(globex.clone(), "?status=active").await), vec![g1.clone()]);
    assert!(ids(&find(globex.clone(), "?email=a1@example.com").await).is_empty(), "out of reach");
    assert_eq!(find(globex.clone(), "?company_id=acme").await.code(), "forbidden");

    // A consumer reaches nobody; unknown parameters are refused.
    let (_, consumer) = api.user("c9@example.com", "consumer", None).await;
    assert_eq!(find(consumer, "?status=active").await.code(), "forbidden");
    let unknown = find(admin.clone(), "?nickname=cashier&status=active").await;
    let first_error = (&unknown.body["errors"][0]["field"], &unknown.body["errors"][0]["code"]);
    assert_eq!(first_error, (&json!("nickname"), &json!("unknown_field")), "{}", unknown.body);

    // Bad queries: every error at once.
    let none = find(admin.clone(), "").await;
    assert_eq!(
        (none.status, &none.body["errors"][0]["code"]),
        (StatusCode::UNPROCESSABLE_ENTITY, &json!("filter_required"))
    );
    let bad = find(admin.clone(), "?status=gone&limit=0&email=nope").await;
    let fields: Vec<&str> =
        bad.body["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["email", "status", "limit"], "{}", bad.body);
    let both = find(admin.clone(), "?email=a1@example.com&phone=%2B41795550001").await;
    assert_eq!(both.body["errors"][0]["code"], "conflicting_fields", "{}", both.body);
    let three = find(admin.clone(), "?email=a1@example.com&username=Cashier&phone=%2B41795550001").await;
    let fields: Vec<&str> =
        three.body["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["phone", "username"], "{}", three.body);
}

/// `PATCH /v1/users/{id}`: profile fields, roles within the caller's rights,
/// company within its reach, attributes; audited by field name; the
/// company index follows.
async fn the_back_office_edits_a_user(api: Api) {
    let admin = api.admin();
    let (id, _) = api.user("edit@example.com", "company_user", Some("acme")).await;
    let (_, acme) = api.user("boss@example.com", "company_user", Some("acme")).await;
    let (_, owner) = api.user("owner@example.com", "service_owner", None).await;
    let path = format!("/v1/users/{id}");
    let patch = |who: String, body: Value| {
        let (api, path) = (&api, path.clone());
        async move { api.call(Method::PATCH, &path, Some(&who), Some(body)).await }
    };
    let edited = patch(acme.clone(), json!({ "last_name": "Meier", "gender": "female", "roles": ["member"] })).await;
    assert_eq!(edited.status, StatusCode::OK, "{}", edited.body);
    assert_eq!((&edited.body["last_name"], &edited.body["roles"]), (&json!("Meier"), &json!(["member"])));
    let cleared = patch(admin.clone(), json!({ "gender": null, "attributes": { "desk": "4b" } })).await;
    assert_eq!((&cleared.body["gender"], &cleared.body["attributes"]["desk"]), (&Value::Null, &json!("4b")));

    // Rights: a company user cannot grant support nor move a user out of its
    // company; a service owner cannot remove the admin role an admin granted.
    assert_eq!(patch(acme.clone(), json!({ "roles": ["member", "support"] })).await.code(), "forbidden");
    assert_eq!(patch(acme.clone(), json!({ "company_id": "globex" })).await.code(), "forbidden");
    assert_eq!(patch(admin.clone(), json!({ "roles": ["admin"] })).await.status, StatusCode::OK);
    assert_eq!(patch(owner.clone(), json!({ "roles": [] })).await.code(), "forbidden");
    let unknown = patch(admin.clone(), json!({ "roles": ["superuser"] })).await;
    assert_eq!(unknown.body["errors"][0]["code"], "unknown_role", "{}", unknown.body);
    let bad = patch(admin.clone(), json!({ "first_name": null, "nationality": "XX", "company_id": null }));
    let bad = bad.await;
    let fields: Vec<&str> =
        bad.body["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["first_name", "nationality"], "{}", bad.body);

    // The service owner moves the user to another company: searches follow.
    let moved = patch(owner.clone(), json!({ "company_id": "globex" })).await;
    assert_eq!(moved.body["company_id"], "globex", "{}", moved.body);
    let found = api.call(Method::GET, "/v1/users?company_id=globex", Some(&admin), None).await;
    assert_eq!(found.body["users"][0]["user_id"], id.as_str(), "{}", found.body);
    let left = api.call(Method::GET, "/v1/users?company_id=acme", Some(&admin), None).await;
    assert!(left.body["users"].as_array().unwrap().iter().all(|u| u["user_id"] != id.as_str()));
    assert_eq!(patch(acme, json!({ "last_name": "X" })).await.code(), "forbidden", "out of its reach now");
    let audit = api.audit(&id).await;
    // Entries of one instant (the test clock stands still) have no order
    // among themselves: look for the move among the changes.
    let moves = audit.iter().filter(|e| e["event"] == "profile_changed");
    let fields: Vec<&Value> = moves.flat_map(|e| e["detail"]["fields"].as_array().unwrap()).collect();
    assert!(fields.contains(&&json!("company_id")) && fields.contains(&&json!("roles")), "{audit:?}");
}

/// A user the back office created without (some of) its legal documents
/// accepts them at its first login, through a challenge like the
/// reset-required one; the acceptance is recorded and audited.
async fn pending_legal_documents_are_accepted_at_first_login(api: Api) {
    let admin = api.admin();
    let body = json!({
        "email": "legal@example.com", "first_name": "L", "last_name": "Egal", "user_type": "consumer",
        "password": PASSWORD, "terms_accepted": true, "reset_required": true,
    });
    let created = api.create(&admin, body).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let id = created.body["user_id"].as_str().unwrap().to_owned();
    let login = |device: &'static str| {
        let api = &api;
        async move {
            let body = json!({ "username": "legal@example.com", "password": PASSWORD });
            api.post("/v1/auth/login", body, &[("X-Device-ID", device)]).await
        }
    };
    // The new password first, then the documents.
    let reset = login("d1").await;
    assert_eq!(reset.body["password_change_required"], true, "{}", reset.body);
    let body = json!({ "challenge_id": reset.body["challenge_id"], "new_password": "N3w!Secret" });
    let legal = api.post("/v1/auth/password/challenge", body, &[("X-Device-ID", "d1")]).await;
    assert_eq!(legal.body["legal_acceptance_required"], true, "{}", legal.body);
    assert_eq!(legal.body["documents"], json!([{ "code": "privacy", "version": "2026-01" }]), "{}", legal.body);
    let challenge = legal.body["challenge_id"].clone();
    let accept = |body: Value, device: &'static str| {
        let api = &api;
        async move { api.post("/v1/auth/legal/accept", body, &[("X-Device-ID", device)]).await }
    };

    // Refused: another device, a document missing or declined (in the
    // caller's language), a malformed challenge.
    let elsewhere = accept(json!({ "challenge_id": challenge, "privacy_policy_accepted": true }), "d2").await;
    assert_eq!(elsewhere.code(), "invalid_device", "{}", elsewhere.body);
    let missing = accept(json!({ "challenge_id": challenge, "terms_accepted": true }), "d1").await;
    let error = (&missing.body["errors"][0]["field"], &missing.body["errors"][0]["code"]);
    assert_eq!(error, (&json!("privacy_policy_accepted"), &json!("required")), "{}", missing.body);
    let declined = accept(json!({ "challenge_id": challenge, "privacy_policy_accepted": false }), "d1").await;
    assert_eq!(declined.body["errors"][0]["code"], "must_accept", "{}", declined.body);
    let bogus = accept(json!({ "challenge_id": "chl_nope", "privacy_policy_accepted": true }), "d1").await;
    assert_eq!((bogus.status, bogus.code()), (StatusCode::NOT_FOUND, "challenge_not_found"));

    // Accepted: tokens; the challenge is spent.
    let done = accept(json!({ "challenge_id": challenge, "privacy_policy_accepted": true }), "d1").await;
    assert!(done.body["access_token"].is_string(), "{}", done.body);
    let again = accept(json!({ "challenge_id": challenge, "privacy_policy_accepted": true }), "d1").await;
    assert_eq!(again.code(), "challenge_not_found", "{}", again.body);
    let user = api.call(Method::GET, &format!("/v1/users/{id}"), Some(&admin), None).await;
    assert_eq!(user.body["privacy"]["version"], "2026-01", "{}", user.body);
    assert!(user.body["privacy"]["accepted_at"].is_string());
    let events: Vec<Value> = api.audit(&id).await.into_iter().map(|e| e["event"].clone()).collect();
    assert!(events.contains(&json!("legal_accepted")), "{events:?}");
    // The next login signs in at once.
    let next = api
        .post(
            "/v1/auth/login",
            json!({ "username": "legal@example.com", "password": "N3w!Secret" }),
            &[("X-Device-ID", "d3")],
        )
        .await;
    assert!(next.body["access_token"].is_string(), "{}", next.body);

    // A challenge expires with its five minutes.
    let body = json!({
        "email": "late@example.com", "first_name": "L", "last_name": "Ate", "user_type": "consumer", "password": PASSWORD,
    });
    assert_eq!(api.create(&admin, body).await.status, StatusCode::CREATED);
    let late = api
        .post(
            "/v1/auth/login",
            json!({ "username": "late@example.com", "password": PASSWORD }),
            &[("X-Device-ID", "d4")],
        )
        .await;
    let documents: Vec<&Value> = late.body["documents"].as_array().unwrap().iter().map(|d| &d["code"]).collect();
    assert_eq!(documents, [&json!("terms"), &json!("privacy")], "{}", late.body);
    api.app.clock.advance(chrono::Duration::seconds(301));
    let body =
        json!({ "challenge_id": late.body["challenge_id"], "terms_accepted": true, "privacy_policy_accepted": true });
    let expired = accept(body, "d4").await;
    assert_eq!(expired.code(), "challenge_not_found", "{}", expired.body);
}

/// Nationalities with demonyms, time zones with their offset, the tenant's
/// own kinds; a user references entries of any kind, checked on write.
async fn users_reference_entries_of_any_kind(api: Api) {
    let get = |path: String, lang: &'static str| {
        let api = &api;
        async move { api.send(Method::GET, &path, None, &[("Accept-Language", lang)]).await }
    };
    let swiss = get("/v1/reference/nationalities/ch".into(), "en").await;
    assert_eq!(
        (&swiss.body["name"], &swiss.body["demonym"]),
        (&json!("Switzerland"), &json!("Swiss")),
        "{}",
        swiss.body
    );
    assert_eq!(get("/v1/reference/nationalities/CH".into(), "fr").await.body["demonym"], "Suisse");
    let zurich = get("/v1/reference/time-zones/Europe%2FZurich".into(), "de").await;
    let offset = zurich.body["utc_offset"].as_str().unwrap_or_else(|| panic!("{}", zurich.body));
    assert!(["+01:00", "+02:00"].contains(&offset), "{}", zurich.body);
    let zones = get("/v1/reference/time-zones".into(), "en").await;
    assert!(zones.body["items"].as_array().unwrap().len() > 400);
    let statuses = get("/v1/reference/civil-statuses".into(), "de").await;
    let names: Vec<&Value> = statuses.body["items"].as_array().unwrap().iter().map(|e| &e["name"]).collect();
    assert_eq!(names, [&json!("Ledig"), &json!("Married")], "English where the tenant gave no German");
    assert_eq!(get("/v1/reference/pension-situations".into(), "en").await.code(), "reference_not_found");

    let admin = api.admin();
    let body = json!({
        "email": "refs@example.com", "first_name": "R", "last_name": "Efs", "user_type": "consumer",
        "password": PASSWORD,
        "references": { "civil-statuses": "single", "nationalities": "ch", "time-zones": "Europe/Zurich" },
    });
    let created = api.create(&admin, body).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let expected = json!({ "civil-statuses": "SINGLE", "nationalities": "CH", "time-zones": "Europe/Zurich" });
    assert_eq!(created.body["references"], expected, "stored as the kind spells them");
    let id = created.body["user_id"].as_str().unwrap();
    let bad = json!({ "references": { "civil-statuses": "WIDOWED", "planets": "MARS", "countries": "CH" } });
    let refused = api.call(Method::PATCH, &format!("/v1/users/{id}"), Some(&admin), Some(bad)).await;
    let fields: Vec<&str> =
        refused.body["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["references.civil-statuses", "references.planets"], "{}", refused.body);
    assert_eq!(refused.body["errors"][0]["code"], "unknown_reference");
    let replaced = json!({ "references": { "civil-statuses": "MARRIED" } });
    let patched = api.call(Method::PATCH, &format!("/v1/users/{id}"), Some(&admin), Some(replaced)).await;
    assert_eq!(patched.body["references"], json!({ "civil-statuses": "MARRIED" }), "{}", patched.body);
}

/// `PUT`/`DELETE /v1/reference/{kind}/{code}`: admin tokens and service
/// owners add, rename and remove entries of the tenant's own kinds; the
/// built-in kinds stay as they are.
async fn the_back_office_edits_the_tenants_own_kinds(api: Api) {
    let admin = api.admin();
    let path = "/v1/reference/pension-situations/PENSION-FUND";
    let names = json!({ "names": { "en": "Pension fund", "de": "Pensionskasse" } });
    let created = api.call(Method::PUT, path, Some(&admin), Some(names.clone())).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let german = api.send(Method::GET, path, None, &[("Accept-Language", "de")]).await;
    assert_eq!(german.body["name"], "Pensionskasse", "{}", german.body);
    let (_, owner) = api.user("kinds-owner@example.com", "service_owner", None).await;
    let renamed = json!({ "names": { "en": "Occupational pension", "fr": "Caisse de pension" } });
    let renamed =
        api.call(Method::PUT, "/v1/reference/pension-situations/pension-fund", Some(&owner), Some(renamed)).await;
    assert_eq!((renamed.status, &renamed.body["code"]), (StatusCode::OK, &json!("PENSION-FUND")), "{}", renamed.body);
    let french = api.send(Method::GET, path, None, &[("Accept-Language", "fr")]).await;
    assert_eq!(french.body["name"], "Caisse de pension");
    let german = api.send(Method::GET, path, None, &[("Accept-Language", "de")]).await;
    assert_eq!(german.body["name"], "Occupational pension", "English where no German is left");

    // Who may not, and what cannot be.
    let (_, clerk) = api.user("kinds-clerk@example.com", "company_user", Some("acme")).await;
    assert_eq!(api.call(Method::PUT, path, Some(&clerk), Some(names.clone())).await.code(), "forbidden");
    assert_eq!(api.call(Method::DELETE, path, Some(&clerk), None).await.code(), "forbidden");
    let built_in = api.call(Method::PUT, "/v1/reference/countries/XK", Some(&admin), Some(names.clone())).await;
    assert_eq!(built_in.body["errors"][0]["code"], "read_only_kind", "{}", built_in.body);
    let no_english = api.call(Method::PUT, path, Some(&admin), Some(json!({ "names": { "de": "Nur Deutsch" } }))).await;
    assert_eq!(
        (&no_english.body["errors"][0]["field"], &no_english.body["errors"][0]["code"]),
        (&json!("names.en"), &json!("required"))
    );
    let bad_code =
        api.call(Method::PUT, "/v1/reference/pension-situations/a%20b", Some(&admin), Some(names.clone())).await;
    assert_eq!(bad_code.body["errors"][0]["code"], "invalid_entry_code", "{}", bad_code.body);
    let bad_kind = api.call(Method::PUT, "/v1/reference/Pension/PF", Some(&admin), Some(names)).await;
    assert_eq!(bad_kind.body["errors"][0]["code"], "invalid_kind", "{}", bad_kind.body);

    // A user references the entry; removing it takes it off the list.
    let body = json!({
        "email": "pensioner@example.com", "first_name": "P", "last_name": "Ension", "user_type": "consumer",
        "password": PASSWORD,
        "references": { "pension-situations": "pension-fund" },
    });
    assert_eq!(api.create(&admin, body).await.status, StatusCode::CREATED);
    assert_eq!(api.call(Method::DELETE, path, Some(&owner), None).await.status, StatusCode::OK);
    assert_eq!(api.send(Method::GET, path, None, &[]).await.code(), "reference_not_found");
    assert_eq!(
        api.send(Method::GET, "/v1/reference/pension-situations", None, &[]).await.code(),
        "reference_not_found"
    );
    assert_eq!(api.call(Method::DELETE, path, Some(&admin), None).await.code(), "reference_not_found");
}

/// Paging through partitions bigger than a page: the audit trail
/// and the searches page with the store's own cursor, so every page of any
/// partition is reachable, however large, and one page reads one page.
mod big_partitions {
    use super::*;
    use shared::domain::ids::UserId;
    use shared::domain::users::{Status, decode_user};
    use shared::ports::{Condition, Write};
    use shared::table::{self, AuditEntry, Record};

    /// The app, and the sizes a backend runs with: the full trail of over
    /// 10,000 entries in memory; fewer on moto, which writes a few hundred
    /// items a second, and smaller pages so that they are still many.
    struct Big {
        api: Api,
        audit_entries: usize,
        users: usize,
        limit: usize,
    }

    async fn big(backend: Backend) -> Big {
        let api = super::api(backend).await;
        match backend {
            Backend::Memory => Big { api, audit_entries: 10_050, users: 2_500, limit: 200 },
            Backend::DynamoDb => Big { api, audit_entries: 400, users: 300, limit: 20 },
        }
    }

    on_both_stores!(
        big;
        an_audit_trail_of_any_length_pages_to_its_oldest_entry,
        searches_page_through_partitions_bigger_than_a_page,
    );

    /// Writes `writes` straight to the store, a transaction of at most 99
    /// at a time.
    async fn write_all(api: &Api, writes: Vec<Write>) {
        let started = std::time::Instant::now();
        let count = writes.len();
        let mut writes = writes.into_iter().peekable();
        while writes.peek().is_some() {
            api.app.app.store.transact(writes.by_ref().take(99).collect()).await.unwrap();
        }
        eprintln!("{count} items written in {:?}", started.elapsed());
    }

    /// Every page of `path` (with `?` and its filters), following `next` as
    /// `cursor`: the pages' lists under `field`.
    async fn every_page(api: &Api, path: &str, cursor: &str, field: &str) -> Vec<Vec<Value>> {
        let mut pages = Vec::new();
        let mut next: Option<String> = None;
        loop {
            let url = match &next {
                Some(at) => format!("{path}&{cursor}={at}"),
                None => path.to_owned(),
            };
            let answer = api.call(Method::GET, &url, Some(&api.admin()), None).await;
            assert_eq!(answer.status, StatusCode::OK, "{url}: {}", answer.body);
            pages.push(answer.body[field].as_array().unwrap().clone());
            match answer.body["next"].as_str() {
                Some(at) => next = Some(at.to_owned()),
                None => return pages,
            }
            assert!(pages.len() <= 10_000, "the pages never end");
        }
    }

    async fn an_audit_trail_of_any_length_pages_to_its_oldest_entry(big: Big) {
        let Big { api, audit_entries, limit, .. } = big;
        let (id, _) = api.user("long-trail@example.com", "consumer", None).await;
        let own = api.audit(&id).await.len();
        // Entries older than the user's own ones (as a flood of events over
        // a day would leave them), one millisecond apart.
        let user_id = UserId::parse(&id).unwrap();
        let start = api.app.clock.now_dt() - chrono::Duration::days(1);
        let entries = (0..audit_entries).map(|n| {
            let at = start + chrono::Duration::milliseconds(n as i64);
            let entry = AuditEntry { event: "imported".into(), at, detail: json!({ "n": n }) };
            entry.put(&user_id, &format!("evt_{n:06}")).unwrap()
        });
        write_all(&api, entries.collect()).await;

        let pages = every_page(&api, &format!("/v1/users/{id}/audit?limit={limit}"), "before", "events").await;
        assert_eq!(pages.len(), (audit_entries + own).div_ceil(limit), "full pages, and no empty one at the end");
        assert!(pages.iter().all(|page| page.len() <= limit));
        let events: Vec<Value> = pages.into_iter().flatten().collect();
        assert_eq!(events.len(), audit_entries + own, "every entry once");
        let imported: Vec<u64> =
            events.iter().filter(|e| e["event"] == "imported").map(|e| e["detail"]["n"].as_u64().unwrap()).collect();
        assert_eq!(imported, (0..audit_entries as u64).rev().collect::<Vec<_>>(), "newest first, to the oldest");
        let times: Vec<chrono::DateTime<chrono::FixedOffset>> =
            events.iter().map(|e| chrono::DateTime::parse_from_rfc3339(e["at"].as_str().unwrap()).unwrap()).collect();
        assert!(times.windows(2).all(|w| w[0] >= w[1]), "newest first across the pages");

        // A cursor is the trail's own or a field error, never a 500.
        let admin = api.admin();
        let other = encode("USER#usr_1");
        for (cursor, what) in [("%21%21", "not base64url"), ("_w", "not UTF-8"), (&other, "another listing's")] {
            let answer =
                api.call(Method::GET, &format!("/v1/users/{id}/audit?before={cursor}"), Some(&admin), None).await;
            assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY, "{what}: {}", answer.body);
            assert_eq!(answer.body["errors"][0]["field"], "before", "{what}");
            assert_eq!(answer.body["errors"][0]["code"], "invalid_cursor", "{what}");
        }
        // One between two entries (no entry's key) starts there all the
        // same: before it, only the oldest.
        let between = encode(&format!("AUDIT#{}#evt_000000a", start.format("%Y%m%dT%H%M%S%.6fZ")));
        let answer = api.call(Method::GET, &format!("/v1/users/{id}/audit?before={between}"), Some(&admin), None).await;
        let oldest: Vec<&Value> = answer.body["events"].as_array().unwrap().iter().map(|e| &e["detail"]["n"]).collect();
        assert_eq!((oldest, &answer.body["next"]), (vec![&json!(0)], &Value::Null), "{}", answer.body);
    }

    fn encode(sort_key: &str) -> String {
        shared::domain::paging::Cursor::encode(sort_key)
    }

    /// A search reads one page of its index partition: through a status
    /// partition bigger than a page, every user once, in creation order;
    /// through a company filtered by status, pages with fewer users than
    /// the limit (or none) lead on with `next` to the end.
    async fn searches_page_through_partitions_bigger_than_a_page(big: Big) {
        let Big { api, users, limit, .. } = big;
        let (template, _) = api.user("template@example.com", "company_user", Some("acme")).await;
        let template_id = UserId::parse(&template).unwrap();
        let stored = api.app.app.store.get(&table::user_key(&template_id)).await.unwrap().unwrap();
        let template = decode_user(stored).unwrap();
        // Users of acme written with their index entries (ids after every
        // real one, in order); every tenth suspended.
        let id = |n: usize| format!("usr_zz{n:06}");
        let mut writes = Vec::new();
        for n in 0..users {
            let mut user = template.clone();
            user.id = UserId::parse(&id(n)).unwrap();
            user.email = EmailAddress::parse(&format!("bulk{n}@example.com")).ok();
            user.status = if n % 10 == 0 { Status::Suspended } else { Status::Active };
            writes.push(user.put(Condition::NotExists).unwrap());
            writes.extend(table::user_index_writes(None, &user).unwrap());
        }
        write_all(&api, writes).await;
        let ids = |pages: &[Vec<Value>]| -> Vec<String> {
            pages.iter().flatten().map(|u| u["user_id"].as_str().unwrap().to_owned()).collect()
        };
        let suspended: Vec<String> = (0..users).filter(|n| n % 10 == 0).map(id).collect();

        let pages = every_page(&api, &format!("/v1/users?status=suspended&limit={limit}"), "after", "users").await;
        assert_eq!(ids(&pages), suspended, "every suspended user once, in creation order");
        assert_eq!(pages.len(), suspended.len().div_ceil(limit));

        // The company's index, filtered: most of a page is left out.
        let path = format!("/v1/users?company_id=acme&status=suspended&limit={limit}");
        let pages = every_page(&api, &path, "after", "users").await;
        assert_eq!(ids(&pages), suspended);
        assert_eq!(pages.len(), (users + 1).div_ceil(limit), "one page of the index per page");
        assert!(pages.iter().all(|page| page.len() < limit), "{:?}", pages.iter().map(Vec::len).collect::<Vec<_>>());

        let pages = every_page(&api, &format!("/v1/users?status=active&limit={limit}"), "after", "users").await;
        let active: Vec<String> = ids(&pages).into_iter().filter(|u| u.starts_with("usr_zz")).collect();
        assert_eq!(active, (0..users).filter(|n| n % 10 != 0).map(id).collect::<Vec<_>>());

        // A cursor is the index's own or a field error, never a 500.
        let admin = api.admin();
        for cursor in ["%21%21".to_owned(), encode("AUDIT#20260101T000000.000000Z#evt_1")] {
            let path = format!("/v1/users?status=active&after={cursor}");
            let answer = api.call(Method::GET, &path, Some(&admin), None).await;
            assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", answer.body);
            assert_eq!(
                (&answer.body["errors"][0]["field"], &answer.body["errors"][0]["code"]),
                (&json!("after"), &json!("invalid_cursor"))
            );
        }
    }
}
