//! How long likely-duplicate detection takes on N synthetic reports spread
//! over 30 days and 100 areas, one in ten a reworded copy of an earlier one.
//!
//! cargo run --release -p vitalcore-intake --example duplicates_speed -- [N]

use vitalcore_intake::duplicates::{Candidate, DuplicateRules, find_duplicates};
use vitalcore_intake::report::Reference;

fn main() {
    let n: u32 = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(20_000);
    let start = 1_714_521_600i64; // 2024-05-01
    let span = 30 * 86_400i64;
    // 400 invented words, so that unrelated reports rarely share many trigrams.
    let syllables = [
        "ka", "mo", "ri", "ba", "to", "ne", "sa", "gu", "li", "de", "po", "zu", "fa", "wi", "ye", "ho", "ju", "ce",
        "xo", "vi",
    ];
    let vocabulary: Vec<String> = (0..400)
        .map(|w| format!("{}{}{}", syllables[w % 20], syllables[(w / 20) % 20], syllables[(w * 7) % 20]))
        .collect();
    let cands: Vec<Candidate> = (0..n)
        .map(|i| {
            let copy = i % 10 == 9;
            let base = if copy { i - 1 } else { i };
            let h = (base as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
            let text: Vec<&str> = (0..8).map(|k| vocabulary[((h >> (k * 7)) % 400) as usize].as_str()).collect();
            let mut text = text.join(" ");
            if copy {
                text.push_str(" again this morning");
            }
            let t = start + (h % span as u64) as i64 + if copy { 3_600 } else { 0 };
            Candidate::new(
                Reference::from_number(i),
                Some(format!("A{}", h % 100)),
                None,
                jiff::Timestamp::from_second(t).unwrap(),
                &text,
            )
        })
        .collect();
    let mut times = Vec::new();
    let mut found = 0;
    for _ in 0..3 {
        let started = std::time::Instant::now();
        found = find_duplicates(&cands, &DuplicateRules::default()).len();
        times.push(started.elapsed().as_secs_f64());
    }
    times.sort_by(f64::total_cmp);
    println!("{n} reports: {found} likely-duplicate pairs, median of 3 runs {:.3} s", times[1]);
}
