//! The controlled-substance report a pharmacist signs (`troche cs report --pdf`): a drug's
//! book lot by lot over a period (opening balance, each movement, closing balance), the
//! discrepancies still open, the finished units of the batches made from it, what the log
//! looked like when the report was drawn, and the signature.
//!
//! The pages are drawn from the report's rows alone, in a landscape table that continues
//! onto as many pages as it needs, its column heads repeated; nothing on them depends on the
//! clock but the signature's date, so the same log, period and signer give the same bytes.

use super::canvas::Canvas;
use super::error::Error;
use super::metrics::Font;
use super::pdf::DocMeta;
use super::text::{doc_date, wrap_text};

/// One line of a lot's (or a batch's) book.
#[derive(Debug, Clone, Default)]
pub struct Line {
    pub event: String,
    pub at: String,
    pub what: String,
    pub into: String,
    pub out: String,
    pub balance: String,
    pub batch: String,
    pub by: String,
    pub witness: String,
    pub note: String,
    /// An opening or closing balance: set in bold.
    pub total: bool,
    /// A discrepancy still open: shaded, so it cannot be missed.
    pub flagged: bool,
}

/// A stock lot's book, or a batch's finished units.
#[derive(Debug, Clone)]
pub struct Book {
    /// "Lot K-78: Ketamine hydrochloride, USP, Medisca, expires 2027-06-30 (g)".
    pub title: String,
    pub lines: Vec<Line>,
}

/// Who signed, and when.
#[derive(Debug, Clone)]
pub struct Signature {
    pub initials: String,
    pub name: String,
    pub role: String,
    pub date: jiff::civil::Date,
}

/// Everything the pages show.
#[derive(Debug, Clone)]
pub struct Report {
    pub pharmacy: Option<String>,
    pub drug: String,
    pub schedule: String,
    pub from: String,
    pub to: String,
    pub lots: Vec<Book>,
    pub units: Vec<Book>,
    /// What the report was drawn from: the log's chain heads and counts.
    pub facts: Vec<(String, String)>,
    pub open_discrepancies: usize,
    pub signature: Signature,
    /// Drawn from the practice log: every page says so, and the signature asked no PIN.
    pub practice: bool,
}

const MARGIN: f32 = 36.0;
const SIZE: f32 = 7.5;
const LEAD: f32 = 9.5;
const HEAD_SIZE: f32 = 14.0;
/// Room kept at the foot of each page for its footer.
const FOOT: f32 = 30.0;

/// The columns: caption, width in points, and whether numbers are set flush right.
const COLUMNS: [(&str, f32, bool); 10] = [
    ("event", 34.0, true),
    ("at", 86.0, false),
    ("what", 92.0, false),
    ("in", 48.0, true),
    ("out", 48.0, true),
    ("balance", 52.0, true),
    ("batch", 58.0, false),
    ("by", 26.0, false),
    ("witness", 34.0, false),
    ("note", 0.0, false),
];

struct Pages {
    canvas: Canvas,
    width: f32,
    height: f32,
    y: f32,
    running: String,
}

impl Pages {
    fn right(&self) -> f32 {
        self.width - MARGIN
    }

    fn bottom(&self) -> f32 {
        self.height - MARGIN - FOOT
    }

    /// A new page when `h` more does not fit on this one.
    fn need(&mut self, h: f32) -> bool {
        if self.y + h <= self.bottom() {
            return false;
        }
        self.canvas.new_page();
        self.y = MARGIN;
        self.canvas.text(
            MARGIN,
            self.y + 8.0,
            Font::HelveticaBold,
            8.0,
            &self.running,
        );
        self.y += 16.0;
        true
    }

    fn para(&mut self, font: Font, size: f32, text: &str) {
        self.para_in(0.0, font, size, text);
    }

    /// A paragraph `inset` points in from both margins.
    fn para_in(&mut self, inset: f32, font: Font, size: f32, text: &str) {
        let width = self.right() - MARGIN - 2.0 * inset;
        for l in wrap_text(font, size, text, width) {
            self.need(size + 3.0);
            self.y += size + 2.0;
            self.canvas.text(MARGIN + inset, self.y, font, size, &l);
        }
        self.y += 2.0;
    }

    fn heading(&mut self, text: &str) {
        self.need(60.0);
        self.y += 20.0;
        self.canvas
            .text(MARGIN, self.y, Font::HelveticaBold, 10.0, text);
        self.y += 4.0;
    }

    fn widths(&self) -> Vec<f32> {
        let fixed: f32 = COLUMNS.iter().map(|c| c.1).sum();
        let rest = (self.right() - MARGIN - fixed).max(40.0);
        COLUMNS
            .iter()
            .map(|c| if c.1 == 0.0 { rest } else { c.1 })
            .collect()
    }

    fn column_heads(&mut self) {
        let widths = self.widths();
        self.canvas
            .fill_rect(MARGIN, self.y, self.right() - MARGIN, LEAD + 2.0, 0.85);
        let mut x = MARGIN;
        for ((caption, _, right), w) in COLUMNS.iter().zip(&widths) {
            if *right {
                self.canvas.text_right(
                    x + w - 3.0,
                    self.y + LEAD - 1.5,
                    Font::HelveticaBold,
                    SIZE,
                    caption,
                );
            } else {
                self.canvas.text(
                    x + 2.0,
                    self.y + LEAD - 1.5,
                    Font::HelveticaBold,
                    SIZE,
                    caption,
                );
            }
            x += w;
        }
        self.y += LEAD + 2.0;
    }

    /// A book: its title, column heads, and its lines, the heads repeated on a new page.
    fn book(&mut self, book: &Book) {
        self.need(14.0 + 3.0 * LEAD);
        self.y += 12.0;
        self.canvas
            .text(MARGIN, self.y, Font::HelveticaBold, 8.5, &book.title);
        self.y += 3.0;
        self.column_heads();
        let widths = self.widths();
        for l in &book.lines {
            let cells = [
                &l.event, &l.at, &l.what, &l.into, &l.out, &l.balance, &l.batch, &l.by, &l.witness,
                &l.note,
            ];
            let font = if l.total || l.flagged {
                Font::HelveticaBold
            } else {
                Font::Helvetica
            };
            let wrapped: Vec<Vec<String>> = cells
                .iter()
                .zip(&widths)
                .map(|(c, w)| wrap_text(font, SIZE, c, w - 5.0))
                .collect();
            let tallest = wrapped.iter().map(Vec::len).max().unwrap_or(1).max(1);
            let h = lines_high(tallest) + 2.0;
            if self.need(h) {
                self.canvas.text(
                    MARGIN,
                    self.y,
                    Font::Helvetica,
                    SIZE,
                    &format!("{} (continued)", book.title),
                );
                self.y += 3.0;
                self.column_heads();
            }
            if l.flagged {
                self.canvas
                    .fill_rect(MARGIN, self.y, self.right() - MARGIN, h, 0.9);
            }
            let mut x = MARGIN;
            for ((lines, w), (_, _, right)) in wrapped.iter().zip(&widths).zip(COLUMNS.iter()) {
                for (i, t) in lines.iter().enumerate() {
                    let y = self.y + lines_high(i + 1) - 1.5;
                    if *right {
                        self.canvas.text_right(x + w - 3.0, y, font, SIZE, t);
                    } else {
                        self.canvas.text(x + 2.0, y, font, SIZE, t);
                    }
                }
                x += w;
            }
            self.y += h;
            self.canvas.line(MARGIN, self.y, self.right(), self.y, 0.25);
        }
    }
}

/// The height of `n` lines of the table.
fn lines_high(n: usize) -> f32 {
    f32::from(u16::try_from(n).unwrap_or(u16::MAX)) * LEAD
}

/// The report's pages, on `paper` (width and height in points) turned to landscape.
pub fn cs_report(r: &Report, paper: (f32, f32)) -> Result<Vec<u8>, Error> {
    let (width, height) = (paper.0.max(paper.1), paper.0.min(paper.1));
    let title = format!(
        "Controlled-substance report: {} (Schedule {})",
        r.drug, r.schedule
    );
    let mut p = Pages {
        canvas: Canvas::new(width, height),
        width,
        height,
        y: MARGIN,
        running: format!("{title}, {} to {}", r.from, r.to),
    };
    if let Some(name) = &r.pharmacy {
        p.y += 9.0;
        p.canvas.text(MARGIN, p.y, Font::Helvetica, 9.0, name);
    }
    p.y += HEAD_SIZE + 2.0;
    p.canvas
        .text(MARGIN, p.y, Font::HelveticaBold, HEAD_SIZE, &title);
    p.y += 4.0;
    p.para(
        Font::Helvetica,
        9.0,
        &format!(
            "Period {} to {} (the events' UTC dates). Lot by lot: the opening balance, every \
             movement with its event number in the log, and the closing balance; then the \
             finished units of the batches made from these lots.",
            r.from, r.to
        ),
    );
    p.para(
        Font::HelveticaBold,
        9.0,
        &if r.open_discrepancies == 0 {
            "Open discrepancies: none.".to_string()
        } else {
            format!(
                "Open discrepancies: {} (shaded below), each flagged until a pharmacist \
                 resolves it with a reason.",
                r.open_discrepancies
            )
        },
    );
    p.heading("Drawn from the log");
    for (k, v) in &r.facts {
        p.need(LEAD);
        p.y += LEAD;
        p.canvas.text(MARGIN, p.y, Font::Helvetica, SIZE, k);
        p.canvas.text(MARGIN + 150.0, p.y, Font::Courier, SIZE, v);
    }
    p.heading("Stock lots");
    for b in &r.lots {
        p.book(b);
    }
    p.heading("Finished units, by batch lot");
    if r.units.is_empty() {
        p.para(
            Font::Helvetica,
            SIZE,
            "No batch was made from these lots by the end of the period.",
        );
    }
    for b in &r.units {
        p.book(b);
    }
    signature(&mut p, r);
    footers(&mut p.canvas, &p.running)?;
    let s = &r.signature;
    let meta = DocMeta {
        title: format!("{title}, {} to {}", r.from, r.to),
        subject: Some(format!("Signed by {} ({})", s.name, s.initials)),
        author: r.pharmacy.clone(),
        date: doc_date(s.date),
        document_id: format!(
            "troche/cs-report/{}/{}/{}/{}",
            r.drug,
            r.from,
            r.to,
            r.facts
                .iter()
                .map(|f| f.1.as_str())
                .collect::<Vec<_>>()
                .join("/")
        ),
    };
    if r.practice {
        p.canvas
            .stamp(&[crate::batch_record::Stamp::Practice.text().as_str()]);
    }
    p.canvas.into_pdf(&meta)
}

fn signature(p: &mut Pages, r: &Report) {
    let s = &r.signature;
    p.need(100.0);
    p.heading("Signature");
    p.y += 4.0;
    let top = p.y;
    let width = p.right() - MARGIN;
    p.y += 4.0;
    p.para_in(
        6.0,
        Font::Helvetica,
        9.0,
        &format!(
            "I have reviewed this report of {} for {} to {}: its balances, movements and \
             open discrepancies.",
            r.drug, r.from, r.to
        ),
    );
    p.para_in(
        6.0,
        Font::HelveticaBold,
        10.0,
        &if r.practice {
            format!(
                "Signed in the practice log by {} ({}), {}, on {}: no PIN is asked in practice.",
                s.name, s.initials, s.role, s.date
            )
        } else {
            format!(
                "Signed electronically by {} ({}), {}, with their PIN, on {}.",
                s.name, s.initials, s.role, s.date
            )
        },
    );
    p.para_in(
        6.0,
        Font::Helvetica,
        SIZE,
        "The signature is entered in the log's stock chain, once for each lot above, as a \
         \"report signed\" event carrying the SHA-256 of this file: `troche stock show LOT` \
         lists it, and `sha256sum` of this file must give the same digest.",
    );
    p.y += 4.0;
    p.canvas.rect(MARGIN, top, width, p.y - top, 0.75);
}

/// "Page n of m" at the foot of every page, once the count is known.
fn footers(canvas: &mut Canvas, running: &str) -> Result<(), Error> {
    let n = canvas.page_count();
    let (w, h) = (canvas.width(), canvas.height());
    for i in 0..n {
        canvas.set_page(i)?;
        canvas.text(MARGIN, h - MARGIN, Font::Helvetica, 7.0, running);
        canvas.text_right(
            w - MARGIN,
            h - MARGIN,
            Font::Helvetica,
            7.0,
            &format!("page {} of {n}", i + 1),
        );
    }
    Ok(())
}
