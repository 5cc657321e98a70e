//! `registrar-admin`: the operator CLI. Talks to the DynamoDB table of a
//! deployment (or moto) to manage tenants, API keys, admin tokens, the first
//! service owner and signing keys. Plain output, or `--json`; a non-zero
//! exit and a one-line reason on failure.

use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand};
use serde_json::{Value, json};
use shared::adapters::dynamodb::DynamoStore;
use shared::adapters::system::{OsRandom, SystemClock};
use shared::domain::tenant::{self, Policy, Tenant};
use shared::ports::{Clock, Store, StoreError};

#[derive(Parser)]
#[command(name = "registrar-admin", version, about = "Operate a Registrar deployment's table")]
struct Cli {
    /// Print JSON instead of text.
    #[arg(long, global = true)]
    json: bool,
    /// The DynamoDB table.
    #[arg(long, global = true, env = "REGISTRAR_TABLE", default_value = "registrar")]
    table: String,
    /// Any DynamoDB endpoint (e.g. moto); AWS when unset.
    #[arg(long, global = true, env = "REGISTRAR_DYNAMODB_ENDPOINT")]
    endpoint: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Create the table (local and test set-ups; SAM creates the real one).
    CreateTable,
    /// Tenants and their policy.
    #[command(subcommand)]
    Tenant(TenantCommand),
    /// API keys of a tenant.
    #[command(subcommand)]
    ApiKey(ApiKeyCommand),
    /// Admin tokens (machine credentials) of a tenant.
    #[command(subcommand)]
    AdminToken(AdminTokenCommand),
    /// The first service owner of a tenant.
    #[command(subcommand)]
    ServiceOwner(ServiceOwnerCommand),
    /// Signing keys of the access tokens.
    #[command(subcommand)]
    SigningKey(SigningKeyCommand),
}

#[derive(Subcommand)]
enum TenantCommand {
    /// Create a tenant with the default policy (adjusted by the flags).
    Create {
        id: String,
        #[arg(long)]
        name: String,
        #[command(flatten)]
        policy: PolicyFlags,
    },
    /// List every tenant.
    List,
    /// Show one tenant and its policy.
    Show { id: String },
    /// Change a tenant's policy: a whole policy as JSON, and/or single flags.
    SetPolicy {
        id: String,
        /// The complete policy as JSON (missing fields take their defaults).
        #[arg(long)]
        policy: Option<String>,
        #[command(flatten)]
        flags: PolicyFlags,
    },
}

#[derive(clap::Args)]
struct PolicyFlags {
    /// Whether sign-up needs a verified phone.
    #[arg(long)]
    phone_required: Option<bool>,
    /// Sandbox: every code is this value ("" turns it off).
    #[arg(long)]
    sandbox_code: Option<String>,
    /// Allowed CORS origin (repeatable).
    #[arg(long = "cors-origin")]
    cors_origins: Vec<String>,
    /// Access-token lifetime in seconds.
    #[arg(long)]
    access_token_ttl: Option<i64>,
    /// Refresh-token lifetime in seconds.
    #[arg(long)]
    refresh_token_ttl: Option<i64>,
    /// Current terms version.
    #[arg(long)]
    terms_version: Option<String>,
    /// Current privacy-policy version.
    #[arg(long)]
    privacy_version: Option<String>,
}

impl PolicyFlags {
    fn apply(&self, policy: &mut Policy) {
        if let Some(v) = self.phone_required {
            policy.phone_required = v;
        }
        if let Some(v) = &self.sandbox_code {
            policy.sandbox_code = Some(v.clone()).filter(|c| !c.is_empty());
        }
        if !self.cors_origins.is_empty() {
            policy.cors_origins = self.cors_origins.clone();
        }
        if let Some(v) = self.access_token_ttl {
            policy.access_token_ttl_secs = v;
        }
        if let Some(v) = self.refresh_token_ttl {
            policy.refresh_token_ttl_secs = v;
        }
        if let Some(v) = &self.terms_version {
            policy.terms_version = v.clone();
        }
        if let Some(v) = &self.privacy_version {
            policy.privacy_version = v.clone();
        }
    }
}

#[derive(Subcommand)]
enum ApiKeyCommand {
    /// Issue a key (printed once; only its hash is stored).
    Create {
        tenant: String,
        /// Recorded on every user created through this key.
        #[arg(long)]
        partner: Option<String>,
    },
    List {
        tenant: String,
    },
    Revoke {
        tenant: String,
        key_id: String,
    },
}

#[derive(Subcommand)]
enum AdminTokenCommand {
    /// Issue a token (printed once; only its hash is stored).
    Issue {
        tenant: String,
        /// Lifetime in years, 1–10.
        #[arg(long, value_parser = clap::value_parser!(u32).range(1..=10))]
        years: u32,
    },
    List {
        tenant: String,
    },
    Revoke {
        tenant: String,
        token_id: String,
    },
}

#[derive(Subcommand)]
enum ServiceOwnerCommand {
    /// Create a service owner with a password.
    Create {
        tenant: String,
        #[arg(long)]
        email: String,
        #[arg(long)]
        first_name: String,
        #[arg(long)]
        last_name: String,
        /// The password; prefer REGISTRAR_PASSWORD to keep it out of shell history.
        #[arg(long, env = "REGISTRAR_PASSWORD", hide_env_values = true)]
        password: String,
    },
}

#[derive(Subcommand)]
enum SigningKeyCommand {
    /// Add a key (from a PEM file, or a new 2048-bit key); it signs from now on.
    Add {
        #[arg(long)]
        pem_file: Option<std::path::PathBuf>,
    },
    List,
    /// Stop signing with a key; it still verifies and stays in the JWKS.
    Retire {
        kid: String,
    },
    /// Remove a key: tokens it signed stop verifying.
    Remove {
        kid: String,
    },
}

/// A failure, with its message for the operator.
struct Failure(String);

impl From<StoreError> for Failure {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::ConditionFailed { .. } => Failure("not found, or already exists".into()),
            StoreError::Unavailable(reason) => Failure(format!("the table could not be reached: {reason}")),
        }
    }
}

fn missing(what: String) -> impl FnOnce(StoreError) -> Failure {
    move |err| match err {
        StoreError::ConditionFailed { .. } => Failure(what),
        other => other.into(),
    }
}

fn print(json_output: bool, value: &Value, text: String) {
    if json_output {
        println!("{}", serde_json::to_string_pretty(value).unwrap_or_default());
    } else {
        println!("{text}");
    }
}

async fn open_store(cli: &Cli) -> Arc<DynamoStore> {
    let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest()).load().await;
    let mut builder = aws_sdk_dynamodb::config::Builder::from(&sdk);
    if let Some(url) = &cli.endpoint {
        builder = builder.endpoint_url(url);
    }
    let client = aws_sdk_dynamodb::Client::from_conf(builder.build());
    Arc::new(DynamoStore::new(client, cli.table.clone(), Arc::new(SystemClock)))
}

fn tenant_text(t: &Tenant) -> String {
    format!(
        "{}\t{}\tphone_required={}\tsandbox={}\tlanguages={}",
        t.id,
        t.name,
        t.policy.phone_required,
        t.policy.sandbox_code.is_some(),
        t.policy.languages.join(",")
    )
}

fn lines<T>(items: &[T], line: impl Fn(&T) -> String) -> String {
    items.iter().map(line).collect::<Vec<_>>().join("\n")
}

async fn run(cli: Cli) -> Result<(), Failure> {
    let dynamo = open_store(&cli).await;
    let store: &dyn Store = dynamo.as_ref();
    let now = SystemClock.now();
    let json_out = cli.json;
    match &cli.command {
        Command::CreateTable => {
            dynamo.create_table().await?;
            print(json_out, &json!({ "table": cli.table, "created": true }), format!("table {} ready", cli.table));
        }
        Command::Tenant(TenantCommand::Create { id, name, policy }) => {
            let valid =
                !id.is_empty() && id.len() <= 64 && id.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_".contains(&b));
            if !valid {
                return Err(Failure("a tenant id is 1–64 letters, digits, '-' or '_'".into()));
            }
            let mut tenant = Tenant { id: id.clone(), name: name.clone(), policy: Policy::default() };
            policy.apply(&mut tenant.policy);
            tenant::create_tenant(store, &tenant).await.map_err(missing(format!("tenant {id} already exists")))?;
            let value = serde_json::to_value(&tenant).unwrap_or_default();
            print(json_out, &value, format!("created {}", tenant_text(&tenant)));
        }
        Command::Tenant(TenantCommand::List) => {
            let tenants = tenant::list_tenants(store).await?;
            print(json_out, &serde_json::to_value(&tenants).unwrap_or_default(), lines(&tenants, tenant_text));
        }
        Command::Tenant(TenantCommand::Show { id }) => {
            let tenant = tenant::get_tenant(store, id).await?.ok_or_else(|| Failure(format!("no tenant {id}")))?;
            let value = serde_json::to_value(&tenant).unwrap_or_default();
            print(json_out, &value, serde_json::to_string_pretty(&value).unwrap_or_default());
        }
        Command::Tenant(TenantCommand::SetPolicy { id, policy, flags }) => {
            let current = tenant::get_tenant(store, id).await?.ok_or_else(|| Failure(format!("no tenant {id}")))?;
            let mut next = match policy {
                Some(text) => serde_json::from_str::<Policy>(text).map_err(|e| Failure(format!("--policy: {e}")))?,
                None => current.policy,
            };
            flags.apply(&mut next);
            let tenant = tenant::set_policy(store, id, next).await?;
            let value = serde_json::to_value(&tenant).unwrap_or_default();
            print(json_out, &value, format!("updated {}", tenant_text(&tenant)));
        }
        Command::ApiKey(ApiKeyCommand::Create { tenant: tid, partner }) => {
            let (info, key) = tenant::issue_api_key(store, &OsRandom, now, tid, partner.clone())
                .await
                .map_err(missing(format!("no tenant {tid}")))?;
            let value =
                json!({ "key_id": info.key_id, "tenant_id": tid, "partner_id": info.partner_id, "api_key": key });
            print(json_out, &value, format!("key id {}\napi key (shown once): {key}", info.key_id));
        }
        Command::ApiKey(ApiKeyCommand::List { tenant: tid }) => {
            let keys = tenant::list_api_keys(store, tid).await?;
            let value: Vec<Value> = keys
                .iter()
                .map(|k| {
                    json!({ "key_id": k.key_id, "partner_id": k.partner_id, "revoked": k.revoked, "created_at": k.created_at })
                })
                .collect();
            let text = lines(&keys, |k| {
                format!("{}\t{}\trevoked={}", k.key_id, k.partner_id.as_deref().unwrap_or("-"), k.revoked)
            });
            print(json_out, &json!(value), text);
        }
        Command::ApiKey(ApiKeyCommand::Revoke { tenant: tid, key_id }) => {
            tenant::revoke_api_key(store, tid, key_id)
                .await
                .map_err(missing(format!("no key {key_id} for tenant {tid}")))?;
            print(json_out, &json!({ "key_id": key_id, "revoked": true }), format!("revoked key {key_id}"));
        }
        Command::AdminToken(AdminTokenCommand::Issue { tenant: tid, years }) => {
            let (info, token) = tenant::issue_admin_token(store, &OsRandom, now, tid, *years)
                .await
                .map_err(missing(format!("no tenant {tid}")))?;
            let value = json!({ "token_id": info.token_id, "tenant_id": tid, "expires_at": info.expires_at, "admin_token": token });
            let text =
                format!("token id {} (expires {})\nadmin token (shown once): {token}", info.token_id, info.expires_at);
            print(json_out, &value, text);
        }
        Command::AdminToken(AdminTokenCommand::List { tenant: tid }) => {
            let tokens = tenant::list_admin_tokens(store, tid).await?;
            let value: Vec<Value> = tokens
                .iter()
                .map(|t| json!({ "token_id": t.token_id, "expires_at": t.expires_at, "revoked": t.revoked }))
                .collect();
            let text = lines(&tokens, |t| format!("{}\texpires {}\trevoked={}", t.token_id, t.expires_at, t.revoked));
            print(json_out, &json!(value), text);
        }
        Command::AdminToken(AdminTokenCommand::Revoke { tenant: tid, token_id }) => {
            tenant::revoke_admin_token(store, tid, token_id)
                .await
                .map_err(missing(format!("no admin token {token_id} for tenant {tid}")))?;
            print(
                json_out,
                &json!({ "token_id": token_id, "revoked": true }),
                format!("revoked admin token {token_id}"),
            );
        }
        Command::ServiceOwner(ServiceOwnerCommand::Create { tenant: tid, email, first_name, last_name, password }) => {
            let user = create_service_owner(dynamo.clone(), tid, email, first_name, last_name, password).await?;
            let value =
                json!({ "user_id": user.id, "tenant_id": tid, "email": user.email, "user_type": user.user_type });
            print(json_out, &value, format!("created service owner {} ({})", user.id, user.email));
        }
        Command::SigningKey(SigningKeyCommand::Add { pem_file }) => {
            let pem = match pem_file {
                Some(path) => std::fs::read_to_string(path).map_err(|e| Failure(format!("{}: {e}", path.display())))?,
                None => shared::domain::tokens::generate_pem().map_err(|e| Failure(e.to_string()))?,
            };
            let key = shared::domain::keys::add_key(store, &pem, now).await.map_err(|e| Failure(e.to_string()))?;
            print(json_out, &json!({ "kid": key.kid, "status": key.status }), format!("added signing key {}", key.kid));
        }
        Command::SigningKey(SigningKeyCommand::List) => {
            let keys = shared::domain::keys::list_keys(store).await?;
            let value: Vec<Value> =
                keys.iter().map(|k| json!({ "kid": k.kid, "status": k.status, "created_at": k.created_at })).collect();
            print(json_out, &json!(value), lines(&keys, |k| format!("{}\t{}\t{}", k.kid, k.status, k.created_at)));
        }
        Command::SigningKey(SigningKeyCommand::Retire { kid }) => {
            shared::domain::keys::retire_key(store, kid).await.map_err(missing(format!("no signing key {kid}")))?;
            print(json_out, &json!({ "kid": kid, "status": "retired" }), format!("retired signing key {kid}"));
        }
        Command::SigningKey(SigningKeyCommand::Remove { kid }) => {
            shared::domain::keys::remove_key(store, kid).await.map_err(missing(format!("no signing key {kid}")))?;
            print(json_out, &json!({ "kid": kid, "removed": true }), format!("removed signing key {kid}"));
        }
    }
    Ok(())
}

/// Creates the first service owner through the same domain code as
/// `POST /v1/users` with an admin token.
async fn create_service_owner(
    store: Arc<DynamoStore>,
    tenant_id: &str,
    email: &str,
    first_name: &str,
    last_name: &str,
    password: &str,
) -> Result<shared::domain::user::User, Failure> {
    use shared::domain::users::{Actor, NewUser, Secret, create_user};
    use shared::domain::values::{EmailAddress, parse_name, password_errors};
    let tenant = tenant::get_tenant(store.as_ref(), tenant_id)
        .await?
        .ok_or_else(|| Failure(format!("no tenant {tenant_id}")))?;
    let email = EmailAddress::parse(email).map_err(|code| Failure(format!("--email: {code}")))?;
    let broken = password_errors(&tenant.policy.password, "password", password, Some(&email));
    if !broken.is_empty() {
        let codes: Vec<&str> = broken.iter().map(|e| e.code).collect();
        return Err(Failure(format!("--password breaks the policy: {}", codes.join(", "))));
    }
    let new = NewUser {
        email,
        first_name: parse_name(first_name).map_err(|c| Failure(format!("--first-name: {c}")))?,
        last_name: parse_name(last_name).map_err(|c| Failure(format!("--last-name: {c}")))?,
        gender: None,
        birth_date: None,
        language: "en".into(),
        time_zone: None,
        phone: None,
        secret: Secret::Password(shared::domain::password::Password::new(password)),
        user_type: "service_owner".into(),
        roles: Vec::new(),
        company_id: None,
        reset_required: false,
        nationality: None,
        address: None,
        attributes: serde_json::Map::new(),
    };
    let app = operator_app(store).map_err(|e| Failure(e.to_string()))?;
    create_user(&app, &tenant, &Actor::Admin { token_id: "cli".into() }, new, None).await.map_err(|e| match e {
        shared::domain::Error::EmailTaken => Failure("that e-mail address already has an account".into()),
        other => Failure(other.to_string()),
    })
}

/// An app around the table for the domain's use cases. The CLI signs no
/// tokens and sends no mail (password-only creation), so keys and pepper are
/// throwaway and messages go to a temporary outbox.
fn operator_app(store: Arc<DynamoStore>) -> Result<shared::app::App, shared::domain::tokens::KeyError> {
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let outbox =
        Arc::new(shared::adapters::outbox::Outbox::new(std::env::temp_dir().join("registrar-admin"), clock.clone()));
    let mut pepper = vec![0u8; 32];
    shared::ports::Random::fill(&OsRandom, &mut pepper);
    Ok(shared::app::App {
        store,
        mailer: outbox.clone(),
        texter: outbox,
        clock,
        random: Arc::new(OsRandom),
        keys: Arc::new(shared::domain::tokens::Keyring::generate()?),
        settings: shared::app::Settings {
            issuer: String::new(),
            audience: String::new(),
            code_pepper: shared::app::Secret::new(pepper),
            secure_cookies: true,
            api_key_cache_secs: 0,
        },
        api_keys: Default::default(),
    })
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure(message)) => {
            eprintln!("registrar-admin: {message}");
            ExitCode::FAILURE
        }
    }
}
