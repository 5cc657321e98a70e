//! `registrar-admin`: the operator CLI. Talks to the DynamoDB table of a
//! deployment (or moto) to manage tenants, API keys, admin tokens, OpenID
//! Connect clients and the
//! first service owner, and to its Secrets Manager secrets to manage the
//! signing keys and the code key. Plain output, or `--json`; a non-zero
//! exit and a one-line reason on failure.

use std::process::ExitCode;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use clap::{Parser, Subcommand};
use serde_json::{Value, json};
use shared::adapters::dynamodb::DynamoStore;
use shared::adapters::hook_transport::HookTransport;
use shared::adapters::secrets::SecretsManager;
use shared::adapters::system::{OsRandom, SystemClock};
use shared::adapters::webhook::{WebhookCaller, WebhookSecret};
use shared::domain::keys::{KeyOpError, SecretNames, SigningKeys};
use shared::domain::oauth::Client;
use shared::domain::oauth::clients::{self, ClientChanges, ClientDraft, ClientError};
use shared::domain::tenant::{self, Policy, Tenant};
use shared::domain::tokens::KeyError;
use shared::domain::values::{PersonalDetails, UserType};
use shared::ports::Random;
use shared::ports::{Clock, Store, StoreError};

#[derive(Parser)]
#[command(name = "registrar-admin", version, about = "Operate a Registrar deployment's table")]
struct Cli {
    /// Print JSON instead of text.
    #[arg(long, global = true)]
    json: bool,
    /// On failure, print the whole error (the AWS SDK's details too)
    /// instead of one line with a hint.
    #[arg(long, global = true)]
    verbose: bool,
    /// The DynamoDB table.
    #[arg(long, global = true, env = "REGISTRAR_TABLE", default_value = "registrar")]
    table: String,
    /// Any DynamoDB endpoint (e.g. moto); AWS when unset.
    #[arg(long, global = true, env = "REGISTRAR_DYNAMODB_ENDPOINT")]
    endpoint: Option<String>,
    /// The AWS region (else the environment's or the profile's).
    #[arg(long, global = true)]
    region: Option<String>,
    /// The AWS profile of the shared config and credentials files.
    #[arg(long, global = true)]
    profile: Option<String>,
    /// The SAM stack whose secrets to manage (`<stack>/signing-keys`,
    /// `<stack>/public-keys`, `<stack>/code-key`, `<stack>/webhook-secret`),
    /// and whose events to redrive.
    #[arg(long, global = true, env = "REGISTRAR_STACK", default_value = "registrar")]
    stack: String,
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
    /// OpenID Connect clients of a tenant (docs/openid.md).
    #[command(subcommand)]
    Client(ClientCommand),
    /// The first service owner of a tenant.
    #[command(subcommand)]
    ServiceOwner(ServiceOwnerCommand),
    /// Find and help a tenant's users (the back office's own domain code,
    /// acting as an admin token of the tenant; every change audited).
    #[command(subcommand)]
    User(UserCommand),
    /// Reference kinds of a tenant's own (`civil-statuses`, …): their
    /// entries and names.
    #[command(subcommand)]
    Reference(ReferenceCommand),
    /// Signing keys of the access tokens (in the stack's two key secrets).
    #[command(subcommand)]
    SigningKey(SigningKeyCommand),
    /// The stack's secrets.
    #[command(subcommand)]
    Secrets(SecretsCommand),
    /// Events the deployed path gave up on.
    #[command(subcommand)]
    Events(EventsCommand),
}

#[derive(Subcommand)]
enum EventsCommand {
    /// Publish again the batches in the events' dead-letter queue: each
    /// message names a batch of the table's stream, whose records are read
    /// again (the stream keeps them 24 hours), put on the bus and delivered
    /// to their webhooks; a message whose events all went out is deleted,
    /// the others stay. Deliveries are signed with the stack's webhook
    /// secret (`<stack>/webhook-secret`, or REGISTRAR_WEBHOOK_SECRET).
    Redrive {
        /// The dead-letter queue's URL (default: the stack's
        /// `<stack>-events-dlq`).
        #[arg(long)]
        queue_url: Option<String>,
        /// The bus, a name or an ARN (default: the stack's `<stack>-events`).
        #[arg(long)]
        bus: Option<String>,
    },
}

#[derive(Subcommand)]
enum ReferenceCommand {
    /// Add an entry to a kind of the tenant's own (the kind starts with its
    /// first entry), or rename one: `--name en=Single --name de=Ledig`.
    Set {
        tenant: String,
        kind: String,
        code: String,
        /// `<language>=<name>`, English required; repeat per language.
        #[arg(long = "name", required = true)]
        names: Vec<String>,
    },
    /// Remove an entry (the kind goes with its last one).
    Remove { tenant: String, kind: String, code: String },
    /// The tenant's own kinds and their entries.
    List { tenant: String },
}

#[derive(Subcommand)]
enum SecretsCommand {
    /// Create the stack's four secrets where they are missing (the template
    /// creates them; this is for stacks made without it, and tests): a new
    /// random code key, one signing key that signs at once, and a webhook
    /// secret.
    Create,
    /// Replace the code key. Running instances keep the old one until they
    /// are replaced: deploy with a new `SecretsRevision` right after. Codes
    /// sent before stop working (users resend them).
    RotateCodeKey,
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
    /// Change a tenant's policy: fields as JSON and/or single flags, merged
    /// into the stored policy (what is not given stays as it is).
    SetPolicy {
        id: String,
        /// Policy fields as a JSON object, merged into the stored policy
        /// (nested objects field by field), e.g. '{"codes":{"length":8}}'.
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
    /// Seconds without a refresh after which a session ends
    /// (`refresh.idle_timeout_secs`).
    #[arg(long)]
    refresh_idle_timeout: Option<i64>,
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
        if let Some(v) = self.refresh_idle_timeout {
            policy.refresh.idle_timeout_secs = v;
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
enum ClientCommand {
    /// Register a client (a confidential one's secret is printed once; only
    /// its hash is stored).
    Create {
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        name: String,
        /// Where the code may be sent, exactly: https, or http to
        /// localhost/127.0.0.1/[::1]; no fragment. Repeat for several.
        #[arg(long = "redirect-uri", required = true, num_args = 1..)]
        redirect_uris: Vec<String>,
        /// Where RP-initiated logout may send the browser back, exactly.
        #[arg(long = "post-logout-redirect-uri", num_args = 1..)]
        post_logout_redirect_uris: Vec<String>,
        /// A server-side app with a secret (client_secret_basic); without
        /// it, a public client (PKCE alone).
        #[arg(long)]
        confidential: bool,
        /// The client id (default: a new `cli_…`).
        #[arg(long)]
        client_id: Option<String>,
    },
    /// The tenant's clients.
    List {
        #[arg(long)]
        tenant: String,
    },
    /// Change a client: name, redirect URIs (each list replaced whole), or
    /// a new secret.
    Update {
        #[arg(long)]
        tenant: String,
        client_id: String,
        #[arg(long)]
        name: Option<String>,
        #[arg(long = "redirect-uri", num_args = 1..)]
        redirect_uris: Option<Vec<String>>,
        #[arg(long = "post-logout-redirect-uri", num_args = 1..)]
        post_logout_redirect_uris: Option<Vec<String>>,
        /// A new secret for a confidential client (printed once; the old
        /// one stops working).
        #[arg(long)]
        new_secret: bool,
    },
    /// Remove a client: its codes and refresh tokens stop working.
    Delete {
        #[arg(long)]
        tenant: String,
        client_id: String,
    },
}

fn client_json(client: &Client) -> Value {
    json!({
        "client_id": client.client_id, "tenant_id": client.tenant_id, "name": client.name,
        "redirect_uris": client.redirect_uris, "post_logout_redirect_uris": client.post_logout_redirect_uris,
        "public": client.public,
    })
}

fn client_text(client: &Client) -> String {
    let kind = if client.public { "public" } else { "confidential" };
    format!("{}\t{}\t{kind}\t{}", client.client_id, client.name, client.redirect_uris.join(" "))
}

impl From<ClientError> for Failure {
    fn from(err: ClientError) -> Self {
        match err {
            ClientError::Store(err) => err.into(),
            other => Failure(other.to_string()),
        }
    }
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
        /// A username (tenants with usernames; required where they require one).
        #[arg(long)]
        username: Option<String>,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Find a user by e-mail address or phone (exact; the phone in E.164).
    Find {
        tenant: String,
        #[arg(long, conflicts_with_all = ["phone", "username"], required_unless_present_any = ["phone", "username"])]
        email: Option<String>,
        #[arg(long, conflicts_with = "username")]
        phone: Option<String>,
        /// A username, in any case (tenants with usernames).
        #[arg(long)]
        username: Option<String>,
    },
    /// A user, with its lockout.
    Show { tenant: String, user_id: String },
    /// Move a user to another status (`created`, `active`, `suspended`,
    /// `disabled`, `closed`, or their letters).
    Status {
        tenant: String,
        user_id: String,
        status: String,
        #[arg(long)]
        reason: String,
    },
    /// End a user's lockout.
    Unlock {
        tenant: String,
        user_id: String,
        #[arg(long)]
        reason: String,
    },
    /// End every session of a user.
    RevokeSessions {
        tenant: String,
        user_id: String,
        #[arg(long)]
        reason: String,
    },
    /// Import users from a JSON Lines file, one `POST /v1/users/import`
    /// user a line (docs/import-export.md), in batches of 100. Resumable:
    /// users already there are skipped and reported.
    Import {
        tenant: String,
        file: std::path::PathBuf,
        /// Firebase's base64 signer key (with the three below, for
        /// Firebase hashes).
        #[arg(long, requires_all = ["firebase_salt_separator", "firebase_rounds", "firebase_mem_cost"])]
        firebase_signer_key: Option<String>,
        #[arg(long)]
        firebase_salt_separator: Option<String>,
        #[arg(long)]
        firebase_rounds: Option<u32>,
        #[arg(long)]
        firebase_mem_cost: Option<u32>,
    },
    /// Export every user of a tenant (but closed ones) to a JSON Lines
    /// file that `user import` reads: hashes in their stored form,
    /// consents, factors' public parts.
    Export { tenant: String, file: std::path::PathBuf },
}

#[derive(Subcommand)]
enum SigningKeyCommand {
    /// Add a key (from a PEM file, or a new 2048-bit key). It is published
    /// in the JWKS at once and signs only once activated (the first key of a
    /// stack signs at once).
    Add {
        #[arg(long)]
        pem_file: Option<std::path::PathBuf>,
    },
    List,
    /// Make a published key the one that signs (after every instance has
    /// seen it: 5 minutes); the key that signed before retires.
    Activate {
        /// The key's id (a base64url thumbprint: it may start with `-`).
        #[arg(allow_hyphen_values = true)]
        kid: String,
    },
    /// Stop signing with a key; it still verifies and stays in the JWKS.
    Retire {
        /// The key's id (a base64url thumbprint: it may start with `-`).
        #[arg(allow_hyphen_values = true)]
        kid: String,
    },
    /// Remove a key: tokens it signed stop verifying (wait until they have
    /// expired: the tenants' access-token lifetime).
    Remove {
        /// The key's id (a base64url thumbprint: it may start with `-`).
        #[arg(allow_hyphen_values = true)]
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

/// Merges `patch` into `target` field by field (RFC 7396 without deletion);
/// a field the policy does not have is refused, so a typo changes nothing.
fn merge(target: &mut Value, patch: &Value, at: &str) -> Result<(), Failure> {
    let (Value::Object(fields), Value::Object(changes)) = (target, patch) else {
        return Err(Failure(format!("--policy: {} must be a JSON object", if at.is_empty() { "it" } else { at })));
    };
    for (name, change) in changes {
        let path = if at.is_empty() { name.clone() } else { format!("{at}.{name}") };
        let slot = fields.get_mut(name).ok_or_else(|| Failure(format!("--policy: unknown field {path}")))?;
        if slot.is_object() {
            merge(slot, change, &path)?;
        } else {
            *slot = change.clone();
        }
    }
    Ok(())
}

/// Checks a policy before it is stored.
fn checked(policy: Policy) -> Result<Policy, Failure> {
    let mut problems = policy.problems();
    // A deployed policy names its providers' secrets in Secrets Manager;
    // an inline secret is for local runs only (it would sit in the table).
    for provider in policy.identity_providers.iter().filter(|p| p.client_secret.is_some()) {
        problems.push(format!(
            "identity_providers.{}: client_secret is for local runs only; keep it in Secrets Manager (client_secret_name)",
            provider.id
        ));
    }
    if problems.is_empty() { Ok(policy) } else { Err(Failure(format!("policy: {}", problems.join("; ")))) }
}

async fn sdk_config(cli: &Cli) -> aws_config::SdkConfig {
    let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest());
    if let Some(region) = &cli.region {
        loader = loader.region(aws_config::Region::new(region.clone()));
    }
    if let Some(profile) = &cli.profile {
        loader = loader.profile_name(profile);
    }
    loader.load().await
}

async fn open_store(cli: &Cli) -> Arc<DynamoStore> {
    let sdk = sdk_config(cli).await;
    let mut builder = aws_sdk_dynamodb::config::Builder::from(&sdk);
    if let Some(url) = &cli.endpoint {
        builder = builder.endpoint_url(url);
    }
    let client = aws_sdk_dynamodb::Client::from_conf(builder.build());
    Arc::new(DynamoStore::new(client, cli.table.clone(), Arc::new(SystemClock)))
}

fn tenant_text(t: &Tenant) -> String {
    format!(
        // `fixed_code`: the tenant's codes are one fixed sandbox value (its
        // `sandbox_code`); the local sandbox tenant draws real codes unless
        // REGISTRAR_SANDBOX_CODE is set, so "sandbox=false" misled.
        "{}\t{}\tphone_required={}\tfixed_code={}\tlanguages={}",
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
            tenant.policy = checked(tenant.policy)?;
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
            let mut next = current.policy;
            if let Some(text) = policy {
                let patch: Value = serde_json::from_str(text).map_err(|e| Failure(format!("--policy: {e}")))?;
                let mut merged = serde_json::to_value(&next).map_err(|e| Failure(e.to_string()))?;
                merge(&mut merged, &patch, "")?;
                next = serde_json::from_value(merged).map_err(|e| Failure(format!("--policy: {e}")))?;
            }
            flags.apply(&mut next);
            let tenant = tenant::set_policy(store, id, checked(next)?).await?;
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
        Command::Client(ClientCommand::Create {
            tenant: tid,
            name,
            redirect_uris,
            post_logout_redirect_uris,
            confidential,
            client_id,
        }) => {
            let draft = ClientDraft {
                client_id: client_id.clone(),
                tenant_id: tid.clone(),
                name: name.clone(),
                redirect_uris: redirect_uris.clone(),
                post_logout_redirect_uris: post_logout_redirect_uris.clone(),
                public: !confidential,
            };
            let (client, secret) = clients::register(store, &OsRandom, now, draft).await?;
            let mut value = client_json(&client);
            let mut text = format!("created {}", client_text(&client));
            if let Some(secret) = &secret {
                value["client_secret"] = json!(secret.expose());
                text.push_str(&format!("\nclient secret (shown once): {}", secret.expose()));
            }
            print(json_out, &value, text);
        }
        Command::Client(ClientCommand::List { tenant: tid }) => {
            let found = clients::list(store, tid).await?;
            let value: Vec<Value> = found.iter().map(client_json).collect();
            print(json_out, &json!(value), lines(&found, client_text));
        }
        Command::Client(ClientCommand::Update {
            tenant: tid,
            client_id,
            name,
            redirect_uris,
            post_logout_redirect_uris,
            new_secret,
        }) => {
            let changes = ClientChanges {
                name: name.clone(),
                redirect_uris: redirect_uris.clone(),
                post_logout_redirect_uris: post_logout_redirect_uris.clone(),
                new_secret: *new_secret,
            };
            let (client, secret) = clients::update(store, &OsRandom, tid, client_id, changes).await?;
            let mut value = client_json(&client);
            let mut text = format!("updated {}", client_text(&client));
            if let Some(secret) = &secret {
                value["client_secret"] = json!(secret.expose());
                text.push_str(&format!("\nclient secret (shown once): {}", secret.expose()));
            }
            print(json_out, &value, text);
        }
        Command::Client(ClientCommand::Delete { tenant: tid, client_id }) => {
            clients::delete(store, tid, client_id).await?;
            print(json_out, &json!({ "client_id": client_id, "deleted": true }), format!("deleted client {client_id}"));
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
        Command::ServiceOwner(ServiceOwnerCommand::Create {
            tenant: tid,
            email,
            first_name,
            last_name,
            password,
            username,
        }) => {
            let names = (first_name.as_str(), last_name.as_str());
            let user = create_service_owner(dynamo.clone(), tid, email, names, password, username.as_deref()).await?;
            let value =
                json!({ "user_id": user.id, "tenant_id": tid, "email": user.email, "user_type": user.user_type });
            print(json_out, &value, format!("created service owner {} ({email})", user.id));
        }
        Command::User(command) => user(&cli, dynamo.clone(), command).await?,
        Command::Reference(command) => reference(&cli, dynamo.clone(), command).await?,
        Command::SigningKey(command) => signing_key(&cli, command, now).await?,
        Command::Secrets(command) => secrets(&cli, command, now).await?,
        Command::Events(EventsCommand::Redrive { queue_url, bus }) => {
            redrive(&cli, dynamo.clone(), queue_url.as_deref(), bus.as_deref()).await?
        }
    }
    Ok(())
}

async fn open_secrets(cli: &Cli) -> SecretsManager {
    SecretsManager::new(aws_sdk_secretsmanager::Client::new(&sdk_config(cli).await))
}

/// Reads the private keys, lets `change` alter them, and writes both key
/// secrets: the public one first, so a key is published before any function
/// can sign with it.
async fn change_keys(
    cli: &Cli,
    change: impl FnOnce(&mut SigningKeys) -> Result<Value, KeyOpError>,
) -> Result<Value, Failure> {
    let secrets = open_secrets(cli).await;
    let names = SecretNames::of_stack(&cli.stack);
    let text = secrets.read(&names.signing_keys).await.map_err(|e| Failure(e.to_string()))?;
    let mut keys = SigningKeys::parse(&text).map_err(|e| Failure(e.to_string()))?;
    let answer = change(&mut keys).map_err(|e| Failure(e.to_string()))?;
    let public = keys.public_jwks().map_err(|e| Failure(e.to_string()))?;
    secrets.write(&names.public_keys, &public.to_string()).await.map_err(|e| Failure(e.to_string()))?;
    secrets.write(&names.signing_keys, &keys.to_json()).await.map_err(|e| Failure(e.to_string()))?;
    Ok(answer)
}

async fn signing_key(cli: &Cli, command: &SigningKeyCommand, now: DateTime<Utc>) -> Result<(), Failure> {
    let json_out = cli.json;
    match command {
        SigningKeyCommand::Add { pem_file } => {
            let pem = match pem_file {
                Some(path) => std::fs::read_to_string(path).map_err(|e| Failure(format!("{}: {e}", path.display())))?,
                None => shared::domain::tokens::generate_pem().map_err(|e| Failure(e.to_string()))?,
            };
            let value = change_keys(cli, |keys| {
                let key = keys.add(&pem, now)?;
                Ok(json!({ "kid": key.kid, "status": key.status }))
            })
            .await?;
            print(json_out, &value, format!("added signing key {} ({})", value["kid"], value["status"]));
        }
        SigningKeyCommand::List => {
            let secrets = open_secrets(cli).await;
            let names = SecretNames::of_stack(&cli.stack);
            let text = secrets.read(&names.signing_keys).await.map_err(|e| Failure(e.to_string()))?;
            let keys = SigningKeys::parse(&text).map_err(|e| Failure(e.to_string()))?.keys;
            let value: Vec<Value> =
                keys.iter().map(|k| json!({ "kid": k.kid, "status": k.status, "created_at": k.created_at })).collect();
            print(json_out, &json!(value), lines(&keys, |k| format!("{}\t{:?}\t{}", k.kid, k.status, k.created_at)));
        }
        SigningKeyCommand::Activate { kid } => {
            change_keys(cli, |keys| keys.activate(kid, now).map(|()| Value::Null)).await?;
            print(json_out, &json!({ "kid": kid, "status": "active" }), format!("signing key {kid} signs now"));
        }
        SigningKeyCommand::Retire { kid } => {
            change_keys(cli, |keys| keys.retire(kid).map(|()| Value::Null)).await?;
            print(json_out, &json!({ "kid": kid, "status": "retired" }), format!("retired signing key {kid}"));
        }
        SigningKeyCommand::Remove { kid } => {
            change_keys(cli, |keys| keys.remove(kid).map(|()| Value::Null)).await?;
            print(json_out, &json!({ "kid": kid, "removed": true }), format!("removed signing key {kid}"));
        }
    }
    Ok(())
}

/// Publishes again what the events' dead-letter queue names.
async fn redrive(
    cli: &Cli,
    store: Arc<DynamoStore>,
    queue_url: Option<&str>,
    bus: Option<&str>,
) -> Result<(), Failure> {
    let sdk = sdk_config(cli).await;
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    let queue_url = match queue_url {
        Some(url) => url.to_owned(),
        None => {
            let name = format!("{}-events-dlq", cli.stack);
            let found = sqs.get_queue_url().queue_name(&name).send().await.map_err(|e| {
                Failure(format!("queue {name}: {} (or --queue-url)", aws_sdk_sqs::error::DisplayErrorContext(e)))
            })?;
            found.queue_url().unwrap_or_default().to_owned()
        }
    };
    let bus = bus.map_or_else(|| format!("{}-events", cli.stack), str::to_owned);
    let mut streams = aws_sdk_dynamodbstreams::config::Builder::from(&sdk);
    if let Some(url) = &cli.endpoint {
        streams = streams.endpoint_url(url);
    }
    let streams = aws_sdk_dynamodbstreams::Client::from_conf(streams.build());
    let mut app = operator_app(store).map_err(|e| Failure(e.to_string()))?;
    if std::env::var_os("REGISTRAR_WEBHOOK_SECRET").is_none() {
        let name = SecretNames::of_stack(&cli.stack).webhook_secret;
        let text = open_secrets(cli).await.read(&name).await.map_err(|e| Failure(e.to_string()))?;
        let secret = WebhookSecret::parse(&text).map_err(|e| Failure(format!("secret {name}: {e}")))?;
        app.hooks =
            Arc::new(HookTransport::http(WebhookCaller::new(Some(secret), app.clock.clone()).map_err(Failure)?));
    }
    let bus = shared::adapters::eventbridge::EventBus::new(aws_sdk_eventbridge::Client::new(&sdk), bus);
    let summary = registrar::redrive::redrive(&app, &bus, &streams, &sqs, &queue_url).await.map_err(Failure)?;
    let mut text = format!(
        "{} batches read, {} events published, {} batches done and deleted ({} read from the table), {} kept",
        summary.batches,
        summary.published,
        summary.redriven,
        summary.from_table,
        summary.kept.len()
    );
    for kept in &summary.kept {
        text.push_str(&format!("\nkept {kept}"));
    }
    print(cli.json, &serde_json::to_value(&summary).unwrap_or_default(), text);
    if summary.kept.is_empty() { Ok(()) } else { Err(Failure(format!("{} batches kept", summary.kept.len()))) }
}

/// 64 random characters from [A-Za-z0-9] (as the template's generated one).
fn new_code_key() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    (0..64).map(|_| ALPHABET[OsRandom.below(ALPHABET.len() as u32) as usize] as char).collect()
}

async fn secrets(cli: &Cli, command: &SecretsCommand, now: DateTime<Utc>) -> Result<(), Failure> {
    let secrets = open_secrets(cli).await;
    let names = SecretNames::of_stack(&cli.stack);
    let fail = |e: shared::adapters::secrets::SecretError| Failure(e.to_string());
    match command {
        SecretsCommand::Create => {
            let mut keys = SigningKeys::default();
            let pem = shared::domain::tokens::generate_pem().map_err(|e| Failure(e.to_string()))?;
            keys.add(&pem, now).map_err(|e| Failure(e.to_string()))?;
            let public = keys.public_jwks().map_err(|e| Failure(e.to_string()))?.to_string();
            let created = [
                (&names.code_key, new_code_key(), "Registrar: the key of one-time-code hashes"),
                (&names.public_keys, public, "Registrar: the public signing keys (JWKS)"),
                (&names.signing_keys, keys.to_json(), "Registrar: the private signing keys"),
                // 64 letters and digits are base64: receivers verify with whsec_ and it.
                (&names.webhook_secret, new_code_key(), "Registrar: what hooks and events are signed with"),
            ];
            let mut made = Vec::new();
            for (name, text, description) in created {
                if secrets.create(name, &text, description).await.map_err(fail)? {
                    made.push(name.clone());
                }
            }
            let text = if made.is_empty() { "every secret exists already".into() } else { made.join("\n") };
            print(cli.json, &json!({ "created": made }), text);
        }
        SecretsCommand::RotateCodeKey => {
            secrets.write(&names.code_key, &new_code_key()).await.map_err(fail)?;
            print(cli.json, &json!({ "rotated": names.code_key }), format!("rotated {}", names.code_key));
        }
    }
    Ok(())
}

/// A user's line of text: id, e-mail, status, type, company, lockout.
fn user_text(view: &shared::domain::users::UserView) -> String {
    let lockout = view.lockout.clone().unwrap_or_default();
    let locked = lockout.locked_until.map_or_else(|| "-".to_owned(), |at| at.to_rfc3339());
    format!(
        "{}\t{}\t{}\t{}\t{}\tfailed_attempts={}\tlocked_until={locked}",
        view.user_id,
        view.email.as_deref().unwrap_or("-"),
        view.status.as_str(),
        view.user_type,
        view.company_id.as_deref().unwrap_or("-"),
        lockout.failed_attempts,
    )
}

/// `reference …`: the back office's reference edits, as an admin token.
async fn reference(cli: &Cli, store: Arc<DynamoStore>, command: &ReferenceCommand) -> Result<(), Failure> {
    use shared::domain::reference::{put_entry, remove_entry};
    use shared::domain::tenant::TenantEntry;
    use shared::domain::users::Actor;
    let (ReferenceCommand::Set { tenant, .. }
    | ReferenceCommand::Remove { tenant, .. }
    | ReferenceCommand::List { tenant }) = command;
    let found =
        tenant::get_tenant(store.as_ref(), tenant).await?.ok_or_else(|| Failure(format!("no tenant {tenant}")))?;
    let app = operator_app(store).map_err(|e| Failure(e.to_string()))?;
    let actor = Actor::Admin { token_id: "cli".into() };
    let failed = |e: shared::domain::Error| match e {
        shared::domain::Error::Validation(errors) => {
            Failure(errors.iter().map(|e| format!("{}: {}", e.field, e.code)).collect::<Vec<_>>().join(", "))
        }
        shared::domain::Error::ReferenceNotFound => Failure("no such entry".into()),
        other => Failure(other.to_string()),
    };
    match command {
        ReferenceCommand::Set { kind, code, names, .. } => {
            let mut parsed = std::collections::BTreeMap::new();
            for pair in names {
                let (lang, name) =
                    pair.split_once('=').ok_or_else(|| Failure(format!("--name {pair}: use <language>=<name>")))?;
                parsed.insert(lang.trim().to_owned(), name.trim().to_owned());
            }
            if !shared::domain::tenant::valid_entry_code(code) {
                return Err(Failure(format!("{code}: a code has 1-64 of A-Z a-z 0-9 . _ -")));
            }
            let entry = TenantEntry { code: code.clone(), names: parsed };
            let (entry, created) = put_entry(&app, &found.id, &actor, kind, entry).await.map_err(failed)?;
            let out = json!({ "kind": kind, "code": entry.code, "names": entry.names, "created": created });
            print(cli.json, &out, format!("{kind}/{}\t{}", entry.code, if created { "added" } else { "renamed" }));
        }
        ReferenceCommand::Remove { kind, code, .. } => {
            remove_entry(&app, &found.id, &actor, kind, code).await.map_err(failed)?;
            print(cli.json, &json!({ "kind": kind, "code": code, "removed": true }), format!("{kind}/{code}\tremoved"));
        }
        ReferenceCommand::List { .. } => {
            let text = found
                .policy
                .reference
                .iter()
                .flat_map(|(kind, entries)| {
                    entries.iter().map(move |e| {
                        let names: Vec<String> = e.names.iter().map(|(l, n)| format!("{l}={n}")).collect();
                        format!("{kind}/{}\t{}", e.code, names.join("\t"))
                    })
                })
                .collect::<Vec<_>>()
                .join("\n");
            print(cli.json, &serde_json::to_value(&found.policy.reference).unwrap_or_default(), text);
        }
    }
    Ok(())
}

/// `user …`: the back office's use cases, as an admin token of the tenant.
async fn user(cli: &Cli, store: Arc<DynamoStore>, command: &UserCommand) -> Result<(), Failure> {
    use shared::domain::credentials::lockout;
    use shared::domain::ids::UserId;
    use shared::domain::users::{self, Actor, Lookup, UserView};
    use shared::domain::values::{EmailAddress, Phone, Status, Username, parse_reason};
    let tenant_id = match command {
        UserCommand::Find { tenant, .. }
        | UserCommand::Show { tenant, .. }
        | UserCommand::Status { tenant, .. }
        | UserCommand::Unlock { tenant, .. }
        | UserCommand::RevokeSessions { tenant, .. }
        | UserCommand::Import { tenant, .. }
        | UserCommand::Export { tenant, .. } => tenant,
    };
    let tenant = tenant::get_tenant(store.as_ref(), tenant_id)
        .await?
        .ok_or_else(|| Failure(format!("no tenant {tenant_id}")))?;
    let app = operator_app(store).map_err(|e| Failure(e.to_string()))?;
    let actor = Actor::Admin { token_id: "cli".into() };
    let failed = |e: shared::domain::Error| match e {
        shared::domain::Error::UserNotFound => Failure("no such user in this tenant".into()),
        shared::domain::Error::InvalidStatusChange { from, allowed } => {
            Failure(format!("a {from} user can only move to: {}", allowed.join(", ")))
        }
        other => Failure(other.to_string()),
    };
    let id = |raw: &str| UserId::parse(raw).ok_or_else(|| Failure("no such user in this tenant".into()));
    let why = |raw: &str| parse_reason(raw).map_err(|code| Failure(format!("--reason: {code}")));
    let show = async |user: &shared::domain::user::User| -> Result<(), Failure> {
        let mut view = UserView::from(user);
        view.lockout = Some(lockout(&app, &user.id).await.map_err(failed)?);
        print(cli.json, &serde_json::to_value(&view).unwrap_or_default(), user_text(&view));
        Ok(())
    };
    match command {
        UserCommand::Import {
            file,
            firebase_signer_key,
            firebase_salt_separator,
            firebase_rounds,
            firebase_mem_cost,
            ..
        } => {
            let firebase = match (firebase_signer_key, firebase_salt_separator, firebase_rounds, firebase_mem_cost) {
                (Some(key), Some(separator), Some(rounds), Some(mem_cost)) => Some(
                    shared::domain::foreign_hash::FirebaseProject::parse(key, separator, *rounds, *mem_cost)
                        .map_err(|field| Failure(format!("--firebase-{}: invalid", field.replace('_', "-"))))?,
                ),
                _ => None,
            };
            let summary = import_file(&app, &tenant, &actor, file, firebase.as_ref()).await?;
            let text = format!(
                "imported {}, skipped {} (already there), failed {}",
                summary["imported"], summary["skipped"], summary["failed"]
            );
            print(cli.json, &summary, text);
        }
        UserCommand::Export { file, .. } => {
            let count = export_file(&app, &tenant, &actor, file).await?;
            print(cli.json, &json!({ "exported": count }), format!("exported {count} users to {}", file.display()));
        }
        UserCommand::Find { email, phone, username, .. } => {
            let by = match (email, phone, username) {
                (Some(email), ..) => {
                    Lookup::Email(EmailAddress::parse(email).map_err(|c| Failure(format!("--email: {c}")))?)
                }
                (None, Some(phone), _) => {
                    Lookup::Phone(Phone::parse(phone).map_err(|c| Failure(format!("--phone: {c}")))?)
                }
                (None, None, Some(name)) => {
                    Lookup::Username(Username::parse(name).map_err(|c| Failure(format!("--username: {c}")))?)
                }
                (None, None, None) => return Err(Failure("give --email, --phone or --username".into())),
            };
            let user = users::find_user(&app, &tenant, &actor, &by).await.map_err(failed)?;
            show(&user.ok_or_else(|| Failure("no user with that e-mail address, phone or username".into()))?).await?;
        }
        UserCommand::Show { user_id, .. } => {
            show(&users::get_user(&app, &tenant, &actor, &id(user_id)?).await.map_err(failed)?).await?;
        }
        UserCommand::Status { user_id, status, reason, .. } => {
            let to = Status::parse(status).ok_or_else(|| Failure(format!("unknown status {status}")))?;
            let id = id(user_id)?;
            let from = users::change_status(&app, &tenant, &actor, &id, to, &why(reason)?).await.map_err(failed)?;
            let out = json!({ "user_id": id, "status": to.as_str(), "previous_status": from.as_str() });
            print(cli.json, &out, format!("{id}\t{} -> {}", from.as_str(), to.as_str()));
        }
        UserCommand::Unlock { user_id, reason, .. } => {
            let id = id(user_id)?;
            let was = users::unlock(&app, &tenant, &actor, &id, &why(reason)?).await.map_err(failed)?;
            let out = json!({ "user_id": id, "previous": was });
            print(cli.json, &out, format!("{id}\tunlocked (failed_attempts was {})", was.failed_attempts));
        }
        UserCommand::RevokeSessions { user_id, reason, .. } => {
            let id = id(user_id)?;
            let revoked = users::revoke_sessions(&app, &tenant, &actor, &id, &why(reason)?).await.map_err(failed)?;
            let out = json!({ "user_id": id, "sessions_revoked": revoked });
            print(cli.json, &out, format!("{id}\t{revoked} sessions revoked"));
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
    (first_name, last_name): (&str, &str),
    password: &str,
    username: Option<&str>,
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
    let username = username
        .map(shared::domain::values::Username::parse)
        .transpose()
        .map_err(|code| Failure(format!("--username: {code}")))?;
    let new = NewUser {
        references: Default::default(),
        username,
        email,
        details: PersonalDetails {
            first_name: parse_name(first_name).map_err(|c| Failure(format!("--first-name: {c}")))?,
            last_name: parse_name(last_name).map_err(|c| Failure(format!("--last-name: {c}")))?,
            language: "en".into(),
            ..PersonalDetails::default()
        },
        phone: None,
        secret: Secret::Password(shared::domain::password::Password::new(password)),
        user_type: UserType::ServiceOwner,
        roles: Vec::new(),
        company_id: None,
        reset_required: false,
        nationality: None,
        address: None,
        attributes: serde_json::Map::new(),
        consent: Default::default(),
    };
    let app = operator_app(store).map_err(|e| Failure(e.to_string()))?;
    create_user(&app, &tenant, &Actor::Admin { token_id: "cli".into() }, new, None).await.map_err(|e| match e {
        shared::domain::Error::EmailTaken => Failure("that e-mail address already has an account".into()),
        shared::domain::Error::UsernameTaken => Failure("that username already has an account".into()),
        shared::domain::Error::Validation(errors) => {
            Failure(errors.iter().map(|e| format!("{}: {}", e.field, e.code)).collect::<Vec<_>>().join(", "))
        }
        other => Failure(other.to_string()),
    })
}

/// Users imported a call: the API's batch.
const IMPORT_BATCH: usize = shared::domain::users::IMPORT_BATCH;

/// Imports `file` in batches through the domain's import (the API's
/// reading of each user), progress on stderr; a user whose address is
/// already there is skipped (a second run resumes). The summary, with each
/// failure by line.
async fn import_file(
    app: &shared::app::App,
    tenant: &Tenant,
    actor: &shared::domain::users::Actor,
    file: &std::path::Path,
    firebase: Option<&shared::domain::foreign_hash::FirebaseProject>,
) -> Result<Value, Failure> {
    use shared::http::handlers::users::{import_result, read_import_user};
    use std::io::BufRead;
    let reader = std::fs::File::open(file).map_err(|e| Failure(format!("{}: {e}", file.display())))?;
    let now = app.clock.now();
    let cx = shared::http::body::Cx { today: now.date_naive(), now, code_length: tenant.policy.codes.length };
    let (mut imported, mut skipped, mut failures) = (0usize, 0usize, Vec::new());
    let mut lines = std::io::BufReader::new(reader).lines().enumerate().peekable();
    while lines.peek().is_some() {
        let mut numbers = Vec::new();
        let mut batch = Vec::new();
        for (index, line) in lines.by_ref().take(IMPORT_BATCH) {
            let line = line.map_err(|e| Failure(format!("{}: {e}", file.display())))?;
            if line.trim().is_empty() {
                continue;
            }
            numbers.push(index + 1);
            batch.push(match serde_json::from_str::<Value>(&line) {
                Ok(mut user) => {
                    // What an export adds for the record only.
                    if let Some(object) = user.as_object_mut() {
                        object.remove("exported");
                    }
                    read_import_user(user, &cx, "en", firebase)
                }
                Err(_) => Err(shared::domain::Error::field("", "malformed_body")),
            });
        }
        let results = shared::domain::users::import_users(app, tenant, actor, batch).await;
        for (line, result) in numbers.into_iter().zip(results) {
            match result {
                Ok(_) => imported += 1,
                Err(shared::domain::Error::EmailTaken) => {
                    skipped += 1;
                    eprintln!("line {line}: already there, skipped");
                }
                Err(err) => {
                    let refused = import_result(line, Err(err)).error;
                    let error = json!(refused.map(|e| json!({ "code": e.code, "field": e.field })));
                    eprintln!("line {line}: {error}");
                    failures.push(json!({ "line": line, "error": error }));
                }
            }
        }
        eprintln!("… {imported} imported, {skipped} skipped, {} failed", failures.len());
    }
    Ok(json!({ "imported": imported, "skipped": skipped, "failed": failures.len(), "failures": failures }))
}

/// Writes every user of the tenant but closed ones (created, active,
/// suspended, disabled: the status index, page by page) to `file`, one
/// import line each; the count.
async fn export_file(
    app: &shared::app::App,
    tenant: &Tenant,
    actor: &shared::domain::users::Actor,
    file: &std::path::Path,
) -> Result<usize, Failure> {
    use shared::domain::users::{Search, Status, search_users};
    use std::io::Write;
    let failed = |e: shared::domain::Error| Failure(e.to_string());
    let out = std::fs::File::create(file).map_err(|e| Failure(format!("{}: {e}", file.display())))?;
    let mut out = std::io::BufWriter::new(out);
    let mut count = 0;
    for status in [Status::Created, Status::Active, Status::Suspended, Status::Disabled] {
        let mut after: Option<shared::domain::paging::Cursor> = None;
        loop {
            let search = Search { status: Some(status), ..Search::default() };
            let page = search_users(app, tenant, actor, search, 200, after.as_ref()).await.map_err(failed)?;
            for view in &page.users {
                let Some((user, _)) = shared::domain::user::load_user(app, &view.user_id).await.map_err(failed)? else {
                    continue;
                };
                let line = shared::domain::users::export_line(&user);
                writeln!(out, "{line}").map_err(|e| Failure(format!("{}: {e}", file.display())))?;
                count += 1;
            }
            eprintln!("… {count} exported");
            match page.next {
                Some(next) => {
                    after = Some(shared::domain::paging::Cursor::parse(&next).map_err(|c| Failure(c.into()))?)
                }
                None => break,
            }
        }
    }
    out.flush().map_err(|e| Failure(format!("{}: {e}", file.display())))?;
    Ok(count)
}

/// An app around the table for the domain's use cases. The CLI signs no
/// tokens and sends no mail (password-only creation), so keys and pepper are
/// throwaway and messages go to a temporary outbox.
fn operator_app(store: Arc<DynamoStore>) -> Result<shared::app::App, KeyError> {
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let outbox =
        Arc::new(shared::adapters::outbox::Outbox::new(std::env::temp_dir().join("registrar-admin"), clock.clone()));
    let mut pepper = vec![0u8; 32];
    shared::ports::Random::fill(&OsRandom, &mut pepper);
    // A service owner created here passes the tenant's `pre_sign_up` hook
    // like any back-office creation, signed with the deployment's secret.
    let secret = std::env::var("REGISTRAR_WEBHOOK_SECRET")
        .ok()
        .map(|text| WebhookSecret::parse(&text).map_err(|e| KeyError(format!("REGISTRAR_WEBHOOK_SECRET: {e}"))))
        .transpose()?;
    let hooks = Arc::new(HookTransport::http(WebhookCaller::new(secret, clock.clone()).map_err(KeyError)?));
    Ok(shared::app::App {
        store,
        mailer: outbox.clone(),
        texter: outbox,
        clock,
        random: Arc::new(OsRandom),
        keys: Arc::new(shared::app::Keys::fixed(Arc::new(shared::domain::tokens::Keyring::empty()))),
        settings: shared::app::Settings {
            issuer: String::new(),
            audience: String::new(),
            code_key: Some(shared::app::Secret::new(pepper)),
            refresh_key: None,
            secure_cookies: true,
            api_key_cache_secs: 0,
            // It works on a deployment's table: never a fixed code.
            sandbox_codes: false,
        },
        api_keys: Default::default(),
        cors_origins: Default::default(),
        send_time: Default::default(),
        hooks,
        // Closing a user's account reads its identities; nothing calls a provider.
        providers: Arc::new(shared::adapters::provider_http::ProviderHttp::new(None).map_err(KeyError)?),
    })
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let verbose = cli.verbose;
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure(message)) if verbose => {
            eprintln!("registrar-admin: {message}");
            ExitCode::FAILURE
        }
        Err(Failure(message)) => {
            eprintln!("registrar-admin: {}", readable(&message));
            ExitCode::FAILURE
        }
    }
}

/// A failure as one readable line: the AWS SDK's errors (a line of a
/// thousand characters of internals) become what went wrong and what to
/// do; `--verbose` prints them whole.
fn readable(message: &str) -> String {
    let has = |words: &[&str]| words.iter().any(|w| message.contains(w));
    let hint = if has(&["IMDS", "CredentialsNotLoaded", "no credentials", "credentials provider"]) {
        "no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (any values for moto), or --profile"
    } else if has(&["signing region", "NoRegion", "no region"]) {
        "no AWS region: set AWS_REGION (e.g. eu-central-1), or --region"
    } else if has(&["ResourceNotFoundException"]) && has(&["secret", "Secret"]) {
        "no secrets for this stack yet; run `registrar-admin secrets create` (or check --stack)"
    } else if has(&["ResourceNotFoundException"]) {
        "the table does not exist; create it with `registrar-admin create-table`, or check --table and --endpoint"
    } else if has(&[
        "dispatch failure",
        "Connection refused",
        "connection refused",
        "timed out",
        "could not be reached",
    ]) {
        "the endpoint could not be reached: is it running (moto, or the network to AWS)? Check --endpoint"
    } else if has(&["AccessDenied", "UnrecognizedClient", "InvalidSignature", "security token"]) {
        "AWS refused the credentials or the permission; check the profile and its policy"
    } else {
        // Not an SDK dump: the message is already meant for people.
        let line = message.lines().next().unwrap_or_default();
        if line.chars().count() <= 300 && !message.contains('\n') {
            return line.to_owned();
        }
        let short: String = line.chars().take(200).collect();
        return format!("{short}… (the whole error: --verbose)");
    };
    format!("{hint} (the whole error: --verbose)")
}
