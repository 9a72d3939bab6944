import SystemPackage

/// Why a backend could not read or change the bootloader's state. `SlotError` covers the
/// disk and its GPT; this covers the bootloader's own files and hooks.
public enum BootBackendError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Something the backend needs is not configured or not found (no ESP, no hook).
    case notConfigured(backend: BootBackendKind, detail: String)
    /// The stored state is unreadable or makes no sense, and nothing to repair it from exists.
    case unreadableState(backend: BootBackendKind, location: String, detail: String)
    /// A file operation on the bootloader's files failed.
    case ioFailed(backend: BootBackendKind, path: String, operation: String, errno: Errno)
    /// The custom hook exited with an error, was killed, or answered something unreadable.
    case hookFailed(hook: String, operation: String, detail: String)

    public var description: String {
        switch self {
        case let .notConfigured(backend, detail):
            "boot backend \(backend.rawValue) cannot run: \(detail)"
        case let .unreadableState(backend, location, detail):
            "boot backend \(backend.rawValue): the state in \(location) cannot be used: \(detail)"
        case let .ioFailed(backend, path, operation, errno):
            "boot backend \(backend.rawValue): cannot \(operation) \(path): \(errno)"
        case let .hookFailed(hook, operation, detail):
            "boot hook \(hook) failed at \(operation): \(detail)"
        }
    }
}
