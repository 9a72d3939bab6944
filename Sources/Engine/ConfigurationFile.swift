import Platform

/// The systemd-style `[Section]` / `Key=Value` syntax of tandem.conf: `#` and `;` start comment
/// lines, whitespace around keys and values is ignored, and a later assignment wins.
enum ConfigurationFile {
    struct Entry: Equatable {
        var path: String
        var line: Int
        var section: String
        var key: String
        var value: String
    }

    /// The assignments of a file, and the sections this version does not know, whose keys are
    /// left out: they are a newer tandemd's (or misspelt), and are reported, not applied.
    struct Parsed {
        var entries: [Entry] = []
        var ignored: [ConfigurationError] = []
    }

    static func parse(_ text: String, path: String) throws(ConfigurationError) -> Parsed {
        var parsed = Parsed()
        var section: String?
        var sectionKnown = true
        // Split on any line ending: Swift sees "\r\n" as one character, so a CRLF file has no "\n".
        for (index, rawLine) in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated() {
            let line = String(rawLine).trimmingWhitespace()
            let number = index + 1
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
            if line.hasPrefix("[") {
                guard line.hasSuffix("]"), line.count > 2 else { throw .syntax(path: path, line: number, text: line) }
                let name = String(line.dropFirst().dropLast())
                section = name
                sectionKnown = Configuration.knownKeys[name] != nil
                if !sectionKnown { parsed.ignored.append(.unknownSection(path: path, line: number, section: name)) }
                continue
            }
            guard let equals = line.firstIndex(of: "=") else { throw .syntax(path: path, line: number, text: line) }
            guard let section else { throw .outsideSection(path: path, line: number, text: line) }
            let key = String(line[..<equals]).trimmingWhitespace()
            guard !key.isEmpty else { throw .syntax(path: path, line: number, text: line) }
            let value = String(line[line.index(after: equals)...]).trimmingWhitespace().removingMatchingQuotes()
            if sectionKnown { parsed.entries.append(Entry(path: path, line: number, section: section, key: key, value: value)) }
        }
        return parsed
    }

    /// systemd's booleans.
    static func boolean(_ text: String) -> Bool? {
        switch text.lowercased() {
        case "1", "yes", "y", "true", "t", "on": true
        case "0", "no", "n", "false", "f", "off": false
        default: nil
        }
    }

    /// Bytes, with an optional binary suffix: `64M`, `1G`, `4096`.
    static func size(_ text: String) -> UInt64? {
        let units: [Character: UInt64] = ["K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40]
        guard let last = text.uppercased().last else { return nil }
        if let unit = units[last] {
            guard let number = UInt64(text.dropLast()) else { return nil }
            let (product, overflow) = number.multipliedReportingOverflow(by: unit)
            return overflow ? nil : product
        }
        return UInt64(text)
    }
}
