//! `server create-user`: the way the first admin comes to exist (there are no
//! default accounts), and how a forgotten password is reset.

use std::io::Read;

use app::{
    policy::Role,
    server::{
        config::Config,
        db,
        entity::{session, user},
        password::PasswordHasher,
        users,
    },
};
use chrono::Utc;
use sea_orm::{sea_query::Expr, ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};

pub const USAGE: &str = "usage:
  server                      run the web server (same as `server serve`)
  server create-user --username NAME [--role user|admin] [--reset-password]
                              create a user, or with --reset-password set a new
                              password; the password is read from standard input";

/// Parses the arguments, reads the password from stdin and creates or updates the user.
///
/// # Errors
/// A readable message for bad arguments, a bad password or a database failure.
pub async fn create_user(args: &[String]) -> Result<(), String> {
    let mut username = None;
    let mut role = None;
    let mut reset = false;
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--username" => username = it.next().cloned(),
            "--role" => {
                let name = it.next().ok_or("--role needs a value: user or admin")?;
                role = Some(
                    Role::parse(name)
                        .ok_or_else(|| format!("unknown role `{name}`: use user or admin"))?,
                );
            }
            "--reset-password" => reset = true,
            other => return Err(format!("unexpected argument `{other}`\n\n{USAGE}")),
        }
    }
    let username = username.ok_or_else(|| format!("--username is required\n\n{USAGE}"))?;
    let password = read_password()?;
    let addr = "127.0.0.1:0"
        .parse()
        .map_err(|_| "internal address error")?;
    let config = Config::from_env(addr).map_err(|e| e.to_string())?;
    let conn = db::connect(&config).await?;
    let hasher = PasswordHasher::new(config.argon2, 1, 1)?;
    if reset {
        let key = users::username_key(&username).map_err(|e| e.to_string())?;
        let existing = users::find_by_key(&conn, &key)
            .await
            .map_err(|e| e.to_string())?
            .ok_or_else(|| format!("no user named `{username}`"))?;
        users::check_password(&password, &[&username]).map_err(|e| e.to_string())?;
        let hash = hasher
            .hash(password.into())
            .await
            .map_err(|e| e.to_string())?;
        let user_id = existing.id;
        let mut active: user::ActiveModel = existing.clone().into();
        active.password_hash = Set(hash);
        if let Some(role) = role.filter(|r| r.as_str() != existing.role) {
            active.role = Set(role.as_str().to_owned());
            active.authz_changed_at = Set(Some(Utc::now()));
        }
        let updated = active
            .update(&conn)
            .await
            .map_err(|e| format!("cannot update the user: {e}"))?;
        // A reset password ends every session signed in with the old one.
        let ended = session::Entity::update_many()
            .col_expr(session::Column::RevokedAt, Expr::value(Utc::now()))
            .col_expr(session::Column::RevokeReason, Expr::value("password_reset"))
            .filter(session::Column::UserId.eq(user_id))
            .filter(session::Column::RevokedAt.is_null())
            .exec(&conn)
            .await
            .map_err(|e| format!("cannot end the user's sessions: {e}"))?
            .rows_affected;
        println!(
            "password reset for {username} (role {}); {ended} session(s) signed out",
            updated.role
        );
        return Ok(());
    }
    let role = role.unwrap_or(Role::User);
    let user = users::register(&conn, &hasher, &username, password.into(), role)
        .await
        .map_err(|e| e.to_string())?;
    println!(
        "created {} with role {} (id {})",
        user.username,
        user.role.as_str(),
        user.id
    );
    Ok(())
}

fn read_password() -> Result<String, String> {
    let mut input = String::new();
    std::io::stdin()
        .take(4096)
        .read_to_string(&mut input)
        .map_err(|e| format!("cannot read the password from standard input: {e}"))?;
    let password = input
        .strip_suffix('\n')
        .map(|p| p.strip_suffix('\r').unwrap_or(p))
        .unwrap_or(&input);
    if password.is_empty() {
        return Err("no password on standard input (pipe it in, e.g. `printf %s \"$PW\" | server create-user ...`)".into());
    }
    Ok(password.to_owned())
}
