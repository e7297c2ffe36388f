//! A Distributed Map over S3 through `orderflow serve`, driven by the AWS
//! CLI: the objects are put in the emulator's S3 with `aws s3api`, one
//! execution reads a JSON Lines object and a CSV object in batches, each
//! Map Run writes its results back to S3, and `list-map-runs`,
//! `describe-map-run`, `list-executions --map-run-arn`, `describe-execution`
//! and `get-execution-history` of a child answer as AWS's do.

#[path = "../../server/tests/support/aws_cli.rs"]
mod aws_cli;
#[path = "support/serve_binary.rs"]
mod serve_binary;

use aws_cli::{aws_text, machine, ok, on_moto, started};
use serde_json::{Value, json};
use serve_binary::{address, ended, moto_of, put_object, serve};

const LINES: usize = 1_000;
const ROWS: usize = 450;

/// `body` put at `bucket`/`key` in moto.
fn put(moto: &str, bucket: &str, key: &str, body: &str) {
    put_object(moto, bucket, key, body.as_bytes());
}

/// The object at `bucket`/`key`, read back by `aws s3 cp … -`.
fn object(moto: &str, bucket: &str, key: &str) -> String {
    let (code, out, err) = aws_text(moto, "s3", &["cp", &format!("s3://{bucket}/{key}"), "-"]);
    assert_eq!(code, 0, "s3 cp s3://{bucket}/{key}: {err}");
    out
}

fn definition() -> Value {
    let child = |name: &str, result: Value| {
        json!({
            "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
            "StartAt": name,
            "States": {name: {"Type": "Pass", "Parameters": result, "End": true}}
        })
    };
    json!({
        "StartAt": "Lines",
        "States": {
            "Lines": {
                "Type": "Map",
                "Label": "Lines",
                "ItemReader": {
                    "Resource": "arn:aws:states:::s3:getObject",
                    "ReaderConfig": {"InputType": "JSONL"},
                    "Parameters": {"Bucket.$": "$.bucket", "Key": "orders.jsonl"}
                },
                "ItemBatcher": {"MaxItemsPerBatch": 100, "BatchInput": {"source": "jsonl"}},
                "MaxConcurrency": 4,
                "ItemProcessor": child("Count", json!({
                    "source.$": "$.BatchInput.source",
                    "count.$": "States.ArrayLength($.Items)",
                    "first.$": "$.Items[0].id"
                })),
                "ResultWriter": {
                    "Resource": "arn:aws:states:::s3:putObject",
                    "Parameters": {"Bucket": "results", "Prefix": "jsonl"}
                },
                "ResultPath": "$.lines",
                "Next": "Rows"
            },
            "Rows": {
                "Type": "Map",
                "Label": "Rows",
                "ItemReader": {
                    "Resource": "arn:aws:states:::s3:getObject",
                    "ReaderConfig": {"InputType": "CSV", "CSVHeaderLocation": "FIRST_ROW", "MaxItems": 400},
                    "Parameters": {"Bucket.$": "$.bucket", "Key": "rows.csv"}
                },
                "ItemBatcher": {"MaxItemsPerBatch": 25},
                "ToleratedFailurePercentage": 5,
                "ItemProcessor": child("Keep", json!({"skus.$": "$.Items[*].sku", "notes.$": "$.Items[*].note"})),
                "ResultWriter": {
                    "Resource": "arn:aws:states:::s3:putObject",
                    "Parameters": {"Bucket": "results", "Prefix": "csv"}
                },
                "ResultPath": "$.rows",
                "End": true
            }
        }
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_distributed_map_reads_jsonl_and_csv_from_s3_in_batches_and_writes_its_results() {
    let dir = std::env::temp_dir().join(format!("orderflow-dmap-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let serve = serve(&dir, &[]);
    let endpoint = address(&serve);
    let moto = moto_of(&serve);

    // The data, put in the emulator's S3 by the AWS CLI.
    on_moto(&moto, "s3api", &["create-bucket", "--bucket", "data"]);
    on_moto(&moto, "s3api", &["create-bucket", "--bucket", "results"]);
    let lines: String = (0..LINES).map(|i| format!("{{\"id\": {i}, \"qty\": {}}}\n", i % 7)).collect();
    put(&moto, "data", "orders.jsonl", &lines);
    // Quoted fields with the delimiter, a doubled quote and a line break in them.
    let mut csv = String::from("sku,note\r\n");
    for i in 0..ROWS {
        csv.push_str(&format!("S-{i},\"a, \"\"quoted\"\"\nnote {i}\"\r\n"));
    }
    put(&moto, "data", "rows.csv", &csv);

    let arn = machine(&endpoint, "Batches", &definition().to_string());
    let execution = started(&endpoint, &arn, r#"{"bucket": "data"}"#);
    let described = ended(&endpoint, &execution).await;
    assert_eq!(described["status"], "SUCCEEDED", "{described}");
    let output: Value = serde_json::from_str(described["output"].as_str().unwrap()).unwrap();

    // Two Map Runs, each named by its Label, each with its counts.
    let runs = ok(&endpoint, &["list-map-runs", "--execution-arn", &execution]);
    let runs = runs["mapRuns"].as_array().unwrap();
    assert_eq!(runs.len(), 2, "{runs:?}");
    for (label, prefix, items, children) in [("Lines", "jsonl", LINES, 10), ("Rows", "csv", 400, 16)] {
        let run = runs.iter().find(|r| r["stateMachineArn"].as_str().unwrap().ends_with(&format!("/{label}"))).unwrap();
        let map_run = run["mapRunArn"].as_str().unwrap();
        assert!(map_run.starts_with(&format!("{}/{label}:", arn.replace(":stateMachine:", ":mapRun:"))), "{map_run}");
        assert_eq!(run["executionArn"], execution);
        assert!(run["stopDate"].is_number(), "{run}");

        let state = &output[label.to_lowercase()];
        assert_eq!(state["MapRunArn"], map_run, "{output}");
        let manifest_key = state["ResultWriterDetails"]["Key"].as_str().unwrap();
        assert_eq!(state["ResultWriterDetails"]["Bucket"], "results");
        let id = map_run.rsplit(':').next().unwrap();
        assert_eq!(manifest_key, format!("{prefix}/{id}/manifest.json"));

        let d = ok(&endpoint, &["describe-map-run", "--map-run-arn", map_run]);
        assert_eq!(d["status"], "SUCCEEDED", "{d}");
        assert_eq!(d["executionArn"], execution);
        for (counts, total) in [("itemCounts", items), ("executionCounts", children)] {
            let c = &d[counts];
            assert_eq!(c["total"], total, "{counts} {d}");
            assert_eq!(c["succeeded"], total, "{counts} {d}");
            assert_eq!(c["resultsWritten"], total, "{counts} {d}");
            for zero in ["pending", "running", "failed", "timedOut", "aborted"] {
                assert_eq!(c[zero], 0, "{counts}.{zero} {d}");
            }
        }

        // Its child executions, listed and described.
        let listed = ok(&endpoint, &["list-executions", "--map-run-arn", map_run]);
        let listed = listed["executions"].as_array().unwrap();
        assert_eq!(listed.len(), children, "{listed:?}");
        let counted: u64 = listed.iter().map(|e| e["itemCount"].as_u64().unwrap()).sum();
        assert_eq!(counted, items as u64);
        for e in listed {
            assert_eq!(e["status"], "SUCCEEDED");
            assert_eq!(e["mapRunArn"], map_run);
            assert_eq!(e["stateMachineArn"], format!("{arn}/{label}"));
        }
        let child = listed[0]["executionArn"].as_str().unwrap();
        let c = ok(&endpoint, &["describe-execution", "--execution-arn", child]);
        assert_eq!(c["mapRunArn"], map_run, "{c}");
        assert_eq!(c["stateMachineArn"], format!("{arn}/{label}"));
        let child_input: Value = serde_json::from_str(c["input"].as_str().unwrap()).unwrap();
        assert!(child_input["Items"].is_array(), "{child_input}");
        let history = ok(&endpoint, &["get-execution-history", "--execution-arn", child]);
        let kinds: Vec<&str> =
            history["events"].as_array().unwrap().iter().map(|e| e["type"].as_str().unwrap()).collect();
        assert_eq!(kinds, ["ExecutionStarted", "PassStateEntered", "PassStateExited", "ExecutionSucceeded"]);

        // The results in S3: a manifest naming the files, one entry per child.
        let manifest: Value = serde_json::from_str(&object(&moto, "results", manifest_key)).unwrap();
        assert_eq!(manifest["MapRunArn"], map_run);
        assert_eq!(manifest["DestinationBucket"], "results");
        assert_eq!(manifest["ResultFiles"]["FAILED"], json!([]));
        assert_eq!(manifest["ResultFiles"]["PENDING"], json!([]));
        let files = manifest["ResultFiles"]["SUCCEEDED"].as_array().unwrap();
        assert_eq!(files.len(), 1, "{manifest}");
        let key = files[0]["Key"].as_str().unwrap();
        assert_eq!(key, format!("{prefix}/{id}/SUCCEEDED_0.json"));
        let text = object(&moto, "results", key);
        assert_eq!(files[0]["Size"], text.len(), "{manifest}");
        let results: Vec<Value> = serde_json::from_str(&text).unwrap();
        assert_eq!(results.len(), children);
        for r in &results {
            assert_eq!(r["Status"], "SUCCEEDED");
            assert_eq!(r["StateMachineArn"], format!("{arn}/{label}"));
            assert!(r["ExecutionArn"].as_str().unwrap().contains(&format!(":execution:Batches/{label}:")), "{r}");
        }
        // What the children made of their batches.
        let outputs: Vec<Value> =
            results.iter().map(|r| serde_json::from_str(r["Output"].as_str().unwrap()).unwrap()).collect();
        if label == "Lines" {
            let mut firsts: Vec<u64> = outputs.iter().map(|o| o["first"].as_u64().unwrap()).collect();
            firsts.sort_unstable();
            assert_eq!(firsts, (0..10).map(|b| b * 100).collect::<Vec<u64>>());
            assert!(outputs.iter().all(|o| o["count"] == 100 && o["source"] == "jsonl"), "{outputs:?}");
        } else {
            let skus: usize = outputs.iter().map(|o| o["skus"].as_array().unwrap().len()).sum();
            assert_eq!(skus, 400);
            let note = &outputs[0]["notes"][0];
            assert!(note.as_str().unwrap().starts_with("a, \"quoted\"\nnote "), "{note}");
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// A Map Run that failed, redriven by `aws stepfunctions redrive-execution`:
/// the child that failed is redriven in place (its context's RedriveCount
/// is 1, so this pure-ASL child reads a good text then), those that succeeded are
/// not run again, those never started run now, and the result file lists
/// every child once, by the ARN ListExecutions gives it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redriven_map_run_writes_each_childs_result_once_under_its_own_arn() {
    let dir = std::env::temp_dir().join(format!("orderflow-dmap-redrive-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let serve = serve(&dir, &[]);
    let endpoint = address(&serve);
    let moto = moto_of(&serve);
    on_moto(&moto, "s3api", &["create-bucket", "--bucket", "data"]);
    on_moto(&moto, "s3api", &["create-bucket", "--bucket", "results"]);
    // Item 2's first text is not JSON: its child fails until its redrive reads the second.
    let lines: String = (0..5)
        .map(|i| {
            let first = if i == 2 { "not json" } else { "{}" };
            format!("{{\"id\": {i}, \"texts\": [\"{first}\", \"{{}}\"]}}\n")
        })
        .collect();
    put(&moto, "data", "five.jsonl", &lines);
    let definition = json!({
        "StartAt": "Each",
        "States": {
            "Each": {
                "Type": "Map",
                "MaxConcurrency": 1,
                "ItemReader": {
                    "Resource": "arn:aws:states:::s3:getObject",
                    "ReaderConfig": {"InputType": "JSONL"},
                    "Parameters": {"Bucket": "data", "Key": "five.jsonl"}
                },
                "ItemProcessor": {
                    "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                    "StartAt": "Read",
                    "States": {
                        "Read": {
                            "Type": "Pass",
                            "Parameters": {
                                "id.$": "$.id",
                                "text.$": "States.StringToJson(States.ArrayGetItem($.texts, $$.Execution.RedriveCount))"
                            },
                            "End": true
                        }
                    }
                },
                "ResultWriter": {"Resource": "arn:aws:states:::s3:putObject", "Parameters": {"Bucket": "results", "Prefix": "redrive"}},
                "End": true
            }
        }
    });
    let arn = machine(&endpoint, "Redriven", &definition.to_string());
    let execution = started(&endpoint, &arn, "{}");
    let failed = ended(&endpoint, &execution).await;
    assert_eq!(failed["status"], "FAILED", "{failed}");
    let map_run = ok(&endpoint, &["list-map-runs", "--execution-arn", &execution])["mapRuns"][0]["mapRunArn"]
        .as_str()
        .unwrap()
        .to_owned();
    let children_before = ok(&endpoint, &["list-executions", "--map-run-arn", &map_run]);
    assert_eq!(children_before["executions"].as_array().unwrap().len(), 3, "{children_before}");

    ok(&endpoint, &["redrive-execution", "--execution-arn", &execution]);
    let done = ended(&endpoint, &execution).await;
    let after = ok(&endpoint, &["list-executions", "--map-run-arn", &map_run]);
    assert_eq!(done["status"], "SUCCEEDED", "{done} {after} {children_before}");

    let listed = ok(&endpoint, &["list-executions", "--map-run-arn", &map_run]);
    let mut listed: Vec<String> = listed["executions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["executionArn"].as_str().unwrap().to_owned())
        .collect();
    listed.sort();
    assert_eq!(listed.len(), 5, "{listed:?}");
    let output: Value = serde_json::from_str(done["output"].as_str().unwrap()).unwrap();
    let manifest: Value =
        serde_json::from_str(&object(&moto, "results", output["ResultWriterDetails"]["Key"].as_str().unwrap()))
            .unwrap();
    let mut written: Vec<(String, Value)> = Vec::new();
    for file in manifest["ResultFiles"]["SUCCEEDED"].as_array().unwrap() {
        let results: Vec<Value> =
            serde_json::from_str(&object(&moto, "results", file["Key"].as_str().unwrap())).unwrap();
        for r in results {
            let out: Value = serde_json::from_str(r["Output"].as_str().unwrap()).unwrap();
            written.push((r["ExecutionArn"].as_str().unwrap().to_owned(), out["id"].clone()));
        }
    }
    written.sort_by(|a, b| a.0.cmp(&b.0));
    let arns: Vec<String> = written.iter().map(|(arn, _)| arn.clone()).collect();
    assert_eq!(arns, listed, "each child's result once, under the ARN it is listed by");
    let mut ids: Vec<i64> = written.iter().map(|(_, id)| id.as_i64().unwrap()).collect();
    ids.sort_unstable();
    assert_eq!(ids, [0, 1, 2, 3, 4]);
    assert_eq!(manifest["ResultFiles"]["FAILED"], json!([]), "{manifest}");
    let _ = std::fs::remove_dir_all(&dir);
}
