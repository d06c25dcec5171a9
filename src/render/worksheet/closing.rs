//! The closing sections: deviations from the master record, complaints and adverse events,
//! and the signatures, kept together so the signatures never stand alone on a page.

use super::{FORM_LEAD, Piece, Sheet, blank};

/// `n` full-width rules to write on.
pub(super) fn ruled(s: &mut Sheet, n: usize) {
    for _ in 0..n {
        s.need(FORM_LEAD);
        let (left, right) = (s.left, s.right);
        let y = s.y + FORM_LEAD - 3.0;
        s.line(left, y, right, y, 0.5);
        s.y += FORM_LEAD;
    }
}

pub(super) fn deviations(s: &mut Sheet) {
    s.section("Deviations from the master formulation record", |s| {
        s.form(&[
            vec![Piece::Check, Piece::Bold("None".into())],
            vec![
                Piece::Check,
                Piece::Text(
                    "Deviations, described below with the reason and their effect on the \
                     preparation"
                        .into(),
                ),
            ],
        ]);
        ruled(s, 4);
        s.gap(2.0);
        s.form(&[
            vec![
                Piece::Bold("Deviation approved by (pharmacist):".into()),
                Piece::Blank(130.0),
            ],
            vec![Piece::Bold("Date:".into()), Piece::Blank(70.0)],
        ]);
    });
}

pub(super) fn complaints(s: &mut Sheet) {
    s.section("Complaints and adverse events", |s| {
        s.form(&[
            vec![Piece::Check, Piece::Bold("None known at release".into())],
            vec![
                Piece::Check,
                Piece::Text(
                    "Reported, described below (date, reporter, what, action taken)".into(),
                ),
            ],
        ]);
        ruled(s, 3);
    });
}

pub(super) fn signatures(s: &mut Sheet) {
    s.section("Signatures", |s| {
        s.cells(
            &[
                blank("Compounded by (print name)", 1.2),
                blank("Signature", 1.3),
                blank("Date", 0.6),
            ],
            32.0,
        );
        s.cells(
            &[
                blank("Verified by pharmacist (print name)", 1.2),
                blank("Signature", 1.3),
                blank("Date", 0.6),
            ],
            32.0,
        );
    });
}
