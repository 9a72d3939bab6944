import Omaha
import Streaming

extension InstallError {
    /// The error code update_engine would report for the same failure, for the `3/0` event that
    /// tells the update server why this machine did not update.
    var omahaCode: OmahaErrorCode {
        switch self {
        case .payloadSizeMismatch: .payloadSizeMismatch
        case .payloadHashMismatch, .hashMismatch: .payloadHashMismatch
        case .payloadVersionMismatch: .downloadPayloadVerificationError
        case .readbackMismatch, .readbackChunkMismatch, .stagedImageChanged: .newRootfsVerificationError
        case .verification, .bundle, .incompatible, .hostTooOld: .downloadPayloadVerificationError
        case .bundleFile: .downloadTransferError
        case .targetIsBooted, .targetInUse, .slots: .installDeviceOpenError
        case .imageTooLarge: .downloadWriteError
        case let .stream(error), let .sourceUnavailable(error):
            switch error {
            case .http, .httpStatus, .sourceEndedEarly, .sourceTooLong, .unsupportedSource: .downloadTransferError
            case .writeFailed, .syncFailed, .outOfSlot, .readFailed: .downloadWriteError
            case .cannotOpen, .slotOutsideDisk: .installDeviceOpenError
            case .chunkMismatch: .payloadHashMismatch
            case .chunkLayoutUnsupported: .downloadPayloadVerificationError
            case .cancelled: .error
            }
        case .checkpoint, .slotKeysRecord: .downloadStateInitializationError
        case .declined, .bootArtifactsRefused, .bootArtifactHashMismatch, .io: .error
        }
    }
}
