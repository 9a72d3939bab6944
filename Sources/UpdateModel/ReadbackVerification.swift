/// Whether an install reads its slot back and hashes it again once written: what the request
/// asks for, where "nothing asked" is a value of its own, not a missing Bool.
public enum ReadbackVerification: String, Sendable, CaseIterable {
    /// As `VerifyReadback=` in `[Update]` says (on by default).
    case configured
    case verify
    case skip

    /// Whether to read back, with `setting` the configured `VerifyReadback=`.
    public func resolved(configured setting: Bool) -> Bool {
        switch self {
        case .configured: setting
        case .verify: true
        case .skip: false
        }
    }
}
