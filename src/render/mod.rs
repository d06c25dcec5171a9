//! Page drawing for worksheets and labels: font metrics and a top-left-origin PDF canvas.

pub mod canvas;
pub mod label;
pub mod metrics;
#[cfg(test)]
mod test_support;
mod text;
pub mod worksheet;
