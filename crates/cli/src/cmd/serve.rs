//! `vitalcore serve`: the web application and JSON API.

use crate::context::Global;
use anyhow::Result;
use std::net::SocketAddr;
use std::sync::Arc;
use vitalcore_server::AppState;

#[derive(clap::Args)]
pub struct Args {
    /// Address to listen on. The default only accepts connections from this
    /// computer; use 0.0.0.0:8080 to open it to the network.
    #[arg(long, default_value = "127.0.0.1:8080", env = "VITALCORE_ADDR")]
    pub addr: SocketAddr,
}

pub fn run(args: Args, global: &Global) -> Result<()> {
    let framework = Arc::new(global.load_framework()?);
    let store = global.open_store()?;
    serve(AppState::new(store, framework), args.addr, global)
}

pub fn serve(state: Arc<AppState>, addr: SocketAddr, global: &Global) -> Result<()> {
    let quiet = global.quiet;
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(vitalcore_server::serve(state, addr, |bound| {
        // Scripts and tests read this line to learn the port.
        println!("listening on http://{bound}/");
        if !quiet {
            eprintln!("Open http://{bound}/ in a browser. Stop with Ctrl-C.");
        }
    }))?;
    Ok(())
}
