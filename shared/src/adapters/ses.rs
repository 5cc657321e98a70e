//! E-mail through Amazon SES v2 `SendEmail` (text part only).

use async_trait::async_trait;
use aws_sdk_sesv2::Client;
use aws_sdk_sesv2::error::DisplayErrorContext;
use aws_sdk_sesv2::types::{Body, Content, Destination, EmailContent, Message};

use super::LazyClient;
use crate::ports::{Email, Mailer, SendError};

/// [`Mailer`] on SES v2. The sender (or its domain) must be a verified SES
/// identity.
pub struct SesMailer {
    client: LazyClient<Client>,
    from: String,
}

impl SesMailer {
    pub fn new(client: Client, from: impl Into<String>) -> Self {
        Self { client: LazyClient::Ready(client), from: from.into() }
    }

    /// A mailer whose client is made at its first send (a cold start that
    /// sends nothing pays nothing for it).
    pub fn lazy(sdk: aws_config::SdkConfig, from: impl Into<String>) -> Self {
        Self { client: LazyClient::Later(Box::new(sdk), std::sync::OnceLock::new()), from: from.into() }
    }
}

fn content(text: &str) -> Result<Content, SendError> {
    Content::builder().data(text).charset("UTF-8").build().map_err(|e| SendError(e.to_string()))
}

#[async_trait]
impl Mailer for SesMailer {
    async fn send_email(&self, email: &Email) -> Result<(), SendError> {
        let message = Message::builder()
            .subject(content(&email.subject)?)
            .body(Body::builder().text(content(&email.text)?).build())
            .build();
        self.client
            .get(Client::new)
            .send_email()
            .from_email_address(&self.from)
            .destination(Destination::builder().to_addresses(&email.to).build())
            .content(EmailContent::builder().simple(message).build())
            .send()
            .await
            .map_err(|e| SendError(DisplayErrorContext(e).to_string()))?;
        Ok(())
    }
}
