//! Writes `docs/openapi.json` from the route table and the request body
//! types (`cargo run --bin registrar-openapi`); with `--check`, fails when
//! the file differs from what the code generates.

use std::process::ExitCode;

fn main() -> ExitCode {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/openapi.json");
    let generated = shared::http::openapi::served();
    if std::env::args().any(|a| a == "--check") {
        let written = std::fs::read_to_string(&path).unwrap_or_default();
        if written != generated {
            eprintln!("{} is stale: run `cargo run --bin registrar-openapi`", path.display());
            return ExitCode::FAILURE;
        }
        return ExitCode::SUCCESS;
    }
    match std::fs::write(&path, generated) {
        Ok(()) => {
            println!("wrote {}", path.display());
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("{}: {err}", path.display());
            ExitCode::FAILURE
        }
    }
}
