//! The deterministic generator: a SplitMix64 stream, the pools of TOML literals the mutations
//! draw from, and a TOML document model that knows the line of every key.

/// SplitMix64: a fixed, dependency-free stream (the case sequence never changes).
pub struct Rng(u64);

impl Rng {
    /// A stream from `seed`.
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    /// The next 64 random bits.
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in 0..n (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        ((self.next() >> 11) as f64 / (1u64 << 53) as f64) < p
    }

    /// One element of `v`.
    pub fn pick<'a, T>(&mut self, v: &'a [T]) -> &'a T {
        &v[self.below(v.len() as u64) as usize]
    }
}

/// Float literals: the edges of every range the engines check, non-finite values, signs.
pub const FLOATS: &[&str] = &[
    "nan",
    "+inf",
    "-inf",
    "1e300",
    "-1e300",
    "1e12",
    "4294967.295",
    "4294967.2955",
    "4294967.296",
    "-1.0",
    "-0.0",
    "0.0",
    "5e-324",
    "1e-9",
    "2.7777e-7",
    "2.7778e-7",
    "1e6",
    "1e6.5",
    "1000001.0",
    "1e9",
    "1000000001.0",
    "1e10",
    "60000.0",
    "60000.1",
    "1000.0",
    "1000.5",
    "0.5",
    "1.0",
    "100.0",
    "3000.0",
    "0.001",
    "70.0",
];

/// Integer literals: zero, the engines' limits, u32 and i64 edges, negatives.
pub const INTS: &[&str] = &[
    "0",
    "1",
    "2",
    "3",
    "4",
    "5",
    "7",
    "13",
    "128",
    "129",
    "500",
    "1000",
    "100000",
    "4000000000",
    "4294967295",
    "4294967296",
    "9223372036854775807",
    "-1",
    "-9223372036854775808",
];

/// Literals of the wrong type for every key.
pub const OTHERS: &[&str] = &[
    "true",
    "false",
    "\"x\"",
    "\"\"",
    "\"a/b\"",
    "[1, 2]",
    "[]",
    "{ a = 1 }",
    "1979-05-27",
    "07:32:00",
    "\"nan\"",
];

/// A random literal: any pool, or a random number in a plausible range.
pub fn literal(r: &mut Rng) -> String {
    match r.below(8) {
        0..=2 => r.pick(FLOATS).to_string(),
        3..=4 => r.pick(INTS).to_string(),
        5 => r.pick(OTHERS).to_string(),
        6 => format!("{:.3}", (r.next() >> 11) as f64 / (1u64 << 53) as f64 * 3000.0),
        _ => format!("{}", r.below(20)),
    }
}

/// A TOML document: top-level keys, then tables in order, each a list of (key, literal).
#[derive(Clone, Debug)]
pub struct Doc {
    /// `(table, entries)`; the table "" holds the top-level keys and comes first.
    pub tables: Vec<(String, Vec<(String, String)>)>,
}

impl Doc {
    /// The document text.
    pub fn render(&self) -> String {
        let mut s = String::new();
        for (t, entries) in &self.tables {
            if !t.is_empty() {
                s.push_str(&format!("[{t}]\n"));
            }
            for (k, v) in entries {
                s.push_str(&format!("{k} = {v}\n"));
            }
        }
        s
    }

    /// The entries of `table`, if present.
    pub fn table_mut(&mut self, table: &str) -> Option<&mut Vec<(String, String)>> {
        self.tables.iter_mut().find(|(t, _)| t == table).map(|(_, e)| e)
    }

    /// Sets `table.key` to `value` (adding the key, and the table, when missing).
    pub fn set(&mut self, table: &str, key: &str, value: String) {
        if self.table_mut(table).is_none() {
            self.tables.push((table.to_string(), Vec::new()));
        }
        let e = self.table_mut(table).expect("just added");
        match e.iter_mut().find(|(k, _)| k == key) {
            Some(slot) => slot.1 = value,
            None => e.push((key.to_string(), value)),
        }
    }
}

/// Fails with the failures, the first case of each kind (the text before the first `:` of
/// its message after the case number) shown whole.
pub fn report(failures: &[String]) {
    let mut seen = std::collections::BTreeMap::new();
    for f in failures {
        let kind: String = f.split(": ").nth(1).unwrap_or("").chars().take(40).collect();
        seen.entry(kind).or_insert(f.clone());
    }
    assert!(
        failures.is_empty(),
        "{} failures, {} kinds; the first of each:\n{}",
        failures.len(),
        seen.len(),
        seen.values().cloned().collect::<Vec<_>>().join("\n")
    );
}
