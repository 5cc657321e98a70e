//! Login challenges: a second step pending after a first factor, and the 2FA
//! challenge pending per device.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{PendingCode, Record, user_pk};
use crate::domain::ids::{ChallengeId, UserId};
use crate::ports::Key;

/// What a login challenge asks for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChallengeKind {
    Mfa,
    PasswordChange,
    /// Legal documents to accept (a newer version, or none accepted yet).
    LegalAcceptance,
}

/// A pending second step of a login.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Challenge {
    pub id: ChallengeId,
    pub kind: ChallengeKind,
    pub tenant_id: String,
    pub user_id: UserId,
    pub device_id: String,
    pub channel: Option<String>,
    /// The factors the login offered (`channel` alone in challenges
    /// written before there were others).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub factors: Vec<crate::domain::policy::Factor>,
    /// The login named the phone (so the second factor is the e-mail).
    #[serde(default)]
    pub by_phone: bool,
    pub code: Option<PendingCode>,
    pub expires_at: DateTime<Utc>,
    /// The user's session epoch at the login: ending every session (a
    /// reset, logout-all) also ends the login steps under way.
    #[serde(default)]
    pub epoch: u64,
    /// The second factor was proven before this step (legal documents
    /// after 2FA): the login goes on without it.
    #[serde(default)]
    pub mfa_passed: bool,
    /// The methods the login proved before this step (RFC 8176), for the
    /// session it ends in.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub amr: Vec<String>,
}

impl Record for Challenge {
    fn key(&self) -> Key {
        challenge_key(&self.id)
    }
    fn expires_at(&self) -> Option<i64> {
        Some(self.expires_at.timestamp())
    }
}

/// The 2FA challenge pending for a user on a device: a login again within
/// the code's cooldown (an abandoned attempt) gets that challenge back, with
/// no new code, instead of a refusal.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PendingMfa {
    pub user_id: UserId,
    pub device_id: String,
    pub challenge_id: ChallengeId,
    pub expires_at: DateTime<Utc>,
}

impl Record for PendingMfa {
    fn key(&self) -> Key {
        pending_mfa_key(&self.user_id, &self.device_id)
    }
    fn expires_at(&self) -> Option<i64> {
        Some(self.expires_at.timestamp())
    }
}

pub fn challenge_key(id: &ChallengeId) -> Key {
    Key::new(format!("CHALLENGE#{id}"), "CHALLENGE")
}

/// The 2FA challenge pending for `user_id` on `device_id` (the device id
/// hashed: any visible ASCII, up to 128 characters).
pub fn pending_mfa_key(user_id: &UserId, device_id: &str) -> Key {
    Key::new(user_pk(user_id), format!("MFA#{}", hex::encode(&Sha256::digest(device_id.as_bytes())[..16])))
}
