//! Configuration: one typed struct read from the environment once.
//! Every variable is listed in docs/operations.md ("Configuration").

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use crate::adapters::dynamodb::DynamoStore;
use crate::adapters::memory::MemoryStore;
use crate::adapters::outbox::Outbox;
use crate::adapters::secrets::{SecretKeys, SecretsManager};
use crate::adapters::ses::SesMailer;
use crate::adapters::sns::SnsTexter;
use crate::adapters::system::{OsRandom, SystemClock};
use crate::app::{App, Keys, Secret, Settings, derive_code_keys};
use crate::domain::tokens::Keyring;
use crate::ports::{Clock, Mailer, Random, Store, Texter};
use aws_config::SdkConfig;
use aws_sdk_secretsmanager::Client as SecretsClient;

/// Where users and registrations live.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StoreChoice {
    Memory,
    DynamoDb { table: String, endpoint: Option<String> },
}

/// How e-mail and SMS leave.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SenderChoice {
    Outbox,
    Aws,
}

/// Makes a function's SES mailer (from the SDK configuration and `Config`).
pub type MailerFactory = fn(&SdkConfig, &Config) -> Arc<dyn Mailer>;
/// Makes a function's SNS texter.
pub type TexterFactory = fn(&SdkConfig, &Config) -> Arc<dyn Texter>;

/// The AWS senders an app may build. A Lambda function passes only those its
/// endpoint needs, as constants, so a function that sends nothing links
/// neither SDK client; where one is missing and messages go to AWS, a send
/// fails (503) instead.
#[derive(Clone, Copy)]
pub struct Senders {
    pub mailer: Option<MailerFactory>,
    pub texter: Option<TexterFactory>,
}

impl Senders {
    /// Both (the local API, the operator CLI, tests).
    pub const ALL: Senders = Senders { mailer: Some(ses_mailer), texter: Some(sns_texter) };
    /// Neither (a function that sends no message: publish-events).
    pub const NONE: Senders = Senders { mailer: None, texter: None };
}

/// E-mail through SES v2 (the client is made at the first send).
pub fn ses_mailer(sdk: &SdkConfig, config: &Config) -> Arc<dyn Mailer> {
    Arc::new(SesMailer::lazy(sdk.clone(), config.email_from.clone()))
}

/// SMS through SNS (the client is made at the first send).
pub fn sns_texter(sdk: &SdkConfig, config: &Config) -> Arc<dyn Texter> {
    Arc::new(SnsTexter::lazy(sdk.clone(), config.sms_sender_id.clone()))
}

/// The sender of a function that sends nothing of its kind.
struct NoSender;

#[async_trait::async_trait]
impl Mailer for NoSender {
    async fn send_email(&self, _: &crate::ports::Email) -> Result<(), crate::ports::SendError> {
        Err(crate::ports::SendError("this function was built without an e-mail sender".into()))
    }
}

#[async_trait::async_trait]
impl Texter for NoSender {
    async fn send_sms(&self, _: &crate::ports::Sms) -> Result<(), crate::ports::SendError> {
        Err(crate::ports::SendError("this function was built without an SMS sender".into()))
    }
}

/// Everything read from the environment.
#[derive(Clone, Debug)]
pub struct Config {
    /// `REGISTRAR_ADDR` (local API), default `127.0.0.1:3000`; port 0 allowed.
    pub addr: SocketAddr,
    /// `REGISTRAR_API_KEY`: the local sandbox tenant's key (`sk_local` in memory, generated on DynamoDB, if unset).
    pub api_key: Option<String>,
    /// `REGISTRAR_ADMIN_TOKEN`: the local sandbox tenant's admin token
    /// (`adm_…`; generated if unset).
    pub admin_token: Option<String>,
    /// `REGISTRAR_TENANT_ID`: the local sandbox tenant's id, default `sandbox`.
    pub tenant_id: String,
    /// `REGISTRAR_PHONE_REQUIRED` for the local sandbox tenant, default true.
    pub phone_required: bool,
    /// `REGISTRAR_SANDBOX_CODE`: a fixed code for the local sandbox tenant.
    pub sandbox_code: Option<String>,
    /// `REGISTRAR_API_KEY_CACHE_SECS`, default 60: how long a warm instance
    /// trusts an API key (and its tenant's policy) it has checked; 0 = never.
    pub api_key_cache_secs: i64,
    /// `REGISTRAR_IP_LIMIT`: sets all three of the sandbox tenant's per-IP
    /// limits (sign-ups per hour, logins per 5 minutes, resets per hour) to
    /// one number, e.g. for a load test from one address.
    pub ip_limit: Option<u64>,
    /// `REGISTRAR_CORS_ORIGINS`: comma-separated origins (`scheme://host[:port]`)
    /// a browser app may call the sandbox tenant from, e.g.
    /// `http://localhost:5173`; none by default.
    pub cors_origins: Vec<String>,
    /// `REGISTRAR_SIGN_IN_METHODS`: comma-separated ways the sandbox tenant's
    /// users may start signing in (`password`, `email_code`, `sms_code`,
    /// `passkey`); default `password,passkey`.
    pub sign_in_methods: Option<Vec<crate::domain::policy::SignInMethod>>,
    /// `REGISTRAR_OAUTH_CLIENTS`: the sandbox tenant's OpenID Connect
    /// clients, a JSON list of `{client_id, redirect_uris, public}` (and
    /// optionally `post_logout_redirect_uris`, `name`, and a confidential
    /// client's `client_secret`, 32+ characters); none by default
    /// (docs/openid.md).
    pub oauth_clients: Vec<crate::domain::oauth::LocalClient>,
    /// `REGISTRAR_IDENTITY_PROVIDERS`: the sandbox tenant's identity
    /// providers, a JSON list of `{id, kind, issuer, client_id,
    /// client_secret, …}` (`policy.identity_providers`, the secret inline);
    /// none by default (docs/identity-providers.md).
    pub identity_providers: Vec<crate::domain::policy::IdentityProvider>,
    /// `REGISTRAR_HOOK_PRE_SIGN_UP_URL`, `REGISTRAR_HOOK_PRE_TOKEN_URL`,
    /// `REGISTRAR_HOOK_USER_MIGRATION_URL`: the
    /// sandbox tenant's blocking hooks (docs/hooks.md); none by default.
    pub hooks: crate::domain::policy::Hooks,
    /// `REGISTRAR_WEBHOOK_SECRET` (`whsec_…`): what hook calls and event
    /// deliveries are signed with; without it a configured hook fails (and
    /// follows `on_failure`) and events are not delivered.
    pub webhook_secret: Option<crate::adapters::webhook::WebhookSecret>,
    /// `REGISTRAR_WEBHOOK_KEY_SECRET`: the Secrets Manager secret (name or
    /// ARN) holding the webhook secret (`whsec_…`, or its base64 alone, as
    /// CloudFormation generates it); read at cold start by the functions that
    /// call hooks or deliver events. Deployed, the only source of it.
    pub webhook_key_secret: Option<String>,
    /// `REGISTRAR_EVENT_BUS`: the EventBridge bus (name or ARN) publish-events
    /// puts every event on.
    pub event_bus: Option<String>,
    /// `REGISTRAR_WEBHOOK_URL`: where the sandbox tenant's events are posted
    /// (its `policy.webhook`); none by default.
    pub webhook_url: Option<String>,
    /// `REGISTRAR_OUTBOX_DIR`, default `.local/outbox`.
    pub outbox_dir: PathBuf,
    /// `REGISTRAR_STORE` = `memory` (default locally) or `dynamodb` (default in
    /// Lambda); `REGISTRAR_TABLE` (default `registrar`);
    /// `REGISTRAR_DYNAMODB_ENDPOINT` (any endpoint URL, e.g. moto).
    pub store: StoreChoice,
    /// `REGISTRAR_SENDER` = `outbox` (default locally) or `aws` (SES + SNS,
    /// default in Lambda).
    pub sender: SenderChoice,
    /// `REGISTRAR_EMAIL_FROM`, the verified SES sender.
    pub email_from: String,
    /// `REGISTRAR_SMS_SENDER_ID`, optional SNS sender id.
    pub sms_sender_id: Option<String>,
    /// `REGISTRAR_ISSUER`, the tokens' `iss`; default `http://<bound addr>`
    /// locally, required in Lambda.
    pub issuer: Option<String>,
    /// `REGISTRAR_AUDIENCE`, the tokens' `aud`; default `registrar`.
    pub audience: String,
    /// `REGISTRAR_CODE_PEPPER`: the code secret (at least 32 characters) for
    /// local runs; generated per process when unset. Refused in Lambda, where
    /// it comes from Secrets Manager.
    pub code_pepper: Option<Secret>,
    /// `REGISTRAR_SIGNING_KEYS`: one or more PEM RSA private keys for local
    /// runs, the first signs; generated per process when unset. Refused in
    /// Lambda.
    pub signing_keys: Option<String>,
    /// `REGISTRAR_CODE_KEY_SECRET`: the Secrets Manager secret (name or ARN)
    /// holding the code secret, from which the code-hash and the
    /// refresh-successor keys are derived.
    pub code_key_secret: Option<String>,
    /// `REGISTRAR_SIGNING_KEYS_SECRET`: the secret holding the private
    /// signing keys (functions that issue tokens).
    pub signing_keys_secret: Option<String>,
    /// `REGISTRAR_PUBLIC_KEYS_SECRET`: the secret holding the public keys as
    /// a JWKS (functions that check tokens, and the JWKS).
    pub public_keys_secret: Option<String>,
    /// `REGISTRAR_SECURE_COOKIES`, default true.
    pub secure_cookies: bool,
    /// `REGISTRAR_LOG_FORMAT` = `json` (default in Lambda) or `text`.
    pub json_logs: bool,
    /// `REGISTRAR_DEV`: development mode for `cargo lambda watch`: a
    /// function may start without pepper, keys and issuer (it makes
    /// per-process ones) and seeds the sandbox tenant with
    /// `REGISTRAR_API_KEY`. Never set it in a deployment.
    pub dev: bool,
    /// Deployed (Lambda, not dev): keys and the code secret come from
    /// Secrets Manager only, never from the environment or generated.
    pub strict: bool,
}

/// A variable had a value that cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("configuration: {0}")]
pub struct ConfigError(pub String);

fn flag(name: &str, value: Option<String>, default: bool) -> Result<bool, ConfigError> {
    match value.as_deref().map(str::trim) {
        None | Some("") => Ok(default),
        Some("1" | "true" | "yes" | "on") => Ok(true),
        Some("0" | "false" | "no" | "off") => Ok(false),
        Some(other) => Err(ConfigError(format!("{name}={other} is not a boolean"))),
    }
}

impl Config {
    /// Reads the process environment. `in_lambda` picks the Lambda defaults
    /// (DynamoDB, SES/SNS, JSON logs, keys required).
    pub fn from_env(in_lambda: bool) -> Result<Self, ConfigError> {
        Self::from_lookup(in_lambda, |name| std::env::var(name).ok())
    }

    /// Reads from any lookup (tests pass a map instead of touching the
    /// process environment).
    pub fn from_lookup(in_lambda: bool, get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let var = |name: &str| get(name).filter(|v| !v.trim().is_empty());
        let addr: SocketAddr = var("REGISTRAR_ADDR")
            .unwrap_or_else(|| "127.0.0.1:3000".into())
            .parse()
            .map_err(|_| ConfigError("REGISTRAR_ADDR must be host:port, e.g. 127.0.0.1:3000".into()))?;
        let store = match var("REGISTRAR_STORE").as_deref() {
            Some("memory") => StoreChoice::Memory,
            Some("dynamodb") => StoreChoice::DynamoDb {
                table: var("REGISTRAR_TABLE").unwrap_or_else(|| "registrar".into()),
                endpoint: var("REGISTRAR_DYNAMODB_ENDPOINT"),
            },
            None if in_lambda => StoreChoice::DynamoDb {
                table: var("REGISTRAR_TABLE").unwrap_or_else(|| "registrar".into()),
                endpoint: var("REGISTRAR_DYNAMODB_ENDPOINT"),
            },
            None => StoreChoice::Memory,
            Some(other) => {
                return Err(ConfigError(format!("REGISTRAR_STORE={other}: use memory or dynamodb")));
            }
        };
        let sender = match var("REGISTRAR_SENDER").as_deref() {
            Some("outbox") => SenderChoice::Outbox,
            Some("aws") => SenderChoice::Aws,
            None if in_lambda => SenderChoice::Aws,
            None => SenderChoice::Outbox,
            Some(other) => {
                return Err(ConfigError(format!("REGISTRAR_SENDER={other}: use outbox or aws")));
            }
        };
        let dev = flag("REGISTRAR_DEV", var("REGISTRAR_DEV"), false)?;
        // AWS Lambda sets LAMBDA_TASK_ROOT for every runtime; `cargo lambda
        // watch` does not. Development mode would seed a tenant's policy and
        // generate keys at every cold start: never in a deployed function.
        if in_lambda && dev && var("LAMBDA_TASK_ROOT").is_some() {
            return Err(ConfigError(
                "REGISTRAR_DEV is for `cargo lambda watch` only; a deployed function refuses it".into(),
            ));
        }
        let strict = in_lambda && !dev;
        let code_pepper = var("REGISTRAR_CODE_PEPPER").map(|p| Secret::new(p.into_bytes()));
        if let Some(pepper) = &code_pepper
            && pepper.expose().len() < 32
        {
            return Err(ConfigError("REGISTRAR_CODE_PEPPER must be at least 32 characters".into()));
        }
        let signing_keys = var("REGISTRAR_SIGNING_KEYS");
        // Anyone allowed to read a function's configuration reads its
        // environment: deployed, secrets come from Secrets Manager only.
        for (name, set) in
            [("REGISTRAR_CODE_PEPPER", code_pepper.is_some()), ("REGISTRAR_SIGNING_KEYS", signing_keys.is_some())]
                .into_iter()
                .chain([("REGISTRAR_WEBHOOK_SECRET", var("REGISTRAR_WEBHOOK_SECRET").is_some())])
        {
            if strict && set {
                return Err(ConfigError(format!(
                    "{name} holds a secret in the environment; in Lambda secrets come from Secrets Manager \
                     (REGISTRAR_CODE_KEY_SECRET, REGISTRAR_SIGNING_KEYS_SECRET, REGISTRAR_PUBLIC_KEYS_SECRET, \
                     REGISTRAR_WEBHOOK_KEY_SECRET)"
                )));
            }
        }
        if strict && var("REGISTRAR_ISSUER").is_none() {
            return Err(ConfigError("REGISTRAR_ISSUER is required in Lambda".into()));
        }
        Ok(Self {
            addr,
            api_key: var("REGISTRAR_API_KEY"),
            admin_token: var("REGISTRAR_ADMIN_TOKEN"),
            tenant_id: var("REGISTRAR_TENANT_ID").unwrap_or_else(|| "sandbox".into()),
            phone_required: flag("REGISTRAR_PHONE_REQUIRED", var("REGISTRAR_PHONE_REQUIRED"), true)?,
            sandbox_code: var("REGISTRAR_SANDBOX_CODE"),
            api_key_cache_secs: match var("REGISTRAR_API_KEY_CACHE_SECS") {
                None => 60,
                Some(v) => v
                    .parse()
                    .ok()
                    .filter(|s: &i64| (0..=3600).contains(s))
                    .ok_or_else(|| ConfigError("REGISTRAR_API_KEY_CACHE_SECS must be 0 to 3600 (seconds)".into()))?,
            },
            ip_limit: var("REGISTRAR_IP_LIMIT")
                .map(|v| v.parse().map_err(|_| ConfigError("REGISTRAR_IP_LIMIT must be a whole number".into())))
                .transpose()?,
            hooks: crate::domain::policy::Hooks {
                pre_sign_up: var("REGISTRAR_HOOK_PRE_SIGN_UP_URL").map(crate::domain::policy::Hook::to),
                pre_token: var("REGISTRAR_HOOK_PRE_TOKEN_URL").map(crate::domain::policy::Hook::to),
                user_migration: var("REGISTRAR_HOOK_USER_MIGRATION_URL").map(crate::domain::policy::Hook::to),
            },
            webhook_url: var("REGISTRAR_WEBHOOK_URL"),
            oauth_clients: match var("REGISTRAR_OAUTH_CLIENTS") {
                None => Vec::new(),
                Some(text) => serde_json::from_str(&text).map_err(|e| {
                    ConfigError(format!(
                        "REGISTRAR_OAUTH_CLIENTS: {e}; expected a JSON list of {{client_id, redirect_uris, public}}"
                    ))
                })?,
            },
            identity_providers: match var("REGISTRAR_IDENTITY_PROVIDERS") {
                None => Vec::new(),
                Some(text) => serde_json::from_str(&text).map_err(|e| {
                    ConfigError(format!(
                        "REGISTRAR_IDENTITY_PROVIDERS: {e}; expected a JSON list of {{id, kind, issuer, client_id, client_secret}}"
                    ))
                })?,
            },
            webhook_key_secret: var("REGISTRAR_WEBHOOK_KEY_SECRET"),
            event_bus: var("REGISTRAR_EVENT_BUS"),
            webhook_secret: var("REGISTRAR_WEBHOOK_SECRET")
                .map(|text| {
                    crate::adapters::webhook::WebhookSecret::parse(&text)
                        .map_err(|e| ConfigError(format!("REGISTRAR_WEBHOOK_SECRET: {e}")))
                })
                .transpose()?,
            sign_in_methods: var("REGISTRAR_SIGN_IN_METHODS")
                .map(|list| {
                    let methods = list
                        .split(',')
                        .map(str::trim)
                        .filter(|m| !m.is_empty())
                        .map(|m| {
                            crate::domain::policy::SignInMethod::parse(m).ok_or_else(|| {
                                ConfigError(format!(
                                    "REGISTRAR_SIGN_IN_METHODS: {m} is not one of password, email_code, sms_code, \
                                     passkey"
                                ))
                            })
                        })
                        .collect::<Result<Vec<_>, _>>()?;
                    if methods.is_empty() {
                        return Err(ConfigError("REGISTRAR_SIGN_IN_METHODS names no method".into()));
                    }
                    Ok(methods)
                })
                .transpose()?,
            cors_origins: match var("REGISTRAR_CORS_ORIGINS") {
                None => Vec::new(),
                Some(list) => list
                    .split(',')
                    .map(str::trim)
                    .filter(|o| !o.is_empty())
                    .map(|o| {
                        crate::domain::tenant::parse_origin(o).ok_or_else(|| {
                            ConfigError(format!(
                                "REGISTRAR_CORS_ORIGINS: {o} is not an origin (scheme://host[:port], no path)"
                            ))
                        })
                    })
                    .collect::<Result<_, _>>()?,
            },
            outbox_dir: var("REGISTRAR_OUTBOX_DIR").unwrap_or_else(|| ".local/outbox".into()).into(),
            store,
            sender,
            email_from: var("REGISTRAR_EMAIL_FROM").unwrap_or_else(|| "no-reply@registrar.local".into()),
            sms_sender_id: var("REGISTRAR_SMS_SENDER_ID"),
            issuer: var("REGISTRAR_ISSUER"),
            audience: var("REGISTRAR_AUDIENCE").unwrap_or_else(|| "registrar".into()),
            code_pepper,
            signing_keys,
            code_key_secret: var("REGISTRAR_CODE_KEY_SECRET"),
            signing_keys_secret: var("REGISTRAR_SIGNING_KEYS_SECRET"),
            public_keys_secret: var("REGISTRAR_PUBLIC_KEYS_SECRET"),
            dev,
            strict,
            secure_cookies: flag("REGISTRAR_SECURE_COOKIES", var("REGISTRAR_SECURE_COOKIES"), true)?,
            json_logs: match var("REGISTRAR_LOG_FORMAT").as_deref() {
                Some("json") => true,
                Some("text") => false,
                None => in_lambda,
                Some(other) => {
                    return Err(ConfigError(format!("REGISTRAR_LOG_FORMAT={other}: use json or text")));
                }
            },
        })
    }

    /// Builds the app: SDK clients from one `SdkConfig` (the environment's
    /// credentials and region), keys, pepper, on the system clock.
    pub async fn build_app(&self) -> Result<App, ConfigError> {
        self.build_app_with(Senders::ALL).await
    }

    /// Builds the app with only the given AWS senders (a Lambda function).
    pub async fn build_app_with(&self, senders: Senders) -> Result<App, ConfigError> {
        let sdk = self.sdk_config().await;
        self.build_app_for(sdk.as_ref(), Arc::new(SystemClock), senders).await
    }

    /// The SDK configuration of this process, when it talks to AWS: a
    /// deployed function's from Lambda's environment, else aws-config's.
    pub async fn sdk_config(&self) -> Option<SdkConfig> {
        if !self.needs_aws() {
            None
        } else if let Some(sdk) = self.strict.then(lambda_sdk_config).flatten() {
            Some(sdk)
        } else {
            Some(aws_config::defaults(aws_config::BehaviorVersion::latest()).load().await)
        }
    }

    /// Whether the app talks to AWS (DynamoDB, SES/SNS, Secrets Manager).
    pub fn needs_aws(&self) -> bool {
        matches!(self.store, StoreChoice::DynamoDb { .. }) || self.sender == SenderChoice::Aws || self.uses_secrets()
    }

    fn uses_secrets(&self) -> bool {
        self.code_key_secret.is_some()
            || self.signing_keys_secret.is_some()
            || self.public_keys_secret.is_some()
            || self.webhook_key_secret.is_some()
    }

    /// Builds the app on the given AWS configuration and clock (a test gives
    /// a function's own credentials, as Lambda does through its role).
    pub async fn build_app_on(&self, sdk: Option<&SdkConfig>, clock: Arc<dyn Clock>) -> Result<App, ConfigError> {
        self.build_app_for(sdk, clock, Senders::ALL).await
    }

    /// Like [`Config::build_app_on`], with only the given AWS senders.
    pub async fn build_app_for(
        &self,
        sdk: Option<&SdkConfig>,
        clock: Arc<dyn Clock>,
        senders: Senders,
    ) -> Result<App, ConfigError> {
        let random: Arc<dyn Random> = Arc::new(OsRandom);
        if self.needs_aws() && sdk.is_none() {
            return Err(ConfigError("an AWS configuration is needed for DynamoDB, SES or SNS".into()));
        }
        let store: Arc<dyn Store> = match (&self.store, sdk) {
            (StoreChoice::DynamoDb { table, endpoint }, Some(sdk)) => {
                let mut builder = aws_sdk_dynamodb::config::Builder::from(sdk);
                if let Some(url) = endpoint {
                    builder = builder.endpoint_url(url);
                }
                let client = aws_sdk_dynamodb::Client::from_conf(builder.build());
                Arc::new(DynamoStore::new(client, table.clone(), clock.clone()))
            }
            _ => Arc::new(MemoryStore::new(clock.clone())),
        };
        let (mailer, texter): (Arc<dyn Mailer>, Arc<dyn Texter>) = match (&self.sender, sdk) {
            (SenderChoice::Aws, Some(sdk)) => (
                senders.mailer.map_or_else(|| Arc::new(NoSender) as Arc<dyn Mailer>, |make| make(sdk, self)),
                senders.texter.map_or_else(|| Arc::new(NoSender) as Arc<dyn Texter>, |make| make(sdk, self)),
            ),
            _ => {
                let outbox = Arc::new(Outbox::new(self.outbox_dir.clone(), clock.clone()));
                (outbox.clone(), outbox)
            }
        };
        // A reload runs inside a request: a slow Secrets Manager must not eat
        // the function's time (the keys in hand stay when it gives up).
        let secrets = sdk.filter(|_| self.uses_secrets()).map(|sdk| {
            let timeouts = aws_config::timeout::TimeoutConfig::builder()
                .operation_timeout(std::time::Duration::from_secs(3))
                .build();
            let config = aws_sdk_secretsmanager::config::Builder::from(sdk).timeout_config(timeouts).build();
            SecretsManager::new(SecretsClient::from_conf(config))
        });
        // The private keys when given (they verify too), else the public ones.
        let key_secret = (self.signing_keys_secret.as_ref().map(|id| (id, true)))
            .or_else(|| self.public_keys_secret.as_ref().map(|id| (id, false)));
        let code_key_secret = self.code_key_secret.as_ref().filter(|_| self.code_pepper.is_none());
        let webhook_key_secret = self.webhook_key_secret.as_ref().filter(|_| self.webhook_secret.is_none());
        // What this function reads from Secrets Manager as it starts, in one
        // round trip: its keys, its code secret, then its webhook secret.
        let (mut key_text, mut code_text, mut webhook_text) = (None, None, None);
        if let Some(secrets) = &secrets {
            let ids: Vec<&str> = (key_secret.map(|(id, _)| id.as_str()).into_iter())
                .chain(code_key_secret.map(String::as_str))
                .chain(webhook_key_secret.map(String::as_str))
                .collect();
            if !ids.is_empty() {
                let mut texts = secrets.read_all(&ids).await.map_err(|e| {
                    let what = match () {
                        _ if key_secret.is_some_and(|(id, _)| *id == e.id) => "signing keys",
                        _ if code_key_secret.is_some_and(|id| *id == e.id) => "code key",
                        _ if webhook_key_secret.is_some_and(|id| *id == e.id) => "webhook secret",
                        _ => "secrets",
                    };
                    ConfigError(format!("{what}: {e}"))
                })?;
                webhook_text = webhook_key_secret.and_then(|_| texts.pop());
                code_text = code_key_secret.and_then(|_| texts.pop());
                key_text = key_secret.and_then(|_| texts.pop());
            }
        }
        let webhook_secret = match (webhook_key_secret, webhook_text) {
            (Some(id), Some(text)) => Some(
                crate::adapters::webhook::WebhookSecret::parse(&text)
                    .map_err(|e| ConfigError(format!("webhook secret: secret {id}: {e}")))?,
            ),
            _ => self.webhook_secret.clone(),
        };
        let keys = match (key_secret, &secrets, key_text) {
            (Some((id, private)), Some(secrets), Some(text)) => {
                let source = Arc::new(SecretKeys { secrets: secrets.clone(), id: id.clone(), private });
                let ring = source.parse(&text).map_err(|e| ConfigError(format!("signing keys: {e}")))?;
                Keys::reloading(ring, source, clock.now().timestamp())
            }
            _ => Keys::fixed(Arc::new(match &self.signing_keys {
                Some(pems) => Keyring::from_pems(&split_pems(pems)).map_err(|e| ConfigError(e.to_string()))?,
                // A deployed function given no keys neither signs nor checks tokens.
                None if self.strict => Keyring::empty(),
                None => Keyring::generate().map_err(|e| ConfigError(e.to_string()))?,
            })),
        };
        let code_secret = match (&self.code_pepper, code_key_secret, code_text) {
            (Some(pepper), _, _) => Some(pepper.clone()),
            (None, Some(id), Some(text)) => {
                if text.len() < 32 {
                    return Err(ConfigError(format!("code key: secret {id} holds fewer than 32 characters")));
                }
                Some(Secret::new(text.into_bytes()))
            }
            _ if self.strict => None,
            _ => {
                let mut bytes = vec![0u8; 32];
                random.fill(&mut bytes);
                Some(Secret::new(bytes))
            }
        };
        let (code_key, refresh_key) = code_secret.map(|s| derive_code_keys(s.expose())).unzip();
        // The Lambda client of hooks by ARN is made at the first such call.
        let hooks = Arc::new(crate::adapters::hook_transport::HookTransport {
            http: crate::adapters::webhook::WebhookCaller::new(webhook_secret, clock.clone()).map_err(ConfigError)?,
            lambda: crate::adapters::lambda_hook::LambdaHookCaller::lazy(sdk.cloned()),
        });
        let providers = Arc::new(crate::adapters::provider_http::ProviderHttp::new(sdk.cloned()).map_err(ConfigError)?);
        Ok(App {
            store,
            mailer,
            texter,
            clock,
            random,
            keys: Arc::new(keys),
            settings: Settings {
                issuer: self.issuer.clone().unwrap_or_else(|| format!("http://{}", self.addr)),
                audience: self.audience.clone(),
                code_key,
                refresh_key,
                secure_cookies: self.secure_cookies,
                api_key_cache_secs: self.api_key_cache_secs,
                sandbox_codes: matches!(self.sender, SenderChoice::Outbox),
            },
            api_keys: Default::default(),
            cors_origins: Default::default(),
            send_time: Default::default(),
            hooks,
            providers,
        })
    }
}

/// Splits concatenated PEM blocks.
pub fn split_pems(text: &str) -> Vec<&str> {
    let mut blocks = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("-----BEGIN ") {
        let after = &rest[start..];
        let Some(end_marker) = after.find("-----END ") else {
            break;
        };
        let tail = &after[end_marker..];
        let end = tail[9..].find("-----").map_or(tail.len(), |i| i + 9 + 5);
        blocks.push(&after[..end_marker + end]);
        rest = &after[end_marker + end..];
    }
    blocks
}

/// The SDK configuration of a deployed function, from what Lambda puts in
/// its environment: the region and the role's credentials. aws-config's
/// provider chain would find the same credentials first, but its loading
/// costs a cold start about 4 ms (profile files, an HTTPS client of its
/// own). Endpoint overrides follow the SDK's variables (`AWS_ENDPOINT_URL`,
/// `AWS_ENDPOINT_URL_<SERVICE>`). `None` without credentials in the
/// environment, or when it sets any other SDK setting ([`SDK_SETTINGS`]):
/// the caller then takes the whole chain, which honours them.
pub fn lambda_sdk_config() -> Option<SdkConfig> {
    lambda_sdk_config_from(|name| std::env::var(name).ok())
}

/// [`lambda_sdk_config`] from the variables `get` returns.
pub fn lambda_sdk_config_from(get: impl Fn(&str) -> Option<String> + Send + Sync + 'static) -> Option<SdkConfig> {
    let var = |name: &str| get(name).filter(|value| !value.is_empty());
    if SDK_SETTINGS.iter().any(|name| var(name).is_some()) {
        return None;
    }
    let region = var("AWS_REGION").or_else(|| var("AWS_DEFAULT_REGION"))?;
    let credentials = aws_credential_types::Credentials::new(
        var("AWS_ACCESS_KEY_ID")?,
        var("AWS_SECRET_ACCESS_KEY")?,
        var("AWS_SESSION_TOKEN"),
        None,
        "lambda-environment",
    );
    Some(
        SdkConfig::builder()
            .behavior_version(aws_config::BehaviorVersion::latest())
            .region(aws_types::region::Region::new(region))
            .credentials_provider(aws_credential_types::provider::SharedCredentialsProvider::new(credentials))
            .service_config(EnvEndpoints(Arc::new(get)))
            .build(),
    )
}

/// The SDK's variables aws-config reads beyond the region, the credentials
/// and the endpoints: one of them set means an operator asked for it.
pub const SDK_SETTINGS: [&str; 14] = [
    "AWS_USE_FIPS_ENDPOINT",
    "AWS_USE_DUALSTACK_ENDPOINT",
    "AWS_MAX_ATTEMPTS",
    "AWS_RETRY_MODE",
    "AWS_NEW_RETRIES_2026",
    "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
    "AWS_SDK_UA_APP_ID",
    "AWS_ACCOUNT_ID_ENDPOINT_MODE",
    "AWS_REQUEST_CHECKSUM_CALCULATION",
    "AWS_RESPONSE_CHECKSUM_VALIDATION",
    "AWS_PROFILE",
    "AWS_CONFIG_FILE",
    "AWS_SHARED_CREDENTIALS_FILE",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
];

/// `AWS_ENDPOINT_URL_<SERVICE>`, else `AWS_ENDPOINT_URL`, as aws-config
/// reads them (service id upper case, spaces as `_`).
struct EnvEndpoints(Arc<EnvLookup>);

/// Reads one environment variable.
type EnvLookup = dyn Fn(&str) -> Option<String> + Send + Sync;

impl std::fmt::Debug for EnvEndpoints {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("EnvEndpoints")
    }
}

impl aws_types::service_config::LoadServiceConfig for EnvEndpoints {
    fn load_config(&self, key: aws_types::service_config::ServiceConfigKey<'_>) -> Option<String> {
        let service = key.service_id().to_uppercase().replace(' ', "_");
        (self.0)(&format!("{}_{service}", key.env())).or_else(|| (self.0)(key.env())).filter(|v| !v.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config(vars: &[(&str, &str)], lambda: bool) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = vars.iter().map(|(k, v)| ((*k).into(), (*v).into())).collect();
        Config::from_lookup(lambda, |k| map.get(k).cloned())
    }

    #[test]
    fn a_deployed_function_refuses_development_mode() {
        let deployed =
            [("REGISTRAR_DEV", "true"), ("LAMBDA_TASK_ROOT", "/var/task"), ("REGISTRAR_ISSUER", "https://x")];
        let Err(refused) = config(&deployed, true) else { panic!("REGISTRAR_DEV accepted in Lambda") };
        assert!(refused.0.contains("REGISTRAR_DEV"), "{refused}");
        // `cargo lambda watch` (no LAMBDA_TASK_ROOT) and local runs keep it.
        assert!(config(&deployed[..1], true).unwrap().dev);
        assert!(!config(&deployed[1..], true).unwrap().dev);
    }

    #[test]
    fn local_defaults() {
        let c = config(&[], false).unwrap();
        assert_eq!(c.addr.to_string(), "127.0.0.1:3000");
        assert_eq!(c.store, StoreChoice::Memory);
        assert_eq!(c.sender, SenderChoice::Outbox);
        assert!(c.phone_required);
        assert_eq!(c.outbox_dir, PathBuf::from(".local/outbox"));
    }

    #[test]
    fn switches_and_errors() {
        let c =
            config(&[("REGISTRAR_STORE", "dynamodb"), ("REGISTRAR_DYNAMODB_ENDPOINT", "http://127.0.0.1:5000")], false)
                .unwrap();
        assert_eq!(
            c.store,
            StoreChoice::DynamoDb { table: "registrar".into(), endpoint: Some("http://127.0.0.1:5000".into()) }
        );
        assert!(config(&[("REGISTRAR_STORE", "postgres")], false).is_err());
        assert!(config(&[("REGISTRAR_ADDR", "nope")], false).is_err());
        assert!(config(&[("REGISTRAR_PHONE_REQUIRED", "maybe")], false).is_err());
        assert!(config(&[("REGISTRAR_IP_LIMIT", "lots")], false).is_err());
        let origins = config(&[("REGISTRAR_CORS_ORIGINS", "http://localhost:5173, https://app.example.com")], false);
        assert_eq!(origins.unwrap().cors_origins, ["http://localhost:5173", "https://app.example.com"]);
        assert!(config(&[("REGISTRAR_CORS_ORIGINS", "https://app.example.com/path")], false).is_err());
        assert!(config(&[("REGISTRAR_CORS_ORIGINS", "app.example.com")], false).is_err());
        let methods = config(&[("REGISTRAR_SIGN_IN_METHODS", "email_code, passkey")], false).unwrap();
        let tenant = crate::local::sandbox_tenant(&methods, 3000);
        use crate::domain::policy::SignInMethod;
        assert_eq!(tenant.policy.sign_in_methods, [SignInMethod::EmailCode, SignInMethod::Passkey]);
        assert_eq!(crate::local::sandbox_tenant(&config(&[], false).unwrap(), 3000).policy.sign_in_methods.len(), 2);
        assert!(config(&[("REGISTRAR_SIGN_IN_METHODS", "magic_link")], false).is_err());
        assert!(config(&[("REGISTRAR_SIGN_IN_METHODS", " , ")], false).is_err());
        assert_eq!(config(&[], false).unwrap().api_key_cache_secs, 60);
        assert_eq!(config(&[("REGISTRAR_API_KEY_CACHE_SECS", "0")], false).unwrap().api_key_cache_secs, 0);
        assert!(config(&[("REGISTRAR_API_KEY_CACHE_SECS", "-1")], false).is_err());
        let raised = crate::local::sandbox_tenant(&config(&[("REGISTRAR_IP_LIMIT", "100000")], false).unwrap(), 3000);
        assert_eq!(raised.policy.ip_limits.logins_per_5_min, 100_000);
        assert_eq!(raised.policy.ip_limits.signups_per_hour, 100_000);
        assert_eq!(
            crate::local::sandbox_tenant(&config(&[], false).unwrap(), 3000).policy.ip_limits,
            Default::default()
        );
        assert!(config(&[], true).is_err(), "Lambda needs an issuer");
        let issuer = ("REGISTRAR_ISSUER", "https://id.example");
        assert!(config(&[issuer], true).is_ok(), "secrets are each function's own");
        let webhook = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        assert!(config(&[issuer, ("REGISTRAR_WEBHOOK_SECRET", webhook)], false).is_ok(), "a local run takes it");
        for (secret, value) in [
            ("REGISTRAR_CODE_PEPPER", "a secret of at least thirty-two characters"),
            ("REGISTRAR_SIGNING_KEYS", "a secret of at least thirty-two characters"),
            ("REGISTRAR_WEBHOOK_SECRET", webhook),
        ] {
            let refused = config(&[issuer, (secret, value)], true);
            assert!(refused.unwrap_err().0.contains("Secrets Manager"), "{secret} in Lambda's environment");
        }
        assert!(config(&[("REGISTRAR_CODE_PEPPER", "short")], false).is_err());
    }

    #[test]
    fn pem_blocks_split() {
        let text = "-----BEGIN A-----\nx\n-----END A-----\n-----BEGIN B-----\ny\n-----END B-----\n";
        assert_eq!(
            split_pems(text),
            ["-----BEGIN A-----\nx\n-----END A-----", "-----BEGIN B-----\ny\n-----END B-----"]
        );
    }
}
