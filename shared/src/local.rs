//! The local API (`cargo run`): every route on one server, the in-memory
//! store (or DynamoDB), the outbox, and a sandbox tenant with its API key.

use std::sync::Arc;

use crate::app::App;
use crate::config::{Config, StoreChoice};
use crate::domain::tenant::{ApiKeyGrant, IpLimits, Policy, Tenant, save_api_key, save_tenant};
use crate::ports::StoreError;

/// The sandbox tenant of a local run, from the configuration. Its passkeys'
/// relying party is `localhost` (browsers treat it as a secure context over
/// plain HTTP): pages on the local API's port, and any `localhost` origin of
/// `REGISTRAR_CORS_ORIGINS` (a front end's dev server). `port` is the port
/// the server is bound to (with `REGISTRAR_ADDR=…:0`, not the configured one).
pub fn sandbox_tenant(config: &Config, port: u16) -> Tenant {
    let mut origins = vec![format!("http://localhost:{port}")];
    origins.extend(
        config
            .cors_origins
            .iter()
            .filter(|o| o.starts_with("http://localhost:") || o.starts_with("https://localhost"))
            .cloned(),
    );
    Tenant {
        id: config.tenant_id.clone(),
        name: "Local sandbox".into(),
        policy: Policy {
            phone_required: config.phone_required,
            sandbox_code: config.sandbox_code.clone(),
            cors_origins: config.cors_origins.clone(),
            ip_limits: config.ip_limit.map_or_else(IpLimits::default, |n| IpLimits {
                signups_per_hour: n,
                logins_per_5_min: n,
                resets_per_hour: n,
            }),
            passkeys: crate::domain::policy::PasskeyPolicy { rp_id: Some("localhost".into()), origins },
            sign_in_methods: config.sign_in_methods.clone().unwrap_or_else(|| Policy::default().sign_in_methods),
            hooks: config.hooks.clone(),
            webhook: config.webhook_url.clone().map(|url| crate::domain::policy::EventWebhook { url }),
            identity_providers: config.identity_providers.clone(),
            ..Policy::default()
        },
    }
}

/// Stores `tenant` and `api_key` in the app's store.
pub async fn seed_tenant(app: &App, tenant: &Tenant, api_key: &str) -> Result<(), StoreError> {
    save_tenant(app.store.as_ref(), tenant).await?;
    let grant = ApiKeyGrant { tenant_id: tenant.id.clone(), partner_id: None, revoked: false };
    save_api_key(app.store.as_ref(), api_key, &grant).await
}

/// Registers the sandbox tenant's OpenID Connect clients
/// (`REGISTRAR_OAUTH_CLIENTS`), replacing earlier ones of the same ids.
pub async fn seed_clients(app: &App, tenant: &Tenant, config: &Config) -> Result<(), Box<dyn std::error::Error>> {
    let now = app.clock.now();
    crate::domain::oauth::clients::seed_local(app.store.as_ref(), &tenant.id, now, &config.oauth_clients).await?;
    Ok(())
}

/// Stores the sandbox tenant's admin token (`token`, or a new one); returns it.
pub async fn seed_admin_token(app: &App, tenant: &Tenant, token: Option<&str>) -> Result<String, StoreError> {
    let now = app.clock.now();
    match token {
        Some(token) => {
            crate::domain::tenant::issue_admin_token_value(app.store.as_ref(), now, &tenant.id, 1, "local", token)
                .await?;
            Ok(token.to_owned())
        }
        None => {
            let (_, token) =
                crate::domain::tenant::issue_admin_token(app.store.as_ref(), app.random.as_ref(), now, &tenant.id, 1)
                    .await?;
            Ok(token)
        }
    }
}

/// The in-memory sandbox tenant's API key when `REGISTRAR_API_KEY` is unset.
pub const LOCAL_API_KEY: &str = "sk_local";

/// Runs the local API until Ctrl-C.
pub async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let config = Config::from_env(false)?;
    crate::logs::init(config.json_logs);
    if let StoreChoice::DynamoDb { table, endpoint } = &config.store {
        // Local convenience only (a deployed stack gets its table from SAM),
        // and before the app starts, so nothing it does at start can find
        // the table missing.
        let store = crate::adapters::dynamodb::DynamoStore::new(
            dynamo_client(endpoint.as_deref()).await,
            table.clone(),
            Arc::new(crate::adapters::system::SystemClock),
        );
        store.create_table().await?;
    }
    // Events go from the committed transactions to the in-process
    // dispatcher (deployed: the table's stream to `publish-events`).
    let mut app = crate::adapters::event_feed::with_dispatcher(config.build_app().await?, Default::default());
    let listener = tokio::net::TcpListener::bind(config.addr).await?;
    let addr = listener.local_addr()?;
    if config.issuer.is_none() {
        app.settings.issuer = format!("http://{addr}");
    }
    // The in-memory sandbox's key is `sk_local` unless set, so the README's
    // curl steps work against a plain `cargo run`; a sandbox on a DynamoDB
    // table (which outlives the process) gets a generated one.
    let default_key = match &config.store {
        StoreChoice::Memory => None,
        StoreChoice::DynamoDb { .. } => Some(format!("sk_sandbox_{}", app.random_token(24))),
    };
    let api_key_source = match (&config.api_key, &default_key) {
        (Some(_), _) => "from REGISTRAR_API_KEY",
        (None, Some(_)) => "generated; set REGISTRAR_API_KEY to fix it",
        (None, None) => "the in-memory sandbox's default; set REGISTRAR_API_KEY to choose another",
    };
    let api_key = config.api_key.clone().or(default_key).unwrap_or_else(|| LOCAL_API_KEY.to_owned());
    let tenant = sandbox_tenant(&config, addr.port());
    let problems: Vec<String> = tenant.policy.identity_providers.iter().flat_map(|p| p.problems()).collect();
    if !problems.is_empty() {
        return Err(format!("REGISTRAR_IDENTITY_PROVIDERS: {}", problems.join("; ")).into());
    }
    seed_tenant(&app, &tenant, &api_key).await?;
    seed_clients(&app, &tenant, &config).await?;
    let admin_generated = config.admin_token.is_none();
    let admin_token = seed_admin_token(&app, &tenant, config.admin_token.as_deref()).await?;
    let server = tokio::spawn(crate::http::server::serve(Arc::new(app), listener));
    println!("Registrar listening on http://{addr}");
    println!("Sandbox tenant: {} (phone required: {})", tenant.id, tenant.policy.phone_required);
    match &config.store {
        StoreChoice::Memory => println!("Store: in memory (everything is gone when this process ends)"),
        StoreChoice::DynamoDb { table, endpoint } => {
            println!("Store: DynamoDB table {table} at {}", endpoint.as_deref().unwrap_or("the SDK's default endpoint"))
        }
    }
    if config.api_key.is_some() {
        // A key the caller chose is not echoed into logs.
        println!("API key: {api_key_source}");
    } else {
        println!("API key: {api_key} ({api_key_source})");
    }
    if admin_generated {
        println!("Admin token (generated; set REGISTRAR_ADMIN_TOKEN to fix it): {admin_token}");
    } else {
        println!("Admin token: from REGISTRAR_ADMIN_TOKEN");
    }
    for client in &config.oauth_clients {
        let kind = if client.public { "public" } else { "confidential" };
        println!("OpenID Connect client: {} ({kind}; REGISTRAR_OAUTH_CLIENTS)", client.client_id);
    }
    for provider in &tenant.policy.identity_providers {
        println!("Identity provider: {} ({}; REGISTRAR_IDENTITY_PROVIDERS)", provider.id, provider.issuer());
    }
    println!("Outbox (codes and notices, one JSON file each): {}", config.outbox_dir.display());
    match &config.webhook_url {
        Some(url) => println!("Events: posted to {url} (REGISTRAR_WEBHOOK_URL)"),
        None => println!("Events: kept in the table only; set REGISTRAR_WEBHOOK_URL to receive them"),
    }
    println!("Demo page (sign-in, second factors, passkeys): http://localhost:{}/demo/", addr.port());
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = server => {}
    }
    Ok(())
}

async fn dynamo_client(endpoint: Option<&str>) -> aws_sdk_dynamodb::Client {
    let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest()).load().await;
    let mut builder = aws_sdk_dynamodb::config::Builder::from(&sdk);
    if let Some(url) = endpoint {
        builder = builder.endpoint_url(url);
    }
    aws_sdk_dynamodb::Client::from_conf(builder.build())
}
