//! The API's errors, as the service model names them: HTTP 400 with
//! `{"__type": "<code>", "message": "..."}`.

/// Declares the error codes, each named as the service model names its shape.
macro_rules! codes {
    ($($code:ident,)*) => {
        /// An error the API answers with, by the service model's shape name
        /// (the `__type` of the answer).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum ErrorCode {
            $($code,)*
        }

        impl ErrorCode {
            /// The shape's name, e.g. `StateMachineDoesNotExist`.
            pub const fn name(self) -> &'static str {
                match self {
                    $(ErrorCode::$code => stringify!($code),)*
                }
            }
        }
    };
}

codes! {
    AccessDeniedException,
    ActivityDoesNotExist,
    ConflictException,
    ExecutionAlreadyExists,
    ExecutionDoesNotExist,
    ExecutionNotRedrivable,
    InternalFailure,
    InvalidArn,
    InvalidDefinition,
    InvalidExecutionInput,
    InvalidLoggingConfiguration,
    InvalidName,
    InvalidOutput,
    InvalidToken,
    MissingRequiredParameter,
    ResourceNotFound,
    SerializationException,
    ServiceQuotaExceededException,
    StateMachineAlreadyExists,
    StateMachineDoesNotExist,
    StateMachineTypeNotSupported,
    TaskDoesNotExist,
    TaskTimedOut,
    UnknownOperationException,
    ValidationException,
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub code: ErrorCode,
    pub message: String,
}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> ApiError {
        ApiError { code, message: message.into() }
    }

    pub fn validation(message: impl Into<String>) -> ApiError {
        ApiError::new(ErrorCode::ValidationException, message)
    }

    /// The server's own failure (its database, say): HTTP 500, which SDKs retry.
    pub fn internal(error: impl std::fmt::Display) -> ApiError {
        ApiError::new(ErrorCode::InternalFailure, error.to_string())
    }

    /// The HTTP status of the answer.
    pub fn status(&self) -> u16 {
        if self.code == ErrorCode::InternalFailure { 500 } else { 400 }
    }

    pub fn invalid_arn(arn: &str) -> ApiError {
        ApiError::new(ErrorCode::InvalidArn, format!("Invalid Arn: '{arn}'"))
    }

    /// The JSON body of the error answer.
    pub fn body(&self) -> serde_json::Value {
        serde_json::json!({"__type": self.code.name(), "message": self.message})
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for ApiError {}

impl From<crate::StoreError> for ApiError {
    fn from(error: crate::StoreError) -> ApiError {
        ApiError::internal(error)
    }
}
