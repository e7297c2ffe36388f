//! The console in `orderflow serve`, on the same port as the API: `GET /`
//! and the pages under it (`/state-machines/<ARN>`, `/executions/<ARN>`,
//! `/map-runs/<ARN>`, each ARN percent-encoded) are one page whose script reads the API the
//! AWS CLI uses (`POST /` with `X-Amz-Target`); `GET /console/graph?arn=`
//! gives a state machine's graph, laid out (graph.rs), for it to draw.
//!
//! Every asset is in the binary: no CDN, no network. The page shows user
//! data (names, inputs, outputs, causes, definitions) as text, never as
//! HTML; its Content-Security-Policy allows its own script and style and
//! nothing inline or from elsewhere.
#![forbid(unsafe_code)]

pub mod graph;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use bytes::Bytes;
use orderflow_server::{Page, Pages, Service};
use serde_json::{Value, json};

const INDEX: &str = include_str!("../assets/index.html");
const SCRIPT: &str = include_str!("../assets/console.js");
const STYLE: &str = include_str!("../assets/console.css");

/// Only this page's own script and style, nothing inline, no other origin, no frames.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// The console's pages.
pub struct Console;

fn page(status: u16, content_type: &'static str, body: impl Into<Bytes>) -> Page {
    Page {
        status,
        content_type,
        headers: vec![
            ("content-security-policy", CSP.to_owned()),
            ("x-content-type-options", "nosniff".to_owned()),
            ("referrer-policy", "no-referrer".to_owned()),
            ("x-frame-options", "DENY".to_owned()),
            ("cache-control", "no-store".to_owned()),
        ],
        body: body.into(),
    }
}

fn json_page(status: u16, value: &Value) -> Page {
    page(status, "application/json", value.to_string())
}

/// `%XX` escapes and `+` of a query value decoded (bad escapes kept as they are).
fn decode(text: &str) -> String {
    percent_encoding::percent_decode_str(&text.replace('+', " ")).decode_utf8_lossy().into_owned()
}

fn query_value(query: &str, key: &str) -> Option<String> {
    query.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        (k == key).then(|| decode(v))
    })
}

/// The graph of the state machine `arn` names, or of the revision an execution ran.
async fn graph_of(service: &Arc<Service>, arn: &str) -> Result<Value, (u16, String)> {
    let (operation, request) = if arn.contains(":execution:") || arn.contains(":express:") {
        ("DescribeStateMachineForExecution", json!({"executionArn": arn}))
    } else {
        ("DescribeStateMachine", json!({"stateMachineArn": arn}))
    };
    let described = service
        .call(operation, request.to_string().as_bytes())
        .await
        .map_err(|e| (404, format!("{}: {}", e.code, e.message)))?;
    let definition = described["definition"].as_str().unwrap_or_default();
    let parsed = orderflow_value::parse(definition).map_err(|e| (500, e.to_string()))?;
    let machine = orderflow_asl::compile::parse_unchecked(&parsed).map_err(|e| (500, e.to_string()))?;
    Ok(graph::graph(&machine).to_json())
}

impl Pages for Console {
    fn get<'a>(
        &'a self,
        service: &'a Arc<Service>,
        path: &'a str,
        query: &'a str,
    ) -> Pin<Box<dyn Future<Output = Option<Page>> + Send + 'a>> {
        Box::pin(async move {
            Some(match path {
                "/" => page(200, "text/html; charset=utf-8", INDEX),
                p if ["/state-machines/", "/executions/", "/map-runs/"].iter().any(|prefix| p.starts_with(prefix)) => {
                    page(200, "text/html; charset=utf-8", INDEX)
                }
                "/assets/console.js" => page(200, "text/javascript; charset=utf-8", SCRIPT),
                "/assets/console.css" => page(200, "text/css; charset=utf-8", STYLE),
                "/console/graph" => match query_value(query, "arn") {
                    None => json_page(400, &json!({"message": "arn is required"})),
                    Some(arn) => match graph_of(service, &arn).await {
                        Ok(graph) => json_page(200, &graph),
                        Err((status, message)) => json_page(status, &json!({"message": message})),
                    },
                },
                _ => return None,
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_values_are_decoded() {
        let q = "arn=arn%3Aaws%3Astates%3Aus-east-1%3A123456789012%3AstateMachine%3Aa%2Bb&x=1";
        assert_eq!(query_value(q, "arn").as_deref(), Some("arn:aws:states:us-east-1:123456789012:stateMachine:a+b"));
        assert_eq!(query_value(q, "x").as_deref(), Some("1"));
        assert_eq!(query_value(q, "y"), None);
        assert_eq!(decode("100%"), "100%");
        assert_eq!(decode("%zz%41"), "%zzA");
    }
}
