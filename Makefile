.PHONY: run test bench

# Start the whole API locally on 127.0.0.1:3000.
run:
	cargo run

# Install moto, start it, run fmt, clippy and every test, stop moto.
test:
	bash scripts/test.sh

# Every benchmark (release build, argon2, moto, wrk, cold starts); writes BENCHMARKS.md.
bench:
	bash scripts/bench.sh
