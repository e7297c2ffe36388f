//! An AWS service model (botocore's `service-2.json`, trimmed by
//! tools/models/trim.py and embedded): its protocol, operations and shapes,
//! read in document order, so results list members as the model does.

use orderflow_value::Value;

/// One service's model.
pub struct Model {
    root: Value,
}

/// An operation of a model.
#[derive(Clone, Copy, Debug)]
pub struct Operation<'m> {
    pub name: &'m str,
    v: &'m Value,
}

/// A shape of a model, by name.
#[derive(Clone, Copy)]
pub struct Shape<'m> {
    pub name: &'m str,
    v: &'m Value,
}

/// A structure's member, a list's item, a map's key or value: a reference
/// to a shape with how it is serialized.
#[derive(Clone, Copy)]
pub struct Member<'m> {
    pub name: &'m str,
    v: &'m Value,
}

impl Model {
    /// Reads a model's JSON text.
    pub fn parse(text: &str) -> Result<Model, String> {
        let root = orderflow_value::parse(text).map_err(|e| e.to_string())?;
        if !root.get("operations").is_some_and(Value::is_object) || !root.get("shapes").is_some_and(Value::is_object) {
            return Err("not a service model".into());
        }
        Ok(Model { root })
    }

    fn meta(&self, key: &str) -> Option<&str> {
        self.root.get("metadata")?.get(key)?.as_str()
    }

    /// `json`, `query`, `rest-json`, `rest-xml`: the first of the model's
    /// protocols that this crate speaks.
    pub fn protocol(&self) -> &str {
        let listed = self.root.get("metadata").and_then(|m| m.get("protocols")).and_then(Value::as_array);
        let speaks = |p: &str| matches!(p, "json" | "query" | "rest-json" | "rest-xml");
        listed
            .and_then(|ps| ps.iter().filter_map(Value::as_str).find(|p| speaks(p)))
            .or_else(|| self.meta("protocol"))
            .unwrap_or("json")
    }

    pub fn api_version(&self) -> &str {
        self.meta("apiVersion").unwrap_or_default()
    }

    pub fn json_version(&self) -> &str {
        self.meta("jsonVersion").unwrap_or("1.0")
    }

    pub fn target_prefix(&self) -> &str {
        self.meta("targetPrefix").unwrap_or_default()
    }

    /// The name SigV4 signs with (`dynamodb`, `sns`, `states`, `events`).
    pub fn signing_name(&self) -> &str {
        self.meta("signingName").or_else(|| self.meta("endpointPrefix")).unwrap_or_default()
    }

    pub fn service_id(&self) -> &str {
        self.meta("serviceId").unwrap_or_default()
    }

    pub fn xml_namespace(&self) -> Option<&str> {
        self.root.get("metadata")?.get("xmlNamespace")?.get("uri")?.as_str()
    }

    pub fn operation(&self, name: &str) -> Option<Operation<'_>> {
        let (name, v) = self.root.get("operations")?.as_object()?.get_key_value(name)?;
        Some(Operation { name: name.as_str(), v })
    }

    pub fn shape(&self, name: &str) -> Option<Shape<'_>> {
        let (name, v) = self.root.get("shapes")?.as_object()?.get_key_value(name)?;
        Some(Shape { name: name.as_str(), v })
    }

    /// The name of the error shape an error code answers to (its name, or
    /// the code its `error` trait gives), when the model defines one.
    pub fn error_shape(&self, code: &str) -> Option<&str> {
        let shapes = self.root.get("shapes")?.as_object()?;
        shapes
            .iter()
            .filter(|(_, v)| v.get("exception").and_then(Value::as_bool).unwrap_or(false))
            .find(|(name, v)| {
                name.as_str() == code
                    || v.get("error").and_then(|e| e.get("code")).and_then(Value::as_str) == Some(code)
            })
            .map(|(name, _)| name.as_str())
    }

    /// The shape a member refers to.
    pub fn target(&self, member: Member<'_>) -> Option<Shape<'_>> {
        self.shape(member.v.get("shape")?.as_str()?)
    }
}

impl<'m> Operation<'m> {
    pub fn input(&self) -> Option<&'m str> {
        self.v.get("input")?.get("shape")?.as_str()
    }

    pub fn output(&self) -> Option<&'m str> {
        self.v.get("output")?.get("shape")?.as_str()
    }

    /// The element a query protocol's answer wraps its result in.
    pub fn result_wrapper(&self) -> Option<&'m str> {
        self.v.get("output")?.get("resultWrapper")?.as_str()
    }

    pub fn method(&self) -> &'m str {
        self.v.get("http").and_then(|h| h.get("method")).and_then(Value::as_str).unwrap_or("POST")
    }

    pub fn request_uri(&self) -> &'m str {
        self.v.get("http").and_then(|h| h.get("requestUri")).and_then(Value::as_str).unwrap_or("/")
    }

    /// What the operation says of request checksums (its `httpChecksum`
    /// trait, or the older `httpChecksumRequired`), if anything.
    pub fn http_checksum(&self) -> Option<ChecksumTrait<'m>> {
        let required_of_old = self.v.get("httpChecksumRequired").and_then(Value::as_bool) == Some(true);
        let checksum = self.v.get("httpChecksum");
        let algorithm_member = checksum.and_then(|c| c.get("requestAlgorithmMember")).and_then(Value::as_str);
        let required = required_of_old
            || checksum.and_then(|c| c.get("requestChecksumRequired")).and_then(Value::as_bool) == Some(true);
        (algorithm_member.is_some() || required).then_some(ChecksumTrait { algorithm_member, required })
    }
}

/// What an operation's model says of request checksums.
#[derive(Clone, Copy, Debug)]
pub struct ChecksumTrait<'m> {
    /// The input member that names the algorithm (S3's `ChecksumAlgorithm`).
    pub algorithm_member: Option<&'m str>,
    /// Whether the service refuses a request without a checksum.
    pub required: bool,
}

impl<'m> Shape<'m> {
    /// `structure`, `list`, `map`, `string`, `integer`, `long`, `boolean`,
    /// `double`, `float`, `blob`, `timestamp`.
    pub fn kind(&self) -> &'m str {
        self.v.get("type").and_then(Value::as_str).unwrap_or("structure")
    }

    pub fn members(&self) -> impl Iterator<Item = Member<'m>> {
        self.v
            .get("members")
            .and_then(Value::as_object)
            .into_iter()
            .flat_map(|m| m.iter().map(|(name, v)| Member { name: name.as_str(), v }))
    }

    pub fn member(&self, name: &str) -> Option<Member<'m>> {
        let (name, v) = self.v.get("members")?.as_object()?.get_key_value(name)?;
        Some(Member { name: name.as_str(), v })
    }

    pub fn required(&self) -> impl Iterator<Item = &'m str> {
        self.v.get("required").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str)
    }

    fn part(&self, key: &'static str) -> Option<Member<'m>> {
        Some(Member { name: key, v: self.v.get(key)? })
    }

    /// A list's item.
    pub fn item(&self) -> Option<Member<'m>> {
        self.part("member")
    }

    pub fn key(&self) -> Option<Member<'m>> {
        self.part("key")
    }

    pub fn value(&self) -> Option<Member<'m>> {
        self.part("value")
    }

    pub fn flattened(&self) -> bool {
        self.v.get("flattened").and_then(Value::as_bool).unwrap_or(false)
    }

    /// An error shape's code, when it differs from its name.
    pub fn error_code(&self) -> Option<&'m str> {
        self.v.get("error")?.get("code")?.as_str()
    }

    pub fn is_exception(&self) -> bool {
        self.v.get("exception").and_then(Value::as_bool).unwrap_or(false)
    }

    pub fn timestamp_format(&self) -> Option<&'m str> {
        self.v.get("timestampFormat")?.as_str()
    }

    /// The structure member that is the HTTP body (rest protocols).
    pub fn payload(&self) -> Option<&'m str> {
        self.v.get("payload")?.as_str()
    }

    pub fn location_name(&self) -> Option<&'m str> {
        self.v.get("locationName")?.as_str()
    }

    pub fn is_document(&self) -> bool {
        self.v.get("document").and_then(Value::as_bool).unwrap_or(false)
    }

    pub fn is_streaming(&self) -> bool {
        self.v.get("streaming").and_then(Value::as_bool).unwrap_or(false)
    }

    /// Its `min` or `max` constraint: a length for strings and lists, a value for numbers.
    pub fn bound(&self, key: &str) -> Option<&'m orderflow_value::Number> {
        match self.v.get(key)? {
            Value::Number(n) => Some(n),
            _ => None,
        }
    }

    /// The values an enum string may take, in the model's order.
    pub fn enum_values(&self) -> Option<impl Iterator<Item = &'m str>> {
        Some(self.v.get("enum")?.as_array()?.iter().filter_map(Value::as_str))
    }

    /// Its values are not shown in messages (an execution's input, a task token).
    pub fn is_sensitive(&self) -> bool {
        self.v.get("sensitive").and_then(Value::as_bool).unwrap_or(false)
    }
}

impl<'m> Member<'m> {
    fn text(&self, key: &str) -> Option<&'m str> {
        self.v.get(key)?.as_str()
    }

    /// The name on the wire: its `locationName`, else its own.
    pub fn wire_name(&self) -> &'m str {
        self.text("locationName").unwrap_or(self.name)
    }

    /// Where a rest protocol puts it: `header`, `headers`, `uri`, `querystring`, `statusCode`; None for the body.
    pub fn location(&self) -> Option<&'m str> {
        self.text("location")
    }

    pub fn location_name(&self) -> Option<&'m str> {
        self.text("locationName")
    }

    pub fn flattened(&self) -> bool {
        self.v.get("flattened").and_then(Value::as_bool).unwrap_or(false)
    }

    /// Its length is measured in bytes of UTF-8 (its documentation says so:
    /// an execution's input, a task's output).
    pub fn length_in_bytes(&self) -> bool {
        self.v.get("lengthInBytes").and_then(Value::as_bool).unwrap_or(false)
    }

    pub fn is_xml_attribute(&self) -> bool {
        self.v.get("xmlAttribute").and_then(Value::as_bool).unwrap_or(false)
    }

    pub fn is_json_value(&self) -> bool {
        self.v.get("jsonvalue").and_then(Value::as_bool).unwrap_or(false)
    }

    pub fn is_idempotency_token(&self) -> bool {
        self.v.get("idempotencyToken").and_then(Value::as_bool).unwrap_or(false)
    }

    pub fn timestamp_format(&self) -> Option<&'m str> {
        self.text("timestampFormat")
    }
}
