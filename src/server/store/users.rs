//! Login identities and their argon2id password hashes.

use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::Argon2;

use super::DbError;

/// Normalised login identity: customer codes are case-insensitive (stored upper case),
/// usernames too (stored lower case).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Identity {
    pub customer_code: String,
    pub username: String,
}

impl Identity {
    pub(crate) fn new(customer_code: &str, username: &str) -> Self {
        Self {
            customer_code: customer_code.trim().to_uppercase(),
            username: username.trim().to_lowercase(),
        }
    }

    /// Key of the failed-login throttle.
    /// The customer code's length first, so that no two identities share a key, and no
    /// control character (PostgreSQL text cannot hold NUL).
    pub(crate) fn throttle_key(&self) -> String {
        format!(
            "{}:{}/{}",
            self.customer_code.len(),
            self.customer_code,
            self.username
        )
    }
}

pub fn hash_password(password: &str) -> Result<String, DbError> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|e| DbError::Task(format!("password hashing: {e}")))
}

/// Constant-time check of `password` against a stored PHC string; a malformed hash is a
/// mismatch, not an error.
pub(crate) fn verify_password(stored_hash: &str, password: &str) -> bool {
    PasswordHash::new(stored_hash)
        .map(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_verify_only_against_their_own_hash() {
        let hash = hash_password("demo-password").expect("hash");
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password(&hash, "demo-password"));
        assert!(!verify_password(&hash, "demo-passwore"));
        assert!(!verify_password("not a hash", "demo-password"));
    }
}
