import Engine

/// tandem.conf, loaded from a file as tandemd and updatectl load it.
enum TandemConfTarget {
    static func run(_ input: [UInt8]) -> FuzzOutcome {
        FuzzOutcome {
            let path = try ScratchDirectory.write(input, to: "tandem.conf")
            _ = try Configuration.load(path: path, required: true)
        }
    }
}
