//! The registry's limits over a real socket: slow request heads and idle keep-alive
//! connections are closed, the connection cap holds extra connections back, a stop still
//! drains requests in flight, and a bulk verification stops once its request timed out.

use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::{sleep, timeout, Instant};
use trustmark_core::sign::SigningKey;
use trustmark_registry::Limits;

mod common;
use common::{accredit, issue_badge, metric, start_in_process, temp_dir};

/// Reads one response (head and `Content-Length` body); `None` when the connection closes
/// (or fails) before a whole response arrived.
async fn read_response(stream: &mut TcpStream) -> Option<String> {
    let mut data = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let text = String::from_utf8_lossy(&data).into_owned();
        if let Some(end) = text.find("\r\n\r\n") {
            let length: usize = text[..end]
                .lines()
                .find_map(|l| {
                    let (name, value) = l.split_once(':')?;
                    name.eq_ignore_ascii_case("content-length")
                        .then(|| value.trim().parse().ok())?
                })
                .unwrap_or(0);
            if data.len() >= end + 4 + length {
                return Some(text);
            }
        }
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => data.extend_from_slice(&chunk[..n]),
        }
    }
}

/// Whether the peer closes `stream` within `wait`, having sent nothing more.
async fn closes_within(stream: &mut TcpStream, wait: Duration) -> bool {
    let mut byte = [0u8; 1];
    match timeout(wait, stream.read(&mut byte)).await {
        Err(_) => false,
        Ok(Ok(0) | Err(_)) => true,
        Ok(Ok(_)) => panic!("unexpected bytes on an idle connection"),
    }
}

const HEALTHZ: &[u8] = b"GET /healthz HTTP/1.1\r\nHost: registry\r\n\r\n";

/// A registry with no auditors (enough for connection tests) and `limits`.
async fn bare_registry(name: &str, limits: Limits) -> (trustmark_registry::Running, SocketAddr) {
    let running = start_in_process(&temp_dir(name), None, limits).await;
    let addr = running.addr;
    (running, addr)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_dribbling_its_request_head_is_cut_after_the_header_read_timeout() {
    let header_read = Duration::from_secs(1);
    let (running, addr) = bare_registry(
        "limits-header",
        Limits {
            header_read,
            idle_keep_alive: Duration::from_secs(60),
            ..Limits::default()
        },
    )
    .await;
    // 600 bytes at one per 150 ms would take 90 s to send.
    let head = format!(
        "GET /healthz HTTP/1.1\r\nHost: registry\r\nX-Pad: {}\r\n\r\n",
        "a".repeat(560)
    );
    let started = Instant::now();
    let (mut rx, mut tx) = TcpStream::connect(addr).await.unwrap().into_split();
    let mut sent = 0;
    let mut buf = [0u8; 1024];
    loop {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "still connected after {sent} header bytes"
        );
        tokio::select! {
            read = rx.read(&mut buf) => match read {
                Ok(0) | Err(_) => break,
                Ok(n) => panic!("got a response: {}", String::from_utf8_lossy(&buf[..n])),
            },
            () = sleep(Duration::from_millis(150)) => {
                if tx.write_all(&head.as_bytes()[sent..=sent]).await.is_err() {
                    break;
                }
                sent += 1;
            }
        }
    }
    assert!(sent < head.len(), "the whole head went out");
    assert!(
        started.elapsed() >= header_read,
        "cut before the header read timeout"
    );
    // Other clients are still served.
    let mut other = TcpStream::connect(addr).await.unwrap();
    other.write_all(HEALTHZ).await.unwrap();
    let response = read_response(&mut other).await.unwrap();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    drop(other);
    running.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_keep_alive_connections_are_closed_but_a_slow_request_is_not_cut() {
    let idle = Duration::from_secs(1);
    let (running, addr) = bare_registry(
        "limits-idle",
        Limits {
            header_read: Duration::from_secs(30),
            idle_keep_alive: idle,
            request_timeout: Duration::from_secs(60),
            ..Limits::default()
        },
    )
    .await;

    // Served, then kept alive with nothing to do: closed by the idle timeout, long before
    // the header read timeout could have.
    let mut idle_conn = TcpStream::connect(addr).await.unwrap();
    idle_conn.write_all(HEALTHZ).await.unwrap();
    let response = read_response(&mut idle_conn).await.unwrap();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(
        closes_within(&mut idle_conn, Duration::from_secs(15)).await,
        "an idle keep-alive connection stayed open"
    );

    // A request whose body takes five idle timeouts to arrive is in flight all along.
    let body = format!("{{\"items\":[{}]}}", " ".repeat(15));
    let head = format!(
        "POST /api/v1/verify HTTP/1.1\r\nHost: registry\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    let mut busy = TcpStream::connect(addr).await.unwrap();
    busy.write_all(head.as_bytes()).await.unwrap();
    let started = Instant::now();
    for byte in body.as_bytes() {
        sleep(Duration::from_millis(200)).await;
        busy.write_all(&[*byte]).await.unwrap();
    }
    assert!(started.elapsed() > 3 * idle);
    let response = read_response(&mut busy).await.expect("cut mid-request");
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.contains("{\"results\":[]}"), "{response}");

    // The same connection then idles out too.
    assert!(
        closes_within(&mut busy, Duration::from_secs(15)).await,
        "stayed open after its request"
    );
    running.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_over_the_cap_wait_until_one_closes() {
    let (running, addr) = bare_registry(
        "limits-cap",
        Limits {
            max_connections: 2,
            header_read: Duration::from_secs(60),
            idle_keep_alive: Duration::from_secs(60),
            ..Limits::default()
        },
    )
    .await;
    let mut open = Vec::new();
    for _ in 0..2 {
        let mut conn = TcpStream::connect(addr).await.unwrap();
        conn.write_all(HEALTHZ).await.unwrap();
        let response = read_response(&mut conn).await.unwrap();
        assert!(response.starts_with("HTTP/1.1 200"), "{response}");
        open.push(conn);
    }

    // The kernel completes the handshake, but the registry does not take it up.
    let mut third = TcpStream::connect(addr).await.unwrap();
    third.write_all(HEALTHZ).await.unwrap();
    let waited = timeout(Duration::from_secs(2), read_response(&mut third)).await;
    assert!(waited.is_err(), "a third connection was served: {waited:?}");

    // Closing one of the first two frees its slot.
    drop(open.remove(0));
    let response = timeout(Duration::from_secs(15), read_response(&mut third))
        .await
        .expect("still not served after a slot was freed")
        .unwrap();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");

    // Now the cap is full again: the first kept-alive connection still works.
    open[0].write_all(HEALTHZ).await.unwrap();
    assert!(read_response(&mut open[0]).await.is_some());
    drop((open, third));
    running.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bulk_verification_stops_when_its_request_times_out() {
    let data = temp_dir("limits-bulk");
    let key = SigningKey::from_seed(&[41; 32]);
    accredit(&data, "http://127.0.0.1:9", &[("lab", "Lab", &key)], &[]);
    // A fixed issuer, so the badge stays this registry's across restarts on new ports.
    let issuer = Some("http://127.0.0.1:9");
    let running = start_in_process(&data, issuer, Limits::default()).await;
    let token = issue_badge(&format!("http://{}", running.addr), "lab", &key, "bulk-1").await;
    running.stop().await.unwrap();
    let items: Vec<_> = (0..1000)
        .map(|_| serde_json::json!({"token": token, "origin": "https://supplier.example"}))
        .collect();
    let body = serde_json::json!({ "items": items }).to_string();
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(120))
        .build()
        .unwrap();

    // How long reading the body and checking 1,000 badges takes depends on the machine and
    // its load: double the request timeout while it expires before the checks begin (the
    // request counts as abandoned only once it has handed its items to the checking
    // loop), halve it when all were done in time, until one expires while they run.
    let mut request_timeout = Duration::from_millis(20);
    for attempt in 1.. {
        assert!(
            attempt <= 12,
            "no request timed out while its badges were being checked"
        );
        let running = start_in_process(
            &data,
            issuer,
            Limits {
                request_timeout,
                ..Limits::default()
            },
        )
        .await;
        let base = format!("http://{}", running.addr);
        let sent = Instant::now();
        let status = http
            .post(format!("{base}/api/v1/verify"))
            .header("content-type", "application/json")
            .body(body.clone())
            .send()
            .await
            .unwrap()
            .status();
        eprintln!(
            "request timeout {request_timeout:?}: {status} after {:?}",
            sent.elapsed()
        );
        if status == reqwest::StatusCode::OK {
            running.stop().await.unwrap();
            request_timeout /= 2;
            continue;
        }
        assert_eq!(status, reqwest::StatusCode::REQUEST_TIMEOUT);
        if metric(&base, "trustmark_bulk_verify_abandoned_total").await == 0 {
            running.stop().await.unwrap();
            request_timeout *= 2;
            continue;
        }
        // Left alone, the loop would have gone on to all 1,000 items.
        sleep(Duration::from_secs(1)).await;
        let stopped_at = metric(&base, "trustmark_bulk_verify_items_total").await;
        sleep(Duration::from_secs(3)).await;
        let later = metric(&base, "trustmark_bulk_verify_items_total").await;
        eprintln!("stopped after {stopped_at} items");
        assert_eq!(stopped_at, later, "checking went on after the timeout");
        assert!(stopped_at < 900, "{stopped_at} items checked");
        running.stop().await.unwrap();
        return;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stopping_drains_requests_in_flight_and_closes_idle_connections() {
    let (running, addr) = bare_registry("limits-stop", Limits::default()).await;
    let mut idle_conn = TcpStream::connect(addr).await.unwrap();
    idle_conn.write_all(HEALTHZ).await.unwrap();
    assert!(read_response(&mut idle_conn).await.is_some());

    let body = "{\"items\":[]}";
    let head = format!(
        "POST /api/v1/verify HTTP/1.1\r\nHost: registry\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    let mut busy = TcpStream::connect(addr).await.unwrap();
    busy.write_all(head.as_bytes()).await.unwrap();
    busy.write_all(&body.as_bytes()[..5]).await.unwrap();
    sleep(Duration::from_millis(300)).await;

    let stopping = tokio::spawn(running.stop());
    assert!(
        closes_within(&mut idle_conn, Duration::from_secs(10)).await,
        "an idle connection kept the registry from stopping"
    );
    assert!(!stopping.is_finished(), "stopped with a request in flight");
    busy.write_all(&body.as_bytes()[5..]).await.unwrap();
    let response = read_response(&mut busy).await.expect("cut by the stop");
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    timeout(Duration::from_secs(15), stopping)
        .await
        .expect("the stop did not finish after the last request")
        .unwrap()
        .unwrap();
    assert!(TcpStream::connect(addr).await.is_err(), "still accepting");
}
