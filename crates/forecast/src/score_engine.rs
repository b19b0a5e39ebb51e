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
/// once into a histogram of its counts ([`Sample`]; a counting sort, O(n +
/// range) with a sorted tail for large values) and every score read from it.
pub fn score_matrix<T: DrawValue>(
    obs: &[f64],
    samples: &[T],
    n: usize,
    scores: &[Score],
    threads: usize,
) -> Result<Vec<Vec<f64>>, ForecastError> {
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
                if scores == [Score::Ignorance] {
                    // only the observation's bin matters: one branch-free count per row
                    for (r, out) in outs[0].iter_mut().enumerate() {
                        let row = lo + r;
                        *out = ignorance_by_count(&samples[row * n..(row + 1) * n], obs[row]);
                    }
                    return;
                }
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

/// Ignorance score of one row on the VIEWS bins (see
/// [`crate::metrics::Sorted::ignorance`]) by counting the draws in the
/// observation's bin directly, without sorting or a histogram.
pub fn ignorance_by_count<T: DrawValue>(row: &[T], y: f64) -> f64 {
    let b = IGN_EDGES.partition_point(|&e| e <= y);
    if b == 0 {
        return f64::NAN;
    }
    let lo = IGN_EDGES[b - 1];
    let hi = IGN_EDGES.get(b).copied().unwrap_or(f64::INFINITY);
    let count = T::count_in(row, lo, hi);
    -((count as f64 + 1.0) / (row.len() as f64 + IGN_EDGES.len() as f64)).log2()
}

/// Reads a benchmark input (observations as little-endian f64, draws as
/// little-endian u16 counts, row-major), times each score and all three
/// together, optionally writes the three score vectors (f64 LE, one block
/// each) to `out`, and returns a one-line JSON summary.
pub fn bench_files(
    obs: &std::path::Path,
    draws: &std::path::Path,
    n: usize,
    threads: usize,
    out: Option<&std::path::Path>,
) -> Result<String, ForecastError> {
    let io = |p: &std::path::Path, e: std::io::Error| ForecastError::BadScoreInput(format!("{}: {e}", p.display()));
    let obs_bytes = std::fs::read(obs).map_err(|e| io(obs, e))?;
    let obs: Vec<f64> = obs_bytes.chunks_exact(8).map(|c| f64::from_le_bytes(c.try_into().expect("8 bytes"))).collect();
    let draw_bytes = std::fs::read(draws).map_err(|e| io(draws, e))?;
    let counts: Vec<u16> = draw_bytes.chunks_exact(2).map(|c| u16::from_le_bytes([c[0], c[1]])).collect();
    drop(draw_bytes);
    let mut timings = Vec::new();
    let mut timed = |name: &str,
                     f: &mut dyn FnMut() -> Result<Vec<Vec<f64>>, ForecastError>|
     -> Result<Vec<Vec<f64>>, ForecastError> {
        let (t, cpu) = (std::time::Instant::now(), process_cpu_seconds());
        let s = f()?;
        timings.push(format!("\"{name}_s\": {:.4}", t.elapsed().as_secs_f64()));
        if let (Some(a), Some(b)) = (cpu, process_cpu_seconds()) {
            timings.push(format!("\"{name}_cpu_s\": {:.2}", b - a));
        }
        Ok(s)
    };
    for (name, which) in [("crps", Score::Crps), ("ign", Score::Ignorance), ("interval", Score::Interval)] {
        let s = timed(name, &mut || score_matrix(&obs, &counts, n, &[which], threads))?;
        std::hint::black_box(s);
    }
    let all_scores = [Score::Crps, Score::Ignorance, Score::Interval];
    let all = timed("all", &mut || score_matrix(&obs, &counts, n, &all_scores, threads))?;
    // the same on draws held as f64, the peers' layout
    let samples: Vec<f64> = counts.iter().map(|&c| c as f64).collect();
    drop(counts);
    for (name, which) in [("crps_f64", Score::Crps), ("ign_f64", Score::Ignorance), ("interval_f64", Score::Interval)] {
        let s = timed(name, &mut || score_matrix(&obs, &samples, n, &[which], threads))?;
        std::hint::black_box(s);
    }
    let all_f64 = timed("all_f64", &mut || score_matrix(&obs, &samples, n, &all_scores, threads))?;
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

/// User plus system CPU time of this process (all threads), from
/// /proc/self/stat in clock ticks of 1/100 s (Linux's USER_HZ); None where
/// that file does not exist.
fn process_cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // fields after the command name, which is in parentheses and may hold spaces
    let rest = &stat[stat.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}

/// Whole-number draws below this go to a histogram (counting sort); larger
/// ones to a short sorted tail.
const SMALL: usize = 256;
/// Histogram slots: 0..SMALL for whole numbers, SMALL for draws >= SMALL,
/// SMALL + 1 for anything else (fractions, negatives, NaN).
const SLOTS: usize = SMALL + 2;
const IRREGULAR: usize = SMALL + 1;

/// A draw type the engine scores: f64 in general, u16 for count draws
/// stored compactly.
pub trait DrawValue: Copy + Send + Sync {
    /// Bits that are all 0 exactly when the draw is zero (OR-reducible).
    fn zero_bits(self) -> u64;
    /// The histogram slot: the value itself for whole numbers below SMALL,
    /// SMALL for values >= SMALL, IRREGULAR for the rest.
    fn bucket(self) -> usize;
    fn value(self) -> f64;
    /// How many of `row` lie in [lo, hi).
    fn count_in(row: &[Self], lo: f64, hi: f64) -> usize;
    /// A bucket at or above every bucket of a block whose `zero_bits` OR to
    /// `or_bits`, if the type can tell.
    #[inline(always)]
    fn top_bound(or_bits: u64) -> Option<usize> {
        let _ = or_bits;
        None
    }
    const HAS_TOP_BOUND: bool = false;
}

impl DrawValue for f64 {
    #[inline(always)]
    fn zero_bits(self) -> u64 {
        self.to_bits() << 1 // drops the sign: -0.0 is zero too
    }
    #[inline(always)]
    fn bucket(self) -> usize {
        let k = self as usize; // saturating: negatives and NaN give 0
        if k < SMALL && k as f64 == self {
            k
        } else if self >= SMALL as f64 {
            SMALL
        } else {
            IRREGULAR
        }
    }
    #[inline(always)]
    fn value(self) -> f64 {
        self
    }
    fn count_in(row: &[f64], lo: f64, hi: f64) -> usize {
        row.iter().map(|&x| (x >= lo && x < hi) as usize).sum()
    }
}

impl DrawValue for u16 {
    #[inline(always)]
    fn zero_bits(self) -> u64 {
        self as u64
    }
    #[inline(always)]
    fn bucket(self) -> usize {
        (self as usize).min(SMALL)
    }
    #[inline(always)]
    fn value(self) -> f64 {
        self as f64
    }
    #[inline(always)]
    fn top_bound(or_bits: u64) -> Option<usize> {
        // x <= (x | others) for every x of the block
        Some((or_bits as usize).min(SMALL))
    }
    const HAS_TOP_BOUND: bool = true;
    fn count_in(row: &[u16], lo: f64, hi: f64) -> usize {
        // whole numbers in [lo, hi) are those in [ceil lo, ceil hi); one
        // unsigned compare per draw, u16 lane counters in blocks (vectorised)
        let a = lo.max(0.0).ceil().min(65536.0) as u32;
        let b = hi.max(0.0).ceil().min(65536.0) as u32;
        if b <= a {
            return 0;
        }
        let width = b - a;
        row.chunks(4096)
            .map(|c| {
                c.iter().map(|&x| ((x as u32).wrapping_sub(a) < width) as u16).fold(0u16, u16::wrapping_add) as usize
            })
            .sum()
    }
}

/// The draws of one row, ready to score: [`Counts`] when every draw is a
/// whole number >= 0 (all forecasts of counts), [`Runs`] otherwise.
#[derive(Debug, Clone, Copy)]
pub enum Sample<'a> {
    Counts(Counts<'a>),
    Runs(Runs<'a>),
}

impl Sample<'_> {
    pub fn mean(&self) -> f64 {
        match self {
            Sample::Counts(c) => c.mean(),
            Sample::Runs(r) => r.mean(),
        }
    }

    /// Share of draws above zero.
    pub fn p_any(&self) -> f64 {
        match self {
            Sample::Counts(c) => c.p_any(),
            Sample::Runs(r) => r.p_any(),
        }
    }

    pub fn crps(&self, y: f64) -> f64 {
        match self {
            Sample::Counts(c) => c.crps(y),
            Sample::Runs(r) => r.crps(y),
        }
    }

    pub fn ignorance(&self, y: f64) -> f64 {
        match self {
            Sample::Counts(c) => c.ignorance(y),
            Sample::Runs(r) => r.ignorance(y),
        }
    }

    pub fn quantile(&self, q: f64) -> f64 {
        match self {
            Sample::Counts(c) => c.quantile(q),
            Sample::Runs(r) => r.quantile(q),
        }
    }

    /// Interval score of the central `level` interval (see
    /// [`crate::metrics::Sorted::interval_score`]).
    pub fn interval_score(&self, y: f64, level: f64) -> f64 {
        let alpha = 1.0 - level;
        let l = self.quantile(alpha / 2.0);
        let u = self.quantile(1.0 - alpha / 2.0);
        interval_from(l, u, y, alpha)
    }
}

fn interval_from(l: f64, u: f64, y: f64, alpha: f64) -> f64 {
    let mut s = u - l;
    if y < l {
        s += (2.0 / alpha) * (l - y);
    }
    if y > u {
        s += (2.0 / alpha) * (y - u);
    }
    s
}

/// Reusable buffers that turn a row of draws into a [`Sample`] without
/// allocating per row.
pub struct RunBuilder {
    /// Four interleaved histograms of SLOTS counts each.
    hist: Vec<u32>,
    /// Highest slot of `hist[..SLOTS]` that may be non-zero (to clear).
    dirty: usize,
    /// Indices of the blocks of 8 draws that hold a non-zero draw.
    busy: Vec<u32>,
    big: Vec<f64>,
    runs: Vec<(f64, u32)>,
}

impl Default for RunBuilder {
    fn default() -> RunBuilder {
        RunBuilder { hist: vec![0; 4 * SLOTS], dirty: SLOTS - 1, busy: Vec::new(), big: Vec::new(), runs: Vec::new() }
    }
}

impl RunBuilder {
    pub fn build<T: DrawValue>(&mut self, row: &[T]) -> Sample<'_> {
        self.build_with_zeros(row, 0)
    }

    /// The sample of `n` draws of which `pos` are the non-zero ones (the
    /// layout of [`crate::metrics::Draws`]).
    pub fn build_sparse(&mut self, n: usize, pos: &[f64]) -> Sample<'_> {
        self.build_with_zeros(pos, n - pos.len())
    }

    fn build_with_zeros<T: DrawValue>(&mut self, row: &[T], extra_zeros: usize) -> Sample<'_> {
        let n = row.len() + extra_zeros;
        let h = &mut self.hist;
        h[..=self.dirty].fill(0);
        h[SMALL] = 0;
        h[IRREGULAR] = 0;
        // Counting sort in two passes. Blocks of 8 draws that are all zero
        // (most, in sparse forecasts) are only counted; the draws of the
        // other blocks go to one of four interleaved histograms (breaking the
        // store-to-load dependency of repeated values).
        let mut zeros = extra_zeros;
        let mut top = 0usize;
        // Pass 1, branch-free (a branch per block mispredicts on sparse
        // rows): the indices of the blocks holding a non-zero draw.
        let blocks = row.chunks_exact(8);
        let remainder = blocks.remainder();
        let n_blocks = blocks.len();
        if self.busy.len() < n_blocks {
            self.busy.resize(n_blocks, 0);
        }
        let mut busy = 0usize;
        let mut bound = 0usize;
        for (i, c) in blocks.enumerate() {
            let any = c.iter().fold(0u64, |a, x| a | x.zero_bits());
            self.busy[busy] = i as u32;
            busy += (any != 0) as usize;
            bound = bound.max(T::top_bound(any).unwrap_or(0));
        }
        zeros += 8 * (n_blocks - busy);
        // Pass 2: the busy blocks' draws to the four histograms.
        for &i in &self.busy[..busy] {
            let c = &row[8 * i as usize..8 * i as usize + 8];
            if T::HAS_TOP_BOUND {
                for (j, x) in c.iter().enumerate() {
                    h[(j & 3) * SLOTS + x.bucket()] += 1;
                }
            } else {
                for (j, x) in c.iter().enumerate() {
                    let b = x.bucket();
                    top = top.max(b);
                    h[(j & 3) * SLOTS + b] += 1;
                }
            }
        }
        top = top.max(bound);
        for x in remainder {
            let b = x.bucket();
            top = top.max(b);
            h[b] += 1;
        }
        for k in 0..=top {
            h[k] += h[SLOTS + k] + h[2 * SLOTS + k] + h[3 * SLOTS + k];
            h[SLOTS + k] = 0;
            h[2 * SLOTS + k] = 0;
            h[3 * SLOTS + k] = 0;
        }
        h[0] += zeros as u32;
        let small_top = top.min(SMALL - 1);
        self.dirty = small_top;
        self.big.clear();
        if top >= SMALL {
            self.big.extend(row.iter().filter(|x| x.bucket() >= SMALL).map(|x| x.value()));
            self.big.sort_unstable_by(f64::total_cmp);
        }
        if top == IRREGULAR {
            return Sample::Runs(self.merge_runs(n, small_top));
        }
        Sample::Counts(Counts { n: n as u32, hist: &self.hist[..=small_top], tail: &self.big })
    }

    /// The general path (draws that are not whole numbers >= 0): runs of
    /// the histogram merged with the sorted other draws.
    fn merge_runs(&mut self, n: usize, small_top: usize) -> Runs<'_> {
        self.runs.clear();
        let mut small =
            self.hist[..=small_top].iter().enumerate().filter(|(_, c)| **c > 0).map(|(v, &c)| (v as f64, c)).peekable();
        let mut i = 0;
        loop {
            let next_big = self.big.get(i).copied();
            let take_small = match (small.peek(), next_big) {
                (Some(s), Some(b)) => s.0 <= b,
                (Some(_), None) => true,
                (None, Some(_)) => false,
                (None, None) => break,
            };
            if take_small {
                self.runs.push(small.next().expect("peeked"));
            } else {
                let b = next_big.expect("checked");
                match self.runs.last_mut() {
                    Some((v, c)) if *v == b => *c += 1,
                    _ => self.runs.push((b, 1)),
                }
                i += 1;
            }
        }
        Runs { n, runs: &self.runs }
    }
}

/// Draws that are all whole numbers >= 0: `hist[v]` draws of value v for
/// v < SMALL, then `tail`, the draws >= SMALL, sorted.
#[derive(Debug, Clone, Copy)]
pub struct Counts<'a> {
    pub n: u32,
    pub hist: &'a [u32],
    pub tail: &'a [f64],
}

impl Counts<'_> {
    pub fn mean(&self) -> f64 {
        let s: u64 = self.hist.iter().enumerate().map(|(v, &c)| v as u64 * c as u64).sum();
        (s as f64 + self.tail.iter().sum::<f64>()) / self.n as f64
    }

    pub fn p_any(&self) -> f64 {
        (self.n - self.hist[0]) as f64 / self.n as f64
    }

    /// CRPS = E|X - y| - 0.5 E|X - X'| (see [`crate::metrics::Sorted::crps`]),
    /// over the histogram with exact integer sums. For whole numbers,
    /// sum_{i<j} |x_i - x_j| = sum_t L_t (A - L_t) over thresholds t, L_t the
    /// count of draws <= t among the A draws in the histogram (each pair is
    /// split by |x_i - x_j| thresholds); draws in the sorted tail (>= SMALL)
    /// add v (2a + 1 - n) at rank a + 1 as in the sorted-sample formula.
    pub fn crps(&self, y: f64) -> f64 {
        let n = self.n as i64;
        let big = self.tail.len() as i64;
        let in_hist = n - big;
        let (mut below, mut pairs, mut sum) = (0i64, 0i64, 0i64);
        for (v, &c) in self.hist.iter().enumerate() {
            below += c as i64;
            pairs += below * (in_hist - below);
            sum += v as i64 * c as i64;
        }
        // E|X - y| over the histogram: y (count <= y) - (sum <= y) + (sum > y) - y (count > y)
        let (mut c_le, mut s_le) = (0i64, 0i64);
        if y >= 0.0 {
            let k = (y.floor() as usize).min(self.hist.len() - 1);
            for (v, &c) in self.hist[..=k].iter().enumerate() {
                c_le += c as i64;
                s_le += v as i64 * c as i64;
            }
        }
        let c_gt = in_hist - c_le;
        let mut abs_err = y * c_le as f64 - s_le as f64 + (sum - s_le) as f64 - y * c_gt as f64;
        // sum_{i <= A} (2i - n - 1) x(i) = pairs within + (A - n) (their sum)
        let mut spread = pairs as f64 + ((in_hist - n) * sum) as f64;
        let nf = self.n as f64;
        let mut a = in_hist as f64;
        for &v in self.tail {
            abs_err += (v - y).abs();
            spread += v * (2.0 * a + 1.0 - nf);
            a += 1.0;
        }
        abs_err / nf - spread / (nf * nf)
    }

    /// Draws in [lo, hi).
    fn count_in(&self, lo: f64, hi: f64) -> u32 {
        let from = (lo.max(0.0).ceil() as usize).min(self.hist.len());
        let to = (hi.max(0.0).ceil() as usize).min(self.hist.len()).max(from);
        let tail = self.tail.iter().filter(|&&v| v >= lo && v < hi).count() as u32;
        self.hist[from..to].iter().sum::<u32>() + tail
    }

    /// Ignorance score on the VIEWS bins (see [`crate::metrics::Sorted::ignorance`]).
    pub fn ignorance(&self, y: f64) -> f64 {
        let b = IGN_EDGES.partition_point(|&e| e <= y);
        if b == 0 {
            return f64::NAN;
        }
        let lo = IGN_EDGES[b - 1];
        let hi = IGN_EDGES.get(b).copied().unwrap_or(f64::INFINITY);
        -((self.count_in(lo, hi) as f64 + 1.0) / (self.n as f64 + IGN_EDGES.len() as f64)).log2()
    }

    /// The i-th smallest draw, 0-based.
    fn get(&self, i: usize) -> f64 {
        let mut seen = 0usize;
        for (v, &c) in self.hist.iter().enumerate() {
            seen += c as usize;
            if i < seen {
                return v as f64;
            }
        }
        self.tail.get(i - seen).or(self.tail.last()).copied().unwrap_or((self.hist.len() - 1) as f64)
    }

    /// Type-7 quantile, interpolated as numpy does.
    pub fn quantile(&self, q: f64) -> f64 {
        type7(q, self.n as usize, |i| self.get(i))
    }
}

/// Hyndman and Fan type 7 quantile from the order statistics `get(i)`,
/// interpolated the way numpy's `_lerp` does.
fn type7(q: f64, n: usize, get: impl Fn(usize) -> f64) -> f64 {
    let vi = q * (n - 1) as f64;
    let lo = vi.floor();
    let i = lo as usize;
    let t = vi - lo;
    let (a, b) = (get(i), get((i + 1).min(n - 1)));
    let d = b - a;
    if t >= 0.5 { b - d * (1.0 - t) } else { a + d * t }
}

/// A sample as ascending runs of equal values: (value, how many draws).
#[derive(Debug, Clone, Copy)]
pub struct Runs<'a> {
    pub n: usize,
    pub runs: &'a [(f64, u32)],
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
        type7(q, self.n, |i| self.get(i))
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

    /// Interval score of the central `level` interval.
    pub fn interval_score(&self, y: f64, level: f64) -> f64 {
        let alpha = 1.0 - level;
        interval_from(self.quantile(alpha / 2.0), self.quantile(1.0 - alpha / 2.0), y, alpha)
    }
}
