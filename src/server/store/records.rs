//! What the store holds and hands out, and the refresh decision itself: what presenting a
//! refresh token means ([`Verdict`]) and what the store must then do ([`Plan`]). Pure, so
//! both backends decide alike and the rules are tested without a database.
//!
//! # The refresh rules
//!
//! A session is a family of refresh tokens. A token is *current* until it is spent.
//!
//! - **Rotation.** Presenting a current token spends it, and with it every other current
//!   token of the family, and issues one successor.
//! - **Grace.** A token spent less than the grace window ago whose successor is still
//!   current (nobody has used the family since) is a repeat: the client that rotated it
//!   may never have received the answer (a dropped connection, a closed tab, a proxy
//!   timeout), or a second tab raced the first. The repeat gets an access token that ends
//!   with the window and a *sibling*: one more current token of the family, so the
//!   browser holds a working cookie whichever of the answers reaches it last. The next
//!   rotation of any sibling spends the others. A grace answer is not a rotation.
//! - **Reuse.** A spent token presented outside the window, or after its successor was
//!   used, revokes the family: two parties hold it.

use std::time::Duration;

use super::counter;
use super::DbError;
use crate::server::ops::timestamp::Timestamp;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct UserRecord {
    pub id: i64,
    pub customer_code: String,
    pub username: String,
    pub display_name: String,
    /// Created from `demo.users`; locked out while demo mode is off.
    pub is_demo: bool,
}

impl UserRecord {
    pub(crate) fn to_api(&self) -> crate::api::User {
        crate::api::User {
            username: self.username.clone(),
            display_name: self.display_name.clone(),
            customer_code: self.customer_code.clone(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SessionRecord {
    pub id: String,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
    pub revoked: bool,
    pub access_version: i64,
    /// Per-session access-token lifetime (the refresh lab's override).
    pub access_ttl: Option<Duration>,
}

impl SessionRecord {
    pub(crate) fn is_live(&self, now: Timestamp) -> bool {
        !self.revoked && now < self.expires_at
    }
}

/// A session with its user, as most lookups need both.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SessionWithUser {
    pub session: SessionRecord,
    pub user: UserRecord,
}

/// The outcome of a successful refresh. Its `Debug` output hides the refresh token.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Refreshed {
    pub found: SessionWithUser,
    /// The refresh token for the cookie: the successor of a rotation or a grace answer's
    /// sibling.
    pub new_refresh_token: String,
    /// For a grace answer, when the grace window ends: its access token must not outlive
    /// it, so that the client comes back with the new refresh token soon.
    pub grace_ends_at: Option<Timestamp>,
}

impl std::fmt::Debug for Refreshed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Refreshed")
            .field("found", &self.found)
            .field("new_refresh_token", &crate::api::Redacted)
            .field("grace_ends_at", &self.grace_ends_at)
            .finish()
    }
}

#[derive(Debug, thiserror::Error)]
pub(crate) enum RefreshError {
    #[error("no refresh token")]
    Missing,
    #[error("unknown refresh token")]
    Unknown,
    #[error("{0}: revoked")]
    Revoked(Who),
    #[error("{0}: expired")]
    Expired(Who),
    #[error("{0}: idle for too long")]
    Idle(Who),
    #[error("{0}: a demo user's, and demo mode is off")]
    DemoOff(Who),
    /// A spent token came back outside the grace window: the whole family is revoked.
    #[error("{0}: a spent refresh token came back (reuse); session revoked")]
    Reused(Who),
    #[error(transparent)]
    Db(#[from] DbError),
}

/// Whose session a refusal concerns, for the security log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Who {
    pub session: String,
    pub customer: String,
    pub user: String,
}

impl Who {
    fn of(found: &SessionWithUser) -> Self {
        Self {
            session: found.session.id.clone(),
            customer: found.user.customer_code.clone(),
            user: found.user.username.clone(),
        }
    }
}

impl std::fmt::Display for Who {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "session {} of {}/{}",
            self.session, self.customer, self.user
        )
    }
}

/// How long presented refresh tokens stay good.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RefreshPolicy {
    /// The token just spent may come back this long (a racing tab) without being reuse.
    pub grace: Duration,
    /// A current token unused for this long is refused: the session went idle.
    pub idle: Duration,
    /// Whether sessions of demo users may refresh (demo mode is on).
    pub demo_users: bool,
}

/// A presented refresh token as the store found it.
pub(crate) struct TokenRow {
    pub found: SessionWithUser,
    pub issued_at: Timestamp,
    pub spent_at: Option<Timestamp>,
    /// Whether the token that replaced this one is still unspent (nobody has used the
    /// family since this one was spent).
    pub successor_is_current: bool,
}

/// What presenting a refresh token would mean, decided without side effects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// One of the family's current tokens: rotate it.
    Current,
    /// Spent a moment ago (a racing request, or a rotation whose answer was lost), and its
    /// successor is still current: issue a sibling.
    Grace,
    Reused,
    Revoked,
    Expired,
    /// The current token, but unused for longer than the idle timeout.
    Idle,
    /// A demo user's session while demo mode is off.
    DemoOff,
}

impl Verdict {
    pub(crate) fn of(row: &TokenRow, now: Timestamp, policy: RefreshPolicy) -> Self {
        let session = &row.found.session;
        if session.revoked {
            return Self::Revoked;
        }
        if row.found.user.is_demo && !policy.demo_users {
            return Self::DemoOff;
        }
        if now >= session.expires_at {
            return Self::Expired;
        }
        match row.spent_at {
            None if now.since(row.issued_at) >= policy.idle => Self::Idle,
            None => Self::Current,
            Some(spent_at) if row.successor_is_current && now.since(spent_at) < policy.grace => {
                Self::Grace
            }
            Some(_) => Self::Reused,
        }
    }

    /// Whether presenting the token would succeed.
    pub(crate) fn succeeds(self) -> bool {
        matches!(self, Self::Current | Self::Grace)
    }

    /// What the store does about it, in one transaction.
    pub(crate) fn plan(self) -> Plan {
        let (counts, revoke): (&'static [&'static str], _) = match self {
            Self::Current => (&[counter::ROTATIONS, counter::REFRESHES], None),
            Self::Grace => (&[counter::GRACE_REFRESHES, counter::REFRESHES], None),
            Self::Reused => (
                &[counter::REUSE_DETECTIONS, counter::FAILED_REFRESHES],
                Some("refresh token reuse"),
            ),
            Self::Revoked | Self::Expired => (&[counter::FAILED_REFRESHES], None),
            // A revocation must stick: an idle or locked-out session ends for good.
            Self::Idle => (&[counter::FAILED_REFRESHES], Some("idle timeout")),
            Self::DemoOff => (&[counter::FAILED_REFRESHES], Some("demo mode off")),
        };
        Plan {
            spend_family: self == Self::Current,
            issue_token: self.succeeds(),
            revoke,
            counts,
        }
    }

    /// The answer, once the plan is committed (`new_token` is the token it issued).
    pub(crate) fn outcome(
        self,
        row: TokenRow,
        new_token: Option<String>,
        policy: RefreshPolicy,
    ) -> Result<Refreshed, RefreshError> {
        let who = || Who::of(&row.found);
        match self {
            Self::Current | Self::Grace => Ok(Refreshed {
                grace_ends_at: match (self, row.spent_at) {
                    (Self::Grace, Some(spent_at)) => Some(spent_at + policy.grace),
                    _ => None,
                },
                found: row.found,
                new_refresh_token: new_token.ok_or_else(|| {
                    DbError::Task("a refresh that succeeds issued no token".into())
                })?,
            }),
            Self::Reused => Err(RefreshError::Reused(who())),
            Self::Revoked => Err(RefreshError::Revoked(who())),
            Self::Expired => Err(RefreshError::Expired(who())),
            Self::Idle => Err(RefreshError::Idle(who())),
            Self::DemoOff => Err(RefreshError::DemoOff(who())),
        }
    }
}

/// The writes a verdict calls for, in this order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Plan {
    /// Spend every current token of the family, the presented one among them, replaced by
    /// the token issued next.
    pub spend_family: bool,
    /// Issue a new current token (the successor, or a grace answer's sibling).
    pub issue_token: bool,
    /// End the session, for this reason.
    pub revoke: Option<&'static str>,
    /// Counters to add one to, server-wide and for the session, in this order.
    pub counts: &'static [&'static str],
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: Timestamp = Timestamp::from_unix_ms(1_800_000_000_000);
    const POLICY: RefreshPolicy = RefreshPolicy {
        grace: Duration::from_secs(10),
        idle: Duration::from_secs(600),
        demo_users: true,
    };

    fn row(spent_at: Option<Timestamp>, successor_is_current: bool) -> TokenRow {
        TokenRow {
            found: SessionWithUser {
                session: SessionRecord {
                    id: "s".into(),
                    created_at: T0,
                    expires_at: T0 + Duration::from_secs(3600),
                    revoked: false,
                    access_version: 0,
                    access_ttl: None,
                },
                user: UserRecord {
                    id: 1,
                    customer_code: "ACME".into(),
                    username: "demo".into(),
                    display_name: "Dana".into(),
                    is_demo: true,
                },
            },
            issued_at: T0,
            spent_at,
            successor_is_current,
        }
    }

    #[test]
    fn debug_output_never_shows_a_refresh_token() {
        let refreshed = Refreshed {
            found: row(None, false).found,
            new_refresh_token: "raw-refresh-token".into(),
            grace_ends_at: None,
        };
        let shown = format!("{refreshed:?}");
        assert!(
            !shown.contains("raw-refresh-token") && shown.contains("ACME"),
            "{shown}"
        );
    }

    #[test]
    fn every_verdict_at_its_boundary() {
        let s = Duration::from_secs;
        let current = row(None, false);
        assert_eq!(Verdict::of(&current, T0, POLICY), Verdict::Current);
        assert_eq!(
            Verdict::of(&current, T0 + s(600), POLICY),
            Verdict::Idle,
            "unused for exactly the idle timeout"
        );
        let spent = row(Some(T0 + s(1)), true);
        assert_eq!(
            Verdict::of(&spent, T0 + s(11) - Duration::from_millis(1), POLICY),
            Verdict::Grace
        );
        assert_eq!(Verdict::of(&spent, T0 + s(11), POLICY), Verdict::Reused);
        let twice_spent = row(Some(T0 + s(1)), false);
        assert_eq!(
            Verdict::of(&twice_spent, T0 + s(2), POLICY),
            Verdict::Reused
        );
        assert_eq!(
            Verdict::of(&current, T0 + s(3600), POLICY),
            Verdict::Expired
        );
        let mut revoked = row(None, false);
        revoked.found.session.revoked = true;
        assert_eq!(Verdict::of(&revoked, T0, POLICY), Verdict::Revoked);
        let locked = RefreshPolicy {
            demo_users: false,
            ..POLICY
        };
        assert_eq!(Verdict::of(&current, T0, locked), Verdict::DemoOff);
    }

    #[test]
    fn only_a_current_token_spends_the_family_and_refusals_that_must_stick_revoke() {
        let all = [
            Verdict::Current,
            Verdict::Grace,
            Verdict::Reused,
            Verdict::Revoked,
            Verdict::Expired,
            Verdict::Idle,
            Verdict::DemoOff,
        ];
        for verdict in all {
            let plan = verdict.plan();
            assert_eq!(
                plan.spend_family,
                verdict == Verdict::Current,
                "{verdict:?}"
            );
            assert_eq!(plan.issue_token, verdict.succeeds(), "{verdict:?}");
            assert_eq!(
                plan.counts.contains(&counter::ROTATIONS),
                verdict == Verdict::Current,
                "{verdict:?}: a grace answer is not a rotation"
            );
            assert_eq!(
                plan.counts.contains(&counter::REFRESHES),
                verdict.succeeds(),
                "{verdict:?}"
            );
            assert_eq!(
                plan.counts.contains(&counter::FAILED_REFRESHES),
                !verdict.succeeds(),
                "{verdict:?}"
            );
            assert_eq!(
                plan.revoke.is_some(),
                matches!(verdict, Verdict::Reused | Verdict::Idle | Verdict::DemoOff),
                "{verdict:?}"
            );
        }
    }

    #[test]
    fn a_grace_answer_carries_a_sibling_and_ends_with_the_grace_window() {
        let spent_at = T0 + Duration::from_secs(1);
        let refreshed = Verdict::Grace
            .outcome(row(Some(spent_at), true), Some("sibling".into()), POLICY)
            .expect("grace");
        assert_eq!(refreshed.grace_ends_at, Some(spent_at + POLICY.grace));
        assert_eq!(refreshed.new_refresh_token, "sibling");
        let rotated = Verdict::Current
            .outcome(row(None, false), Some("next".into()), POLICY)
            .expect("rotated");
        assert_eq!(rotated.grace_ends_at, None);
        assert_eq!(rotated.new_refresh_token, "next");
    }

    /// The lost answer: the rotation committed, the client never saw its successor and
    /// repeats with the spent token. Inside the window, while nobody used the family
    /// since, that is a grace answer; the same repeat after a sibling or the successor
    /// was used, or after the window, is reuse.
    #[test]
    fn a_repeat_is_grace_only_inside_the_window_and_before_the_family_moves_on() {
        let s = Duration::from_secs;
        let spent_at = T0 + s(1);
        let unanswered = row(Some(spent_at), true);
        assert_eq!(Verdict::of(&unanswered, spent_at, POLICY), Verdict::Grace);
        assert_eq!(
            Verdict::of(&unanswered, spent_at + s(9), POLICY),
            Verdict::Grace,
            "a retry after a few seconds of backoff"
        );
        assert_eq!(
            Verdict::of(&unanswered, spent_at + POLICY.grace, POLICY),
            Verdict::Reused,
            "past the window: someone else holds the spent token"
        );
        let moved_on = row(Some(spent_at), false);
        assert_eq!(
            Verdict::of(&moved_on, spent_at + s(1), POLICY),
            Verdict::Reused,
            "the successor or a sibling was rotated since"
        );
        assert!(Verdict::Grace.plan().issue_token && !Verdict::Grace.plan().spend_family);
    }
}
