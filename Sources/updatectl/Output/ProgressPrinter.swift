#if canImport(Glibc)
import Glibc
#endif
import Streaming

/// Shows install progress: a live bar on a terminal, a plain line per 10% otherwise (logs, CI).
final class ProgressPrinter: @unchecked Sendable {
    private let interactive = isatty(STDOUT_FILENO) == 1
    private var lastPhase: InstallProgress.Phase?
    private var lastDecile = -1
    /// A bar is drawn and its line not yet ended.
    private var lineOpen = false

    func show(_ progress: InstallProgress) {
        let fraction = progress.bytesTotal == 0 ? 1 : Double(progress.bytesDone) / Double(progress.bytesTotal)
        let decile = Int(fraction * 10)
        // Decide before formatting anything: most reports print nothing in plain mode.
        if !interactive {
            guard progress.phase != lastPhase || decile > lastDecile else { return }
            lastPhase = progress.phase
            lastDecile = decile
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
            lineOpen = fraction < 1
            if !lineOpen { print("") }
            fflush(nil)
        } else {
            print("\(label): \(decile * 10)% (\(amounts), \(rate), \(eta))")
        }
    }

    /// Ends a bar left short (a failure, a cancel), so that the next message starts on its own line.
    func finish() {
        if lineOpen { print("") }
        lineOpen = false
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
