//! Writes the document printpdf builds as the bytes of a PDF file.
//!
//! lopdf's own writer is general (object streams, encryption, incremental updates) and
//! formats through `dyn Write`, a name byte by byte; for the twenty-odd small objects of a
//! worksheet or label it cost more than laying out the page (profiled: 150,000 instructions
//! a document, 8 % of a batch). This writes the classic form those documents need: objects
//! in id order, a cross-reference table, a trailer. Every `Length` and the trailer's `Size`
//! are written from what is actually there, so they cannot disagree with the file.

use lopdf::{Dictionary, Document, Object, StringFormat};

use super::canvas::{self, push_num};

/// The file for `doc`.
pub fn write(doc: &Document) -> Vec<u8> {
    let streams: usize = doc
        .objects
        .values()
        .filter_map(|o| o.as_stream().ok())
        .map(|s| s.content.len())
        .sum();
    let mut out = Vec::with_capacity(streams + 256 * doc.objects.len() + 1024);
    out.extend_from_slice(b"%PDF-");
    out.extend_from_slice(doc.version.as_bytes());
    // A comment of bytes above 127 tells transfer tools the file is binary.
    out.extend_from_slice(b"\n%\xBB\xAD\xC0\xDE\n");

    let size = doc.objects.keys().map(|&(id, _)| id).max().unwrap_or(0) + 1;
    // (offset, generation) of each object id, `None` for ids not in use.
    let mut offsets: Vec<Option<(usize, u16)>> = vec![None; size as usize];
    for (&(id, generation), object) in &doc.objects {
        if let Some(slot) = offsets.get_mut(id as usize) {
            *slot = Some((out.len(), generation));
        }
        push_uint(&mut out, u64::from(id));
        out.push(b' ');
        push_uint(&mut out, u64::from(generation));
        out.extend_from_slice(b" obj\n");
        object_bytes(&mut out, object);
        out.extend_from_slice(b"\nendobj\n");
    }

    let xref = out.len();
    out.extend_from_slice(b"xref\n0 ");
    push_uint(&mut out, u64::from(size));
    // Every entry is exactly 20 bytes, ending in space and line feed.
    out.extend_from_slice(b"\n0000000000 65535 f \n");
    for entry in offsets.iter().skip(1) {
        match entry {
            Some((offset, generation)) => {
                push_padded(&mut out, *offset as u64, 10);
                out.push(b' ');
                push_padded(&mut out, u64::from(*generation), 5);
                out.extend_from_slice(b" n \n");
            }
            None => out.extend_from_slice(b"0000000000 00000 f \n"),
        }
    }
    out.extend_from_slice(b"trailer\n");
    dictionary(&mut out, &doc.trailer, Some(("Size", u64::from(size))));
    out.extend_from_slice(b"\nstartxref\n");
    push_uint(&mut out, xref as u64);
    out.extend_from_slice(b"\n%%EOF");
    out
}

/// Whether a value written after a name or another value needs a space first (it would
/// otherwise run into the preceding token).
fn starts_with_regular(object: &Object) -> bool {
    matches!(
        object,
        Object::Null
            | Object::Boolean(_)
            | Object::Integer(_)
            | Object::Real(_)
            | Object::Reference(_)
    )
}

fn object_bytes(out: &mut Vec<u8>, object: &Object) {
    match object {
        Object::Null => out.extend_from_slice(b"null"),
        Object::Boolean(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        Object::Integer(i) => {
            if *i < 0 {
                out.push(b'-');
            }
            push_uint(out, i.unsigned_abs());
        }
        Object::Real(r) => push_num(out, *r),
        Object::Name(name) => push_name(out, name),
        Object::String(bytes, StringFormat::Literal) => {
            out.push(b'(');
            for &b in bytes {
                match b {
                    b'(' | b')' | b'\\' => out.extend_from_slice(&[b'\\', b]),
                    b'\r' => out.extend_from_slice(b"\\r"),
                    _ => out.push(b),
                }
            }
            out.push(b')');
        }
        Object::String(bytes, StringFormat::Hexadecimal) => {
            out.push(b'<');
            for &b in bytes {
                out.extend_from_slice(&hex(b));
            }
            out.push(b'>');
        }
        Object::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 && starts_with_regular(item) {
                    out.push(b' ');
                }
                object_bytes(out, item);
            }
            out.push(b']');
        }
        Object::Dictionary(dict) => dictionary(out, dict, None),
        Object::Stream(stream) => {
            dictionary(
                out,
                &stream.dict,
                Some(("Length", stream.content.len() as u64)),
            );
            out.extend_from_slice(b"stream\n");
            out.extend_from_slice(&stream.content);
            out.extend_from_slice(b"\nendstream");
        }
        Object::Reference((id, generation)) => {
            push_uint(out, u64::from(*id));
            out.push(b' ');
            push_uint(out, u64::from(*generation));
            out.extend_from_slice(b" R");
        }
    }
}

/// `dict`, with `count` (a key and a number) written in place of any entry of that key.
fn dictionary(out: &mut Vec<u8>, dict: &Dictionary, count: Option<(&str, u64)>) {
    out.extend_from_slice(b"<<");
    for (key, value) in dict {
        if count.is_some_and(|(k, _)| k.as_bytes() == key.as_slice()) {
            continue;
        }
        push_name(out, key);
        if starts_with_regular(value) {
            out.push(b' ');
        }
        object_bytes(out, value);
    }
    if let Some((key, n)) = count {
        push_name(out, key.as_bytes());
        out.push(b' ');
        push_uint(out, n);
    }
    out.extend_from_slice(b">>");
}

/// A name, with delimiters, white space and bytes outside printable ASCII written as `#xx`
/// (PDF 32000-1, 7.3.5).
fn push_name(out: &mut Vec<u8>, name: &[u8]) {
    out.push(b'/');
    for &b in name {
        if (b'!'..=b'~').contains(&b) && !b"()<>[]{}/%#".contains(&b) {
            out.push(b);
        } else {
            out.push(b'#');
            out.extend_from_slice(&hex(b));
        }
    }
}

/// `b` as two upper-case hexadecimal digits.
fn hex(b: u8) -> [u8; 2] {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    [HEX[usize::from(b >> 4)], HEX[usize::from(b & 15)]]
}

/// `n` in decimal.
fn push_uint(out: &mut Vec<u8>, n: u64) {
    canvas::push_uint(out, n, 0);
}

/// `n` in exactly `width` digits, zero-padded (the cross-reference table's fixed columns).
fn push_padded(out: &mut Vec<u8>, n: u64, width: usize) {
    let mut digits = [b'0'; 20];
    let mut n = n;
    for d in digits[20 - width..].iter_mut().rev() {
        *d = b'0' + (n % 10) as u8;
        n /= 10;
    }
    out.extend_from_slice(&digits[20 - width..]);
}

#[cfg(test)]
mod tests {
    use super::*;
    use lopdf::{Stream, dictionary};

    #[test]
    fn reads_back_with_lopdf_and_every_offset_is_right() {
        let mut doc = Document::with_version("1.3");
        let content = b"BT /F1 9 Tf (a \\(b\\)) Tj ET".to_vec();
        let stream = doc.add_object(Stream::new(dictionary! {}, content.clone()));
        let page = doc.add_object(dictionary! {
            "Type" => "Page",
            "Contents" => stream,
            "MediaBox" => vec![0.into(), 0.into(), 612.5_f32.into(), (-3).into()],
            "Odd name" => Object::Name(b"a b#(c)".to_vec()),
            "Text" => Object::String(b"x (y) \\ z\r".to_vec(), StringFormat::Literal),
            "Hex" => Object::String(vec![0, 0xFE, 0x41], StringFormat::Hexadecimal),
            "Flags" => vec![true.into(), false.into(), Object::Null],
        });
        doc.trailer.set("Root", page);
        let bytes = write(&doc);
        // One character a byte, so that positions in the text are offsets in the file.
        let text: String = bytes
            .iter()
            .map(|&b| if b.is_ascii() { char::from(b) } else { '?' })
            .collect();

        let back = Document::load_mem(&bytes).expect("lopdf reads the file");
        let page = back.get_object((2, 0)).unwrap().as_dict().unwrap();
        assert_eq!(
            page.get(b"Odd name").unwrap().as_name().unwrap(),
            b"a b#(c)"
        );
        assert_eq!(
            page.get(b"Text").unwrap().as_str().unwrap(),
            b"x (y) \\ z\r"
        );
        assert_eq!(
            page.get(b"Hex").unwrap().as_str().unwrap(),
            &[0, 0xFE, 0x41]
        );
        let media = page.get(b"MediaBox").unwrap().as_array().unwrap();
        assert_eq!(media[2].as_float().unwrap().to_bits(), 612.5_f32.to_bits());
        assert_eq!(media[3].as_i64().unwrap(), -3);
        let stream = back.get_object((1, 0)).unwrap().as_stream().unwrap();
        assert_eq!(stream.content, content);
        assert!(text.contains(&format!("/Length {}>>stream\n", content.len())));

        // Each cross-reference entry points at its object's "N 0 obj" line.
        let xref = text.find("xref\n").unwrap();
        let start: usize = text[text.rfind("startxref\n").unwrap() + 10..]
            .lines()
            .next()
            .unwrap()
            .parse()
            .unwrap();
        assert_eq!(start, xref);
        for (id, line) in text[xref..].lines().skip(3).take(2).enumerate() {
            assert_eq!(line.len(), 19, "{line:?}");
            let offset: usize = line[..10].parse().unwrap();
            assert!(text[offset..].starts_with(&format!("{} 0 obj\n", id + 1)));
        }
        assert!(text.ends_with("%%EOF"));
        assert!(text.contains("/Size 3>>"));
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(200))]

        /// Any name, literal or hexadecimal string, integer and real reads back as written.
        #[test]
        fn any_value_reads_back(
            name in proptest::collection::vec(1u8.., 1..40),
            text in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..80),
            hex in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..20),
            int in proptest::prelude::any::<i64>(),
            real in -32767.0f32..32767.0,
            content in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300),
        ) {
            let mut doc = Document::with_version("1.3");
            let stream = doc.add_object(Stream::new(dictionary! {}, content.clone()));
            let mut dict = Dictionary::new();
            dict.set(name.clone(), Object::String(text.clone(), StringFormat::Literal));
            dict.set("Hex", Object::String(hex.clone(), StringFormat::Hexadecimal));
            dict.set("Numbers", vec![int.into(), real.into(), stream.into()]);
            let id = doc.add_object(dict);
            doc.trailer.set("Root", id);
            let back = Document::load_mem(&write(&doc)).expect("lopdf reads the file");
            let d = back.get_object(id).unwrap().as_dict().unwrap();
            proptest::prop_assert_eq!(d.get(&name).unwrap().as_str().unwrap(), &text[..]);
            proptest::prop_assert_eq!(d.get(b"Hex").unwrap().as_str().unwrap(), &hex[..]);
            let numbers = d.get(b"Numbers").unwrap().as_array().unwrap();
            proptest::prop_assert_eq!(numbers[0].as_i64().unwrap(), int);
            proptest::prop_assert_eq!(numbers[1].as_float().unwrap().to_bits(), real.to_bits());
            let s = back.get_object(stream).unwrap().as_stream().unwrap();
            proptest::prop_assert_eq!(&s.content, &content);
        }
    }

    #[test]
    fn unused_ids_are_free_entries() {
        let mut doc = Document::with_version("1.3");
        doc.objects.insert((3, 0), Object::Integer(7));
        let bytes = write(&doc);
        let text = String::from_utf8_lossy(&bytes);
        assert!(text.contains(
            "xref\n0 4\n0000000000 65535 f \n0000000000 00000 f \n0000000000 00000 f \n"
        ));
        assert!(Document::load_mem(&bytes).is_ok());
    }
}
