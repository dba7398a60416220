//! Work a node does in tasks it spawns itself, counted as that node's.
//!
//! DataFusion runs some of a node's work outside the node's own `poll_next`: a
//! `SortExec` sorts each run in a task of its own (`spawn_buffered`), a
//! `RepartitionExec` hashes its input in tasks that feed its output channels. Every such
//! task goes through DataFusion's `SpawnedTask` / `JoinSet`, which hands it to the
//! process's [`JoinSetTracer`]: this one notes the node running where the task was
//! spawned (the thread's current pipetel operator) and polls the task inside that
//! operator's scope ([`Operator::in_scope`]), wherever it runs. The node's children,
//! polled from the task, still count their own time (a nested segment), so busy times
//! stay exclusive and add up.
//!
//! DataFusion takes one tracer per process: when another was set first (a tracing
//! integration), it stays, and spawned work is counted for no node, as without this.

use std::any::Any;
use std::future::Future;
use std::pin::Pin;
use std::sync::Once;
use std::task::{Context, Poll};

use datafusion::common::runtime::{set_join_set_tracer, JoinSetTracer};
use pipetel::Operator;

/// What DataFusion hands its tracer (the `futures` crate's `BoxFuture`).
type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

/// Makes this module's tracer DataFusion's, once per process.
pub(crate) fn install() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        // Another tracer set first stays (see the module docs).
        let _ = set_join_set_tracer(&SpawnedWork);
    });
}

/// The tracer: each spawned future or closure runs in the scope of the operator that
/// spawned it.
struct SpawnedWork;

impl JoinSetTracer for SpawnedWork {
    fn trace_future(
        &self,
        future: BoxFuture<Box<dyn Any + Send>>,
    ) -> BoxFuture<Box<dyn Any + Send>> {
        match pipetel::current_operator().operator() {
            Some(operator) => Box::pin(InScope { operator, future }),
            None => future,
        }
    }

    fn trace_block(
        &self,
        work: Box<dyn FnOnce() -> Box<dyn Any + Send> + Send>,
    ) -> Box<dyn FnOnce() -> Box<dyn Any + Send> + Send> {
        match pipetel::current_operator().operator() {
            Some(operator) => Box::new(move || operator.in_scope(work)),
            None => work,
        }
    }
}

/// A spawned future polled in its operator's scope.
struct InScope {
    operator: Operator,
    future: BoxFuture<Box<dyn Any + Send>>,
}

impl Future for InScope {
    type Output = Box<dyn Any + Send>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        let operator = this.operator;
        operator.in_scope(|| this.future.as_mut().poll(cx))
    }
}
