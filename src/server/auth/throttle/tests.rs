//! The throttle's rules, in memory (the PostgreSQL half is tested with the store, on a
//! real server: `store/tests.rs`).

use super::local::Windows;
use super::*;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::sync::Arc;

const HOME: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1));

/// A throttle of `per_account` and `per_address` failures a minute.
fn local(per_account: u32, per_address: u32) -> Arc<LocalThrottle> {
    LocalThrottle::new(Limits {
        per_account,
        per_address,
        window: Duration::from_secs(60),
        ipv6_prefix_len: 64,
        account_refuses_all: true,
    })
}

fn other_address(n: u32) -> IpAddr {
    IpAddr::V4(Ipv4Addr::from(0x0a00_0000 + n))
}

#[test]
fn an_account_is_refused_after_max_failures_until_the_window_passes() {
    let throttle = local(3, 100);
    let t0 = Instant::now();
    for i in 0..3 {
        drop(
            throttle
                .begin(
                    "acme/demo",
                    other_address(i),
                    t0 + Duration::from_secs(i.into()),
                )
                .expect("allowed"),
        );
    }
    let later = t0 + Duration::from_secs(10);
    assert_eq!(
        throttle.begin("acme/demo", HOME, later).err(),
        Some(Refusal::Account)
    );
    assert!(throttle.begin("acme/other", HOME, later).is_ok());
    assert!(
        throttle
            .begin("acme/demo", HOME, t0 + Duration::from_secs(60))
            .is_ok(),
        "the oldest failure left the window"
    );
}

#[test]
fn parallel_attempts_are_counted_before_they_finish() {
    let throttle = local(3, 100);
    let now = Instant::now();
    let in_flight: Vec<_> = (0..10)
        .filter_map(|_| throttle.begin("acme/demo", HOME, now).ok())
        .collect();
    assert_eq!(
        in_flight.len(),
        3,
        "only max_failures may be in flight at once"
    );
    assert_eq!(
        throttle.begin("acme/demo", HOME, now).err(),
        Some(Refusal::InFlight),
        "busy: none of them failed yet"
    );
    for attempt in in_flight {
        attempt.failed();
    }
    assert_eq!(
        throttle.begin("acme/demo", HOME, now).err(),
        Some(Refusal::Account),
        "now they did"
    );
}

#[test]
fn a_burst_of_correct_logins_is_told_to_wait_then_gets_through() {
    let throttle = local(3, 100);
    let now = Instant::now();
    let mut burst: Vec<_> = (0..3)
        .map(|_| throttle.begin("acme/demo", HOME, now).expect("room"))
        .collect();
    assert_eq!(
        throttle.begin("acme/demo", HOME, now).err(),
        Some(Refusal::InFlight)
    );
    burst.pop().expect("one").succeeded();
    assert!(
        throttle.begin("acme/demo", HOME, now).is_ok(),
        "the retry finds room"
    );
    // An abandoned attempt (its request cancelled) counts as a failure.
    drop(burst);
    let throttle = local(1, 100);
    drop(throttle.begin("a", HOME, now).expect("room"));
    assert_eq!(throttle.begin("a", HOME, now).err(), Some(Refusal::Account));
}

#[test]
fn a_success_keeps_the_accounts_attempts_in_flight_counted() {
    let throttle = local(2, 100);
    let now = Instant::now();
    let guess = throttle.begin("a", HOME, now).expect("guess");
    throttle
        .begin("a", other_address(1), now)
        .expect("owner")
        .succeeded();
    guess.failed();
    throttle
        .begin("a", HOME, now)
        .expect("one failure of two")
        .failed();
    assert_eq!(
        throttle.begin("a", HOME, now).err(),
        Some(Refusal::Account),
        "the guess in flight during the owner's login counted"
    );
}

#[test]
fn a_success_forgives_the_account_but_not_the_address() {
    let throttle = local(2, 2);
    let now = Instant::now();
    throttle.begin("a", HOME, now).expect("1").failed();
    throttle.begin("a", HOME, now).expect("2").succeeded();
    assert!(throttle.begin("a", HOME, now).is_ok(), "account forgiven");
    // The address has two failures counted now (first and third attempts).
    assert_eq!(throttle.begin("b", HOME, now).err(), Some(Refusal::Address));
}

#[test]
fn an_attempt_that_was_never_tried_is_not_counted() {
    let throttle = local(1, 1);
    let now = Instant::now();
    throttle.begin("a", HOME, now).expect("1").not_tried();
    throttle
        .begin("a", HOME, now)
        .expect("still allowed")
        .not_tried();
    assert_eq!(throttle.tracked(), (0, 0), "nothing left behind");
}

#[test]
fn addresses_are_limited_across_accounts() {
    let throttle = local(100, 5);
    let now = Instant::now();
    for i in 0..5 {
        drop(
            throttle
                .begin(&format!("user{i}"), HOME, now)
                .expect("allowed"),
        );
    }
    assert_eq!(
        throttle.begin("user99", HOME, now).err(),
        Some(Refusal::Address)
    );
    assert!(throttle.begin("user99", other_address(1), now).is_ok());
}

#[test]
fn ipv6_addresses_share_their_network_of_the_configured_prefix_and_mapped_v4_is_v4() {
    let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().expect("v6");
    let b: IpAddr = "2001:db8:1:2:bbbb::2".parse().expect("v6");
    let c: IpAddr = "2001:db8:1:3::1".parse().expect("v6");
    assert_eq!(address_key(a, 64), address_key(b, 64));
    assert_ne!(address_key(a, 64), address_key(c, 64));
    assert_eq!(address_key(a, 48), address_key(c, 48), "one /48");
    assert_ne!(address_key(a, 128), address_key(b, 128), "per address");
    assert_eq!(address_key(a, 128), a);
    let mapped = IpAddr::V6(Ipv4Addr::new(192, 0, 2, 1).to_ipv6_mapped());
    assert_eq!(address_key(mapped, 64), HOME);
    assert_eq!(
        address_key(IpAddr::V6(Ipv6Addr::LOCALHOST), 64),
        IpAddr::V6(Ipv6Addr::UNSPECIFIED),
        "::1 is in ::/64"
    );
}

#[test]
fn a_spray_of_keys_stays_bounded_and_keeps_the_newest() {
    let mut windows = Windows::new(5, 100);
    let t0 = Instant::now();
    let window = Duration::from_secs(600);
    for i in 0..1_000u32 {
        windows.push(i, t0 + Duration::from_millis(i.into()), window);
        assert!(windows.map.len() <= 100, "bounded at {i}");
    }
    assert!(windows.map.contains_key(&999), "the newest key is kept");
    assert!(!windows.map.contains_key(&0), "the oldest is forgotten");
}

#[test]
fn with_account_lockout_verify_only_addresses_are_limited() {
    let throttle = LocalThrottle::new(Limits {
        per_account: 2,
        per_address: 3,
        window: Duration::from_secs(60),
        ipv6_prefix_len: 64,
        account_refuses_all: false,
    });
    let now = Instant::now();
    for i in 0..5 {
        throttle
            .begin("acme/demo", other_address(i), now)
            .expect("the account's limit does not refuse")
            .failed();
    }
    // The owner, from an address of their own, still gets the password checked.
    throttle
        .begin("acme/demo", HOME, now)
        .expect("checked")
        .succeeded();
    for _ in 0..3 {
        throttle
            .begin("acme/demo", other_address(9), now)
            .expect("room")
            .failed();
    }
    assert_eq!(
        throttle.begin("acme/demo", other_address(9), now).err(),
        Some(Refusal::Address),
        "each address still stops at its limit"
    );
}
