import Foundation
import Slots

/// A GPT disk image in memory with typed access to the fields of either copy, for crafting
/// hostile tables whose CRCs are still valid: edit fields, then `reseal()`, and the parser
/// sees exactly the edited values instead of stopping at a CRC mismatch.
public struct GPTImage {
    public enum Copy: String, CaseIterable, Sendable {
        case primary, backup
    }

    /// Header fields: byte offset and width.
    public enum HeaderField: String, CaseIterable, Sendable {
        case currentLBA, alternateLBA, firstUsableLBA, lastUsableLBA, entriesLBA, entryCount, entrySize

        var layout: (offset: Int, width: Int) {
            switch self {
            case .currentLBA: (24, 8)
            case .alternateLBA: (32, 8)
            case .firstUsableLBA: (40, 8)
            case .lastUsableLBA: (48, 8)
            case .entriesLBA: (72, 8)
            case .entryCount: (80, 4)
            case .entrySize: (84, 4)
            }
        }
    }

    /// Partition-entry fields: byte offset within the entry and width.
    public enum EntryField: String, CaseIterable, Sendable {
        case typeGUIDLow, typeGUIDHigh, firstLBA, lastLBA, attributes

        var layout: (offset: Int, width: Int) {
            switch self {
            case .typeGUIDLow: (0, 8)
            case .typeGUIDHigh: (8, 8)
            case .firstLBA: (32, 8)
            case .lastLBA: (40, 8)
            case .attributes: (48, 8)
            }
        }
    }

    public var bytes: [UInt8]
    public let sectorSize: Int
    /// Where each copy's header and entry array were when the image was loaded: edits of entry
    /// fields go there, whatever the headers say afterwards.
    private let headerLBA: [Copy: Int]
    private let entriesLBA: [Copy: Int]
    public static let standardEntrySize = 128

    public init(bytes: [UInt8], sectorSize: Int = 512) {
        self.bytes = bytes
        self.sectorSize = sectorSize
        let lastLBA = bytes.count / sectorSize - 1
        let headers: [Copy: Int] = [.primary: 1, .backup: lastLBA]
        headerLBA = headers
        entriesLBA = headers.mapValues { lba in
            Int(GPTImage.read(bytes, at: lba * sectorSize + HeaderField.entriesLBA.layout.offset, width: 8))
        }
    }

    public init(contentsOf path: String, sectorSize: Int = 512) throws {
        self.init(bytes: [UInt8](try Data(contentsOf: URL(fileURLWithPath: path))), sectorSize: sectorSize)
    }

    /// Edits the image file at `path` in place, resealing every CRC afterwards.
    public static func edit(_ path: String, sectorSize: Int = 512, _ body: (inout GPTImage) -> Void) throws {
        var image = try GPTImage(contentsOf: path, sectorSize: sectorSize)
        body(&image)
        image.reseal()
        try image.write(to: path)
    }

    public func write(to path: String) throws {
        try Data(bytes).write(to: URL(fileURLWithPath: path))
    }

    public var sectorCount: UInt64 { UInt64(bytes.count / sectorSize) }

    public subscript(copy: Copy, field: HeaderField) -> UInt64 {
        get { Self.read(bytes, at: headerOffset(copy) + field.layout.offset, width: field.layout.width) }
        set { write(newValue, at: headerOffset(copy) + field.layout.offset, width: field.layout.width) }
    }

    /// Field of entry `number` (1-based) in the entry array as originally laid out (128-byte entries).
    public subscript(copy: Copy, entry number: Int, field: EntryField) -> UInt64 {
        get { Self.read(bytes, at: entryOffset(copy, number) + field.layout.offset, width: field.layout.width) }
        set { write(newValue, at: entryOffset(copy, number) + field.layout.offset, width: field.layout.width) }
    }

    /// Sets a field in both copies.
    public mutating func set(_ field: HeaderField, _ value: UInt64) {
        for copy in Copy.allCases { self[copy, field] = value }
    }

    /// Sets an entry field in both copies.
    public mutating func set(entry number: Int, _ field: EntryField, _ value: UInt64) {
        for copy in Copy.allCases { self[copy, entry: number, field] = value }
    }

    /// Recomputes, for each copy, the entry-array CRC over the bytes its header now points at
    /// (when they lie inside the image), then the header CRC.
    public mutating func reseal() {
        for copy in Copy.allCases {
            let header = headerOffset(copy)
            let start = self[copy, .entriesLBA].multipliedReportingOverflow(by: UInt64(sectorSize))
            let length = self[copy, .entryCount].multipliedReportingOverflow(by: self[copy, .entrySize])
            if !start.overflow, !length.overflow, length.partialValue <= 4 << 20,
               start.partialValue <= UInt64(bytes.count), length.partialValue <= UInt64(bytes.count) - start.partialValue {
                let range = Int(start.partialValue)..<Int(start.partialValue + length.partialValue)
                write(UInt64(CRC32.checksum(bytes[range])), at: header + 88, width: 4)
            }
            write(0, at: header + 16, width: 4)
            let size = min(Int(Self.read(bytes, at: header + 12, width: 4)), sectorSize)
            write(UInt64(CRC32.checksum(bytes[header..<header + max(size, 0)])), at: header + 16, width: 4)
        }
    }

    private func headerOffset(_ copy: Copy) -> Int { (headerLBA[copy] ?? 1) * sectorSize }

    private func entryOffset(_ copy: Copy, _ number: Int) -> Int {
        (entriesLBA[copy] ?? 2) * sectorSize + (number - 1) * Self.standardEntrySize
    }

    private static func read(_ bytes: [UInt8], at offset: Int, width: Int) -> UInt64 {
        (0..<width).reduce(UInt64(0)) { $0 | UInt64(bytes[offset + $1]) << (8 * $1) }
    }

    private mutating func write(_ value: UInt64, at offset: Int, width: Int) {
        for byte in 0..<width { bytes[offset + byte] = UInt8(truncatingIfNeeded: value >> (8 * byte)) }
    }
}
