//! Part 12 of the tutorials: train an encrypted network on encrypted data.
//!
//! The toy data, the 2-2-1 ReLU network with the tutorial's fixed initial weights,
//! everything fixed-point encoded and shared between `bob` and `alice` with `james` as
//! the crypto provider, `requires_grad` on all of it. Twenty iterations of SGD (lr 0.1)
//! on the summed squared error run under encryption (forward, loss, backward and the
//! update); only the loss is decrypted each iteration. The same training in plaintext
//! runs beside it.
//!
//! ```text
//! cargo run --release --example encrypted_training [-- --precision 4] [--json]
//! ```

use clap::Parser;
use std::process::ExitCode;
use syft::nn::{Reduction, mse_loss};
use syft::prelude::*;

/// Encrypted training of a toy network on encrypted data (PySyft tutorial Part 12).
#[derive(Parser, Debug)]
#[command(version, about)]
struct Args {
    /// Fractional decimal digits of the fixed-point encoding (PySyft's default: 3).
    #[arg(long, default_value_t = 3)]
    precision: u32,
    /// Iterations.
    #[arg(long, default_value_t = 20)]
    iterations: usize,
    /// Learning rate.
    #[arg(long, default_value_t = 0.1)]
    lr: f64,
    #[command(flatten)]
    common: common::Common,
    #[command(flatten)]
    placement: common::Placement,
}

#[path = "common/mod.rs"]
mod common;

fn main() -> ExitCode {
    common::main("encrypted_training", |args: Args| run(&args))
}

/// The tutorial's network with its deterministic initial weights.
fn toy_model<B: Backend>(backend: &B) -> std::result::Result<Sequential<B>, B::Error> {
    let t = |shape: &[usize], v: &[f64]| backend.constant(shape, v);
    let fc1 = Linear::from_parameters(
        Var::param(backend, t(&[2, 2], &[0.0738, -0.2109, -0.1579, 0.3174])?),
        Some(Var::param(backend, t(&[2], &[0.0, 0.1])?)),
    )?;
    let fc2 = Linear::from_parameters(
        Var::param(backend, t(&[1, 2], &[-0.5368, 0.7050])?),
        Some(Var::param(backend, t(&[1], &[-0.0343])?)),
    )?;
    Ok(Sequential::new().with(fc1).with(ReLU::new()).with(fc2))
}

fn toy_data() -> Result<(Tensor<f64>, Tensor<f64>)> {
    let data = Tensor::new(&[4, 2], vec![0., 0., 0., 1., 1., 0., 1., 1.])?;
    let target = Tensor::new(&[4, 1], vec![0., 0., 1., 1.])?;
    Ok((data, target))
}

fn train_plain(args: &Args) -> Result<Vec<f64>> {
    let cpu = Cpu::<f64>::default();
    let (data, target) = toy_data()?;
    let model = toy_model(&cpu)?;
    let mut opt = Sgd::new(model.parameters(), SgdConfig::new(args.lr));
    let (x, y) = (Var::constant(&cpu, data), Var::constant(&cpu, target));
    let mut losses = Vec::with_capacity(args.iterations);
    for _ in 0..args.iterations {
        syft::nn::Optimizer::zero_grad(&opt);
        let loss = mse_loss(&model.forward(&x)?, &y, Reduction::Sum)?;
        loss.backward()?;
        syft::nn::Optimizer::step(&mut opt)?;
        losses.push(loss.value().item()?);
    }
    Ok(losses)
}

fn run(args: &Args) -> Result<()> {
    let hub = Hub::new();
    let workers = args.placement.workers(&hub, &["alice", "bob", "james"])?;
    let (alice, bob, james) = (workers.get("alice")?, workers.get("bob")?, workers.get("james")?);
    let encoder = FixedEncoder::new(10, args.precision)?;

    // We encrypt everything: data, target and model, with requires_grad.
    let (data, target) = toy_data()?;
    let data = data.fix_precision_with(encoder)?.share_requires_grad(&[bob, alice], james)?;
    let target = target.fix_precision_with(encoder)?.share_requires_grad(&[bob, alice], james)?;
    let plain_model = toy_model(&Cpu::<f32>::default())?;
    let model = share_model(&plain_model, encoder, &[bob, alice], james)?;
    if !args.common.json {
        println!("data: {:?}", data.value());
    }

    let mut opt = Sgd::new(model.parameters(), SgdConfig::new(args.lr));
    let mut losses = Vec::with_capacity(args.iterations);
    for iter in 0..args.iterations {
        syft::nn::Optimizer::zero_grad(&opt);
        let pred = model.forward(&data)?;
        let loss = pred.sub(&target)?.square()?.sum()?;
        loss.backward()?;
        syft::nn::Optimizer::step(&mut opt)?;
        let value = (*loss.value()).clone().get()?.float_precision().item()?;
        if !args.common.json {
            println!("iteration {iter:>2}: loss {value:.4}");
        }
        losses.push(value);
    }
    let plain = train_plain(args)?;
    if !args.common.json {
        println!("plaintext losses: {}", plain.iter().map(|l| format!("{l:.4}")).collect::<Vec<_>>().join(" "));
    }
    if args.common.json {
        let report = serde_json::json!({
            "example": "encrypted_training",
            "precision_fractional": args.precision,
            "iterations": args.iterations,
            "lr": args.lr,
            "losses": losses,
            "plain_losses": plain,
        });
        println!("{report}");
    }
    Ok(())
}
