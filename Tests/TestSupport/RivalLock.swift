import Foundation

/// Another writer holding a disk, as systemd-repart or udev would: `flock(1)` takes
/// `flock(LOCK_EX)` on the path and keeps it while `cat` waits on a pipe; `release()` closes the
/// pipe, so cat and then flock exit and the kernel drops the lock.
public final class RivalLock {
    public let process: Process
    private let input = Pipe()

    /// Returns once the lock is held: a non-blocking `flock -n` on the same path fails.
    public init(_ path: String) throws {
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["flock", "--exclusive", path, "cat"]
        process.standardInput = input
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let held = DaemonHarness.eventually(timeout: 10) {
            (try? Shell.capture(["flock", "--nonblock", path, "true"]).status) == 1
        }
        guard held else {
            release()
            throw Shell.Failure(command: process.arguments ?? [], output: .init(status: -1, stdout: "", stderr: "never held the lock"))
        }
    }

    /// flock(1)'s pid: the one the kernel lists as the holder.
    public var pid: Int32 { process.processIdentifier }

    public func release() {
        try? input.fileHandleForWriting.close()
        process.waitUntilExit()
    }

    deinit {
        if process.isRunning { release() }
    }
}
