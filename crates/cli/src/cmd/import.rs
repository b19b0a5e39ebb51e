//! `vitalcore import FILE...`: event data, tagged tables and boundaries.

use crate::context::Global;
use crate::progress::Progress;
use anyhow::{Context as _, Result};
use std::path::{Path, PathBuf};
use vitalcore_framework::Framework;
use vitalcore_import::{EventsRead, FormatKind, ImportError, Reject, detect_format, write_rejects};
use vitalcore_spatial::AreaIndex;
use vitalcore_store::{ImportCounts, Store, StoreError};

#[derive(clap::Args)]
pub struct Args {
    /// UCDP GED (CSV or GeoJSON), ACLED exports (any schema), HXL-tagged CSV,
    /// or admin boundaries (GeoJSON with P-codes). Boundaries are loaded first.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Folder for the rejects files (`<name>.rejects.csv`); default: next to each file,
    /// or the working folder when that is not writable.
    #[arg(long)]
    pub rejects_dir: Option<PathBuf>,
    /// Exit with status 3 when any row was rejected.
    #[arg(long)]
    pub strict: bool,
}

/// The import contract, printed per file: read = imported + updated + unchanged + rejected + merged.
#[derive(Debug, Default, Clone, Copy)]
pub struct Summary {
    pub read: u64,
    pub counts: ImportCounts,
    pub rejected: u64,
    /// Rows folded into an earlier row of the same event (ACLED, one row per actor).
    pub merged: u64,
}

pub fn run(args: Args, global: &Global) -> Result<()> {
    let framework = global.load_framework()?;
    let store = global.open_store()?;
    let mut files = Vec::new();
    for path in &args.files {
        let format = detect_format(path)?;
        files.push((path.clone(), format));
    }
    // Boundaries first, so events in the same command are placed in them.
    files.sort_by_key(|(_, f)| f.kind() != FormatKind::Boundaries);
    let mut total_rejected = 0;
    for (path, format) in files {
        let summary = match format.kind() {
            FormatKind::Boundaries => import_boundaries(&*store, &path, global)?,
            FormatKind::Events => import_events(&*store, &framework, &path, &args, global)?,
            FormatKind::Observations => import_observations(&*store, &framework, &path, &args, global)?,
        };
        total_rejected += summary.rejected;
        if format.kind() != FormatKind::Boundaries {
            let merged = match summary.merged {
                0 => String::new(),
                n => format!(" + {n} merged (further rows of an event, one per actor: its fatalities counted once)"),
            };
            println!(
                "{}: {} rows read = {} imported + {} updated + {} unchanged + {} rejected{merged} ({})",
                path.display(),
                summary.read,
                summary.counts.imported,
                summary.counts.updated,
                summary.counts.unchanged,
                summary.rejected,
                format.as_str()
            );
        }
    }
    if args.strict && total_rejected > 0 {
        std::process::exit(3);
    }
    Ok(())
}

fn area_index(store: &dyn Store) -> Result<Option<AreaIndex>> {
    let areas = store.areas()?;
    if areas.is_empty() {
        return Ok(None);
    }
    Ok(Some(AreaIndex::new(&areas).context("the stored boundaries cannot be indexed")?))
}

pub fn import_boundaries(store: &dyn Store, path: &Path, global: &Global) -> Result<Summary> {
    let areas = vitalcore_import::read_boundaries(path)?;
    let saved = store.save_areas(&areas)?;
    println!("{}: {saved} administrative areas loaded", path.display());
    global.note("Events imported from now on are placed in these areas by their coordinates.");
    Ok(Summary { read: saved as u64, ..Summary::default() })
}

/// Events go to the store as they are read (one transaction all the same):
/// memory stays bounded whatever the file's size.
fn import_events(store: &dyn Store, fw: &Framework, path: &Path, args: &Args, global: &Global) -> Result<Summary> {
    let index = area_index(store)?;
    let progress = Progress::bytes(path, global.quiet);
    // ACLED rows are 300-600 bytes: an upper estimate of the rows, for bulk-load decisions.
    let expected_rows = std::fs::metadata(path).map_or(0, |m| m.len() / 250);
    let mut read: Option<EventsRead> = None;
    let mut failed: Option<ImportError> = None;
    let stored = store.import_events_streamed(expected_rows, &mut |sink| {
        let each = &mut |event| sink(event).map_err(|e| ImportError::Stopped(Box::new(e)));
        match vitalcore_import::read_events_each(path, fw, index.as_ref(), &|n| progress.set(n), each) {
            Ok(r) => {
                let file = r.file.clone();
                read = Some(r);
                Ok(file)
            }
            // The store refused an event (a conflict): its own error.
            Err(ImportError::Stopped(e)) if e.is::<StoreError>() => {
                Err(*e.downcast::<StoreError>().expect("checked to be a StoreError"))
            }
            Err(e) => {
                failed = Some(e);
                Err(StoreError::Backend("reading the file failed".into()))
            }
        }
    });
    progress.finish();
    if let Some(e) = failed {
        return Err(e.into());
    }
    let counts = stored?;
    let read = read.context("the file was not read")?;
    report_rejects(path, &read.header, &read.rejects, args, global)?;
    Ok(Summary { read: read.rows_read, counts, rejected: read.rejects.len() as u64, merged: read.merged_rows })
}

fn import_observations(
    store: &dyn Store,
    fw: &Framework,
    path: &Path,
    args: &Args,
    global: &Global,
) -> Result<Summary> {
    let index = area_index(store)?;
    let progress = Progress::bytes(path, global.quiet);
    let parsed = vitalcore_import::read_observations(path, fw, index.as_ref(), &|n| progress.set(n))?;
    progress.finish();
    report_rejects(path, &parsed.header, &parsed.rejects, args, global)?;
    let counts = store.import_observations(&parsed.file, &parsed.observations)?;
    Ok(Summary { read: parsed.rows_read, counts, rejected: parsed.rejects.len() as u64, merged: 0 })
}

/// Prints the first rejects and writes them all to a file the user can fix
/// and import again.
fn report_rejects(path: &Path, header: &[String], rejects: &[Reject], args: &Args, global: &Global) -> Result<()> {
    if rejects.is_empty() {
        return Ok(());
    }
    const SHOWN: usize = 10;
    for r in rejects.iter().take(SHOWN) {
        eprintln!("rejected: {}", crate::output::terminal_safe(&r.to_string()));
    }
    if rejects.len() > SHOWN {
        eprintln!("... and {} more rejected rows", rejects.len() - SHOWN);
    }
    let out = rejects_path(path, args.rejects_dir.as_deref());
    write_rejects(&out, header, rejects)
        .or_else(|_| write_rejects(Path::new(out.file_name().unwrap_or_default()), header, rejects))?;
    global.note(format!(
        "The rejected rows are in {} with the reason in the last columns: fix them there and import that file.",
        out.display()
    ));
    Ok(())
}

fn rejects_path(path: &Path, dir: Option<&Path>) -> PathBuf {
    let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| "import".into());
    let name = format!("{stem}.rejects.csv");
    match dir {
        Some(d) => d.join(name),
        None => path.with_file_name(name),
    }
}
