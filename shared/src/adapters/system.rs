//! The production clock and randomness, plus controllable ones for tests.

use std::sync::Mutex;

use chrono::{DateTime, Duration, Utc};
use sha2::{Digest, Sha256};

use crate::ports::{Clock, Random};

/// The system clock.
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// The operating system's CSPRNG.
pub struct OsRandom;

impl Random for OsRandom {
    fn fill(&self, buf: &mut [u8]) {
        // Failing to read the OS's randomness leaves nothing safe to do.
        aws_lc_rs::rand::fill(buf).expect("the operating system's random source");
    }
}

/// Where every test clock starts: 2030-01-01T00:00:00Z, in epoch seconds
/// (in the future, so tokens a test signs are not expired for a client
/// library that checks them on the wall clock).
pub const TEST_START: i64 = 1_893_456_000;

/// A clock that only moves when told to.
pub struct ManualClock {
    now: Mutex<DateTime<Utc>>,
}

impl ManualClock {
    pub fn new(start: DateTime<Utc>) -> Self {
        Self { now: Mutex::new(start) }
    }

    /// Starts at [`TEST_START`]: a fixed instant at the top of an hour, so a
    /// test's time never depends on when it runs (an hourly or daily rate
    /// window cannot roll over in the middle of a test that moves the clock
    /// by less than an hour).
    pub fn at_test_start() -> Self {
        Self::new(DateTime::from_timestamp(TEST_START, 0).unwrap_or_default())
    }

    /// The current manual time.
    pub fn now_dt(&self) -> DateTime<Utc> {
        self.now()
    }

    /// The current manual time in epoch seconds.
    pub fn now_secs(&self) -> i64 {
        self.now().timestamp()
    }

    pub fn advance(&self, by: Duration) {
        let mut now = self.now.lock().unwrap_or_else(|p| p.into_inner());
        *now += by;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.now.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// A seeded, repeatable generator for tests (not for production): SHA-256
/// of the seed and a block counter.
pub struct SeededRandom {
    seed: u64,
    counter: Mutex<u64>,
}

impl SeededRandom {
    pub fn new(seed: u64) -> Self {
        Self { seed, counter: Mutex::new(0) }
    }
}

impl Random for SeededRandom {
    fn fill(&self, buf: &mut [u8]) {
        let mut counter = self.counter.lock().unwrap_or_else(|p| p.into_inner());
        for chunk in buf.chunks_mut(32) {
            let block = Sha256::new().chain_update(self.seed.to_le_bytes()).chain_update(counter.to_le_bytes());
            chunk.copy_from_slice(&block.finalize()[..chunk.len()]);
            *counter += 1;
        }
    }
}
