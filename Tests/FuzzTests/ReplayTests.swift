import Foundation
import FuzzTargets
import Testing

/// Every committed fuzz input, replayed through the entry point libFuzzer calls: the seeds
/// (valid samples, which must still be accepted) and the regression inputs (each once crashed
/// a target, and now must only be accepted or refused). A trap here crashes the test runner,
/// which fails `make test`.
@Suite struct ReplayTests {
    static let fuzzDirectory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fuzz")

    static func inputs(_ kind: String, _ target: FuzzTarget) throws -> [(name: String, bytes: [UInt8])] {
        let directory = fuzzDirectory.appendingPathComponent(kind).appendingPathComponent(target.rawValue)
        guard FileManager.default.fileExists(atPath: directory.path) else { return [] }
        return try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted().map { name in
            (name, Array(try Data(contentsOf: directory.appendingPathComponent(name))))
        }
    }

    /// `make fuzz` runs a target for each seed directory.
    @Test func everyTargetAndOnlyTargetsHaveSeeds() throws {
        let directories = try FileManager.default.contentsOfDirectory(atPath: Self.fuzzDirectory.appendingPathComponent("Corpus").path)
        #expect(Set(directories) == Set(FuzzTarget.allCases.map(\.rawValue)))
    }

    @Test(arguments: FuzzTarget.allCases)
    func seedsAreAccepted(_ target: FuzzTarget) throws {
        let seeds = try Self.inputs("Corpus", target)
        #expect(!seeds.isEmpty, "no seeds for \(target.rawValue) in Fuzz/Corpus")
        for seed in seeds {
            #expect(target.run(seed.bytes) == .accepted, "seed \(target.rawValue)/\(seed.name)")
        }
    }

    @Test(arguments: FuzzTarget.allCases)
    func regressionsRunToAnOutcome(_ target: FuzzTarget) throws {
        var replayed = 0
        for input in try Self.inputs("Regressions", target) {
            _ = target.run(input.bytes)
            replayed += 1
        }
        print("replayed \(replayed) regression inputs for \(target.rawValue)")
    }
}
