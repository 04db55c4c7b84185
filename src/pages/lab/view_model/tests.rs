use super::*;
use crate::api::ErrCode;
use crate::refresh::{ClientError, RequestId};

const EXPIRED: i32 = ErrCode::SessionSuperseded.code();
const DISABLED: i32 = ErrCode::DemoDisabled.code();

fn at(at_ms: i64, kind: EventKind) -> Event {
    Event { at_ms, kind }
}

fn sent(request: RequestId, path: &str) -> EventKind {
    EventKind::Sent {
        request,
        label: format!("GET {path}"),
        token_version: 1,
    }
}

fn labels(row: &Row) -> Vec<&str> {
    row.steps.iter().map(|s| s.label.as_str()).collect()
}

#[test]
fn a_request_that_needed_a_refresh_reads_as_its_path_through_the_coordinator() {
    let events = [
        at(100, sent(1, "/api/me")),
        at(
            110,
            EventKind::TokenRefused {
                request: 1,
                error: ClientError::Refused {
                    code: EXPIRED,
                    message: "expired".into(),
                },
            },
        ),
        at(
            110,
            EventKind::Queued {
                request: 1,
                reason: QueueReason::TokenRefused,
            },
        ),
        at(
            111,
            EventKind::RefreshLocked {
                refresh: 1,
                exclusive: true,
            },
        ),
        at(
            112,
            EventKind::RefreshStarted {
                refresh: 1,
                attempt: 1,
            },
        ),
        at(
            150,
            EventKind::RefreshSucceeded {
                refresh: 1,
                lifetime: std::time::Duration::from_secs(60),
            },
        ),
        at(
            151,
            EventKind::Replayed {
                request: 1,
                token_version: 2,
            },
        ),
        at(
            160,
            EventKind::Delivered {
                request: 1,
                result: Ok(()),
            },
        ),
        at(160, EventKind::InFlight(0)),
    ];
    let rows = rows(Locale::En, &events);
    assert_eq!(rows.len(), 2, "one request, one refresh round");
    assert_eq!(rows[0].title, "#1 GET /api/me");
    assert!(!rows[0].is_refresh);
    assert_eq!(
        labels(&rows[0]),
        [
            "sent",
            &EXPIRED.to_string(),
            "queued",
            "replayed",
            "delivered"
        ]
    );
    assert_eq!(
        rows[0].steps.last().map(|s| s.offset_ms),
        Some(60),
        "from the first event"
    );
    assert_eq!(rows[1].title, "refresh #1");
    assert!(rows[1].is_refresh);
    assert_eq!(
        labels(&rows[1]),
        ["lock taken", "POST /api/auth/refresh", "new token"]
    );
}

#[test]
fn rows_come_in_order_of_first_appearance_whatever_their_ids() {
    let events = [
        at(1, sent(7, "/api/stats")),
        at(2, sent(3, "/api/me")),
        at(
            3,
            EventKind::Delivered {
                request: 7,
                result: Err(ClientError::Refused {
                    code: DISABLED,
                    message: "off".into(),
                }),
            },
        ),
        at(4, EventKind::Cancelled { request: 3 }),
    ];
    let rows = rows(Locale::En, &events);
    let titles: Vec<&str> = rows.iter().map(|r| r.title.as_str()).collect();
    assert_eq!(titles, ["#7 GET /api/stats", "#3 GET /api/me"]);
    assert_eq!(labels(&rows[0]), ["sent", &format!("error {DISABLED}")]);
    assert_eq!(rows[0].steps[1].class, "failed");
    assert_eq!(labels(&rows[1]), ["sent", "cancelled"]);
}

#[test]
fn waiting_for_the_network_reads_on_the_request_and_the_refresh_rows() {
    let events = [
        at(0, sent(1, "/api/me")),
        at(
            1,
            EventKind::Held {
                request: 1,
                reason: HoldReason::NoAnswer,
            },
        ),
        at(2, EventKind::NetworkWait(true)),
        at(
            3,
            EventKind::RefreshHeld {
                refresh: 1,
                reason: HoldReason::Unavailable,
            },
        ),
        at(
            1003,
            EventKind::RefreshStarted {
                refresh: 1,
                attempt: 2,
            },
        ),
        at(
            1010,
            EventKind::Retried {
                request: 1,
                token_version: 1,
            },
        ),
        at(1011, EventKind::NetworkWait(false)),
    ];
    let rows = rows(Locale::En, &events);
    let titles: Vec<&str> = rows.iter().map(|r| r.title.as_str()).collect();
    assert_eq!(titles, ["#1 GET /api/me", "refresh #1"]);
    assert_eq!(
        labels(&rows[0]),
        ["sent", "waiting for the network", "sent again"]
    );
    assert_eq!(rows[0].steps[1].class, "offline");
    assert_eq!(
        labels(&rows[1]),
        [
            "waiting for the server",
            &format!("POST {} (2)", paths::REFRESH)
        ]
    );
    let retries = events.iter().filter(|e| is_retry(&e.kind)).count();
    assert_eq!(retries, 2, "the request's and the refresh's second tries");
    assert_eq!(
        phase_badge(Locale::En, Phase::Refreshing, true),
        ("offline", "Waiting for the network")
    );
    assert_eq!(phase_badge(Locale::En, Phase::Failed, true).0, "failed");
}

#[test]
fn other_tabs_and_the_end_of_the_session_get_rows_of_their_own() {
    let events = [
        at(1, EventKind::AwaitingOtherTab { refresh: 2 }),
        at(
            2,
            EventKind::TokenReceived {
                from: "a1b2".into(),
                generation: 9,
                login: None,
            },
        ),
        at(
            3,
            EventKind::SessionOver {
                from_tab: Some("c3d4".into()),
            },
        ),
        at(
            4,
            EventKind::RefreshLocked {
                refresh: 3,
                exclusive: false,
            },
        ),
    ];
    let rows = rows(Locale::En, &events);
    let titles: Vec<&str> = rows.iter().map(|r| r.title.as_str()).collect();
    assert_eq!(titles, ["refresh #2", "token #9", "session", "refresh #3"]);
    assert_eq!(labels(&rows[0]), ["another tab got ahead"]);
    assert_eq!(labels(&rows[1]), ["from tab a1b2"]);
    assert_eq!(labels(&rows[2]), ["session over (tab c3d4)"]);
    assert_eq!(labels(&rows[3]), ["no lock"]);

    // The same events in Chinese: titles and chips, with the same keys and classes.
    let chinese = super::rows(Locale::ZhCn, &events);
    let titles: Vec<&str> = chinese.iter().map(|r| r.title.as_str()).collect();
    assert_eq!(titles, ["刷新 #2", "令牌 #9", "会话", "刷新 #3"]);
    assert_eq!(labels(&chinese[1]), ["来自标签页 a1b2"]);
    assert_eq!(labels(&chinese[2]), ["会话结束（标签页 c3d4）"]);
    let keys = |rows: &[Row]| rows.iter().map(|r| r.key.clone()).collect::<Vec<_>>();
    assert_eq!(keys(&chinese), keys(&rows));
}

#[test]
fn state_changes_stay_off_the_timeline() {
    let events = [
        at(1, EventKind::InFlight(3)),
        at(2, EventKind::PhaseChanged(Phase::Refreshing)),
        at(3, EventKind::TokenChanged(None)),
    ];
    assert!(rows(Locale::En, &events).is_empty());
}

#[test]
fn a_burst_counts_what_was_delivered_and_what_failed() {
    let results: [Result<(), ()>; 4] = [Ok(()), Err(()), Ok(()), Ok(())];
    assert_eq!(
        BurstResult::of(&results),
        BurstResult {
            size: 4,
            ok: 3,
            failed: 1
        }
    );
    assert_eq!(BurstResult::of::<(), ()>(&[]), BurstResult::default());
}

#[test]
fn the_countdown_and_the_phase_badge_read_as_shown() {
    assert_eq!(remaining_text(Locale::En, Some(12_345)), "12.3 s");
    assert_eq!(remaining_text(Locale::En, Some(0)), "expired");
    assert_eq!(remaining_text(Locale::En, None), "none in memory");
    assert_eq!(
        phase_badge(Locale::En, Phase::Refreshing, false),
        ("refreshing", "Refreshing…")
    );
    assert_eq!(phase_badge(Locale::En, Phase::SignedOut, false).0, "failed");
    assert_eq!(remaining_text(Locale::ZhCn, Some(12_345)), "12.3 秒");
    assert_eq!(
        phase_badge(Locale::ZhCn, Phase::Refreshing, false),
        ("refreshing", "刷新中…")
    );
}

#[test]
fn counting_picks_one_kind_of_event() {
    let events = [
        at(
            1,
            EventKind::RefreshStarted {
                refresh: 1,
                attempt: 1,
            },
        ),
        at(2, sent(1, "/api/me")),
        at(
            3,
            EventKind::RefreshStarted {
                refresh: 2,
                attempt: 1,
            },
        ),
    ];
    assert_eq!(
        count(&events, |k| matches!(k, EventKind::RefreshStarted { .. })),
        2
    );
}
