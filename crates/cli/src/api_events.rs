//! A template's REST API methods that start its state machines (a SAM state
//! machine's `Api` events), served while `serve` runs, on 127.0.0.1, at the
//! paths the template gives (no stage), as `sam local start-api` serves an
//! API. A request goes through what SAM writes for the event: API Gateway's
//! request template, `{"input": "$util.escapeJavaScript($input.json('$'))",
//! "stateMachineArn": ...}` (with `UnescapeMappingTemplate`, its `\'`
//! unescaped), sent to StartExecution, whose answer is passed through for
//! 200 and 400; any other answer is API Gateway's 500 `Internal server
//! error`, and a path or method the API does not have its 403 `Missing
//! Authentication Token`.

use std::sync::Arc;

use orderflow_definition::StackRoute;
use orderflow_emulator::http::{Request, Response};
use orderflow_server::Service;
use tokio::task::JoinHandle;

/// The API, served until this is dropped.
pub struct ApiServer {
    /// `http://127.0.0.1:PORT`.
    pub address: String,
    /// A line for each route: its method, URL and state machine.
    pub routes: Vec<String>,
    task: JoinHandle<()>,
}

impl Drop for ApiServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Serves `routes` on 127.0.0.1:`port` (0: any free port); a line for each
/// route not served, with why. None when there is no route to serve.
pub async fn start(routes: &[StackRoute], server: &Arc<Service>, port: u16) -> (Option<ApiServer>, Vec<String>) {
    let mut said = Vec::new();
    let mut served = Vec::new();
    for route in routes {
        match &route.problem {
            Some(problem) => said.push(format!("{} ({}): not served: {problem}", route.logical_id, route.machine)),
            None => served.push(route.clone()),
        }
    }
    if served.is_empty() {
        return (None, said);
    }
    let listener = match tokio::net::TcpListener::bind(("127.0.0.1", port)).await {
        Ok(listener) => listener,
        Err(e) => {
            said.push(format!("the template's API is not served: cannot listen on 127.0.0.1:{port}: {e} (--api-port)"));
            return (None, said);
        }
    };
    let address = listener.local_addr().map_or_else(|_| format!("http://127.0.0.1:{port}"), |a| format!("http://{a}"));
    let lines = served
        .iter()
        .map(|route| {
            format!("{} {address}{} starts {} ({})", route.method, route.path, route.machine, route.logical_id)
        })
        .collect();
    let (routes, server) = (Arc::new(served), server.clone());
    let task = tokio::spawn(orderflow_emulator::http::serve(listener, move |request| {
        let (routes, server) = (routes.clone(), server.clone());
        async move { answer(&routes, &server, request).await }
    }));
    (Some(ApiServer { address, routes: lines, task }), said)
}

fn json(status: u16, body: impl Into<Vec<u8>>) -> Response {
    Response::new(status, body).header("content-type", "application/json")
}

async fn answer(routes: &[StackRoute], server: &Arc<Service>, request: Request) -> Response {
    let route =
        routes.iter().find(|r| (r.method == "ANY" || r.method == request.method) && matches(&r.path, &request.path));
    let Some(route) = route else {
        return json(403, r#"{"message":"Missing Authentication Token"}"#)
            .header("x-amzn-errortype", "MissingAuthenticationTokenException");
    };
    let machine = server.config.state_machine_arn(&route.machine);
    let call = start_execution_request(&request.body, &machine, route.unescape);
    match server.call("StartExecution", call.as_bytes()).await {
        Ok(started) => json(200, started.to_string()),
        Err(error) if error.status() == 400 => json(400, error.body().to_string()),
        Err(_) => json(500, r#"{"message": "Internal server error"}"#),
    }
}

/// What API Gateway sends StartExecution by SAM's request template.
fn start_execution_request(body: &[u8], machine: &str, unescape: bool) -> String {
    let mut input = escape_javascript(&input_json(body));
    if unescape {
        input = input.replace("\\'", "'");
    }
    format!(r#"{{"input": "{input}", "stateMachineArn": "{machine}"}}"#)
}

/// `$input.json('$')`: the body's JSON, written compactly; `{}` for no body;
/// a body that is not JSON, as it is.
fn input_json(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    if text.trim().is_empty() {
        return "{}".into();
    }
    orderflow_value::parse(&text).map_or_else(|_| text.into_owned(), |value| value.to_json())
}

/// `$util.escapeJavaScript`: JavaScript's string escapes, a single quote and a
/// forward slash among them, and `\uXXXX` for control and non-ASCII characters.
fn escape_javascript(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\'' => out.push_str("\\'"),
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '/' => out.push_str("\\/"),
            '\u{8}' => out.push_str("\\b"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\u{c}' => out.push_str("\\f"),
            '\r' => out.push_str("\\r"),
            c if c.is_ascii() && !c.is_ascii_control() => out.push(c),
            c => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    out.push_str(&format!("\\u{unit:04X}"));
                }
            }
        }
    }
    out
}

/// Whether `path` is one of `pattern`'s (`/orders/{id}`, `/files/{proxy+}`).
fn matches(pattern: &str, path: &str) -> bool {
    let mut wanted = pattern.trim_matches('/').split('/').filter(|s| !s.is_empty());
    let mut given = path.trim_matches('/').split('/').filter(|s| !s.is_empty());
    loop {
        match (wanted.next(), given.next()) {
            (None, None) => return true,
            (Some(segment), Some(_)) if segment.starts_with('{') && segment.ends_with("+}") => return true,
            (Some(segment), Some(_)) if segment.starts_with('{') && segment.ends_with('}') => {}
            (Some(segment), Some(part)) if segment == part => {}
            _ => return false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{escape_javascript, matches, start_execution_request};

    #[test]
    fn paths_match_as_api_gateway_matches_them() {
        assert!(matches("/orders", "/orders"));
        assert!(matches("/orders", "/orders/"));
        assert!(!matches("/orders", "/Orders"));
        assert!(!matches("/orders", "/orders/1"));
        assert!(matches("/orders/{id}", "/orders/1"));
        assert!(!matches("/orders/{id}", "/orders"));
        assert!(matches("/files/{proxy+}", "/files/a/b/c"));
        assert!(!matches("/files/{proxy+}", "/files"));
        assert!(matches("/", "/"));
    }

    #[test]
    fn the_request_template_escapes_as_api_gateway_does() {
        assert_eq!(
            escape_javascript("it's \"a/b\"\\\n\u{1}é😀"),
            "it\\'s \\\"a\\/b\\\"\\\\\\n\\u0001\\u00E9\\uD83D\\uDE00"
        );
        let machine = "arn:aws:states:us-east-1:123456789012:stateMachine:m";
        // The body, re-written compactly, as the execution's input.
        let sent = start_execution_request(br#"{ "name" : "Ada", "n": [1, 2] }"#, machine, false);
        let request: serde_json::Value = serde_json::from_str(&sent).unwrap();
        assert_eq!(request["input"], r#"{"name":"Ada","n":[1,2]}"#);
        assert_eq!(request["stateMachineArn"], machine);
        // No body: an empty object.
        let sent = start_execution_request(b"", machine, false);
        assert_eq!(serde_json::from_str::<serde_json::Value>(&sent).unwrap()["input"], "{}");
        // A single quote breaks the request's JSON, as on AWS, unless unescaped.
        let quoted = br#"{"name": "O'Hara"}"#;
        assert!(serde_json::from_str::<serde_json::Value>(&start_execution_request(quoted, machine, false)).is_err());
        let sent = start_execution_request(quoted, machine, true);
        assert_eq!(serde_json::from_str::<serde_json::Value>(&sent).unwrap()["input"], r#"{"name":"O'Hara"}"#);
    }
}
