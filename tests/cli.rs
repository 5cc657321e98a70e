//! The operator CLI end to end against moto: create a tenant, an API key, an
//! admin token, a service owner and a signing key, then use them through the
//! API; revoke them and watch them stop working; and the failures.

mod common;

use std::process::Command;
use std::sync::Arc;

use serde_json::{Value, json};
use shared::adapters::dynamodb::DynamoStore;
use shared::adapters::outbox::Outbox;
use shared::adapters::system::{OsRandom, SystemClock};
use shared::app::{App, Secret, Settings};
use shared::domain::keys::keyring_from_store;

struct Cli {
    table: String,
}

struct Run {
    ok: bool,
    stdout: String,
    stderr: String,
}

impl Cli {
    fn run(&self, args: &[&str]) -> Run {
        let out = Command::new(env!("CARGO_BIN_EXE_registrar-admin"))
            .args(args)
            .env("REGISTRAR_TABLE", &self.table)
            .env("REGISTRAR_DYNAMODB_ENDPOINT", common::moto_url())
            .env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test")
            .env("AWS_REGION", "eu-central-1")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .output()
            .expect("registrar-admin runs");
        Run {
            ok: out.status.success(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    fn json(&self, args: &[&str]) -> Value {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        let run = self.run(&all);
        assert!(run.ok, "{args:?} failed: {}", run.stderr);
        serde_json::from_str(&run.stdout).unwrap_or_else(|_| panic!("{args:?} printed no JSON: {}", run.stdout))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_sets_up_a_tenant_the_api_then_serves() {
    let cli = Cli { table: common::unique("cli") };
    assert!(cli.run(&["create-table"]).ok);
    let tenant = cli.json(&["tenant", "create", "acme", "--name", "Acme Corp", "--phone-required", "false"]);
    assert_eq!(tenant["policy"]["phone_required"], false);
    let listed = cli.run(&["tenant", "list"]);
    assert!(listed.ok && listed.stdout.contains("acme\tAcme Corp"), "{}", listed.stdout);
    let updated = cli.json(&["tenant", "set-policy", "acme", "--sandbox-code", "424242"]);
    assert_eq!(updated["policy"]["sandbox_code"], "424242");
    assert_eq!(updated["policy"]["phone_required"], false, "other settings kept");

    let key = cli.json(&["api-key", "create", "acme", "--partner", "shop-1"]);
    let api_key = key["api_key"].as_str().unwrap().to_owned();
    let admin = cli.json(&["admin-token", "issue", "acme", "--years", "2"]);
    let admin_token = admin["admin_token"].as_str().unwrap().to_owned();
    let signing = cli.json(&["signing-key", "add"]);
    let kid = signing["kid"].as_str().unwrap().to_owned();
    let owner = cli.json(&[
        "service-owner",
        "create",
        "acme",
        "--email",
        "boss@acme.example",
        "--first-name",
        "Bo",
        "--last-name",
        "Ss",
        "--password",
        "Str0ng!Pass",
    ]);
    assert_eq!(owner["user_type"], "service_owner");
    // Secrets are printed once and never listed.
    let keys = cli.run(&["api-key", "list", "acme"]);
    assert!(keys.ok && !keys.stdout.contains(&api_key) && keys.stdout.contains("shop-1"), "{}", keys.stdout);
    let tokens = cli.run(&["admin-token", "list", "acme"]);
    assert!(!tokens.stdout.contains(&admin_token));

    // The API on the same table, with the keys from the table.
    let clock = Arc::new(SystemClock);
    let client = aws_sdk_dynamodb::Client::new(&common::moto_sdk());
    let store = Arc::new(DynamoStore::new(client, cli.table.clone(), clock.clone()));
    let keys = keyring_from_store(store.as_ref()).await.unwrap().expect("the CLI's key");
    assert_eq!(keys.active_kid(), kid);
    let outbox = Arc::new(Outbox::new(std::env::temp_dir().join(common::unique("cli-outbox")), clock.clone()));
    let app = Arc::new(App {
        store,
        mailer: outbox.clone(),
        texter: outbox,
        clock,
        random: Arc::new(OsRandom),
        keys: Arc::new(keys),
        settings: Settings {
            issuer: "http://registrar.test".into(),
            audience: "registrar".into(),
            code_pepper: Secret::new(b"cli test pepper, at least 32 bytes".to_vec()),
            secure_cookies: true,
            // The CLI revokes keys in another process while this API runs on
            // the real clock: no cache, so the revocation shows at once.
            api_key_cache_secs: 0,
        },
        api_keys: Default::default(),
    });
    let (addr, _server) = shared::http::server::spawn(app, "127.0.0.1:0".parse().unwrap()).await.unwrap();
    let http = reqwest::Client::new();
    let url = |path: &str| format!("http://{addr}{path}");

    let login = http
        .post(url("/v1/auth/login"))
        .header("X-API-Key", &api_key)
        .header("X-Device-ID", "ops")
        .json(&json!({ "username": "boss@acme.example", "password": "Str0ng!Pass" }))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 200);
    let token = login.json::<Value>().await.unwrap()["access_token"].as_str().unwrap().to_owned();
    let header = jsonwebtoken::decode_header(&token).unwrap();
    assert_eq!(header.kid.as_deref(), Some(kid.as_str()), "signed with the CLI's key");
    let created = http
        .post(url("/v1/users"))
        .header("X-API-Key", &api_key)
        .bearer_auth(&admin_token)
        .json(
            &json!({ "email": "worker@acme.example", "first_name": "W", "last_name": "K", "user_type": "company_user",
            "company_id": "acme-ops", "password": "Str0ng!Pass" }),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    assert_eq!(created.json::<Value>().await.unwrap()["partner_id"], "shop-1");

    // Revoked credentials stop working.
    assert!(cli.run(&["admin-token", "revoke", "acme", admin["token_id"].as_str().unwrap()]).ok);
    let after = http
        .get(url("/v1/users/usr_00000000000000000000000000000000"))
        .header("X-API-Key", &api_key)
        .bearer_auth(&admin_token)
        .send()
        .await
        .unwrap();
    assert_eq!(after.status(), 401);
    assert!(cli.run(&["api-key", "revoke", "acme", key["key_id"].as_str().unwrap()]).ok);
    let revoked = http.get(url("/v1/reference/languages")).header("X-API-Key", &api_key).send().await.unwrap();
    assert_eq!(revoked.status(), 401);

    // Retiring keeps the key in the JWKS for verification.
    cli.json(&["signing-key", "add"]);
    assert!(cli.run(&["signing-key", "retire", &kid]).ok);
    let listed = cli.json(&["signing-key", "list"]);
    assert_eq!(listed.as_array().unwrap().len(), 2);
    assert!(listed.as_array().unwrap().iter().any(|k| k["kid"] == kid.as_str() && k["status"] == "retired"));
}

#[test]
fn the_cli_fails_clearly() {
    let cli = Cli { table: common::unique("cli-fail") };
    assert!(cli.run(&["create-table"]).ok);
    assert!(cli.run(&["tenant", "create", "t1", "--name", "T"]).ok);
    let twice = cli.run(&["tenant", "create", "t1", "--name", "T"]);
    assert!(!twice.ok && twice.stderr.contains("tenant t1 already exists"), "{}", twice.stderr);
    let no_tenant = cli.run(&["api-key", "create", "nope"]);
    assert!(!no_tenant.ok && no_tenant.stderr.contains("no tenant nope"), "{}", no_tenant.stderr);
    let years = cli.run(&["admin-token", "issue", "t1", "--years", "11"]);
    assert!(!years.ok && years.stderr.contains("11"), "{}", years.stderr);
    let weak = cli.run(&[
        "service-owner",
        "create",
        "t1",
        "--email",
        "a@b.example",
        "--first-name",
        "A",
        "--last-name",
        "B",
        "--password",
        "weak",
    ]);
    assert!(!weak.ok && weak.stderr.contains("password_too_short"), "{}", weak.stderr);
    let bad_id = cli.run(&["tenant", "create", "bad id!", "--name", "X"]);
    assert!(!bad_id.ok && bad_id.stderr.contains("tenant id"), "{}", bad_id.stderr);
    let unknown_key = cli.run(&["signing-key", "retire", "nokid"]);
    assert!(!unknown_key.ok && unknown_key.stderr.contains("no signing key nokid"));
    let bad_policy = cli.run(&["tenant", "set-policy", "t1", "--policy", "{not json"]);
    assert!(!bad_policy.ok && bad_policy.stderr.contains("--policy"));
    let unreachable = Command::new(env!("CARGO_BIN_EXE_registrar-admin"))
        .args(["tenant", "list"])
        .env("REGISTRAR_DYNAMODB_ENDPOINT", "http://127.0.0.1:9")
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_REGION", "eu-central-1")
        .env("AWS_MAX_ATTEMPTS", "1")
        .output()
        .unwrap();
    assert!(!unreachable.status.success());
    assert!(String::from_utf8_lossy(&unreachable.stderr).contains("could not be reached"));
}
