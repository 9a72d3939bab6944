import Bootloaders
import Foundation
import Slots
import TestSupport

/// A Flatcar-like disk and a directory standing in for its ESP, with the slots' kernels in
/// place. The oracle for what systemd-boot sees is the ESP's directory listing and the
/// `default` line of loader.conf, read here with plain string handling, not Tandem's parser.
final class SystemdBootFixture {
    let disk: TestDisk
    let pair: SlotPair
    let scratch: Scratch
    var esp: String { scratch.path + "/esp" }
    var entriesDirectory: String { esp + "/loader/entries" }

    init() throws {
        disk = try TestDisk()
        pair = try SlotPair(disk: try Disk.probe(disk.path))
        scratch = try Scratch()
        for slot in ["a", "b"] {
            try scratch.write("kernel \(slot)", to: "esp/tandem/\(slot)/vmlinuz")
            try scratch.write("initrd \(slot)", to: "esp/tandem/\(slot)/initrd.img")
        }
    }

    deinit {
        disk.remove()
    }

    func backend(efivars: String? = nil, beforeStep: @escaping (ESPFileStep) throws -> Void = { _ in }) -> SystemdBootBackend {
        SystemdBootBackend(esp: esp, efivars: efivars ?? scratch.path + "/efivars", beforeStep: beforeStep)
    }

    func control(_ backend: SystemdBootBackend? = nil) -> BootControl {
        BootControl(pair: pair, backend: backend ?? self.backend())
    }

    /// The names in `loader/entries`, sorted, as `ls` shows them.
    func entryNames() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: entriesDirectory).sorted()
    }

    /// The value of loader.conf's last `default` line.
    func defaultPattern() throws -> String? {
        let text = try String(contentsOfFile: esp + "/loader/loader.conf", encoding: .utf8)
        return text.split(separator: "\n").last { $0.hasPrefix("default ") }.map { String($0.dropFirst("default ".count)) }
    }

    /// Lays out an ESP by hand: these entry files (each naming its slot's kernel) and a
    /// loader.conf whose default is `first`'s pattern, or none.
    func layOut(entries: [String], first: String?) throws {
        try? FileManager.default.removeItem(atPath: esp + "/loader")
        try FileManager.default.createDirectory(atPath: entriesDirectory, withIntermediateDirectories: true)
        for name in entries {
            let slot = name.hasPrefix("tandem-a") ? "a" : "b"
            try scratch.write("title x\nlinux /tandem/\(slot)/vmlinuz\noptions tandem.slot=\(slot)\n", to: "esp/loader/entries/\(name)")
        }
        try scratch.write("timeout 0\n" + (first.map { "default tandem-\($0)[.+][1-9c]*\n" } ?? ""), to: "esp/loader/loader.conf")
    }

    var a: Int { pair.a.partition.number }
    var b: Int { pair.b.partition.number }
}
