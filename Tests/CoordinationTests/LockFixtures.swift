import Coordination
import Foundation
import TestSupport

/// The etcd API a test runs against: shipped locksmithd's v2 keys, or v3 through the gateway.
enum EtcdAPI: Int, CaseIterable, Sendable, CustomStringConvertible {
    case v2 = 2
    case v3 = 3

    var description: String { "v\(rawValue)" }

    func store(_ etcd: Etcd, group: String = "", endpoints: [String]? = nil) throws -> any SemaphoreStore {
        let connection = try EtcdConnection(endpoints: endpoints ?? [etcd.clientURL])
        switch self {
        case .v2: return EtcdV2Store(connection: connection, group: group)
        case .v3: return EtcdV3Store(connection: connection, group: group)
        }
    }
}

/// Counts what happens across threads: lost races (through the retry policy's sleep), errors,
/// and anything else a test tallies.
final class Tally: @unchecked Sendable {
    private let lock = NSLock()
    private var counts: [String: Int] = [:]
    private var maxima: [String: Int] = [:]
    private var recordedErrors: [String] = []

    func add(_ name: String, _ amount: Int = 1) {
        lock.withLock {
            counts[name, default: 0] += amount
            maxima[name] = max(maxima[name] ?? 0, counts[name]!)
        }
    }

    func count(_ name: String) -> Int { lock.withLock { counts[name] ?? 0 } }
    func maximum(_ name: String) -> Int { lock.withLock { maxima[name] ?? 0 } }

    func record(_ error: any Error) {
        lock.withLock { recordedErrors.append("\(error)") }
    }

    var errors: [String] { lock.withLock { recordedErrors } }

    /// A retry policy with millisecond delays that counts each lost race as "conflict".
    var fastRetry: RetryPolicy {
        RetryPolicy(initialDelay: .milliseconds(2), maximumDelay: .milliseconds(40), maximumConflicts: 10_000) { [self] delay in
            add("conflict")
            Thread.sleep(forTimeInterval: Double(delay.components.attoseconds) / 1e18 + Double(delay.components.seconds))
        }
    }
}

/// Runs `body(0..<count)` on `count` threads of their own, released together, and waits for all.
func concurrently(_ count: Int, _ body: @escaping @Sendable (Int) -> Void) {
    let done = DispatchGroup()
    let start = DispatchSemaphore(value: 0)
    for index in 0..<count {
        done.enter()
        Thread.detachNewThread {
            start.wait()
            body(index)
            done.leave()
        }
    }
    for _ in 0..<count { start.signal() }
    done.wait()
}

/// A machine ID as /etc/machine-id holds it: 32 lower-case hex digits.
func machineID() -> String {
    UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
}

/// The semaphore as an independent reader sees it: parsed by Foundation, not by Tandem.
struct RawSemaphore {
    var semaphore: Int
    var max: Int
    var holders: [String]

    init?(_ json: String?) {
        guard let json, let object = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any],
              let semaphore = object["semaphore"] as? Int, let max = object["max"] as? Int else { return nil }
        self.semaphore = semaphore
        self.max = max
        self.holders = object["holders"] as? [String] ?? []
    }
}
