//! What the coordinator costs: per request when the token is fine, and in total for 1,000
//! concurrent requests that all come back expired and share one refresh. Against an
//! in-memory transport that answers at once, so only the coordinator is measured.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::rc::Rc;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use futures::executor::{LocalPool, LocalSpawner};
use futures::future::LocalBoxFuture;
use futures::task::LocalSpawnExt;
use painless::api::{paths, AccessGrant, ErrCode, RawEnvelope, User};
use painless::refresh::{
    Clock, Coordinator, EnvelopePolicy, Plugins, Request, Response, SingleTab, Spawn, Transport,
    TransportError, Tuning,
};
use serde_json::json;

const NOW_MS: i64 = 1_800_000_000_000;

/// Accepts only the newest token; a refresh issues the next one.
#[derive(Clone, Default)]
struct InstantServer {
    current: Rc<Cell<u64>>,
    refreshes: Rc<Cell<u64>>,
}

impl Transport for InstantServer {
    fn send(
        &self,
        request: &Request,
        token: Option<&str>,
    ) -> impl Future<Output = Result<Response, TransportError>> {
        let answer = if request.url == paths::REFRESH {
            self.refreshes.set(self.refreshes.get() + 1);
            self.current.set(self.current.get() + 1);
            RawEnvelope::ok(json!({
                "access_token": format!("t{}", self.current.get()),
                "expires_at": NOW_MS / 1000 + 60,
                "expires_in": 60,
                "user": {"username": "demo", "display_name": "Demo", "customer_code": "ACME"}
            }))
        } else if token == Some(format!("t{}", self.current.get()).as_str()) {
            RawEnvelope::ok(json!({"path": request.url}))
        } else {
            RawEnvelope::error(ErrCode::AccessTokenExpired, "access token expired")
        };
        std::future::ready(Ok(Response::new(
            200,
            serde_json::to_string(&answer).expect("an envelope serialises"),
        )))
    }
}

struct FixedClock;

impl Clock for FixedClock {
    fn now_ms(&self) -> i64 {
        NOW_MS
    }

    /// Never awaited: with one tab nobody else announces tokens.
    fn sleep(&self, _: Duration) -> impl Future<Output = ()> + 'static {
        std::future::ready(())
    }
}

struct PoolSpawner(LocalSpawner);

impl Spawn for PoolSpawner {
    fn spawn(&self, task: LocalBoxFuture<'static, ()>) {
        self.0.spawn_local(task).expect("executor alive");
    }
}

type Bench =
    Coordinator<Plugins<InstantServer, FixedClock, PoolSpawner, SingleTab>, EnvelopePolicy>;

fn coordinator(pool: &LocalPool, server: &InstantServer) -> Bench {
    let platform = Plugins {
        transport: server.clone(),
        clock: FixedClock,
        spawner: PoolSpawner(pool.spawner()),
        tabs: SingleTab,
    };
    let coordinator = Coordinator::new(platform, EnvelopePolicy::default(), Tuning::default());
    let grant = AccessGrant {
        access_token: "t0".into(),
        expires_at: NOW_MS / 1000 + 60,
        expires_in: 60,
        user: User {
            username: "demo".into(),
            display_name: "Demo".into(),
            customer_code: "ACME".into(),
        },
    };
    coordinator.install_login(grant.to_grant(), grant.user.clone());
    coordinator
}

fn no_refresh_needed(c: &mut Criterion) {
    let mut pool = LocalPool::new();
    let server = InstantServer::default();
    let coordinator = coordinator(&pool, &server);
    let request = Request::get("/api/me");
    let mut group = c.benchmark_group("coordinator");
    group.throughput(Throughput::Elements(1));
    group.bench_function("request with a valid token", |b| {
        b.iter(|| {
            pool.run_until(coordinator.send(request.clone()))
                .expect("delivered")
        })
    });
    group.finish();
}

fn thousand_expired(c: &mut Criterion) {
    let mut group = c.benchmark_group("coordinator");
    group.throughput(Throughput::Elements(1000));
    group.sample_size(20);
    group.bench_function("1000 concurrent expired requests, one refresh", |b| {
        b.iter_batched(
            || {
                let pool = LocalPool::new();
                let server = InstantServer::default();
                server.current.set(1); // the installed t0 is already stale on the server
                let coordinator = coordinator(&pool, &server);
                (pool, server, coordinator)
            },
            |(mut pool, server, coordinator)| {
                let delivered = Rc::new(RefCell::new(0usize));
                for i in 0..1000 {
                    let coordinator = coordinator.clone();
                    let delivered = Rc::clone(&delivered);
                    pool.spawner()
                        .spawn_local(async move {
                            if coordinator
                                .send(Request::get(format!("/api/item/{i}")))
                                .await
                                .is_ok()
                            {
                                *delivered.borrow_mut() += 1;
                            }
                        })
                        .expect("executor alive");
                }
                pool.run();
                assert_eq!(*delivered.borrow(), 1000);
                assert_eq!(server.refreshes.get(), 1);
            },
            BatchSize::PerIteration,
        )
    });
    group.finish();
}

criterion_group!(benches, no_refresh_needed, thousand_expired);
criterion_main!(benches);
