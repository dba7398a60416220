//! Whether operators are recorded (the on/off switch every call checks first), and the
//! clock their busy time is read from.

use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::OnceLock;

static ENABLED: AtomicBool = AtomicBool::new(false);
static CLOCK: OnceLock<quanta::Clock> = OnceLock::new();

/// Whether operator metrics are being collected. One relaxed load; a constant `false`
/// without the `enabled` feature.
#[inline(always)]
pub fn enabled() -> bool {
    cfg!(feature = "enabled") && ENABLED.load(Relaxed)
}

/// Turns collection on or off (the telemetry guard does this).
pub(crate) fn set_enabled(on: bool) {
    if on {
        CLOCK.get_or_init(quanta::Clock::new);
    }
    ENABLED.store(on, Relaxed);
}

/// The raw clock reading the guard subtracts; scaled to nanoseconds only at export.
#[inline(always)]
pub(crate) fn ticks() -> u64 {
    CLOCK.get().map_or(0, quanta::Clock::raw)
}

/// Converts a sum of raw ticks to nanoseconds.
pub(crate) fn ticks_to_nanos(ticks: u64) -> u64 {
    CLOCK
        .get()
        .map_or(0, |clock| clock.delta_as_nanos(0, ticks))
}
