/// Why the configuration file cannot be used. The daemon refuses to start on any of these:
/// guessing what a mistyped key meant could update the wrong disk.
public enum ConfigurationError: Error, CustomStringConvertible, Equatable {
    case unreadable(path: String, reason: String)
    case syntax(path: String, line: Int, text: String)
    case outsideSection(path: String, line: Int, text: String)
    case unknownSection(path: String, line: Int, section: String)
    case unknownKey(path: String, line: Int, section: String, key: String)
    case invalidValue(path: String, line: Int, key: String, value: String, expected: String)
    /// Two settings that cannot both hold.
    case conflict(path: String, message: String)

    public var description: String {
        switch self {
        case let .unreadable(path, reason):
            return "cannot read the configuration \(path): \(reason)"
        case let .syntax(path, line, text):
            return "\(path):\(line): '\(text)' is neither a [Section] header nor Key=Value; fix or remove the line"
        case let .outsideSection(path, line, text):
            return "\(path):\(line): '\(text)' comes before any [Section] header; put it under the section it belongs to "
                + "(see docs/configuration.md)"
        case let .unknownSection(path, line, section):
            return "\(path):\(line): unknown section [\(section)]; the sections are "
                + Configuration.knownKeys.keys.sorted().map { "[\($0)]" }.joined(separator: ", ")
                + " (see docs/configuration.md)"
        case let .unknownKey(path, line, section, key):
            return "\(path):\(line): [\(section)] has no key \(key); it has "
                + (Configuration.knownKeys[section] ?? []).joined(separator: ", ") + " (see docs/configuration.md)"
        case let .invalidValue(path, line, key, value, expected):
            return "\(path):\(line): \(key)=\(value) is not valid: expected \(expected)"
        case let .conflict(path, message):
            return "\(path): \(message)"
        }
    }
}
