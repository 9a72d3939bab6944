import Platform
import SystemPackage

/// update_engine's layered `KEY=VALUE` files (update.conf, release, oem-release), read as its
/// `simple_key_value_store` and `SearchConfValue` read them, so that a machine moved from
/// update_engine to Tandem asks the same server the same things.
struct FlatcarKeyValueFiles {
    /// No file of this kind is more than a few hundred bytes; a larger one is a mistake.
    static let sizeLimit = 1 << 20

    /// The files' keys and values, in the order searched; files that do not exist are left out.
    private let layers: [[String: String]]

    /// Reads `paths` under `root` (`""` for the running system). A missing file is skipped, as
    /// update_engine skips it. Unlike update_engine, one that exists but cannot be read is an
    /// error: skipping it silently could send the machine to another server or group.
    init(root: String, paths: [String]) throws(OmahaHostError) {
        var layers: [[String: String]] = []
        for path in paths {
            let full = root + path
            let bytes: [UInt8]
            do {
                bytes = try FileDescriptor.contents(of: FilePath(full), limit: Self.sizeLimit)
            } catch .noSuchFileOrDirectory, .notDirectory {
                continue
            } catch .fileTooLarge {
                throw .tooLarge(path: full, limit: Self.sizeLimit)
            } catch {
                throw .unreadable(path: full, reason: error.description)
            }
            layers.append(Self.parse(bytes))
        }
        self.layers = layers
    }

    /// The value from the first file that has `key`, even when it is empty: `GROUP=` in
    /// /etc/flatcar/update.conf hides the `GROUP` of /usr/share/flatcar/update.conf.
    subscript(key: String) -> String? {
        for layer in layers {
            if let value = layer[key] { return value }
        }
        return nil
    }

    /// One file, exactly as update_engine parses it: lines split at `\n` only, each at its first
    /// `=`, lines without one skipped, the last of a key winning. A value wrapped in matching
    /// `"` or `'` loses them. There is no comment or whitespace handling: `# GROUP=beta` sets the
    /// key `# GROUP`, `GROUP = beta` the key `GROUP `, and a `\r` stays in the value (and keeps
    /// its quotes on). Bytes, not Characters, because Swift takes `\r\n` as one Character.
    static func parse(_ bytes: [UInt8]) -> [String: String] {
        var values: [String: String] = [:]
        for line in bytes.split(separator: UInt8(ascii: "\n")) {
            guard let equals = line.firstIndex(of: UInt8(ascii: "=")) else { continue }
            var value = line[(equals + 1)...]
            if value.count >= 2, let first = value.first, first == UInt8(ascii: "\"") || first == UInt8(ascii: "'"),
               value.last == first {
                value = value.dropFirst().dropLast()
            }
            values[String(decoding: line[..<equals], as: UTF8.self)] = String(decoding: value, as: UTF8.self)
        }
        return values
    }
}
