//! The envelope policy: how this app's answers read to the coordinator.

use serde_json::json;

use super::*;
use crate::api::RawEnvelope;

fn response(status: u16, envelope: &RawEnvelope) -> Response {
    Response::new(
        status,
        serde_json::to_string(envelope).expect("an envelope serialises"),
    )
}

fn grant_envelope() -> RawEnvelope {
    RawEnvelope::ok(json!({
        "access_token": "t2",
        "expires_at": 1_800_000_060,
        "expires_in": 60,
        "user": {"username": "demo", "display_name": "Demo", "customer_code": "ACME"}
    }))
}

#[test]
fn errcode_zero_is_a_success_whose_data_decodes_into_the_callers_type() {
    let policy = EnvelopePolicy::default();
    let Verdict::Success(answer) = policy.read(response(200, &RawEnvelope::ok(json!([1, 2]))))
    else {
        panic!("a success");
    };
    assert_eq!(answer.decode::<Vec<u32>>(), Ok(vec![1, 2]));
    assert!(matches!(
        answer.decode::<String>(),
        Err(ClientError::Decode(_))
    ));
}

#[test]
fn every_refresh_errcode_asks_for_a_refresh_and_others_are_the_callers() {
    let policy = EnvelopePolicy::default();
    for code in ErrCode::DEFAULT_REFRESH_SET {
        let verdict = policy.read(response(200, &RawEnvelope::error(code, "refused")));
        assert_eq!(
            verdict,
            Verdict::RefreshAndReplay(ClientError::Refused {
                code: code.code(),
                message: "refused".into()
            })
        );
    }
    let verdict = policy.read(response(
        200,
        &RawEnvelope::error(ErrCode::InvalidInput, "bad"),
    ));
    assert!(matches!(
        verdict,
        Verdict::Failure(ClientError::Refused { code: 40002, .. })
    ));
}

#[test]
fn a_body_that_is_not_an_envelope_is_a_transport_error_with_its_status() {
    let policy = EnvelopePolicy::default();
    let verdict = policy.read(Response::new(502, "<html>Bad gateway</html>"));
    assert!(matches!(
        verdict,
        Verdict::Failure(ClientError::Transport { status: 502, .. })
    ));
}

#[test]
fn the_refresh_call_grants_ends_the_session_or_fails_for_now() {
    let policy = EnvelopePolicy::default();
    assert_eq!(
        policy.read_refresh(response(200, &grant_envelope())),
        RefreshVerdict::Granted(Grant::new("t2", std::time::Duration::from_secs(60)))
    );
    for over in [ErrCode::SessionOver, ErrCode::InvalidCredential] {
        let verdict = policy.read_refresh(response(200, &RawEnvelope::error(over, "over")));
        assert_eq!(verdict, RefreshVerdict::Refused("over".into()), "{over:?}");
    }
    let verdict = policy.read_refresh(response(200, &RawEnvelope::error(ErrCode::Internal, "bug")));
    assert!(matches!(
        verdict,
        RefreshVerdict::Failed(ClientError::Refused { code: 50000, .. })
    ));
    let verdict = policy.read_refresh(response(200, &RawEnvelope::ok(json!({"nope": 1}))));
    assert!(matches!(
        verdict,
        RefreshVerdict::Failed(ClientError::Decode(_))
    ));
}

/// 50300 and 50301 answer 503: worth another try, on a data call as on the refresh, and
/// so is a proxy's 503 page.
#[test]
fn a_503_is_unavailable_for_now_whether_an_envelope_or_a_proxy_page() {
    let policy = EnvelopePolicy::default();
    for code in [ErrCode::Unavailable, ErrCode::Overloaded] {
        let unavailable = response(503, &RawEnvelope::error(code, "later"));
        assert!(matches!(
            policy.read(unavailable.clone()),
            Verdict::Unavailable(ClientError::Refused { .. })
        ));
        assert!(matches!(
            policy.read_refresh(unavailable),
            RefreshVerdict::Unavailable(ClientError::Refused { .. })
        ));
    }
    let page = Response::new(503, "<html>Service Unavailable</html>");
    assert!(matches!(
        policy.read(page),
        Verdict::Unavailable(ClientError::Transport { status: 503, .. })
    ));
}

#[test]
fn errcodes_are_reported_as_the_seed_did() {
    assert_eq!(errcode_of(&ClientError::SessionOver), 42002);
    let offline = ClientError::Transport {
        status: 0,
        message: "down".into(),
    };
    assert_eq!(errcode_of(&offline), -1);
    let bad_gateway = ClientError::Transport {
        status: 502,
        message: "html".into(),
    };
    assert_eq!(errcode_of(&bad_gateway), 502);
}
