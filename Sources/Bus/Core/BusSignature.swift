/// D-Bus type signatures, checked here so that a malformed description or value is refused
/// with a message naming it, rather than as a bare EINVAL from deep inside sd-bus.
enum BusSignature {
    /// The single complete types `signature` consists of, or nil when it is not a valid
    /// signature of types `BusValue` can hold (unix fds, 'h', are not supported).
    static func completeTypes(_ signature: String) -> [String]? {
        let bytes = Array(signature.utf8)
        guard bytes.count <= 255 else { return nil }
        var types: [String] = []
        var index = 0
        while index < bytes.count {
            guard let end = completeTypeEnd(bytes, from: index, depth: 0) else { return nil }
            types.append(String(decoding: bytes[index..<end], as: UTF8.self))
            index = end
        }
        return types
    }

    static func isSingleCompleteType(_ signature: String) -> Bool {
        completeTypes(signature)?.count == 1
    }

    /// A dict entry `{kv}` may only appear as an array's element type, so it is checked
    /// separately from single complete types.
    static func isArrayElement(_ signature: String) -> Bool {
        let bytes = Array(signature.utf8)
        guard bytes.count <= 254 else { return false }
        return arrayElementEnd(bytes, from: 0, depth: 0) == bytes.count
    }

    private static let basicTypes = Set("ybnqiuxtdsog".utf8)
    // The spec allows 32 levels each of arrays and structs; one bound on both keeps the
    // recursion (and so the stack) small.
    private static let maximumDepth = 64

    private static func completeTypeEnd(_ bytes: [UInt8], from index: Int, depth: Int) -> Int? {
        guard index < bytes.count, depth <= maximumDepth else { return nil }
        let code = bytes[index]
        if basicTypes.contains(code) || code == UInt8(ascii: "v") { return index + 1 }
        switch code {
        case UInt8(ascii: "a"):
            return arrayElementEnd(bytes, from: index + 1, depth: depth + 1)
        case UInt8(ascii: "("):
            var position = index + 1
            guard position < bytes.count, bytes[position] != UInt8(ascii: ")") else { return nil }
            while position < bytes.count, bytes[position] != UInt8(ascii: ")") {
                guard let end = completeTypeEnd(bytes, from: position, depth: depth + 1) else { return nil }
                position = end
            }
            return position < bytes.count ? position + 1 : nil
        default:
            return nil
        }
    }

    private static func arrayElementEnd(_ bytes: [UInt8], from index: Int, depth: Int) -> Int? {
        guard index < bytes.count else { return nil }
        guard bytes[index] == UInt8(ascii: "{") else { return completeTypeEnd(bytes, from: index, depth: depth) }
        let keyIndex = index + 1
        guard keyIndex < bytes.count, basicTypes.contains(bytes[keyIndex]),
              let valueEnd = completeTypeEnd(bytes, from: keyIndex + 1, depth: depth + 1),
              valueEnd < bytes.count, bytes[valueEnd] == UInt8(ascii: "}")
        else { return nil }
        return valueEnd + 1
    }
}
