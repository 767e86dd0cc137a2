//! QR codes as images the hosted UI can show under its Content-Security-Policy (`img-src data:`):
//! an SVG drawn from the modules of Nayuki's reference encoder (`qrcodegen-no-heap`: no_std, no
//! heap, no unsafe), as a `data:` URI. Used for the `otpauth://` URI of a new TOTP key, so an
//! authenticator app can scan it; no external service sees the key.

use alloc::format;
use alloc::string::String;

use qrcodegen_no_heap::{QrCode, QrCodeEcc, Version};

/// Quiet zone, in modules (the standard asks for 4).
const BORDER: i32 = 4;

/// The SVG of `text` as a QR code (error correction M), or `None` if it is too long.
pub fn svg(text: &str) -> Option<String> {
    let mut buffer = [0u8; Version::MAX.buffer_len()];
    let mut temp = [0u8; Version::MAX.buffer_len()];
    let code = QrCode::encode_text(
        text,
        &mut temp,
        &mut buffer,
        QrCodeEcc::Medium,
        Version::MIN,
        Version::MAX,
        None,
        true,
    )
    .ok()?;
    let size = code.size();
    let mut path = String::new();
    for y in 0..size {
        for x in 0..size {
            if code.get_module(x, y) {
                path.push_str(&format!("M{},{}h1v1h-1z", x + BORDER, y + BORDER));
            }
        }
    }
    let side = size + 2 * BORDER;
    Some(format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {side} {side}\" width=\"{px}\" height=\"{px}\" shape-rendering=\"crispEdges\"><rect width=\"{side}\" height=\"{side}\" fill=\"#fff\"/><path d=\"{path}\" fill=\"#000\"/></svg>",
        px = side * 5
    ))
}

/// [`svg`] as a `data:image/svg+xml;base64,` URI.
pub fn svg_data_uri(text: &str) -> Option<String> {
    svg(text).map(|s| {
        format!(
            "data:image/svg+xml;base64,{}",
            crate::codec::b64(s.as_bytes())
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_otpauth_uri_becomes_an_svg_data_uri() {
        let uri = "otpauth://totp/pool:alice?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=pool";
        let svg = svg(uri).unwrap();
        assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
        // 77 bytes: version 5 (37 modules) is the smallest that holds them at level M (84 bytes;
        // version 4 holds 62), plus 8 modules of quiet zone.
        assert_eq!(uri.len(), 77);
        assert!(svg.contains("viewBox=\"0 0 45 45\""));
        // The three finder patterns: the top-left corner module is dark.
        assert!(svg.contains("M4,4h1v1h-1z"));
        let data = svg_data_uri(uri).unwrap();
        let encoded = data.strip_prefix("data:image/svg+xml;base64,").unwrap();
        assert_eq!(crate::codec::b64_decode(encoded).unwrap(), svg.as_bytes());
        assert!(svg_data_uri(&"x".repeat(8000)).is_none());
    }
}
