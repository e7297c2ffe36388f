//! Names and ARNs as Step Functions checks them.

use crate::error::{ApiError, ErrorCode};

/// A state machine or execution name: 1 to 80 characters, none of them
/// whitespace, brackets, wildcards, the special characters Step Functions
/// forbids, or control characters.
pub fn check_name(name: &str) -> Result<(), ApiError> {
    let forbidden = |c: char| match c {
        'a'..='z' | 'A'..='Z' | '0'..='9' | '-' | '_' | '.' => false,
        c => {
            c.is_whitespace()
                || c.is_control()
                || "<>{}[]?*\"#%\\^|~`$&,;:/".contains(c)
                || ('\u{7f}'..='\u{9f}').contains(&c)
        }
    };
    if name.is_empty() || (name.len() > 80 && name.chars().count() > 80) || name.chars().any(forbidden) {
        return Err(ApiError::new(ErrorCode::InvalidName, format!("Invalid Name: '{name}'")));
    }
    Ok(())
}

/// The parts of `arn:<partition>:states:<region>:<account>:<kind>:<rest>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatesArn<'a> {
    pub region: &'a str,
    pub account: &'a str,
    pub kind: &'a str,
    pub rest: Vec<&'a str>,
}

pub fn parse_arn(arn: &str) -> Result<StatesArn<'_>, ApiError> {
    let parts: Vec<&str> = arn.split(':').collect();
    match parts.as_slice() {
        ["arn", partition, "states", region, account, kind, rest @ ..]
            if partition.starts_with("aws")
                && !region.is_empty()
                && account.len() == 12
                && account.bytes().all(|b| b.is_ascii_digit())
                && !rest.is_empty()
                && rest.iter().all(|p| !p.is_empty())
                && arn.len() <= 256 =>
        {
            Ok(StatesArn { region, account, kind, rest: rest.to_vec() })
        }
        _ => Err(ApiError::invalid_arn(arn)),
    }
}

/// A state machine ARN (a version's or an alias's too), less any
/// `#TestCase` suffix (the mock test case to use).
pub fn state_machine_arn(arn: &str) -> Result<(&str, Option<&str>), ApiError> {
    let (base, case) = match arn.split_once('#') {
        Some((base, case)) => (base, Some(case)),
        None => (arn, None),
    };
    let parsed = parse_arn(base)?;
    if parsed.kind != "stateMachine" || !(1..=2).contains(&parsed.rest.len()) {
        return Err(ApiError::invalid_arn(arn));
    }
    Ok((base, case))
}

/// An execution ARN (STANDARD, `execution:<machine>:<name>`; or EXPRESS,
/// `express:<machine>:<name>:<id>`).
pub fn execution_arn(arn: &str) -> Result<(), ApiError> {
    let parsed = parse_arn(arn)?;
    match (parsed.kind, parsed.rest.len()) {
        ("execution", 2) | ("express", 3) => Ok(()),
        _ => Err(ApiError::invalid_arn(arn)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!(check_name("order-1001_retry.2").is_ok());
        // Eighty characters, not bytes: 80 two-byte letters are a name.
        assert!(check_name(&"é".repeat(80)).is_ok());
        assert!(check_name(&"x".repeat(80)).is_ok());
        for bad in
            ["", "a b", "a:b", "a/b", "a{b", "a\u{7}", "a\u{85}b", "a\u{3000}b", &"x".repeat(81), &"é".repeat(81)]
        {
            let err = check_name(bad).unwrap_err();
            assert_eq!(err.code, ErrorCode::InvalidName, "{bad:?}");
            assert_eq!(err.message, format!("Invalid Name: '{bad}'"));
        }
    }

    #[test]
    fn arns() {
        let arn = "arn:aws:states:us-east-1:123456789012:stateMachine:orders";
        assert_eq!(state_machine_arn(arn).unwrap(), (arn, None));
        assert_eq!(state_machine_arn(&format!("{arn}#HappyPath")).unwrap(), (arn, Some("HappyPath")));
        for bad in [
            "orders",
            "arn:aws:states:us-east-1:1234:stateMachine:x",
            "arn:aws:lambda:us-east-1:123456789012:function:f",
        ] {
            assert_eq!(state_machine_arn(bad).unwrap_err().code, ErrorCode::InvalidArn, "{bad}");
        }
        assert!(execution_arn("arn:aws:states:us-east-1:123456789012:execution:orders:run-1").is_ok());
        assert!(execution_arn("arn:aws:states:us-east-1:123456789012:express:orders:run-1:abc").is_ok());
        assert!(execution_arn(arn).is_err());
    }
}
