//! Registrar's calls to other identity providers (`ports::ProviderClient`):
//! HTTPS by rustls on aws-lc-rs with the system's roots (plain HTTP only
//! where a provider's issuer is a loopback address, which the policy
//! allows for local runs and tests), each call bounded in time and size;
//! and the client secrets, from Secrets Manager, read once per warm
//! instance (the client is made at the first read).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

use super::secrets::SecretsManager;
use crate::ports::{ProviderClient, ProviderError};

/// The longest a provider may take to answer one call.
const CALL_TIMEOUT: Duration = Duration::from_secs(5);
/// The largest answer read from a provider (a JWKS, a discovery document).
const MAX_ANSWER_BYTES: usize = 256 * 1024;

/// Calls providers over HTTP(S); reads secrets from Secrets Manager.
pub struct ProviderHttp {
    client: Client<hyper_rustls::HttpsConnector<HttpConnector>, Full<Bytes>>,
    sdk: Option<aws_config::SdkConfig>,
    secrets: tokio::sync::OnceCell<SecretsManager>,
    /// Secrets read, by name: one read per warm instance.
    read: Mutex<HashMap<String, String>>,
}

impl ProviderHttp {
    /// A client whose Secrets Manager client comes from `sdk` (the default
    /// chain's configuration when `None`), made at the first secret read.
    pub fn new(sdk: Option<aws_config::SdkConfig>) -> Result<Self, String> {
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_provider_and_native_roots(provider)
            .map_err(|e| format!("TLS roots: {e}"))?
            .https_or_http()
            .enable_http1()
            .build();
        Ok(Self {
            client: Client::builder(TokioExecutor::new()).build(https),
            sdk,
            secrets: tokio::sync::OnceCell::new(),
            read: Mutex::new(HashMap::new()),
        })
    }

    async fn send(&self, request: http::Request<Full<Bytes>>) -> Result<(u16, Bytes), ProviderError> {
        let call = async {
            let response = self.client.request(request).await.map_err(|e| ProviderError(format!("call: {e}")))?;
            let status = response.status().as_u16();
            let body = Limited::new(response.into_body(), MAX_ANSWER_BYTES)
                .collect()
                .await
                .map_err(|e| ProviderError(format!("answer: {e}")))?
                .to_bytes();
            Ok((status, body))
        };
        match tokio::time::timeout(CALL_TIMEOUT, call).await {
            Ok(answer) => answer,
            Err(_) => Err(ProviderError(format!("no answer within {} s", CALL_TIMEOUT.as_secs()))),
        }
    }
}

/// `application/x-www-form-urlencoded` of `pairs`.
fn form_encode(pairs: &[(&str, &str)]) -> String {
    let mut form = form_urlencoded::Serializer::new(String::new());
    for (name, value) in pairs {
        form.append_pair(name, value);
    }
    form.finish()
}

#[async_trait]
impl ProviderClient for ProviderHttp {
    async fn get_json(&self, url: &str) -> Result<serde_json::Value, ProviderError> {
        let request = http::Request::get(url)
            .header(http::header::ACCEPT, "application/json")
            .header(http::header::USER_AGENT, "Registrar")
            .body(Full::new(Bytes::new()))
            .map_err(|e| ProviderError(format!("request: {e}")))?;
        let (status, body) = self.send(request).await?;
        if !(200..300).contains(&status) {
            return Err(ProviderError(format!("{url} answered {status}")));
        }
        serde_json::from_slice(&body).map_err(|_| ProviderError(format!("{url} answered something that is not JSON")))
    }

    async fn post_form(
        &self,
        url: &str,
        form: &[(&str, &str)],
        basic: Option<(&str, &str)>,
    ) -> Result<(u16, serde_json::Value), ProviderError> {
        let mut request = http::Request::post(url)
            .header(http::header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(http::header::ACCEPT, "application/json")
            .header(http::header::USER_AGENT, "Registrar");
        if let Some((user, password)) = basic {
            // RFC 6749 §2.3.1: each part form-encoded, then Basic.
            let encode = |text: &str| form_urlencoded::byte_serialize(text.as_bytes()).collect::<String>();
            let credentials = STANDARD.encode(format!("{}:{}", encode(user), encode(password)));
            request = request.header(http::header::AUTHORIZATION, format!("Basic {credentials}"));
        }
        let request = request
            .body(Full::new(Bytes::from(form_encode(form))))
            .map_err(|e| ProviderError(format!("request: {e}")))?;
        let (status, body) = self.send(request).await?;
        Ok((status, serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null)))
    }

    async fn secret(&self, name: &str) -> Result<String, ProviderError> {
        if let Some(text) = self.read.lock().unwrap_or_else(|e| e.into_inner()).get(name) {
            return Ok(text.clone());
        }
        let secrets = self
            .secrets
            .get_or_init(|| async {
                let sdk = match &self.sdk {
                    Some(sdk) => sdk.clone(),
                    None => aws_config::defaults(aws_config::BehaviorVersion::latest()).load().await,
                };
                SecretsManager::new(aws_sdk_secretsmanager::Client::new(&sdk))
            })
            .await;
        let text = secrets.read(name).await.map_err(|e| ProviderError(e.to_string()))?;
        self.read.lock().unwrap_or_else(|e| e.into_inner()).insert(name.to_owned(), text.clone());
        Ok(text)
    }
}
