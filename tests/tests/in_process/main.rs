//! The tests that start telemetry in their own process and read back what it counted, in
//! one test binary: each test runs alone in a child of it (`own_process!`), since
//! telemetry is one per process and the modules start it with configurations of their
//! own; the workspace links one binary for them instead of one each.

mod cardinality;
mod clock_through_quanta;
mod counting;
mod diagnoses;
mod distributions;
mod engine_shapes;
mod estimates;
mod graph;
mod off;
mod shapes;
mod signatures;
mod steps;
mod steps_across_tasks;
mod wait_states;
