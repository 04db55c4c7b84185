//! The store's behaviour, on every backend: SQLite always, PostgreSQL as well when
//! `TEST_POSTGRES` names a server (`scripts/test.sh` starts one), each test on a
//! database of its own.

use std::time::Duration;

use super::records::{RefreshError, RefreshPolicy, SessionRecord};
use super::*;
use crate::api::ErrCode;
use crate::server::ops::config::Secret;
use crate::server::ops::secrets::{new_refresh_token, refresh_token_hash};

const T0: Timestamp = Timestamp::from_unix_ms(1_800_000_000_000);
const GRACE: Duration = Duration::from_secs(10);
const POLICY: RefreshPolicy = RefreshPolicy {
    grace: GRACE,
    idle: Duration::from_secs(600), // a sixth of the session's lifetime
    demo_users: true,
};
const LIFETIME: Duration = Duration::from_secs(3_600);

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// A fresh store with one user, and what keeps its database alive.
struct Fixture {
    store: Store,
    user_id: i64,
    _dir: tempfile::TempDir,
}

/// The PostgreSQL server to test against, if any: `postgres://user@host:port`.
pub(crate) fn postgres_server() -> Option<String> {
    std::env::var("TEST_POSTGRES")
        .ok()
        .filter(|url| !url.is_empty())
}

/// Settings of a store of its own on `backend`: a new SQLite file in `dir`, or a new
/// database on the test's PostgreSQL server.
async fn settings_for(backend: &str, dir: &std::path::Path) -> Settings {
    let mut settings = Settings::default();
    settings.server.data_dir = dir.to_path_buf();
    if backend == "postgres" {
        let server = postgres_server().expect("a PostgreSQL server");
        let name = format!(
            "unit_{}",
            crate::server::ops::secrets::random_token(8)
                .to_lowercase()
                .replace(['-', '_'], "x")
        );
        let mut admin =
            <sqlx::PgConnection as sqlx::Connection>::connect(&format!("{server}/postgres"))
                .await
                .expect("the test PostgreSQL server answers");
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut admin)
            .await
            .expect("create database");
        settings.server.database = Secret::new(format!("{server}/{name}"));
    }
    settings
}

fn backends() -> Vec<&'static str> {
    let mut backends = vec!["sqlite"];
    if postgres_server().is_some() {
        backends.push("postgres");
    } else {
        eprintln!("TEST_POSTGRES is not set: store tests run on SQLite only");
    }
    backends
}

async fn fixture(backend: &str) -> Fixture {
    let dir = tempfile::tempdir().expect("temp dir");
    let settings = settings_for(backend, dir.path()).await;
    let store = Store::open(&settings).await.expect("store opens");
    let user_id = seed_demo_user(&store).await;
    Fixture {
        store,
        user_id,
        _dir: dir,
    }
}

/// Dana, ACME's demo user, put into `store`: her id.
async fn seed_demo_user(store: &Store) -> i64 {
    let user = DemoUser {
        customer_code: "ACME".into(),
        username: "demo".into(),
        password: Secret::new("demo-password"),
        display_name: "Dana".into(),
    };
    store.seed_demo_users(&[user]).await.expect("user");
    let (found, _) = store
        .find_user(&Identity::new("ACME", "demo"))
        .await
        .expect("query")
        .expect("user exists");
    found.id
}

impl Fixture {
    async fn login(&self) -> (String, String) {
        let (found, token) = self
            .store
            .start_session(self.user_id, T0, LIFETIME)
            .await
            .expect("login");
        (found.session.id, token)
    }

    async fn rotate(&self, token: &str, at: Timestamp) -> Result<Refreshed, RefreshError> {
        self.store.rotate(Some(token.to_owned()), at, POLICY).await
    }

    async fn rotated(&self, token: &str, at: Timestamp) -> String {
        let refreshed = self.rotate(token, at).await.expect("rotates");
        assert_eq!(
            refreshed.grace_ends_at, None,
            "a rotation, not a grace answer"
        );
        refreshed.new_refresh_token
    }

    async fn session(&self, id: &str) -> SessionRecord {
        self.store
            .load_session(id)
            .await
            .expect("query")
            .expect("exists")
            .session
    }

    async fn counters(&self, session: Option<&str>) -> Counters {
        self.store.read_counters(session).await.expect("counters")
    }
}

/// Runs the test body once per backend, naming the backend when it fails.
macro_rules! on_every_backend {
    (|$f:ident| $body:block) => {
        for backend in backends() {
            let $f = fixture(backend).await;
            let run = async { $body };
            futures::FutureExt::catch_unwind(std::panic::AssertUnwindSafe(run))
                .await
                .unwrap_or_else(|panic| {
                    eprintln!("failed on the {backend} backend");
                    std::panic::resume_unwind(panic)
                });
        }
    };
}

/// SQLite's half is `sql.rs`'s own test, which also checks the parameters' order.
#[tokio::test]
async fn every_statement_prepares_on_postgres() {
    if postgres_server().is_none() {
        eprintln!("TEST_POSTGRES is not set: the statements are checked on SQLite only");
        return;
    }
    let f = fixture("postgres").await;
    let pool = f.store.postgres_pool().expect("a pool");
    for (name, statement) in super::sql::ALL.iter().chain(super::sql::postgres_only::ALL) {
        if let Err(error) =
            sqlx::Executor::prepare(&pool, sqlx::SqlSafeStr::into_sql_str(*statement)).await
        {
            panic!("{name} does not prepare on PostgreSQL: {error}");
        }
    }
}

#[tokio::test]
async fn a_current_token_rotates_into_a_new_one_and_is_spent() {
    on_every_backend!(|f| {
        let (id, first) = f.login().await;
        let second = f.rotated(&first, T0 + ms(1_000)).await;
        assert_ne!(first, second);
        let third = f.rotated(&second, T0 + ms(2_000)).await;
        assert_ne!(second, third);
        let counters = f.counters(None).await;
        assert_eq!(
            (counters.rotations, counters.refreshes, counters.logins),
            (2, 2, 1)
        );
        assert_eq!(f.counters(Some(&id)).await.rotations, 2);
    });
}

#[tokio::test]
async fn the_token_just_spent_gets_a_grace_answer_inside_the_window() {
    on_every_backend!(|f| {
        let (id, first) = f.login().await;
        let spent_at = T0 + ms(1_000);
        let second = f.rotated(&first, spent_at).await;
        let again = f
            .rotate(&first, spent_at + GRACE - ms(1))
            .await
            .expect("grace");
        assert_ne!(
            again.new_refresh_token, second,
            "a sibling, not the successor"
        );
        assert_eq!(again.grace_ends_at, Some(spent_at + GRACE));
        assert!(f.session(&id).await.is_live(T0));
        // The successor still works: the racing tab did not break the family.
        f.rotated(&second, T0 + ms(20_000)).await;
        let counters = f.counters(Some(&id)).await;
        assert_eq!(
            (
                counters.rotations,
                counters.grace_refreshes,
                counters.reuse_detections
            ),
            (2, 1, 0)
        );
    });
}

/// The rotation committed but its answer never arrived: the client still holds the spent
/// token. Its repeat inside the window carries a sibling, which works for every refresh
/// after, long past the window; the successor nobody received is spent with it.
#[tokio::test]
async fn a_lost_rotation_answer_costs_no_session() {
    on_every_backend!(|f| {
        let (id, first) = f.login().await;
        let spent_at = T0 + ms(1_000);
        let lost = f.rotated(&first, spent_at).await;
        let repeat = f
            .rotate(&first, spent_at + ms(4_000))
            .await
            .expect("the repeat inside the window");
        let sibling = repeat.new_refresh_token;
        // One access lifetime later, far outside the window.
        let third = f.rotated(&sibling, spent_at + ms(60_000)).await;
        f.rotated(&third, spent_at + ms(120_000)).await;
        assert!(f.session(&id).await.is_live(spent_at + ms(120_000)));
        let counters = f.counters(Some(&id)).await;
        assert_eq!(
            (
                counters.rotations,
                counters.grace_refreshes,
                counters.reuse_detections
            ),
            (3, 1, 0)
        );
        // The lost successor was spent by the sibling's rotation: whoever shows it now
        // holds a copy, and the family ends.
        assert!(matches!(
            f.rotate(&lost, spent_at + ms(180_000)).await,
            Err(RefreshError::Reused(_))
        ));
        assert!(f.session(&id).await.revoked);
    });
}

/// The same repeat after the window is reuse, as before: the lost answer is forgiven only
/// while the client could still be retrying.
#[tokio::test]
async fn a_repeat_after_the_window_still_revokes_the_family() {
    on_every_backend!(|f| {
        let (id, first) = f.login().await;
        let spent_at = T0 + ms(1_000);
        f.rotated(&first, spent_at).await;
        assert!(matches!(
            f.rotate(&first, spent_at + GRACE).await,
            Err(RefreshError::Reused(_))
        ));
        assert!(f.session(&id).await.revoked);
    });
}

/// A sibling presented after the family moved on (its twin was rotated) is a copy, even
/// inside the window of the sibling's own spending: it gets a grace answer only while the
/// token that spent it is unused.
#[tokio::test]
async fn siblings_follow_the_same_rules_as_the_successor() {
    on_every_backend!(|f| {
        let (id, first) = f.login().await;
        let second = f.rotated(&first, T0 + ms(1_000)).await;
        let sibling = f
            .rotate(&first, T0 + ms(2_000))
            .await
            .expect("grace")
            .new_refresh_token;
        let third = f.rotated(&second, T0 + ms(30_000)).await;
        // The sibling was spent by that rotation a moment ago, and `third` is unused: a
        // racing tab, a grace answer.
        let racing = f.rotate(&sibling, T0 + ms(31_000)).await.expect("grace");
        assert_eq!(racing.grace_ends_at, Some(T0 + ms(30_000) + GRACE));
        f.rotated(&third, T0 + ms(60_000)).await;
        assert!(matches!(
            f.rotate(&sibling, T0 + ms(61_000)).await,
            Err(RefreshError::Reused(_))
        ));
        assert!(f.session(&id).await.revoked);
    });
}

#[tokio::test]
async fn a_spent_token_outside_the_window_revokes_the_whole_family() {
    on_every_backend!(|f| {
        let (id, first) = f.login().await;
        let second = f.rotated(&first, T0 + ms(1_000)).await;
        let reuse = f.rotate(&first, T0 + ms(1_000) + GRACE).await;
        assert!(matches!(reuse, Err(RefreshError::Reused(_))), "{reuse:?}");
        assert!(f.session(&id).await.revoked);
        // The legitimate successor dies with the family.
        assert!(matches!(
            f.rotate(&second, T0 + ms(20_000)).await,
            Err(RefreshError::Revoked(_))
        ));
        assert_eq!(f.counters(None).await.reuse_detections, 1);
    });
}

#[tokio::test]
async fn a_token_two_rotations_old_is_reuse_even_inside_the_window() {
    on_every_backend!(|f| {
        let (id, first) = f.login().await;
        let second = f.rotated(&first, T0 + ms(1_000)).await;
        f.rotated(&second, T0 + ms(2_000)).await;
        assert!(matches!(
            f.rotate(&first, T0 + ms(3_000)).await,
            Err(RefreshError::Reused(_))
        ));
        assert!(f.session(&id).await.revoked);
    });
}

#[tokio::test]
async fn a_revoked_or_expired_session_cannot_refresh() {
    on_every_backend!(|f| {
        let (id, token) = f.login().await;
        f.store.revoke(&id, T0, "logout").await.expect("revoke");
        assert!(matches!(
            f.rotate(&token, T0 + ms(1)).await,
            Err(RefreshError::Revoked(_))
        ));
        let (_, token) = f.login().await;
        assert!(matches!(
            f.rotate(&token, T0 + LIFETIME).await,
            Err(RefreshError::Expired(_))
        ));
    });
}

#[tokio::test]
async fn a_token_unused_for_the_idle_timeout_ends_the_session_and_each_rotation_renews_it() {
    on_every_backend!(|f| {
        let (id, token) = f.login().await;
        let idle = POLICY.idle;
        let renewed = f.rotated(&token, T0 + idle - ms(1)).await;
        assert!(
            f.rotate(&renewed, T0 + 2 * idle - ms(2)).await.is_ok(),
            "the clock restarts with every rotation"
        );
        let (id2, token2) = f.login().await;
        assert!(matches!(
            f.rotate(&token2, T0 + idle).await,
            Err(RefreshError::Idle(ref who)) if who.session == id2
        ));
        assert!(
            f.session(&id2).await.revoked,
            "an idle session ends for good"
        );
        assert!(!f.session(&id).await.revoked);
    });
}

#[tokio::test]
async fn missing_garbage_and_unknown_tokens_are_refused_and_counted() {
    on_every_backend!(|f| {
        assert!(matches!(
            f.store.rotate(None, T0, POLICY).await,
            Err(RefreshError::Missing)
        ));
        assert!(matches!(
            f.rotate("not-a-token", T0).await,
            Err(RefreshError::Unknown)
        ));
        assert!(matches!(
            f.rotate(&new_refresh_token(), T0).await,
            Err(RefreshError::Unknown)
        ));
        assert_eq!(
            f.counters(None).await.failed_refreshes,
            2,
            "a missing cookie never reaches the store"
        );
    });
}

#[tokio::test]
async fn the_raw_token_is_never_stored() {
    on_every_backend!(|f| {
        let (_, token) = f.login().await;
        let stored: Vec<Vec<u8>> = f.store.backend.token_hashes().await;
        assert_eq!(stored, vec![refresh_token_hash(&token).expect("hash")]);
        assert!(!stored[0]
            .windows(token.len())
            .any(|w| w == token.as_bytes()));
    });
}

#[tokio::test]
async fn peek_agrees_with_rotate_and_changes_nothing() {
    on_every_backend!(|f| {
        let peek = |token: &str, at| f.store.peek(token.to_owned(), at, POLICY);
        let (_, first) = f.login().await;
        assert!(peek(&first, T0).await.expect("peek").is_some());
        assert!(
            peek(&first, T0).await.expect("peek").is_some(),
            "still current"
        );
        let second = f.rotated(&first, T0 + ms(1_000)).await;
        assert!(
            peek(&first, T0 + ms(2_000)).await.expect("peek").is_some(),
            "grace"
        );
        assert!(
            peek(&first, T0 + ms(1_000) + GRACE)
                .await
                .expect("peek")
                .is_none(),
            "reuse"
        );
        assert!(peek(&second, T0 + ms(1_001) + GRACE)
            .await
            .expect("peek")
            .is_some());
        assert!(peek("garbage", T0).await.expect("peek").is_none());
    });
}

#[tokio::test]
async fn superseding_raises_the_access_version_and_lifetime_is_per_session() {
    on_every_backend!(|f| {
        let (id, _) = f.login().await;
        assert_eq!(f.session(&id).await.access_version, 0);
        f.store
            .supersede_access_tokens(&id)
            .await
            .expect("supersede");
        assert_eq!(f.session(&id).await.access_version, 1);
        f.store
            .set_access_ttl(&id, Duration::from_secs(7))
            .await
            .expect("ttl");
        assert_eq!(
            f.session(&id).await.access_ttl,
            Some(Duration::from_secs(7))
        );
    });
}

#[tokio::test]
async fn live_sessions_are_found_by_any_of_their_tokens_and_listed_newest_first() {
    on_every_backend!(|f| {
        let (id, first) = f.login().await;
        let second = f.rotated(&first, T0 + ms(1_000)).await;
        for token in [&first, &second] {
            let found = f
                .store
                .live_session_of(token.clone(), T0)
                .await
                .expect("query");
            assert_eq!(found.map(|s| s.session.id), Some(id.clone()));
        }
        let (other, _) = f.login().await;
        let listed = f.store.list_live(f.user_id, &id, T0).await.expect("list");
        assert_eq!(listed.len(), 2);
        assert_eq!(listed.iter().filter(|s| s.current).count(), 1);
        let current = listed.iter().find(|s| s.current).expect("current");
        assert_eq!(current.last_active_at, (T0 + ms(1_000)).unix_secs());
        assert_eq!(current.expires_at, (T0 + LIFETIME).unix_secs());
        assert_eq!(
            f.store
                .revoke_others(f.user_id, &id, T0)
                .await
                .expect("revoke others"),
            1
        );
        assert!(f.session(&other).await.revoked);
        f.store.revoke(&id, T0, "demo").await.expect("revoke");
        assert_eq!(
            f.store.live_session_of(second, T0).await.expect("query"),
            None
        );
    });
}

#[tokio::test]
async fn counters_count_per_server_and_per_session_and_flushes_add_up() {
    on_every_backend!(|f| {
        let (id, token) = f.login().await;
        f.rotated(&token, T0 + ms(1)).await;
        f.store.count(counter::FAILED_LOGINS);
        f.store.count_rejection(ErrCode::AccessTokenExpired);
        let stored = |f: &Fixture| {
            let store = f.store.clone();
            async move {
                let rows = store.backend.counter_rows(None).await;
                counters_from_rows(rows.expect("rows"))
            }
        };
        assert_eq!(stored(&f).await, Counters::default(), "nothing stored yet");
        f.store.flush_counts().await.expect("flush");
        f.store.count_rejection(ErrCode::AccessTokenExpired);
        f.store.flush_counts().await.expect("flush");
        f.store.count_rejection(ErrCode::AccessTokenExpired); // pending
        let server = stored(&f).await;
        assert_eq!(
            (
                server.refreshes,
                server.rotations,
                server.failed_logins,
                server.logins
            ),
            (1, 1, 1, 1)
        );
        let expired = ErrCode::AccessTokenExpired.code().to_string();
        assert_eq!(server.rejected.get(&expired), Some(&2), "flushes add up");
        let reported = f.counters(None).await;
        assert_eq!(
            reported.rejected.get(&expired),
            Some(&3),
            "pending included"
        );
        let session = f.counters(Some(&id)).await;
        assert_eq!(
            (session.refreshes, session.logins, session.failed_logins),
            (1, 1, 0),
            "exact at once, in the transaction"
        );
    });
}

#[tokio::test]
async fn pruning_removes_ended_sessions_and_keeps_every_spent_token_of_a_live_one() {
    on_every_backend!(|f| {
        let day = Duration::from_secs(24 * 3600);
        let long = RefreshPolicy {
            idle: 10 * day,
            ..POLICY
        };
        let (_, first) = f
            .store
            .start_session(f.user_id, T0, 30 * day)
            .await
            .expect("login");
        // A thief rotates first, and keeps the session alive for days.
        let mut current = f
            .store
            .rotate(Some(first.clone()), T0 + ms(1), long)
            .await
            .expect("rotate")
            .new_refresh_token;
        let (short, _) = f
            .store
            .start_session(f.user_id, T0, Duration::from_secs(60))
            .await
            .expect("short login");
        assert_eq!(f.store.prune(T0 + ms(1_000)).await.expect("prune"), (0, 0));
        for days in 1..=3 {
            current = f
                .store
                .rotate(Some(current), T0 + days * day, long)
                .await
                .expect("the thief's rotation")
                .new_refresh_token;
        }
        let (sessions, tokens) = f.store.prune(T0 + 3 * day).await.expect("prune");
        assert_eq!(sessions, 1, "the 60 s session ended more than a day ago");
        assert_eq!(tokens, 1, "with its one token");
        assert!(f
            .store
            .load_session(&short.session.id)
            .await
            .expect("load")
            .is_none());
        // The victim comes back three days later with the token the thief spent first.
        assert!(
            matches!(
                f.store.rotate(Some(first), T0 + 3 * day, long).await,
                Err(RefreshError::Reused(_))
            ),
            "recognised as reuse, not unknown"
        );
        assert!(
            matches!(
                f.store.rotate(Some(current), T0 + 3 * day, long).await,
                Err(RefreshError::Revoked(_))
            ),
            "and the thief's family is revoked"
        );
    });
}

#[tokio::test]
async fn demo_users_are_upserted_with_normalised_identities_and_not_rehashed() {
    on_every_backend!(|f| {
        let identity = Identity::new("acme", "DEMO");
        let (found, first_hash) = f
            .store
            .find_user(&identity)
            .await
            .expect("query")
            .expect("found");
        assert_eq!(
            (found.customer_code.as_str(), found.username.as_str()),
            ("ACME", "demo")
        );
        assert!(found.is_demo);
        assert_eq!(f.store.count_demo_users().await.expect("count"), 1);
        let mut user = DemoUser {
            customer_code: " acme ".into(),
            username: "Demo".into(),
            password: Secret::new("demo-password"),
            display_name: "Dana".into(),
        };
        f.store
            .seed_demo_users(std::slice::from_ref(&user))
            .await
            .expect("unchanged");
        let (same, same_hash) = f.store.find_user(&identity).await.expect("q").expect("f");
        assert_eq!(
            first_hash, same_hash,
            "an unchanged password is not rehashed"
        );
        assert_eq!(same.id, found.id);
        user.password = Secret::new("another-password");
        user.display_name = "Dana D.".into();
        f.store.seed_demo_users(&[user]).await.expect("update");
        let (changed, new_hash) = f.store.find_user(&identity).await.expect("q").expect("f");
        assert_eq!(changed.display_name, "Dana D.");
        assert!(verify_password(&new_hash, "another-password"));
    });
}

/// Two stores on one database are two server processes: racing requests with one token,
/// spread over both, rotate it exactly once, and the rest get grace answers.
#[tokio::test]
async fn one_token_presented_at_once_through_two_stores_rotates_once() {
    for backend in backends() {
        let dir = tempfile::tempdir().expect("temp dir");
        let settings = settings_for(backend, dir.path()).await;
        let (a, b) = two_instances(&settings).await;
        let user_id = seed_demo_user(&a).await;
        let (session, token) = a.start_session(user_id, T0, LIFETIME).await.expect("login");
        let racing = (0..50).map(|i| {
            let store = if i % 2 == 0 { a.clone() } else { b.clone() };
            let token = token.clone();
            tokio::spawn(async move { store.rotate(Some(token), T0 + ms(5), POLICY).await })
        });
        let outcomes: Vec<Refreshed> = futures::future::join_all(racing)
            .await
            .into_iter()
            .map(|joined| joined.expect("task").expect("every racer succeeds"))
            .collect();
        let rotations = outcomes
            .iter()
            .filter(|r| r.grace_ends_at.is_none())
            .count();
        assert_eq!(rotations, 1, "{backend}: exactly one rotation");
        // Per session: counted in the transactions, so exact across both stores at once.
        let counters = b
            .read_counters(Some(&session.session.id))
            .await
            .expect("counters");
        assert_eq!(
            (
                counters.rotations,
                counters.grace_refreshes,
                counters.reuse_detections
            ),
            (1, 49, 0),
            "{backend}"
        );
        assert!(
            !a.load_session(&session.session.id)
                .await
                .expect("q")
                .expect("s")
                .session
                .revoked,
            "{backend}: the family survives"
        );
        // Whichever answer the cookie jar keeps, last, its token works for the next
        // refresh, on either instance, and spends all the others.
        let kept = &outcomes[17].new_refresh_token;
        let next = b
            .rotate(Some(kept.clone()), T0 + ms(30_000), POLICY)
            .await
            .expect("the kept token rotates");
        assert_eq!(next.grace_ends_at, None, "{backend}");
        let other = &outcomes[18].new_refresh_token;
        assert!(
            matches!(
                a.rotate(Some(other.clone()), T0 + ms(60_000), POLICY).await,
                Err(RefreshError::Reused(_))
            ),
            "{backend}: a sibling spent by that rotation, presented outside the window"
        );
    }
}

#[tokio::test]
async fn instances_sharing_a_postgres_database_share_one_generated_signing_key() {
    let dir = tempfile::tempdir().expect("temp dir");
    let sqlite = Store::open(&settings_for("sqlite", dir.path()).await)
        .await
        .expect("sqlite");
    assert_eq!(
        sqlite
            .shared_signing_key("candidate".into())
            .await
            .expect("q"),
        None,
        "SQLite keeps its key in data_dir"
    );
    assert!(!sqlite
        .replace_shared_signing_key("candidate".into(), "other".into())
        .await
        .expect("q"));
    if postgres_server().is_none() {
        return;
    }
    let settings = settings_for("postgres", dir.path()).await;
    let (a, b) = two_instances(&settings).await;
    let (from_a, from_b) = tokio::join!(
        a.shared_signing_key("key-of-a".into()),
        b.shared_signing_key("key-of-b".into())
    );
    let (from_a, from_b) = (from_a.expect("a"), from_b.expect("b"));
    assert_eq!(from_a, from_b);
    assert!(matches!(from_a.as_deref(), Some("key-of-a" | "key-of-b")));

    // Wrapping is compare-and-swap: of two instances, the first changes it.
    let stored = from_a.expect("stored");
    let (by_a, by_b) = tokio::join!(
        a.replace_shared_signing_key(stored.clone(), "wrapped-by-a".into()),
        b.replace_shared_signing_key(stored, "wrapped-by-b".into())
    );
    assert_eq!(
        [by_a.expect("a"), by_b.expect("b")]
            .iter()
            .filter(|done| **done)
            .count(),
        1
    );
    let now = a.shared_signing_key("ignored".into()).await.expect("q");
    assert!(matches!(
        now.as_deref(),
        Some("wrapped-by-a" | "wrapped-by-b")
    ));
}

/// Two stores on one database: what two server instances are to each other.
async fn two_instances(settings: &Settings) -> (Store, Store) {
    (
        Store::open(settings).await.expect("instance a"),
        Store::open(settings).await.expect("instance b"),
    )
}

/// Waits for `done` to hold, checking every 10 ms, for at most `limit`.
async fn within(limit: Duration, mut done: impl AsyncFnMut() -> bool) -> bool {
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        if done().await {
            return true;
        }
        if tokio::time::Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(ms(10)).await;
    }
}

/// Two instances on one PostgreSQL database: each serves access checks from its cache,
/// and a change made through one reaches the other's within a second — also when the
/// change channel was lost in between (then the cache is off, or back on and empty).
#[tokio::test]
async fn a_change_made_through_one_instance_reaches_the_others_cache_within_a_second() {
    if postgres_server().is_none() {
        eprintln!("TEST_POSTGRES is not set: nothing to test on SQLite (one instance)");
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let settings = settings_for("postgres", dir.path()).await;
    let (a, b) = two_instances(&settings).await;
    assert!(!b.session_cache_on(), "off until listening");
    let listeners = [a.spawn_listener(), b.spawn_listener()];
    assert!(
        within(Duration::from_secs(5), async || a.session_cache_on()
            && b.session_cache_on())
        .await,
        "both listen"
    );
    let user_id = seed_demo_user(&a).await;
    let now = Timestamp::now();
    let session_of = async |store: &Store, id: &str| {
        store
            .load_session(id)
            .await
            .expect("load")
            .expect("exists")
            .session
    };

    // Superseded on A: B, which had the session cached, sees the new access version.
    let (s1, _) = a
        .start_session(user_id, now, LIFETIME)
        .await
        .expect("login");
    let id = s1.session.id;
    assert_eq!(session_of(&b, &id).await.access_version, 0);
    assert!(b.sessions.get(&id).is_some(), "cached on B");
    a.supersede_access_tokens(&id).await.expect("supersede");
    assert!(
        within(Duration::from_secs(1), async || session_of(&b, &id)
            .await
            .access_version
            == 1)
        .await
    );

    // Revoked on A: B sees it.
    a.revoke(&id, now, "test").await.expect("revoke");
    assert!(
        within(Duration::from_secs(1), async || session_of(&b, &id)
            .await
            .revoked)
        .await
    );

    // Every other session of the user ended on B: A sees it.
    let (keep, _) = a
        .start_session(user_id, now, LIFETIME)
        .await
        .expect("login");
    let (other, _) = a
        .start_session(user_id, now, LIFETIME)
        .await
        .expect("login");
    assert!(!session_of(&a, &other.session.id).await.revoked);
    b.revoke_others(user_id, &keep.session.id, now)
        .await
        .expect("end others");
    assert!(
        within(Duration::from_secs(1), async || session_of(
            &a,
            &other.session.id
        )
        .await
        .revoked)
        .await
    );

    // The channel is cut, and a change arrives that announces nothing (made behind the
    // server's back): B does not keep trusting what it cached.
    let (s2, _) = a
        .start_session(user_id, now, LIFETIME)
        .await
        .expect("login");
    let id = s2.session.id;
    // Read until cached: the notice of the session's creation may reach B after its
    // first read and forget the entry (seen once with the whole suite running).
    assert!(
        within(Duration::from_secs(1), async || {
            !session_of(&b, &id).await.revoked && b.sessions.get(&id).is_some()
        })
        .await,
        "cached on B"
    );
    let pg = &a.backend;
    assert_eq!(pg.name(), "postgres");
    pg.execute_for_test(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
         WHERE pid <> pg_backend_pid() AND query LIKE 'LISTEN%'",
    )
    .await;
    pg.execute_for_test(&format!(
        "UPDATE sessions SET revoked_at = 1 WHERE id = '{id}'"
    ))
    .await;
    assert!(
        within(Duration::from_secs(1), async || session_of(&b, &id)
            .await
            .revoked)
        .await,
        "the cache went off (or came back empty) when the channel was lost"
    );
    assert!(
        within(Duration::from_secs(5), async || b.session_cache_on()).await,
        "and listens again"
    );
    for listener in listeners.into_iter().flatten() {
        listener.abort();
    }
}

/// The throttle's shared half, by the rules of the in-memory one (`auth/throttle.rs`): a
/// brute force spread over instances, all at once, reserves no more than the limit.
#[tokio::test]
async fn failed_logins_counted_in_postgres_throttle_every_instance_as_one() {
    use crate::server::auth::throttle::{Limits, Refusal, SharedFailures};
    if postgres_server().is_none() {
        eprintln!("TEST_POSTGRES is not set: SQLite counts failed logins in memory");
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let settings = settings_for("postgres", dir.path()).await;
    let (a, b) = two_instances(&settings).await;
    let (a, b) = (
        SharedFailures::new(a.postgres_pool().expect("shared on postgres")),
        SharedFailures::new(b.postgres_pool().expect("shared on postgres")),
    );
    let limits = Limits {
        per_account: 3,
        per_address: 5,
        window: Duration::from_secs(60),
        ipv6_prefix_len: 64,
        account_refuses_all: true,
    };
    let now = Timestamp::now();
    let racing = (0..10).map(|i| {
        let failures = if i % 2 == 0 { a.clone() } else { b.clone() };
        let address = format!("192.0.2.{i}");
        async move { failures.reserve("acme/demo", &address, now, &limits).await }
    });
    let reserved: Vec<i64> = futures::future::join_all(racing)
        .await
        .into_iter()
        .filter_map(|outcome| outcome.expect("query").ok())
        .collect();
    assert_eq!(
        reserved.len(),
        3,
        "only max_failures may be in flight at once"
    );
    let next = || a.reserve("acme/demo", "198.51.100.1", now, &limits);
    assert_eq!(
        next().await.expect("q").err(),
        Some(Refusal::InFlight),
        "busy: none of them failed yet"
    );
    for attempt in reserved {
        b.failed(attempt).await.expect("settle");
    }
    assert_eq!(next().await.expect("q").err(), Some(Refusal::Account));
    assert!(
        a.reserve("acme/demo", "198.51.100.1", now + limits.window, &limits)
            .await
            .expect("q")
            .is_ok(),
        "the failures left the window"
    );

    // Success forgives the account, not the address; a try that never ran is not counted.
    let home = "203.0.113.7";
    let first = b
        .reserve("acme/other", home, now, &limits)
        .await
        .expect("q");
    b.failed(first.expect("allowed")).await.expect("settle");
    let second = b
        .reserve("acme/other", home, now, &limits)
        .await
        .expect("q");
    b.succeeded("acme/other", second.expect("allowed"))
        .await
        .expect("forgive");
    let never = a
        .reserve("acme/third", home, now, &limits)
        .await
        .expect("q");
    a.not_tried(never.expect("allowed"))
        .await
        .expect("give back");
    for _ in 0..3 {
        a.reserve("acme/other", "198.51.100.9", now, &limits)
            .await
            .expect("q")
            .expect("the account's earlier failure was forgiven");
    }
    // The address still counts the first failure (not the success, not the try that
    // never ran): four more make its limit of five.
    for i in 0..4 {
        let attempt = b
            .reserve(&format!("acme/user{i}"), home, now, &limits)
            .await
            .expect("q")
            .expect("the address has room");
        a.failed(attempt).await.expect("settle");
    }
    assert_eq!(
        b.reserve("acme/fifth", home, now, &limits)
            .await
            .expect("q")
            .err(),
        Some(Refusal::Address)
    );

    // login.account_lockout = "verify": a failed-out account is still checked.
    let verify = Limits {
        account_refuses_all: false,
        ..limits
    };
    assert!(a
        .reserve("acme/demo", "198.51.100.77", now, &verify)
        .await
        .expect("q")
        .is_ok());
}

#[test]
fn only_errors_of_reaching_the_database_count_as_an_outage() {
    let io = || std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused");
    for unavailable in [
        DbError::Unreachable,
        DbError::Postgres(sqlx::Error::Io(io())),
        DbError::Postgres(sqlx::Error::PoolTimedOut),
        DbError::Postgres(sqlx::Error::Protocol("unexpected EOF".into())),
        DbError::Connect {
            target: "app@db:5432/painless".into(),
            cause: "refused".into(),
        },
    ] {
        assert!(unavailable.is_unavailable(), "{unavailable:?}");
    }
    for failure in [
        DbError::Task("bug".into()),
        DbError::Postgres(sqlx::Error::RowNotFound),
        DbError::Sqlite(rusqlite::Error::QueryReturnedNoRows),
    ] {
        assert!(!failure.is_unavailable(), "{failure:?}");
    }
}
