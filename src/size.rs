//! Sizes as people write them: `64M`, `1G`, `512k`, `4096`. The one parser for every size
//! setting, the component's (`--max-upload`) and the native host's (`--max-memory`), so they
//! accept the same spellings.
//!
//! Units are binary (`K` is 1024 bytes) and case-insensitive, with an optional `B` or `iB`
//! (`64M`, `64MB` and `64MiB` are the same); no unit means bytes. Whitespace around the
//! number and between it and the unit is allowed; fractions and signs are not.

/// Parses a size in bytes, or says why `text` is not one.
pub fn parse_size(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (digits, unit) = text.split_at(split);
    let number: u64 = digits
        .parse()
        .map_err(|_| format!("not a size: {text:?} (try 64M)"))?;
    let shift = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 0,
        "k" | "kb" | "kib" => 10,
        "m" | "mb" | "mib" => 20,
        "g" | "gb" | "gib" => 30,
        "t" | "tb" | "tib" => 40,
        _ => return Err(format!("unknown size unit in {text:?} (use K, M, G or T)")),
    };
    number
        .checked_mul(1 << shift)
        .ok_or_else(|| format!("size too large: {text:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        let ok: &[(&str, u64)] = &[
            ("64M", 64 << 20),
            ("64MiB", 64 << 20),
            ("64mb", 64 << 20),
            ("512k", 512 << 10),
            ("1G", 1 << 30),
            ("2T", 2 << 40),
            ("4096", 4096),
            ("0", 0),
            (" 2 m", 2 << 20),
            ("7b", 7),
        ];
        for (text, want) in ok {
            assert_eq!(parse_size(text), Ok(*want), "{text}");
        }
        for bad in [
            "",
            "M",
            "64X",
            "-1",
            "1.5G",
            "+5",
            "5 G B",
            "99999999999999999999999G",
            "17179869184G",
        ] {
            assert!(parse_size(bad).is_err(), "{bad}");
        }
    }
}
