//! A real browser against the real host: headless Chromium loads a listing, follows a sort
//! link, and renders it in light and dark mode; with `--upload`, Playwright drives it to
//! upload files through the listing's form. Screenshots land in tests/artifacts/.
//! Skipped only when no Chromium (or, for the form, no Playwright) is installed, and then
//! listed among the run's skips.

use std::path::{Path, PathBuf};
use std::process::Command;

use sandserve_testkit::{noise, skip_unless, Fixture};

/// Runs headless Chromium with the flags this machine's closed network needs.
fn run_chromium(binary: &Path, args: &[&str], url: &str) -> Vec<u8> {
    let profile = tempfile::tempdir().unwrap();
    let out = Command::new(binary)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-quic",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(args)
        .arg(url)
        .output()
        .expect("chromium runs");
    assert!(
        out.status.success(),
        "chromium failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

fn artifacts() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/artifacts");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Mean luminance (0-255) of a PNG screenshot.
fn brightness(png_path: &Path) -> f64 {
    let decoder = png::Decoder::new(std::fs::File::open(png_path).unwrap());
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    let channels = info.color_type.samples();
    let pixels = &buf[..info.buffer_size()];
    let sum: f64 = pixels
        .chunks(channels)
        .map(|p| 0.299 * f64::from(p[0]) + 0.587 * f64::from(p[1]) + 0.114 * f64::from(p[2]))
        .sum();
    sum / (pixels.len() / channels) as f64
}

#[test]
fn listing_in_a_real_browser() {
    let browser = skip_unless!(chromium);
    let fx = Fixture::new();
    fx.write("small.txt", "s");
    fx.write("large.bin", vec![0u8; 50_000]);
    fx.write("medium.txt", vec![b'm'; 5_000]);
    fx.write("sub dir/inner.txt", "inner");
    let server = fx.serve(&["-q"]);

    let dom = String::from_utf8(run_chromium(&browser, &["--dump-dom"], &server.url("/"))).unwrap();
    assert!(dom.contains("Index of /"), "{dom}");
    assert!(dom.contains("href=\"sub%20dir/\""));
    assert!(dom.contains("href=\"small.txt\""));

    // Follow the Size column's link as the page gives it.
    let size_link = dom
        .split("<a href=\"")
        .skip(1)
        .filter_map(|s| s.split('"').next())
        .find(|h| h.contains("sort=size"))
        .expect("a Size sort link")
        .replace("&amp;", "&");
    let sorted = String::from_utf8(run_chromium(
        &browser,
        &["--dump-dom"],
        &server.url(&format!("/{size_link}")),
    ))
    .unwrap();
    let order: Vec<usize> = ["sub%20dir/", "small.txt", "medium.txt", "large.bin"]
        .iter()
        .map(|n| sorted.find(&format!("href=\"{n}\"")).expect(n))
        .collect();
    assert!(
        order.windows(2).all(|w| w[0] < w[1]),
        "ascending by size, dirs first: {order:?}"
    );
    // Following it again flips the order.
    let flip = sorted
        .split("<a href=\"")
        .skip(1)
        .filter_map(|s| s.split('"').next())
        .find(|h| h.contains("sort=size"))
        .unwrap()
        .replace("&amp;", "&");
    assert!(flip.contains("order=desc"), "{flip}");

    let light = artifacts().join("listing-light.png");
    let dark = artifacts().join("listing-dark.png");
    let size = "--window-size=1000,700";
    run_chromium(
        &browser,
        &[size, &format!("--screenshot={}", light.display())],
        &server.url("/"),
    );
    run_chromium(
        &browser,
        &[
            size,
            "--force-dark-mode",
            &format!("--screenshot={}", dark.display()),
        ],
        &server.url("/"),
    );
    let (l, d) = (brightness(&light), brightness(&dark));
    eprintln!(
        "screenshots: {} (mean {l:.0}), {} (mean {d:.0})",
        light.display(),
        dark.display()
    );
    assert!(l > 180.0, "light page is light: {l}");
    assert!(d < 100.0, "dark mode applies: {d}");
}

#[test]
fn upload_form_in_a_real_browser() {
    let browser = skip_unless!(chromium);
    let playwright = skip_unless!(playwright);
    let fx = Fixture::new();
    fx.write("docs/existing.txt", "already here");
    let server = fx.serve(&["-q", "--upload"]);
    let source = tempfile::tempdir().unwrap();
    let notes = source.path().join("notes from chromium.txt");
    let photo = source.path().join("photo.bin");
    std::fs::write(&notes, "typed in a browser").unwrap();
    std::fs::write(&photo, noise(200_000, 5)).unwrap();
    let shot = artifacts().join("listing-upload.png");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/playwright/upload_form.mjs");
    let out = Command::new("node")
        .arg(script)
        .arg(server.url("/docs/"))
        .arg(&shot)
        .args([&notes, &photo])
        .env("SANDSERVE_PLAYWRIGHT_DIR", &playwright)
        .env("CHROMIUM", &browser)
        .output()
        .expect("node runs");
    assert!(
        out.status.success(),
        "the form upload failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let page: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    // The browser followed the 303 back to the listing, which now shows both files.
    assert_eq!(page["url"], server.url("/docs/"));
    assert_eq!(page["status"], 200);
    let html = page["html"].as_str().unwrap();
    assert!(
        html.contains("href=\"notes%20from%20chromium.txt\""),
        "{html}"
    );
    assert!(html.contains("href=\"photo.bin\""), "{html}");
    for file in [&notes, &photo] {
        let stored = fx.root().join("docs").join(file.file_name().unwrap());
        assert_eq!(std::fs::read(stored).unwrap(), std::fs::read(file).unwrap());
    }
    let mut names: Vec<String> = std::fs::read_dir(fx.root().join("docs"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        ["existing.txt", "notes from chromium.txt", "photo.bin"]
    );
    eprintln!("screenshot: {}", shot.display());
}
