//! An execution's ARN, made when first read, and ARN text laid end to end.

use std::sync::{Arc, OnceLock};

use crate::rng::Rng;

/// An execution's ARN: the one the caller gave, or made from the execution's
/// names the first time something reads it (its `$$.Execution.Id`, a task
/// token, the caller); most executions run without anything reading it.
#[derive(Debug)]
pub struct ExecutionArn {
    made: OnceLock<Arc<str>>,
    parts: Option<ArnParts>,
}

#[derive(Debug)]
struct ArnParts {
    region: Arc<str>,
    account: Arc<str>,
    machine: Arc<str>,
    name: Arc<str>,
    /// An EXPRESS execution's ARN ends in an id drawn from this seed.
    express_seed: Option<u64>,
}

impl ExecutionArn {
    /// The ARN of the execution `name` of the state machine `machine`, in
    /// `region` and `account`, made when first read; an EXPRESS execution's
    /// ends in an id drawn from `express_seed`.
    pub(crate) fn of([region, account, machine, name]: [Arc<str>; 4], express_seed: Option<u64>) -> ExecutionArn {
        ExecutionArn { made: OnceLock::new(), parts: Some(ArnParts { region, account, machine, name, express_seed }) }
    }

    /// An ARN already made.
    pub fn given(arn: impl Into<Arc<str>>) -> ExecutionArn {
        ExecutionArn { made: OnceLock::from(arn.into()), parts: None }
    }

    /// The ARN, made now if it was not yet.
    pub fn get(&self) -> &Arc<str> {
        self.made.get_or_init(|| match &self.parts {
            None => Arc::from(""),
            Some(p) => {
                let (region, account, machine, name) = (&*p.region, &*p.account, &*p.machine, &*p.name);
                match p.express_seed {
                    None => joined(&["arn:aws:states:", region, ":", account, ":execution:", machine, ":", name]),
                    Some(seed) => {
                        let id = Rng::new(seed).uuid_v4();
                        joined(&["arn:aws:states:", region, ":", account, ":express:", machine, ":", name, ":", &id])
                    }
                }
            }
        })
    }
}

impl std::ops::Deref for ExecutionArn {
    type Target = str;
    fn deref(&self) -> &str {
        self.get()
    }
}

impl std::fmt::Display for ExecutionArn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.get())
    }
}

impl serde::Serialize for ExecutionArn {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.get())
    }
}

/// The parts one after another, in one allocation where the text is short
/// (`format!` grows a String as it goes, and `Arc::from` copies it again).
pub(crate) fn joined(parts: &[&str]) -> Arc<str> {
    let mut buffer = [0u8; 256];
    let mut len = 0;
    for part in parts {
        match buffer.get_mut(len..len + part.len()) {
            Some(room) => room.copy_from_slice(part.as_bytes()),
            None => return Arc::from(parts.concat()),
        }
        len += part.len();
    }
    // Whole strings laid end to end are UTF-8.
    Arc::from(std::str::from_utf8(&buffer[..len]).unwrap_or_default())
}
