//! Scoring of dense sample matrices (rows = unit-months, columns = draws), the
//! layout the VIEWS evaluation uses; rows are scored in parallel.

use crate::backtest::INTERVAL_LEVEL;
use crate::error::ForecastError;
use crate::metrics::IGN_EDGES;

/// Which scores to compute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Score {
    Crps,
    Ignorance,
    Interval,
}

/// Scores each row of `samples` (`obs.len()` rows of `n` draws) against its
/// observation; returns one vector per requested score. Each row is turned
/// once into sorted runs of equal values ([`Runs`]) and every score read
/// from the runs.
pub fn score_matrix<T: DrawValue>(obs: &[f64], samples: &[T], n: usize, scores: &[Score], threads: usize) -> Result<Vec<Vec<f64>>, ForecastError> {
    if n == 0 || samples.len() != obs.len() * n {
        return Err(ForecastError::BadScoreInput(format!(
            "{} samples is not {} observations x {n} draws",
            samples.len(),
            obs.len()
        )));
    }
    let rows = obs.len();
    let mut out: Vec<Vec<f64>> = scores.iter().map(|_| vec![0.0; rows]).collect();
    let threads = threads.max(1);
    let chunk = rows.div_ceil(threads).max(1);
    // split every output vector into the same row chunks
    let mut chunked: Vec<Vec<&mut [f64]>> = (0..rows.div_ceil(chunk)).map(|_| Vec::new()).collect();
    for o in out.iter_mut() {
        for (i, c) in o.chunks_mut(chunk).enumerate() {
            chunked[i].push(c);
        }
    }
    std::thread::scope(|s| {
        for (i, mut outs) in chunked.into_iter().enumerate() {
            let lo = i * chunk;
            s.spawn(move || {
                let mut runs = RunBuilder::default();
                for r in 0..outs[0].len() {
                    let row = lo + r;
                    let v = runs.build(&samples[row * n..(row + 1) * n]);
                    let y = obs[row];
                    for (k, sc) in scores.iter().enumerate() {
                        outs[k][r] = match sc {
                            Score::Crps => v.crps(y),
                            Score::Ignorance => v.ignorance(y),
                            Score::Interval => v.interval_score(y, INTERVAL_LEVEL),
                        };
                    }
                }
            });
        }
    });
    Ok(out)
}

/// Reads a benchmark input (observations as little-endian f64, draws as
/// little-endian u16 counts, row-major), times each score and all three
/// together, optionally writes the three score vectors (f64 LE, one block
/// each) to `out`, and returns a one-line JSON summary.
pub fn bench_files(obs: &std::path::Path, draws: &std::path::Path, n: usize, threads: usize, out: Option<&std::path::Path>) -> Result<String, ForecastError> {
    let io = |p: &std::path::Path, e: std::io::Error| ForecastError::BadScoreInput(format!("{}: {e}", p.display()));
    let obs_bytes = std::fs::read(obs).map_err(|e| io(obs, e))?;
    let obs: Vec<f64> = obs_bytes.chunks_exact(8).map(|c| f64::from_le_bytes(c.try_into().expect("8 bytes"))).collect();
    let draw_bytes = std::fs::read(draws).map_err(|e| io(draws, e))?;
    let counts: Vec<u16> = draw_bytes.chunks_exact(2).map(|c| u16::from_le_bytes([c[0], c[1]])).collect();
    drop(draw_bytes);
    let mut timings = Vec::new();
    for (name, which) in [("crps", Score::Crps), ("ign", Score::Ignorance), ("interval", Score::Interval)] {
        let t = std::time::Instant::now();
        let s = score_matrix(&obs, &counts, n, &[which], threads)?;
        timings.push(format!("\"{name}_s\": {:.4}", t.elapsed().as_secs_f64()));
        std::hint::black_box(s);
    }
    let all_scores = [Score::Crps, Score::Ignorance, Score::Interval];
    let t = std::time::Instant::now();
    let all = score_matrix(&obs, &counts, n, &all_scores, threads)?;
    timings.push(format!("\"all_s\": {:.4}", t.elapsed().as_secs_f64()));
    // the same on draws held as f64, the peers' layout
    let samples: Vec<f64> = counts.iter().map(|&c| c as f64).collect();
    drop(counts);
    for (name, which) in [("crps_f64", Score::Crps), ("ign_f64", Score::Ignorance), ("interval_f64", Score::Interval)] {
        let t = std::time::Instant::now();
        let s = score_matrix(&obs, &samples, n, &[which], threads)?;
        timings.push(format!("\"{name}_s\": {:.4}", t.elapsed().as_secs_f64()));
        std::hint::black_box(s);
    }
    let t = std::time::Instant::now();
    let all_f64 = score_matrix(&obs, &samples, n, &all_scores, threads)?;
    timings.push(format!("\"all_f64_s\": {:.4}", t.elapsed().as_secs_f64()));
    if all_f64 != all {
        return Err(ForecastError::BadScoreInput("scores on u16 and f64 draws differ".into()));
    }
    if let Some(path) = out {
        let mut bytes = Vec::with_capacity(3 * obs.len() * 8);
        for v in all.iter().flatten() {
            bytes.extend_from_slice(&v.to_le_bytes());
        }
        std::fs::write(path, bytes).map_err(|e| io(path, e))?;
    }
    Ok(format!("{{\"rows\": {}, \"threads\": {threads}, {}}}", obs.len(), timings.join(", ")))
}

/// Counts of draws that are whole numbers below this go to a histogram
/// (counting sort) instead of a comparison sort.
const SMALL: usize = 256;

/// A draw type the engine scores: f64 in general, u16 for count draws
/// stored compactly.
pub trait DrawValue: Copy + Send + Sync {
    fn is_zero(self) -> bool;
    /// Bits that are all 0 exactly when the draw is zero (OR-reducible).
    fn zero_bits(self) -> u64;
    /// The histogram bucket of a whole number below SMALL (0 included), or
    /// SMALL for anything else (fractions, large values, negatives, NaN).
    fn bucket(self) -> usize;
    fn value(self) -> f64;
}

impl DrawValue for f64 {
    fn is_zero(self) -> bool {
        self == 0.0
    }
    fn zero_bits(self) -> u64 {
        self.to_bits() << 1 // drops the sign: -0.0 is zero too
    }
    fn bucket(self) -> usize {
        let k = self as usize; // saturating: negatives and NaN give 0
        if k < SMALL && k as f64 == self { k } else { SMALL }
    }
    fn value(self) -> f64 {
        self
    }
}

impl DrawValue for u16 {
    fn is_zero(self) -> bool {
        self == 0
    }
    fn zero_bits(self) -> u64 {
        self as u64
    }
    fn bucket(self) -> usize {
        (self as usize).min(SMALL)
    }
    fn value(self) -> f64 {
        self as f64
    }
}

/// A sample as ascending runs of equal values: (value, how many draws).
/// Forecast draws of counts repeat a few small integers (mostly 0), so the
/// runs come from a counting sort in O(n) and are short.
#[derive(Debug, Clone, Copy)]
pub struct Runs<'a> {
    pub n: usize,
    pub runs: &'a [(f64, u32)],
}

/// Reusable buffers that turn a row of draws into [`Runs`].
pub struct RunBuilder {
    hist: Vec<u32>,
    big: Vec<f64>,
    runs: Vec<(f64, u32)>,
    other: Vec<(f64, u32)>,
}

impl Default for RunBuilder {
    fn default() -> RunBuilder {
        RunBuilder { hist: vec![0; 4 * (SMALL + 1)], big: Vec::new(), runs: Vec::new(), other: Vec::new() }
    }
}

impl RunBuilder {
    pub fn build<T: DrawValue>(&mut self, row: &[T]) -> Runs<'_> {
        self.build_with_zeros(row, 0)
    }

    /// Runs of `n` draws of which `pos` are the non-zero ones (the layout of
    /// [`crate::metrics::Draws`]).
    pub fn build_sparse(&mut self, n: usize, pos: &[f64]) -> Runs<'_> {
        self.build_with_zeros(pos, n - pos.len())
    }

    fn build_with_zeros<T: DrawValue>(&mut self, row: &[T], extra_zeros: usize) -> Runs<'_> {
        self.runs.clear();
        let n = row.len() + extra_zeros;
        self.big.clear();
        // Blocks of 8 draws that are all zero (most, in sparse forecasts) are
        // only counted. Other draws go to one of four interleaved histograms
        // (breaking the store-to-load dependency of repeated values); bucket
        // SMALL collects draws that need sorting.
        let h = &mut self.hist;
        let mut zeros = extra_zeros;
        let mut top = 0usize;
        let mut blocks = row.chunks_exact(8);
        for c in &mut blocks {
            if c.iter().fold(0u64, |a, x| a | x.zero_bits()) == 0 {
                zeros += 8;
                continue;
            }
            for (j, x) in c.iter().enumerate() {
                let b = x.bucket();
                top = top.max(b);
                h[(j & 3) * (SMALL + 1) + b] += 1;
            }
        }
        for x in blocks.remainder() {
            let b = x.bucket();
            top = top.max(b);
            h[b] += 1;
        }
        for k in 0..=top {
            h[k] += h[(SMALL + 1) + k] + h[2 * (SMALL + 1) + k] + h[3 * (SMALL + 1) + k];
            h[(SMALL + 1) + k] = 0;
            h[2 * (SMALL + 1) + k] = 0;
            h[3 * (SMALL + 1) + k] = 0;
        }
        h[0] += zeros as u32;
        if h[SMALL] > 0 {
            self.big.extend(row.iter().filter(|x| x.bucket() == SMALL).map(|x| x.value()));
            h[SMALL] = 0;
        }
        // histogram runs, ascending, clearing the histogram as we go
        let mut small_runs = std::mem::take(&mut self.other);
        small_runs.clear();
        for (v, c) in self.hist[..=top.min(SMALL - 1)].iter_mut().enumerate() {
            if *c > 0 {
                small_runs.push((v as f64, *c));
                *c = 0;
            }
        }
        if self.big.is_empty() {
            std::mem::swap(&mut self.runs, &mut small_runs);
        } else {
            self.big.sort_unstable_by(f64::total_cmp);
            let mut big_runs: Vec<(f64, u32)> = Vec::new();
            for &x in &self.big {
                match big_runs.last_mut() {
                    Some((v, c)) if *v == x => *c += 1,
                    _ => big_runs.push((x, 1)),
                }
            }
            let (mut i, mut j) = (0, 0);
            while i < small_runs.len() || j < big_runs.len() {
                let take_small = j >= big_runs.len() || (i < small_runs.len() && small_runs[i].0 <= big_runs[j].0);
                if take_small {
                    self.runs.push(small_runs[i]);
                    i += 1;
                } else {
                    self.runs.push(big_runs[j]);
                    j += 1;
                }
            }
        }
        self.other = small_runs;
        Runs { n, runs: &self.runs }
    }
}

impl Runs<'_> {
    pub fn mean(&self) -> f64 {
        self.runs.iter().map(|&(v, c)| v * c as f64).sum::<f64>() / self.n as f64
    }

    /// Share of draws above zero.
    pub fn p_any(&self) -> f64 {
        self.runs.iter().filter(|r| r.0 > 0.0).map(|r| r.1 as f64).sum::<f64>() / self.n as f64
    }

    /// CRPS = E|X - y| - 0.5 E|X - X'| (see [`crate::metrics::Sorted::crps`]);
    /// a run of c draws of value v at ranks a+1..a+c adds v c (2a + c - n)
    /// to sum_i (2i - n - 1) x(i).
    pub fn crps(&self, y: f64) -> f64 {
        let n = self.n as f64;
        let (mut abs_err, mut spread, mut a) = (0.0, 0.0, 0.0);
        for &(v, c) in self.runs {
            let c = c as f64;
            abs_err += c * (v - y).abs();
            spread += v * c * (2.0 * a + c - n);
            a += c;
        }
        abs_err / n - spread / (n * n)
    }

    /// The i-th smallest draw, 0-based.
    fn get(&self, i: usize) -> f64 {
        let mut seen = 0usize;
        for &(v, c) in self.runs {
            seen += c as usize;
            if i < seen {
                return v;
            }
        }
        self.runs.last().map(|r| r.0).unwrap_or(0.0)
    }

    /// Type-7 quantile, interpolated as numpy does.
    pub fn quantile(&self, q: f64) -> f64 {
        let vi = q * (self.n - 1) as f64;
        let lo = vi.floor();
        let i = lo as usize;
        let t = vi - lo;
        let (a, b) = (self.get(i), self.get((i + 1).min(self.n - 1)));
        let d = b - a;
        if t >= 0.5 { b - d * (1.0 - t) } else { a + d * t }
    }

    /// Ignorance score on the VIEWS bins (see [`crate::metrics::Sorted::ignorance`]).
    pub fn ignorance(&self, y: f64) -> f64 {
        let b = IGN_EDGES.partition_point(|&e| e <= y);
        if b == 0 {
            return f64::NAN;
        }
        let lo = IGN_EDGES[b - 1];
        let hi = IGN_EDGES.get(b).copied().unwrap_or(f64::INFINITY);
        let count: u32 = self.runs.iter().filter(|r| r.0 >= lo && r.0 < hi).map(|r| r.1).sum();
        -((count as f64 + 1.0) / (self.n as f64 + IGN_EDGES.len() as f64)).log2()
    }

    /// Interval score of the central `level` interval (see
    /// [`crate::metrics::Sorted::interval_score`]).
    pub fn interval_score(&self, y: f64, level: f64) -> f64 {
        let alpha = 1.0 - level;
        let l = self.quantile(alpha / 2.0);
        let u = self.quantile(1.0 - alpha / 2.0);
        let mut s = u - l;
        if y < l {
            s += (2.0 / alpha) * (l - y);
        }
        if y > u {
            s += (2.0 / alpha) * (y - u);
        }
        s
    }
}
