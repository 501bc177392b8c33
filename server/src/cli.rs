//! `server create-user`: the way the first admin comes to exist (there are no
//! default accounts), and how a forgotten password is reset. It runs the same
//! services as the console, with the operator's proof
//! ([`Authorized::operator`]): the password rules, the session revocation and
//! the last-admin guard all hold here too.

use std::io::Read;

use app::{
    operations::Operation,
    policy::Role,
    server::{
        admin::{self, accounts},
        authentication::{authorized::Authorized, users},
        build_state,
        platform::config::Config,
        AppState,
    },
};
use leptos::config::LeptosOptions;

pub const USAGE: &str = "usage:
  server                      run the web server (same as `server serve`)
  server create-user --username NAME [--role user|admin] [--reset-password]
                              create a user, or with --reset-password set a new
                              password; the password is read from standard input";

/// What the command line asked for.
struct Args {
    username: String,
    role: Option<Role>,
    reset: bool,
}

/// Parses the arguments, reads the password from stdin and creates or updates the user.
///
/// # Errors
/// A readable message for bad arguments, a bad password or a database failure.
pub async fn create_user(args: &[String]) -> Result<(), String> {
    let args = parse(args)?;
    let password = read_password()?;
    app::server::platform::config::load_dotenv().map_err(|e| e.to_string())?;
    let addr = "127.0.0.1:0"
        .parse()
        .map_err(|_| "internal address error")?;
    let config = Config::from_env(addr).map_err(|e| e.to_string())?;
    let options = LeptosOptions::builder().output_name("portcullis").build();
    let state = build_state(config, options).await?;
    if args.reset {
        reset(&state, &args, password).await
    } else {
        let role = args.role.unwrap_or(Role::User);
        let proof = Authorized::operator(Operation::CreateUser);
        let user = accounts::create_user(&state, &proof, &args.username, password.into(), role)
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
}

/// `--reset-password`: the role first (it may be refused as the last admin),
/// then the password, which ends every session signed in with the old one.
async fn reset(state: &AppState, args: &Args, password: String) -> Result<(), String> {
    let key = users::username_key(&args.username).map_err(|e| e.to_string())?;
    let existing = users::find_by_key(&state.db, &key)
        .await
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("no user named `{}`", args.username))?;
    users::check_password(&password, &[&existing.username]).map_err(|e| e.to_string())?;
    if let Some(role) = args.role {
        let proof = Authorized::operator(Operation::SetRole);
        admin::set_role(state, &proof, existing.id, role)
            .await
            .map_err(|e| e.to_string())?;
    }
    let proof = Authorized::operator(Operation::ResetPassword);
    let (user, ended) = accounts::reset_password(state, &proof, &args.username, password.into())
        .await
        .map_err(|e| e.to_string())?;
    println!(
        "password reset for {} (role {}); {ended} session(s) signed out",
        args.username,
        user.role.as_str()
    );
    Ok(())
}

fn parse(args: &[String]) -> Result<Args, String> {
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
    Ok(Args {
        username,
        role,
        reset,
    })
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
