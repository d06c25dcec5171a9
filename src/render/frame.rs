//! The frame text is set in: the one piece of code that knows a page's content area, where
//! the next line box starts, where a line's baseline sits in it, and whether a block fits.
//! The worksheet's page flow (and the filled-in record and master formulation record drawn
//! with it), the label and its auxiliary labels all set wrapped lines through it.
//!
//! What happens when a line does not fit belongs to whoever owns the frame
//! ([`Column::room`]): the worksheet's page flow starts a new page, an auxiliary label starts
//! the next label (a warning is kept whole, [`Frame::breaks_at`]), and the main label sets
//! every line and is refused afterwards if its last line ends below the bottom margin, since
//! a required statement may never move off it.

use super::metrics;
use super::text::{Run, Wrap};

/// Where the baseline of a line of `size` sits in its line box, `lead` tall from `top`: the
/// glyphs centred, so the leading splits evenly above and below. That keeps a worksheet line
/// clear of the box rules and handwriting around it, and leaves a label's tight leading
/// room for accented capitals above and descenders below.
pub(super) fn baseline(top: f32, size: f32, lead: f32) -> f32 {
    top + (lead - size) * 0.5 + size * 0.78
}

/// A page's content area and the position in it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Frame {
    pub(super) left: f32,
    pub(super) right: f32,
    /// Where a fresh page (or label) starts setting lines: below a continuation page's running
    /// header, or an auxiliary label's heading.
    pub(super) top: f32,
    pub(super) bottom: f32,
    /// Top of the next line box.
    pub(super) y: f32,
}

impl Frame {
    /// The area from (`left`, `top`) to (`right`, `bottom`), positioned at its top; `None`
    /// if it has no room (a label stock smaller than its margins, or a size that is not a
    /// number).
    pub(super) fn new(left: f32, top: f32, right: f32, bottom: f32) -> Option<Frame> {
        let usable = [left, top, right, bottom].iter().all(|v| v.is_finite())
            && right > left
            && bottom > top;
        usable.then_some(Frame {
            left,
            right,
            top,
            bottom,
            y: top,
        })
    }

    pub(super) fn width(&self) -> f32 {
        self.right - self.left
    }

    /// Height of the area a page sets lines in.
    pub(super) fn height(&self) -> f32 {
        self.bottom - self.top
    }

    /// Whether nothing has been set on this page yet.
    pub(super) fn at_top(&self) -> bool {
        self.y <= self.top + 0.5
    }

    /// Whether everything set so far ends above the bottom.
    pub(super) fn fits(&self) -> bool {
        self.y <= self.bottom
    }

    /// Whether a block `h` tall started at `y` has to move to a fresh page to be kept whole:
    /// it runs off the bottom, and something is above it (a block taller than a whole page
    /// is started where it is).
    pub(super) fn breaks_at(&self, y: f32, h: f32) -> bool {
        y + h > self.bottom && y > self.top + 0.5
    }

    /// The baseline of a line of `size` in the line box `lead` tall at the current position.
    pub(super) fn baseline(&self, size: f32, lead: f32) -> f32 {
        baseline(self.y, size, lead)
    }
}

/// A frame lines are set down in: a page being drawn, or a label being laid out.
pub(super) trait Column {
    fn frame(&self) -> &Frame;
    fn frame_mut(&mut self) -> &mut Frame;
    /// Whether only the height is wanted: nothing is placed, and a paragraph's lines are
    /// counted, not built.
    fn measuring(&self) -> bool;
    /// Makes room for a line box `lead` tall before it is set: a page flow may start a new
    /// page here; a frame of fixed height does nothing, and its owner checks the height.
    fn room(&mut self, _lead: f32) {}
    /// Sets one line with its first glyph at `x`.
    fn place(&mut self, x: f32, baseline: f32, size: f32, line: Vec<Run>);
}

/// Opens the next line box: makes room for it and returns the baseline of a line of `size`
/// in it.
pub(super) fn open_line<C: Column + ?Sized>(column: &mut C, size: f32, lead: f32) -> f32 {
    column.room(lead);
    column.frame().baseline(size, lead)
}

/// Sets `lines` at `x` one below another, `lead` apart.
pub(super) fn set_lines<C: Column + ?Sized>(
    column: &mut C,
    x: f32,
    (size, lead): (f32, f32),
    lines: impl IntoIterator<Item = Vec<Run>>,
) {
    for line in lines {
        let baseline = open_line(column, size, lead);
        column.place(x, baseline, size, line);
        column.frame_mut().y += lead;
    }
}

/// A paragraph wrapped to `width` and set at `x`, `lead` apart; while measuring, only its
/// lines are counted.
pub(super) fn paragraph<C: Column + ?Sized, T: Wrap + ?Sized>(
    column: &mut C,
    (x, width): (f32, f32),
    (size, lead): (f32, f32),
    text: &T,
) {
    if column.measuring() {
        column.frame_mut().y += metrics::count(text.measure(size, width).0) * lead;
        return;
    }
    set_lines(column, x, (size, lead), text.wrap(size, width));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::text::regular;

    /// A column that records what it was asked to do, breaking to a fresh "page" at 30.
    struct Log {
        frame: Frame,
        measuring: bool,
        calls: Vec<String>,
    }

    impl Column for Log {
        fn frame(&self) -> &Frame {
            &self.frame
        }

        fn frame_mut(&mut self) -> &mut Frame {
            &mut self.frame
        }

        fn measuring(&self) -> bool {
            self.measuring
        }

        fn room(&mut self, lead: f32) {
            if self.frame.breaks_at(self.frame.y, lead) {
                self.calls.push("break".to_owned());
                self.frame.y = self.frame.top;
            }
        }

        fn place(&mut self, x: f32, baseline: f32, size: f32, line: Vec<Run>) {
            let text: String = line.into_iter().map(|(_, t)| t).collect();
            self.calls.push(format!("{x} {baseline:.2} {size} {text}"));
        }
    }

    #[test]
    fn each_line_gets_room_then_its_baseline_then_its_lead() {
        let mut log = Log {
            frame: Frame::new(0.0, 0.0, 100.0, 30.0).unwrap(),
            measuring: false,
            calls: Vec::new(),
        };
        let lines = ["a", "b", "c"].map(|t| vec![regular(t)]);
        set_lines(&mut log, 2.0, (10.0, 12.0), lines);
        // The glyphs are centred: 1 pt of the 2 pt spare goes above.
        assert_eq!(
            log.calls,
            ["2 8.80 10 a", "2 20.80 10 b", "break", "2 8.80 10 c"]
        );
        assert!((log.frame.y - 12.0).abs() < f32::EPSILON);
    }

    #[test]
    fn measuring_a_paragraph_counts_the_lines_it_sets() {
        let text = [regular("one two three four five six seven eight nine ten")];
        let mut heights = [false, true].map(|measuring| {
            let mut log = Log {
                frame: Frame::new(0.0, 0.0, 40.0, 1000.0).unwrap(),
                measuring,
                calls: Vec::new(),
            };
            paragraph(&mut log, (0.0, 40.0), (10.0, 12.0), &text[..]);
            (log.frame.y, log.calls.len())
        });
        assert_eq!(heights[1].1, 0, "measuring places nothing");
        heights[1].1 = heights[0].1;
        assert_eq!(heights[0], heights[1]);
        assert!(heights[0].1 > 2);
        assert!(Frame::new(0.0, 0.0, f32::NAN, 10.0).is_none());
        assert!(Frame::new(9.0, 9.0, 5.0, 10.0).is_none());
    }
}
