use super::*;

fn at(text: &str) -> DateTime {
    DateTime::parse(text).unwrap_or_else(|| panic!("{text:?} refused"))
}

/// The same second as httpdate (an independent calendar algorithm) writes it, in the
/// XML-RPC form: `Tue, 14 Nov 2023 22:13:20 GMT` -> `20231114T22:13:20`.
fn oracle(seconds: u64) -> String {
    let time = std::time::UNIX_EPOCH + std::time::Duration::from_secs(seconds);
    let http = httpdate::fmt_http_date(time);
    let parts: Vec<&str> = http.split(' ').collect();
    let months = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let month = months.iter().position(|m| *m == parts[2]).unwrap() + 1;
    format!("{}{month:02}{}T{}", parts[3], parts[1], parts[4])
}

#[test]
fn unix_seconds_to_calendar() {
    let cases: &[(u64, &str)] = &[
        (0, "19700101T00:00:00"),
        (86_399, "19700101T23:59:59"),
        (951_782_400, "20000229T00:00:00"),
        (951_868_800, "20000301T00:00:00"),
        (1_700_000_000, "20231114T22:13:20"),
        (4_107_456_000, "21000228T00:00:00"),
        (4_107_542_400, "21000301T00:00:00"),
        (253_402_300_799, "99991231T23:59:59"),
    ];
    for (seconds, want) in cases {
        let got = DateTime::from_unix(*seconds).expect("in range");
        assert_eq!(got.to_string(), *want, "{seconds}");
        assert_eq!(oracle(*seconds), *want, "{seconds}");
    }
    // Past four-digit years the time is unknown, however large the host's number.
    for seconds in [253_402_300_800, 1 << 40, u64::MAX] {
        assert_eq!(DateTime::from_unix(seconds), None, "{seconds}");
    }
}

#[test]
fn accepted_forms() {
    let want = at("20231114T22:13:20");
    assert_eq!(
        (
            want.year,
            want.month,
            want.day,
            want.hour,
            want.minute,
            want.second
        ),
        (2023, 11, 14, 22, 13, 20)
    );
    assert_eq!(at(" 20231114T22:13:20\n"), want);
    assert_eq!(at("20240229T00:00:00").day, 29);
    assert_eq!(at("19981231T23:59:60").second, 60);
    assert_eq!(at("00000101T00:00:00").year, 0);
}

#[test]
fn refused_forms() {
    for text in [
        "",
        "20231114",
        "T22:13:20",
        "2023111T22:13:20",
        "20231114 22:13:20",
        "20231114T22:13",
        "20231114T22-13-20",
        "2023/11/14T22:13:20",
        "20231314T00:00:00",
        "20230014T00:00:00",
        "20230100T00:00:00",
        "20230229T00:00:00",
        "21000229T00:00:00",
        "20230431T00:00:00",
        "20231114T24:00:00",
        "20231114T23:60:00",
        "20231114T23:59:61",
        "+2023114T22:13:20",
        "2023111aT22:13:20",
        "20231114T22:13:20+01:00",
        "２０２３1114T22:13:20",
        // Forms other clients write; no method takes a dateTime, so only one is read.
        "2023-11-14T22:13:20",
        "20231114T221320",
        "2023-11-14T22:13:20Z",
        "20231114T22:13:20Z",
    ] {
        assert_eq!(DateTime::parse(text), None, "{text:?}");
    }
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        /// Every second of four-digit years becomes the calendar time httpdate names, and
        /// survives calendar -> text -> calendar.
        #[test]
        fn round_trips(seconds in 0u64..253_402_300_800) {
            let time = DateTime::from_unix(seconds).unwrap();
            prop_assert_eq!(time.to_string(), oracle(seconds));
            prop_assert_eq!(DateTime::parse(&time.to_string()), Some(time));
        }
    }
}
