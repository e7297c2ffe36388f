//! The API's errors, as the service model names them: HTTP 400 with
//! `{"__type": "<code>", "message": "..."}`.

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// The model's error shape name, e.g. `StateMachineDoesNotExist`.
    pub code: &'static str,
    pub message: String,
}

impl ApiError {
    pub fn new(code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError { code, message: message.into() }
    }

    pub fn validation(message: impl Into<String>) -> ApiError {
        ApiError::new("ValidationException", message)
    }

    /// The server's own failure (its database, say): HTTP 500, which SDKs retry.
    pub fn internal(message: String) -> ApiError {
        ApiError::new("InternalFailure", message)
    }

    /// The HTTP status of the answer.
    pub fn status(&self) -> u16 {
        if self.code == "InternalFailure" { 500 } else { 400 }
    }

    pub fn invalid_arn(arn: &str) -> ApiError {
        ApiError::new("InvalidArn", format!("Invalid Arn: '{arn}'"))
    }

    /// The JSON body of the error answer.
    pub fn body(&self) -> serde_json::Value {
        serde_json::json!({"__type": self.code, "message": self.message})
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for ApiError {}
