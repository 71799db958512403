//! A setting the component cannot parse, reaching it from a host that did not check it (as
//! `wasmtime serve --env` would pass it): every request is a `500`, never a server quietly
//! running without the setting. The native binary refuses such values at start
//! (`startup.rs`); here the library is given the component as plain bytes, which it runs
//! without checking, like any other host.

use sandserve_testkit::{get_once, raw_status, Fixture};

#[test]
fn a_bad_setting_is_a_500_for_every_request() {
    let fx = Fixture::new();
    fx.write("index.html", "home");
    fx.write("a.txt", "a");
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let _entered = runtime.enter();
    let server = sandserve_host::Server::builder()
        .root(fx.root())
        .bind("127.0.0.1:0".parse().unwrap())
        .quiet(true)
        .component(sandserve_host::COMPONENT.to_vec())
        .env("SANDSERVE_SPA", "../outside.html")
        .build()
        .unwrap();
    let addr = server.local_addr();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let serving = runtime.spawn(server.run(async {
        let _ = stopped.await;
    }));
    for path in ["/", "/a.txt", "/missing"] {
        let response = get_once(&addr.to_string(), path);
        assert_eq!(raw_status(&response), Some(500), "{path}");
        let text = String::from_utf8_lossy(&response);
        assert!(
            !text.contains("home") && !text.contains("outside"),
            "{text}"
        );
    }
    // The same builder with the built-in component refuses the value before listening.
    let refused = sandserve_host::Server::builder()
        .root(fx.root())
        .bind("127.0.0.1:0".parse().unwrap())
        .env("SANDSERVE_SPA", "../outside.html")
        .build();
    let error = refused.err().expect("refused").to_string();
    assert!(error.starts_with("--spa: "), "{error}");
    let _ = stop.send(());
    runtime.block_on(serving).unwrap().unwrap();
}
