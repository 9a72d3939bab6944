/// The marks `Mark` accepts, as RAUC names them.
public enum MarkState: String, Sendable, CaseIterable {
    /// The slot booted and works: stop counting tries.
    case good
    /// The slot must not boot again until something new is installed into it.
    case bad
    /// The slot boots next.
    case active
}
