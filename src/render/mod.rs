//! Page drawing for worksheets, labels and the filled-in record: font metrics, a
//! top-left-origin canvas of printpdf operations, and the PDF writer.

pub mod canvas;
pub mod cs_report;
mod error;
mod font;
mod frame;
pub mod label;
pub mod metrics;
mod pdf;
#[cfg(test)]
mod test_support;
mod text;
pub mod worksheet;

pub use error::Error;
pub use pdf::DocMeta;
