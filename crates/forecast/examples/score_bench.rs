//! The scoring-engine benchmark without the CLI (same code as
//! `vitalcore forecast score-bench`): OBS DRAWS N THREADS [OUT]
fn main() {
    let a: Vec<String> = std::env::args().skip(1).collect();
    let out = a.get(4).map(std::path::PathBuf::from);
    let line = vitalcore_forecast::score_engine::bench_files(
        a[0].as_ref(),
        a[1].as_ref(),
        a[2].parse().expect("N"),
        a[3].parse().expect("THREADS"),
        out.as_deref(),
    )
    .expect("bench");
    println!("{line}");
}
