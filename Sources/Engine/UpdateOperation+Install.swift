import Streaming

/// The installer's progress in the status's terms: the wire types know nothing of `Streaming`.
extension UpdateOperation {
    init(_ phase: InstallProgress.Phase) {
        switch phase {
        case .resuming: self = .resuming
        case .writing: self = .writing
        case .verifying: self = .verifying
        }
    }
}

extension ProgressReport {
    init(_ progress: InstallProgress) {
        self.init(phase: progress.phase, bytesDone: progress.bytesDone, bytesTotal: progress.bytesTotal,
                  bytesPerSecond: progress.bytesPerSecond, secondsRemaining: progress.secondsRemaining)
    }
}
