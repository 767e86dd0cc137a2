//! `cognate admin ...`: a running server's pools, app clients, users, groups and plugins over
//! the same SigV4-signed API the AWS CLI uses ([`crate::admin_client::AdminClient`]), with
//! human-readable output or, with `--json`, the server's JSON answers (lists merged across
//! pages).
//!
//! The endpoint comes from `--endpoint` or `COGNATE_ENDPOINT`; the admin key from
//! `AWS_ACCESS_KEY_ID` + `AWS_SECRET_ACCESS_KEY`, `COGNATE_ADMIN_ACCESS_KEY_ID` +
//! `COGNATE_ADMIN_SECRET_ACCESS_KEY`, or the data directory's generated credentials (`--data`).
//!
//! ```text
//! cognate admin pools list
//! cognate admin pools create main --auto-verify email
//! cognate admin clients create eu-west-1_abc web --flow ALLOW_USER_SRP_AUTH
//! cognate admin users create eu-west-1_abc alice --attribute email=alice@example.com
//! cognate admin --json users list eu-west-1_abc
//! ```

use std::path::PathBuf;

use anyhow::Context as _;
use clap::{Args, Subcommand};
use serde_json::{Value, json};

use crate::admin_client::{AdminClient, ClientArgs};
use crate::config::DataDirArg;

/// `cognate admin [OPTIONS] <RESOURCE> <ACTION>`.
#[derive(Debug, Args)]
pub struct AdminArgs {
    /// The server's URL [default: http://127.0.0.1:9229].
    #[arg(long, value_name = "URL", env = "COGNATE_ENDPOINT", global = true)]
    pub endpoint: Option<String>,
    /// The region to sign for [default: us-east-1].
    #[arg(long, value_name = "REGION", global = true)]
    pub region: Option<String>,
    /// Print the server's JSON answers instead of text.
    #[arg(long, global = true)]
    pub json: bool,
    /// The server's data directory, for its generated admin key (when no key is in the
    /// environment).
    #[arg(long, value_name = "DIR", global = true)]
    pub data: Option<PathBuf>,
    #[command(subcommand)]
    pub resource: Resource,
}

#[derive(Debug, Subcommand)]
pub enum Resource {
    /// User pools.
    #[command(subcommand)]
    Pools(PoolsCommand),
    /// App clients of a pool.
    #[command(subcommand)]
    Clients(ClientsCommand),
    /// Users of a pool.
    #[command(subcommand)]
    Users(UsersCommand),
    /// Groups of a pool.
    #[command(subcommand)]
    Groups(GroupsCommand),
    /// Trigger plugins registered on the server.
    #[command(subcommand)]
    Plugins(PluginsCommand),
}

#[derive(Debug, Subcommand)]
pub enum PoolsCommand {
    /// List every pool.
    List,
    /// Create a pool.
    Create {
        name: String,
        /// An attribute to verify automatically (`email`, `phone_number`); repeatable.
        #[arg(long, value_name = "ATTRIBUTE")]
        auto_verify: Vec<String>,
        /// Usernames are this attribute (`email`, `phone_number`); repeatable.
        #[arg(long, value_name = "ATTRIBUTE")]
        username_attribute: Vec<String>,
    },
    /// Show a pool.
    Describe { pool: String },
    /// Delete a pool and everything in it.
    Delete { pool: String },
}

#[derive(Debug, Subcommand)]
pub enum ClientsCommand {
    /// List a pool's app clients.
    List { pool: String },
    /// Create an app client.
    Create {
        pool: String,
        name: String,
        /// Give the client a secret.
        #[arg(long)]
        secret: bool,
        /// An explicit auth flow (`ALLOW_USER_SRP_AUTH`, ...); repeatable.
        #[arg(long, value_name = "FLOW")]
        flow: Vec<String>,
    },
    /// Show an app client (its secret included).
    Describe { pool: String, client: String },
    /// Delete an app client.
    Delete { pool: String, client: String },
}

#[derive(Debug, Subcommand)]
pub enum UsersCommand {
    /// List a pool's users.
    List { pool: String },
    /// Create a user (AdminCreateUser): a temporary password, an invitation unless
    /// `--suppress`.
    Create {
        pool: String,
        username: String,
        /// An attribute, `name=value`; repeatable.
        #[arg(long, value_name = "NAME=VALUE")]
        attribute: Vec<String>,
        /// The temporary password [default: generated].
        #[arg(long, value_name = "PASSWORD")]
        temporary_password: Option<String>,
        /// Send no invitation.
        #[arg(long)]
        suppress: bool,
    },
    /// Show a user.
    Describe { pool: String, username: String },
    /// Delete a user.
    Delete { pool: String, username: String },
    /// Enable a disabled user.
    Enable { pool: String, username: String },
    /// Disable a user (sign-ins are refused, tokens stop working).
    Disable { pool: String, username: String },
}

#[derive(Debug, Subcommand)]
pub enum GroupsCommand {
    /// List a pool's groups.
    List { pool: String },
    /// Create a group.
    Create {
        pool: String,
        name: String,
        #[arg(long)]
        description: Option<String>,
        #[arg(long)]
        precedence: Option<u32>,
    },
    /// Delete a group.
    Delete { pool: String, name: String },
    /// Add a user to a group.
    AddUser {
        pool: String,
        group: String,
        username: String,
    },
    /// Remove a user from a group.
    RemoveUser {
        pool: String,
        group: String,
        username: String,
    },
    /// List a group's users.
    Members { pool: String, group: String },
}

#[derive(Debug, Subcommand)]
pub enum PluginsCommand {
    /// List registered plugins.
    List,
    /// Register (or replace) a plugin from a `.wasm` or `.wat` file.
    Add { name: String, file: PathBuf },
    /// Delete a plugin by name or `sha256:` reference.
    Delete { reference: String },
}

const IDP: &str = "AWSCognitoIdentityProviderService.";
const PLUGINS: &str = "CognatePlugins.";

/// A member of a JSON answer, `null` when absent.
fn at<'a>(value: &'a Value, name: &str) -> &'a Value {
    value.get(name).unwrap_or(&Value::Null)
}

fn text<'a>(value: &'a Value, name: &str) -> &'a str {
    at(value, name).as_str().unwrap_or("-")
}

/// Every item of a paginated list: `items` under `list_member`, the token in `token_in` of the
/// answer and `token_out` of the request.
async fn all_pages(
    api: &AdminClient,
    operation: &str,
    mut body: Value,
    list_member: &str,
    token: (&str, &str),
) -> anyhow::Result<Vec<Value>> {
    let mut items = Vec::new();
    loop {
        let page = api.call(&format!("{IDP}{operation}"), &body).await?;
        items.extend(
            at(&page, list_member)
                .as_array()
                .cloned()
                .unwrap_or_default(),
        );
        match at(&page, token.0).as_str() {
            Some(next) if !next.is_empty() => {
                if let Some(map) = body.as_object_mut() {
                    map.insert(token.1.to_owned(), json!(next));
                }
            }
            _ => return Ok(items),
        }
    }
}

/// The pagination members of most List operations: the answer's token, sent back as is.
const NEXT_TOKEN: (&str, &str) = ("NextToken", "NextToken");

/// A List operation to read to its last page: its body, the answer's list member, its
/// pagination members (answer's, request's) and the table's header.
struct Listing<'a> {
    operation: &'a str,
    body: Value,
    member: &'a str,
    token: (&'a str, &'a str),
    header: &'a [&'a str],
}

/// Every item of `listing`, printed as `--json` (`{member: [...]}`, the pages joined) or as a
/// table with one `row` per item.
async fn print_all(
    api: &AdminClient,
    json_out: bool,
    listing: Listing<'_>,
    row: impl Fn(&Value) -> Vec<String>,
) -> anyhow::Result<()> {
    let items = all_pages(
        api,
        listing.operation,
        listing.body,
        listing.member,
        listing.token,
    )
    .await?;
    if json_out {
        let mut answer = serde_json::Map::new();
        answer.insert(listing.member.to_owned(), Value::Array(items));
        return print_json(&Value::Object(answer));
    }
    let rows: Vec<Vec<String>> = items.iter().map(row).collect();
    table(listing.header, &rows);
    Ok(())
}

/// Prints rows as aligned columns under a header.
fn table(header: &[&str], rows: &[Vec<String>]) {
    let mut widths: Vec<usize> = header.iter().map(|h| h.len()).collect();
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<String>| {
        let mut out = String::new();
        for (cell, width) in cells.iter().zip(&widths) {
            out.push_str(&format!("{cell:<width$}  "));
        }
        println!("{}", out.trim_end());
    };
    line(header.iter().map(|h| (*h).to_owned()).collect());
    for row in rows {
        line(row.clone());
    }
}

fn attribute_of(user: &Value, member: &str, name: &str) -> String {
    at(user, member)
        .as_array()
        .into_iter()
        .flatten()
        .find(|a| at(a, "Name") == name)
        .and_then(|a| at(a, "Value").as_str())
        .unwrap_or("-")
        .to_owned()
}

/// Sets a member of a JSON object (no-op on anything else).
fn put(value: &mut Value, name: &str, member: Value) {
    if let Some(map) = value.as_object_mut() {
        map.insert(name.to_owned(), member);
    }
}

fn print_json(value: &Value) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

/// A command's call to `target`: with `--json` its answer is printed as it came and the command
/// is done (`None`); otherwise the command prints its own summary of the answer.
async fn act_on(
    api: &AdminClient,
    json_out: bool,
    target: &str,
    body: &Value,
) -> anyhow::Result<Option<Value>> {
    let answer = api.call(target, body).await?;
    if json_out {
        print_json(&answer)?;
        return Ok(None);
    }
    Ok(Some(answer))
}

/// Runs `cognate admin ...`.
pub async fn cli(args: AdminArgs) -> anyhow::Result<()> {
    let api = AdminClient::new(&ClientArgs {
        endpoint: args.endpoint.clone(),
        region: args.region.clone(),
        json: args.json,
        data: DataDirArg {
            data: args.data.clone(),
        },
    })?;
    let json_out = args.json;
    let act = |operation: &str, body: Value| {
        let target = format!("{IDP}{operation}");
        let api = &api;
        async move { act_on(api, json_out, &target, &body).await }
    };
    match args.resource {
        Resource::Pools(command) => match command {
            PoolsCommand::List => {
                let listing = Listing {
                    operation: "ListUserPools",
                    body: json!({"MaxResults": 60}),
                    member: "UserPools",
                    token: NEXT_TOKEN,
                    header: &["ID", "NAME"],
                };
                print_all(&api, json_out, listing, |p| {
                    vec![text(p, "Id").to_owned(), text(p, "Name").to_owned()]
                })
                .await?;
            }
            PoolsCommand::Create {
                name,
                auto_verify,
                username_attribute,
            } => {
                let mut body = json!({"PoolName": name});
                if !auto_verify.is_empty() {
                    put(&mut body, "AutoVerifiedAttributes", json!(auto_verify));
                }
                if !username_attribute.is_empty() {
                    put(&mut body, "UsernameAttributes", json!(username_attribute));
                }
                let Some(answer) = act("CreateUserPool", body).await? else {
                    return Ok(());
                };
                let pool = at(&answer, "UserPool");
                println!("Created pool {} ({})", text(pool, "Id"), text(pool, "Name"));
            }
            PoolsCommand::Describe { pool } => {
                let Some(answer) = act("DescribeUserPool", json!({"UserPoolId": pool})).await?
                else {
                    return Ok(());
                };
                let p = at(&answer, "UserPool");
                println!("Id:                    {}", text(p, "Id"));
                println!("Name:                  {}", text(p, "Name"));
                println!("Arn:                   {}", text(p, "Arn"));
                println!(
                    "Users (estimated):     {}",
                    at(p, "EstimatedNumberOfUsers").as_u64().unwrap_or(0)
                );
                println!("MFA:                   {}", text(p, "MfaConfiguration"));
                let list = |member: &str| {
                    at(p, member)
                        .as_array()
                        .map(|a| {
                            a.iter()
                                .filter_map(Value::as_str)
                                .collect::<Vec<_>>()
                                .join(", ")
                        })
                        .filter(|s| !s.is_empty())
                        .unwrap_or_else(|| "-".to_owned())
                };
                println!("Auto-verified:         {}", list("AutoVerifiedAttributes"));
                println!("Username attributes:   {}", list("UsernameAttributes"));
                println!("Deletion protection:   {}", text(p, "DeletionProtection"));
            }
            PoolsCommand::Delete { pool } => {
                let Some(_) = act("DeleteUserPool", json!({"UserPoolId": pool})).await? else {
                    return Ok(());
                };
                println!("Deleted pool {pool}");
            }
        },
        Resource::Clients(command) => match command {
            ClientsCommand::List { pool } => {
                let listing = Listing {
                    operation: "ListUserPoolClients",
                    body: json!({"UserPoolId": pool, "MaxResults": 60}),
                    member: "UserPoolClients",
                    token: NEXT_TOKEN,
                    header: &["CLIENT ID", "NAME"],
                };
                print_all(&api, json_out, listing, |c| {
                    vec![
                        text(c, "ClientId").to_owned(),
                        text(c, "ClientName").to_owned(),
                    ]
                })
                .await?;
            }
            ClientsCommand::Create {
                pool,
                name,
                secret,
                flow,
            } => {
                let mut body =
                    json!({"UserPoolId": pool, "ClientName": name, "GenerateSecret": secret});
                if !flow.is_empty() {
                    put(&mut body, "ExplicitAuthFlows", json!(flow));
                }
                let Some(answer) = act("CreateUserPoolClient", body).await? else {
                    return Ok(());
                };
                let c = at(&answer, "UserPoolClient");
                println!(
                    "Created app client {} ({}) in {pool}",
                    text(c, "ClientId"),
                    text(c, "ClientName")
                );
                if let Some(secret) = at(c, "ClientSecret").as_str() {
                    println!("Client secret: {secret}");
                }
            }
            ClientsCommand::Describe { pool, client } => {
                let Some(answer) = act(
                    "DescribeUserPoolClient",
                    json!({"UserPoolId": pool, "ClientId": client}),
                )
                .await?
                else {
                    return Ok(());
                };
                let c = at(&answer, "UserPoolClient");
                println!("Client id:    {}", text(c, "ClientId"));
                println!("Name:         {}", text(c, "ClientName"));
                println!("Pool:         {}", text(c, "UserPoolId"));
                println!(
                    "Secret:       {}",
                    if at(c, "ClientSecret").is_string() {
                        "yes (--json shows it)"
                    } else {
                        "no"
                    }
                );
                let flows = at(c, "ExplicitAuthFlows")
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .filter_map(Value::as_str)
                            .collect::<Vec<_>>()
                            .join(", ")
                    })
                    .unwrap_or_default();
                println!(
                    "Auth flows:   {}",
                    if flows.is_empty() { "-" } else { &flows }
                );
            }
            ClientsCommand::Delete { pool, client } => {
                let Some(_) = act(
                    "DeleteUserPoolClient",
                    json!({"UserPoolId": pool, "ClientId": client}),
                )
                .await?
                else {
                    return Ok(());
                };
                println!("Deleted app client {client} of {pool}");
            }
        },
        Resource::Users(command) => match command {
            UsersCommand::List { pool } => {
                let listing = Listing {
                    operation: "ListUsers",
                    body: json!({"UserPoolId": pool, "Limit": 60}),
                    member: "Users",
                    token: ("PaginationToken", "PaginationToken"),
                    header: &["USERNAME", "STATUS", "ENABLED", "EMAIL"],
                };
                print_all(&api, json_out, listing, |u| {
                    vec![
                        text(u, "Username").to_owned(),
                        text(u, "UserStatus").to_owned(),
                        if at(u, "Enabled") == false {
                            "disabled"
                        } else {
                            "enabled"
                        }
                        .to_owned(),
                        attribute_of(u, "Attributes", "email"),
                    ]
                })
                .await?;
            }
            UsersCommand::Create {
                pool,
                username,
                attribute,
                temporary_password,
                suppress,
            } => {
                let mut attributes = Vec::new();
                for pair in &attribute {
                    let (name, value) = pair
                        .split_once('=')
                        .with_context(|| format!("--attribute {pair}: expected NAME=VALUE"))?;
                    attributes.push(json!({"Name": name, "Value": value}));
                }
                let mut body =
                    json!({"UserPoolId": pool, "Username": username, "UserAttributes": attributes});
                if let Some(password) = temporary_password {
                    put(&mut body, "TemporaryPassword", json!(password));
                }
                if suppress {
                    put(&mut body, "MessageAction", json!("SUPPRESS"));
                }
                let Some(answer) = act("AdminCreateUser", body).await? else {
                    return Ok(());
                };
                let u = at(&answer, "User");
                println!(
                    "Created user {} in {pool} ({})",
                    text(u, "Username"),
                    text(u, "UserStatus")
                );
            }
            UsersCommand::Describe { pool, username } => {
                let Some(answer) = act(
                    "AdminGetUser",
                    json!({"UserPoolId": pool, "Username": username}),
                )
                .await?
                else {
                    return Ok(());
                };
                println!("Username:  {}", text(&answer, "Username"));
                println!("Status:    {}", text(&answer, "UserStatus"));
                println!(
                    "Enabled:   {}",
                    if at(&answer, "Enabled") == false {
                        "no"
                    } else {
                        "yes"
                    }
                );
                for a in at(&answer, "UserAttributes")
                    .as_array()
                    .into_iter()
                    .flatten()
                {
                    println!("  {} = {}", text(a, "Name"), text(a, "Value"));
                }
            }
            UsersCommand::Delete { pool, username } => {
                user_action(
                    &api,
                    json_out,
                    "AdminDeleteUser",
                    &pool,
                    &username,
                    "Deleted",
                )
                .await?;
            }
            UsersCommand::Enable { pool, username } => {
                user_action(
                    &api,
                    json_out,
                    "AdminEnableUser",
                    &pool,
                    &username,
                    "Enabled",
                )
                .await?;
            }
            UsersCommand::Disable { pool, username } => {
                user_action(
                    &api,
                    json_out,
                    "AdminDisableUser",
                    &pool,
                    &username,
                    "Disabled",
                )
                .await?;
            }
        },
        Resource::Groups(command) => match command {
            GroupsCommand::List { pool } => {
                let listing = Listing {
                    operation: "ListGroups",
                    body: json!({"UserPoolId": pool, "Limit": 60}),
                    member: "Groups",
                    token: NEXT_TOKEN,
                    header: &["GROUP", "PRECEDENCE", "DESCRIPTION"],
                };
                print_all(&api, json_out, listing, |g| {
                    vec![
                        text(g, "GroupName").to_owned(),
                        at(g, "Precedence")
                            .as_u64()
                            .map_or_else(|| "-".to_owned(), |p| p.to_string()),
                        text(g, "Description").to_owned(),
                    ]
                })
                .await?;
            }
            GroupsCommand::Create {
                pool,
                name,
                description,
                precedence,
            } => {
                let mut body = json!({"UserPoolId": pool, "GroupName": name});
                if let Some(d) = description {
                    put(&mut body, "Description", json!(d));
                }
                if let Some(p) = precedence {
                    put(&mut body, "Precedence", json!(p));
                }
                let Some(_) = act("CreateGroup", body).await? else {
                    return Ok(());
                };
                println!("Created group {name} in {pool}");
            }
            GroupsCommand::Delete { pool, name } => {
                let Some(_) = act(
                    "DeleteGroup",
                    json!({"UserPoolId": pool, "GroupName": name}),
                )
                .await?
                else {
                    return Ok(());
                };
                println!("Deleted group {name} of {pool}");
            }
            GroupsCommand::AddUser {
                pool,
                group,
                username,
            } => {
                let Some(_) = act(
                    "AdminAddUserToGroup",
                    json!({"UserPoolId": pool, "GroupName": group, "Username": username}),
                )
                .await?
                else {
                    return Ok(());
                };
                println!("Added {username} to group {group}");
            }
            GroupsCommand::RemoveUser {
                pool,
                group,
                username,
            } => {
                let Some(_) = act(
                    "AdminRemoveUserFromGroup",
                    json!({"UserPoolId": pool, "GroupName": group, "Username": username}),
                )
                .await?
                else {
                    return Ok(());
                };
                println!("Removed {username} from group {group}");
            }
            GroupsCommand::Members { pool, group } => {
                let listing = Listing {
                    operation: "ListUsersInGroup",
                    body: json!({"UserPoolId": pool, "GroupName": group, "Limit": 60}),
                    member: "Users",
                    token: NEXT_TOKEN,
                    header: &["USERNAME", "STATUS"],
                };
                print_all(&api, json_out, listing, |u| {
                    vec![
                        text(u, "Username").to_owned(),
                        text(u, "UserStatus").to_owned(),
                    ]
                })
                .await?;
            }
        },
        Resource::Plugins(command) => {
            let (operation, body) = match &command {
                PluginsCommand::List => ("ListPlugins", json!({})),
                PluginsCommand::Add { name, file } => {
                    let bytes = std::fs::read(file)
                        .with_context(|| format!("cannot read {}", file.display()))?;
                    let wasm = <base64ct::Base64 as base64ct::Encoding>::encode_string(&bytes);
                    ("RegisterPlugin", json!({"Name": name, "Wasm": wasm}))
                }
                PluginsCommand::Delete { reference } => {
                    let member = if reference.starts_with("sha256:") {
                        "Reference"
                    } else {
                        "Name"
                    };
                    ("DeletePlugin", json!({ member: reference }))
                }
            };
            let Some(answer) =
                act_on(&api, json_out, &format!("{PLUGINS}{operation}"), &body).await?
            else {
                return Ok(());
            };
            match command {
                PluginsCommand::List => {
                    let plugins = at(&answer, "Plugins")
                        .as_array()
                        .cloned()
                        .unwrap_or_default();
                    let rows: Vec<Vec<String>> = plugins
                        .iter()
                        .map(|p| {
                            vec![
                                at(p, "Names")
                                    .as_array()
                                    .map(|n| {
                                        n.iter()
                                            .filter_map(Value::as_str)
                                            .collect::<Vec<_>>()
                                            .join(", ")
                                    })
                                    .filter(|n| !n.is_empty())
                                    .unwrap_or_else(|| "-".to_owned()),
                                text(p, "Reference").to_owned(),
                                at(p, "Size").as_u64().unwrap_or(0).to_string(),
                            ]
                        })
                        .collect();
                    table(&["NAMES", "REFERENCE", "BYTES"], &rows);
                }
                PluginsCommand::Add { name, .. } => {
                    println!("Registered plugin {name} ({})", text(&answer, "Reference"));
                }
                PluginsCommand::Delete { reference } => println!("Deleted plugin {reference}"),
            }
        }
    }
    Ok(())
}

async fn user_action(
    api: &AdminClient,
    json_out: bool,
    operation: &str,
    pool: &str,
    username: &str,
    done: &str,
) -> anyhow::Result<()> {
    let body = json!({"UserPoolId": pool, "Username": username});
    if act_on(api, json_out, &format!("{IDP}{operation}"), &body)
        .await?
        .is_some()
    {
        println!("{done} user {username} of {pool}");
    }
    Ok(())
}
