//! One attempt of a Task, Parallel or Map state, through the whole pipeline.

use super::run::Run;
use crate::error::Failure;
use crate::model::Kind;
use crate::pipeline::{Now, Payload, Scope};
use crate::states;

impl Run<'_> {
    /// A Task's or Parallel's Parameters (Arguments) filled in, or its effective input.
    fn parameters(
        &self,
        scope: &Scope<'_, '_>,
        raw: &Payload,
        effective: &Payload,
        context: &crate::context::Context<'_>,
    ) -> Result<Payload, Failure> {
        let state = scope.state;
        match &state.io.parameters {
            Some(p) if state.jsonata => scope.render_jsonata(p, Now::input(&raw.value), context),
            Some(p) => scope.render(p, effective, context),
            None => Ok(effective.clone()),
        }
    }

    /// One attempt of a Task, Parallel or Map state, through the whole pipeline.
    pub(super) async fn attempt(
        &self,
        scope: &Scope<'_, '_>,
        raw: &Payload,
        retry_count: u32,
    ) -> Result<Payload, Failure> {
        let state = scope.state;
        let token = match &state.kind {
            Kind::Task { resource, .. } if resource.waits_for_token() => Some(self.issue_token(state)),
            _ => None,
        };
        let context = match &token {
            Some(token) => scope.task_context(retry_count, token),
            None => scope.context(Some(retry_count)),
        };
        let effective = scope.input_path(raw, &context)?;
        let (result, selected) = match &state.kind {
            Kind::Map(spec) => (states::map::run(scope, spec, &effective, &context).await?, false),
            Kind::Task { resource, timeout_seconds, heartbeat_seconds } => {
                use states::task::Parameters;
                let parameters = match &state.io.parameters {
                    Some(p) if !state.jsonata && Parameters::can_select(resource, p) => {
                        scope.find_paths(p, &effective, &context)?;
                        Parameters::Selecting(p, effective.value.clone())
                    }
                    _ => Parameters::Rendered(self.parameters(scope, raw, &effective, &context)?.value),
                };
                let limits = states::task::Limits {
                    timeout: timeout_seconds.as_ref(),
                    heartbeat: heartbeat_seconds.as_ref(),
                    token: token.as_deref(),
                };
                let selector = match (&state.io.result_selector, state.io.result_selection) {
                    (Some(selector), moves) if moves != crate::model::Selection::Copies => Some((selector, moves)),
                    _ => None,
                };
                match states::task::run(scope, resource, limits, &effective.value, parameters, selector, &context)
                    .await?
                {
                    states::task::Answer::Whole(result) => (result, false),
                    states::task::Answer::Selected(result) => (result, true),
                }
            }
            Kind::Parallel { branches } => {
                let input = self.parameters(scope, raw, &effective, &context)?;
                (states::parallel::run(scope, branches, input).await?, false)
            }
            _ => unreachable!("attempt runs Task, Parallel and Map states"),
        };
        if state.jsonata {
            let now = Now::input(&raw.value).with_result(&result.value);
            let (assign, output) = (state.assign.as_ref(), state.io.output.as_ref());
            return scope.conclude(assign, output, now, result.clone(), &context);
        }
        scope.assign(state.assign.as_ref(), &result, &context)?;
        let selected = match &state.io.result_selector {
            Some(selector) if !selected => scope.render(selector, &result, &context)?,
            _ => result,
        };
        let combined = scope.result_path(state.io.result_path.as_ref(), raw.clone(), selected)?;
        scope.output_path(combined, &context)
    }
}
