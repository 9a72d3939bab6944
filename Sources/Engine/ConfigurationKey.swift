/// One key of tandem.conf, declared once: its section and name, how its value is read, and
/// where the value goes. `Configuration.keys` is the table of them; the parser, the error
/// messages and docs/configuration.md's test all read that table.
struct ConfigurationKey: Sendable {
    /// Why a value was refused: what a valid value looks like, for the error message.
    struct Rejection: Error {
        var expected: String
    }

    typealias Apply = @Sendable (inout Configuration, String) throws(Rejection) -> Void

    let section: String
    let name: String
    let apply: Apply

    init(_ section: String, _ name: String, apply: @escaping Apply) {
        self.section = section
        self.name = name
        self.apply = apply
    }

    /// The longest duration any `…Sec=` key takes: 2³² - 1 seconds (136 years), far beyond any
    /// sensible interval, and small enough that sums of a few of them never overflow `Int`.
    static let maximumSeconds = Int(UInt32.max)

    /// Free text; empty puts the key back to its default of "unset".
    static func text(_ section: String, _ name: String,
                     _ destination: WritableKeyPath<Configuration, String?> & Sendable) -> ConfigurationKey {
        ConfigurationKey(section, name) { configuration, value in
            configuration[keyPath: destination] = value.isEmpty ? nil : value
        }
    }

    /// A label or name that must not be empty.
    static func name(_ section: String, _ name: String, _ expected: String,
                     _ destination: WritableKeyPath<Configuration, String> & Sendable) -> ConfigurationKey {
        ConfigurationKey(section, name) { configuration, value throws(Rejection) in
            guard !value.isEmpty else { throw Rejection(expected: expected) }
            configuration[keyPath: destination] = value
        }
    }

    /// systemd's booleans.
    static func flag(_ section: String, _ name: String,
                     _ destination: WritableKeyPath<Configuration, Bool> & Sendable) -> ConfigurationKey {
        ConfigurationKey(section, name) { configuration, value throws(Rejection) in
            guard let flag = ConfigurationFile.boolean(value) else { throw Rejection(expected: "yes or no") }
            configuration[keyPath: destination] = flag
        }
    }

    /// A whole number of seconds within `range` (at most `maximumSeconds`).
    static func seconds(_ section: String, _ name: String, _ range: ClosedRange<Int>,
                        _ destination: WritableKeyPath<Configuration, Int> & Sendable) -> ConfigurationKey {
        let bounded = range.clamped(to: Int.min...maximumSeconds)
        let lower = switch bounded.lowerBound {
        case 0: "a whole number of seconds, 0 or more"
        case 1: "a whole number of seconds greater than 0"
        case let minimum: "a whole number of seconds, at least \(minimum)"
        }
        let expected = lower + ", up to \(bounded.upperBound)"
        return ConfigurationKey(section, name) { configuration, value throws(Rejection) in
            guard let seconds = Int(value), bounded.contains(seconds) else { throw Rejection(expected: expected) }
            configuration[keyPath: destination] = seconds
        }
    }

    /// One of an enumeration's raw values, which are its spellings in the file.
    static func choice<Choice: RawRepresentable & CaseIterable & Sendable>(
        _ section: String, _ name: String, _ destination: WritableKeyPath<Configuration, Choice> & Sendable
    ) -> ConfigurationKey where Choice.RawValue == String {
        let spellings = Choice.allCases.map(\.rawValue)
        let expected = spellings.count == 2 ? spellings.joined(separator: " or ")
            : "one of " + spellings.joined(separator: ", ")
        return ConfigurationKey(section, name) { configuration, value throws(Rejection) in
            guard let choice = Choice(rawValue: value) else { throw Rejection(expected: expected) }
            configuration[keyPath: destination] = choice
        }
    }

    /// An absolute path that must be set.
    static func path(_ section: String, _ name: String,
                     _ destination: WritableKeyPath<Configuration, String> & Sendable) -> ConfigurationKey {
        ConfigurationKey(section, name) { configuration, value throws(Rejection) in
            guard value.hasPrefix("/") else { throw Rejection(expected: "an absolute path") }
            configuration[keyPath: destination] = value
        }
    }

    /// An absolute path, or empty for "unset".
    static func optionalPath(_ section: String, _ name: String, _ expected: String,
                             _ destination: WritableKeyPath<Configuration, String?> & Sendable) -> ConfigurationKey {
        ConfigurationKey(section, name) { configuration, value throws(Rejection) in
            guard value.isEmpty || value.hasPrefix("/") else { throw Rejection(expected: expected) }
            configuration[keyPath: destination] = value.isEmpty ? nil : value
        }
    }

    /// One or more words separated by spaces.
    static func list(_ section: String, _ name: String, _ expected: String,
                     _ destination: WritableKeyPath<Configuration, [String]> & Sendable) -> ConfigurationKey {
        ConfigurationKey(section, name) { configuration, value throws(Rejection) in
            let words = value.split(separator: " ").map(String.init)
            guard !words.isEmpty else { throw Rejection(expected: expected) }
            configuration[keyPath: destination] = words
        }
    }
}
