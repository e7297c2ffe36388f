//! The pieces of the `orderflow` CLI: loading the deployable definition,
//! running its tasks in-process (against `local_aws`) or through a Lambda
//! Invoke API, and drawing it.
#![forbid(unsafe_code)]

pub mod api_events;
pub mod api_run;
pub mod event_input;
pub mod event_rules;
pub mod graph;
pub mod in_process;
pub mod lambda_endpoint;
pub mod loader;
pub mod local_aws;
pub mod local_functions;
pub mod local_stack;
pub mod mock_config;
pub mod opt_folder;
pub mod schedule_expression;
pub mod serve;
pub mod source;
pub mod test_cases;

pub use in_process::InProcess;
pub use lambda_endpoint::LambdaEndpoint;
pub use loader::{Loaded, load, resolve, workspace_root};
