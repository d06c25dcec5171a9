//! Setting a label's lines in its frame: paragraphs, short fields packed onto lines or set
//! beside a paragraph's last line, the beyond-use date with the storage run in, and the main
//! label in the order the patient reads it.

use crate::config::LabelSize;
use crate::render::frame::{Column, Frame, open_line, paragraph};
use crate::render::metrics;
use crate::render::text::{Run, Words, Wrap as _, regular};

use super::content::Prepared;
use super::fit::{Plan, bud_size, pharmacy_size};
use super::{FIELD_GAP, Item, KEY_LEADING, LEADING, RULE_GAP, WARNING_PT};

/// Quiet zone kept clear at every edge, since label printers do not register exactly
/// (thermal and laser label printers hold about 1 mm): a twenty-fourth of the height
/// (2.1 mm on 2 in stock), within 5 to 9 pt.
pub(super) fn margin(size: LabelSize) -> f32 {
    (size.height_pt / 24.0).clamp(5.0, 9.0)
}

/// Places lines top to bottom in a label's frame, inside its margins, and remembers what it
/// drew. A label never breaks: lines are set below its bottom margin too, and the label is
/// refused (the main label) or continued on the next one (an auxiliary label) by whoever
/// measured it.
pub(super) struct Flow {
    pub(super) frame: Frame,
    pub(super) items: Vec<Item>,
    /// Where each named field of the main label ends, top down, for the message of a label
    /// that does not fit.
    pub(super) marks: Vec<(&'static str, f32)>,
    /// Whether to keep what is laid out; without, only the height is worked out.
    pub(super) build: bool,
}

impl Flow {
    /// A flow over the whole label inside its margins, or `None` if nothing fits on it.
    pub(super) fn new(size: LabelSize, build: bool) -> Option<Flow> {
        let margin = margin(size);
        let frame = Frame::new(
            margin,
            margin,
            size.width_pt - margin,
            size.height_pt - margin,
        )?;
        Some(Flow {
            frame,
            items: Vec::new(),
            marks: Vec::new(),
            build,
        })
    }

    pub(super) fn width(&self) -> f32 {
        self.frame.width()
    }

    /// Notes that the field `name` ends here.
    fn mark(&mut self, name: &'static str) {
        self.marks.push((name, self.frame.y));
    }

    /// Baseline of a single line of `size` at the current position.
    fn baseline(&self, size: f32) -> f32 {
        self.frame.baseline(size, size * LEADING)
    }

    /// A wrapped paragraph; `leading` is the line spacing as a multiple of `size`.
    pub(super) fn para(&mut self, words: &Words, size: f32, leading: f32) {
        let at = (self.frame.left, self.width());
        paragraph(self, at, (size, size * leading), words);
    }

    /// Short fields packed onto as few lines as they fit, spread across each line; a field
    /// never breaks inside unless it is longer than a whole line.
    fn fields(&mut self, groups: &[&(&'static str, Words)], size: f32) {
        let gap = size * FIELD_GAP;
        let mut pending: Vec<(&'static str, Vec<Run>, f32)> = Vec::new();
        for (name, group) in groups {
            let (count, w) = group.measure(size, self.width());
            if count > 1 {
                self.flush(&mut pending, size);
                self.para(group, size, LEADING);
                self.mark(name);
                continue;
            }
            if count == 0 {
                continue;
            }
            let used: f32 = pending.iter().map(|(_, _, w)| w + gap).sum();
            if !pending.is_empty() && used + w > self.width() {
                self.flush(&mut pending, size);
            }
            let line = if self.build {
                group.wrap(size, self.width()).pop().unwrap_or_default()
            } else {
                Vec::new()
            };
            pending.push((name, line, w));
        }
        self.flush(&mut pending, size);
    }

    /// A wrapped paragraph at `size` with line spacing `leading`, with as many of the short
    /// fields from `queue[*next..]` as fit set flush right at `field_size` on the baseline of
    /// its last line, which is most often short; `*next` moves past the fields set.
    fn para_beside(
        &mut self,
        (words, size, leading): (&Words, f32, f32),
        queue: &[&(&'static str, Words)],
        next: &mut usize,
        field_size: f32,
    ) {
        let gap = field_size * FIELD_GAP;
        let (count, last_w) = words.measure(size, self.width());
        let mut placed: Vec<(&'static str, &Words, f32)> = Vec::new();
        let mut used = last_w + gap;
        for (name, field) in queue.get(*next..).unwrap_or(&[]) {
            let (1, w) = field.measure(field_size, self.width()) else {
                break;
            };
            if count == 0 || used + gap + w > self.width() {
                break;
            }
            used += gap + w;
            placed.push((name, field, w));
        }
        *next += placed.len();
        let lead = size * leading;
        if self.build {
            let lines = words.wrap(size, self.width());
            let last = lines.len().saturating_sub(1);
            for (i, line) in lines.into_iter().enumerate() {
                let baseline = open_line(self, size, lead);
                self.place(self.frame.left, baseline, size, line);
                self.frame.y += lead;
                if i == last && !placed.is_empty() {
                    let total: f32 = placed.iter().map(|(_, _, w)| w + gap).sum::<f32>() - gap;
                    let mut x = self.frame.right - total;
                    for (_, field, w) in &placed {
                        let runs = field
                            .wrap(field_size, self.width())
                            .pop()
                            .unwrap_or_default();
                        self.place(x, baseline, field_size, runs);
                        x += w + gap;
                    }
                }
            }
        } else {
            self.frame.y += metrics::count(count) * lead;
        }
        for (name, _, _) in placed {
            self.mark(name);
        }
    }

    /// A one-line lead at `size` (bold, say) with the words of a paragraph at `body_size`
    /// running on after it on the same baseline, as many as fit, and the rest wrapped
    /// below, with fields from `queue` beside its last line as [`Flow::para_beside`] sets
    /// them. A lead longer than a line, or with no room after it, is a paragraph of its own.
    fn run_in(
        &mut self,
        (lead, size): (&Words, f32),
        (body, body_size): (&[String], f32),
        queue: &[&(&'static str, Words)],
        next: &mut usize,
    ) {
        let (count, lead_w) = lead.measure(size, self.width());
        let space = body_size * 0.6;
        let room = self.width() - lead_w - space;
        // The most words of the body that fit beside the lead: a prefix fits if its one
        // line is no wider than the room, and longer prefixes are never narrower.
        let fits = |k: usize| {
            let prefix = Words::new(&[regular(body.get(..k).unwrap_or(&[]).join(" "))]);
            matches!(prefix.measure(body_size, self.width()), (1, w) if w <= room)
        };
        let (mut low, mut high) = (0, body.len());
        if count == 1 && room > 0.0 {
            while low < high {
                let mid = (low + high).div_ceil(2);
                if fits(mid) {
                    low = mid;
                } else {
                    high = mid - 1;
                }
            }
        }
        let beside = if count == 1 { low } else { 0 };
        if count == 1 {
            if self.build {
                let baseline = self.baseline(size);
                let runs = lead.wrap(size, self.width()).pop().unwrap_or_default();
                self.place(self.frame.left, baseline, size, runs);
                if beside > 0 {
                    let words = body.get(..beside).unwrap_or(&[]).join(" ");
                    let runs = Words::new(&[regular(words)])
                        .wrap(body_size, self.width())
                        .pop()
                        .unwrap_or_default();
                    self.place(self.frame.left + lead_w + space, baseline, body_size, runs);
                }
            }
            self.frame.y += size * LEADING;
        } else {
            self.para(lead, size, LEADING);
        }
        self.mark("beyond-use date");
        if beside < body.len() {
            let rest = Words::new(&[regular(body.get(beside..).unwrap_or(&[]).join(" "))]);
            self.para_beside((&rest, body_size, LEADING), queue, next, body_size);
        }
        if !body.is_empty() {
            self.mark("storage");
        }
    }

    /// Sets the pending fields on one line, first flush left, last flush right.
    fn flush(&mut self, pending: &mut Vec<(&'static str, Vec<Run>, f32)>, size: f32) {
        if pending.is_empty() {
            return;
        }
        let n = pending.len();
        let total: f32 = pending.iter().map(|(_, _, w)| w).sum();
        let spacing = if n > 1 {
            (self.width() - total) / metrics::count(n - 1)
        } else {
            0.0
        };
        let baseline = self.baseline(size);
        let mut x = self.frame.left;
        let mut names = Vec::with_capacity(n);
        for (name, runs, w) in pending.drain(..) {
            self.place(x, baseline, size, runs);
            names.push(name);
            x += w + spacing;
        }
        self.frame.y += size * LEADING;
        for name in names {
            self.mark(name);
        }
    }

    /// Vertical space.
    pub(super) fn gap(&mut self, height: f32) {
        self.frame.y += height;
    }

    /// A hairline with `gap` of space above and below.
    pub(super) fn rule(&mut self, gap: f32) {
        self.frame.y += gap;
        if self.build {
            self.items.push(Item::Rule { y: self.frame.y });
        }
        self.frame.y += gap + 0.5;
    }
}

/// A label is a column of fixed height: it makes no room.
impl Column for Flow {
    fn frame(&self) -> &Frame {
        &self.frame
    }

    fn frame_mut(&mut self) -> &mut Frame {
        &mut self.frame
    }

    fn measuring(&self) -> bool {
        !self.build
    }

    fn place(&mut self, x: f32, baseline: f32, size: f32, runs: Vec<Run>) {
        if self.build {
            self.items.push(Item::Line {
                x,
                baseline,
                size,
                runs,
            });
        }
    }
}

/// The main label laid out by `plan`, or `None` if it does not fit. Without `build` only
/// the height is worked out and the flow has no items.
pub(super) fn main_label(
    text: &Prepared,
    size: LabelSize,
    plan: &Plan,
    build: bool,
) -> Option<Flow> {
    let flow = main_flow(text, size, plan, build)?;
    flow.frame.fits().then_some(flow)
}

/// The main label laid out by `plan` whether or not it fits, with where each field ends;
/// `None` only if the stock has no room inside its margins.
pub(super) fn main_flow(
    text: &Prepared,
    size: LabelSize,
    plan: &Plan,
    build: bool,
) -> Option<Flow> {
    let mut flow = Flow::new(size, build)?;
    let (key, detail) = (plan.key, plan.detail);

    // The particulars go flush right beside the last line of the pharmacy's line, the
    // patient, the strength, the directions and the storage where there is room (the space
    // a label would otherwise waste), and the rest on lines of their own.
    let queue: Vec<&(&'static str, Words)> = text.details.iter().collect();
    let mut next = 0;
    let small = pharmacy_size(detail);
    let [full, address, phone] = &text.pharmacy;
    if full.measure(small, flow.width()).0 <= 1 {
        flow.para_beside((full, small, LEADING), &queue, &mut next, detail);
    } else {
        flow.para(address, small, LEADING);
        flow.para_beside((phone, small, LEADING), &queue, &mut next, detail);
    }
    flow.mark("pharmacy's name, address and phone");
    flow.rule(detail * RULE_GAP);

    flow.para_beside((&text.patient, key, KEY_LEADING), &queue, &mut next, detail);
    flow.mark("patient");
    for s in &text.strengths {
        flow.para_beside((s, key, KEY_LEADING), &queue, &mut next, detail);
    }
    flow.mark("drug and strength");
    flow.para_beside(
        (&text.directions, key, KEY_LEADING),
        &queue,
        &mut next,
        detail,
    );
    flow.mark("directions");
    let bud = (&text.bud, bud_size(detail));
    flow.run_in(bud, (&text.storage, detail), &queue, &mut next);
    flow.fields(queue.get(next..).unwrap_or(&[]), detail);
    if let Some(description) = text.description.as_ref().filter(|_| plan.description) {
        flow.para(description, detail, LEADING);
    }

    // The pointer to the auxiliary label runs on after the last warning on the main label,
    // or stands alone when there is none.
    let warnings = text.warnings.get(..plan.warnings).unwrap_or(&[]);
    let pointer = plan
        .needs_aux(text)
        .then(|| usize::from(plan.description || text.description.is_none()) + 1);
    // The federal warning, in bold, starts its own line right after the storage conditions.
    if let Some(federal) = &text.federal {
        let with = if warnings.is_empty() { pointer } else { None };
        flow.para(&federal[with.unwrap_or(0)], detail, LEADING);
        flow.mark("federal transfer warning");
        if with.is_some() {
            flow.mark("pointer to the auxiliary label");
        }
    }
    if !warnings.is_empty() {
        flow.rule(detail * RULE_GAP);
    }
    for w in warnings {
        flow.para(w, WARNING_PT, LEADING);
    }
    if let Some(pointer) = pointer.filter(|_| !warnings.is_empty() || text.federal.is_none()) {
        flow.para(&text.see_aux[pointer - 1], detail, LEADING);
        flow.mark("pointer to the auxiliary label");
    }
    // The last line box ends at `y`; its descenders stay inside it.
    Some(flow)
}
