//! The app's [`HookCaller`]: hooks by URL and event deliveries over HTTP(S)
//! ([`WebhookCaller`]), hooks by ARN through a Lambda `Invoke`
//! ([`LambdaHookCaller`]), each with the same JSON payload.

use std::time::Duration;

use async_trait::async_trait;

use super::lambda_hook::LambdaHookCaller;
use super::webhook::WebhookCaller;
use crate::ports::{HookAnswer, HookCaller, HookError, HookTarget};

/// Both transports of the blocking hooks.
pub struct HookTransport {
    pub http: WebhookCaller,
    pub lambda: LambdaHookCaller,
}

impl HookTransport {
    /// Over HTTP(S), for a process that delivers events and calls no hook
    /// (the operator CLI's redrive); a hook by ARN would load aws-config's
    /// default chain at its first call.
    pub fn http(http: WebhookCaller) -> Self {
        Self { http, lambda: LambdaHookCaller::lazy(None) }
    }
}

#[async_trait]
impl HookCaller for HookTransport {
    async fn call(
        &self,
        target: HookTarget<'_>,
        message_id: &str,
        payload: &serde_json::Value,
        timeout: Duration,
    ) -> Result<HookAnswer, HookError> {
        match target {
            HookTarget::Url(url) => self.http.call(url, message_id, payload, timeout).await,
            HookTarget::Lambda(arn) => {
                let body = serde_json::to_vec(payload).map_err(|e| HookError(e.to_string()))?;
                self.lambda.call(arn, &body, timeout).await
            }
        }
    }

    async fn deliver(
        &self,
        url: &str,
        message_id: &str,
        payload: &serde_json::Value,
        timeout: Duration,
    ) -> Result<(), HookError> {
        self.http.deliver(url, message_id, payload, timeout).await
    }
}
