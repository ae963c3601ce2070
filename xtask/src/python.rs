//! `cargo xtask python`: the Python package's build and tests, as CI runs them.
//!
//! 1. a virtual environment in `target/pyenv` (made once, with the `python3` on the path or
//!    `$PYTHON`), with `maturin`, `numpy` and `pytest` installed from PyPI;
//! 2. `maturin develop` in `python/`: the extension module built with the dev profile
//!    (dependencies optimised, the workspace's crates at `opt-level = 1`: a quicker build
//!    than release, fast enough for the tests), installed into that environment. Not
//!    `--profile test`: maturin builds through `cargo rustc`, which compiles the test
//!    profile as a test harness;
//! 3. `pytest python/tests`.

use std::path::{Path, PathBuf};
use std::process::Command;

/// What the environment needs from PyPI (numpy 2 or 1 alike; the extension is abi3).
const REQUIREMENTS: &[&str] = &["maturin>=1.9,<2", "numpy>=1.23", "pytest>=7"];

fn run(cmd: &mut Command) -> Result<(), String> {
    eprintln!("$ {cmd:?}");
    let status = cmd.status().map_err(|e| format!("cannot run {cmd:?}: {e}"))?;
    if status.success() { Ok(()) } else { Err(format!("{cmd:?} failed ({status})")) }
}

/// The environment's executable `name`.
fn bin(env: &Path, name: &str) -> PathBuf {
    if cfg!(windows) { env.join("Scripts").join(format!("{name}.exe")) } else { env.join("bin").join(name) }
}

/// Builds the extension into `target/pyenv` and runs the Python tests.
pub(crate) fn run_all(root: &Path) -> Result<(), String> {
    let env = root.join("target").join("pyenv");
    let python = bin(&env, "python");
    if !python.exists() {
        let base = std::env::var("PYTHON").unwrap_or_else(|_| "python3".into());
        run(Command::new(base).args(["-m", "venv"]).arg(&env))?;
    }
    run(Command::new(&python)
        .args(["-m", "pip", "install", "--quiet", "--disable-pip-version-check"])
        .args(REQUIREMENTS))?;
    run(Command::new(bin(&env, "maturin"))
        .args(["develop", "--quiet"])
        .current_dir(root.join("python"))
        .env("VIRTUAL_ENV", &env))?;
    run(Command::new(&python)
        .args(["-m", "pytest", "-q", "-p", "no:cacheprovider"])
        .arg(root.join("python").join("tests")))
}
