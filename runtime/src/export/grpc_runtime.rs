//! The one-thread Tokio runtime pipetel's gRPC channels live on, started on first need
//! (so HTTP-only set-ups start none): the user's program needs no async runtime.

/// The runtime of pipetel's gRPC channels; the user's program needs no async runtime.
/// Without the `otlp-grpc` feature it holds nothing and is never entered.
#[derive(Default)]
pub(crate) struct GrpcRuntime(
    #[cfg(feature = "otlp-grpc")] Option<tokio::runtime::Runtime>,
    #[cfg(not(feature = "otlp-grpc"))] (),
);

impl GrpcRuntime {
    /// Stops the runtime (there is none).
    #[cfg(not(feature = "otlp-grpc"))]
    pub(crate) fn shutdown(self) {}
}

#[cfg(feature = "otlp-grpc")]
impl GrpcRuntime {
    /// Runs `build` inside the runtime, starting it first if needed, so that the
    /// channel's background tasks are spawned onto it.
    pub(crate) fn enter<T>(&mut self, build: impl FnOnce() -> T) -> Result<T, String> {
        if self.0.is_none() {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .thread_name("pipetel-grpc")
                .enable_all()
                .build()
                .map_err(|error| format!("cannot start the gRPC export thread: {error}"))?;
            self.0 = Some(runtime);
        }
        let runtime = self.0.as_ref().expect("started above");
        let _context = runtime.enter();
        Ok(build())
    }

    /// Stops the runtime without waiting for its tasks (safe inside an async context).
    pub(crate) fn shutdown(self) {
        if let Some(runtime) = self.0 {
            runtime.shutdown_background();
        }
    }
}
