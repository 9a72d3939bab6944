import Coordination
import Testing

@Suite struct LocksmithSemaphoreTests {
    @Test func theInitialValueIsWhatLocksmithWrites() {
        #expect(LocksmithSemaphore.initial.json == #"{"semaphore":1,"max":1,"holders":null}"#)
    }

    @Test(arguments: [
        #"{"semaphore":1,"max":1,"holders":null}"#,
        #"{"semaphore":1,"max":1,"holders":[]}"#,
        #"{"semaphore":1,"max":1}"#,
        #"{"max":1,"semaphore":1,"holders":null,"extra":true}"#,
    ])
    func holdersMayBeNullEmptyOrAbsent(json: String) throws {
        let value = try LocksmithSemaphore(json: Array(json.utf8))
        #expect(value.semaphore == 1 && value.max == 1 && value.holders.isEmpty)
    }

    @Test func nullStaysNullAndEmptyStaysEmptyUntilChanged() throws {
        // Go keeps a nil slice nil and an empty one empty; so does the re-encoding.
        #expect(try LocksmithSemaphore(json: Array(#"{"semaphore":1,"max":1,"holders":null}"#.utf8)).json.hasSuffix("null}"))
        #expect(try LocksmithSemaphore(json: Array(#"{"semaphore":1,"max":1,"holders":[]}"#.utf8)).json.hasSuffix("[]}"))
        var value = LocksmithSemaphore.initial
        do { let result = value.lock("b"); #expect(result == .locked) }
        do { let removed = value.unlock("b"); #expect(removed) }
        #expect(value.json == #"{"semaphore":1,"max":1,"holders":[]}"#)
    }

    @Test func lockUnlockAndSetMaxFollowLocksmith() {
        var value = LocksmithSemaphore.initial
        value.setMax(2)
        #expect(value.semaphore == 2 && value.max == 2)
        do { let result = value.lock("d0"); #expect(result == .locked) }
        do { let result = value.lock("a1"); #expect(result == .locked) }
        #expect(value.holders == ["a1", "d0"])
        #expect(value.json == #"{"semaphore":0,"max":2,"holders":["a1","d0"]}"#)
        do { let result = value.lock("c2"); #expect(result == .full(semaphore: 0, holders: ["a1", "d0"])) }
        // A holder asking again holds already, even with no slot free (locksmith would say
        // "semaphore is at 0" and never let it reboot).
        do { let result = value.lock("a1"); #expect(result == .alreadyHeld) }
        do { let removed = value.unlock("c2"); #expect(!removed) }
        // Lowering the limit below the holders makes the count negative, as locksmith's SetMax does.
        value.setMax(1)
        #expect(value.semaphore == -1 && value.max == 1)
        do { let removed = value.unlock("a1"); #expect(removed) }
        do { let result = value.lock("c2"); #expect(result == .full(semaphore: 0, holders: ["d0"])) }
        do { let removed = value.unlock("d0"); #expect(removed) }
        do { let result = value.lock("c2"); #expect(result == .locked) }
        #expect(value == LocksmithSemaphore(semaphore: 0, max: 1, holders: ["c2"]))
    }

    @Test func holdersAreSortedByBytesAsGoSortsThem() throws {
        let value = try LocksmithSemaphore(json: Array(#"{"semaphore":0,"max":3,"holders":["b","B","a"]}"#.utf8))
        #expect(value.holders == ["B", "a", "b"])
    }

    @Test func stringsAreEscapedAsGoEscapesThem() {
        var value = LocksmithSemaphore.initial
        do { let result = value.lock("<a&b>\"\\\n\u{1}é"); #expect(result == .locked) }
        #expect(value.json == #"{"semaphore":0,"max":1,"holders":["\u003ca\u0026b\u003e\"\\\n\u0001é"]}"#)
    }

    @Test(arguments: ["", "not json", #"{"semaphore":"one"}"#, #"{"semaphore":1,"max":1,"holders":"x"}"#, "[1]"])
    func malformedValuesAreRefusedWithTheValue(json: String) {
        #expect {
            try LocksmithSemaphore(json: Array(json.utf8))
        } throws: { error in
            (error as? SemaphoreValueError)?.description.contains("locksmith's JSON") == true
        }
    }

    @Test func keysAreLocksmithsWithGroupsQueryEscapedAsGoDoes() {
        #expect(LocksmithSemaphore.key(group: "") == "coreos.com/updateengine/rebootlock/semaphore")
        #expect(LocksmithSemaphore.key(group: "workers") == "coreos.com/updateengine/rebootlock/groups/workers/semaphore")
        #expect(LocksmithSemaphore.key(group: "a b/c~d_e.f-g+h&é?")
            == "coreos.com/updateengine/rebootlock/groups/a+b%2Fc~d_e.f-g%2Bh%26%C3%A9%3F/semaphore")
    }
}
