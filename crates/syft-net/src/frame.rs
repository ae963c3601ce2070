//! Length-delimited frames: a 4-byte little-endian length, then that many bytes.
//!
//! Every connection of this crate (party-to-party channels and worker connections alike)
//! carries frames. [`FrameDecoder`] reassembles them from arbitrary chunks of a byte
//! stream and rejects a length above the configured maximum *before* reading the body,
//! so a peer cannot make a receiver allocate more than it actually sends: a body buffer
//! grows with the bytes that arrive, from at most [`PREALLOC`] bytes.

use crate::error::{NetError, Result};

/// Bytes of a frame header.
pub const HEADER_LEN: usize = 4;

/// The default maximum frame length: 1 GiB.
pub const DEFAULT_MAX_FRAME: u32 = 1 << 30;

/// The most a decoder reserves for a frame body before its bytes arrive.
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
    /// Set once a frame was rejected: the stream cannot be resynchronised.
    failed: Option<u64>,
}

impl FrameDecoder {
    /// A decoder that rejects frames longer than `max_frame` bytes.
    #[must_use]
    pub fn new(max_frame: u32) -> Self {
        Self { max_frame, header: [0; HEADER_LEN], have: 0, body: None, failed: None }
    }

    /// Consumes `input`, appending every frame it completes to `out`.
    ///
    /// # Errors
    /// [`NetError::FrameTooLarge`] when a header announces more than the maximum; the
    /// decoder then stays failed (a stream cannot be resynchronised after a bad header).
    pub fn decode(&mut self, mut input: &[u8], out: &mut Vec<Vec<u8>>) -> Result<()> {
        if let Some(len) = self.failed {
            return Err(NetError::FrameTooLarge { len, max: self.max_frame.into() });
        }
        while !input.is_empty() {
            match &mut self.body {
                None => {
                    let take = (HEADER_LEN - self.have).min(input.len());
                    self.header[self.have..self.have + take].copy_from_slice(&input[..take]);
                    self.have += take;
                    input = &input[take..];
                    if self.have == HEADER_LEN {
                        self.have = 0;
                        let len = u32::from_le_bytes(self.header);
                        if len > self.max_frame {
                            self.failed = Some(len.into());
                            return Err(NetError::FrameTooLarge { len: len.into(), max: self.max_frame.into() });
                        }
                        let len = len as usize;
                        if len == 0 {
                            out.push(Vec::new());
                        } else {
                            self.body = Some((len, Vec::with_capacity(len.min(PREALLOC))));
                        }
                    }
                }
                Some((len, buf)) => {
                    let take = (*len - buf.len()).min(input.len());
                    buf.extend_from_slice(&input[..take]);
                    input = &input[take..];
                    if buf.len() == *len {
                        out.push(std::mem::take(buf));
                        self.body = None;
                    }
                }
            }
        }
        Ok(())
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
