//! Length-delimited frames: a 4-byte little-endian length, then that many bytes.
//!
//! Every connection of this crate (party-to-party channels and worker connections alike)
//! carries frames. [`FrameDecoder`] reassembles them from arbitrary chunks of a byte
//! stream and rejects a length above the configured maximum *before* reading the body,
//! so a peer cannot make a receiver allocate more than it actually sends: a body buffer
//! grows with the bytes that arrive, from at most [`PREALLOC`] bytes, and on a
//! connection every byte of that growth is charged to the connection's byte budgets
//! before it is allocated.

use crate::error::{NetError, Result};
use crate::limits::{Budgets, Charge, FRAME_OVERHEAD};

/// Bytes of a frame header.
pub const HEADER_LEN: usize = 4;

/// The default maximum frame length: 1 GiB.
pub const DEFAULT_MAX_FRAME: u32 = 1 << 30;

/// The most a decoder reserves for a frame body before its bytes arrive (it allocates a
/// body buffer only once the first body bytes arrive).
pub const PREALLOC: usize = 1 << 20;

/// The header of a frame of `len` bytes, or [`NetError::FrameTooLarge`] above `max_frame`.
pub fn header(len: usize, max_frame: u32) -> Result<[u8; HEADER_LEN]> {
    match u32::try_from(len) {
        Ok(n) if n <= max_frame => Ok(n.to_le_bytes()),
        _ => Err(NetError::FrameTooLarge { len: len as u64, max: max_frame.into() }),
    }
}

/// One frame, header included, as one buffer.
pub fn encode(body: &[u8], max_frame: u32) -> Result<Vec<u8>> {
    let mut out = Vec::with_capacity(HEADER_LEN + body.len());
    out.extend_from_slice(&header(body.len(), max_frame)?);
    out.extend_from_slice(body);
    Ok(out)
}

/// Reassembles frames from a byte stream.
///
/// A decoder made by [`FrameDecoder::new`] has no byte budget beyond `max_frame`; the
/// decoders of this crate's connections charge every byte they allocate (a frame's
/// body buffer, as it grows, and a fixed overhead per frame) to the connection's budgets
/// *before* allocating it, and each frame carries its charge until it is consumed (see
/// [`NetConfig::max_buffered_per_connection`](crate::NetConfig::max_buffered_per_connection)).
///
/// ```
/// use syft_net::frame::{FrameDecoder, encode};
///
/// let mut stream = encode(b"hello", 1024)?;
/// stream.extend(encode(b"", 1024)?);
/// let mut decoder = FrameDecoder::new(1024);
/// let mut frames = Vec::new();
/// for chunk in stream.chunks(3) {
///     decoder.decode(chunk, &mut frames)?;
/// }
/// assert_eq!(frames, vec![b"hello".to_vec(), Vec::new()]);
/// assert!(decoder.at_boundary());
/// # Ok::<(), syft_net::NetError>(())
/// ```
#[derive(Debug)]
pub struct FrameDecoder {
    max_frame: u32,
    header: [u8; HEADER_LEN],
    /// Header bytes received of the next frame.
    have: usize,
    /// The frame being received: its length and the bytes so far.
    body: Option<(usize, Vec<u8>)>,
    /// What the frame being received is charged (its overhead and its buffer's capacity).
    charge: Charge,
    budgets: Budgets,
    /// Set once a frame was rejected: the stream cannot be resynchronised.
    failed: Option<NetError>,
}

/// What [`FrameDecoder::feed`] did with its input.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Fed {
    /// All of it consumed.
    All,
    /// The first `n` bytes consumed; the rest needs bytes that this connection's other
    /// frames hold (queued or in flight): feed it again once they are given back.
    Blocked(usize),
}

impl FrameDecoder {
    /// A decoder that rejects frames longer than `max_frame` bytes.
    #[must_use]
    pub fn new(max_frame: u32) -> Self {
        Self::with_budgets(max_frame, &Budgets::unlimited())
    }

    /// A decoder that charges `budgets` for what it allocates.
    pub(crate) fn with_budgets(max_frame: u32, budgets: &Budgets) -> Self {
        Self {
            max_frame,
            header: [0; HEADER_LEN],
            have: 0,
            body: None,
            charge: Charge::empty(budgets),
            budgets: budgets.clone(),
            failed: None,
        }
    }

    /// Consumes `input`, appending every frame it completes to `out`.
    ///
    /// # Errors
    /// [`NetError::FrameTooLarge`] when a header announces more than the maximum; the
    /// decoder then stays failed (a stream cannot be resynchronised after a bad header).
    pub fn decode(&mut self, input: &[u8], out: &mut Vec<Vec<u8>>) -> Result<()> {
        let mut frames = Vec::new();
        let fed = self.feed(input, &mut frames);
        out.extend(frames.into_iter().map(|(f, _)| f));
        match fed? {
            Fed::All => Ok(()),
            // Without a budget nothing blocks; with one, a caller of `decode` cannot wait.
            Fed::Blocked(_) => {
                let conn = self.budgets.conn();
                let e =
                    NetError::LimitExceeded { limit: conn.limit(), value: conn.used() as u64, max: conn.max() as u64 };
                Err(self.fail(e))
            }
        }
    }

    fn fail(&mut self, e: NetError) -> NetError {
        self.failed = Some(clone_limit_error(&e));
        self.body = None;
        self.charge = Charge::empty(&self.budgets);
        e
    }

    /// Consumes `input`, appending every frame it completes, with its charge, to `out`.
    ///
    /// Every byte a buffer grows by is charged first. When a budget refuses and this
    /// connection's other frames hold bytes that will be given back, it stops there
    /// ([`Fed::Blocked`]); when nothing else is held, the frame can never fit: an error
    /// naming the limit, and the decoder stays failed.
    pub(crate) fn feed(&mut self, mut input: &[u8], out: &mut Vec<(Vec<u8>, Charge)>) -> Result<Fed> {
        if let Some(e) = &self.failed {
            return Err(clone_limit_error(e));
        }
        let total = input.len();
        while !input.is_empty() {
            let consumed = total - input.len();
            match &mut self.body {
                None => {
                    if self.have == 0 {
                        // A new frame: charge its overhead before anything else.
                        if let Err(e) = self.charge.grow(FRAME_OVERHEAD) {
                            return self.refused(e, consumed);
                        }
                    }
                    let take = (HEADER_LEN - self.have).min(input.len());
                    self.header[self.have..self.have + take].copy_from_slice(&input[..take]);
                    self.have += take;
                    input = &input[take..];
                    if self.have == HEADER_LEN {
                        self.have = 0;
                        let len = u32::from_le_bytes(self.header);
                        if len > self.max_frame {
                            return Err(
                                self.fail(NetError::FrameTooLarge { len: len.into(), max: self.max_frame.into() })
                            );
                        }
                        let len = len as usize;
                        if len == 0 {
                            let charge = std::mem::replace(&mut self.charge, Charge::empty(&self.budgets));
                            out.push((Vec::new(), charge));
                        } else {
                            self.body = Some((len, Vec::new()));
                        }
                    }
                }
                Some((len, buf)) => {
                    let len = *len;
                    let take = (len - buf.len()).min(input.len());
                    let need = buf.len() + take;
                    if need > buf.capacity() {
                        // Grow by doubling (from at most PREALLOC), or to exactly what is
                        // needed when the budget has no room for more.
                        let want = need.max(buf.capacity().saturating_mul(2)).max(PREALLOC).min(len);
                        let target = if self.charge.grow(want - buf.capacity()).is_ok() {
                            want
                        } else {
                            match self.charge.grow(need - buf.capacity()) {
                                Ok(()) => need,
                                Err(e) => return self.refused(e, consumed),
                            }
                        };
                        buf.reserve_exact(target - buf.len());
                    }
                    buf.extend_from_slice(&input[..take]);
                    input = &input[take..];
                    if buf.len() == len {
                        let frame = std::mem::take(buf);
                        self.body = None;
                        let charge = std::mem::replace(&mut self.charge, Charge::empty(&self.budgets));
                        out.push((frame, charge));
                    }
                }
            }
        }
        Ok(Fed::All)
    }

    /// A budget refused: wait if other frames of this connection hold bytes, else fail.
    fn refused(&mut self, e: NetError, consumed: usize) -> Result<Fed> {
        if self.budgets.conn().used() > self.charge.bytes() { Ok(Fed::Blocked(consumed)) } else { Err(self.fail(e)) }
    }

    /// Whether the stream so far ends exactly at a frame boundary (a connection that
    /// closes now closes cleanly).
    #[must_use]
    pub fn at_boundary(&self) -> bool {
        self.have == 0 && self.body.is_none()
    }

    /// Bytes of the unfinished frame received so far (header included).
    #[must_use]
    pub fn buffered(&self) -> usize {
        self.have + self.body.as_ref().map_or(0, |(_, b)| HEADER_LEN + b.len())
    }
}

/// The error a failed decoder repeats (the errors it stores are all plain data).
fn clone_limit_error(e: &NetError) -> NetError {
    match e {
        NetError::FrameTooLarge { len, max } => NetError::FrameTooLarge { len: *len, max: *max },
        NetError::LimitExceeded { limit, value, max } => NetError::LimitExceeded { limit, value: *value, max: *max },
        other => NetError::BadMessage { peer: String::new(), reason: other.to_string() },
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "test code")]
    use super::*;

    #[test]
    fn oversized_header_fails_before_the_body() {
        let mut d = FrameDecoder::new(10);
        let mut out = Vec::new();
        assert!(matches!(d.decode(&11u32.to_le_bytes(), &mut out), Err(NetError::FrameTooLarge { len: 11, .. })));
        assert!(d.decode(&[0], &mut out).is_err(), "stays failed");
        assert!(header(11, 10).is_err());
        assert_eq!(header(10, 10).unwrap(), 10u32.to_le_bytes());
    }

    #[test]
    fn partial_frames_are_not_at_a_boundary() {
        let mut d = FrameDecoder::new(100);
        let mut out = Vec::new();
        d.decode(&[5, 0], &mut out).unwrap();
        assert!(!d.at_boundary());
        assert_eq!(d.buffered(), 2);
        d.decode(&[0, 0, 1, 2], &mut out).unwrap();
        assert_eq!(d.buffered(), 6);
        d.decode(&[3, 4, 5], &mut out).unwrap();
        assert!(d.at_boundary());
        assert_eq!(out, vec![vec![1, 2, 3, 4, 5]]);
    }
}
