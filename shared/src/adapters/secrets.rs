//! AWS Secrets Manager: where a deployment keeps its signing keys and its
//! code key, read once per cold start (and the keys now and then after) by
//! the functions that need each one, written by the operator CLI.

use aws_sdk_secretsmanager::Client;
use aws_sdk_secretsmanager::error::DisplayErrorContext;

/// A secret could not be read or written.
#[derive(Debug, thiserror::Error)]
#[error("secret {id}: {reason}")]
pub struct SecretError {
    pub id: String,
    pub reason: String,
}

/// Secrets Manager through the AWS SDK.
#[derive(Clone)]
pub struct SecretsManager {
    client: Client,
}

impl SecretsManager {
    pub fn new(client: Client) -> Self {
        Self { client }
    }

    fn error(id: &str, reason: impl std::fmt::Display) -> SecretError {
        SecretError { id: id.to_owned(), reason: reason.to_string() }
    }

    /// The current text of the secret `id` (a name or an ARN).
    pub async fn read(&self, id: &str) -> Result<String, SecretError> {
        let out = self
            .client
            .get_secret_value()
            .secret_id(id)
            .send()
            .await
            .map_err(|e| Self::error(id, DisplayErrorContext(e)))?;
        out.secret_string().map(str::to_owned).ok_or_else(|| Self::error(id, "holds no text"))
    }

    /// The current texts of the secrets `ids`, in their order, in one round
    /// trip (`BatchGetSecretValue`) when there are several: a cold start
    /// that needs two secrets waits for one answer, not two. An id the
    /// batch answer names neither by name nor by ARN (a partial ARN) is read
    /// on its own.
    pub async fn read_all(&self, ids: &[&str]) -> Result<Vec<String>, SecretError> {
        if let [id] = ids {
            return Ok(vec![self.read(id).await?]);
        }
        let out = (ids.iter())
            .fold(self.client.batch_get_secret_value(), |batch, id| batch.secret_id_list(*id))
            .send()
            .await
            .map_err(|e| Self::error(&ids.join(", "), DisplayErrorContext(e)))?;
        let mut texts = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(error) = out.errors().iter().find(|e| e.secret_id() == Some(id)) {
                let reason = format!("{}: {}", error.error_code().unwrap_or("error"), error.message().unwrap_or(""));
                return Err(Self::error(id, reason));
            }
            let entry = out.secret_values().iter().find(|v| v.arn() == Some(id) || v.name() == Some(id));
            texts.push(match entry {
                Some(entry) => {
                    entry.secret_string().map(str::to_owned).ok_or_else(|| Self::error(id, "holds no text"))?
                }
                None => self.read(id).await?,
            });
        }
        Ok(texts)
    }

    /// Stores a new version of the secret `id`.
    pub async fn write(&self, id: &str, text: &str) -> Result<(), SecretError> {
        self.client
            .put_secret_value()
            .secret_id(id)
            .secret_string(text)
            .send()
            .await
            .map_err(|e| Self::error(id, DisplayErrorContext(e)))?;
        Ok(())
    }

    /// Creates the secret `name` holding `text`; `false` when it exists
    /// already (it is left as it is).
    pub async fn create(&self, name: &str, text: &str, description: &str) -> Result<bool, SecretError> {
        let out = self.client.create_secret().name(name).description(description).secret_string(text).send().await;
        match out {
            Ok(_) => Ok(true),
            Err(err) if err.as_service_error().is_some_and(|e| e.is_resource_exists_exception()) => Ok(false),
            Err(err) => Err(Self::error(name, DisplayErrorContext(err))),
        }
    }
}

/// A function's keys in a secret: the private signing keys (an issuing
/// function) or the public JWKS (a function that checks tokens).
pub struct SecretKeys {
    pub secrets: SecretsManager,
    pub id: String,
    pub private: bool,
}

#[async_trait::async_trait]
impl crate::app::KeySource for SecretKeys {
    async fn load(&self) -> Result<crate::domain::tokens::Keyring, String> {
        let text = self.secrets.read(&self.id).await.map_err(|e| e.to_string())?;
        self.parse(&text)
    }

    fn signs(&self) -> bool {
        self.private
    }
}

impl SecretKeys {
    /// The keyring in the secret's `text`.
    pub fn parse(&self, text: &str) -> Result<crate::domain::tokens::Keyring, String> {
        if self.private {
            let keys = crate::domain::keys::SigningKeys::parse(text).map_err(|e| e.to_string())?;
            keys.keyring().map_err(|e| e.to_string())
        } else {
            let jwks: serde_json::Value =
                serde_json::from_str(text).map_err(|e| format!("secret {}: not a JWKS: {e}", self.id))?;
            crate::domain::tokens::Keyring::from_jwks(&jwks).map_err(|e| e.to_string())
        }
    }
}
