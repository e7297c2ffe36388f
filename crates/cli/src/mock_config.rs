//! Step Functions Local's MockConfigFile, read as it is so that its users
//! bring theirs: `StateMachines.<machine>.TestCases.<case>.<state>` names a
//! mocked response; `MockedResponses.<name>.<invocations>` answers with
//! `Return` (the task's whole result) or `Throw` (`Error`, `Cause`) for the
//! invocations `"0"`, `"1-2"`, ... of that state's task. A malformed file is
//! refused with the path of the bad entry.

use std::collections::BTreeMap;

use orderflow_asl::{TaskFailure, TaskMocks};
use orderflow_value::Value;

#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    Return(Value),
    Throw { error: String, cause: String },
}

#[derive(Debug, Clone, Default)]
pub struct MockConfig {
    /// machine → case → state → response name.
    pub machines: BTreeMap<String, BTreeMap<String, BTreeMap<String, String>>>,
    /// response name → (first invocation, last invocation, answer).
    pub responses: BTreeMap<String, Vec<(u32, u32, Answer)>>,
}

fn object<'v>(value: &'v Value, at: &str) -> Result<&'v orderflow_value::Map, String> {
    value.as_object().ok_or_else(|| format!("{at}: must be an object"))
}

impl MockConfig {
    pub fn parse(value: &Value) -> Result<MockConfig, String> {
        let top = object(value, "(file)")?;
        for key in top.keys() {
            if key != "StateMachines" && key != "MockedResponses" {
                return Err(format!("{key}: not a field of a MockConfigFile (StateMachines, MockedResponses)"));
            }
        }
        let mut config = MockConfig::default();
        if let Some(machines) = top.get("StateMachines") {
            for (machine, body) in object(machines, "StateMachines")? {
                let at = format!("StateMachines.{machine}");
                let body = object(body, &at)?;
                let cases = body.get("TestCases").ok_or_else(|| format!("{at}.TestCases: is required"))?;
                let mut parsed = BTreeMap::new();
                for (case, states) in object(cases, &format!("{at}.TestCases"))? {
                    let at = format!("{at}.TestCases.{case}");
                    let mut mocks = BTreeMap::new();
                    for (state, response) in object(states, &at)? {
                        let name =
                            response.as_str().ok_or_else(|| format!("{at}.{state}: must name a mocked response"))?;
                        mocks.insert(state.to_string(), name.to_owned());
                    }
                    parsed.insert(case.to_string(), mocks);
                }
                config.machines.insert(machine.to_string(), parsed);
            }
        }
        if let Some(responses) = top.get("MockedResponses") {
            for (name, ranges) in object(responses, "MockedResponses")? {
                let at = format!("MockedResponses.{name}");
                let mut parsed = Vec::new();
                for (range, answer) in object(ranges, &at)? {
                    let at = format!("{at}.\"{range}\"");
                    let (first, last) = parse_range(range).ok_or_else(|| {
                        format!(
                            "{at}: an invocation range is a number or two joined by a dash, such as \"0\" or \"1-2\""
                        )
                    })?;
                    parsed.push((first, last, parse_answer(answer, &at)?));
                }
                parsed.sort_by_key(|(first, _, _)| *first);
                if let Some(w) = parsed.windows(2).find(|w| w[1].0 <= w[0].1) {
                    return Err(format!(
                        "{at}: the invocation ranges {}-{} and {}-{} overlap",
                        w[0].0, w[0].1, w[1].0, w[1].1
                    ));
                }
                config.responses.insert(name.to_string(), parsed);
            }
        }
        for (machine, cases) in &config.machines {
            for (case, states) in cases {
                for (state, response) in states {
                    if !config.responses.contains_key(response) {
                        return Err(format!(
                            "StateMachines.{machine}.TestCases.{case}.{state}: no mocked response named {response:?}"
                        ));
                    }
                }
            }
        }
        Ok(config)
    }

    /// The mocks of one test case of one machine.
    pub fn case(&self, machine: &str, case: &str) -> Option<CaseMocks<'_>> {
        let states = self.machines.get(machine)?.get(case)?;
        Some(CaseMocks { config: self, states })
    }
}

fn parse_range(text: &str) -> Option<(u32, u32)> {
    match text.split_once('-') {
        Some((a, b)) => {
            let (a, b) = (a.trim().parse().ok()?, b.trim().parse().ok()?);
            (a <= b).then_some((a, b))
        }
        None => {
            let n = text.trim().parse().ok()?;
            Some((n, n))
        }
    }
}

fn parse_answer(value: &Value, at: &str) -> Result<Answer, String> {
    let body = object(value, at)?;
    match (body.get("Return"), body.get("Throw")) {
        (Some(result), None) if body.len() == 1 => Ok(Answer::Return(result.clone())),
        (None, Some(throw)) if body.len() == 1 => {
            let throw = object(throw, &format!("{at}.Throw"))?;
            let text = |key: &str| -> Result<String, String> {
                match throw.get(key) {
                    Some(Value::String(s)) => Ok(s.to_string()),
                    None => Ok(String::new()),
                    Some(_) => Err(format!("{at}.Throw.{key}: must be a string")),
                }
            };
            let error = text("Error")?;
            if error.is_empty() {
                return Err(format!("{at}.Throw.Error: is required"));
            }
            Ok(Answer::Throw { error, cause: text("Cause")? })
        }
        _ => Err(format!("{at}: must hold exactly one of Return and Throw")),
    }
}

/// One test case's mocks, as the executor asks for them.
pub struct CaseMocks<'c> {
    config: &'c MockConfig,
    states: &'c BTreeMap<String, String>,
}

impl CaseMocks<'_> {
    pub fn mocks_state(&self, state: &str) -> bool {
        self.states.contains_key(state)
    }
}

impl TaskMocks for CaseMocks<'_> {
    fn answer(&self, state: &str, invocation: u32) -> Option<Result<Value, TaskFailure>> {
        let response = self.config.responses.get(self.states.get(state)?)?;
        // Past the last range, the last answer stands (as a retry beyond the script would see it).
        let (_, _, answer) =
            response.iter().find(|(first, last, _)| (*first..=*last).contains(&invocation)).or(response.last())?;
        Some(match answer {
            Answer::Return(result) => Ok(result.clone()),
            Answer::Throw { error, cause } => Err(TaskFailure { error: error.clone(), cause: cause.clone() }),
        })
    }
}

#[cfg(test)]
mod tests {
    use orderflow_value::json;

    use super::*;

    #[test]
    fn reads_step_functions_locals_format() {
        let config = MockConfig::parse(&json!({
            "StateMachines": {"M": {"TestCases": {"Happy": {"Task": "Ok"}, "Retry": {"Task": "FailTwice"}}}},
            "MockedResponses": {
                "Ok": {"0": {"Return": {"StatusCode": 200, "Payload": {"a": 1}}}},
                "FailTwice": {"0-1": {"Throw": {"Error": "Lambda.ServiceException", "Cause": "busy"}}, "2": {"Return": {"Payload": 2}}}
            }
        }))
        .unwrap();
        let retry = config.case("M", "Retry").unwrap();
        assert!(matches!(retry.answer("Task", 0), Some(Err(f)) if f.error == "Lambda.ServiceException"));
        assert!(matches!(retry.answer("Task", 1), Some(Err(_))));
        assert_eq!(retry.answer("Task", 2).unwrap().unwrap(), json!({"Payload": 2}));
        assert!(retry.answer("Other", 0).is_none());
    }

    #[test]
    fn names_the_bad_entry() {
        let bad = |v: Value| MockConfig::parse(&v).unwrap_err();
        assert!(
            bad(json!({"MockedResponses": {"X": {"zero": {"Return": 1}}}})).starts_with("MockedResponses.X.\"zero\"")
        );
        assert!(bad(json!({"MockedResponses": {"X": {"0": {"Return": 1, "Throw": {}}}}})).contains("exactly one"));
        assert!(bad(json!({"MockedResponses": {"X": {"0": {"Throw": {"Cause": "c"}}}}})).contains("Throw.Error"));
        assert!(bad(json!({"MockedResponses": {"X": {"0-2": {"Return": 1}, "1": {"Return": 2}}}})).contains("overlap"));
        assert!(
            bad(json!({"StateMachines": {"M": {"TestCases": {"C": {"S": "Missing"}}}}})).contains("no mocked response")
        );
        assert!(bad(json!({"Mocks": {}})).contains("not a field"));
    }
}
