//! The `syft-worker` binary: serves a syft-rs worker over TCP + TLS, or generates
//! development certificates (`syft-worker --help`).

fn main() -> std::process::ExitCode {
    std::process::ExitCode::from(syft_net::cli::run(std::env::args_os()))
}
