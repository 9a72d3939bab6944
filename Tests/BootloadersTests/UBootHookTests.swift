import Bootloaders
import Foundation
import Slots
import Testing
import TestSupport

/// The shipped U-Boot hook, contrib/hooks/uboot-fw-env, run by the custom backend against fake
/// fw_printenv and fw_setenv that keep the environment in a file (`name=value` lines).
struct UBootHookTests {
    static let shippedHook = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("contrib/hooks/uboot-fw-env").path

    /// The fixture, the wrapper that runs the shipped hook with the fake tools first on PATH,
    /// and the fake environment's file.
    private func setUp(settings: String = "") throws -> (fixture: HookFixture, hook: String, store: String) {
        let fixture = try HookFixture()
        let bin = fixture.scratch.file("bin")
        try FileManager.default.createDirectory(atPath: bin, withIntermediateDirectories: true)
        let store = fixture.scratch.file("uboot.env")
        let log = fixture.scratch.file("fw.log")
        try fixture.script("bin/fw_printenv", """
            if [ "${1:-}" = -c ]; then echo "config $2" >> '\(log)'; shift 2; fi
            if [ -e '\(fixture.scratch.file("broken"))' ]; then echo "Cannot read environment, using default" >&2; exit 1; fi
            [ $# -eq 0 ] || exit 9
            cat '\(store)' 2>/dev/null || true
            """)
        try fixture.script("bin/fw_setenv", """
            if [ "${1:-}" = -c ]; then shift 2; fi
            [ "$1" = -s ] && [ $# -eq 2 ] || exit 9
            cp '\(store)' '\(store).new' 2>/dev/null || : > '\(store).new'
            while read -r name value; do
                grep -v "^$name=" '\(store).new' > '\(store).tmp' || true
                echo "$name=$value" >> '\(store).tmp'
                mv '\(store).tmp' '\(store).new'
            done < "$2"
            mv '\(store).new' '\(store)'
            echo "setenv $(wc -l < "$2") variables" >> '\(log)'
            """)
        let hook = try fixture.script("uboot-hook", """
            PATH='\(bin)':"$PATH" CMDLINE='\(fixture.scratch.file("cmdline"))' \(settings) exec '\(Self.shippedHook)' "$@"
            """)
        return (fixture, hook, store)
    }

    private func variables(_ store: String) throws -> [String: String] {
        var result: [String: String] = [:]
        for line in try String(contentsOfFile: store, encoding: .utf8).split(separator: "\n") {
            let parts = line.split(separator: "=", maxSplits: 1)
            result[String(parts[0])] = parts.count > 1 ? String(parts[1]) : ""
        }
        return result
    }

    @Test func theLifecycleLandsInTheUBootEnvironment() throws {
        let (fixture, hook, store) = try setUp()
        try "bootcmd=run tandem_boot\nbaudrate=115200\n".write(toFile: store, atomically: true, encoding: .utf8)
        let control = fixture.control(hook: hook)

        #expect(try control.read().table.nextBoot() == nil, "unset variables read as an unbootable slot")
        try control.update { $0.markGood(3) }
        try control.setTrial(.b, tries: 3)
        var env = try variables(store)
        #expect(env["tandem_a_priority"] == "1" && env["tandem_a_tries"] == "0" && env["tandem_a_good"] == "1")
        #expect(env["tandem_b_priority"] == "2" && env["tandem_b_tries"] == "3" && env["tandem_b_good"] == "0")
        #expect(env["bootcmd"] == "run tandem_boot" && env["baudrate"] == "115200", "other variables survive")

        let boot = try control.nextBoot(commit: true)
        #expect(boot.slot.name == .b && boot.consumesTry)
        try control.markGood(.b)
        try control.prioritize(.a)
        try control.markBad(.b)
        env = try variables(store)
        #expect(env["tandem_a_priority"] == "2" && env["tandem_a_tries"] == "0" && env["tandem_a_good"] == "1")
        #expect(env["tandem_b_priority"] == "0" && env["tandem_b_tries"] == "0" && env["tandem_b_good"] == "0")

        // Every set-state was one fw_setenv call carrying the slot's three variables.
        let log = try String(contentsOfFile: fixture.scratch.file("fw.log"), encoding: .utf8).split(separator: "\n")
        #expect(!log.isEmpty && log.allSatisfy { $0 == "setenv 3 variables" }, "\(log)")
    }

    @Test func aBrokenEnvironmentIsAFailureNotAnUnbootableSlot() throws {
        let (fixture, hook, _) = try setUp()
        try fixture.scratch.write("", to: "broken")
        #expect {
            try fixture.control(hook: hook).read()
        } throws: { error in
            guard case let SlotError.bootBackend(.hookFailed(_, "get-state a", detail)) = error else { return false }
            return detail.contains("exited with status 1") && detail.contains("Cannot read environment")
                && detail.contains("fw_printenv failed")
        }
    }

    @Test func theConfigurationFileIsPassedOn() throws {
        let (fixture, hook, _) = try setUp(settings: "FW_CONFIG=/etc/fw_env-emmc.config")
        _ = try fixture.control(hook: hook).read()
        let log = try String(contentsOfFile: fixture.scratch.file("fw.log"), encoding: .utf8)
        #expect(log.contains("config /etc/fw_env-emmc.config"))
    }

    @Test(arguments: [
        ["set-state", "a", "priority=16", "tries=0", "good=0"],
        ["set-state", "a", "priority=1", "tries=0", "good=2"],
        ["set-state", "a", "priority=1", "tries=x", "good=0"],
        ["set-state", "a", "tries=1", "priority=1", "good=0"],
        ["set-state", "c", "priority=1", "tries=0", "good=0"],
        ["set-state", "a", "priority=1", "tries=0"],
        ["set-state", "a", "priority=1;reboot", "tries=0", "good=0"],
        ["get-state", "c"],
        ["get-state"],
    ])
    func badArgumentsChangeNothing(_ arguments: [String]) throws {
        let (fixture, hook, store) = try setUp()
        // Through sh, as the backend's ETXTBSY retry is not there (see HookFixture.script).
        let result = try Shell.capture(["sh", hook] + arguments)
        #expect(result.status == 1 && result.stderr.hasPrefix("uboot-fw-env: "), "\(result)")
        #expect(!FileManager.default.fileExists(atPath: store))
        withExtendedLifetime(fixture) {}
    }

    @Test func unknownOperationsExitTwo() throws {
        let (fixture, hook, _) = try setUp()
        #expect(try Shell.capture(["sh", hook, "get-primary"]).status == 2)
        #expect(try Shell.capture(["sh", hook]).status == 2)
        withExtendedLifetime(fixture) {}
    }

    @Test func getBootedReadsTheKernelCommandLine() throws {
        let (fixture, hook, _) = try setUp()
        let backend = CustomHookBackend(hook: CustomHook(path: hook))
        #expect(backend.lastBoot(fixture.pair) == nil, "no command line file: no record")
        try fixture.scratch.write("console=ttyS0 tandem.slot=b mount.usr=PARTUUID=\(TestDisk.usrBUUID) tandem.consumed_try=1 *\n",
                                  to: "cmdline")
        #expect(backend.lastBoot(fixture.pair) == LastBoot(slot: .b, consumedTry: true))
        try fixture.scratch.write("console=ttyS0 tandem.slot=a\n", to: "cmdline")
        #expect(backend.lastBoot(fixture.pair) == LastBoot(slot: .a, consumedTry: false))
        try fixture.scratch.write("console=ttyS0 root=/dev/mmcblk0p2\n", to: "cmdline")
        #expect(backend.lastBoot(fixture.pair) == nil, "booted by something else: no record")
    }
}
