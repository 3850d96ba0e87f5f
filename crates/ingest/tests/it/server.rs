//! A tiny HTTP server on 127.0.0.1:0 that replays canned responses, and a fake clock.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use papers_ingest::harvest::Clock;

/// Simulated time: `sleep` advances it and returns at once, and every sleep is logged.
pub struct FakeClock {
    start: Instant,
    elapsed: Mutex<Duration>,
    pub sleeps: Mutex<Vec<Duration>>,
}

impl FakeClock {
    pub fn new() -> Arc<Self> {
        Arc::new(FakeClock {
            start: Instant::now(),
            elapsed: Mutex::new(Duration::ZERO),
            sleeps: Mutex::new(Vec::new()),
        })
    }

    pub fn elapsed(&self) -> Duration {
        *self.elapsed.lock().expect("clock")
    }

    pub fn sleeps(&self) -> Vec<Duration> {
        self.sleeps.lock().expect("clock").clone()
    }
}

impl Clock for FakeClock {
    fn now(&self) -> Instant {
        self.start + self.elapsed()
    }

    fn sleep(&self, duration: Duration) {
        *self.elapsed.lock().expect("clock") += duration;
        self.sleeps.lock().expect("clock").push(duration);
    }
}

pub struct Canned {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Canned {
    pub fn ok(body: impl Into<Vec<u8>>) -> Self {
        Canned {
            status: 200,
            headers: Vec::new(),
            body: body.into(),
        }
    }
}

/// A request as the server saw it: the path with query, and the fake time it came in.
#[derive(Debug, Clone)]
pub struct Seen {
    pub path: String,
    pub at: Duration,
}

pub struct Server {
    pub base: String,
    pub seen: Arc<Mutex<Vec<Seen>>>,
}

impl Server {
    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().expect("log").clone()
    }
}

/// Serves `respond(n, path)` for the n-th request (0-based), forever, on a thread.
pub fn serve<F>(clock: Arc<FakeClock>, respond: F) -> Server
where
    F: Fn(usize, &str) -> Canned + Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&seen);
    std::thread::spawn(move || {
        for (index, stream) in listener.incoming().enumerate() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().expect("clone stream"));
            let mut request_line = String::new();
            if reader.read_line(&mut request_line).is_err() {
                continue;
            }
            loop {
                let mut line = String::new();
                match reader.read_line(&mut line) {
                    Ok(0) | Err(_) => break,
                    Ok(_) if line == "\r\n" => break,
                    Ok(_) => {}
                }
            }
            let path = request_line
                .split_whitespace()
                .nth(1)
                .unwrap_or("")
                .to_owned();
            log.lock().expect("log").push(Seen {
                path: path.clone(),
                at: clock.elapsed(),
            });
            let canned = respond(index, &path);
            let mut head = format!(
                "HTTP/1.1 {} Canned\r\nContent-Length: {}\r\nConnection: close\r\n",
                canned.status,
                canned.body.len()
            );
            for (name, value) in &canned.headers {
                head.push_str(&format!("{name}: {value}\r\n"));
            }
            head.push_str("\r\n");
            let _ = stream.write_all(head.as_bytes());
            let _ = stream.write_all(&canned.body);
        }
    });
    Server { base, seen }
}
