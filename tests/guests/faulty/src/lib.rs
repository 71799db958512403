//! Misbehaves according to the request path: `/trap`, `/alloc` (grow memory without bound),
//! `/loop` (spin forever before answering), `/stream-loop` (send a head and some body, then
//! spin), `/no-response` (return without answering). Anything else answers `200 ok`.
//!
//! For the instance-reuse tests, every answer carries `x-count`: how many requests this
//! instance has seen (a `static`, so it survives only as long as the instance does).
//! `/grow` grows linear memory by 24 MiB and answers normally, `/leak` keeps a resource
//! past its request and answers normally, `/big` streams 64 MiB of `x`.

use std::io::Write as _;
use std::sync::atomic::{AtomicU32, Ordering};

use wasi::http::types::{
    Fields, IncomingRequest, OutgoingBody, OutgoingResponse, ResponseOutparam,
};

struct Faulty;

wasi::http::proxy::export!(Faulty);

impl wasi::exports::http::incoming_handler::Guest for Faulty {
    fn handle(request: IncomingRequest, out: ResponseOutparam) {
        static SEEN: AtomicU32 = AtomicU32::new(0);
        let count = SEEN.fetch_add(1, Ordering::Relaxed) + 1;
        let path = request.path_with_query().unwrap_or_default();
        match path.as_str() {
            "/trap" => unreachable!("trap requested"),
            "/alloc" => {
                let mut hoard: Vec<Vec<u8>> = Vec::new();
                loop {
                    hoard.push(vec![1u8; 1 << 20]);
                }
            }
            "/loop" => spin(),
            "/stream-loop" => {
                let response = OutgoingResponse::new(Fields::new());
                let body = response.body().unwrap();
                ResponseOutparam::set(out, Ok(response));
                let mut stream = body.write().unwrap();
                let _ = stream.write_all(&[b'x'; 1024]);
                let _ = stream.flush();
                spin();
            }
            "/no-response" => {}
            "/big" => {
                let response = OutgoingResponse::new(counted(count, None));
                let body = response.body().unwrap();
                ResponseOutparam::set(out, Ok(response));
                let mut stream = body.write().unwrap();
                for _ in 0..1024 {
                    if stream.write_all(&[b'x'; 64 << 10]).is_err() {
                        return;
                    }
                }
                let _ = stream.flush();
                drop(stream);
                let _ = OutgoingBody::finish(body, None);
            }
            _ => {
                if path == "/grow" {
                    // Touch nothing: growing is what a reused instance would keep.
                    std::hint::black_box(Vec::<u8>::with_capacity(24 << 20));
                }
                if path == "/leak" {
                    std::mem::forget(Fields::new());
                }
                ok(out, count);
            }
        }
    }
}

fn counted(count: u32, length: Option<usize>) -> Fields {
    let mut fields = vec![("x-count".to_owned(), count.to_string().into_bytes())];
    if let Some(length) = length {
        fields.push(("content-length".to_owned(), length.to_string().into_bytes()));
    }
    Fields::from_list(&fields).unwrap()
}

fn ok(out: ResponseOutparam, count: u32) {
    let response = OutgoingResponse::new(counted(count, Some(2)));
    let body = response.body().unwrap();
    ResponseOutparam::set(out, Ok(response));
    let mut stream = body.write().unwrap();
    let _ = stream.write_all(b"ok");
    let _ = stream.flush();
    drop(stream);
    let _ = OutgoingBody::finish(body, None);
}

/// Computes forever without calling the host, so only the CPU deadline can stop it.
fn spin() -> ! {
    let mut x: u64 = 1;
    loop {
        x = std::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
    }
}
