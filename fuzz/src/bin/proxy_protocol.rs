//! AFL++ main for the `proxy_protocol` target: `cargo afl build --release --features afl`, then
//! see fuzz/README.md. The checks live in [`ringlb_fuzz::proxy_protocol`].

fn main() {
    afl::fuzz!(|data: &[u8]| ringlb_fuzz::proxy_protocol(data));
}
