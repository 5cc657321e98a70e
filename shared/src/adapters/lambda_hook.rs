//! Blocking hooks deployed as Lambda functions: an `Invoke`
//! (RequestResponse) of the configured function with the hook's JSON
//! payload, the function's returned payload as the answer. The function's
//! role allows `lambda:InvokeFunction` on the stack's `HookFunctionArns`
//! only (template.yaml).

use std::time::Duration;

use aws_sdk_lambda::Client;
use aws_sdk_lambda::error::DisplayErrorContext;
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::InvocationType;

use crate::ports::{HookAnswer, HookError};

/// The largest answer taken from a function (as from an HTTP hook).
const MAX_ANSWER_BYTES: usize = 64 * 1024;

/// Invokes hook functions. The client is made at the first call, so a
/// function whose tenants have no Lambda hook pays nothing for it at its
/// cold start.
pub struct LambdaHookCaller {
    /// The function's AWS configuration (its role, its region, endpoint
    /// overrides such as `AWS_ENDPOINT_URL_LAMBDA`); `None` where the app
    /// talks to no other AWS service (a local run on the in-memory store):
    /// then aws-config's default chain is loaded at the first call.
    sdk: Option<aws_config::SdkConfig>,
    client: tokio::sync::OnceCell<Client>,
}

impl LambdaHookCaller {
    pub fn lazy(sdk: Option<aws_config::SdkConfig>) -> Self {
        Self { sdk, client: tokio::sync::OnceCell::new() }
    }

    async fn client(&self) -> &Client {
        self.client
            .get_or_init(|| async {
                match &self.sdk {
                    Some(sdk) => Client::new(sdk),
                    None => Client::new(&aws_config::defaults(aws_config::BehaviorVersion::latest()).load().await),
                }
            })
            .await
    }

    /// Invokes the function `arn` with `payload`, waiting at most `timeout`
    /// (the SDK's retries included): its JSON object, `None` for an empty
    /// or `null` payload; a function that threw (`FunctionError`) or
    /// returned anything else is a failure.
    pub async fn call(&self, arn: &str, payload: &[u8], timeout: Duration) -> Result<HookAnswer, HookError> {
        match tokio::time::timeout(timeout, self.invoke(arn, payload)).await {
            Ok(answer) => answer,
            Err(_) => Err(HookError(format!("no answer within {} ms", timeout.as_millis()))),
        }
    }

    async fn invoke(&self, arn: &str, payload: &[u8]) -> Result<HookAnswer, HookError> {
        let output = self
            .client()
            .await
            .invoke()
            .function_name(arn)
            .invocation_type(InvocationType::RequestResponse)
            .payload(Blob::new(payload))
            .send()
            .await
            .map_err(|e| {
                let status = e.raw_response().map(|r| format!(" (HTTP {})", r.status().as_u16())).unwrap_or_default();
                HookError(format!("invoke{status}: {}", DisplayErrorContext(e)))
            })?;
        let body = output.payload().map(Blob::as_ref).unwrap_or_default();
        if let Some(kind) = output.function_error() {
            // The error's type only: its message is the function's own text,
            // which may quote what it was sent (a migrating user's password).
            let error_type = serde_json::from_slice::<serde_json::Value>(body)
                .ok()
                .and_then(|error| error.get("errorType").and_then(|t| t.as_str()).map(str::to_owned))
                .unwrap_or_else(|| "unknown".into());
            return Err(HookError(format!("the function failed ({kind}: {error_type})")));
        }
        read_answer(body)
    }
}

/// A function's returned payload as a hook's answer.
fn read_answer(body: &[u8]) -> Result<HookAnswer, HookError> {
    if body.len() > MAX_ANSWER_BYTES {
        return Err(HookError(format!("answer of {} bytes; at most {MAX_ANSWER_BYTES}", body.len())));
    }
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    match serde_json::from_slice(body) {
        Ok(serde_json::Value::Null) => Ok(None),
        Ok(answer @ serde_json::Value::Object(_)) => Ok(Some(answer)),
        Ok(_) => Err(HookError("answer is not a JSON object".into())),
        Err(_) => Err(HookError("answer is not JSON".into())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_function_answers_an_object_or_nothing() {
        assert_eq!(read_answer(b""), Ok(None));
        assert_eq!(read_answer(b" \n"), Ok(None));
        assert_eq!(read_answer(b"null"), Ok(None));
        assert_eq!(
            read_answer(br#"{"claims":{"plan":"gold"}}"#),
            Ok(Some(serde_json::json!({"claims":{"plan":"gold"}})))
        );
        assert!(read_answer(b"\"allow\"").is_err());
        assert!(read_answer(b"[1]").is_err());
        assert!(read_answer(b"not json").is_err());
        let big = format!("{{\"x\":\"{}\"}}", "a".repeat(MAX_ANSWER_BYTES));
        assert!(read_answer(big.as_bytes()).is_err());
    }
}
