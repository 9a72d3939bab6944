import Coordination
import Foundation
import Testing
import TestSupport

/// coordinator.conf in a scratch directory, checked with flock(1) as another coordinator would.
@Suite struct CoordinatorConfTests {
    /// Whether flock(1) can take the file's lock without waiting: false while Tandem holds it.
    func othersCanLock(_ path: String) throws -> Bool {
        try Shell.capture(["flock", "--nonblock", "--exclusive", path, "true"]).status == 0
    }

    @Test func writesNameStrategyAndStateUnderAHeldLock() throws {
        let scratch = try Scratch()
        let path = scratch.file("run/update-engine/coordinator.conf")
        let conf = try CoordinatorConf(path: path, strategy: .etcdLock)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "NAME=tandemd\nSTRATEGY=etcd-lock\nSTATE=starting\n")
        #expect(try !othersCanLock(path))
        for state in [CoordinatorState.running, .rebootPlanned, .rebooting, .disabled] {
            try conf.update(state)
            #expect(conf.state == state)
            #expect(try String(contentsOfFile: path, encoding: .utf8).hasSuffix("STATE=\(state.rawValue)\n"))
            // The lock moved to the new file with it.
            #expect(try !othersCanLock(path))
        }
        #expect(try String(contentsOfFile: path, encoding: .utf8).contains("STATE=disabled"))
        #expect(scratch.contents == ["run"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.file("run/update-engine")) == ["coordinator.conf"])
        let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
        #expect(mode == 0o644)

        conf.close()
        #expect(try othersCanLock(path))
        #expect(throws: CoordinatorConfError.closed(path: path)) { try conf.update(.running) }
    }

    @Test func aSecondCoordinatorIsRefusedWithTheFirstOnesName() throws {
        let scratch = try Scratch()
        let path = scratch.file("coordinator.conf")
        let first = try CoordinatorConf(path: path, name: "locksmithd", strategy: .reboot)
        try first.update(.running)
        #expect(throws: CoordinatorConfError.heldByAnother(path: path, name: "locksmithd")) {
            try CoordinatorConf(path: path, strategy: .fleetLock)
        }
        #expect(CoordinatorConfError.heldByAnother(path: path, name: "locksmithd").description.contains("mask"))
        first.close()
        let second = try CoordinatorConf(path: path, strategy: .fleetLock)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "NAME=tandemd\nSTRATEGY=fleetlock\nSTATE=starting\n")
        _ = second
    }

    @Test func aLockHeldByAnotherProcessIsRespected() throws {
        let scratch = try Scratch()
        let path = try scratch.write("NAME=locksmithd\nSTRATEGY=etcd-lock\nSTATE=running\n", to: "coordinator.conf")
        // Held as locksmithd holds it, with an exclusive flock.
        let holder = try RivalLock(path)
        defer { holder.release() }
        #expect(throws: CoordinatorConfError.heldByAnother(path: path, name: "locksmithd")) {
            try CoordinatorConf(path: path, strategy: .reboot)
        }
    }
}
