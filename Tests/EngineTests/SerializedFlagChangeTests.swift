import Engine
import Foundation
import Logging
import Slots
import Testing
import TestSupport

/// Inside tandemd, flag changes and installs go through one serialized path: a mark checks
/// "not busy" and writes under the disk's lock, and an install writes only under that lock, so
/// an install that begins while a mark waits is seen by the mark before it writes.
@Suite(.serialized)
struct SerializedFlagChangeTests {
    /// The test holds the disk, so the mark waits at the lock; an install begins meanwhile and
    /// also waits. Once the disk is free, whichever goes first, the mark is refused (the
    /// install is running, or holds the disk for longer than the mark waits) and never lands:
    /// the install's slot ends up on trial, the table sound.
    @Test func aMarkWaitingForTheDiskIsRefusedOnceAnInstallBegan() throws {
        let harness = try InstallHarness()
        // 1 MiB/s over 8 MiB: the install holds the disk well beyond the mark's wait.
        let image = try harness.fixture.randomImage("image.raw", size: 8 << 20)
        let server = try BundleServer(file: try harness.fixture.bundle("v2.tandem", image: image), arguments: ["--rate", "\(1 << 20)"])
        var configuration = Configuration()
        configuration.disk = harness.disk.path
        configuration.bootedSlot = "A"
        configuration.keyDirectories = [harness.fixture.keysDirectory]
        configuration.stateDirectory = harness.stateDirectory
        configuration.compatible = BundleFixture.compatible
        configuration.version = "1.5.0"
        configuration.checkpointInterval = 1 << 20
        let bootID = harness.fixture.path("boot_id")
        try UUID().uuidString.lowercased().write(toFile: bootID, atomically: true, encoding: .utf8)
        configuration.bootIDFile = bootID
        configuration.osRelease = harness.fixture.path("os-release")
        let updater = try Updater(configuration: configuration, logger: Logger(label: "test"))
        let completed = Mailbox<ResultRecord>()
        updater.observe { event in
            if case let .completed(result) = event { completed.set(result) }
        }

        var held: DiskLock? = try DiskLock.acquire(harness.disk.path)
        let mark = Mailbox<Result<(slot: SlotName, message: String), UpdaterError>>()
        let marking = Thread { mark.set(Result { () throws(UpdaterError) in try updater.mark(.bad, slot: "B") }) }
        marking.start()
        // The mark passed its first busy check and waits at the lock, its own descriptor open
        // beside the test's (tandemd keeps none open between operations).
        let path = harness.disk.path
        #expect(DaemonHarness.eventually(timeout: 5) { Self.descriptors(of: path) >= 2 })
        _ = try updater.install(InstallRequest(source: server.url))
        held = nil

        #expect(DaemonHarness.eventually(timeout: 60) { mark.value != nil && completed.value != nil })
        switch mark.value {
        case .failure(.busy)?, .failure(.slots(.diskBusy))?: break
        case let other: Issue.record("the mark must be refused while the install runs, got \(String(describing: other))")
        }
        #expect(completed.value?.code == .success, "\(String(describing: completed.value))")
        try harness.expectInstalled(image)
        withExtendedLifetime(server) {}
    }

    /// How many of this process's descriptors are open on `path`.
    static func descriptors(of path: String) -> Int {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
        return entries.filter { (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\($0)")) == path }.count
    }
}
