import Slots

/// Storage that stops dead after a set number of writes and syncs, like a power cut in the
/// middle of a GPT update: operations up to the limit reach the disk, later ones never do.
public final class FaultInjectingStorage: BlockStorage {
    public struct PowerCut: Error, CustomStringConvertible {
        public var description: String { "simulated power cut" }
    }

    private let base: BlockStorage
    private var operationsLeft: Int
    /// Every write and sync attempted, in order: "write <offset>" or "sync".
    public private(set) var log: [String] = []

    public init(_ base: BlockStorage, operationsBeforeFailure: Int) {
        self.base = base
        operationsLeft = operationsBeforeFailure
    }

    public var path: String { base.path }
    public var sizeInBytes: UInt64 { base.sizeInBytes }
    public var sectorSize: Int { base.sectorSize }

    public func read(at offset: UInt64, count: Int) throws -> [UInt8] {
        try base.read(at: offset, count: count)
    }

    public func write(_ bytes: [UInt8], at offset: UInt64) throws {
        try spend("write \(offset)")
        try base.write(bytes, at: offset)
    }

    public func synchronize() throws {
        try spend("sync")
        try base.synchronize()
    }

    private func spend(_ operation: String) throws {
        guard operationsLeft > 0 else { throw PowerCut() }
        operationsLeft -= 1
        log.append(operation)
    }
}
