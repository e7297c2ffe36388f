//! Workflow variables (`Assign`, read as `$name`): one frame per scope. The
//! execution has the outer frame; each Map iteration and Parallel branch
//! gets its own, which reads the outer ones and keeps its own assignments.
//! Values are shared, never copied, between the frame and what reads them.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use orderflow_value::Value;

/// Step Functions' quota on the variables one `Assign` sets, as JSON text.
pub use orderflow_local::quotas::MAX_ASSIGN_BYTES;
/// Step Functions' quota on all the variables an execution holds at once.
pub use orderflow_local::quotas::MAX_STORED_VARIABLE_BYTES as MAX_STORED_BYTES;

/// Variables by name: each value with its JSON size.
type Vars = HashMap<Arc<str>, (Arc<Value>, usize)>;

/// What one state assigned, in its order, for its StateExited event.
pub type Assigned = Arc<[(Arc<str>, Arc<Value>)]>;

#[derive(Debug, Default)]
pub struct Frame {
    vars: Mutex<Vars>,
    parent: Option<Arc<Frame>>,
}

impl Frame {
    /// The outer frame of an execution, empty.
    pub fn root() -> Arc<Frame> {
        Arc::new(Frame::default())
    }

    /// The empty frame of executions whose machine assigns no variable,
    /// shared by all of them (nothing is ever set in it).
    pub fn none() -> Arc<Frame> {
        static NONE: std::sync::LazyLock<Arc<Frame>> = std::sync::LazyLock::new(Frame::root);
        NONE.clone()
    }

    /// A frame for an iteration or branch of a state run in `parent`.
    pub fn child(parent: &Arc<Frame>) -> Arc<Frame> {
        Arc::new(Frame { vars: Mutex::default(), parent: Some(parent.clone()) })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vars> {
        self.vars.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A variable's value, from this frame or the nearest outer one that has it.
    pub fn get(&self, name: &str) -> Option<Arc<Value>> {
        if let Some((value, _)) = self.lock().get(name) {
            return Some(value.clone());
        }
        self.parent.as_ref().and_then(|p| p.get(name))
    }

    /// The JSON size of every variable this frame and its outer ones hold.
    fn stored_bytes(&self) -> usize {
        let own: usize = self.lock().values().map(|(_, size)| *size).sum();
        own + self.parent.as_ref().map_or(0, |p| p.stored_bytes())
    }

    /// Sets variables in this frame, all at once. Err: the quota they break, in AWS's words.
    pub fn assign(&self, assigned: &[(Arc<str>, Arc<Value>, usize)]) -> Result<(), String> {
        let total: usize = assigned.iter().map(|(_, _, size)| size).sum();
        if total > MAX_ASSIGN_BYTES {
            return Err(format!(
                "The variables assigned by the state exceed the maximum size of {MAX_ASSIGN_BYTES} bytes: {total} bytes"
            ));
        }
        let replaced: usize = {
            let vars = self.lock();
            assigned.iter().filter_map(|(name, _, _)| vars.get(name).map(|(_, size)| *size)).sum()
        };
        let after = self.stored_bytes() - replaced + total;
        if after > MAX_STORED_BYTES {
            return Err(format!(
                "The variables of the execution exceed the maximum size of {MAX_STORED_BYTES} bytes: {after} bytes"
            ));
        }
        let mut vars = self.lock();
        for (name, value, size) in assigned {
            vars.insert(name.clone(), (value.clone(), *size));
        }
        Ok(())
    }

    /// Every variable in scope, the nearest frame's value of each name, in
    /// name order (a frame keeps its variables hashed, in no order).
    pub fn snapshot(&self) -> orderflow_value::Map {
        let mut all = std::collections::BTreeMap::new();
        self.collect(&mut all);
        all.iter().map(|(name, value)| (&**name, Value::clone(value))).collect()
    }

    /// This frame's variables over its parents'.
    fn collect(&self, all: &mut std::collections::BTreeMap<Arc<str>, Arc<Value>>) {
        if let Some(parent) = &self.parent {
            parent.collect(all);
        }
        for (name, (value, _)) in self.lock().iter() {
            all.insert(name.clone(), value.clone());
        }
    }

    /// Sets variables without the quotas: for variables read back from a
    /// history (a redrive) or given (TestState).
    pub fn preset(&self, vars: impl IntoIterator<Item = (Arc<str>, Value)>) {
        let mut own = self.lock();
        for (name, value) in vars {
            let size = orderflow_json_len::json_len(&value);
            own.insert(name, (Arc::new(value), size));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_snapshot_lists_names_in_order_the_nearest_frame_winning() {
        let root = Frame::root();
        let names = ["m", "z", "a", "q", "b", "y", "c", "x"];
        root.preset(names.iter().map(|n| (Arc::from(*n), Value::from(format!("root {n}")))));
        let child = Frame::child(&root);
        child.preset([(Arc::from("q"), Value::from("child q")), (Arc::from("d"), Value::from("child d"))]);
        let snapshot = child.snapshot();
        let listed: Vec<&str> = snapshot.keys().map(|k| k.as_str()).collect();
        assert_eq!(listed, ["a", "b", "c", "d", "m", "q", "x", "y", "z"]);
        assert_eq!(snapshot.get("q"), Some(&Value::from("child q")));
        assert_eq!(snapshot.get("m"), Some(&Value::from("root m")));
    }
}
