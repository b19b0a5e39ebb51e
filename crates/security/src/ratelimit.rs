//! Login throttling: how many password guesses an account and a client
//! address get, and how long they wait after that.
//!
//! Pure and clock-injected: callers pass `now`, nothing here reads the
//! clock, sleeps or does I/O. The server keeps one [`LoginThrottle`] in
//! memory behind a mutex (`vitalcore_app::accounts::Logins`); a restart forgets it.
//!
//! Every attempt is counted twice, once for the account name typed and once
//! for the client address it came from, and must pass both:
//!
//! | | account | client address |
//! |---|---|---|
//! | wrong passwords with no wait | 3 | 10 |
//! | then wait before the next try | 1 s, doubling, at most 60 s | 1 s, doubling, at most 60 s |
//! | locked after | 10 wrong | 30 wrong |
//! | lock lasts | 15 min | 15 min |
//! | forgotten after no failure for | 1 h | 1 h |
//!
//! Why these numbers: a person who mistypes gets three free tries and then
//! waits a second or two, which they barely notice; a guesser gets about
//! 10 guesses per 17 minutes on one account (some 850 a day), and a 10-character
//! password (the minimum) is not found at that rate. The address allowance
//! is larger because a field office may sit behind one shared address; its
//! lock still caps one address at some 30 guesses per half hour across all
//! accounts. A lock holds for the right password too (the answer is the same
//! 429 either way, so a locked account does not tell whether a guess was
//! right). Only a successful login clears an account's count; it never
//! clears an address's count (else an attacker holding one account could
//! reset the address between guesses at others).
//!
//! Attempts in flight count as failures until they are decided, so 50
//! parallel guesses get no more tries than 50 sequential ones.
//!
//! Memory is bounded: each table tracks at most [`MAX_TRACKED`] keys
//! (about 150 bytes each, so under 2 MB per table). When one is full, keys
//! whose failures are forgotten go first, then the longest-quiet unlocked
//! key; a locked key is evicted only when every key is locked.
//!
//! IPv6 clients are counted per /64 (one subscriber's usual allocation),
//! IPv4-mapped IPv6 as IPv4. Behind a reverse proxy every client has the
//! proxy's address; the account limits still hold.
//!
//! The cost of a lock: someone who knows a user name can keep that account
//! locked by failing 10 times every 15 minutes (the address lock slows this
//! down from one address). Restarting the server clears every lock.

use jiff::{SignedDuration, Timestamp};
use std::collections::HashMap;
use std::fmt;
use std::hash::Hash;
use std::net::{IpAddr, Ipv6Addr};

/// Keys tracked per table (accounts, addresses) at most.
pub const MAX_TRACKED: usize = 10_000;

/// How one kind of key is throttled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThrottlePolicy {
    /// Wrong passwords allowed without waiting.
    pub free_failures: u32,
    /// The wait after the first failure beyond the free ones; it doubles with each further one.
    pub first_delay: SignedDuration,
    /// The longest wait between two tries.
    pub max_delay: SignedDuration,
    /// Failures (free ones included) that lock the key.
    pub lock_after: u32,
    pub lock_for: SignedDuration,
    /// Failures are forgotten after this long without one.
    pub forget_after: SignedDuration,
}

impl ThrottlePolicy {
    /// Per account name.
    pub const ACCOUNT: ThrottlePolicy = ThrottlePolicy {
        free_failures: 3,
        first_delay: SignedDuration::from_secs(1),
        max_delay: SignedDuration::from_secs(60),
        lock_after: 10,
        lock_for: SignedDuration::from_mins(15),
        forget_after: SignedDuration::from_hours(1),
    };

    /// Per client address (an office may share one).
    pub const CLIENT: ThrottlePolicy = ThrottlePolicy {
        free_failures: 10,
        first_delay: SignedDuration::from_secs(1),
        max_delay: SignedDuration::from_secs(60),
        lock_after: 30,
        lock_for: SignedDuration::from_mins(15),
        forget_after: SignedDuration::from_hours(1),
    };

    /// The wait after `n` failures (`n` beyond the free ones).
    fn delay(&self, n: u32) -> SignedDuration {
        if n < self.free_failures {
            return SignedDuration::ZERO;
        }
        let doublings = (n - self.free_failures).min(30);
        let delay = self.first_delay.checked_mul(1i32 << doublings).unwrap_or(self.max_delay);
        delay.min(self.max_delay)
    }
}

/// What is throttled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ThrottledBy {
    Account,
    Client,
}

impl fmt::Display for ThrottledBy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ThrottledBy::Account => "account",
            ThrottledBy::Client => "client address",
        })
    }
}

/// A login that must wait: answered 429 with `Retry-After`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Throttled {
    pub by: ThrottledBy,
    /// Locked (too many failures) rather than backing off between tries.
    pub locked: bool,
    pub retry_after: SignedDuration,
}

impl Throttled {
    /// Whole seconds to wait, rounded up, at least 1 (the `Retry-After` value).
    pub fn retry_after_secs(&self) -> i64 {
        let secs = self.retry_after.as_secs() + i64::from(self.retry_after.subsec_nanos() > 0);
        secs.max(1)
    }
}

impl fmt::Display for Throttled {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what =
            if self.locked { "locked after too many wrong passwords" } else { "slowed down after wrong passwords" };
        write!(f, "{} {what}: try again in {} s", self.by, self.retry_after_secs())
    }
}

#[derive(Debug, Clone)]
struct Entry {
    /// Decided failures.
    failures: u32,
    /// Attempts begun and not yet decided (counted as failures meanwhile).
    pending: u32,
    /// The last failure or attempt begun.
    last: Timestamp,
    locked_until: Option<Timestamp>,
}

/// One table of keys (accounts or addresses) under one policy.
#[derive(Debug)]
struct Limiter<K> {
    policy: ThrottlePolicy,
    max_keys: usize,
    entries: HashMap<K, Entry>,
}

impl<K: Eq + Hash + Clone> Limiter<K> {
    fn new(policy: ThrottlePolicy, max_keys: usize) -> Limiter<K> {
        Limiter { policy, max_keys: max_keys.max(1), entries: HashMap::new() }
    }

    fn forgotten(&self, e: &Entry, now: Timestamp) -> bool {
        e.locked_until.is_none() && now.duration_since(e.last) >= self.policy.forget_after
    }

    /// Clears an expired lock or failures old enough to forget.
    fn refresh(&mut self, key: &K, now: Timestamp) {
        let policy = self.policy;
        if let Some(e) = self.entries.get_mut(key) {
            match e.locked_until {
                Some(until) if now >= until => {
                    e.locked_until = None;
                    e.failures = 0;
                }
                None if now.duration_since(e.last) >= policy.forget_after => {
                    e.failures = 0;
                    e.pending = 0;
                }
                _ => {}
            }
        }
    }

    /// The wait `key` is under now, if any.
    fn check(&mut self, key: &K, now: Timestamp, by: ThrottledBy) -> Option<Throttled> {
        self.refresh(key, now);
        let e = self.entries.get(key)?;
        if let Some(until) = e.locked_until {
            return Some(Throttled { by, locked: true, retry_after: until.duration_since(now) });
        }
        let allowed_at = e.last.checked_add(self.policy.delay(e.failures + e.pending)).unwrap_or(e.last);
        (now < allowed_at).then(|| Throttled { by, locked: false, retry_after: allowed_at.duration_since(now) })
    }

    /// The entry of `key`, made room for when the table is full.
    fn entry(&mut self, key: &K, now: Timestamp) -> &mut Entry {
        if !self.entries.contains_key(key) && self.entries.len() >= self.max_keys {
            self.make_room(now);
        }
        self.entries.entry(key.clone()).or_insert(Entry { failures: 0, pending: 0, last: now, locked_until: None })
    }

    fn make_room(&mut self, now: Timestamp) {
        let stale: Vec<K> =
            self.entries.iter().filter(|(_, e)| self.forgotten(e, now)).map(|(k, _)| k.clone()).collect();
        for k in stale {
            self.entries.remove(&k);
        }
        if self.entries.len() < self.max_keys {
            return;
        }
        let oldest = |locked_too: bool| {
            self.entries
                .iter()
                .filter(|(_, e)| locked_too || e.locked_until.is_none())
                .min_by_key(|(_, e)| e.last)
                .map(|(k, _)| k.clone())
        };
        if let Some(k) = oldest(false).or_else(|| oldest(true)) {
            self.entries.remove(&k);
        }
    }

    fn begin(&mut self, key: &K, now: Timestamp) {
        let e = self.entry(key, now);
        e.pending += 1;
        e.last = now;
    }

    /// Records a failure; returns the lock it starts, if any.
    fn fail(&mut self, key: &K, now: Timestamp, by: ThrottledBy) -> Option<Throttled> {
        let policy = self.policy;
        let e = self.entry(key, now);
        e.pending = e.pending.saturating_sub(1);
        e.failures += 1;
        e.last = now;
        if e.failures >= policy.lock_after && e.locked_until.is_none() {
            e.locked_until = now.checked_add(policy.lock_for).ok();
            return Some(Throttled { by, locked: true, retry_after: policy.lock_for });
        }
        None
    }

    /// An attempt ends without a failure; `clear` forgets the key's failures.
    fn settle(&mut self, key: &K, clear: bool) {
        if let Some(e) = self.entries.get_mut(key) {
            e.pending = e.pending.saturating_sub(1);
            if clear {
                e.failures = 0;
                e.locked_until = None;
            }
            if e.pending == 0 && e.failures == 0 && e.locked_until.is_none() {
                self.entries.remove(key);
            }
        }
    }
}

/// A client address as counted: IPv4, or the /64 of an IPv6 address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ClientKey(IpAddr);

impl ClientKey {
    pub fn of(addr: IpAddr) -> ClientKey {
        match addr {
            IpAddr::V4(v4) => ClientKey(IpAddr::V4(v4)),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => ClientKey(IpAddr::V4(v4)),
                None => {
                    let s = v6.segments();
                    ClientKey(IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0)))
                }
            },
        }
    }
}

impl fmt::Display for ClientKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            IpAddr::V4(a) => write!(f, "{a}"),
            IpAddr::V6(a) => write!(f, "{a}/64"),
        }
    }
}

/// The account key of a typed user name: trimmed, at most 64 bytes (the
/// longest valid user name), so unknown long names cannot grow the table's entries.
fn account_key(username: &str) -> String {
    let name = username.trim();
    let mut end = name.len().min(64);
    while !name.is_char_boundary(end) {
        end -= 1;
    }
    name[..end].to_string()
}

/// A login attempt let through, to be settled with
/// [`LoginThrottle::failed`], [`LoginThrottle::succeeded`] or
/// [`LoginThrottle::abandoned`].
#[derive(Debug)]
#[must_use = "settle the attempt, else it counts as a failure until forgotten"]
pub struct Attempt {
    account: String,
    client: Option<ClientKey>,
}

/// Per-account and per-address login throttle (see the module documentation).
#[derive(Debug)]
pub struct LoginThrottle {
    accounts: Limiter<String>,
    clients: Limiter<ClientKey>,
}

impl Default for LoginThrottle {
    fn default() -> Self {
        LoginThrottle::new(ThrottlePolicy::ACCOUNT, ThrottlePolicy::CLIENT, MAX_TRACKED)
    }
}

impl LoginThrottle {
    pub fn new(account: ThrottlePolicy, client: ThrottlePolicy, max_keys: usize) -> LoginThrottle {
        LoginThrottle { accounts: Limiter::new(account, max_keys), clients: Limiter::new(client, max_keys) }
    }

    /// Lets an attempt at `username` from `client` through, or says how
    /// long to wait (the longer of the account's and the address's waits).
    /// The attempt counts as a failure until it is settled.
    pub fn begin(&mut self, username: &str, client: Option<IpAddr>, now: Timestamp) -> Result<Attempt, Throttled> {
        let account = account_key(username);
        let client = client.map(ClientKey::of);
        let by_account = self.accounts.check(&account, now, ThrottledBy::Account);
        let by_client = client.and_then(|c| self.clients.check(&c, now, ThrottledBy::Client));
        if let Some(wait) = [by_account, by_client].into_iter().flatten().max_by_key(|t| t.retry_after) {
            return Err(wait);
        }
        self.accounts.begin(&account, now);
        if let Some(c) = &client {
            self.clients.begin(c, now);
        }
        Ok(Attempt { account, client })
    }

    /// A wrong password (or unknown account). Returns the locks this failure
    /// starts, for the log.
    pub fn failed(&mut self, attempt: Attempt, now: Timestamp) -> Vec<Throttled> {
        let mut locks = Vec::new();
        locks.extend(self.accounts.fail(&attempt.account, now, ThrottledBy::Account));
        if let Some(c) = &attempt.client {
            locks.extend(self.clients.fail(c, now, ThrottledBy::Client));
        }
        locks
    }

    /// The right password: the account's failures are forgotten; the
    /// address's are kept.
    pub fn succeeded(&mut self, attempt: Attempt) {
        self.accounts.settle(&attempt.account, true);
        if let Some(c) = &attempt.client {
            self.clients.settle(c, false);
        }
    }

    /// Undecided (the password could not be checked): counts as nothing.
    pub fn abandoned(&mut self, attempt: Attempt) {
        self.accounts.settle(&attempt.account, false);
        if let Some(c) = &attempt.client {
            self.clients.settle(c, false);
        }
    }

    /// Keys tracked: (accounts, addresses).
    pub fn tracked(&self) -> (usize, usize) {
        (self.accounts.entries.len(), self.clients.entries.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t0() -> Timestamp {
        "2024-05-01T08:00:00Z".parse().unwrap()
    }

    fn at(secs: i64) -> Timestamp {
        t0() + SignedDuration::from_secs(secs)
    }

    fn ip(s: &str) -> Option<IpAddr> {
        Some(s.parse().unwrap())
    }

    /// One wrong password at `now`; the wait if throttled.
    fn wrong(t: &mut LoginThrottle, user: &str, client: &str, now: Timestamp) -> Result<(), Throttled> {
        let a = t.begin(user, ip(client), now)?;
        let _ = t.failed(a, now);
        Ok(())
    }

    #[test]
    fn three_free_failures_then_doubling_waits_then_a_lock_that_holds_for_the_right_password() {
        let mut t = LoginThrottle::default();
        for i in 0..3 {
            wrong(&mut t, "amina", "10.0.0.1", at(i)).unwrap();
        }
        // The 4th try at once waits 1 s.
        let w = wrong(&mut t, "amina", "10.0.0.1", at(2)).unwrap_err();
        assert_eq!((w.by, w.locked, w.retry_after_secs()), (ThrottledBy::Account, false, 1));
        // Then 1, 2, 4, 8, 16, 32, 60 s apart (the 4th to the 9th failures).
        let mut now = 2;
        for delay in [1, 2, 4, 8, 16, 32] {
            now += delay;
            assert_eq!(wrong(&mut t, "amina", "10.0.0.1", at(now - 1)).unwrap_err().retry_after_secs(), 1);
            wrong(&mut t, "amina", "10.0.0.1", at(now)).unwrap();
        }
        // 9 failures so far; the 10th locks for 15 minutes.
        now += 60;
        let a = t.begin("amina", ip("10.0.0.1"), at(now)).unwrap();
        let locks = t.failed(a, at(now));
        assert_eq!(
            locks,
            vec![Throttled { by: ThrottledBy::Account, locked: true, retry_after: ThrottlePolicy::ACCOUNT.lock_for }]
        );
        // Locked: even the right password waits (the caller never gets to check it).
        let w = t.begin("amina", ip("10.0.0.2"), at(now + 60)).unwrap_err();
        assert_eq!((w.locked, w.retry_after_secs()), (true, 14 * 60));
        // After the lock, the right password gets in and clears the count.
        let a = t.begin("amina", ip("10.0.0.2"), at(now + 15 * 60)).unwrap();
        t.succeeded(a);
        for i in 0..3 {
            wrong(&mut t, "amina", "10.0.0.3", at(now + 15 * 60 + i)).unwrap();
        }
    }

    #[test]
    fn fifty_parallel_guesses_get_no_more_tries_than_sequential_ones() {
        let mut t = LoginThrottle::default();
        // All begun before any is decided (50 requests in flight at once).
        let begun: Vec<_> = (0..50).map(|_| t.begin("amina", ip("10.0.0.1"), t0())).collect();
        let through: Vec<Attempt> = begun.into_iter().filter_map(Result::ok).collect();
        assert_eq!(through.len(), 3);
        for a in through {
            let _ = t.failed(a, t0());
        }
        // The right password right after is refused too, with a Retry-After.
        let w = t.begin("amina", ip("10.0.0.1"), at(0)).unwrap_err();
        assert!(w.retry_after_secs() >= 1);
    }

    #[test]
    fn an_address_is_throttled_across_accounts_and_a_success_does_not_clear_it() {
        let mut t = LoginThrottle::default();
        for i in 0..10 {
            wrong(&mut t, &format!("guess{i}"), "203.0.113.9", at(0)).unwrap();
        }
        let w = wrong(&mut t, "someone-else", "203.0.113.9", at(0)).unwrap_err();
        assert_eq!(w.by, ThrottledBy::Client);
        // Other addresses are not affected.
        wrong(&mut t, "someone-else", "203.0.113.10", at(0)).unwrap();
        // A valid login from the address after the wait does not reset its count.
        let a = t.begin("amina", ip("203.0.113.9"), at(1)).unwrap();
        t.succeeded(a);
        assert!(t.begin("bob", ip("203.0.113.9"), at(1)).is_err(), "still backing off");
        // 30 failures lock the address.
        let mut now = 1;
        let mut locked = false;
        for i in 0..40 {
            now += 61;
            if let Ok(a) = t.begin(&format!("x{i}"), ip("203.0.113.9"), at(now)) {
                locked |= t.failed(a, at(now)).iter().any(|l| l.by == ThrottledBy::Client && l.locked);
            }
        }
        assert!(locked);
    }

    #[test]
    fn ipv6_is_counted_per_64_and_mapped_ipv4_as_ipv4() {
        let a = ClientKey::of("2001:db8:1:2:aaaa::1".parse().unwrap());
        let b = ClientKey::of("2001:db8:1:2:bbbb::9".parse().unwrap());
        assert_eq!(a, b);
        assert_ne!(a, ClientKey::of("2001:db8:1:3::1".parse().unwrap()));
        assert_eq!(ClientKey::of("::ffff:192.0.2.1".parse().unwrap()), ClientKey::of("192.0.2.1".parse().unwrap()));
        assert_eq!(a.to_string(), "2001:db8:1:2::/64");
    }

    #[test]
    fn failures_are_forgotten_after_an_hour_and_undecided_attempts_count_for_nothing() {
        let mut t = LoginThrottle::default();
        for i in 0..3 {
            wrong(&mut t, "amina", "10.0.0.1", at(i)).unwrap();
        }
        assert!(t.begin("amina", None, at(2)).is_err());
        let a = t.begin("amina", None, at(3600 + 2)).unwrap();
        t.abandoned(a);
        assert_eq!(t.tracked(), (0, 1), "nothing left of the account");
    }

    #[test]
    fn memory_is_bounded_and_locked_keys_are_evicted_last() {
        let mut t = LoginThrottle::new(ThrottlePolicy::ACCOUNT, ThrottlePolicy::CLIENT, 100);
        // Lock `target`.
        for i in 0..10 {
            let a = t.begin("target", None, at(i * 61)).unwrap();
            let _ = t.failed(a, at(i * 61));
        }
        // A flood of other names and addresses.
        for i in 0..5_000u32 {
            let client = IpAddr::from(i.to_be_bytes());
            let _ = wrong(&mut t, &format!("name{i}"), &client.to_string(), at(700));
        }
        let (accounts, clients) = t.tracked();
        assert!(accounts <= 100 && clients <= 100, "{accounts} {clients}");
        assert!(t.begin("target", None, at(701)).unwrap_err().locked, "the lock survived the flood");
        // Long names are cut to 64 bytes.
        let long = "é".repeat(100);
        let a = t.begin(&long, None, at(800)).unwrap();
        assert_eq!(a.account.len(), 64);
        t.abandoned(a);
    }
}
