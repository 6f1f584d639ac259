//! Standard base64 for the simulators that take it (CNDNS's encoded transfer codes,
//! Zonkvm's PEM certificates). Each decides what it tolerates around the data (padding,
//! line breaks) before handing the characters over.

/// The bytes `chars` encode in the standard alphabet; `None` on any other character.
/// Bits left over after the last whole byte are dropped.
pub fn decode_base64(chars: impl IntoIterator<Item = u8>) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in chars {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::decode_base64;

    #[test]
    fn decodes_the_standard_alphabet_and_refuses_the_rest() {
        assert_eq!(decode_base64(*b"aGVsbG8"), Some(b"hello".to_vec()));
        assert_eq!(decode_base64(*b"+/8"), Some(vec![0xfb, 0xff]));
        assert_eq!(decode_base64(*b""), Some(Vec::new()));
        assert_eq!(decode_base64(*b"aGk="), None);
        assert_eq!(decode_base64(*b"aG k"), None);
    }
}
