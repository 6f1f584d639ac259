//! Standard base64 (RFC 4648, padded), for SMTP AUTH and MIME bodies: a few lines here
//! rather than a crate for them.

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

pub fn encode(input: &[u8]) -> String {
    let mut out = String::with_capacity(input.len().div_ceil(3) * 4);
    for chunk in input.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Only the test sink and tests read what a client encoded: padding and line breaks
/// are skipped, the rest decoded as the simulators decode it.
#[cfg(feature = "testing")]
pub fn decode(input: &str) -> Option<Vec<u8>> {
    idcgate_wire::sim::decode_base64(input.bytes().filter(|c| !matches!(c, b'=' | b'\r' | b'\n')))
}

#[cfg(test)]
mod tests {
    #[test]
    fn rfc4648_vectors_round_trip() {
        for (plain, coded) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(super::encode(plain.as_bytes()), coded);
            assert_eq!(super::decode(coded).unwrap(), plain.as_bytes());
        }
        assert_eq!(
            super::decode(&super::encode("域名到期 ✓".as_bytes())).unwrap(),
            "域名到期 ✓".as_bytes()
        );
        assert!(super::decode("Zm9v!").is_none());
    }
}
