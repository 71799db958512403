//! Misbehaves according to the request path: `/trap`, `/alloc` (grow memory without bound),
//! `/loop` (spin forever before answering), `/stream-loop` (send a head and some body, then
//! spin), `/no-response` (return without answering). Anything else answers `200 ok`.

use std::io::Write as _;

use wasi::http::types::{
    Fields, IncomingRequest, OutgoingBody, OutgoingResponse, ResponseOutparam,
};

struct Faulty;

wasi::http::proxy::export!(Faulty);

impl wasi::exports::http::incoming_handler::Guest for Faulty {
    fn handle(request: IncomingRequest, out: ResponseOutparam) {
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
            _ => {
                let headers = Fields::from_list(&[(
                    "content-length".to_owned(),
                    b"2".to_vec(),
                )])
                .unwrap();
                let response = OutgoingResponse::new(headers);
                let body = response.body().unwrap();
                ResponseOutparam::set(out, Ok(response));
                let mut stream = body.write().unwrap();
                let _ = stream.write_all(b"ok");
                let _ = stream.flush();
                drop(stream);
                let _ = OutgoingBody::finish(body, None);
            }
        }
    }
}

/// Computes forever without calling the host, so only the CPU deadline can stop it.
fn spin() -> ! {
    let mut x: u64 = 1;
    loop {
        x = std::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
    }
}
