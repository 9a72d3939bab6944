#if canImport(Glibc)
import Glibc
#endif
import SystemPackage

/// A program run to completion with a bound on its time and its output, for the hooks an
/// administrator plugs in (the custom boot backend's hook). posix_spawn, not a shell: the
/// arguments reach the program exactly as given, and nothing is looked up on PATH.
///
/// The child gets /dev/null as stdin, a pipe each for stdout and stderr, no other descriptor
/// of ours (tandemd holds disk locks and bus sockets a hook must not keep alive), default
/// signal dispositions with nothing blocked, and a process group of its own, so that a hook
/// that hangs is killed with everything it started, and that whatever a hook leaves running
/// in its group when it exits is killed too.
public enum Subprocess {
    public struct Limits: Sendable, Equatable {
        /// Seconds from the spawn until the whole process group is killed.
        public var timeout: Double
        /// The most stdout bytes accepted; more is an error (`Termination.outputExceeded`).
        public var stdoutBytes: Int
        /// The most stderr bytes kept; the rest is read and dropped (`stderrTruncated`).
        public var stderrBytes: Int

        public init(timeout: Double, stdoutBytes: Int, stderrBytes: Int) {
            self.timeout = timeout
            self.stdoutBytes = stdoutBytes
            self.stderrBytes = stderrBytes
        }
    }

    /// How the run ended.
    public enum Termination: Sendable, Equatable {
        case exited(status: Int32)
        case signalled(signal: Int32)
        /// Still running (or still holding its output open) at the deadline; killed.
        case timedOut
        /// Printed more than `Limits.stdoutBytes` on stdout; killed.
        case outputExceeded
        /// Its exit status could not be collected (SIGCHLD ignored by the caller reaps it).
        case lost(Errno)
    }

    public struct Outcome: Sendable, Equatable {
        public var termination: Termination
        public var stdout: [UInt8]
        public var stderr: [UInt8]
        public var stderrTruncated: Bool
    }

    /// Runs `executable` with `arguments` (not counting argv[0], which is the executable) and
    /// exactly `environment` (`NAME=value` entries) until it exits, the deadline passes or its
    /// stdout outgrows the limit. Throws only when it cannot be started (`ENOENT`, `EACCES`,
    /// `ENOEXEC`, ...); everything after the spawn is in the outcome.
    public static func run(_ executable: String, arguments: [String], environment: [String],
                           limits: Limits) throws(Errno) -> Outcome {
        let deadline = MonotonicClock.now() + max(0, limits.timeout)
        let stdout = try pipeEnds()
        let stderr: (read: CInt, write: CInt)
        do {
            stderr = try pipeEnds()
        } catch {
            close(stdout.read)
            close(stdout.write)
            throw error
        }
        let pid: pid_t
        do {
            pid = try spawnRetryingWhileBusy(executable, arguments: arguments, environment: environment,
                                             stdout: stdout.write, stderr: stderr.write, until: deadline)
        } catch {
            for descriptor in [stdout.read, stdout.write, stderr.read, stderr.write] { close(descriptor) }
            throw error
        }
        // The child has its own copies; ours would keep the pipes open after it exits.
        close(stdout.write)
        close(stderr.write)
        defer {
            close(stdout.read)
            close(stderr.read)
        }

        var collector = Collector(stdout: stdout.read, stderr: stderr.read, limits: limits)
        let drained = collector.drain(until: deadline)
        let termination: Termination
        if drained, let status = reap(pid, until: deadline) {
            termination = status
        } else {
            // Killed before it is reaped: until then its process group ID cannot be reused.
            kill(-pid, SIGKILL)
            _ = reap(pid, until: nil)
            termination = collector.stdoutExceeded ? .outputExceeded : .timedOut
        }
        return Outcome(termination: termination, stdout: collector.stdoutBytes, stderr: collector.stderrBytes,
                       stderrTruncated: collector.stderrTruncated)
    }

    private static func pipeEnds() throws(Errno) -> (read: CInt, write: CInt) {
        var ends: [CInt] = [-1, -1]
        try Errno.retryingOnInterrupt { pipe(&ends) }
        // Close-on-exec, so that no other child started meanwhile inherits them; the spawn's
        // dup2 onto 1 and 2 gives this child its copies without the flag.
        for end in ends { _ = fcntl(end, F_SETFD, FD_CLOEXEC) }
        return (ends[0], ends[1])
    }

    /// ETXTBSY says that some process holds the executable open for writing. That is
    /// transient: a package manager replacing the hook, or a child forked by another thread
    /// in the moment between its fork and its exec, holding a copy of a descriptor of a file
    /// just written. So it is retried, for up to `busyRetrySeconds` and within the deadline.
    private static func spawnRetryingWhileBusy(_ executable: String, arguments: [String], environment: [String],
                                               stdout: CInt, stderr: CInt, until deadline: Double) throws(Errno) -> pid_t {
        let giveUp = min(deadline, MonotonicClock.now() + busyRetrySeconds)
        while true {
            do {
                return try spawn(executable, arguments: arguments, environment: environment, stdout: stdout, stderr: stderr)
            } catch .textFileBusy where MonotonicClock.now() < giveUp {
                var pause = timespec(tv_sec: 0, tv_nsec: 5_000_000)
                nanosleep(&pause, nil)
            }
        }
    }

    private static let busyRetrySeconds = 1.0

    private static func spawn(_ executable: String, arguments: [String], environment: [String],
                              stdout: CInt, stderr: CInt) throws(Errno) -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, stdout, 1)
        posix_spawn_file_actions_adddup2(&actions, stderr, 2)
        guard let closeFrom = closeFromAction else { throw .notSupported }
        _ = closeFrom(&actions, 3)

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var everySignal = sigset_t()
        sigfillset(&everySignal)
        var noSignal = sigset_t()
        sigemptyset(&noSignal)
        posix_spawnattr_setsigdefault(&attributes, &everySignal)
        posix_spawnattr_setsigmask(&attributes, &noSignal)
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        let argv = ([executable] + arguments).map { strdup($0) }
        let envp = environment.map { strdup($0) }
        defer {
            for pointer in argv + envp { free(pointer) }
        }
        var pid = pid_t()
        let result = posix_spawn(&pid, executable, &actions, &attributes, argv + [nil], envp + [nil])
        guard result == 0 else { throw Errno(rawValue: result) }
        return pid
    }

    /// glibc's `posix_spawn_file_actions_addclosefrom_np` (2.34 and later), looked up at run
    /// time because the Swift Glibc module does not declare it.
    private typealias CloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, CInt) -> CInt
    private static let closeFromAction: CloseFrom? = dlsym(nil, "posix_spawn_file_actions_addclosefrom_np")
        .map { unsafeBitCast($0, to: CloseFrom.self) }

    /// Waits for `pid` to exit: until `deadline` (nil when the process is already killed, and
    /// only the zombie is left to reap). Nil when it is still running at the deadline.
    ///
    /// Whatever it leaves running in its process group is killed before it is reaped: while
    /// it is a zombie its process group ID cannot be reused, so the signal reaches nobody else.
    private static func reap(_ pid: pid_t, until deadline: Double?) -> Termination? {
        while true {
            var info = siginfo_t()
            let result = waitid(P_PID, id_t(pid), &info, WEXITED | WNOWAIT | (deadline == nil ? 0 : WNOHANG))
            if result == -1 {
                if errno == EINTR { continue }
                return .lost(Errno(rawValue: errno))
            }
            if info._sifields._sigchld.si_pid == pid { break }
            // Its output is closed, so it is exiting: look again shortly.
            guard let deadline, MonotonicClock.now() < deadline else { return nil }
            var pause = timespec(tv_sec: 0, tv_nsec: 2_000_000)
            nanosleep(&pause, nil)
        }
        kill(-pid, SIGKILL)
        var status: CInt = 0
        while waitpid(pid, &status, 0) == -1 {
            if errno != EINTR { return .lost(Errno(rawValue: errno)) }
        }
        let signal = status & 0x7F
        return signal == 0 ? .exited(status: (status >> 8) & 0xFF) : .signalled(signal: signal)
    }

    /// Reads both pipes into bounded buffers until both reach end of file.
    private struct Collector {
        let stdout: CInt
        let stderr: CInt
        let limits: Limits
        var stdoutBytes: [UInt8] = []
        var stderrBytes: [UInt8] = []
        var stderrTruncated = false
        var stdoutExceeded = false

        init(stdout: CInt, stderr: CInt, limits: Limits) {
            self.stdout = stdout
            self.stderr = stderr
            self.limits = limits
        }

        /// Whether both pipes reached end of file before `deadline` and stdout kept within its
        /// limit.
        mutating func drain(until deadline: Double) -> Bool {
            var open = [stdout, stderr]
            var chunk = [UInt8](repeating: 0, count: 4096)
            while !open.isEmpty {
                let remaining = deadline - MonotonicClock.now()
                guard remaining > 0 else { return false }
                var polled = open.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
                let ready = poll(&polled, nfds_t(polled.count), CInt(min(remaining * 1000, 60_000).rounded(.up)))
                if ready == -1 && errno == EINTR { continue }
                guard ready > 0 else { continue }
                for entry in polled where entry.revents != 0 {
                    let count = chunk.withUnsafeMutableBytes { read(entry.fd, $0.baseAddress, $0.count) }
                    if count == -1 && (errno == EINTR || errno == EAGAIN) { continue }
                    guard count > 0 else {
                        open.removeAll { $0 == entry.fd }
                        continue
                    }
                    if entry.fd == stdout {
                        guard stdoutBytes.count + count <= limits.stdoutBytes else {
                            stdoutExceeded = true
                            return false
                        }
                        stdoutBytes += chunk[0..<count]
                    } else {
                        let kept = min(count, max(0, limits.stderrBytes - stderrBytes.count))
                        stderrBytes += chunk[0..<kept]
                        if kept < count { stderrTruncated = true }
                    }
                }
            }
            return true
        }
    }
}
