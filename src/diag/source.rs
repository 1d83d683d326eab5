//! Source files by id, spans into them, and line/column lookup.

use std::path::{Path, PathBuf};

/// Index of a file in a `SourceMap`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FileId(pub u32);

/// A byte range in one source file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Span {
    pub file: FileId,
    pub start: usize,
    pub end: usize,
}

impl Span {
    pub fn new(file: FileId, start: usize, end: usize) -> Self {
        Span { file, start, end }
    }

    /// The smallest span covering both (same file assumed; `self`'s file wins).
    pub fn to(self, other: Span) -> Span {
        Span {
            file: self.file,
            start: self.start.min(other.start),
            end: self.end.max(other.end),
        }
    }
}

/// 1-based line and column; columns count characters, not bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LineCol {
    pub line: usize,
    pub col: usize,
}

#[derive(Debug, Clone)]
pub struct SourceFile {
    /// The path as the user gave it (never canonicalised: messages must echo it).
    pub path: PathBuf,
    pub text: String,
    /// Where this file was included from, if it was.
    pub included_from: Option<Span>,
    line_starts: Vec<usize>,
}

impl SourceFile {
    fn new(path: PathBuf, text: String, included_from: Option<Span>) -> Self {
        let mut line_starts = vec![0];
        line_starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        SourceFile {
            path,
            text,
            included_from,
            line_starts,
        }
    }

    /// Line and column of a byte offset (clamped to the text).
    pub fn line_col(&self, offset: usize) -> LineCol {
        let offset = offset.min(self.text.len());
        let line_idx = match self.line_starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i - 1,
        };
        let start = self.line_starts[line_idx];
        let col = self
            .text
            .get(start..offset)
            .map(|s| s.chars().count())
            .unwrap_or(offset - start);
        LineCol {
            line: line_idx + 1,
            col: col + 1,
        }
    }

    /// The text of a 1-based line without its newline.
    pub fn line_text(&self, line: usize) -> &str {
        let Some(&start) = self.line_starts.get(line.wrapping_sub(1)) else {
            return "";
        };
        let end = self
            .line_starts
            .get(line)
            .map(|e| e - 1)
            .unwrap_or(self.text.len());
        let s = self.text.get(start..end).unwrap_or("");
        s.strip_suffix('\r').unwrap_or(s)
    }

    pub fn line_count(&self) -> usize {
        self.line_starts.len()
    }
}

/// Every file read while loading one configuration, in the order read.
#[derive(Debug, Default, Clone)]
pub struct SourceMap {
    files: Vec<SourceFile>,
}

impl SourceMap {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn add(
        &mut self,
        path: impl Into<PathBuf>,
        text: String,
        included_from: Option<Span>,
    ) -> FileId {
        let id = FileId(self.files.len() as u32);
        self.files
            .push(SourceFile::new(path.into(), text, included_from));
        id
    }

    /// Reads a file and adds it; the error is the OS error for the caller to word.
    pub fn load(&mut self, path: &Path, included_from: Option<Span>) -> std::io::Result<FileId> {
        let bytes = std::fs::read(path)?;
        // Config files are ASCII in practice; keep going on stray bytes rather than refuse.
        let text = String::from_utf8_lossy(&bytes).into_owned();
        Ok(self.add(path, text, included_from))
    }

    pub fn get(&self, id: FileId) -> Option<&SourceFile> {
        self.files.get(id.0 as usize)
    }

    pub fn text(&self, id: FileId) -> &str {
        self.get(id).map(|f| f.text.as_str()).unwrap_or("")
    }

    pub fn path(&self, id: FileId) -> &Path {
        self.get(id)
            .map(|f| f.path.as_path())
            .unwrap_or(Path::new("?"))
    }

    /// `path:line:col` of a span's start.
    pub fn position(&self, span: Span) -> String {
        match self.get(span.file) {
            Some(f) => {
                let lc = f.line_col(span.start);
                format!("{}:{}:{}", f.path.display(), lc.line, lc.col)
            }
            None => "?".to_string(),
        }
    }

    pub fn line_col(&self, span: Span) -> Option<LineCol> {
        self.get(span.file).map(|f| f.line_col(span.start))
    }

    /// The include chain of a file, innermost first: the spans of the `include` statements.
    pub fn include_chain(&self, id: FileId) -> Vec<Span> {
        let mut chain = Vec::new();
        let mut cur = self.get(id).and_then(|f| f.included_from);
        while let Some(span) = cur {
            if chain.len() > 64 {
                break; // a cycle the loader should have refused; never loop forever
            }
            chain.push(span);
            cur = self.get(span.file).and_then(|f| f.included_from);
        }
        chain
    }

    pub fn files(&self) -> impl Iterator<Item = (FileId, &SourceFile)> {
        self.files
            .iter()
            .enumerate()
            .map(|(i, f)| (FileId(i as u32), f))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_characters_not_bytes() {
        let mut map = SourceMap::new();
        let id = map.add("a.conf", "ab\n\u{e9}x y;\n".to_string(), None);
        let f = map.get(id).unwrap();
        // 'y' is byte 7 ("ab\n" = 3, "é" = 2 bytes, "x " = 2)
        assert_eq!(f.line_col(7), LineCol { line: 2, col: 4 });
        assert_eq!(f.line_text(2), "\u{e9}x y;");
        assert_eq!(f.line_col(0), LineCol { line: 1, col: 1 });
    }

    #[test]
    fn offsets_past_the_end_are_clamped() {
        let mut map = SourceMap::new();
        let id = map.add("a.conf", "abc".to_string(), None);
        let f = map.get(id).unwrap();
        assert_eq!(f.line_col(99), LineCol { line: 1, col: 4 });
        assert_eq!(f.line_text(5), "");
    }

    #[test]
    fn include_chain_is_innermost_first() {
        let mut map = SourceMap::new();
        let a = map.add("a", "include \"b\";\n".into(), None);
        let b = map.add("b", "include \"c\";\n".into(), Some(Span::new(a, 0, 7)));
        let c = map.add("c", "x".into(), Some(Span::new(b, 0, 7)));
        let chain = map.include_chain(c);
        assert_eq!(chain.len(), 2);
        assert_eq!(chain[0].file, b);
        assert_eq!(chain[1].file, a);
    }
}
