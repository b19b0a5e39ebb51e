//! Password hashing with argon2id, OWASP parameters (19 MiB, 2 passes, 1 lane),
//! at most a bounded number at a time.
//!
//! Each hash or check needs 19 MiB of working memory. Computed on demand by
//! every request, 64 parallel logins held 64 of them at once (and the
//! allocator kept much of it afterwards: 219 MB grew to 1.4 GB). Here every
//! computation goes through one [`HashingGate`]: at most one per core runs at
//! a time, each in a working buffer the gate owns and reuses (allocated once,
//! wiped after each use), so hashing never holds more than
//! `cores x 19 MiB`. Callers beyond that wait in line for at most
//! [`WAIT_FOR_TURN`]; then they get [`PasswordError::Busy`] (the server
//! answers 503 with `Retry-After`).

use argon2::password_hash::phc::{Ident, Output, ParamsString, PasswordHash, Salt};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex, OnceLock};
use std::time::{Duration, Instant};
use subtle::ConstantTimeEq;
use thiserror::Error;

/// OWASP Password Storage Cheat Sheet, argon2id minimum: m = 19 MiB, t = 2, p = 1.
const MEMORY_KIB: u32 = 19_456;
const PASSES: u32 = 2;
const LANES: u32 = 1;
const SALT_BYTES: usize = 16;
const OUTPUT_BYTES: usize = 32;
pub const MIN_PASSWORD_CHARS: usize = 10;
/// Longer inputs are refused so a login form cannot be used to burn CPU.
pub const MAX_PASSWORD_BYTES: usize = 1_024;
/// A stored hash asking for more memory than this is refused (it would grow
/// every buffer of the gate to that size).
pub const MAX_STORED_MEMORY_KIB: u32 = 4 * MEMORY_KIB;
/// How long a caller waits for a free turn before giving up.
pub const WAIT_FOR_TURN: Duration = Duration::from_secs(30);

#[derive(Debug, Error, PartialEq)]
pub enum PasswordError {
    #[error(
        "the password is too short: use at least {MIN_PASSWORD_CHARS} characters (a phrase of several words is easiest)"
    )]
    TooShort,
    #[error("the password is longer than {MAX_PASSWORD_BYTES} bytes")]
    TooLong,
    #[error("the stored password hash is not readable ({0}); reset this user's password")]
    BadStoredHash(String),
    #[error("password hashing failed: {0}")]
    Hashing(String),
    /// Every hashing turn stayed taken for [`WAIT_FOR_TURN`].
    #[error("the server is busy checking other passwords; try again in a few seconds")]
    Busy,
}

fn params() -> Params {
    Params::new(MEMORY_KIB, PASSES, LANES, Some(OUTPUT_BYTES)).expect("constant parameters are valid")
}

/// At most `capacity` argon2 computations at a time, each in a reused buffer.
#[derive(Debug)]
pub struct HashingGate {
    capacity: usize,
    wait: Duration,
    state: Mutex<GateState>,
    freed: Condvar,
    /// Computations running now, and the most seen at once (for tests and
    /// measurements).
    running: AtomicUsize,
    peak: AtomicUsize,
}

#[derive(Debug, Default)]
struct GateState {
    /// Buffers not in use.
    idle: Vec<Vec<Block>>,
    /// Buffers made so far (at most `capacity`).
    made: usize,
}

impl HashingGate {
    pub fn new(capacity: usize, wait: Duration) -> HashingGate {
        HashingGate {
            capacity: capacity.max(1),
            wait,
            state: Mutex::new(GateState::default()),
            freed: Condvar::new(),
            running: AtomicUsize::new(0),
            peak: AtomicUsize::new(0),
        }
    }

    /// The gate every hash and check of this process goes through: one
    /// turn per core (at most 8).
    pub fn global() -> &'static HashingGate {
        static GATE: OnceLock<HashingGate> = OnceLock::new();
        GATE.get_or_init(|| {
            let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
            HashingGate::new(cores.min(8), WAIT_FOR_TURN)
        })
    }

    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// The most computations that ran at once so far.
    pub fn peak(&self) -> usize {
        self.peak.load(Ordering::SeqCst)
    }

    /// Runs `work` on a buffer of at least `blocks` blocks once a turn is
    /// free; [`PasswordError::Busy`] after waiting too long.
    pub fn run<T>(&self, blocks: usize, work: impl FnOnce(&mut [Block]) -> T) -> Result<T, PasswordError> {
        let mut buffer = self.take()?;
        if buffer.len() < blocks {
            buffer.resize(blocks, Block::new());
        }
        let now = self.running.fetch_add(1, Ordering::SeqCst) + 1;
        self.peak.fetch_max(now, Ordering::SeqCst);
        // The turn is given back even if `work` panics.
        struct Turn<'a> {
            gate: &'a HashingGate,
            buffer: Vec<Block>,
        }
        impl Drop for Turn<'_> {
            fn drop(&mut self) {
                // No password-derived state stays in memory between uses.
                self.buffer.fill(Block::new());
                self.gate.running.fetch_sub(1, Ordering::SeqCst);
                let mut state = self.gate.state.lock().unwrap_or_else(|p| p.into_inner());
                state.idle.push(std::mem::take(&mut self.buffer));
                drop(state);
                self.gate.freed.notify_one();
            }
        }
        let mut turn = Turn { gate: self, buffer };
        Ok(work(&mut turn.buffer[..blocks]))
    }

    fn take(&self) -> Result<Vec<Block>, PasswordError> {
        let deadline = Instant::now() + self.wait;
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        loop {
            if let Some(buffer) = state.idle.pop() {
                return Ok(buffer);
            }
            if state.made < self.capacity {
                state.made += 1;
                return Ok(Vec::new());
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(PasswordError::Busy);
            }
            state = self.freed.wait_timeout(state, left).unwrap_or_else(|p| p.into_inner()).0;
        }
    }
}

/// Hashes a new password into a PHC string (`$argon2id$v=19$m=19456,t=2,p=1$...`).
pub fn hash_password(password: &str) -> Result<String, PasswordError> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(PasswordError::TooShort);
    }
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(PasswordError::TooLong);
    }
    let hashing = |e: &dyn std::fmt::Display| PasswordError::Hashing(e.to_string());
    let mut salt = [0u8; SALT_BYTES];
    getrandom::fill(&mut salt).map_err(|e| hashing(&e))?;
    let params = params();
    let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
    let mut out = [0u8; OUTPUT_BYTES];
    HashingGate::global()
        .run(params.block_count(), |blocks| {
            argon.hash_password_into_with_memory(password.as_bytes(), &salt, &mut out, blocks)
        })?
        .map_err(|e| hashing(&e))?;
    let phc = PasswordHash {
        algorithm: Ident::from(Algorithm::Argon2id),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params).map_err(|e| hashing(&e))?,
        salt: Some(Salt::new(&salt).map_err(|e| hashing(&e))?),
        hash: Some(Output::new(&out).map_err(|e| hashing(&e))?),
    };
    Ok(phc.to_string())
}

/// True when `password` matches the stored PHC hash. The parameters are read
/// from the hash, so hashes made with older parameters still verify.
pub fn verify_password(password: &str, stored: &str) -> Result<bool, PasswordError> {
    if password.len() > MAX_PASSWORD_BYTES {
        return Ok(false);
    }
    let bad = |e: &dyn std::fmt::Display| PasswordError::BadStoredHash(e.to_string());
    let parsed = PasswordHash::new(stored).map_err(|e| bad(&e))?;
    let (Some(salt), Some(expected)) = (&parsed.salt, &parsed.hash) else {
        return Err(bad(&"no salt or no hash"));
    };
    let algorithm = Algorithm::new(parsed.algorithm.as_str()).map_err(|e| bad(&e))?;
    let version = parsed.version.map(Version::try_from).transpose().map_err(|e| bad(&e))?.unwrap_or_default();
    let params = Params::try_from(&parsed).map_err(|e| bad(&e))?;
    if params.m_cost() > MAX_STORED_MEMORY_KIB {
        return Err(bad(&format!("it asks for {} KiB of memory, more than {MAX_STORED_MEMORY_KIB}", params.m_cost())));
    }
    let argon = Argon2::new(algorithm, version, params.clone());
    let mut out = vec![0u8; expected.len()];
    HashingGate::global()
        .run(params.block_count(), |blocks| {
            argon.hash_password_into_with_memory(password.as_bytes(), salt.as_ref(), &mut out, blocks)
        })?
        .map_err(|e| PasswordError::Hashing(e.to_string()))?;
    Ok(bool::from(out.ct_eq(expected.as_bytes())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use argon2::PasswordVerifier;
    use std::sync::Arc;

    #[test]
    fn hash_then_verify() {
        let h = hash_password("correct horse battery").unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert!(verify_password("correct horse battery", &h).unwrap());
        assert!(!verify_password("correct horse batterY", &h).unwrap());
        assert_ne!(h, hash_password("correct horse battery").unwrap(), "salts differ");
        // The argon2 crate's own check agrees, both ways.
        let argon = Argon2::default();
        assert!(argon.verify_password(b"correct horse battery", &PasswordHash::new(&h).unwrap()).is_ok());
        let theirs = argon2::PasswordHasher::hash_password(&Argon2::default(), b"another long password").unwrap();
        assert!(verify_password("another long password", &theirs.to_string()).unwrap());
        assert!(!verify_password("another long passworD", &theirs.to_string()).unwrap());
    }

    #[test]
    fn older_parameters_still_verify() {
        // argon2i, version 0x10, 4 MiB, 3 passes, 2 lanes.
        let old = Argon2::new(Algorithm::Argon2i, Version::V0x10, Params::new(4096, 3, 2, None).unwrap());
        let h = argon2::PasswordHasher::hash_password(&old, b"an older long password").unwrap().to_string();
        assert!(h.starts_with("$argon2i$v=16$m=4096,t=3,p=2$"), "{h}");
        assert!(verify_password("an older long password", &h).unwrap());
        assert!(!verify_password("an older long passwore", &h).unwrap());
    }

    #[test]
    fn policy_and_bad_hash() {
        assert_eq!(hash_password("short"), Err(PasswordError::TooShort));
        assert!(matches!(verify_password("whatever long", "not-a-hash"), Err(PasswordError::BadStoredHash(_))));
        let greedy = "$argon2id$v=19$m=1048576,t=2,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g";
        assert!(matches!(verify_password("whatever long", greedy), Err(PasswordError::BadStoredHash(_))));
    }

    /// 64 parallel checks never run more than one per core at a time.
    #[test]
    fn sixty_four_parallel_checks_run_at_most_capacity_at_once() {
        let h = Arc::new(hash_password("correct horse battery").unwrap());
        let gate = HashingGate::global();
        let threads: Vec<_> = (0..64)
            .map(|i| {
                let h = h.clone();
                std::thread::spawn(move || {
                    verify_password(if i % 2 == 0 { "correct horse battery" } else { "wrong" }, &h)
                })
            })
            .collect();
        let answers: Vec<bool> = threads.into_iter().map(|t| t.join().unwrap().unwrap()).collect();
        assert_eq!(answers.iter().filter(|&&ok| ok).count(), 32);
        assert!(gate.peak() <= gate.capacity(), "peak {} > capacity {}", gate.peak(), gate.capacity());
        assert!(gate.peak() >= 1);
        assert!(gate.state.lock().unwrap().made <= gate.capacity(), "one buffer per turn, no more");
    }

    #[test]
    fn a_caller_waiting_too_long_is_told_busy_and_a_panic_gives_the_turn_back() {
        let gate = Arc::new(HashingGate::new(1, Duration::from_millis(50)));
        let (started, release) = (Arc::new(std::sync::Barrier::new(2)), Arc::new(std::sync::Barrier::new(2)));
        let holder = {
            let (gate, started, release) = (gate.clone(), started.clone(), release.clone());
            std::thread::spawn(move || {
                gate.run(4, |_| {
                    started.wait();
                    release.wait();
                })
            })
        };
        started.wait();
        assert_eq!(gate.run(4, |_| ()), Err(PasswordError::Busy));
        release.wait();
        holder.join().unwrap().unwrap();
        let g = gate.clone();
        assert!(std::thread::spawn(move || g.run(4, |_: &mut [Block]| -> u8 { panic!("boom") })).join().is_err());
        assert_eq!(gate.run(8, |b| b.len()), Ok(8), "the turn came back after the panic");
        assert_eq!(gate.peak(), 1);
    }
}
