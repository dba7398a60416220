//! The end-to-end tests that drive other processes (the instrumented programs, a real OTLP
//! receiver, Prometheus, Graphviz, Chromium, cargo through trybuild) or read the sources
//! and manifests, in one test binary: none of them starts telemetry in this process, so
//! they share it, and the workspace links one binary for them instead of one each.

mod bad_environment;
mod browser;
mod dashboard;
mod dashboard_server;
mod diff;
mod doc_links;
mod export;
mod faults;
mod feature_off;
mod lean_build;
mod main_example;
mod module_imports;
mod pipelines;
mod pipetel_variables;
mod process_lines;
mod progress;
mod prometheus;
mod reference_tables;
mod report;
mod series_limits;
mod snapshot_dir;
mod snapshot_format;
mod sqlite_example;
mod tls;
mod ui;
