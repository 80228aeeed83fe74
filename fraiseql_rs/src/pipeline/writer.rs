//! Writing JSON strings that the pipeline makes up itself (keys, type names, messages).

/// Appends `text` as a JSON string literal, escaping quotes, backslashes and controls.
pub fn write_json_string(out: &mut Vec<u8>, text: &str) {
    out.push(b'"');
    for &byte in text.as_bytes() {
        match byte {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            0x00..=0x1f => {
                let low = byte & 0x0f;
                out.extend_from_slice(b"\\u00");
                out.push(b'0' + (byte >> 4));
                out.push(if low < 10 { b'0' + low } else { b'a' + low - 10 });
            }
            _ => out.push(byte),
        }
    }
    out.push(b'"');
}
