import Bootloaders
import Foundation
import Platform
import Slots
import Testing
import TestSupport

/// Hooks that fail, hang, flood or answer nonsense: each is a clear `hookFailed`, in bounded
/// time, and nothing is written.
struct HostileHookTests {
    /// Reads the state through a hook whose get-state runs `body`, and returns the failure's detail.
    private func readFailure(_ body: String, limits: Subprocess.Limits = CustomHook.defaultLimits,
                             fixture: HookFixture? = nil) throws -> String {
        let fixture = try fixture ?? HookFixture()
        let hook = try fixture.script("hostile-\(UUID().uuidString.prefix(6))", body)
        do {
            _ = try CustomHookBackend(hook: CustomHook(path: hook, limits: limits)).read(fixture.pair)
            return "no error"
        } catch {
            guard case let .bootBackend(.hookFailed(path, operation, detail)) = error, path == hook,
                  operation == "get-state a"
            else { return "wrong error: \(error)" }
            return detail
        }
    }

    @Test(arguments: [
        ("priority=16 tries=0 good=0", "priority must be a number from 0 to 15"),
        ("priority=1 tries=99 good=0", "tries must be a number from 0 to 15"),
        ("priority=1 tries=0 good=2", "good must be a number from 0 to 1"),
        ("priority=1 tries=0", "good is missing"),
        ("priority=1 tries=0 good=1 extra=2", "unknown key \"extra\""),
        ("priority=1 priority=2 tries=0 good=1", "priority is given twice"),
        ("priority=-1 tries=0 good=1", "priority must be a number"),
        ("priority=+1 tries=0 good=1", "priority must be a number"),
        ("priority= tries=0 good=1", "priority must be a number"),
        ("priority=100000000000000000000000 tries=0 good=1", "priority must be a number"),
        ("priority tries=0 good=1", "is not key=value"),
        ("priority=1 tries=0 good=1\\npriority=1 tries=0 good=1", "not one line of printable ASCII"),
        ("\\033[31mpriority=1 tries=0 good=1", "not one line of printable ASCII"),
        ("good", "is not key=value"),
    ])
    func garbageAnswersAreRefused(_ answer: String, _ reason: String) throws {
        let detail = try readFailure("printf '\(answer)\\n'")
        #expect(detail.contains(reason) && detail.contains("answered"), "\(detail)")
        #expect(!detail.contains("\u{1B}"), "escape sequences must not reach a message")
    }

    @Test func anExitZeroWithNothingIsRefused() throws {
        let detail = try readFailure("exit 0")
        #expect(detail.contains("it printed nothing"), "\(detail)")
    }

    @Test func aFailingHookIsReportedWithItsStderr() throws {
        let detail = try readFailure("echo 'fw_printenv: cannot read /dev/mtd1' >&2; exit 3")
        #expect(detail == #"exited with status 3: "fw_printenv: cannot read /dev/mtd1\n""#, "\(detail)")
    }

    @Test func aKilledHookIsReported() throws {
        let detail = try readFailure("kill -9 $$")
        #expect(detail.hasPrefix("was killed by signal 9"), "\(detail)")
    }

    @Test func exitStatusTwoOnARequiredOperationIsAFailure() throws {
        let detail = try readFailure("exit 2")
        #expect(detail.contains("does not support get-state"), "\(detail)")
    }

    @Test func aMissingInterpreterIsReported() throws {
        let fixture = try HookFixture()
        let hook = try fixture.scratch.write("#!/nonexistent/sh\n", to: "broken")
        try Shell.run(["chmod", "755", hook])
        #expect {
            try CustomHookBackend(hook: CustomHook(path: hook)).read(fixture.pair)
        } throws: { error in
            guard case let SlotError.bootBackend(.hookFailed(_, _, detail)) = error else { return false }
            return detail.contains("cannot be started")
        }
    }

    /// A hook held open for writing (being replaced, or copied into a child between its fork and
    /// its exec) cannot be executed (ETXTBSY): the spawn is retried for a while, then reported.
    @Test func aHookBusyBeingWrittenIsRetriedThenReported() throws {
        let fixture = try HookFixture()
        let hook = try fixture.script("busy", "echo 'priority=1 tries=0 good=1'\n")
        let backend = CustomHookBackend(hook: CustomHook(path: hook))

        let writer = open(hook, O_WRONLY)
        #expect(writer >= 0)
        #expect {
            try backend.read(fixture.pair)
        } throws: { error in
            guard case let SlotError.bootBackend(.hookFailed(_, _, detail)) = error else { return false }
            return detail.contains("cannot be started") && detail.contains("busy")
        }

        // Released while the spawn is retrying: the call succeeds.
        let released = DispatchSemaphore(value: 0)
        DispatchQueue.global().async {
            usleep(50_000)
            close(writer)
            released.signal()
        }
        #expect(try backend.read(fixture.pair).table.nextBoot() == 3)
        released.wait()
    }

    @Test func aHangingHookIsKilledWithEverythingItStarted() throws {
        let fixture = try HookFixture()
        let pidFile = fixture.scratch.file("child.pid")
        let started = MonotonicClock.now()
        // 3 s: time enough for the shell to start its child on a loaded machine.
        let detail = try readFailure("sleep 1000 & echo $! > '\(pidFile)'; wait",
                                     limits: Subprocess.Limits(timeout: 3, stdoutBytes: 4096, stderrBytes: 4096),
                                     fixture: fixture)
        let elapsed = MonotonicClock.now() - started
        #expect(detail.hasPrefix("did not finish within 3 s"), "\(detail)")
        #expect(elapsed < 10, "killed at the deadline, not after \(elapsed) s")
        let child = try String(contentsOfFile: pidFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        // The background sleep was in the hook's process group.
        #expect(Self.dies(child), "the hook's background child \(child) survived")
    }

    @Test func whatAHookLeavesRunningIsKilled() throws {
        let fixture = try HookFixture()
        let pidFile = fixture.scratch.file("straggler.pid")
        let hook = try fixture.script("straggler", """
            sleep 1000 >/dev/null 2>&1 &
            echo $! > '\(pidFile)'
            echo 'priority=1 tries=0 good=1'
            """)
        #expect(try CustomHookBackend(hook: CustomHook(path: hook)).read(fixture.pair).table.nextBoot() == 3)
        let child = try String(contentsOfFile: pidFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(Self.dies(child), "the hook's background child \(child) survived")
    }

    /// Whether process `pid` dies (SIGKILL is handled asynchronously) within a few seconds: gone,
    /// or a zombie nobody reaped yet.
    private static func dies(_ pid: String) -> Bool {
        let dead = { () -> Bool in
            let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)
            return stat == nil || stat?.contains(") Z ") == true
        }
        let patience = MonotonicClock.now() + 5
        while !dead() && MonotonicClock.now() < patience { usleep(10_000) }
        return dead()
    }

    @Test func aHookThatClosesItsOutputAndLingersIsKilled() throws {
        let detail = try readFailure("echo 'priority=1 tries=0 good=1'; exec >&- 2>&-; sleep 1000",
                                     limits: Subprocess.Limits(timeout: 0.5, stdoutBytes: 4096, stderrBytes: 4096))
        #expect(detail.hasPrefix("did not finish within 0.5 s"), "\(detail)")
    }

    @Test func hugeOutputIsCutOffAndTheHookKilled() throws {
        let started = MonotonicClock.now()
        let detail = try readFailure("exec yes priority=1")
        #expect(detail == "printed more than 4096 bytes; it was killed", "\(detail)")
        #expect(MonotonicClock.now() - started < 10)
    }

    @Test func hugeStderrIsKeptBoundedInTheMessage() throws {
        let detail = try readFailure("head -c 10000000 /dev/zero | tr '\\000' x >&2; exit 1")
        #expect(detail.hasPrefix("exited with status 1: \"xxxx") && detail.hasSuffix("\"... (cut)"), "\(detail.suffix(40))")
        #expect(detail.count < 450, "\(detail.count) characters: \(detail.prefix(80))")
    }

    @Test func aHookThatIgnoresSetStateIsCaught() throws {
        let fixture = try HookFixture()
        let hook = try fixture.script("deaf", """
            case "$1" in get-state) echo "priority=0 tries=0 good=0" ;; set-state) exit 0 ;; esac
            """)
        #expect {
            try fixture.control(hook: hook).setTrial(.b, tries: 2)
        } throws: { error in
            guard case let SlotError.bootBackend(.hookFailed(_, operation, detail)) = error else { return false }
            return operation == "set-state b priority=1 tries=2 good=0"
                && detail == "it succeeded, but get-state now answers priority=0 tries=0 good=0"
        }
    }
}
