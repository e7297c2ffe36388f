//! Step Functions' service integrations as real calls to an AWS endpoint
//! (the local emulator that `orderflow run` and `serve` start, or another):
//! the optimized integrations of DynamoDB, SQS, SNS and EventBridge, and
//! `aws-sdk:<service>:<action>` for the services in [`catalog`], every
//! request written and every answer read by the service's own model
//! ([`model`], [`protocol`]), signed with SigV4 ([`http`]). Results, error
//! names and causes are shaped as AWS shapes them ([`optimized`], [`sdk`]).
//!
//! Imports run one way: the executor (orderflow-asl) defines the `Services`
//! it calls; this crate implements it, and the CLI and API server hand it
//! to their executions.
#![forbid(unsafe_code)]

pub mod catalog;
pub mod constraints;
pub mod error;
pub mod http;
mod http_task;
pub mod mock_result;
pub mod model;
mod objects;
pub mod optimized;
pub mod protocol;
pub mod sdk;

use orderflow_asl::model::ServiceTask;
use orderflow_asl::{BoxFuture, Caller, Services, TaskFailure};
use orderflow_value::Value;

use crate::error::ServiceError;
use crate::http::{Answer, Endpoint, SendError};
use crate::model::{Model, Operation};
use crate::protocol::Invalid;

/// Calls the services at one endpoint.
pub struct Integrations {
    endpoint: Endpoint,
    /// Request ids for the requests refused here, before they are sent.
    ids: orderflow_asl::rng::Rng,
}

impl Integrations {
    /// Calls go to `url` (`http://127.0.0.1:PORT`), signed for `region`.
    pub fn new(url: &str, region: &str) -> Result<Integrations, String> {
        let seed =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(1, |d| d.as_nanos() as u64);
        Ok(Integrations { endpoint: Endpoint::new(url, region)?, ids: orderflow_asl::rng::Rng::new(seed) })
    }

    /// A request id as `service` gives them: DynamoDB's 52 letters and
    /// digits, the others' UUID.
    fn request_id(&self, service: &str) -> String {
        if service != "dynamodb" {
            return self.ids.uuid_v4();
        }
        const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
        (0..52).map(|_| char::from(ALPHABET[(self.ids.next_u64() >> 59) as usize])).collect()
    }

    /// One AWS SDK call (`sdk_call("dynamodb", "createTable", ...)`), as an
    /// `aws-sdk:` Task makes it: for setting up what a template declares.
    pub async fn sdk_call(&self, service: &str, action: &str, parameters: &Value) -> Result<Value, TaskFailure> {
        let task = ServiceTask {
            service: service.into(),
            action: action.into(),
            sdk: true,
            pattern: orderflow_asl::model::Pattern::RequestResponse,
            resource_type: format!("aws-sdk:{service}").into(),
            resource: action.into(),
        };
        Integrations::check(&task).map_err(|cause| TaskFailure { error: "States.Runtime".into(), cause })?;
        let caller = Caller { execution_arn: "", state_machine_arn: "" };
        self.call_now(&task, parameters, caller).await
    }

    /// Where calls go.
    pub fn endpoint(&self) -> &str {
        self.endpoint.url()
    }

    /// Whether a Task's service and action run here: a definition that names
    /// another is refused when it loads, by name.
    pub fn check(task: &ServiceTask) -> Result<(), String> {
        // The HTTP Task calls any URL; its connection is read from the AWS endpoint.
        if !task.sdk && &*task.service == "http" {
            return Ok(());
        }
        if !task.sdk && &*task.service == "states" {
            return Err(format!(
                "states:{} starts a child execution: run the state machine with `orderflow run` or `orderflow serve`, or mock the task",
                task.resource
            ));
        }
        if !task.sdk && !matches!(&*task.service, "dynamodb" | "sqs" | "sns" | "events") {
            return Err(format!(
                "{}:{} runs on AWS's own compute, which this executor does not have: mock the task (a MockConfigFile, TestState's mock) to test it",
                task.resource_type, task.resource
            ));
        }
        let service = catalog::service(&task.service).ok_or_else(|| {
            format!(
                "aws-sdk:{} is not a service this executor calls (it calls {}); mock the task to test it",
                task.service,
                catalog::names().collect::<Vec<_>>().join(", ")
            )
        })?;
        let operation = service.operation(&task.action)?;
        let model = service.model()?;
        match model.protocol() {
            "json" | "query" | "rest-json" | "rest-xml" => Ok(()),
            other => Err(format!(
                "{}:{} uses the {other} protocol, which this executor does not speak ({} does not); mock the task to test it",
                task.resource_type, task.resource, operation.name
            )),
        }
    }

    async fn call_now(&self, task: &ServiceTask, parameters: &Value, caller: Caller<'_>) -> Result<Value, TaskFailure> {
        if !task.sdk && &*task.service == "http" {
            // Boxed: its connection is read with sdk_call, which comes back here.
            return Box::pin(self.http_invoke(parameters, None)).await;
        }
        let service = catalog::service(&task.service).ok_or_else(|| TaskFailure {
            error: "States.Runtime".into(),
            cause: format!("no service {}", task.service),
        })?;
        let failed = |cause: String| TaskFailure { error: "States.Runtime".into(), cause };
        let model = service.model().map_err(failed)?;
        let operation = service.operation(&task.action).map_err(failed)?;
        let prepared;
        let parameters = if task.sdk {
            parameters
        } else {
            prepared = optimized::request(task, parameters, caller);
            &prepared
        };
        let outcome = match self.exchange(model, operation, parameters).await {
            Ok(outcome) => outcome,
            // A required member missing or null: the service's validation error, as AWS gets it.
            Err(Problem::Invalid(Invalid { missing: Some(member), .. })) => {
                let error = missing_member(&task.service, &member, self.request_id(&task.service));
                return Err(match task.sdk {
                    true => sdk::failure(service, model, &error),
                    false => optimized::failure(task, model, &error),
                });
            }
            Err(Problem::Invalid(invalid)) if task.sdk => return Err(sdk::invalid(service, operation.name, &invalid)),
            Err(Problem::Invalid(invalid)) => return Err(optimized::invalid(task, operation.name, &invalid)),
            Err(Problem::Unreachable(why)) => return Err(unreachable(task, &self.endpoint, &why)),
        };
        match (outcome, task.sdk) {
            ((Ok(result), _), true) => Ok(result),
            ((Ok(result), answer), false) => optimized::result(task, result, &answer),
            ((Err(error), _), true) => Err(sdk::failure(service, model, &error)),
            ((Err(error), _), false) => Err(optimized::failure(task, model, &error)),
        }
    }

    /// Writes, sends and reads one call.
    async fn exchange(
        &self,
        model: &Model,
        operation: Operation<'_>,
        parameters: &Value,
    ) -> Result<(Result<Value, ServiceError>, Answer), Problem> {
        self.exchange_with(model, operation, parameters, None).await
    }

    /// As `exchange`, the request's payload (an S3 object's bytes, with
    /// their content type) given as bytes instead of a parameter's JSON.
    async fn exchange_with(
        &self,
        model: &Model,
        operation: Operation<'_>,
        parameters: &Value,
        payload: Option<(Vec<u8>, &str)>,
    ) -> Result<(Result<Value, ServiceError>, Answer), Problem> {
        use protocol::rest::Body;
        let mut request = match model.protocol() {
            "query" => protocol::query::request(model, operation, parameters),
            "rest-json" => protocol::rest::request(model, operation, parameters, Body::Json),
            "rest-xml" => protocol::rest::request(model, operation, parameters, Body::Xml),
            _ => protocol::json::request(model, operation, parameters),
        }
        .map_err(Problem::Invalid)?;
        if let Some((bytes, content_type)) = payload {
            request.headers.retain(|(k, _)| !k.eq_ignore_ascii_case("content-type"));
            request.headers.push(("content-type".into(), content_type.into()));
            request.body = bytes;
        }
        protocol::checksum::add(model, operation, &mut request).map_err(Problem::Invalid)?;
        let answer = self.endpoint.send(request).await.map_err(Problem::Unreachable)?;
        let result = match model.protocol() {
            "query" => protocol::query::answer(model, operation, &answer),
            "rest-json" => protocol::rest::answer(model, operation, &answer, Body::Json),
            "rest-xml" => protocol::rest::answer(model, operation, &answer, Body::Xml),
            _ => protocol::json::answer(model, operation, &answer),
        };
        Ok((result, answer))
    }
}

/// An `aws-sdk:` call of a JSON-protocol service answered by `send` (the
/// operation's name and the request's JSON body, to the answer's status and
/// body) instead of an endpoint: for a service the caller serves itself, as
/// `orderflow serve` answers `aws-sdk:sfn` with its own Step Functions API.
pub async fn sdk_call_with<F, Fut>(task: &ServiceTask, parameters: &Value, send: F) -> Result<Value, TaskFailure>
where
    F: FnOnce(String, Vec<u8>) -> Fut,
    Fut: std::future::Future<Output = (u16, Vec<u8>)>,
{
    let failed = |cause: String| TaskFailure { error: "States.Runtime".into(), cause };
    let service = catalog::service(&task.service).ok_or_else(|| failed(format!("no service {}", task.service)))?;
    let model = service.model().map_err(failed)?;
    let operation = service.operation(&task.action).map_err(failed)?;
    if model.protocol() != "json" {
        return Err(failed(format!("{} is not answered in-process", task.service)));
    }
    let request = protocol::json::request(model, operation, parameters)
        .map_err(|invalid| sdk::invalid(service, operation.name, &invalid))?;
    let (status, body) = send(operation.name.to_owned(), request.body).await;
    let answer = Answer { status, headers: ::http::HeaderMap::default(), body: body.into() };
    protocol::json::answer(model, operation, &answer).map_err(|error| sdk::failure(service, model, &error))
}

/// The error a service answers a request that lacks a required member with:
/// SQS's `MissingParameter`, the others' `ValidationException` in the words
/// of AWS's request validation.
fn missing_member(service: &str, member: &str, request_id: String) -> ServiceError {
    let (code, message) = match service {
        "sqs" => ("MissingParameter", format!("The request must contain the parameter {}.", protocol::pascal(member))),
        _ => {
            let mut wire = member.to_owned();
            if let Some(first) = wire.get_mut(..1) {
                first.make_ascii_lowercase();
            }
            (
                "ValidationException",
                format!(
                    "1 validation error detected: Value null at '{wire}' failed to satisfy constraint: Member must not be null"
                ),
            )
        }
    };
    ServiceError { status: 400, code: code.into(), message, request_id, extended_request_id: None }
}

enum Problem {
    Invalid(Invalid),
    Unreachable(SendError),
}

impl Services for Integrations {
    fn call<'a>(
        &'a self,
        task: &'a ServiceTask,
        parameters: &'a Value,
        caller: Caller<'a>,
    ) -> BoxFuture<'a, Result<Value, TaskFailure>> {
        Box::pin(self.call_now(task, parameters, caller))
    }

    fn call_traced<'a>(
        &'a self,
        task: &'a ServiceTask,
        parameters: &'a Value,
        caller: Caller<'a>,
        trace: &'a orderflow_asl::HttpTrace,
    ) -> BoxFuture<'a, Result<Value, TaskFailure>> {
        if !task.sdk && &*task.service == "http" {
            return Box::pin(self.http_invoke(parameters, Some(trace)));
        }
        Box::pin(self.call_now(task, parameters, caller))
    }

    fn get_object<'a>(
        &'a self,
        object: &'a orderflow_asl::ObjectAt,
        range: Option<(u64, u64)>,
    ) -> BoxFuture<'a, Result<orderflow_asl::ObjectPart, TaskFailure>> {
        Box::pin(self.get_object_now(object, range))
    }

    fn list_objects<'a>(
        &'a self,
        bucket: &'a str,
        prefix: &'a str,
        token: Option<&'a str>,
    ) -> BoxFuture<'a, Result<orderflow_asl::ObjectPage, TaskFailure>> {
        Box::pin(self.list_objects_now(bucket, prefix, token))
    }

    fn put_object<'a>(
        &'a self,
        bucket: &'a str,
        key: &'a str,
        body: Vec<u8>,
    ) -> BoxFuture<'a, Result<(), TaskFailure>> {
        Box::pin(self.put_object_now(bucket, key, body))
    }
}

/// The endpoint did not answer.
fn unreachable(task: &ServiceTask, endpoint: &Endpoint, why: &SendError) -> TaskFailure {
    let why = match why {
        SendError::Unreachable(why) => why.clone(),
        SendError::TimedOut => format!("no answer within {} seconds", endpoint.call_limit.as_secs()),
    };
    TaskFailure {
        error: "States.TaskFailed".into(),
        cause: format!(
            "{}:{} could not reach the AWS endpoint {}: {why}",
            task.resource_type,
            task.resource,
            endpoint.url()
        ),
    }
}
