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
use syft::prelude::*;
use syft::tutorials::part12;

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

fn run(args: &Args) -> Result<()> {
    let hub = Hub::new();
    let workers = args.placement.workers(&hub, &["alice", "bob", "james"])?;
    let (alice, bob, james) = (workers.get("alice")?, workers.get("bob")?, workers.get("james")?);
    let encoder = FixedEncoder::new(10, args.precision)?;

    // We encrypt everything: data, target and model, with requires_grad, then train
    // (syft::tutorials::part12, the code the Python package's tests check against).
    let losses = part12::encrypted_losses(&[bob, alice], james, encoder, args.iterations, args.lr, |iter, value| {
        if !args.common.json {
            println!("iteration {iter:>2}: loss {value:.4}");
        }
    })?;
    let plain = part12::plain_losses(args.iterations, args.lr)?;
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
