//! Why a document could not be produced.

/// A failure of the document writer. None of these come from the user's input, which the
/// layouts accept whatever it holds; each is a fault of the program or its PDF library.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The document's date cannot be written as a PDF date.
    #[error("invalid document date {year:04}-{month:02}-{day:02}")]
    Date { year: i32, month: u8, day: u8 },

    /// A layout selected a page the canvas does not have.
    #[error("page index {index} is out of range: the canvas has {count} page(s)")]
    PageIndex { index: usize, count: usize },

    /// printpdf reported errors (its messages, joined) while building the document.
    #[error("PDF serialization failed: {0}")]
    Printpdf(String),

    /// The document printpdf built lacks a part the writer sets.
    #[error("the PDF has no valid {0}: {1}")]
    Structure(&'static str, #[source] lopdf::Error),

    /// The PDF could not be written out.
    #[error("the PDF could not be written: {0}")]
    Write(#[source] std::io::Error),
}
