//! A plan node's own metrics (`ExecutionPlan::metrics()`) as a pipetel
//! [`EngineMetrics`] source: what DataFusion's `EXPLAIN ANALYZE` shows of the node, in
//! pipetel's snapshot and report.

use std::sync::Arc;
use std::time::Duration;

use datafusion::physical_plan::metrics::MetricValue;
use datafusion::physical_plan::ExecutionPlan;
use pipetel::engine::{EngineMetrics, EngineValue};

/// The metrics of one plan node.
#[derive(Debug)]
pub(crate) struct PlanMetrics(pub(crate) Arc<dyn ExecutionPlan>);

impl EngineMetrics for PlanMetrics {
    fn engine_metrics(&self, emit: &mut dyn FnMut(&str, EngineValue)) {
        let Some(metrics) = self.0.metrics() else {
            return;
        };
        // One value per name, summed over partitions as EXPLAIN ANALYZE shows them.
        for metric in metrics.aggregate_by_name().iter() {
            let value = metric.value();
            let name = value.name();
            match value {
                MetricValue::OutputRows(_)
                | MetricValue::SpillCount(_)
                | MetricValue::SpilledBytes(_)
                | MetricValue::OutputBytes(_)
                | MetricValue::OutputBatches(_)
                | MetricValue::SpilledRows(_)
                | MetricValue::Count { .. }
                | MetricValue::Custom { .. } => {
                    emit(name, EngineValue::Count(value.as_usize() as u64));
                }
                MetricValue::ElapsedCompute(_) | MetricValue::Time { .. } => emit(
                    name,
                    EngineValue::Time(Duration::from_nanos(value.as_usize() as u64)),
                ),
                MetricValue::CurrentMemoryUsage(_) | MetricValue::Gauge { .. } => {
                    emit(name, EngineValue::Gauge(value.as_usize() as u64));
                }
                // What the node's `MemoryReservation` held at most: its own accounting,
                // which the tracking allocator's figures are compared with.
                MetricValue::PeakMemoryUsage { .. } => {
                    emit(name, EngineValue::Reserved(value.as_usize() as u64));
                }
                MetricValue::PruningMetrics {
                    pruning_metrics, ..
                } => {
                    emit(
                        &format!("{name}_pruned"),
                        EngineValue::Count(pruning_metrics.pruned() as u64),
                    );
                    emit(
                        &format!("{name}_matched"),
                        EngineValue::Count(pruning_metrics.matched() as u64),
                    );
                }
                // When the node ran, and ratios: not quantities that add up.
                MetricValue::StartTimestamp(_)
                | MetricValue::EndTimestamp(_)
                | MetricValue::Ratio { .. } => {}
            }
        }
    }
}
