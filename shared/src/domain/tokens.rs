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
    /// When the user last proved the password (OIDC `auth_time`): a step-up
    /// within the tenant's window needs no password again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_time: Option<i64>,
}

/// A public key that verifies tokens, identified by its RFC 7638
/// thumbprint, and its JWK.
struct VerifyingKey {
    kid: String,
    decoding: DecodingKey,
    jwk: serde_json::Value,
}

/// The keys tokens are signed and verified with. At most one key signs; every
/// key verifies and is published in the JWKS, so a retired-but-listed key's
/// tokens stay valid until they expire. A function that only checks tokens
/// holds public keys alone.
pub struct Keyring {
    signer: Option<(String, EncodingKey)>,
    keys: Vec<VerifyingKey>,
}

/// A key could not be loaded or made.
#[derive(Debug, thiserror::Error)]
#[error("signing key: {0}")]
pub struct KeyError(pub String);

impl VerifyingKey {
    fn from_components(n: &str, e: &str, kid: Option<&str>) -> Result<Self, KeyError> {
        let canonical = format!(r#"{{"e":"{e}","kty":"RSA","n":"{n}"}}"#);
        let thumbprint = URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()));
        if kid.is_some_and(|kid| kid != thumbprint) {
            return Err(KeyError(format!("kid {} is not the key's thumbprint", kid.unwrap_or_default())));
        }
        let decoding = DecodingKey::from_rsa_components(n, e).map_err(|e| KeyError(e.to_string()))?;
        let jwk = serde_json::json!({
            "kty": "RSA", "use": "sig", "alg": "RS256", "kid": thumbprint, "n": n, "e": e,
        });
        Ok(Self { kid: thumbprint, decoding, jwk })
    }

    fn from_private(private: &RsaPrivateKey) -> Result<(Self, EncodingKey), KeyError> {
        let public = RsaPublicKey::from(private);
        let n = URL_SAFE_NO_PAD.encode(public.n().to_bytes_be());
        let e = URL_SAFE_NO_PAD.encode(public.e().to_bytes_be());
        let pem = private.to_pkcs1_pem(LineEnding::LF).map_err(|e| KeyError(e.to_string()))?;
        let encoding = EncodingKey::from_rsa_pem(pem.as_bytes()).map_err(|e| KeyError(e.to_string()))?;
        Ok((Self::from_components(&n, &e, None)?, encoding))
    }
}

fn private_key(pem: &str) -> Result<RsaPrivateKey, KeyError> {
    RsaPrivateKey::from_pkcs8_pem(pem)
        .or_else(|_| RsaPrivateKey::from_pkcs1_pem(pem))
        .map_err(|_| KeyError("not an RSA private key in PEM".into()))
}

/// A new 2048-bit RSA private key as PKCS#1 PEM (operator CLI).
pub fn generate_pem() -> Result<String, KeyError> {
    let private = RsaPrivateKey::new(&mut rand::rngs::OsRng, 2048).map_err(|e| KeyError(e.to_string()))?;
    Ok(private.to_pkcs1_pem(LineEnding::LF).map_err(|e| KeyError(e.to_string()))?.to_string())
}

/// The kid (RFC 7638 thumbprint) of a PEM private key.
pub fn kid_of(pem: &str) -> Result<String, KeyError> {
    Ok(VerifyingKey::from_private(&private_key(pem)?)?.0.kid)
}

impl Keyring {
    /// A keyring with one new 2048-bit key (local runs and tests).
    pub fn generate() -> Result<Self, KeyError> {
        let private = RsaPrivateKey::new(&mut rand::rngs::OsRng, 2048).map_err(|e| KeyError(e.to_string()))?;
        let (key, encoding) = VerifyingKey::from_private(&private)?;
        Ok(Self { signer: Some((key.kid.clone(), encoding)), keys: vec![key] })
    }

    /// No key at all: for functions that neither sign nor check tokens.
    pub fn empty() -> Self {
        Self { signer: None, keys: Vec::new() }
    }

    /// Loads PEM private keys (PKCS#1 or PKCS#8); the first one signs.
    pub fn from_pems(pems: &[&str]) -> Result<Self, KeyError> {
        let first = pems.first().ok_or_else(|| KeyError("no key given".into()))?;
        Self::with_signer(Some(first), pems)
    }

    /// Loads PEM private keys that all verify; `signer` (one of them, or
    /// none) signs.
    pub fn with_signer(signer: Option<&str>, pems: &[&str]) -> Result<Self, KeyError> {
        let mut ring = Self::empty();
        for pem in pems {
            let (key, encoding) = VerifyingKey::from_private(&private_key(pem)?)?;
            if signer == Some(*pem) {
                ring.signer = Some((key.kid.clone(), encoding));
            }
            ring.keys.push(key);
        }
        Ok(ring)
    }

    /// Public keys alone, from a JWKS: this keyring verifies, never signs.
    pub fn from_jwks(jwks: &serde_json::Value) -> Result<Self, KeyError> {
        let listed = jwks["keys"].as_array().ok_or_else(|| KeyError("a JWKS has a `keys` list".into()))?;
        let keys = listed
            .iter()
            .map(|jwk| match (jwk["kty"].as_str(), jwk["n"].as_str(), jwk["e"].as_str()) {
                (Some("RSA"), Some(n), Some(e)) => VerifyingKey::from_components(n, e, jwk["kid"].as_str()),
                _ => Err(KeyError("every key of the JWKS is an RSA key with n and e".into())),
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self { signer: None, keys })
    }

    /// The id of the key that signs new tokens, if this keyring signs.
    pub fn active_kid(&self) -> Option<&str> {
        self.signer.as_ref().map(|(kid, _)| kid.as_str())
    }

    /// Whether any key verifies here.
    pub fn knows_any(&self) -> bool {
        !self.keys.is_empty()
    }

    /// Whether a key of this id verifies here.
    pub fn knows(&self, kid: &str) -> bool {
        self.keys.iter().any(|k| k.kid == kid)
    }

    /// The JSON Web Key Set of every verification key.
    pub fn jwks(&self) -> serde_json::Value {
        serde_json::json!({ "keys": self.keys.iter().map(|k| k.jwk.clone()).collect::<Vec<_>>() })
    }

    /// Signs `claims` with the active key.
    pub fn sign(&self, claims: &Claims) -> Result<String, KeyError> {
        let (kid, encoding) =
            self.signer.as_ref().ok_or_else(|| KeyError("this function holds no signing key".into()))?;
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(kid.clone());
        jsonwebtoken::encode(&header, claims, encoding).map_err(|e| KeyError(e.to_string()))
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
            auth_time: None,
        }
    }

    #[test]
    fn signed_tokens_verify_and_carry_the_kid() {
        let keys = Keyring::generate().unwrap();
        let far = chrono::Utc::now().timestamp() + 600;
        let token = keys.sign(&claims(far)).unwrap();
        let header = jsonwebtoken::decode_header(&token).unwrap();
        assert_eq!(header.kid.as_deref(), keys.active_kid());
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
        assert_eq!(jwks["keys"][0]["kid"], keys.active_kid().unwrap());
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
        assert!(kids.contains(&serde_json::Value::String(before.active_kid().unwrap().to_owned())));
    }

    #[test]
    fn public_keys_alone_verify_but_never_sign() {
        let signer = Keyring::generate().unwrap();
        let far = chrono::Utc::now().timestamp() + 600;
        let token = signer.sign(&claims(far)).unwrap();
        let public = Keyring::from_jwks(&signer.jwks()).unwrap();
        assert_eq!(public.verify(&token, "iss", "aud"), Some(claims(far)));
        assert_eq!(public.active_kid(), None);
        assert!(public.sign(&claims(far)).is_err(), "no private key, no signature");
        assert_eq!(public.jwks(), signer.jwks(), "published as read");
        let mut forged = signer.jwks();
        forged["keys"][0]["kid"] = "someone-elses".into();
        assert!(Keyring::from_jwks(&forged).is_err(), "a kid must be the key's thumbprint");
        assert!(Keyring::from_jwks(&serde_json::json!({ "keys": [{ "kty": "EC" }] })).is_err());
        assert!(Keyring::empty().sign(&claims(far)).is_err());
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
