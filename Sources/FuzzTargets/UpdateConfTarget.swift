import Omaha

/// update_engine's /etc/flatcar/update.conf, read with its precedence over the image's files.
enum UpdateConfTarget {
    static func run(_ input: [UInt8]) -> FuzzOutcome {
        FuzzOutcome {
            let root = ScratchDirectory.path + "/update-root"
            _ = try ScratchDirectory.write(input, to: "update-root/etc/flatcar/update.conf")
            _ = try FlatcarUpdateConfiguration.load(root: root)
        }
    }
}
