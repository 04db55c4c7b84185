//! The signing key as a shared database stores it: wrapped under the operator's
//! key-encryption key (`tokens.key_encryption_key`) when there is one, so that a copy of
//! the database (a backup, a replica) does not hand out the key that mints access tokens.
//!
//! Wrapped keys are XChaCha20-Poly1305 ciphertexts under a random 192-bit nonce, bound to
//! what they are (the associated data), written as `wrapped:v1:` and URL-safe base64 of
//! nonce and ciphertext; anything else in the column is a key stored in plain text.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use sha2::{Digest, Sha256};

use crate::server::ops::config::Secret;
use crate::server::store::{DbError, Store};

const PREFIX: &str = "wrapped:v1:";
/// What a wrapped value is, authenticated with it: a value copied into another column or
/// another format version does not open.
const ASSOCIATED_DATA: &[u8] = b"painless shared signing key v1";
const NONCE_BYTES: usize = 24;

/// The operator's key-encryption key.
pub(crate) struct KeyEncryptionKey(XChaCha20Poly1305);

/// Why a stored value did not open.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub(crate) enum UnwrapError {
    #[error("the stored signing key is not a wrapped value of this version")]
    Malformed,
    #[error("the key-encryption key does not open the stored signing key (another key, or the value was changed)")]
    WrongKey,
}

impl KeyEncryptionKey {
    /// The key from its configured text: 32+ random bytes as base64 or hex (the rule of
    /// every key in the settings), hashed to the cipher's 256 bits. `None` if it is not one.
    pub(crate) fn from_secret(secret: &Secret) -> Option<Self> {
        let bytes = secret.key_bytes()?;
        let key = Sha256::digest(bytes);
        Some(Self(XChaCha20Poly1305::new(&key)))
    }

    /// `key_text` wrapped, as it is stored.
    pub(crate) fn wrap(&self, key_text: &str) -> String {
        let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
        let payload = Payload {
            msg: key_text.as_bytes(),
            aad: ASSOCIATED_DATA,
        };
        // Encrypting a short message in memory cannot fail.
        let ciphertext = self.0.encrypt(&nonce, payload).unwrap_or_default();
        let mut sealed = nonce.to_vec();
        sealed.extend_from_slice(&ciphertext);
        format!("{PREFIX}{}", URL_SAFE_NO_PAD.encode(sealed))
    }

    /// The key text inside a stored wrapped value.
    pub(crate) fn unwrap(&self, stored: &str) -> Result<String, UnwrapError> {
        let sealed = stored
            .strip_prefix(PREFIX)
            .and_then(|encoded| URL_SAFE_NO_PAD.decode(encoded).ok())
            .filter(|sealed| sealed.len() > NONCE_BYTES)
            .ok_or(UnwrapError::Malformed)?;
        let (nonce, ciphertext) = sealed.split_at(NONCE_BYTES);
        let nonce: [u8; NONCE_BYTES] = nonce.try_into().map_err(|_| UnwrapError::Malformed)?;
        let payload = Payload {
            msg: ciphertext,
            aad: ASSOCIATED_DATA,
        };
        let plain = self
            .0
            .decrypt(&XNonce::from(nonce), payload)
            .map_err(|_| UnwrapError::WrongKey)?;
        String::from_utf8(plain).map_err(|_| UnwrapError::Malformed)
    }
}

/// Whether a stored value is wrapped (else it is the key in plain text).
pub(crate) fn is_wrapped(stored: &str) -> bool {
    stored.starts_with(PREFIX)
}

/// Why the shared signing key could not be had.
#[derive(Debug, thiserror::Error)]
pub(crate) enum SharedKeyError {
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("{0}: set the tokens.key_encryption_key it was wrapped with")]
    Unwrap(#[from] UnwrapError),
    #[error("the database holds a wrapped signing key: set tokens.key_encryption_key (or tokens.key_encryption_key_file) to the key it was wrapped with")]
    KeyEncryptionKeyMissing,
}

/// The text of the signing key every instance shares, `candidate` if none is stored yet;
/// `None` where each instance keeps its own (SQLite). With a key-encryption key a new key
/// is stored wrapped and a plain one is wrapped now; without one, a plain key is used
/// with a warning and a wrapped one is refused.
pub(crate) async fn shared_signing_key(
    store: &Store,
    candidate: String,
    kek: Option<&KeyEncryptionKey>,
) -> Result<Option<String>, SharedKeyError> {
    let to_store = kek.map_or_else(|| candidate.clone(), |kek| kek.wrap(&candidate));
    let Some(stored) = store.shared_signing_key(to_store).await? else {
        return Ok(None);
    };
    let key_text = match (kek, is_wrapped(&stored)) {
        (Some(kek), true) => kek.unwrap(&stored)?,
        (Some(kek), false) => {
            let wrapped = kek.wrap(&stored);
            if store
                .replace_shared_signing_key(stored.clone(), wrapped)
                .await?
            {
                tracing::info!("the signing key stored in the database is now wrapped by tokens.key_encryption_key");
            }
            stored
        }
        (None, true) => return Err(SharedKeyError::KeyEncryptionKeyMissing),
        (None, false) => {
            tracing::warn!(
                "the database holds the signing key in plain text: whoever reads a copy of it \
                 can mint access tokens; set tokens.jwt_secret or tokens.key_encryption_key \
                 (docs/security.md)"
            );
            stored
        }
    };
    Ok(Some(key_text))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kek(text: &str) -> KeyEncryptionKey {
        KeyEncryptionKey::from_secret(&Secret::new(text)).expect("a key")
    }

    const KEK: &str = "6q0X2o3Ckp9p3sM1Zr0xVQ2uBq4m8vJm5fGQ0zQ9k1Y";
    const OTHER: &str = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

    #[test]
    fn a_wrapped_key_opens_with_its_key_only_and_never_shows_the_key() {
        let key_text = "x2cB6-wQ9e2w8m0Q7bq8yS5oR5bV0o9tq3H2yq3kS6w";
        let wrapped = kek(KEK).wrap(key_text);
        assert!(is_wrapped(&wrapped));
        assert!(!is_wrapped(key_text));
        assert!(!wrapped.contains(key_text));
        assert_ne!(wrapped, kek(KEK).wrap(key_text), "a fresh nonce each time");
        assert_eq!(kek(KEK).unwrap(&wrapped).as_deref(), Ok(key_text));
        assert_eq!(kek(OTHER).unwrap(&wrapped), Err(UnwrapError::WrongKey));
    }

    #[test]
    fn a_changed_or_malformed_value_does_not_open() {
        let wrapped = kek(KEK).wrap("the key");
        // One bit of the ciphertext flipped, the encoding kept valid.
        let mut sealed = URL_SAFE_NO_PAD
            .decode(wrapped.strip_prefix(PREFIX).expect("prefix"))
            .expect("base64");
        let last = sealed.len() - 1;
        sealed[last] ^= 1;
        let changed = format!("{PREFIX}{}", URL_SAFE_NO_PAD.encode(sealed));
        assert_eq!(kek(KEK).unwrap(&changed), Err(UnwrapError::WrongKey));
        for malformed in [
            "",
            "the key",
            "wrapped:v1:",
            "wrapped:v1:%%%",
            "wrapped:v1:AAAA",
        ] {
            assert_eq!(
                kek(KEK).unwrap(malformed),
                Err(UnwrapError::Malformed),
                "{malformed:?}"
            );
        }
    }

    #[test]
    fn a_passphrase_is_not_a_key_encryption_key() {
        assert!(KeyEncryptionKey::from_secret(&Secret::new("hunter2")).is_none());
    }
}
