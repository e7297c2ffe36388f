//! The ARNs an execution shows: its own, its state machine's and its role's.

use std::sync::Arc;

use super::{ExecutionOptions, MachineType};
use crate::arn::{ExecutionArn, joined};

impl ExecutionOptions {
    /// The execution's ARN: the one given, or one made from the names when read.
    pub(super) fn execution_arn(&self) -> ExecutionArn {
        let o = self;
        if let Some(arn) = &o.execution_arn {
            return ExecutionArn::given(arn.clone());
        }
        ExecutionArn::of(
            [o.region.clone(), o.account.clone(), o.state_machine_name.clone(), o.name.clone()],
            (o.machine_type == MachineType::Express).then_some(o.seed ^ 0x5eed),
        )
    }

    /// The state machine's ARN and the execution's role ARN. Executions of
    /// one machine ask for the same two: the last pair made on this thread
    /// is kept and handed out again.
    pub(super) fn machine_and_role_arns(&self) -> (Arc<str>, Arc<str>) {
        type Made = (Arc<str>, Arc<str>, Arc<str>, Option<Arc<str>>, Arc<str>, Arc<str>);
        thread_local! {
            static LAST: std::cell::RefCell<Option<Made>> = const { std::cell::RefCell::new(None) };
        }
        let o = self;
        LAST.with_borrow_mut(|last| {
            if let Some((region, account, machine, role, machine_arn, role_arn)) = last.as_ref()
                && *region == o.region
                && *account == o.account
                && *machine == o.state_machine_name
                && *role == o.role_arn
            {
                return (machine_arn.clone(), role_arn.clone());
            }
            let (region, account) = (&*o.region, &*o.account);
            let machine_arn =
                joined(&["arn:aws:states:", region, ":", account, ":stateMachine:", &o.state_machine_name]);
            let role_arn =
                o.role_arn.clone().unwrap_or_else(|| joined(&["arn:aws:iam::", account, ":role/local-execution-role"]));
            let made = (machine_arn.clone(), role_arn.clone());
            *last = Some((
                o.region.clone(),
                o.account.clone(),
                o.state_machine_name.clone(),
                o.role_arn.clone(),
                machine_arn,
                role_arn,
            ));
            made
        })
    }
}

#[cfg(test)]
mod arn_tests {
    use super::*;

    #[test]
    fn joined_lays_parts_end_to_end_short_or_long() {
        assert_eq!(&*joined(&["arn:aws:states:", "eu-west-3", ":", "ünïcode"]), "arn:aws:states:eu-west-3:ünïcode");
        let long = "x".repeat(300);
        assert_eq!(&*joined(&["a:", &long, ":b"]), format!("a:{long}:b"));
        assert_eq!(&*joined(&[]), "");
    }

    #[test]
    fn an_execution_arn_is_the_one_given_or_made_from_the_names_when_read() {
        let mut o =
            ExecutionOptions { name: "run-1".into(), state_machine_name: "orders".into(), ..Default::default() };
        assert_eq!(&*o.execution_arn(), "arn:aws:states:us-east-1:123456789012:execution:orders:run-1");
        o.machine_type = MachineType::Express;
        let express = o.execution_arn();
        assert!(express.starts_with("arn:aws:states:us-east-1:123456789012:express:orders:run-1:"), "{express}");
        // Read twice, made once: the same text, the same id.
        assert!(Arc::ptr_eq(express.get(), express.get()));
        assert_eq!(express.to_string(), &*o.execution_arn(), "the same seed gives the same id");
        o.execution_arn = Some("arn:aws:states:eu-west-1:000000000000:execution:x:y".into());
        assert_eq!(&*o.execution_arn(), "arn:aws:states:eu-west-1:000000000000:execution:x:y");
        assert_eq!(
            serde_json::to_string(&o.execution_arn()).unwrap(),
            r#""arn:aws:states:eu-west-1:000000000000:execution:x:y""#
        );
    }

    #[test]
    fn machine_and_role_arns_follow_the_options_not_the_last_pair() {
        let mut o = ExecutionOptions::default();
        let (machine, role) = o.machine_and_role_arns();
        assert_eq!(&*machine, "arn:aws:states:us-east-1:123456789012:stateMachine:local");
        assert_eq!(&*role, "arn:aws:iam::123456789012:role/local-execution-role");
        o.state_machine_name = "orders".into();
        o.account = "000000000000".into();
        let (machine, role) = o.machine_and_role_arns();
        assert_eq!(&*machine, "arn:aws:states:us-east-1:000000000000:stateMachine:orders");
        assert_eq!(&*role, "arn:aws:iam::000000000000:role/local-execution-role");
        o.role_arn = Some("arn:aws:iam::000000000000:role/mine".into());
        assert_eq!(&*o.machine_and_role_arns().1, "arn:aws:iam::000000000000:role/mine");
        o.region = "eu-west-1".into();
        assert_eq!(&*o.machine_and_role_arns().0, "arn:aws:states:eu-west-1:000000000000:stateMachine:orders");
    }
}
