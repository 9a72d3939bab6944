import Foundation
import Slots
import Streaming
import TestSupport
import Testing

/// tandemd pointed at Tests/Scripts/omaha_server.py, which offers a signed bundle served by
/// bundle_server.py. The Omaha server's behaviour is changed during a test through its control
/// file; every request it got is in its log.
final class OmahaFixture {
    let harness: DaemonHarness
    let omaha: ScriptServer
    let bundles: [String: BundleServer]
    /// update_engine's files (machine-id, oem-release, update.conf) live under this root.
    let root: String
    let control: String
    let machineID = "0123456789abcdef0123456789abcdef"

    var serverURL: String { "http://127.0.0.1:\(omaha.port)/v1/update/" }

    /// - Parameters:
    ///   - versions: the bundles to make and serve, by version.
    ///   - settings: extra tandem.conf lines ([Update] keys go under their own header).
    ///   - serverInConfig: whether tandem.conf names the server (else update.conf must).
    ///   - delta: slot A holds an image of which each version's differs in one block in 16,
    ///     so that tandemd installs it as a delta.
    ///   - recordedBootedSlot: with `delta`, slot A's image is installed there from a bundle
    ///     (with B booted, then A marked good again), as the install before would have, so that
    ///     tandemd's state directory holds the record of A's block keys; else it is copied in.
    init(kind: DiskKind = .imageFile, versions: [String] = ["2.0.0"], strategy: String = "automatic",
         serverInConfig: Bool = true, settings: String = "", delta: Bool = false, recordedBootedSlot: Bool = false) throws {
        let omahaControl = FileManager.default.temporaryDirectory.appendingPathComponent("omaha-control-\(UUID().uuidString.prefix(8)).json").path
        control = omahaControl
        omaha = try ScriptServer(script: "omaha_server.py",
                                 log: FileManager.default.temporaryDirectory.appendingPathComponent("omaha-\(UUID().uuidString).jsonl").path,
                                 arguments: ["--mode", "noupdate", "--control", omahaControl])
        let server = "http://127.0.0.1:\(omaha.port)/v1/update/"
        let rootDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("omaha-root-\(UUID().uuidString.prefix(8))").path
        root = rootDirectory
        harness = try DaemonHarness(kind: kind, settings: """
            [Update]
            \(serverInConfig ? "Server=\(server)" : "")
            Group=beta
            MachineAlias=web-1
            Strategy=\(strategy)
            FirstCheckDelaySec=1
            CheckJitterSec=0
            RequestTimeoutSec=5

            [Host]
            Root=\(rootDirectory)
            \(settings)
            """)
        try FileManager.default.createDirectory(atPath: root + "/etc", withIntermediateDirectories: true)
        try "\(machineID)\n".write(toFile: root + "/etc/machine-id", atomically: true, encoding: .utf8)
        try "ID=qemu\nVERSION_ID=0.1\n".write(toFile: root + "/etc/oem-release", atomically: true, encoding: .utf8)
        var served: [String: BundleServer] = [:]
        let old = try harness.fixture.randomImage("booted.raw", size: 3 << 20)
        if delta && recordedBootedSlot {
            let bundle = try harness.fixture.bundle("booted.tandem", image: old, version: "1.9.0")
            let bootedB = try BootedSlot.locate(disk: harness.disk.path, bootedSlot: "B")
            try Installer(booted: bootedB, trust: try harness.fixture.trust, options: harness.install.options()).install(bundle)
            try BootControl(pair: try harness.install.pair()).markGood(.a)
        } else if delta {
            let offsetA = try harness.install.offset(ofPartition: 3)
            try Shell.run(["dd", "if=\(old)", "of=\(harness.disk.path)", "bs=1M", "conv=notrunc", "oflag=seek_bytes",
                           "seek=\(offsetA)", "status=none"])
        }
        for version in versions {
            let image = try harness.fixture.randomImage("image-\(version).raw", size: 3 << 20)
            if delta {
                // The booted image with every 16th block rewritten (the random image's blocks).
                try Shell.run(["python3", "-c", """
                    import sys
                    old = open(sys.argv[1], 'rb').read(); new = bytearray(open(sys.argv[2], 'rb').read())
                    for block in range(0, len(old) // 4096):
                        if block % 16 != 5: new[block * 4096:(block + 1) * 4096] = old[block * 4096:(block + 1) * 4096]
                    open(sys.argv[2], 'wb').write(new)
                    """, old, image])
            }
            let bundle = try harness.fixture.bundle("v\(version).tandem", image: image, version: version)
            served[version] = try BundleServer(file: bundle)
        }
        bundles = served
    }

    deinit {
        try? FileManager.default.removeItem(atPath: root)
        try? FileManager.default.removeItem(atPath: control)
    }

    /// From now on the server answers update checks with `mode` (see omaha_server.py), offering `version`.
    func serve(_ mode: String, version: String = "2.0.0", extra: [String: Any] = [:]) throws {
        var settings: [String: Any] = ["mode": mode]
        if let bundle = bundles[version] {
            let file = bundle.file
            settings["version"] = version
            settings["url"] = "http://127.0.0.1:\(bundle.port)/"
            settings["name"] = "bundle"
            settings["size"] = try FileManager.default.attributesOfItem(atPath: file)[.size] as? Int ?? 0
            settings["sha256_b64"] = try Shell.capture(["sh", "-c", "openssl dgst -sha256 -binary '\(file)' | base64"])
                .stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        settings.merge(extra) { $1 }
        let data = try JSONSerialization.data(withJSONObject: settings)
        try data.write(to: URL(fileURLWithPath: control + ".tmp"))
        // rename(2): the server never reads a half-written file.
        guard rename(control + ".tmp", control) == 0 else { throw POSIXError(.EIO) }
    }

    func requests() throws -> [[String: Any]] {
        try omaha.requests()
    }

    /// Every event the server received, in order, as `type/result[/errorcode][ previousversion=…]`.
    func events() throws -> [String] {
        try requests().flatMap { request in
            (request["events"] as? [[String: String]] ?? []).map(Self.describe)
        }
    }

    static func describe(_ event: [String: String]) -> String {
        var text = "\(event["eventtype"] ?? "?")/\(event["eventresult"] ?? "?")"
        if let code = event["errorcode"] { text += "/\(code)" }
        if let previous = event["previousversion"] { text += " previousversion=\(previous)" }
        return text
    }

    /// Waits until the server has received `event`.
    func waitForEvent(_ event: String, timeout: Double = 30) throws -> Bool {
        try DaemonHarness.eventually(timeout: timeout) { try events().contains(event) }
    }

    func status() throws -> [String: Any] {
        try harness.updatectlJSON(["status", "--json"])
    }

    func updates() throws -> [String: Any] {
        try #require(try status()["updates"] as? [String: Any])
    }
}
