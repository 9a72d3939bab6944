import Foundation
import Testing
import TestSupport
import Slots
import Verification

/// `updatectl disk install` as a user runs it, including being killed mid-install.
@Suite(.serialized)
struct InstallCommandTests {
    static func installArguments(_ harness: InstallHarness, _ source: String) -> [String] {
        ["disk", "install", harness.disk.path, source, "--keys", harness.fixture.keysDirectory,
         "--booted-slot", "A", "--compatible", BundleFixture.compatible, "--current-version", "1.5.0",
         "--state-dir", harness.stateDirectory, "--checkpoint-mib", "1"]
    }

    @Test func installPrintsPlainProgressAndTheOutcome() throws {
        let harness = try InstallHarness()
        let image = try harness.fixture.randomImage("image.raw", size: 3 << 20)
        let bundle = try harness.fixture.bundle("v2.tandem", image: image)
        let output = try Shell.capture([Updatectl.path] + Self.installArguments(harness, bundle))
        #expect(output.status == 0, "\(output.stderr)")
        #expect(output.stdout.contains("protecting slot A (configured)"))
        #expect(output.stdout.contains("writing: 100%"))
        #expect(output.stdout.contains("reading back: 100%"))
        #expect(output.stdout.contains("installed version 2.0.0 into slot B (USR-B, partition 4)"))
        #expect(output.stdout.contains("read-back verified"))
        try harness.expectInstalled(image)
    }

    /// A size and digest published beside the bundle (as an Omaha server does) are checked: hex
    /// as sha256sum prints it, base64 as Omaha sends it.
    @Test func aPublishedSizeAndDigestAreChecked() throws {
        let harness = try InstallHarness()
        let image = try harness.fixture.randomImage("image.raw", size: 2 << 20)
        let bundle = try harness.fixture.bundle("v2.tandem", image: image)
        let size = String(try FileManager.default.attributesOfItem(atPath: bundle)[.size] as? Int ?? 0)
        let hex = try harness.fileDigest(bundle)
        let base64 = try Shell.run(["sh", "-c", "openssl dgst -sha256 -binary '\(bundle)' | base64"]).trimmingCharacters(in: .whitespacesAndNewlines)

        let wrongSize = try Shell.capture([Updatectl.path] + Self.installArguments(harness, bundle)
            + ["--expect-size", "1", "--expect-sha256", hex])
        #expect(wrongSize.status == 1 && wrongSize.stderr.contains("nothing was written"), "\(wrongSize.stderr)")
        let wrongDigest = try Shell.capture([Updatectl.path] + Self.installArguments(harness, bundle)
            + ["--expect-size", size, "--expect-sha256", String(repeating: "0", count: 64)])
        #expect(wrongDigest.status == 1 && wrongDigest.stderr.contains("left unbootable"), "\(wrongDigest.stderr)")
        #expect(try harness.disk.sgdiskAttributes(4) == BootAttributes(priority: 0, tries: 0, successful: false).rawValue)
        for digest in [hex, base64] {
            let output = try Shell.capture([Updatectl.path] + Self.installArguments(harness, bundle)
                + ["--expect-size", size, "--expect-sha256", digest])
            #expect(output.status == 0, "\(output.stderr)")
            try harness.expectInstalled(image)
        }
        let half = try Shell.capture([Updatectl.path] + Self.installArguments(harness, bundle) + ["--expect-size", size])
        #expect(half.status == 64 && half.stderr.contains("go together"), "\(half.stderr)")
    }

    @Test func aRefusalExitsNonZeroWithTheReason() throws {
        let harness = try InstallHarness()
        let bundle = try harness.fixture.bundle("v2.tandem", image: try harness.fixture.randomImage("image.raw", size: 4096),
                                                compatible: "elsewhere")
        let output = try Shell.capture([Updatectl.path] + Self.installArguments(harness, bundle))
        #expect(output.status == 1)
        #expect(output.stderr.contains("the bundle is for 'elsewhere' but this system is '\(BundleFixture.compatible)'"))
    }

    /// Starts an install from `source` into B (marked good first: each round starts from a slot
    /// that holds something else, as a real retry would) and kills it with SIGKILL after
    /// `seconds`. Killed before it invalidated B, nothing was written and B keeps its flags.
    /// Killed after the trial flip (while cleaning up), B is bootable, and then it must hold
    /// exactly `image`. In between, B must not be bootable.
    static func installKilled(_ harness: InstallHarness, from source: String, after seconds: Double, image: String) throws {
        try BootControl(pair: try harness.pair()).markGood(.b)
        let goodB = BootAttributes(rawValue: try harness.disk.sgdiskAttributes(4))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Updatectl.path)
        process.arguments = installArguments(harness, source)
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        Thread.sleep(forTimeInterval: seconds)
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        let flags = BootAttributes(rawValue: try harness.disk.sgdiskAttributes(4))
        if flags.isBootable && flags != goodB {
            try harness.expectInstalled(image)
        }
    }

    /// Kill -9 at 20 points spread over the transfer; every time, the next run resumes (from a
    /// checkpoint once one exists) and the slot ends up holding exactly the signed image.
    @Test func killedAtAnyPointTheInstallResumesToAVerifiedSlot() throws {
        let harness = try InstallHarness()
        let size = 8 << 20
        let image = try harness.fixture.randomImage("image.raw", size: size)
        let bundle = try harness.fixture.bundle("v2.tandem", image: image)
        // 16 MiB/s: a full transfer takes about half a second, long enough to be cut anywhere.
        let slow = try BundleServer(file: bundle, arguments: ["--rate", "\(16 << 20)"])
        let fast = try BundleServer(file: bundle)
        var resumedRuns = 0
        for point in 0..<20 {
            try Self.installKilled(harness, from: slow.url, after: 0.05 + 0.55 * Double(point) / 19, image: image)

            let resume = try Shell.capture([Updatectl.path] + Self.installArguments(harness, fast.url))
            #expect(resume.status == 0, "point \(point): \(resume.stderr)")
            if resume.stdout.contains("resumed from") { resumedRuns += 1 }
            try harness.expectInstalled(image)
        }
        #expect(resumedRuns >= 5, "kill points after the first checkpoint resume from it (\(resumedRuns) of 20 did)")
    }

    /// The same for a delta: kill -9 at 20 points while the changed blocks trickle in and the
    /// rest is copied from slot A; every resume proves what is in place chunk by chunk, fetches
    /// what is wrong, and ends with exactly the signed image in B and slot A untouched.
    @Test func aDeltaKilledAtAnyPointResumesToAnExactSlot() throws {
        let setup = try DeltaScenario()
        let harness = setup.harness
        // 2 MiB/s: the ~1.8 MB of changed blocks arrive over about a second, in four requests,
        // and the copying from A advances as each batch arrives.
        let slow = try BundleServer(file: setup.bundle, arguments: ["--rate", "\(2 << 20)"])
        let fast = try BundleServer(file: setup.bundle)
        var resumedRuns = 0
        for point in 0..<20 {
            try Self.installKilled(harness, from: slow.url, after: 0.1 + 1.0 * Double(point) / 19, image: setup.image)

            let resume = try Shell.capture([Updatectl.path] + Self.installArguments(harness, fast.url))
            #expect(resume.status == 0, "point \(point): \(resume.stderr)")
            #expect(resume.stdout.contains("delta: "), "point \(point): \(resume.stdout)")
            if resume.stdout.contains("resumed from") { resumedRuns += 1 }
            try harness.expectInstalled(setup.image)
            let offsetA = try harness.offset(ofPartition: 3)
            let same = try Shell.capture(["cmp", "-i", "\(offsetA):\(offsetA)", "-n", "\(InstallHarness.slotBytes)",
                                          setup.snapshot, harness.disk.path])
            #expect(same.status == 0, "point \(point): slot A's bytes changed")
        }
        #expect(resumedRuns >= 5, "kill points after the first checkpoint resume from it (\(resumedRuns) of 20 did)")
    }
}
