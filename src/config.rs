//! `SANDSERVE_*` environment -> `Config`. The host sets these from its flags; under
//! `wasmtime serve` they come from `--env`, so every host configures the component the same way.

/// Settings that change what the component serves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Serve and list dot-files (`SANDSERVE_HIDDEN=1`).
    pub hidden: bool,
    /// Index file names tried in order for a directory (`SANDSERVE_INDEX=a,b`).
    pub index: Vec<String>,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            hidden: false,
            index: vec!["index.html".to_owned(), "index.htm".to_owned()],
        }
    }
}

impl Config {
    /// Builds the configuration from `(name, value)` pairs such as `std::env::vars()`.
    pub fn from_vars(vars: impl IntoIterator<Item = (String, String)>) -> Config {
        let mut config = Config::default();
        for (name, value) in vars {
            match name.as_str() {
                "SANDSERVE_HIDDEN" => config.hidden = truthy(&value),
                "SANDSERVE_INDEX" => {
                    config.index = value
                        .split(',')
                        .map(str::trim)
                        .filter(|s| !s.is_empty())
                        .map(str::to_owned)
                        .collect();
                }
                _ => {}
            }
        }
        config
    }
}

fn truthy(value: &str) -> bool {
    matches!(
        value.trim().to_ascii_lowercase().as_str(),
        "1" | "true" | "yes" | "on"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> Config {
        Config::from_vars(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())))
    }

    #[test]
    fn defaults_and_overrides() {
        assert_eq!(vars(&[]), Config::default());
        assert!(vars(&[("SANDSERVE_HIDDEN", "1")]).hidden);
        assert!(vars(&[("SANDSERVE_HIDDEN", "true")]).hidden);
        assert!(!vars(&[("SANDSERVE_HIDDEN", "0")]).hidden);
        assert_eq!(
            vars(&[("SANDSERVE_INDEX", "home.html, ,default.htm")]).index,
            ["home.html", "default.htm"]
        );
        assert_eq!(vars(&[("OTHER", "1")]), Config::default());
    }
}
