#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

pub mod data;
pub mod error;
pub mod init;
pub mod layers;
pub mod loss;
pub mod mnist;
pub mod module;
pub mod optim;
pub mod progress;
pub mod train;
pub mod weights;
pub mod zoo;

pub use data::{Batch, Dataset};
pub use error::{Error, Result};
pub use layers::{AvgPool2d, Conv2d, Flatten, GlobalAvgPool2d, Layer, Linear, MaxPool2d, ReLU, Sequential};
pub use loss::{Reduction, cross_entropy, cross_entropy_with_labels, mse_loss, nll_loss, softmax_cross_entropy};
pub use mnist::{Mnist, MnistSet, TestSplit};
pub use module::Module;
pub use optim::{Adam, AdamConfig, Optimizer, Sgd, SgdConfig};
pub use weights::{load_safetensors, save_safetensors};
