//! `recto serve`: the local web app (recto-web), until Ctrl-C.

use std::net::SocketAddr;

use super::Outcome;
use crate::cli::ServeArgs;
use crate::config::Config;
use crate::output;

pub fn run(args: ServeArgs, config: &Config) -> anyhow::Result<Outcome> {
    let registry = config.reader();
    if !args.bind.is_loopback() {
        tracing::warn!(
            "listening on {}: anyone who can reach this machine can read the library",
            args.bind
        );
    }
    let rt = super::runtime()?;
    rt.block_on(async {
        let server =
            recto_web::Server::bind(registry, SocketAddr::new(args.bind, args.port)).await?;
        output::line(format!(
            "recto serve: http://{}/ (Ctrl-C stops it)",
            server.local_addr()
        ))?;
        server
            .run(async {
                let _ = tokio::signal::ctrl_c().await;
            })
            .await?;
        anyhow::Ok(())
    })?;
    Ok(Outcome::Success)
}
