use super::*;
use crate::fs::testing::{entry, names};

fn sample() -> Vec<DirEntry> {
    vec![
        entry("b.txt", Kind::File, 300, 30),
        entry("Zeta", Kind::Dir, 0, 10),
        entry("A.txt", Kind::File, 100, 50),
        entry("alpha", Kind::Dir, 0, 40),
        entry("a.txt", Kind::File, 200, 20),
    ]
}

#[test]
fn sort_orders_keep_directories_first() {
    let cases: &[(SortKey, Order, [&str; 5])] = &[
        (
            SortKey::Name,
            Order::Asc,
            ["alpha", "Zeta", "A.txt", "a.txt", "b.txt"],
        ),
        (
            SortKey::Name,
            Order::Desc,
            ["Zeta", "alpha", "b.txt", "a.txt", "A.txt"],
        ),
        (
            SortKey::Size,
            Order::Asc,
            ["alpha", "Zeta", "A.txt", "a.txt", "b.txt"],
        ),
        (
            SortKey::Size,
            Order::Desc,
            ["Zeta", "alpha", "b.txt", "a.txt", "A.txt"],
        ),
        (
            SortKey::Time,
            Order::Asc,
            ["Zeta", "alpha", "a.txt", "b.txt", "A.txt"],
        ),
        (
            SortKey::Time,
            Order::Desc,
            ["alpha", "Zeta", "A.txt", "b.txt", "a.txt"],
        ),
    ];
    for (key, order, want) in cases {
        let mut entries = sample();
        sort_entries(&mut entries, *key, *order);
        assert_eq!(names(&entries), want, "{key:?} {order:?}");
    }
}

#[test]
fn name_order_folds_case_beyond_ascii() {
    // Byte order would put "Éb" (C3 89) before "éa" (C3 A9); folded, "éa" comes first.
    let mut entries = vec![
        entry("Éb", Kind::File, 1, 1),
        entry("éa", Kind::File, 1, 1),
        entry("z", Kind::File, 1, 1),
    ];
    sort_entries(&mut entries, SortKey::Name, Order::Asc);
    assert_eq!(names(&entries), ["z", "éa", "Éb"]);
}

#[test]
fn comparing_unkeyed_agrees_with_comparing_keys() {
    // ASCII names fold by a shortcut, others through Unicode: the two must agree, and agree
    // with comparing the whole lower-cased names. Keys compare 16-byte prefixes first, which
    // the names around that length check.
    let mut entries = sample();
    for name in [
        "Éb",
        "éa",
        "ÄBC",
        "abc",
        "ABD",
        "ǅx",
        "file-1",
        "file-1\u{1}",
        "file-1.txt",
        "file-10.txt",
        "abcdefg",
        "abcdefgh",
        "ABCDEFGHZ",
        "abcdefghi",
        "abcdefgé",
        "abcdefgÉa",
        "file-1000000.txt",
        "File-1000000.txt",
        "file-1000000.txtx",
        "file-1000000.tx",
        "file-1000000.txé",
        "file-1000000.txÉ",
        "file-10000000.txt",
    ] {
        entries.push(entry(name, Kind::File, 100, 50));
    }
    for sort in [SortKey::Name, SortKey::Size, SortKey::Time] {
        for order in [Order::Asc, Order::Desc] {
            for a in &entries {
                for b in &entries {
                    let (ka, kb) = (Key::of(a, sort), Key::of(b, sort));
                    let lower = |name: &str| {
                        name.chars()
                            .flat_map(char::to_lowercase)
                            .collect::<String>()
                    };
                    let whole = ka.file.cmp(&kb.file).then(directed(
                        (ka.primary, lower(&a.name), &a.name).cmp(&(
                            kb.primary,
                            lower(&b.name),
                            &b.name,
                        )),
                        order,
                    ));
                    assert_eq!(compare(&ka, &kb, order), whole, "{} {}", a.name, b.name);
                    assert_eq!(
                        ka.cmp_unkeyed(order, kb.file, kb.primary, &kb.name),
                        compare(&ka, &kb, order),
                        "{} {} {sort:?} {order:?}",
                        a.name,
                        b.name
                    );
                }
            }
        }
    }
}

#[test]
fn cursors_read_back_what_they_write() {
    let time = Timestamp {
        seconds: 1_733_000_000,
        nanoseconds: 5,
    };
    let cases = [
        (
            SortKey::Name,
            Key::new(false, Primary::None, "a b?&%/".replace('/', "")),
            "d/a b?&%",
        ),
        (
            SortKey::Name,
            Key::new(true, Primary::None, "é.txt".into()),
            "f/é.txt",
        ),
        (
            SortKey::Size,
            Key::new(true, Primary::Size(1024), "x".into()),
            "f/1024/x",
        ),
        (
            SortKey::Time,
            Key::new(true, Primary::Time(Some(time)), "x".into()),
            "f/1733000000.5/x",
        ),
        (
            SortKey::Time,
            Key::new(false, Primary::Time(None), "-".into()),
            "d/-/-",
        ),
    ];
    for (sort, key, text) in cases {
        let cursor = Cursor(key);
        assert_eq!(cursor.text(), text);
        assert_eq!(Cursor::parse(text, sort), Ok(cursor), "{text}");
    }
}

#[test]
fn foreign_cursors_are_refused() {
    let bad: &[(&str, SortKey)] = &[
        ("", SortKey::Name),
        ("x/name", SortKey::Name),
        ("f/", SortKey::Name),
        ("f/a/b", SortKey::Name),
        ("name", SortKey::Name),
        ("f/name", SortKey::Size),
        ("f/-1/name", SortKey::Size),
        ("f/+1/name", SortKey::Size),
        ("f/99999999999999999999999/name", SortKey::Size),
        ("f/1.5/name", SortKey::Size),
        ("f/1/name", SortKey::Time),
        ("f/1.1000000000/name", SortKey::Time),
        ("f/1./name", SortKey::Time),
    ];
    for (text, sort) in bad {
        assert_eq!(
            Cursor::parse(text, *sort),
            Err(BadCursor),
            "{text} {sort:?}"
        );
    }
}
