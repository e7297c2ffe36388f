//! Lambda answered from the recording, by the README's rule: for a call of
//! function F with event E, the first unused recorded call of F whose input
//! matches E, else the first unused call of F, else the last call of F again.
//! A function with no recorded call runs its deployed Python handler's one
//! behaviour (echo the event, or raise), read from `lambda_handlers/`.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Mutex;

use orderflow_asl::{BoxFuture, Invoker, TaskFailure};
use orderflow_value::Value;

use crate::compare;

struct Call {
    input: Value,
    /// None: the call ran past the task's TimeoutSeconds and never answered.
    answer: Option<Result<Value, TaskFailure>>,
    used: bool,
}

enum Handler {
    Echo,
    /// Raises `Exception(message)`; Lambda's error document as the Python runtime writes it.
    Raise {
        message: String,
        stack_trace: String,
    },
    /// A handler this replay cannot imitate: a call that reaches it fails the case.
    Unknown(String),
}

pub struct Replay {
    calls: Mutex<HashMap<String, Vec<Call>>>,
    handlers: HashMap<String, Handler>,
}

impl Replay {
    pub fn load(dir: &Path) -> Result<Replay, String> {
        let mut calls: HashMap<String, Vec<Call>> = HashMap::new();
        let path = dir.join("lambda.json");
        if path.exists() {
            let recorded = crate::read_json(&path)?;
            for call in recorded.as_array().into_iter().flatten() {
                let function = call["function"].as_str().ok_or("lambda.json: a call without function")?;
                let answer = if call["timeout"] == Value::Bool(true) {
                    None
                } else {
                    Some(match call.get("error") {
                        Some(error) => Err(TaskFailure {
                            error: error.as_str().unwrap_or_default().to_owned(),
                            cause: match &call["cause"] {
                                Value::String(text) => text.to_string(),
                                payload => payload.to_string(),
                            },
                        }),
                        None => Ok(call["output"].clone()),
                    })
                };
                calls.entry(function.to_owned()).or_default().push(Call {
                    input: call["input"].clone(),
                    answer,
                    used: false,
                });
            }
        }
        let mut handlers = HashMap::new();
        if let Ok(entries) = std::fs::read_dir(dir.join("lambda_handlers")) {
            for entry in entries.flatten() {
                let path = entry.path();
                let Some(name) = path.file_stem().map(|s| s.to_string_lossy().into_owned()) else { continue };
                let code = std::fs::read_to_string(&path).map_err(|e| e.to_string())?;
                let raise = code.lines().enumerate().find(|(_, l)| l.trim_start().starts_with("raise Exception(\""));
                let handler = if let Some((line, text)) = raise {
                    let message = text.split("raise Exception(\"").nth(1).and_then(|m| m.split("\")").next());
                    Handler::Raise {
                        message: message.unwrap_or_default().to_owned(),
                        stack_trace: format!(
                            "  File \"/var/task/handler.py\", line {}, in handler\n    {}\n",
                            line + 1,
                            text.trim()
                        ),
                    }
                } else if code.contains("return event") {
                    Handler::Echo
                } else {
                    Handler::Unknown(path.display().to_string())
                };
                handlers.insert(name, handler);
            }
        }
        Ok(Replay { calls: Mutex::new(calls), handlers })
    }
}

impl Invoker for Replay {
    fn invoke<'a>(&'a self, function: &'a str, payload: &'a Value) -> BoxFuture<'a, Result<Value, TaskFailure>> {
        let answer = {
            let mut all = self.calls.lock().unwrap();
            match all.get_mut(function).filter(|c| !c.is_empty()) {
                Some(calls) => {
                    let pick = calls
                        .iter()
                        .position(|c| !c.used && compare::difference(&c.input, payload, &[], "$").is_none())
                        .or_else(|| calls.iter().position(|c| !c.used))
                        .unwrap_or(calls.len() - 1);
                    calls[pick].used = true;
                    calls[pick].answer.clone()
                }
                None => match self.handlers.get(function) {
                    Some(Handler::Echo) => Some(Ok(payload.clone())),
                    Some(Handler::Raise { message, stack_trace }) => Some(Err(TaskFailure {
                        error: "Exception".into(),
                        cause: serde_json::json!({
                            "errorMessage": message,
                            "errorType": "Exception",
                            "requestId": "00000000-0000-4000-8000-000000000000",
                            "stackTrace": [stack_trace],
                        })
                        .to_string(),
                    })),
                    Some(Handler::Unknown(path)) => panic!("{path}: a handler this replay cannot imitate was called"),
                    None => Some(Err(TaskFailure {
                        error: "Lambda.ResourceNotFoundException".into(),
                        cause: format!("Function not found: {function}"),
                    })),
                },
            }
        };
        match answer {
            Some(answer) => Box::pin(std::future::ready(answer)),
            None => Box::pin(std::future::pending()),
        }
    }
}
