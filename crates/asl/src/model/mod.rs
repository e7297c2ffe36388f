//! The compiled form of a state machine that the executor runs: states
//! addressed by index, every path, template, intrinsic call, JSONata
//! expression and Choice rule parsed once, timestamps parsed. `crate::compile`
//! makes it from a definition.

use orderflow_value::Value;
use time::OffsetDateTime;

use crate::choice::Rule;
use crate::intrinsics::Call;
use crate::jsonata::Expression;
use crate::path::{Path, ReferencePath};
use crate::template::Template;

pub use crate::error::DefinitionError;

pub mod distributed;
pub(crate) use crate::error::def_err;
pub use distributed::{
    CsvDelimiter, CsvHeaders, Distributed, InputType, ItemBatcher, ItemReader, ManifestType, OutputType, ReaderConfig,
    ReaderSource, ResultWriter, WriterTransformation,
};

#[derive(Debug, Clone, PartialEq)]
pub struct StateMachine {
    pub comment: Option<String>,
    pub start_at: Target,
    /// In name order (a JSON object's order is not kept).
    pub states: Vec<State>,
    pub timeout_seconds: Option<u64>,
    /// Map iterators run as a Distributed Map's child executions.
    pub distributed: bool,
    /// Whether any state here or in a branch or iterator assigns a variable:
    /// without, no execution needs a variable frame of its own.
    pub assigns: bool,
    /// The names of every state, nested ones included, by their `id`: the
    /// history names a state by its number in this list (no shared count
    /// to change per event). Empty in a branch or iterator: the whole
    /// machine's list is its top level's.
    pub names: std::sync::Arc<[std::sync::Arc<str>]>,
}

impl StateMachine {
    /// Whether a Task anywhere in it (Parallel branches and Map processors
    /// included) calls an AWS service other than Lambda.
    pub fn calls_services(&self) -> bool {
        self.states.iter().any(|s| match &s.kind {
            Kind::Task { resource: Resource::Service(_), .. } => true,
            Kind::Parallel { branches } => branches.iter().any(StateMachine::calls_services),
            Kind::Map(spec) => {
                spec.processor.calls_services()
                    || spec.distributed.as_ref().is_some_and(|d| d.reader.is_some() || d.writer.is_some())
            }
            _ => false,
        })
    }

    /// Whether a run needs the Step Functions API around it: a Task that
    /// starts an execution (`states:startExecution`, `aws-sdk:sfn`), waits for
    /// a task token or hands work to an activity's workers.
    pub fn needs_api(&self) -> bool {
        self.states.iter().any(|s| match &s.kind {
            Kind::Task { resource, .. } => {
                resource.waits_for_token()
                    || matches!(resource, Resource::Service(task) if &*task.service == "states" || &*task.service == "sfn")
            }
            Kind::Parallel { branches } => branches.iter().any(StateMachine::needs_api),
            Kind::Map(spec) => spec.processor.needs_api(),
            _ => false,
        })
    }

    pub fn state(&self, name: &str) -> Option<&State> {
        self.states.iter().find(|s| &*s.name == name)
    }
}

/// A transition's target: the state's name, and its index once resolved.
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    pub name: String,
    pub index: usize,
}

/// A state not numbered in a machine's `names`.
pub const NO_ID: u32 = u32::MAX;

/// Not resolved: the name is not a state of the machine (lint reports it).
pub const UNRESOLVED: usize = usize::MAX;

impl Target {
    pub(crate) fn new(name: &str) -> Target {
        Target { name: name.to_owned(), index: UNRESOLVED }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct State {
    /// Shared with every history event that names the state.
    pub name: std::sync::Arc<str>,
    /// Its number in its top-level machine's `names` ([`NO_ID`] until numbered).
    pub id: u32,
    pub kind: Kind,
    pub io: Io,
    pub transition: Transition,
    pub retry: Vec<Retrier>,
    pub catch: Vec<Catcher>,
    /// Workflow variables the state sets (`Assign`): a template like Parameters.
    pub assign: Option<Template>,
    /// A JSONata state: its templates hold expressions reading `$states`,
    /// and `io` has only `parameters` (Arguments) and `output`.
    pub jsonata: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Transition {
    Next(Target),
    End,
    /// Choice, Succeed and Fail choose (or end) by themselves.
    Own,
}

/// Input and output processing. `None` for InputPath/OutputPath means JSON
/// `null` (an empty object); for ResultPath, discard the result.
#[derive(Debug, Clone, PartialEq)]
pub struct Io {
    pub input_path: Option<Path>,
    pub output_path: Option<Path>,
    /// Shared: a Task's history event may keep it to show its parameters.
    pub parameters: Option<std::sync::Arc<Template>>,
    /// Shared: a Task's history event may keep it to put the task's result
    /// back together from what it moved out.
    pub result_selector: Option<std::sync::Arc<Template>>,
    /// How a Task's ResultSelector takes what it selects from the result.
    pub result_selection: Selection,
    pub result_path: Option<ReferencePath>,
    /// A JSONata state's Output: the state's output in place of its result (or input).
    pub output: Option<Template>,
}

/// How a Task's ResultSelector takes what it selects from the task result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Selection {
    /// Filled by copying, as any template is.
    Copies,
    /// Moved out ([`Template::moves_selections`]): the history keeps the rest.
    Moves,
    /// Moved out of the function's answer: every path is under `$.Payload`
    /// of a lambda:invoke result, whose envelope is then only built when the
    /// history is read.
    MovesFromPayload,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Retrier {
    pub error_equals: Vec<String>,
    pub interval_seconds: f64,
    pub max_attempts: u32,
    pub backoff_rate: f64,
    pub max_delay_seconds: Option<f64>,
    pub full_jitter: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Catcher {
    pub error_equals: Vec<String>,
    pub result_path: Option<ReferencePath>,
    pub next: Target,
    /// Variables set when this catcher takes the error (`$` is the error output).
    pub assign: Option<Template>,
    /// A JSONata catcher's Output (`$states.errorOutput` when absent).
    pub output: Option<Template>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Resource {
    /// `arn:aws:states:::lambda:invoke`: FunctionName and Payload in Parameters,
    /// the result wrapped as `{"Payload": ..., "StatusCode": 200, ...}`.
    LambdaInvoke,
    /// `arn:aws:states:::lambda:invoke.waitForTaskToken`: the function is
    /// invoked with the task token (`$$.Task.Token`) and the task waits until
    /// SendTaskSuccess or SendTaskFailure names that token.
    LambdaInvokeCallback,
    /// A Lambda function ARN as the Resource: the input is the payload, the
    /// result is the function's output as it is.
    Function(String),
    /// Another AWS service: an optimized integration (`dynamodb:putItem`,
    /// `sqs:sendMessage.waitForTaskToken`) or an AWS SDK one
    /// (`aws-sdk:s3:getObject`), its Parameters the request.
    Service(std::sync::Arc<ServiceTask>),
    /// An activity's ARN: a worker takes the task with GetActivityTask and
    /// answers its token.
    Activity(std::sync::Arc<str>),
}

impl Resource {
    /// Whether the task waits for a task token after its call.
    pub fn waits_for_token(&self) -> bool {
        match self {
            Resource::LambdaInvokeCallback | Resource::Activity(_) => true,
            Resource::Service(task) => task.pattern == Pattern::WaitForTaskToken,
            _ => false,
        }
    }
}

/// A Task's call of an AWS service other than Lambda, as its Resource names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceTask {
    /// The service as the ARN names it: `dynamodb`, `sqs`, ..., or for the
    /// AWS SDK integrations the SDK's name (`s3`, `sfn`, `cloudwatchlogs`).
    pub service: std::sync::Arc<str>,
    /// The action as the ARN names it (`putItem`, `getObject`).
    pub action: std::sync::Arc<str>,
    /// An AWS SDK integration (`aws-sdk:`), not an optimized one.
    pub sdk: bool,
    pub pattern: Pattern,
    /// What the Task* events show as `resourceType` (`dynamodb`,
    /// `aws-sdk:s3`) and `resource` (`putItem`, `sendMessage.waitForTaskToken`).
    pub resource_type: std::sync::Arc<str>,
    pub resource: std::sync::Arc<str>,
}

/// How a Task waits on its call (the ARN's suffix).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pattern {
    /// The call's answer is the result.
    RequestResponse,
    /// `.waitForTaskToken`: after the call, SendTaskSuccess or SendTaskFailure with the token.
    WaitForTaskToken,
    /// `.sync`: the call starts a job and the task waits for its end (a
    /// child execution's output as text).
    Sync,
    /// `.sync:2`: as `.sync`, the child execution's output as JSON.
    Sync2,
}

impl Pattern {
    pub fn is_sync(self) -> bool {
        matches!(self, Pattern::Sync | Pattern::Sync2)
    }
}

/// A number given in the definition, or read from the input by a `...Path` field.
#[derive(Debug, Clone, PartialEq)]
pub enum Given<T> {
    Value(T),
    Path(Path),
    /// A JSONata state's `{% ... %}`.
    Expr(Expression),
}

#[derive(Debug, Clone, PartialEq)]
pub enum WaitFor {
    Seconds(u64),
    SecondsPath(Path),
    Timestamp(OffsetDateTime),
    TimestampPath(Path),
    /// A JSONata state's `"Seconds": "{% ... %}"`.
    SecondsExpr(Expression),
    TimestampExpr(Expression),
}

/// A Fail state's Error or Cause.
#[derive(Debug, Clone, PartialEq)]
pub enum Text {
    Literal(String),
    Path(Path),
    Call(Call),
    Expr(Expression),
}

#[derive(Debug, Clone, PartialEq)]
pub struct MapSpec {
    pub processor: Box<StateMachine>,
    pub items_path: Path,
    /// A JSONata Map's Items: an array, or an expression giving one (the
    /// state's input when absent).
    pub items: Option<Template>,
    pub item_selector: Option<Template>,
    /// 0: no limit.
    pub max_concurrency: Given<u64>,
    pub tolerated_failure_count: Option<Given<i64>>,
    pub tolerated_failure_percentage: Option<Given<f64>>,
    /// A DISTRIBUTED Map's reader, batcher, writer and label.
    pub distributed: Option<Distributed>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    /// The Result, shared, with the length of its JSON text.
    Pass {
        result: Option<(std::sync::Arc<Value>, usize)>,
    },
    Task {
        resource: Resource,
        timeout_seconds: Option<Given<u64>>,
        /// For a callback task: how long without a heartbeat before States.Timeout (caught also as States.HeartbeatTimeout).
        heartbeat_seconds: Option<Given<u64>>,
    },
    Choice {
        choices: Vec<(Rule, Target)>,
        default: Option<Target>,
        /// Each rule's own Assign, by the rule's index.
        assigns: Vec<Option<Template>>,
        /// Each JSONata rule's own Output, by the rule's index.
        outputs: Vec<Option<Template>>,
    },
    Wait(WaitFor),
    Succeed,
    Fail {
        error: Option<Text>,
        cause: Option<Text>,
    },
    Parallel {
        branches: Vec<StateMachine>,
    },
    Map(Box<MapSpec>),
}

impl Kind {
    pub fn type_name(&self) -> &'static str {
        match self {
            Kind::Pass { .. } => "Pass",
            Kind::Task { .. } => "Task",
            Kind::Choice { .. } => "Choice",
            Kind::Wait(_) => "Wait",
            Kind::Succeed => "Succeed",
            Kind::Fail { .. } => "Fail",
            Kind::Parallel { .. } => "Parallel",
            Kind::Map(_) => "Map",
        }
    }
}

/// The function name in a Lambda ARN or a bare name: `arn:aws:lambda:r:a:function:NAME[:qualifier]` -> `NAME`.
pub fn function_name(arn_or_name: &str) -> &str {
    // The first seven colons, found in one pass over the bytes (every task
    // invocation passes here). Each is ASCII, so slicing at them is safe.
    let mut colons = [0usize; 7];
    let mut found = 0;
    for (i, byte) in arn_or_name.bytes().enumerate() {
        if byte == b':' {
            colons[found] = i;
            found += 1;
            if found == colons.len() {
                break;
            }
        }
    }
    if found < 6 {
        return arn_or_name;
    }
    let field = |n: usize| &arn_or_name[colons[n - 1] + 1..colons[n]];
    let is_function = &arn_or_name[..colons[0]] == "arn" && field(2) == "lambda" && field(5) == "function";
    // The name runs to the qualifier's colon, if there is one.
    let end = if found == 7 { colons[6] } else { arn_or_name.len() };
    if is_function { &arn_or_name[colons[5] + 1..end] } else { arn_or_name }
}
