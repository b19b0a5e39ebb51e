//! A small seeded random number generator (xoshiro256++, Blackman and Vigna
//! 2018, seeded by SplitMix64) and the few distributions the models draw from.
//! Written here so draws are reproducible from a seed on every platform and
//! without a dependency.

/// SplitMix64 step (Steele, Lea and Flood 2014), used to derive seeds.
pub fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Mixes several integers into one seed, so a stream is fixed by
/// (seed, model, origin, horizon, unit) whatever the thread that draws it.
pub fn mix_seed(parts: &[u64]) -> u64 {
    let mut s = 0x1234_5678_9ABC_DEF0u64;
    for &p in parts {
        s ^= p;
        splitmix64(&mut s);
        s = splitmix64(&mut s);
    }
    s
}

#[derive(Debug, Clone)]
pub struct Rng {
    s: [u64; 4],
}

impl Rng {
    pub fn new(seed: u64) -> Rng {
        let mut st = seed;
        let s = [splitmix64(&mut st), splitmix64(&mut st), splitmix64(&mut st), splitmix64(&mut st)];
        Rng { s }
    }

    pub fn next_u64(&mut self) -> u64 {
        let result = (self.s[0].wrapping_add(self.s[3])).rotate_left(23).wrapping_add(self.s[0]);
        let t = self.s[1] << 17;
        self.s[2] ^= self.s[0];
        self.s[3] ^= self.s[1];
        self.s[1] ^= self.s[2];
        self.s[0] ^= self.s[3];
        self.s[2] ^= t;
        self.s[3] = self.s[3].rotate_left(45);
        result
    }

    /// Uniform in [0, 1).
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Uniform integer in 0..n (n > 0), by Lemire's multiply-shift.
    pub fn below(&mut self, n: usize) -> usize {
        ((self.next_u64() as u128 * n as u128) >> 64) as usize
    }

    /// Standard normal by the Box-Muller transform.
    pub fn normal(&mut self) -> f64 {
        let u1 = 1.0 - self.uniform();
        let u2 = self.uniform();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }

    /// Poisson draw: inversion for small means, PTRS transformed rejection
    /// (Hörmann 1993) for means of 10 and more.
    pub fn poisson(&mut self, lambda: f64) -> u64 {
        if lambda <= 0.0 || !lambda.is_finite() {
            return 0;
        }
        if lambda < 10.0 {
            let mut k = 0u64;
            let mut p = (-lambda).exp();
            let mut cdf = p;
            let u = self.uniform();
            while u > cdf {
                k += 1;
                p *= lambda / k as f64;
                cdf += p;
                if p < 1e-300 && k as f64 > lambda {
                    break;
                }
            }
            return k;
        }
        let slam = lambda.sqrt();
        let loglam = lambda.ln();
        let b = 0.931 + 2.53 * slam;
        let a = -0.059 + 0.02483 * b;
        let invalpha = 1.1239 + 1.1328 / (b - 3.4);
        let vr = 0.9277 - 3.6224 / (b - 2.0);
        loop {
            let u = self.uniform() - 0.5;
            let v = self.uniform();
            let us = 0.5 - u.abs();
            let k = ((2.0 * a / us + b) * u + lambda + 0.43).floor();
            if us >= 0.07 && v <= vr {
                return k as u64;
            }
            if k < 0.0 || (us < 0.013 && v > us) {
                continue;
            }
            if v.ln() + invalpha.ln() - (a / (us * us) + b).ln() <= -lambda + k * loglam - ln_factorial(k) {
                return k as u64;
            }
        }
    }

    /// Binomial(n, p): inversion when n·min(p, 1-p) is small, geometric waiting
    /// times when p < 0.25, else n Bernoulli trials; exact in every branch.
    pub fn binomial(&mut self, n: u32, p: f64) -> u32 {
        if p <= 0.0 || n == 0 {
            return 0;
        }
        if p >= 1.0 {
            return n;
        }
        if p > 0.5 {
            return n - self.binomial(n, 1.0 - p);
        }
        if (n as f64) * p < 20.0 {
            let q = 1.0 - p;
            let ratio = p / q;
            let mut pk = q.powi(n as i32);
            let mut cdf = pk;
            let u = self.uniform();
            let mut k = 0u32;
            while u > cdf && k < n {
                pk *= ratio * (n - k) as f64 / (k + 1) as f64;
                k += 1;
                cdf += pk;
                if pk < 1e-300 {
                    break;
                }
            }
            return k;
        }
        if p < 0.25 {
            // waiting times between successes are geometric: O(successes)
            let lq = (1.0 - p).ln();
            let (mut at, mut k) = (0u64, 0u32);
            loop {
                let gap = ((1.0 - self.uniform()).ln() / lq).floor() as u64 + 1;
                at += gap;
                if at > n as u64 {
                    return k;
                }
                k += 1;
            }
        }
        (0..n).filter(|_| self.uniform() < p).count() as u32
    }
}

/// ln(k!) by Stirling's series for k >= 10, exact table below.
pub fn ln_factorial(k: f64) -> f64 {
    if k < 10.0 {
        let mut f = 1.0f64;
        let mut i = 2.0;
        while i <= k {
            f *= i;
            i += 1.0;
        }
        return f.ln();
    }
    let n = k + 1.0;
    (n - 0.5) * n.ln() - n + 0.5 * std::f64::consts::TAU.ln() + 1.0 / (12.0 * n) - 1.0 / (360.0 * n.powi(3))
        + 1.0 / (1260.0 * n.powi(5))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn poisson_and_binomial_means_match() {
        let mut r = Rng::new(7);
        for lambda in [0.3, 4.0, 25.0, 300.0] {
            let n = 20_000;
            let m: f64 = (0..n).map(|_| r.poisson(lambda) as f64).sum::<f64>() / n as f64;
            assert!((m - lambda).abs() < 4.0 * (lambda / n as f64).sqrt() + 1e-9, "{lambda}: {m}");
        }
        for p in [0.001, 0.01, 0.1, 0.2, 0.3, 0.9] {
            let n = 4000;
            let m: f64 = (0..n).map(|_| r.binomial(1000, p) as f64).sum::<f64>() / n as f64;
            let sd = (1000.0 * p * (1.0 - p) / n as f64).sqrt();
            assert!((m - 1000.0 * p).abs() < 5.0 * sd + 1e-9, "{p}: {m}");
        }
    }

    #[test]
    fn ln_factorial_is_right_on_both_sides_of_the_switch() {
        assert!((ln_factorial(5.0) - 120f64.ln()).abs() < 1e-12);
        let exact: f64 = (1..=12).map(|i| (i as f64).ln()).sum();
        assert!((ln_factorial(12.0) - exact).abs() < 1e-10);
    }
}
