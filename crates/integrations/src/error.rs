//! What a service answered instead of a result: its HTTP status, error code,
//! message and request id, as every protocol reports them.

/// A service's error answer.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceError {
    pub status: u16,
    /// The error code, without namespace (`ConditionalCheckFailedException`, `NotFound`).
    pub code: String,
    pub message: String,
    pub request_id: String,
    /// S3's extended request id (`x-amz-id-2`), which its causes show.
    pub extended_request_id: Option<String>,
}
