import Slots
import Verification

/// Why an install stopped. In every case the booted slot was not touched, and the target slot
/// is either as it was (the failure came before the first byte, and the message says "nothing
/// was written") or not bootable: it was invalidated before the first byte, and only a
/// verified image is ever put on trial.
public enum InstallError: Error, CustomStringConvertible {
    case targetIsBooted(slot: String)
    case targetInUse(slot: String, detail: String)
    case imageTooLarge(imageSize: UInt64, slot: String, slotSize: UInt64)
    case incompatible(bundle: String, host: String)
    case hostTooOld(required: String, running: String?)
    case hashMismatch(expected: String, actual: String)
    case readbackMismatch(expected: String, actual: String)
    /// Format 3: a chunk read back from the slot is not the signed one.
    case readbackChunkMismatch(chunk: Int, range: Range<UInt64>)
    /// The update server's size for the whole bundle file disagrees with the bundle's header.
    case payloadSizeMismatch(expected: UInt64, actual: UInt64)
    /// The update server offered one version and the bundle's signed manifest is another.
    case payloadVersionMismatch(offered: String, signed: String)
    /// The whole bundle file's SHA-256 (base64, as Omaha sends it) is not the update server's.
    case payloadHashMismatch(expected: String, actual: String)
    /// A staged slot no longer holds the image that was verified there (hex digests).
    case stagedImageChanged(slot: String, expected: String, actual: String)
    case bundle(BundleError)
    case bundleFile(BundleFileError)
    case verification(VerificationError)
    case slots(SlotError)
    /// Moving image bytes failed after the target slot was invalidated.
    case stream(StreamError)
    /// Opening or reading the bundle's preamble failed, before the target slot was touched.
    case sourceUnavailable(StreamError)
    case checkpoint(path: String, detail: String)
    /// The target's slot keys record could not be removed before its slot is written.
    case slotKeysRecord(path: String, detail: String)
    /// The caller's policy refused the verified bundle before anything was written.
    case declined(String)
    /// The verified bundle carries boot artifacts this host's boot backend cannot take;
    /// refused before anything is written rather than install the image without its kernel.
    case bootArtifactsRefused(kinds: [String], reason: BootArtifactRefusal)
    /// An artifact's bytes did not hash to the signed manifest's digest; its file was not
    /// put in place, and the target stays unbootable.
    case bootArtifactHashMismatch(kind: String, expected: String, actual: String)
    case io(String)

    public var description: String {
        switch self {
        case let .bootArtifactsRefused(kinds, reason):
            return "the bundle carries boot artifacts (\(kinds.joined(separator: ", "))), but \(reason); nothing was written"
        case let .bootArtifactHashMismatch(kind, expected, actual):
            return "the bundle's \(kind) hashes to \(actual), not to the signed \(expected); it was not installed "
                + "and the target slot stays unbootable"
        case let .targetIsBooted(slot):
            return "slot \(slot) is the booted slot; an update goes to the other slot (use --slot auto)"
        case let .targetInUse(slot, detail):
            return "slot \(slot) is in use (\(detail)); unmount it or stop what holds it, then retry"
        case let .imageTooLarge(imageSize, slot, slotSize):
            return "the image is \(imageSize) bytes but slot \(slot) holds only \(slotSize); nothing was written; "
                + "build a smaller image or grow the slot partitions"
        case let .incompatible(bundle, host):
            return "the bundle is for '\(bundle)' but this system is '\(host)'; nothing was written; fetch the bundle for '\(host)'"
        case let .hostTooOld(required, running):
            return "the bundle needs the system to run at least version \(required) first, but it runs \(running ?? "an unknown version"); "
                + "nothing was written; install an intermediate version first"
        case let .hashMismatch(expected, actual):
            return "the image's SHA-256 is \(actual), but the signed manifest says \(expected): the bundle is corrupt or was "
                + "tampered with; the target slot was left unbootable; download the bundle again"
        case let .readbackMismatch(expected, actual):
            return "reading the slot back gave SHA-256 \(actual) instead of \(expected): the disk did not store what was written; "
                + "the target slot was left unbootable; check the disk (dmesg, SMART) before retrying"
        case let .readbackChunkMismatch(chunk, range):
            return "reading the slot back, chunk \(chunk) (image bytes \(range.lowerBound)..<\(range.upperBound)) does not hash to "
                + "its signed digest: the disk did not store what was written; the target slot was left unbootable; check the "
                + "disk (dmesg, SMART) before retrying"
        case let .payloadVersionMismatch(offered, signed):
            return "the update server offered version \(offered), but the bundle it serves is signed as version \(signed); "
                + "nothing was written; the update server or the file on it is wrong"
        case let .payloadSizeMismatch(expected, actual):
            return "the update server says the package is \(expected) bytes, but the bundle's header says the file is \(actual) "
                + "bytes; nothing was written; the update server or the file on it is wrong, so report it to whoever runs "
                + "the server rather than retrying"
        case let .payloadHashMismatch(expected, actual):
            return "the update server says the package's SHA-256 is \(expected) (base64), but the bundle file that arrived "
                + "hashes to \(actual); its image is the signed one, but the file is not the one the server announced: the "
                + "update server or the file on it is wrong, or the download was altered on the way; the target slot was "
                + "left unbootable; retry the update, and report it to whoever runs the server if it persists"
        case let .stagedImageChanged(slot, expected, actual):
            return "the staged slot \(slot) no longer holds the verified image: it hashes to SHA-256 \(actual) instead of "
                + "\(expected), so something wrote to it after it was staged, or the disk did not keep it; the slot was "
                + "left unbootable; install the update again"
        case let .bundle(error):
            return "\(error)"
        case let .verification(error):
            return "\(error)"
        case let .bundleFile(error):
            return "\(error)"
        case let .slots(error):
            return "\(error)"
        case let .stream(error):
            return "\(error); the target slot was left unbootable, and a retry resumes from the last checkpoint"
        case let .sourceUnavailable(error):
            return "\(error); nothing was written: the target slot is as it was"
        case let .checkpoint(path, detail):
            return "cannot write the checkpoint \(path): \(detail); check that the state directory is writable"
        case let .slotKeysRecord(path, detail):
            return "cannot remove \(path), the target slot's recorded block keys: \(detail); nothing was written, "
                + "check that the state directory is writable"
        case let .declined(reason):
            return reason
        case let .io(detail):
            return "\(detail); the target slot was left unbootable"
        }
    }

    /// Lifts any error from the layers below into an `InstallError`.
    public static func wrap(_ error: any Error) -> InstallError {
        switch error {
        case let error as InstallError: error
        case let error as BundleError: .bundle(error)
        case let BundleFileError.invalid(_, error): .bundle(error)
        case let error as BundleFileError: .bundleFile(error)
        case let error as VerificationError: .verification(error)
        case let error as SlotError: .slots(error)
        case let error as StreamError: .stream(error)
        default: .io("\(error)")
        }
    }
}
