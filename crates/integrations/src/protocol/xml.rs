//! A small XML tree, read with xmlparser (already in the SDK's tree): what
//! the query and REST-XML answers need (elements by local name, their text,
//! attributes); no DTDs, no entities beyond XML's five and character references.

/// An element: its local name, attributes, child elements and text.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Element {
    pub name: String,
    pub attributes: Vec<(String, String)>,
    pub children: Vec<Element>,
    pub text: String,
}

impl Element {
    pub fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }

    pub fn children_named<'e>(&'e self, name: &'e str) -> impl Iterator<Item = &'e Element> + 'e {
        self.children.iter().filter(move |c| c.name == name)
    }

    /// The text of the child `name`.
    pub fn text_of(&self, name: &str) -> Option<&str> {
        self.child(name).map(|c| c.text.as_str())
    }
}

/// Parses a document into its root element.
pub fn parse(text: &str) -> Result<Element, String> {
    use xmlparser::{ElementEnd, Token, Tokenizer};
    let mut stack: Vec<Element> = Vec::new();
    let mut root = None;
    for token in Tokenizer::from(text) {
        match token.map_err(|e| format!("not XML: {e}"))? {
            Token::ElementStart { local, .. } => {
                stack.push(Element { name: local.as_str().to_owned(), ..Element::default() });
            }
            Token::Attribute { local, value, .. } => {
                if let Some(top) = stack.last_mut() {
                    top.attributes.push((local.as_str().to_owned(), unescape(value.as_str())));
                }
            }
            Token::ElementEnd { end, .. } => {
                if matches!(end, ElementEnd::Open) {
                    continue;
                }
                let done = stack.pop().ok_or("an element closed that was not open")?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(done),
                    None => root = Some(done),
                }
            }
            Token::Text { text } => {
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&unescape(text.as_str()));
                }
            }
            Token::Cdata { text, .. } => {
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(text.as_str());
                }
            }
            _ => {}
        }
    }
    root.ok_or_else(|| "an XML document without an element".to_owned())
}

fn unescape(text: &str) -> String {
    if !text.contains('&') {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        let Some(end) = rest.find(';') else { break };
        let entity = &rest[1..end];
        let decoded = match entity {
            "lt" => Some('<'),
            "gt" => Some('>'),
            "amp" => Some('&'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            _ => entity
                .strip_prefix("#x")
                .and_then(|h| u32::from_str_radix(h, 16).ok())
                .or_else(|| entity.strip_prefix('#').and_then(|d| d.parse().ok()))
                .and_then(char::from_u32),
        };
        match decoded {
            Some(c) => {
                out.push(c);
                rest = &rest[end + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn elements_text_and_references() {
        let doc = parse(r#"<?xml version="1.0"?><A xmlns="x"><B k="v&amp;w">1 &lt; 2 &#x41;&#66;</B><B/><C><![CDATA[<raw>]]></C></A>"#)
            .unwrap();
        assert_eq!(doc.name, "A");
        assert_eq!(doc.children_named("B").count(), 2);
        assert_eq!(doc.text_of("B"), Some("1 < 2 AB"));
        assert_eq!(doc.child("B").unwrap().attributes, vec![("k".to_owned(), "v&w".to_owned())]);
        assert_eq!(doc.text_of("C"), Some("<raw>"));
        assert!(parse("<A><B></A>").is_err());
    }
}
