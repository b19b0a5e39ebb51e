//! Scoring of dense sample matrices (rows = unit-months, columns = draws), the
//! layout the VIEWS evaluation uses; rows are scored in parallel.

use crate::backtest::INTERVAL_LEVEL;
use crate::error::ForecastError;
use crate::metrics::{Sorted, sort_into};

/// Which scores to compute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Score {
    Crps,
    Ignorance,
    Interval,
}

/// Scores each row of `samples` (`obs.len()` rows of `n` draws) against its
/// observation; returns one vector per requested score. Each row is sorted
/// once (its zeros only counted) and every score read from it.
pub fn score_matrix(obs: &[f64], samples: &[f64], n: usize, scores: &[Score], threads: usize) -> Result<Vec<Vec<f64>>, ForecastError> {
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
                let mut buf = Vec::with_capacity(n);
                for r in 0..outs[0].len() {
                    let row = lo + r;
                    let n_draws = sort_into(&samples[row * n..(row + 1) * n], &mut buf);
                    let v = Sorted { n: n_draws, pos: &buf };
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
