//! ringlb: a thread-per-core HTTP/1.1 load balancer with Apache mod_proxy_balancer and mod_jk
//! semantics. See README.md for the architecture; modules below say what they own.
//!
//! Pure modules (no I/O, no clock): [`config`] (validation), [`balancer`], [`sticky`], [`http`],
//! [`error`]. I/O modules: [`worker`], [`upstream`], [`server`] (starts the workers),
//! [`control`] (operator changes and reloads, sent to the workers over [`link`]), [`rlimit`], [`demo`], [`benchmember`].

pub mod accesslog;
pub mod admin;
pub mod ajp;
pub mod allocator;
pub mod balancer;
pub mod benchmember;
pub mod blocking;
pub mod cli;
pub mod clock;
pub mod config;
pub mod control;
pub mod demo;
pub mod dns;
pub mod error;
pub mod http;
pub mod import;
pub mod ipnet;
pub mod link;
pub mod log;
pub mod pidfile;
pub mod proxy_protocol;
pub mod rlimit;
pub mod server;
pub mod signals;
pub mod startup;
pub mod stats;
pub mod sticky;
pub mod syslog;
pub mod systemd;
pub mod tls;
pub mod upgrade;
pub mod upstream;
pub mod watch;
pub mod worker;
