//! Signing keys, access tokens (JWT RS256 with `kid`) and the JWKS.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rsa::pkcs1::{DecodeRsaPrivateKey, EncodeRsaPrivateKey};
use rsa::pkcs8::{DecodePrivateKey, LineEnding};
use rsa::traits::PublicKeyParts;
use rsa::{RsaPrivateKey, RsaPublicKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The claims of an access token.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    pub iss: String,
    pub aud: String,
    pub sub: String,
    /// The tenant.
    pub tid: String,
    /// The session.
    pub sid: String,
    /// `client` (a person) or `admin` (a machine token).
    pub typ: String,
    pub roles: Vec<String>,
    pub iat: i64,
    pub exp: i64,
    pub jti: String,
}

/// One RSA key pair, identified by its RFC 7638 thumbprint.
struct SigningKey {
    kid: String,
    encoding: EncodingKey,
    decoding: DecodingKey,
    jwk: serde_json::Value,
}

/// The keys tokens are signed and verified with. The first key signs; every
/// key verifies and is published in the JWKS, so a retired-but-listed key's
/// tokens stay valid until they expire.
pub struct Keyring {
    keys: Vec<SigningKey>,
}

/// A key could not be loaded or made.
#[derive(Debug, thiserror::Error)]
#[error("signing key: {0}")]
pub struct KeyError(String);

impl SigningKey {
    fn from_private(private: &RsaPrivateKey) -> Result<Self, KeyError> {
        let public = RsaPublicKey::from(private);
        let n = URL_SAFE_NO_PAD.encode(public.n().to_bytes_be());
        let e = URL_SAFE_NO_PAD.encode(public.e().to_bytes_be());
        let canonical = format!(r#"{{"e":"{e}","kty":"RSA","n":"{n}"}}"#);
        let kid = URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()));
        let pem = private.to_pkcs1_pem(LineEnding::LF).map_err(|e| KeyError(e.to_string()))?;
        let encoding = EncodingKey::from_rsa_pem(pem.as_bytes()).map_err(|e| KeyError(e.to_string()))?;
        let decoding = DecodingKey::from_rsa_components(&n, &e).map_err(|e| KeyError(e.to_string()))?;
        let jwk = serde_json::json!({
            "kty": "RSA", "use": "sig", "alg": "RS256", "kid": kid, "n": n, "e": e,
        });
        Ok(Self { kid, encoding, decoding, jwk })
    }
}

/// A new 2048-bit RSA private key as PKCS#1 PEM (operator CLI).
pub fn generate_pem() -> Result<String, KeyError> {
    let private = RsaPrivateKey::new(&mut rand::rngs::OsRng, 2048).map_err(|e| KeyError(e.to_string()))?;
    Ok(private.to_pkcs1_pem(LineEnding::LF).map_err(|e| KeyError(e.to_string()))?.to_string())
}

impl Keyring {
    /// A keyring with one new 2048-bit key (local runs and tests).
    pub fn generate() -> Result<Self, KeyError> {
        let private = RsaPrivateKey::new(&mut rand::rngs::OsRng, 2048).map_err(|e| KeyError(e.to_string()))?;
        Ok(Self { keys: vec![SigningKey::from_private(&private)?] })
    }

    /// Loads PEM private keys (PKCS#1 or PKCS#8); the first one signs.
    pub fn from_pems(pems: &[&str]) -> Result<Self, KeyError> {
        let keys = pems
            .iter()
            .map(|pem| {
                let private = RsaPrivateKey::from_pkcs8_pem(pem)
                    .or_else(|_| RsaPrivateKey::from_pkcs1_pem(pem))
                    .map_err(|_| KeyError("not an RSA private key in PEM".into()))?;
                SigningKey::from_private(&private)
            })
            .collect::<Result<Vec<_>, _>>()?;
        if keys.is_empty() {
            return Err(KeyError("no key given".into()));
        }
        Ok(Self { keys })
    }

    /// The id of the key that signs new tokens.
    pub fn active_kid(&self) -> &str {
        &self.keys[0].kid
    }

    /// The JSON Web Key Set of every verification key.
    pub fn jwks(&self) -> serde_json::Value {
        serde_json::json!({ "keys": self.keys.iter().map(|k| k.jwk.clone()).collect::<Vec<_>>() })
    }

    /// Signs `claims` with the active key.
    pub fn sign(&self, claims: &Claims) -> Result<String, KeyError> {
        let key = &self.keys[0];
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(key.kid.clone());
        jsonwebtoken::encode(&header, claims, &key.encoding).map_err(|e| KeyError(e.to_string()))
    }

    /// Verifies signature (RS256 only), `kid`, `iss`, `aud` and `exp`
    /// against the system clock.
    pub fn verify(&self, token: &str, issuer: &str, audience: &str) -> Option<Claims> {
        self.verify_at(token, issuer, audience, chrono::Utc::now().timestamp())
    }

    /// Like [`Keyring::verify`], at `now` (epoch seconds; the app's clock):
    /// expired tokens and tokens issued in the future (beyond 30 s of clock
    /// skew) are refused.
    pub fn verify_at(&self, token: &str, issuer: &str, audience: &str, now: i64) -> Option<Claims> {
        let header = jsonwebtoken::decode_header(token).ok()?;
        if header.alg != Algorithm::RS256 {
            return None;
        }
        let kid = header.kid?;
        let key = self.keys.iter().find(|k| k.kid == kid)?;
        let mut validation = Validation::new(Algorithm::RS256);
        validation.set_issuer(&[issuer]);
        validation.set_audience(&[audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        // Time is checked below against the injected clock.
        validation.validate_exp = false;
        validation.leeway = 0;
        let claims = jsonwebtoken::decode::<Claims>(token, &key.decoding, &validation).ok()?.claims;
        (claims.exp > now && claims.iat <= now + 30).then_some(claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(exp: i64) -> Claims {
        Claims {
            iss: "iss".into(),
            aud: "aud".into(),
            sub: "usr_1".into(),
            tid: "t".into(),
            sid: "ses_1".into(),
            typ: "client".into(),
            roles: vec![],
            iat: 0,
            exp,
            jti: "j".into(),
        }
    }

    #[test]
    fn signed_tokens_verify_and_carry_the_kid() {
        let keys = Keyring::generate().unwrap();
        let far = chrono::Utc::now().timestamp() + 600;
        let token = keys.sign(&claims(far)).unwrap();
        let header = jsonwebtoken::decode_header(&token).unwrap();
        assert_eq!(header.kid.as_deref(), Some(keys.active_kid()));
        assert_eq!(keys.verify(&token, "iss", "aud"), Some(claims(far)));
        assert_eq!(keys.verify(&token, "other", "aud"), None);
        assert_eq!(keys.verify(&token, "iss", "other"), None);
        let expired = keys.sign(&claims(1)).unwrap();
        assert_eq!(keys.verify(&expired, "iss", "aud"), None);
        let mut future = claims(far + 600);
        future.iat = far;
        let not_yet = keys.sign(&future).unwrap();
        assert_eq!(keys.verify(&not_yet, "iss", "aud"), None, "issued in the future");
        assert!(keys.verify_at(&not_yet, "iss", "aud", far).is_some());
        let jwks = keys.jwks();
        assert_eq!(jwks["keys"][0]["kid"], keys.active_kid());
        assert_eq!(jwks["keys"][0]["alg"], "RS256");
    }

    #[test]
    fn a_retired_but_listed_key_still_verifies() {
        let pem = |k: &RsaPrivateKey| k.to_pkcs1_pem(LineEnding::LF).unwrap().to_string();
        let old = RsaPrivateKey::new(&mut rand::rngs::OsRng, 2048).unwrap();
        let new = RsaPrivateKey::new(&mut rand::rngs::OsRng, 2048).unwrap();
        let before = Keyring::from_pems(&[pem(&old).as_str()]).unwrap();
        let after = Keyring::from_pems(&[pem(&new).as_str(), pem(&old).as_str()]).unwrap();
        let far = chrono::Utc::now().timestamp() + 600;
        let old_token = before.sign(&claims(far)).unwrap();
        let new_token = after.sign(&claims(far)).unwrap();
        assert_ne!(before.active_kid(), after.active_kid(), "the new key signs");
        assert!(after.verify(&old_token, "iss", "aud").is_some(), "old tokens live on");
        assert!(after.verify(&new_token, "iss", "aud").is_some());
        assert!(before.verify(&new_token, "iss", "aud").is_none(), "unknown kid");
        let kids: Vec<_> = after.jwks()["keys"].as_array().unwrap().iter().map(|k| k["kid"].clone()).collect();
        assert_eq!(kids.len(), 2);
        assert!(kids.contains(&serde_json::Value::String(before.active_kid().to_owned())));
    }

    #[test]
    fn pem_keys_round_trip() {
        let private = RsaPrivateKey::new(&mut rand::rngs::OsRng, 2048).unwrap();
        let pem = private.to_pkcs1_pem(LineEnding::LF).unwrap();
        let a = Keyring::from_pems(&[pem.as_str()]).unwrap();
        let b = Keyring::from_pems(&[pem.as_str()]).unwrap();
        assert_eq!(a.active_kid(), b.active_kid());
        assert!(Keyring::from_pems(&["nope"]).is_err());
    }
}
