//! Workspace automation. `cargo xtask ci` runs what CI runs: the tidy check (every
//! source file documented), formatting, clippy with warnings denied, every test, and the
//! docs with warnings denied. `cargo xtask tidy` runs the first alone.

use std::process::{Command, ExitCode};

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
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
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
    cargo(&["fmt", "--all", "--", "--check"], &[])?;
    cargo(&["clippy", "--workspace", "--all-targets", "--locked", "--", "-D", "warnings"], &[])?;
    cargo(&["test", "--workspace", "--all-targets", "--locked"], &[])?;
    cargo(&["test", "--workspace", "--doc", "--locked"], &[])?;
    cargo(&["doc", "--workspace", "--no-deps", "--locked"], &[("RUSTDOCFLAGS", "-D warnings")])?;
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("ci") => ci(),
        Some("tidy") => tidy(),
        _ => Err("usage: cargo xtask ci | cargo xtask tidy".into()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::FAILURE
        }
    }
}
