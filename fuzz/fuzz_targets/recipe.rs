//! Recipe files: `troche::recipe::parse` on arbitrary text must return Ok or Err, never panic,
//! and the shared balance, when the header has one, must read without panicking either.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(r) = troche::recipe::parse(&text, Path::new("fuzz.toml")) {
        assert!(!r.entries.is_empty());
        for (i, e) in r.entries.iter().enumerate() {
            assert_eq!(e.index, i + 1);
            assert!(e.line >= 1);
        }
        let _ = r
            .shared
            .balance(troche::calc::Balance::default(), "fuzz.toml");
    }
});
