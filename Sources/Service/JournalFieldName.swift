/// Journal field names made from metadata keys. journald accepts only `[A-Z0-9_]`, at most 64
/// characters, not starting with a digit; a leading underscore marks fields journald itself
/// adds and trusts, so a client's are dropped. Rather than lose a field, a key is upper-cased,
/// every other character becomes `_`, and a name that would still be refused, or would
/// overwrite a field the handler sets itself, gets a `TANDEM_` prefix.
enum JournalFieldName {
    static let prefix = "TANDEM_"
    static let maximumLength = 64

    /// The fields `JournalLogHandler` writes itself; metadata must not add a second value to
    /// them (a second MESSAGE would make journalctl show the wrong text).
    static let reserved: Set<String> = ["MESSAGE", "PRIORITY", "SYSLOG_IDENTIFIER", "CODE_FILE", "CODE_LINE", "CODE_FUNC"]

    static func sanitize(_ key: String) -> String {
        var name = String(key.unicodeScalars.map { scalar -> Character in
            switch scalar {
            case "A"..."Z", "0"..."9", "_": return Character(scalar)
            case "a"..."z": return Character(Unicode.Scalar(UInt8(scalar.value) - 32))
            default: return "_"
            }
        })
        let acceptedStart = name.first.map { $0 != "_" && !("0"..."9").contains($0) } ?? false
        if !acceptedStart || reserved.contains(name) {
            name = prefix + name
        }
        return String(name.prefix(maximumLength))
    }
}
