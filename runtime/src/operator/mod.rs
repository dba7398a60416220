//! What runs per operator call.

pub(crate) mod call;
pub(crate) mod call_site;
pub(crate) mod clock;
pub(crate) mod current;
pub(crate) mod dynamic;
pub(crate) mod engine_metrics;
pub(crate) mod feed;
pub(crate) mod future;
pub(crate) mod iter;
pub(crate) mod probe;
pub(crate) mod query;
pub(crate) mod recording;
pub(crate) mod segment;
#[cfg(feature = "stream")]
pub(crate) mod stream;
#[cfg(not(feature = "stream"))]
pub(crate) mod stream_off;
pub(crate) mod task;
pub(crate) mod user_counter;
pub(crate) mod wait;
pub(crate) mod waking;
