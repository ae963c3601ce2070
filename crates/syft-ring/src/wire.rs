//! Serialization: a tensor is its shape plus one raw little-endian byte payload.
//!
//! With a binary format such as postcard the payload is a single length-prefixed byte
//! string (no per-element framing), so a tensor of `n` `u64` elements costs `8n` bytes
//! plus a few bytes of header. Decoding checks the payload length against the shape and
//! that every element is canonical (for example `< 67` in Z_67).

use crate::element::Element;
use crate::error::{Result, RingError};
use crate::tensor::{Tensor, numel};
use serde::de::{self, SeqAccess, Visitor};
use serde::ser::SerializeStruct;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::marker::PhantomData;

impl<T: Element> Tensor<T> {
    /// The raw little-endian payload of the elements.
    #[must_use]
    pub fn to_le_bytes(&self) -> Vec<u8> {
        let mut out = vec![0u8; self.len() * T::BYTES];
        for (chunk, &x) in out.chunks_exact_mut(T::BYTES).zip(self.data()) {
            x.write_le(chunk);
        }
        out
    }

    /// Rebuilds a tensor from a shape and a raw little-endian payload, validating both.
    pub fn from_le_bytes(shape: &[usize], bytes: &[u8]) -> Result<Self> {
        let n = shape.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d));
        let expected = n.and_then(|n| n.checked_mul(T::BYTES));
        if expected != Some(bytes.len()) {
            return Err(RingError::Decode {
                element: T::NAME,
                reason: format!("shape {shape:?} needs {expected:?} payload bytes, got {}", bytes.len()),
            });
        }
        let mut data = Vec::with_capacity(numel(shape));
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

impl<T: Element> Serialize for Tensor<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        let mut st = serializer.serialize_struct("Tensor", 2)?;
        st.serialize_field("shape", self.shape())?;
        st.serialize_field("data", &Bytes(&self.to_le_bytes()))?;
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
struct ByteBuf(Vec<u8>);

impl<'de> Deserialize<'de> for ByteBuf {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = ByteBuf;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a byte payload")
            }
            fn visit_bytes<E: de::Error>(self, v: &[u8]) -> std::result::Result<ByteBuf, E> {
                Ok(ByteBuf(v.to_vec()))
            }
            fn visit_byte_buf<E: de::Error>(self, v: Vec<u8>) -> std::result::Result<ByteBuf, E> {
                Ok(ByteBuf(v))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> std::result::Result<ByteBuf, A::Error> {
                let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1 << 20));
                while let Some(b) = seq.next_element::<u8>()? {
                    out.push(b);
                }
                Ok(ByteBuf(out))
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
                let data: ByteBuf = seq.next_element()?.ok_or_else(|| de::Error::invalid_length(1, &self))?;
                Tensor::from_le_bytes(&shape, &data.0).map_err(de::Error::custom)
            }
            fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> std::result::Result<Tensor<T>, A::Error> {
                let (mut shape, mut data): (Option<Vec<usize>>, Option<ByteBuf>) = (None, None);
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
}
