//! Users and their argon2id password hashes; demo users are created from the settings.

use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::Argon2;
use rusqlite::{params, Connection};

use super::config::DemoUser;
use super::db::{optional, DbError};
use super::sessions::UserRecord;

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
    pub(crate) fn throttle_key(&self) -> String {
        format!("{}\u{0}{}", self.customer_code, self.username)
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

/// The user and stored hash for a login attempt.
pub(crate) fn find_for_login(
    connection: &Connection,
    identity: &Identity,
) -> Result<Option<(UserRecord, String)>, DbError> {
    optional(connection.query_row(
        "SELECT id, customer_code, username, display_name, password_hash, is_demo
         FROM users WHERE customer_code = ?1 AND username = ?2",
        params![identity.customer_code, identity.username],
        |row| {
            Ok((
                UserRecord {
                    id: row.get(0)?,
                    customer_code: row.get(1)?,
                    username: row.get(2)?,
                    display_name: row.get(3)?,
                    is_demo: row.get(5)?,
                },
                row.get(4)?,
            ))
        },
    ))
}

/// How many demo users the database holds (locked out while demo mode is off).
pub(crate) fn count_demo_users(connection: &Connection) -> Result<i64, DbError> {
    Ok(
        connection.query_row("SELECT count(*) FROM users WHERE is_demo = 1", [], |row| {
            row.get(0)
        })?,
    )
}

/// Creates or updates a demo user. The stored hash is kept when the password still
/// matches, so restarts do not rehash (and existing sessions keep their user id).
pub(crate) fn upsert_demo_user(connection: &Connection, user: &DemoUser) -> Result<(), DbError> {
    let identity = Identity::new(&user.customer_code, &user.username);
    let existing = find_for_login(connection, &identity)?;
    let password_hash = match &existing {
        Some((_, hash)) if verify_password(hash, user.password.expose()) => hash.clone(),
        _ => hash_password(user.password.expose())?,
    };
    connection.execute(
        "INSERT INTO users (customer_code, username, display_name, password_hash, is_demo)
         VALUES (?1, ?2, ?3, ?4, 1)
         ON CONFLICT (customer_code, username) DO UPDATE
         SET display_name = excluded.display_name, password_hash = excluded.password_hash,
             is_demo = 1",
        params![
            identity.customer_code,
            identity.username,
            user.display_name,
            password_hash
        ],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::config::Secret;
    use crate::server::db::Db;

    #[test]
    fn passwords_verify_only_against_their_own_hash() {
        let hash = hash_password("demo-password").expect("hash");
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password(&hash, "demo-password"));
        assert!(!verify_password(&hash, "demo-passwore"));
        assert!(!verify_password("not a hash", "demo-password"));
    }

    #[test]
    fn demo_users_are_upserted_with_normalised_identities() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("users.db");
        drop(Db::open(&path).expect("migrated"));
        let connection = Connection::open(&path).expect("open");
        let mut user = DemoUser {
            customer_code: " acme ".into(),
            username: "Demo".into(),
            password: Secret::new("demo-password"),
            display_name: "Dana".into(),
        };
        upsert_demo_user(&connection, &user).expect("insert");
        let (found, first_hash) = find_for_login(&connection, &Identity::new("ACME", "demo"))
            .expect("query")
            .expect("found");
        assert_eq!(
            (found.customer_code.as_str(), found.username.as_str()),
            ("ACME", "demo")
        );
        upsert_demo_user(&connection, &user).expect("unchanged");
        let (_, same_hash) = find_for_login(&connection, &Identity::new("acme", "DEMO"))
            .expect("q")
            .expect("f");
        assert_eq!(
            first_hash, same_hash,
            "an unchanged password is not rehashed"
        );
        user.password = Secret::new("another-password");
        user.display_name = "Dana D.".into();
        upsert_demo_user(&connection, &user).expect("update");
        let (found, new_hash) = find_for_login(&connection, &Identity::new("ACME", "demo"))
            .expect("q")
            .expect("f");
        assert_eq!(found.display_name, "Dana D.");
        assert!(verify_password(&new_hash, "another-password"));
    }
}
