//! The TCP listener the server accepts on: it names each connection's peer (for the
//! per-client limit on failed authentications) and gives the answers hyper writes by itself — a request
//! it cannot parse (400), a target too long (414), headers too large (431) — the same
//! JSON error body as every other error. Hyper sends those before any service runs and
//! offers no hook for their body, so they are recognised on their way out: a bare head
//! with `content-length: 0` and no content type, which no response of ours ever is.

use axum::extract::connect_info::Connected;
use axum::serve::{IncomingStream, Listener};
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};

/// The address a request came from.
#[derive(Debug, Clone, Copy)]
pub struct Peer(pub SocketAddr);

pub struct Guarded(pub TcpListener);

impl Connected<IncomingStream<'_, Guarded>> for Peer {
    fn connect_info(stream: IncomingStream<'_, Guarded>) -> Self {
        Peer(*stream.remote_addr())
    }
}

impl Listener for Guarded {
    type Io = JsonErrors<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        let (io, addr) = Listener::accept(&mut self.0).await;
        (
            JsonErrors {
                inner: io,
                pending: None,
            },
            addr,
        )
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        self.0.local_addr()
    }
}

/// A connection whose bare automatic error answers are rewritten with a JSON body.
pub struct JsonErrors<S> {
    inner: S,
    /// A rewritten answer being written: its bytes, how many are out, and how many
    /// bytes hyper asked to write (what it is told once all of ours are out).
    pending: Option<(Vec<u8>, usize, usize)>,
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
        Pin::new(&mut self.get_mut().inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for JsonErrors<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
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
    use super::rewrite;

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
