//! `[SIGNATURE]` verification: md5 of the file bytes before the newline preceding `[SIGNATURE]`.

use md5::{Digest, Md5};

/// The lower-case hex md5 of `bytes`.
pub fn md5_hex(bytes: &[u8]) -> String {
    hex(&Md5::digest(bytes))
}

/// Lower-case hex of a digest.
pub(crate) fn hex(digest: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(2 * digest.len());
    for &b in digest {
        out.push(HEX[usize::from(b >> 4)] as char);
        out.push(HEX[usize::from(b & 15)] as char);
    }
    out
}

/// The bytes the signature covers: everything before the `\n` that precedes the `[SIGNATURE]`
/// header line, or `None` when the file has no such header.
pub fn signed_part(bytes: &[u8]) -> Option<&[u8]> {
    memchr::memmem::find(bytes, b"\n[SIGNATURE]").map(|pos| &bytes[..pos])
}

/// Whether `s` is a 32-digit hex string.
pub fn is_md5_hex(s: &str) -> bool {
    s.len() == 32 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn md5_known_value() {
        assert_eq!(md5_hex(b""), "d41d8cd98f00b204e9800998ecf8427e");
        assert_eq!(signed_part(b"ab\n\n[SIGNATURE]\n").unwrap(), b"ab\n");
    }
}
