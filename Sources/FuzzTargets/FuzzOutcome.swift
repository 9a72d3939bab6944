/// How far an input got: accepted by every stage, or refused with an error.
///
/// libFuzzer ignores it; the replay test uses it to prove that the entry point really ran and
/// that every seed, a valid sample, is still accepted.
public enum FuzzOutcome: Equatable, Sendable, CustomStringConvertible {
    case accepted
    /// The first error, as the user would read it.
    case rejected(String)

    init(_ body: () throws -> Void) {
        do {
            try body()
            self = .accepted
        } catch {
            self = .rejected("\(error)")
        }
    }

    public var description: String {
        switch self {
        case .accepted: "accepted"
        case let .rejected(reason): "rejected: \(reason)"
        }
    }
}
