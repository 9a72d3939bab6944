/// One complete copy of the GPT: a header and the entry array it describes.
struct GPTCopy: Equatable {
    var header: GPTHeader
    var entries: PartitionEntries

    /// Two copies describe the same table when everything but their own location matches.
    func describesSameTable(as other: GPTCopy) -> Bool {
        header.diskGUID == other.header.diskGUID
            && header.firstUsableLBA == other.header.firstUsableLBA
            && header.lastUsableLBA == other.header.lastUsableLBA
            && header.entryCount == other.header.entryCount
            && header.entrySize == other.header.entrySize
            && entries == other.entries
    }
}
