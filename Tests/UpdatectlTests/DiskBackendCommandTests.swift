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

    /// init-boot writes each ESP backend's files, and the bootloader's own view of them (as
    /// grub-editenv and the ESP's file names show it) is A good and first, B unable to boot;
    /// then a trial of B is what the oracles see too.
    @Test func initBootPreparesGrubEnvAndSystemdBootESPs() throws {
        try Integration.require(Shell.which("grub-editenv"), "grub-editenv (grub-common)")
        try TestDisk.with(.imageFile) { disk in
            let grubESP = try Scratch(), bootESP = try Scratch()
            let grub = try Updatectl.run("disk", "init-boot", "--backend", "grub-env", "--esp", grubESP.path,
                                         "--kernel-options", "console=ttyS0", disk.path)
            #expect(grub.status == 0, "\(grub.stderr)")
            let environment = try Shell.run(["grub-editenv", grubESP.file("tandem/grubenv"), "list"])
            #expect(environment.contains("TANDEM_A_PRIORITY=1") && environment.contains("TANDEM_A_GOOD=1")
                    && environment.contains("TANDEM_B_PRIORITY=0"), "\(environment)")
            let fragment = try String(contentsOfFile: grubESP.file("tandem/grub.cfg"), encoding: .utf8)
            #expect(fragment.contains("console=ttyS0") && fragment.contains("tandem.slot=b"))

            // systemd-boot skips an entry whose kernel is missing; the image builder puts them there.
            for slot in ["a", "b"] {
                for file in ["vmlinuz", "initrd.img"] { try bootESP.write(Array("\(slot) \(file)".utf8), to: "tandem/\(slot)/\(file)") }
            }
            let boot = try Updatectl.run("disk", "init-boot", "--backend", "systemd-boot", "--esp", bootESP.path, disk.path)
            #expect(boot.status == 0, "\(boot.stderr)")
            #expect(try FileManager.default.contentsOfDirectory(atPath: bootESP.file("loader/entries")) == ["tandem-a.conf"])

            for (backend, esp) in [("grub-env", grubESP.path), ("systemd-boot", bootESP.path)] {
                let trial = try Updatectl.run("disk", "mark", "--backend", backend, "--esp", esp, disk.path, "B", "trial", "--tries", "2")
                #expect(trial.status == 0, "\(backend): \(trial.stderr)")
                let next = try Updatectl.json("disk", "next-boot", "--json", "--backend", backend, "--esp", esp, disk.path)
                #expect(next["slot"] as? String == "B", "\(backend): \(next)")
            }
            let afterTrial = try Shell.run(["grub-editenv", grubESP.file("tandem/grubenv"), "list"])
            #expect(afterTrial.contains("TANDEM_B_TRIES=2") && afterTrial.contains("TANDEM_B_PRIORITY=2"), "\(afterTrial)")
            #expect(try FileManager.default.contentsOfDirectory(atPath: bootESP.file("loader/entries")).sorted()
                    == ["tandem-a.conf", "tandem-b+2-0.conf"])
        }
    }
}
