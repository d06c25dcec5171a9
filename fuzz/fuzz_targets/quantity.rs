//! Every typed-number parser on arbitrary UTF-8: none may panic, and what they accept obeys
//! the documented bounds (at most 10 decimals, magnitude at most a billion, positive where a
//! positive value is required).
#![no_main]

use libfuzzer_sys::fuzz_target;
use rust_decimal::Decimal;
use troche::order;
use troche::quantity::{self, Dimension};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let billion = Decimal::from(1_000_000_000);

    if let Ok(v) = quantity::parse_decimal(text) {
        assert!(v.abs() <= billion, "{text:?} -> {v}");
        assert!(v.scale() <= quantity::MAX_INPUT_DECIMALS, "{text:?} -> {v}");
        assert!(!(v.is_zero() && v.is_sign_negative()), "{text:?} -> -0");
    }
    if let Ok(q) = quantity::parse_quantity(text) {
        assert!(q.value > Decimal::ZERO, "{text:?} -> {q}");
        assert!(q.value <= billion, "{text:?} -> {q}");
        let _ = q.in_base();
        let _ = q.to_string();
    }
    if let Ok(d) = quantity::parse_density(text) {
        assert!(d > Decimal::ZERO, "{text:?} -> {d}");
    }
    if let Ok(q) = quantity::parse_mass(text) {
        assert_eq!(q.dimension(), Dimension::Mass, "{text:?}");
    }
    if let Ok(v) = quantity::parse_positive(text, "fuzz") {
        assert!(v > Decimal::ZERO, "{text:?} -> {v}");
    }

    if let Ok(s) = order::parse_strength(text) {
        assert_eq!(s.amount.dimension(), Dimension::Mass, "{text:?}");
        assert!(s.amount.value > Decimal::ZERO, "{text:?}");
    }
    for allow_zero in [false, true] {
        if let Ok(n) = order::parse_count(text, "fuzz", allow_zero) {
            assert!(n <= order::MAX_UNITS, "{text:?} -> {n}");
            assert!(allow_zero || n > 0, "{text:?} -> {n}");
        }
    }
    if let Ok(a) = order::parse_assay(text) {
        assert!(a.percent > Decimal::ZERO && a.percent <= Decimal::from(200), "{text:?}");
    }
    if let Ok(o) = order::parse_overage(text) {
        assert!(o > Decimal::ZERO && o <= Decimal::ONE_HUNDRED, "{text:?}");
    }
    if let Ok(d) = order::parse_date(text) {
        let _ = d.to_string();
    }
    if let Ok(c) = order::parse_component(text) {
        assert!(!c.name.is_empty() && !c.lot.is_empty(), "{text:?}");
    }
    let _ = order::parse_basis(text);

    // Display helpers on whatever number the text holds.
    if let Ok(v) = quantity::parse_decimal(text) {
        let _ = quantity::show(v);
        let _ = quantity::show_mass(v);
    }
});
