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

/// A clock that only moves when told to.
pub struct ManualClock {
    now: Mutex<DateTime<Utc>>,
}

impl ManualClock {
    pub fn new(start: DateTime<Utc>) -> Self {
        Self { now: Mutex::new(start) }
    }

    /// Starts at the current system time.
    pub fn starting_now() -> Self {
        Self::new(Utc::now())
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
