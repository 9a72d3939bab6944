/// A GPT GUID. On disk the first three fields are little-endian and the last two big-endian,
/// so the byte order differs from the printed form.
public struct GUID: Hashable, Sendable, CustomStringConvertible, Codable {
    /// The 16 bytes as stored in a GPT header or entry.
    public let diskBytes: [UInt8]

    public init(diskBytes: some Collection<UInt8>) {
        precondition(diskBytes.count == 16, "a GUID is 16 bytes")
        self.diskBytes = Array(diskBytes)
    }

    /// Parses the canonical `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx` form, in either case.
    public init?(_ text: String) {
        let hex = text.filter { $0 != "-" }
        guard text.count == 36, hex.count == 32,
              [8, 13, 18, 23].allSatisfy({ text[text.index(text.startIndex, offsetBy: $0)] == "-" })
        else { return nil }
        var printed = [UInt8]()
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            guard let byte = UInt8(hex[index..<next], radix: 16) else { return nil }
            printed.append(byte)
            index = next
        }
        diskBytes = GUID.swapMixedEndian(printed)
    }

    public static let zero = GUID(diskBytes: [UInt8](repeating: 0, count: 16))

    /// Lowercase canonical form, as libblkid, sfdisk and the kernel print it.
    public var description: String {
        let printed = GUID.swapMixedEndian(diskBytes)
        let hex = printed.map { byte in
            let digits = String(byte, radix: 16)
            return digits.count == 1 ? "0" + digits : digits
        }.joined()
        let cuts = [8, 12, 16, 20]
        var result = ""
        for (offset, character) in hex.enumerated() {
            if cuts.contains(offset) { result.append("-") }
            result.append(character)
        }
        return result
    }

    /// The mixed-endian swap is its own inverse: it turns printed order into disk order and back.
    private static func swapMixedEndian(_ bytes: [UInt8]) -> [UInt8] {
        Array(bytes[0..<4].reversed()) + Array(bytes[4..<6].reversed())
            + Array(bytes[6..<8].reversed()) + Array(bytes[8..<16])
    }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let guid = GUID(text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not a GUID: \(text)"))
        }
        self = guid
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

extension GUID {
    /// The Flatcar/CoreOS USR partition type. GRUB's `gptprio.next` and cgpt only
    /// consider partitions of this type.
    public static let flatcarUsr = GUID("5dfbf5f4-2848-4bac-aa5e-0d9a20b745a6")!
}
