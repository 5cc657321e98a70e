//! `cargo run`: the whole API locally on 127.0.0.1:3000 (see the README).

#[tokio::main]
async fn main() {
    if let Err(err) = shared::local::run().await {
        eprintln!("registrar: {err}");
        std::process::exit(1);
    }
}
