//! Order files: `troche::order::parse_file` on arbitrary text must return Ok or Err, never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok((_formula, order)) = troche::order::parse_file(&text, "fuzz") {
        assert!(order.quantity <= troche::order::MAX_UNITS);
        assert!(order.refills.is_none_or(|r| r <= 99));
    }
});
