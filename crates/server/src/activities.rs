//! Activities: CreateActivity, DescribeActivity, ListActivities,
//! DeleteActivity and GetActivityTask, and the hand-off between a Task on
//! an activity (which offers its input with a task token) and a worker
//! (which long-polls GetActivityTask, up to 60 seconds as AWS does, and
//! answers the token with SendTaskSuccess, SendTaskFailure or
//! SendTaskHeartbeat). Activities are kept in the database; offers live
//! with the executions that make them.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use orderflow_asl::{BoxFuture, TaskFailure};
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::sync::{Notify, oneshot};

use crate::error::{ApiError, ErrorCode};
use crate::{Service, StoreError, check_name, epoch_seconds};

/// How long GetActivityTask waits for a task, as AWS's long poll does.
pub const LONG_POLL: Duration = Duration::from_secs(60);

struct Offer {
    token: String,
    input: String,
    /// Told the worker's name when one takes it; closed when the task stopped waiting.
    taken: oneshot::Sender<String>,
}

struct Activity {
    name: String,
    created: i128,
    offers: VecDeque<Offer>,
    arrived: Arc<Notify>,
}

/// The activities and their waiting tasks.
#[derive(Default)]
pub struct Activities {
    known: Mutex<HashMap<String, Activity>>,
}

impl Activities {
    /// The activities kept in the database.
    pub(crate) fn load(listed: Vec<(String, String, i128)>) -> Activities {
        let known = listed
            .into_iter()
            .map(|(arn, name, created)| {
                (arn, Activity { name, created, offers: VecDeque::new(), arrived: Arc::new(Notify::new()) })
            })
            .collect();
        Activities { known: Mutex::new(known) }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Activity>> {
        self.known.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl orderflow_asl::Activities for Activities {
    fn knows(&self, activity: &str) -> bool {
        self.lock().contains_key(activity)
    }

    fn offer<'a>(
        &'a self,
        activity: &'a str,
        token: &'a str,
        input: &'a orderflow_value::Value,
    ) -> BoxFuture<'a, Result<String, TaskFailure>> {
        Box::pin(async move {
            let (taken, worker) = oneshot::channel();
            {
                let mut known = self.lock();
                let Some(entry) = known.get_mut(activity) else {
                    return Err(does_not_exist_failure(activity));
                };
                entry.offers.push_back(Offer { token: token.to_owned(), input: input.to_string(), taken });
                entry.arrived.notify_one();
            }
            worker.await.map_err(|_| does_not_exist_failure(activity))
        })
    }
}

fn does_not_exist_failure(activity: &str) -> TaskFailure {
    TaskFailure { error: "ActivityDoesNotExist".into(), cause: format!("Activity Does Not Exist: '{activity}'") }
}

fn does_not_exist(arn: &str) -> ApiError {
    ApiError::new(ErrorCode::ActivityDoesNotExist, format!("Activity Does Not Exist: '{arn}'"))
}

fn check_arn(service: &Service, arn: &str) -> Result<(), ApiError> {
    let prefix = format!("arn:aws:states:{}:{}:activity:", service.config.region, service.config.account);
    match arn.strip_prefix(&prefix) {
        Some(name) if !name.is_empty() && !name.contains(':') => Ok(()),
        _ => Err(ApiError::new(ErrorCode::InvalidArn, format!("Invalid Arn: 'Invalid ARN prefix: {arn}'"))),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Create {
    name: String,
    tags: Option<Value>,
    encryption_configuration: Option<Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ByArn {
    activity_arn: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct List {
    max_results: Option<i64>,
    next_token: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GetTask {
    activity_arn: String,
    worker_name: Option<String>,
}

/// CreateActivity: idempotent, as AWS's is.
pub fn create(service: &Arc<Service>, r: Create) -> Result<Value, ApiError> {
    let _ = (&r.tags, &r.encryption_configuration);
    check_name(&r.name)?;
    let arn = format!("arn:aws:states:{}:{}:activity:{}", service.config.region, service.config.account, r.name);
    let now = service.clock.now_nanos();
    let created = {
        let mut known = service.activities.lock();
        let entry = known.entry(arn.clone()).or_insert_with(|| Activity {
            name: r.name.clone(),
            created: now,
            offers: VecDeque::new(),
            arrived: Arc::new(Notify::new()),
        });
        entry.created
    };
    service.store.db().save_activity(&arn, &r.name, created).map_err(store_error)?;
    Ok(json!({"activityArn": arn, "creationDate": epoch_seconds(created)}))
}

pub fn describe(service: &Arc<Service>, r: ByArn) -> Result<Value, ApiError> {
    check_arn(service, &r.activity_arn)?;
    let known = service.activities.lock();
    let a = known.get(&r.activity_arn).ok_or_else(|| does_not_exist(&r.activity_arn))?;
    Ok(json!({
        "activityArn": r.activity_arn,
        "name": a.name,
        "creationDate": epoch_seconds(a.created),
        "encryptionConfiguration": {"type": "AWS_OWNED_KEY"},
    }))
}

pub fn list(service: &Arc<Service>, r: List) -> Result<Value, ApiError> {
    let mut items: Vec<(String, Value)> = service
        .activities
        .lock()
        .iter()
        .map(|(arn, a)| {
            (arn.clone(), json!({"activityArn": arn, "name": a.name, "creationDate": epoch_seconds(a.created)}))
        })
        .collect();
    items.sort_by(|a, b| a.0.cmp(&b.0));
    crate::page("activities", items.into_iter().map(|(_, v)| v).collect(), r.max_results, r.next_token.as_deref())
}

/// DeleteActivity: the tasks waiting on it fail as their activity is gone.
pub fn delete(service: &Arc<Service>, r: ByArn) -> Result<Value, ApiError> {
    check_arn(service, &r.activity_arn)?;
    service.activities.lock().remove(&r.activity_arn);
    service.store.db().delete_activity(&r.activity_arn).map_err(store_error)?;
    Ok(json!({}))
}

/// GetActivityTask: the oldest waiting task, or an empty answer after the long poll.
pub async fn get_task(service: &Arc<Service>, r: GetTask) -> Result<Value, ApiError> {
    check_arn(service, &r.activity_arn)?;
    let worker = r.worker_name.unwrap_or_default();
    let deadline = tokio::time::Instant::now() + LONG_POLL;
    loop {
        let arrived = {
            let mut known = service.activities.lock();
            let entry = known.get_mut(&r.activity_arn).ok_or_else(|| does_not_exist(&r.activity_arn))?;
            while let Some(offer) = entry.offers.pop_front() {
                // A task that stopped waiting (its execution ended) is passed over.
                if offer.taken.send(worker.clone()).is_ok() {
                    return Ok(json!({"taskToken": offer.token, "input": offer.input}));
                }
            }
            entry.arrived.clone()
        };
        let notified = arrived.notified();
        if tokio::time::timeout_at(deadline, notified).await.is_err() {
            return Ok(json!({}));
        }
    }
}

fn store_error(e: StoreError) -> ApiError {
    ApiError::new(ErrorCode::InternalFailure, e.to_string())
}
