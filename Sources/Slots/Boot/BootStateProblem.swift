/// Damage found in a backend's stored boot state that Tandem can still read past, and that
/// its next write repairs.
public enum BootStateProblem: Equatable, Sendable, CustomStringConvertible {
    case gpt(GPTProblem)
    /// The grubenv block (a bad signature or size, or lines that are not `name=value`).
    case grubEnvironment(path: String, detail: String)
    /// The ESP's loader entries (a slot with two entries, a leftover temporary file).
    case loaderEntries(directory: String, detail: String)

    public var description: String {
        switch self {
        case let .gpt(problem): "\(problem)"
        case let .grubEnvironment(path, detail): "GRUB environment \(path): \(detail); it is rewritten"
        case let .loaderEntries(directory, detail): "loader entries in \(directory): \(detail); they are rewritten"
        }
    }
}
