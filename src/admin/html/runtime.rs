//! The page's sections about the process: its workers and its listening addresses.

use std::fmt::Write;

use super::escape_html;
use crate::admin::model::{ListenerView, WorkerView};

pub(super) fn render_workers(out: &mut String, workers: &[WorkerView]) {
    out.push_str(
        "<section class=\"workers\">\n<h2>Workers</h2>\n<table>\n<thead><tr><th>Worker</th>\
         <th>CPU</th><th>Driver</th><th>Connections</th></tr></thead>\n<tbody>\n",
    );
    for worker in workers {
        let cpu = match worker.cpu {
            Some(cpu) => cpu.to_string(),
            None => "not pinned".to_owned(),
        };
        w!(
            out,
            "<tr><td class=\"num\">{}</td><td>{cpu}</td><td>{}</td><td class=\"num\">{}</td>\
             </tr>\n",
            worker.index,
            escape_html(&worker.driver),
            worker.connections
        );
    }
    out.push_str("</tbody>\n</table>\n</section>\n");
}

pub(super) fn render_listeners(out: &mut String, listeners: &[ListenerView]) {
    out.push_str(
        "<section class=\"listeners\">\n<h2>Listeners</h2>\n<table>\n<thead><tr>\
         <th>Address</th><th>Connections</th><th>Requests</th></tr></thead>\n<tbody>\n",
    );
    for l in listeners {
        w!(
            out,
            "<tr><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>\n",
            escape_html(&l.address),
            l.connections,
            l.requests
        );
    }
    out.push_str("</tbody>\n</table>\n</section>\n");
}
