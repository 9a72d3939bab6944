import Omaha

/// An Omaha server's answer: to an update check, read in full, and to an event or a ping,
/// where only the envelope is checked.
enum OmahaTarget {
    static func run(_ input: [UInt8]) -> FuzzOutcome {
        _ = try? OmahaResponse.checkAcknowledgement(input)
        return FuzzOutcome { _ = try OmahaResponse.parse(input) }
    }
}
