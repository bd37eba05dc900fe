//! Errors that stop a step as a whole. Failures of single citekeys are not
//! errors: they are recorded in the step's metadata and the step goes on.

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StepError {
    #[error(transparent)]
    Registry(#[from] recto_registry::Error),

    /// Boxed: object_store's errors are large, and this path is cold.
    #[error(transparent)]
    Store(Box<recto_store::StoreError>),

    #[error("nothing to do: {0}")]
    NoInput(String),

    #[error("{}: {reason}", .path.display())]
    Input {
        path: std::path::PathBuf,
        reason: String,
    },
}

impl From<recto_store::StoreError> for StepError {
    fn from(e: recto_store::StoreError) -> Self {
        StepError::Store(Box::new(e))
    }
}
