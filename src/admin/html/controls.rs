//! The page's view controls: the auto-refresh choice and the confirmation a Remove asks for.

use std::fmt::Write;

use super::{escape_html, hidden, FormCtx};

/// How the page is viewed: its query's view fields.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PageView {
    /// `refresh=N` (1..=3600 s): the page reloads itself every N s (a plain view: no action
    /// or message is repeated).
    pub refresh: Option<u32>,
    /// `remove_b=B&remove_w=W`: ask to confirm removing member W of balancer B (shown only
    /// with the forms, and only for a member that exists).
    pub confirm_remove: Option<(String, String)>,
}

/// The confirmation a Remove asks for: the removing form, and a way back.
pub(super) fn render_confirm_remove(
    out: &mut String,
    forms: &FormCtx,
    balancer: &str,
    member: &str,
) {
    w!(
        out,
        "<div class=\"message confirm\" role=\"alertdialog\" id=\"confirm-remove\"><p>Remove \
         member <code>{}</code> from balancer <code>{}</code>? It takes no more requests; \
         an override holds the removal until cleared.</p>",
        escape_html(member),
        escape_html(balancer)
    );
    forms.open(out, "", balancer, Some(member));
    hidden(out, "remove", "1");
    w!(
        out,
        "<button type=\"submit\" id=\"confirm-remove-button\">Remove it</button></form> \
         <a href=\"{}\" id=\"cancel-remove\">Cancel</a></div>\n",
        forms.action
    );
}

/// Links that turn the auto-refresh off or pick its period.
pub(super) fn render_refresh_choice(out: &mut String, base_path: &str, refresh: Option<u32>) {
    let base = escape_html(base_path);
    out.push_str("<p class=\"meta\" id=\"refresh\">Auto-refresh: ");
    let choices = [None, Some(5), Some(10), Some(30)];
    for (i, choice) in choices.into_iter().enumerate() {
        let sep = if i == 0 { "" } else { " &middot; " };
        let label = choice.map_or("off".to_owned(), |n| format!("{n} s"));
        let href = choice.map_or(base.clone(), |n| format!("{base}?refresh={n}"));
        if choice == refresh {
            w!(out, "{sep}<strong>{label}</strong>");
        } else {
            w!(out, "{sep}<a href=\"{href}\">{label}</a>");
        }
    }
    out.push_str("</p>\n");
}
