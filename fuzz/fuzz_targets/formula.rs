//! Formula files: `troche::formula::parse` on arbitrary text must return Ok or Err, never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(f) = troche::formula::parse(&text, "fuzz") {
        assert!(!f.actives.is_empty());
        assert!(f.mold.cavities >= 1);
        assert!(f.mold.blank_weight > rust_decimal::Decimal::ZERO);
        assert!(f.bud.days >= 1 && f.bud.days <= f.bud.category.max_days());
        let _ = f.schedule();
    }
});
