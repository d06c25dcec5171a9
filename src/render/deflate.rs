//! A small, fast zlib (RFC 1950) / DEFLATE (RFC 1951) compressor for PDF content streams.
//!
//! Content streams are long runs of near-identical operator lines (`1 0 0 1 x y Tm`, `re S`),
//! so a greedy LZ77 pass with a one-candidate hash table finds almost every repeat, and
//! Huffman codes fitted once to such streams ([`PRESET_LIT`]) shrink the literals and match
//! codes, written in the same single pass. General-purpose libraries spend most of their
//! time on deeper match searches and on codes fitted to each block, which gain little on
//! this kind of text. The output is a pure function of the input (no clocks, no
//! randomness; what the match table reused on a thread holds of earlier streams counts as
//! empty), so documents stay byte-identical between runs.

// Narrowing casts here are of values DEFLATE itself bounds: symbols below 286, lengths up
// to 258, distances up to 32768, code lengths up to 15, and input positions below 2^32
// (`zlib` stores larger input without matches).
#![allow(clippy::cast_possible_truncation)]
// `i`, `j`, `n`, `c`, `h`, `v` are the customary names in compression code.
#![allow(clippy::many_single_char_names)]

use std::cell::RefCell;
use std::sync::LazyLock;

/// Shortest match worth coding; four bytes are hashed and compared at once.
const MIN_MATCH: usize = 4;
/// Longest match DEFLATE can code.
const MAX_MATCH: usize = 258;
/// Farthest back a match may reach.
const WINDOW: usize = 32 * 1024;
const HASH_BITS: u32 = 13;
/// Positions at the end of a match entered in the table. Indexing every position of
/// every match made the compressor 12 % slower (instructions) for 0.5 % smaller PDFs.
const INSERT_TAIL: usize = 2;

/// Match lengths 3..=258: base length of each length code 257..=285.
const LEN_BASE: [u16; 29] = [
    3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131,
    163, 195, 227, 258,
];
const LEN_EXTRA: [u8; 29] = [
    0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0,
];
const DIST_BASE: [u16; 30] = [
    1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537,
    2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577,
];
const DIST_EXTRA: [u8; 30] = [
    0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13,
    13,
];
/// Order in which the code-length code's lengths are written (RFC 1951, 3.2.7).
const CL_ORDER: [usize; 19] = [
    16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15,
];

/// Length code index (0..29) for each match length 3..=258, indexed by `length - 3`.
const LEN_CODE: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut code = 0;
    while code < 29 {
        let start = LEN_BASE[code] as usize - 3;
        let end = if code == 28 {
            256
        } else {
            LEN_BASE[code + 1] as usize - 3
        };
        let mut i = start;
        while i < end {
            table[i] = code as u8;
            i += 1;
        }
        code += 1;
    }
    // 258 has its own code (285) although 227 + 31 would also reach it.
    table[255] = 28;
    table
};

/// Distance code for distances 1..=256 (`[d - 1]`) and, in the upper half, for longer
/// distances by `256 + ((d - 1) >> 7)`.
const DIST_CODE: [u8; 512] = {
    let mut table = [0u8; 512];
    let mut code = 0;
    while code < 30 {
        let start = DIST_BASE[code] as usize - 1;
        let end = if code == 29 {
            32768
        } else {
            DIST_BASE[code + 1] as usize - 1
        };
        let mut d = start;
        while d < end {
            if d < 256 {
                table[d] = code as u8;
            } else {
                table[256 + (d >> 7)] = code as u8;
            }
            d += if d < 256 { 1 } else { 128 };
        }
        code += 1;
    }
    table
};

fn dist_code(d: u32) -> usize {
    let d = d as usize - 1;
    usize::from(if d < 256 {
        DIST_CODE[d]
    } else {
        DIST_CODE[256 + (d >> 7)]
    })
}

/// zlib-wrapped DEFLATE of `data`, as a PDF `/FlateDecode` filter expects it.
#[must_use]
pub fn zlib(data: &[u8]) -> Vec<u8> {
    // The match table holds positions plus one as `u32`.
    zlib_with(data, u32::try_from(data.len()).is_ok_and(|n| n < u32::MAX))
}

/// [`zlib`], finding repeats only if `matches` (otherwise the data is stored as it is).
fn zlib_with(data: &[u8], matches: bool) -> Vec<u8> {
    let mut out = BitWriter::with_capacity(data.len() / 2 + 256);
    // CMF: deflate, 32 KiB window; FLG: fastest-level hint, header checksum.
    out.put(0x0178, 16);
    if data.is_empty() {
        // One final fixed-Huffman block holding only the end-of-block code (7 zero bits).
        out.put(0b011, 10);
    } else if !matches {
        store(&mut out, data);
    } else {
        TABLE.with_borrow_mut(|table| {
            let n = data.len() as u64;
            if u64::from(table.base) + n + 2 >= u64::from(u32::MAX) {
                // Only after 4 GiB on one thread: start the numbering again.
                table.head.fill(0);
                table.base = 0;
            }
            compress(data, &mut table.head, table.base, &mut out);
            table.base += data.len() as u32 + 1;
        });
    }
    let mut bytes = out.finish();
    bytes.extend_from_slice(&adler32(data).to_be_bytes());
    bytes
}

/// Entries of the match table.
const HASH_SIZE: usize = 1 << HASH_BITS;

/// The match table of a thread: for each hash of four bytes, the latest position that had
/// it, numbered across every stream the thread has compressed (`base` is where the next
/// stream starts). An entry at or below `base` belongs to an earlier stream and counts as
/// empty, so the table never needs clearing and each stream is compressed exactly as with
/// a fresh table: the output depends on the stream alone.
struct Table {
    head: Box<[u32; HASH_SIZE]>,
    base: u32,
}

thread_local! {
    /// Reused between calls on a thread: a worksheet compresses several streams, and a
    /// batch thousands.
    static TABLE: RefCell<Table> = RefCell::new(Table {
        head: Box::new([0; HASH_SIZE]),
        base: 0,
    });
}

/// `data` in stored (uncompressed) blocks of at most 65535 bytes.
fn store(out: &mut BitWriter, data: &[u8]) {
    let mut chunks = data.chunks(0xFFFF).peekable();
    while let Some(chunk) = chunks.next() {
        let last = chunks.peek().is_none();
        out.put(u64::from(last), 3);
        // Pad to a byte boundary, then the length and its complement.
        out.align();
        let len = chunk.len() as u16;
        out.put(u64::from(len) | u64::from(!len) << 16, 32);
        out.align();
        out.bytes.extend_from_slice(chunk);
    }
}

fn read32(data: &[u8], i: usize) -> u32 {
    match data.get(i..i + 4) {
        Some(&[a, b, c, d]) => u32::from_le_bytes([a, b, c, d]),
        _ => 0,
    }
}

fn read64(data: &[u8], i: usize) -> u64 {
    match data.get(i..i + 8) {
        Some(bytes) => {
            let mut b = [0u8; 8];
            b.copy_from_slice(bytes);
            u64::from_le_bytes(b)
        }
        None => 0,
    }
}

/// Length of the common prefix of `data[a..]` and `data[b..]` (`a < b`), at most `max`.
fn common(data: &[u8], a: usize, b: usize, max: usize) -> usize {
    let mut n = 0;
    while n + 8 <= max {
        let diff = read64(data, a + n) ^ read64(data, b + n);
        if diff != 0 {
            return n + (diff.trailing_zeros() / 8) as usize;
        }
        n += 8;
    }
    while n < max && data[a + n] == data[b + n] {
        n += 1;
    }
    n
}

/// Greedy LZ77 parse with a hash table of the latest position of each 4-byte prefix,
/// written out block by block.
/// Code lengths of the literal/length and distance codes every stream is written with.
///
/// A block may carry codes fitted to its own symbols, but working those out, buffering the
/// symbols and sending the codes cost more time than the bytes they save: content streams
/// all look alike. These lengths were fitted once to the LZ77 symbols of the worksheets and
/// labels of 100 generated batch entries (`cargo run --example gen-recipe`), every count
/// raised by one so that any input can still be written. Digits, spaces and the operator
/// letters get 4- to 6-bit codes; bytes above 0x7E, which content streams never contain
/// unescaped, get 15.
#[rustfmt::skip]
const PRESET_LIT: [u8; 286] = [
    15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 7, 15, 15, 15, 15, 15,
    15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15,
    5, 15, 15, 15, 15, 15, 15, 15, 8, 12, 15, 15, 9, 9, 6, 10,
    5, 5, 4, 5, 5, 5, 4, 5, 6, 5, 10, 10, 8, 15, 15, 15,
    15, 10, 8, 7, 7, 7, 7, 15, 15, 15, 15, 15, 10, 10, 13, 15,
    9, 10, 10, 9, 8, 13, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15,
    15, 6, 8, 7, 7, 5, 8, 8, 8, 6, 11, 9, 6, 7, 6, 6,
    8, 11, 6, 6, 6, 7, 9, 8, 10, 8, 15, 15, 15, 15, 15, 15,
    15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15,
    15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15,
    15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15,
    15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15,
    15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15,
    15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15,
    15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15,
    15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15,
    15, 15, 4, 4, 5, 5, 6, 7, 6, 6, 7, 7, 7, 7, 7, 7,
    8, 9, 10, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15,
];
#[rustfmt::skip]
const PRESET_DIST: [u8; 30] = [
    10, 11, 14, 8, 10, 10, 7, 7, 5, 6, 4, 5, 3, 4, 4,
    4, 4, 4, 4, 3, 4, 5, 5, 5, 5, 6, 7, 12, 14, 13,
];

/// The preset codes, ready to write, and the block header that declares them.
struct Preset {
    /// Bit-reversed code and length of each literal/length symbol.
    lit: [(u64, u32); 286],
    /// Bit-reversed code and length of each distance code.
    dist: [(u64, u32); 30],
    /// The header of a dynamic-Huffman block after its first three bits, as writes of
    /// (bits, count).
    header: Vec<(u64, u32)>,
}

static PRESET: LazyLock<Preset> = LazyLock::new(Preset::new);

impl Preset {
    fn new() -> Self {
        let lit_code = canonical(&PRESET_LIT);
        let dist_code = canonical(&PRESET_DIST);
        let mut lit = [(0, 0); 286];
        for (slot, (&code, &len)) in lit.iter_mut().zip(lit_code.iter().zip(&PRESET_LIT)) {
            *slot = (u64::from(code), u32::from(len));
        }
        let mut dist = [(0, 0); 30];
        for (slot, (&code, &len)) in dist.iter_mut().zip(dist_code.iter().zip(&PRESET_DIST)) {
            *slot = (u64::from(code), u32::from(len));
        }
        Preset {
            lit,
            dist,
            header: header(&PRESET_LIT, &PRESET_DIST),
        }
    }
}

/// Greedy LZ77 parse of `data` with a hash table of the latest position of each 4-byte
/// prefix (see [`Table`]; positions are numbered from `base + 1`), written as it goes in one
/// final block with the [`PRESET_LIT`] and [`PRESET_DIST`] codes.
fn compress(data: &[u8], head: &mut [u32; HASH_SIZE], base: u32, out: &mut BitWriter) {
    let preset = &*PRESET;
    let hash = |v: u32| (v.wrapping_mul(0x9E37_79B1) >> (32 - HASH_BITS)) as usize;
    let pos = |i: usize| base + i as u32 + 1;
    out.put(1 | (0b10 << 1), 3);
    for &(bits, count) in &preset.header {
        out.put(bits, count);
    }
    let n = data.len();
    // Positions from which four bytes can be hashed.
    let hashable = n.saturating_sub(MIN_MATCH - 1);
    let mut i = 0;
    while i < hashable {
        let v = read32(data, i);
        let slot = &mut head[hash(v)];
        let seen = *slot;
        *slot = pos(i);
        if seen > base {
            let c = (seen - base - 1) as usize;
            if i - c <= WINDOW && read32(data, c) == v {
                let max = (n - i).min(MAX_MATCH);
                let len = MIN_MATCH + common(data, c + MIN_MATCH, i + MIN_MATCH, max - MIN_MATCH);
                let dist = i - c;
                // Length code and its extra bits (at most 15 + 5 bits), then distance code
                // and its extra bits (at most 15 + 13).
                let lc = usize::from(LEN_CODE[len - 3]);
                let (bits, count) = preset.lit[257 + lc];
                out.put(
                    bits | ((len - usize::from(LEN_BASE[lc])) as u64) << count,
                    count + u32::from(LEN_EXTRA[lc]),
                );
                let dc = dist_code(dist as u32);
                let (bits, count) = preset.dist[dc];
                out.put(
                    bits | ((dist - usize::from(DIST_BASE[dc])) as u64) << count,
                    count + u32::from(DIST_EXTRA[dc]),
                );
                // Index the end of the match so that later repeats can find it; the
                // middle of a match rarely starts another.
                let end = (i + len).min(hashable);
                let mut j = end.saturating_sub(INSERT_TAIL).max(i + 1);
                while j < end {
                    head[hash(read32(data, j))] = pos(j);
                    j += 1;
                }
                i += len;
                continue;
            }
        }
        let (bits, count) = preset.lit[usize::from(data[i])];
        out.put(bits, count);
        i += 1;
    }
    for &byte in data.get(i..).unwrap_or_default() {
        let (bits, count) = preset.lit[usize::from(byte)];
        out.put(bits, count);
    }
    let (bits, count) = preset.lit[256];
    out.put(bits, count);
}

/// The header of a dynamic-Huffman block declaring codes of the given lengths (RFC 1951,
/// 3.2.7), after the block's first three bits, as writes of (bits, count).
fn header(lit_len: &[u8; 286], dist_len: &[u8; 30]) -> Vec<(u64, u32)> {
    let hlit = 257
        + lit_len[257..]
            .iter()
            .rposition(|&l| l != 0)
            .map_or(0, |p| p + 1);
    let hdist = dist_len.iter().rposition(|&l| l != 0).map_or(1, |p| p + 1);
    let mut lengths = Vec::with_capacity(hlit + hdist);
    lengths.extend_from_slice(&lit_len[..hlit]);
    lengths.extend_from_slice(&dist_len[..hdist]);
    // Run-length code the code lengths: (symbol 0..=18, extra bits value).
    let mut runs: Vec<(u8, u8)> = Vec::with_capacity(lengths.len());
    let mut k = 0;
    while k < lengths.len() {
        let l = lengths[k];
        let mut run = 1;
        while k + run < lengths.len() && lengths[k + run] == l {
            run += 1;
        }
        k += run;
        if l == 0 {
            while run >= 11 {
                let r = run.min(138);
                runs.push((18, (r - 11) as u8));
                run -= r;
            }
            if run >= 3 {
                runs.push((17, (run - 3) as u8));
                run = 0;
            }
        } else {
            runs.push((l, 0));
            run -= 1;
            while run >= 3 {
                let r = run.min(6);
                runs.push((16, (r - 3) as u8));
                run -= r;
            }
        }
        for _ in 0..run {
            runs.push((l, 0));
        }
    }
    let mut cl_freq = [0u32; 19];
    for &(s, _) in &runs {
        cl_freq[usize::from(s)] += 1;
    }
    let cl_len = code_lengths(&cl_freq, 7);
    let cl_code = canonical(&cl_len);
    let hclen = 4.max(
        CL_ORDER
            .iter()
            .rposition(|&s| cl_len[s] != 0)
            .map_or(0, |p| p + 1),
    );

    let mut writes = vec![
        ((hlit - 257) as u64, 5),
        ((hdist - 1) as u64, 5),
        ((hclen - 4) as u64, 4),
    ];
    for &s in &CL_ORDER[..hclen] {
        writes.push((u64::from(cl_len[s]), 3));
    }
    for &(s, extra) in &runs {
        let s = usize::from(s);
        writes.push((u64::from(cl_code[s]), u32::from(cl_len[s])));
        match s {
            16 => writes.push((u64::from(extra), 2)),
            17 => writes.push((u64::from(extra), 3)),
            18 => writes.push((u64::from(extra), 7)),
            _ => {}
        }
    }
    writes
}

/// Huffman code lengths for `freq`, none longer than `max_bits`. Always at least two
/// symbols get a code, so every code is complete (some decoders reject a lone code).
fn code_lengths<const N: usize>(freq: &[u32; N], max_bits: usize) -> [u8; N] {
    const MAX_NODES: usize = 2 * 286;
    let mut lengths = [0u8; N];
    // Symbols in use as `frequency << 16 | symbol`, sorted: ascending frequency, ties by
    // symbol, so the result is deterministic.
    let mut syms = [0u64; 286];
    let mut n = 0;
    for (s, &f) in freq.iter().enumerate() {
        if f > 0 && n < syms.len() {
            syms[n] = u64::from(f) << 16 | s as u64;
            n += 1;
        }
    }
    let missing = 2usize.saturating_sub(n);
    for (s, _) in freq
        .iter()
        .enumerate()
        .filter(|&(_, &f)| f == 0)
        .take(missing)
    {
        syms[n] = 1 << 16 | s as u64;
        n += 1;
    }
    let syms = &mut syms[..n];
    syms.sort_unstable();

    // Two-queue Huffman construction over leaves sorted by weight: internal nodes are
    // created in non-decreasing weight order, so the next smallest is at a queue head.
    let mut weight = [0u64; MAX_NODES];
    let mut parent = [0u16; MAX_NODES];
    for (w, s) in weight.iter_mut().zip(syms.iter()) {
        *w = *s >> 16;
    }
    let (mut leaf, mut node) = (0, n);
    for next in n..2 * n - 1 {
        let mut pick = || {
            if leaf < n && (node >= next || weight[leaf] <= weight[node]) {
                leaf += 1;
                leaf - 1
            } else {
                node += 1;
                node - 1
            }
        };
        let a = pick();
        let b = pick();
        weight[next] = weight[a] + weight[b];
        parent[a] = next as u16;
        parent[b] = next as u16;
    }
    // Depths: the root is the last node; parents always come after their children.
    let mut depth = [0u16; MAX_NODES];
    for i in (0..2 * n - 2).rev() {
        depth[i] = depth[usize::from(parent[i])] + 1;
    }
    let mut count = [0usize; 64];
    for &d in &depth[..n] {
        count[usize::from(d).min(63)] += 1;
    }
    // Limit lengths (as miniz does): fold over-long codes into `max_bits`, then lengthen
    // the deepest shorter codes until the Kraft sum is exact again.
    for d in max_bits + 1..64 {
        count[max_bits] += count[d];
        count[d] = 0;
    }
    let mut kraft: u64 = (1..=max_bits)
        .map(|d| (count[d] as u64) << (max_bits - d))
        .sum();
    while kraft > 1 << max_bits {
        count[max_bits] -= 1;
        for d in (1..max_bits).rev() {
            if count[d] > 0 {
                count[d] -= 1;
                count[d + 1] += 2;
                break;
            }
        }
        kraft -= 1;
    }
    // Longest codes to the rarest symbols.
    let mut k = 0;
    for d in (1..=max_bits).rev() {
        for _ in 0..count[d] {
            lengths[(syms[k] & 0xFFFF) as usize] = d as u8;
            k += 1;
        }
    }
    lengths
}

/// Canonical Huffman codes for `lengths`, bit-reversed for DEFLATE's LSB-first packing.
fn canonical<const N: usize>(lengths: &[u8; N]) -> [u16; N] {
    let mut count = [0u16; 16];
    for &l in lengths {
        count[usize::from(l)] += 1;
    }
    count[0] = 0;
    let mut next = [0u16; 16];
    let mut code = 0u16;
    for bits in 1..16 {
        code = (code + count[bits - 1]) << 1;
        next[bits] = code;
    }
    let mut codes = [0u16; N];
    for (s, &l) in lengths.iter().enumerate() {
        if l != 0 {
            let c = next[usize::from(l)];
            next[usize::from(l)] += 1;
            codes[s] = c.reverse_bits() >> (16 - u32::from(l));
        }
    }
    codes
}

/// DEFLATE's bit order: codes and values are packed from the least significant bit.
struct BitWriter {
    bytes: Vec<u8>,
    /// Bits not yet in `bytes`, fewer than 32 between calls.
    acc: u64,
    n: u32,
}

impl BitWriter {
    fn with_capacity(capacity: usize) -> Self {
        BitWriter {
            bytes: Vec::with_capacity(capacity),
            acc: 0,
            n: 0,
        }
    }

    /// Appends the low `count` bits of `bits` (at most 32; no higher bits may be set).
    #[inline]
    fn put(&mut self, bits: u64, count: u32) {
        self.acc |= bits << self.n;
        self.n += count;
        if self.n >= 32 {
            self.bytes
                .extend_from_slice(&(self.acc as u32).to_le_bytes());
            self.acc >>= 32;
            self.n -= 32;
        }
    }

    /// Pads with zero bits to a byte boundary and moves every pending byte to the output.
    fn align(&mut self) {
        while self.n > 0 {
            self.bytes.push(self.acc as u8);
            self.acc >>= 8;
            self.n = self.n.saturating_sub(8);
        }
    }

    /// The output with the last partial byte.
    fn finish(mut self) -> Vec<u8> {
        self.align();
        self.bytes
    }
}

fn adler32(data: &[u8]) -> u32 {
    const MOD: u32 = 65521;
    // 5552 bytes is the most that can be summed before `b` could overflow a u32.
    let (mut a, mut b) = (1u32, 0u32);
    for chunk in data.chunks(5552) {
        // Eight bytes at a time: `b` gains eight times `a` plus the bytes weighted by how
        // many sums they are part of, which is what eight single steps add.
        let mut blocks = chunk.chunks_exact(8);
        for block in &mut blocks {
            let mut sum = 0;
            let mut weighted = 0;
            for (weight, &byte) in (1..=8).rev().zip(block) {
                sum += u32::from(byte);
                weighted += weight * u32::from(byte);
            }
            b += 8 * a + weighted;
            a += sum;
        }
        for &byte in blocks.remainder() {
            a += u32::from(byte);
            b += a;
        }
        a %= MOD;
        b %= MOD;
    }
    (b << 16) | a
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Decoded by lopdf (flate2), the decoder PDF tooling in Rust uses.
    fn inflate(packed: &[u8]) -> Vec<u8> {
        let dict = lopdf::Dictionary::from_iter(vec![(
            "Filter",
            lopdf::Object::Name(b"FlateDecode".to_vec()),
        )]);
        lopdf::Stream::new(dict, packed.to_vec())
            .decompressed_content()
            .expect("valid zlib stream")
    }

    fn noise(len: usize, seed: u32) -> Vec<u8> {
        let mut x = seed;
        (0..len)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                (x >> 24) as u8
            })
            .collect()
    }

    fn check(data: &[u8]) {
        let packed = zlib(data);
        assert_eq!(&packed[..2], &[0x78, 0x01], "zlib header");
        let tail = packed.len() - 4;
        assert_eq!(packed[tail..], adler32(data).to_be_bytes(), "checksum");
        assert_eq!(inflate(&packed), data, "round trip of {} bytes", data.len());
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(300))]

        /// Any bytes, and text built of content-stream pieces (long repeats at every
        /// distance), inflate back to themselves, also when the thread's match table still
        /// holds an earlier stream.
        #[test]
        fn any_input_round_trips(
            bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..3000),
            pieces in proptest::collection::vec(
                proptest::sample::select(vec![
                    "1 0 0 1 ", "40 ", "748 ", "Tm\n", "(Estriol) Tj\n", "re\nS\n", "BT\n",
                    "ET\n", "/F5 9 Tf\n", "0.6 w\n", "q 0.85 g ", "\\(x\\)", "\u{b5}",
                ]),
                0..2000,
            ),
        ) {
            check(&bytes);
            let text: String = pieces.concat();
            check(text.as_bytes());
            check(&bytes);
        }
    }

    #[test]
    fn adler32_matches_the_reference_value() {
        assert_eq!(adler32(b"Wikipedia"), 0x11E6_0398);
        assert_eq!(adler32(b""), 1);
        // Against the definition, byte by byte, across the modulo boundaries.
        for len in [1_usize, 7, 8, 9, 5551, 5552, 5553, 20_000] {
            let data: Vec<u8> = (0..len).map(|i| 255 - (i % 256) as u8).collect();
            let (mut a, mut b) = (1u64, 0u64);
            for &byte in &data {
                a = (a + u64::from(byte)) % 65521;
                b = (b + a) % 65521;
            }
            assert_eq!(u64::from(adler32(&data)), (b << 16) | a, "{len}");
        }
    }

    #[test]
    fn round_trips_edge_cases() {
        check(b"");
        check(b"x");
        check(b"abcabcabcabcabcabcabc");
        check(&vec![0; 100_000]);
        check(&noise(70_000, 7));
        // Short blocks use the fixed codes, whose 9-bit literals only noise exercises.
        for len in [1, 2, 100, 500, 1023, 1500] {
            check(&noise(len, u32::try_from(len).unwrap()));
        }
        for len in 0..300_usize {
            let data: Vec<u8> = (0..len)
                .map(|i| b'a' + u8::try_from(i % 7).unwrap())
                .collect();
            check(&data);
        }
        // Repeats exactly at, and just beyond, the farthest distance DEFLATE can code.
        let block = noise(WINDOW, 3);
        for gap in [0, 1, 5] {
            let mut data = block.clone();
            data.extend(noise(gap, 9));
            data.extend_from_slice(&block[..1000]);
            check(&data);
        }
    }

    #[test]
    fn stores_what_it_cannot_index() {
        for data in [&b"x"[..], &noise(70_000, 11), &noise(0xFFFF, 12)] {
            let packed = zlib_with(data, false);
            assert_eq!(inflate(&packed), data);
            assert_eq!(packed[packed.len() - 4..], adler32(data).to_be_bytes());
        }
    }

    #[test]
    fn round_trips_content_streams_over_many_blocks() {
        let mut content = Vec::new();
        for i in 0..20_000u32 {
            let line = format!(
                "BT\n/F5 9.5 Tf\n1 0 0 1 {} {}.{} Tm\n(Unit {}) Tj\nET\n{} 676 127.67999 28 re\nS\n",
                40 + i % 500,
                700 - i % 650,
                i % 97,
                i,
                i % 300
            );
            content.extend_from_slice(line.as_bytes());
        }
        let packed = zlib(&content);
        assert!(
            packed.len() * 4 < content.len(),
            "{} of {}",
            packed.len(),
            content.len()
        );
        check(&content);
        assert_eq!(zlib(&content), packed, "deterministic");
    }
}
