//! Registrations: sign-ups in progress.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{Acceptance, PendingCode, Record};
use crate::domain::ids::{RegistrationId, UserId};
use crate::domain::values::{EmailAddress, PersonalDetails, Phone, Username};
use crate::ports::Key;

/// A registration: a sign-up in progress.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Registration {
    pub id: RegistrationId,
    pub tenant_id: String,
    /// Absent in a sign-up that started with the phone and gave none.
    pub email: Option<EmailAddress>,
    pub password_hash: String,
    #[serde(flatten)]
    pub details: PersonalDetails,
    /// What the tenant's `pre_sign_up` hook added, for the user.
    #[serde(default, skip_serializing_if = "serde_json::Map::is_empty")]
    pub attributes: serde_json::Map<String, serde_json::Value>,
    pub terms: Acceptance,
    pub privacy: Acceptance,
    pub phone_required: bool,
    /// The address already belongs to a user: the owner was told, no code
    /// was sent, and this registration can never complete.
    pub email_taken: bool,
    pub email_verified_at: Option<DateTime<Utc>>,
    pub phone: Option<Phone>,
    pub phone_verified_at: Option<DateTime<Utc>>,
    pub email_code: Option<PendingCode>,
    pub sms_code: Option<PendingCode>,
    /// Codes (or notices) handed to the mailer or texter so far.
    pub sends: u32,
    pub last_email_sent_at: Option<DateTime<Utc>>,
    pub last_sms_sent_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub user_id: Option<UserId>,
    /// The partner whose API key started the sign-up.
    #[serde(default)]
    pub partner_id: Option<String>,
    /// The username chosen at sign-up (tenants that use usernames).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<Username>,
    /// The sign-up started with the phone (its SMS code first).
    #[serde(default)]
    pub starts_with_phone: bool,
    /// The phone (of a sign-up that started with it) already belongs to a
    /// user: the owner was told by SMS, and this registration can never
    /// complete.
    #[serde(default)]
    pub phone_taken: bool,
}

impl Record for Registration {
    fn key(&self) -> Key {
        registration_key(&self.id)
    }
    fn expires_at(&self) -> Option<i64> {
        Some(self.expires_at.timestamp())
    }
}

/// A registration's record.
pub fn registration_key(id: &RegistrationId) -> Key {
    Key::new(format!("REG#{id}"), "REG")
}
