//! A streamed import, on one thread or two. The source (reading and
//! parsing the file), the fingerprints and the batch rule for repeated ids
//! run on the calling thread; the backend's writes run either inline
//! ([`Inline`]) or on a second thread fed in batches through a bounded
//! channel ([`Incoming`]). Each side takes about half of the CPU time of a
//! 2M-row SQLite import, so on two free cores the wall time nearly halves;
//! memory stays bounded (at most [`DEPTH`] batches of [`BATCH`] events in
//! flight).
//!
//! The events go back to the reader once written and are freed there:
//! glibc's allocator frees memory of another thread's arena under a lock,
//! which cost 0.4 s of a 2M-row import when the writer freed them.
//!
//! Still one transaction: the writer opens it, and commits only after the
//! reader has said the file was read to its end. Any failure on either side
//! stops both and the writer returns without committing.

use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

use vitalcore_framework::{Event, ImportFile};

use crate::fingerprint::{BatchKey, Fingerprinter, SeenIds};
use crate::{EventSource, StoreError};

/// Events per message: large enough that the channel costs nothing per
/// event, small enough that the writer starts at once.
const BATCH: usize = 1024;
/// Batches in flight: lets the faster side run ahead a little.
const DEPTH: usize = 8;

/// Environment variable that sets the threads of a streamed import: `1`
/// runs the writes inline on the reading thread (the default where only one
/// core is available), `2` on a thread of their own.
pub const THREADS_VAR: &str = "VITALCORE_IMPORT_THREADS";

/// An event that passed the batch rule (the first occurrence of its id in
/// the file), with its content fingerprint.
pub struct Checked {
    pub event: Event,
    pub fingerprint: i64,
}

/// What the reader knows once the file has been read to its end.
pub struct ReadDone {
    pub file: ImportFile,
    /// Later occurrences of an id with the same content (unchanged).
    pub duplicates: u64,
}

/// Where the writer takes the checked events from.
pub trait Feed {
    /// Calls `write` with each checked event in file order; returns what the
    /// reader knew at the end. An error when the reading stopped before the
    /// end (the caller then must not commit) or when `write` failed.
    fn each(&mut self, write: &mut dyn FnMut(&Checked) -> Result<(), StoreError>) -> Result<ReadDone, StoreError>;
}

/// Runs a streamed import: `write` takes the checked events of `source`
/// from its [`Feed`], on a second thread when two cores are available
/// (see [`THREADS_VAR`]), else inline on this one.
pub fn import<T: Send>(
    source: EventSource<'_>,
    write: impl FnOnce(&mut dyn Feed) -> Result<T, StoreError> + Send,
) -> Result<T, StoreError> {
    if threads() >= 2 {
        import_on_two_threads(source, move |mut incoming| write(&mut incoming))
    } else {
        write(&mut Inline { source })
    }
}

/// Threads for a streamed import: [`THREADS_VAR`] when set to 1 or 2, else
/// two where the process may use at least two cores.
fn threads() -> usize {
    match std::env::var(THREADS_VAR).ok().and_then(|v| v.trim().parse::<usize>().ok()) {
        Some(n) if n >= 1 => n.min(2),
        _ => std::thread::available_parallelism().map_or(1, |n| n.get()).min(2),
    }
}

/// The fingerprint and the batch rule, applied on the reading thread.
#[derive(Default)]
struct Checker {
    fingerprinter: Fingerprinter,
    seen: SeenIds,
}

impl Checker {
    /// The event with its fingerprint, or None for a repeat of an id with
    /// the same content; an error for a repeat with other content.
    fn check(&mut self, event: Event) -> Result<Option<Checked>, StoreError> {
        let fingerprint = self.fingerprinter.event(&event);
        let p = &event.provenance;
        let key = BatchKey { source: p.source, source_id: &p.source_id, fingerprint, line: p.line };
        if !self.seen.first(&p.file, "source event", key)? {
            return Ok(None);
        }
        Ok(Some(Checked { event, fingerprint }))
    }
}

/// The writes inline: the source runs inside [`Feed::each`] and each
/// checked event is written as it is read.
pub struct Inline<'s> {
    source: EventSource<'s>,
}

impl Feed for Inline<'_> {
    fn each(&mut self, write: &mut dyn FnMut(&Checked) -> Result<(), StoreError>) -> Result<ReadDone, StoreError> {
        let mut checker = Checker::default();
        let file = (self.source)(&mut |event: Event| match checker.check(event)? {
            Some(checked) => write(&checked),
            None => Ok(()),
        })?;
        Ok(ReadDone { file, duplicates: checker.seen.duplicates })
    }
}

enum Message {
    Batch(Vec<Checked>),
    Done(ReadDone),
}

/// The writer's end of the channel.
pub struct Incoming {
    rx: Receiver<Message>,
    /// Written batches, back to the reader to be freed there.
    written: SyncSender<Vec<Checked>>,
}

impl Feed for Incoming {
    fn each(&mut self, write: &mut dyn FnMut(&Checked) -> Result<(), StoreError>) -> Result<ReadDone, StoreError> {
        loop {
            match self.rx.recv() {
                Ok(Message::Batch(events)) => {
                    events.iter().try_for_each(&mut *write)?;
                    // Should the reader have finished, the batch is freed here.
                    let _ = self.written.try_send(events);
                }
                Ok(Message::Done(done)) => return Ok(done),
                Err(_) => return Err(StoreError::Backend("the import stopped before the end of the file".into())),
            }
        }
    }
}

/// Runs `source` on this thread and `write` on a second one (see the
/// module's description). The error returned is the one that stopped the
/// import: the source's (a bad file, a conflict in it) or the writer's.
pub fn import_on_two_threads<T: Send>(
    source: EventSource<'_>,
    write: impl FnOnce(Incoming) -> Result<T, StoreError> + Send,
) -> Result<T, StoreError> {
    let (tx, rx) = sync_channel(DEPTH);
    let (written, to_free) = sync_channel(DEPTH);
    std::thread::scope(|scope| {
        let writer = scope.spawn(move || write(Incoming { rx, written }));
        let read = read_and_check(source, tx, &to_free);
        let written = writer.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        match (read, written) {
            (Ok(()), written) => written,
            // The writer stopped first: the reader's error only says so.
            (Err(ReadError::WriterGone), written) => {
                written.and(Err(StoreError::Backend("the import's writer stopped before the end of the file".into())))
            }
            (Err(ReadError::Source(e)), _) => Err(e),
        }
    })
}

enum ReadError {
    /// The writer dropped its end of the channel (it failed).
    WriterGone,
    Source(StoreError),
}

/// The reader's side: fingerprints each event, applies the batch rule and
/// hands on the first occurrences in batches, then the end of the file.
fn read_and_check(
    source: EventSource<'_>,
    tx: SyncSender<Message>,
    to_free: &Receiver<Vec<Checked>>,
) -> Result<(), ReadError> {
    let mut checker = Checker::default();
    let mut batch = Vec::with_capacity(BATCH);
    let mut writer_gone = false;
    let read = source(&mut |event: Event| {
        let Some(checked) = checker.check(event)? else { return Ok(()) };
        batch.push(checked);
        if batch.len() == BATCH {
            // Free what was written, and reuse one emptied batch's room.
            let mut next = None;
            while let Ok(mut emptied) = to_free.try_recv() {
                emptied.clear();
                next = Some(emptied);
            }
            let full = std::mem::replace(&mut batch, next.unwrap_or_else(|| Vec::with_capacity(BATCH)));
            if tx.send(Message::Batch(full)).is_err() {
                writer_gone = true;
                return Err(StoreError::Backend("the import's writer stopped".into()));
            }
        }
        Ok(())
    });
    if writer_gone {
        return Err(ReadError::WriterGone);
    }
    let file = read.map_err(ReadError::Source)?;
    let done = ReadDone { file, duplicates: checker.seen.duplicates };
    let sent = tx.send(Message::Batch(batch)).and_then(|()| tx.send(Message::Done(done)));
    sent.map_err(|_| ReadError::WriterGone)
}

#[cfg(test)]
mod tests {
    use super::*;
    use vitalcore_framework::{Place, Provenance, Source, Tags};

    fn synthetic_events(n: usize) -> Vec<Event> {
        (0..n)
            .map(|i| Event {
                provenance: Provenance {
                    source: Source::Acled,
                    source_id: format!("E{i}"),
                    file: "f.csv".into(),
                    line: i as u64 + 2,
                },
                date: jiff::civil::date(2020, 1, 1),
                date_end: None,
                place: Place::default(),
                event_type: "Battles".into(),
                sub_event_type: None,
                actor1: None,
                actor2: None,
                fatalities: (i % 7) as u32,
                civilian_fatalities: None,
                civilian_targeting: false,
                notes: None,
                tags: Tags::default(),
            })
            .collect()
    }

    fn file() -> ImportFile {
        ImportFile {
            path: "f.csv".into(),
            sha256: String::new(),
            format: "test".into(),
            rows_read: 0,
            rows_rejected: 0,
        }
    }

    #[test]
    fn every_first_occurrence_reaches_the_writer_in_order_and_repeats_are_counted() {
        let events = synthetic_events(3000);
        let mut source = |sink: crate::EventSink<'_>| {
            for e in events.iter().chain(&events[..10]) {
                sink(e.clone())?;
            }
            Ok(file())
        };
        let (ids, done) = import_on_two_threads(&mut source, |mut incoming| {
            let mut ids = Vec::new();
            let done = incoming.each(&mut |c| {
                ids.push(c.event.provenance.source_id.clone());
                Ok(())
            })?;
            Ok((ids, done.duplicates))
        })
        .unwrap();
        let expected: Vec<String> = events.iter().map(|e| e.provenance.source_id.clone()).collect();
        assert_eq!(ids, expected);
        assert_eq!(done, 10);
    }

    #[test]
    fn inline_writes_see_the_same_events_and_repeats_as_two_threads() {
        let events = synthetic_events(3000);
        let run = |two_threads: bool| {
            let mut source = |sink: crate::EventSink<'_>| {
                for e in events.iter().chain(&events[..10]) {
                    sink(e.clone())?;
                }
                Ok(file())
            };
            let write = |feed: &mut dyn Feed| {
                let mut ids = Vec::new();
                let done = feed.each(&mut |c| {
                    ids.push((c.event.provenance.source_id.clone(), c.fingerprint));
                    Ok(())
                })?;
                Ok((ids, done.duplicates))
            };
            if two_threads {
                import_on_two_threads(&mut source, |mut incoming| write(&mut incoming)).unwrap()
            } else {
                write(&mut Inline { source: &mut source }).unwrap()
            }
        };
        let inline = run(false);
        assert_eq!(inline.0.len(), 3000);
        assert_eq!(inline.1, 10);
        assert_eq!(inline, run(true));
    }

    #[test]
    fn a_failing_source_reaches_the_writer_as_an_unfinished_file_and_its_error_is_returned() {
        let events = synthetic_events(5000);
        let mut source = |sink: crate::EventSink<'_>| {
            for e in &events {
                sink(e.clone())?;
            }
            Err(StoreError::Backend("the file is cut short".into()))
        };
        let mut writer_saw = None;
        let err = import_on_two_threads(&mut source, |mut incoming| {
            writer_saw = Some(incoming.each(&mut |_| Ok(())).map(|_| ()));
            Ok(())
        })
        .unwrap_err();
        assert_eq!(err, StoreError::Backend("the file is cut short".into()));
        assert!(writer_saw.unwrap().is_err(), "the writer must not be told the file ended");
    }

    #[test]
    fn a_failing_writer_stops_the_reader_and_its_error_is_returned() {
        let events = synthetic_events(20_000);
        let mut handed = 0;
        let mut source = |sink: crate::EventSink<'_>| {
            for e in &events {
                handed += 1;
                sink(e.clone())?;
            }
            Ok(file())
        };
        let err = import_on_two_threads(&mut source, |mut incoming| -> Result<(), StoreError> {
            incoming.each(&mut |_| Err(StoreError::Backend("disk full".into())))?;
            Ok(())
        })
        .unwrap_err();
        assert_eq!(err, StoreError::Backend("disk full".into()));
        assert!(handed < events.len(), "the reader kept reading after the writer stopped");
    }
}
