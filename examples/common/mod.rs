//! What every example shares: its `main` (serve as a worker process when asked, parse the
//! flags, run, report the error), the common flags (and `--transport` for those that
//! start workers), printing for humans or for `--json`,
//! and loading MNIST with the note about the test split.

use clap::Parser;
use std::path::Path;
use std::process::ExitCode;
use syft::nn::mnist::{DEFAULT_HELD_OUT, Mnist, TestSplit};
use syft::prelude::*;

/// The flags every example takes.
#[derive(clap::Args, Clone, Debug)]
pub(crate) struct Common {
    /// Print one JSON object as the last line (and no progress bars).
    #[arg(long)]
    pub(crate) json: bool,
}

/// The flag of the examples that start workers.
#[derive(clap::Args, Clone, Debug)]
pub(crate) struct Placement {
    /// Where the workers run: threads of this process (`in-process`), or worker processes
    /// on loopback over mutually authenticated TLS (`tcp`).
    #[arg(long, default_value_t = Transport::InProcess)]
    pub(crate) transport: Transport,
}

impl Placement {
    /// Starts the workers named `names` where the flag says.
    #[allow(dead_code, reason = "not every example starts workers")]
    pub(crate) fn workers(&self, hub: &std::sync::Arc<Hub>, names: &[&str]) -> Result<Workers> {
        Workers::builder(hub).names(names).transport(self.transport).start()
    }
}

impl Common {
    /// Prints a progress line: to standard output, or to standard error with `--json`
    /// (standard output then carries only the JSON report).
    pub(crate) fn say(&self, line: impl std::fmt::Display) {
        if self.json {
            eprintln!("{line}");
        } else {
            println!("{line}");
        }
    }
}

/// The examples' `main`: a child started as a worker process serves and exits; otherwise
/// the flags are parsed and `run` runs, and an error is printed with the example's name.
pub(crate) fn main<A: Parser>(name: &str, run: impl FnOnce(A) -> Result<()>) -> ExitCode {
    // With `--transport tcp` this program also serves as the worker processes.
    serve_if_requested();
    match run(A::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{name}: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Loads MNIST from `dir`, holding out the last training digits when the official test
/// files are missing (and saying so).
#[allow(dead_code, reason = "not every example reads MNIST")]
pub(crate) fn load_mnist(dir: &Path, common: &Common) -> Result<Mnist> {
    let mnist = Mnist::load_or_hold_out(dir, DEFAULT_HELD_OUT)?;
    if let TestSplit::HeldOut { count } = mnist.test_split {
        common.say(format!(
            "note: no t10k test files in {}; testing on the last {count} training digits instead",
            dir.display()
        ));
    }
    Ok(mnist)
}

/// The test split as the JSON reports name it.
#[allow(dead_code, reason = "not every example reads MNIST")]
pub(crate) fn test_split_name(mnist: &Mnist) -> String {
    match mnist.test_split {
        TestSplit::Official => "official t10k".to_owned(),
        split @ TestSplit::HeldOut { .. } => split.to_string(),
    }
}

/// An example's own check that did not hold, as an error.
#[allow(dead_code, reason = "not every example checks its own output")]
pub(crate) fn failed(what: &str) -> Error {
    WorkerError::InvalidArgument { op: "example", reason: what.to_owned() }.into()
}
