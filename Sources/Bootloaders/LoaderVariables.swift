import Platform
import SystemPackage

/// The Boot Loader Interface's EFI variables that systemd-boot sets at boot, read from
/// efivarfs: each file is a 4-byte attribute word, then the value, here a UTF-16LE string
/// with a trailing NUL.
public struct LoaderVariables: Sendable {
    /// Where efivarfs is mounted; tests pass a directory of their own.
    public var directory: String

    public static let defaultDirectory = "/sys/firmware/efi/efivars"
    /// The vendor GUID of the Boot Loader Interface's variables.
    public static let vendor = "4a67b082-0a4c-41cf-b6c7-440b29bb8c4f"
    /// No loader variable Tandem reads is longer than a path; a longer file is not one.
    static let limit = 4096

    public init(directory: String = LoaderVariables.defaultDirectory) {
        self.directory = directory
    }

    /// The id (lowercased file name, before the boot's counter rename) of the entry booted.
    public var entrySelected: String? { string("LoaderEntrySelected") }
    /// The ESP path of the entry after systemd-boot renamed its counter, `\loader\entries\…`;
    /// set only when the boot was counted.
    public var bootCountPath: String? { string("LoaderBootCountPath") }

    /// The variable's string value; nil when it is absent or not a UTF-16LE string.
    public func string(_ name: String) -> String? {
        guard let bytes = try? FileDescriptor.contents(of: FilePath(directory + "/" + name + "-" + Self.vendor), limit: Self.limit)
        else { return nil }
        return Self.decode(bytes)
    }

    /// The value after the attribute word, as UTF-16LE up to the first NUL.
    public static func decode(_ bytes: [UInt8]) -> String? {
        guard bytes.count >= 4, (bytes.count - 4) % 2 == 0 else { return nil }
        var units: [UInt16] = []
        var index = 4
        while index < bytes.count {
            let unit = UInt16(bytes[index]) | UInt16(bytes[index + 1]) << 8
            if unit == 0 { break }
            units.append(unit)
            index += 2
        }
        return String(validating: units, as: UTF16.self)
    }
}
