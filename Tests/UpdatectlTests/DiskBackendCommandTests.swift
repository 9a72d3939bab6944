import Foundation
import Testing
import TestSupport

/// `--backend`, `--esp` and `--hook` on the disk commands, and `disk init-boot`.
@Suite struct DiskBackendCommandTests {
    @Test func initBootGivesGPTPrioFlatcarsInitialFlags() throws {
        try TestDisk.with(.imageFile) { disk in
            #expect(try Updatectl.run("disk", "set", disk.path, "B", "--priority", "2", "--tries", "3").status == 0)
            #expect(try Updatectl.run("disk", "set", disk.path, "A", "--successful", "0").status == 0)
            let output = try Updatectl.run("disk", "init-boot", "--backend", "gptprio", disk.path)
            #expect(output.status == 0, "\(output.stderr)")
            #expect(output.stdout.contains("slot A (USR-A, partition 3): priority=1 tries=0 successful=0 -> priority=1 tries=0 successful=1"),
                    "\(output.stdout)")
            // sgdisk, not Tandem, reads the result.
            #expect(try disk.sgdiskAttributes(3) == (1 << 48) | (1 << 56))
            #expect(try disk.sgdiskAttributes(4) == 0)
            #expect(try disk.sgdiskAttributes(6) == 1 << 2, "other partitions' bits are kept")
        }
    }

    @Test func anUnknownBackendIsRefusedNamingTheKnownOnes() throws {
        try TestDisk.with(.imageFile) { disk in
            let output = try Updatectl.run("disk", "show", "--backend", "uboot", disk.path)
            #expect(output.status != 0)
            #expect(output.stderr.contains("gptprio") && output.stderr.contains("grub-env") && output.stderr.contains("systemd-boot")
                    && output.stderr.contains("custom"), "\(output.stderr)")
        }
    }

    @Test func theCustomBackendNeedsItsHook() throws {
        try TestDisk.with(.imageFile) { disk in
            let output = try Updatectl.run("disk", "mark", "--backend", "custom", disk.path, "B", "bad")
            #expect(output.status != 0 && output.stderr.contains("--backend custom needs --hook"), "\(output.stderr)")
        }
    }

    /// An image file's ESP is not mounted: every command that needs it says how to go on, and
    /// writes nothing; `show` still lists the disk.
    @Test func anESPBackendOnAnImageWithoutESPExplainsItself() throws {
        try TestDisk.with(.imageFile) { disk in
            let snapshot = try disk.snapshot()
            for command in [["mark", "B", "bad"], ["prioritize", "B"], ["next-boot", "--commit"], ["init-boot"], ["repair"]] {
                let arguments = ["disk", command[0], "--backend", "grub-env", disk.path] + command.dropFirst()
                let output = try Shell.capture([Updatectl.path] + arguments)
                #expect(output.status != 0, "\(arguments)")
                #expect(output.stderr.contains("cannot be mounted from a disk-image file; mount it or pass --esp DIR"),
                        "\(arguments): \(output.stderr)")
            }
            #expect(try disk.identical(to: snapshot), "nothing was written")
            let shown = try Updatectl.run("disk", "show", "--json", "--backend", "systemd-boot", disk.path)
            #expect(shown.status == 1)
            let report = try #require(try JSONSerialization.jsonObject(with: Data(shown.stdout.utf8)) as? [String: Any])
            #expect(report["backend"] as? String == "systemd-boot")
            #expect((report["backendError"] as? String)?.contains("mount it or pass --esp") == true, "\(report)")
            #expect(report["slots"] == nil && (report["partitions"] as? [Any])?.count == 6)
        }
    }

    @Test func showJSONNamesTheBackendAndKeepsGPTPriosFields() throws {
        try TestDisk.with(.imageFile) { disk in
            let report = try Updatectl.json("disk", "show", disk.path, "--json")
            #expect(report["backend"] as? String == "gptprio")
            #expect((report["backendProblems"] as? [Any])?.isEmpty == true && report["backendError"] == nil)
            let text = try Updatectl.run("disk", "show", disk.path)
            #expect(!text.stdout.contains("Boot state:"), "gptprio's text output is unchanged")
        }
    }
}
