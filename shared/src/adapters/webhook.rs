//! The hook caller over HTTP: a POST signed per the Standard Webhooks
//! specification (`webhook-id`, `webhook-timestamp`, `webhook-signature:
//! v1,<base64 HMAC-SHA256 of "id.timestamp.body">`) with the tenant's
//! `whsec_…` secret, TLS by rustls on aws-lc-rs with the system's roots.

use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use hmac::{Hmac, Mac};
use http_body_util::{BodyExt, Full, Limited};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use sha2::Sha256;

use crate::ports::{Clock, HookAnswer, HookError};

/// The largest answer read from a hook.
const MAX_ANSWER_BYTES: usize = 64 * 1024;

/// A Standard Webhooks signing secret: `whsec_` and base64 bytes.
#[derive(Clone)]
pub struct WebhookSecret(Vec<u8>);

impl WebhookSecret {
    /// Reads `whsec_<base64>` (the prefix is optional, as the reference
    /// libraries allow); at least 24 bytes.
    pub fn parse(text: &str) -> Result<Self, String> {
        let encoded = text.trim().strip_prefix("whsec_").unwrap_or(text.trim());
        let bytes = STANDARD.decode(encoded).map_err(|_| "a webhook secret is whsec_ and base64".to_owned())?;
        if bytes.len() < 24 {
            return Err("a webhook secret holds at least 24 bytes".into());
        }
        Ok(Self(bytes))
    }

    /// The `webhook-signature` header of `body` sent as `id` at `timestamp`.
    pub fn sign(&self, id: &str, timestamp: i64, body: &[u8]) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes any key length");
        mac.update(format!("{id}.{timestamp}.").as_bytes());
        mac.update(body);
        format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
    }
}

impl std::fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WebhookSecret(…)")
    }
}

/// Calls hooks over HTTP(S).
pub struct WebhookCaller {
    secret: Option<WebhookSecret>,
    clock: Arc<dyn Clock>,
    client: Client<hyper_rustls::HttpsConnector<HttpConnector>, Full<Bytes>>,
}

impl WebhookCaller {
    /// A caller signing with `secret` (unsigned calls are refused: a hook
    /// must be able to tell Registrar from anyone).
    pub fn new(secret: Option<WebhookSecret>, clock: Arc<dyn Clock>) -> Result<Self, String> {
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_provider_and_native_roots(provider)
            .map_err(|e| format!("TLS roots: {e}"))?
            .https_or_http()
            .enable_http1()
            .build();
        Ok(Self { secret, clock, client: Client::builder(TokioExecutor::new()).build(https) })
    }

    /// Sends the signed POST; its answer's status and body.
    async fn send(
        &self,
        url: &str,
        id: &str,
        body: Vec<u8>,
    ) -> Result<http::Response<hyper::body::Incoming>, HookError> {
        let secret = self.secret.as_ref().ok_or_else(|| HookError("no webhook secret configured".into()))?;
        let timestamp = self.clock.now().timestamp();
        let signature = secret.sign(id, timestamp, &body);
        let request = http::Request::post(url)
            .header(http::header::CONTENT_TYPE, "application/json")
            .header(http::header::USER_AGENT, "Registrar")
            .header("webhook-id", id)
            .header("webhook-timestamp", timestamp)
            .header("webhook-signature", signature)
            .body(Full::new(Bytes::from(body)))
            .map_err(|e| HookError(format!("request: {e}")))?;
        self.client.request(request).await.map_err(|e| HookError(format!("call: {e}")))
    }

    async fn post(&self, url: &str, id: &str, body: Vec<u8>) -> Result<HookAnswer, HookError> {
        let response = self.send(url, id, body).await?;
        let status = response.status();
        if status == http::StatusCode::NOT_FOUND {
            return Ok(None);
        }
        if !status.is_success() {
            return Err(HookError(format!("answered {status}")));
        }
        let body = Limited::new(response.into_body(), MAX_ANSWER_BYTES)
            .collect()
            .await
            .map_err(|e| HookError(format!("answer: {e}")))?
            .to_bytes();
        if body.iter().all(u8::is_ascii_whitespace) {
            return Ok(None);
        }
        serde_json::from_slice(&body).map(Some).map_err(|_| HookError("answer is not JSON".into()))
    }
}

impl WebhookCaller {
    /// POSTs `payload` to `url` as a hook call, waiting at most `timeout`.
    pub async fn call(
        &self,
        url: &str,
        message_id: &str,
        payload: &serde_json::Value,
        timeout: Duration,
    ) -> Result<HookAnswer, HookError> {
        let body = serde_json::to_vec(payload).map_err(|e| HookError(e.to_string()))?;
        match tokio::time::timeout(timeout, self.post(url, message_id, body)).await {
            Ok(answer) => answer,
            Err(_) => Err(HookError(format!("no answer within {} ms", timeout.as_millis()))),
        }
    }

    /// POSTs `payload` to `url` as an event delivery: only a 2xx answer
    /// counts as delivered.
    pub async fn deliver(
        &self,
        url: &str,
        message_id: &str,
        payload: &serde_json::Value,
        timeout: Duration,
    ) -> Result<(), HookError> {
        let body = serde_json::to_vec(payload).map_err(|e| HookError(e.to_string()))?;
        match tokio::time::timeout(timeout, self.send(url, message_id, body)).await {
            Ok(Ok(response)) if response.status().is_success() => Ok(()),
            Ok(Ok(response)) => Err(HookError(format!("answered {}", response.status()))),
            Ok(Err(err)) => Err(err),
            Err(_) => Err(HookError(format!("no answer within {} ms", timeout.as_millis()))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_follow_the_specification_example() {
        // The example of the Standard Webhooks specification (its README).
        let secret = WebhookSecret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let body = br#"{"test": 2432232314}"#;
        assert_eq!(
            secret.sign("msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
    }

    #[test]
    fn a_secret_is_base64_of_enough_bytes() {
        assert!(WebhookSecret::parse("whsec_c2hvcnQ=").is_err());
        assert!(WebhookSecret::parse("whsec_not base64!").is_err());
    }
}
