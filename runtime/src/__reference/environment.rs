//! The environment table (docs/environment.md): every variable pipetel reads or checks,
//! its names and defaults from the environment reader's constants (`env::variables`),
//! what it does, and who reads it — pipetel, the OTLP exporter or the SDK.

use crate::__reference::format::{duration, percent};
use crate::env::{
    DEFAULT_DASHBOARD_ADDR, DEFAULT_METRIC_EXPORT_INTERVAL, DEFAULT_PROMETHEUS_ADDR,
    OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_EXPORTER_OTLP_LOGS_ENDPOINT,
    OTEL_EXPORTER_OTLP_METRICS_ENDPOINT, OTEL_EXPORTER_OTLP_PROTOCOL,
    OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, OTEL_METRICS_EXPORTER, OTEL_METRIC_EXPORT_INTERVAL,
    OTEL_RESOURCE_ATTRIBUTES, OTEL_SDK_DISABLED, OTEL_SERVICE_NAME, PIPETEL_DASHBOARD_ADDR,
    PIPETEL_DASHBOARD_LINGER, PIPETEL_PROGRESS, PIPETEL_PROMETHEUS_ADDR, PIPETEL_PROMETHEUS_LINGER,
    PIPETEL_REPORT, PIPETEL_SNAPSHOT_DIR, TRACE_CONTEXT_CARRIERS,
};
use crate::insight::periodic::MAX_CPU_SHARE;
use crate::insight::snapshot_dir::SNAPSHOT_WRITE_INTERVAL;

/// Who reads a variable.
const PIPETEL: &str = "pipetel";
const PIPETEL_AND_OTLP: &str = "pipetel (on/off), otlp";
const SDK_CHECKED: &str = "SDK, checked by pipetel";

/// The table of environment variables, in Markdown: the variables, their effect, who
/// reads them.
pub fn environment_markdown() -> String {
    let carriers: Vec<String> = TRACE_CONTEXT_CARRIERS
        .iter()
        .map(|(name, _)| format!("`{name}`"))
        .collect();
    let rows: Vec<[String; 3]> = vec![
        row(
            code(OTEL_EXPORTER_OTLP_ENDPOINT),
            "endpoint of every signal; metrics go to `<endpoint>/v1/metrics` over HTTP".into(),
            PIPETEL_AND_OTLP,
        ),
        row(
            code(OTEL_EXPORTER_OTLP_METRICS_ENDPOINT),
            "endpoint of metrics, used as is; wins over the generic one".into(),
            PIPETEL_AND_OTLP,
        ),
        row(
            format!(
                "{}, {}",
                code(OTEL_EXPORTER_OTLP_TRACES_ENDPOINT),
                code(OTEL_EXPORTER_OTLP_LOGS_ENDPOINT)
            ),
            "endpoints of traces and logs, used as is".into(),
            PIPETEL_AND_OTLP,
        ),
        row(
            format!(
                "{} and its `_METRICS_` / `_TRACES_` / `_LOGS_` forms",
                code(OTEL_EXPORTER_OTLP_PROTOCOL)
            ),
            "`grpc` (default) or `http/protobuf`; `http/json` falls back to `http/protobuf`, \
             anything else to `grpc`, with a warning"
                .into(),
            PIPETEL,
        ),
        row(
            code(OTEL_METRIC_EXPORT_INTERVAL),
            format!(
                "milliseconds between exports; default {}",
                DEFAULT_METRIC_EXPORT_INTERVAL.as_millis()
            ),
            PIPETEL,
        ),
        row(
            code(OTEL_SDK_DISABLED),
            "`true`: everything off, local collection (report, progress) included".into(),
            PIPETEL,
        ),
        row(
            format!(
                "{}, `OTEL_TRACES_EXPORTER`, `OTEL_LOGS_EXPORTER`",
                code(OTEL_METRICS_EXPORTER)
            ),
            "`none`: that signal off; `otlp`: on; other exporters are not provided (warning)"
                .into(),
            PIPETEL,
        ),
        row(
            "`OTEL_TRACES_SAMPLER`, `OTEL_TRACES_SAMPLER_ARG`".into(),
            "the sampler, never overridden; a value the SDK cannot use is named in a warning"
                .into(),
            SDK_CHECKED,
        ),
        row(
            "`OTEL_BSP_MAX_QUEUE_SIZE`, `OTEL_BSP_SCHEDULE_DELAY`, … and `OTEL_BLRP_*`".into(),
            "the span and log batch processors (bounded queues: spans past a full queue are \
             dropped, never blocking)"
                .into(),
            "SDK",
        ),
        row(
            carriers.join(", "),
            "the caller's trace context: runs become children of its span".into(),
            PIPETEL,
        ),
        row(
            code(PIPETEL_PROGRESS),
            "on: progress lines even when stderr is not a terminal; off: none; unset: progress \
             on terminals"
                .into(),
            PIPETEL,
        ),
        row(
            code(PIPETEL_DASHBOARD_ADDR),
            format!(
                "`host:port` (or a port, on loopback) to serve the live dashboard on (feature \
                 `dashboard`, not a default), or on for `{DEFAULT_DASHBOARD_ADDR}`; counts even \
                 with no endpoint"
            ),
            PIPETEL,
        ),
        row(
            code(PIPETEL_DASHBOARD_LINGER),
            "milliseconds the dashboard stays up at exit, waiting for an open page to fetch \
             the final figures (default 0: it stops at once)"
                .into(),
            PIPETEL,
        ),
        row(
            code(PIPETEL_PROMETHEUS_ADDR),
            format!(
                "`host:port` to serve `/metrics` on (feature `prometheus`), or on for \
                 `{DEFAULT_PROMETHEUS_ADDR}`; counts even with no endpoint"
            ),
            PIPETEL,
        ),
        row(
            code(PIPETEL_PROMETHEUS_LINGER),
            "milliseconds `/metrics` stays up at exit, waiting for two scrapes of the final \
             counts (default 0: it stops at once)"
                .into(),
            PIPETEL,
        ),
        row(
            code(PIPETEL_SNAPSHOT_DIR),
            format!(
                "a directory: the process writes its snapshot there \
                 (`<service.instance.id>.json`, replaced whole), and its part of each job it \
                 serves (`<service.instance.id>.job-<id>.json`, `Query::start_in_job`), every \
                 {} (at most {} of a core) and at exit, for a job's merged report (`pipetel \
                 report DIR`); counts locally even with no endpoint",
                duration(SNAPSHOT_WRITE_INTERVAL),
                percent(MAX_CPU_SHARE)
            ),
            PIPETEL,
        ),
        row(
            code(PIPETEL_REPORT),
            "on (or `stderr`): print the report at shutdown; off: none; any other value is a \
             path to write it to (`trace.json` or `*.trace.json` the timeline, in the Chrome \
             trace event format, recorded while the program runs; `.json` the data, `.html` \
             the one-file HTML report (feature `html`), `.mmd` Mermaid, `.dot` Graphviz, else \
             the table); counts locally even with no endpoint"
                .into(),
            PIPETEL,
        ),
        row(
            format!(
                "{}, {}",
                code(OTEL_SERVICE_NAME),
                code(OTEL_RESOURCE_ATTRIBUTES)
            ),
            "the resource (`service.name`, any `key=value`); an entry without `=` or key is \
             named in a warning"
                .into(),
            SDK_CHECKED,
        ),
        row(
            "`OTEL_EXPORTER_OTLP_CERTIFICATE` and its `_METRICS_` / `_TRACES_` / `_LOGS_` forms"
                .into(),
            "PEM file of a CA to trust for an `https://` endpoint, on top of the public \
             (webpki) roots"
                .into(),
            PIPETEL,
        ),
        row(
            "`OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE`, `OTEL_EXPORTER_OTLP_CLIENT_KEY` and their \
             per-signal forms"
                .into(),
            "PEM files of a client certificate chain and its key, for collectors that require \
             mutual TLS"
                .into(),
            PIPETEL,
        ),
        row(
            "`OTEL_EXPORTER_OTLP_HEADERS`, `OTEL_EXPORTER_OTLP_TIMEOUT` (ms, default 10000), \
             `OTEL_EXPORTER_OTLP_COMPRESSION` (`gzip` or `none`), and their per-signal forms"
                .into(),
            "as the OTLP exporter specification says; pipetel checks them and warns about a \
             bad value (for headers, without showing any header value)"
                .into(),
            "otlp, checked by pipetel",
        ),
        row(
            "`OTEL_BSP_*`, `OTEL_BLRP_*`, `OTEL_METRIC_EXPORT_TIMEOUT`".into(),
            "a value that is not a whole number is named in a warning (the SDK would use its \
             default silently)"
                .into(),
            SDK_CHECKED,
        ),
        row(
            "`OTEL_EXPORTER_OTLP_INSECURE`, `OTEL_EXPORTER_OTLP_METRICS_INSECURE`".into(),
            "as the specification says".into(),
            "otlp",
        ),
    ];
    let mut table = String::from("| variable | effect | read by |\n|---|---|---|\n");
    for [variables, effect, read_by] in rows {
        table.push_str(&format!("| {variables} | {effect} | {read_by} |\n"));
    }
    table
}

/// A row: the variables, their effect, who reads them.
fn row(variables: String, effect: String, read_by: &str) -> [String; 3] {
    [variables, effect, read_by.to_owned()]
}

/// A variable's name as code.
fn code(name: &str) -> String {
    format!("`{name}`")
}

#[cfg(test)]
mod tests {
    use super::environment_markdown;

    /// The environment reader's files, as compiled.
    const READER: [&str; 6] = [
        include_str!("../env/variables.rs"),
        include_str!("../env/reader.rs"),
        include_str!("../env/settings.rs"),
        include_str!("../env/pipetel.rs"),
        include_str!("../env/signal_export.rs"),
        include_str!("../env/tls_files.rs"),
    ];

    /// Every whole variable name the reader spells out: `OTEL_…` or `PIPETEL_…` up to
    /// the first character that cannot be in a name (names it builds per signal, which
    /// end in `_` or `{`, are left to their generic form).
    fn names_in(source: &str) -> Vec<String> {
        let mut names = Vec::new();
        for prefix in ["\"OTEL_", "\"PIPETEL_"] {
            for (at, _) in source.match_indices(prefix) {
                let name: String = source[at + 1..]
                    .chars()
                    .take_while(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || *c == '_')
                    .collect();
                let next = source[at + 1 + name.len()..].chars().next();
                if !name.ends_with('_') && next == Some('"') {
                    names.push(name);
                }
            }
        }
        names
    }

    #[test]
    fn every_variable_the_reader_names_is_in_the_table() {
        let table = environment_markdown();
        let mut names: Vec<String> = READER.iter().flat_map(|source| names_in(source)).collect();
        names.sort();
        names.dedup();
        assert!(names.len() > 20, "{names:?}");
        let missing: Vec<&String> = names
            .iter()
            .filter(|name| {
                // A per-signal form (`OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE`) is in the
                // table under its generic one and "its per-signal forms".
                let generic = ["METRICS_", "TRACES_", "LOGS_"]
                    .iter()
                    .fold(name.to_string(), |name, signal| {
                        name.replacen(signal, "", 1)
                    });
                let covered = |name: &str| {
                    table.contains(&format!("`{name}`"))
                        || table.match_indices("*`").any(|(end, _)| {
                            let start = table[..end].rfind('`').map_or(end, |at| at + 1);
                            name.starts_with(&table[start..end])
                        })
                };
                !covered(name) && !covered(&generic)
            })
            .collect();
        assert!(missing.is_empty(), "not in the table: {missing:?}");
    }
}
