//! A software passkey authenticator (feature `test-support`): what a
//! browser and a platform authenticator return to `navigator.credentials
//! .create()` and `.get()`, as `PublicKeyCredential.toJSON()` writes it.
//! ES256 keys, "none" attestation, user presence and verification, a
//! discoverable credential with its user handle, a counter. Its knobs
//! (origin, relying party, user verification) make the hostile cases.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use p256::ecdsa::signature::Signer;
use p256::ecdsa::{Signature, SigningKey};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// One credential on a software authenticator.
pub struct SoftAuthenticator {
    key: SigningKey,
    credential_id: Vec<u8>,
    user_handle: Vec<u8>,
    /// The relying party the credential was made for.
    pub rp_id: String,
    pub counter: u32,
    /// Whether the user is verified (PIN, biometrics) in the next answers.
    pub user_verified: bool,
}

fn b64(bytes: &[u8]) -> String {
    B64.encode(bytes)
}

fn text(out: &mut Vec<u8>, s: &str) {
    head(out, 3, s.len());
    out.extend_from_slice(s.as_bytes());
}

fn bytes(out: &mut Vec<u8>, b: &[u8]) {
    head(out, 2, b.len());
    out.extend_from_slice(b);
}

/// A CBOR item head of major type `major` and length `len`.
fn head(out: &mut Vec<u8>, major: u8, len: usize) {
    let major = major << 5;
    match len {
        0..=23 => out.push(major | len as u8),
        24..=255 => out.extend_from_slice(&[major | 24, len as u8]),
        _ => {
            out.push(major | 25);
            out.extend_from_slice(&(len as u16).to_be_bytes());
        }
    }
}

impl SoftAuthenticator {
    /// A new credential (its key and id drawn from `seed`) for `rp_id`.
    pub fn new(seed: &str, rp_id: &str) -> Self {
        let secret = Sha256::digest(format!("soft-authenticator:{seed}").as_bytes());
        let key = SigningKey::from_slice(&secret).expect("a valid P-256 scalar");
        let credential_id = Sha256::digest(format!("credential:{seed}").as_bytes())[..16].to_vec();
        Self { key, credential_id, user_handle: Vec::new(), rp_id: rp_id.to_owned(), counter: 0, user_verified: true }
    }

    fn flags(&self, attested: bool) -> u8 {
        0x01 | if self.user_verified { 0x04 } else { 0 } | if attested { 0x40 } else { 0 }
    }

    /// The COSE_Key of the public key (EC2, P-256, ES256).
    fn cose_key(&self) -> Vec<u8> {
        let point = self.key.verifying_key().to_sec1_point(false);
        let xy = &point.as_bytes()[1..];
        let mut out = vec![0xa5, 0x01, 0x02, 0x03, 0x26, 0x20, 0x01, 0x21];
        bytes(&mut out, &xy[..32]);
        out.push(0x22);
        bytes(&mut out, &xy[32..]);
        out
    }

    fn client_data(kind: &str, options: &Value, origin: &str) -> Vec<u8> {
        let challenge = options["challenge"].as_str().expect("options carry a challenge");
        serde_json::to_vec(&json!({ "type": kind, "challenge": challenge, "origin": origin, "crossOrigin": false }))
            .expect("JSON")
    }

    /// `navigator.credentials.create({publicKey: options})` on `origin`:
    /// the credential as `toJSON()` gives it.
    pub fn create(&mut self, options: &Value, origin: &str) -> Value {
        let handle = options["user"]["id"].as_str().expect("a user id");
        self.user_handle = B64.decode(handle).expect("base64url user id");
        let client_data = Self::client_data("webauthn.create", options, origin);
        let mut auth_data = Sha256::digest(self.rp_id.as_bytes()).to_vec();
        auth_data.push(self.flags(true));
        auth_data.extend_from_slice(&self.counter.to_be_bytes());
        auth_data.extend_from_slice(&[0; 16]);
        auth_data.extend_from_slice(&(self.credential_id.len() as u16).to_be_bytes());
        auth_data.extend_from_slice(&self.credential_id);
        auth_data.extend_from_slice(&self.cose_key());
        let mut attestation = vec![0xa3];
        text(&mut attestation, "fmt");
        text(&mut attestation, "none");
        text(&mut attestation, "attStmt");
        attestation.push(0xa0);
        text(&mut attestation, "authData");
        bytes(&mut attestation, &auth_data);
        json!({
            "id": b64(&self.credential_id), "rawId": b64(&self.credential_id), "type": "public-key",
            "authenticatorAttachment": "platform",
            "response": {
                "clientDataJSON": b64(&client_data), "attestationObject": b64(&attestation),
                "transports": ["internal"],
            },
            "clientExtensionResults": {},
        })
    }

    /// `navigator.credentials.get({publicKey: options})` on `origin`: the
    /// assertion as `toJSON()` gives it (the counter moves on).
    pub fn get(&mut self, options: &Value, origin: &str) -> Value {
        self.counter += 1;
        let client_data = Self::client_data("webauthn.get", options, origin);
        let mut auth_data = Sha256::digest(self.rp_id.as_bytes()).to_vec();
        auth_data.push(self.flags(false));
        auth_data.extend_from_slice(&self.counter.to_be_bytes());
        let mut signed = auth_data.clone();
        signed.extend_from_slice(&Sha256::digest(&client_data));
        let signature: Signature = self.key.sign(&signed);
        json!({
            "id": b64(&self.credential_id), "rawId": b64(&self.credential_id), "type": "public-key",
            "authenticatorAttachment": "platform",
            "response": {
                "clientDataJSON": b64(&client_data), "authenticatorData": b64(&auth_data),
                "signature": b64(signature.to_der().as_bytes()), "userHandle": b64(&self.user_handle),
            },
            "clientExtensionResults": {},
        })
    }
}
