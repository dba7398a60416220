//! [`ErrorReport`]: what a span records about a failure — the error's type, message and
//! the chain of its sources — and the autoref probes `#[pipeline_step]` uses to get the
//! most out of whatever error type a step returns.
//!
//! The macro writes `(&&&&&Probe(&output)).__pipetel_error()`. Lookup tries, in order:
//! a `Result` whose error is a `std::error::Error` (type, message, sources), one whose
//! error is `Display` (type, message), `Debug` (type, `{:?}`), any other `Result` (type),
//! and anything else (not a failure).

use std::error::Error;
use std::fmt::{Debug, Display};

use crate::operator::probe::Probe;

/// A failure, as recorded on a span.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorReport {
    /// The error's type (`core::num::ParseIntError`), or `panic` / `cancelled`.
    pub error_type: String,
    /// The error's message.
    pub message: String,
    /// The messages of the error's sources, outermost first.
    pub sources: Vec<String>,
}

impl ErrorReport {
    /// A report of a `std::error::Error`, with its sources.
    pub fn of_error<E: Error + ?Sized>(error: &E) -> Self {
        let mut sources = Vec::new();
        let mut source = error.source();
        while let Some(cause) = source {
            sources.push(cause.to_string());
            source = cause.source();
        }
        ErrorReport {
            error_type: std::any::type_name::<E>().to_owned(),
            message: error.to_string(),
            sources,
        }
    }

    /// A report of an error that only has `Display`.
    pub fn of_display<E: Display + ?Sized>(error: &E) -> Self {
        ErrorReport {
            error_type: std::any::type_name::<E>().to_owned(),
            message: error.to_string(),
            sources: Vec::new(),
        }
    }

    pub(crate) fn other(error_type: &str, message: &str) -> Self {
        ErrorReport {
            error_type: error_type.to_owned(),
            message: message.to_owned(),
            sources: Vec::new(),
        }
    }
}

/// Level 1: a `Result` whose error is a `std::error::Error`.
pub trait ErrorOfError {
    /// The report, for an `Err`.
    fn __pipetel_error(&self) -> Option<ErrorReport>;
}
impl<T, E: Error> ErrorOfError for &&&&Probe<'_, Result<T, E>> {
    #[inline]
    fn __pipetel_error(&self) -> Option<ErrorReport> {
        self.0.as_ref().err().map(ErrorReport::of_error)
    }
}

/// Level 2: a `Result` whose error is `Display`.
pub trait ErrorOfDisplay {
    /// The report, for an `Err`.
    fn __pipetel_error(&self) -> Option<ErrorReport>;
}
impl<T, E: Display> ErrorOfDisplay for &&&Probe<'_, Result<T, E>> {
    #[inline]
    fn __pipetel_error(&self) -> Option<ErrorReport> {
        self.0.as_ref().err().map(ErrorReport::of_display)
    }
}

/// Level 3: a `Result` whose error is `Debug`.
pub trait ErrorOfDebug {
    /// The report, for an `Err`.
    fn __pipetel_error(&self) -> Option<ErrorReport>;
}
impl<T, E: Debug> ErrorOfDebug for &&Probe<'_, Result<T, E>> {
    #[inline]
    fn __pipetel_error(&self) -> Option<ErrorReport> {
        self.0.as_ref().err().map(|error| ErrorReport {
            error_type: std::any::type_name::<E>().to_owned(),
            message: format!("{error:?}"),
            sources: Vec::new(),
        })
    }
}

/// Level 4: any other `Result`: the type only.
pub trait ErrorOfResult {
    /// The report, for an `Err`.
    fn __pipetel_error(&self) -> Option<ErrorReport>;
}
impl<T, E> ErrorOfResult for &Probe<'_, Result<T, E>> {
    #[inline]
    fn __pipetel_error(&self) -> Option<ErrorReport> {
        self.0.as_ref().err().map(|_| ErrorReport {
            error_type: std::any::type_name::<E>().to_owned(),
            message: String::new(),
            sources: Vec::new(),
        })
    }
}

/// Level 5: not a `Result`: never a failure.
pub trait NoError {
    /// Always `None`.
    fn __pipetel_error(&self) -> Option<ErrorReport>;
}
impl<T: ?Sized> NoError for Probe<'_, T> {
    #[inline]
    fn __pipetel_error(&self) -> Option<ErrorReport> {
        None
    }
}

// The probes are the point: each level needs exactly these references.
#[cfg(test)]
#[allow(clippy::needless_borrow)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Outer(std::num::ParseIntError);
    impl Display for Outer {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("could not read the count")
        }
    }
    impl Error for Outer {
        fn source(&self) -> Option<&(dyn Error + 'static)> {
            Some(&self.0)
        }
    }

    #[derive(Debug)]
    struct OnlyDebug;
    struct Nothing;

    #[test]
    fn each_level_reports_what_the_error_type_offers() {
        let parse = "x".parse::<u8>().unwrap_err();
        let chained: Result<(), Outer> = Err(Outer(parse.clone()));
        let report = (&&&&&Probe(&chained)).__pipetel_error().unwrap();
        assert!(
            report.error_type.ends_with("Outer"),
            "{}",
            report.error_type
        );
        assert_eq!(report.message, "could not read the count");
        assert_eq!(report.sources, [parse.to_string()]);

        let displayed: Result<(), String> = Err("bad row".into());
        let report = (&&&&&Probe(&displayed)).__pipetel_error().unwrap();
        assert_eq!(
            (report.error_type.as_str(), report.message.as_str()),
            ("alloc::string::String", "bad row")
        );

        let debugged: Result<(), OnlyDebug> = Err(OnlyDebug);
        assert_eq!(
            (&&&&&Probe(&debugged)).__pipetel_error().unwrap().message,
            "OnlyDebug"
        );

        let bare: Result<(), Nothing> = Err(Nothing);
        let report = (&&&&&Probe(&bare)).__pipetel_error().unwrap();
        assert!(report.error_type.ends_with("Nothing") && report.message.is_empty());

        let fine: Result<u8, Outer> = Ok(1);
        assert_eq!((&&&&&Probe(&fine)).__pipetel_error(), None);
        assert_eq!((&&&&&Probe(&Some(3))).__pipetel_error(), None);
        assert_eq!((&&&&&Probe(&7u8)).__pipetel_error(), None);
    }
}
