//! Input files compressed outside the format (GZIP or ZSTD, as AWS reads
//! `items.jsonl.gz` or `items.csv.zstd`): told by their first bytes, and
//! inflated page by page as they are read.

use std::io::Write;

use flate2::write::MultiGzDecoder;

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];
const ZSTD_MAGIC: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];

/// How an object's bytes become its content.
pub enum Inflate {
    Plain,
    Gzip(Box<MultiGzDecoder<Vec<u8>>>),
    Zstd(Box<zstd::stream::write::Decoder<'static, Vec<u8>>>),
}

impl Inflate {
    /// By the object's first bytes: the first page of its content.
    pub fn detect(head: &[u8]) -> Result<Inflate, String> {
        if head.starts_with(&GZIP_MAGIC) {
            Ok(Inflate::Gzip(Box::new(MultiGzDecoder::new(Vec::new()))))
        } else if head.starts_with(&ZSTD_MAGIC) {
            zstd::stream::write::Decoder::new(Vec::new())
                .map(|d| Inflate::Zstd(Box::new(d)))
                .map_err(|e| format!("The ZSTD decoder did not start: {e}."))
        } else {
            Ok(Inflate::Plain)
        }
    }

    /// Feeds the object's next `bytes`, appending the content they hold to
    /// `out`; `last` when they end the object.
    pub fn feed(&mut self, bytes: &[u8], last: bool, out: &mut Vec<u8>) -> Result<(), String> {
        match self {
            Inflate::Plain => out.extend_from_slice(bytes),
            Inflate::Gzip(decoder) => {
                decoder.write_all(bytes).map_err(|e| format!("The object is not valid GZIP: {e}."))?;
                if last {
                    decoder.try_finish().map_err(|e| format!("The object's GZIP stream ends early: {e}."))?;
                }
                out.append(decoder.get_mut());
            }
            Inflate::Zstd(decoder) => {
                decoder.write_all(bytes).map_err(|e| format!("The object is not valid ZSTD: {e}."))?;
                decoder.flush().map_err(|e| format!("The object is not valid ZSTD: {e}."))?;
                out.append(decoder.get_mut());
            }
        }
        Ok(())
    }
}

/// A whole object's content.
pub fn inflate_all(body: Vec<u8>) -> Result<Vec<u8>, String> {
    match Inflate::detect(&body)? {
        Inflate::Plain => Ok(body),
        mut inflate => {
            let mut out = Vec::new();
            inflate.feed(&body, true, &mut out)?;
            Ok(out)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        encoder.write_all(bytes).unwrap();
        encoder.finish().unwrap()
    }

    #[test]
    fn plain_bytes_pass_through() {
        assert_eq!(inflate_all(b"{\"a\":1}\n".to_vec()).unwrap(), b"{\"a\":1}\n");
    }

    #[test]
    fn gzip_and_zstd_inflate_in_pages() {
        let content: Vec<u8> = (0..50_000).flat_map(|i| format!("{{\"n\":{i}}}\n").into_bytes()).collect();
        for packed in [gzip(&content), zstd::stream::encode_all(&content[..], 3).unwrap()] {
            let mut inflate = Inflate::detect(&packed).unwrap();
            assert!(!matches!(inflate, Inflate::Plain));
            let mut out = Vec::new();
            let pages: Vec<&[u8]> = packed.chunks(1000).collect();
            for (i, page) in pages.iter().enumerate() {
                inflate.feed(page, i + 1 == pages.len(), &mut out).unwrap();
            }
            assert_eq!(out, content);
        }
    }

    #[test]
    fn a_cut_gzip_stream_is_an_error() {
        let packed = gzip(b"a,b\n1,2\n");
        let mut inflate = Inflate::detect(&packed).unwrap();
        let err = inflate.feed(&packed[..packed.len() - 4], true, &mut Vec::new()).unwrap_err();
        assert!(err.contains("GZIP"), "{err}");
    }
}
