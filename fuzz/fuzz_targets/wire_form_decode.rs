//! Form bodies and query strings as wire decodes them, undeclared and with a declared
//! charset, and the charset helpers. Input: an optional Content-Type line, then the body.
//! Properties: never panics; one pair per non-empty `&` segment; decoded pairs written
//! back as a UTF-8 form read the same; lenient decoding keeps valid UTF-8 as it is and
//! reads strict GBK as GBK.
#![no_main]

use idcgate_wire::charset::{decode_lenient, Charset};
use idcgate_wire::form::{decode, decode_declared, encode};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (ct, body) = match data.iter().position(|b| *b == b'\n') {
        Some(i) => (
            Some(String::from_utf8_lossy(&data[..i]).into_owned()),
            &data[i + 1..],
        ),
        None => (None, data),
    };
    if let Some(ct) = &ct {
        let _ = Charset::from_content_type(ct);
    }
    let segments = body.split(|b| *b == b'&').filter(|s| !s.is_empty()).count();

    let plain = decode(body);
    assert_eq!(plain.len(), segments);
    let again = decode(encode(&plain, Charset::Utf8).as_bytes());
    assert_eq!(again, plain);

    let declared = decode_declared(body, ct.as_deref());
    assert_eq!(declared.len(), segments);
    let again = decode_declared(
        encode(&declared, Charset::Utf8).as_bytes(),
        Some("application/x-www-form-urlencoded; charset=utf-8"),
    );
    assert_eq!(again, declared);

    let lenient = decode_lenient(body);
    match (std::str::from_utf8(body), Charset::Gbk.decode(body)) {
        (Ok(s), _) => assert_eq!(lenient, s),
        (Err(_), Some(g)) => assert_eq!(lenient, g),
        (Err(_), None) => assert_eq!(lenient, String::from_utf8_lossy(body)),
    }
});
