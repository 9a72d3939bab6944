extension String {
    /// The string without leading and trailing whitespace (spaces, tabs, and line endings,
    /// including the CRLF that HTTP headers end with, which Swift treats as one character):
    /// what sysfs, procfs, headers and hand-edited configuration files put around a value.
    public func trimmingWhitespace() -> String {
        String(drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed())
    }
}

extension String {
    /// The string without one pair of matching surrounding quotes (`"` or `'`), as os-release
    /// and systemd-style configuration files allow values to be written.
    public func removingMatchingQuotes() -> String {
        guard count >= 2, let quote = first, quote == "\"" || quote == "'", last == quote else { return self }
        return String(dropFirst().dropLast())
    }
}
