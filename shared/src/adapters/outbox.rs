//! The local outbox: every e-mail and SMS becomes one JSON file in a folder
//! (and one log line naming the file, never its content).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use serde_json::json;

use crate::ports::{Clock, Email, Mailer, SendError, Sms, Texter};

/// Writes messages as JSON files under a folder instead of sending them.
pub struct Outbox {
    dir: PathBuf,
    clock: Arc<dyn Clock>,
}

impl Outbox {
    pub fn new(dir: impl Into<PathBuf>, clock: Arc<dyn Clock>) -> Self {
        Self { dir: dir.into(), clock }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    async fn write(&self, channel: &str, message: serde_json::Value) -> Result<(), SendError> {
        let sent_at = self.clock.now();
        let mut record = json!({
            "channel": channel,
            "sent_at": sent_at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        });
        if let (Some(target), Some(fields)) = (record.as_object_mut(), message.as_object()) {
            target.extend(fields.clone());
        }
        tokio::fs::create_dir_all(&self.dir).await.map_err(|e| SendError(format!("outbox folder: {e}")))?;
        // Sortable by time, then by sending order (a v7 id is monotonic within
        // a process), whatever the channel: a test clock that stands still
        // must not order messages by their channel's name.
        let name =
            format!("{}-{}-{}.json", sent_at.format("%Y%m%dT%H%M%S%3fZ"), uuid::Uuid::now_v7().simple(), channel);
        let path = self.dir.join(name);
        let text = serde_json::to_vec_pretty(&record).map_err(|e| SendError(e.to_string()))?;
        tokio::fs::write(&path, text).await.map_err(|e| SendError(format!("outbox write: {e}")))?;
        tracing::info!(channel, path = %path.display(), "message written to the outbox");
        Ok(())
    }
}

#[async_trait]
impl Mailer for Outbox {
    async fn send_email(&self, email: &Email) -> Result<(), SendError> {
        let value = serde_json::to_value(email).map_err(|e| SendError(e.to_string()))?;
        self.write("email", value).await
    }
}

#[async_trait]
impl Texter for Outbox {
    async fn send_sms(&self, sms: &Sms) -> Result<(), SendError> {
        let value = serde_json::to_value(sms).map_err(|e| SendError(e.to_string()))?;
        self.write("sms", value).await
    }
}
