//! Serialization: a tensor is its shape plus one raw little-endian byte payload.
//!
//! With a binary format such as postcard the payload is a single length-prefixed byte
//! string (no per-element framing), so a tensor of `n` `u64` elements costs `8n` bytes
//! plus a few bytes of header. Decoding checks the payload length against the shape and
//! that every element is canonical (for example `< 67` in Z_67).

use crate::element::{Element, OddRing, Z67};
use crate::error::{Result, RingError};
use crate::tensor::{Tensor, checked_numel_for, try_vec};
use serde::de::{self, SeqAccess, Visitor};
use serde::ser::SerializeStruct;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::any::{Any, TypeId};
use std::marker::PhantomData;

impl<T: Element> Tensor<T> {
    /// The raw little-endian payload of the elements.
    #[must_use]
    pub fn to_le_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.len() * T::BYTES);
        self.extend_le_bytes(&mut out);
        out
    }

    /// The payload as a borrowed byte view, when the in-memory layout already is the
    /// wire layout (`u64`, `f32`, `f64` on little-endian hosts).
    #[must_use]
    pub fn le_bytes_view(&self) -> Option<&[u8]> {
        if cfg!(target_endian = "big") {
            return None;
        }
        let any: &dyn Any = self;
        if let Some(t) = any.downcast_ref::<Tensor<u64>>() {
            Some(bytemuck::cast_slice(t.data()))
        } else if let Some(t) = any.downcast_ref::<Tensor<f32>>() {
            Some(bytemuck::cast_slice(t.data()))
        } else if let Some(t) = any.downcast_ref::<Tensor<f64>>() {
            Some(bytemuck::cast_slice(t.data()))
        } else {
            None
        }
    }

    /// Appends the raw little-endian payload of the elements to `out` (what
    /// [`to_le_bytes`](Self::to_le_bytes) returns), without a temporary buffer.
    pub fn extend_le_bytes(&self, out: &mut Vec<u8>) {
        let any: &dyn Any = self;
        if let Some(t) = any.downcast_ref::<Tensor<u64>>() {
            extend_u64_le(out, t.data());
        } else if let Some(t) = any.downcast_ref::<Tensor<OddRing>>() {
            out.reserve(t.len() * 8);
            for v in t.data() {
                out.extend_from_slice(&v.get().to_le_bytes());
            }
        } else if let Some(t) = any.downcast_ref::<Tensor<Z67>>() {
            out.extend(t.data().iter().map(|v| v.get()));
        } else {
            let start = out.len();
            out.resize(start + self.len() * T::BYTES, 0);
            for (chunk, &x) in out[start..].chunks_exact_mut(T::BYTES).zip(self.data()) {
                x.write_le(chunk);
            }
        }
    }

    /// Rebuilds a tensor from a shape and a raw little-endian payload, validating both.
    ///
    /// The shape is checked with [`checked_numel`](crate::checked_numel) and its byte size against the payload
    /// length (checked arithmetic) before anything is allocated, so the allocation is
    /// bounded by the payload. Errors: [`RingError::ShapeOverflow`] for a shape whose
    /// element count overflows, [`RingError::Decode`] for a payload of the wrong length
    /// or a non-canonical element.
    pub fn from_le_bytes(shape: &[usize], bytes: &[u8]) -> Result<Self> {
        let n = checked_numel_for("decode", shape)?;
        let Some(expected) = n.checked_mul(T::BYTES) else {
            return Err(RingError::ShapeOverflow { op: "decode", shape: shape.to_vec() });
        };
        if expected != bytes.len() {
            return Err(RingError::Decode {
                element: T::NAME,
                reason: format!("shape {shape:?} needs {expected} payload bytes, got {}", bytes.len()),
            });
        }
        // Fast paths for the protocols' element types: one validation pass and one
        // conversion pass that the compiler vectorises. A payload that fails validation
        // goes through the generic loop below, which names the bad element.
        if let Some(data) = decode_fast::<T>(bytes) {
            return Tensor::new(shape, data);
        }
        let mut data = try_vec("decode", n)?;
        for (i, chunk) in bytes.chunks_exact(T::BYTES).enumerate() {
            let v = T::read_le(chunk).ok_or_else(|| RingError::Decode {
                element: T::NAME,
                reason: format!("element {i} is not canonical: {chunk:02x?}"),
            })?;
            data.push(v);
        }
        Tensor::new(shape, data)
    }
}

/// Appends words as little-endian bytes.
fn extend_u64_le(out: &mut Vec<u8>, words: &[u64]) {
    if cfg!(target_endian = "little") {
        out.extend_from_slice(bytemuck::cast_slice(words));
    } else {
        out.reserve(words.len() * 8);
        for w in words {
            out.extend_from_slice(&w.to_le_bytes());
        }
    }
}

/// Little-endian words of a payload whose length is a multiple of 8.
fn u64_words(bytes: &[u8]) -> Vec<u64> {
    let (words, _) = bytes.as_chunks::<8>();
    words.iter().map(|w| u64::from_le_bytes(*w)).collect()
}

/// The elements of a valid payload of `u64`, `Z_(2^64-1)` or `Z67` (`None`: another
/// element type, or an invalid payload).
fn decode_fast<T: Element>(bytes: &[u8]) -> Option<Vec<T>> {
    let id = TypeId::of::<T>();
    let data: Box<dyn Any> = if id == TypeId::of::<u64>() {
        Box::new(u64_words(bytes))
    } else if id == TypeId::of::<f32>() {
        // Every bit pattern is an f32: one copy.
        let mut out = vec![0f32; bytes.len() / 4];
        if cfg!(target_endian = "little") {
            bytemuck::cast_slice_mut::<f32, u8>(&mut out).copy_from_slice(bytes);
        } else {
            for (o, c) in out.iter_mut().zip(bytes.chunks_exact(4)) {
                *o = f32::from_le_bytes([c[0], c[1], c[2], c[3]]);
            }
        }
        Box::new(out)
    } else if id == TypeId::of::<f64>() {
        Box::new(u64_words(bytes).into_iter().map(f64::from_bits).collect::<Vec<f64>>())
    } else if id == TypeId::of::<OddRing>() {
        let words = u64_words(bytes);
        if words.iter().fold(false, |bad, &w| bad | (w == OddRing::M)) {
            return None;
        }
        Box::new(words.into_iter().map(OddRing::new).collect::<Vec<_>>())
    } else if id == TypeId::of::<Z67>() {
        if bytes.iter().fold(0u8, |m, &b| m.max(b)) >= 67 {
            return None;
        }
        // The clamp lets the compiler drop the reduction in `Z67::new`.
        Box::new(bytes.iter().map(|&b| Z67::new(u64::from(b.min(66)))).collect::<Vec<_>>())
    } else {
        return None;
    };
    data.downcast::<Vec<T>>().ok().map(|b| *b)
}

impl<T: Element> Serialize for Tensor<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        let mut st = serializer.serialize_struct("Tensor", 2)?;
        st.serialize_field("shape", self.shape())?;
        match self.le_bytes_view() {
            // Little-endian hosts ship u64/f32/f64 payloads without a copy.
            Some(view) => st.serialize_field("data", &Bytes(view))?,
            None => st.serialize_field("data", &Bytes(&self.to_le_bytes()))?,
        }
        st.end()
    }
}

struct Bytes<'a>(&'a [u8]);

impl Serialize for Bytes<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        serializer.serialize_bytes(self.0)
    }
}

/// Owned payload that accepts borrowed bytes, byte buffers, or a sequence of u8 (JSON).
/// A payload as deserialized: borrowed from the input when the format allows it (postcard
/// from a slice), so decoding copies the bytes once, into the tensor.
struct ByteBuf<'de>(std::borrow::Cow<'de, [u8]>);

impl<'de> Deserialize<'de> for ByteBuf<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = ByteBuf<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a byte payload")
            }
            fn visit_borrowed_bytes<E: de::Error>(self, v: &'de [u8]) -> std::result::Result<ByteBuf<'de>, E> {
                Ok(ByteBuf(std::borrow::Cow::Borrowed(v)))
            }
            fn visit_bytes<E: de::Error>(self, v: &[u8]) -> std::result::Result<ByteBuf<'de>, E> {
                Ok(ByteBuf(std::borrow::Cow::Owned(v.to_vec())))
            }
            fn visit_byte_buf<E: de::Error>(self, v: Vec<u8>) -> std::result::Result<ByteBuf<'de>, E> {
                Ok(ByteBuf(std::borrow::Cow::Owned(v)))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> std::result::Result<ByteBuf<'de>, A::Error> {
                let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1 << 20));
                while let Some(b) = seq.next_element::<u8>()? {
                    out.push(b);
                }
                Ok(ByteBuf(std::borrow::Cow::Owned(out)))
            }
        }
        deserializer.deserialize_bytes(V)
    }
}

impl<'de, T: Element> Deserialize<'de> for Tensor<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        struct V<T>(PhantomData<T>);
        impl<'de, T: Element> Visitor<'de> for V<T> {
            type Value = Tensor<T>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a tensor {shape, data}")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> std::result::Result<Tensor<T>, A::Error> {
                let shape: Vec<usize> = seq.next_element()?.ok_or_else(|| de::Error::invalid_length(0, &self))?;
                let data: ByteBuf<'de> = seq.next_element()?.ok_or_else(|| de::Error::invalid_length(1, &self))?;
                Tensor::from_le_bytes(&shape, &data.0).map_err(de::Error::custom)
            }
            fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> std::result::Result<Tensor<T>, A::Error> {
                let (mut shape, mut data): (Option<Vec<usize>>, Option<ByteBuf<'de>>) = (None, None);
                while let Some(key) = map.next_key::<String>()? {
                    match key.as_str() {
                        "shape" => shape = Some(map.next_value()?),
                        "data" => data = Some(map.next_value()?),
                        other => return Err(de::Error::unknown_field(other, &["shape", "data"])),
                    }
                }
                let shape = shape.ok_or_else(|| de::Error::missing_field("shape"))?;
                let data = data.ok_or_else(|| de::Error::missing_field("data"))?;
                Tensor::from_le_bytes(&shape, &data.0).map_err(de::Error::custom)
            }
        }
        deserializer.deserialize_struct("Tensor", &["shape", "data"], V(PhantomData))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::element::Z67;

    #[test]
    fn postcard_payload_is_raw() {
        let t = Tensor::<u64>::from_fn(&[10, 100], |i| (i[0] * 1000 + i[1]) as u64);
        let bytes = postcard::to_allocvec(&t).unwrap();
        assert!(bytes.len() <= 8000 + 8, "{} bytes", bytes.len());
        let back: Tensor<u64> = postcard::from_bytes(&bytes).unwrap();
        assert_eq!(back, t);
    }

    #[test]
    fn json_round_trip_and_bad_payloads() {
        let t = Tensor::<f32>::new(&[2], vec![1.5, -2.0]).unwrap();
        let s = serde_json::to_string(&t).unwrap();
        assert_eq!(serde_json::from_str::<Tensor<f32>>(&s).unwrap(), t);
        assert!(Tensor::<u64>::from_le_bytes(&[2], &[0; 15]).is_err());
        assert!(Tensor::<Z67>::from_le_bytes(&[1], &[67]).is_err());
        assert!(Tensor::<u64>::from_le_bytes(&[usize::MAX, 2], &[]).is_err());
    }

    #[test]
    fn fast_paths_match_the_generic_codec() {
        use crate::element::OddRing;
        let words: Vec<u64> = (0..100u64).map(|i| i.wrapping_mul(0x9e37_79b9_7f4a_7c15)).collect();
        let t = Tensor::<u64>::new(&[10, 10], words.clone()).unwrap();
        let bytes = t.to_le_bytes();
        let generic: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
        assert_eq!(bytes, generic);
        assert_eq!(Tensor::<u64>::from_le_bytes(&[10, 10], &bytes).unwrap(), t);

        let odd = Tensor::<OddRing>::from_vec(words.iter().map(|&w| OddRing::new(w)).collect());
        let ob = odd.to_le_bytes();
        assert_eq!(ob, odd.data().iter().flat_map(|v| v.get().to_le_bytes()).collect::<Vec<u8>>());
        assert_eq!(Tensor::<OddRing>::from_le_bytes(&[100], &ob).unwrap(), odd);
        let mut bad = ob.clone();
        bad[8 * 37..8 * 38].copy_from_slice(&u64::MAX.to_le_bytes());
        let e = Tensor::<OddRing>::from_le_bytes(&[100], &bad).unwrap_err().to_string();
        assert!(e.contains("element 37"), "{e}");

        let z = Tensor::<Z67>::from_vec((0..300u64).map(Z67::new).collect());
        let zb = z.to_le_bytes();
        assert_eq!(zb, z.data().iter().map(|v| v.get()).collect::<Vec<u8>>());
        assert_eq!(Tensor::<Z67>::from_le_bytes(&[300], &zb).unwrap(), z);
        let mut bad = zb.clone();
        bad[123] = 200;
        let e = Tensor::<Z67>::from_le_bytes(&[300], &bad).unwrap_err().to_string();
        assert!(e.contains("element 123"), "{e}");

        let mut appended = vec![9u8];
        z.extend_le_bytes(&mut appended);
        assert_eq!(appended[1..], zb[..]);
        let f = Tensor::<f32>::new(&[2], vec![1.5, -2.0]).unwrap();
        assert_eq!(f.to_le_bytes(), [1.5f32.to_le_bytes(), (-2.0f32).to_le_bytes()].concat());
    }
}
