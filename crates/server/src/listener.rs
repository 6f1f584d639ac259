//! The TCP listener the server accepts on: it names each connection's peer (for the
//! per-client limit on failed authentications) and gives the answers hyper writes by itself — a request
//! it cannot parse (400), a target too long (414), headers too large (431) — the same
//! JSON error body as every other error. Hyper sends those before any service runs and
//! offers no hook for their body, so they are recognised on their way out: a bare head
//! with `content-length: 0` and no content type, which no response of ours ever is.
//!
//! It also bounds how long a request's head may take to arrive ([`HEADER_TIMEOUT`]):
//! hyper, as axum serves it, has no timer, so a client that sends part of a request and
//! stalls (or trickles a byte at a time) would hold its connection, and a graceful
//! shutdown waiting for it, for ever.

use axum::extract::connect_info::Connected;
use axum::serve::{IncomingStream, Listener};
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::{Duration, Sleep};

/// How long a request's head (request line and headers) may take from its first byte.
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(30);

/// The address a request came from.
#[derive(Debug, Clone, Copy)]
pub struct Peer(pub SocketAddr);

pub struct Guarded {
    listener: TcpListener,
    header_timeout: Duration,
}

impl Guarded {
    pub fn new(listener: TcpListener) -> Self {
        Guarded::with_header_timeout(listener, HEADER_TIMEOUT)
    }

    pub fn with_header_timeout(listener: TcpListener, header_timeout: Duration) -> Self {
        Guarded {
            listener,
            header_timeout,
        }
    }
}

impl Connected<IncomingStream<'_, Guarded>> for Peer {
    fn connect_info(stream: IncomingStream<'_, Guarded>) -> Self {
        Peer(*stream.remote_addr())
    }
}

impl Listener for Guarded {
    type Io = JsonErrors<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        let (io, addr) = Listener::accept(&mut self.listener).await;
        (JsonErrors::new(io, self.header_timeout), addr)
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        self.listener.local_addr()
    }
}

/// A connection whose bare automatic error answers are rewritten with a JSON body, and
/// whose requests' heads must arrive within a deadline.
pub struct JsonErrors<S> {
    inner: S,
    /// A rewritten answer being written: its bytes, how many are out, and how many
    /// bytes hyper asked to write (what it is told once all of ours are out).
    pending: Option<(Vec<u8>, usize, usize)>,
    header_timeout: Duration,
    head: Head,
}

/// Where the connection is in reading a request's head. A head starts with the first
/// byte read after an answer (or the connection's start) and ends at its blank line;
/// what follows (a body, or a pipelined request) is not timed here.
enum Head {
    /// No request begun since the last answer.
    Idle,
    /// A head is arriving: the deadline, and how much of `\r\n\r\n` was last seen.
    Reading(Pin<Box<Sleep>>, usize),
    /// The head is in; the rest is hyper's and the handler's.
    Read,
}

impl<S> JsonErrors<S> {
    fn new(inner: S, header_timeout: Duration) -> Self {
        JsonErrors {
            inner,
            pending: None,
            header_timeout,
            head: Head::Idle,
        }
    }

    /// Follows the bytes just read through the head's end.
    fn saw(&mut self, bytes: &[u8]) {
        if bytes.is_empty() {
            return;
        }
        if matches!(self.head, Head::Idle) {
            self.head = Head::Reading(Box::pin(tokio::time::sleep(self.header_timeout)), 0);
        }
        if let Head::Reading(_, matched) = &mut self.head {
            for &b in bytes {
                *matched = match (*matched, b) {
                    (0 | 2, b'\r') => *matched + 1,
                    (1 | 3, b'\n') => *matched + 1,
                    (_, b'\r') => 1,
                    _ => 0,
                };
                if *matched == 4 {
                    self.head = Head::Read;
                    return;
                }
            }
        }
    }
}

/// The statuses hyper answers by itself, with the error each stands for.
fn automatic(status: &[u8]) -> Option<(&'static str, &'static str)> {
    match status {
        b"400" => Some((
            "invalid_input",
            "malformed HTTP request (request line, target or a header)",
        )),
        b"414" => Some(("uri_too_long", "request target too long")),
        b"431" => Some(("headers_too_large", "request headers too large or too many")),
        _ => None,
    }
}

/// The JSON version of `head` if it is one of hyper's bare automatic answers.
fn rewrite(head: &[u8]) -> Option<Vec<u8>> {
    let rest = head.strip_prefix(b"HTTP/1.1 ")?;
    let (kind, message) = automatic(rest.get(..3)?)?;
    let text = std::str::from_utf8(head).ok()?;
    let lower = text.to_ascii_lowercase();
    if !text.ends_with("\r\n\r\n")
        || !lower.contains("\r\ncontent-length: 0\r\n")
        || lower.contains("\r\ncontent-type:")
    {
        return None;
    }
    let body = serde_json::json!({"error": {"kind": kind, "message": message}}).to_string();
    let head = text.trim_end_matches("\r\n").replacen(
        "content-length: 0",
        &format!(
            "content-type: application/json\r\ncontent-length: {}",
            body.len()
        ),
        1,
    );
    Some(format!("{head}\r\n\r\n{body}").into_bytes())
}

impl<S: AsyncWrite + Unpin> JsonErrors<S> {
    /// Writes the pending rewritten answer; `Ready(Ok(n))` once all of it is out.
    fn poll_pending(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<usize>> {
        while let Some((bytes, done, asked)) = &mut self.pending {
            if *done == bytes.len() {
                let asked = *asked;
                self.pending = None;
                return Poll::Ready(Ok(asked));
            }
            match Pin::new(&mut self.inner).poll_write(cx, &bytes[*done..]) {
                Poll::Ready(Ok(0)) => return Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
                Poll::Ready(Ok(n)) => *done += n,
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => return Poll::Pending,
            }
        }
        Poll::Ready(Ok(0))
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for JsonErrors<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        match Pin::new(&mut this.inner).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                this.saw(&buf.filled()[before..]);
                Poll::Ready(Ok(()))
            }
            Poll::Pending => {
                let late = match &mut this.head {
                    Head::Reading(deadline, _) => deadline.as_mut().poll(cx).is_ready(),
                    Head::Idle | Head::Read => false,
                };
                if !late {
                    return Poll::Pending;
                }
                tracing::info!("a request's head did not arrive in time; connection closed");
                Poll::Ready(Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    "request head not received in time",
                )))
            }
            other => other,
        }
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for JsonErrors<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        this.head = Head::Idle;
        if this.pending.is_none() {
            match rewrite(buf) {
                Some(bytes) => this.pending = Some((bytes, 0, buf.len())),
                None => return Pin::new(&mut this.inner).poll_write(cx, buf),
            }
        }
        // Hyper repeats the same bytes after `Pending`; ours stand in for them.
        this.poll_pending(cx)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        this.head = Head::Idle;
        if this.pending.is_some() {
            return this.poll_pending(cx);
        }
        let mut filled = bufs.iter().filter(|b| !b.is_empty());
        // An automatic answer is a head alone, written as one slice.
        if let (Some(only), None) = (filled.next(), filled.next()) {
            if let Some(bytes) = rewrite(only) {
                this.pending = Some((bytes, 0, only.len()));
                return this.poll_pending(cx);
            }
        }
        Pin::new(&mut this.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.pending.is_some() && this.poll_pending(cx)?.is_pending() {
            return Poll::Pending;
        }
        Pin::new(&mut this.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::{rewrite, Guarded};
    use std::time::Duration;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::{TcpListener, TcpStream};

    /// A server whose request heads must arrive within `header_timeout`, and a handle
    /// to stop it; its `/` answers "ok".
    async fn serve(
        header_timeout: Duration,
        drain: Duration,
    ) -> (
        std::net::SocketAddr,
        tokio::sync::oneshot::Sender<()>,
        tokio::task::JoinHandle<std::io::Result<()>>,
    ) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let app = axum::Router::new().route("/", axum::routing::get(|| async { "ok" }));
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let served = tokio::spawn(crate::serve_guarded(
            app,
            Guarded::with_header_timeout(listener, header_timeout),
            async move {
                let _ = stopped.await;
            },
            drain,
        ));
        (addr, stop, served)
    }

    /// Reads what the server sends until it closes the connection (or 10 s pass).
    async fn until_closed(conn: &mut TcpStream) -> Option<String> {
        let mut got = Vec::new();
        let read = tokio::time::timeout(Duration::from_secs(10), conn.read_to_end(&mut got));
        match read.await {
            Ok(_) => Some(String::from_utf8_lossy(&got).into_owned()),
            Err(_) => None,
        }
    }

    #[tokio::test]
    async fn a_stalled_request_head_is_cut_off_and_a_slow_but_timely_one_answered() {
        let (addr, _stop, _served) =
            serve(Duration::from_millis(400), Duration::from_secs(30)).await;
        // Part of a head, then nothing: closed once the deadline passes.
        let mut stalled = TcpStream::connect(addr).await.unwrap();
        stalled
            .write_all(b"GET / HTTP/1.1\r\nHost: a\r\n")
            .await
            .unwrap();
        let seen = until_closed(&mut stalled).await;
        assert_eq!(
            seen.as_deref(),
            Some(""),
            "a stalled head kept its connection"
        );

        // A head in two parts inside the deadline, then an idle keep-alive pause longer
        // than it, then another request: both answered on one connection.
        let mut slow = TcpStream::connect(addr).await.unwrap();
        slow.write_all(b"GET / HTTP/1.1\r\nHo").await.unwrap();
        tokio::time::sleep(Duration::from_millis(150)).await;
        slow.write_all(b"st: a\r\n\r\n").await.unwrap();
        let mut buf = [0u8; 512];
        let n = slow.read(&mut buf).await.unwrap();
        assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
        tokio::time::sleep(Duration::from_millis(700)).await;
        slow.write_all(b"GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
            .await
            .unwrap();
        let second = until_closed(&mut slow).await.unwrap();
        assert!(second.starts_with("HTTP/1.1 200"), "{second}");
    }

    #[tokio::test]
    async fn a_shutdown_does_not_wait_for_ever_on_an_open_request() {
        // The head deadline is far away: only the drain bound can end the wait.
        let (addr, stop, served) =
            serve(Duration::from_secs(600), Duration::from_millis(300)).await;
        let mut stalled = TcpStream::connect(addr).await.unwrap();
        stalled.write_all(b"GET / HTTP/1.1\r\n").await.unwrap();
        tokio::time::sleep(Duration::from_millis(100)).await;
        stop.send(()).unwrap();
        let ended = tokio::time::timeout(Duration::from_secs(10), served).await;
        assert!(matches!(ended, Ok(Ok(Ok(())))), "{ended:?}");
    }

    #[test]
    fn only_bare_automatic_answers_are_rewritten() {
        let bare = b"HTTP/1.1 431 Request Header Fields Too Large\r\nconnection: close\r\ncontent-length: 0\r\ndate: x\r\n\r\n";
        let out = String::from_utf8(rewrite(bare).unwrap()).unwrap();
        let (head, body) = out.split_once("\r\n\r\n").unwrap();
        assert!(head.contains("content-type: application/json"), "{out}");
        assert!(
            head.contains(&format!("content-length: {}", body.len())),
            "{out}"
        );
        assert!(body.contains("headers_too_large"), "{out}");
        let ours = b"HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\ncontent-length: 0\r\n\r\n";
        assert!(rewrite(ours).is_none());
        let ok = b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n";
        assert!(rewrite(ok).is_none());
        let with_body = b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\nx";
        assert!(rewrite(with_body).is_none());
    }
}
