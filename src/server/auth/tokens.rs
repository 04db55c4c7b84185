//! Access tokens: HS256 JWTs with the algorithm pinned, no leeway, checked issuer and
//! audience, and an `iat` that is not in the future; and the signing key (configured, stored in the database, or generated into
//! the data directory).

use std::collections::HashMap;
use std::io::Write;
use std::path::Path;
use std::sync::{Arc, PoisonError, RwLock};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::server::ops::config::{Secret, TokenSettings};
use crate::server::ops::secrets::{create_private_dir, random_token, SECRET_FILE};

/// How far a token's `iat` may lie ahead of this server's clock, and its lifetime beyond
/// the one this server grants: the clocks of several instances differ a little. Beyond
/// it, the token was not minted by an instance of ours but by whoever holds the key.
pub(crate) const CLOCK_ALLOWANCE_SECS: i64 = 5;

/// The `typ` header of every access token (RFC 9068); tokens without it are refused.
pub(crate) const ACCESS_TOKEN_TYPE: &str = "at+jwt";

/// The claims of an access token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct AccessClaims {
    pub iss: String,
    pub aud: String,
    /// User id.
    pub sub: String,
    /// Session (refresh-token family) id.
    pub sid: String,
    /// The session's access version when minted; a forced expiry raises the session's.
    pub ver: i64,
    /// Token id.
    pub jti: String,
    pub iat: i64,
    pub exp: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub(crate) enum TokenError {
    #[error("access token expired")]
    Expired,
    #[error("access token invalid")]
    Invalid,
}

/// Signs and verifies access tokens. Tokens are signed with the current key and name it
/// in their `kid`; the previous key, while configured, still verifies, so rotating the key
/// logs nobody out.
pub(crate) struct AccessTokens {
    encoding: EncodingKey,
    current: VerifyingKey,
    previous: Option<VerifyingKey>,
    validation: Validation,
    issuer: String,
    audience: String,
    verified: Verified,
}

/// Tokens verified before, by their whole text: a token comes back with every call of
/// its lifetime, and checking its signature and claims again costs more than the rest
/// of an authenticated request. Only tokens that verified are kept (so a flood of forged
/// ones adds nothing), each until it expires, and at most [`MAX_VERIFIED`] of them.
#[derive(Default)]
struct Verified(RwLock<HashMap<Box<str>, Arc<AccessClaims>>>);

/// Verified tokens remembered at most (about 600 bytes each).
const MAX_VERIFIED: usize = 50_000;

impl Verified {
    fn get(&self, token: &str) -> Option<Arc<AccessClaims>> {
        let map = self.0.read().unwrap_or_else(PoisonError::into_inner);
        map.get(token).cloned()
    }

    fn insert(&self, token: &str, claims: Arc<AccessClaims>, now_s: i64) {
        let mut map = self.0.write().unwrap_or_else(PoisonError::into_inner);
        if map.len() >= MAX_VERIFIED {
            map.retain(|_, claims| claims.exp >= now_s);
            if map.len() >= MAX_VERIFIED {
                map.clear();
            }
        }
        map.insert(token.into(), claims);
    }
}

#[derive(Clone)]
struct VerifyingKey {
    id: String,
    key: DecodingKey,
}

impl VerifyingKey {
    fn new(secret: &[u8]) -> Self {
        Self {
            id: key_id(secret),
            key: DecodingKey::from_secret(secret),
        }
    }
}

/// A key's `kid`: the start of its SHA-256, which names it without revealing anything.
pub(crate) fn key_id(secret: &[u8]) -> String {
    Sha256::digest(secret)[..6]
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

impl AccessTokens {
    pub(crate) fn new(secret: &[u8], previous: Option<&[u8]>, settings: &TokenSettings) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        // Only HS256 is accepted, whatever the header claims (no `none`, no RS/HS confusion).
        validation.algorithms = vec![Algorithm::HS256];
        // The default 60 s leeway would let a 20 s demo token live three times as long.
        validation.leeway = 0;
        validation.set_issuer(&[&settings.issuer]);
        validation.set_audience(&[&settings.audience]);
        validation.set_required_spec_claims(&["exp", "iat", "sub", "iss", "aud"]);
        Self {
            encoding: EncodingKey::from_secret(secret),
            current: VerifyingKey::new(secret),
            previous: previous.map(VerifyingKey::new),
            validation,
            issuer: settings.issuer.clone(),
            audience: settings.audience.clone(),
            verified: Verified::default(),
        }
    }

    /// Mints a token for `user_id` in `session_id`, valid from `now_s` to `expires_at`.
    pub(crate) fn mint(
        &self,
        user_id: i64,
        session_id: &str,
        version: i64,
        now_s: i64,
        expires_at: i64,
    ) -> String {
        let claims = AccessClaims {
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            sub: user_id.to_string(),
            sid: session_id.to_owned(),
            ver: version,
            jti: random_token(16),
            iat: now_s,
            exp: expires_at,
        };
        let mut header = Header::new(Algorithm::HS256);
        header.typ = Some(ACCESS_TOKEN_TYPE.to_owned());
        header.kid = Some(self.current.id.clone());
        // HS256 over plain claims cannot fail.
        jsonwebtoken::encode(&header, &claims, &self.encoding).unwrap_or_default()
    }

    /// Verifies signature, algorithm, issuer, audience and expiry (in that order of
    /// precedence: a tampered expired token is reported as invalid, not expired).
    /// The claims of a valid access token of ours, checked once per token (see
    /// [`Verified`]); its expiry is checked on every call, with zero leeway as below.
    pub(crate) fn verify(&self, token: &str) -> Result<Arc<AccessClaims>, TokenError> {
        let now_s = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |elapsed| elapsed.as_secs() as i64);
        self.verify_at(token, now_s)
    }

    fn verify_at(&self, token: &str, now_s: i64) -> Result<Arc<AccessClaims>, TokenError> {
        if let Some(claims) = self.verified.get(token) {
            return if claims.exp < now_s {
                Err(TokenError::Expired)
            } else {
                Ok(claims)
            };
        }
        let claims = Arc::new(self.verify_signature_and_claims(token)?);
        if claims.iat > now_s + CLOCK_ALLOWANCE_SECS || claims.exp < claims.iat {
            return Err(TokenError::Invalid);
        }
        self.verified.insert(token, Arc::clone(&claims), now_s);
        Ok(claims)
    }

    fn verify_signature_and_claims(&self, token: &str) -> Result<AccessClaims, TokenError> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| TokenError::Invalid)?;
        // No `kid`: the current key (a token can only be ours if it verifies with it).
        let key = match header.kid.as_deref() {
            None => &self.current,
            Some(id) if id == self.current.id => &self.current,
            Some(id) => self
                .previous
                .as_ref()
                .filter(|previous| previous.id == id)
                .ok_or(TokenError::Invalid)?,
        };
        let data = jsonwebtoken::decode::<AccessClaims>(token, &key.key, &self.validation)
            .map_err(|e| match e.kind() {
                ErrorKind::ExpiredSignature => TokenError::Expired,
                _ => TokenError::Invalid,
            })?;
        // A JWT of ours minted for something else (or by an older version) is not an
        // access token (RFC 8725 §3.11, RFC 9068).
        if data.header.typ.as_deref() != Some(ACCESS_TOKEN_TYPE) {
            return Err(TokenError::Invalid);
        }
        Ok(data.claims)
    }
}

/// A new signing key as it is stored: 256 random bits, URL-safe base64.
pub(crate) fn generate_key_text() -> String {
    random_token(32)
}

/// The signing key: the configured one, or one generated on first start and kept in
/// `data_dir/jwt-secret` (mode 0600, 256 random bits as base64url) so restarts keep every
/// session. Keys are the decoded bytes, never the text (see [`Secret::key_bytes`]).
pub(crate) fn load_or_create_secret(
    configured: &Secret,
    data_dir: &Path,
) -> std::io::Result<Vec<u8>> {
    let invalid = |message: String| std::io::Error::new(std::io::ErrorKind::InvalidData, message);
    if !configured.is_empty() {
        return configured
            .key_bytes()
            .ok_or_else(|| invalid("tokens.jwt_secret is not 32+ bytes of base64 or hex".into()));
    }
    let path = data_dir.join(SECRET_FILE);
    refuse_if_readable_by_others(&path)?;
    match std::fs::read_to_string(&path) {
        Ok(stored) => {
            return Secret::new(stored.trim()).key_bytes().ok_or_else(|| {
                invalid(format!(
                    "{} does not hold 32+ random bytes (base64 or hex)",
                    path.display()
                ))
            })
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    create_private_dir(data_dir)?;
    let mut key = vec![0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut key);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options
        .open(&path)?
        .write_all(URL_SAFE_NO_PAD.encode(&key).as_bytes())?;
    Ok(key)
}

/// A signing secret that group or others can read is as good as published: refuse it.
fn refuse_if_readable_by_others(path: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    if let Ok(metadata) = std::fs::metadata(path) {
        use std::os::unix::fs::PermissionsExt;
        let mode = metadata.permissions().mode();
        if mode & 0o077 != 0 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::PermissionDenied,
                format!(
                    "{} is readable by group or others (mode {:o}); fix with: chmod 600 {}",
                    path.display(),
                    mode & 0o777,
                    path.display()
                ),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::ops::config::Settings;

    fn tokens() -> AccessTokens {
        AccessTokens::new(
            b"0123456789abcdef0123456789abcdef",
            None,
            &Settings::default().tokens,
        )
    }

    const NOW: i64 = 1_800_000_000;

    fn now() -> i64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(NOW)
    }

    #[test]
    fn a_fresh_token_verifies_with_its_claims() {
        let t = tokens();
        let token = t.mint(7, "s1", 3, now(), now() + 30);
        let claims = t.verify(&token).expect("valid");
        assert_eq!(
            (claims.sub.as_str(), claims.sid.as_str(), claims.ver),
            ("7", "s1", 3)
        );
    }

    #[test]
    fn a_token_one_second_past_exp_is_expired_without_leeway() {
        let t = tokens();
        let token = t.mint(7, "s1", 0, now() - 31, now() - 1);
        assert_eq!(t.verify(&token), Err(TokenError::Expired));
    }

    #[test]
    fn a_token_issued_in_the_future_is_invalid_beyond_the_clock_allowance() {
        let t = tokens();
        let now = now();
        let ahead = t.mint(7, "s1", 0, now + CLOCK_ALLOWANCE_SECS, now + 60);
        assert!(t.verify_at(&ahead, now).is_ok(), "another instance's clock");
        let minted_later = t.mint(7, "s1", 0, now + CLOCK_ALLOWANCE_SECS + 1, now + 60);
        assert_eq!(t.verify_at(&minted_later, now), Err(TokenError::Invalid));
        let a_day_ahead = t.mint(7, "s1", 0, now + 86_400, now + 86_430);
        assert_eq!(t.verify_at(&a_day_ahead, now), Err(TokenError::Invalid));
        let ends_before_it_starts = t.mint(7, "s1", 0, now + 3, now + 1);
        assert_eq!(
            t.verify_at(&ends_before_it_starts, now),
            Err(TokenError::Invalid)
        );
    }

    #[test]
    fn a_verified_token_is_remembered_until_it_expires_and_a_forged_one_never() {
        let t = tokens();
        let token = t.mint(7, "s1", 0, now(), now() + 30);
        let first = t.verify(&token).expect("valid");
        let again = t.verify(&token).expect("still valid");
        assert!(
            Arc::ptr_eq(&first, &again),
            "the second check is the remembered one"
        );
        assert_eq!(
            t.verify_at(&token, now() + 30).map(|c| c.sub.clone()),
            Ok("7".into())
        );
        assert_eq!(t.verify_at(&token, now() + 31), Err(TokenError::Expired));
        let mut forged = token.clone();
        forged.pop();
        forged.push(if token.ends_with('A') { 'B' } else { 'A' });
        for _ in 0..2 {
            assert_eq!(t.verify(&forged), Err(TokenError::Invalid));
        }
        assert_eq!(
            t.verified.0.read().expect("lock").len(),
            1,
            "only the valid one"
        );
    }

    #[test]
    fn another_secret_issuer_or_audience_is_invalid() {
        let token = tokens().mint(7, "s1", 0, now(), now() + 30);
        let other = AccessTokens::new(
            b"another-secret-another-secret-xx",
            None,
            &Settings::default().tokens,
        );
        assert_eq!(other.verify(&token), Err(TokenError::Invalid));
        let mut settings = Settings::default().tokens;
        settings.audience = "someone-else".into();
        let other_audience =
            AccessTokens::new(b"0123456789abcdef0123456789abcdef", None, &settings);
        assert_eq!(other_audience.verify(&token), Err(TokenError::Invalid));
    }

    #[test]
    fn a_generated_secret_is_kept_and_reused() {
        let dir = tempfile::tempdir().expect("temp dir");
        let first = load_or_create_secret(&Secret::default(), dir.path()).expect("created");
        let second = load_or_create_secret(&Secret::default(), dir.path()).expect("read back");
        assert_eq!(first, second);
        assert_eq!(first.len(), 32, "256 random bits");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join("jwt-secret"))
                .expect("file")
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let hex = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
        assert_eq!(
            load_or_create_secret(&Secret::new(hex), dir.path()).expect("configured"),
            Secret::new(hex).key_bytes().expect("hex")
        );
    }

    #[test]
    fn a_rotated_key_still_verifies_tokens_of_the_previous_one_until_it_is_dropped() {
        let settings = Settings::default().tokens;
        let (old, new) = (
            b"old-key-old-key-old-key-old-key!",
            b"new-key-new-key-new-key-new-key!",
        );
        let before = AccessTokens::new(old, None, &settings);
        let during = AccessTokens::new(new, Some(old), &settings);
        let after = AccessTokens::new(new, None, &settings);
        let old_token = before.mint(1, "s", 0, now(), now() + 30);
        let new_token = during.mint(1, "s", 0, now(), now() + 30);
        assert!(
            during.verify(&old_token).is_ok(),
            "the previous key still verifies"
        );
        assert!(during.verify(&new_token).is_ok());
        assert!(
            after.verify(&new_token).is_ok(),
            "signed with the new key all along"
        );
        assert_eq!(after.verify(&old_token), Err(TokenError::Invalid));
        assert_eq!(before.verify(&new_token), Err(TokenError::Invalid));
        assert_ne!(key_id(old), key_id(new));
    }
}
