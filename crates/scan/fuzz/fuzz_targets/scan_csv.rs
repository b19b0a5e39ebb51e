//! Fuzzes the scanner with arbitrary bytes after a valid header: it must
//! never panic, and cutting the file into tiny parallel chunks must give
//! exactly the result of one sequential pass.
#![no_main]

use libfuzzer_sys::fuzz_target;
use vitalcore_scan::{ScanOptions, scan_files};

fuzz_target!(|data: &[u8]| {
    let path = std::env::temp_dir().join(format!("vitalcore-scan-fuzz-{}.csv", std::process::id()));
    let mut content = b"event_date,country,admin1,notes,fatalities\n".to_vec();
    content.extend_from_slice(data);
    std::fs::write(&path, &content).expect("temp file");
    let sequential = ScanOptions { threads: 1, block_size: 1 << 16, chunk_size: None, max_bad_rows_kept: usize::MAX, ..ScanOptions::default() };
    let chunked = ScanOptions { threads: 3, block_size: 7, chunk_size: Some(5), max_bad_rows_kept: usize::MAX, ..ScanOptions::default() };
    let a = scan_files(&[path.clone()], &sequential).expect("header is valid");
    let b = scan_files(&[path], &chunked).expect("header is valid");
    assert_eq!(a.rows(), b.rows());
    assert_eq!(a.bad_rows, b.bad_rows);
});
