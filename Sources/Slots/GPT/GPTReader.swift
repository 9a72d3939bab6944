/// What is wrong with a GPT that Tandem can still use, and will repair on its next write.
public enum GPTProblem: Equatable, Sendable, CustomStringConvertible {
    case primaryDamaged(String)
    case backupDamaged(String)
    /// Both copies are valid but disagree, as after a write interrupted between the two.
    /// The primary is authoritative, as it is for GRUB and the kernel.
    case backupStale
    /// The backup is valid but not at the end of the disk, as after the disk grew.
    case backupMisplaced(lba: UInt64, expected: UInt64)

    public var description: String {
        switch self {
        case let .primaryDamaged(reason): "primary GPT damaged (\(reason)); it is rebuilt from the backup"
        case let .backupDamaged(reason): "backup GPT damaged (\(reason)); it is rebuilt from the primary"
        case .backupStale: "backup GPT disagrees with the primary; it is rebuilt from the primary"
        case let .backupMisplaced(lba, expected):
            "backup GPT is at LBA \(lba), not at the end of the disk (LBA \(expected)); it is moved there"
        }
    }
}

/// Both copies of a disk's GPT as read, each either usable or damaged.
struct GPTSnapshot {
    let disk: String
    let sectorSize: Int
    let sectorCount: UInt64
    let primary: Result<GPTCopy, GPTDamage>
    let backup: Result<GPTCopy, GPTDamage>
    let backupLBA: UInt64
    /// A protective MBR says the disk was GPT even when both headers are gone.
    let hasProtectiveMBR: Bool

    var lastLBA: UInt64 { sectorCount == 0 ? 0 : sectorCount - 1 }

    /// The copy every change starts from: the primary when it is valid, else the backup.
    func authoritative() throws(SlotError) -> GPTCopy {
        switch (primary, backup) {
        case let (.success(copy), _), let (.failure, .success(copy)):
            return copy
        case let (.failure(primaryDamage), .failure(backupDamage)):
            let backupAbsent = backupDamage == .noSignature || {
                if case .beyondEndOfDisk = backupDamage { true } else { false }
            }()
            if primaryDamage == .noSignature && backupAbsent && !hasProtectiveMBR {
                throw .notGPT(disk: disk, found: nil)
            }
            throw .bothTablesDamaged(disk: disk, primary: "\(primaryDamage)", backup: "\(backupDamage)")
        }
    }

    var problems: [GPTProblem] {
        switch (primary, backup) {
        case (.failure(let damage), .success):
            return [.primaryDamaged("\(damage)")]
        case (.success, .failure(let damage)):
            return [.backupDamaged("\(damage)")]
        case let (.success(primaryCopy), .success(backupCopy)):
            if !primaryCopy.describesSameTable(as: backupCopy) || backupCopy.header.alternateLBA != 1 {
                return [.backupStale]
            }
            if backupLBA != lastLBA {
                return [.backupMisplaced(lba: backupLBA, expected: lastLBA)]
            }
            return []
        case (.failure, .failure):
            return []
        }
    }
}

enum GPTReader {
    static func read(_ storage: BlockStorage) -> GPTSnapshot {
        let sectors = storage.sectorCount
        let primary = readCopy(storage, at: 1)
        // The primary says where its backup is; without it the backup belongs at the last LBA.
        let backupLBA = (try? primary.get().header.alternateLBA) ?? max(sectors, 1) - 1
        let backup = readCopy(storage, at: backupLBA)
        return GPTSnapshot(
            disk: storage.path, sectorSize: storage.sectorSize, sectorCount: sectors,
            primary: primary, backup: backup, backupLBA: backupLBA,
            hasProtectiveMBR: hasProtectiveMBR(storage))
    }

    private static func hasProtectiveMBR(_ storage: BlockStorage) -> Bool {
        guard let sector = try? storage.read(at: 0, count: 512), sector.count == 512 else { return false }
        let bootSignature = sector[510] == 0x55 && sector[511] == 0xAA
        let partitionTypes = (0..<4).map { sector[446 + 16 * $0 + 4] }
        return bootSignature && partitionTypes.contains(0xEE)
    }

    private static func readCopy(_ storage: BlockStorage, at lba: UInt64) -> Result<GPTCopy, GPTDamage> {
        let sectors = storage.sectorCount
        guard lba >= 1, lba < sectors else {
            return .failure(.beyondEndOfDisk(lba: lba, sectors: sectors))
        }
        let header: GPTHeader
        do {
            let parsed = GPTHeader.parse(sector: try storage.readSectors(lba, count: 1), at: lba)
            header = try parsed.get()
        } catch let damage as GPTDamage {
            return .failure(damage)
        } catch {
            return .failure(.unreadable("\(error)"))
        }
        // parse checked that the array is addressable; here it must also be on this disk.
        guard let entryRange = header.entryArrayRange(sectorSize: storage.sectorSize), entryRange.last < sectors else {
            return .failure(.invalidHeader("entry array at LBA \(header.entriesLBA) lies outside the disk"))
        }
        let entrySectors = entryRange.last - entryRange.first + 1
        do {
            let raw = try storage.readSectors(header.entriesLBA, count: Int(entrySectors))
            guard raw.count >= header.entryArrayBytes else {
                return .failure(.unreadable("the entry array came back short: \(raw.count) of \(header.entryArrayBytes) bytes"))
            }
            let entries = PartitionEntries(bytes: Array(raw[0..<header.entryArrayBytes]), entrySize: header.entrySize)
            guard entries.crc == header.entriesCRC else { return .failure(.badEntriesCRC) }
            return .success(GPTCopy(header: header, entries: entries))
        } catch {
            return .failure(.unreadable("\(error)"))
        }
    }
}
