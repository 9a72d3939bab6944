/// The `key value` lines of loader.conf and of a loader entry, split as systemd-boot 252's
/// `line_get_key_value` splits them: lines end at `\n` or `\r`, leading and trailing blanks go,
/// `#` starts a comment, the key ends at the first blank, one pair of quotes around the value
/// is dropped. A line with no value is skipped, as systemd-boot skips it.
struct SystemdBootConfigLines {
    struct Line: Equatable {
        var key: Substring
        var value: Substring
    }

    static func parse(_ text: Substring) -> [Line] {
        var lines: [Line] = []
        for raw in text.split(whereSeparator: isLineBreak) {
            let line = raw.drop(while: isBlank).reversed().drop(while: isBlank).reversed()
            let trimmed = Substring(String(line))
            guard let first = trimmed.first, first != "#" else { continue }
            guard let separator = trimmed.firstIndex(where: isBlank) else { continue }
            var value = trimmed[separator...].drop(while: isBlank)
            if value.count >= 2, value.first == "\"", value.last == "\"" {
                value = value.dropFirst().dropLast()
            }
            lines.append(Line(key: trimmed[..<separator], value: value))
        }
        return lines
    }

    /// `\n` or `\r`, alone or as the one Character `\r\n` that Swift makes of the pair.
    static func isLineBreak(_ character: Character) -> Bool {
        character.unicodeScalars.contains { $0 == "\n" || $0 == "\r" }
    }

    private static func isBlank(_ character: Character) -> Bool {
        character == " " || character == "\t"
    }
}
