//! Request checksums, as the AWS SDKs' "flexible checksums" add them and
//! Step Functions' SDK (the AWS SDK for Java v2, which computes them "when
//! supported") sends them: for an operation whose model has the
//! `httpChecksum` trait, the body's checksum goes in `x-amz-checksum-<name>`.
//! The algorithm is the one the request names in its algorithm member
//! (S3's `ChecksumAlgorithm`); with none named, CRC32 for an operation that
//! names an algorithm member or requires a checksum, with the algorithm
//! member's header set to it. A request that already carries a checksum
//! header (`ChecksumCRC32`, ...) is sent as it is. S3 then answers with the
//! checksum (`ChecksumCRC32` in PutObject's output).

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use sha1::Digest;

use super::{Invalid, invalid};
use crate::http::Request;
use crate::model::{Model, Operation};

const HEADER_PREFIX: &str = "x-amz-checksum-";

/// Adds the checksum header `operation` calls for to `request`.
pub fn add(model: &Model, operation: Operation<'_>, request: &mut Request) -> Result<(), Invalid> {
    let Some(trait_) = operation.http_checksum() else { return Ok(()) };
    if request.headers.iter().any(|(name, _)| is_checksum_header(name)) {
        return Ok(());
    }
    let member_header = trait_.algorithm_member.and_then(|member| {
        let shape = model.shape(operation.input()?)?;
        shape.member(member)?.location_name()
    });
    let named = member_header.and_then(|header| {
        request.headers.iter().find(|(name, _)| name.eq_ignore_ascii_case(header)).map(|(_, value)| value.clone())
    });
    let algorithm = match named {
        Some(name) => Algorithm::named(&name).ok_or_else(|| {
            invalid(
                trait_.algorithm_member.unwrap_or_default(),
                format!(
                    "the checksum algorithm {name} is not one the SDK computes ({})",
                    Algorithm::ALL.map(Algorithm::name).join(", ")
                ),
            )
        })?,
        None if trait_.algorithm_member.is_some() || trait_.required => {
            if let Some(header) = member_header {
                request.headers.push((header.to_owned(), Algorithm::Crc32.name().to_owned()));
            }
            Algorithm::Crc32
        }
        None => return Ok(()),
    };
    let value = algorithm.of(&request.body);
    request.headers.push((format!("{HEADER_PREFIX}{}", algorithm.name().to_ascii_lowercase()), value));
    Ok(())
}

fn is_checksum_header(name: &str) -> bool {
    name.len() > HEADER_PREFIX.len() && name[..HEADER_PREFIX.len()].eq_ignore_ascii_case(HEADER_PREFIX)
}

/// The algorithms the SDK computes, by their names in the models' enum.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Algorithm {
    Crc32,
    Crc32c,
    Crc64Nvme,
    Sha1,
    Sha256,
}

impl Algorithm {
    const ALL: [Algorithm; 5] =
        [Algorithm::Crc32, Algorithm::Crc32c, Algorithm::Crc64Nvme, Algorithm::Sha1, Algorithm::Sha256];

    fn named(name: &str) -> Option<Algorithm> {
        Algorithm::ALL.into_iter().find(|a| a.name().eq_ignore_ascii_case(name))
    }

    pub fn name(self) -> &'static str {
        match self {
            Algorithm::Crc32 => "CRC32",
            Algorithm::Crc32c => "CRC32C",
            Algorithm::Crc64Nvme => "CRC64NVME",
            Algorithm::Sha1 => "SHA1",
            Algorithm::Sha256 => "SHA256",
        }
    }

    /// The checksum of `bytes` as the header carries it: base64 of its
    /// big-endian bytes (a CRC) or of the digest.
    pub fn of(self, bytes: &[u8]) -> String {
        match self {
            // Reflected CRCs, initial value and final XOR all ones.
            Algorithm::Crc32 => BASE64.encode((crc(&CRC32, u32::MAX.into(), bytes) as u32).to_be_bytes()),
            Algorithm::Crc32c => BASE64.encode((crc(&CRC32C, u32::MAX.into(), bytes) as u32).to_be_bytes()),
            Algorithm::Crc64Nvme => BASE64.encode(crc(&CRC64_NVME, u64::MAX, bytes).to_be_bytes()),
            Algorithm::Sha1 => BASE64.encode(sha1::Sha1::digest(bytes)),
            Algorithm::Sha256 => BASE64.encode(sha2::Sha256::digest(bytes)),
        }
    }
}

/// A reflected CRC of `bytes` by its table, in the low bits `all_ones` covers
/// (a 32-bit CRC's state never leaves its 32 bits: it only shifts right and
/// takes table entries of 32 bits).
fn crc(table: &[u64; 256], all_ones: u64, bytes: &[u8]) -> u64 {
    !bytes.iter().fold(all_ones, |crc, &b| table[usize::from((crc as u8) ^ b)] ^ (crc >> 8)) & all_ones
}

/// ISO-HDLC's CRC-32 (zlib's), reflected polynomial 0xEDB88320.
static CRC32: [u64; 256] = table(0xEDB8_8320);
/// Castagnoli's CRC-32C, reflected polynomial 0x82F63B78.
static CRC32C: [u64; 256] = table(0x82F6_3B78);
/// CRC-64/NVME, reflected polynomial 0x9A6C9329AC4BC9B5.
static CRC64_NVME: [u64; 256] = table(0x9A6C_9329_AC4B_C9B5);

/// The table of a reflected CRC: each byte's remainder after eight shifts.
const fn table(polynomial: u64) -> [u64; 256] {
    let mut table = [0u64; 256];
    let mut i = 0;
    while i < 256 {
        let mut crc = i as u64;
        let mut bit = 0;
        while bit < 8 {
            crc = if crc & 1 == 1 { (crc >> 1) ^ polynomial } else { crc >> 1 };
            bit += 1;
        }
        table[i] = crc;
        i += 1;
    }
    table
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each CRC's check value (its checksum of "123456789"), as the CRC
    /// catalogues list them, and digests of known texts.
    #[test]
    fn checksums_are_the_standard_ones() {
        let check = b"123456789";
        assert_eq!(crc(&CRC32, u32::MAX.into(), check), 0xCBF4_3926);
        assert_eq!(crc(&CRC32C, u32::MAX.into(), check), 0xE306_9283);
        assert_eq!(Algorithm::Crc64Nvme.of(check), BASE64.encode(0xAE8B_1486_0A79_9888u64.to_be_bytes()));
        assert_eq!(Algorithm::Crc32.of(b""), "AAAAAA==");
        assert_eq!(Algorithm::Sha1.of(b"abc"), BASE64.encode(hex("a9993e364706816aba3e25717850c26c9cd0d89d")));
        assert_eq!(
            Algorithm::Sha256.of(b"abc"),
            BASE64.encode(hex("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"))
        );
    }

    /// AWS's recorded answers to PutObject through Step Functions: the
    /// checksum of the bytes it stored (LocalStack's snapshots, Apache-2.0).
    #[test]
    fn crc32_matches_aws_recorded_put_object_answers() {
        assert_eq!(Algorithm::Crc32.of(br#"{"Dict":"Value"}"#), "hnEfWw==");
        assert_eq!(Algorithm::Crc32.of(b"0"), "9NvfIQ==");
        assert_eq!(Algorithm::Crc32.of(b"false"), "K81oMA==");
    }

    #[test]
    fn algorithms_are_named_as_the_model_names_them() {
        assert_eq!(Algorithm::named("crc64nvme"), Some(Algorithm::Crc64Nvme));
        assert_eq!(Algorithm::named("SHA256"), Some(Algorithm::Sha256));
        assert_eq!(Algorithm::named("XXHASH3"), None);
        assert!(is_checksum_header("X-Amz-Checksum-CRC32"));
        assert!(!is_checksum_header("x-amz-checksum-"));
        assert!(!is_checksum_header("x-amz-sdk-checksum-algorithm"));
    }

    /// The request S3's `action` would be sent as, with `parameters`.
    fn s3(action: &str, parameters: serde_json::Value) -> Result<Request, Invalid> {
        let service = crate::catalog::service("s3").unwrap();
        let (model, operation) = (service.model().unwrap(), service.operation(action).unwrap());
        let mut request = super::super::rest::request(
            model,
            operation,
            &orderflow_value::Value::from(parameters),
            super::super::rest::Body::Xml,
        )?;
        add(model, operation, &mut request)?;
        Ok(request)
    }

    fn header<'r>(request: &'r Request, name: &str) -> Option<&'r str> {
        request.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    #[test]
    fn put_object_gets_crc32_unless_the_task_names_an_algorithm_or_gives_a_checksum() {
        let put = serde_json::json!({"Bucket": "b", "Key": "k", "Body": {"Dict": "Value"}});
        let request = s3("putObject", put.clone()).unwrap();
        assert_eq!(header(&request, "x-amz-checksum-crc32"), Some("hnEfWw=="));
        assert_eq!(header(&request, "x-amz-sdk-checksum-algorithm"), Some("CRC32"));

        let mut named = put.clone();
        named["ChecksumAlgorithm"] = "SHA256".into();
        let request = s3("putObject", named).unwrap();
        assert_eq!(
            header(&request, "x-amz-checksum-sha256"),
            Some(Algorithm::Sha256.of(br#"{"Dict":"Value"}"#).as_str())
        );
        assert_eq!(header(&request, "x-amz-checksum-crc32"), None);
        assert_eq!(header(&request, "x-amz-sdk-checksum-algorithm"), Some("SHA256"));

        let mut given = put.clone();
        given["ChecksumCRC32C"] = "AAAAAA==".into();
        let request = s3("putObject", given).unwrap();
        assert_eq!(header(&request, "x-amz-checksum-crc32c"), Some("AAAAAA=="));
        assert_eq!(request.headers.iter().filter(|(k, _)| is_checksum_header(k)).count(), 1);

        let mut unknown = put;
        unknown["ChecksumAlgorithm"] = "XXHASH3".into();
        let Err(refused) = s3("putObject", unknown) else { panic!("XXHASH3 was not refused") };
        assert!(refused.to_string().contains("XXHASH3"), "{refused}");
    }

    #[test]
    fn only_operations_whose_model_asks_get_a_checksum() {
        // DeleteObjects requires one; GetObject only validates answers; ListObjectsV2 has none.
        let request =
            s3("deleteObjects", serde_json::json!({"Bucket": "b", "Delete": {"Objects": [{"Key": "k"}]}})).unwrap();
        assert_eq!(header(&request, "x-amz-checksum-crc32"), Some(Algorithm::Crc32.of(&request.body).as_str()));
        for (action, parameters) in [
            ("getObject", serde_json::json!({"Bucket": "b", "Key": "k"})),
            ("listObjectsV2", serde_json::json!({"Bucket": "b"})),
        ] {
            let request = s3(action, parameters).unwrap();
            assert!(!request.headers.iter().any(|(k, _)| is_checksum_header(k) || k.contains("checksum")), "{action}");
        }
    }

    /// An algorithm the SDK does not compute fails the Task as the SDK
    /// integrations name a refused request, before anything is sent (the
    /// endpoint here answers nothing).
    #[tokio::test]
    async fn an_algorithm_the_sdk_does_not_compute_fails_the_task_by_name() {
        let aws = crate::Integrations::new("http://127.0.0.1:9", "us-east-1").unwrap();
        let parameters = orderflow_value::Value::from(
            serde_json::json!({"Bucket": "b", "Key": "k", "Body": "x", "ChecksumAlgorithm": "XXHASH3"}),
        );
        let failure = aws.sdk_call("s3", "putObject", &parameters).await.unwrap_err();
        assert_eq!(failure.error, "S3.S3Exception");
        assert_eq!(
            failure.cause,
            "The parameters of PutObject do not fit its API: ChecksumAlgorithm: the checksum algorithm XXHASH3 is not one the SDK computes (CRC32, CRC32C, CRC64NVME, SHA1, SHA256) (Service: S3, Status Code: 400)"
        );
    }

    fn hex(text: &str) -> Vec<u8> {
        (0..text.len()).step_by(2).map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap()).collect()
    }
}
