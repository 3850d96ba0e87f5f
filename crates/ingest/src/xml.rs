//! A streaming XML reader that hands out one small subtree (a record, an entry) at a time.
//!
//! OAI-PMH and Atom documents are long lists of small, self-contained elements. Rather
//! than a state machine per format, the stream skips to the next element of interest
//! and builds a tiny tree of just that element, so memory stays bounded by the largest
//! record while the per-format code reads fields by name.

use std::io::BufRead;

use quick_xml::NsReader;
use quick_xml::events::{BytesStart, Event};

/// One element with its direct text and children. Names are local (prefix removed):
/// arXiv's element names do not clash across the namespaces these documents mix.
#[derive(Debug, Default, Clone)]
pub(crate) struct Element {
    pub name: String,
    pub attributes: Vec<(String, String)>,
    pub text: String,
    pub children: Vec<Element>,
}

impl Element {
    pub fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }

    pub fn children_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> {
        self.children.iter().filter(move |c| c.name == name)
    }

    pub fn child_text(&self, name: &str) -> Option<&str> {
        self.child(name).map(|c| c.text.as_str())
    }

    pub fn attribute(&self, name: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }
}

pub(crate) struct XmlStream<R> {
    reader: NsReader<R>,
    buf: Vec<u8>,
}

impl<R: BufRead> XmlStream<R> {
    pub fn new(reader: R) -> Self {
        XmlStream {
            reader: NsReader::from_reader(reader),
            buf: Vec::with_capacity(8 * 1024),
        }
    }

    /// Skips to the next element whose local name is in `wanted` (at any depth) and
    /// returns it whole; `None` at the end of the document. Errors are syntax errors,
    /// after which the document cannot be trusted.
    pub fn next_element(&mut self, wanted: &[&str]) -> Result<Option<Element>, String> {
        loop {
            self.buf.clear();
            let event = self
                .reader
                .read_event_into(&mut self.buf)
                .map_err(|e| e.to_string())?;
            match event {
                Event::Start(start) if wanted.contains(&local_name(&start).as_str()) => {
                    let element = start_element(&start)?;
                    return self.read_children(element).map(Some);
                }
                Event::Empty(start) if wanted.contains(&local_name(&start).as_str()) => {
                    return start_element(&start).map(Some);
                }
                Event::Eof => return Ok(None),
                _ => {}
            }
        }
    }

    /// Reads the content of an element whose start tag was just consumed.
    fn read_children(&mut self, root: Element) -> Result<Element, String> {
        let mut stack = vec![root];
        loop {
            self.buf.clear();
            let event = self
                .reader
                .read_event_into(&mut self.buf)
                .map_err(|e| e.to_string())?;
            let top = stack.last_mut().ok_or("unbalanced element stack")?;
            match event {
                Event::Start(start) => stack.push(start_element(&start)?),
                Event::Empty(start) => top.children.push(start_element(&start)?),
                Event::Text(text) => top.text.push_str(&text.xml10_content()),
                Event::CData(data) => top.text.push_str(&data.xml10_content()),
                Event::GeneralRef(reference) => {
                    let resolved = match reference.resolve_char_ref() {
                        Ok(Some(c)) => c.to_string(),
                        Ok(None) => quick_xml::escape::resolve_predefined_entity(&reference)
                            .map(str::to_owned)
                            .ok_or_else(|| format!("unknown entity &{};", &*reference))?,
                        Err(e) => return Err(e.to_string()),
                    };
                    top.text.push_str(&resolved);
                }
                Event::End(_) => {
                    let done = stack.pop().ok_or("unbalanced element stack")?;
                    match stack.last_mut() {
                        Some(parent) => parent.children.push(done),
                        None => return Ok(done),
                    }
                }
                Event::Eof => return Err("unexpected end of document inside an element".into()),
                _ => {}
            }
        }
    }
}

fn local_name(start: &BytesStart<'_>) -> String {
    let name = start.local_name();
    let name: &str = name.as_ref();
    name.to_owned()
}

fn start_element(start: &BytesStart<'_>) -> Result<Element, String> {
    let mut attributes = Vec::new();
    for attribute in start.attributes() {
        let attribute = attribute.map_err(|e| e.to_string())?;
        let local = attribute.key.local_name();
        let key: &str = local.as_ref();
        let key = key.to_owned();
        let value = attribute
            .normalized_value(quick_xml::XmlVersion::Implicit1_0)
            .map_err(|e| e.to_string())?;
        attributes.push((key, value.into_owned()));
    }
    Ok(Element {
        name: local_name(start),
        attributes,
        ..Element::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_subtrees_with_entities() {
        let xml =
            br#"<root><skip/><item a="1 &amp; 2"><t>x &quot;y&quot; &#233;</t><e/></item></root>"#;
        let mut stream = XmlStream::new(&xml[..]);
        let item = stream
            .next_element(&["item"])
            .expect("valid")
            .expect("found");
        assert_eq!(item.attribute("a"), Some("1 & 2"));
        assert_eq!(item.child_text("t"), Some("x \"y\" é"));
        assert!(item.child("e").is_some());
        assert!(stream.next_element(&["item"]).expect("valid").is_none());
    }

    #[test]
    fn truncated_document_is_an_error() {
        let mut stream = XmlStream::new(&b"<root><item><t>x</t>"[..]);
        assert!(stream.next_element(&["item"]).is_err());
    }
}
