//! The clock an operator's busy time is read from: quanta's, which picks the CPU's
//! time-stamp counter when it is invariant and calibrates it against the OS clock, and
//! falls back to the OS's monotonic clock otherwise. Raw ticks are summed per call and
//! scaled to nanoseconds only when read.
//!
//! quanta's read (`Clock::raw`) is an ordinary function of another crate, so every call
//! of it is a real call, which makes the code around it save registers. When quanta
//! uses the TSC, the same `rdtsc` instruction is read inline instead: one instruction,
//! the same ticks, quanta's calibration.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::OnceLock;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

static CLOCK: OnceLock<quanta::Clock> = OnceLock::new();
/// quanta's clock reads the TSC, so reading it inline gives the same ticks.
static TSC_INLINE: AtomicBool = AtomicBool::new(false);
/// Nanoseconds per 2³² ticks, from quanta's calibration (0 until the clock starts), for
/// [`ticks_to_nanos`]: a snapshot converts hundreds of thousands of sums.
static NANOS_PER_2_32_TICKS: AtomicU64 = AtomicU64::new(0);

/// A reading of the clock and the time of day at that reading, taken when the clock
/// starts: what turns a reading into a time of day.
static ANCHOR: OnceLock<(u64, SystemTime)> = OnceLock::new();

/// Starts the clock (calibrating it takes a few milliseconds, once per process).
pub(crate) fn start() {
    let clock = CLOCK.get_or_init(quanta::Clock::new);
    ANCHOR.get_or_init(|| closest_pair(|| clock.raw(), SystemTime::now));
    TSC_INLINE.store(reads_the_tsc(clock), Relaxed);
    NANOS_PER_2_32_TICKS.store(clock.delta_as_nanos(0, 1 << 32), Relaxed);
}

/// How many times [`closest_pair`] reads the time of day between two clock readings.
const ANCHOR_TRIES: usize = 8;

/// A clock reading and the time of day at it: of [`ANCHOR_TRIES`] tries, each a time of
/// day read between two clock readings, the one whose clock readings are closest, at
/// their midpoint. A thread descheduled between the reads of one pair would put every
/// time of day read from it off by the pause (milliseconds on a loaded machine), and
/// with it the slowest calls' end times and where a process's timeline sits in a job's.
fn closest_pair(
    mut tick: impl FnMut() -> u64,
    mut time_of_day: impl FnMut() -> SystemTime,
) -> (u64, SystemTime) {
    let mut closest = (u64::MAX, 0, UNIX_EPOCH);
    for _ in 0..ANCHOR_TRIES {
        let before = tick();
        let at = time_of_day();
        let apart = tick().saturating_sub(before);
        if apart < closest.0 {
            closest = (apart, before + apart / 2, at);
        }
    }
    (closest.1, closest.2)
}

/// The time of day at clock reading `tick` (the Unix epoch before the clock started).
pub(crate) fn wall_time_at(tick: u64) -> SystemTime {
    match ANCHOR.get() {
        Some(&(anchor, at)) if tick >= anchor => {
            at + Duration::from_nanos(ticks_to_nanos(tick - anchor))
        }
        Some(&(anchor, at)) => at
            .checked_sub(Duration::from_nanos(ticks_to_nanos(anchor - tick)))
            .unwrap_or(UNIX_EPOCH),
        None => UNIX_EPOCH,
    }
}

/// Reads the clock through quanta's function from now on, as where quanta does not read
/// the TSC (not x86-64, or no invariant TSC), until telemetry starts again: for tests of
/// that path on machines where quanta reads the TSC (the ticks are the same).
#[cfg(feature = "test-clock")]
pub fn read_through_quanta() {
    TSC_INLINE.store(false, Relaxed);
}

/// Whether `clock` reads the TSC: a reading of it falls between two TSC readings taken
/// around it (a monotonic clock counts nanoseconds since boot, a different number).
fn reads_the_tsc(clock: &quanta::Clock) -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        // SAFETY: `rdtsc` is part of x86_64; it reads a counter and has no other effect.
        let before = unsafe { core::arch::x86_64::_rdtsc() };
        let reading = clock.raw();
        // SAFETY: as above.
        let after = unsafe { core::arch::x86_64::_rdtsc() };
        (before..=after).contains(&reading)
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        let _ = clock;
        false
    }
}

/// A raw clock reading; 0 before the clock started.
#[inline(always)]
pub(crate) fn ticks() -> u64 {
    if tsc_inline() {
        read_tsc()
    } else {
        ticks_from_quanta()
    }
}

/// Whether [`read_tsc`] gives quanta's ticks: for the hot path, which then reads the
/// clock without a call.
#[inline(always)]
pub(crate) fn tsc_inline() -> bool {
    cfg!(target_arch = "x86_64") && TSC_INLINE.load(Relaxed)
}

/// The TSC, read inline (quanta's reading where there is no TSC to read).
#[inline(always)]
pub(crate) fn read_tsc() -> u64 {
    #[cfg(target_arch = "x86_64")]
    {
        // SAFETY: `rdtsc` is part of x86_64; it reads a counter and has no other effect.
        unsafe { core::arch::x86_64::_rdtsc() }
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        ticks_from_quanta()
    }
}

#[cold]
#[inline(never)]
fn ticks_from_quanta() -> u64 {
    CLOCK.get().map_or(0, quanta::Clock::raw)
}

/// Converts a sum of raw ticks to nanoseconds (0 before the clock starts): a
/// multiplication and a shift by a scale read once from quanta, rather than quanta's
/// conversion through the clock, which first checks that the clock was made and which
/// kind it is (about three times the instructions). It differs from quanta's by less than
/// a nanosecond per 2³² ticks (over a second and a half): the scale's rounding.
#[inline]
pub(crate) fn ticks_to_nanos(ticks: u64) -> u64 {
    let scale = NANOS_PER_2_32_TICKS.load(Relaxed);
    ((u128::from(ticks) * u128::from(scale)) >> 32) as u64
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::{closest_pair, start, ticks, ticks_to_nanos};

    #[test]
    fn ticks_scale_to_the_time_that_passed() {
        start();
        let (outer_start, inner_start) = (Instant::now(), ticks());
        std::thread::sleep(Duration::from_millis(20));
        let (inner, outer) = (ticks() - inner_start, outer_start.elapsed());
        let inner = Duration::from_nanos(ticks_to_nanos(inner));
        // The clock pair inside took no longer than the `Instant` pair around it (to 1 %,
        // two clocks), and at least the sleep.
        assert!(inner >= Duration::from_millis(20), "{inner:?}");
        assert!(inner <= outer + outer / 100, "{inner:?} inside {outer:?}");
    }

    #[test]
    fn ticks_convert_as_quantas_conversion_does_to_its_rounding() {
        start();
        let clock = super::CLOCK.get().expect("started");
        for ticks in [
            0,
            1,
            999,
            1 << 20,
            1 << 32,
            3 << 40,
            1 << 50,
            u64::MAX >> 12,
        ] {
            let (ours, quantas) = (ticks_to_nanos(ticks), clock.delta_as_nanos(0, ticks));
            // The scale's rounding: under a nanosecond per 2³² ticks, and one for each
            // conversion's own.
            let allowed = (ticks >> 32) + 2;
            assert!(
                ours.abs_diff(quantas) <= allowed,
                "{ticks} ticks: {ours} ns against quanta's {quantas}"
            );
        }
    }

    #[test]
    fn the_time_of_day_is_paired_with_the_clock_by_a_try_not_paused() {
        start();
        // The first time of day is read after a pause, as on a thread descheduled between
        // the reads: a pair taken from that try would be 50 ms off.
        let mut times_of_day = Vec::new();
        let (_, at) = closest_pair(ticks, || {
            if times_of_day.is_empty() {
                std::thread::sleep(Duration::from_millis(50));
            }
            times_of_day.push(std::time::SystemTime::now());
            *times_of_day.last().unwrap()
        });
        assert_eq!(times_of_day.len(), super::ANCHOR_TRIES);
        assert_ne!(at, times_of_day[0], "the paused try's time of day was kept");
    }
}
