//! The readers end to end over an in-memory S3: compressed text files,
//! Parquet files, S3 inventory and Athena manifests.

use std::io::Write;
use std::sync::Arc;

use orderflow_value::{Value, json};
use parquet::basic::{Compression, GzipLevel, ZstdLevel};
use parquet::data_type::{BoolType, ByteArray, ByteArrayType, DoubleType, Int32Type, Int64Type};
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::parser::parse_message_type;

use super::test_s3::TestS3;
use super::{Format, Reader, Source};
use crate::error::{Failure, StatesError};
use crate::executor::ObjectAt;
use crate::model::{CsvDelimiter, CsvHeaders, InputType, ManifestType};

fn format(input_type: InputType) -> Format {
    Format { input_type, headers: CsvHeaders::FirstRow, delimiter: CsvDelimiter::Comma.byte(), items_pointer: None }
}

async fn read_all(s3: &TestS3, source: Source, max: Option<u64>) -> Result<Vec<Value>, Failure> {
    let mut reader = Reader::new(Some(s3), source, max);
    let mut items = Vec::new();
    while let Some(item) = reader.next().await? {
        items.push(item);
    }
    Ok(items)
}

fn run<T>(future: impl std::future::Future<Output = T>) -> T {
    tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(future)
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

/// A Parquet file of `rows` rows, `per_group` to a row group: id, name
/// (null every third row), price, active, day (DATE), at (TIMESTAMP millis)
/// and cents (DECIMAL(10,2)).
pub fn parquet_file(rows: i32, per_group: i32, compression: Compression) -> Vec<u8> {
    let schema = Arc::new(
        parse_message_type(
            "message item {
               required int32 id;
               optional binary name (UTF8);
               required double price;
               required boolean active;
               required int32 day (DATE);
               required int64 at (TIMESTAMP(MILLIS,true));
               required int64 cents (DECIMAL(10,2));
             }",
        )
        .unwrap(),
    );
    let properties = Arc::new(WriterProperties::builder().set_compression(compression).build());
    let mut writer = SerializedFileWriter::new(Vec::new(), schema, properties).unwrap();
    let mut first = 0;
    while first < rows {
        let ids: Vec<i32> = (first..(first + per_group).min(rows)).collect();
        first += per_group;
        let mut group = writer.next_row_group().unwrap();
        let mut column = 0;
        while let Some(mut writer) = group.next_column().unwrap() {
            match column {
                0 => {
                    writer.typed::<Int32Type>().write_batch(&ids, None, None).unwrap();
                }
                1 => {
                    let levels: Vec<i16> = ids.iter().map(|id| i16::from(id % 3 != 2)).collect();
                    let names: Vec<ByteArray> = ids
                        .iter()
                        .filter(|id| *id % 3 != 2)
                        .map(|id| ByteArray::from(format!("item {id}").as_str()))
                        .collect();
                    writer.typed::<ByteArrayType>().write_batch(&names, Some(&levels), None).unwrap();
                }
                2 => {
                    let prices: Vec<f64> = ids.iter().map(|id| f64::from(*id) + 0.5).collect();
                    writer.typed::<DoubleType>().write_batch(&prices, None, None).unwrap();
                }
                3 => {
                    let active: Vec<bool> = ids.iter().map(|id| id % 2 == 0).collect();
                    writer.typed::<BoolType>().write_batch(&active, None, None).unwrap();
                }
                4 => {
                    let days: Vec<i32> = ids.iter().map(|id| 19_000 + id).collect();
                    writer.typed::<Int32Type>().write_batch(&days, None, None).unwrap();
                }
                5 => {
                    let at: Vec<i64> = ids.iter().map(|id| 1_700_000_000_000 + i64::from(*id)).collect();
                    writer.typed::<Int64Type>().write_batch(&at, None, None).unwrap();
                }
                _ => {
                    let cents: Vec<i64> = ids.iter().map(|id| i64::from(*id) * 101 - 250).collect();
                    writer.typed::<Int64Type>().write_batch(&cents, None, None).unwrap();
                }
            }
            writer.close().unwrap();
            column += 1;
        }
        group.close().unwrap();
    }
    writer.into_inner().unwrap()
}

#[test]
fn parquet_rows_are_objects_of_their_columns() {
    for compression in [
        Compression::UNCOMPRESSED,
        Compression::SNAPPY,
        Compression::GZIP(GzipLevel::default()),
        Compression::ZSTD(ZstdLevel::default()),
    ] {
        let s3 = TestS3::default().with("b", "rows.parquet", parquet_file(7, 3, compression));
        let items =
            run(read_all(&s3, Source::object(ObjectAt::new("b", "rows.parquet"), format(InputType::Parquet)), None))
                .unwrap();
        assert_eq!(items.len(), 7, "{compression:?}");
        assert_eq!(
            items[0],
            json!({"id": 0, "name": "item 0", "price": 0.5, "active": true, "day": "2022-01-08",
                   "at": 1_700_000_000_000_i64, "cents": "-2.50"})
        );
        assert_eq!(items[2].get("name"), Some(&Value::Null));
        assert_eq!(items[6].get("cents"), Some(&Value::string("3.56")));
    }
}

#[test]
fn parquet_reads_one_row_group_at_a_time() {
    let file = parquet_file(30_000, 5_000, Compression::UNCOMPRESSED);
    let size = file.len();
    let s3 = TestS3::default().with("b", "big.parquet", file);
    let items = run(read_all(&s3, Source::object(ObjectAt::new("b", "big.parquet"), format(InputType::Parquet)), None))
        .unwrap();
    assert_eq!(items.len(), 30_000);
    assert_eq!(items[29_999].get("id"), Some(&Value::from(29_999)));
    assert!(s3.largest_read() < size / 4, "read {} of {size} bytes at once", s3.largest_read());
}

#[test]
fn parquet_max_items_stops_early() {
    let s3 = TestS3::default().with("b", "p", parquet_file(30, 10, Compression::SNAPPY));
    let items =
        run(read_all(&s3, Source::object(ObjectAt::new("b", "p"), format(InputType::Parquet)), Some(12))).unwrap();
    assert_eq!(items.len(), 12);
}

#[test]
fn a_file_that_is_not_parquet_fails_the_reader() {
    let s3 = TestS3::default().with("b", "p", "id,name\n1,a\n");
    let failure =
        run(read_all(&s3, Source::object(ObjectAt::new("b", "p"), format(InputType::Parquet)), None)).unwrap_err();
    assert_eq!(failure.error, StatesError::ItemReaderFailed.name());
    let cause = failure.cause.unwrap_or_default();
    assert!(cause.contains("not a Parquet file"), "{cause}");
    let mut cut = parquet_file(5, 5, Compression::SNAPPY);
    let end = cut.len() - 8;
    cut[end - 12..end].fill(0xff);
    let s3 = TestS3::default().with("b", "p", cut);
    let failure =
        run(read_all(&s3, Source::object(ObjectAt::new("b", "p"), format(InputType::Parquet)), None)).unwrap_err();
    assert_eq!(failure.error, StatesError::ItemReaderFailed.name());
}

#[test]
fn compressed_text_files_read_as_their_content() {
    let lines: String = (0..1000).map(|i| format!("{{\"n\":{i}}}\n")).collect();
    let csv = "a,b\n1,x\n2,y\n";
    let s3 = TestS3::default()
        .with("b", "items.jsonl.gz", gzip(lines.as_bytes()))
        .with("b", "items.csv.zstd", zstd::stream::encode_all(csv.as_bytes(), 3).unwrap())
        .with("b", "items.json.gz", gzip(b"[1,2,3]"));
    let jsonl =
        run(read_all(&s3, Source::object(ObjectAt::new("b", "items.jsonl.gz"), format(InputType::Jsonl)), None))
            .unwrap();
    assert_eq!(jsonl.len(), 1000);
    assert_eq!(jsonl[999], json!({"n": 999}));
    let rows =
        run(read_all(&s3, Source::object(ObjectAt::new("b", "items.csv.zstd"), format(InputType::Csv)), None)).unwrap();
    assert_eq!(rows, vec![json!({"a": "1", "b": "x"}), json!({"a": "2", "b": "y"})]);
    let array =
        run(read_all(&s3, Source::object(ObjectAt::new("b", "items.json.gz"), format(InputType::Json)), None)).unwrap();
    assert_eq!(array, vec![json!(1), json!(2), json!(3)]);
}

fn manifest(bucket: &str, key: &str, kind: ManifestType, input_type: InputType) -> Source {
    Source::Manifest { object: ObjectAt::new(bucket, key), kind, format: format(input_type) }
}

#[test]
fn an_s3_inventory_lists_its_objects_as_string_fields() {
    // The developer guide's example inventory, split over two data files.
    let manifest_json = r#"{"sourceBucket":"amzn-s3-demo-source-bucket",
      "destinationBucket":"arn:aws:s3:::inventory","version":"2016-11-30","fileFormat":"CSV",
      "fileSchema":"Bucket, Key, Size, LastModifiedDate",
      "files":[{"key":"src/config/data/1.csv.gz","size":1},{"key":"src/config/data/2.csv.gz","size":1}]}"#;
    let s3 = TestS3::default()
        .with("inventory", "src/config/2022-11-16T00-00Z/manifest.json", manifest_json)
        .with(
            "inventory",
            "src/config/data/1.csv.gz",
            gzip(b"\"amzn-s3-demo-source-bucket\",\"csvDataset/\",\"0\",\"2022-11-16T00:27:19.000Z\"\n\"amzn-s3-demo-source-bucket\",\"csvDataset/titles.csv\",\"3399671\",\"2022-11-16T00:29:32.000Z\"\n"),
        )
        .with(
            "inventory",
            "src/config/data/2.csv.gz",
            gzip(b"\"amzn-s3-demo-source-bucket\",\"imageDataset/n02085620_10074.jpg\",\"27034\",\"2022-11-15T20:02:16.000Z\"\n"),
        );
    let source =
        manifest("inventory", "src/config/2022-11-16T00-00Z/manifest.json", ManifestType::S3Inventory, InputType::Csv);
    let items = run(read_all(&s3, source, None)).unwrap();
    assert_eq!(items.len(), 3);
    assert_eq!(
        items[1],
        json!({"Bucket": "amzn-s3-demo-source-bucket", "Key": "csvDataset/titles.csv", "Size": "3399671",
               "LastModifiedDate": "2022-11-16T00:29:32.000Z"})
    );
    // MaxItems counts items across the data files.
    let source =
        manifest("inventory", "src/config/2022-11-16T00-00Z/manifest.json", ManifestType::S3Inventory, InputType::Csv);
    assert_eq!(run(read_all(&s3, source, Some(3))).unwrap().len(), 3);
}

#[test]
fn an_athena_manifest_reads_the_files_it_lists() {
    let s3 = TestS3::default()
        .with("results", "unload/q1-manifest.csv", "s3://results/unload/q1_part0.gz\ns3://results/unload/q1_part1.gz\n")
        .with("results", "unload/q1_part0.gz", gzip(b"{\"id\":1}\n{\"id\":2}\n"))
        .with("results", "unload/q1_part1.gz", gzip(b"{\"id\":3}\n"))
        .with("results", "parquet/q2-manifest.csv", "s3://results/parquet/a\ns3://results/parquet/b\n")
        .with("results", "parquet/a", parquet_file(4, 2, Compression::SNAPPY))
        .with("results", "parquet/b", parquet_file(3, 3, Compression::GZIP(GzipLevel::default())));
    let items = run(read_all(
        &s3,
        manifest("results", "unload/q1-manifest.csv", ManifestType::AthenaData, InputType::Jsonl),
        None,
    ))
    .unwrap();
    assert_eq!(items, vec![json!({"id": 1}), json!({"id": 2}), json!({"id": 3})]);
    let rows = run(read_all(
        &s3,
        manifest("results", "parquet/q2-manifest.csv", ManifestType::AthenaData, InputType::Parquet),
        None,
    ))
    .unwrap();
    assert_eq!(rows.len(), 7);
    assert_eq!(rows[4].get("id"), Some(&Value::from(0)));
}

#[test]
fn a_missing_data_file_fails_the_reader() {
    let s3 = TestS3::default().with("results", "m.csv", "s3://results/missing.gz\n");
    let failure =
        run(read_all(&s3, manifest("results", "m.csv", ManifestType::AthenaData, InputType::Jsonl), None)).unwrap_err();
    assert_eq!(failure.error, StatesError::ItemReaderFailed.name());
    let cause = failure.cause.unwrap_or_default();
    assert!(cause.contains("missing.gz"), "{cause}");
}
