//! `POST /v1/users/import` (docs/import-export.md) on both stores, with
//! hashes made at test time by the tools the other systems use: Python's
//! `bcrypt`, Django's `make_password`, passlib (PBKDF2 and scrypt),
//! argon2-cffi and the `firebase-scrypt` package, from the virtualenv
//! `scripts/test.sh` installs (`.venv-hashes`; `REGISTRAR_TEST_HASH_PYTHON`
//! names another interpreter). Without them these tests fail, never skip.

use std::sync::OnceLock;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use shared::domain::ids::UserId;
use shared::domain::tenant::Policy;

use crate::common::{self, Answer, Api, Backend, CODE, Flows, PASSWORD};

async fn api(backend: Backend) -> Api {
    let policy =
        Policy { phone_required: false, sandbox_code: Some(CODE.into()), back_office_mfa: false, ..Policy::default() };
    Api::start(backend, policy).await
}

/// The interpreter of the hashing tools.
pub fn hash_python() -> String {
    common::python("REGISTRAR_TEST_HASH_PYTHON", ".venv-hashes")
}

/// The Firebase project of firebase/scrypt's README.
pub const FIREBASE_SIGNER_KEY: &str =
    "jxspr8Ki0RYycVU8zykbdLGjFQ3McFUH0uiiTvC8pVMXAn210wjLNmdZJzxUECKbm0QsEmYUSDzZvpjeJ9WmXA==";
pub const FIREBASE_SALT_SEPARATOR: &str = "Bw==";

const SCRIPT: &str = r#"
import base64, json, os, sys
password = sys.argv[1]
import bcrypt
from django.conf import settings
settings.configure()
from django.contrib.auth.hashers import make_password
from passlib.hash import pbkdf2_sha256, scrypt
from argon2 import PasswordHasher
import firebase_scrypt
salt = base64.b64encode(os.urandom(12)).decode()
derived = firebase_scrypt.generate_derived_key(password, salt, sys.argv[3], 8, 14)
firebase = base64.b64encode(firebase_scrypt.encrypt(base64.b64decode(sys.argv[2]), derived)).decode()
assert firebase_scrypt.verify_password(password=password, known_hash=firebase, salt=salt,
    salt_separator=sys.argv[3], signer_key=sys.argv[2], rounds=8, mem_cost=14)
print(json.dumps({
    "bcrypt_2b": bcrypt.hashpw(password.encode(), bcrypt.gensalt(10)).decode(),
    "bcrypt_2a": bcrypt.hashpw(password.encode(), bcrypt.gensalt(10, prefix=b"2a")).decode(),
    "django": make_password(password),
    "passlib_pbkdf2": pbkdf2_sha256.hash(password),
    "passlib_scrypt": scrypt.using(rounds=14).hash(password),
    "argon2id": PasswordHasher().hash(password),
    "argon2i": PasswordHasher(type=__import__("argon2").Type.I).hash(password),
    "firebase": firebase,
    "firebase_salt": salt,
}))
"#;

/// `PASSWORD` hashed by each tool (once per test binary).
pub fn foreign_hashes() -> &'static Value {
    static HASHES: OnceLock<Value> = OnceLock::new();
    HASHES.get_or_init(|| {
        let python = hash_python();
        let output = std::process::Command::new(&python)
            .args(["-c", SCRIPT, PASSWORD, FIREBASE_SIGNER_KEY, FIREBASE_SALT_SEPARATOR])
            .output()
            .unwrap_or_else(|e| panic!("{python}: {e}; run scripts/test.sh (it installs .venv-hashes)"));
        assert!(
            output.status.success(),
            "the hashing tools failed (bcrypt, Django, passlib, argon2-cffi, firebase-scrypt in {python}; \
             scripts/test.sh installs them): {}",
            String::from_utf8_lossy(&output.stderr)
        );
        serde_json::from_slice(&output.stdout).expect("the tools' hashes")
    })
}

impl Api {
    async fn import(&self, bearer: &str, body: Value) -> Answer {
        let authorization = format!("Bearer {bearer}");
        self.send(Method::POST, "/v1/users/import", Some(body), &[("Authorization", &authorization)]).await
    }

    async fn stored_hash(&self, user_id: &str) -> String {
        let id = UserId::parse(user_id).expect("a user id");
        let (user, _) = shared::domain::user::load_user(&self.app.app, &id).await.unwrap().expect("the user");
        user.password_hash
    }
}

fn person(email: &str, hash: &str) -> Value {
    json!({
        "email": email, "first_name": "Imp", "last_name": "Orted", "user_type": "consumer",
        "password_hash": hash, "email_verified": true, "created_at": "2019-05-01T10:00:00Z",
        "terms_accepted": true, "privacy_policy_accepted": true,
    })
}

const FORMATS: [&str; 8] =
    ["bcrypt_2b", "bcrypt_2a", "django", "passlib_pbkdf2", "passlib_scrypt", "argon2id", "argon2i", "firebase"];

/// Every format imports, signs in with the old password (a wrong one
/// fails), and is argon2id after the first sign-in; one bad user (an
/// unknown format, a taken address, a too costly hash) fails alone.
async fn every_format_signs_in_and_becomes_argon2id(api: Api) {
    let hashes = foreign_hashes();
    let mut users: Vec<Value> = FORMATS
        .iter()
        .map(|format| {
            let mut user =
                person(&format!("{}@import.example", format.replace('_', "-")), hashes[format].as_str().unwrap());
            if *format == "firebase" {
                user["password_salt"] = hashes["firebase_salt"].clone();
            }
            user
        })
        .collect();
    users.push(person("md5@import.example", "5f4dcc3b5aa765d61d8327deb882cf99"));
    users.push(person("bcrypt-2b@import.example", hashes["bcrypt_2b"].as_str().unwrap()));
    let costly = hashes["bcrypt_2b"].as_str().unwrap().replacen("$10$", "$17$", 1);
    users.push(person("costly@import.example", &costly));
    let firebase = json!({
        "signer_key": FIREBASE_SIGNER_KEY, "salt_separator": FIREBASE_SALT_SEPARATOR, "rounds": 8, "mem_cost": 14,
    });
    let answer = api.import(&api.app.admin_token, json!({ "users": users, "firebase": firebase })).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert_eq!(answer.body["imported"], FORMATS.len(), "{}", answer.body);
    let results = answer.body["results"].as_array().unwrap();
    let error = |index: usize| (results[index]["error"]["code"].clone(), results[index]["error"]["field"].clone());
    assert_eq!(error(8), (json!("unsupported_hash"), json!("password_hash")));
    assert_eq!(error(9), (json!("email_taken"), Value::Null));
    assert_eq!(error(10), (json!("hash_too_costly"), json!("password_hash")));
    for (index, format) in FORMATS.iter().enumerate() {
        assert_eq!(results[index]["index"], index);
        let user_id = results[index]["user_id"].as_str().unwrap_or_else(|| panic!("{format}: {}", answer.body));
        let email = format!("{}@import.example", format.replace('_', "-"));
        api.advance(3600); // past the hour's sign-ins from one address
        assert!(!api.stored_hash(user_id).await.starts_with("$argon2id$v=19$m=19456"), "{format}");
        let wrong = api.login(&email, "Wr0ng!Pass", "d").await;
        assert_eq!(wrong.code(), "invalid_credentials", "{format}: {}", wrong.body);
        let signed_in = api.login(&email, PASSWORD, "d").await;
        assert_eq!(signed_in.status, StatusCode::OK, "{format}: {}", signed_in.body);
        assert!(signed_in.body["access_token"].is_string(), "{format}: {}", signed_in.body);
        let stored = api.stored_hash(user_id).await;
        assert!(stored.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{format}: {stored}");
        assert_eq!(api.login(&email, PASSWORD, "d").await.status, StatusCode::OK, "{format} again");
        assert_eq!(api.login(&email, "Wr0ng!Pass", "d").await.code(), "invalid_credentials");
    }
    // What the import brought: verified address, creation time, the audit.
    let admin = format!("Bearer {}", api.app.admin_token);
    let id = results[0]["user_id"].as_str().unwrap();
    let user = api.get(&format!("/v1/users/{id}"), &[("Authorization", &admin)]).await.body;
    assert_eq!((user["email_verified"].clone(), user["status"].clone()), (json!(true), json!("active")), "{user}");
    assert_eq!(user["created_at"], "2019-05-01T10:00:00Z", "{user}");
    let audit = api.audit(id).await;
    assert!(audit.iter().any(|event| event["event"] == "imported" || event["type"] == "imported"), "{audit:?}");
}

/// Only an admin token imports (not a signed-in back-office user); more
/// than 100 users, or a user that is not an object, is refused whole; a
/// Firebase hash without the project is `unsupported_hash`; a closed status
/// is refused.
async fn the_batch_is_bounded_and_admin_only(api: Api) {
    let hashes = foreign_hashes();
    let bcrypt = hashes["bcrypt_2b"].as_str().unwrap();
    let created = json!({
        "email": "owner@import.example", "first_name": "Own", "last_name": "Er", "user_type": "service_owner",
        "password": PASSWORD, "terms_accepted": true, "privacy_policy_accepted": true,
    });
    let admin = format!("Bearer {}", api.app.admin_token);
    let made = api.post("/v1/users", created, &[("Authorization", &admin)]).await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.body);
    let owner =
        api.login("owner@import.example", PASSWORD, "d").await.body["access_token"].as_str().unwrap().to_owned();
    let one = json!({ "users": [person("one@import.example", bcrypt)] });
    assert_eq!(api.import(&owner, one.clone()).await.status, StatusCode::FORBIDDEN);
    let many: Vec<Value> = (0..101).map(|i| person(&format!("u{i}@import.example"), bcrypt)).collect();
    let refused = api.import(&api.app.admin_token, json!({ "users": many })).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", refused.body);
    // A user that is not an object refuses the call, naming its place.
    let shapeless = api.import(&api.app.admin_token, json!({ "users": [person("x@import.example", bcrypt), 7] })).await;
    assert_eq!(shapeless.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", shapeless.body);
    assert_eq!(shapeless.body["errors"][0]["field"], "users.1", "{}", shapeless.body);
    assert_eq!(shapeless.body["errors"][0]["code"], "wrong_type", "{}", shapeless.body);
    let mut firebase = person("fb@import.example", hashes["firebase"].as_str().unwrap());
    firebase["password_salt"] = hashes["firebase_salt"].clone();
    let mut closed = person("closed@import.example", bcrypt);
    closed["status"] = json!("closed");
    let mut suspended = person("suspended@import.example", bcrypt);
    suspended["status"] = json!("suspended");
    let answer = api.import(&api.app.admin_token, json!({ "users": [firebase, closed, suspended] })).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert_eq!(answer.body["imported"], 1, "{}", answer.body);
    assert_eq!(answer.body["results"][0]["error"]["code"], "unsupported_hash", "{}", answer.body);
    assert_eq!(answer.body["results"][1]["error"]["field"], "status", "{}", answer.body);
    // A suspended user's password is right, but it may not sign in.
    assert_eq!(api.login("suspended@import.example", PASSWORD, "d").await.code(), "account_inactive");
}

on_both_stores!(api; every_format_signs_in_and_becomes_argon2id, the_batch_is_bounded_and_admin_only);
