//! Errors of the page engine, naming the file, page or languages involved.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OcrError {
    #[error("{}: cannot open as PDF: {reason}", .path.display())]
    Open { path: PathBuf, reason: String },

    #[error("{}: the PDF is encrypted and no password was given", .path.display())]
    Encrypted { path: PathBuf },

    #[error("{}: wrong password for the encrypted PDF", .path.display())]
    WrongPassword { path: PathBuf },

    #[error(
        "{}: the PDF is encrypted; its searchable copy can only be written without encryption, which has to be asked for (with its password)",
        .path.display()
    )]
    EncryptedCopy { path: PathBuf },

    #[error("{}: cannot write the searchable PDF: {reason}", .path.display())]
    Write { path: PathBuf, reason: String },

    #[error("{}: the PDF has no pages", .path.display())]
    NoPages { path: PathBuf },

    #[error("unknown language {languages:?}: {reason}")]
    Language { languages: String, reason: String },

    #[error("Tesseract: {what}")]
    Engine { what: String },

    #[error("recognition failed: {reason}")]
    Recognition { reason: String },

    #[error("page {page}: {reason}")]
    Page { page: usize, reason: String },

    #[error(transparent)]
    File(#[from] recto_fs::FsError),

    /// MuPDF could not do what was asked of a document or page.
    #[error("MuPDF: {reason}")]
    Mupdf { reason: String },

    #[error("JPEG: {reason}")]
    Jpeg { reason: String },

    /// A failure read back from a record (a shard's), where only its
    /// message is kept.
    #[error("{0}")]
    Recorded(String),

    #[error("{}: {source}", .path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}
