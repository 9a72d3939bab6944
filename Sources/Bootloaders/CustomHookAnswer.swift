import Slots

/// A slot's state as the hook's get-state prints it and set-state receives it:
/// `priority=N tries=N good=0|1`.
struct CustomHookState: Equatable {
    var priority: UInt8
    var tries: UInt8
    var good: Bool

    init(_ attributes: BootAttributes) {
        priority = attributes.priority
        tries = attributes.tries
        good = attributes.successful
    }

    var attributes: BootAttributes {
        BootAttributes(priority: priority, tries: tries, successful: good)
    }

    var fields: [String] {
        ["priority=\(priority)", "tries=\(tries)", "good=\(good ? 1 : 0)"]
    }

    static let format = "priority=N tries=N good=0|1"

    /// Parses get-state's answer; anything but the three fields with values in range is refused.
    init(answer: [UInt8]) throws(CustomHookAnswerError) {
        let fields = try CustomHookAnswer.fields(answer, keys: ["priority", "tries", "good"])
        priority = try CustomHookAnswer.number(fields["priority"], named: "priority", maximum: BootAttributes.maximumPriority)
        tries = try CustomHookAnswer.number(fields["tries"], named: "tries", maximum: BootAttributes.maximumTries)
        good = try CustomHookAnswer.number(fields["good"], named: "good", maximum: 1) == 1
    }
}

/// get-booted's answer: the slot the bootloader started and whether it counted the boot as a
/// try: `slot=a|b consumed-try=0|1`.
struct CustomHookBootedAnswer {
    static let format = "slot=a|b consumed-try=0|1"

    static func parse(_ answer: [UInt8]) throws(CustomHookAnswerError) -> LastBoot {
        let fields = try CustomHookAnswer.fields(answer, keys: ["slot", "consumed-try"])
        guard let text = fields["slot"], let slot = SlotName(hookArgument: text) else {
            throw CustomHookAnswerError(reason: "slot must be a or b")
        }
        let consumed = try CustomHookAnswer.number(fields["consumed-try"], named: "consumed-try", maximum: 1) == 1
        return LastBoot(slot: slot, consumedTry: consumed)
    }
}

/// Why an answer was refused.
struct CustomHookAnswerError: Error {
    var reason: String
}

/// The hook's answers: one line of `key=value` fields separated by spaces or tabs, each
/// expected key exactly once and nothing else; one trailing newline is allowed. Values are
/// short decimal numbers or names, so nothing unbounded is ever converted.
enum CustomHookAnswer {
    static func fields(_ answer: [UInt8], keys: Set<String>) throws(CustomHookAnswerError) -> [String: String] {
        var line = answer[...]
        if line.last == UInt8(ascii: "\n") { line = line.dropLast() }
        guard !line.isEmpty else { throw CustomHookAnswerError(reason: "it printed nothing") }
        guard line.allSatisfy({ $0 >= 0x20 && $0 < 0x7F || $0 == UInt8(ascii: "\t") }) else {
            throw CustomHookAnswerError(reason: "it is not one line of printable ASCII")
        }
        var fields: [String: String] = [:]
        for word in line.split(whereSeparator: { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }) {
            guard let equals = word.firstIndex(of: UInt8(ascii: "=")) else {
                throw CustomHookAnswerError(reason: "\(HookText.quoted(word, limit: 40)) is not key=value")
            }
            let key = String(decoding: word[..<equals], as: UTF8.self)
            guard keys.contains(key) else {
                throw CustomHookAnswerError(reason: "unknown key \(HookText.quoted(word[..<equals], limit: 40))")
            }
            guard fields[key] == nil else { throw CustomHookAnswerError(reason: "\(key) is given twice") }
            fields[key] = String(decoding: word[(equals + 1)...], as: UTF8.self)
        }
        if let missing = keys.subtracting(fields.keys).sorted().first {
            throw CustomHookAnswerError(reason: "\(missing) is missing")
        }
        return fields
    }

    /// A decimal number from 0 to `maximum` (at most 15): one or two digits, no sign.
    static func number(_ text: String?, named name: String, maximum: UInt8) throws(CustomHookAnswerError) -> UInt8 {
        guard let text, (1...2).contains(text.utf8.count), text.utf8.allSatisfy({ (0x30...0x39).contains($0) }),
              let value = UInt8(text), value <= maximum
        else {
            throw CustomHookAnswerError(reason: "\(name) must be a number from 0 to \(maximum)")
        }
        return value
    }
}

/// A hook's output in a message: printable ASCII as is, everything else escaped, cut to a
/// length, so that a hostile answer cannot forge log lines or flood them.
enum HookText {
    /// `limit` is in characters of the result, escapes included.
    static func quoted<Bytes: Collection>(_ bytes: Bytes, limit: Int) -> String where Bytes.Element == UInt8 {
        var text = ""
        var shown = 0
        for byte in bytes {
            let piece = switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"): "\\" + String(UnicodeScalar(byte))
            case 0x20..<0x7F: String(UnicodeScalar(byte))
            case UInt8(ascii: "\n"): "\\n"
            default: "\\x" + (byte < 0x10 ? "0" : "") + String(byte, radix: 16)
            }
            guard text.utf8.count + piece.utf8.count <= limit else { break }
            text += piece
            shown += 1
        }
        return "\"" + text + "\"" + (shown < bytes.count ? "..." : "")
    }
}
