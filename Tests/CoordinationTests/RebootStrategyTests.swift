import Coordination
import Testing
import UpdateModel

@Suite struct RebootStrategyTests {
    @Test func locksmithsValuesAndFleetLock() throws {
        #expect(try RebootStrategy(parsing: "off") == .off)
        #expect(try RebootStrategy(parsing: "reboot") == .reboot)
        #expect(try RebootStrategy(parsing: " etcd-lock\n") == .etcdLock)
        #expect(try RebootStrategy(parsing: "fleetlock") == .fleetLock)
        // locksmithd treats an empty REBOOT_STRATEGY as reboot.
        #expect(try RebootStrategy(parsing: "") == .reboot)
        #expect(RebootStrategy.allCases.map(\.description) == ["off", "reboot", "etcd-lock", "fleetlock"])
    }

    @Test func unknownAndRemovedStrategiesAreRefusedWithTheChoices() {
        #expect(throws: LockConfigurationError.unknownStrategy("best-effort")) { try RebootStrategy(parsing: "best-effort") }
        #expect(LockConfigurationError.unknownStrategy("best-effort").description.contains("removed"))
        #expect(throws: LockConfigurationError.unknownStrategy("Reboot")) { try RebootStrategy(parsing: "Reboot") }
        #expect(LockConfigurationError.unknownStrategy("x").description.contains("off, reboot, etcd-lock or fleetlock"))
    }
}
