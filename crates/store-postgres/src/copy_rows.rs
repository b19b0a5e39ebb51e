//! Rows in PostgreSQL's binary COPY format, encoded straight into one
//! reusable buffer and sent to the server in large chunks.
//!
//! `postgres::binary_copy::BinaryCopyInWriter` enters the client's runtime
//! once per row, encodes each value through a `dyn ToSql` and hands the
//! connection 4 KB at a time; for millions of narrow rows that overhead
//! was a large share of the client's CPU. Here a row is a few appends to a
//! `Vec<u8>`, and the connection sees a write every [`CopyRows::CHUNK`]
//! bytes. The caller owns the column order: nothing checks the values
//! against the table's types, as `BinaryCopyInWriter` did.

use std::io::Write;

use postgres::CopyInWriter;
use vitalcore_store::StoreError;

use crate::backend;

/// Signature, flags and header-extension length that open a binary COPY stream.
const HEADER: &[u8] = b"PGCOPY\n\xff\r\n\0\0\0\0\0\0\0\0\0";

/// Field length that stands for NULL.
const NULL_LENGTH: i32 = -1;

pub(crate) struct CopyRows<'a> {
    sink: CopyInWriter<'a>,
    buf: Vec<u8>,
}

impl<'a> CopyRows<'a> {
    /// Bytes gathered before they are written to the connection: large
    /// enough that a write costs little per row, small enough that the
    /// server starts on the rows while the client parses the next ones.
    const CHUNK: usize = 256 * 1024;

    pub(crate) fn new(sink: CopyInWriter<'a>) -> CopyRows<'a> {
        let mut buf = Vec::with_capacity(Self::CHUNK + 64 * 1024);
        buf.extend_from_slice(HEADER);
        CopyRows { sink, buf }
    }

    /// Starts a row of `fields` values; sends the rows gathered so far
    /// once they fill a chunk.
    pub(crate) fn row(&mut self, fields: i16) -> Result<(), StoreError> {
        if self.buf.len() >= Self::CHUNK {
            self.send()?;
        }
        self.buf.extend_from_slice(&fields.to_be_bytes());
        Ok(())
    }

    pub(crate) fn null(&mut self) {
        self.buf.extend_from_slice(&NULL_LENGTH.to_be_bytes());
    }

    /// An `int4` or a `date` (days since 2000-01-01: the same four bytes).
    pub(crate) fn int4(&mut self, v: i32) {
        self.buf.extend_from_slice(&4i32.to_be_bytes());
        self.buf.extend_from_slice(&v.to_be_bytes());
    }

    pub(crate) fn opt_int4(&mut self, v: Option<i32>) {
        match v {
            Some(v) => self.int4(v),
            None => self.null(),
        }
    }

    /// An `int8` or a `timestamptz` (microseconds since 2000-01-01 UTC).
    pub(crate) fn int8(&mut self, v: i64) {
        self.buf.extend_from_slice(&8i32.to_be_bytes());
        self.buf.extend_from_slice(&v.to_be_bytes());
    }

    pub(crate) fn opt_float8(&mut self, v: Option<f64>) {
        match v {
            Some(v) => {
                self.buf.extend_from_slice(&8i32.to_be_bytes());
                self.buf.extend_from_slice(&v.to_bits().to_be_bytes());
            }
            None => self.null(),
        }
    }

    pub(crate) fn bool(&mut self, v: bool) {
        self.buf.extend_from_slice(&1i32.to_be_bytes());
        self.buf.push(u8::from(v));
    }

    pub(crate) fn text(&mut self, v: &str) -> Result<(), StoreError> {
        self.length(v.len())?;
        self.buf.extend_from_slice(v.as_bytes());
        Ok(())
    }

    pub(crate) fn opt_text(&mut self, v: Option<&str>) -> Result<(), StoreError> {
        match v {
            Some(v) => self.text(v),
            None => {
                self.null();
                Ok(())
            }
        }
    }

    /// `parts` joined by `separator` as one `text` value, without building
    /// the joined string.
    pub(crate) fn joined_text(&mut self, parts: &[String], separator: char) -> Result<(), StoreError> {
        let mut encoded = [0u8; 4];
        let separator = separator.encode_utf8(&mut encoded).as_bytes();
        let len = parts.iter().map(String::len).sum::<usize>() + parts.len().saturating_sub(1) * separator.len();
        self.length(len)?;
        for (i, part) in parts.iter().enumerate() {
            if i > 0 {
                self.buf.extend_from_slice(separator);
            }
            self.buf.extend_from_slice(part.as_bytes());
        }
        Ok(())
    }

    /// Ends the stream and completes the COPY; returns the rows the server took.
    pub(crate) fn finish(mut self) -> Result<u64, StoreError> {
        self.buf.extend_from_slice(&(-1i16).to_be_bytes());
        self.send()?;
        self.sink.finish().map_err(backend)
    }

    fn length(&mut self, len: usize) -> Result<(), StoreError> {
        let len = i32::try_from(len)
            .map_err(|_| StoreError::Backend(format!("a text value of {len} bytes is too long for PostgreSQL")))?;
        self.buf.extend_from_slice(&len.to_be_bytes());
        Ok(())
    }

    fn send(&mut self) -> Result<(), StoreError> {
        // `CopyInWriter` copies what it is given and sends it on the next
        // write or flush: flush so that the server gets this chunk now.
        let sent = self.sink.write_all(&self.buf).and_then(|()| self.sink.flush());
        sent.map_err(|e| StoreError::Backend(format!("sending COPY data: {e}")))?;
        self.buf.clear();
        Ok(())
    }
}
