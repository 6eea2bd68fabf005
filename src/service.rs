//! The replica service live mode runs in its containers (`serve`, with the service-time
//! distributions of `service_time`), the load generator that drives it (`load`) and the
//! activator that holds requests while no replica exists (`activator`). None
//! of it is the controller ([`crate::live`]): the service knows nothing of policies, and
//! the controller reaches it only through Docker and Prometheus.

pub mod activator;
pub mod load;
pub mod serve;
pub mod service_time;

/// Resolves on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}
