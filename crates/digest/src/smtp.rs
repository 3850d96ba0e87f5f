//! One SMTP connection at a time, kept open across messages, with `TCP_NODELAY`.
//!
//! Why not lettre's `SmtpTransport`: it writes a message's body and then the closing
//! `\r\n.\r\n` as two flushed writes on a socket without `TCP_NODELAY`, so Nagle's
//! algorithm holds the small trailer until the server's delayed ACK, about 40 ms per
//! message (≈ 25 messages/s per connection), and its sync API cannot set the option.
//! The only way around that was many connections with a message in flight on each,
//! and every message in flight is a possible duplicate after a crash. lettre's async
//! connection takes a socket we connected ourselves, so we set `TCP_NODELAY` and send
//! one message at a time. Each [`Connection`] owns a current-thread tokio runtime and
//! is driven by `block_on` from the caller's thread: the sender is synchronous
//! (rusqlite is), and a socket registered with a runtime must be polled by it.

use std::fmt;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use lettre::address::Envelope;
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
#[expect(
    deprecated,
    reason = "lettre's own TLS upgrade, so that smtps:// verifies certificates exactly as \
              STARTTLS does; the type is public in 0.11, only marked as not meant to be"
)]
use lettre::transport::smtp::client::AsyncNetworkStream;
use lettre::transport::smtp::client::{AsyncSmtpConnection, AsyncTokioStream, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::runtime::Runtime;

/// A connection idle this long is tested with NOOP before it carries a message: the
/// server may have closed it. Back-to-back messages skip the round trip.
const CHECK_IDLE_AFTER: Duration = Duration::from_secs(1);
/// A connection idle this long is closed instead of tested: servers drop idle clients
/// after a minute or a few, and a fresh connection costs less than a failed message.
const CLOSE_IDLE_AFTER: Duration = Duration::from_secs(60);
/// How long a polite QUIT may take when a connection is closed.
const QUIT_TIMEOUT: Duration = Duration::from_secs(1);

/// How the connection is secured, from the URL (`smtp://…[?tls=…]` or `smtps://…`).
#[derive(Clone)]
pub(crate) enum Security {
    /// STARTTLS when the server offers it, plain otherwise.
    Opportunistic(TlsParameters),
    /// STARTTLS or fail.
    Required(TlsParameters),
    /// TLS from the first byte (`smtps://`).
    Wrapper(TlsParameters),
}

/// Where and how to connect; built once by `Mailer::new`.
#[derive(Clone)]
pub(crate) struct Endpoint {
    pub host: String,
    pub port: u16,
    pub security: Security,
    pub hello: ClientId,
    pub credentials: Option<Credentials>,
    /// Per step: connecting, greeting and login, one message's transaction.
    pub timeout: Duration,
}

impl fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let security = match self.security {
            Security::Opportunistic(_) => "starttls-opportunistic",
            Security::Required(_) => "starttls-required",
            Security::Wrapper(_) => "tls",
        };
        f.debug_struct("Endpoint")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("security", &security)
            .field("login", &self.credentials.is_some())
            .finish()
    }
}

/// Why a step failed: the server's answer, or no answer at all.
#[derive(Debug)]
pub(crate) enum Failure {
    Smtp(lettre::transport::smtp::Error),
    /// Connecting failed, the connection dropped, or a step timed out.
    Network(String),
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Smtp(error) => error.fmt(f),
            Failure::Network(reason) => f.write_str(reason),
        }
    }
}

/// An open, greeted and logged-in SMTP session with the runtime that drives it.
pub(crate) struct Connection {
    /// `None` only while dropping, so the session goes before its runtime.
    session: Option<AsyncSmtpConnection>,
    runtime: Option<Runtime>,
    last_used: Instant,
}

impl Connection {
    pub fn open(endpoint: &Endpoint) -> Result<Connection, Failure> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .enable_time()
            .build()
            .map_err(|e| Failure::Network(format!("cannot start the SMTP runtime: {e}")))?;
        let session = drive(&runtime, connect(endpoint))?;
        Ok(Connection {
            session: Some(session),
            runtime: Some(runtime),
            last_used: Instant::now(),
        })
    }

    /// Whether this connection can take another message: not broken, and either used
    /// a moment ago or answering NOOP. A connection that cannot is closed.
    pub fn ready(&mut self) -> bool {
        let idle = self.last_used.elapsed();
        let (Some(session), Some(runtime)) = (self.session.as_mut(), self.runtime.as_ref()) else {
            return false;
        };
        if session.has_broken() || idle >= CLOSE_IDLE_AFTER {
            return false;
        }
        idle < CHECK_IDLE_AFTER
            || drive(runtime, async {
                Ok(tokio::time::timeout(QUIT_TIMEOUT, session.test_connected())
                    .await
                    .unwrap_or(false))
            })
            .unwrap_or(false)
    }

    /// One message's transaction: MAIL, RCPT, DATA and the content, under the step
    /// timeout. After an error the connection is broken and must be dropped.
    pub fn send(
        &mut self,
        envelope: &Envelope,
        message: &[u8],
        timeout: Duration,
    ) -> Result<(), Failure> {
        let (Some(session), Some(runtime)) = (self.session.as_mut(), self.runtime.as_ref()) else {
            return Err(Failure::Network("the connection is closed".to_owned()));
        };
        let outcome = drive(runtime, async {
            match tokio::time::timeout(timeout, session.send(envelope, message)).await {
                Ok(sent) => sent.map(drop).map_err(Failure::Smtp),
                Err(_) => Err(Failure::Network(format!(
                    "no answer within {} s",
                    timeout.as_secs_f64()
                ))),
            }
        });
        self.last_used = Instant::now();
        outcome
    }

    /// Whether the last step left the connection unusable.
    pub fn has_broken(&self) -> bool {
        self.session.as_ref().is_none_or(|s| s.has_broken())
    }
}

impl Drop for Connection {
    fn drop(&mut self) {
        let session = self.session.take();
        let Some(runtime) = self.runtime.take() else {
            return;
        };
        // Say goodbye when we can; a broken session already did, or cannot.
        if let Some(mut session) = session
            && !session.has_broken()
            && tokio::runtime::Handle::try_current().is_err()
        {
            runtime.block_on(async {
                let _ = tokio::time::timeout(QUIT_TIMEOUT, session.quit()).await;
            });
        }
        // Unlike a plain drop, allowed inside another runtime (the Mailer may be
        // dropped by a task of `papers serve`).
        runtime.shutdown_background();
    }
}

/// Runs `future` to completion on the connection's runtime, on the calling thread when
/// it has no runtime of its own (the CLI). On a thread inside a runtime's context,
/// `block_on` would panic on an async worker, and tokio cannot tell us whether this is
/// one or a blocking task (how `papers serve` sends): a scoped thread drives it, which
/// costs tens of microseconds against milliseconds per message.
fn drive<T: Send>(
    runtime: &Runtime,
    future: impl Future<Output = Result<T, Failure>> + Send,
) -> Result<T, Failure> {
    if tokio::runtime::Handle::try_current().is_err() {
        return runtime.block_on(future);
    }
    std::thread::scope(|scope| {
        scope
            .spawn(|| runtime.block_on(future))
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })
}

/// TCP (with `TCP_NODELAY`), TLS for `smtps://`, greeting and EHLO, STARTTLS as the
/// URL asks, and AUTH when there are credentials.
async fn connect(endpoint: &Endpoint) -> Result<AsyncSmtpConnection, Failure> {
    let address = format!("{}:{}", endpoint.host, endpoint.port);
    let network = |what: &str, error: &dyn fmt::Display| {
        Failure::Network(format!("{what} {address}: {error}"))
    };
    let tcp = tokio::time::timeout(
        endpoint.timeout,
        TcpStream::connect((endpoint.host.as_str(), endpoint.port)),
    )
    .await
    .map_err(|_| network("timed out connecting to", &"no answer"))?
    .map_err(|e| network("cannot connect to", &e))?;
    tcp.set_nodelay(true)
        .map_err(|e| network("cannot set TCP_NODELAY on", &e))?;
    let setup = async {
        let stream: Box<dyn AsyncTokioStream> = match &endpoint.security {
            Security::Wrapper(tls) => Box::new(ImplicitTls::connect(tcp, tls.clone()).await?),
            Security::Opportunistic(_) | Security::Required(_) => Box::new(tcp),
        };
        let mut session = AsyncSmtpConnection::connect_with_transport(stream, &endpoint.hello)
            .await
            .map_err(Failure::Smtp)?;
        match &endpoint.security {
            Security::Opportunistic(tls) if session.can_starttls() => {
                session.starttls(tls.clone(), &endpoint.hello).await
            }
            Security::Required(tls) => session.starttls(tls.clone(), &endpoint.hello).await,
            Security::Opportunistic(_) | Security::Wrapper(_) => Ok(()),
        }
        .map_err(Failure::Smtp)?;
        if let Some(credentials) = &endpoint.credentials {
            session
                .auth(&[Mechanism::Plain, Mechanism::Login], credentials)
                .await
                .map_err(Failure::Smtp)?;
        }
        Ok(session)
    };
    tokio::time::timeout(endpoint.timeout, setup)
        .await
        .map_err(|_| network("no greeting or login within the timeout from", &"timed out"))?
}

/// A socket wrapped in TLS before the greeting (`smtps://`), by lettre's own TLS code,
/// presented as the tokio stream its connection takes. The socket keeps its
/// `TCP_NODELAY`.
#[expect(deprecated, reason = "see the import of AsyncNetworkStream")]
#[derive(Debug)]
struct ImplicitTls(AsyncNetworkStream);

#[expect(deprecated, reason = "see the import of AsyncNetworkStream")]
impl ImplicitTls {
    async fn connect(tcp: TcpStream, tls: TlsParameters) -> Result<ImplicitTls, Failure> {
        let mut stream = AsyncNetworkStream::use_existing_tokio1(Box::new(tcp));
        stream.upgrade_tls(tls).await.map_err(Failure::Smtp)?;
        Ok(ImplicitTls(stream))
    }
}

impl AsyncTokioStream for ImplicitTls {
    fn peer_addr(&self) -> io::Result<std::net::SocketAddr> {
        self.0.peer_addr()
    }
}

// lettre's stream speaks the `futures` IO traits; its connection wants tokio's.
impl AsyncRead for ImplicitTls {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let unfilled = buf.initialize_unfilled();
        match futures_io::AsyncRead::poll_read(Pin::new(&mut self.0), cx, unfilled) {
            Poll::Ready(Ok(read)) => {
                buf.advance(read);
                Poll::Ready(Ok(()))
            }
            Poll::Ready(Err(error)) => Poll::Ready(Err(error)),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl AsyncWrite for ImplicitTls {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        futures_io::AsyncWrite::poll_write(Pin::new(&mut self.0), cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        futures_io::AsyncWrite::poll_flush(Pin::new(&mut self.0), cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        futures_io::AsyncWrite::poll_close(Pin::new(&mut self.0), cx)
    }
}
