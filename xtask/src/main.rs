//! Workspace automation.
//!
//! - `cargo xtask ci` runs what CI runs: the tidy check (every source file documented),
//!   the architecture check, formatting, clippy with warnings denied, every test, the
//!   docs with warnings denied, and the Python package's tests.
//! - `cargo xtask tidy` runs the first alone.
//! - `cargo xtask arch` checks the crate layering against the table in
//!   `docs/ARCHITECTURE.md` and looks for module cycles inside each library crate
//!   ([`arch`]).
//! - `cargo xtask python` builds the Python package `syft_rs` into `target/pyenv` and runs
//!   its tests ([`python`]); `cargo xtask ci` runs it last.
//! - `cargo xtask release --check` checks that the workspace is ready to publish: versions
//!   in step, a CHANGELOG.md section for the version, README and licence files in every
//!   publishable crate, no path-only dependency. `cargo xtask release --dry-run` also
//!   packages every publishable crate, in dependency order ([`release`]).

mod arch;
mod metadata;
mod modgraph;
mod python;
mod release;

use std::process::{Command, ExitCode};

/// The workspace root.
fn root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Runs cargo with `args` and extra environment variables; fails if it fails.
fn cargo(args: &[&str], env: &[(&str, &str)]) -> Result<(), String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    eprintln!("$ cargo {}", args.join(" "));
    let mut cmd = Command::new(cargo);
    cmd.args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let status = cmd.status().map_err(|e| format!("cannot run cargo: {e}"))?;
    if status.success() { Ok(()) } else { Err(format!("`cargo {}` failed ({status})", args.join(" "))) }
}

/// Every Rust source file opens with its documentation (`//!`, or `#![doc = ...]` for a
/// crate root that includes its README).
fn tidy() -> Result<(), String> {
    let root = root();
    let mut bad = Vec::new();
    let mut stack: Vec<std::path::PathBuf> =
        ["crates", "examples", "benches", "xtask"].iter().map(|d| root.join(d)).collect();
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                if path.file_name().is_some_and(|n| n != "target") {
                    stack.push(path);
                }
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
                let first = text.lines().next().unwrap_or("");
                if !first.starts_with("//!") && !first.starts_with("#![doc") {
                    bad.push(path.display().to_string());
                }
            }
        }
    }
    if bad.is_empty() {
        eprintln!("tidy: every source file opens with its documentation");
        Ok(())
    } else {
        Err(format!("tidy: these files do not start with `//!`: {}", bad.join(", ")))
    }
}

fn ci() -> Result<(), String> {
    tidy()?;
    arch::run(&root())?;
    cargo(&["fmt", "--all", "--", "--check"], &[])?;
    cargo(&["clippy", "--workspace", "--all-targets", "--locked", "--", "-D", "warnings"], &[])?;
    cargo(&["test", "--workspace", "--all-targets", "--locked"], &[])?;
    cargo(&["test", "--workspace", "--doc", "--locked"], &[])?;
    cargo(&["doc", "--workspace", "--no-deps", "--locked"], &[("RUSTDOCFLAGS", "-D warnings")])?;
    python::run_all(&root())?;
    Ok(())
}

const USAGE: &str = "usage:
  cargo xtask ci                 tidy, arch, fmt, clippy -D warnings, tests, docs, Python: what CI runs
  cargo xtask tidy               every source file opens with its documentation
  cargo xtask arch               crate layering (docs/ARCHITECTURE.md) and module cycles
  cargo xtask python             the Python package built into target/pyenv (maturin), then pytest
  cargo xtask release --check    versions in step, CHANGELOG.md entry, README and licences, no path-only deps
  cargo xtask release --dry-run  the same, then package every publishable crate in dependency order";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let result = match args.as_slice() {
        ["ci"] => ci(),
        ["tidy"] => tidy(),
        ["arch"] => arch::run(&root()),
        ["python"] => python::run_all(&root()),
        ["release", "--check"] => release::run(&root(), false),
        ["release", "--dry-run"] => release::run(&root(), true),
        ["help" | "--help" | "-h"] => {
            println!("{USAGE}");
            Ok(())
        }
        _ => Err(USAGE.into()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::FAILURE
        }
    }
}
