//! A QR code for the terminal, two modules per character cell with Unicode half blocks.
//!
//! A half block is drawn in the foreground colour over the background colour, and a
//! terminal's own colours are dark-on-light or light-on-dark depending on its theme, so
//! the code would come out inverted on one of them. Every cell therefore sets both colours
//! explicitly (xterm-256 black 16 and white 231): dark modules on a light field on any
//! theme, with the 4-module quiet zone the standard asks for (ISO/IEC 18004 §6.3.8).

use std::fmt::Write as _;

use qrcode::{Color, QrCode};

const QUIET_ZONE: usize = 4;
const BLACK: u8 = 16;
const WHITE: u8 = 231;

/// `text` as a QR code: lines of `▀` cells, the upper module in the foreground colour and
/// the lower one in the background colour, each line ending with a colour reset.
pub(crate) fn render(text: &str) -> anyhow::Result<String> {
    let code = QrCode::new(text.as_bytes())?;
    let width = code.width();
    let colors = code.to_colors();
    let size = width + 2 * QUIET_ZONE;
    let dark = |x: usize, y: usize| {
        let inside = |v: usize| (QUIET_ZONE..QUIET_ZONE + width).contains(&v);
        inside(x) && inside(y) && colors[(y - QUIET_ZONE) * width + (x - QUIET_ZONE)] == Color::Dark
    };
    let shade = |is_dark: bool| if is_dark { BLACK } else { WHITE };
    let mut out = String::new();
    for y in (0..size).step_by(2) {
        let mut current = None;
        for x in 0..size {
            let cell = (shade(dark(x, y)), shade(dark(x, y + 1)));
            if current != Some(cell) {
                let _ = write!(out, "\x1b[38;5;{};48;5;{}m", cell.0, cell.1);
                current = Some(cell);
            }
            out.push('▀');
        }
        out.push_str("\x1b[0m\n");
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quiet_zone_surrounds_the_code() {
        let text = render("https://192.0.2.2:8443/").unwrap();
        let lines: Vec<&str> = text.lines().collect();
        // The first line is two rows of quiet zone: white over white throughout.
        assert_eq!(
            lines[0],
            format!("\x1b[38;5;231;48;5;231m{}\x1b[0m", "▀".repeat(33))
        );
        assert_eq!(lines.len(), 33usize.div_ceil(2));
        assert!(text.contains("\x1b[38;5;16;"), "has dark modules");
    }
}
