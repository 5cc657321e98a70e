//! Codes that were sent: a pending code (whose tries count in a counter of
//! their own), the password-reset and invitation codes, the passwordless
//! sign-in codes.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::encode;
use crate::ports::{Condition, Item, Key, StoreError, Write};

/// A code that was sent and may still be used. Its tries are counted in a
/// counter item of its own ([`tries_key`]), never in this record, so a
/// write of the record can never lose or undo a try.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingCode {
    /// HMAC-SHA256 over purpose, owner and code, hex.
    pub hash: String,
    pub expires_at: DateTime<Utc>,
    /// Random, per issued code: names the counter of its tries, so a new
    /// code (even the sandbox's fixed one) starts with all its tries.
    #[serde(default)]
    pub nonce: String,
}

/// The counter of a code's tries. Codes written before they carried a
/// nonce count under their hash's digest instead.
pub fn tries_key(code: &PendingCode) -> Key {
    let id = if code.nonce.is_empty() {
        hex::encode(&Sha256::digest(code.hash.as_bytes())[..16])
    } else {
        code.nonce.clone()
    };
    Key::new(format!("TRIES#{id}"), "TRIES")
}

/// A password-reset (or invitation) code for an address of a tenant. A
/// decoy for an unknown address has an empty `user_id`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ResetRecord {
    pub user_id: String,
    pub code: PendingCode,
}

impl ResetRecord {
    /// The record's item for the address (its `limits::destination`
    /// subject), expiring with its code.
    pub fn item(&self, destination: &str) -> Result<Item, StoreError> {
        Ok(Item::new(reset_key(destination), encode(self)?, Some(self.code.expires_at.timestamp())))
    }

    /// The record's write for the address (its `limits::destination`).
    pub fn put(&self, destination: &str, condition: Condition) -> Result<Write, StoreError> {
        Ok(Write::Put { item: self.item(destination)?, condition })
    }
}

/// A passwordless sign-in code, stored under the keyed hash of the name it
/// was asked for (`limits::destination` of the normalized e-mail, phone or
/// username): the user, the factor it proves (`email` or `sms`), the keyed
/// hash of where it went (a changed address voids it) and the code. A decoy
/// for a name that gets no code has an empty `user_id`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SignInCode {
    pub user_id: String,
    pub factor: crate::domain::policy::Factor,
    pub destination: String,
    /// The user's session epoch when the code was drawn: a session end
    /// since (a reset, logout-all, a status change) voids the code.
    #[serde(default)]
    pub epoch: u64,
    pub code: PendingCode,
}

impl SignInCode {
    /// The record's item for the name's subject, expiring with its code.
    pub fn item(&self, name: &str) -> Result<Item, StoreError> {
        Ok(Item::new(sign_in_code_key(name), encode(self)?, Some(self.code.expires_at.timestamp())))
    }
}

/// A password-reset code for an address of a tenant, by the address's
/// keyed hash (`limits::destination`: `<tenant>#<hash>`), never the address.
pub fn reset_key(destination: &str) -> Key {
    Key::new(format!("PWRESET#{destination}"), "PWRESET")
}

/// The passwordless sign-in code asked for a name (its keyed hash).
pub fn sign_in_code_key(name: &str) -> Key {
    Key::new(format!("SIGNIN#{name}"), "SIGNIN")
}
