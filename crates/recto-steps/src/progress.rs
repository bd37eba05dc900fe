//! How steps report progress: a trait the CLI implements with a progress bar
//! (or periodic lines, or nothing), so the steps themselves never print.

/// Progress of one step. All methods have empty defaults.
pub trait Progress: Send + Sync {
    /// Work begins: `items` units (files, pages) and, when known, `bytes`.
    fn begin(&self, _label: &str, _items: u64, _bytes: Option<u64>) {}
    /// Bytes moved.
    fn bytes(&self, _n: u64) {}
    /// One unit finished (`ok` false when it failed).
    fn item_done(&self, _item: &str, _ok: bool) {}
    /// Work ends.
    fn end(&self) {}
}

/// Reports nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoProgress;

impl Progress for NoProgress {}
