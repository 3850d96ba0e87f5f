//! What only the binary knows about this node, which `/admin`, `/readyz` and
//! `/metrics` report: the change-log position each of its indexes covers, and the
//! model whose vectors count as present. The store answers the rest (job runs,
//! the change log, counts), so this trait stays narrow.

use crate::search::BoxError;

/// One index this node searches with, and the change-log position it has applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexWatermark {
    /// `lexical` or `dense`, as shown to operators and in metric labels.
    pub name: String,
    pub watermark: i64,
}

/// Implemented by the binary over its search service. Calls block (they run inside
/// `spawn_blocking`) and must be cheap: `/readyz` asks on every probe.
pub trait NodeStatus: Send + Sync {
    /// Each index and the change-log position it covers.
    fn index_watermarks(&self) -> Result<Vec<IndexWatermark>, BoxError>;

    /// The embedding model whose vectors this node searches with (the papers without
    /// one are the embedding backlog); `None` without a model.
    fn embedding_model(&self) -> Option<String>;
}
