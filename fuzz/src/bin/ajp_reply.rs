//! AFL++ main for the `ajp_reply` target: `cargo afl build --release --features afl`, then see
//! fuzz/README.md. The checks live in [`ringlb_fuzz::ajp_reply`].

fn main() {
    afl::fuzz!(|data: &[u8]| ringlb_fuzz::ajp_reply(data));
}
