//! The messages on a worker connection and on party-to-party channels.
//!
//! Every message is one frame ([`crate::frame`]) whose first byte says what it is.
//!
//! | kind | direction | body |
//! |---|---|---|
//! | `0x01` hello | client → worker, first | postcard [`Hello`] |
//! | `0x02` directory | client → worker | postcard list of `(worker id, address)` |
//! | `0x03` request | client → worker | `u64` LE tag, then a postcard `syft_worker::Request` |
//! | `0x81` welcome | worker → client, first | postcard [`Welcome`] |
//! | `0x82` response | worker → client | `u64` LE tag, status `0` then a postcard `syft_worker::Response`, or status `1` then a UTF-8 reason |
//! | `0x83` error | worker → client | UTF-8 reason; the worker then closes the connection |
//!
//! Tags let a client keep several requests in flight on one connection: a worker answers
//! in the order it finishes, which is the order of arrival except when it serves requests
//! re-entrantly while forwarding along a pointer chain.
//!
//! A party-to-party channel opens with a postcard [`PeerHello`] from the dialling member
//! and a one-byte answer from the accepting one (`0x01` accepted, `0x00` then a UTF-8
//! reason: refused); after that, every frame is one `Comm` message.

use crate::error::{NetError, Result};
use serde::{Deserialize, Serialize};

/// The protocol version, checked in [`Hello`], [`Welcome`] and [`PeerHello`].
pub const VERSION: u16 = 1;

/// Kind byte: client hello.
pub const HELLO: u8 = 0x01;
/// Kind byte: directory of workers.
pub const DIRECTORY: u8 = 0x02;
/// Kind byte: a request.
pub const REQUEST: u8 = 0x03;
/// Kind byte: worker welcome.
pub const WELCOME: u8 = 0x81;
/// Kind byte: a response.
pub const RESPONSE: u8 = 0x82;
/// Kind byte: a protocol error; the worker closes the connection after it.
pub const ERROR: u8 = 0x83;

/// The most entries a directory may have.
pub const MAX_DIRECTORY: usize = 1024;
/// The longest worker id or address in a directory.
pub const MAX_NAME: usize = 256;

pub(crate) const ACK_OK: u8 = 0x01;
pub(crate) const ACK_REFUSED: u8 = 0x00;

/// The first message of a client.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hello {
    /// The client's protocol version.
    pub version: u16,
    /// The client's name, for the worker's logs.
    pub client: String,
}

/// The worker's answer to [`Hello`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Welcome {
    /// The worker's protocol version.
    pub version: u16,
    /// The worker's id.
    pub worker: String,
    /// Where the worker accepts party-to-party connections (`id@host:port`).
    pub peer_address: Option<String>,
}

/// A message from a client to a worker.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ClientMessage {
    /// The opening message.
    Hello(Hello),
    /// The workers the client knows: `(id, address)`.
    Directory(Vec<(String, String)>),
    /// An encoded `syft_worker::Request`, tagged.
    Request {
        /// The tag its response carries.
        tag: u64,
        /// The encoded request.
        body: Vec<u8>,
    },
}

/// A message from a worker to a client.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum WorkerMessage {
    /// The answer to the hello.
    Welcome(Welcome),
    /// The answer to the request with `tag`: an encoded `syft_worker::Response`, or why
    /// the worker could not produce one.
    Response {
        /// The request's tag.
        tag: u64,
        /// The encoded response or the failure.
        result: std::result::Result<Vec<u8>, String>,
    },
    /// A protocol error; the connection closes.
    Error(String),
}

fn bad(peer: &str, reason: impl Into<String>) -> NetError {
    NetError::BadMessage { peer: peer.to_string(), reason: reason.into() }
}

fn tagged<'a>(peer: &str, rest: &'a [u8]) -> Result<(u64, &'a [u8])> {
    let (tag, rest) = rest.split_first_chunk::<8>().ok_or_else(|| bad(peer, "truncated tag"))?;
    Ok((u64::from_le_bytes(*tag), rest))
}

fn text(peer: &str, bytes: &[u8]) -> Result<String> {
    String::from_utf8(bytes.to_vec()).map_err(|_| bad(peer, "a reason that is not UTF-8"))
}

fn postcard_decode<T: for<'de> Deserialize<'de>>(peer: &str, what: &str, bytes: &[u8]) -> Result<T> {
    match postcard::take_from_bytes::<T>(bytes) {
        Ok((value, [])) => Ok(value),
        Ok((_, rest)) => Err(bad(peer, format!("{what}: {} unexpected bytes at the end", rest.len()))),
        Err(e) => Err(bad(peer, format!("{what}: {e}"))),
    }
}

fn postcard_encode<T: Serialize>(value: &T) -> Result<Vec<u8>> {
    postcard::to_allocvec(value).map_err(|e| bad("this endpoint", format!("cannot encode: {e}")))
}

/// Decodes a frame a client sent (`peer` names it in errors).
pub fn decode_client(peer: &str, mut frame: Vec<u8>) -> Result<ClientMessage> {
    let (&kind, rest) = frame.split_first().ok_or_else(|| bad(peer, "empty message"))?;
    match kind {
        HELLO => Ok(ClientMessage::Hello(postcard_decode(peer, "hello", rest)?)),
        DIRECTORY => {
            let entries: Vec<(String, String)> = postcard_decode(peer, "directory", rest)?;
            if entries.len() > MAX_DIRECTORY {
                return Err(bad(peer, format!("directory of {} entries (at most {MAX_DIRECTORY})", entries.len())));
            }
            if let Some((id, addr)) =
                entries.iter().find(|(id, addr)| id.is_empty() || id.len() > MAX_NAME || addr.len() > MAX_NAME)
            {
                return Err(bad(peer, format!("directory entry ({id:?}, {addr:?}) is empty or too long")));
            }
            Ok(ClientMessage::Directory(entries))
        }
        REQUEST => {
            let (tag, _) = tagged(peer, rest)?;
            frame.drain(..9);
            Ok(ClientMessage::Request { tag, body: frame })
        }
        other => Err(bad(peer, format!("unknown message kind {other:#04x}"))),
    }
}

/// Decodes a frame a worker sent (`peer` names it in errors).
pub fn decode_worker(peer: &str, mut frame: Vec<u8>) -> Result<WorkerMessage> {
    let (&kind, rest) = frame.split_first().ok_or_else(|| bad(peer, "empty message"))?;
    match kind {
        WELCOME => Ok(WorkerMessage::Welcome(postcard_decode(peer, "welcome", rest)?)),
        RESPONSE => {
            let (tag, rest) = tagged(peer, rest)?;
            let (&status, reason) = rest.split_first().ok_or_else(|| bad(peer, "truncated response"))?;
            let result = match status {
                0 => {
                    frame.drain(..10);
                    Ok(frame)
                }
                1 => Err(text(peer, reason)?),
                other => return Err(bad(peer, format!("unknown response status {other}"))),
            };
            Ok(WorkerMessage::Response { tag, result })
        }
        ERROR => Ok(WorkerMessage::Error(text(peer, rest)?)),
        other => Err(bad(peer, format!("unknown message kind {other:#04x}"))),
    }
}

/// The hello frame.
pub fn hello(client: &str) -> Result<Vec<u8>> {
    let mut out = vec![HELLO];
    out.extend(postcard_encode(&Hello { version: VERSION, client: client.to_string() })?);
    Ok(out)
}

/// The directory frame.
pub fn directory(entries: &[(String, String)]) -> Result<Vec<u8>> {
    let mut out = vec![DIRECTORY];
    out.extend(postcard_encode(&entries)?);
    Ok(out)
}

/// The head of a request frame (the encoded request follows).
#[must_use]
pub fn request_head(tag: u64) -> Vec<u8> {
    let mut out = Vec::with_capacity(9);
    out.push(REQUEST);
    out.extend_from_slice(&tag.to_le_bytes());
    out
}

/// The welcome frame.
pub fn welcome(worker: &str, peer_address: Option<String>) -> Result<Vec<u8>> {
    let mut out = vec![WELCOME];
    out.extend(postcard_encode(&Welcome { version: VERSION, worker: worker.to_string(), peer_address })?);
    Ok(out)
}

/// The head and body of a response frame.
#[must_use]
pub fn response(tag: u64, result: std::result::Result<Vec<u8>, String>) -> (Vec<u8>, Vec<u8>) {
    let mut head = Vec::with_capacity(10);
    head.push(RESPONSE);
    head.extend_from_slice(&tag.to_le_bytes());
    match result {
        Ok(bytes) => {
            head.push(0);
            (head, bytes)
        }
        Err(reason) => {
            head.push(1);
            (head, reason.into_bytes())
        }
    }
}

/// The error frame.
#[must_use]
pub fn error(reason: &str) -> Vec<u8> {
    let mut out = vec![ERROR];
    out.extend_from_slice(reason.as_bytes());
    out
}

/// The first frame on a party-to-party channel, from the member that dials.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeerHello {
    /// Protocol version.
    pub version: u16,
    /// The session.
    pub session: u64,
    /// The dialling member's endpoint index.
    pub from: u32,
    /// The accepting member's endpoint index.
    pub to: u32,
    /// Number of endpoints in the session.
    pub members: u32,
    /// The dialling member's worker id (proved by its certificate under TLS).
    pub worker: String,
}

impl PeerHello {
    /// Encodes the hello.
    pub fn encode(&self) -> Result<Vec<u8>> {
        postcard_encode(self)
    }

    /// Decodes a hello (`peer` names the sender in errors).
    pub fn decode(peer: &str, frame: &[u8]) -> Result<Self> {
        let hello: Self = postcard_decode(peer, "peer hello", frame)?;
        if hello.version != VERSION {
            return Err(bad(peer, format!("protocol version {} (this worker speaks {VERSION})", hello.version)));
        }
        if hello.worker.len() > MAX_NAME {
            return Err(bad(peer, "worker id too long"));
        }
        Ok(hello)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "test code")]
    use super::*;

    #[test]
    fn messages_round_trip() {
        assert_eq!(
            decode_client("t", hello("me").unwrap()).unwrap(),
            ClientMessage::Hello(Hello { version: VERSION, client: "me".into() })
        );
        let entries = vec![("bob".to_string(), "127.0.0.1:1".to_string())];
        assert_eq!(decode_client("t", directory(&entries).unwrap()).unwrap(), ClientMessage::Directory(entries));
        let mut req = request_head(7);
        req.extend_from_slice(&[1, 2, 3]);
        assert_eq!(decode_client("t", req).unwrap(), ClientMessage::Request { tag: 7, body: vec![1, 2, 3] });
        for result in [Ok(vec![4, 5]), Err("no".to_string())] {
            let (mut head, body) = response(9, result.clone());
            head.extend(body);
            assert_eq!(decode_worker("t", head).unwrap(), WorkerMessage::Response { tag: 9, result });
        }
        let w = welcome("bob", Some("bob@h:1".into())).unwrap();
        assert!(matches!(decode_worker("t", w).unwrap(), WorkerMessage::Welcome(w) if w.worker == "bob"));
        assert_eq!(decode_worker("t", error("bad")).unwrap(), WorkerMessage::Error("bad".into()));
    }

    #[test]
    fn garbage_is_an_error() {
        for frame in [vec![], vec![0x00], vec![0x7f, 1], vec![REQUEST, 1, 2], vec![HELLO, 0xff, 0xff, 0xff]] {
            assert!(decode_client("t", frame).is_err());
        }
        for frame in [vec![], vec![RESPONSE, 0], vec![RESPONSE, 0, 0, 0, 0, 0, 0, 0, 0, 5], vec![ERROR, 0xff]] {
            assert!(decode_worker("t", frame).is_err());
        }
        assert!(PeerHello::decode("t", &[1, 2, 3]).is_err());
    }
}
