//! Signing keys, access tokens (JWT RS256 with `kid`) and the JWKS.
//!
//! Signing uses one parsed aws-lc-rs key pair per warm instance:
//! jsonwebtoken's aws-lc backend would parse and check the RSA key from DER
//! at every signature (BENCHMARKS.md, "Signing"). jsonwebtoken still
//! verifies, and builds the JWKs.

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::{KeyPair, KeySize, PublicKeyComponents};
use aws_lc_rs::signature::{KeyPair as _, RSA_PKCS1_SHA256};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::jwk::{
    AlgorithmParameters, CommonParameters, Jwk, KeyAlgorithm, PublicKeyUse, RSAKeyParameters, RSAKeyType,
    ThumbprintHash,
};
use jsonwebtoken::{Algorithm, DecodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

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
    /// How the session's sign-in proved who the user is (RFC 8176): `pwd`,
    /// `otp` (a code), `sms`, `hwk` (a passkey), `mfa` (two factors).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub amr: Vec<String>,
    /// Claims the tenant's `pre_token` hook added (never a reserved one).
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

/// A public key that verifies tokens, identified by its RFC 7638
/// thumbprint, and its JWK.
struct VerifyingKey {
    kid: String,
    decoding: DecodingKey,
    jwk: Jwk,
}

/// The key that signs, parsed once, with its token header already encoded.
struct Signer {
    kid: String,
    /// `base64url(header)`: the same for every token of this key.
    header: String,
    key: KeyPair,
    rng: SystemRandom,
}

/// The keys tokens are signed and verified with. At most one key signs; every
/// key verifies and is published in the JWKS, so a retired-but-listed key's
/// tokens stay valid until they expire. A function that only checks tokens
/// holds public keys alone.
pub struct Keyring {
    signer: Option<Signer>,
    keys: Vec<VerifyingKey>,
}

/// A key could not be loaded or made.
#[derive(Debug, thiserror::Error)]
#[error("signing key: {0}")]
pub struct KeyError(pub String);

impl VerifyingKey {
    /// The key of a JWK whose `kid`, if it has one, is its thumbprint.
    fn from_jwk(mut jwk: Jwk) -> Result<Self, KeyError> {
        let AlgorithmParameters::RSA(_) = &jwk.algorithm else {
            return Err(KeyError("every key of the JWKS is an RSA key with n and e".into()));
        };
        let thumbprint = jwk.thumbprint(ThumbprintHash::SHA256).map_err(|e| KeyError(e.to_string()))?;
        if let Some(kid) = jwk.common.key_id.as_deref().filter(|kid| *kid != thumbprint) {
            return Err(KeyError(format!("kid {kid} is not the key's thumbprint")));
        }
        jwk.common = CommonParameters {
            public_key_use: Some(PublicKeyUse::Signature),
            key_algorithm: Some(KeyAlgorithm::RS256),
            key_id: Some(thumbprint.clone()),
            ..CommonParameters::default()
        };
        let decoding = DecodingKey::from_jwk(&jwk).map_err(|e| KeyError(e.to_string()))?;
        Ok(Self { kid: thumbprint, decoding, jwk })
    }

    fn from_private(key: &KeyPair) -> Result<Self, KeyError> {
        let public = PublicKeyComponents::<Vec<u8>>::from(key.public_key());
        let algorithm = AlgorithmParameters::RSA(RSAKeyParameters {
            key_type: RSAKeyType::RSA,
            n: URL_SAFE_NO_PAD.encode(&public.n),
            e: URL_SAFE_NO_PAD.encode(&public.e),
        });
        Self::from_jwk(Jwk { common: CommonParameters::default(), algorithm })
    }
}

impl Signer {
    fn new(key: KeyPair, kid: &str) -> Result<Self, KeyError> {
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(kid.to_owned());
        let header = serde_json::to_vec(&header).map_err(|e| KeyError(e.to_string()))?;
        Ok(Self { kid: kid.to_owned(), header: URL_SAFE_NO_PAD.encode(header), key, rng: SystemRandom::new() })
    }
}

/// A PEM private key: PKCS#8 (`PRIVATE KEY`) or PKCS#1 (`RSA PRIVATE KEY`).
fn private_key(pem: &str) -> Result<KeyPair, KeyError> {
    let invalid = || KeyError("not an RSA private key in PEM".into());
    let parsed = pem::parse(pem).map_err(|_| invalid())?;
    match parsed.tag() {
        "PRIVATE KEY" => KeyPair::from_pkcs8(parsed.contents()),
        "RSA PRIVATE KEY" => KeyPair::from_der(parsed.contents()),
        _ => return Err(invalid()),
    }
    .map_err(|_| invalid())
}

fn generate_key() -> Result<KeyPair, KeyError> {
    KeyPair::generate(KeySize::Rsa2048).map_err(|e| KeyError(e.to_string()))
}

/// A new 2048-bit RSA private key as PKCS#8 PEM (operator CLI).
pub fn generate_pem() -> Result<String, KeyError> {
    let der = generate_key()?.as_der().map_err(|e| KeyError(e.to_string()))?;
    Ok(pem::encode(&pem::Pem::new("PRIVATE KEY", der.as_ref())))
}

/// The kid (RFC 7638 thumbprint) of a PEM private key.
pub fn kid_of(pem: &str) -> Result<String, KeyError> {
    Ok(VerifyingKey::from_private(&private_key(pem)?)?.kid)
}

impl Keyring {
    /// A keyring with one new 2048-bit key (local runs and tests).
    pub fn generate() -> Result<Self, KeyError> {
        let private = generate_key()?;
        let key = VerifyingKey::from_private(&private)?;
        Ok(Self { signer: Some(Signer::new(private, &key.kid)?), keys: vec![key] })
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
            let private = private_key(pem)?;
            let key = VerifyingKey::from_private(&private)?;
            if signer == Some(*pem) {
                ring.signer = Some(Signer::new(private, &key.kid)?);
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
            .map(|jwk| {
                let jwk: Jwk = serde_json::from_value(jwk.clone())
                    .map_err(|_| KeyError("every key of the JWKS is an RSA key with n and e".into()))?;
                VerifyingKey::from_jwk(jwk)
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self { signer: None, keys })
    }

    /// The id of the key that signs new tokens, if this keyring signs.
    pub fn active_kid(&self) -> Option<&str> {
        self.signer.as_ref().map(|signer| signer.kid.as_str())
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
        let set = jsonwebtoken::jwk::JwkSet { keys: self.keys.iter().map(|k| k.jwk.clone()).collect() };
        serde_json::to_value(set).unwrap_or_default()
    }

    /// Signs `claims` with the active key.
    pub fn sign(&self, claims: &Claims) -> Result<String, KeyError> {
        self.sign_claims(claims)
    }

    /// Signs any claims (an access token's, an ID token's) with the active
    /// key: a JWS with RS256 and the key's `kid`.
    pub fn sign_claims<C: Serialize>(&self, claims: &C) -> Result<String, KeyError> {
        let signer = self.signer.as_ref().ok_or_else(|| KeyError("this function holds no signing key".into()))?;
        let claims = serde_json::to_vec(claims).map_err(|e| KeyError(e.to_string()))?;
        let mut token = format!("{}.{}", signer.header, URL_SAFE_NO_PAD.encode(claims));
        let mut signature = vec![0; signer.key.public_modulus_len()];
        signer
            .key
            .sign(&RSA_PKCS1_SHA256, &signer.rng, token.as_bytes(), &mut signature)
            .map_err(|e| KeyError(e.to_string()))?;
        token.push('.');
        token.push_str(&URL_SAFE_NO_PAD.encode(signature));
        Ok(token)
    }

    /// Verifies signature (RS256 only), `kid`, `iss`, `aud` and `exp`
    /// against the system clock.
    pub fn verify(&self, token: &str, issuer: &str, audience: &str) -> Option<Claims> {
        self.verify_at(token, issuer, audience, chrono::Utc::now().timestamp())
    }

    /// The claims of a token this deployment signed (RS256, a known `kid`,
    /// `iss` = `issuer`), whatever its audience and even expired: an ID
    /// token presented back as `id_token_hint` (RP-initiated logout).
    pub fn verify_signed(&self, token: &str, issuer: &str) -> Option<serde_json::Map<String, serde_json::Value>> {
        let header = jsonwebtoken::decode_header(token).ok()?;
        if header.alg != Algorithm::RS256 {
            return None;
        }
        let kid = header.kid?;
        let key = self.keys.iter().find(|k| k.kid == kid)?;
        let mut validation = Validation::new(Algorithm::RS256);
        validation.set_issuer(&[issuer]);
        validation.set_required_spec_claims(&["iss", "aud", "sub"]);
        validation.validate_exp = false;
        validation.validate_aud = false;
        jsonwebtoken::decode::<serde_json::Map<String, serde_json::Value>>(token, &key.decoding, &validation)
            .ok()
            .map(|data| data.claims)
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
            amr: vec![],
            extra: Default::default(),
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
        let (old, new) = (generate_pem().unwrap(), generate_pem().unwrap());
        let before = Keyring::from_pems(&[old.as_str()]).unwrap();
        let after = Keyring::from_pems(&[new.as_str(), old.as_str()]).unwrap();
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
        let pem = generate_pem().unwrap();
        assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----"), "PKCS#8");
        let a = Keyring::from_pems(&[pem.as_str()]).unwrap();
        let b = Keyring::from_pems(&[pem.as_str()]).unwrap();
        assert_eq!(a.active_kid(), b.active_kid());
        assert!(Keyring::from_pems(&["nope"]).is_err());
        // Keys written earlier as PKCS#1 (`RSA PRIVATE KEY`) still load, with
        // the same kid: the PKCS#1 key is the PKCS#8 document's inner key.
        let pkcs8 = pem::parse(&pem).unwrap();
        let inner = pkcs1_of(pkcs8.contents());
        let pkcs1 = pem::encode(&pem::Pem::new("RSA PRIVATE KEY", inner));
        let c = Keyring::from_pems(&[pkcs1.as_str()]).unwrap();
        assert_eq!(c.active_kid(), a.active_kid());
        let far = chrono::Utc::now().timestamp() + 600;
        assert!(a.verify(&c.sign(&claims(far)).unwrap(), "iss", "aud").is_some());
    }

    /// The `RSAPrivateKey` inside a PKCS#8 `PrivateKeyInfo` (the last
    /// OCTET STRING of the outer SEQUENCE), read with a minimal DER walk.
    fn pkcs1_of(pkcs8: &[u8]) -> Vec<u8> {
        fn header(der: &[u8]) -> (u8, usize, usize) {
            let (tag, first) = (der[0], der[1] as usize);
            if first < 0x80 {
                return (tag, 2, first);
            }
            let n = first & 0x7f;
            let len = der[2..2 + n].iter().fold(0usize, |acc, b| (acc << 8) | *b as usize);
            (tag, 2 + n, len)
        }
        let (_, outer_header, _) = header(pkcs8);
        let mut rest = &pkcs8[outer_header..];
        loop {
            let (tag, head, len) = header(rest);
            if tag == 0x04 {
                return rest[head..head + len].to_vec();
            }
            rest = &rest[head + len..];
        }
    }

    #[test]
    fn tokens_verify_with_the_reference_implementation() {
        // What jsonwebtoken itself signs with the same key verifies here, and
        // the other way round: the hand-assembled token is a standard JWS.
        let pem = generate_pem().unwrap();
        let ring = Keyring::from_pems(&[pem.as_str()]).unwrap();
        let far = chrono::Utc::now().timestamp() + 600;
        let mut header = Header::new(Algorithm::RS256);
        header.kid = ring.active_kid().map(str::to_owned);
        let encoding = jsonwebtoken::EncodingKey::from_rsa_pem(pem.as_bytes()).unwrap();
        let theirs = jsonwebtoken::encode(&header, &claims(far), &encoding).unwrap();
        assert_eq!(ring.verify(&theirs, "iss", "aud"), Some(claims(far)));
        let ours = ring.sign(&claims(far)).unwrap();
        // RSASSA-PKCS1-v1_5 is deterministic: the same bytes either way.
        assert_eq!(ours, theirs);
    }
}
