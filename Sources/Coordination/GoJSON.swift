/// JSON text as Go's `encoding/json` writes it, for the documents other implementations
/// compare and rewrite: locksmith's semaphore value and FleetLock's request body.
enum GoJSON {
    /// A string literal with Go's escaping: `"` and `\` escaped, `\n` `\r` `\t` as such, other
    /// control characters and `<` `>` `&` U+2028 U+2029 as `\u00XX`/`\u20XX` (Go's HTML-safe
    /// default), everything else as UTF-8.
    static func quoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "<", ">", "&", "\u{2028}", "\u{2029}", "\u{0}"..."\u{1F}":
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default:
                out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
