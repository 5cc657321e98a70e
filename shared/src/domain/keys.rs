//! Signing keys kept in the store, managed by the operator CLI: the newest
//! active key signs; every active or retired key verifies and is listed in
//! the JWKS until it is removed.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::tenant::{decode_item, encode_item};
use super::tokens::{KeyError, Keyring};
use crate::ports::{Condition, Item, Key, Store, StoreError};

/// A stored signing key. The PEM is a secret: never print it.
#[derive(Clone, Serialize, Deserialize)]
pub struct StoredKey {
    pub kid: String,
    pub pem: String,
    /// `active` (signs and verifies) or `retired` (verifies only).
    pub status: String,
    pub created_at: DateTime<Utc>,
}

impl std::fmt::Debug for StoredKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredKey").field("kid", &self.kid).field("status", &self.status).finish_non_exhaustive()
    }
}

const PARTITION: &str = "SIGNING_KEYS";

fn key_key(kid: &str) -> Key {
    Key::new(PARTITION, format!("KEY#{kid}"))
}

/// Adds a key (PEM, PKCS#1 or PKCS#8) as active; returns its kid.
pub async fn add_key(store: &dyn Store, pem: &str, now: DateTime<Utc>) -> Result<StoredKey, KeyOpError> {
    let ring = Keyring::from_pems(&[pem]).map_err(KeyOpError::Key)?;
    let stored =
        StoredKey { kid: ring.active_kid().to_owned(), pem: pem.to_owned(), status: "active".into(), created_at: now };
    let item = Item::new(key_key(&stored.kid), encode_item(&stored).map_err(KeyOpError::Store)?, None);
    store.put(item, Condition::NotExists).await.map_err(KeyOpError::Store)?;
    Ok(stored)
}

/// Every stored key, newest first.
pub async fn list_keys(store: &dyn Store) -> Result<Vec<StoredKey>, StoreError> {
    let mut keys: Vec<StoredKey> =
        store.query(PARTITION, "KEY#", false, 1000).await?.into_iter().map(decode_item).collect::<Result<_, _>>()?;
    keys.sort_by_key(|k| std::cmp::Reverse(k.created_at));
    Ok(keys)
}

/// Stops a key from signing; it still verifies.
pub async fn retire_key(store: &dyn Store, kid: &str) -> Result<(), StoreError> {
    let item = store.get(&key_key(kid)).await?.ok_or(StoreError::ConditionFailed { index: 0 })?;
    let version = item.version;
    let mut stored: StoredKey = decode_item(item)?;
    stored.status = "retired".into();
    store.put(Item::new(key_key(kid), encode_item(&stored)?, None), Condition::Version(version)).await
}

/// Removes a key: tokens it signed stop verifying.
pub async fn remove_key(store: &dyn Store, kid: &str) -> Result<(), StoreError> {
    store.delete(&key_key(kid), Condition::Exists).await
}

/// The keyring of the stored keys (newest active first), if any is active.
pub async fn keyring_from_store(store: &dyn Store) -> Result<Option<Keyring>, KeyOpError> {
    let mut keys = list_keys(store).await.map_err(KeyOpError::Store)?;
    if !keys.iter().any(|k| k.status == "active") {
        return Ok(None);
    }
    // Active keys first (newest first), then retired ones.
    keys.sort_by_key(|k| k.status != "active");
    let pems: Vec<&str> = keys.iter().map(|k| k.pem.as_str()).collect();
    Keyring::from_pems(&pems).map(Some).map_err(KeyOpError::Key)
}

/// A key operation failed.
#[derive(Debug, thiserror::Error)]
pub enum KeyOpError {
    #[error(transparent)]
    Key(KeyError),
    #[error("store: {0}")]
    Store(StoreError),
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::adapters::memory::MemoryStore;
    use crate::adapters::system::ManualClock;
    use std::sync::Arc;

    #[tokio::test]
    async fn newest_active_key_signs_and_retired_keys_verify() {
        let clock = Arc::new(ManualClock::starting_now());
        let store = MemoryStore::new(clock.clone());
        assert!(keyring_from_store(&store).await.unwrap().is_none());
        let old = add_key(&store, &super::super::tokens::generate_pem().unwrap(), clock.now_dt()).await.unwrap();
        clock.advance(chrono::Duration::seconds(1));
        let new = add_key(&store, &super::super::tokens::generate_pem().unwrap(), clock.now_dt()).await.unwrap();
        let ring = keyring_from_store(&store).await.unwrap().unwrap();
        assert_eq!(ring.active_kid(), new.kid);
        retire_key(&store, &new.kid).await.unwrap();
        let ring = keyring_from_store(&store).await.unwrap().unwrap();
        assert_eq!(ring.active_kid(), old.kid, "a retired key no longer signs");
        assert_eq!(ring.jwks()["keys"].as_array().unwrap().len(), 2, "but is still published");
        remove_key(&store, &new.kid).await.unwrap();
        assert_eq!(keyring_from_store(&store).await.unwrap().unwrap().jwks()["keys"].as_array().unwrap().len(), 1);
        assert!(add_key(&store, "not a key", clock.now_dt()).await.is_err());
        assert!(format!("{old:?}").contains(&old.kid) && !format!("{old:?}").contains("BEGIN"));
    }
}
