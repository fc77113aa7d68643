//! Serving connections: hyper's HTTP/1.1 under the deadlines and the connection cap of
//! [`Limits`], with a graceful stop that drains in-flight requests.
//!
//! hyper 1.12 has one read-side timer per connection: `header_read_timeout` starts when
//! the connection is first polled and again each time it turns idle after a response, and
//! stops when a request head is complete. One timer cannot give a slow request head 10 s
//! and a silent keep-alive connection 75 s, so each connection here is watched (bytes
//! read, requests in flight) and closed when its current deadline passes; hyper's own
//! timer stays on as a backstop set to the sum of both, which the deadlines here always
//! reach first.

use axum::Router;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::{GracefulShutdown, Watcher};
use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::{Instant, Sleep};
use tower::ServiceExt;

/// What one client can hold: time, connections, request slots and bytes. `Default` is
/// the production setting; docs/api.md lists it and docs/decisions.md explains it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// A request head must be complete this long after its first byte (after accept, for
    /// a connection's first request), so a client dribbling headers holds a connection
    /// only this long.
    pub header_read: Duration,
    /// A connection with no request in flight and no request head started is closed after
    /// this long. The clock starts when a response is ready, so a client that has not read
    /// its response by then is cut as well.
    pub idle_keep_alive: Duration,
    /// Connections open at once; further ones wait in the kernel's accept backlog.
    pub max_connections: usize,
    /// A request taking longer is answered `408`; time spent waiting for a request slot
    /// and reading the body counts.
    pub request_timeout: Duration,
    /// Requests handled at once; further ones wait for a slot.
    pub max_concurrent_requests: usize,
    /// Largest request body, in bytes.
    pub max_body: usize,
    /// Largest body of `POST /api/v1/verify`, in bytes.
    pub max_verify_body: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            // A request head is a few hundred bytes; 10 s carries it over the slowest
            // link while bounding what a slow-header client holds.
            header_read: Duration::from_secs(10),
            // Longer than the 60 s idle timeout of the usual proxies and load balancers
            // in front (nginx upstream keep-alive, AWS ALB), so they close pooled
            // connections first and never send a request on one the registry is closing.
            idle_keep_alive: Duration::from_secs(75),
            // Twice the request slots, so kept-alive clients do not shut out new ones, and
            // few enough to bound memory; the open-file limit must be above it.
            max_connections: 1024,
            // A bulk verification of 1,000 badges takes well under a second.
            request_timeout: Duration::from_secs(10),
            max_concurrent_requests: 512,
            // An audit statement or status change is at most 8 KiB.
            max_body: 64 * 1024,
            // 1,000 badges of up to ~1.5 KiB each with their origins.
            max_verify_body: 2 * 1024 * 1024,
        }
    }
}

/// Waited out after an accept error that is not about one connection (e.g. out of file
/// descriptors), so the loop does not spin while the cause lasts.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(250);

/// Accepts and serves connections until `stop` completes, then stops accepting, lets
/// each open connection finish its request, and returns when all have closed.
pub(crate) async fn serve(
    listener: TcpListener,
    router: Router,
    limits: Limits,
    stop: impl Future<Output = ()>,
) {
    // Semaphore::new panics above MAX_PERMITS.
    let slots = Arc::new(Semaphore::new(
        limits.max_connections.min(Semaphore::MAX_PERMITS),
    ));
    let graceful = GracefulShutdown::new();
    // HTTP/1.1 only, as before (axum is built without HTTP/2). hyper-util's auto builder
    // supports graceful shutdown only with its HTTP/2 feature, so hyper's own is used.
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read.saturating_add(limits.idle_keep_alive));
    tokio::pin!(stop);
    loop {
        // A slot first: while none is free, new connections wait in the backlog.
        let permit = tokio::select! {
            permit = slots.clone().acquire_owned() => permit,
            () = &mut stop => break,
        };
        let Ok(permit) = permit else { break };
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = &mut stop => break,
        };
        let tcp = match accepted {
            Ok((tcp, _)) => tcp,
            Err(e) if is_connection_error(&e) => continue,
            Err(e) => {
                tracing::error!(error = %e, "accept failed");
                tokio::select! {
                    () = tokio::time::sleep(ACCEPT_BACKOFF) => continue,
                    () = &mut stop => break,
                }
            }
        };
        tokio::spawn(connection(
            tcp,
            builder.clone(),
            router.clone(),
            limits,
            graceful.watcher(),
            permit,
        ));
    }
    drop(listener);
    graceful.shutdown().await;
}

/// Errors about one connection that went away before it was accepted.
fn is_connection_error(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    )
}

/// Serves one connection until the client closes it, a deadline passes, or a graceful
/// stop has let its request finish. The slot is given back when this returns.
async fn connection(
    tcp: TcpStream,
    builder: http1::Builder,
    router: Router,
    limits: Limits,
    watcher: Watcher,
    _slot: OwnedSemaphorePermit,
) {
    let activity = Arc::new(Activity::default());
    let io = TokioIo::new(Watched {
        inner: tcp,
        activity: activity.clone(),
    });
    let service = Tracked {
        router,
        activity: activity.clone(),
    };
    let served = watcher.watch(builder.serve_connection(io, service));
    let mut deadlines = Deadlines::new(activity, limits);
    // The connection first: requests start and end inside its poll, so the deadlines,
    // polled right after in the same task, always see the current state.
    tokio::select! {
        biased;
        served = served => {
            if let Err(e) = served {
                tracing::debug!(error = %e, "connection ended with an error");
            }
        }
        () = std::future::poll_fn(|cx| deadlines.poll_passed(cx)) => {
            tracing::debug!("connection closed: no complete request in time");
        }
    }
}

/// What the IO and the service report about one connection.
#[derive(Default)]
struct Activity {
    /// Requests begun so far.
    requests: AtomicU64,
    /// Requests whose response is not ready yet.
    in_flight: AtomicUsize,
    /// Bytes arrived while no request was in flight: a request head has begun.
    head_started: AtomicBool,
}

/// The router as a hyper service that reports when each request begins and ends.
#[derive(Clone)]
struct Tracked {
    router: Router,
    activity: Arc<Activity>,
}

impl hyper::service::Service<hyper::Request<Incoming>> for Tracked {
    type Response = axum::response::Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Infallible>> + Send>>;

    fn call(&self, request: hyper::Request<Incoming>) -> Self::Future {
        let in_flight = InFlight::begin(self.activity.clone());
        let response = self.router.clone().oneshot(request);
        Box::pin(async move {
            let response = response.await;
            drop(in_flight);
            response
        })
    }
}

/// Counts a request as in flight until dropped (its response is ready, or hyper dropped
/// it because the client went away).
struct InFlight(Arc<Activity>);

impl InFlight {
    fn begin(activity: Arc<Activity>) -> Self {
        activity.requests.fetch_add(1, Ordering::Relaxed);
        activity.in_flight.fetch_add(1, Ordering::Relaxed);
        activity.head_started.store(false, Ordering::Relaxed);
        InFlight(activity)
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

/// The TCP stream, noting when bytes arrive between requests.
struct Watched {
    inner: TcpStream,
    activity: Arc<Activity>,
}

impl AsyncRead for Watched {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let polled = Pin::new(&mut this.inner).poll_read(cx, buf);
        // Bytes read during a request are its body (or a pipelined next request, which then
        // gets the idle deadline and hyper's backstop rather than the header deadline).
        if buf.filled().len() > before && this.activity.in_flight.load(Ordering::Relaxed) == 0 {
            this.activity.head_started.store(true, Ordering::Relaxed);
        }
        polled
    }
}

impl AsyncWrite for Watched {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

/// Where a connection stands, and since when.
#[derive(Clone, Copy)]
enum Phase {
    /// Waiting for a request head that has begun (or, on a new connection, for the first).
    Head(Instant),
    /// Between requests, nothing received.
    Idle(Instant),
    /// A request is being handled: no deadline here (the request timeout applies).
    Busy,
}

/// The header-read and idle deadlines of one connection.
struct Deadlines {
    activity: Arc<Activity>,
    limits: Limits,
    phase: Phase,
    requests_seen: u64,
    sleep: Pin<Box<Sleep>>,
}

impl Deadlines {
    fn new(activity: Arc<Activity>, limits: Limits) -> Self {
        let now = Instant::now();
        Deadlines {
            activity,
            limits,
            phase: Phase::Head(now),
            requests_seen: 0,
            sleep: Box::pin(tokio::time::sleep_until(now)),
        }
    }

    /// Ready once the current phase has lasted longer than its limit.
    fn poll_passed(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let now = Instant::now();
        let requests = self.activity.requests.load(Ordering::Relaxed);
        // Whether the phase seen last time may still be running: no request began since.
        let same = requests == self.requests_seen;
        self.requests_seen = requests;
        self.phase = if self.activity.in_flight.load(Ordering::Relaxed) > 0 {
            Phase::Busy
        } else if self.activity.head_started.load(Ordering::Relaxed) {
            match self.phase {
                Phase::Head(since) if same => Phase::Head(since),
                _ => Phase::Head(now),
            }
        } else {
            match self.phase {
                // A new connection waits for its first head from the start.
                waiting @ (Phase::Head(_) | Phase::Idle(_)) if same => waiting,
                _ => Phase::Idle(now),
            }
        };
        let deadline = match self.phase {
            Phase::Head(since) => since.checked_add(self.limits.header_read),
            Phase::Idle(since) => since.checked_add(self.limits.idle_keep_alive),
            Phase::Busy => None,
        };
        // Busy ends inside the connection's poll, which is always followed by this one.
        let Some(deadline) = deadline else {
            return Poll::Pending;
        };
        if self.sleep.deadline() != deadline {
            self.sleep.as_mut().reset(deadline);
        }
        self.sleep.as_mut().poll(cx)
    }
}
