import Foundation
import Testing
import TestSupport

@Suite struct DiskCommandTests {
    @Test func showPrintsTheSlotTableAndTheNextBoot() throws {
        try TestDisk.with(.imageFile) { disk in
            let output = try Updatectl.run("disk", "show", disk.path)
            #expect(output.status == 0, "\(output.stderr)")
            let lines = output.stdout.split(separator: "\n").map(String.init)
            #expect(lines.contains("GPT: both copies valid"))
            let rowA = try #require(lines.first { $0.hasPrefix("A ") })
            #expect(rowA.split(separator: " ", omittingEmptySubsequences: true)
                == ["A", "3", "USR-A", "1", "0", "yes", "16.0", "MiB", "*"])
            let rowB = try #require(lines.first { $0.hasPrefix("B ") })
            #expect(rowB.split(separator: " ", omittingEmptySubsequences: true)
                == ["B", "4", "USR-B", "0", "0", "no", "16.0", "MiB"])
            #expect(lines.last == "Next boot: slot A")
        }
    }

    @Test func showJSONFollowsTheDocumentedSchema() throws {
        try TestDisk.with(.imageFile) { disk in
            let report = try Updatectl.json("disk", "show", disk.path, "--json")
            #expect(report["schema"] as? String == "tandem.disk/1")
            #expect(report["nextBoot"] as? String == "A")
            #expect((report["tableProblems"] as? [Any])?.isEmpty == true)
            let info = try #require(report["disk"] as? [String: Any])
            #expect(info["sectorSize"] as? Int == 512 && info["sizeBytes"] as? Int == 64 << 20)
            let partitions = try #require(report["partitions"] as? [[String: Any]])
            #expect(partitions.map { $0["number"] as? Int } == [1, 2, 3, 4, 6, 9])
            let usrA = try #require(partitions.first { $0["number"] as? Int == 3 })
            #expect(usrA["attributes"] as? String == "0x0101000000000000")
            #expect(usrA["uniqueGUID"] as? String == TestDisk.usrAUUID)
            #expect(usrA["slot"] as? String == "A")
            let oem = try #require(partitions.first { $0["number"] as? Int == 6 })
            #expect(oem["attributes"] as? String == "0x0000000000000004")
            let slots = try #require(report["slots"] as? [[String: Any]])
            #expect(slots.map { $0["name"] as? String } == ["A", "B"])
            #expect(slots[1]["priority"] as? Int == 0 && slots[1]["successful"] as? Bool == false)
            #expect(slots[0]["nextBoot"] as? Bool == true && slots[1]["nextBoot"] as? Bool == false)
        }
    }

    /// The bootloader's view through the CLI: a trial slot boots once, then the old slot again.
    @Test func nextBootCommitPlaysTheBootloader() throws {
        try TestDisk.with(.imageFile) { disk in
            let set = try Updatectl.run("disk", "set", disk.path, "B", "--priority", "2", "--tries", "1")
            #expect(set.status == 0 && set.stdout.contains("slot B (USR-B, partition 4): priority=0 tries=0 successful=0 -> priority=2 tries=1 successful=0"))

            let predicted = try Updatectl.json("disk", "next-boot", disk.path, "--json")
            #expect(predicted["slot"] as? String == "B" && predicted["trial"] as? Bool == true)
            #expect(predicted["committed"] as? Bool == false && predicted["triesLeft"] as? Int == 1)
            #expect(try disk.sgdiskAttributes(4) == (2 << 48) | (1 << 52), "a prediction writes nothing")

            let first = try Updatectl.json("disk", "next-boot", disk.path, "--commit", "--json")
            #expect(first["slot"] as? String == "B" && first["triesLeft"] as? Int == 0)
            #expect(try disk.sgdiskAttributes(4) == 2 << 48)

            let second = try Updatectl.run("disk", "next-boot", disk.path, "--commit")
            #expect(second.status == 0 && second.stdout == "next boot: slot A (USR-A, partition 3)\n")
            #expect(try disk.sgdiskAttributes(3) == 0x0101_0000_0000_0000)
            #expect(try disk.sgdiskVerifies().clean)
        }
    }

    @Test func tiesAndPriorityZeroThroughTheCLI() throws {
        try TestDisk.with(.imageFile) { disk in
            _ = try Updatectl.run("disk", "set", disk.path, "USR-B", "--priority", "1", "--successful", "1")
            #expect(try Updatectl.json("disk", "next-boot", disk.path, "--json")["slot"] as? String == "A", "a tie goes to partition 3")
            _ = try Updatectl.run("disk", "set", disk.path, "3", "--priority", "0")
            #expect(try Updatectl.json("disk", "next-boot", disk.path, "--json")["slot"] as? String == "B", "priority 0 never boots")

            let prioritize = try Updatectl.run("disk", "prioritize", disk.path, "A")
            #expect(prioritize.status == 0)
            #expect(try disk.sgdiskAttributes(3) == (2 << 48) | (1 << 56), "cgpt raises the chosen slot from 0 to the top")
            #expect(try disk.sgdiskAttributes(4) == (1 << 48) | (1 << 56), "and keeps the other below it")
        }
    }

    @Test func namedTransitionsSetTheDocumentedFlags() throws {
        try TestDisk.with(.imageFile) { disk throws in
            #expect(try Updatectl.run("disk", "mark", disk.path, "B", "trial", "--tries", "3").status == 0)
            #expect(try disk.sgdiskAttributes(4) == (2 << 48) | (3 << 52))
            #expect(try Updatectl.run("disk", "mark", disk.path, "B", "good").status == 0)
            #expect(try disk.sgdiskAttributes(4) == (2 << 48) | (1 << 56))
            #expect(try Updatectl.run("disk", "mark", disk.path, "A", "invalid").status == 0)
            #expect(try disk.sgdiskAttributes(3) == 0 as UInt64)
            #expect(try Updatectl.run("disk", "mark", disk.path, "A", "trial", "--tries", "0").status == 64)
            #expect(try disk.sgdiskVerifies().clean)
        }
    }

    @Test func bothUnbootableFailsLoudlyAndWritesNothing() throws {
        try TestDisk.with(.imageFile) { disk in
            _ = try Updatectl.run("disk", "set", disk.path, "A", "--successful", "0")
            let before = try disk.snapshot()
            let result = try Updatectl.run("disk", "next-boot", disk.path, "--commit")
            #expect(result.status == 1)
            #expect(result.stderr.contains("no slot on \(disk.path) is bootable"))
            #expect(try disk.identical(to: before))
        }
    }

    @Test func badInputGetsAClearErrorAndADistinctStatus() throws {
        try TestDisk.with(.imageFile, extraSgdisk: ["-c", "4:DATA"]) { disk in
            let outOfRange = try Updatectl.run("disk", "set", disk.path, "A", "--priority", "16")
            #expect(outOfRange.status == 64 && outOfRange.stderr.contains("--priority must be 0-15"))

            let nothing = try Updatectl.run("disk", "set", disk.path, "A")
            #expect(nothing.status == 64)

            let missing = try Updatectl.run("disk", "show", disk.path)
            #expect(missing.status == 1, "the slots cannot be found")
            #expect(missing.stdout.contains("USR-A"), "what is there is still listed")
            #expect(missing.stderr.contains("\(disk.path) has no partition labelled USR-B"))

            let relabelled = try Updatectl.run("disk", "show", disk.path, "--label-b", "DATA")
            #expect(relabelled.status == 0)

            let noFile = try Updatectl.run("disk", "show", disk.directory.appendingPathComponent("absent.img").path)
            #expect(noFile.status == 1 && noFile.stderr.contains("cannot open"))

            let unknown = try Updatectl.run("disk", "prioritize", disk.path, "C", "--label-b", "DATA")
            #expect(unknown.status == 1 && unknown.stderr.contains("name a slot as A, B, its label or its partition number"))
        }
    }

    @Test func aRepairIsReportedInWords() throws {
        try TestDisk.with(.imageFile) { disk in
            try disk.corrupt(at: try disk.sizeInBytes - 512 + 40)
            let shown = try Updatectl.run("disk", "show", disk.path)
            #expect(shown.stdout.contains("GPT: backup GPT damaged (bad header CRC); it is rebuilt from the primary"))
            let repaired = try Updatectl.run("disk", "repair", disk.path)
            #expect(repaired.status == 0 && repaired.stdout.contains("repaired: backup GPT damaged (bad header CRC)"))
            #expect(try disk.sgdiskVerifies().clean)
        }
    }

    @Test func aLoopDeviceShowsItsPartitionDevices() throws {
        try TestDisk.with(.loopDevice4K) { disk in
            let report = try Updatectl.json("disk", "show", disk.path, "--json")
            let slots = try #require(report["slots"] as? [[String: Any]])
            #expect(slots.map { $0["device"] as? String } == [disk.path + "p3", disk.path + "p4"])
            #expect((report["disk"] as? [String: Any])?["sectorSize"] as? Int == 4096)
        }
    }
}
