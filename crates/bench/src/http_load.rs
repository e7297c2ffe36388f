//! A load client as lean as wrk's: each client one keep-alive HTTP/1.1
//! connection of its own, writing one prepared request and reading its
//! answer, with no pool, no connection task and no per-request headers to
//! build. The clients share the server's two cores, so every microsecond a
//! client spends is one the server does not get: a pooled client (hyper's,
//! a task per connection, a hand-off per request) measured the client as
//! much as the server.

use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// An AWS JSON 1.0 POST of `operation` with `body`, ready to write as it is.
pub(crate) fn request(endpoint: &str, operation: &str, body: &[u8]) -> Vec<u8> {
    let host = authority(endpoint);
    let mut request = format!(
        "POST / HTTP/1.1\r\nhost: {host}\r\ncontent-type: application/x-amz-json-1.0\r\n\
         x-amz-target: AWSStepFunctions.{operation}\r\ncontent-length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    request.extend_from_slice(body);
    request
}

/// `host:port` of an `http://host:port` endpoint.
fn authority(endpoint: &str) -> &str {
    endpoint.trim_start_matches("http://").trim_end_matches('/')
}

/// Judges an answer by its status and body.
pub(crate) type Check = fn(u16, &[u8]) -> Result<(), String>;

/// One client's connection and what it has read.
pub(crate) struct Connection {
    stream: TcpStream,
    buffer: Vec<u8>,
}

/// An answer's status and the range of its body in the connection's buffer.
#[derive(Debug)]
struct Head {
    status: u16,
    body_at: usize,
    length: Length,
}

#[derive(Debug)]
enum Length {
    Known(usize),
    Chunked,
}

impl Connection {
    pub(crate) async fn open(endpoint: &str) -> Result<Connection, String> {
        let address = authority(endpoint);
        let stream = TcpStream::connect(address).await.map_err(|e| format!("connect {address}: {e}"))?;
        stream.set_nodelay(true).map_err(|e| e.to_string())?;
        Ok(Connection { stream, buffer: Vec::with_capacity(16 * 1024) })
    }

    /// Writes `request`, reads its answer and hands its status and body to `check`.
    pub(crate) async fn exchange(&mut self, request: &[u8], check: Check) -> Result<(), String> {
        self.stream.write_all(request).await.map_err(|e| format!("write: {e}"))?;
        let head = loop {
            if let Some(head) = head_of(&self.buffer)? {
                break head;
            }
            self.fill().await?;
        };
        match head.length {
            Length::Known(n) => {
                while self.buffer.len() < head.body_at + n {
                    self.fill().await?;
                }
                // Judged where it was read, not copied out.
                let judged = check(head.status, &self.buffer[head.body_at..head.body_at + n]);
                self.buffer.drain(..head.body_at + n);
                judged
            }
            Length::Chunked => {
                let body = self.chunked(head.body_at).await?;
                check(head.status, &body)
            }
        }
    }

    /// More of the answer, appended to the buffer.
    async fn fill(&mut self) -> Result<(), String> {
        self.buffer.reserve(16 * 1024);
        match self.stream.read_buf(&mut self.buffer).await.map_err(|e| format!("read: {e}"))? {
            0 => Err("the server closed the connection".to_owned()),
            _ => Ok(()),
        }
    }

    /// A chunked body from `at`: each chunk's size line, its bytes, until the empty chunk.
    async fn chunked(&mut self, mut at: usize) -> Result<Vec<u8>, String> {
        let mut body = Vec::new();
        loop {
            let line_end = loop {
                if let Some(i) = memchr::memmem::find(&self.buffer[at..], b"\r\n") {
                    break at + i;
                }
                self.fill().await?;
            };
            let size_text = std::str::from_utf8(&self.buffer[at..line_end]).map_err(|e| e.to_string())?;
            let size_text = size_text.split(';').next().unwrap_or_default().trim();
            let size = usize::from_str_radix(size_text, 16).map_err(|_| format!("a chunk size {size_text:?}"))?;
            let data = line_end + 2;
            // The chunk and its CRLF; the last chunk's CRLF ends the body (no trailers are sent).
            while self.buffer.len() < data + size + 2 {
                self.fill().await?;
            }
            body.extend_from_slice(&self.buffer[data..data + size]);
            at = data + size + 2;
            if size == 0 {
                self.buffer.drain(..at);
                return Ok(body);
            }
        }
    }
}

/// The answer's head, once the buffer holds all of it.
fn head_of(buffer: &[u8]) -> Result<Option<Head>, String> {
    let Some(end) = memchr::memmem::find(buffer, b"\r\n\r\n") else {
        return Ok(None);
    };
    let text = std::str::from_utf8(&buffer[..end]).map_err(|e| format!("an answer's head: {e}"))?;
    let mut lines = text.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let status = status_line
        .strip_prefix("HTTP/1.1 ")
        .and_then(|rest| rest.get(..3))
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| format!("a status line {status_line:?}"))?;
    let mut length = None;
    for line in lines {
        let Some((name, value)) = line.split_once(':') else { continue };
        if name.eq_ignore_ascii_case("content-length") {
            length = Some(Length::Known(value.trim().parse().map_err(|_| format!("a content-length {value:?}"))?));
        } else if name.eq_ignore_ascii_case("transfer-encoding") && value.trim().eq_ignore_ascii_case("chunked") {
            length = Some(Length::Chunked);
        }
    }
    let length = length.ok_or("an answer with neither content-length nor chunked encoding")?;
    Ok(Some(Head { status, body_at: end + 4, length }))
}

/// What one client saw: each answered request's latency, the errors
/// counted and the first of them.
#[derive(Default)]
pub(crate) struct ClientRun {
    pub(crate) latencies: Vec<Duration>,
    pub(crate) errors: usize,
    pub(crate) first_error: Option<String>,
}

impl ClientRun {
    /// One request begun at `began`: its latency when it succeeded, else its
    /// error counted (and kept when it is the first); whether it succeeded.
    pub(crate) fn record(&mut self, began: Instant, outcome: Result<(), String>) -> bool {
        match outcome {
            Ok(()) => {
                self.latencies.push(began.elapsed());
                true
            }
            Err(e) => {
                self.errors += 1;
                self.first_error.get_or_insert(e);
                false
            }
        }
    }
}

/// One client: a connection to `endpoint` sending `request` back to back
/// until `until`, `check` judging each answer.
pub(crate) async fn client(
    endpoint: String,
    request: std::sync::Arc<Vec<u8>>,
    until: Instant,
    check: Check,
) -> ClientRun {
    let mut run = ClientRun::default();
    let mut connection = None;
    while Instant::now() < until {
        let began = Instant::now();
        let answer = match connection.as_mut() {
            Some(c) => Connection::exchange(c, &request, check).await,
            None => match Connection::open(&endpoint).await {
                Ok(c) => Connection::exchange(connection.insert(c), &request, check).await,
                Err(e) => Err(e),
            },
        };
        if !run.record(began, answer) {
            // A connection that failed is not used again.
            connection = None;
        }
    }
    run
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heads_are_read_once_whole() {
        assert!(head_of(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n").unwrap().is_none());
        let head = head_of(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}").unwrap().unwrap();
        assert_eq!((head.status, head.body_at), (200, 38));
        assert!(matches!(head.length, Length::Known(2)));
        let head = head_of(b"HTTP/1.1 400 Bad\r\nTransfer-Encoding: chunked\r\n\r\n").unwrap().unwrap();
        assert_eq!(head.status, 400);
        assert!(matches!(head.length, Length::Chunked));
        assert!(head_of(b"HTTP/1.1 200 OK\r\n\r\n").unwrap_err().contains("neither"));
        assert!(head_of(b"SMTP 200\r\n\r\n").unwrap_err().contains("status line"));
    }

    #[test]
    fn requests_carry_their_length_and_operation() {
        let r = request("http://127.0.0.1:8080", "StartSyncExecution", b"{}");
        let text = String::from_utf8(r).unwrap();
        assert!(text.starts_with("POST / HTTP/1.1\r\nhost: 127.0.0.1:8080\r\n"));
        assert!(text.contains("x-amz-target: AWSStepFunctions.StartSyncExecution\r\ncontent-length: 2\r\n\r\n{}"));
    }

    /// Two answers on one connection, each in pieces: one of a known length,
    /// one chunked; each judged whole, and the connection kept.
    #[test]
    fn answers_are_read_whole_on_one_connection() {
        use std::io::{Read, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let server = std::thread::spawn(move || {
            let (mut socket, _) = listener.accept().unwrap();
            socket.set_nodelay(true).unwrap();
            let mut request = [0u8; 256];
            let pieces: [&[&[u8]]; 2] = [
                &[b"HTTP/1.1 200 OK\r\ncontent-len", b"gth: 10\r\n\r\n{\"a\":", b"true}"],
                &[
                    b"HTTP/1.1 400 Bad Request\r\ntransfer-encoding: chunked\r\n\r\n4\r\n{\"b\"",
                    b"\r\n2;x=y\r\n:1\r\n1\r\n}\r\n0\r\n\r\n",
                ],
            ];
            for answer in pieces {
                let _ = socket.read(&mut request).unwrap();
                for piece in answer {
                    socket.write_all(piece).unwrap();
                    std::thread::sleep(Duration::from_millis(5));
                }
            }
        });
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(async {
            let mut connection = Connection::open(&endpoint).await.unwrap();
            let request = request(&endpoint, "Any", b"{}");
            fn known(status: u16, body: &[u8]) -> Result<(), String> {
                (status == 200 && body == br#"{"a":true}"#).then_some(()).ok_or(format!("{status} {body:?}"))
            }
            fn chunked(status: u16, body: &[u8]) -> Result<(), String> {
                (status == 400 && body == br#"{"b":1}"#).then_some(()).ok_or(format!("{status} {body:?}"))
            }
            connection.exchange(&request, known).await.unwrap();
            connection.exchange(&request, chunked).await.unwrap();
            assert!(connection.buffer.is_empty());
        });
        server.join().unwrap();
    }
}
