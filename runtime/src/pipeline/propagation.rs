//! W3C trace context across processes: `TRACEPARENT`, `TRACESTATE` and `BAGGAGE` in the
//! environment make this process's runs children of the caller's span, and
//! [`trace_env`] gives the variables to set on a child process so its runs join the trace.

use std::collections::HashMap;
use std::ptr;
use std::sync::atomic::{AtomicPtr, Ordering};

use opentelemetry::baggage::BaggageExt as _;
use opentelemetry::propagation::{Extractor, TextMapCompositePropagator, TextMapPropagator};
use opentelemetry::trace::TraceContextExt as _;
use opentelemetry::Context;
use opentelemetry_sdk::propagation::{BaggagePropagator, TraceContextPropagator};

use crate::env::TRACE_CONTEXT_CARRIERS as CARRIERS;

/// The context given by the environment, parent of runs started with no span current.
/// Set once per `init` (the previous one is leaked: a few bytes), read with one atomic
/// load by every run and step.
static ENVIRONMENT_PARENT: AtomicPtr<Context> = AtomicPtr::new(ptr::null_mut());

fn propagator() -> TextMapCompositePropagator {
    TextMapCompositePropagator::new(vec![
        Box::new(TraceContextPropagator::new()),
        Box::new(BaggagePropagator::new()),
    ])
}

struct Headers(HashMap<String, String>);

impl Extractor for Headers {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(String::as_str)
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(String::as_str).collect()
    }
}

/// Reads the trace context of the environment through `lookup`; returns the warning
/// for a `TRACEPARENT` that is set but invalid (a new trace is started then).
pub(crate) fn read_environment(
    lookup: impl Fn(&str) -> Option<String>,
) -> (Option<Context>, Option<String>) {
    let headers: HashMap<String, String> = CARRIERS
        .iter()
        .filter_map(|(variable, header)| {
            let value = lookup(variable).filter(|value| !value.trim().is_empty())?;
            Some(((*header).to_owned(), value))
        })
        .collect();
    let Some(traceparent) = headers.get("traceparent").cloned() else {
        let has_baggage = headers.contains_key("baggage");
        let context = propagator().extract(&Headers(headers));
        return (has_baggage.then_some(context), None);
    };
    let context = propagator().extract(&Headers(headers));
    if well_formed(&traceparent) && context.span().span_context().is_valid() {
        (Some(context), None)
    } else {
        let warning = format!(
            "TRACEPARENT={traceparent:?} is not a valid W3C traceparent; runs start a new trace"
        );
        let baggage_only = (!context.baggage().is_empty()).then_some(context);
        (baggage_only, Some(warning))
    }
}

/// Whether a `traceparent` has the W3C shape: `version-trace_id-parent_id-flags` in
/// lower-case hex of 2, 32, 16 and 2 digits (more fields only after version `00`).
fn well_formed(traceparent: &str) -> bool {
    let fields: Vec<&str> = traceparent.trim().split('-').collect();
    let hex = |field: &str, len: usize| {
        field.len() == len
            && field
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    };
    match fields.as_slice() {
        [version, trace_id, parent_id, flags, rest @ ..] => {
            hex(version, 2)
                && *version != "ff"
                && (rest.is_empty() || *version != "00")
                && hex(trace_id, 32)
                && hex(parent_id, 16)
                && hex(flags, 2)
        }
        _ => false,
    }
}

/// Sets the context runs take as parent when no span is current.
pub(crate) fn set_environment_parent(context: Option<Context>) {
    let leaked = context.map_or(ptr::null_mut(), |context| {
        ptr::from_mut(Box::leak(Box::new(context)))
    });
    ENVIRONMENT_PARENT.store(leaked, Ordering::Release);
}

/// The parent of a new run or step: the current context when a span is active in it,
/// otherwise the environment's (merged with nothing else), otherwise the current one.
pub(crate) fn parent_context() -> Context {
    let current = Context::current();
    if current.has_active_span() {
        return current;
    }
    // SAFETY: a non-null pointer comes from `Box::leak` in `set_environment_parent`.
    match unsafe { ENVIRONMENT_PARENT.load(Ordering::Acquire).as_ref() } {
        Some(environment) => environment.clone(),
        None => current,
    }
}

/// The environment variables that make a child process's runs part of this trace:
/// `TRACEPARENT` (the span current here, or the one this process was given), and
/// `TRACESTATE` and `BAGGAGE` when there are any.
///
/// ```
/// let mut worker = std::process::Command::new("worker");
/// worker.envs(pipetel::otel::trace_env());
/// ```
pub fn trace_env() -> Vec<(&'static str, String)> {
    let mut headers = HashMap::new();
    propagator().inject_context(&parent_context(), &mut headers);
    CARRIERS
        .iter()
        .filter_map(|(variable, header)| {
            headers
                .remove(*header)
                .filter(|value| !value.is_empty())
                .map(|value| (*variable, value))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(vars: &[(&str, &str)]) -> (Option<Context>, Option<String>) {
        read_environment(|name| {
            vars.iter()
                .find(|(key, _)| *key == name)
                .map(|(_, v)| v.to_string())
        })
    }

    #[test]
    fn a_valid_traceparent_gives_a_remote_parent() {
        let (context, warning) = read(&[
            (
                "TRACEPARENT",
                "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
            ),
            ("TRACESTATE", "vendor=value"),
        ]);
        assert_eq!(warning, None);
        let context = context.expect("a parent");
        let span = context.span().span_context().clone();
        assert_eq!(
            span.trace_id().to_string(),
            "0af7651916cd43dd8448eb211c80319c"
        );
        assert_eq!(span.span_id().to_string(), "b7ad6b7169203331");
        assert!(span.is_remote() && span.is_sampled());
        assert_eq!(span.trace_state().get("vendor"), Some("value"));
    }

    #[test]
    fn an_invalid_traceparent_is_named_and_ignored() {
        for bad in [
            "garbage",
            "00-00000000000000000000000000000000-b7ad6b7169203331-01",
            "00-0af7651916cd43dd8448eb211c80319c-b7ad6b71692033-01",
        ] {
            let (context, warning) = read(&[("TRACEPARENT", bad)]);
            assert!(context.is_none(), "{bad}");
            assert_eq!(
                warning.unwrap(),
                format!(
                    "TRACEPARENT={bad:?} is not a valid W3C traceparent; runs start a new trace"
                )
            );
        }
    }

    #[test]
    fn trace_env_passes_the_environment_context_and_baggage_on() {
        let traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
        let (context, warning) = read(&[("TRACEPARENT", traceparent), ("BAGGAGE", "tenant=acme")]);
        assert_eq!(warning, None);
        set_environment_parent(context);
        let env: HashMap<&str, String> = trace_env().into_iter().collect();
        set_environment_parent(None);
        assert_eq!(env["TRACEPARENT"], traceparent);
        assert_eq!(env["BAGGAGE"], "tenant=acme");
        assert!(!env.contains_key("TRACESTATE"), "empty values are left out");
    }

    #[test]
    fn no_variables_no_parent() {
        assert_eq!(read(&[]).1, None);
        assert!(read(&[]).0.is_none());
    }
}
