//! The Step Functions API on 127.0.0.1: AWS JSON 1.0 (`POST /` with
//! `X-Amz-Target: AWSStepFunctions.<Operation>`), as the service model
//! defines it, over orderflow-asl's executor, so the AWS CLI, boto3 and the
//! AWS SDKs can create state machines, start executions and read their
//! histories locally. Executions run as tokio tasks; each one's history is
//! shared with the API while it runs.
//!
//! One direction of imports: this crate uses the executor and knows nothing
//! of the CLI; the CLI wires it to task invokers and a listener.
#![forbid(unsafe_code)]

mod activities;
mod child_executions;
mod database;
mod error;
mod executions;
mod http;
mod jackson;
mod map_runs;
mod names;
mod state_machines;
mod store;
mod store_error;
mod test_state;
mod tokens;
mod versions;
mod workers;

use std::sync::Arc;

use orderflow_asl::{Clock, Invoker, Services, TaskMocks};

/// Which service Tasks the services a server calls can run (a refusal's text).
pub type ServiceCheck = fn(&orderflow_asl::model::ServiceTask) -> Result<(), String>;
use serde::de::DeserializeOwned;
use serde_json::Value;

pub use database::Place;
pub use error::{ApiError, ErrorCode};
pub use http::{Page, Pages, serve, serve_with_pages};
pub use names::check_name;
pub use store_error::StoreError;

/// Where the server says it is, in the ARNs it makes.
#[derive(Debug, Clone)]
pub struct Config {
    pub region: String,
    pub account: String,
}

impl Default for Config {
    fn default() -> Self {
        Config { region: orderflow_local::REGION.into(), account: orderflow_local::ACCOUNT.into() }
    }
}

impl Config {
    /// The ARN of the state machine `name` here.
    pub fn state_machine_arn(&self, name: &str) -> String {
        format!("arn:aws:states:{}:{}:stateMachine:{name}", self.region, self.account)
    }
}

/// Chooses the task answers of an execution started with `#TestCase` after
/// its state machine's ARN (Step Functions Local's MockConfigFile).
pub trait MockCases: Send + Sync {
    /// `None` when the state machine has no such test case.
    fn case(&self, state_machine: &str, case: &str) -> Option<Arc<dyn TaskMocks>>;
}

/// The API's state and what executions run with.
pub struct Service {
    pub config: Config,
    invoker: Arc<dyn Invoker>,
    /// Where service Tasks (`dynamodb:putItem`, `aws-sdk:...`) send their
    /// calls, and which services and actions that reaches.
    services: Option<(Arc<dyn Services>, ServiceCheck)>,
    clock: Arc<dyn Clock>,
    mocks: Option<Arc<dyn MockCases>>,
    store: store::Store,
    tokens: tokens::Tokens,
    activities: activities::Activities,
    /// Seeds execution names and EXPRESS execution ids.
    ids: orderflow_asl::rng::Rng,
    /// Distributed Maps' runs while they run.
    map_runs: map_runs::Live,
    /// Their STANDARD child executions while they run, by ARN.
    children: std::sync::Mutex<std::collections::HashMap<String, map_runs::Running>>,
    /// Child executions that have ended, stored a batch at a time.
    ended_children: map_runs::Ended,
}

impl Service {
    /// A service whose state is in memory only (`--ephemeral`).
    pub fn new(config: Config, invoker: Arc<dyn Invoker>, clock: Arc<dyn Clock>) -> Result<Service, StoreError> {
        Service::open(config, invoker, clock, &Place::Memory)
    }

    /// A service over the state kept at `place`, with the state machines it
    /// holds. Executions it had running go on only once `resume` is called.
    pub fn open(
        config: Config,
        invoker: Arc<dyn Invoker>,
        clock: Arc<dyn Clock>,
        place: &Place,
    ) -> Result<Service, StoreError> {
        let seed = clock.now_nanos() as u64 ^ u64::from(std::process::id()).rotate_left(32);
        let store = store::Store::open(place, state_machines::recompile)?;
        let activities = activities::Activities::load(store.db().activities()?);
        Ok(Service {
            config,
            invoker,
            services: None,
            clock,
            mocks: None,
            store,
            tokens: tokens::Tokens::default(),
            map_runs: map_runs::Live::default(),
            children: Default::default(),
            ended_children: Default::default(),
            activities,
            ids: orderflow_asl::rng::Rng::new(seed),
        })
    }

    /// Goes on with the executions that were running when the server last
    /// stopped, each from the last state it entered; gives how many.
    pub fn resume(self: &Arc<Self>) -> Result<usize, StoreError> {
        executions::resume(self)
    }

    /// Writes the running executions' new history events, and the Map Run
    /// children that have ended, to the database.
    pub fn flush(&self) -> Result<usize, StoreError> {
        Ok(self.store.flush()? + map_runs::store_ended(self))
    }

    /// Flushes every `every` until the service is dropped elsewhere.
    pub fn keep_flushed(self: &Arc<Self>, every: std::time::Duration) -> tokio::task::JoinHandle<()> {
        let service = Arc::downgrade(self);
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(every).await;
                let Some(service) = service.upgrade() else { return };
                if let Err(e) = service.flush() {
                    eprintln!("orderflow serve: {e}");
                }
            }
        })
    }

    /// Service Tasks call `services`; a definition whose service Task
    /// `check` refuses is refused, unless mocks may answer it.
    pub fn with_services(mut self, services: Arc<dyn Services>, check: ServiceCheck) -> Service {
        self.services = Some((services, check));
        self
    }

    /// Whether a service Task may run here: with mocks any may (they answer
    /// it); else what the services check says.
    pub(crate) fn check_service(&self, task: &orderflow_asl::model::ServiceTask) -> Result<(), String> {
        match (&self.services, &self.mocks) {
            (Some((_, check)), None) => runs_here(task, *check),
            _ => Ok(()),
        }
    }

    pub(crate) fn services(&self) -> Option<&dyn Services> {
        self.services.as_ref().map(|(services, _)| services.as_ref())
    }

    pub fn with_mocks(mut self, mocks: Arc<dyn MockCases>) -> Service {
        self.mocks = Some(mocks);
        self
    }

    /// Starts an execution of the state machine `machine_arn` as StartExecution
    /// does and waits here for its end: its ARN, and the execution as it ended
    /// (None when StopExecution ended it). `orderflow run` runs this way when
    /// its state machine starts children, waits on task tokens or activities.
    pub async fn run_execution(
        self: &Arc<Self>,
        machine_arn: &str,
        name: Option<&str>,
        input: &str,
    ) -> Result<(String, Option<orderflow_asl::Execution>), ApiError> {
        let request = serde_json::json!({"stateMachineArn": machine_arn, "name": name, "input": input});
        let (started, execution) = executions::start_and_wait(self, parse(request)?).await?;
        Ok((started["executionArn"].as_str().unwrap_or_default().to_owned(), execution))
    }

    /// An `aws-sdk:sfn` Task answered by this server's own API, as AWS's
    /// Step Functions would answer it: the request written and the answer
    /// read from the service model, errors as `Sfn.<Name>Exception`.
    pub async fn sdk_sfn(
        self: &Arc<Self>,
        task: &orderflow_asl::model::ServiceTask,
        parameters: &orderflow_value::Value,
    ) -> Result<orderflow_value::Value, orderflow_asl::TaskFailure> {
        let service = self.clone();
        orderflow_integrations::sdk_call_with(task, parameters, move |operation, body| async move {
            match service.call(&operation, &body).await {
                Ok(answer) => (200, answer.to_string().into_bytes()),
                Err(e) => (e.status(), e.body().to_string().into_bytes()),
            }
        })
        .await
    }

    /// Answers one API call with the text of its answer, as the HTTP layer
    /// sends it. StartSyncExecution, which serve answers most often, writes
    /// its typed answer straight to text; the others as `call` answers.
    pub async fn answer(self: &Arc<Self>, operation: &str, body: &[u8]) -> Result<Vec<u8>, ApiError> {
        let written = match operation {
            "StartSyncExecution" => {
                let request = request_of(body)?;
                serde_json::to_vec(&executions::start_sync(self, checked(operation, request)?).await?)
            }
            _ => serde_json::to_vec(&self.call(operation, body).await?),
        };
        written.map_err(ApiError::internal)
    }

    /// Answers one API call: `operation` from `X-Amz-Target`, `body` its JSON.
    pub async fn call(self: &Arc<Self>, operation: &str, body: &[u8]) -> Result<Value, ApiError> {
        let request = request_of(body)?;
        match operation {
            "CreateStateMachine" => state_machines::create(self, checked(operation, request)?),
            "DescribeStateMachine" => state_machines::describe(self, checked(operation, request)?),
            "ListStateMachines" => state_machines::list(self, checked(operation, request)?),
            "UpdateStateMachine" => state_machines::update(self, checked(operation, request)?),
            "DeleteStateMachine" => state_machines::delete(self, checked(operation, request)?),
            "ValidateStateMachineDefinition" => state_machines::validate(self, checked(operation, request)?),
            "PublishStateMachineVersion" => versions::publish_version(self, checked(operation, request)?),
            "ListStateMachineVersions" => versions::list_versions(self, checked(operation, request)?),
            "DeleteStateMachineVersion" => versions::delete_version(self, checked(operation, request)?),
            "CreateStateMachineAlias" => versions::create_alias(self, checked(operation, request)?),
            "DescribeStateMachineAlias" => versions::describe_alias(self, checked(operation, request)?),
            "UpdateStateMachineAlias" => versions::update_alias(self, checked(operation, request)?),
            "DeleteStateMachineAlias" => versions::delete_alias(self, checked(operation, request)?),
            "ListStateMachineAliases" => versions::list_aliases(self, checked(operation, request)?),
            "StartExecution" => executions::start(self, checked(operation, request)?),
            "StartSyncExecution" => executions::start_sync(self, checked(operation, request)?)
                .await
                .and_then(|answer| serde_json::to_value(answer).map_err(ApiError::internal)),
            "DescribeExecution" => executions::describe(self, checked(operation, request)?),
            "DescribeStateMachineForExecution" => executions::describe_machine(self, checked(operation, request)?),
            "ListExecutions" => executions::list(self, checked(operation, request)?),
            "GetExecutionHistory" => executions::history(self, checked(operation, request)?),
            "StopExecution" => executions::stop(self, checked(operation, request)?),
            "RedriveExecution" => executions::redrive(self, checked(operation, request)?),
            "DescribeMapRun" => map_runs::describe(self, checked(operation, request)?),
            "ListMapRuns" => map_runs::list(self, checked(operation, request)?),
            "UpdateMapRun" => map_runs::update(self, checked(operation, request)?),
            "TestState" => test_state::run(self, checked(operation, request)?).await,
            "CreateActivity" => activities::create(self, checked(operation, request)?),
            "DescribeActivity" => activities::describe(self, checked(operation, request)?),
            "ListActivities" => activities::list(self, checked(operation, request)?),
            "DeleteActivity" => activities::delete(self, checked(operation, request)?),
            "GetActivityTask" => activities::get_task(self, checked(operation, request)?).await,
            "SendTaskSuccess" => tokens::success(self, checked(operation, request)?),
            "SendTaskFailure" => tokens::failure(self, checked(operation, request)?),
            "SendTaskHeartbeat" => tokens::heartbeat(self, checked(operation, request)?),
            other => Err(ApiError::new(
                ErrorCode::UnknownOperationException,
                format!("orderflow serve does not implement the operation {other:?}"),
            )),
        }
    }
}

/// Whether a service Task runs where this server runs executions: a child
/// execution (`states:startExecution` in every form) always does, the
/// server starts it; any other as the services' `check` says.
pub fn runs_here(task: &orderflow_asl::model::ServiceTask, check: ServiceCheck) -> Result<(), String> {
    match !task.sdk && &*task.service == "states" {
        true => Ok(()),
        false => check(task),
    }
}

/// A request's body as a JSON object: empty is `{}`; anything else but an
/// object is the protocol's SerializationException.
fn request_of(body: &[u8]) -> Result<Value, ApiError> {
    let request: Value = if body.iter().all(u8::is_ascii_whitespace) {
        Value::Object(Default::default())
    } else {
        serde_json::from_slice(body)
            .map_err(|e| ApiError::new(ErrorCode::SerializationException, format!("the request is not JSON: {e}")))?
    };
    if !request.is_object() {
        return Err(ApiError::new(ErrorCode::SerializationException, "the request must be a JSON object"));
    }
    Ok(request)
}

/// A request of an operation served here, checked against the service
/// model's constraints first, as AWS checks them before the service sees it.
fn checked<T: serde::de::DeserializeOwned>(operation: &str, request: Value) -> Result<T, ApiError> {
    if let Some(model) = orderflow_integrations::catalog::service("sfn").and_then(|s| s.model().ok())
        && let Some(message) = orderflow_integrations::constraints::violations(model, operation, &request)
    {
        return Err(ApiError::validation(message));
    }
    parse(request)
}

/// A request as its operation's input shape; an unknown or mistyped member
/// is the model's ValidationException, naming it.
fn parse<T: DeserializeOwned>(request: Value) -> Result<T, ApiError> {
    serde_json::from_value(request).map_err(|e| ApiError::validation(format!("1 validation error detected: {e}")))
}

/// Unix nanoseconds as the JSON protocol's timestamp: epoch seconds.
pub(crate) fn epoch_seconds(nanos: i128) -> Value {
    Value::from(epoch_seconds_f64(nanos))
}

/// Unix nanoseconds as epoch seconds, to the millisecond.
pub(crate) fn epoch_seconds_f64(nanos: i128) -> f64 {
    nanos.div_euclid(1_000_000) as f64 / 1000.0
}

/// `maxResults` as a page size: 100 when not given, at most 1000.
pub(crate) fn page_size(max_results: Option<i64>) -> Result<usize, ApiError> {
    match max_results {
        None | Some(0) => Ok(100),
        Some(n @ 1..=1000) => Ok(n as usize),
        Some(n) => Err(ApiError::validation(format!(
            "1 validation error detected: Value '{n}' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 1000"
        ))),
    }
}

/// A `nextToken` this server gave out, as the offset it stands for.
pub(crate) fn offset_of(next_token: Option<&str>) -> Result<usize, ApiError> {
    match next_token {
        None => Ok(0),
        Some(token) => token
            .strip_prefix("orderflow-page-")
            .and_then(|n| n.parse::<usize>().ok())
            .ok_or_else(|| ApiError::new(ErrorCode::InvalidToken, format!("Invalid Token: '{token}'"))),
    }
}

/// A page read with up to one row more than its `size`, as the answer: the
/// rows under `key`, and the next page's token when that extra row was there.
pub(crate) fn paged(key: &str, mut items: Vec<Value>, offset: usize, size: usize) -> Value {
    let more = items.len() > size;
    items.truncate(size);
    let mut answer = serde_json::Map::new();
    answer.insert(key.to_owned(), Value::Array(items));
    if more {
        answer.insert("nextToken".to_owned(), Value::String(format!("orderflow-page-{}", offset + size)));
    }
    Value::Object(answer)
}

/// A page of `items` (a whole listing, in memory) under `key`, from `next_token`.
pub(crate) fn page(
    key: &str,
    items: Vec<Value>,
    max_results: Option<i64>,
    next_token: Option<&str>,
) -> Result<Value, ApiError> {
    let size = page_size(max_results)?;
    let offset = offset_of(next_token)?;
    if offset > items.len() {
        return Err(ApiError::new(
            ErrorCode::InvalidToken,
            format!("Invalid Token: '{}'", next_token.unwrap_or_default()),
        ));
    }
    let page = items.into_iter().skip(offset).take(size + 1).collect();
    Ok(paged(key, page, offset, size))
}
