//! What each page is called: its `<title>` and meta description, one table for
//! the server (which writes them into the document it renders) and the
//! browser (which updates them on client-side navigation). Compiled for both
//! sides with no `cfg`, like the policy.
//!
//! Every route in `App` needs a row here; a unit test compares the two, and
//! the accessibility suite (`end2end/tests/a11y.spec.ts`) compares its list of
//! visits with the same routes.

use crate::policy::{decide, Decision, Role};

/// A page's name in the browser's tab and history, and its summary for search
/// engines and link previews.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageMeta {
    pub path: &'static str,
    /// The page's own name; [`PageMeta::document_title`] adds the site's.
    pub title: &'static str,
    pub description: &'static str,
}

/// The site's name, the last part of every title.
pub const SITE: &str = "Portcullis";

/// Every page the router has, by path.
pub const PAGES: &[PageMeta] = &[
    PageMeta {
        path: "/",
        title: "Home",
        description: "Portcullis: sign-in for Rust web apps with short-lived tokens in HttpOnly cookies and one role policy.",
    },
    PageMeta {
        path: "/login",
        title: "Sign in",
        description: "Sign in to your Portcullis account with your username and password.",
    },
    PageMeta {
        path: "/register",
        title: "Create an account",
        description: "Create a Portcullis account: choose a username and a strong password.",
    },
    PageMeta {
        path: "/dashboard",
        title: "Dashboard",
        description: "Your Portcullis dashboard: who you are signed in as, your role, and where to go next.",
    },
    PageMeta {
        path: "/sessions",
        title: "Sessions",
        description: "The devices signed in to your Portcullis account, and a way to sign any of them out.",
    },
    PageMeta {
        path: "/account",
        title: "Account",
        description: "Your Portcullis account settings: change your password and sign out other devices.",
    },
    PageMeta {
        path: "/admin",
        title: "Users · Admin",
        description: "The Portcullis admin console: search users, change roles, disable accounts and end sessions.",
    },
];

/// Any path the router does not know.
pub const NOT_FOUND: PageMeta = PageMeta {
    path: "",
    title: "Page not found",
    description: "There is nothing at this address on Portcullis.",
};

/// A page the visitor's role does not include.
pub const FORBIDDEN: PageMeta = PageMeta {
    path: "",
    title: "Not allowed",
    description: "This Portcullis page is not available to your account.",
};

impl PageMeta {
    /// The `<title>`: the page first (what a tab strip shows), then the site.
    #[must_use]
    pub fn document_title(&self) -> String {
        if self.path == "/" {
            SITE.to_owned()
        } else {
            format!("{} · {SITE}", self.title)
        }
    }
}

/// What the visitor sees at `path`: the page's own entry, the 403 page when
/// the policy forbids it for `role`, or the 404 page for unknown paths. A
/// visitor who must sign in is redirected before anything renders, so that
/// case keeps the page's own entry.
#[must_use]
pub fn page_meta(path: &str, role: Option<Role>) -> &'static PageMeta {
    let path = match path.strip_suffix('/') {
        Some(trimmed) if !trimmed.is_empty() => trimmed,
        _ => path,
    };
    match PAGES.iter().find(|page| page.path == path) {
        Some(_) if decide(path, role) == Decision::Forbidden => &FORBIDDEN,
        Some(page) => page,
        None => &NOT_FOUND,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The paths of the `<Route path=path!("…")>` entries in `App`, read from its source.
    fn routed_paths() -> Vec<String> {
        include_str!("lib.rs")
            .split("path=path!(\"")
            .skip(1)
            .filter_map(|rest| rest.split_once('"').map(|(path, _)| path.to_owned()))
            .collect()
    }

    #[test]
    fn every_route_has_a_title_and_a_description_and_nothing_else_does() {
        let routed = routed_paths();
        assert!(routed.len() >= 7, "found routes: {routed:?}");
        for path in &routed {
            assert!(
                PAGES.iter().any(|p| p.path == path),
                "the route {path} has no PageMeta in site::PAGES"
            );
        }
        for page in PAGES {
            assert!(
                routed.iter().any(|r| r == page.path),
                "site::PAGES lists {} but App has no such route",
                page.path
            );
        }
    }

    #[test]
    fn titles_and_descriptions_are_distinct_and_say_something() {
        let all: Vec<&PageMeta> = PAGES.iter().chain([&NOT_FOUND, &FORBIDDEN]).collect();
        for (i, a) in all.iter().enumerate() {
            assert!(!a.title.is_empty());
            assert!(
                (40..=160).contains(&a.description.len()),
                "{}: a description of {} characters",
                a.title,
                a.description.len()
            );
            for b in &all[i + 1..] {
                assert_ne!(a.title, b.title);
                assert_ne!(a.description, b.description);
            }
        }
    }

    #[test]
    fn the_visitor_sees_the_meta_of_what_is_shown() {
        assert_eq!(page_meta("/", None).document_title(), "Portcullis");
        assert_eq!(
            page_meta("/login", None).document_title(),
            "Sign in · Portcullis"
        );
        assert_eq!(page_meta("/sessions/", Some(Role::User)).title, "Sessions");
        assert_eq!(page_meta("/admin", Some(Role::User)), &FORBIDDEN);
        assert_eq!(
            page_meta("/admin", Some(Role::Admin)).title,
            "Users · Admin"
        );
        assert_eq!(page_meta("/nope", None), &NOT_FOUND);
        assert_eq!(page_meta("/dashboardx", Some(Role::Admin)), &NOT_FOUND);
    }
}
