//! Opening an input: a file streamed from disk (hashed as it is read), bytes
//! in memory, or the single data file inside a `.zip`.

use crate::error::ImportError;
use sha2::{Digest, Sha256};
use std::collections::VecDeque;
use std::fs::File;
use std::io::{self, BufReader, Cursor, Read};
use std::path::{Path, PathBuf};

/// How much of the start of a file format detection looks at.
pub(crate) const HEAD_BYTES: usize = 1 << 20;

const ZIP_MAGIC: &[u8] = b"PK\x03\x04";

enum Body {
    File(PathBuf),
    Memory(Vec<u8>),
}

pub(crate) struct Input {
    /// The file as the user named it (for a zip: `archive.zip!entry.csv`).
    pub name: String,
    /// The path as given, for [`vitalcore_framework::ImportFile::path`].
    pub path: String,
    head: Vec<u8>,
    body: Body,
    /// For a zip: the SHA-256 of the archive, which is the file the user gave.
    archive_sha256: Option<String>,
}

impl Input {
    pub fn open(path: &Path) -> Result<Input, ImportError> {
        let name = path.display().to_string();
        let mut file = File::open(path).map_err(|e| ImportError::io(&name, e))?;
        let mut head = Vec::with_capacity(8192);
        (&mut file).take(HEAD_BYTES as u64).read_to_end(&mut head).map_err(|e| ImportError::io(&name, e))?;
        if head.starts_with(ZIP_MAGIC) {
            let bytes = std::fs::read(path).map_err(|e| ImportError::io(&name, e))?;
            return Input::from_zip(&name, bytes);
        }
        Ok(Input { path: name.clone(), name, head, body: Body::File(path.to_path_buf()), archive_sha256: None })
    }

    pub fn from_bytes(name: &str, bytes: Vec<u8>) -> Result<Input, ImportError> {
        if bytes.starts_with(ZIP_MAGIC) {
            return Input::from_zip(name, bytes);
        }
        let head = bytes[..bytes.len().min(HEAD_BYTES)].to_vec();
        Ok(Input {
            name: name.to_string(),
            path: name.to_string(),
            head,
            body: Body::Memory(bytes),
            archive_sha256: None,
        })
    }

    /// A zip with exactly one data file (directories and `__MACOSX` ignored).
    fn from_zip(name: &str, bytes: Vec<u8>) -> Result<Input, ImportError> {
        let sha = hex(&Sha256::digest(&bytes));
        let bad = |reason: String| ImportError::Unrecognised {
            file: name.to_string(),
            found: format!("It is a zip archive that {reason}"),
            expected: "a zip holding one CSV or GeoJSON file".into(),
        };
        let mut archive =
            zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| bad(format!("cannot be opened ({e})")))?;
        let entries: Vec<String> = archive
            .file_names()
            .filter_map(Result::ok)
            .filter(|n| !n.ends_with('/') && !n.starts_with("__MACOSX"))
            .map(|n| n.to_string())
            .collect();
        let [entry] = entries.as_slice() else {
            return Err(bad(format!("holds {} files ({})", entries.len(), entries.join(", "))));
        };
        let mut data = Vec::new();
        archive
            .by_name(entry)
            .map_err(|e| bad(format!("has an unreadable entry {entry} ({e})")))?
            .read_to_end(&mut data)
            .map_err(|e| bad(format!("has an unreadable entry {entry} ({e})")))?;
        let head = data[..data.len().min(HEAD_BYTES)].to_vec();
        Ok(Input {
            name: format!("{name}!{entry}"),
            path: name.to_string(),
            head,
            body: Body::Memory(data),
            archive_sha256: Some(sha),
        })
    }

    pub fn head(&self) -> &[u8] {
        &self.head
    }

    /// The whole content.
    pub fn into_bytes(self) -> Result<Vec<u8>, ImportError> {
        Ok(self.read_all()?.0)
    }

    /// The whole content and the hex SHA-256 of the file.
    pub fn read_all(self) -> Result<(Vec<u8>, String), ImportError> {
        let bytes = match self.body {
            Body::Memory(b) => b,
            Body::File(p) => std::fs::read(&p).map_err(|e| ImportError::io(&self.name, e))?,
        };
        let sha = self.archive_sha256.unwrap_or_else(|| sha256_hex(&bytes));
        Ok((bytes, sha))
    }

    /// A reader over the whole content that hashes what passes through it.
    pub fn stream(self) -> Result<Tracked, ImportError> {
        let inner: Box<dyn Read> = match self.body {
            Body::Memory(b) => Box::new(Cursor::new(b)),
            Body::File(p) => {
                Box::new(BufReader::with_capacity(1 << 16, File::open(&p).map_err(|e| ImportError::io(&self.name, e))?))
            }
        };
        Ok(Tracked {
            inner,
            hasher: Sha256::new(),
            bytes: 0,
            archive_sha256: self.archive_sha256,
            newlines: VecDeque::new(),
            lines_passed: 0,
        })
    }
}

/// A reader that hashes and counts the bytes read through it.
pub(crate) struct Tracked {
    inner: Box<dyn Read>,
    hasher: Sha256,
    pub bytes: u64,
    archive_sha256: Option<String>,
    /// Offsets of the `\n` bytes read but not yet passed by the parser.
    newlines: VecDeque<u64>,
    lines_passed: u64,
}

impl Read for Tracked {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        let base = self.bytes;
        self.newlines.extend(memchr::memchr_iter(b'\n', &buf[..n]).map(|i| base + i as u64));
        self.bytes += n as u64;
        Ok(n)
    }
}

impl Tracked {
    /// The 1-based line of the record that the parser says starts at byte
    /// `start`. Counted here rather than taken from the csv crate, whose
    /// line count is one short in CRLF files: there a record's position is
    /// the `\n` of the previous line's CRLF, which is why a newline *at*
    /// `start` counts as passed (a record cannot begin with a real newline:
    /// the parser skips blank lines).
    pub fn line_at(&mut self, start: u64) -> u64 {
        while let Some(&at) = self.newlines.front() {
            if at > start {
                break;
            }
            self.newlines.pop_front();
            self.lines_passed += 1;
        }
        self.lines_passed + 1
    }
}

impl Tracked {
    /// Reads what is left and returns the hex SHA-256 of the input file.
    pub fn finish(mut self) -> io::Result<String> {
        io::copy(&mut self, &mut io::sink())?;
        Ok(self.archive_sha256.unwrap_or_else(|| hex(&self.hasher.finalize())))
    }
}

/// Hex SHA-256 of bytes.
pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[(b >> 4) as usize] as char);
        s.push(DIGITS[(b & 15) as usize] as char);
    }
    s
}
