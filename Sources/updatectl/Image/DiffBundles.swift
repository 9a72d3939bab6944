import ArgumentParser
import Delta
import Verification

struct DiffBundles: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "diff",
        abstract: "Show what a host running OLD would download to install the format 3 bundle NEW.",
        discussion: """
            OLD is what the host's booted slot holds: a bundle of any format, or a raw image. Every \
            4096-byte block of NEW's image whose lookup key OLD has is read from the booted slot (and \
            proven with its chunk); the rest is fetched, adjacent blocks in one range, after the chunk \
            table. This is the plan the installer follows.
            """
    )

    @Argument(help: "The bundle or raw image the host runs.")
    var old: String

    @Argument(help: "The format 3 bundle to install.")
    var new: String

    @Flag(help: "Print JSON (schema tandem.bundle-diff/1, see docs/cli-json.md).")
    var json = false

    func run() throws {
        let preamble = try BundleFile.readPreamble(path: new)
        guard let layout = preamble.manifest.chunkLayout else {
            throw ValidationError("\(new) is a format \(preamble.header.formatVersion) bundle; a delta needs format 3 "
                + "('updatectl image create' writes it by default)")
        }
        guard var plan = DeltaPlan(layout: layout) else {
            throw ValidationError("\(new)'s image has more than \(DeltaPlan.maximumBlocks) blocks: hosts install it in full")
        }
        var oldIndex = BlockIndex.Builder()
        try Self.forEachKey(of: old) { key, _ in oldIndex.append(key) }
        let index = oldIndex.finish()
        // Fetched blocks that an earlier fetched block already holds: the installer fetches
        // them again (it cannot copy from a slot it is still writing), and says so here.
        var fetchedKeys = Set<UInt64>()
        var blocksRepeated: UInt64 = 0
        try BlockKeys.forEach(inTableOf: new, preamble: preamble, layout: layout) { key, _ in
            plan.add(key: key, index: index)
            if plan.source(for: plan.blocks - 1) == .fetched, !fetchedKeys.insert(key).inserted { blocksRepeated += 1 }
        }
        let report = DiffReport(old: old, new: new, plan: plan, blocksRepeated: blocksRepeated)
        print(json ? encodeJSON(report) : report.text)
    }

    /// The block keys of OLD's image: from its chunk table when it is a format 3 bundle, else
    /// hashed from its image (a bundle of format 1 or 2) or from the whole file (a raw image).
    static func forEachKey(of path: String, _ body: (UInt64, UInt64) -> Void) throws {
        guard let preamble = try? BundleFile.readPreamble(path: path) else {
            try BlockKeys.forEach(hashing: path, from: 0, count: nil, body)
            return
        }
        if let layout = preamble.manifest.chunkLayout {
            try BlockKeys.forEach(inTableOf: path, preamble: preamble, layout: layout, body)
        } else {
            try BlockKeys.forEach(hashing: path, from: preamble.header.imageOffset, count: preamble.header.imageLength, body)
        }
    }
}

/// What `updatectl image diff` prints. The JSON form is schema `tandem.bundle-diff/1`
/// (docs/cli-json.md): fields are only ever added.
struct DiffReport: Encodable {
    var schema = "tandem.bundle-diff/1"
    var old: String
    var new: String
    var imageSize: UInt64
    var blockSize = ChunkLayout.blockSize
    var blocks: UInt64
    var blocksFound: UInt64
    var blocksOfZeros: UInt64
    var blocksRepeated: UInt64
    var blocksFetched: UInt64
    var bytesFetched: UInt64
    var ranges: UInt64
    var tableBytes: UInt64
    var downloadBytes: UInt64
    var percentOfImage: Double

    init(old: String, new: String, plan: DeltaPlan, blocksRepeated: UInt64) {
        self.old = old
        self.new = new
        imageSize = plan.layout.imageSize
        blocks = plan.blocks
        blocksFound = plan.blocksFound
        blocksOfZeros = plan.blocksOfZeros
        self.blocksRepeated = blocksRepeated
        blocksFetched = plan.blocksFetched
        bytesFetched = plan.bytesFetched
        ranges = UInt64(plan.fetchRanges.count)
        tableBytes = plan.layout.tableLength
        downloadBytes = plan.downloadBytes
        percentOfImage = (plan.percentOfImage * 100).rounded() / 100
    }

    var text: String {
        [
            "A host running \(old) downloads \(downloadBytes) bytes (\(formatBytes(downloadBytes))) to install \(new): "
                + "\(percentOfImage)% of its \(imageSize)-byte image",
            "  chunk table: \(tableBytes) bytes, read first",
            "  blocks of \(blockSize) bytes: \(blocks); \(blocksFound) found in the old image, \(blocksOfZeros) zeros, "
                + "\(blocksFetched) fetched "
                + "(\(bytesFetched) bytes) in \(ranges) ranges; \(blocksRepeated) of those repeat an earlier fetched block",
        ].joined(separator: "\n")
    }
}
