//! The threads the analyses run on: one per core, fixed. CPU-bound work
//! gains nothing from more at once, and each analysis holds its working
//! memory (tens of MB for a map of a million events, the JSON tree of a long
//! table) until it is done: with a fixed set the memory stays at cores x one
//! analysis however many people ask at once. A fixed set also keeps that
//! memory in the allocator arenas of these few threads: on tokio's blocking
//! pool each new thread allocated in an arena of its own, and glibc keeps
//! what it frees there (resident size 838 MB instead of the 45 MB snapshot
//! after the benchmark, bench/server/RESULTS.md).

use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex, mpsc};

type Job = Box<dyn FnOnce() + Send>;

pub struct AnalysisPool {
    jobs: mpsc::Sender<Job>,
}

/// The analysis panicked (its thread lives on), or the pool is gone.
#[derive(Debug, thiserror::Error)]
#[error("the analysis did not finish")]
pub struct Unfinished;

impl AnalysisPool {
    /// `threads` threads; they end when the pool is dropped.
    pub fn new(threads: usize) -> AnalysisPool {
        let (jobs, queue) = mpsc::channel::<Job>();
        let queue = Arc::new(Mutex::new(queue));
        for i in 0..threads.max(1) {
            let queue = queue.clone();
            std::thread::Builder::new()
                .name(format!("analysis-{i}"))
                .spawn(move || {
                    loop {
                        // The lock is held only while waiting for the next job.
                        let next = queue.lock().unwrap_or_else(|p| p.into_inner()).recv();
                        let Ok(job) = next else { return };
                        // A panic drops the job's answer channel: its caller gets `Unfinished`.
                        let _ = std::panic::catch_unwind(AssertUnwindSafe(job));
                    }
                })
                .expect("start an analysis thread");
        }
        AnalysisPool { jobs }
    }

    /// One thread per core.
    pub fn per_core() -> AnalysisPool {
        AnalysisPool::new(std::thread::available_parallelism().map_or(2, |n| n.get()))
    }

    /// Runs `work` on the pool when a thread is free (first come, first
    /// served) and waits for its answer without blocking the async workers.
    pub async fn run<T: Send + 'static>(&self, work: impl FnOnce() -> T + Send + 'static) -> Result<T, Unfinished> {
        let (answer, answered) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move || {
            let _ = answer.send(work());
        });
        self.jobs.send(job).map_err(|_| Unfinished)?;
        answered.await.map_err(|_| Unfinished)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    #[tokio::test]
    async fn runs_at_most_its_threads_at_once_and_survives_a_panic() {
        let pool = Arc::new(AnalysisPool::new(2));
        let (running, most) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let jobs: Vec<_> = (0..6)
            .map(|i| {
                let (pool, running, most) = (pool.clone(), running.clone(), most.clone());
                tokio::spawn(async move {
                    pool.run(move || {
                        let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                        most.fetch_max(now, Ordering::SeqCst);
                        std::thread::sleep(Duration::from_millis(30));
                        running.fetch_sub(1, Ordering::SeqCst);
                        i * 10
                    })
                    .await
                })
            })
            .collect();
        let mut answers = Vec::new();
        for j in jobs {
            answers.push(j.await.unwrap().unwrap());
        }
        assert_eq!(answers, [0, 10, 20, 30, 40, 50]);
        assert_eq!(most.load(Ordering::SeqCst), 2, "two threads, two at once");
        assert!(pool.run(|| -> u32 { panic!("a failing analysis") }).await.is_err());
        assert_eq!(pool.run(|| 7).await.unwrap(), 7, "the pool still answers");
        assert_eq!(pool.run(|| 8).await.unwrap(), 8);
    }
}
