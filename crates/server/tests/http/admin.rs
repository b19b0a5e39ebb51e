//! The administration pages and the shell: who may open them (nobody
//! signed in, each role, an admin), CSRF on every form, the account
//! changes going through `vitalcore_app::accounts` (an issued token works
//! and stops working once revoked), and the language a page speaks.

use crate::{PASSWORD, Site, form_encode, hidden_csrf};
use axum::http::Method;
use vitalcore_app::accounts;
use vitalcore_security::auth::Role;
use vitalcore_store::notify::NotifyStore;
use vitalcore_store::reports::ReportStore;

const FORM: (&str, &str) = ("Content-Type", "application/x-www-form-urlencoded");

/// Logs `user` in through /login; the session cookie.
async fn sign_in(site: &Site, user: &str) -> String {
    let login = site.get("/login", &[]).await;
    let form_cookie = login.cookie("vc_form").unwrap();
    let creds = form_encode(&[("csrf", &hidden_csrf(&login.body)), ("username", user), ("password", PASSWORD)]);
    let r = site.request(Method::POST, "/login", &[FORM, ("Cookie", &form_cookie)], creds.as_bytes()).await;
    assert_eq!(r.status, 303, "{}", r.body);
    r.cookie("vc_session").unwrap()
}

/// A session and a CSRF token of its pages (the shell's sign-out form has one).
async fn session(site: &Site, user: &str) -> (String, String) {
    let cookie = sign_in(site, user).await;
    let page = site.get("/report", &[("Cookie", &cookie)]).await;
    (cookie.clone(), hidden_csrf(&page.body))
}

async fn post(site: &Site, path: &str, cookie: &str, pairs: &[(&str, &str)]) -> crate::Resp {
    site.request(Method::POST, path, &[FORM, ("Cookie", cookie)], form_encode(pairs).as_bytes()).await
}

#[tokio::test]
async fn nobody_signed_in_is_sent_to_login_and_their_forms_are_refused() {
    let site = Site::new();
    for path in ["/admin", "/admin/users/analyst1"] {
        let r = site.get(path, &[]).await;
        assert_eq!((r.status, r.header("location")), (303, Some("/login")), "{path}");
    }
    let r = site.request(Method::POST, "/admin/users", &[FORM], b"username=x&role=admin&password=0123456789abc").await;
    assert_eq!(r.status, 401, "{}", r.body);
    assert!(site.store.user_by_username("x").unwrap().is_none());
}

#[tokio::test]
async fn every_role_but_admin_is_refused_pages_and_forms() {
    let site = Site::new();
    for user in ["analyst1", "responder1", "focal32", "viewer1"] {
        let (cookie, csrf) = session(&site, user).await;
        for path in ["/admin", "/admin/users/analyst1"] {
            let r = site.get(path, &[("Cookie", &cookie)]).await;
            assert_eq!(r.status, 403, "{user} {path}: {}", r.body);
            assert!(r.body.contains("only administrators manage accounts"), "{}", r.body);
        }
        let made = format!("made-by-{user}");
        let pairs = [("csrf", csrf.as_str()), ("username", &made), ("role", "admin"), ("password", PASSWORD)];
        assert_eq!(post(&site, "/admin/users", &cookie, &pairs).await.status, 403, "{user}");
        assert!(site.store.user_by_username(&made).unwrap().is_none(), "{user} made an account");
        let r = post(&site, "/admin/users/viewer1/disable", &cookie, &[("csrf", &csrf)]).await;
        assert_eq!(r.status, 403, "{user}");
        let r = post(&site, "/admin/users/viewer1/role", &cookie, &[("csrf", &csrf), ("role", "admin")]).await;
        assert_eq!(r.status, 403, "{user}");
        let r = post(&site, "/admin/users/viewer1/tokens", &cookie, &[("csrf", &csrf), ("partner", "p")]).await;
        assert_eq!(r.status, 403, "{user}");
        // The shell offers administration to admins only.
        let home = site.get("/", &[("Cookie", &cookie)]).await;
        assert!(!home.body.contains("href=\"/admin\""), "{user}");
    }
    let viewer = site.store.user_by_username("viewer1").unwrap().unwrap();
    assert!(viewer.active && viewer.role == Role::Viewer);
}

#[tokio::test]
async fn an_admin_adds_a_user_gives_and_revokes_a_token_and_disables_the_account() {
    let site = Site::new();
    let (cookie, csrf) = session(&site, "admin1").await;
    let page = site.get("/admin", &[("Cookie", &cookie)]).await;
    assert_eq!(page.status, 200, "{}", page.body);
    for name in ["admin1", "analyst1", "responder1", "focal32", "viewer1"] {
        assert!(page.body.contains(&format!("<a href=\"/admin/users/{name}\">{name}</a>")), "{name}");
    }
    assert!(page.body.contains("href=\"/admin\" aria-current=\"page\""), "the shell marks the page");
    assert!(page.body.contains("Signed in as admin1, administrator"), "{}", page.body);

    // Without the CSRF token nothing changes.
    let no_csrf = [("username", "amina"), ("role", "analyst"), ("password", PASSWORD)];
    assert_eq!(post(&site, "/admin/users", &cookie, &no_csrf).await.status, 403);
    assert!(site.store.user_by_username("amina").unwrap().is_none());

    let add = [("csrf", csrf.as_str()), ("username", "amina"), ("role", "focal_point"), ("community", "CF32")];
    let r = post(&site, "/admin/users", &cookie, &[&add[..], &[("password", PASSWORD)]].concat()).await;
    assert_eq!((r.status, r.header("location")), (303, Some("/admin?done=created&name=amina&role=focal_point")));
    let amina = site.store.user_by_username("amina").unwrap().unwrap();
    assert_eq!((amina.role, amina.community.as_deref(), amina.active), (Role::FocalPoint, Some("CF32"), true));
    let done = site.get("/admin?done=created&name=amina&role=focal_point", &[("Cookie", &cookie)]).await;
    assert!(done.body.contains("Created amina (focal point)."), "{}", done.body);
    // A focal point without a known community, a short password, a taken name: refused with the reason.
    let bad = [("csrf", csrf.as_str()), ("username", "ben"), ("role", "focal_point"), ("community", "ZZ99")];
    let r = post(&site, "/admin/users", &cookie, &[&bad[..], &[("password", PASSWORD)]].concat()).await;
    assert_eq!(r.status, 422, "{}", r.body);
    let short = [("csrf", csrf.as_str()), ("username", "ben"), ("role", "viewer"), ("password", "short")];
    assert_eq!(post(&site, "/admin/users", &cookie, &short).await.status, 422);
    let taken = [("csrf", csrf.as_str()), ("username", "amina"), ("role", "viewer"), ("password", PASSWORD)];
    assert_eq!(post(&site, "/admin/users", &cookie, &taken).await.status, 409);

    // A token, shown once, that works for the API until revoked.
    let r = post(
        &site,
        "/admin/users/amina/tokens",
        &cookie,
        &[("csrf", &csrf), ("partner", "Radio Ndeke"), ("expires", "90d")],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let at = r.body.find("id=\"new-token\">").expect("the token is shown") + "id=\"new-token\">".len();
    let token = r.body[at..].split('<').next().unwrap().to_string();
    assert!(token.starts_with("vca_"), "{token}");
    assert_eq!(r.header("cache-control"), Some("no-store"));
    assert_eq!(site.get_auth("/api/v1/alerts", &token).await.status, 200);
    let listed = accounts::tokens_of(&*site.store, "amina").unwrap();
    assert_eq!(listed.len(), 1);
    assert!(listed[0].expires_at.is_some());
    let id = listed[0].public_id();
    let user_page = site.get("/admin/users/amina", &[("Cookie", &cookie)]).await;
    assert!(user_page.body.contains(&format!("<code>{id}</code>")) && !user_page.body.contains(&token));
    let r = post(&site, &format!("/admin/tokens/{id}/revoke"), &cookie, &[("csrf", &csrf)]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(r.header("location"), Some(format!("/admin/users/amina?done=revoked&name={id}").as_str()));
    assert_eq!(site.get_auth("/api/v1/alerts", &token).await.status, 401, "a revoked token stops working");

    // Disabling ends the account's sessions; enabling gives nothing back.
    let amina_session = sign_in(&site, "amina").await;
    let r = post(&site, "/admin/users/amina/disable", &cookie, &[("csrf", &csrf)]).await;
    assert_eq!(r.header("location"), Some("/admin?done=disabled&name=amina&n=1&m=0"));
    assert!(!site.store.user_by_username("amina").unwrap().unwrap().active);
    assert_eq!(site.get("/alerts", &[("Cookie", &amina_session)]).await.header("location"), Some("/login"));
    let r = post(&site, "/admin/users/amina/enable", &cookie, &[("csrf", &csrf)]).await;
    assert_eq!(r.status, 303);
    assert!(site.store.user_by_username("amina").unwrap().unwrap().active);
    let r = post(&site, "/admin/users/nobody/disable", &cookie, &[("csrf", &csrf)]).await;
    assert_eq!(r.status, 404);

    // Another role: its sessions end; a focal point's community goes with the old role.
    let amina_session = sign_in(&site, "amina").await;
    let r = post(&site, "/admin/users/amina/role", &cookie, &[("csrf", &csrf), ("role", "analyst")]).await;
    assert_eq!(r.header("location"), Some("/admin?done=role&name=amina&role=analyst&n=1&m=0"), "{}", r.body);
    let amina = site.store.user_by_username("amina").unwrap().unwrap();
    assert_eq!((amina.role, amina.community), (Role::Analyst, None));
    assert_eq!(site.get("/alerts", &[("Cookie", &amina_session)]).await.header("location"), Some("/login"));
    let r = post(&site, "/admin/users/amina/role", &cookie, &[("csrf", &csrf), ("role", "focal_point")]).await;
    assert_eq!(r.status, 422, "a focal point needs a community");
    let page = site.get("/admin/users/amina", &[("Cookie", &cookie)]).await;
    assert!(page.body.contains("<option value=\"analyst\" selected>analyst</option>"), "{}", page.body);
}

#[tokio::test]
async fn pages_speak_the_chosen_language_then_the_browsers() {
    let site = Site::new();
    let r = site.get("/lang/fr?back=/alerts", &[]).await;
    assert_eq!((r.status, r.header("location")), (303, Some("/alerts")));
    assert_eq!(r.cookie("vc_lang").as_deref(), Some("vc_lang=fr"));
    assert_eq!(site.get("/lang/fr?back=//evil.example", &[]).await.header("location"), Some("/"));
    assert_eq!(site.get("/lang/xx", &[]).await.status, 404);
    // An unknown address: the error page on the shell, JSON under /api/.
    let missing = site.get("/no-such-page", &[("Accept-Language", "fr")]).await;
    assert_eq!(missing.status, 404);
    assert!(missing.body.contains("<h1>404</h1>") && missing.body.contains("no page at /no-such-page"));
    assert!(missing.body.contains("<nav aria-label="), "on the shell");
    let api = site.get("/api/v1/no-such-thing", &[]).await;
    assert_eq!((api.status, api.json()["error"].as_str()), (404, Some("no page at /api/v1/no-such-thing")));

    let french = site.get("/login", &[("Cookie", "vc_lang=fr"), ("Accept-Language", "en")]).await;
    assert!(
        french.body.contains("<html lang=\"fr\">") && french.body.contains("<h1>Connexion</h1>"),
        "{}",
        french.body
    );
    let browser = site.get("/", &[("Accept-Language", "fr-CF,fr;q=0.9,en;q=0.5")]).await;
    assert!(browser.body.contains("<html lang=\"fr\">") && browser.body.contains("Menaces par zone"));
    let english = site.get("/", &[]).await;
    assert!(english.body.contains("<html lang=\"en\">") && english.body.contains("Threats by area"));
    // The switch offers the other language, marks the current one.
    assert!(english.body.contains("<a href=\"/lang/fr?back=/\" lang=\"fr\" hreflang=\"fr\">Français</a>"));
    assert!(english.body.contains("<span lang=\"en\" aria-current=\"true\">English</span>"));

    let (cookie, _) = session(&site, "responder1").await;
    let alerts = site.get("/alerts", &[("Cookie", &format!("{cookie}; vc_lang=fr"))]).await;
    assert_eq!(alerts.status, 200);
    assert!(alerts.body.contains("<h1>Alertes</h1>") && alerts.body.contains("Connecté : responder1, intervenant"));
    assert!(alerts.body.contains("action=\"/logout\""), "sign-out is a form (POST with CSRF)");
}

/// The on-call page: nobody signed in goes to /login and their forms are
/// refused, every other role gets 403 and changes nothing, an admin lists,
/// adds (bad fields refused with the field named) and removes entries,
/// each change on the audit chain by them.
#[tokio::test]
async fn only_an_admin_sees_and_changes_who_is_on_call_and_each_change_is_audited() {
    let site = Site::new();
    let r = site.get("/admin/oncall", &[]).await;
    assert_eq!((r.status, r.header("location")), (303, Some("/login")));
    let shift = [("area", "CF32"), ("role", "responder"), ("user", "responder1"), ("from", "2026-12-08T08:00")];
    let with_end = [&shift[..], &[("to", "2026-12-08T20:00")]].concat();
    let r = site.request(Method::POST, "/admin/oncall", &[FORM], form_encode(&with_end).as_bytes()).await;
    assert_eq!(r.status, 401, "{}", r.body);
    for user in ["analyst1", "responder1", "focal32", "viewer1"] {
        let (cookie, csrf) = session(&site, user).await;
        let r = site.get("/admin/oncall", &[("Cookie", &cookie)]).await;
        assert_eq!(r.status, 403, "{user}: {}", r.body);
        let r = post(&site, "/admin/oncall", &cookie, &[&[("csrf", csrf.as_str())][..], &with_end].concat()).await;
        assert_eq!(r.status, 403, "{user}: {}", r.body);
    }
    assert!(site.store.rota().unwrap().is_empty(), "nobody but an admin put anyone on call");

    let (cookie, csrf) = session(&site, "admin1").await;
    let page = site.get("/admin/oncall", &[("Cookie", &cookie)]).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("Nobody is on call"), "{}", page.body);
    assert!(site.get("/admin", &[("Cookie", &cookie)]).await.body.contains("href=\"/admin/oncall\""));
    // Without the CSRF token nothing changes.
    assert_eq!(post(&site, "/admin/oncall", &cookie, &with_end).await.status, 403);
    let add = [&[("csrf", csrf.as_str())][..], &with_end].concat();
    let r = post(&site, "/admin/oncall", &cookie, &add).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let rota = site.store.rota().unwrap();
    assert_eq!(rota.len(), 1);
    let entry = &rota[0];
    let responder = site.store.user_by_username("responder1").unwrap().unwrap();
    assert_eq!(
        (entry.area_pcode.as_str(), entry.user_id.as_str(), entry.fallback),
        ("CF32", responder.id.as_str(), false)
    );
    assert_eq!(entry.to, Some("2026-12-08T20:00:00Z".parse().unwrap()));
    assert_eq!(r.header("location"), Some(format!("/admin/oncall?done=added&n={}", entry.id).as_str()));
    let page = site.get(&format!("/admin/oncall?done=added&n={}", entry.id), &[("Cookie", &cookie)]).await;
    assert!(page.body.contains(&format!("Rota entry {} added.", entry.id)), "{}", page.body);
    let row = format!(
        "<tr><td>{}</td><td>CF32</td><td>responder</td><td>responder1</td><td>2026-12-08 08:00</td><td>2026-12-08 20:00</td><td></td>",
        entry.id
    );
    assert!(page.body.contains(&row), "{}", page.body);
    // A fallback needs no end; without one a shift is refused, naming the field.
    let fallback = [
        ("csrf", csrf.as_str()),
        ("area", "*"),
        ("role", "supervisor"),
        ("user", "admin1"),
        ("from", "2026-12-01T00:00"),
        ("fallback", "yes"),
    ];
    assert_eq!(post(&site, "/admin/oncall", &cookie, &fallback).await.status, 303);
    let refused = [
        (vec![("area", "CF32"), ("role", "responder"), ("user", "responder1"), ("from", "2026-12-08T08:00")], "to: "),
        (
            vec![
                ("area", "CF32"),
                ("role", "cook"),
                ("user", "responder1"),
                ("from", "2026-12-08T08:00"),
                ("to", "2026-12-09T08:00"),
            ],
            "role: ",
        ),
        (
            vec![
                ("area", "CF32"),
                ("role", "analyst"),
                ("user", "nobody"),
                ("from", "2026-12-08T08:00"),
                ("to", "2026-12-09T08:00"),
            ],
            "user: no user `nobody`",
        ),
        (
            vec![
                ("area", "CF32"),
                ("role", "analyst"),
                ("user", "analyst1"),
                ("from", "tomorrow"),
                ("to", "2026-12-09T08:00"),
            ],
            "from: `tomorrow` is not a time",
        ),
        (
            vec![
                ("area", ""),
                ("role", "analyst"),
                ("user", "analyst1"),
                ("from", "2026-12-08T08:00"),
                ("to", "2026-12-09T08:00"),
            ],
            "area: ",
        ),
        (
            vec![
                ("area", "CF32"),
                ("role", "analyst"),
                ("user", "analyst1"),
                ("from", "2026-12-08T08:00"),
                ("to", "2026-12-07T08:00"),
            ],
            "to: the end must come after",
        ),
    ];
    for (fields, reason) in refused {
        let r = post(&site, "/admin/oncall", &cookie, &[&[("csrf", csrf.as_str())][..], &fields].concat()).await;
        assert_eq!(r.status, 422, "{fields:?}: {}", r.body);
        assert!(r.body.contains(&reason.replace('`', "&#96;")) || r.body.contains(reason), "{reason}: {}", r.body);
    }
    assert_eq!(site.store.rota().unwrap().len(), 2, "nothing refused was stored");

    // Removed: gone from the rota and the page; an unknown id is 404.
    let r = post(&site, &format!("/admin/oncall/{}/remove", entry.id), &cookie, &[("csrf", &csrf)]).await;
    assert_eq!(
        (r.status, r.header("location")),
        (303, Some(format!("/admin/oncall?done=removed&n={}", entry.id).as_str()))
    );
    assert!(site.store.rota().unwrap().iter().all(|e| e.id != entry.id));
    assert!(!site.get("/admin/oncall", &[("Cookie", &cookie)]).await.body.contains(&row));
    assert_eq!(
        post(&site, &format!("/admin/oncall/{}/remove", entry.id), &cookie, &[("csrf", &csrf)]).await.status,
        404
    );
    let (other, other_csrf) = session(&site, "analyst1").await;
    let remaining = site.store.rota().unwrap()[0].id;
    let r = post(&site, &format!("/admin/oncall/{remaining}/remove"), &other, &[("csrf", &other_csrf)]).await;
    assert_eq!(r.status, 403);
    assert_eq!(site.store.rota().unwrap().len(), 1);

    // Every change is on the audit chain, by the admin.
    let admin = site.store.user_by_username("admin1").unwrap().unwrap();
    let changes: Vec<_> = site
        .store
        .audit_entries(0, 10_000)
        .unwrap()
        .into_iter()
        .filter(|e| e.event.action == vitalcore_security::audit::AuditAction::OnCallChanged)
        .map(|e| (e.event.actor, e.event.detail))
        .collect();
    assert_eq!(changes.len(), 3, "{changes:?}");
    assert!(changes.iter().all(|(actor, _)| *actor == admin.id), "{changes:?}");
    assert!(changes[2].1.starts_with(&format!("removed #{}: CF32 responder", entry.id)), "{changes:?}");
}
