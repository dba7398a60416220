//! The environment table tests: every variable, good and bad values.

use std::time::Duration;

use super::*;

fn read(vars: &[(&str, &str)]) -> EnvSettings {
    EnvSettings::from_lookup(|name| {
        vars.iter()
            .find(|(key, _)| *key == name)
            .map(|(_, value)| value.to_string())
    })
}

#[test]
fn off_when_no_endpoint_is_set() {
    let settings = read(&[("OTEL_SERVICE_NAME", "x")]);
    assert_eq!(settings.metrics, None);
    assert!(settings.warnings.is_empty());
    assert_eq!(settings.metric_export_interval, Duration::from_millis(500));
}

#[test]
fn the_signal_endpoint_wins_over_the_generic_one() {
    let settings = read(&[
        (OTEL_EXPORTER_OTLP_ENDPOINT, "http://a:4317"),
        (
            OTEL_EXPORTER_OTLP_METRICS_ENDPOINT,
            "http://b:4318/v1/metrics",
        ),
        (OTEL_EXPORTER_OTLP_PROTOCOL, "http/protobuf"),
    ]);
    let metrics = settings.metrics.unwrap();
    assert_eq!(metrics.endpoint_var, OTEL_EXPORTER_OTLP_METRICS_ENDPOINT);
    assert_eq!(metrics.endpoint, "http://b:4318/v1/metrics");
    assert_eq!(metrics.protocol, Protocol::HttpProtobuf);
    assert_eq!(settings.traces.unwrap().endpoint, "http://a:4317");
}

#[test]
fn the_signal_protocol_wins_over_the_generic_one() {
    let settings = read(&[
        (OTEL_EXPORTER_OTLP_ENDPOINT, "http://a:4317"),
        (OTEL_EXPORTER_OTLP_PROTOCOL, "http/protobuf"),
        (OTEL_EXPORTER_OTLP_METRICS_PROTOCOL, "grpc"),
    ]);
    assert_eq!(settings.metrics.unwrap().protocol, Protocol::Grpc);
    assert_eq!(settings.logs.unwrap().protocol, Protocol::HttpProtobuf);
}

#[test]
fn disabling_switches() {
    let endpoint = (OTEL_EXPORTER_OTLP_ENDPOINT, "http://a:4317");
    assert_eq!(read(&[endpoint, (OTEL_SDK_DISABLED, "TRUE")]).metrics, None);
    assert_eq!(read(&[endpoint, (OTEL_SDK_DISABLED, "TRUE")]).traces, None);
    let metrics_off = read(&[endpoint, (OTEL_METRICS_EXPORTER, "none")]);
    assert_eq!(metrics_off.metrics, None);
    assert!(metrics_off.traces.is_some());
    assert!(metrics_off.warnings.is_empty());
}

#[test]
fn empty_values_count_as_unset() {
    let settings = read(&[
        (OTEL_EXPORTER_OTLP_ENDPOINT, ""),
        (OTEL_METRIC_EXPORT_INTERVAL, " "),
    ]);
    assert_eq!(settings.metrics, None);
    assert!(settings.warnings.is_empty());
}

#[test]
fn every_bad_value_gives_one_warning_naming_variable_and_value() {
    let endpoint = (OTEL_EXPORTER_OTLP_ENDPOINT, "http://127.0.0.1:4317");
    type Vars<'a> = &'a [(&'a str, &'a str)];
    let cases: &[(Vars<'_>, &str, &str)] = &[
        (
            &[(OTEL_EXPORTER_OTLP_ENDPOINT, "localhost:4317")],
            OTEL_EXPORTER_OTLP_ENDPOINT,
            "localhost:4317",
        ),
        (
            &[(OTEL_EXPORTER_OTLP_ENDPOINT, "ftp://h:21")],
            OTEL_EXPORTER_OTLP_ENDPOINT,
            "ftp://h:21",
        ),
        (
            &[(OTEL_EXPORTER_OTLP_ENDPOINT, "http://")],
            OTEL_EXPORTER_OTLP_ENDPOINT,
            "http://",
        ),
        (
            &[(OTEL_EXPORTER_OTLP_ENDPOINT, "not a url")],
            OTEL_EXPORTER_OTLP_ENDPOINT,
            "not a url",
        ),
        (
            &[endpoint, (OTEL_EXPORTER_OTLP_PROTOCOL, "http/json")],
            OTEL_EXPORTER_OTLP_PROTOCOL,
            "http/json",
        ),
        (
            &[endpoint, (OTEL_EXPORTER_OTLP_PROTOCOL, "carrier-pigeon")],
            OTEL_EXPORTER_OTLP_PROTOCOL,
            "carrier-pigeon",
        ),
        (
            &[(OTEL_METRIC_EXPORT_INTERVAL, "-5")],
            OTEL_METRIC_EXPORT_INTERVAL,
            "-5",
        ),
        (
            &[(OTEL_METRIC_EXPORT_INTERVAL, "0")],
            OTEL_METRIC_EXPORT_INTERVAL,
            "0",
        ),
        (
            &[(OTEL_METRIC_EXPORT_INTERVAL, "fast")],
            OTEL_METRIC_EXPORT_INTERVAL,
            "fast",
        ),
        (
            &[(OTEL_METRIC_EXPORT_INTERVAL, "99999999999999999999999")],
            OTEL_METRIC_EXPORT_INTERVAL,
            "99999999999999999999999",
        ),
        (&[(OTEL_SDK_DISABLED, "yes")], OTEL_SDK_DISABLED, "yes"),
        (
            &[endpoint, (OTEL_METRICS_EXPORTER, "prometheus")],
            OTEL_METRICS_EXPORTER,
            "prometheus",
        ),
        (
            &[endpoint, ("OTEL_EXPORTER_OTLP_TIMEOUT", "soon")],
            "OTEL_EXPORTER_OTLP_TIMEOUT",
            "soon",
        ),
        (
            &[endpoint, ("OTEL_TRACES_SAMPLER", "sometimes")],
            "OTEL_TRACES_SAMPLER",
            "sometimes",
        ),
        (
            &[
                endpoint,
                ("OTEL_TRACES_SAMPLER", "traceidratio"),
                ("OTEL_TRACES_SAMPLER_ARG", "1.5"),
            ],
            "OTEL_TRACES_SAMPLER_ARG",
            "1.5",
        ),
        (
            &[endpoint, ("OTEL_TRACES_SAMPLER", "traceidratio")],
            "OTEL_TRACES_SAMPLER",
            "traceidratio",
        ),
        (
            &[endpoint, ("OTEL_EXPORTER_OTLP_METRICS_TIMEOUT", "-5")],
            "OTEL_EXPORTER_OTLP_METRICS_TIMEOUT",
            "-5",
        ),
        (
            &[endpoint, ("OTEL_EXPORTER_OTLP_COMPRESSION", "brotli")],
            "OTEL_EXPORTER_OTLP_COMPRESSION",
            "brotli",
        ),
        (
            &[endpoint, ("OTEL_EXPORTER_OTLP_METRICS_COMPRESSION", "zstd")],
            "OTEL_EXPORTER_OTLP_METRICS_COMPRESSION",
            "zstd",
        ),
        (
            &[("OTEL_RESOURCE_ATTRIBUTES", "team=etl,nightly")],
            "OTEL_RESOURCE_ATTRIBUTES",
            "team=etl,nightly",
        ),
        (
            &[("OTEL_RESOURCE_ATTRIBUTES", "=etl")],
            "OTEL_RESOURCE_ATTRIBUTES",
            "=etl",
        ),
        (
            &[endpoint, ("OTEL_BSP_SCHEDULE_DELAY", "-1")],
            "OTEL_BSP_SCHEDULE_DELAY",
            "-1",
        ),
        (
            &[endpoint, ("OTEL_BLRP_MAX_QUEUE_SIZE", "0")],
            "OTEL_BLRP_MAX_QUEUE_SIZE",
            "0",
        ),
        (
            &[endpoint, ("OTEL_METRIC_EXPORT_TIMEOUT", "1.5s")],
            "OTEL_METRIC_EXPORT_TIMEOUT",
            "1.5s",
        ),
    ];
    for (vars, variable, value) in cases {
        let settings = read(vars);
        assert_eq!(
            settings.warnings.len(),
            1,
            "{vars:?}: {:?}",
            settings.warnings
        );
        let warning = &settings.warnings[0];
        assert!(
            warning.starts_with(&format!("{variable}={value:?} ")),
            "{warning}"
        );
    }
}

#[test]
fn passwords_in_endpoints_are_never_shown() {
    use crate::env::signal_export::redact_password;
    assert_eq!(
        redact_password("https://etl:s3cret@collector:4318/v1/metrics"),
        "https://etl:***@collector:4318/v1/metrics"
    );
    assert_eq!(
        redact_password("http://etl@collector:4317"),
        "http://etl@collector:4317"
    );
    assert_eq!(
        redact_password("http://collector:4317/a@b"),
        "http://collector:4317/a@b"
    );
    let settings = read(&[
        (
            OTEL_EXPORTER_OTLP_ENDPOINT,
            "http://etl:s3cret@collector:4317",
        ),
        ("OTEL_EXPORTER_OTLP_HEADERS", "authorization=Bearer s3cret"),
    ]);
    assert!(!format!("{settings:?}").contains("s3cret"), "{settings:?}");
    let bad = read(&[(OTEL_EXPORTER_OTLP_ENDPOINT, "http://etl:s3cret@")]);
    assert_eq!(bad.warnings.len(), 1);
    assert!(!bad.warnings[0].contains("s3cret"), "{:?}", bad.warnings);
}

#[test]
fn malformed_headers_are_named_without_their_values() {
    let endpoint = (OTEL_EXPORTER_OTLP_ENDPOINT, "http://127.0.0.1:4317");
    let cases = [
        ("Bearer s3cret-token", "has an entry without `=` (entry 1)"),
        (
            "api-key=s3cret-token,=s3cret-token",
            "has an entry without a key (entry 2)",
        ),
        (
            "authorization= ",
            "gives header `authorization` no value (entry 1)",
        ),
        (
            "bad key=s3cret-token",
            "whose key is not a valid header name (entry 1)",
        ),
    ];
    for (headers, problem) in cases {
        let settings = read(&[endpoint, ("OTEL_EXPORTER_OTLP_HEADERS", headers)]);
        assert_eq!(
            settings.warnings.len(),
            1,
            "{headers}: {:?}",
            settings.warnings
        );
        let warning = &settings.warnings[0];
        assert!(
            warning.starts_with("OTEL_EXPORTER_OTLP_HEADERS (value not shown) "),
            "{warning}"
        );
        assert!(warning.contains(problem), "{warning}");
        assert!(
            !warning.contains("s3cret"),
            "a header value leaked: {warning}"
        );
    }
    let fine = read(&[
        endpoint,
        (
            "OTEL_EXPORTER_OTLP_HEADERS",
            "api-key=abc%20def, x-tenant=7",
        ),
    ]);
    assert!(fine.warnings.is_empty(), "{:?}", fine.warnings);
}

#[test]
fn good_exporter_options_give_no_warning() {
    let settings = read(&[
        (OTEL_EXPORTER_OTLP_ENDPOINT, "http://127.0.0.1:4317"),
        ("OTEL_EXPORTER_OTLP_TIMEOUT", "2500"),
        ("OTEL_EXPORTER_OTLP_COMPRESSION", "gzip"),
        ("OTEL_EXPORTER_OTLP_METRICS_COMPRESSION", "none"),
    ]);
    assert!(settings.warnings.is_empty(), "{:?}", settings.warnings);
}

#[test]
fn a_bad_interval_falls_back_to_the_default() {
    let settings = read(&[(OTEL_METRIC_EXPORT_INTERVAL, "0")]);
    assert_eq!(
        settings.metric_export_interval,
        DEFAULT_METRIC_EXPORT_INTERVAL
    );
    let settings = read(&[(OTEL_METRIC_EXPORT_INTERVAL, "250")]);
    assert_eq!(settings.metric_export_interval, Duration::from_millis(250));
}

#[test]
fn a_bad_endpoint_turns_its_signal_off_and_a_bad_protocol_falls_back() {
    assert_eq!(
        read(&[(OTEL_EXPORTER_OTLP_ENDPOINT, "localhost:4317")]).metrics,
        None
    );
    let json = read(&[
        (OTEL_EXPORTER_OTLP_ENDPOINT, "http://h:4318"),
        (OTEL_EXPORTER_OTLP_PROTOCOL, "http/json"),
    ]);
    assert_eq!(json.metrics.unwrap().protocol, Protocol::HttpProtobuf);
    let junk = read(&[
        (OTEL_EXPORTER_OTLP_ENDPOINT, "http://h:4317"),
        (OTEL_EXPORTER_OTLP_PROTOCOL, "udp"),
    ]);
    assert_eq!(junk.metrics.unwrap().protocol, Protocol::Grpc);
}

#[test]
fn an_unsupported_protocol_falls_back_with_a_warning() {
    let settings = read(&[
        (OTEL_EXPORTER_OTLP_ENDPOINT, "http://collector:4318"),
        (OTEL_EXPORTER_OTLP_PROTOCOL, "http/json"),
    ]);
    assert_eq!(settings.metrics.unwrap().protocol, Protocol::HttpProtobuf);
    assert_eq!(
        settings.warnings,
        [
            r#"OTEL_EXPORTER_OTLP_PROTOCOL="http/json" is not supported by pipetel; using `http/protobuf`"#
        ]
    );
}

#[test]
fn the_resource_variables_are_read_once_for_what_pipetel_adds() {
    let none = read(&[]).resource;
    assert_eq!(none, ResourceSettings::default());
    let named = read(&[(OTEL_SERVICE_NAME, "engine")]).resource;
    assert!(named.names_service && !named.sets_instance_id);
    let attributes = read(&[(
        OTEL_RESOURCE_ATTRIBUTES,
        "team=etl, service.name = engine,service.instance.id=7",
    )]);
    assert!(attributes.resource.names_service && attributes.resource.sets_instance_id);
    assert!(attributes.warnings.is_empty(), "{:?}", attributes.warnings);
    // A malformed entry is named, and the good ones still count.
    let bad = read(&[(OTEL_RESOURCE_ATTRIBUTES, "nightly,service.name=engine")]);
    assert!(bad.resource.names_service);
    assert_eq!(bad.warnings.len(), 1, "{:?}", bad.warnings);
}

#[test]
fn every_pipetel_switch_takes_the_same_on_and_off_values() {
    use crate::env::ReportDestination;

    for on in ["1", "true", "on", "TRUE", " On "] {
        let settings = read(&[
            (PIPETEL_REPORT, on),
            (PIPETEL_PROGRESS, on),
            (PIPETEL_PROMETHEUS_ADDR, on),
        ]);
        let pipetel = settings.pipetel;
        assert_eq!(pipetel.report, Some(ReportDestination::Stderr), "{on:?}");
        assert_eq!(pipetel.progress, Some(true), "{on:?}");
        assert_eq!(
            pipetel.prometheus_address.as_deref(),
            Some(DEFAULT_PROMETHEUS_ADDR),
            "{on:?}"
        );
        assert!(
            settings.warnings.is_empty(),
            "{on:?}: {:?}",
            settings.warnings
        );
    }
    for off in ["0", "false", "off", "OFF", " False "] {
        let settings = read(&[
            (PIPETEL_REPORT, off),
            (PIPETEL_PROGRESS, off),
            (PIPETEL_PROMETHEUS_ADDR, off),
        ]);
        let pipetel = settings.pipetel;
        assert_eq!(pipetel.report, None, "{off:?}: no file named {off:?}");
        assert_eq!(pipetel.progress, Some(false), "{off:?}");
        assert_eq!(pipetel.prometheus_address, None, "{off:?}");
        assert!(
            settings.warnings.is_empty(),
            "{off:?}: {:?}",
            settings.warnings
        );
    }
    // Unset or empty: the defaults, quietly.
    let unset = read(&[(PIPETEL_REPORT, " "), (PIPETEL_PROGRESS, "")]).pipetel;
    assert_eq!(unset, crate::env::pipetel::PipetelSettings::default());
}

#[test]
fn pipetel_variables_take_a_path_or_address_only_where_one_is_meant() {
    use std::path::PathBuf;

    use crate::env::ReportDestination;

    let settings = read(&[
        (PIPETEL_REPORT, "out/report.json"),
        (PIPETEL_PROMETHEUS_ADDR, "0.0.0.0:9100"),
        (PIPETEL_SNAPSHOT_DIR, " /tmp/job-7 "),
    ]);
    assert_eq!(
        settings.pipetel.snapshot_dir,
        Some(PathBuf::from("/tmp/job-7"))
    );
    assert_eq!(
        read(&[(PIPETEL_SNAPSHOT_DIR, "off")]).pipetel.snapshot_dir,
        None
    );
    assert_eq!(
        settings.pipetel.report,
        Some(ReportDestination::File(PathBuf::from("out/report.json")))
    );
    assert_eq!(
        settings.pipetel.prometheus_address.as_deref(),
        Some("0.0.0.0:9100")
    );
    assert_eq!(
        read(&[(PIPETEL_REPORT, "stderr")]).pipetel.report,
        Some(ReportDestination::Stderr)
    );
    // The timeline's files, by name; other JSON files are the report's data.
    let timeline = |value: &str| {
        read(&[(PIPETEL_REPORT, value)])
            .pipetel
            .report
            .is_some_and(|report| report.is_timeline())
    };
    assert!(timeline("trace.json") && timeline("out/run-7.trace.json"));
    assert!(!timeline("out/report.json") && !timeline("mytrace.json") && !timeline("stderr"));
    // A value that is neither on/off nor what the variable takes: named, and off.
    for (variable, value) in [
        (PIPETEL_SNAPSHOT_DIR, "on"),
        (PIPETEL_PROGRESS, "sometimes"),
        (PIPETEL_PROMETHEUS_ADDR, "not-an-address"),
        (PIPETEL_PROMETHEUS_ADDR, "127.0.0.1:http"),
    ] {
        let settings = read(&[(variable, value)]);
        assert_eq!(settings.pipetel.progress, None);
        assert_eq!(settings.pipetel.prometheus_address, None);
        assert_eq!(settings.pipetel.snapshot_dir, None);
        assert_eq!(settings.warnings.len(), 1, "{:?}", settings.warnings);
        assert!(
            settings.warnings[0].starts_with(&format!("{variable}={value:?} ")),
            "{:?}",
            settings.warnings
        );
    }
}

#[test]
fn a_disabled_sdk_turns_the_pipetel_variables_off_too() {
    let settings = read(&[
        (OTEL_SDK_DISABLED, "true"),
        (PIPETEL_REPORT, "stderr"),
        (PIPETEL_PROGRESS, "1"),
        (PIPETEL_PROMETHEUS_ADDR, "127.0.0.1:9464"),
    ]);
    assert_eq!(
        settings.pipetel,
        crate::env::pipetel::PipetelSettings::default()
    );
}

#[test]
fn the_trace_context_variables_are_kept_as_written() {
    let settings = read(&[("TRACEPARENT", "00-abc"), ("BAGGAGE", "tenant=acme")]);
    assert_eq!(
        settings.trace_context("TRACEPARENT").as_deref(),
        Some("00-abc")
    );
    assert_eq!(settings.trace_context("TRACESTATE"), None);
    assert_eq!(
        settings.trace_context("BAGGAGE").as_deref(),
        Some("tenant=acme")
    );
}

#[test]
fn the_prometheus_linger_is_whole_milliseconds_and_anything_else_is_named() {
    assert_eq!(read(&[]).pipetel.prometheus_linger, Duration::ZERO);
    assert_eq!(
        read(&[(PIPETEL_PROMETHEUS_LINGER, " 30000 ")])
            .pipetel
            .prometheus_linger,
        Duration::from_secs(30)
    );
    let settings = read(&[(PIPETEL_PROMETHEUS_LINGER, "30s")]);
    assert_eq!(settings.pipetel.prometheus_linger, Duration::ZERO);
    assert_eq!(
        settings.warnings,
        [
            r#"PIPETEL_PROMETHEUS_LINGER="30s" is not a whole number of milliseconds; /metrics stops at exit"#
        ]
    );
}

#[test]
fn the_dashboard_address_is_host_and_port_a_port_on_loopback_or_on_off() {
    let address = |value: &str| {
        read(&[(PIPETEL_DASHBOARD_ADDR, value)])
            .pipetel
            .dashboard_address
    };
    assert_eq!(address("on").as_deref(), Some(DEFAULT_DASHBOARD_ADDR));
    assert_eq!(address("off"), None);
    assert_eq!(address(" 9500 ").as_deref(), Some("127.0.0.1:9500"));
    assert_eq!(address("0.0.0.0:9500").as_deref(), Some("0.0.0.0:9500"));
    assert_eq!(address("[::1]:9500").as_deref(), Some("[::1]:9500"));
    for bad in ["dashboard", "127.0.0.1:http", "70000"] {
        let settings = read(&[(PIPETEL_DASHBOARD_ADDR, bad)]);
        assert_eq!(settings.pipetel.dashboard_address, None, "{bad:?}");
        assert_eq!(settings.warnings.len(), 1, "{:?}", settings.warnings);
        assert!(
            settings.warnings[0].starts_with(&format!("{PIPETEL_DASHBOARD_ADDR}={bad:?} "))
                && settings.warnings[0].ends_with("no dashboard"),
            "{:?}",
            settings.warnings
        );
    }
    let linger = read(&[(PIPETEL_DASHBOARD_LINGER, "soon")]);
    assert_eq!(linger.pipetel.dashboard_linger, Duration::ZERO);
    assert!(
        linger.warnings[0].starts_with("PIPETEL_DASHBOARD_LINGER=\"soon\" is not a whole number"),
        "{:?}",
        linger.warnings
    );
    assert_eq!(
        read(&[(PIPETEL_DASHBOARD_LINGER, "1500")])
            .pipetel
            .dashboard_linger,
        Duration::from_millis(1500)
    );
}
