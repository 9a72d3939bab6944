#if canImport(Glibc)
import Glibc
#endif
import Streaming
import Synchronization

/// Shows install progress: a live bar on a terminal, a plain line per 10% otherwise (logs, CI).
/// Reports arrive from the installer's threads one at a time; the lock keeps what was printed
/// last consistent with the line on the screen.
final class ProgressPrinter: Sendable {
    private let interactive = isatty(STDOUT_FILENO) == 1
    private let printed = Mutex(Printed())

    private struct Printed {
        var phase: InstallProgress.Phase?
        var decile = -1
        /// A bar is drawn and its line not yet ended.
        var lineOpen = false
    }

    func show(_ progress: InstallProgress) {
        printed.withLock { show(progress, after: &$0) }
    }

    private func show(_ progress: InstallProgress, after printed: inout Printed) {
        let fraction = progress.bytesTotal == 0 ? 1 : Double(progress.bytesDone) / Double(progress.bytesTotal)
        let decile = Int(fraction * 10)
        // Decide before formatting anything: most reports print nothing in plain mode.
        if !interactive {
            guard progress.phase != printed.phase || decile > printed.decile else { return }
            printed.phase = progress.phase
            printed.decile = decile
        }
        let rate = "\(formatBytes(UInt64(progress.bytesPerSecond)))/s"
        let eta = progress.secondsRemaining.map { "ETA \(formatDuration($0))" } ?? "ETA --"
        let amounts = "\(formatBytes(progress.bytesDone)) / \(formatBytes(progress.bytesTotal))"
        let label = Self.label(progress.phase)
        if interactive {
            let width = 30
            let filled = Int(fraction * Double(width))
            let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
            print("\r\u{1B}[K\(label) [\(bar)] \(Int(fraction * 100))%  \(amounts)  \(rate)  \(eta)", terminator: "")
            printed.lineOpen = fraction < 1
            if !printed.lineOpen { print("") }
            fflush(nil)
        } else {
            print("\(label): \(decile * 10)% (\(amounts), \(rate), \(eta))")
        }
    }

    /// Ends a bar left short (a failure, a cancel), so that the next message starts on its own line.
    func finish() {
        printed.withLock { printed in
            if printed.lineOpen { print("") }
            printed.lineOpen = false
        }
    }

    private static func label(_ phase: InstallProgress.Phase) -> String {
        switch phase {
        case .resuming: "re-hashing the part already written"
        case .writing: "writing"
        case .verifying: "reading back"
        }
    }
}

func formatDuration(_ seconds: Double) -> String {
    let total = Int(seconds.rounded())
    return total >= 60 ? "\(total / 60)m\(total % 60)s" : "\(total)s"
}
