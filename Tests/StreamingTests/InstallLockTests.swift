import Foundation
import Slots
import Streaming
import Testing
import TestSupport

/// An install holds the disk's lock for its whole write, and writes only to the slot it
/// planned for: the disk is probed again under the lock before the first byte.
@Suite(.serialized)
struct InstallLockTests {
    /// Another writer (here in the same process, as tandemd's flag changes are) holds the disk:
    /// the install waits its bounded time, then fails busy, and the disk is untouched.
    @Test func anInstallWaitsForTheDiskThenFailsBusyWritingNothing() throws {
        let setup = try InstallScenario(imageSize: 1 << 20)
        let held = try DiskLock.acquire(setup.harness.disk.path)
        let started = Date()
        #expect {
            try setup.harness.installer { $0.diskLockTimeout = 0.5 }.install(setup.bundle)
        } throws: { error in
            guard case let InstallError.slots(.diskBusy(disk, holder, waited)) = error else { return false }
            return disk == setup.harness.disk.path && holder?.pid == getpid() && waited == 0.5
        }
        #expect(Date().timeIntervalSince(started) >= 0.5)
        #expect(try setup.harness.disk.identical(to: setup.snapshot))
        withExtendedLifetime(held) {}
    }

    /// A cancel (a user's, or tandemd stopping) while the install waits for another writer
    /// ends the wait at once rather than at its timeout, as a cancel, and the disk is untouched.
    @Test func aCancelEndsTheWaitForTheDisk() throws {
        let setup = try InstallScenario(imageSize: 1 << 20)
        let held = try DiskLock.acquire(setup.harness.disk.path)
        let installer = try setup.harness.installer { $0.diskLockTimeout = 30 }
        let started = Date()
        #expect {
            // Cancelled once the bundle is accepted, just before the install takes the lock.
            try installer.install(setup.bundle, accepted: { _, _ in installer.cancel() })
        } throws: { error in
            guard case InstallError.stream(.cancelled) = error else { return false }
            return true
        }
        #expect(Date().timeIntervalSince(started) < 5, "the wait ends with the cancel, not after its 30 s")
        #expect(try setup.harness.disk.identical(to: setup.snapshot))
        withExtendedLifetime(held) {}
    }

    /// The table is rewritten between the probe that planned the install and the write: slot B
    /// keeps its number and unique GUID but now starts 1 MiB later. Writing at the planned
    /// offset would land outside it; the install refuses and writes nothing.
    @Test func aSlotMovedSinceTheProbeIsRefused() throws {
        let setup = try InstallScenario(imageSize: 1 << 20)
        let installer = try setup.harness.installer()
        let disk = setup.harness.disk
        let b = try #require(try disk.sfdiskPartitions().first { $0.number == 4 })
        try Shell.run(["sgdisk", "-d", "4", "-n", "4:\(b.start + 2048):\(b.start + b.size - 1)", "-t", "4:\(TestDisk.usrType)",
                       "-c", "4:USR-B", "-u", "4:\(TestDisk.usrBUUID)", disk.path])
        let moved = try disk.snapshot()
        #expect {
            try installer.install(setup.bundle)
        } throws: { error in
            guard case let InstallError.slots(.slotChanged(_, slot, planned, found)) = error else { return false }
            return slot == .b && planned.contains("first LBA \(b.start)") && found.contains("first LBA \(b.start + 2048)")
        }
        #expect(try disk.identical(to: moved), "nothing may be written once the plan no longer holds")
    }

    /// The labels are swapped after the probe: "USR-B" now names the booted partition. The
    /// target would be the booted slot; the install refuses and writes nothing.
    @Test func aTargetThatBecameTheBootedPartitionIsRefused() throws {
        let setup = try InstallScenario(imageSize: 1 << 20)
        let installer = try setup.harness.installer()
        let disk = setup.harness.disk
        try Shell.run(["sgdisk", "-c", "3:USR-B", "-c", "4:USR-A", disk.path])
        let swapped = try disk.snapshot()
        #expect {
            try installer.install(setup.bundle)
        } throws: { error in
            guard case InstallError.slots(.slotChanged(_, .b, _, _)) = error else { return false }
            return true
        }
        #expect(try disk.identical(to: swapped))
    }
}
