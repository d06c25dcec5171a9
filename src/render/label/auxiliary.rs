//! Auxiliary labels: what the main label has no room for and the law does not require on
//! it, under a heading naming the Rx and the patient, a warning never split across two.

use crate::config::LabelSize;
use crate::error::{Error, Result};
use crate::render::frame::{Column, Frame, set_lines};
use crate::render::metrics;
use crate::render::text::{Run, Words, Wrap as _, bold};

use super::content::{Content, Prepared};
use super::fit::{Plan, stock};
use super::layout::Flow;
use super::{AUX_HEADING_PT, AUX_SIZES, Item, LEADING, WARNING_PT};

/// The auxiliary labels for what `plan` leaves off the main label (the description, then
/// the warnings), at the largest size that needs no more labels than the smallest size
/// does, with that size; no labels when everything is on the main label.
///
/// # Errors
///
/// `Error::LabelFit` if the stock is too small for even one line of warning below the
/// heading.
pub(super) fn auxiliary_labels(
    text: &Prepared,
    content: &Content,
    size: LabelSize,
    plan: &Plan,
) -> Result<(Option<f32>, Vec<Vec<Item>>)> {
    let mut moved: Vec<&Words> = Vec::new();
    moved.extend(text.description.as_ref().filter(|_| !plan.description));
    moved.extend(text.warnings.get(plan.warnings..).unwrap_or(&[]));
    if moved.is_empty() {
        return Ok((None, Vec::new()));
    }
    let heading = |page: usize, pages: usize| {
        Words::new(&[bold(format!(
            "Auxiliary label {page} of {pages} — Rx {} — {}",
            content.rx,
            content.patient_or_blank()
        ))])
    };
    let paginate = |warning_pt: f32, build: bool| -> Option<Vec<Vec<Item>>> {
        // The heading's height depends on how many labels there are; start from one and
        // settle on a count that agrees with itself.
        let mut pages = 1;
        for _ in 0..4 {
            let laid = aux_pages(&moved, size, warning_pt, &|p| heading(p, pages), build)?;
            if laid.len() == pages {
                return Some(laid);
            }
            pages = laid.len();
        }
        aux_pages(&moved, size, warning_pt, &|p| heading(p, pages), build)
    };
    let counts: Vec<(f32, Option<usize>)> = AUX_SIZES
        .iter()
        .map(|&pt| (pt, paginate(pt, false).map(|p| p.len())))
        .collect();
    let fewest = counts.iter().filter_map(|(_, n)| *n).min();
    let best = counts
        .iter()
        .find(|(_, n)| n.is_some() && *n == fewest)
        .map(|(pt, _)| *pt);
    let laid = best.and_then(|pt| paginate(pt, true).map(|pages| (pt, pages)));
    let Some((pt, pages)) = laid else {
        return Err(Error::LabelFit(format!(
            "the warnings do not fit on an auxiliary label of {} even at {WARNING_PT} pt; \
             use a larger label ([label] width and height in troche.toml)",
            stock(size.width_pt, size.height_pt)
        )));
    };
    Ok((Some(pt), pages))
}
/// Warnings set one after another on auxiliary labels at `warning_pt`, each under its
/// heading; a warning starts a new label rather than break across two, unless it is longer
/// than a whole label. `None` if the heading and one line do not fit on the stock.
fn aux_pages(
    warnings: &[&Words],
    size: LabelSize,
    warning_pt: f32,
    heading: &dyn Fn(usize) -> Words,
    build: bool,
) -> Option<Vec<Vec<Item>>> {
    let lead = warning_pt * LEADING;
    let start = |page: usize| -> Option<Flow> {
        let mut flow = Flow::new(size, build)?;
        flow.para(&heading(page), AUX_HEADING_PT, LEADING);
        flow.rule(AUX_HEADING_PT * 0.3);
        // Warnings are set below the heading.
        flow.frame.top = flow.frame.y;
        (flow.frame.y + lead <= flow.frame.bottom).then_some(flow)
    };
    let flow = start(1)?;
    let mut labels = AuxLabels {
        flow,
        pages: Vec::new(),
        start: &start,
        failed: false,
    };
    for (i, words) in warnings.iter().enumerate() {
        if i > 0 {
            labels.flow.gap(warning_pt * 0.25);
        }
        let lines: Vec<Vec<Run>> = if build {
            words.wrap(warning_pt, labels.flow.width())
        } else {
            vec![Vec::new(); words.measure(warning_pt, labels.flow.width()).0]
        };
        // A warning is kept whole on one label.
        let height = metrics::count(lines.len()) * lead;
        let frame = &labels.flow.frame;
        if frame.breaks_at(frame.y, height) {
            labels.next_label();
        }
        let left = labels.flow.frame.left;
        set_lines(&mut labels, left, (warning_pt, lead), lines);
        if labels.failed {
            return None;
        }
    }
    labels.pages.push(labels.flow.items);
    Some(labels.pages)
}

/// Auxiliary labels being filled: a column that continues on the next label when a line
/// does not fit on this one.
struct AuxLabels<'a> {
    /// The label being filled; its frame's top is below its heading.
    flow: Flow,
    /// The labels filled before it.
    pages: Vec<Vec<Item>>,
    /// A fresh label with its heading, given its number; `None` if no line fits below it.
    start: &'a dyn Fn(usize) -> Option<Flow>,
    /// Whether a label was needed that could not hold a line.
    failed: bool,
}

impl AuxLabels<'_> {
    fn next_label(&mut self) {
        let Some(next) = (self.start)(self.pages.len() + 2) else {
            self.failed = true;
            return;
        };
        let done = std::mem::replace(&mut self.flow, next);
        self.pages.push(done.items);
    }
}

impl Column for AuxLabels<'_> {
    fn frame(&self) -> &Frame {
        &self.flow.frame
    }

    fn frame_mut(&mut self) -> &mut Frame {
        &mut self.flow.frame
    }

    fn measuring(&self) -> bool {
        self.flow.measuring()
    }

    fn room(&mut self, lead: f32) {
        let frame = &self.flow.frame;
        if frame.breaks_at(frame.y, lead) {
            self.next_label();
        }
    }

    fn place(&mut self, x: f32, baseline: f32, size: f32, line: Vec<Run>) {
        self.flow.place(x, baseline, size, line);
    }
}
