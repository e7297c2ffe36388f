//! An event's detail members as the executor records them: shared values,
//! shown as JSON text only when the history is read.

use std::borrow::Cow;
use std::sync::Arc;

use orderflow_value::Value;

/// One detail member of an event.
#[derive(Debug, Clone)]
pub enum Detail {
    Text(String),
    Shared(Arc<str>),
    Static(&'static str),
    /// A state's name by its number in the machine's names
    /// ([`History::name_states`](super::History::name_states)).
    Name(u32),
    /// A JSON value shown as its text, with `<key>Details: {"truncated": false}` beside it.
    Payload(Arc<Value>),
    /// A JSON value shown as its text, alone.
    Json(Arc<Value>),
    /// A template that only selects from the input, shown as its text once
    /// filled from that input: the value is built when the history is read,
    /// not for every execution.
    Filled(Arc<crate::template::Template>, Arc<Value>),
    /// A task result whose ResultSelector moved what it selects out of it;
    /// boxed, as it is rare and the largest: every member's slot is its size.
    Moved(Box<Moved>),
    Number(u64),
    /// Workflow variables a state set, shown as an object of their JSON
    /// texts, with `<key>Details: {"truncated": false}` beside it.
    Assigned(crate::variables::Assigned),
}

/// A task result whose ResultSelector moved what it selects out of it: the
/// rest, and the selector with its filled value, which put the result back
/// together when the history is read. Shown as `Payload` is.
#[derive(Debug, Clone)]
pub struct Moved {
    pub rest: Arc<Value>,
    pub selector: Arc<crate::template::Template>,
    pub selected: Arc<Value>,
    /// The request id of a lambda:invoke result whose envelope (all but
    /// its `Payload`) is left to be built here.
    pub envelope: Option<Box<str>>,
}

impl Detail {
    /// A text member's text.
    pub fn text(&self) -> Option<&str> {
        match self {
            Detail::Text(text) => Some(text),
            Detail::Shared(text) => Some(text),
            Detail::Static(text) => Some(text),
            _ => None,
        }
    }
}

impl Default for Detail {
    fn default() -> Self {
        Detail::Static("")
    }
}

/// Who a Task* event is about, shown first as its `resourceType` and
/// `resource`: Lambda's optimized integration, or another service's.
#[derive(Debug, Clone)]
pub enum Integration {
    LambdaInvoke,
    LambdaCallback,
    /// Its names are the state's, shared.
    Service(Arc<crate::model::ServiceTask>),
}

/// An event's detail members, kept inline: besides the `resourceType` and
/// `resource` of an integration's events, an event never has more than four
/// (EvaluationFailed's error, cause, location and state).
#[derive(Debug, Clone, Default)]
pub struct Fields {
    /// The integration a Task* event is about, shown before the members.
    integration: Option<Integration>,
    len: u8,
    items: [(&'static str, Detail); 4],
}

impl Fields {
    /// The members of a `lambda:invoke` Task* event: `resourceType` and `resource` first.
    pub fn lambda_invoke() -> Fields {
        Fields::integration(Integration::LambdaInvoke)
    }

    /// The members of an integration's Task* event: `resourceType` and `resource` first.
    pub fn integration(integration: Integration) -> Fields {
        Fields { integration: Some(integration), ..Fields::default() }
    }

    #[inline(always)]
    pub fn push(&mut self, name: &'static str, detail: Detail) {
        debug_assert!(usize::from(self.len) < self.items.len(), "an event with more than four members");
        if let Some(slot) = self.items.get_mut(usize::from(self.len)) {
            *slot = (name, detail);
            self.len += 1;
        }
    }
}

/// An event's members as shown: an integration's `resourceType` and
/// `resource` first, then its own.
pub(super) fn shown_members<'e>(
    integration: &'e Option<Integration>,
    members: &'e [(&'static str, Detail)],
) -> impl Iterator<Item = (&'static str, Cow<'e, Detail>)> {
    const LAMBDA: Detail = Detail::Static("lambda");
    const INVOKE: Detail = Detail::Static("invoke");
    const CALLBACK: Detail = Detail::Static("invoke.waitForTaskToken");
    let prefix: Option<[Cow<'e, Detail>; 2]> = match integration {
        None => None,
        Some(Integration::LambdaInvoke) => Some([Cow::Borrowed(&LAMBDA), Cow::Borrowed(&INVOKE)]),
        Some(Integration::LambdaCallback) => Some([Cow::Borrowed(&LAMBDA), Cow::Borrowed(&CALLBACK)]),
        Some(Integration::Service(task)) => Some([
            Cow::Owned(Detail::Shared(task.resource_type.clone())),
            Cow::Owned(Detail::Shared(task.resource.clone())),
        ]),
    };
    let prefix = prefix.into_iter().flat_map(|[kind, resource]| [("resourceType", kind), ("resource", resource)]);
    prefix.chain(members.iter().map(|(name, detail)| (*name, Cow::Borrowed(detail))))
}

impl<const N: usize> From<[(&'static str, Detail); N]> for Fields {
    // Inlined where the array is built, so its Details move once.
    #[inline(always)]
    fn from(items: [(&'static str, Detail); N]) -> Self {
        let mut fields = Fields::default();
        for (name, detail) in items {
            fields.push(name, detail);
        }
        fields
    }
}

/// What an event's members come as: a `Fields`, or an array of them moved
/// straight into the history (most events have two, known where they are made).
pub trait Members {
    /// As `Fields::integration`.
    fn integration(&self) -> Option<Integration>;
    /// Moves the members to the end of `out`; gives their number.
    fn append_to(self, out: &mut Vec<(&'static str, Detail)>) -> u8;
}

impl Members for Fields {
    fn integration(&self) -> Option<Integration> {
        self.integration.clone()
    }

    fn append_to(mut self, out: &mut Vec<(&'static str, Detail)>) -> u8 {
        let len = self.len;
        out.extend(self.items[..usize::from(len)].iter_mut().map(|(name, d)| (*name, std::mem::take(d))));
        len
    }
}

impl<const N: usize> Members for [(&'static str, Detail); N] {
    fn integration(&self) -> Option<Integration> {
        None
    }

    #[inline(always)]
    fn append_to(self, out: &mut Vec<(&'static str, Detail)>) -> u8 {
        const { assert!(N <= 4, "an event with more than four members") };
        out.extend(self);
        N as u8
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_member_is_small() {
        // Every member's slot is the largest variant's size: keep it to three words.
        assert!(std::mem::size_of::<Detail>() <= 24, "{}", std::mem::size_of::<Detail>());
    }
}
