//! How a request that failed in the guest is reported: one line on stderr, whether it failed
//! before the response head (a 500) or while its body streamed (a cut connection).

/// One line per failure: wasm backtraces are multi-line and would break the log's shape.
pub(crate) fn log_failure(error: &anyhow::Error) {
    let text = format!("{error:#}");
    eprintln!(
        "sandserve: request failed: {}",
        text.split_whitespace().collect::<Vec<_>>().join(" ")
    );
}
