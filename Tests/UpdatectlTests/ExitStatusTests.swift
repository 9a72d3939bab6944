import ArgumentParser
import BusClient
#if canImport(Glibc)
import Glibc
#endif
import Testing
@testable import updatectl

@Suite(.serialized) struct ExitStatusTests {
    /// A failure talking to tandemd leaves `run()` as ArgumentParser's `ExitCode` with
    /// updatectl's status for it; `exit()` there ended this very test process instead.
    @Test func aDaemonFailureLeavesRunAsItsExitCode() {
        let variable = "DBUS_SYSTEM_BUS_ADDRESS"
        let saved = getenv(variable).map { String(cString: $0) }
        setenv(variable, "unix:path=/nonexistent/tandem-exit-status-test", 1)
        defer {
            if let saved { setenv(variable, saved, 1) } else { unsetenv(variable) }
        }
        #expect(throws: ExitCode(ExitStatus.notRunning)) {
            try withDaemon { _ throws(ClientError) in }
        }
    }
}
