//! Progress bars for long jobs (hidden with --quiet or when stderr is not a terminal).

use indicatif::{ProgressBar, ProgressStyle};
use std::path::Path;

pub struct Progress {
    bar: Option<ProgressBar>,
}

impl Progress {
    /// A bar over the bytes of `path`.
    pub fn bytes(path: &Path, quiet: bool) -> Progress {
        let len = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
        if quiet || len < 4 << 20 {
            return Progress { bar: None };
        }
        let bar = ProgressBar::new(len);
        bar.set_style(
            ProgressStyle::with_template("{msg} [{bar:30}] {bytes}/{total_bytes} ({eta} left)")
                .expect("valid template")
                .progress_chars("=> "),
        );
        bar.set_message(format!("reading {}", path.file_name().unwrap_or_default().to_string_lossy()));
        Progress { bar: Some(bar) }
    }

    /// A bar over files read (`count` sets it), shown once there are 50 or more.
    pub fn files(quiet: bool) -> Progress {
        if quiet {
            return Progress { bar: None };
        }
        let bar = ProgressBar::hidden();
        bar.set_style(
            ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} files ({eta} left)")
                .expect("valid template")
                .progress_chars("=> "),
        );
        bar.set_message("reading");
        Progress { bar: Some(bar) }
    }

    /// `done` of `total` files read.
    pub fn count(&self, done: u64, total: u64) {
        if let Some(bar) = &self.bar {
            if total >= 50 && bar.is_hidden() && done == 0 {
                bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
            }
            bar.set_length(total);
            bar.set_position(done);
        }
    }

    pub fn set(&self, position: u64) {
        if let Some(bar) = &self.bar {
            bar.set_position(position);
        }
    }

    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
