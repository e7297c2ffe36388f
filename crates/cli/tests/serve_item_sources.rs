//! The Distributed Map readers beyond plain text, through `orderflow serve`
//! against the emulator's S3, with the objects put by the AWS CLI: an S3
//! inventory (its `manifest.json` and gzipped CSV files, in the form the
//! developer guide shows), an Athena UNLOAD manifest of Parquet files, and
//! a bucket listing of gzipped and plain JSON Lines objects read with
//! LOAD_AND_FLATTEN, and an older version of an object named by VersionId.
//! Each runs to SUCCEEDED, each item as AWS documents it.

#[path = "../../server/tests/support/aws_cli.rs"]
mod aws_cli;
#[path = "support/serve_binary.rs"]
mod serve_binary;

use std::io::Write;
use std::sync::Arc;

use aws_cli::{machine, ok, on_moto, started};
use parquet::basic::Compression;
use parquet::data_type::{ByteArray, ByteArrayType, DoubleType, Int64Type};
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::parser::parse_message_type;
use serde_json::{Value, json};
use serve_binary::{address, ended, moto_of, put_object, serve};

/// `body` put at `bucket`/`key` in moto: its answer.
fn put(moto: &str, bucket: &str, key: &str, body: &[u8]) -> Value {
    put_object(moto, bucket, key, body)
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

/// An Athena UNLOAD's Parquet file: readings `first..first + rows`, two to a row group.
fn readings(first: i64, rows: i64) -> Vec<u8> {
    let schema = Arc::new(
        parse_message_type(
            "message reading { required binary deviceid (UTF8); required double temperature; required int64 seq; }",
        )
        .unwrap(),
    );
    let properties = Arc::new(WriterProperties::builder().set_compression(Compression::SNAPPY).build());
    let mut writer = SerializedFileWriter::new(Vec::new(), schema, properties).unwrap();
    let mut at = first;
    while at < first + rows {
        let seqs: Vec<i64> = (at..(at + 2).min(first + rows)).collect();
        at += 2;
        let mut group = writer.next_row_group().unwrap();
        let mut column = 0;
        while let Some(mut writer) = group.next_column().unwrap() {
            match column {
                0 => {
                    let ids: Vec<ByteArray> =
                        seqs.iter().map(|s| ByteArray::from(format!("d-{}", s % 3).as_str())).collect();
                    writer.typed::<ByteArrayType>().write_batch(&ids, None, None).unwrap();
                }
                1 => {
                    let t: Vec<f64> = seqs.iter().map(|s| 20.0 + *s as f64 / 4.0).collect();
                    writer.typed::<DoubleType>().write_batch(&t, None, None).unwrap();
                }
                _ => {
                    writer.typed::<Int64Type>().write_batch(&seqs, None, None).unwrap();
                }
            }
            writer.close().unwrap();
            column += 1;
        }
        group.close().unwrap();
    }
    writer.into_inner().unwrap()
}

fn child(name: &str, parameters: Value) -> Value {
    json!({
        "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "EXPRESS"},
        "StartAt": name,
        "States": {name: {"Type": "Pass", "Parameters": parameters, "End": true}}
    })
}

fn definition() -> Value {
    json!({
        "StartAt": "Inventory",
        "States": {
            "Inventory": {
                "Type": "Map",
                "ItemReader": {
                    "Resource": "arn:aws:states:::s3:getObject",
                    "ReaderConfig": {"ManifestType": "S3_INVENTORY"},
                    "Parameters": {"Bucket": "inventory", "Key": "source/config/2026-12-06T00-00Z/manifest.json"}
                },
                "ItemProcessor": child("Object", json!({"key.$": "$.Key", "size.$": "$.Size", "bucket.$": "$.Bucket"})),
                "ResultPath": "$.inventory",
                "Next": "Legacy"
            },
            "Legacy": {
                "Type": "Map",
                "ItemReader": {
                    "Resource": "arn:aws:states:::s3:getObject",
                    "ReaderConfig": {"InputType": "MANIFEST", "MaxItems": 2},
                    "Parameters": {"Bucket": "inventory", "Key": "source/config/2026-12-06T00-00Z/manifest.json"}
                },
                "ItemProcessor": child("Key", json!({"key.$": "$.Key"})),
                "ResultPath": "$.legacy",
                "Next": "Athena"
            },
            "Athena": {
                "Type": "Map",
                "ItemReader": {
                    "Resource": "arn:aws:states:::s3:getObject",
                    "ReaderConfig": {"ManifestType": "ATHENA_DATA", "InputType": "PARQUET"},
                    "Parameters": {"Bucket": "athena", "Key": "unload/q-1-manifest.csv"}
                },
                "ItemBatcher": {"MaxItemsPerBatch": 4},
                "ItemProcessor": child("Batch", json!({"seqs.$": "$.Items[*].seq", "hot.$": "$.Items[?(@.temperature > 21)].deviceid"})),
                "ResultPath": "$.athena",
                "Next": "Flattened"
            },
            "Flattened": {
                "Type": "Map",
                "ItemReader": {
                    "Resource": "arn:aws:states:::s3:listObjectsV2",
                    "ReaderConfig": {"InputType": "JSONL", "Transformation": "LOAD_AND_FLATTEN"},
                    "Parameters": {"Bucket": "athena", "Prefix": "json/"}
                },
                "ItemProcessor": child("Line", json!({"n.$": "$.n"})),
                "ResultPath": "$.flattened",
                "Next": "Versioned"
            },
            "Versioned": {
                "Type": "Map",
                "ItemReader": {
                    "Resource": "arn:aws:states:::s3:getObject",
                    "ReaderConfig": {"InputType": "JSONL"},
                    "Parameters": {"Bucket": "versions", "Key": "items.jsonl", "VersionId.$": "$.first"}
                },
                "ItemProcessor": child("Version", json!({"v.$": "$.v"})),
                "ResultPath": "$.versioned",
                "End": true
            }
        }
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inventories_athena_manifests_parquet_and_compressed_files_are_read_as_aws_documents() {
    let dir = std::env::temp_dir().join(format!("orderflow-sources-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let serve = serve(&dir, &[]);
    let endpoint = address(&serve);
    let moto = moto_of(&serve);
    for bucket in ["inventory", "athena", "versions"] {
        on_moto(&moto, "s3api", &["create-bucket", "--bucket", bucket]);
    }
    on_moto(
        &moto,
        "s3api",
        &["put-bucket-versioning", "--bucket", "versions", "--versioning-configuration", "Status=Enabled"],
    );

    // An S3 inventory as S3 writes one: the manifest, and gzipped CSV files without a header.
    let manifest = json!({
        "sourceBucket": "source",
        "destinationBucket": "arn:aws:s3:::inventory",
        "version": "2016-11-30",
        "creationTimestamp": "1765000000000",
        "fileFormat": "CSV",
        "fileSchema": "Bucket, Key, Size, LastModifiedDate",
        "files": [
            {"key": "source/config/data/a.csv.gz", "size": 0, "MD5checksum": "0"},
            {"key": "source/config/data/b.csv.gz", "size": 0, "MD5checksum": "0"}
        ]
    });
    put(&moto, "inventory", "source/config/2026-12-06T00-00Z/manifest.json", manifest.to_string().as_bytes());
    put(
        &moto,
        "inventory",
        "source/config/data/a.csv.gz",
        &gzip(b"\"source\",\"csvDataset/\",\"0\",\"2026-12-01T00:27:19.000Z\"\n\"source\",\"csvDataset/titles.csv\",\"3399671\",\"2026-12-01T00:29:32.000Z\"\n"),
    );
    put(
        &moto,
        "inventory",
        "source/config/data/b.csv.gz",
        &gzip(b"\"source\",\"images/1.jpg\",\"27034\",\"2026-12-01T20:02:16.000Z\"\n"),
    );

    // An Athena UNLOAD to Parquet: its manifest lists two files (no extension, as Athena names them).
    put(&moto, "athena", "unload/q-1-manifest.csv", b"s3://athena/unload/q-1_part0\ns3://athena/unload/q-1_part1\n");
    put(&moto, "athena", "unload/q-1_part0", &readings(0, 5));
    put(&moto, "athena", "unload/q-1_part1", &readings(5, 6));

    // JSON Lines objects, one gzipped, one plain.
    put(&moto, "athena", "json/1.jsonl.gz", &gzip(b"{\"n\":1}\n{\"n\":2}\n"));
    put(&moto, "athena", "json/2.jsonl", b"{\"n\":3}\n");

    // Two versions of one object: the reader reads the one its VersionId names.
    let first = put(&moto, "versions", "items.jsonl", b"{\"v\":\"first\"}\n");
    put(&moto, "versions", "items.jsonl", b"{\"v\":\"second\"}\n");
    let first = first["VersionId"].as_str().expect("a versioned bucket answers with a VersionId").to_owned();

    let arn = machine(&endpoint, "Sources", &definition().to_string());
    let execution = started(&endpoint, &arn, &json!({"first": first}).to_string());
    let described = ended(&endpoint, &execution).await;
    assert_eq!(described["status"], "SUCCEEDED", "{described}");
    let output: Value = serde_json::from_str(described["output"].as_str().unwrap()).unwrap();

    // Every inventory row an item, its fields strings, as the developer guide shows.
    assert_eq!(
        output["inventory"],
        json!([
            {"key": "csvDataset/", "size": "0", "bucket": "source"},
            {"key": "csvDataset/titles.csv", "size": "3399671", "bucket": "source"},
            {"key": "images/1.jpg", "size": "27034", "bucket": "source"}
        ])
    );
    assert_eq!(output["legacy"], json!([{"key": "csvDataset/"}, {"key": "csvDataset/titles.csv"}]));

    // The Parquet rows of both files, in order, batched by four; doubles compared as numbers.
    let batches = output["athena"].as_array().unwrap();
    let seqs: Vec<i64> =
        batches.iter().flat_map(|b| b["seqs"].as_array().unwrap().iter().map(|s| s.as_i64().unwrap())).collect();
    assert_eq!(seqs, (0..11).collect::<Vec<i64>>());
    assert_eq!(batches.len(), 3);
    assert_eq!(batches[0]["hot"], json!([]), "{output}");
    assert_eq!(batches[1]["hot"], json!(["d-2", "d-0", "d-1"]), "{output}");

    assert_eq!(output["flattened"], json!([{"n": 1}, {"n": 2}, {"n": 3}]));
    assert_eq!(output["versioned"], json!([{"v": "first"}]));

    // The Map Runs count the items read.
    let runs = ok(&endpoint, &["list-map-runs", "--execution-arn", &execution]);
    let mut totals: Vec<u64> = runs["mapRuns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| ok(&endpoint, &["describe-map-run", "--map-run-arn", r["mapRunArn"].as_str().unwrap()])["itemCounts"]["total"].as_u64().unwrap())
        .collect();
    totals.sort_unstable();
    assert_eq!(totals, [1, 2, 3, 3, 11]);
    let _ = std::fs::remove_dir_all(&dir);
}
