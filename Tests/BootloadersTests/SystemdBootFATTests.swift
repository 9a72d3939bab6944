import Bootloaders
import Foundation
import Slots
import Testing
import TestSupport

/// The backend on a real FAT file system, which has no modes to fchmod to and no link(2).
/// Only where the kernel can mount vfat (not in every container).
struct SystemdBootFATTests {
    static var kernelHasVfat: Bool {
        (try? String(contentsOfFile: "/proc/filesystems", encoding: .utf8))?.contains("\tvfat\n") ?? false
    }

    @Test(.enabled(if: kernelHasVfat, "the kernel cannot mount vfat here"))
    func theLifecycleWorksOnAVfatESP() throws {
        try Integration.requireLoopDevices()
        try Integration.require(Shell.which("mkfs.vfat"), "mkfs.vfat is missing (dosfstools)")
        let fixture = try SystemdBootFixture()
        let image = fixture.scratch.file("esp.img")
        try Shell.run(["truncate", "-s", "32M", image])
        try Shell.run(["mkfs.vfat", "-F", "32", image])
        try Shell.run(["mount", "-o", "loop", image, fixture.esp])
        defer { _ = try? Shell.capture(["umount", fixture.esp]) }
        for slot in ["a", "b"] {
            try fixture.scratch.write("kernel \(slot)", to: "esp/tandem/\(slot)/vmlinuz")
        }

        try SystemdBootBackend.prepare(pair: fixture.pair, esp: fixture.esp, kernelOptions: "quiet")
        let control = fixture.control()
        try control.setTrial(.b, tries: 2)
        #expect(try fixture.entryNames() == ["tandem-a.conf", "tandem-b+2-0.conf"])
        try control.nextBoot(commit: true)
        #expect(try fixture.entryNames() == ["tandem-a.conf", "tandem-b+1-1.conf"])
        try control.markGood(.b)
        #expect(try fixture.entryNames() == ["tandem-a.conf", "tandem-b.conf"])
        try control.prioritize(.a)
        #expect(try fixture.defaultPattern() == "tandem-a[.+][1-9c]*")
        try control.invalidate(.b)
        #expect(try fixture.entryNames() == ["tandem-a.conf"])
    }
}
