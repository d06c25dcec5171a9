//! Rich text for the worksheet and the label: runs of mixed fonts, word wrapping that
//! measures with the Core14 metrics, and the small formatting rules both documents share.

use std::borrow::Cow;

use super::canvas::Canvas;
use super::metrics::{self, Font};

/// What a missing order field prints as, so it is filled in by hand rather than forgotten.
pub(super) const BLANK: &str = "__________";
/// Float sums of glyph widths may differ in the last bit from a single measurement; wrapping
/// this much short of the limit keeps every line strictly inside it.
const WIDTH_SLACK_PT: f32 = 0.01;

/// One line segment in a single font; lines mix bold labels with regular values.
pub(super) type Run = (Font, String);

/// Word-wraps runs of mixed fonts into lines no wider than `width_pt`.
///
/// Words are separated by single spaces (runs of whitespace, line breaks included, are not
/// meaningful in the fields this wraps); a word wider than the line is broken between
/// characters. Each returned line is a list of runs whose drawn
/// widths, measured with [`metrics::text_width`], sum to at most `width_pt` (only a single
/// character wider than the whole line can exceed it). Empty input gives no lines.
pub(super) fn wrap_runs(runs: &[Run], size_pt: f32, width_pt: f32) -> Vec<Vec<Run>> {
    with_words(runs, |words| wrap_words(words, size_pt, width_pt))
}

/// Lines of `text` in one font, wrapped as [`wrap_runs`] wraps them, ready to draw.
pub(super) fn wrap_text(font: Font, size_pt: f32, text: &str, width_pt: f32) -> Vec<String> {
    wrap_runs(&[(font, text.to_owned())], size_pt, width_pt)
        .into_iter()
        .map(|line| line.into_iter().map(|(_, text)| text).collect())
        .collect()
}

/// Runs split into words that are converted to `WinAnsi` and measured once, so that text
/// can be wrapped at many sizes (the label tries several) without doing either again.
#[derive(Debug, Clone, Default)]
pub(super) struct Words {
    /// The converted words, one after another.
    text: String,
    /// Font, byte range in `text`, and advance width in 1/1000 em of each word.
    words: Vec<(Font, usize, usize, u64)>,
}

impl Words {
    pub(super) fn new(runs: &[Run]) -> Self {
        let len: usize = runs.iter().map(|(_, t)| t.len()).sum();
        let mut text = String::with_capacity(len);
        let mut words = Vec::with_capacity(len / 4 + 1);
        for (font, run) in runs {
            for word in metrics::winansi(run).split_whitespace() {
                let start = text.len();
                text.push_str(word);
                words.push((*font, start, text.len(), metrics::units(*font, word)));
            }
        }
        Words { text, words }
    }

    fn iter(&self) -> impl Iterator<Item = (Font, &str, u64)> {
        self.words.iter().map(|&(font, start, end, units)| {
            (font, self.text.get(start..end).unwrap_or(""), units)
        })
    }
}

/// Text that wraps: runs as they come, or [`Words`] prepared once for many sizes.
pub(super) trait Wrap {
    /// The lines [`wrap_runs`] gives.
    fn wrap(&self, size_pt: f32, width_pt: f32) -> Vec<Vec<Run>>;
    /// What [`Wrap::wrap`] would give without building it: the number of lines, and the
    /// [`runs_width`] of the last one.
    fn measure(&self, size_pt: f32, width_pt: f32) -> (usize, f32);
}

impl Wrap for [Run] {
    fn wrap(&self, size_pt: f32, width_pt: f32) -> Vec<Vec<Run>> {
        wrap_runs(self, size_pt, width_pt)
    }

    fn measure(&self, size_pt: f32, width_pt: f32) -> (usize, f32) {
        with_words(self, |words| measure_words(words, size_pt, width_pt))
    }
}

impl Wrap for Words {
    fn wrap(&self, size_pt: f32, width_pt: f32) -> Vec<Vec<Run>> {
        wrap_words(self.iter(), size_pt, width_pt)
    }

    fn measure(&self, size_pt: f32, width_pt: f32) -> (usize, f32) {
        measure_words(self.iter(), size_pt, width_pt)
    }
}

/// Runs `f` over the words of `runs`, each converted to `WinAnsi` and measured once in font
/// units: (font, word, width).
fn with_words<R>(
    runs: &[Run],
    f: impl FnOnce(&mut dyn Iterator<Item = (Font, &str, u64)>) -> R,
) -> R {
    let converted: Vec<(Font, Cow<'_, str>)> = runs
        .iter()
        .map(|(font, text)| (*font, metrics::winansi(text)))
        .collect();
    let mut words = converted.iter().flat_map(|(font, text)| {
        text.split_whitespace()
            .map(|word| (*font, word, metrics::units(*font, word)))
    });
    f(&mut words)
}

/// What [`wrap_words`] would give without building it: the number of lines, and the
/// [`runs_width`] of the last one.
fn measure_words<'a>(
    words: impl Iterator<Item = (Font, &'a str, u64)>,
    size_pt: f32,
    width_pt: f32,
) -> (usize, f32) {
    let mut count = Count {
        size_pt,
        lines: 0,
        last: 0.0,
        finished: 0.0,
        open: None,
    };
    break_lines(words, size_pt, width_pt, &mut count);
    (count.lines, count.last)
}

/// The lines of converted words with their widths in 1/1000 em, as [`wrap_runs`] gives them.
fn wrap_words<'a>(
    words: impl Iterator<Item = (Font, &'a str, u64)>,
    size_pt: f32,
    width_pt: f32,
) -> Vec<Vec<Run>> {
    let mut build = Build::default();
    break_lines(words, size_pt, width_pt, &mut build);
    build.lines
}

/// What the line breaking makes of the words it places: [`Build`] builds the lines, [`Count`]
/// only counts them and measures the last, so measuring and wrapping cannot disagree.
trait Lines {
    /// Adds a word (after a space, if `space`), `units` wide with that space, to the line.
    fn push(&mut self, font: Font, space: bool, word: &str, units: u64);
    /// A piece of a word too wide for any line, on a line of its own.
    fn piece(&mut self, font: Font, piece: String);
    /// Ends the line.
    fn end(&mut self);
}

/// The one word wrapper: greedy line breaking of converted words, each with its width in
/// 1/1000 em; a word wider than the line is broken between characters.
fn break_lines<'a>(
    words: impl Iterator<Item = (Font, &'a str, u64)>,
    size_pt: f32,
    width_pt: f32,
    lines: &mut impl Lines,
) {
    let limit = width_pt - WIDTH_SLACK_PT;
    // The width of the line so far, when it has anything on it.
    let mut used: Option<f32> = None;
    for (font, word, units) in words {
        if let Some(so_far) = used {
            // As wide as " word" measured on its own: widths are exact integer sums.
            let spaced = metrics::char_units(font, ' ') + units;
            let w = metrics::units_to_pt(spaced, size_pt);
            if so_far + w <= limit {
                lines.push(font, true, word, spaced);
                used = Some(so_far + w);
                continue;
            }
            lines.end();
        }
        let w = metrics::units_to_pt(units, size_pt);
        if w <= limit {
            lines.push(font, false, word, units);
            used = Some(w);
            continue;
        }
        let mut pieces = metrics::break_word(font, size_pt, word, limit);
        let last = pieces.pop().unwrap_or_default();
        for piece in pieces {
            lines.piece(font, piece);
        }
        let last_units = metrics::units(font, &last);
        lines.push(font, false, &last, last_units);
        used = Some(metrics::units_to_pt(last_units, size_pt));
    }
    if used.is_some() {
        lines.end();
    }
}

/// Lines built as runs, a run per change of font.
#[derive(Default)]
struct Build {
    lines: Vec<Vec<Run>>,
    line: Vec<Run>,
}

impl Lines for Build {
    fn push(&mut self, font: Font, space: bool, word: &str, _units: u64) {
        match self.line.last_mut() {
            Some((f, t)) if *f == font => {
                if space {
                    t.push(' ');
                }
                t.push_str(word);
            }
            _ => {
                // Room for the rest of the line, so that it does not grow by copying.
                let mut t = String::with_capacity(metrics::LINE_CAPACITY.max(word.len() + 1));
                if space {
                    t.push(' ');
                }
                t.push_str(word);
                self.line.push((font, t));
            }
        }
    }

    fn piece(&mut self, font: Font, piece: String) {
        self.lines.push(vec![(font, piece)]);
    }

    fn end(&mut self) {
        self.lines.push(std::mem::take(&mut self.line));
    }
}

/// Lines counted, and the last one measured as [`runs_width`] measures it: the widths of
/// its runs summed in order.
struct Count {
    size_pt: f32,
    lines: usize,
    last: f32,
    /// Widths of the current line's finished runs.
    finished: f32,
    /// The font and units of the run being extended.
    open: Option<(Font, u64)>,
}

impl Lines for Count {
    fn push(&mut self, font: Font, _space: bool, _word: &str, units: u64) {
        match &mut self.open {
            Some((f, u)) if *f == font => *u += units,
            _ => {
                if let Some((_, u)) = self.open {
                    self.finished += metrics::units_to_pt(u, self.size_pt);
                }
                self.open = Some((font, units));
            }
        }
    }

    fn piece(&mut self, _font: Font, _piece: String) {
        self.lines += 1;
    }

    fn end(&mut self) {
        let open = self
            .open
            .take()
            .map_or(0.0, |(_, u)| metrics::units_to_pt(u, self.size_pt));
        self.last = self.finished + open;
        self.finished = 0.0;
        self.lines += 1;
    }
}

/// Drawn width of one wrapped line, the way [`draw_runs`] advances along it.
#[cfg(test)]
pub(super) fn runs_width(line: &[Run], size_pt: f32) -> f32 {
    line.iter()
        .map(|(f, t)| metrics::text_width(*f, size_pt, t))
        .sum()
}

/// Draws one wrapped line starting at `x`; returns the x where it ends.
pub(super) fn draw_runs(
    canvas: &mut Canvas,
    x: f32,
    baseline: f32,
    size_pt: f32,
    line: &[Run],
) -> f32 {
    let mut x = x;
    for (font, text) in line {
        x += canvas.text(x, baseline, *font, size_pt, text);
    }
    x
}

/// Dates on both documents are ISO 8601: "2027-05-22" cannot be read as 5 Feb or 22 May by
/// mistake, which a numeric US or European date can.
pub(super) fn date(d: jiff::civil::Date) -> String {
    d.to_string()
}

/// A value from the order, or a blank to fill in by hand.
pub(super) fn or_blank(value: Option<&str>) -> String {
    match value.map(str::trim) {
        Some(v) if !v.is_empty() => v.to_owned(),
        _ => BLANK.to_owned(),
    }
}

/// A run in Helvetica Bold.
pub(super) fn bold(text: impl Into<String>) -> Run {
    (Font::HelveticaBold, text.into())
}

/// A run in Helvetica.
pub(super) fn regular(text: impl Into<String>) -> Run {
    (Font::Helvetica, text.into())
}

/// Splits a strength line "X 50 mg per troche (basis)" so the drug and strength can be bold
/// and the basis, which qualifies it, regular. Names hold parentheses of their own
/// ("Estriol, USP (micronized)"), also inside the basis, so the basis is the parenthesis
/// that closes at the end of the line.
pub(super) fn strength_runs(line: &str) -> Vec<Run> {
    let mut depth = 0usize;
    let mut open = None;
    if line.ends_with(')') {
        for (i, c) in line.char_indices().rev() {
            match c {
                ')' => depth += 1,
                '(' => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        open = Some(i);
                        break;
                    }
                }
                _ => {}
            }
        }
    }
    match open {
        Some(i) if i > 0 && line[..i].ends_with(' ') => {
            vec![bold(line[..i].trim_end()), regular(&line[i..])]
        }
        _ => vec![bold(line)],
    }
}

/// The record's date as the canvas wants it; jiff's ranges always fit.
pub(super) fn doc_date(d: jiff::civil::Date) -> (i32, u8, u8) {
    (
        i32::from(d.year()),
        u8::try_from(d.month()).unwrap_or(1),
        u8::try_from(d.day()).unwrap_or(1),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn measuring_agrees_with_wrapping() {
        let texts = [
            "Place one troche between the cheek and gum supercalifragilisticexpialidocious",
            "a",
            "",
            "  spaced   out  ",
            "Dr. Ana Ruiz, MD · Phone (217) 555-0100 ≥ 5 µg",
            "WWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWW x",
        ];
        for (i, a) in texts.iter().enumerate() {
            for b in &texts[i..] {
                let words = Words::new(&[bold(*a), regular(*b), bold("•"), regular(*a)]);
                for width in [3.0, 20.0, 55.5, 100.0, 276.0, 1000.0] {
                    for size in [6.0, 6.25, 7.5, 9.75, 10.0, 12.0] {
                        let lines = words.wrap(size, width);
                        let (count, last) = words.measure(size, width);
                        assert_eq!(count, lines.len(), "{a:?} {b:?} {width} {size}");
                        let expected = lines.last().map_or(0.0, |l| runs_width(l, size));
                        assert_eq!(
                            last.to_bits(),
                            expected.to_bits(),
                            "{a:?} {b:?} {width} {size}"
                        );
                        assert_eq!(
                            lines,
                            wrap_runs(
                                &[bold(*a), regular(*b), bold("•"), regular(*a)],
                                size,
                                width
                            )
                        );
                    }
                }
            }
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]

        #[test]
        fn wrapped_lines_fit_and_keep_every_word(
            text in "[a-zA-Zµ°±×–0-9 \n]{0,120}",
            max_width in 1.0f32..300.0,
            size in 4.0f32..30.0,
            font_index in 0usize..3,
        ) {
            let font = [Font::Helvetica, Font::HelveticaBold, Font::Courier][font_index];
            let lines = wrap_text(font, size, &text, max_width);
            for line in &lines {
                let width = metrics::text_width(font, size, line);
                proptest::prop_assert!(
                    width <= max_width || line.chars().count() == 1,
                    "{:?} is {} wide, more than {}", line, width, max_width
                );
            }
            let squeeze = |s: &str| s.chars().filter(|c| !c.is_whitespace()).collect::<String>();
            proptest::prop_assert_eq!(squeeze(&lines.concat()), squeeze(&text));
        }
    }

    #[test]
    fn wrap_runs_keeps_lines_within_width() {
        let runs = vec![
            bold("Directions:"),
            regular(
                "Place one troche between the cheek and gum supercalifragilisticexpialidocious",
            ),
        ];
        for width in [20.0, 55.5, 100.0, 300.0] {
            for line in wrap_runs(&runs, 8.0, width) {
                assert!(runs_width(&line, 8.0) <= width, "{line:?} at {width}");
            }
        }
        assert!(wrap_runs(&[regular("  ")], 8.0, 100.0).is_empty());
        assert_eq!(
            strength_runs(
                "Estriol, USP (micronized) 1.6 mg per troche (strength of Estriol, USP (micronized) as weighed)"
            ),
            vec![
                bold("Estriol, USP (micronized) 1.6 mg per troche"),
                regular("(strength of Estriol, USP (micronized) as weighed)")
            ]
        );
        assert_eq!(strength_runs("X 5 mg (a"), vec![bold("X 5 mg (a")]);
        assert_eq!(strength_runs("(a)"), vec![bold("(a)")]);
        assert_eq!(strength_runs("a)"), vec![bold("a)")]);
    }
}
