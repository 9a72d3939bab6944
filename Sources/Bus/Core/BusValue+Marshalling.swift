import CSystemd

/// Writing values into and reading them out of sd-bus messages, with the non-variadic calls
/// only: basic values one at a time, containers opened and closed around their contents.
extension BusValue {
    /// Appends `values` in order, checking each type on the way down, so that a bad value is
    /// refused with its type named rather than as a bare EINVAL from sd-bus.
    static func append(_ values: [BusValue], to message: OpaquePointer) throws(BusError) {
        for value in values {
            let signature = value.signature
            guard BusSignature.isSingleCompleteType(signature) else { throw invalidType(signature) }
            try value.append(to: message)
        }
    }

    /// Reads every value left in `message` (or in the container it has entered).
    static func readAll(from message: OpaquePointer) throws(BusError) -> [BusValue] {
        var values: [BusValue] = []
        while let value = try read(from: message) {
            values.append(value)
        }
        return values
    }

    private func append(to message: OpaquePointer) throws(BusError) {
        let result: Int32
        switch self {
        case let .byte(value): result = Self.appendBasic(message, "y", value)
        case let .bool(value): result = Self.appendBasic(message, "b", Int32(value ? 1 : 0))
        case let .int16(value): result = Self.appendBasic(message, "n", value)
        case let .uint16(value): result = Self.appendBasic(message, "q", value)
        case let .int32(value): result = Self.appendBasic(message, "i", value)
        case let .uint32(value): result = Self.appendBasic(message, "u", value)
        case let .int64(value): result = Self.appendBasic(message, "x", value)
        case let .uint64(value): result = Self.appendBasic(message, "t", value)
        case let .double(value): result = Self.appendBasic(message, "d", value)
        case let .string(text): result = try Self.appendString(message, "s", text)
        case let .objectPath(path):
            guard sd_bus_object_path_is_valid(path) > 0 else {
                throw BusError(name: BusError.invalidArgs, message: "'\(path)' is not a valid D-Bus object path")
            }
            result = try Self.appendString(message, "o", path)
        case let .signature(text):
            guard BusSignature.completeTypes(text) != nil else {
                throw BusError(name: BusError.invalidArgs, message: "'\(text)' is not a valid D-Bus signature")
            }
            result = try Self.appendString(message, "g", text)
        case let .array(elementSignature, elements):
            guard BusSignature.isArrayElement(elementSignature) else { throw Self.invalidType(signature) }
            result = try Self.appendContainer(message, "a", elementSignature) { () throws(BusError) in
                for element in elements {
                    guard element.signature == elementSignature else {
                        throw BusError(name: BusError.invalidArgs,
                                       message: "an array of '\(elementSignature)' holds a value of type '\(element.signature)'")
                    }
                    try element.append(to: message)
                }
            }
        case let .dictEntry(key, value):
            result = try Self.appendContainer(message, "e", key.signature + value.signature) { () throws(BusError) in
                try key.append(to: message)
                try value.append(to: message)
            }
        case let .structure(fields):
            result = try Self.appendContainer(message, "r", fields.map(\.signature).joined()) { () throws(BusError) in
                for field in fields {
                    try field.append(to: message)
                }
            }
        case let .variant(content):
            guard BusSignature.isSingleCompleteType(content.signature) else { throw Self.invalidType(content.signature) }
            result = try Self.appendContainer(message, "v", content.signature) { () throws(BusError) in
                try content.append(to: message)
            }
        }
        if result < 0 {
            throw BusError.errno(result, "adding a value of type '\(signature)' to a message")
        }
    }

    private static func invalidType(_ signature: String) -> BusError {
        BusError(name: BusError.invalidArgs, message: "'\(signature)' is not a valid D-Bus type")
    }

    private static func appendBasic<T>(_ message: OpaquePointer, _ code: Unicode.Scalar, _ value: T) -> Int32 {
        withUnsafePointer(to: value) { sd_bus_message_append_basic(message, typeCode(code), $0) }
    }

    /// String types are passed as the C string itself, not a pointer to it.
    private static func appendString(_ message: OpaquePointer, _ code: Unicode.Scalar, _ text: String) throws(BusError) -> Int32 {
        guard !text.utf8.contains(0) else {
            throw BusError(name: BusError.invalidArgs, message: "a D-Bus string cannot contain a NUL character")
        }
        return text.withCString { sd_bus_message_append_basic(message, typeCode(code), $0) }
    }

    private static func appendContainer(_ message: OpaquePointer, _ code: Unicode.Scalar, _ contents: String,
                                        _ body: () throws(BusError) -> Void) throws(BusError) -> Int32 {
        let opened = sd_bus_message_open_container(message, typeCode(code), contents)
        if opened < 0 { return opened }
        try body()
        return sd_bus_message_close_container(message)
    }

    /// The next value, by peeking at its type and recursing into containers; nil at the end of
    /// the message or of the current container.
    private static func read(from message: OpaquePointer) throws(BusError) -> BusValue? {
        var code: CChar = 0
        var contentsPointer: UnsafePointer<CChar>?
        let peeked = sd_bus_message_peek_type(message, &code, &contentsPointer)
        if peeked < 0 { throw BusError.errno(peeked, "reading a message") }
        if peeked == 0 { return nil }
        let contents = contentsPointer.map { String(cString: $0) } ?? ""
        switch Unicode.Scalar(UInt8(bitPattern: code)) {
        case "y": return .byte(try readBasic(message, code, UInt8(0)))
        case "b": return .bool(try readBasic(message, code, Int32(0)) != 0)
        case "n": return .int16(try readBasic(message, code, Int16(0)))
        case "q": return .uint16(try readBasic(message, code, UInt16(0)))
        case "i": return .int32(try readBasic(message, code, Int32(0)))
        case "u": return .uint32(try readBasic(message, code, UInt32(0)))
        case "x": return .int64(try readBasic(message, code, Int64(0)))
        case "t": return .uint64(try readBasic(message, code, UInt64(0)))
        case "d": return .double(try readBasic(message, code, Double(0)))
        case "s": return .string(try readString(message, code))
        case "o": return .objectPath(try readString(message, code))
        case "g": return .signature(try readString(message, code))
        case "a":
            return .array(elementSignature: contents, try readContainer(message, code, contents))
        case "e":
            let pair = try readContainer(message, code, contents)
            guard pair.count == 2 else { throw BusError(name: BusError.invalidArgs, message: "a dict entry without key and value") }
            return .dictEntry(pair[0], pair[1])
        case "r":
            return .structure(try readContainer(message, code, contents))
        case "v":
            let content = try readContainer(message, code, contents)
            guard content.count == 1 else { throw BusError(name: BusError.invalidArgs, message: "an empty variant") }
            return .variant(content[0])
        default:
            throw BusError(name: BusError.notSupported,
                           message: "values of D-Bus type '\(Character(Unicode.Scalar(UInt8(bitPattern: code))))' are not supported")
        }
    }

    private static func readBasic<T>(_ message: OpaquePointer, _ code: CChar, _ initial: T) throws(BusError) -> T {
        var value = initial
        let result = withUnsafeMutablePointer(to: &value) { sd_bus_message_read_basic(message, code, $0) }
        if result < 0 { throw BusError.errno(result, "reading a message") }
        return value
    }

    /// The string points into the message, so it is copied before the message can go away.
    private static func readString(_ message: OpaquePointer, _ code: CChar) throws(BusError) -> String {
        let pointer = try readBasic(message, code, UnsafePointer<CChar>?.none)
        return pointer.map { String(cString: $0) } ?? ""
    }

    private static func readContainer(_ message: OpaquePointer, _ code: CChar, _ contents: String) throws(BusError) -> [BusValue] {
        let entered = sd_bus_message_enter_container(message, code, contents)
        if entered < 0 { throw BusError.errno(entered, "reading a container of type '\(contents)'") }
        let values = try readAll(from: message)
        let exited = sd_bus_message_exit_container(message)
        if exited < 0 { throw BusError.errno(exited, "reading a container of type '\(contents)'") }
        return values
    }
}

/// The C `char` sd-bus uses for a type code.
private func typeCode(_ code: Unicode.Scalar) -> CChar {
    CChar(bitPattern: UInt8(code.value))
}
