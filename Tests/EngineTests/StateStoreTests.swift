@testable import Engine
import TestSupport
import Foundation
import Testing

@Suite struct StateStoreTests {
    /// Every field set, none to its default, so that a field lost in encoding shows.
    static let populated: DaemonState = {
        var state = DaemonState()
        state.transaction = TransactionRecord(
            id: "00c0ffee12345678", source: "https://updates.example.com/b.tandem", startTime: 1_780_000_000,
            bootID: "2f1b1d6a-3c5e-4d7f-9a8b-0c1d2e3f4a5b", version: "3975.2.1", imageSize: 1 << 30, targetSlot: "B",
            stoppedAt: 1_780_000_123, slotChoice: "B", verifyReadback: false)
        state.lastResult = ResultRecord(
            transaction: "0123456789abcdef", code: .interrupted, message: "tandemd was stopped; resuming",
            version: "3975.1.0", time: 1_779_999_000, bootID: "1e2d3c4b-0000-1111-2222-333344445555")
        state.pendingReboot = PendingReboot(slot: "A", version: "3975.1.0", imageSize: 512 << 20,
                                            bootID: "1e2d3c4b-0000-1111-2222-333344445555", time: 1_779_999_500)
        state.lastCheckTime = 1_779_998_000
        state.slotVersions = [
            "7130c94a-213a-4e5a-8e26-6cce9662f132": InstalledImage(version: "3975.1.0", sha256: String(repeating: "ab", count: 32),
                                                                   time: 1_779_999_400),
            "e03dd35c-7c2d-4a47-b3fe-27f15780a57c": InstalledImage(version: "3940.0.0", sha256: String(repeating: "cd", count: 32),
                                                                   time: 1_770_000_000),
        ]
        return state
    }()

    @Test func aMissingFileIsAFreshStart() throws {
        let directory = try Scratch()
        let store = StateStore(directory: directory.file("not-yet-created"))
        let state = try store.load()
        #expect(state == DaemonState())
        #expect(state.transaction == nil)
        #expect(state.lastResult == nil)
        #expect(state.pendingReboot == nil)
        #expect(state.lastCheckTime == 0)
        #expect(state.slotVersions.isEmpty)
    }

    @Test func thePathIsStateJSONInTheDirectory() {
        #expect(StateStore(directory: "/var/lib/tandem").path == "/var/lib/tandem/state.json")
    }

    @Test func aFullyPopulatedStateRoundTrips() throws {
        let directory = try Scratch()
        let store = StateStore(directory: directory.path)
        try store.save(Self.populated)
        #expect(try store.load() == Self.populated)
        // A fresh store on the same directory (a restart) reads the same.
        #expect(try StateStore(directory: directory.path).load() == Self.populated)
    }

    @Test func absentOptionalFieldsRoundTrip() throws {
        let directory = try Scratch()
        let store = StateStore(directory: directory.path)
        var state = DaemonState()
        state.transaction = TransactionRecord(id: "1", source: "/b", startTime: 1, bootID: "x", version: nil, imageSize: nil,
                                              targetSlot: nil, stoppedAt: nil, slotChoice: "auto", verifyReadback: true)
        state.pendingReboot = PendingReboot(slot: "B", version: "2", imageSize: nil, bootID: "x", time: 2)
        try store.save(state)
        #expect(try store.load() == state)
    }

    @Test func saveCreatesTheDirectory() throws {
        let directory = try Scratch()
        let store = StateStore(directory: directory.file("var/lib/tandem"))
        try store.save(Self.populated)
        #expect(FileManager.default.fileExists(atPath: directory.file("var/lib/tandem/state.json")))
    }

    @Test func aLaterSaveReplacesTheEarlierOne() throws {
        let directory = try Scratch()
        let store = StateStore(directory: directory.path)
        try store.save(Self.populated)
        var later = Self.populated
        later.transaction = nil
        later.lastCheckTime += 60
        try store.save(later)
        #expect(try store.load() == later)
    }

    /// Temp file, fsync, rename: after a save only state.json is left, and it holds complete,
    /// valid JSON with sorted keys (stable, diffable output).
    @Test func theFileIsReplacedAtomically() throws {
        let directory = try Scratch()
        let store = StateStore(directory: directory.path)
        for round in 0..<3 {
            var state = Self.populated
            state.lastCheckTime += Int64(round)
            try store.save(state)
            #expect(directory.contents == ["state.json"])
        }
        let data = try Data(contentsOf: URL(fileURLWithPath: store.path))
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        // `omaha` and `rebootLockHeld` always have a value; optional fields that are nil are left out.
        #expect(Set(object.keys) == ["lastCheckTime", "lastResult", "pendingReboot", "slotVersions", "transaction", "quarantine", "omaha",
                                     "rebootLockHeld"])
        #expect(object["lastCheckTime"] as? Int == 1_779_998_002)

        let text = try #require(String(data: data, encoding: .utf8))
        // Pretty-printed: the top-level keys are the ones indented by two spaces.
        let topLevelKeys = ["lastCheckTime", "lastResult", "pendingReboot", "slotVersions", "transaction"]
        let offsets = try topLevelKeys.map { key in try #require(text.range(of: "\n  \"\(key)\"")).lowerBound }
        #expect(offsets == offsets.sorted(), "keys are written in sorted order")
        let transaction = try #require(object["transaction"] as? [String: Any])
        #expect(transaction["verifyReadback"] as? Bool == false)
        #expect(transaction["slotChoice"] as? String == "B")
        let last = try #require(object["lastResult"] as? [String: Any])
        // The code is stored as its number, which is API.
        #expect(last["code"] as? Int == 3)
    }

    @Test func theFileIsReadableByAll() throws {
        let directory = try Scratch()
        let store = StateStore(directory: directory.path)
        try store.save(Self.populated)
        let attributes = try FileManager.default.attributesOfItem(atPath: store.path)
        let permissions = try #require(attributes[.posixPermissions] as? Int)
        #expect(permissions & 0o777 == 0o644)
    }

    @Test(arguments: ["{ not json", "", "[]", "{\"lastCheckTime\": \"yesterday\"}", "{\"lastResult\": {\"code\": 99}}"])
    func aCorruptFileIsAnErrorThatSaysHowToRecover(contents: String) throws {
        let directory = try Scratch()
        let path = try directory.write(contents, to: "state.json")
        let store = StateStore(directory: directory.path)
        #expect {
            try store.load()
        } throws: { error in
            guard case let .unreadable(errorPath, reason) = error as? StateError else { return false }
            let text = "\(error)"
            return errorPath == path && reason.hasPrefix("not valid state JSON")
                && text.hasPrefix("cannot read the saved state \(path): not valid state JSON")
                && text.contains("move it aside to start afresh")
                && text.contains("the record of an interrupted install is then lost")
        }
        // Nothing was overwritten or removed: the evidence stays for the administrator.
        #expect(try String(contentsOfFile: path, encoding: .utf8) == contents)
    }

    @Test func anUnwritableDirectoryIsAnErrorThatSaysWhatToCheck() throws {
        let directory = try Scratch()
        // A regular file where the state directory should be: fails even for root.
        let blocker = try directory.write("", to: "blocker")
        let store = StateStore(directory: blocker + "/state")
        #expect {
            try store.save(Self.populated)
        } throws: { error in
            guard case let .unwritable(path, _) = error as? StateError else { return false }
            return path == blocker + "/state/state.json"
                && "\(error)".contains("check that the state directory is writable and the disk is not full")
        }
    }
}
