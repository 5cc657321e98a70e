//! The operator CLI end to end against moto: create a tenant, an API key, an
//! admin token, a service owner and a signing key, then use them through the
//! API; revoke them and watch them stop working; and the failures.

use std::process::Command;
use std::sync::Arc;

use serde_json::{Value, json};
use shared::adapters::system::ManualClock;
use shared::app::App;
use shared::config::Config;
use shared::domain::tokens::Claims;

use crate::common;

struct Cli {
    table: String,
    /// The stack whose secrets the CLI manages (`--stack`), unique per test.
    stack: String,
}

impl Cli {
    fn new(name: &str) -> Self {
        Self { table: common::unique(name), stack: common::unique(name) }
    }
}

struct Run {
    ok: bool,
    stdout: String,
    stderr: String,
}

impl Cli {
    /// An app as a deployed function builds it (on moto, the real clock or
    /// `clock`), given the secrets `secrets` names.
    async fn app(&self, secrets: &[&str], clock: Option<Arc<ManualClock>>) -> App {
        let names = shared::domain::keys::SecretNames::of_stack(&self.stack);
        // The API key cache is off: the CLI revokes in another process.
        let mut env = std::collections::HashMap::from([
            ("REGISTRAR_STORE", "dynamodb"),
            ("REGISTRAR_TABLE", self.table.as_str()),
            ("REGISTRAR_ISSUER", "http://registrar.test"),
            ("REGISTRAR_API_KEY_CACHE_SECS", "0"),
        ]);
        for name in secrets {
            let id = match *name {
                "REGISTRAR_SIGNING_KEYS_SECRET" => &names.signing_keys,
                "REGISTRAR_PUBLIC_KEYS_SECRET" => &names.public_keys,
                _ => &names.code_key,
            };
            env.insert(name, id.as_str());
        }
        let outbox = std::env::temp_dir().join(common::unique("cli-outbox")).display().to_string();
        env.insert("REGISTRAR_OUTBOX_DIR", outbox.as_str());
        let config = Config::from_lookup(false, |name| env.get(name).map(|v| (*v).to_owned())).expect("config");
        let clock: Arc<dyn shared::ports::Clock> = match clock {
            Some(clock) => clock,
            None => Arc::new(shared::adapters::system::SystemClock),
        };
        config.build_app_on(Some(&common::moto_sdk()), clock).await.expect("the app starts on the secrets")
    }

    fn run(&self, args: &[&str]) -> Run {
        let out = Command::new(env!("CARGO_BIN_EXE_registrar-admin"))
            .args(args)
            .env("REGISTRAR_TABLE", &self.table)
            .env("REGISTRAR_STACK", &self.stack)
            .env("REGISTRAR_DYNAMODB_ENDPOINT", common::moto_url())
            // Secrets Manager on moto too.
            .env("AWS_ENDPOINT_URL", common::moto_url())
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

    /// Runs `args`, which must succeed (its stderr in the failure).
    fn ok(&self, args: &[&str]) {
        let run = self.run(args);
        assert!(run.ok, "{args:?} failed: {}", run.stderr);
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
    let cli = Cli::new("cli");
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
    let created = cli.json(&["secrets", "create"]);
    assert_eq!(created["created"].as_array().unwrap().len(), 4, "{created}");
    assert_eq!(cli.json(&["secrets", "create"])["created"], json!([]), "made once");
    let listed = cli.json(&["signing-key", "list"]);
    let kid = listed[0]["kid"].as_str().unwrap().to_owned();
    assert_eq!(listed[0]["status"], "active", "a new stack's first key signs");
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

    // The API on the same table, with the keys and the code key from the
    // stack's secrets, as a deployed issuing function reads them.
    let app = Arc::new(cli.app(&["REGISTRAR_SIGNING_KEYS_SECRET", "REGISTRAR_CODE_KEY_SECRET"], None).await);
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
    // The owner the CLI created has not accepted the terms yet: its first
    // login asks for them.
    let challenge = login.json::<Value>().await.unwrap();
    assert_eq!(challenge["legal_acceptance_required"], true, "{challenge}");
    let token = accept_legal(&http, &url(""), &api_key, &challenge).await;
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
}

#[test]
fn the_cli_fails_clearly() {
    let cli = Cli::new("cli-fail");
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
    // One readable line with what to do, not the SDK's internals.
    let no_secrets = cli.run(&["signing-key", "list"]);
    assert!(!no_secrets.ok && no_secrets.stderr.contains("registrar-admin secrets create"), "{}", no_secrets.stderr);
    assert_eq!(no_secrets.stderr.trim().lines().count(), 1, "{}", no_secrets.stderr);
    assert!(no_secrets.stderr.len() < 200, "{}", no_secrets.stderr);
    let whole = cli.run(&["signing-key", "list", "--verbose"]);
    assert!(!whole.ok && whole.stderr.contains("/signing-keys"), "--verbose prints the details: {}", whole.stderr);
    assert!(cli.run(&["secrets", "create"]).ok);
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
    let stderr = String::from_utf8_lossy(&unreachable.stderr);
    assert!(stderr.contains("could not be reached") && stderr.trim().lines().count() == 1, "{stderr}");
    // No credentials: said so, not a metadata-service dump.
    let anonymous = Command::new(env!("CARGO_BIN_EXE_registrar-admin"))
        .args(["tenant", "list"])
        .env("REGISTRAR_DYNAMODB_ENDPOINT", "http://127.0.0.1:9")
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env_remove("AWS_PROFILE")
        .env("AWS_REGION", "eu-central-1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_CONFIG_FILE", "/nonexistent")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
        .env("AWS_MAX_ATTEMPTS", "1")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&anonymous.stderr);
    assert!(!anonymous.status.success() && stderr.contains("AWS_ACCESS_KEY_ID"), "{stderr}");
}

/// `set-policy` changes only what it is given, refuses unknown fields and
/// values that the API could not live with, each with one line and a
/// non-zero exit.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn set_policy_merges_and_validates() {
    let cli = Cli::new("cli-policy");
    assert!(cli.run(&["create-table"]).ok);
    cli.json(&["tenant", "create", "shop", "--name", "Shop", "--cors-origin", "https://shop.example"]);
    let ips = r#"{"ip_limits": {"logins_per_5_min": 500}, "terms_version": "2026-05"}"#;
    cli.json(&["tenant", "set-policy", "shop", "--policy", ips]);
    // The example of docs/operations.md: a few fields; nothing else may change.
    let updated = cli.json(&[
        "tenant",
        "set-policy",
        "shop",
        "--policy",
        r#"{"phone_required": true, "access_token_ttl_secs": 600, "codes": {"length": 8}}"#,
    ]);
    let policy = &updated["policy"];
    assert_eq!(policy["access_token_ttl_secs"], 600);
    assert_eq!(policy["codes"]["length"], 8);
    assert_eq!(policy["codes"]["max_attempts"], 5, "sibling fields of a nested object stay");
    assert_eq!(policy["cors_origins"], json!(["https://shop.example"]), "origins kept");
    assert_eq!(policy["ip_limits"]["logins_per_5_min"], 500, "IP limits kept");
    assert_eq!(policy["ip_limits"]["signups_per_hour"], 100);
    assert_eq!(policy["terms_version"], "2026-05", "legal versions kept");
    assert_eq!(policy["refresh"]["idle_timeout_secs"], 2_592_000, "the idle timeout's default");
    let idle = cli.json(&["tenant", "set-policy", "shop", "--policy", r#"{"refresh": {"idle_timeout_secs": 86400}}"#]);
    assert_eq!(idle["policy"]["refresh"]["idle_timeout_secs"], 86_400);
    let idle = cli.json(&["tenant", "set-policy", "shop", "--refresh-idle-timeout", "3600"]);
    assert_eq!(idle["policy"]["refresh"]["idle_timeout_secs"], 3600);
    assert_eq!(idle["policy"]["access_token_ttl_secs"], 600, "the rest kept");

    for (patch, reason) in [
        (r#"{"access_token_ttl_secs": 9223372036854775807}"#, "access_token_ttl_secs must be"),
        (r#"{"refresh_token_ttl_secs": -5}"#, "refresh_token_ttl_secs must be"),
        (r#"{"refresh": {"idle_timeout_secs": 60}}"#, "refresh.idle_timeout_secs must be 600 to"),
        (r#"{"codes": {"lenght": 8}}"#, "unknown field codes.lenght"),
        (r#"{"languages": ["xx"]}"#, "languages must be"),
        (r#"{"cors_origins": ["https://shop.example/app"]}"#, "is not an origin"),
        (r#"{"sandbox_code": "12"}"#, "sandbox_code must be 8 digits"),
        (r#"{"codes": 5}"#, "--policy"),
        ("[1, 2]", "must be a JSON object"),
    ] {
        let run = cli.run(&["tenant", "set-policy", "shop", "--policy", patch]);
        assert!(!run.ok, "{patch} was accepted");
        assert!(run.stderr.contains(reason), "{patch}: {}", run.stderr);
        assert_eq!(run.stderr.trim().lines().count(), 1, "one line: {}", run.stderr);
        assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    }
    let flag = cli.run(&["tenant", "set-policy", "shop", "--access-token-ttl", "99999999999999"]);
    assert!(!flag.ok && flag.stderr.contains("access_token_ttl_secs must be"), "{}", flag.stderr);
    let flag = cli.run(&["tenant", "set-policy", "shop", "--refresh-idle-timeout", "10"]);
    assert!(!flag.ok && flag.stderr.contains("refresh.idle_timeout_secs must be"), "{}", flag.stderr);
    let shown = cli.json(&["tenant", "show", "shop"]);
    assert_eq!(shown["policy"]["access_token_ttl_secs"], 600, "nothing refused was stored");
    assert_eq!(shown["policy"]["refresh"]["idle_timeout_secs"], 3600, "nothing refused was stored");
}

/// `reference set|remove|list`: the tenant's own kinds, through the back
/// office's domain code.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_edits_the_tenants_own_reference_kinds() {
    let cli = Cli::new("cli-reference");
    assert!(cli.run(&["create-table"]).ok);
    cli.json(&["tenant", "create", "bank", "--name", "Bank"]);
    let added =
        cli.json(&["reference", "set", "bank", "tax-liabilities", "CH", "--name", "en=Swiss", "--name", "de=Schweiz"]);
    assert_eq!((&added["created"], &added["names"]["de"]), (&json!(true), &json!("Schweiz")), "{added}");
    let renamed = cli.json(&["reference", "set", "bank", "tax-liabilities", "ch", "--name", "en=Switzerland"]);
    assert_eq!((&renamed["created"], &renamed["code"]), (&json!(false), &json!("CH")), "{renamed}");
    cli.json(&["reference", "set", "bank", "civil-statuses", "SINGLE", "--name", "en=Single"]);
    let listed = cli.run(&["reference", "list", "bank"]);
    assert!(listed.ok, "{}", listed.stderr);
    assert!(listed.stdout.contains("tax-liabilities/CH\ten=Switzerland"), "{}", listed.stdout);
    assert!(listed.stdout.contains("civil-statuses/SINGLE\ten=Single"), "{}", listed.stdout);
    let policy = cli.json(&["tenant", "show", "bank"])["policy"]["reference"].clone();
    assert_eq!(policy["tax-liabilities"][0]["names"], json!({ "en": "Switzerland" }), "{policy}");

    for (args, reason) in [
        (vec!["reference", "set", "bank", "countries", "XK", "--name", "en=Kosovo"], "kind: read_only_kind"),
        (
            vec!["reference", "set", "bank", "civil-statuses", "WIDOWED", "--name", "de=Verwitwet"],
            "names: invalid_names",
        ),
        (vec!["reference", "set", "bank", "civil-statuses", "W", "--name", "Verwitwet"], "use <language>=<name>"),
        (vec!["reference", "remove", "bank", "civil-statuses", "MARRIED"], "no such entry"),
        (vec!["reference", "list", "nobank"], "no tenant nobank"),
    ] {
        let run = cli.run(&args);
        assert!(!run.ok && run.stderr.contains(reason), "{args:?}: {}", run.stderr);
    }
    let removed = cli.json(&["reference", "remove", "bank", "civil-statuses", "single"]);
    assert_eq!(removed["removed"], true);
    let policy = cli.json(&["tenant", "show", "bank"])["policy"]["reference"].clone();
    assert!(policy.get("civil-statuses").is_none(), "the kind went with its last entry: {policy}");

    // A tenant that requires usernames gets a first service owner with one.
    cli.json(&["tenant", "set-policy", "bank", "--policy", r#"{"usernames": "required"}"#]);
    let owner = ["service-owner", "create", "bank", "--email", "boss@bank.example", "--first-name", "B"];
    let owner = [owner.as_slice(), &["--last-name", "Oss", "--password", "Str0ng!Pass"]].concat();
    let without = cli.run(&owner);
    assert!(!without.ok && without.stderr.contains("username: required"), "{}", without.stderr);
    let bad = cli.run(&[owner.as_slice(), &["--username", "9x"]].concat());
    assert!(!bad.ok && bad.stderr.contains("--username: too_short"), "{}", bad.stderr);
    let created = cli.json(&[owner.as_slice(), &["--username", "BankBoss"]].concat());
    assert!(created["user_id"].is_string(), "{created}");
    let found = cli.json(&["user", "find", "bank", "--username", "bankboss"]);
    assert_eq!(found["username"], "BankBoss", "{found}");
}

/// Accepts the legal documents a login asked for (device `ops`); the
/// access token.
async fn accept_legal(http: &reqwest::Client, base: &str, api_key: &str, challenge: &Value) -> String {
    let body =
        json!({ "challenge_id": challenge["challenge_id"], "terms_accepted": true, "privacy_policy_accepted": true });
    let accepted = http
        .post(format!("{base}/v1/auth/legal/accept"))
        .header("X-API-Key", api_key)
        .header("X-Device-ID", "ops")
        .json(&body)
        .send()
        .await
        .unwrap();
    accepted.json::<Value>().await.unwrap()["access_token"].as_str().unwrap().to_owned()
}

fn claims(now: i64) -> Claims {
    Claims {
        iss: "http://registrar.test".into(),
        aud: "registrar".into(),
        sub: "usr_1".into(),
        tid: "t".into(),
        sid: "ses_1".into(),
        typ: "client".into(),
        roles: vec![],
        iat: now,
        exp: now + 3600,
        jti: "j".into(),
        auth_time: None,
        amr: vec![],
        extra: Default::default(),
    }
}

/// Key rotation end to end, with the functions built from the stack's
/// secrets as deployed: a new key is published before it signs, tokens of
/// the old key verify until it is removed, and instances started before a
/// change pick it up without a restart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signing_keys_rotate_without_logging_anyone_out() {
    let cli = Cli::new("rotate");
    cli.ok(&["secrets", "create"]);
    let clock = Arc::new(ManualClock::at_test_start());
    let issuer = cli.app(&["REGISTRAR_SIGNING_KEYS_SECRET"], Some(clock.clone())).await;
    let checker = cli.app(&["REGISTRAR_PUBLIC_KEYS_SECRET"], Some(clock.clone())).await;
    let now = || clock.now_secs();
    let verifies = |app: &App, token: &str| {
        app.keys.current().verify_at(token, "http://registrar.test", "registrar", clock.now_secs()).is_some()
    };
    assert!(checker.keys.current().sign(&claims(now())).is_err(), "a checking function holds no private key");
    let old_token = issuer.keys.current().sign(&claims(now())).unwrap();
    assert!(verifies(&checker, &old_token));
    let old_kid = issuer.keys.current().active_kid().unwrap().to_owned();

    // 1. Add: published at once, signing not yet.
    let added = cli.json(&["signing-key", "add"]);
    let new_kid = added["kid"].as_str().unwrap().to_owned();
    assert_eq!(added["status"], "next");
    clock.advance(chrono::Duration::seconds(shared::app::KEY_RELOAD_SECS));
    for app in [&issuer, &checker] {
        app.keys.reload_if_due(now()).await;
    }
    let published: Vec<String> = checker.keys.current().jwks()["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap().to_owned())
        .collect();
    assert!(published.contains(&new_kid) && published.contains(&old_kid), "{published:?}");
    assert_eq!(issuer.keys.current().active_kid(), Some(old_kid.as_str()), "a next key does not sign");

    // 2. Activate: the issuer signs with the new key; an instance that has
    // not reloaded yet fetches the keys again for the unknown kid.
    let stale = cli.app(&["REGISTRAR_PUBLIC_KEYS_SECRET"], Some(clock.clone())).await;
    cli.ok(&["signing-key", "activate", &new_kid]);
    clock.advance(chrono::Duration::seconds(shared::app::KEY_RELOAD_SECS));
    issuer.keys.reload_if_due(now()).await;
    let new_token = issuer.keys.current().sign(&claims(now())).unwrap();
    let header = jsonwebtoken::decode_header(&new_token).unwrap();
    assert_eq!(header.kid.as_deref(), Some(new_kid.as_str()));
    assert!(verifies(&stale, &new_token), "published before it signed, so a running instance knows it");
    assert!(verifies(&issuer, &old_token) && verifies(&stale, &old_token), "old tokens live on");
    let listed = cli.json(&["signing-key", "list"]);
    assert!(listed.as_array().unwrap().iter().any(|k| k["kid"] == old_kid.as_str() && k["status"] == "retired"));

    // 3. Remove the old key once its tokens have expired.
    let refused = cli.run(&["signing-key", "remove", &new_kid]);
    assert!(!refused.ok && refused.stderr.contains("signs"), "{}", refused.stderr);
    let removed = cli.run(&["signing-key", "remove", &old_kid]);
    assert!(removed.ok, "{}", removed.stderr);
    clock.advance(chrono::Duration::seconds(shared::app::KEY_RELOAD_SECS));
    checker.keys.reload_if_due(now()).await;
    assert!(!verifies(&checker, &old_token), "a removed key verifies nothing");
    assert!(verifies(&checker, &new_token));

    // The code key rotates too; a function reads it at its next start.
    let names = shared::domain::keys::SecretNames::of_stack(&cli.stack);
    let secrets = aws_sdk_secretsmanager::Client::new(&common::moto_sdk());
    let read = || async {
        let out = secrets.get_secret_value().secret_id(&names.code_key).send().await.unwrap();
        out.secret_string().unwrap().to_owned()
    };
    let before = read().await;
    assert!(before.len() >= 32);
    cli.ok(&["secrets", "rotate-code-key"]);
    assert_ne!(read().await, before);
}

/// `user find|show|unlock|revoke-sessions|status`: the back office's use
/// cases from the CLI, on a user the API locked out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_finds_and_helps_a_user() {
    let cli = Cli::new("cli-user");
    assert!(cli.run(&["create-table"]).ok);
    cli.json(&["tenant", "create", "acme", "--name", "Acme"]);
    let api_key = cli.json(&["api-key", "create", "acme"])["api_key"].as_str().unwrap().to_owned();
    cli.json(&["secrets", "create"]);
    let owner = cli.json(&[
        "service-owner",
        "create",
        "acme",
        "--email",
        "ola@acme.example",
        "--first-name",
        "Ola",
        "--last-name",
        "Nord",
        "--password",
        "Str0ng!Pass",
    ]);
    let id = owner["user_id"].as_str().unwrap().to_owned();
    let app = Arc::new(cli.app(&["REGISTRAR_SIGNING_KEYS_SECRET", "REGISTRAR_CODE_KEY_SECRET"], None).await);
    let (addr, _server) = shared::http::server::spawn(app, "127.0.0.1:0".parse().unwrap()).await.unwrap();
    let http = reqwest::Client::new();
    let login = |password: &'static str| {
        http.post(format!("http://{addr}/v1/auth/login"))
            .header("X-API-Key", &api_key)
            .header("X-Device-ID", "ops")
            .json(&json!({ "username": "ola@acme.example", "password": password }))
            .send()
    };
    for _ in 0..6 {
        assert_eq!(login("Wr0ng!Pass").await.unwrap().status(), 401);
    }

    let found = cli.json(&["user", "find", "acme", "--email", " OLA@acme.example "]);
    assert_eq!(found["user_id"], id.as_str());
    assert_eq!(found["lockout"]["failed_attempts"], 6, "{found}");
    assert!(found["lockout"]["locked_until"].is_string(), "{found}");
    let shown = cli.run(&["user", "show", "acme", &id]);
    assert!(shown.ok && shown.stdout.contains("failed_attempts=6"), "{}", shown.stdout);
    let unlocked = cli.json(&["user", "unlock", "acme", &id, "--reason", "Called the help desk"]);
    assert_eq!(unlocked["previous"]["failed_attempts"], 6);
    let signed_in = login("Str0ng!Pass").await.unwrap();
    assert_eq!(signed_in.status(), 200, "unlocked");
    let challenge = signed_in.json::<Value>().await.unwrap();
    let access = accept_legal(&http, &format!("http://{addr}"), &api_key, &challenge).await;
    let revoked = cli.json(&["user", "revoke-sessions", "acme", &id, "--reason", "Lost laptop"]);
    assert_eq!(revoked["sessions_revoked"], 1);
    let me = http
        .get(format!("http://{addr}/v1/me"))
        .header("X-API-Key", &api_key)
        .bearer_auth(&access)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 401, "the session ended");
    let moved = cli.json(&["user", "status", "acme", &id, "S", "--reason", "Audit"]);
    assert_eq!((moved["previous_status"].as_str(), moved["status"].as_str()), (Some("active"), Some("suspended")));

    // Clear failures.
    let nobody = cli.run(&["user", "find", "acme", "--phone", "+41791234567"]);
    assert!(!nobody.ok && nobody.stderr.contains("no user with that"), "{}", nobody.stderr);
    let nobody = cli.run(&["user", "find", "acme", "--username", "NoSuchClerk"]);
    assert!(!nobody.ok && nobody.stderr.contains("no user with that"), "{}", nobody.stderr);
    let bad_name = cli.run(&["user", "find", "acme", "--username", "9x"]);
    assert!(!bad_name.ok && bad_name.stderr.contains("--username: too_short"), "{}", bad_name.stderr);
    let bad = cli.run(&["user", "show", "acme", "usr_nope"]);
    assert!(!bad.ok && bad.stderr.contains("no such user"), "{}", bad.stderr);
    let wrong_move = cli.run(&["user", "status", "acme", &id, "created", "--reason", "x"]);
    assert!(!wrong_move.ok && wrong_move.stderr.contains("can only move to"), "{}", wrong_move.stderr);
    let blank = cli.run(&["user", "unlock", "acme", &id, "--reason", "  "]);
    assert!(!blank.ok && blank.stderr.contains("--reason: required"), "{}", blank.stderr);
    let no_reason = cli.run(&["user", "unlock", "acme", &id]);
    assert!(!no_reason.ok && no_reason.stderr.contains("--reason"), "{}", no_reason.stderr);
}

/// A key id is a base64url thumbprint and may start with `-`: the CLI takes
/// it as the id, not as an option (a rotation failed one run in ten).
#[test]
fn a_key_id_that_starts_with_a_dash_is_an_id() {
    let cli = Cli::new("cli-dash");
    let run = cli.run(&["signing-key", "remove", "-Bdash"]);
    assert!(!run.ok, "no such key");
    assert!(!run.stderr.contains("unexpected argument"), "{}", run.stderr);
}

/// `events redrive` as its own process: the batch of the table's stream a
/// dead-letter message names (here: the service owner's `user.created`) is
/// put on the stack's bus again (webhooks signed with the stack's webhook
/// secret, which it reads), and the message deleted; the summary says so.
#[tokio::test]
async fn the_cli_redrives_a_dead_lettered_batch() {
    let cli = Cli::new("redrive");
    assert!(cli.run(&["create-table"]).ok);
    assert!(cli.run(&["secrets", "create"]).ok, "the webhook secret among them");
    cli.json(&["tenant", "create", "acme", "--name", "Acme"]);
    let owner =
        ["--email", "boss@acme.example", "--first-name", "Bo", "--last-name", "Ss", "--password", "Str0ng!Pass"];
    cli.json(&[&["service-owner", "create", "acme"][..], &owner[..]].concat());

    // The stack's bus (a rule of the test's hands its events to a queue)
    // and dead-letter queue, as the template names them.
    let sdk = common::moto_sdk();
    let events = aws_sdk_eventbridge::Client::new(&sdk);
    let bus = format!("{}-events", cli.stack);
    events.create_event_bus().name(&bus).send().await.expect("bus");
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    let make = |name: String| {
        let sqs = sqs.clone();
        async move { sqs.create_queue().queue_name(name).send().await.unwrap().queue_url().unwrap().to_owned() }
    };
    let dlq = make(format!("{}-events-dlq", cli.stack)).await;
    let seen = make(common::unique("seen")).await;
    let arn = sqs
        .get_queue_attributes()
        .queue_url(&seen)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
        .send()
        .await
        .unwrap()
        .attributes()
        .and_then(|a| a.get(&aws_sdk_sqs::types::QueueAttributeName::QueueArn).cloned())
        .unwrap();
    let pattern = json!({ "source": ["registrar"] }).to_string();
    events.put_rule().name("seen").event_bus_name(&bus).event_pattern(pattern).send().await.unwrap();
    let target = aws_sdk_eventbridge::types::Target::builder().id("seen").arn(arn).build().unwrap();
    events.put_targets().rule("seen").event_bus_name(&bus).targets(target).send().await.unwrap();

    // The batch's place: the whole shard so far.
    let streams = aws_sdk_dynamodbstreams::Client::new(&sdk);
    let listed = streams.list_streams().table_name(&cli.table).send().await.unwrap();
    let stream_arn = listed.streams()[0].stream_arn().unwrap().to_owned();
    let described = streams.describe_stream().stream_arn(&stream_arn).send().await.unwrap();
    let shard = described.stream_description().unwrap().shards()[0].clone();
    let range = shard.sequence_number_range().unwrap();
    let iterator = streams
        .get_shard_iterator()
        .stream_arn(&stream_arn)
        .shard_id(shard.shard_id().unwrap())
        .shard_iterator_type(aws_sdk_dynamodbstreams::types::ShardIteratorType::TrimHorizon)
        .send()
        .await
        .unwrap();
    let records = streams.get_records().shard_iterator(iterator.shard_iterator().unwrap()).send().await.unwrap();
    let last = records.records().last().and_then(|r| r.dynamodb()?.sequence_number()).unwrap().to_owned();
    let place = json!({ "DDBStreamBatchInfo": {
        "shardId": shard.shard_id(), "streamArn": stream_arn, "batchSize": records.records().len(),
        "startSequenceNumber": range.starting_sequence_number(), "endSequenceNumber": last } });
    sqs.send_message().queue_url(&dlq).message_body(place.to_string()).send().await.unwrap();

    let redriven = cli.json(&["events", "redrive"]);
    assert_eq!(redriven["batches"], 1, "{redriven}");
    assert_eq!(redriven["redriven"], 1, "{redriven}");
    assert_eq!(redriven["kept"], json!([]), "{redriven}");
    let got = sqs.receive_message().queue_url(&seen).max_number_of_messages(10).send().await.unwrap();
    let types: Vec<Value> = got
        .messages()
        .iter()
        .map(|m| serde_json::from_str::<Value>(m.body().unwrap()).unwrap()["detail-type"].clone())
        .collect();
    assert!(types.contains(&json!("user.created")), "{types:?}");
    let left = sqs.receive_message().queue_url(&dlq).send().await.unwrap();
    assert!(left.messages().is_empty(), "the message is deleted");
    assert_eq!(cli.json(&["events", "redrive"])["batches"], 0, "nothing left");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_registers_openid_connect_clients() {
    use shared::domain::oauth::clients::{ClientCredentials, authenticate_client};
    let cli = Cli::new("cli-clients");
    assert!(cli.run(&["create-table"]).ok);
    cli.json(&["tenant", "create", "shop", "--name", "Shop"]);
    let spa = ["client", "create", "--tenant", "shop", "--name", "Shop SPA", "--client-id", "shop-spa"];
    let public = cli
        .json(&[spa.as_slice(), &["--redirect-uri", "https://shop.example/cb", "http://localhost:5173/cb"]].concat());
    assert_eq!((&public["public"], &public["client_id"]), (&json!(true), &json!("shop-spa")), "{public}");
    assert!(public.get("client_secret").is_none(), "{public}");
    let server = ["client", "create", "--tenant", "shop", "--name", "Shop server", "--confidential"];
    let confidential = cli.json(&[server.as_slice(), &["--redirect-uri", "https://shop.example/server/cb"]].concat());
    let id = confidential["client_id"].as_str().expect("an id").to_owned();
    let secret = confidential["client_secret"].as_str().expect("the secret, once").to_owned();
    assert!(id.starts_with("cli_") && secret.starts_with("cs_"), "{confidential}");
    let listed = cli.run(&["client", "list", "--tenant", "shop"]);
    assert!(listed.ok && listed.stdout.contains("shop-spa\tShop SPA\tpublic") && !listed.stdout.contains(&secret));
    assert!(listed.stdout.contains(&format!("{id}\tShop server\tconfidential")), "{}", listed.stdout);

    // The secret it printed is the one the token endpoint accepts.
    let app = cli.app(&[], None).await;
    let basic = |secret: &str| ClientCredentials {
        form_client_id: None,
        basic: Some(ClientCredentials::basic(id.clone(), secret.to_owned())),
    };
    assert!(authenticate_client(app.store.as_ref(), &basic(&secret)).await.is_ok());
    assert!(authenticate_client(app.store.as_ref(), &basic("cs_wrong")).await.is_err());
    let renewed = cli.json(&["client", "update", "--tenant", "shop", &id, "--new-secret"]);
    let fresh = renewed["client_secret"].as_str().expect("a new secret").to_owned();
    assert!(authenticate_client(app.store.as_ref(), &basic(&secret)).await.is_err(), "the old one stops");
    assert!(authenticate_client(app.store.as_ref(), &basic(&fresh)).await.is_ok());
    let moved =
        cli.json(&["client", "update", "--tenant", "shop", "shop-spa", "--redirect-uri", "https://shop.example/new"]);
    assert_eq!(moved["redirect_uris"], json!(["https://shop.example/new"]));

    for (args, reason) in [
        (
            vec!["client", "create", "--tenant", "shop", "--name", "X", "--redirect-uri", "http://shop.example/cb"],
            "use https",
        ),
        (
            vec!["client", "create", "--tenant", "shop", "--name", "X", "--redirect-uri", "https://a.example/#f"],
            "no fragment",
        ),
        (
            vec!["client", "create", "--tenant", "nowhere", "--name", "X", "--redirect-uri", "https://a.example/"],
            "no tenant nowhere",
        ),
        (
            vec![
                "client",
                "create",
                "--tenant",
                "shop",
                "--name",
                "X",
                "--client-id",
                "shop-spa",
                "--redirect-uri",
                "https://a.example/",
            ],
            "is taken",
        ),
        (vec!["client", "update", "--tenant", "shop", "shop-spa", "--new-secret"], "public client has no secret"),
        (vec!["client", "delete", "--tenant", "other", "shop-spa"], "no client shop-spa"),
    ] {
        let run = cli.run(&args);
        assert!(!run.ok && run.stderr.contains(reason), "{args:?}: {}", run.stderr);
    }
    assert_eq!(cli.json(&["client", "delete", "--tenant", "shop", "shop-spa"])["deleted"], true);
    assert_eq!(cli.json(&["client", "list", "--tenant", "shop"]).as_array().map(Vec::len), Some(1));
}
