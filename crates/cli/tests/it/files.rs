//! The database and the contact key are for their owner only, over the
//! real binary: the database is created 0600, a database made readable by
//! others is made owner-only again, and a key file others can read is
//! refused with the fix.

use super::intake::Site;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn the_database_and_the_key_file_are_for_their_owner_only() {
    let site = Site::new();
    assert_eq!(mode(&site.db), 0o600, "the database is created owner-only");
    assert_eq!(mode(&site.key), 0o600, "keygen writes the key owner-only");
    std::fs::set_permissions(&site.db, std::fs::Permissions::from_mode(0o644)).unwrap();
    assert!(site.run(&["status"]).status.success());
    assert_eq!(mode(&site.db), 0o600, "a database others could read is made owner-only again");
    let submit = ["report", "submit", "--text", "x", "--contact-stdin"];
    let contact = [("VITALCORE_CONTACT", "+236 72 00 00 09")];
    std::fs::set_permissions(&site.key, std::fs::Permissions::from_mode(0o644)).unwrap();
    let out = site.run_env(&submit[..4], &contact);
    assert!(!out.status.success(), "a key others can read was used");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let key = site.key.display().to_string();
    assert!(
        stderr.contains(&format!("the key file {key} can be read by other users (mode 0644)"))
            && stderr.contains(&format!("chmod 600 {key}")),
        "{stderr}"
    );
    std::fs::set_permissions(&site.key, std::fs::Permissions::from_mode(0o640)).unwrap();
    assert!(!site.run_env(&submit[..4], &contact).status.success());
    std::fs::set_permissions(&site.key, std::fs::Permissions::from_mode(0o600)).unwrap();
    let out = site.run_env(&submit[..4], &contact);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}
