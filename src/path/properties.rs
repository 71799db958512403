use super::*;
use proptest::prelude::*;

/// Targets built from the characters that matter to traversal, so the search spends its
/// time on dots, separators and escapes rather than on letters.
fn hostile_target() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("/".to_owned()),
        Just(".".to_owned()),
        Just("..".to_owned()),
        Just("%2e".to_owned()),
        Just("%2f".to_owned()),
        Just("%5c".to_owned()),
        Just("%00".to_owned()),
        Just("%25".to_owned()),
        Just("%".to_owned()),
        Just("\\".to_owned()),
        Just("?".to_owned()),
        Just("#".to_owned()),
        "[a-z]{1,3}",
        "\\PC{1,2}",
    ];
    prop::collection::vec(piece, 0..24).prop_map(|parts| format!("/{}", parts.concat()))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4000))]

    /// Whatever the target, a parsed path joined under a root stays under that root.
    #[test]
    fn never_leaves_the_root(target in hostile_target()) {
        if let Ok(path) = SafePath::parse(&target) {
            let mut resolved = std::path::PathBuf::from("/srv/root");
            for segment in path.segments() {
                prop_assert!(!segment.is_empty() && segment != "." && segment != "..");
                prop_assert!(!segment.contains(['/', '\\', '\0']));
                resolved.push(segment);
            }
            prop_assert!(resolved.starts_with("/srv/root"));
            prop_assert_eq!(resolved.components().count(), 3 + path.segments().len());
        }
    }

    /// Normalising is idempotent: a parsed path, printed as a URL, parses to itself.
    #[test]
    fn idempotent(target in hostile_target()) {
        if let Ok(path) = SafePath::parse(&target) {
            let again = SafePath::parse(&path.to_url(path.has_trailing_slash()));
            prop_assert_eq!(again, Ok(path));
        }
    }
}
