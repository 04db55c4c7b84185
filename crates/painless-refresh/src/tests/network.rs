//! The real network: offline, lost answers, a server that cannot serve for a while, a
//! laptop that slept. Only an explicit refusal of the refresh credential ends a session;
//! everything here ends with an answer, or with `Error::Offline` or the server's error
//! once the bounds are spent.

use super::*;

const WAIT_MS: i64 = 30_000;

fn network_waits(h: &Harness) -> Vec<bool> {
    let events = h.events.lock().expect("events");
    events
        .iter()
        .filter_map(|e| match e {
            EventKind::NetworkWait(waiting) => Some(*waiting),
            _ => None,
        })
        .collect()
}

fn session_overs(h: &Harness) -> usize {
    h.count(|e| matches!(e, EventKind::SessionOver { .. }))
}

// Offline is a pause

#[test]
fn a_request_issued_offline_is_held_unsent_and_goes_out_when_the_network_is_back() {
    let mut h = Harness::logged_in();
    h.go_offline();
    let outcome = h.fire("/api/me");
    h.run();
    h.advance(10_000);
    h.run();
    assert!(outcome.borrow().is_none(), "still waiting");
    assert_eq!(h.sends_of("/api/me"), 0, "nothing is sent offline");
    assert_eq!(h.coordinator.snapshot().waiting_for_network, 1);
    h.go_online();
    assert_eq!(data_path(&outcome), "/api/me");
    assert_eq!(h.sends_of("/api/me"), 1);
    assert_eq!(network_waits(&h), [true, false], "one notice, then its end");
    assert_eq!(h.refresh_calls(), 0);
    h.assert_settled();
}

#[test]
fn past_the_bound_a_held_request_fails_offline_and_the_session_stays() {
    let mut h = Harness::logged_in();
    h.go_offline();
    let outcome = h.fire("/api/me");
    h.run();
    h.advance(WAIT_MS - 1);
    h.run();
    assert!(outcome.borrow().is_none(), "the bound is not over yet");
    // The platform's event can be missed: the coordinator also looks by itself.
    h.advance(1);
    h.run();
    assert_eq!(error_of(&outcome), Error::Offline);
    assert_eq!(session_overs(&h), 0);
    assert_eq!(h.coordinator.snapshot().phase, Phase::Idle);
    assert_eq!(h.sends_of("/api/me"), 0);
    h.go_online();
    let later = h.fire("/api/me");
    h.run();
    assert_eq!(data_path(&later), "/api/me");
    h.assert_settled();
}

#[test]
fn a_platform_that_reports_online_again_is_noticed_without_its_event() {
    let mut h = Harness::logged_in();
    h.go_offline();
    let outcome = h.fire("/api/me");
    h.run();
    // navigator.onLine turns true but the `online` event never reaches the page.
    h.server.borrow_mut().offline = false;
    h.advance(Tuning::default().max_retry_delay.as_millis() as i64);
    h.run();
    assert_eq!(data_path(&outcome), "/api/me");
    h.assert_settled();
}

#[test]
fn a_burst_with_an_expired_token_offline_refreshes_once_when_the_network_is_back() {
    let mut h = Harness::logged_in();
    h.expire_tokens_on_server();
    h.advance(LIFETIME_S * 1000); // the tab's clock knows the token is spent
    h.go_offline();
    let burst: Vec<_> = (0..10).map(|i| h.fire(&format!("/api/{i}"))).collect();
    h.run();
    h.advance(4_000);
    h.run();
    assert_eq!(h.refresh_calls(), 0, "no refresh is sent offline");
    assert!(burst.iter().all(|o| o.borrow().is_none()));
    assert_eq!(network_waits(&h), [true], "one notice for the whole burst");
    h.go_online();
    for (i, outcome) in burst.iter().enumerate() {
        assert_eq!(data_path(outcome), format!("/api/{i}"));
    }
    assert_eq!(h.refresh_calls(), 1);
    assert_eq!(h.count(|e| matches!(e, EventKind::TokenRefused { .. })), 0);
    assert_eq!(session_overs(&h), 0);
    assert_eq!(network_waits(&h), [true, false]);
    h.assert_settled();
}

#[test]
fn a_refresh_held_offline_past_the_bound_fails_its_waiters_offline_not_session_over() {
    let mut h = Harness::logged_in();
    h.advance(LIFETIME_S * 1000);
    h.go_offline();
    let a = h.fire("/api/a");
    let b = h.fire("/api/b");
    h.run();
    h.advance(WAIT_MS);
    h.run();
    assert_eq!(error_of(&a), Error::Offline);
    assert_eq!(error_of(&b), Error::Offline);
    assert_eq!(h.refresh_calls(), 0);
    assert_eq!(session_overs(&h), 0);
    assert_eq!(h.coordinator.snapshot().phase, Phase::Idle);
    h.go_online();
    let later = h.fire("/api/c");
    h.run();
    assert_eq!(data_path(&later), "/api/c");
    assert_eq!(h.refresh_calls(), 1);
    h.assert_settled();
}

// No answer: repeat what is safe to repeat

#[test]
fn a_get_without_an_answer_is_sent_again_after_a_pause_and_its_caller_gets_the_answer() {
    let mut h = Harness::logged_in();
    h.server
        .borrow_mut()
        .transport_failures
        .push(("/api/me".into(), 0));
    let outcome = h.fire("/api/me");
    h.run();
    assert_eq!(h.sends_of("/api/me"), 1);
    assert!(outcome.borrow().is_none(), "held, not failed");
    h.server.borrow_mut().transport_failures.clear();
    h.advance(999);
    h.run();
    assert_eq!(h.sends_of("/api/me"), 1, "the first pause is a second");
    h.advance(1);
    h.run();
    assert_eq!(data_path(&outcome), "/api/me");
    assert_eq!(h.sends_of("/api/me"), 2);
    assert_eq!(h.count(|e| matches!(e, EventKind::Retried { .. })), 1);
    assert_eq!(h.coordinator.snapshot().retries, 1);
    h.assert_settled();
}

#[test]
fn a_get_that_never_gets_an_answer_fails_offline_at_the_bound_after_capped_pauses() {
    let mut h = Harness::logged_in();
    h.server
        .borrow_mut()
        .transport_failures
        .push(("/api/me".into(), 0));
    let outcome = h.fire("/api/me");
    h.run();
    for _ in 0..WAIT_MS / 1000 {
        h.advance(1000);
        h.run();
    }
    assert_eq!(error_of(&outcome), Error::Offline);
    // Pauses 1, 2, 4, 4, 4… seconds: tries at 0, 1, 3, 7, 11, 15, 19, 23, 27 and 30 s.
    assert_eq!(h.sends_of("/api/me"), 10);
    assert_eq!(session_overs(&h), 0);
    h.assert_settled();
}

/// After no answer, or a 503 with `Retry-After`, what is safe to repeat is sent again
/// after the pause; a plain `POST` may have reached the server: its caller knows at once.
#[test]
fn what_is_safe_to_repeat_is_sent_again_after_no_answer_or_a_503_and_a_plain_post_is_not() {
    for (status, pause_ms) in [(0, 1000), (503, 3000)] {
        let mut h = Harness::logged_in();
        {
            let mut server = h.server.borrow_mut();
            for path in ["/api/get", "/api/put", "/api/post"] {
                server.transport_failures.push((path.into(), status));
            }
            server.retry_after_s = Some(3);
        }
        let get = h.fire("/api/get");
        let (put, handle) = h.start(Request::post("/api/put", "{}").idempotent());
        handle.forget();
        let (post, handle) = h.start(Request::post("/api/post", "{}"));
        handle.forget();
        h.run();
        assert_eq!(number(&error_of(&post)), i32::from(status), "at once");
        h.server.borrow_mut().transport_failures.clear();
        h.advance(pause_ms - 1);
        h.run();
        assert_eq!(h.sends_of("/api/get"), 1, "{status}: still pausing");
        h.advance(1);
        h.run();
        assert_eq!(data_path(&get), "/api/get");
        assert_eq!(data_path(&put), "/api/put");
        let sends = ["/api/get", "/api/put", "/api/post"].map(|path| h.sends_of(path));
        assert_eq!(sends, [2, 2, 1], "{status}");
        h.assert_settled();
    }
}

// Lost refresh answers

#[test]
fn a_refresh_answer_lost_on_the_way_is_repaired_by_a_second_try_within_seconds() {
    let mut h = Harness::logged_in();
    h.expire_tokens_on_server();
    h.server.borrow_mut().lost_refresh_answers = 1;
    let a = h.fire("/api/a");
    let b = h.fire("/api/b");
    h.run();
    assert_eq!(h.refresh_calls(), 1);
    assert!(a.borrow().is_none() && b.borrow().is_none(), "waiting");
    h.advance(1000);
    h.run();
    assert_eq!(h.refresh_calls(), 2, "tried again after a second");
    assert_eq!(data_path(&a), "/api/a");
    assert_eq!(data_path(&b), "/api/b");
    assert_eq!(session_overs(&h), 0);
    let attempts: Vec<u32> = h
        .events
        .lock()
        .expect("events")
        .iter()
        .filter_map(|e| match e {
            EventKind::RefreshStarted { attempt, .. } => Some(*attempt),
            _ => None,
        })
        .collect();
    assert_eq!(attempts, [1, 2]);
    h.assert_settled();
}

#[test]
fn a_lost_refresh_answer_whose_repeat_is_refused_ends_the_session_once() {
    // Outside the server's grace window the repeat presents a spent token: the server's
    // refusal, not the network, ends the session.
    let mut h = Harness::logged_in();
    h.expire_tokens_on_server();
    h.server.borrow_mut().lost_refresh_answers = 1;
    let a = h.fire("/api/a");
    h.run();
    h.server.borrow_mut().refresh_mode = Some(RefreshMode::Reject);
    h.advance(1000);
    h.run();
    assert_eq!(error_of(&a), Error::SessionOver);
    assert_eq!(session_overs(&h), 1);
    h.assert_settled();
}

#[test]
fn a_refresh_that_never_gets_an_answer_is_tried_three_times_within_five_seconds() {
    let mut h = Harness::logged_in();
    h.expire_tokens_on_server();
    h.server.borrow_mut().refresh_mode = Some(RefreshMode::NetworkError);
    let a = h.fire("/api/a");
    let b = h.fire("/api/b");
    h.run();
    h.advance(1000);
    h.run();
    assert_eq!(h.refresh_calls(), 2);
    h.advance(1999);
    h.run();
    assert!(a.borrow().is_none(), "the pause doubles");
    h.advance(1);
    h.run();
    assert_eq!(h.refresh_calls(), 3);
    assert_eq!(error_of(&a), Error::Offline);
    assert_eq!(error_of(&b), Error::Offline);
    assert_eq!(session_overs(&h), 0, "a network error never ends a session");
    assert_eq!(h.coordinator.snapshot().phase, Phase::Idle);
    // The next request tries again, and this time the refresh works.
    h.server.borrow_mut().refresh_mode = Some(RefreshMode::Grant);
    let c = h.fire("/api/c");
    h.run();
    assert_eq!(data_path(&c), "/api/c");
    assert_eq!(h.refresh_calls(), 4);
    h.assert_settled();
}

#[test]
fn a_token_from_another_tab_ends_a_refresh_that_waits_for_the_network() {
    let mut h = Harness::logged_in();
    h.advance(LIFETIME_S * 1000);
    h.go_offline();
    let a = h.fire("/api/a");
    h.run();
    assert_eq!(h.coordinator.snapshot().phase, Phase::Refreshing);
    let token = h.server.borrow_mut().grant();
    h.coordinator.receive(TabMessage::Token {
        from: "tab9".into(),
        generation: 99,
        access_token: token.access_token,
        expires_in_ms: LIFETIME_S * 1000,
        login: None,
        user: None,
    });
    h.run();
    assert_eq!(h.coordinator.snapshot().phase, Phase::Idle);
    assert!(
        a.borrow().is_none(),
        "the request itself still waits for the network"
    );
    h.go_online();
    assert_eq!(data_path(&a), "/api/a");
    assert_eq!(h.refresh_calls(), 0);
    h.assert_settled();
}

// 503 and Retry-After

#[test]
fn a_refresh_answered_503_waits_for_retry_after_then_succeeds_and_keeps_the_session() {
    let mut h = Harness::logged_in();
    h.expire_tokens_on_server();
    h.server.borrow_mut().refresh_mode = Some(RefreshMode::Unavailable(Some(2)));
    let a = h.fire("/api/a");
    h.run();
    h.server.borrow_mut().refresh_mode = Some(RefreshMode::Grant);
    h.advance(1999);
    h.run();
    assert_eq!(h.refresh_calls(), 1, "the server asked for two seconds");
    h.advance(1);
    h.run();
    assert_eq!(h.refresh_calls(), 2);
    assert_eq!(data_path(&a), "/api/a");
    assert_eq!(session_overs(&h), 0);
    h.assert_settled();
}

#[test]
fn a_long_retry_after_is_capped_and_a_refresh_that_stays_503_hands_over_the_error() {
    let mut h = Harness::logged_in();
    h.expire_tokens_on_server();
    h.server.borrow_mut().refresh_mode = Some(RefreshMode::Unavailable(Some(3600)));
    let a = h.fire("/api/a");
    h.run();
    let cap = Tuning::default().max_retry_delay.as_millis() as i64;
    h.advance(cap);
    h.run();
    assert_eq!(h.refresh_calls(), 2, "an hour is capped");
    h.advance(cap);
    h.run();
    assert_eq!(h.refresh_calls(), 3);
    assert_eq!(number(&error_of(&a)), 503);
    assert_eq!(session_overs(&h), 0);
    h.assert_settled();
}

// Sleep and hidden tabs

#[test]
fn a_dozen_wake_events_after_a_long_sleep_refresh_once_and_the_next_request_waits_for_none() {
    let mut h = Harness::logged_in();
    h.server.borrow_mut().hold_refresh = true;
    h.advance(2 * 3600 * 1000); // two hours asleep: no timer ran
    h.expire_tokens_on_server();
    let started: Vec<bool> = (0..12).map(|_| h.coordinator.wake()).collect();
    h.run();
    assert_eq!(started.iter().filter(|s| **s).count(), 1);
    h.release_refresh();
    for _ in 0..12 {
        assert!(!h.coordinator.wake(), "the new token is fresh");
    }
    h.run();
    assert_eq!(h.refresh_calls(), 1);
    let next = h.fire("/api/me");
    h.run();
    assert_eq!(data_path(&next), "/api/me");
    assert_eq!(h.count(|e| matches!(e, EventKind::Queued { .. })), 0);
    assert_eq!(h.count(|e| matches!(e, EventKind::TokenRefused { .. })), 0);
    assert_eq!(h.refresh_calls(), 1);
    h.assert_settled();
}

#[test]
fn waking_does_nothing_with_a_fresh_token_offline_or_signed_out() {
    let mut h = Harness::logged_in();
    assert!(!h.coordinator.wake(), "fresh token");
    h.advance(LIFETIME_S * 1000);
    h.go_offline();
    assert!(
        !h.coordinator.wake(),
        "offline: the next request holds instead"
    );
    h.go_online();
    h.coordinator.sign_out();
    assert!(!h.coordinator.wake(), "signed out");
    h.run();
    assert_eq!(h.refresh_calls(), 0);
    h.assert_settled();
}
