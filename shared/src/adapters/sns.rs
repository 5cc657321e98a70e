//! SMS through Amazon SNS `Publish` to a phone number, as Transactional.

use async_trait::async_trait;
use aws_sdk_sns::Client;
use aws_sdk_sns::error::DisplayErrorContext;
use aws_sdk_sns::types::MessageAttributeValue;

use super::LazyClient;
use crate::ports::{SendError, Sms, Texter};

/// [`Texter`] on SNS.
pub struct SnsTexter {
    client: LazyClient<Client>,
    sender_id: Option<String>,
}

impl SnsTexter {
    pub fn new(client: Client, sender_id: Option<String>) -> Self {
        Self { client: LazyClient::Ready(client), sender_id }
    }

    /// A texter whose client is made at its first send.
    pub fn lazy(sdk: aws_config::SdkConfig, sender_id: Option<String>) -> Self {
        Self { client: LazyClient::Later(Box::new(sdk), std::sync::OnceLock::new()), sender_id }
    }
}

fn string_attribute(value: &str) -> Result<MessageAttributeValue, SendError> {
    MessageAttributeValue::builder()
        .data_type("String")
        .string_value(value)
        .build()
        .map_err(|e| SendError(e.to_string()))
}

#[async_trait]
impl Texter for SnsTexter {
    async fn send_sms(&self, sms: &Sms) -> Result<(), SendError> {
        let mut publish = self
            .client
            .get(Client::new)
            .publish()
            .phone_number(&sms.to)
            .message(&sms.text)
            .message_attributes("AWS.SNS.SMS.SMSType", string_attribute("Transactional")?);
        if let Some(sender) = &self.sender_id {
            publish = publish.message_attributes("AWS.SNS.SMS.SenderID", string_attribute(sender)?);
        }
        publish.send().await.map_err(|e| SendError(DisplayErrorContext(e).to_string()))?;
        Ok(())
    }
}
