//! The MNIST reader on the vendored training files (and the official test set when the
//! shared data directory is beside the project), typed errors for bad files, batching.

#![allow(clippy::unwrap_used, reason = "tests fail loudly on unexpected errors")]

use std::io::Write;
use std::path::{Path, PathBuf};
use syft_nn::data::Dataset;
use syft_nn::mnist::{self, Mnist, MnistSet, TestSplit};
use syft_nn::progress::Progress;
use syft_nn::{Error, Linear, Module, ReLU, Sequential};
use syft_ring::{Prg, Seed, Tensor};

fn vendored() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/mnist")
}

fn shared() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/mnist")
}

struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> Self {
        let p = std::env::temp_dir().join(format!("syft-nn-mnist-{tag}-{}", std::process::id()));
        std::fs::create_dir_all(&p).unwrap();
        Self(p)
    }

    fn write(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let p = self.0.join(name);
        std::fs::write(&p, bytes).unwrap();
        p
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn idx_images(n: u32, rows: u32, cols: u32, pixels: &[u8]) -> Vec<u8> {
    let mut v = Vec::new();
    for w in [mnist::IMAGE_MAGIC, n, rows, cols] {
        v.extend_from_slice(&w.to_be_bytes());
    }
    v.extend_from_slice(pixels);
    v
}

fn idx_labels(labels: &[u8]) -> Vec<u8> {
    let mut v = Vec::new();
    v.extend_from_slice(&mnist::LABEL_MAGIC.to_be_bytes());
    v.extend_from_slice(&u32::try_from(labels.len()).unwrap().to_be_bytes());
    v.extend_from_slice(labels);
    v
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

#[test]
fn vendored_training_digits_hold_out_the_last_2000() {
    let all =
        MnistSet::read(&vendored().join("train-images-idx3-ubyte.gz"), &vendored().join("train-labels-idx1-ubyte.gz"))
            .unwrap();
    assert_eq!(all.len(), 10_000);
    assert_eq!(all.image_size(), (28, 28));
    let mut per_class = [0usize; 10];
    for &l in all.labels() {
        per_class[usize::from(l)] += 1;
    }
    assert!(per_class.iter().all(|&c| (800..1200).contains(&c)), "{per_class:?}");

    let m = Mnist::load_or_hold_out(vendored(), 2000).unwrap();
    assert!(!Mnist::has_test_files(vendored()));
    assert_eq!(m.test_split, TestSplit::HeldOut { count: 2000 });
    assert_eq!(m.test_split.to_string(), "last 2000 training digits");
    assert_eq!((m.train.len(), m.test.len()), (8000, 2000));
    assert_eq!(m.test.labels(), &all.labels()[8000..]);
    assert_eq!(m.test.pixels(), &all.pixels()[8000 * 784..]);
    assert!(matches!(Mnist::load(vendored()), Err(Error::MissingFile { file: mnist::TEST_IMAGES, .. })));
}

#[test]
fn official_test_set_when_present() {
    if !Mnist::has_test_files(shared()) {
        eprintln!("skipped: {} has no t10k files", shared().display());
        return;
    }
    let m = Mnist::load_or_hold_out(shared(), 2000).unwrap();
    assert_eq!(m.test_split, TestSplit::Official);
    assert_eq!((m.train.len(), m.test.len()), (10_000, 10_000));
}

#[test]
fn normalisation_is_the_usual_one() {
    let set = MnistSet::new(vec![0, 255, 128, 0], vec![3], 2, 2).unwrap();
    let x: Tensor<f64> = set.normalized().unwrap();
    assert_eq!(x.shape(), &[1, 4]);
    assert!((x.data()[0] - (-0.1307 / 0.3081)).abs() < 1e-12);
    assert!((x.data()[1] - ((1.0 - 0.1307) / 0.3081)).abs() < 1e-12);
    let ds = set.to_dataset::<f32>(false).unwrap();
    assert_eq!(ds.inputs().shape(), &[1, 1, 2, 2]);
    assert_eq!(ds.labels(), &[3]);
}

#[test]
fn raw_and_gzip_files_read_alike() {
    let dir = TempDir::new("raw");
    let pixels: Vec<u8> = (0..2 * 3 * 4).collect();
    let raw = (dir.write("i", &idx_images(2, 3, 4, &pixels)), dir.write("l", &idx_labels(&[7, 1])));
    let gz = (dir.write("i.gz", &gzip(&idx_images(2, 3, 4, &pixels))), dir.write("l.gz", &gzip(&idx_labels(&[7, 1]))));
    let a = MnistSet::read(&raw.0, &raw.1).unwrap();
    let b = MnistSet::read(&gz.0, &gz.1).unwrap();
    assert_eq!(a, b);
    assert_eq!(a.image_size(), (3, 4));
    assert_eq!(a.labels(), &[7, 1]);
}

#[test]
fn bad_files_are_typed_errors() {
    let dir = TempDir::new("bad");
    let labels = dir.write("labels", &idx_labels(&[1, 2]));
    let images = dir.write("images", &idx_images(2, 2, 2, &[0; 8]));

    // Labels given as images: wrong magic.
    let err = MnistSet::read(&labels, &labels).unwrap_err();
    assert!(matches!(err, Error::BadMagic { expected: mnist::IMAGE_MAGIC, found: mnist::LABEL_MAGIC, .. }), "{err}");
    // Truncated body and truncated header.
    let short = dir.write("short", &idx_images(2, 2, 2, &[0; 7]));
    assert!(matches!(MnistSet::read(&short, &labels), Err(Error::Truncated { expected: 24, got: 23, .. })));
    let stub = dir.write("stub", &mnist::IMAGE_MAGIC.to_be_bytes()[..3]);
    assert!(matches!(MnistSet::read(&stub, &labels), Err(Error::Truncated { .. })));
    // A label that is not a digit.
    let bad_label = dir.write("badlabel", &idx_labels(&[1, 12]));
    assert!(matches!(MnistSet::read(&images, &bad_label), Err(Error::BadLabel { index: 1, label: 12, .. })));
    // Counts that disagree.
    let three = dir.write("three", &idx_labels(&[1, 2, 3]));
    assert!(matches!(MnistSet::read(&images, &three), Err(Error::CountMismatch { images: 2, labels: 3 })));
    // A corrupt gzip stream.
    let mut broken = gzip(&idx_images(2, 2, 2, &[0; 8]));
    let len = broken.len();
    broken.truncate(len - 12);
    let broken = dir.write("broken.gz", &broken);
    assert!(matches!(MnistSet::read(&broken, &labels), Err(Error::Decompress { .. })));
    // A missing file, and a directory without MNIST.
    assert!(matches!(MnistSet::read(&dir.0.join("absent"), &labels), Err(Error::Io { .. })));
    assert!(matches!(Mnist::load_or_hold_out(&dir.0, 2000), Err(Error::MissingFile { .. })));
    // Holding out more than there is.
    let set = MnistSet::read(&images, &labels).unwrap();
    assert!(matches!(set.split_last(3), Err(Error::InvalidArgument { .. })));
}

#[test]
fn batches_cover_every_example_once() {
    let ds = Dataset::new(Tensor::<f32>::from_fn(&[10, 2], |i| (i[0] * 2 + i[1]) as f32), (0..10).collect()).unwrap();
    let sizes: Vec<usize> = ds.batches(4).unwrap().map(|b| b.unwrap().labels.len()).collect();
    assert_eq!(sizes, [4, 4, 2]);
    assert_eq!(ds.num_batches(4), 3);
    let mut seen = Vec::new();
    for b in ds.shuffled_batches(3, &mut Prg::new(&Seed::from_u64(1))).unwrap() {
        let b = b.unwrap();
        for (row, &l) in b.inputs.data().chunks(2).zip(&b.labels) {
            assert_eq!(row, &[(2 * l) as f32, (2 * l + 1) as f32], "inputs travel with their labels");
        }
        seen.extend(b.labels);
    }
    let in_order: Vec<usize> = (0..10).collect();
    assert_ne!(seen, in_order, "shuffled");
    seen.sort_unstable();
    assert_eq!(seen, in_order);
    let order = |s| -> Vec<usize> {
        ds.shuffled_batches(3, &mut Prg::new(&Seed::from_u64(s))).unwrap().flat_map(|b| b.unwrap().labels).collect()
    };
    assert_eq!(order(5), order(5));
    assert_ne!(order(5), order(6));
    assert!(ds.batches(0).is_err());
    assert!(Dataset::new(Tensor::<f32>::zeros(&[3, 2]), vec![0, 1]).is_err());
}

#[test]
fn a_short_training_run_learns_digits() {
    let m = Mnist::load_or_hold_out(vendored(), 2000).unwrap();
    let (train, _) = m.train.split_last(6000).unwrap(); // the first 2,000 digits
    let train = train.to_dataset::<f32>(true).unwrap();
    let test = m.test.to_dataset::<f32>(true).unwrap();
    let cpu = syft_autograd::Cpu::<f32>::default();
    let mut rng = Prg::new(&Seed::from_u64(0));
    let model = Sequential::new()
        .with(Linear::new(&cpu, 784, 64, true, &mut rng).unwrap())
        .with(ReLU::new())
        .with(Linear::new(&cpu, 64, 10, true, &mut rng).unwrap());
    let mut opt = syft_nn::Adam::new(model.parameters(), syft_nn::AdamConfig::new(1e-3));
    let quiet = Progress::new(1, "test", true);
    assert!(quiet.is_hidden());
    for _ in 0..2 {
        let stats = syft_nn::train::train_epoch(&cpu, &model, &mut opt, &train, 64, &mut rng, &quiet).unwrap();
        assert_eq!(stats.steps, 32);
    }
    let eval = syft_nn::train::evaluate(&cpu, &model, &test, 500, &quiet).unwrap();
    assert_eq!(eval.total, 2000);
    assert!(eval.accuracy > 0.8, "accuracy {}", eval.accuracy);
}
