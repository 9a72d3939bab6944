import Slots

/// Why a host cannot take a bundle's boot artifacts.
public enum BootArtifactRefusal: Equatable, Sendable, CustomStringConvertible {
    /// The backend's bootloader does not load kernels from a place Tandem manages.
    case noPlacement(backend: BootBackendKind)
    /// The backend's bootloader cannot load this kind (a UKI under a backend without one).
    case unsupportedKind(backend: BootBackendKind, kind: BootArtifactKind)
    /// The target's file would be one the booted slot boots from.
    case sharedWithBootedSlot(path: String)

    public var description: String {
        switch self {
        case let .noPlacement(backend):
            "boot backend \(backend.rawValue) does not load kernels from the ESP here "
                + "(configure ESP= under [Slots], or pass --esp, for a backend that does)"
        case let .unsupportedKind(backend, kind):
            "boot backend \(backend.rawValue) cannot load a \(kind.rawValue)"
        case let .sharedWithBootedSlot(path):
            "\(path) is also the booted slot's, and the booted slot's files are never written"
        }
    }
}
