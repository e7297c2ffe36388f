//! `orderflow run` for a state machine that needs the Step Functions API
//! around it (child executions, task tokens, activities) or that comes from
//! another template's stack: the execution runs in an in-process server, the
//! same as `orderflow serve`'s, whose API listens on 127.0.0.1 for workers
//! (GetActivityTask, SendTaskSuccess); its children are executions of that
//! same server, their histories readable there while it runs.

use std::sync::Arc;

use orderflow_asl::{Clock, Execution, Invoker};
use orderflow_integrations::Integrations;
use orderflow_server::{Config, Place, Service};
use tokio::task::JoinHandle;

/// The in-process server a run executes in; its API stops with it.
pub struct ApiRun {
    pub service: Arc<Service>,
    /// Where its API listens (`http://127.0.0.1:<port>`).
    pub address: String,
    api: JoinHandle<()>,
}

impl Drop for ApiRun {
    fn drop(&mut self) {
        self.api.abort();
    }
}

impl ApiRun {
    /// A server kept in memory, its API on 127.0.0.1:`port` (0: any free one),
    /// its service Tasks to `services`.
    pub async fn start(
        invoker: Arc<dyn Invoker>,
        clock: Arc<dyn Clock>,
        services: Option<Arc<Integrations>>,
        port: u16,
    ) -> Result<ApiRun, String> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
            .await
            .map_err(|e| format!("cannot listen on 127.0.0.1:{port}: {e}"))?;
        let address = listener.local_addr().map(|a| format!("http://{a}")).map_err(|e| e.to_string())?;
        let mut service =
            Service::open(Config::default(), invoker, clock, &Place::Memory).map_err(|e| e.to_string())?;
        if let Some(services) = services {
            service = service.with_services(services, Integrations::check);
        }
        let service = Arc::new(service);
        let api = tokio::spawn(orderflow_server::serve(listener, service.clone()));
        Ok(ApiRun { service, address, api })
    }

    /// Runs one execution of `machine_arn` to its end: the execution, or
    /// None when StopExecution ended it.
    pub async fn run(&self, machine_arn: &str, input: &str) -> Result<(String, Option<Execution>), String> {
        self.service.run_execution(machine_arn, None, input).await.map_err(|e| e.to_string())
    }
}
