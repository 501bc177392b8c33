//! Changing a password (JSON API and server function), and the forms that
//! work without JavaScript: their redirects, and the errors they render.

mod common;

use common::{spawn_app, Client};
use reqwest::{Method, StatusCode};
use serde_json::json;

const PW: &str = "correct horse battery";
const NEW_PW: &str = "mauve tractor lagoon";

async fn change(client: &mut Client, current: &str, new: &str, others: bool) -> common::Reply {
    client
        .send(
            Method::POST,
            "/api/auth/password",
            Some(json!({"current_password": current, "new_password": new, "sign_out_others": others})),
        )
        .await
}

/// The headers of a form a browser posts by navigating, with JavaScript off.
const PLAIN_FORM: &[(&str, &str)] = &[
    ("sec-fetch-site", "same-origin"),
    ("sec-fetch-mode", "navigate"),
    ("accept", "text/html,application/xhtml+xml"),
];

fn location(reply: &common::Reply) -> &str {
    reply
        .headers
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("<none>")
}

#[tokio::test]
async fn a_password_change_needs_the_current_password_and_can_sign_out_the_other_devices() {
    let app = spawn_app(&[]).await;
    let mut laptop = Client::new(&app);
    let name = laptop.signed_in_user(PW).await;
    let mut phone = Client::new(&app);
    assert_eq!(phone.login(&name, PW).await.status, StatusCode::OK);

    let wrong = change(&mut laptop, "not my password", NEW_PW, true).await;
    assert_eq!(wrong.status, StatusCode::BAD_REQUEST);
    assert_eq!(wrong.error_code(), "validation_failed");
    assert_eq!(wrong.body["field"], "current_password");

    let weak = change(&mut laptop, PW, "password1", true).await;
    assert_eq!(weak.body["field"], "new_password", "{}", weak.text);
    let same = change(&mut laptop, PW, PW, true).await;
    assert_eq!(same.body["field"], "new_password", "{}", same.text);

    let done = change(&mut laptop, PW, NEW_PW, true).await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.text);
    assert_eq!(done.body["signed_out_others"], 1);

    // This device stays signed in; the phone is signed out, even on refresh.
    assert_eq!(laptop.me().await.status, StatusCode::OK);
    assert_eq!(laptop.refresh().await.status, StatusCode::OK);
    assert_eq!(phone.me().await.status, StatusCode::UNAUTHORIZED);
    // A page load on the phone says why it has to sign in again.
    let page = phone.send(Method::GET, "/dashboard", None).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(location(&page), "/login?ended=1&next=/dashboard");
    assert_eq!(phone.refresh().await.status, StatusCode::UNAUTHORIZED);

    let mut fresh = Client::new(&app);
    assert_eq!(
        fresh.login(&name, PW).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(fresh.login(&name, NEW_PW).await.status, StatusCode::OK);
}

#[tokio::test]
async fn keeping_the_other_devices_signed_in_is_a_choice() {
    let app = spawn_app(&[]).await;
    let mut laptop = Client::new(&app);
    let name = laptop.signed_in_user(PW).await;
    let mut phone = Client::new(&app);
    assert_eq!(phone.login(&name, PW).await.status, StatusCode::OK);
    let done = change(&mut laptop, PW, NEW_PW, false).await;
    assert_eq!(done.body["signed_out_others"], 0, "{}", done.text);
    assert_eq!(phone.me().await.status, StatusCode::OK);
}

#[tokio::test]
async fn a_password_change_is_refused_to_strangers_cross_site_and_to_guessing() {
    let app = spawn_app(&[("RATE_LIMIT", "on"), ("SIGN_IN_RATE_LIMIT", "1000/1m")]).await;
    let mut anonymous = Client::new(&app);
    let reply = change(&mut anonymous, PW, NEW_PW, false).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);

    let mut victim = Client::new(&app);
    victim.signed_in_user(PW).await;
    let mut forged = victim.clone();
    forged.origin = Some("https://evil.example".into());
    forged.csrf_header = false;
    assert_eq!(
        change(&mut forged, PW, NEW_PW, true).await.status,
        StatusCode::FORBIDDEN
    );

    // A stolen session cannot be used to guess the current password: after a
    // few wrong ones the account is slowed down like a sign-in.
    let mut limited = None;
    for attempt in 0..12 {
        let reply = change(
            &mut victim,
            &format!("guess number {attempt}"),
            NEW_PW,
            true,
        )
        .await;
        if reply.status == StatusCode::TOO_MANY_REQUESTS {
            limited = Some(reply);
            break;
        }
        assert_eq!(reply.body["field"], "current_password");
    }
    let limited = limited.expect("guessing the current password is rate limited");
    assert!(limited.headers.contains_key("retry-after"));
}

#[tokio::test]
async fn the_change_password_server_function_answers_a_plain_form_with_a_redirect() {
    let app = spawn_app(&[]).await;
    let mut browser = Client::new(&app);
    browser.signed_in_user(PW).await;
    browser.csrf_header = false;

    let wrong = browser
        .form_with(
            "/api/fn/change_password",
            &[
                ("current_password", "nope nope nope"),
                ("new_password", NEW_PW),
            ],
            PLAIN_FORM,
        )
        .await;
    assert_eq!(wrong.status, StatusCode::FOUND);
    assert_eq!(
        location(&wrong),
        "/account?error=validation_failed&field=current_password"
    );

    let done = browser
        .form_with(
            "/api/fn/change_password",
            &[
                ("current_password", PW),
                ("new_password", NEW_PW),
                ("sign_out_others", "on"),
            ],
            PLAIN_FORM,
        )
        .await;
    assert_eq!(done.status, StatusCode::FOUND, "{}", done.text);
    assert_eq!(location(&done), "/account?changed=1&signed_out=0");
    let page = browser
        .send(Method::GET, "/account?changed=1&signed_out=0", None)
        .await;
    assert!(
        page.text.contains("Your password has been changed."),
        "{}",
        page.text
    );
}

#[tokio::test]
async fn a_form_posted_without_javascript_after_the_access_token_expired_still_works() {
    let app = spawn_app(&[("ACCESS_TOKEN_TTL", "1s"), ("JWT_LEEWAY", "0s")]).await;
    let mut browser = Client::new(&app);
    browser.signed_in_user(PW).await;
    browser.csrf_header = false;
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    // The page could not refresh first: the server resumes the session itself.
    let done = browser
        .form_with(
            "/api/fn/change_password",
            &[("current_password", PW), ("new_password", NEW_PW)],
            PLAIN_FORM,
        )
        .await;
    assert_eq!(
        location(&done),
        "/account?changed=1&signed_out=0",
        "{}",
        done.text
    );
    assert!(
        !done.set_cookies().is_empty(),
        "the rotated cookies come back"
    );
    // The session lives on with the rotated refresh token. (Not `me()`: the new
    // access token is again only 1 s long, and a slow machine outlasts it.)
    browser.csrf_header = true;
    assert_eq!(browser.refresh().await.status, StatusCode::OK);
}

#[tokio::test]
async fn sign_in_and_register_work_without_javascript_and_show_their_errors() {
    let app = spawn_app(&[]).await;
    let mut browser = Client::new(&app);
    browser.csrf_header = false;

    let weak = browser
        .form_with(
            "/api/fn/register",
            &[("username", "nojs"), ("password", "password")],
            PLAIN_FORM,
        )
        .await;
    assert_eq!(
        location(&weak),
        "/register?error=validation_failed&field=password"
    );
    let page = browser.send(Method::GET, location(&weak), None).await;
    assert!(
        page.text.contains("not common or easy to guess"),
        "{}",
        page.text
    );
    assert!(page.text.contains(r#"aria-invalid="true""#));

    let made = browser
        .form_with(
            "/api/fn/register",
            &[("username", "nojs"), ("password", PW)],
            PLAIN_FORM,
        )
        .await;
    assert_eq!(location(&made), "/login?registered=1");

    let wrong = browser
        .form_with(
            "/api/fn/login",
            &[
                ("username", "nojs"),
                ("password", "wrong wrong wrong"),
                ("next", "/sessions"),
            ],
            PLAIN_FORM,
        )
        .await;
    assert_eq!(
        location(&wrong),
        "/login?error=invalid_credentials&next=/sessions"
    );
    assert!(browser.cookies.is_empty());
    let page = browser.send(Method::GET, location(&wrong), None).await;
    assert!(
        page.text.contains("Incorrect username or password."),
        "{}",
        page.text
    );

    let signed_in = browser
        .form_with(
            "/api/fn/login",
            &[
                ("username", "nojs"),
                ("password", PW),
                ("next", "/sessions"),
            ],
            PLAIN_FORM,
        )
        .await;
    assert_eq!(signed_in.status, StatusCode::FOUND);
    assert_eq!(location(&signed_in), "/sessions");
    let page = browser.send(Method::GET, "/sessions", None).await;
    assert_eq!(page.status, StatusCode::OK);
}

#[tokio::test]
async fn a_crafted_error_link_can_only_pick_one_of_our_own_messages() {
    let app = spawn_app(&[]).await;
    let mut browser = Client::new(&app);
    let page = browser
        .send(
            Method::GET,
            "/login?error=validation_failed&field=password&message=Call+0800+SCAM&error=%3Cscript%3E",
            None,
        )
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(!page.text.contains("SCAM"));
    assert!(!page.text.contains("<script>alert"));
    let page = browser
        .send(Method::GET, "/login?error=%3Cb%3Ehi%3C%2Fb%3E", None)
        .await;
    assert!(!page.text.contains("<b>hi</b>"));
}

/// The stored hash of `username`, read straight from the database.
async fn stored_hash(db_url: &str, username: &str) -> String {
    use app::server::entity::user;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let db = sea_orm::Database::connect(db_url).await.expect("database");
    let row = user::Entity::find()
        .filter(user::Column::UsernameKey.eq(username.to_ascii_lowercase()))
        .one(&db)
        .await
        .expect("query")
        .expect("the user exists");
    row.password_hash
}

#[tokio::test]
async fn a_hash_made_with_older_parameters_is_replaced_at_the_next_sign_in() {
    let dir = std::env::temp_dir().join(format!("portcullis-rehash-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).expect("a temp dir");
    let db = common::database_url(&dir);
    let old = spawn_app(&[
        ("DATABASE_URL", db.as_str()),
        ("ARGON2_M_COST", "1024"),
        ("ARGON2_T_COST", "1"),
    ])
    .await;
    let name = Client::new(&old).signed_in_user(PW).await;
    assert!(stored_hash(&db, &name)
        .await
        .starts_with("$argon2id$v=19$m=1024,t=1,p=1$"));
    drop(old);

    let today = spawn_app(&[("DATABASE_URL", db.as_str())]).await;
    assert_eq!(
        Client::new(&today).login(&name, PW).await.status,
        StatusCode::OK
    );
    assert!(stored_hash(&db, &name)
        .await
        .starts_with("$argon2id$v=19$m=9216,t=4,p=1$"));
    assert_eq!(
        Client::new(&today).login(&name, PW).await.status,
        StatusCode::OK
    );
    assert_eq!(
        Client::new(&today)
            .login(&name, "wrong wrong wrong")
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    let _ = std::fs::remove_dir_all(&dir);
}
