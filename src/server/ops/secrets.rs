//! Random values and private files, for every layer: random tokens, what the store keeps
//! instead of a refresh token, and the data directory's files that only the owner reads.

use std::path::Path;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};

/// `bytes` random bytes, base64url without padding.
pub(crate) fn random_token(bytes: usize) -> String {
    let mut buffer = vec![0u8; bytes];
    rand::rngs::OsRng.fill_bytes(&mut buffer);
    URL_SAFE_NO_PAD.encode(buffer)
}

/// A new refresh token: 256 random bits.
pub(crate) fn new_refresh_token() -> String {
    random_token(32)
}

/// What is stored instead of the refresh token. `None` for anything that is not one of
/// ours, so garbage never reaches the database.
pub(crate) fn refresh_token_hash(token: &str) -> Option<Vec<u8>> {
    let raw = URL_SAFE_NO_PAD.decode(token).ok()?;
    (raw.len() == 32).then(|| Sha256::digest(&raw).to_vec())
}

/// The generated signing key's file in `data_dir` (SQLite deployments).
pub(crate) const SECRET_FILE: &str = "jwt-secret";

/// Creates `dir` (and parents) readable by the owner only; an existing one is left as is.
pub(crate) fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refresh_tokens_are_256_bits_and_hash_only_when_well_formed() {
        let token = new_refresh_token();
        assert_eq!(
            URL_SAFE_NO_PAD.decode(&token).map(|b| b.len()).ok(),
            Some(32)
        );
        assert_eq!(refresh_token_hash(&token).map(|h| h.len()), Some(32));
        assert_ne!(new_refresh_token(), token);
        assert_eq!(refresh_token_hash("garbage!"), None);
        assert_eq!(refresh_token_hash(&random_token(16)), None);
    }
}
