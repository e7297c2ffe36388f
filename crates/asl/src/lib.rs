//! A local executor for Amazon States Language definitions in both query
//! languages (JSONPath and JSONata, a state at a time), with workflow
//! variables: a definition is compiled once
//! into an internal form (states by index, paths, templates, intrinsic calls
//! and Choice rules parsed), then run with Step Functions' semantics against
//! pluggable task invokers, keeping an execution history shaped like
//! GetExecutionHistory.
//!
//! Task states call Lambda functions through an `Invoker`, and other AWS
//! services (optimized integrations and `aws-sdk:`) through `Services`
//! (orderflow-integrations implements it). Callback tasks
//! (`.waitForTaskToken`) wait on task tokens that the caller answers
//! (`TaskTokens`; `orderflow serve` does). Not supported yet, and refused by
//! name when a definition uses them: `.sync` integrations other than
//! `states:startExecution`, Distributed Map's S3 reader and writer. Tasks on
//! activities offer their work through `Activities` (the API server's).
#![forbid(unsafe_code)]

pub(crate) mod arn;
pub mod choice;
pub mod compile;
pub mod context;
pub(crate) mod envelope;
pub mod error;
pub mod executor;
pub mod history;
pub mod intrinsics;
pub(crate) mod items;
pub mod jsonata;
pub mod lint;
pub mod model;
pub mod path;
pub(crate) mod pipeline;
pub mod rng;
pub(crate) mod states;
pub mod template;
pub mod test_state;
pub mod variables;

pub use arn::ExecutionArn;
pub use compile::{parse, parse_str};
pub use error::{Failure, StatesError};
pub use executor::{
    Activities, BoxFuture, Caller, ChildEnd, ChildStart, Clock, Entered, Execution, ExecutionOptions, ExecutionStatus,
    Executor, HttpExchange, HttpRequestShown, HttpResponseShown, HttpTrace, Invoker, ListedObject, MachineType,
    MapRunSettings, MapRunStart, MapRuns, ObjectAt, ObjectPage, ObjectPart, RealClock, Redrive, RedrivenChild,
    RestartPoint, RuleTaken, Services, Submitted, TaskFailure, TaskMocks, TaskTokens, TokenSignal, VirtualClock,
};
pub use history::{EventType, History, HistoryEvent, trace};
pub use model::{DefinitionError, StateMachine};
pub use pipeline::MAX_PAYLOAD_BYTES;
