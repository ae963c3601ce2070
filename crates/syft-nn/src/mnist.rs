//! MNIST: the IDX reader (gzip or raw), normalisation, and the train/test split.
//!
//! Files are the standard IDX format: a big-endian header (images: magic `0x00000803`,
//! count, rows, cols; labels: magic `0x00000801`, count) followed by raw `u8` pixels or
//! labels. Each is read from `NAME.gz` if present, else from `NAME`.
//!
//! A fresh clone of syft-rs vendors only the training files (10,000 digits) in
//! `data/mnist`; the official test set is passed in by directory. Without it,
//! [`Mnist::load_or_hold_out`] holds out the *last* 2,000 training digits as the test
//! split and says so ([`TestSplit::HeldOut`]).

use crate::data::Dataset;
use crate::error::{Error, Result};
use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};
use syft_ring::{Float, Tensor};

/// Magic number of an IDX image file (`u8` data, 3 dimensions).
pub const IMAGE_MAGIC: u32 = 0x0000_0803;
/// Magic number of an IDX label file (`u8` data, 1 dimension).
pub const LABEL_MAGIC: u32 = 0x0000_0801;
/// The usual normalisation's mean (`transforms.Normalize((0.1307,), (0.3081,))`).
pub const MEAN: f64 = 0.1307;
/// The usual normalisation's standard deviation.
pub const STD: f64 = 0.3081;
/// Training images file name.
pub const TRAIN_IMAGES: &str = "train-images-idx3-ubyte";
/// Training labels file name.
pub const TRAIN_LABELS: &str = "train-labels-idx1-ubyte";
/// Test images file name.
pub const TEST_IMAGES: &str = "t10k-images-idx3-ubyte";
/// Test labels file name.
pub const TEST_LABELS: &str = "t10k-labels-idx1-ubyte";
/// How many training digits [`Mnist::load_or_hold_out`] holds out by default.
pub const DEFAULT_HELD_OUT: usize = 2000;

/// Images and their labels.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MnistSet {
    pixels: Vec<u8>,
    labels: Vec<u8>,
    rows: usize,
    cols: usize,
}

impl MnistSet {
    /// A set from raw pixels (`n · rows · cols`, row-major) and labels (`n`, digits).
    pub fn new(pixels: Vec<u8>, labels: Vec<u8>, rows: usize, cols: usize) -> Result<Self> {
        let per = rows * cols;
        let images = pixels.len().checked_div(per).unwrap_or(0);
        if per == 0 || !pixels.len().is_multiple_of(per) || images != labels.len() {
            return Err(Error::CountMismatch { images, labels: labels.len() });
        }
        Ok(Self { pixels, labels, rows, cols })
    }

    /// Reads `images` and `labels` IDX files (gzip or raw).
    pub fn read(images: &Path, labels: &Path) -> Result<Self> {
        let (rows, cols, pixels) = parse_images(images, &read_maybe_gz(images)?)?;
        let labels_v = parse_labels(labels, &read_maybe_gz(labels)?)?;
        Self::new(pixels, labels_v, rows, cols)
    }

    /// The number of images.
    #[must_use]
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Whether there are no images.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// Image height and width.
    #[must_use]
    pub fn image_size(&self) -> (usize, usize) {
        (self.rows, self.cols)
    }

    /// All pixels, row-major, image after image.
    #[must_use]
    pub fn pixels(&self) -> &[u8] {
        &self.pixels
    }

    /// All labels.
    #[must_use]
    pub fn labels(&self) -> &[u8] {
        &self.labels
    }

    /// Splits off the last `n` examples: `(first len − n, last n)`.
    pub fn split_last(&self, n: usize) -> Result<(Self, Self)> {
        if n > self.len() {
            return Err(Error::InvalidArgument {
                op: "MnistSet::split_last",
                reason: format!("cannot hold out {n} of {} examples", self.len()),
            });
        }
        let keep = self.len() - n;
        let per = self.rows * self.cols;
        let head = Self {
            pixels: self.pixels[..keep * per].to_vec(),
            labels: self.labels[..keep].to_vec(),
            rows: self.rows,
            cols: self.cols,
        };
        let tail = Self {
            pixels: self.pixels[keep * per..].to_vec(),
            labels: self.labels[keep..].to_vec(),
            rows: self.rows,
            cols: self.cols,
        };
        Ok((head, tail))
    }

    /// Normalised images `(p / 255 − 0.1307) / 0.3081`, shape `[n, rows · cols]`.
    pub fn normalized<T: Float>(&self) -> Result<Tensor<T>> {
        let mut table = [T::zero(); 256];
        for p in 0..=u8::MAX {
            table[usize::from(p)] = T::from_f64((f64::from(p) / 255.0 - MEAN) / STD);
        }
        let data = self.pixels.iter().map(|&p| table[usize::from(p)]).collect();
        Ok(Tensor::new(&[self.len(), self.rows * self.cols], data)?)
    }

    /// A [`Dataset`] of normalised images, flat (`[n, 784]`, for an MLP) or as
    /// `[n, 1, 28, 28]` (for a CNN).
    pub fn to_dataset<T: Float>(&self, flat: bool) -> Result<Dataset<T>> {
        let x = self.normalized::<T>()?;
        let x = if flat { x } else { x.into_shape(&[self.len(), 1, self.rows, self.cols])? };
        Dataset::new(x, self.labels.iter().map(|&l| usize::from(l)).collect())
    }
}

/// Where the test split came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TestSplit {
    /// The official 10,000-image test set (`t10k-*`).
    Official,
    /// The last `count` training digits, held out because the test files were absent.
    HeldOut {
        /// How many digits were held out.
        count: usize,
    },
}

impl fmt::Display for TestSplit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Official => f.write_str("official t10k test set"),
            Self::HeldOut { count } => write!(f, "last {count} training digits"),
        }
    }
}

/// MNIST training and test sets.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mnist {
    /// The training set.
    pub train: MnistSet,
    /// The test set.
    pub test: MnistSet,
    /// Where the test set came from.
    pub test_split: TestSplit,
}

impl Mnist {
    /// Loads the training and official test files from `dir`.
    pub fn load(dir: impl AsRef<Path>) -> Result<Self> {
        let dir = dir.as_ref();
        let train = MnistSet::read(&locate(dir, TRAIN_IMAGES)?, &locate(dir, TRAIN_LABELS)?)?;
        let test = MnistSet::read(&locate(dir, TEST_IMAGES)?, &locate(dir, TEST_LABELS)?)?;
        Ok(Self { train, test, test_split: TestSplit::Official })
    }

    /// Whether `dir` holds the official test files.
    #[must_use]
    pub fn has_test_files(dir: impl AsRef<Path>) -> bool {
        let dir = dir.as_ref();
        locate(dir, TEST_IMAGES).is_ok() && locate(dir, TEST_LABELS).is_ok()
    }

    /// Loads from `dir`; when the test files are absent, holds out the last `held_out`
    /// training digits as the test split ([`TestSplit::HeldOut`]).
    pub fn load_or_hold_out(dir: impl AsRef<Path>, held_out: usize) -> Result<Self> {
        let dir = dir.as_ref();
        if Self::has_test_files(dir) {
            return Self::load(dir);
        }
        let all = MnistSet::read(&locate(dir, TRAIN_IMAGES)?, &locate(dir, TRAIN_LABELS)?)?;
        let (train, test) = all.split_last(held_out)?;
        Ok(Self { train, test, test_split: TestSplit::HeldOut { count: held_out } })
    }
}

/// `dir/NAME.gz` if it exists, else `dir/NAME`.
fn locate(dir: &Path, name: &'static str) -> Result<PathBuf> {
    let gz = dir.join(format!("{name}.gz"));
    if gz.is_file() {
        return Ok(gz);
    }
    let raw = dir.join(name);
    if raw.is_file() { Ok(raw) } else { Err(Error::MissingFile { path: gz, file: name }) }
}

/// Reads a file, decompressing it when it starts with the gzip magic bytes.
pub fn read_maybe_gz(path: &Path) -> Result<Vec<u8>> {
    let bytes = std::fs::read(path).map_err(|source| Error::Io { path: path.to_owned(), source })?;
    if bytes.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::with_capacity(bytes.len() * 4);
        flate2::read::GzDecoder::new(bytes.as_slice())
            .read_to_end(&mut out)
            .map_err(|source| Error::Decompress { path: path.to_owned(), source })?;
        Ok(out)
    } else {
        Ok(bytes)
    }
}

fn be_u32(path: &Path, bytes: &[u8], at: usize, header: usize) -> Result<u32> {
    match bytes.get(at..at + 4) {
        Some(&[a, b, c, d]) => Ok(u32::from_be_bytes([a, b, c, d])),
        _ => Err(Error::Truncated { path: path.to_owned(), expected: header, got: bytes.len() }),
    }
}

fn check_magic(path: &Path, bytes: &[u8], expected: u32, header: usize) -> Result<()> {
    let found = be_u32(path, bytes, 0, header)?;
    if found == expected { Ok(()) } else { Err(Error::BadMagic { path: path.to_owned(), expected, found }) }
}

fn body(path: &Path, bytes: &[u8], header: usize, len: usize) -> Result<Vec<u8>> {
    let expected = header + len;
    if bytes.len() < expected {
        return Err(Error::Truncated { path: path.to_owned(), expected, got: bytes.len() });
    }
    Ok(bytes[header..expected].to_vec())
}

fn as_usize(v: u32) -> usize {
    usize::try_from(v).unwrap_or(usize::MAX)
}

/// Parses an (uncompressed) IDX image file: `(rows, cols, pixels)`. `path` names the
/// file in errors.
pub fn parse_images(path: &Path, bytes: &[u8]) -> Result<(usize, usize, Vec<u8>)> {
    const HEADER: usize = 16;
    check_magic(path, bytes, IMAGE_MAGIC, HEADER)?;
    let n = as_usize(be_u32(path, bytes, 4, HEADER)?);
    let rows = as_usize(be_u32(path, bytes, 8, HEADER)?);
    let cols = as_usize(be_u32(path, bytes, 12, HEADER)?);
    let len = n.checked_mul(rows).and_then(|v| v.checked_mul(cols)).unwrap_or(usize::MAX - HEADER);
    Ok((rows, cols, body(path, bytes, HEADER, len)?))
}

/// Parses an (uncompressed) IDX label file; every label must be a digit.
pub fn parse_labels(path: &Path, bytes: &[u8]) -> Result<Vec<u8>> {
    const HEADER: usize = 8;
    check_magic(path, bytes, LABEL_MAGIC, HEADER)?;
    let n = as_usize(be_u32(path, bytes, 4, HEADER)?);
    let labels = body(path, bytes, HEADER, n.min(usize::MAX - HEADER))?;
    if let Some((index, &label)) = labels.iter().enumerate().find(|(_, l)| **l > 9) {
        return Err(Error::BadLabel { path: path.to_owned(), index, label });
    }
    Ok(labels)
}
