.PHONY: run test

# Start the whole API locally on 127.0.0.1:3000.
run:
	cargo run

# Install moto, start it, run fmt, clippy and every test, stop moto.
test:
	bash scripts/test.sh
