//! The cross-tab protocol, with several coordinators in one fake browser: a shared lock
//! whose grants the test sees, a generation counter, and mailboxes whose messages arrive
//! only when the test delivers them, so that every race between a lock grant and a
//! message can be forced. Also the clock tests: a browser clock minutes away from the
//! server's.

use super::*;

/// Several tabs of one browser against one fake server.
struct Browser {
    pool: LocalPool,
    server: Rc<RefCell<ServerState>>,
    clock: FakeClock,
    shared: SharedBrowser,
    tabs: Vec<Tab>,
}

struct Tab {
    coordinator: TestCoordinator,
    events: Events,
}

impl Browser {
    fn with_tabs(count: usize) -> Self {
        Self::build(count, BrowserState::default())
    }

    /// A browser whose tabs cannot take a lock (no `navigator.locks`).
    fn without_locks(count: usize) -> Self {
        Self::build(
            count,
            BrowserState {
                no_locks: true,
                ..BrowserState::default()
            },
        )
    }

    fn build(count: usize, state: BrowserState) -> Self {
        let clock = FakeClock::new(Rc::new(Cell::new(START_MS)));
        let server = fake_server(&clock);
        let mut browser = Self {
            pool: LocalPool::new(),
            server,
            clock,
            shared: Rc::new(RefCell::new(state)),
            tabs: Vec::new(),
        };
        for _ in 0..count {
            browser.open_tab();
        }
        browser
    }

    fn open_tab(&mut self) -> usize {
        let (coordinator, events) = open_tab(
            &self.server,
            &self.clock,
            &self.pool,
            &self.shared,
            Tuning::default(),
            TestPolicy::default(),
        );
        self.tabs.push(Tab {
            coordinator,
            events,
        });
        self.tabs.len() - 1
    }

    fn tab(&self, index: usize) -> &TestCoordinator {
        &self.tabs[index].coordinator
    }

    /// Logs in in tab `index`; the other tabs hear of it once messages are delivered.
    fn login(&mut self, index: usize) {
        let grant = self.server.borrow_mut().grant();
        self.tab(index).install_login(grant.grant(), demo_user());
    }

    /// Logs in in tab 0 and hands the token to every tab.
    fn logged_in(count: usize) -> Self {
        let mut browser = Self::with_tabs(count);
        browser.login(0);
        browser.settle();
        browser
    }

    /// Logged in everywhere, every token expired on the server, and refresh answers held
    /// until the test releases them: the moment every tab races to refresh.
    fn refreshes_held(count: usize) -> Self {
        let browser = Self::logged_in(count);
        browser.server.borrow_mut().hold_refresh = true;
        browser.expire_tokens_on_server();
        browser
    }

    fn fire(&self, index: usize, path: &str) -> Outcome {
        let outcome: Outcome = Rc::new(RefCell::new(None));
        let slot = Rc::clone(&outcome);
        let coordinator = self.tab(index).clone();
        let request = Request::get(path);
        self.pool
            .spawner()
            .spawn_local(async move {
                let result = coordinator.send(request).await;
                *slot.borrow_mut() = Some(result);
            })
            .expect("executor alive");
        outcome
    }

    /// One request per tab, all at the same moment.
    fn fire_everywhere(&self, path: &str) -> Vec<Outcome> {
        (0..self.tabs.len())
            .map(|index| self.fire(index, path))
            .collect()
    }

    fn run(&mut self) {
        self.pool.run_until_stalled();
    }

    /// Delivers every message posted so far; false when there was none.
    fn deliver(&mut self) -> bool {
        let mut delivered = false;
        for index in 0..self.tabs.len() {
            loop {
                let next = self.shared.borrow_mut().mailboxes[index].pop_front();
                let Some(message) = next else { break };
                self.tab(index).receive(message);
                delivered = true;
            }
        }
        delivered
    }

    /// Runs and delivers until nothing moves any more.
    fn settle(&mut self) {
        loop {
            self.run();
            if !self.deliver() {
                break;
            }
        }
    }

    /// Loses every message posted so far.
    fn lose_messages(&self) {
        for mailbox in &mut self.shared.borrow_mut().mailboxes {
            mailbox.clear();
        }
    }

    /// The tab goes away: the browser releases its lock, its pending fetches never
    /// complete and it hears nothing more.
    fn close_tab(&mut self, index: usize) {
        {
            let mut state = self.shared.borrow_mut();
            state.closed.insert(index);
            state.mailboxes[index].clear();
            state.lock_queue.retain(|(tab, _)| *tab != index);
        }
        let holds_lock = self
            .shared
            .borrow()
            .holder
            .is_some_and(|(_, tab)| tab == index);
        if holds_lock {
            BrowserState::pass_lock(&self.shared);
        }
        // Only the closed tab's refresh is held in these tests: its reply never arrives.
        self.server.borrow_mut().held_refresh.clear();
        self.run();
    }

    /// Lock requests still waiting give up (the browser's timeout).
    fn time_out_lock_requests(&mut self) {
        let waiting: Vec<_> = self.shared.borrow_mut().lock_queue.drain(..).collect();
        for (_, waiter) in waiting {
            let _ = waiter.send(None);
        }
        self.run();
    }

    fn release_refresh(&mut self) {
        self.server.borrow_mut().release_refreshes();
        self.run();
    }

    fn refresh_calls(&self) -> usize {
        self.server.borrow().refresh_calls
    }

    fn count(&self, index: usize, matches: impl Fn(&EventKind) -> bool) -> usize {
        self.tabs[index]
            .events
            .lock()
            .expect("events")
            .iter()
            .filter(|e| matches(e))
            .count()
    }

    fn token_of(&self, index: usize) -> Option<String> {
        self.tab(index).snapshot().token.map(|t| t.value)
    }

    fn expire_tokens_on_server(&self) {
        self.server.borrow_mut().valid_tokens.clear();
    }

    /// Every tab ends idle or finished, with nothing in flight or queued.
    fn assert_settled(&mut self) {
        self.settle();
        for (index, tab) in self.tabs.iter().enumerate() {
            if self.shared.borrow().closed.contains(&index) {
                continue;
            }
            let snapshot = tab.coordinator.snapshot();
            assert_eq!(snapshot.in_flight, 0, "tab {index}: nothing in flight");
            assert_eq!(snapshot.queued, 0, "tab {index}: nobody queued");
        }
        assert_eq!(self.shared.borrow().holder, None, "the lock is free");
    }
}

fn delivered_with(outcome: &Outcome, token: &str) {
    match outcome.borrow().as_ref() {
        Some(Ok(data)) => assert_eq!(data["token"], token, "replayed with the shared token"),
        other => panic!("expected data, got {other:?}"),
    }
}

fn token_received(e: &EventKind) -> bool {
    matches!(e, EventKind::TokenReceived { .. })
}

fn awaiting_other_tab(e: &EventKind) -> bool {
    matches!(e, EventKind::AwaitingOtherTab { .. })
}

fn session_over(e: &EventKind) -> bool {
    matches!(e, EventKind::SessionOver { .. })
}

// 1. One refresh per browser

#[test]
fn a_login_reaches_every_tab_with_its_user() {
    let browser = Browser::logged_in(3);
    for index in 0..3 {
        assert_eq!(browser.token_of(index).as_deref(), Some("t1"));
    }
    for index in 1..3 {
        assert_eq!(
            browser.count(index, |e| matches!(
                e,
                EventKind::TokenReceived { login: Some(user), from, .. }
                    if user.username == "demo" && from == "tab1"
            )),
            1,
            "tab {index}"
        );
    }
    assert_eq!(browser.count(0, token_received), 0, "never to the sender");
}

#[test]
fn three_tabs_whose_token_expired_together_send_one_refresh() {
    let mut browser = Browser::logged_in(3);
    browser.expire_tokens_on_server();
    let outcomes = browser.fire_everywhere("/api/me");
    browser.run();
    // Tab 0 refreshed under the lock and released it; tab 1 holds it now and tab 2 waits,
    // and neither has the message yet: the counter tells them someone got ahead.
    assert_eq!(browser.refresh_calls(), 1);
    assert_eq!(
        browser.count(1, awaiting_other_tab),
        1,
        "tab 1 waits, no call"
    );
    browser.settle();
    assert_eq!(
        browser.refresh_calls(),
        1,
        "one refresh for the whole browser"
    );
    for outcome in &outcomes {
        delivered_with(outcome, "t2");
    }
    for index in 1..3 {
        assert_eq!(browser.count(index, token_received), 2, "login, then t2");
        assert_eq!(
            browser.count(index, |e| matches!(e, EventKind::RefreshStarted { .. })),
            0
        );
    }
    assert_eq!(
        browser.shared.borrow().refresh_calls,
        1,
        "the browser's tally"
    );
    browser.assert_settled();
}

#[test]
fn a_token_that_arrives_while_requests_wait_for_the_lock_releases_them_without_a_call() {
    let mut browser = Browser::refreshes_held(3);
    let refreshing = browser.fire(0, "/api/me");
    browser.run();
    let parked: Vec<_> = (0..3)
        .map(|i| browser.fire(1, &format!("/api/item/{i}")))
        .collect();
    browser.run();
    assert_eq!(
        browser.tab(1).snapshot().queued,
        3,
        "parked behind tab 0's lock"
    );
    browser.login(2); // t3; tab 0's refresh already took t2 on the server
    browser.deliver();
    browser.run();
    for outcome in parked.iter().chain([&refreshing]) {
        delivered_with(outcome, "t3");
    }
    assert_eq!(browser.refresh_calls(), 1, "tab 1 sent none");
    browser.release_refresh();
    assert_eq!(
        browser.token_of(0).as_deref(),
        Some("t3"),
        "the refresh the login overtook is dropped"
    );
    browser.assert_settled();
}

#[test]
fn a_tab_that_finds_a_newer_generation_and_never_gets_the_message_refreshes_after_the_wait() {
    let mut browser = Browser::logged_in(2);
    browser.expire_tokens_on_server();
    let outcomes = browser.fire_everywhere("/api/me");
    browser.run();
    assert_eq!(browser.count(1, awaiting_other_tab), 1);
    browser.lose_messages();
    browser.run();
    assert!(
        outcomes[1].borrow().is_none(),
        "still waiting for the message"
    );
    browser
        .clock
        .advance(Tuning::default().message_wait.as_millis() as i64);
    browser.run();
    assert_eq!(browser.refresh_calls(), 2, "it refreshed after all");
    delivered_with(&outcomes[0], "t2");
    delivered_with(&outcomes[1], "t3");
    browser.assert_settled();
}

#[test]
fn a_tab_opened_later_does_not_wait_for_what_was_announced_before_it_opened() {
    let mut browser = Browser::logged_in(1);
    browser.clock.advance(1_000);
    let late = browser.open_tab();
    let outcome = browser.fire(late, "/api/me");
    browser.run();
    assert_eq!(browser.count(late, awaiting_other_tab), 0);
    assert_eq!(
        browser.refresh_calls(),
        1,
        "no token in memory: refreshed at once"
    );
    delivered_with(&outcome, "t2");
    browser.assert_settled();
    assert_eq!(browser.token_of(0).as_deref(), Some("t2"), "and shared it");
}

// 2. A lock holder that dies, a lock that never comes, no locks at all

#[test]
fn a_tab_closed_in_the_middle_of_a_refresh_does_not_leave_the_others_stuck() {
    let mut browser = Browser::refreshes_held(3);
    let outcomes = browser.fire_everywhere("/api/me");
    browser.run();
    assert_eq!(
        browser.refresh_calls(),
        1,
        "tab 0 holds the lock, its call unanswered"
    );
    browser.close_tab(0);
    assert_eq!(
        browser.refresh_calls(),
        2,
        "tab 1 got the lock and refreshed"
    );
    browser.release_refresh();
    browser.settle();
    assert_eq!(browser.refresh_calls(), 2, "tab 2 took tab 1's token");
    for outcome in &outcomes[1..] {
        delivered_with(outcome, "t3");
    }
    assert!(
        outcomes[0].borrow().is_none(),
        "the closed tab's request never ends"
    );
    browser.assert_settled();
}

#[test]
fn a_lock_that_is_not_granted_in_time_is_given_up_and_nobody_is_logged_out() {
    let mut browser = Browser::refreshes_held(2);
    let outcomes = browser.fire_everywhere("/api/me");
    browser.run();
    browser.time_out_lock_requests();
    assert_eq!(
        browser.count(1, |e| matches!(
            e,
            EventKind::RefreshLocked {
                exclusive: false,
                ..
            }
        )),
        1
    );
    assert_eq!(browser.refresh_calls(), 2, "tab 1 went on without the lock");
    browser.release_refresh();
    browser.settle();
    for outcome in &outcomes {
        assert!(matches!(outcome.borrow().as_ref(), Some(Ok(_))));
    }
    for index in 0..2 {
        assert_eq!(browser.tab(index).snapshot().phase, Phase::Idle);
    }
    browser.assert_settled();
}

#[test]
fn without_web_locks_every_tab_refreshes_shares_its_token_and_stays_signed_in() {
    let mut browser = Browser::without_locks(3);
    browser.login(0);
    browser.settle();
    browser.server.borrow_mut().hold_refresh = true;
    browser.expire_tokens_on_server();
    let outcomes = browser.fire_everywhere("/api/me");
    browser.run();
    assert_eq!(
        browser.refresh_calls(),
        3,
        "no lock: all three race, the grace window decides"
    );
    browser.release_refresh();
    browser.settle();
    for outcome in &outcomes {
        assert!(
            matches!(outcome.borrow().as_ref(), Some(Ok(_))),
            "{outcome:?}"
        );
    }
    for index in 0..3 {
        assert_eq!(browser.tab(index).snapshot().phase, Phase::Idle);
        assert_eq!(
            browser.token_of(index).as_deref(),
            Some("t4"),
            "all tabs end on the newest announced token"
        );
    }
    browser.assert_settled();
}

#[test]
fn without_web_locks_the_generation_counter_still_spares_a_refresh_when_timing_allows() {
    let mut browser = Browser::without_locks(2);
    browser.login(0);
    browser.settle();
    browser.expire_tokens_on_server();
    let outcomes = browser.fire_everywhere("/api/me");
    browser.settle();
    assert_eq!(
        browser.refresh_calls(),
        1,
        "tab 1 saw tab 0's answer counted"
    );
    assert_eq!(browser.count(1, awaiting_other_tab), 1);
    for outcome in &outcomes {
        delivered_with(outcome, "t2");
    }
    browser.assert_settled();
}

// 3. Session events

#[test]
fn a_logout_in_one_tab_signs_the_others_out_with_a_notice_and_fails_their_parked_requests() {
    let mut browser = Browser::refreshes_held(3);
    let refreshing = browser.fire(0, "/api/me");
    browser.run();
    let parked = browser.fire(1, "/api/me");
    browser.run();
    browser.tab(2).sign_out();
    browser.deliver();
    browser.run();
    for index in 0..2 {
        let snapshot = browser.tab(index).snapshot();
        assert_eq!(snapshot.phase, Phase::SignedOut, "tab {index}");
        assert_eq!(snapshot.token, None);
        assert_eq!(
            browser.count(
                index,
                |e| matches!(e, EventKind::SignedOutElsewhere { from } if from == "tab3")
            ),
            1
        );
        assert_eq!(browser.count(index, session_over), 0, "no failure toast");
    }
    assert_eq!(error_of(&refreshing), Error::SessionOver);
    assert_eq!(error_of(&parked), Error::SessionOver);
    browser.release_refresh();
    assert_eq!(
        browser.tab(0).snapshot().token,
        None,
        "the late refresh answer is dropped"
    );
    browser.assert_settled();
}

#[test]
fn a_refused_refresh_ends_the_session_in_every_tab_with_one_notice_each() {
    let mut browser = Browser::logged_in(3);
    browser.server.borrow_mut().refresh_mode = Some(RefreshMode::Reject);
    browser.expire_tokens_on_server();
    let outcomes = browser.fire_everywhere("/api/me");
    browser.settle();
    assert_eq!(
        browser.refresh_calls(),
        1,
        "one refusal is enough for every tab"
    );
    for outcome in &outcomes {
        assert_eq!(error_of(outcome), Error::SessionOver);
    }
    assert_eq!(
        browser.count(0, |e| matches!(
            e,
            EventKind::SessionOver { from_tab: None }
        )),
        1
    );
    for index in 1..3 {
        assert_eq!(
            browser.count(index, |e| matches!(
                e,
                EventKind::SessionOver { from_tab: Some(from) } if from == "tab1"
            )),
            1,
            "tab {index}: its own toast and redirect"
        );
        assert_eq!(browser.tab(index).snapshot().phase, Phase::Failed);
    }
    browser.assert_settled();
}

#[test]
fn a_login_in_another_tab_revives_a_signed_out_tab_without_a_refresh() {
    let mut browser = Browser::logged_in(2);
    browser.tab(1).sign_out();
    browser.settle();
    assert_eq!(browser.tab(0).snapshot().phase, Phase::SignedOut);
    browser.login(1);
    browser.settle();
    assert_eq!(browser.tab(0).snapshot().phase, Phase::Idle);
    let outcome = browser.fire(0, "/api/me");
    browser.run();
    delivered_with(&outcome, "t2");
    assert_eq!(browser.refresh_calls(), 0);
    browser.assert_settled();
}

#[test]
fn messages_older_than_what_a_tab_has_seen_are_ignored() {
    let mut browser = Browser::logged_in(2);
    let generation = browser.tab(1).snapshot().generation_seen;
    let token = |value: &str, generation: u64| TabMessage::Token {
        from: "tab9".into(),
        generation,
        access_token: value.into(),
        expires_in_ms: LIFETIME_S * 1000,
        login: None,
        user: None,
    };
    browser.tab(1).receive(token("newer", generation + 2));
    browser.tab(1).receive(token("late", generation + 1));
    assert_eq!(browser.token_of(1).as_deref(), Some("newer"));
    browser.tab(1).receive(TabMessage::SignedOut {
        from: "tab9".into(),
        generation: generation + 1,
    });
    browser.tab(1).receive(TabMessage::SessionOver {
        from: "tab9".into(),
        generation,
    });
    assert_eq!(
        browser.tab(1).snapshot().phase,
        Phase::Idle,
        "stale news changes nothing"
    );
    assert_eq!(browser.token_of(1).as_deref(), Some("newer"));
    browser.assert_settled();
}

#[test]
fn a_shared_token_runs_out_in_every_tab_together_and_is_refreshed_once_beforehand() {
    let mut browser = Browser::logged_in(3);
    let received = browser.tab(1).snapshot().token.expect("a token");
    assert_eq!(
        received.lifetime,
        Duration::from_secs(LIFETIME_S as u64),
        "what was left when sent"
    );
    browser.clock.advance((LIFETIME_S - 4) * 1000); // inside the 5 s margin everywhere
    let outcomes = browser.fire_everywhere("/api/me");
    browser.settle();
    for outcome in &outcomes {
        delivered_with(outcome, "t2");
    }
    assert_eq!(
        browser.refresh_calls(),
        1,
        "one proactive refresh for three tabs"
    );
    for index in 0..3 {
        assert_eq!(
            browser.count(index, |e| matches!(e, EventKind::TokenRefused { .. })),
            0
        );
    }
    browser.assert_settled();
}

// 4. Clocks that disagree with the server's

fn one_refresh_per_lifetime_with_a_browser_clock_off_by(offset_ms: i64) {
    let mut h = Harness::new();
    h.server.borrow_mut().server_ahead_ms = -offset_ms;
    h.login();
    let outcomes: Vec<_> = (0..20)
        .map(|i| {
            h.advance(3_000); // twenty requests over one 60 s lifetime
            let outcome = h.fire(&format!("/api/item/{i}"));
            h.run();
            outcome
        })
        .collect();
    for outcome in &outcomes {
        assert!(matches!(outcome.borrow().as_ref(), Some(Ok(_))));
    }
    assert_eq!(h.refresh_calls(), 1, "clock off by {offset_ms} ms");
    assert_eq!(
        h.count(|e| matches!(
            e,
            EventKind::Queued {
                reason: QueueReason::ExpiresSoon,
                ..
            }
        )),
        1,
        "the refresh came before the token ran out, not after a 30001"
    );
    assert_eq!(h.count(|e| matches!(e, EventKind::TokenRefused { .. })), 0);
    h.assert_settled();
}

#[test]
fn a_browser_clock_ten_minutes_ahead_refreshes_once_per_token_lifetime() {
    one_refresh_per_lifetime_with_a_browser_clock_off_by(10 * 60 * 1000);
}

#[test]
fn a_browser_clock_ten_minutes_behind_still_refreshes_before_the_token_runs_out() {
    one_refresh_per_lifetime_with_a_browser_clock_off_by(-10 * 60 * 1000);
}

#[test]
fn clocks_that_agree_behave_the_same() {
    one_refresh_per_lifetime_with_a_browser_clock_off_by(0);
}

/// A page restored from the back/forward cache heard nothing while it was stored: the
/// counter that every announcement moves tells it so.
#[test]
fn a_tab_that_missed_a_logout_elsewhere_knows_it_missed_something() {
    let mut browser = Browser::logged_in(2);
    assert!(!browser.tab(0).missed_messages());
    assert!(!browser.tab(1).missed_messages());
    // Tab 1 sits in the back/forward cache while tab 0 logs out.
    browser.tab(0).sign_out();
    browser.lose_messages();
    browser.run();
    assert!(browser.tab(1).missed_messages());
    assert!(!browser.tab(0).missed_messages(), "its own logout");
    // A message that does arrive brings it up to date.
    browser.login(0);
    browser.settle();
    assert!(!browser.tab(1).missed_messages());
}

/// A message of another tab carrying `value`, for `user`, a login if `login`.
fn token_for(value: &str, generation: u64, user: &str, login: bool) -> TabMessage {
    let user = TestUser {
        username: user.into(),
    };
    TabMessage::Token {
        from: "tab9".into(),
        generation,
        access_token: value.into(),
        expires_in_ms: LIFETIME_S * 1000,
        login: login.then(|| user.clone()),
        user: Some(user),
    }
}

#[test]
fn a_refreshed_token_of_another_user_is_ignored_and_only_a_login_changes_the_user() {
    let browser = Browser::logged_in(2);
    let generation = browser.tab(1).snapshot().generation_seen;
    browser
        .tab(1)
        .receive(token_for("mallory's", generation + 1, "mallory", false));
    assert_eq!(
        browser.token_of(1).as_deref(),
        Some("t1"),
        "tab 1 knows demo signed in: mallory's refreshed token is not taken"
    );
    browser
        .tab(1)
        .receive(token_for("demo's", generation + 2, "demo", false));
    assert_eq!(
        browser.token_of(1).as_deref(),
        Some("demo's"),
        "the same user's is"
    );
    browser
        .tab(1)
        .receive(token_for("login", generation + 3, "mallory", true));
    assert_eq!(
        browser.token_of(1).as_deref(),
        Some("login"),
        "a login changes the user"
    );
    browser
        .tab(1)
        .receive(token_for("refreshed", generation + 4, "mallory", false));
    assert_eq!(browser.token_of(1).as_deref(), Some("refreshed"));
    // A refresh in tab 0 now names demo, whom tab 1 no longer takes it for.
    browser
        .tab(1)
        .receive(token_for("stale", generation + 5, "demo", false));
    assert_eq!(browser.token_of(1).as_deref(), Some("refreshed"));
}

#[test]
fn a_tab_told_who_is_signed_in_ignores_other_users_refreshed_tokens() {
    let mut browser = Browser::with_tabs(1);
    browser.tab(0).identify(demo_user());
    browser
        .tab(0)
        .receive(token_for("mallory's", 1, "mallory", false));
    assert_eq!(browser.token_of(0), None);
    browser
        .tab(0)
        .receive(token_for("demo's", 2, "demo", false));
    assert_eq!(browser.token_of(0).as_deref(), Some("demo's"));
    // Messages of older versions say nobody: taken as before.
    browser.tab(0).receive(TabMessage::Token {
        from: "tab9".into(),
        generation: 3,
        access_token: "unsigned".into(),
        expires_in_ms: LIFETIME_S * 1000,
        login: None,
        user: None,
    });
    assert_eq!(browser.token_of(0).as_deref(), Some("unsigned"));
    browser.assert_settled();
}

#[test]
fn refreshed_tokens_carry_their_user_to_the_other_tabs() {
    let mut browser = Browser::logged_in(2);
    browser.expire_tokens_on_server();
    let outcome = browser.fire(0, "/api/me");
    browser.settle();
    delivered_with(&outcome, "t2");
    assert_eq!(browser.token_of(1).as_deref(), Some("t2"), "demo's, taken");
    browser.assert_settled();
}

#[test]
fn absurd_generations_neither_overflow_nor_stop_the_tabs() {
    let mut browser = Browser::with_tabs(0);
    // Storage another script wrote: the largest number it holds.
    browser.shared.borrow_mut().generation = u64::MAX;
    browser.open_tab();
    browser.open_tab();
    assert_eq!(browser.tab(0).snapshot().generation_seen, 0, "ignored");
    browser.login(0);
    browser.settle();
    assert_eq!(
        browser.token_of(1).as_deref(),
        Some("t1"),
        "messages still flow"
    );
    assert!(
        browser.shared.borrow().generation <= MAX_GENERATION,
        "and storage is healed"
    );
    let seen = browser.tab(1).snapshot().generation_seen;
    browser
        .tab(1)
        .receive(token_for("far", u64::MAX, "demo", false));
    browser
        .tab(1)
        .receive(token_for("bound", MAX_GENERATION + 1, "demo", false));
    assert_eq!(
        browser.token_of(1).as_deref(),
        Some("t1"),
        "beyond the bound: refused"
    );
    assert_eq!(browser.tab(1).snapshot().generation_seen, seen);
    browser.assert_settled();
}
