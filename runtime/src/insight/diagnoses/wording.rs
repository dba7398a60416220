//! How a diagnosis names the operator it is about, and a diagnosis about one.

use crate::insight::snapshot::{Diagnosis, DiagnosisKind, NodeRef, OperatorSnapshot};

/// `scan orders.csv` — how a diagnosis names an operator.
pub(crate) fn label(op: &OperatorSnapshot) -> String {
    format!("{} {}", op.node_type, op.node_id)
}

/// A diagnosis of `kind` about `op`, saying `message`.
pub(crate) fn about(op: &OperatorSnapshot, kind: DiagnosisKind, message: String) -> Diagnosis {
    Diagnosis {
        kind,
        severity: kind.severity(),
        node: Some(NodeRef {
            node_type: op.node_type.clone(),
            node_id: op.node_id.clone(),
        }),
        message,
    }
}
