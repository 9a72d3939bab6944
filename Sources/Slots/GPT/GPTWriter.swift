/// Writes a new partition-entry array to both GPT copies in a crash-safe order.
///
/// Order: backup entries, backup header, sync; primary entries, primary header, sync.
/// Each copy's header carries the CRC of its entries, so a copy whose write was cut short
/// fails its CRC check instead of being read as valid. The primary is authoritative while it
/// is valid, so until the primary header lands every reader sees the old table, and after
/// it lands every reader sees the new one.
enum GPTWriter {
    /// Writes `entries` over `snapshot`, rebuilding a damaged, stale or misplaced copy on the way,
    /// then re-reads the disk and checks the result. Returns the problems that were repaired.
    @discardableResult
    static func write(
        _ entries: PartitionEntries, over snapshot: GPTSnapshot, to storage: BlockStorage
    ) throws -> [GPTProblem] {
        let source = try snapshot.authoritative()
        let layout = try Layout(snapshot: snapshot, source: source)

        var primary = source.header
        primary.currentLBA = 1
        primary.alternateLBA = layout.backupLBA
        primary.entriesLBA = layout.primaryEntriesLBA
        primary.lastUsableLBA = layout.lastUsableLBA
        primary.entriesCRC = entries.crc
        primary.seal()

        var backup = primary
        backup.currentLBA = layout.backupLBA
        backup.alternateLBA = 1
        backup.entriesLBA = layout.backupEntriesLBA
        backup.seal()

        let sectorSize = snapshot.sectorSize
        let entrySectors = entries.sectors(size: sectorSize)
        try storage.writeSectors(entrySectors, at: backup.entriesLBA)
        try storage.writeSectors(backup.sector(size: sectorSize), at: backup.currentLBA)
        try storage.synchronize()
        try storage.writeSectors(entrySectors, at: primary.entriesLBA)
        try storage.writeSectors(primary.sector(size: sectorSize), at: 1)
        try storage.synchronize()

        try verify(entries, on: storage)
        return snapshot.problems
    }

    private static func verify(_ expected: PartitionEntries, on storage: BlockStorage) throws(SlotError) {
        let reread = GPTReader.read(storage)
        let remaining = reread.problems
        guard remaining.isEmpty else {
            throw .verificationFailed(disk: storage.path, detail: remaining.map(\.description).joined(separator: "; "))
        }
        let copy = try reread.authoritative()
        guard copy.entries == expected else {
            throw .verificationFailed(disk: storage.path, detail: "partition entries that differ from what was written")
        }
    }

    /// Where each structure goes (`GPTPlacement`), checked. The backup always ends up in the last
    /// sector of the disk; when the disk has shrunk below the old backup, the usable area shrinks
    /// with it, but only if no partition would be overwritten.
    private struct Layout {
        var primaryEntriesLBA: UInt64
        var backupLBA: UInt64
        var backupEntriesLBA: UInt64
        var lastUsableLBA: UInt64

        init(snapshot: GPTSnapshot, source: GPTCopy) throws(SlotError) {
            let header = source.header
            let placement = GPTPlacement(snapshot: snapshot, entrySectors: header.entryArraySectors(sectorSize: snapshot.sectorSize))
            guard let primaryEntries = placement.primaryEntries, let backupEntries = placement.backupEntries,
                  backupEntries.first > primaryEntries.last
            else {
                throw .cannotRelocateBackup(disk: snapshot.disk, detail: "the disk is too small to hold a GPT")
            }
            guard primaryEntries.last < header.firstUsableLBA else {
                throw .cannotRebuildPrimary(
                    disk: snapshot.disk,
                    detail: "its entry array (\(primaryEntries)) would overlap the usable area, which starts at LBA \(header.firstUsableLBA)")
            }
            primaryEntriesLBA = primaryEntries.first
            backupLBA = placement.backupHeaderLBA
            backupEntriesLBA = backupEntries.first
            lastUsableLBA = min(header.lastUsableLBA, backupEntriesLBA - 1)
            guard lastUsableLBA >= header.firstUsableLBA - 1 else {
                throw .cannotRelocateBackup(
                    disk: snapshot.disk,
                    detail: "no usable area would be left between LBA \(header.firstUsableLBA) and the backup entries at LBA \(backupEntriesLBA)")
            }
            let limit = lastUsableLBA
            if let overlapping = source.entries.usedNumbers.first(where: { source.entries.lastLBA(of: $0) > limit }) {
                throw .cannotRelocateBackup(
                    disk: snapshot.disk,
                    detail: "partition \(overlapping) ends at LBA \(source.entries.lastLBA(of: overlapping)), "
                        + "past LBA \(limit) where the backup entries must start on a disk of \(snapshot.sectorCount) sectors")
            }
        }
    }
}
