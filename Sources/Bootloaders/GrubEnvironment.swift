/// GRUB's environment block (grubenv), read exactly as GRUB's `grub_envblk_iterate` reads it,
/// which is what `load_env` and `grub-editenv list` see.
///
/// The block is a signature line, `name=value` lines and `#` padding up to its size (1024
/// bytes as `grub-editenv create` makes it). In a value, a backslash escapes the next byte, so
/// `\\` is a backslash and a backslash before a newline keeps the newline in the value. Names
/// are taken raw up to the first `=` (a name may even span a newline); a line starting with `#`
/// is skipped. GRUB stops at the first line that has no `=` or no newline before the end of
/// the block, so what follows is invisible to it. Names and values reach GRUB as C strings,
/// so each ends at its first NUL byte.
public struct GrubEnvironment: Sendable, Equatable {
    public struct Variable: Sendable, Equatable {
        public var name: [UInt8]
        public var value: [UInt8]

        public init(name: [UInt8], value: [UInt8]) {
            self.name = name
            self.value = value
        }

        public init(_ name: String, _ value: String) {
            self.init(name: Array(name.utf8), value: Array(value.utf8))
        }
    }

    /// Every variable GRUB reports, in block order, duplicates included.
    public var variables: [Variable]

    public init(variables: [Variable] = []) {
        self.variables = variables
    }

    /// `# GRUB Environment Block` and its newline.
    public static let signature: [UInt8] = Array("# GRUB Environment Block\n".utf8)
    /// The size `grub-editenv create` gives a block, and the one Tandem writes.
    public static let blockSize = 1024
    /// Larger files are refused before they are read: a grubenv is a kilobyte.
    public static let maximumFileSize = 64 * 1024

    /// The value `load_env` leaves in `name`: the last occurrence wins, because GRUB sets each
    /// variable in turn. Nil when the block does not have it.
    public func value(of name: String) -> [UInt8]? {
        let key = Array(name.utf8)
        return variables.last { $0.name == key }?.value
    }

    /// How many times `name` occurs.
    public func count(of name: String) -> Int {
        let key = Array(name.utf8)
        return variables.reduce(0) { $0 + ($1.name == key ? 1 : 0) }
    }
}

/// A block GRUB can read, with what is wrong with it that GRUB reads past.
public struct ParsedGrubEnvironment: Sendable, Equatable {
    public var environment: GrubEnvironment
    public var defects: [GrubEnvironmentDefect]
}

/// What GRUB tolerates in a block but Tandem reports, because it loses something.
public enum GrubEnvironmentDefect: Sendable, Equatable, CustomStringConvertible {
    /// The block is not `GrubEnvironment.blockSize` bytes long.
    case unusualSize(Int)
    /// GRUB stopped reading at this offset: a line without `=` or without its newline.
    case brokenLine(offset: Int)
    /// The block does not end in a newline followed by `#` padding, so GRUB's `save_env`
    /// finds no free space and cannot write to it.
    case noFreeSpace

    public var description: String {
        switch self {
        case let .unusualSize(size):
            "it is \(size) bytes, not \(GrubEnvironment.blockSize)"
        case let .brokenLine(offset):
            "the line at byte \(offset) has no '=' or no newline, so GRUB ignores it and everything after it"
        case .noFreeSpace:
            "it does not end in a newline and '#' padding, so GRUB's save_env cannot write to it"
        }
    }
}

/// Why a file is not a GRUB environment block at all (GRUB's `invalid environment block`).
public enum GrubEnvironmentParseError: Error, Sendable, Equatable, CustomStringConvertible {
    case missingSignature
    case tooLarge(Int)

    public var description: String {
        switch self {
        case .missingSignature:
            "it does not start with '# GRUB Environment Block' and a newline (GRUB: invalid environment block)"
        case let .tooLarge(size):
            "it is \(size) bytes, more than the \(GrubEnvironment.maximumFileSize) a GRUB environment block may be"
        }
    }
}

extension GrubEnvironment {
    private static let newline = UInt8(ascii: "\n")
    private static let backslash = UInt8(ascii: "\\")
    private static let equals = UInt8(ascii: "=")
    private static let hash = UInt8(ascii: "#")

    /// Reads `bytes` as GRUB does. Never traps: every index is checked against the end.
    public static func parse(_ bytes: [UInt8]) throws(GrubEnvironmentParseError) -> ParsedGrubEnvironment {
        guard bytes.count <= maximumFileSize else { throw .tooLarge(bytes.count) }
        // GRUB compares `sizeof` the signature, which counts the C string's NUL: a block must
        // be one byte longer than its signature.
        guard bytes.count > signature.count, bytes.starts(with: signature) else { throw .missingSignature }

        var defects: [GrubEnvironmentDefect] = []
        if bytes.count != blockSize { defects.append(.unusualSize(bytes.count)) }
        if !hasFreeSpace(bytes) { defects.append(.noFreeSpace) }

        var variables: [Variable] = []
        let end = bytes.count
        var position = signature.count
        while position < end {
            if bytes[position] != hash {
                let lineStart = position
                guard let nameEnd = bytes[position...].firstIndex(of: equals),
                      let valueEnd = lineEnd(in: bytes, from: nameEnd + 1)
                else {
                    defects.append(.brokenLine(offset: lineStart))
                    break
                }
                variables.append(Variable(name: cString(bytes[lineStart..<nameEnd]),
                                          value: cString(unescaped(bytes[(nameEnd + 1)..<valueEnd]))))
                position = valueEnd
            }
            position = nextLine(in: bytes, from: position)
        }
        return ParsedGrubEnvironment(environment: GrubEnvironment(variables: variables), defects: defects)
    }

    /// The offset of the newline that ends the value starting at `start`, skipping escaped
    /// bytes; nil when the block ends first (GRUB: broken).
    private static func lineEnd(in bytes: [UInt8], from start: Int) -> Int? {
        var position = start
        while position < bytes.count {
            if bytes[position] == newline { return position }
            position += bytes[position] == backslash ? 2 : 1
        }
        return nil
    }

    /// GRUB's `find_next_line`: the offset after the next unescaped newline.
    private static func nextLine(in bytes: [UInt8], from start: Int) -> Int {
        var position = start
        while position < bytes.count {
            if bytes[position] == newline { break }
            position += bytes[position] == backslash ? 2 : 1
        }
        return position + 1
    }

    private static func unescaped(_ escaped: ArraySlice<UInt8>) -> [UInt8] {
        var value: [UInt8] = []
        value.reserveCapacity(escaped.count)
        var index = escaped.startIndex
        while index < escaped.endIndex {
            if escaped[index] == backslash, index + 1 < escaped.endIndex {
                index += 1
            }
            value.append(escaped[index])
            index += 1
        }
        return value
    }

    private static func cString<C: Collection<UInt8>>(_ bytes: C) -> [UInt8] {
        Array(bytes.prefix { $0 != 0 })
    }

    /// GRUB's `grub_envblk_set` looks for free space backwards from the end over `#` and needs
    /// a newline before it.
    private static func hasFreeSpace(_ bytes: [UInt8]) -> Bool {
        guard let last = bytes.lastIndex(where: { $0 != hash }) else { return false }
        return bytes[last] == newline
    }

    /// The block as `grub-editenv` writes it: the signature, one `name=value` line per
    /// variable with backslashes and newlines escaped, and `#` up to `size` bytes. Nil when the
    /// variables do not fit.
    public func serialized(size: Int = GrubEnvironment.blockSize) -> [UInt8]? {
        var bytes = Self.signature
        for variable in variables {
            bytes += variable.name
            bytes.append(Self.equals)
            for byte in variable.value {
                if byte == Self.backslash || byte == Self.newline { bytes.append(Self.backslash) }
                bytes.append(byte)
            }
            bytes.append(Self.newline)
        }
        guard bytes.count <= size else { return nil }
        bytes += [UInt8](repeating: Self.hash, count: size - bytes.count)
        return bytes
    }
}
