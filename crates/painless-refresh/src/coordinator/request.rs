//! One request's path: a usable token (refreshing first if there is none or it is about
//! to expire), the send, and the one replay after a refused token.

use std::sync::Arc;

use futures::channel::oneshot;
use futures::future::pending;

use super::network::Holder;
use super::{Inner, Pending, Phase};
use crate::{
    Error, EventKind, HoldReason, Platform, Policy, QueueReason, Request, RequestId, Response,
    Transport, TransportError, Verdict,
};

/// Which transmission of a request comes next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Try {
    /// The first.
    First,
    /// The one replay after a refused token.
    Replay,
    /// The same transmission again, after a wait for the network or the server.
    Again,
}

impl<P: Platform<A::Identity>, A: Policy> Inner<P, A> {
    pub(super) fn begin_request(&self) -> RequestId {
        let (id, in_flight) = {
            let mut ledger = self.ledger();
            let id = ledger.next_request;
            ledger.next_request += 1;
            ledger.in_flight += 1;
            (id, ledger.in_flight)
        };
        self.emit(vec![EventKind::InFlight(in_flight)]);
        id
    }

    pub(super) async fn run(
        self: &Arc<Self>,
        id: RequestId,
        request: &Request,
    ) -> Result<A::Answer, Error> {
        if request.bypass {
            let token = self.ledger().token_value();
            let response = self.transmit(id, request, token, Try::First).await?;
            return match self.policy.read(response) {
                Verdict::Success(answer) => Ok(answer),
                Verdict::RefreshAndReplay(error)
                | Verdict::Failure(error)
                | Verdict::Unavailable(error) => Err(error),
            };
        }
        let mut next = Try::First;
        let mut replayed = false;
        // Tries that got no answer or a 503, and until when waiting for the network may
        // last (set by the first wait).
        let mut failed_tries = 0;
        let mut deadline = None;
        loop {
            let (token, version) = self.usable_token(id).await?;
            if !self.platform.transport().is_online() {
                let until = *deadline.get_or_insert_with(|| self.network_deadline());
                let pause = self.tuning.max_retry_delay;
                if !self
                    .hold(
                        Holder::Request(id),
                        HoldReason::Offline,
                        pause,
                        until,
                        pending(),
                    )
                    .await
                {
                    return Err(Error::Offline);
                }
                // The token may have expired meanwhile: look again before sending.
                continue;
            }
            let (reason, pause, error) = match self.transmit(id, request, token, next).await {
                Err(error) if error.status == 0 && request.is_repeatable() => {
                    failed_tries += 1;
                    (
                        HoldReason::NoAnswer,
                        self.backoff(failed_tries),
                        Error::Offline,
                    )
                }
                Err(error) => return Err(error.into()),
                Ok(response) => {
                    let retry_after = response.retry_after;
                    match self.policy.read(response) {
                        Verdict::Success(answer) => return Ok(answer),
                        Verdict::Failure(error) => return Err(error),
                        Verdict::Unavailable(error) if request.is_repeatable() => {
                            failed_tries += 1;
                            let pause = self.pause_after(retry_after, failed_tries);
                            (HoldReason::Unavailable, pause, error)
                        }
                        Verdict::Unavailable(error) => return Err(error),
                        Verdict::RefreshAndReplay(error) => {
                            self.emit(vec![EventKind::TokenRefused {
                                request: id,
                                error: error.clone(),
                            }]);
                            if replayed {
                                // Replayed once already: hand the error over instead of
                                // looping.
                                return Err(error);
                            }
                            self.await_fresh_token(id, version, QueueReason::TokenRefused)
                                .await?;
                            replayed = true;
                            next = Try::Replay;
                            continue;
                        }
                    }
                }
            };
            let until = *deadline.get_or_insert_with(|| self.network_deadline());
            if !self
                .hold(Holder::Request(id), reason, pause, until, pending())
                .await
            {
                return Err(error);
            }
            next = Try::Again;
        }
    }

    /// One transmission, reported as its kind of try.
    async fn transmit(
        &self,
        id: RequestId,
        request: &Request,
        token: Option<String>,
        attempt: Try,
    ) -> Result<Response, TransportError> {
        let event = {
            let mut ledger = self.ledger();
            let token_version = ledger.token_version;
            match attempt {
                Try::First => EventKind::Sent {
                    request: id,
                    label: request.label(),
                    token_version,
                },
                Try::Replay => EventKind::Replayed {
                    request: id,
                    token_version,
                },
                Try::Again => {
                    ledger.retries += 1;
                    EventKind::Retried {
                        request: id,
                        token_version,
                    }
                }
            }
        };
        self.emit(vec![event]);
        self.platform
            .transport()
            .send(request, token.as_deref())
            .await
    }

    /// The token to send now and its version, refreshing first when there is none, when
    /// it is about to expire (the proactive check), or when a refresh is already running.
    async fn usable_token(self: &Arc<Self>, id: RequestId) -> Result<(Option<String>, u64), Error> {
        let (version, reason) = {
            let ledger = self.ledger();
            let version = ledger.token_version;
            match (ledger.phase, &ledger.token) {
                (Phase::Failed | Phase::SignedOut, _) => return Err(Error::SessionOver),
                (Phase::Refreshing, _) => (version, QueueReason::RefreshRunning),
                (Phase::Idle, None) => (version, QueueReason::NoToken),
                (Phase::Idle, Some(token)) if self.expires_soon(token) => {
                    (version, QueueReason::ExpiresSoon)
                }
                (Phase::Idle, Some(token)) => return Ok((Some(token.value.clone()), version)),
            }
        };
        self.await_fresh_token(id, version, reason).await?;
        // Whatever the refresh brought is used as it is: checking it again could loop.
        let ledger = self.ledger();
        Ok((ledger.token_value(), ledger.token_version))
    }

    /// Waits until a token newer than `stale_version` is installed, starting the one
    /// refresh if none is running. Returns at once when a newer token exists already: a
    /// request refused late, after the refresh finished, is replayed without a second
    /// refresh.
    async fn await_fresh_token(
        self: &Arc<Self>,
        id: RequestId,
        stale_version: u64,
        reason: QueueReason,
    ) -> Result<(), Error> {
        let mut events = Pending::new();
        let receiver = {
            let mut ledger = self.ledger();
            match ledger.phase {
                Phase::Failed | Phase::SignedOut => return Err(Error::SessionOver),
                Phase::Idle if ledger.token_version != stale_version => return Ok(()),
                Phase::Idle => self.start_refresh(&mut ledger, &mut events),
                Phase::Refreshing => {}
            }
            let (sender, receiver) = oneshot::channel();
            ledger.waiters.push((id, sender));
            events.insert(
                0,
                EventKind::Queued {
                    request: id,
                    reason,
                },
            );
            receiver
        };
        self.emit(events);
        // A dropped sender means the coordinator itself went away mid-refresh.
        receiver.await.unwrap_or(Err(Error::SessionOver))
    }
}
