//! The application shell every page shares (`templates/base.html`): the
//! navigation (map, areas, alerts and early warnings, a new report, the
//! dashboard, situation reports and mandates, administration for admins), who is
//! signed in and their role, the sign-out form (POST, CSRF-checked), the
//! language switch, one stylesheet (`/static/pages.css`). Each page's
//! template struct has a `shell: Shell` field; `base.html` reads it.
//!
//! A new page: a template that starts `{% extends "base.html" %}` and fills
//! `{% block body %}` (optionally `head`, `footer`, `scripts`), a struct
//! with `shell: Shell::new(i18n::language(headers), Section::..., title,
//! path, caller, Some(reports))`, its texts as `shell.t("section.key")` from
//! `data/messages.toml` (English and French), rendered with `html::page`.

use crate::auth::Caller;
use crate::i18n::{self, LanguageLink, language_links};
use vitalcore_app::reports::Reports;
use vitalcore_security::auth::Role;

/// Which entry of the navigation a page is (marked `aria-current`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    Map,
    Alerts,
    Report,
    /// The dashboard and situation-report pages (served by their own module).
    Dashboard,
    Sitrep,
    /// Security Council mandates against the threats assessed.
    Mandates,
    Admin,
    /// Login, errors: no entry is current.
    Other,
}

/// Who may see a navigation entry.
#[derive(Clone, Copy)]
enum Shown {
    Everyone,
    SignedIn,
    /// Roles that work the alert queue (not viewers).
    Staff,
    Admin,
}

/// The navigation: (section, href, message key, shown to).
const NAV: [(Section, &str, &str, Shown); 8] = [
    (Section::Map, "/", "nav.map", Shown::Everyone),
    (Section::Other, "/#areas", "nav.areas", Shown::Everyone),
    (Section::Alerts, "/alerts", "nav.alerts", Shown::Staff),
    (Section::Report, "/report", "nav.report", Shown::Everyone),
    (Section::Dashboard, "/dashboard", "nav.dashboard", Shown::SignedIn),
    (Section::Sitrep, "/sitrep", "nav.sitrep", Shown::SignedIn),
    (Section::Mandates, "/mandates", "nav.mandates", Shown::SignedIn),
    (Section::Admin, "/admin", "nav.admin", Shown::Admin),
];

pub struct NavItem {
    pub href: &'static str,
    pub label: &'static str,
    pub current: bool,
}

/// The signed-in user as the shell shows them.
pub struct ShellUser {
    /// "Signed in as NAME, ROLE" in the page's language.
    pub said: String,
    /// The sign-out form's CSRF token (bound to the session).
    pub csrf: String,
}

/// What `base.html` needs.
pub struct Shell {
    pub lang: &'static str,
    pub title: String,
    pub nav: Vec<NavItem>,
    pub user: Option<ShellUser>,
    pub languages: Vec<LanguageLink>,
    /// The page's path, for the language switch to come back to.
    pub back: String,
}

impl Shell {
    /// The shell of a page in `lang` for `caller` (None: nobody signed in).
    /// `reports` issues the sign-out form's CSRF token when there is a
    /// session.
    pub fn new(
        lang: &'static str,
        section: Section,
        title: impl Into<String>,
        back: &str,
        caller: Option<&Caller>,
        reports: Option<&Reports>,
    ) -> Shell {
        let role = caller.map(|c| c.user.role);
        let nav = NAV
            .iter()
            .filter(|(_, _, _, shown)| match shown {
                Shown::Everyone => true,
                Shown::SignedIn => role.is_some(),
                Shown::Staff => role.is_some_and(|r| r != Role::Viewer),
                Shown::Admin => role == Some(Role::Admin),
            })
            .map(|(s, href, key, _)| NavItem {
                href,
                label: i18n::messages().text(lang, key),
                current: *s == section && *s != Section::Other,
            })
            .collect();
        let user = match (caller, reports) {
            (Some(c), Some(reports)) => c.session.as_ref().map(|session| ShellUser {
                said: i18n::tf(
                    lang,
                    "shell.signed_in",
                    &[("name", &c.user.username), ("role", &i18n::label(lang, "role", c.user.role.as_str()))],
                ),
                csrf: reports.csrf.issue(session, jiff::Timestamp::now()),
            }),
            _ => None,
        };
        Shell {
            lang,
            title: title.into(),
            nav,
            user,
            languages: language_links(lang),
            back: if back.starts_with('/') { back.to_string() } else { "/".into() },
        }
    }

    /// The shell of a page nobody is known on (errors).
    pub fn anonymous(lang: &'static str, title: impl Into<String>) -> Shell {
        Shell::new(lang, Section::Other, title, "/", None, None)
    }

    /// A text of the staff message table in the page's language.
    pub fn t(&self, key: &'static str) -> &'static str {
        i18n::t(self.lang, key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use vitalcore_security::auth::User;

    fn nav_of(role: Option<Role>) -> Vec<&'static str> {
        let caller = role.map(|r| {
            let community = (r == Role::FocalPoint).then_some("CF32");
            Caller {
                user: User::new("u-x", "someone", r, community, String::new()).unwrap(),
                session: None,
                partner: None,
            }
        });
        Shell::new("en", Section::Map, "t", "/", caller.as_ref(), None).nav.iter().map(|n| n.href).collect()
    }

    #[test]
    fn each_role_sees_the_pages_it_may_use() {
        assert_eq!(nav_of(None), ["/", "/#areas", "/report"]);
        assert_eq!(nav_of(Some(Role::Viewer)), ["/", "/#areas", "/report", "/dashboard", "/sitrep", "/mandates"]);
        for role in [Role::Analyst, Role::Responder, Role::FocalPoint] {
            assert_eq!(
                nav_of(Some(role)),
                ["/", "/#areas", "/alerts", "/report", "/dashboard", "/sitrep", "/mandates"],
                "{role}"
            );
        }
        assert_eq!(
            nav_of(Some(Role::Admin)),
            ["/", "/#areas", "/alerts", "/report", "/dashboard", "/sitrep", "/mandates", "/admin"]
        );
    }

    #[test]
    fn the_current_page_is_marked_and_a_back_path_is_local() {
        let shell = Shell::new("fr", Section::Alerts, "t", "https://evil.example/", None, None);
        assert_eq!(shell.back, "/");
        assert!(shell.nav.iter().all(|n| !n.current), "nobody signed in sees no alert page to mark");
        let shell = Shell::new("fr", Section::Report, "t", "/report", None, None);
        let current: Vec<_> = shell.nav.iter().filter(|n| n.current).map(|n| n.label).collect();
        assert_eq!(current, ["Nouveau signalement"]);
        assert!(shell.user.is_none(), "no sign-out form without a session");
    }
}
