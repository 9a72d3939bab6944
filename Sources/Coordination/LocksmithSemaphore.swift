import FoundationEssentials
import Platform

/// locksmith's reboot semaphore, the JSON value under its etcd key (`lock/semaphore.go`):
/// `semaphore` free slots out of `max`, and the machine IDs holding the others, kept sorted.
/// Its operations are locksmith's, so that Tandem and locksmithd hosts can share one key.
public struct LocksmithSemaphore: Sendable, Equatable, CustomStringConvertible {
    public private(set) var semaphore: Int
    public private(set) var max: Int
    /// Sorted, as locksmith's binary-search insertion keeps them.
    public private(set) var holders: [String]
    /// Go writes a nil slice as `null` and an empty one as `[]`: a fresh semaphore, or one read
    /// as `null`, keeps `null` until a holder is added, as locksmith would write it back.
    private var holdersAreNull: Bool

    /// What locksmith writes when the key does not exist: one slot, free.
    public static let initial = LocksmithSemaphore(semaphore: 1, max: 1, holders: [], holdersAreNull: true)

    public init(semaphore: Int, max: Int, holders: [String]) {
        self.init(semaphore: semaphore, max: max, holders: LocksmithSemaphore.sorted(holders), holdersAreNull: false)
    }

    private init(semaphore: Int, max: Int, holders: [String], holdersAreNull: Bool) {
        self.semaphore = semaphore
        self.max = max
        self.holders = holders
        self.holdersAreNull = holdersAreNull
    }

    public static func == (left: LocksmithSemaphore, right: LocksmithSemaphore) -> Bool {
        left.semaphore == right.semaphore && left.max == right.max && left.holders == right.holders
    }

    public enum LockResult: Equatable, Sendable {
        case locked
        /// `holder` already holds a slot (locksmith's "holder exists"): nothing to write.
        case alreadyHeld
        /// No slot is free (locksmith's "semaphore is at N"); who holds them.
        case full(semaphore: Int, holders: [String])
    }

    /// Takes a slot for `holder`. A holder already present is reported before the count is
    /// checked, unlike locksmith, which says "semaphore is at 0" to a host that holds the last
    /// slot and so would never let it reboot; the stored value is the same either way.
    public mutating func lock(_ holder: String) -> LockResult {
        let index = insertionIndex(of: holder)
        if index < holders.count, holders[index] == holder { return .alreadyHeld }
        guard semaphore > 0 else { return .full(semaphore: semaphore, holders: holders) }
        holders.insert(holder, at: index)
        holdersAreNull = false
        semaphore -= 1
        return .locked
    }

    /// Gives `holder`'s slot back; false if it held none (locksmith's "holder does not exist").
    public mutating func unlock(_ holder: String) -> Bool {
        let index = insertionIndex(of: holder)
        guard index < holders.count, holders[index] == holder else { return false }
        holders.remove(at: index)
        semaphore += 1
        return true
    }

    /// locksmith's `SetMax`: the free count moves by the change in `max`, so it goes negative
    /// when the limit drops below the number of holders, and recovers as they unlock.
    public mutating func setMax(_ newMax: Int) {
        let difference = max - newMax
        semaphore -= difference
        max = newMax
    }

    /// The position `sort.SearchStrings` finds: the first holder not less than `holder`, by
    /// bytes, as Go compares strings.
    private func insertionIndex(of holder: String) -> Int {
        holders.partitioningIndex { !$0.utf8.lexicographicallyPrecedes(holder.utf8) }
    }

    /// Sorted by bytes, as Go compares strings.
    private static func sorted(_ holders: [String]) -> [String] {
        holders.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
    }

    // MARK: JSON

    /// Exactly what Go's `json.Marshal` writes for locksmith's struct: keys in declaration order,
    /// no spaces, `null` for a nil slice.
    public var json: String {
        let list = holdersAreNull ? "null" : "[" + holders.map(GoJSON.quoted).joined(separator: ",") + "]"
        return "{\"semaphore\":\(semaphore),\"max\":\(max),\"holders\":\(list)}"
    }

    public var description: String { json }

    private struct Wire: Decodable {
        var semaphore: Int?
        var max: Int?
        var holders: [String]?
    }

    /// Reads a value written by locksmith, locksmithctl, Tandem or by hand. `holders` may be
    /// `null`, `[]` or absent; missing numbers are 0, as Go leaves them. Holders are sorted
    /// again, since a hand-written list need not be.
    public init(json bytes: [UInt8]) throws(SemaphoreValueError) {
        let wire: Wire
        do {
            wire = try JSONDecoder().decode(Wire.self, from: Data(bytes))
        } catch {
            throw SemaphoreValueError(value: String(decoding: bytes, as: UTF8.self), detail: "\(error)")
        }
        self.init(semaphore: wire.semaphore ?? 0, max: wire.max ?? 0,
                  holders: LocksmithSemaphore.sorted(wire.holders ?? []),
                  holdersAreNull: wire.holders == nil)
    }

    // MARK: The key

    /// The etcd key of a group's semaphore: the default group (`""`) has locksmith's original
    /// key, any other its own, with the name escaped by Go's `url.QueryEscape`.
    public static func key(group: String) -> String {
        let prefix = "coreos.com/updateengine/rebootlock"
        return group.isEmpty ? prefix + "/semaphore" : prefix + "/groups/" + GoEscaping.queryEscape(group) + "/semaphore"
    }
}

/// The value under the semaphore key is not locksmith's JSON.
public struct SemaphoreValueError: Error, Equatable, Sendable, CustomStringConvertible {
    public let value: String
    public let detail: String

    public var description: String {
        let shown = value.count <= 120 ? value : String(value.prefix(120)) + "…"
        return "the reboot semaphore's value \(shown) is not locksmith's JSON {\"semaphore\":N,\"max\":N,\"holders\":[…]} "
            + "(\(detail)); write a valid value (etcdctl set) or delete the key, which the next lock attempt recreates with one slot"
    }
}
