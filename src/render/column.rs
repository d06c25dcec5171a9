//! Setting wrapped text down a column: the one piece of code that places lines of runs one
//! below another, shared by the worksheet (and the filled-in record drawn with it) and the
//! label.
//!
//! A column only knows where its next line box starts. What happens when it runs out of
//! height belongs to whoever owns it: the worksheet's page flow starts a new page, an
//! auxiliary label starts the next label, and the main label sets every line and is refused
//! afterwards if its last line ends below the bottom margin, since a required statement may
//! never move off it.

use super::text::Run;

/// Where a line's baseline sits in its line box.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Baseline {
    /// The glyphs centred in the box: the worksheet's generous leading splits evenly above
    /// and below, which keeps a line clear of the box rules and handwriting around it.
    Centred,
    /// A fixed 0.85 em below the top of the box: room above for accented capitals, and the
    /// rest of the (tight) leading below for descenders, so a label's first line starts as
    /// high as the margin allows.
    Hung,
}

impl Baseline {
    /// The baseline of a line of `size` in the box from `top`, `lead` tall.
    pub(super) fn at(self, top: f32, size: f32, lead: f32) -> f32 {
        match self {
            Baseline::Centred => top + (lead - size) * 0.5 + size * 0.78,
            Baseline::Hung => top + size * 0.85,
        }
    }
}

/// Something lines are set down: a page being drawn, or a label being laid out.
pub(super) trait Column {
    /// Top of the next line box.
    fn top(&self) -> f32;
    /// Makes room for a line box `lead` tall before it is set: a page flow may start a new
    /// page here; a frame of fixed height does nothing and its owner checks the height.
    fn room(&mut self, lead: f32);
    /// Sets one line with its first glyph at `x`.
    fn place(&mut self, x: f32, baseline: f32, size: f32, line: Vec<Run>);
    /// Moves below a line box `lead` tall.
    fn advance(&mut self, lead: f32);
}

/// Opens the next line box: makes room for it and returns the baseline of a line of `size`
/// in it.
pub(super) fn open_line<C: Column + ?Sized>(
    column: &mut C,
    size: f32,
    lead: f32,
    rule: Baseline,
) -> f32 {
    column.room(lead);
    rule.at(column.top(), size, lead)
}

/// Sets `lines` at `x` one below another, `lead` apart.
pub(super) fn set_lines<C: Column + ?Sized>(
    column: &mut C,
    x: f32,
    (size, lead, rule): (f32, f32, Baseline),
    lines: impl IntoIterator<Item = Vec<Run>>,
) {
    for line in lines {
        let baseline = open_line(column, size, lead, rule);
        column.place(x, baseline, size, line);
        column.advance(lead);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::text::regular;

    /// A column that records what it was asked to do, breaking to a fresh "page" at 30.
    #[derive(Default)]
    struct Log {
        y: f32,
        calls: Vec<String>,
    }

    impl Column for Log {
        fn top(&self) -> f32 {
            self.y
        }

        fn room(&mut self, lead: f32) {
            if self.y + lead > 30.0 {
                self.calls.push("break".to_owned());
                self.y = 0.0;
            }
        }

        fn place(&mut self, x: f32, baseline: f32, size: f32, line: Vec<Run>) {
            let text: String = line.into_iter().map(|(_, t)| t).collect();
            self.calls.push(format!("{x} {baseline} {size} {text}"));
        }

        fn advance(&mut self, lead: f32) {
            self.y += lead;
        }
    }

    #[test]
    fn each_line_gets_room_then_its_baseline_then_its_lead() {
        let mut log = Log::default();
        let lines = ["a", "b", "c"].map(|t| vec![regular(t)]);
        set_lines(&mut log, 2.0, (10.0, 12.0, Baseline::Hung), lines);
        assert_eq!(
            log.calls,
            ["2 8.5 10 a", "2 20.5 10 b", "break", "2 8.5 10 c"]
        );
        assert!((log.y - 12.0).abs() < f32::EPSILON);
        // The worksheet's rule centres the glyphs: 1 pt of the 2 pt spare goes above.
        assert!((Baseline::Centred.at(0.0, 10.0, 12.0) - 8.8).abs() < 1e-5);
    }
}
