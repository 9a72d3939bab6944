/// Where a rewrite of the GPT puts each structure: the primary entry array stays where a valid
/// primary has it (LBA 2 when the primary is damaged); the backup header goes to the last
/// sector with its entry array right before it. The writer writes there, and the geometry
/// rules keep the slots away from there.
struct GPTPlacement {
    /// Nil when the array would run past the largest LBA.
    let primaryEntries: LBARange?
    let backupHeaderLBA: UInt64
    /// Nil when the disk has fewer sectors than the array.
    let backupEntries: LBARange?

    init(snapshot: GPTSnapshot, entrySectors: UInt64) {
        let primaryEntriesLBA = (try? snapshot.primary.get().header.entriesLBA) ?? 2
        primaryEntries = LBARange(first: primaryEntriesLBA, count: entrySectors)
        backupHeaderLBA = snapshot.lastLBA
        backupEntries = backupHeaderLBA > entrySectors
            ? LBARange(first: backupHeaderLBA - entrySectors, count: entrySectors) : nil
    }
}

extension GPTSnapshot {
    /// What the geometry rules check against, when `copy` is the copy in use: the table's own
    /// sectors where they are now and where a rewrite puts them, and every used entry.
    func geometry(of copy: GPTCopy) -> DiskGeometry {
        let entrySectors = copy.header.entryArraySectors(sectorSize: sectorSize)
        let placement = GPTPlacement(snapshot: self, entrySectors: entrySectors)
        var areas = [
            GPTArea(.protectiveMBR, LBARange(first: 0, last: 0)),
            GPTArea(.primaryHeader, LBARange(first: 1, last: 1)),
            GPTArea(.backupHeader, LBARange(first: placement.backupHeaderLBA, last: placement.backupHeaderLBA)),
        ]
        if let range = placement.primaryEntries { areas.append(GPTArea(.primaryEntries, range)) }
        if let range = placement.backupEntries { areas.append(GPTArea(.backupEntries, range)) }
        // A valid backup away from the end (the disk grew) stays where it is until rewritten.
        if case let .success(backupCopy) = backup {
            let header = backupCopy.header
            for area in [GPTArea(.backupHeader, LBARange(first: header.currentLBA, last: header.currentLBA))]
                + (header.entryArrayRange(sectorSize: sectorSize).map { [GPTArea(.backupEntries, $0)] } ?? [])
            where !areas.contains(area) {
                areas.append(area)
            }
        }
        return DiskGeometry(
            sectorCount: sectorCount, usableArea: copy.header.usableArea, gptAreas: areas,
            entries: copy.entries.usedNumbers.map { number in
                PartitionExtent(number: number, label: copy.entries.name(of: number), range: copy.entries.range(of: number))
            })
    }
}
