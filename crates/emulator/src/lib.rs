//! The local AWS emulator: moto in server mode, started on 127.0.0.1 on a free
//! port and killed when dropped (or when the process that started it dies),
//! plus the resources orderflow needs in it.

mod fault_proxy;
mod function_host;
mod function_process;
pub mod http;
mod moto;
pub mod private_opt;
mod resources;
mod runtime_api;
mod throttling_stub;

pub use fault_proxy::{Call, Fault, FaultProxy, Rule};
pub use function_host::{FunctionHost, FunctionSpec, Record};
pub use function_process::{FunctionProcess, Output};
pub use moto::{Emulator, EmulatorError, endpoint_loader, free_port, nearest_venv_tool};
pub use resources::{LocalResources, Notification, TopicKind, drain_notifications};
pub use runtime_api::{Outcome, Posted, RuntimeApi, check_hostile_payloads, environment_without_aws, hostile_payloads};
pub use throttling_stub::ThrottlingStub;
