/// A document being written into a byte buffer, with the five characters XML reserves escaped
/// in every value (update_engine's `XmlEncode`).
struct XMLText {
    private(set) var bytes: [UInt8] = []

    mutating func append(_ text: String) {
        bytes.append(contentsOf: text.utf8)
    }

    /// `name="value" `, with the trailing space update_engine puts after every attribute.
    mutating func attribute(_ name: String, _ value: String) {
        append(name + "=\"")
        escaped(value)
        append("\" ")
    }

    mutating func escaped(_ value: String) {
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: "&"): append("&amp;")
            case UInt8(ascii: "<"): append("&lt;")
            case UInt8(ascii: ">"): append("&gt;")
            case UInt8(ascii: "\""): append("&quot;")
            case UInt8(ascii: "'"): append("&apos;")
            default: bytes.append(byte)
            }
        }
    }
}
