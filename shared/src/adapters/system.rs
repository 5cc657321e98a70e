//! The production clock and randomness, plus controllable ones for tests.

use std::sync::Mutex;

use chrono::{DateTime, Duration, Utc};
use rand::{RngCore, SeedableRng, rngs::OsRng, rngs::StdRng};

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
        OsRng.fill_bytes(buf);
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

/// A seeded, repeatable generator for tests (not for production).
pub struct SeededRandom(Mutex<StdRng>);

impl SeededRandom {
    pub fn new(seed: u64) -> Self {
        Self(Mutex::new(StdRng::seed_from_u64(seed)))
    }
}

impl Random for SeededRandom {
    fn fill(&self, buf: &mut [u8]) {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).fill_bytes(buf);
    }
}
