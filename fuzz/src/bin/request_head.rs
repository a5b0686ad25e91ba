//! AFL++ main for the `request_head` target: `cargo afl build --release --features afl`, then see
//! fuzz/README.md. The checks live in [`ringlb_fuzz::request_head`].

fn main() {
    afl::fuzz!(|data: &[u8]| ringlb_fuzz::request_head(data));
}
