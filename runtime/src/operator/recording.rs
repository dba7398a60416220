//! Whether operators are recorded: the switch every operator call checks first.

use std::sync::atomic::{AtomicBool, Ordering::Relaxed};

use crate::operator::clock;

static ENABLED: AtomicBool = AtomicBool::new(false);

/// Whether operator metrics are being collected. One relaxed load; a constant `false`
/// without the `enabled` feature.
#[inline(always)]
pub fn enabled() -> bool {
    cfg!(feature = "enabled") && ENABLED.load(Relaxed)
}

/// Turns collection on or off (the telemetry guard does this).
pub(crate) fn set_enabled(on: bool) {
    if on {
        clock::start();
    }
    ENABLED.store(on, Relaxed);
}
