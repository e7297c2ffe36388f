//! A local executor for Amazon States Language definitions in the JSONPath
//! query language: parse and lint a definition, run it with Step Functions'
//! semantics against pluggable task invokers, and keep an execution history
//! shaped like GetExecutionHistory.
//!
//! Not supported, and refused by name when a definition uses them: the
//! JSONata query language and workflow variables, `.sync` and
//! `.waitForTaskToken` integrations, service integrations other than
//! `lambda:invoke`, activities, Distributed Map.

pub mod choice;
pub mod executor;
pub mod history;
pub mod intrinsics;
pub mod lint;
pub mod model;
pub mod path;
pub mod rng;
pub mod template;

pub use executor::{
    BoxFuture, Clock, Execution, ExecutionOptions, ExecutionStatus, Executor, Invoker, RealClock, RuleTaken,
    TaskFailure, VirtualClock,
};
pub use history::{HistoryEvent, trace};
pub use model::{DefinitionError, StateMachine, parse, parse_str};
