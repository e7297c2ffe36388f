//! An invoker for servers whose state machines call no Lambda function: any
//! call fails (shared by the server's tests that include this file).

use orderflow_asl::{BoxFuture, Invoker, TaskFailure};

pub struct NoTasks;

impl Invoker for NoTasks {
    fn invoke<'a>(
        &'a self,
        f: &'a str,
        _: &'a orderflow_value::Value,
    ) -> BoxFuture<'a, Result<orderflow_value::Value, TaskFailure>> {
        Box::pin(std::future::ready(Err(TaskFailure { error: "NoTasks".into(), cause: f.into() })))
    }
}
